#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "loopback_client.hpp"
#include "process.hpp"

// Helpers for tests that run the real convoy-server binary and talk to it over loopback TCP.
// Every wait has a deadline: a failing server makes a test fail, never hang.
namespace convoy::server::testing {

using namespace std::chrono_literals;

/// Sanitizer builds run several times slower; deadlines (never assertions on latency) scale.
using convoy::testing::kSlowdown;

/// Threads a sanitizer runtime adds to every process it runs (ThreadSanitizer starts a background
/// thread with the first pthread_create); a count of a server's threads adds these.
inline constexpr int kRuntimeThreads = convoy::testing::kThreadSanitizer ? 1 : 0;

/// The convoy-server binary under test.
std::string server_binary();

/// A convoy-server child process: started with `args`, stdout read up to the ready line, stderr
/// captured in a file. The destructor kills (SIGKILL) and reaps it if it is still running.
class ServerProcess {
 public:
  /// Starts the server and waits for "listening ADDRESS:PORT". Throws std::runtime_error (with
  /// the server's stderr) if it exits or stays silent past `ready_timeout`.
  explicit ServerProcess(const std::vector<std::string>& args,
                         std::chrono::milliseconds ready_timeout = 30s);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const noexcept { return process_.pid(); }
  std::uint16_t port() const noexcept { return port_; }
  /// The ready line, without its newline.
  const std::string& ready_line() const noexcept { return ready_line_; }

  void signal(int sig) const;
  /// Waits up to `timeout` for the process to exit. Returns its exit code (128 + signal number
  /// when killed by a signal), or nullopt if it is still running.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  /// Everything written on stdout after the ready line (read once the process exited).
  std::string rest_of_stdout();
  /// Everything written on stderr so far.
  std::string stderr_text() const;

 private:
  convoy::testing::ChildProcess process_;
  std::string ready_line_;
  std::uint16_t port_ = 0;
};

/// The outcome of a run to completion.
struct Completed {
  int exit_code = -1;  ///< -1: killed after the timeout
  std::string out;
  std::string err;
};
/// Runs convoy-server with `args` until it exits, killing it after `timeout`.
Completed run_server_to_completion(const std::vector<std::string>& args,
                                   std::chrono::milliseconds timeout = 30s);

/// A blocking loopback TCP client with TCP_NODELAY and send/receive timeouts.
using Client = convoy::testing::LoopbackClient;

/// n bytes of a pattern that detects reordering and loss.
using convoy::testing::pattern;

/// Number of entries in a directory (/proc/PID/task, /proc/PID/fd); -1 if it cannot be read.
int count_entries(const std::string& dir);

/// How many sockets process `pid` has open (its /proc/PID/fd links to "socket:[...]").
int count_sockets(pid_t pid);

/// The whole file; throws if it cannot be read.
using convoy::testing::read_file;

/// A path for a scratch file of this test (under the gtest temp dir), unique per call.
std::string scratch_path(std::string_view name);

/// Sends SIGTERM, expects exit code 0 within `within`, and returns the stats file.
nlohmann::json stop_and_read_stats(ServerProcess& server, const std::string& stats_path,
                                   std::chrono::milliseconds within = 5s * kSlowdown);

/// Sends to the server without ever reading the echo, until the connection is clogged both ways
/// (nothing more can be sent for 200 ms). Returns the bytes sent.
std::size_t fill_without_reading(Client& client);

/// lock.stats.roles.io.counters.acquisitions of a stats file.
std::uint64_t io_acquisitions(const nlohmann::json& stats);

/// connections.closed.<reason> of a stats file.
std::uint64_t closed(const nlohmann::json& stats, const char* reason);

/// Opens `connections` clients to `port` into `clients`, puts a 100-byte message in flight on
/// every one at the same time, then reads every echo (fatal failure on a wrong one).
void echo_on_every_connection_at_once(std::uint16_t port, int connections,
                                      std::vector<Client>& clients);

/// Expects the stats of a run that served `connections` connections, each with one 100-byte
/// message, all at the same time and all open until the shutdown.
void expect_served_all_at_once(const nlohmann::json& stats, int connections);

/// Expects a run to completion refused as a usage error: exit code 2, nothing on stdout, one
/// line on stderr that begins with "convoy-server: error: ".
void expect_usage_error(const Completed& result);

/// Starts a server with `args` and no fib thread, sends `messages` messages over one connection
/// with 2 ms between them (every recv has to wait), and returns the I/O role's acquisitions per
/// message from its stats file.
double io_acquisitions_per_message(const std::vector<std::string>& args, int messages);

/// Polls `predicate` until it holds or `timeout` passes; returns its last value.
using convoy::testing::eventually;

}  // namespace convoy::server::testing
