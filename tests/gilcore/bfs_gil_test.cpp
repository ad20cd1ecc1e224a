#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "gilcore/policy_bfs.hpp"
#include "lock_threads.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;
using testing::own;
using testing::wait_until;
using Waiter = testing::WaiterThread<BfsGil>;

BfsGil::Config bfs(std::chrono::nanoseconds slice, bool snatch = true) {
  return {.rr_interval = slice, .deadline_factor = 8, .slice_check_ticks = 1, .snatch = snatch};
}

TEST(BfsGilTest, UncontendedAcquireRefillsTheSliceOnceAndIsNotContended) {
  BfsGil gil(bfs(10ms));
  ThreadState a(Role::io, 1);
  testing::acquire_release(gil, a, 3);
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

  Waiter w(gil, early);
  wait_until([&] { return gil.preempt_requested(); });
  EXPECT_FALSE(w.held());
  gil.check_point(holder);  // yields, waits for the switch, takes the lock back
  EXPECT_TRUE(w.held());
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

  Waiter w(gil, late);  // refills now: a later deadline than the holder's
  wait_until([&] { return gil.waiting() > 0; });
  EXPECT_FALSE(gil.preempt_requested());
  EXPECT_TRUE(gil.check_depleted_requested());
  gil.check_point(holder);  // looks at its slice: an hour is not used up
  EXPECT_FALSE(gil.check_depleted_requested());
  EXPECT_EQ(holder.counters().get(Counter::forced_switches), 0u);
  EXPECT_EQ(holder.counters().get(Counter::periodic_releases), 0u);
  EXPECT_FALSE(w.held());
  gil.release(holder);
  w.join();
  EXPECT_TRUE(w.held());
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
  Waiter w(gil, late);
  const auto cap = std::chrono::steady_clock::now() + 5s;
  while (!w.held() && std::chrono::steady_clock::now() < cap) gil.check_point(holder);
  EXPECT_TRUE(w.held());
  EXPECT_GE(holder.counters().get(Counter::periodic_releases), 1u);
  EXPECT_EQ(holder.counters().get(Counter::forced_switches), 0u);
  gil.release(holder);
  w.join();
}

}  // namespace
}  // namespace gilcore
