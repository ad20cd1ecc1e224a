#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "convoy/server/config.hpp"

namespace convoy::server {

/// Exit codes of convoy-server.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   ///< could not start (port in use, ...) or crashed
inline constexpr int kExitBadInput = 2;  ///< invalid option value or configuration file

/// What the command line asks for: run with `config`, or exit at once with `exit_code`.
struct CommandLine {
  std::optional<ServerConfig> config;
  int exit_code = kExitOk;
};

/// The configuration as a TOML file that --config loads back to the same configuration, written
/// by CLI11 from the same option declarations that read it: one `key=value` line per option,
/// keys named like the long options, each after a comment saying what it does.
std::string to_toml(const ServerConfig& config);

/// Parses the options and any --config TOML file (keys are the long option names) into a
/// validated configuration. --help, --version and --print-config write to `out` and ask for exit
/// code 0; a bad option, value or file writes one line to `err` and asks for kExitBadInput.
/// Starts nothing. Any thread.
CommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out,
                               std::ostream& err);

}  // namespace convoy::server
