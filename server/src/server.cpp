#include "convoy/server/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/ip/address.hpp>

#include "accept.hpp"
#include "convoy/build_info.hpp"
#include "convoy/context.hpp"
#include "convoy/server/event_loop.hpp"
#include "gilcore/catalogue.hpp"

namespace convoy::server {
namespace {

using SteadyClock = std::chrono::steady_clock;
using detail::accept_failure;
using detail::AcceptFailure;
using detail::kAcceptPause;
using detail::peer_name;

// serve_forever's poll_interval: the accept loop wakes (and re-takes the lock) at least this often.
constexpr int kPollIntervalMs = 500;

std::string format_endpoint(const boost::asio::ip::address& address, std::uint16_t port) {
  const auto text = address.to_string();
  return address.is_v6() ? "[" + text + "]:" + std::to_string(port)
                         : text + ":" + std::to_string(port);
}

double seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Server::Server(ServerConfig config)
    : config_((config.validate(), std::move(config))),
      session_{config_.io, config_.max_message, config_.handler_bytecodes},
      interpreter_(config_.interpreter) {
  if (config_.trace.enabled()) interpreter_.enable_tracing(config_.trace.buffer);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

Server::~Server() {
  request_stop();
  fib_stop_.store(true, std::memory_order_relaxed);
  for (auto& t : fib_threads_) {
    if (t.joinable()) t.join();
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Server::listen() {
  if (listen_fd_ >= 0) throw std::logic_error("Server::listen() called twice");
  const auto address = boost::asio::ip::make_address(config_.bind);
  const auto where = format_endpoint(address, config_.port);
  sockaddr_storage endpoint{};
  socklen_t endpoint_len = 0;
  if (address.is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&endpoint);
    in->sin_family = AF_INET;
    in->sin_port = htons(config_.port);
    const auto bytes = address.to_v4().to_bytes();
    std::memcpy(&in->sin_addr, bytes.data(), bytes.size());
    endpoint_len = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&endpoint);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(config_.port);
    const auto bytes = address.to_v6().to_bytes();
    std::memcpy(&in6->sin6_addr, bytes.data(), bytes.size());
    in6->sin6_scope_id = address.to_v6().scope_id();
    endpoint_len = sizeof(sockaddr_in6);
  }
  auto fail = [&](const char* what) {
    const int error = errno;
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
    throw StartupError("cannot listen on " + where + ": " + what + ": " + std::strerror(error));
  };

  // Non-blocking, so that accept after a readable poll never waits for a client that left.
  listen_fd_ = ::socket(endpoint.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) fail("socket");
  const int one = 1;
  if (::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    fail("SO_REUSEADDR");
  }
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&endpoint), endpoint_len) != 0) {
    fail("bind");
  }
  if (::listen(listen_fd_, SOMAXCONN) != 0) fail("listen");
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
    fail("getsockname");
  }
  port_ =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
}

std::string Server::local_address() const {
  return format_endpoint(boost::asio::ip::make_address(config_.bind), port_);
}

void Server::request_stop() noexcept {
  stop_requested_.store(true, std::memory_order_relaxed);
  // The fib threads and the handler work look at these between bytecodes, so that none of them
  // keeps the lock (which the accept loop needs to leave) or a core busy after the request.
  fib_stop_.store(true, std::memory_order_relaxed);
  stopping_.store(true, std::memory_order_relaxed);
  const std::uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof one) < 0) {
    // Only EAGAIN (counter saturated) is possible, and then the loop is awake anyway.
  }
}

void Server::run(const std::function<void()>& on_ready) {
  if (listen_fd_ < 0) throw std::logic_error("Server::run() called before listen()");
  start_fib_threads();
  context_ = machine_context();
  ready_at_ = SteadyClock::now();
  interpreter_.tracer().start(gilcore::Clock::now(), config_.trace.after, config_.trace.span);
  std::exception_ptr failure;
  try {
    if (on_ready) on_ready();
    if (config_.io_model == IoModel::eventloop) {
      run_event_loop();
    } else {
      interpreter_.run(gilcore::Role::main, [this](auto& t) { accept_loop(t); });
    }
  } catch (...) {
    failure = std::current_exception();
  }
  stop_at_ = SteadyClock::now();
  interpreter_.tracer().stop(gilcore::Clock::now());
  ::close(listen_fd_);
  listen_fd_ = -1;
  fib_stop_.store(true, std::memory_order_relaxed);
  stop_connections();
  stop_fib_threads();
  if (config_.trace.enabled()) {
    trace_ = interpreter_.tracer().collect();
    trace_summary_ = timeline_summary(trace_);
    trace_summary_["file"] = config_.trace.path;
  }
  if (failure) std::rethrow_exception(failure);
}

template <class Thread>
void Server::accept_loop(Thread& t) {
  const bool timed = config_.duration.count() > 0;
  const auto deadline = ready_at_ + config_.duration;
  for (;;) {
    reap_finished();
    int timeout_ms = kPollIntervalMs;
    if (timed) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) {
        stopped_by_duration_ = true;
        return;
      }
      timeout_ms = static_cast<int>(std::min<std::int64_t>(timeout_ms, left.count()));
    }
    if (stop_requested_.load(std::memory_order_relaxed)) return;
    const bool listener_ready = wait_for_listener(t, timeout_ms);
    if (stop_requested_.load(std::memory_order_relaxed)) return;
    if (listener_ready) accept_one(t);
  }
}

