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

/// `first` holds the lock for a millisecond, which moves python time on, and lets go; then
/// `next` takes it (and keeps it). `first` refilled its slice at the earlier python time.
void hold_a_millisecond_then(BfsGil& gil, ThreadState& first, ThreadState& next) {
  gil.acquire(first);
  std::this_thread::sleep_for(1ms);
  gil.release(first);
  gil.acquire(next);
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
  const Counters c = testing::alone_at_check_points(gil, a, 1000);
  EXPECT_EQ(c.acquisitions, 1u);
  EXPECT_EQ(c.periodic_releases, 0u);
}

TEST(BfsGilTest, WaiterWithAnEarlierDeadlinePreemptsAtTheHoldersNextCheckPoint) {
  BfsGil gil(bfs(1h));
  ThreadState early(Role::io, 1), holder(Role::cpu, 2);
  // `early` refills its slice first, at python time 0; the holder after early's hold has moved
  // the clock on, so its deadline is later.
  hold_a_millisecond_then(gil, early, holder);

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
  hold_a_millisecond_then(gil, holder, holder);  // the holder keeps its deadline

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
  hold_a_millisecond_then(gil, holder, holder);
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
