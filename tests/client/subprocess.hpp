#pragma once

#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

namespace convoy::client::testing {

struct ProcessResult {
  int exit_code = -1;      ///< -1 if killed by a signal or timed out
  bool timed_out = false;  ///< killed because it outlived the timeout
  std::string out;
  std::string err;
  double seconds = 0;   ///< wall time until exit
  long max_rss_kb = 0;  ///< peak resident memory of the process
};

/// Runs `args` (args[0] is the program path) with the current environment, capturing stdout and
/// stderr, and kills it (SIGKILL) if it runs longer than `timeout`. Never hangs. If
/// `interrupt_after` is positive, sends `interrupt_signal` once the process has run that long.
ProcessResult run_process(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                          std::chrono::milliseconds interrupt_after = {},
                          int interrupt_signal = SIGINT);

/// A fresh path under the temporary directory (the file itself is not created).
std::string temp_path(const std::string& suffix);

/// The whole content of a file ("" if it cannot be read).
std::string read_file(const std::string& path);

}  // namespace convoy::client::testing
