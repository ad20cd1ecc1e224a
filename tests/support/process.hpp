#pragma once
// Child processes, scratch files and file contents for the tests that run convoy's programs.
// Every wait has a deadline: a program that misbehaves makes a test fail, never hang.

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "sanitizer.hpp"

namespace convoy::testing {

/// A fresh path under the temporary directory, ending in `suffix`; the file is not created.
std::string temp_path(const std::string& suffix);

/// The whole content of a file; throws std::runtime_error naming the path if it cannot be read.
std::string read_file(const std::string& path);

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

/// A child process with stdout on a pipe (read line by line, each read with a deadline), stderr
/// in a file and stdin from /dev/null. The destructor kills (SIGKILL) and reaps it if it still
/// runs, and removes the stderr file.
class ChildProcess {
 public:
  /// Starts `args` (args[0] is the program path); throws std::runtime_error if it cannot.
  explicit ChildProcess(const std::vector<std::string>& args);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// The next line of stdout without its newline, or nullopt if the process closed stdout or
  /// printed no whole line within `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// True once stdout reached EOF (the process closed it or exited).
  bool stdout_closed() const noexcept { return eof_; }
  /// Everything on stdout after the lines read, until EOF or `timeout`.
  std::string rest_of_stdout(std::chrono::milliseconds timeout);
  /// Everything written on stderr so far.
  std::string stderr_text() const;

  void signal(int sig) const;
  /// Waits up to `timeout` for the process to exit. Returns its exit code (128 + signal number
  /// when killed by a signal), or nullopt if it is still running.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  /// Kills (SIGKILL) and reaps it if it still runs; closes stdout.
  void abandon() noexcept;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stderr_path_;
  std::string pending_stdout_;
  bool reaped_ = false;
  bool eof_ = false;
};

}  // namespace convoy::testing
