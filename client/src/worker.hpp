#pragma once

// Internal to convoy_client: the per-thread event loop, its connections, and the state the
// threads share. Public entry point: runner.hpp.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "convoy/client/config.hpp"
#include "convoy/client/echo.hpp"
#include "convoy/client/runner.hpp"
#include "convoy/client/schedule.hpp"

namespace convoy::client {

inline std::int64_t now_ns() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

inline std::chrono::steady_clock::time_point to_time_point(std::int64_t ns) {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

// I/O objects bound to the concrete io_context executor rather than the type-erased default:
// no indirection on the hot path (and no any_executor code for g++ to misdiagnose).
using Executor = boost::asio::io_context::executor_type;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
using Timer = boost::asio::basic_waitable_timer<
    std::chrono::steady_clock, boost::asio::wait_traits<std::chrono::steady_clock>, Executor>;
using Resolver = boost::asio::ip::basic_resolver<boost::asio::ip::tcp, Executor>;

/// Notes about the implementation
///
/// What the client threads share: which requests are sent and which of them are warm-up (the
/// request tickets for --count and count warm-up, the clock bounds for time warm-up and
/// --duration), the stop flag, the first fatal error, and counters for the progress display.
/// Everything else is per thread. The bounds are set by begin() before the threads start; with a
/// count warm-up the measured start (and so the end of a --duration run) is only known when the
/// first measured request is admitted, hence the atomics.
class RunState {
 public:
  explicit RunState(const Config& config) : config_(config) {}

  const Config& config() const { return config_; }

  /// Main thread, before any worker runs: fixes the start time and registers every event loop.
  void begin(std::int64_t start_ns, std::vector<boost::asio::io_context*> contexts);
  std::int64_t start_ns() const { return start_ns_; }

  /// Any thread: whether a request intended at `intended_ns` is to be sent at all; sets `flags`
  /// to kFlagWarmup for warm-up requests. False once the run is over for senders.
  bool admit(std::int64_t intended_ns, std::uint16_t& flags);

  std::int64_t measure_start_ns() const { return measure_start_.load(std::memory_order_acquire); }
  std::int64_t end_ns() const { return end_.load(std::memory_order_acquire); }

  bool stopping() const { return stop_.load(std::memory_order_acquire); }
  /// Any thread: records the first fatal error and stops every worker promptly.
  void fail(ErrorKind kind, const std::string& message);
  /// When the first fatal error (or the interrupt) stopped the run; kNever if nothing did.
  std::int64_t stopped_at_ns() const { return stopped_at_.load(std::memory_order_acquire); }

  /// After the workers have joined: the first fatal error, if any.
  std::string error() const;
  ErrorKind error_kind() const;

  std::atomic<std::uint64_t> progress_completed{0};
  std::atomic<std::uint64_t> progress_errors{0};

 private:
  const Config& config_;
  std::int64_t start_ns_ = 0;
  std::int64_t warmup_end_ = 0;
  std::atomic<std::int64_t> measure_start_{kNever};
  std::atomic<std::int64_t> end_{kNever};
  std::atomic<std::uint64_t> tickets_{0};
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> stopped_at_{kNever};
  std::vector<boost::asio::io_context*> contexts_;
  mutable std::mutex mu_;
  std::string error_;
  ErrorKind error_kind_ = ErrorKind::none;
};

class Worker;

/// One TCP connection of a worker: writes requests, reads and checks echoes. Runs only on its
/// worker's thread (all handlers are on that worker's io_context).
class Connection {
 public:
  Connection(Worker& worker, boost::asio::io_context& io, std::uint16_t id);

  Socket& socket() { return socket_; }
  std::uint16_t id() const { return id_; }

  /// Starts reading; in closed mode also sends the first request.
  void start();
  /// Open loop: queues one request intended at `intended_ns` and writes it as soon as possible.
  void enqueue(std::int64_t intended_ns, std::uint16_t flags);
  /// Requests queued or written and not yet answered.
  std::size_t in_flight() const { return outstanding_.size(); }
  /// Fails the connection if its oldest request has waited longer than --timeout.
  void check_timeout(std::int64_t now);
  /// True when nothing is left to send or to receive on this connection.
  bool done() const;
  /// Closes the socket; requests still outstanding count as abandoned if `aborted`.
  void shutdown(bool aborted);

 private:
  void send_next();
  void after_reply(std::int64_t now);
  void flush();
  void read();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  void on_message(std::span<const std::byte> message, std::int64_t now);
  void complete(const Pending& p, std::int64_t now);
  void note_corruption(std::string where);
  void fail(ErrorKind kind, const std::string& message);
  // Forgets every outstanding request: written ones count as lost (or abandoned, when the run
  // was stopped), ones never handed to the socket as not sent.
  void drop_outstanding(bool stopped);

  Worker& worker_;
  const Config& config_;
  Socket socket_;
  Timer think_timer_;
  std::uint16_t id_;
  std::uint64_t next_seq_ = 0;
  std::deque<Pending> outstanding_;
  std::vector<std::byte> pending_;  // encoded, not yet handed to the socket
  std::vector<std::byte> writing_;  // handed to async_write, not yet completed
  bool write_in_progress_ = false;
  // Bytes read from the socket: [unchecked_begin_, received_end_) is what has not yet been
  // taken as whole echoes (at most one partial echo once on_read has checked them).
  std::vector<std::byte> received_;
  std::size_t unchecked_begin_ = 0;
  std::size_t received_end_ = 0;
  bool done_sending_ = false;
  bool failed_ = false;
  bool closed_ = false;
};

/// One client thread: an io_context with concurrency hint 1, its connections, the open-loop
/// pacer and the per-thread histograms (merged by the runner after join).
class Worker {
 public:
  Worker(RunState& state, unsigned index, unsigned connection_count,
         const std::vector<std::uint16_t>& connection_ids);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  boost::asio::io_context& context() { return io_; }

  /// Main thread, before run(): connects every connection within --connect-timeout. Returns ""
  /// or the error.
  std::string connect(const Resolver::results_type& endpoints);

  /// The thread body: waits for the start time, runs the load, returns when done or stopped.
  void run();

  RunResult& result() { return result_; }
  RunState& state() { return state_; }
  /// When the last measured echo arrived (0 if none).
  std::int64_t last_received_ns() const { return last_received_ns_; }

  /// Called by connections on each answered request.
  void record(const Pending& p, std::int64_t now);
  /// Called by connections when a measured request is written.
  void record_lag(std::int64_t lag_ns) { result_.lag.record_signed(lag_ns); }

 private:
  void pace();
  Connection* pick_connection();
  void count_not_sent(std::int64_t end_ns);
  void arm_tick();
  void on_tick();
  bool finished() const;
  void finish();
  void publish_progress();

  boost::asio::io_context io_{1};
  RunState& state_;
  const Config& config_;
  unsigned index_;
  std::vector<std::unique_ptr<Connection>> connections_;
  Timer tick_;
  Timer pacer_;
  std::chrono::nanoseconds tick_interval_;
  RunResult result_;
  std::int64_t last_received_ns_ = 0;

  // Open loop.
  double rate_share_ = 1.0;
  std::optional<Schedule> schedule_;
  std::mt19937_64 pick_rng_;
  std::size_t next_connection_ = 0;
  std::int64_t next_intended_ = 0;
  std::int64_t pacer_armed_for_ = 0;
  bool sending_ = false;

  std::uint64_t published_completed_ = 0;
  std::uint64_t published_errors_ = 0;
};

}  // namespace convoy::client
