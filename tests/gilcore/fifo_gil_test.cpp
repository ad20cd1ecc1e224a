#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "gilcore/policy_fifo.hpp"
#include "lock_threads.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;

FifoGil::Config fifo(int check_interval) { return {.check_interval = check_interval}; }

using testing::own;
using Waiter = testing::WaiterThread<FifoGil>;

void wait_for_queue(const FifoGil& gil, int n) {
  testing::wait_until([&] { return gil.waiting() >= n; });
}

TEST(FifoGilTest, UncontendedAcquireIsNotCountedAsContendedOrHandedOff) {
  FifoGil gil(fifo(100));
  ThreadState a(Role::io, 1);
  testing::acquire_release(gil, a, 2);
  EXPECT_EQ(a.counters().get(Counter::acquisitions), 2u);
  EXPECT_EQ(a.counters().get(Counter::contended_acquisitions), 0u);
  EXPECT_EQ(a.counters().get(Counter::handoffs), 0u);
  EXPECT_EQ(own(a, FifoGil::kQueued), 0u);
}

TEST(FifoGilTest, HandOffOrderEqualsArrivalOrder) {
  constexpr int kWaiters = 6;
  FifoGil gil(fifo(100));
  ThreadState holder(Role::cpu, 100);
  std::deque<ThreadState> states;
  for (int i = 0; i < kWaiters; ++i) states.emplace_back(i % 2 ? Role::io : Role::cpu, i + 1);

  gil.acquire(holder);
  const auto order =
      testing::served_order(gil, holder, states, [&](int n) { return gil.waiting() >= n; });
  EXPECT_EQ(order, testing::arrival_order(kWaiters));
  testing::expect_handed_along(holder, states);
  EXPECT_EQ(gil.waiting(), 0);
}

TEST(FifoGilTest, ReleaserCannotTakeTheLockBackBeforeTheWaiter) {
  FifoGil gil(fifo(100));
  ThreadState holder(Role::cpu, 1), waiter(Role::io, 2);
  gil.acquire(holder);
  Waiter w(gil, waiter);
  wait_for_queue(gil, 1);
  gil.release(holder);
  gil.acquire(holder);  // queues behind the waiter, whatever the scheduler does
  EXPECT_TRUE(w.held());
  gil.release(holder);
  w.join();
  EXPECT_EQ(holder.counters().get(Counter::handoffs), 1u);
  EXPECT_EQ(waiter.counters().get(Counter::contended_acquisitions), 1u);
}

TEST(FifoGilTest, HolderYieldsAtItsCheckIntervalOnlyWhenSomebodyWaits) {
  FifoGil gil(fifo(5));
  ThreadState holder(Role::cpu, 1), waiter(Role::io, 2);
  gil.acquire(holder);
  for (int i = 0; i < 18; ++i) gil.check_point(holder);  // wraps at ticks 1, 7 and 13
  EXPECT_EQ(holder.counters().get(Counter::periodic_releases), 0u);
  EXPECT_EQ(own(holder, FifoGil::kIdleChecks), 3u);

  Waiter w(gil, waiter);
  wait_for_queue(gil, 1);
  int ticks = 0;
  while (!w.held()) {
    gil.check_point(holder);
    ++ticks;
  }
  w.join();
  EXPECT_EQ(holder.counters().get(Counter::periodic_releases), 1u);
  EXPECT_LE(ticks, 6) << "the holder ran past its check interval with a waiter queued";
  EXPECT_TRUE(holder.holds());
  gil.release(holder);
}

}  // namespace
}  // namespace gilcore
