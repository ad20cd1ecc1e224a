#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "gilcore/policy_priority.hpp"
#include "lock_threads.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;

PriorityGil::Config priority(std::chrono::nanoseconds interval) {
  return {.switch_interval = interval, .force_switching = true};
}

using testing::own;

// `waiter` takes the lock once on a thread of its own while `holder` holds it; the holder honours
// the drop request at a check point, which makes it drop and take the lock back.
void forced_round(PriorityGil& gil, ThreadState& holder, ThreadState& waiter) {
  testing::WaiterThread w(gil, waiter);
  testing::wait_until([&] { return gil.drop_requested(); });
  gil.check_point(holder);
  w.join();
}

TEST(PriorityGilTest, ThreadsStartIoClassAForcedDropMakesThemCpuClassAVoluntaryOneIoAgain) {
  PriorityGil gil(priority(1ms));
  ThreadState holder(Role::cpu, 1), waiter(Role::io, 2);
  gil.acquire(holder);
  EXPECT_FALSE(PriorityGil::cpu_class(holder));

  forced_round(gil, holder, waiter);  // the holder is I/O-class: the waiter asks after 1 ms
  EXPECT_EQ(holder.counters().get(Counter::forced_switches), 1u);
  EXPECT_TRUE(PriorityGil::cpu_class(holder));
  EXPECT_EQ(own(holder, PriorityGil::kBecameCpuClass), 1u);
  EXPECT_EQ(own(waiter, PriorityGil::kImmediateRequests), 0u);
  EXPECT_FALSE(PriorityGil::cpu_class(waiter)) << "its release was voluntary";

  gil.release(holder);  // a blocking region
  EXPECT_FALSE(PriorityGil::cpu_class(holder));
  EXPECT_EQ(own(holder, PriorityGil::kBecameIoClass), 1u);
}

TEST(PriorityGilTest, IoClassWaiterAsksACpuClassHolderBeforeItsFirstWait) {
  PriorityGil gil(priority(1ms));
  ThreadState holder(Role::cpu, 1), first(Role::io, 2), second(Role::io, 3);
  gil.acquire(holder);
  forced_round(gil, holder, first);  // makes the holder CPU-class
  ASSERT_TRUE(PriorityGil::cpu_class(holder));

  forced_round(gil, holder, second);
  EXPECT_EQ(own(second, PriorityGil::kImmediateRequests), 1u);
  EXPECT_GE(second.counters().get(Counter::drop_requests), 1u);  // again at each timed-out wait
  EXPECT_EQ(holder.counters().get(Counter::forced_switches), 2u);
  gil.release(holder);
}

}  // namespace
}  // namespace gilcore
