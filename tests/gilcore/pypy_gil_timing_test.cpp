// pypy behaviour that depends on time: the stealer's poll. Bounds are generous: this runs on
// shared, noisy machines and under sanitizers.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "gilcore/interpreter.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(PyPyGilTimingTest, AWaiterStealsWithinAboutAPollOfAReleaseAroundIo) {
  constexpr auto kHold = 20ms;
  constexpr auto kPoll = 100us;
  std::vector<Clock::duration> latencies;
  for (int trial = 0; trial < 9; ++trial) {
    PyPyGil gil(PyPyGil::Config{});
    ThreadState holder(Role::cpu, 1), waiter(Role::io, 2);
    gil.acquire(holder);
    Clock::time_point asked, got;
    std::thread w([&] {
      asked = Clock::now();
      gil.acquire(waiter);
      got = Clock::now();
      gil.release(waiter);
    });
    while (!gil.has_stealer()) std::this_thread::sleep_for(100us);
    std::this_thread::sleep_for(kHold);  // the stealer polls meanwhile
    const auto released = Clock::now();
    gil.release(holder);  // around an external call: a store, nobody is woken
    w.join();
    latencies.push_back(got - released);

    const auto polls = waiter.counters().load().own[PyPyGil::kStealerTimeouts];
    EXPECT_EQ(waiter.counters().load().own[PyPyGil::kSteals], 1u);
    EXPECT_GE(polls, 1u) << "the stealer did not poll while the GIL was held";
    // Each poll lasts at least its timeout: no more polls than the wait had timeouts in it.
    EXPECT_LE(polls, static_cast<std::uint64_t>((got - asked) / kPoll) + 1);
  }
  std::sort(latencies.begin(), latencies.end());
  const auto median = latencies[latencies.size() / 2];
  EXPECT_LT(median, 10ms) << "a steal should come within about a poll (100 us) of the release";
  EXPECT_LT(latencies.back(), 500ms);
}

}  // namespace
}  // namespace gilcore
