#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>

#include "gilcore/interpreter.hpp"

namespace gilcore {

/// CPU time the calling thread has used so far (CLOCK_THREAD_CPUTIME_ID), in ns.
inline std::uint64_t thread_cpu_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

/// The CPU-bound workload: recursive fib(depth), computed over and over. Each call costs
/// `bytecodes_per_call` emulated bytecodes (and so as many check points), as a Python-level
/// recursive function would. Stops within one bytecode of `stop` becoming true (see
/// PyThread::bytecodes(n, stop)), however many bytecodes a call costs.
class FibWorkload {
 public:
  FibWorkload(int depth, int bytecodes_per_call) noexcept
      : depth_(depth), bytecodes_per_call_(static_cast<std::uint64_t>(bytecodes_per_call)) {}

  /// Runs on the thread that owns `t` until `stop` is set. Returns the number of calls made.
  /// Also measures the CPU time the thread used meanwhile (cpu_ns()).
  template <class Policy>
  std::uint64_t run(PyThread<Policy>& t, const std::atomic<bool>& stop) {
    const auto started = thread_cpu_ns();
    while (!stop.load(std::memory_order_relaxed)) fib(t, depth_, stop);
    cpu_ns_.store(thread_cpu_ns() - started, std::memory_order_relaxed);
    return calls();
  }

  /// Calls made so far; any thread, any time.
  std::uint64_t calls() const noexcept { return calls_.load(std::memory_order_relaxed); }
  /// CPU time of the thread that ran run(), once run() returned (0 before).
  std::uint64_t cpu_ns() const noexcept { return cpu_ns_.load(std::memory_order_relaxed); }
  /// fib(depth) from the last complete computation (0 before the first one completes).
  std::uint64_t last_result() const noexcept {
    return last_result_.load(std::memory_order_relaxed);
  }

 private:
  template <class Policy>
  std::uint64_t fib(PyThread<Policy>& t, int n, const std::atomic<bool>& stop) {
    calls_.store(calls_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (!t.bytecodes(bytecodes_per_call_, stop)) return 0;
    if (n < 2) return static_cast<std::uint64_t>(n);
    const auto result = fib(t, n - 1, stop) + fib(t, n - 2, stop);
    if (n == depth_ && !stop.load(std::memory_order_relaxed))
      last_result_.store(result, std::memory_order_relaxed);
    return result;
  }

  int depth_;
  std::uint64_t bytecodes_per_call_;
  std::atomic<std::uint64_t> calls_{0};
  std::atomic<std::uint64_t> last_result_{0};
  std::atomic<std::uint64_t> cpu_ns_{0};
};

}  // namespace gilcore
