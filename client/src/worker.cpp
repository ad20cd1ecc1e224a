#include "worker.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>

#include "convoy/client/payload.hpp"
#include "convoy/duration.hpp"

namespace convoy::client {
namespace {

// The pacer sleeps until this long before a send is due, then polls the event loop (still
// handling replies) until the exact time: sleeping alone overshoots by tens of microseconds.
constexpr std::int64_t kSpinNs = 50'000;

std::chrono::nanoseconds tick_interval(std::chrono::nanoseconds timeout) {
  using std::chrono::milliseconds;
  return std::clamp<std::chrono::nanoseconds>(timeout / 10, milliseconds(1), milliseconds(100));
}

}  // namespace

// ---- RunState -------------------------------------------------------------------------------

void RunState::begin(std::int64_t start_ns, std::vector<boost::asio::io_context*> contexts) {
  start_ns_ = start_ns;
  contexts_ = std::move(contexts);
  warmup_end_ = start_ns + config_.warmup_time.count();
  if (config_.warmup_count == 0) {
    measure_start_.store(warmup_end_, std::memory_order_release);
    if (config_.duration) {
      end_.store(warmup_end_ + config_.duration->count(), std::memory_order_release);
    }
  }
}

bool RunState::admit(std::int64_t intended_ns, std::uint16_t& flags) {
  flags = 0;
  if (stopping() || intended_ns >= end_ns()) return false;
  if (intended_ns < warmup_end_) {
    flags = kFlagWarmup;
    return true;
  }
  if (config_.warmup_count == 0 && !config_.count) return true;
  const std::uint64_t n = tickets_.fetch_add(1, std::memory_order_relaxed);
  if (n < config_.warmup_count) {
    flags = kFlagWarmup;
    return true;
  }
  if (config_.count && n - config_.warmup_count >= *config_.count) return false;
  if (n == config_.warmup_count && config_.warmup_count > 0) {
    // The first measured request starts the measured time.
    measure_start_.store(intended_ns, std::memory_order_release);
    if (config_.duration) {
      end_.store(intended_ns + config_.duration->count(), std::memory_order_release);
    }
  }
  return true;
}

void RunState::fail(ErrorKind kind, const std::string& message) {
  std::int64_t never = kNever;
  stopped_at_.compare_exchange_strong(never, now_ns(), std::memory_order_acq_rel);
  {
    std::lock_guard lock(mu_);
    if (error_.empty()) {
      error_ = message;
      error_kind_ = kind;
    }
  }
  stop_.store(true, std::memory_order_release);
  for (auto* io : contexts_) boost::asio::post(*io, [] {});  // wakes a loop blocked in run_one
}

std::string RunState::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

ErrorKind RunState::error_kind() const {
  std::lock_guard lock(mu_);
  return error_kind_;
}

// ---- Worker ---------------------------------------------------------------------------------

Worker::Worker(RunState& state, unsigned index, unsigned connection_count,
               const std::vector<std::uint16_t>& connection_ids)
    : state_(state),
      config_(state.config()),
      index_(index),
      tick_(io_),
      pacer_(io_),
      tick_interval_(tick_interval(state.config().timeout)),
      pick_rng_(state.config().seed * 0x9E3779B97F4A7C15ULL + index) {
  for (const auto id : connection_ids) {
    connections_.push_back(std::make_unique<Connection>(*this, io_, id));
  }
  rate_share_ = static_cast<double>(connection_ids.size()) / connection_count;
}

Worker::~Worker() {
  // Connections hold sockets on io_; close them before the io_context goes.
  connections_.clear();
}

std::string Worker::connect(const Resolver::results_type& endpoints) {
  std::string error;
  std::size_t pending = connections_.size();
  for (auto& c : connections_) {
    boost::asio::async_connect(
        c->socket(), endpoints,
        [&, conn = c.get()](const boost::system::error_code& ec,
                            const boost::asio::ip::tcp::endpoint&) {
          --pending;
          if (ec) {
            if (error.empty() && ec != boost::asio::error::operation_aborted) {
              error = ec.message();
            }
            return;
          }
          boost::system::error_code ignored;
          conn->socket().set_option(boost::asio::ip::tcp::no_delay(true), ignored);
        });
  }
  Timer deadline(io_, config_.connect_timeout);
  bool timed_out = false;
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    timed_out = pending > 0;
    for (auto& c : connections_) {
      boost::system::error_code ignored;
      if (!c->socket().is_open()) continue;
      if (pending > 0) c->socket().close(ignored);
    }
  });
  while (pending > 0 && io_.run_one() > 0) {
  }
  deadline.cancel();
  io_.run();
  io_.restart();
  if (timed_out) return "timed out after " + convoy::format_duration(config_.connect_timeout);
  return error;
}

