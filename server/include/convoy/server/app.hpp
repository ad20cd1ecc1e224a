#pragma once

#include "convoy/server/config.hpp"

namespace convoy::server {

/// Makes the default spdlog logger write to stderr (stdout carries only the ready line and
/// --print-config). Idempotent; call first in main.
void install_stderr_logger();

/// The whole program after the command line: logging to stderr, SIGINT/SIGTERM handling, listen,
/// the ready line on stdout ("listening 127.0.0.1:PORT"), serve, stats file. Returns the exit
/// code: 0 after a clean stop, 1 when it could not start or write the stats, 2 for a setting that
/// is only found bad here (an unwritable stats file). Call once, from the main thread.
int run_server(const ServerConfig& config);

}  // namespace convoy::server