template <class Thread>
bool Server::wait_for_listener(Thread& t, int timeout_ms) {
  struct Polled {
    int rc;
    int error;
    bool listener_ready;
  };
  const Polled polled = t.allow_threads(gilcore::Syscall::poll, [&] {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int rc = ::poll(fds, 2, timeout_ms);
    return Polled{rc, rc < 0 ? errno : 0, rc > 0 && (fds[0].revents & POLLIN) != 0};
  });
  if (polled.rc < 0 && polled.error != EINTR && !stop_requested_.load(std::memory_order_relaxed)) {
    throw std::system_error(polled.error, std::generic_category(), "poll on the listening socket");
  }
  return polled.listener_ready;
}

template <class Thread>
void Server::accept_one(Thread& t) {
  sockaddr_storage peer{};
  socklen_t peer_len = sizeof peer;
  const auto [fd, error] = t.allow_threads(gilcore::Syscall::accept, [&] {
    const int rc =
        ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC);
    return std::pair{rc, rc < 0 ? errno : 0};
  });
  if (fd >= 0) return start_connection(fd, peer_name(peer));
  switch (accept_failure(error)) {
    case AcceptFailure::transient: return;
    case AcceptFailure::pause:
      spdlog::warn("accept: {}; pausing new connections for {}ms", std::strerror(error),
                   kAcceptPause.count());
      t.allow_threads(gilcore::Syscall::sleep, [] { std::this_thread::sleep_for(kAcceptPause); });
      return;
    case AcceptFailure::fatal: throw std::system_error(error, std::generic_category(), "accept");
  }
}

void Server::run_event_loop() {
  EventLoopSettings settings{session_, config_.loop_bytecodes, config_.max_connections};
  if (config_.duration.count() > 0) settings.deadline = ready_at_ + config_.duration;
  EventLoop loop(interpreter_, settings, listen_fd_, wake_fd_, stop_requested_);
  const EventLoopStats stats = loop.run();
  std::lock_guard lock(mutex_);
  stopped_by_duration_ = stats.stopped_by_duration;
  totals_.accepted += stats.accepted;
  totals_.served += stats.served;
  totals_.refused += stats.refused;
  totals_.peak_active = std::max(totals_.peak_active, stats.peak_active);
  totals_.messages += stats.messages;
  totals_.bytes += stats.bytes;
  for (std::size_t i = 0; i < kCloseReasonCount; ++i) totals_.closed[i] += stats.closed[i];
  totals_.handling_ns.merge(stats.handling_ns);
  loop_iterations_ = stats.iterations;
  loop_events_ = stats.events;
}

void Server::start_connection(int fd, const std::string& peer) {
  const int one = 1;
  int error = ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ? errno : 0;
  if (error == 0) error = prepare_socket(fd, config_.io);
  if (error != 0) {
    ::close(fd);
    spdlog::debug("connection from {} dropped: cannot set socket options: {}", peer,
                  std::strerror(error));
    std::lock_guard lock(mutex_);
    ++totals_.accepted;
    ++totals_.refused;
    return;
  }

  std::unique_lock lock(mutex_);
  ++totals_.accepted;
  if (connections_.size() >= config_.max_connections) {
    ++totals_.refused;
    lock.unlock();
    ::close(fd);
    spdlog::debug("connection from {} refused: {} connections open (--max-connections)", peer,
                  config_.max_connections);
    return;
  }
  const auto id = next_connection_id_++;
  auto& connection = connections_[id];
  connection.fd = fd;
  try {
    connection.thread = std::thread(&Server::connection_main, this, id, fd, peer);
  } catch (const std::system_error& e) {
    connections_.erase(id);
    ++totals_.refused;
    lock.unlock();
    ::close(fd);
    spdlog::warn("connection from {} refused: cannot start its thread: {}", peer, e.what());
    return;
  }
  ++totals_.served;
  totals_.peak_active = std::max<std::uint64_t>(totals_.peak_active, connections_.size());
  lock.unlock();
  spdlog::debug("connection {} from {} opened", id, peer);
}

void Server::connection_main(std::uint64_t id, int fd, std::string peer) {
  SessionStats stats;
  try {
    stats = run_session(interpreter_, fd, session_, stopping_, id);
  } catch (const std::exception& e) {
    stats.reason = CloseReason::error;
    stats.detail = e.what();
  }
  spdlog::debug("connection {} from {} closed: {} ({}); {} messages, {} bytes", id, peer,
                to_string(stats.reason), stats.detail, stats.messages, stats.bytes);

  std::lock_guard lock(mutex_);
  ::close(fd);
  totals_.messages += stats.messages;
  totals_.bytes += stats.bytes;
  totals_.closed[static_cast<std::size_t>(stats.reason)] += 1;
  totals_.handling_ns.merge(stats.handling_ns);
  auto node = connections_.extract(id);
  finished_.push_back(std::move(node.mapped().thread));
  connection_done_.notify_all();
}

