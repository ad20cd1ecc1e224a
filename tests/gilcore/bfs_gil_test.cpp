#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "gilcore/policy_bfs.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;

BfsGil::Config bfs(std::chrono::nanoseconds slice, bool snatch = true) {
  return {.rr_interval = slice, .deadline_factor = 8, .slice_check_ticks = 1, .snatch = snatch};
}

std::uint64_t own(ThreadState& t, std::size_t index) { return t.counters().load().own[index]; }

TEST(BfsGilTest, UncontendedAcquireRefillsTheSliceOnceAndIsNotContended) {
  BfsGil gil(bfs(10ms));
  ThreadState a(Role::io, 1);
  for (int i = 0; i < 3; ++i) {
    gil.acquire(a);
    gil.release(a);
  }
  EXPECT_EQ(a.counters().get(Counter::acquisitions), 3u);
  EXPECT_EQ(a.counters().get(Counter::contended_acquisitions), 0u);
  EXPECT_EQ(own(a, BfsGil::kSliceRefills), 1u) << "a slice of 10 ms is not used up in microseconds";
}

TEST(BfsGilTest, CheckPointIsInertWhileTheSliceLasts) {
  BfsGil gil(bfs(1h));
  ThreadState a(Role::cpu, 1);
  gil.acquire(a);
  for (int i = 0; i < 1000; ++i) gil.check_point(a);
  EXPECT_EQ(a.counters().get(Counter::acquisitions), 1u);
  EXPECT_EQ(a.counters().get(Counter::periodic_releases), 0u);
  gil.release(a);
}

TEST(BfsGilTest, WaiterWithAnEarlierDeadlinePreemptsAtTheHoldersNextCheckPoint) {
  BfsGil gil(bfs(1h));
  ThreadState early(Role::io, 1), holder(Role::cpu, 2);
  // `early` refills its slice first, at python time 0; the holder after early's hold has moved
  // the clock on, so its deadline is later.
  gil.acquire(early);
  std::this_thread::sleep_for(1ms);
  gil.release(early);
  gil.acquire(holder);

  std::atomic<bool> early_held{false};
  std::thread w([&] {
    gil.acquire(early);
    early_held = true;
    gil.release(early);
  });
  while (!gil.preempt_requested()) std::this_thread::sleep_for(50us);
  EXPECT_FALSE(early_held.load());
  gil.check_point(holder);  // yields, waits for the switch, takes the lock back
  EXPECT_TRUE(early_held.load());
  EXPECT_TRUE(holder.holds());
  w.join();
  EXPECT_EQ(holder.counters().get(Counter::forced_switches), 1u);
  EXPECT_EQ(early.counters().get(Counter::drop_requests), 1u);
  EXPECT_GE(own(holder, BfsGil::kSwitchWaits), 1u);
  gil.release(holder);
}

TEST(BfsGilTest, WaiterWithALaterDeadlineOnlyAsksTheHolderToLookAtItsSlice) {
  BfsGil gil(bfs(1h));
  ThreadState holder(Role::cpu, 1), late(Role::io, 2);
  gil.acquire(holder);
  std::this_thread::sleep_for(1ms);
  gil.release(holder);  // python time moves on; the holder keeps its deadline
  gil.acquire(holder);

  std::atomic<bool> late_held{false};
  std::thread w([&] {
    gil.acquire(late);  // refills now: a later deadline than the holder's
    late_held = true;
    gil.release(late);
  });
  while (gil.waiting() == 0) std::this_thread::sleep_for(50us);
  EXPECT_FALSE(gil.preempt_requested());
  EXPECT_TRUE(gil.check_depleted_requested());
  gil.check_point(holder);  // looks at its slice: an hour is not used up
  EXPECT_FALSE(gil.check_depleted_requested());
  EXPECT_EQ(holder.counters().get(Counter::forced_switches), 0u);
  EXPECT_EQ(holder.counters().get(Counter::periodic_releases), 0u);
  EXPECT_FALSE(late_held.load());
  gil.release(holder);
  w.join();
  EXPECT_TRUE(late_held.load());
  EXPECT_EQ(late.counters().get(Counter::drop_requests), 0u);
  EXPECT_EQ(holder.counters().get(Counter::handoffs), 1u);
}

TEST(BfsGilTest, UsedUpSliceYieldsToAWaiterAtACheckPoint) {
  BfsGil gil(bfs(20ms));  // the 1 ms sleep below must not use it up
  ThreadState holder(Role::cpu, 1), late(Role::cpu, 2);
  gil.acquire(holder);
  std::this_thread::sleep_for(1ms);
  gil.release(holder);
  gil.acquire(holder);
  std::atomic<bool> late_held{false};
  std::thread w([&] {
    gil.acquire(late);
    late_held = true;
    gil.release(late);
  });
  const auto cap = std::chrono::steady_clock::now() + 5s;
  while (!late_held.load() && std::chrono::steady_clock::now() < cap) gil.check_point(holder);
  EXPECT_TRUE(late_held.load());
  EXPECT_GE(holder.counters().get(Counter::periodic_releases), 1u);
  EXPECT_EQ(holder.counters().get(Counter::forced_switches), 0u);
  gil.release(holder);
  w.join();
}

}  // namespace
}  // namespace gilcore
