#pragma once

namespace convoy::client {

/// The whole convoy-client program: parses the command line, runs, prints and writes results.
/// Returns the exit code: 0 success, 1 run failed (unreachable, closed, timeout, corrupted
/// echoes, unwritable output), 2 invalid flags or config, 130 interrupted. Installs SIGINT and
/// SIGTERM handlers that end the run early with the results so far.
int run_app(int argc, char** argv);

}  // namespace convoy::client
