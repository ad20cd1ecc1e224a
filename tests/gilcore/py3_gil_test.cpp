#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "gilcore/interpreter.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;

LockConfig py3(std::chrono::nanoseconds interval, bool force = true) {
  LockConfig c;
  c.policy = PolicyKind::py3;
  c.switch_interval = interval;
  c.force_switching = force;
  return c;
}

TEST(Python3GilTest, UncontendedAcquireIsNotCountedAsContendedOrSwitched) {
  Py3Gil gil(py3(5ms));
  ThreadState a(Role::io, 1);
  gil.acquire(a);
  gil.release(a);
  gil.acquire(a);
  gil.release(a);
  EXPECT_EQ(a.counters().acquisitions.load(), 2u);
  EXPECT_EQ(a.counters().contended_acquisitions.load(), 0u);
  EXPECT_EQ(a.counters().holder_switches.load(), 1u);  // the first one: nobody held it before
  EXPECT_FALSE(gil.drop_requested());
}

TEST(Python3GilTest, CheckPointIsInertWithoutARequest) {
  Py3Gil gil(py3(5ms));
  ThreadState a(Role::cpu, 1);
  gil.acquire(a);
  for (int i = 0; i < 1000; ++i) gil.check_point(a);
  EXPECT_EQ(a.counters().acquisitions.load(), 1u);
  EXPECT_EQ(a.counters().forced_switches.load(), 0u);
  gil.release(a);
}

TEST(Python3GilTest, TakerConsumesThePendingDropRequest) {
  Py3Gil gil(py3(1ms));
  ThreadState holder(Role::cpu, 1), waiter(Role::io, 2);
  gil.acquire(holder);
  std::thread w([&] {
    gil.acquire(waiter);
    gil.release(waiter);
  });
  while (!gil.drop_requested()) std::this_thread::sleep_for(100us);
  gil.check_point(holder);  // honours it: drops, waits for the switch, takes it back
  EXPECT_FALSE(gil.drop_requested());
  EXPECT_EQ(holder.counters().forced_switches.load(), 1u);
  gil.release(holder);
  w.join();
  EXPECT_GE(waiter.counters().drop_requests.load(), 1u);
  EXPECT_EQ(waiter.counters().contended_acquisitions.load(), 1u);
}

}  // namespace
}  // namespace gilcore