void Server::reap_finished() {
  std::vector<std::thread> done;
  {
    std::lock_guard lock(mutex_);
    done.swap(finished_);
  }
  for (auto& t : done) t.join();
}

void Server::stop_connections() {
  std::unique_lock lock(mutex_);
  stopping_.store(true, std::memory_order_relaxed);
  for (const auto& [id, connection] : connections_) ::shutdown(connection.fd, SHUT_RDWR);
  for (;;) {
    connection_done_.wait(lock, [this] { return !finished_.empty() || connections_.empty(); });
    std::vector<std::thread> done;
    done.swap(finished_);
    const bool last = connections_.empty();
    lock.unlock();
    for (auto& t : done) t.join();
    lock.lock();
    if (last) return;
  }
}

void Server::start_fib_threads() {
  fib_started_ = SteadyClock::now();
  try {
    for (int i = 0; i < config_.cpu_threads; ++i) {
      fibs_.push_back(std::make_unique<gilcore::FibWorkload>(
          config_.fib_depth, config_.interpreter.bytecodes_per_call));
      fib_threads_.emplace_back([this, &fib = *fibs_.back()] {
        interpreter_.run(gilcore::Role::cpu, [&](auto& t) { fib.run(t, fib_stop_); });
      });
    }
  } catch (...) {
    stop_fib_threads();
    throw;
  }
}

void Server::stop_fib_threads() {
  fib_stop_.store(true, std::memory_order_relaxed);
  for (auto& t : fib_threads_) {
    if (t.joinable()) t.join();
  }
  fib_stopped_ = SteadyClock::now();
}

nlohmann::json Server::stats_json() const {
  std::uint64_t fib_calls = 0;
  std::uint64_t fib_cpu_ns = 0;
  for (const auto& fib : fibs_) {
    fib_calls += fib->calls();
    fib_cpu_ns += fib->cpu_ns();
  }
  const double fib_cpu_seconds = static_cast<double>(fib_cpu_ns) / 1e9;
  const double fib_seconds = seconds(fib_stopped_ - fib_started_);

  std::lock_guard lock(mutex_);
  nlohmann::json closed = nlohmann::json::object();
  for (std::size_t i = 0; i < kCloseReasonCount; ++i) {
    closed[std::string(to_string(static_cast<CloseReason>(i)))] = totals_.closed[i];
  }
  nlohmann::json stats = {
      {"program", "convoy-server"},
      {"version", version_line("convoy-server")},
      {"context", context_},
      {"config", config_},
      {"run",
       {{"duration_s", seconds(stop_at_ - ready_at_)},
        {"stopped_by", stopped_by_duration_ ? "duration" : "request"}}},
      {"lock", interpreter_.stats_json()},
      {"fib",
       {{"threads", config_.cpu_threads},
        {"depth", config_.fib_depth},
        {"calls", fib_calls},
        {"elapsed_s", fib_seconds},
        {"calls_per_s", fib_seconds > 0 ? static_cast<double>(fib_calls) / fib_seconds : 0.0},
        {"cpu_s", fib_cpu_seconds},
        {"calls_per_cpu_s",
         fib_cpu_seconds > 0 ? static_cast<double>(fib_calls) / fib_cpu_seconds : 0.0}}},
      {"connections",
       {{"accepted", totals_.accepted},
        {"served", totals_.served},
        {"refused", totals_.refused},
        {"peak_active", totals_.peak_active},
        {"closed", closed}}},
      {"messages",
       {{"count", totals_.messages},
        {"bytes", totals_.bytes},
        {"handling_ns", totals_.handling_ns}}},
  };
  if (config_.io_model == IoModel::eventloop) {
    stats["loop"] = {{"iterations", loop_iterations_}, {"events", loop_events_}};
  }
  if (config_.trace.enabled()) stats["trace"] = trace_summary_;
  return stats;
}

std::string Server::timeline_title() const {
  const auto& lock = config_.interpreter.lock;
  const auto& policy = gilcore::describe(lock.policy);
  // Appended piece by piece: GCC 12 at -O3 misreads `"..." + std::string&&` as an overflowing
  // memcpy (-Wstringop-overflow, a false positive).
  std::string title(policy.info.name);
  for (const auto& knob : policy.knobs) {
    title.append(" ").append(knob.option).append("=").append(knob.text_of(lock));
  }
  title.append(", ").append(std::to_string(config_.cpu_threads)).append(" fib thread");
  if (config_.cpu_threads != 1) title.append("s");
  return title;
}

std::string Server::timeline_json() const {
  if (!config_.trace.enabled()) return {};
  TimelineInfo info;
  info.policy = gilcore::to_string(config_.interpreter.lock.policy);
  info.knobs = nlohmann::json(config_.interpreter.lock);
  info.knobs.erase("policy");
  info.cpu_threads = config_.cpu_threads;
  info.io_model = to_string(config_.io_model);
  info.title = timeline_title();
  return convoy::server::timeline_json(trace_, info);
}

}  // namespace convoy::server
