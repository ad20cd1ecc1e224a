// ruby behaviour that depends on time: the quantum, the timer that runs only while somebody
// waits. Bounds are generous: this runs on shared, noisy machines and under sanitizers.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "gilcore/interpreter.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kQuantum = 60ms;
constexpr auto kTick = 5ms;

RubyGvl::Config ruby(RubyGvl::Timer timer) {
  return {.timeslice = kQuantum, .timer_tick = kTick, .gvl_timer = timer};
}

std::uint64_t own(const ThreadState& t, RubyGvl::OwnCounter c) {
  return const_cast<ThreadState&>(t).counters().load().own[c];
}

// The holder runs check points (a fib thread) until a waiter, started now, has held the lock.
// Returns how long the waiter waited.
Clock::duration waiter_wait(RubyGvl& gil, ThreadState& holder, ThreadState& waiter) {
  std::atomic<bool> held{false};
  Clock::time_point asked, got;
  std::thread w([&] {
    asked = Clock::now();
    gil.acquire(waiter);
    got = Clock::now();
    held = true;
    gil.release(waiter);
  });
  const auto cap = Clock::now() + 5s;
  while (!held.load() && Clock::now() < cap) gil.check_point(holder);
  w.join();
  return got - asked;
}

TEST(RubyGvlTimingTest, TheHolderYieldsAfterAboutOneQuantumWhileAWaiterExists) {
  RubyGvl gil(ruby(RubyGvl::Timer::thread));
  ThreadState holder(Role::cpu, 1), first(Role::io, 2), second(Role::io, 3);
  gil.acquire(holder);
  const auto waited = waiter_wait(gil, holder, first);
  EXPECT_GE(waited, kQuantum - 2ms) << "yielded before its quantum was used up";
  EXPECT_LT(waited, kQuantum + 1s);
  EXPECT_EQ(holder.counters().get(Counter::periodic_releases), 1u);
  EXPECT_EQ(holder.counters().get(Counter::handoffs), 1u);
  // Each tick charged kTick, and it yielded at the first check point at which its time reached
  // the quantum.
  EXPECT_EQ(own(holder, RubyGvl::kTimerInterrupts), kQuantum / kTick);
  EXPECT_EQ(own(holder, RubyGvl::kQuantumExpiries), 1u);

  // The waiter handed it back; a different thread was switched in, so the holder's time starts
  // again from zero: the next waiter waits a whole quantum too.
  const auto waited_again = waiter_wait(gil, holder, second);
  EXPECT_GE(waited_again, kQuantum - 2ms) << "the holder's time was not reset at switch-in";
  EXPECT_EQ(holder.counters().get(Counter::periodic_releases), 2u);
  gil.release(holder);
}

TEST(RubyGvlTimingTest, TheHolderNeverYieldsWithoutAWaiterAndTheTimerStaysQuiet) {
  RubyGvl gil(ruby(RubyGvl::Timer::thread));
  ThreadState holder(Role::cpu, 1);
  gil.acquire(holder);
  const auto until = Clock::now() + 4 * kQuantum;
  while (Clock::now() < until) gil.check_point(holder);
  EXPECT_EQ(holder.counters().get(Counter::periodic_releases), 0u);
  EXPECT_EQ(own(holder, RubyGvl::kTimerInterrupts), 0u) << "the timer ticked with nobody waiting";
  EXPECT_EQ(holder.counters().get(Counter::acquisitions), 1u);
  gil.release(holder);
}

TEST(RubyGvlTimingTest, WaiterModelTheDesignatedWaiterInterruptsTheHolderAfterAQuantum) {
  RubyGvl gil(ruby(RubyGvl::Timer::waiter));
  ThreadState holder(Role::cpu, 1), waiter(Role::io, 2);
  gil.acquire(holder);
  const auto waited = waiter_wait(gil, holder, waiter);
  EXPECT_GE(waited, kQuantum - 2ms);
  EXPECT_LT(waited, kQuantum + 1s);
  // A timed wait of a quantum, then an interrupt that charges a whole quantum, so the holder
  // yields at the first one it takes; the yield waited until the waiter had the lock.
  EXPECT_GE(waiter.counters().get(Counter::drop_requests), 1u);
  EXPECT_GE(own(holder, RubyGvl::kTimerInterrupts), 1u);
  EXPECT_EQ(own(holder, RubyGvl::kQuantumExpiries), own(holder, RubyGvl::kTimerInterrupts));
  EXPECT_EQ(holder.counters().get(Counter::periodic_releases), 1u);
  gil.release(holder);
}

}  // namespace
}  // namespace gilcore
