#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "convoy/duration.hpp"
#include "gilcore/config.hpp"

namespace convoy::server {

/// When an emulated socket call lets go of the lock.
enum class IoRelease {
  always,         ///< around every call, even one that will not block (CPython's socket module)
  when_blocking,  ///< try the call non-blocking while holding the lock; release only to wait
                  ///< (the fix proposed in bpo-7946)
};

/// "always", "when-blocking".
std::string to_string(IoRelease release);
/// The mode for a name, or nullopt for an unknown name.
std::optional<IoRelease> parse_io_release(std::string_view name) noexcept;

/// How the server serves its connections.
enum class IoModel {
  threads,    ///< one emulated thread per connection (socketserver.ThreadingTCPServer)
  eventloop,  ///< one emulated thread runs an epoll loop over every connection (asyncio)
};

/// "threads", "eventloop".
std::string to_string(IoModel model);
/// The model for a name, or nullopt for an unknown name.
std::optional<IoModel> parse_io_model(std::string_view name) noexcept;

/// How a connection's socket calls behave.
struct IoConfig {
  IoRelease release = IoRelease::always;
  /// Emulate a Python socket with a timeout: the readiness poll and the call each get their own
  /// blocking region, so each socket call re-acquires the lock twice (CPython's sock_call_ex).
  bool timeout_socket = false;
  /// A connection with no progress for this long is closed; 0 = never. It is also the timeout
  /// of the emulated timeout socket (none when 0).
  std::chrono::nanoseconds idle_timeout{0};
  /// CPU time each socket call (recv, sendall, send) holds the lock for outside its system call:
  /// the C work of CPython's socket module around the blocking region (argument parsing, the
  /// result buffer allocated before the call and resized after it). Half is spent before the
  /// lock is let go, half after it is taken back; C code passes no check point, so it never
  /// counts as bytecodes. 0 = none (the default model).
  std::chrono::nanoseconds call_cost{0};
};

/// The timeline: what --trace records (docs/timeline.md).
struct TraceConfig {
  std::string path;  ///< write the Chrome trace-event JSON here at exit; "" = no timeline
  std::size_t buffer = std::size_t{1} << 16;  ///< events kept per thread (the most recent)
  std::chrono::nanoseconds after{0};          ///< record from this long after the server is ready
  std::chrono::nanoseconds span{0};           ///< ... for this long; 0 = until the end of the run

  bool enabled() const noexcept { return !path.empty(); }
};

/// Everything convoy-server can be told, with its defaults.
struct ServerConfig {
  std::string bind = "127.0.0.1";  ///< an IPv4 or IPv6 literal
  std::uint16_t port = 0;          ///< 0 = an ephemeral port, printed on the ready line
  gilcore::InterpreterConfig interpreter;
  IoModel io_model = IoModel::threads;
  IoConfig io;
  int cpu_threads = 1;  ///< fib threads sharing the lock with the connection threads
  int fib_depth = 20;   ///< each fib thread computes fib(fib_depth) over and over
  std::uint64_t handler_bytecodes = 20;  ///< emulated Python work per echoed message
  /// eventloop: emulated Python work of one loop iteration, the event loop's own code (CPython
  /// 3.11's asyncio executes about 120 opcodes per turn of BaseEventLoop._run_once).
  std::uint64_t loop_bytecodes = 120;
  std::size_t max_connections = 1024;  ///< beyond this, new connections are closed at once
  /// The most a single recv reads, and so the receive buffer of each connection. A peer with
  /// more pending is read (and echoed) in chunks of this size.
  std::size_t max_message = std::size_t{1} << 20;
  std::chrono::nanoseconds duration{0};  ///< stop by itself after this long; 0 = run until a signal
  std::string stats_path;                ///< write the stats JSON here at exit; "" = don't
  TraceConfig trace;
  std::string log_level = "info";

  /// Throws std::invalid_argument with a one-line message naming the bad setting (the
  /// interpreter's settings included).
  void validate() const;
};

/// The configuration as JSON (written into the stats file).
void to_json(nlohmann::json& j, const ServerConfig& c);

/// The spdlog level names accepted by --log-level, for messages: "trace, debug, ...".
std::string log_level_names();

}  // namespace convoy::server