void Worker::run() {
  // Timer slack (50 us by default) would make every paced wake-up late.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  if (!config_.cpus.empty()) {
    const int cpu = config_.cpus[index_ % config_.cpus.size()];
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    const int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (rc != 0) {
      state_.fail(ErrorKind::setup, "cannot pin client thread " + std::to_string(index_) +
                                        " to CPU " + std::to_string(cpu) + ": " +
                                        std::strerror(rc));
    }
  }
  std::this_thread::sleep_until(to_time_point(state_.start_ns()));

  auto guard = boost::asio::make_work_guard(io_);
  if (!state_.stopping()) {
    for (auto& c : connections_) c->start();
    arm_tick();
    if (config_.mode == Mode::open) {
      // Each thread paces its share of the total rate; uniform schedules are staggered so that
      // the threads' sends interleave instead of coinciding.
      schedule_.emplace(config_.rate * rate_share_, config_.arrival,
                        config_.seed + 0x100000001B3ULL * index_, state_.start_ns(),
                        static_cast<double>(index_) / config_.threads);
      next_intended_ = schedule_->next();
      sending_ = true;
    }
  }
  while (!state_.stopping()) {
    if (sending_) {
      pace();
      continue;
    }
    if (finished()) break;
    io_.run_one();
  }
  finish();
}

void Worker::pace() {
  const std::int64_t now = now_ns();
  bool full = false;
  while (next_intended_ <= now) {
    Connection* connection = pick_connection();
    if (connection == nullptr) {
      full = true;
      break;
    }
    std::uint16_t flags = 0;
    if (!state_.admit(next_intended_, flags)) {
      sending_ = false;
      return;
    }
    connection->enqueue(next_intended_, flags);
    next_intended_ = schedule_->next();
  }
  const std::int64_t end = state_.end_ns();
  if (next_intended_ >= end) {
    sending_ = false;
    return;
  }
  if (full) {
    // Every connection has --max-in-flight requests out. Overdue requests stay in the schedule,
    // not in memory, and keep their intended times: they are sent as replies free the slots.
    // Once the measured time is over, what is still unsent is counted and the sending ends.
    if (now >= end) {
      count_not_sent(end);
      sending_ = false;
      return;
    }
    io_.run_one();
    return;
  }
  const std::int64_t wake = next_intended_ - kSpinNs;
  if (now < wake) {
    if (pacer_armed_for_ != wake) {
      pacer_armed_for_ = wake;
      pacer_.expires_at(to_time_point(wake));
      pacer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) pacer_armed_for_ = 0;
      });
    }
    io_.run_one();
  } else {
    io_.poll();
  }
}

Connection* Worker::pick_connection() {
  const std::size_t n = connections_.size();
  const std::size_t first = config_.arrival == Arrival::uniform
                                ? next_connection_
                                : std::uniform_int_distribution<std::size_t>(0, n - 1)(pick_rng_);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (first + k) % n;
    if (connections_[i]->in_flight() < config_.max_in_flight) {
      next_connection_ = i + 1;
      return connections_[i].get();
    }
  }
  return nullptr;
}

void Worker::count_not_sent(std::int64_t end_ns) {
  const std::int64_t from = state_.measure_start_ns();
  std::uint64_t n = next_intended_ >= from && next_intended_ < end_ns ? 1 : 0;
  n += schedule_->remaining(from, end_ns);
  result_.not_sent += n;
}

void Worker::arm_tick() {
  tick_.expires_after(tick_interval_);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || state_.stopping()) return;
    on_tick();
    arm_tick();
  });
}

void Worker::on_tick() {
  const std::int64_t now = now_ns();
  for (auto& c : connections_) c->check_timeout(now);
  publish_progress();
}

void Worker::publish_progress() {
  const std::uint64_t completed = result_.completed + result_.warmup_completed;
  const std::uint64_t errors = result_.errors.total();
  state_.progress_completed.fetch_add(completed - published_completed_, std::memory_order_relaxed);
  state_.progress_errors.fetch_add(errors - published_errors_, std::memory_order_relaxed);
  published_completed_ = completed;
  published_errors_ = errors;
}

bool Worker::finished() const {
  if (sending_) return false;
  return std::all_of(connections_.begin(), connections_.end(),
                     [](const auto& c) { return c->done(); });
}

void Worker::finish() {
  const bool aborted = state_.stopping();
  for (auto& c : connections_) c->shutdown(aborted);
  tick_.cancel();
  pacer_.cancel();
  // Let the cancelled operations complete while the connections still exist.
  io_.restart();
  io_.poll();
  publish_progress();
}

void Worker::record(const Pending& p, std::int64_t now) {
  if (p.flags & kFlagWarmup) {
    ++result_.warmup_completed;
    return;
  }
  ++result_.completed;
  result_.latency.record_signed(now - p.intended_ns);
  if (config_.mode == Mode::open) result_.service.record_signed(now - p.sent_ns);
  const std::int64_t origin = state_.measure_start_ns();
  const std::int64_t since = origin == kNever ? 0 : std::max<std::int64_t>(0, now - origin);
  const auto second = static_cast<std::size_t>(since / 1'000'000'000);
  if (second >= result_.per_second.size()) result_.per_second.resize(second + 1);
  result_.per_second[second].record_signed(now - p.intended_ns);
  last_received_ns_ = std::max(last_received_ns_, now);
}

}  // namespace convoy::client
