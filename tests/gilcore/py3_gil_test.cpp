#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "gilcore/interpreter.hpp"
#include "lock_threads.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;

Py3Gil::Config py3(std::chrono::nanoseconds interval, bool force = true) {
  return {.switch_interval = interval, .force_switching = force};
}

TEST(Python3GilTest, UncontendedAcquireIsNotCountedAsContendedOrSwitched) {
  Py3Gil gil(py3(5ms));
  ThreadState a(Role::io, 1);
  testing::acquire_release(gil, a, 2);
  EXPECT_EQ(a.counters().get(Counter::acquisitions), 2u);
  EXPECT_EQ(a.counters().get(Counter::contended_acquisitions), 0u);
  EXPECT_EQ(a.counters().get(Counter::holder_switches),
            1u);  // the first one: nobody held it before
  EXPECT_FALSE(gil.drop_requested());
}

TEST(Python3GilTest, CheckPointIsInertWithoutARequest) {
  Py3Gil gil(py3(5ms));
  ThreadState a(Role::cpu, 1);
  const Counters c = testing::alone_at_check_points(gil, a, 1000);
  EXPECT_EQ(c.acquisitions, 1u);
  EXPECT_EQ(c.forced_switches, 0u);
}

TEST(Python3GilTest, TakerConsumesThePendingDropRequest) {
  Py3Gil gil(py3(1ms));
  ThreadState holder(Role::cpu, 1), waiter(Role::io, 2);
  gil.acquire(holder);
  testing::WaiterThread w(gil, waiter);
  testing::wait_until([&] { return gil.drop_requested(); });
  gil.check_point(holder);  // honours it: drops, waits for the switch, takes it back
  EXPECT_FALSE(gil.drop_requested());
  EXPECT_EQ(holder.counters().get(Counter::forced_switches), 1u);
  gil.release(holder);
  w.join();
  EXPECT_GE(waiter.counters().get(Counter::drop_requests), 1u);
  EXPECT_EQ(waiter.counters().get(Counter::contended_acquisitions), 1u);
}

}  // namespace
}  // namespace gilcore
