#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "convoy/server/config.hpp"
#include "convoy/server/session.hpp"
#include "convoy/server/timeline.hpp"
#include "gilcore/fib.hpp"
#include "gilcore/interpreter.hpp"

namespace convoy::server {

/// The server could not start: the address is in use or cannot be bound.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Notes about the implementation
///
/// The I/O model of Python's ThreadingTCPServer: one emulated `io` thread per connection (see
/// run_session), an emulated `main` thread running the accept loop, and `cpu_threads` emulated
/// `cpu` threads running fib, all sharing one gilcore::Interpreter.
///
/// The accept loop is serve_forever's: poll the listening socket (and a wake-up eventfd) in one
/// blocking region, at most every 0.5 s as poll_interval, then accept in another; start the
/// connection thread while holding the lock. Finished connection threads are joined there too.
///
/// Shutdown (request_stop, async-signal-safe): the fib threads and the handler work are told to
/// stop (they look between bytecodes, so they let go of the lock within one bytecode), and the
/// eventfd wakes the accept loop, which leaves the interpreter; then the listening socket is
/// closed, every connection socket is shut down (a thread blocked in recv/send/poll returns at
/// once), and all threads are joined. A connection thread closes its socket under `mutex_`, so
/// shutdown never touches a descriptor number that was closed and reused.
///
/// With `--io-model eventloop` the accept loop and the connection threads give way to one
/// EventLoop (asyncio's model) run as an emulated `io` thread on the calling thread.
class Server {
 public:
  /// Validates `config` (std::invalid_argument) and calibrates the interpreter. Starts nothing.
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and listens on config.bind:config.port. Throws StartupError with a one-line message
  /// (address in use, address not available, ...). Call once, before run().
  void listen();
  /// The bound port (the real one when config.port was 0); after listen().
  std::uint16_t port() const noexcept { return port_; }
  /// "127.0.0.1:PORT" or "[::1]:PORT"; after listen().
  std::string local_address() const;

  /// Starts the fib threads, calls `on_ready` once connections are being accepted, serves until
  /// request_stop() or config.duration, then stops and joins every thread. Blocks; call once,
  /// after listen(), from a thread that is not an emulated thread.
  void run(const std::function<void()>& on_ready = {});

  /// Asks run() to stop. Any thread, and signal handlers (async-signal-safe). Idempotent.
  void request_stop() noexcept;

  /// The statistics file's content: machine context, configuration, lock statistics, fib
  /// throughput, connections, messages, handling-time histogram. Complete once run() returned.
  nlohmann::json stats_json() const;

  /// With config.trace: the timeline as Chrome trace-event JSON (docs/timeline.md). Once run()
  /// returned; "" without --trace.
  std::string timeline_json() const;
  /// The timeline's title: "py3 switch-interval=5ms force-switching=true, 1 fib thread".
  std::string timeline_title() const;

 private:
  struct Connection {
    int fd = -1;
    std::thread thread;
  };
  struct Totals {
    std::uint64_t accepted = 0;
    std::uint64_t served = 0;
    std::uint64_t refused = 0;
    std::uint64_t peak_active = 0;
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::uint64_t closed[kCloseReasonCount] = {};
    convoy::Histogram handling_ns;
  };

  template <class Thread>
  void accept_loop(Thread& t);
  /// Waits in a blocking region for the listening socket or the wake-up; true: a peer is waiting.
  template <class Thread>
  bool wait_for_listener(Thread& t, int timeout_ms);
  /// Accepts one peer and starts its connection; pauses when out of descriptors or memory.
  template <class Thread>
  void accept_one(Thread& t);
  void run_event_loop();
  void start_connection(int fd, const std::string& peer);
  void connection_main(std::uint64_t id, int fd, std::string peer);
  void reap_finished();
  void stop_connections();
  void start_fib_threads();
  void stop_fib_threads();

  ServerConfig config_;
  SessionSettings session_;
  gilcore::Interpreter interpreter_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> stopping_{false};  // stop requested, or connection sockets being shut down

  std::vector<std::unique_ptr<gilcore::FibWorkload>> fibs_;
  std::vector<std::thread> fib_threads_;
  std::atomic<bool> fib_stop_{false};
  std::chrono::steady_clock::time_point fib_started_{};
  std::chrono::steady_clock::time_point fib_stopped_{};
  std::chrono::steady_clock::time_point ready_at_{};
  std::chrono::steady_clock::time_point stop_at_{};
  bool stopped_by_duration_ = false;
  nlohmann::json context_;  // the machine, taken when run() starts
  gilcore::Trace trace_;    // with config.trace, once run() returned
  nlohmann::json trace_summary_;

  mutable std::mutex mutex_;
  std::condition_variable connection_done_;
  std::map<std::uint64_t, Connection> connections_;  // guarded by mutex_
  std::vector<std::thread> finished_;                // guarded by mutex_
  std::uint64_t next_connection_id_ = 1;             // guarded by mutex_
  Totals totals_;                                    // guarded by mutex_
  std::uint64_t loop_iterations_ = 0;                // eventloop; guarded by mutex_
  std::uint64_t loop_events_ = 0;                    // eventloop; guarded by mutex_
};

}  // namespace convoy::server
