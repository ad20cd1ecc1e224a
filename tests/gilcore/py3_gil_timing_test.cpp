// py3 behaviour that depends on time. Bounds are generous: this runs on shared, noisy machines
// and under sanitizers.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "gilcore/interpreter.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Py3Gil::Config py3(std::chrono::nanoseconds interval, bool force = true) {
  return {.switch_interval = interval, .force_switching = force};
}

TEST(Python3GilTimingTest, WaiterRequestsDropOnlyAfterOneInterval) {
  constexpr auto kInterval = 20ms;
  Py3Gil gil(py3(kInterval));
  ThreadState holder(Role::cpu, 1), waiter(Role::io, 2);
  gil.acquire(holder);

  const auto t0 = Clock::now();
  std::thread w([&] {
    gil.acquire(waiter);
    gil.release(waiter);
  });
  bool early = false;
  while (!gil.drop_requested() && Clock::now() - t0 < 2s) {
    if (Clock::now() - t0 < kInterval * 4 / 10 && gil.drop_requested()) early = true;
    std::this_thread::sleep_for(50us);
  }
  const auto asked_after = Clock::now() - t0;
  EXPECT_FALSE(early);
  EXPECT_TRUE(gil.drop_requested());
  EXPECT_GE(asked_after, kInterval * 9 / 10) << "asked before an interval had passed";
  EXPECT_LT(asked_after, kInterval + 300ms);
  EXPECT_EQ(waiter.counters().get(Counter::drop_requests), 1u);

  gil.release(holder);
  w.join();
  EXPECT_EQ(waiter.counters().get(Counter::contended_acquisitions), 1u);
}

// The holder spins on check points until the waiter has held the lock once (or a time cap).
// Returns how many times the holder came back from a forced drop before the waiter had held it.
struct Trial {
  int regrabs_before_waiter = 0;
  std::uint64_t waiter_drop_requests = 0;
  bool waiter_held = false;
};

Trial run_trial(bool force_switching) {
  Py3Gil gil(py3(1ms, force_switching));
  ThreadState holder(Role::cpu, 1), waiter(Role::io, 2);
  std::atomic<bool> waiter_held{false};
  Trial trial;
  gil.acquire(holder);
  std::thread w([&] {
    gil.acquire(waiter);
    waiter_held = true;
    gil.release(waiter);
  });
  const auto cap = Clock::now() + 200ms;
  std::uint64_t forced_seen = 0;
  while (!waiter_held.load() && Clock::now() < cap) {
    gil.check_point(holder);
    const auto forced = holder.counters().get(Counter::forced_switches);
    if (forced != forced_seen) {
      forced_seen = forced;
      if (!waiter_held.load()) ++trial.regrabs_before_waiter;
    }
  }
  gil.release(holder);
  w.join();
  trial.waiter_held = waiter_held.load();
  trial.waiter_drop_requests = waiter.counters().get(Counter::drop_requests);
  return trial;
}

TEST(Python3GilTimingTest, WithForceSwitchingTheDropperWaitsUntilTheWaiterHeldTheLock) {
  for (int i = 0; i < 5; ++i) {
    const auto trial = run_trial(true);
    EXPECT_TRUE(trial.waiter_held);
    EXPECT_EQ(trial.regrabs_before_waiter, 0) << "trial " << i;
    EXPECT_GE(trial.waiter_drop_requests, 1u);
  }
}

TEST(Python3GilTimingTest, WithoutForceSwitchingTheDropperMayTakeTheLockStraightBack) {
  // Whether the woken waiter or the running dropper wins is up to the scheduler; without the
  // forced switch the dropper wins often, so a few trials show it at least once.
  int trials = 0;
  bool regrabbed = false;
  while (!regrabbed && trials < 20) {
    const auto trial = run_trial(false);
    ++trials;
    EXPECT_TRUE(trial.waiter_held);
    regrabbed = trial.regrabs_before_waiter > 0;
  }
  EXPECT_TRUE(regrabbed) << "the dropper never beat the woken waiter in " << trials << " trials";
}

}  // namespace
}  // namespace gilcore
