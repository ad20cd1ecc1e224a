#include "convoy/client/runner.hpp"

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/ip/tcp.hpp>

#include "worker.hpp"

namespace convoy::client {

std::uint64_t ErrorCounts::total() const {
  std::uint64_t n = 0;
  for (const auto& c : kErrorCounters) n += c.fails_the_run ? this->*c.member : 0;
  return n;
}

void ErrorCounts::add(const ErrorCounts& o) {
  for (const auto& c : kErrorCounters) this->*c.member += o.*c.member;
}

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::none: return "";
    case ErrorKind::resolve: return "resolve";
    case ErrorKind::connect: return "connect";
    case ErrorKind::closed: return "closed";
    case ErrorKind::reset: return "reset";
    case ErrorKind::io: return "io";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::interrupted: return "interrupted";
    case ErrorKind::setup: return "setup";
    case ErrorKind::internal: return "internal";
  }
  return "";
}

int RunResult::exit_code() const {
  if (error_kind == ErrorKind::interrupted) return 130;
  return error.empty() && errors.total() == 0 ? 0 : 1;
}

namespace {

void merge_into(RunResult& total, const RunResult& part) {
  total.latency.merge(part.latency);
  total.service.merge(part.service);
  total.lag.merge(part.lag);
  if (total.per_second.size() < part.per_second.size()) {
    total.per_second.resize(part.per_second.size());
  }
  for (std::size_t i = 0; i < part.per_second.size(); ++i) {
    total.per_second[i].merge(part.per_second[i]);
  }
  total.errors.add(part.errors);
  total.sent += part.sent;
  total.completed += part.completed;
  total.not_sent += part.not_sent;
  total.warmup_sent += part.warmup_sent;
  total.warmup_completed += part.warmup_completed;
  if (total.first_corruption.empty()) total.first_corruption = part.first_corruption;
}

// Step 1: the server's addresses; sets the error of `result` if the host does not resolve.
std::optional<Resolver::results_type> resolve(const Config& config, RunResult& result) {
  boost::asio::io_context resolve_io;
  Resolver resolver(resolve_io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(config.host, std::to_string(config.port), ec);
  if (!ec) return endpoints;
  result.error = "cannot resolve '" + config.host + "': " + ec.message();
  result.error_kind = ErrorKind::resolve;
  return std::nullopt;
}

// Step 2: one worker per thread, the connections spread over them round-robin.
std::vector<std::unique_ptr<Worker>> make_workers(RunState& state, const Config& config) {
  std::vector<std::vector<std::uint16_t>> ids(config.threads);
  for (unsigned i = 0; i < config.connections; ++i) {
    ids[i % config.threads].push_back(static_cast<std::uint16_t>(i));
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned k = 0; k < config.threads; ++k) {
    workers.push_back(std::make_unique<Worker>(state, k, config.connections, ids[k]));
  }
  return workers;
}

// Step 3: every connection of every worker; sets the error of `result` if one cannot be made.
bool connect_all(const std::vector<std::unique_ptr<Worker>>& workers,
                 const Resolver::results_type& endpoints, const Config& config, RunResult& result) {
  for (const auto& w : workers) {
    const std::string error = w->connect(endpoints);
    if (!error.empty()) {
      result.error =
          "cannot connect to " + config.host + ":" + std::to_string(config.port) + ": " + error;
      result.error_kind = ErrorKind::connect;
      return false;
    }
  }
  result.connected = true;
  return true;
}

// Step 4: the workers on their threads from `start`; the calling thread watches for the
// interrupt and reports progress until every worker has returned.
void run_threads(const std::vector<std::unique_ptr<Worker>>& workers, RunState& state,
                 std::int64_t start, const std::function<void(const Progress&)>& progress,
                 const std::atomic<bool>* interrupt) {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t running = workers.size();
  std::vector<std::thread> threads;
  for (const auto& w : workers) {
    threads.emplace_back([&, worker = w.get()] {
      try {
        worker->run();
      } catch (const std::exception& e) {
        state.fail(ErrorKind::internal, std::string("client thread failed: ") + e.what());
      }
      std::lock_guard lock(mu);
      --running;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    while (running > 0) {
      cv.wait_for(lock, std::chrono::milliseconds(250));
      if (interrupt != nullptr && interrupt->load() && !state.stopping()) {
        state.fail(ErrorKind::interrupted, "interrupted");
      }
      if (progress) {
        Progress p;
        p.elapsed_s = static_cast<double>(now_ns() - start) / 1e9;
        p.completed = state.progress_completed.load(std::memory_order_relaxed);
        p.errors = state.progress_errors.load(std::memory_order_relaxed);
        lock.unlock();
        progress(p);
        lock.lock();
      }
    }
  }
  for (auto& t : threads) t.join();
}

// Step 5: the workers' results merged, the first error, the measured time and rate.
void collect(RunResult& result, const std::vector<std::unique_ptr<Worker>>& workers,
             const RunState& state, const Config& config) {
  std::int64_t last_received = 0;
  for (const auto& w : workers) {
    merge_into(result, w->result());
    last_received = std::max(last_received, w->last_received_ns());
  }
  result.error = state.error();
  result.error_kind = state.error_kind();
  // The measured time is the window the schedule filled (a stall inside it counts), not the
  // time of the last reply: a --duration run ends at its end, a --count run at its last reply,
  // and a run that was stopped early at the stop.
  const std::int64_t measure_start = state.measure_start_ns();
  const std::int64_t stopped_at = state.stopped_at_ns();
  std::int64_t measure_end = config.duration ? std::min(state.end_ns(), stopped_at) : last_received;
  if (!config.duration && stopped_at != kNever) measure_end = stopped_at;
  if (measure_start != kNever && measure_end != kNever && measure_end > measure_start) {
    result.elapsed_s = static_cast<double>(measure_end - measure_start) / 1e9;
    result.achieved_rate = static_cast<double>(result.completed) / result.elapsed_s;
  }
}

}  // namespace

RunResult run_load(const Config& config, const std::function<void(const Progress&)>& progress,
                   const std::atomic<bool>* interrupt) {
  RunResult result;
  const auto endpoints = resolve(config, result);
  if (!endpoints) return result;
  RunState state(config);
  const auto workers = make_workers(state, config);
  if (!connect_all(workers, *endpoints, config, result)) return result;

  // A short lead so that every thread is waiting when the schedule starts.
  const std::int64_t start = now_ns() + 2'000'000;
  std::vector<boost::asio::io_context*> contexts;
  for (const auto& w : workers) contexts.push_back(&w->context());
  state.begin(start, contexts);
  run_threads(workers, state, start, progress, interrupt);
  collect(result, workers, state, config);
  return result;
}

}  // namespace convoy::client
