// bfs behaviour that depends on time: CPU threads take turns in slices, an I/O thread preempts a
// CPU thread at once. Bounds are generous: this runs on shared, noisy machines and sanitizers.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>

#include "gilcore/fib.hpp"
#include "gilcore/interpreter.hpp"
#include "lock_timing.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;

TEST(BfsGilTimingTest, TwoFibThreadsAlternateInSlicesOfAboutTenMilliseconds) {
  InterpreterConfig c;
  c.lock = LockConfig::for_policy<BfsGil>();  // 10 ms slices
  Interpreter interpreter(c);
  std::atomic<bool> stop{false};
  FibWorkload a(25, c.bytecodes_per_call), b(25, c.bytecodes_per_call);
  std::thread ta([&] { interpreter.run(Role::cpu, [&](auto& t) { a.run(t, stop); }); });
  std::thread tb([&] { interpreter.run(Role::cpu, [&](auto& t) { b.run(t, stop); }); });
  std::this_thread::sleep_for(400ms);
  stop = true;
  ta.join();
  tb.join();

  const auto stats = interpreter.stats();
  const auto& holds = stats.of(Role::cpu).hold_ns;
  std::printf(
      "bfs, two fib threads: holds p50 %.2f ms, p10 %.2f ms, p90 %.2f ms, n %zu; "
      "switches %zu; fib calls %zu and %zu\n",
      static_cast<double>(holds.percentile(50)) / 1e6,
      static_cast<double>(holds.percentile(10)) / 1e6,
      static_cast<double>(holds.percentile(90)) / 1e6, static_cast<std::size_t>(holds.count()),
      static_cast<std::size_t>(stats.total().holder_switches), static_cast<std::size_t>(a.calls()),
      static_cast<std::size_t>(b.calls()));
  EXPECT_GE(stats.total().holder_switches, 10u) << "they did not take turns";
  EXPECT_GE(holds.percentile(50), 5'000'000u) << "slices much shorter than 10 ms";
  EXPECT_LE(holds.percentile(50), 40'000'000u) << "slices much longer than 10 ms";
  EXPECT_GT(a.calls(), 0u);
  EXPECT_GT(b.calls(), 0u);
}

TEST(BfsGilTimingTest, IoThreadPreemptsAFibThreadWithinAMillisecond) {
  const auto waits =
      testing::reacquire_waits_next_to_fib(LockConfig::for_policy<BfsGil>(), 1, 40, "bfs");
  EXPECT_GE(waits.count(), 41u);
  EXPECT_LT(waits.percentile(50), 1'000'000u) << "median re-acquire wait under bfs";
}

}  // namespace
}  // namespace gilcore
