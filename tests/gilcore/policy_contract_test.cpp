// The contract every policy keeps, checked through the same code for each: mutual exclusion
// (where the policy promises it), progress (no lost wake-up: every thread finishes), and
// counters that add up.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "gilcore/interpreter.hpp"
#include "lock_threads.hpp"
#include "policy_support.hpp"
#include "sanitizer.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;

template <class Policy>
class PolicyContractTest : public ::testing::Test {
 protected:
  static InterpreterConfig config() {
    InterpreterConfig c;
    c.lock = testing::quick_lock<Policy>();  // many periodic events in a short test
    c.bytecode_cost = 10ns;
    return c;
  }
};

TYPED_TEST_SUITE(PolicyContractTest, testing::AllPolicies);

constexpr int kThreads = 8;
constexpr int kRounds = 2400 / convoy::testing::kSlowdown;

TYPED_TEST(PolicyContractTest, AtMostOneHolderAndEveryThreadFinishes) {
  Interpreter interpreter(this->config());
  testing::OverlapProbe probe;
  std::atomic<int> finished{0};
  std::atomic<std::uint64_t> regions{0};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<bool> first_back{false};

  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      interpreter.run(i % 2 ? Role::io : Role::cpu, [&](auto& t) {
        // Start together, so that the threads really meet at the lock.
        t.allow_threads([&] {
          ready.fetch_add(1);
          while (!go.load()) std::this_thread::yield();
        });
        regions.fetch_add(1);
        // The first one back keeps the lock for a while without a check point (a C call that
        // does not release it), so the others find it held even on one busy core.
        if (!first_back.exchange(true)) std::this_thread::sleep_for(20ms);
        for (int round = 0; round < kRounds; ++round) {
          // Between two check points only the holder runs (a check point may hand the lock
          // over, so the section must not contain one).
          probe.pass(50);
          t.bytecodes(6);
          if (round % 4 == i % 4) {
            t.allow_threads([] { std::this_thread::yield(); });
            regions.fetch_add(1);
          }
        }
      });
      finished.fetch_add(1);
    });
  }
  while (ready.load() < kThreads) std::this_thread::yield();
  go = true;
  for (auto& th : threads) th.join();

  EXPECT_EQ(finished.load(), kThreads);
  if constexpr (TypeParam::kExclusive) {
    EXPECT_EQ(probe.max_inside(), 1) << "two threads held the lock at once";
  }

  const auto stats = interpreter.stats();
  const auto total = stats.total();
  // One acquisition at entry, one after every blocking region, one after every periodic or
  // forced release; nothing else.
  EXPECT_EQ(total.acquisitions,
            kThreads + regions.load() + total.periodic_releases + total.forced_switches);
  EXPECT_LE(total.contended_acquisitions, total.acquisitions);
  EXPECT_LE(total.holder_switches, total.acquisitions);
  EXPECT_LE(total.forced_switches, total.drop_requests + kThreads)
      << "more forced drops than requests";
  std::uint64_t waits = 0, holds = 0, role_threads = 0;
  for (const auto role : kRoles) {
    waits += stats.of(role).wait_ns.count();
    holds += stats.of(role).hold_ns.count();
    role_threads += stats.of(role).threads;
  }
  EXPECT_EQ(waits, total.acquisitions);
  EXPECT_EQ(holds, total.acquisitions) << "every acquisition is released exactly once";
  EXPECT_EQ(role_threads, static_cast<std::uint64_t>(kThreads));
  EXPECT_EQ(stats.of(Role::io).threads, kThreads / 2u);

  if constexpr (!TypeParam::kExclusive) {
    EXPECT_EQ(total.contended_acquisitions, 0u);
    EXPECT_EQ(total.holder_switches, 0u);
    EXPECT_EQ(total.periodic_releases + total.drop_requests + total.forced_switches, 0u);
  } else {
    EXPECT_GT(total.contended_acquisitions, 0u) << "8 threads never met at the lock?";
    EXPECT_GT(total.holder_switches, 0u);
  }
}

TYPED_TEST(PolicyContractTest, ExceptionInBodyReleasesTheLock) {
  Interpreter interpreter(this->config());
  EXPECT_THROW(interpreter.run(Role::main,
                               [](auto& t) {
                                 t.bytecodes(5);
                                 throw std::runtime_error("boom");
                               }),
               std::runtime_error);
  EXPECT_THROW(interpreter.run(Role::io,
                               [](auto& t) {
                                 t.allow_threads(
                                     []() -> int { throw std::runtime_error("syscall failed"); });
                               }),
               std::runtime_error);
  // Another thread can still take the lock: nothing was left held.
  bool ran = false;
  std::thread other([&] { interpreter.run(Role::io, [&](auto&) { ran = true; }); });
  other.join();
  EXPECT_TRUE(ran);
  const auto total = interpreter.stats().total();
  EXPECT_EQ(interpreter.stats().of(Role::io).hold_ns.count(),
            interpreter.stats().of(Role::io).wait_ns.count());
  EXPECT_GE(total.acquisitions, 4u);
}

TYPED_TEST(PolicyContractTest, StatsAreReadableWhileThreadsRun) {
  Interpreter interpreter(this->config());
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    interpreter.run(Role::cpu, [&](auto& t) {
      while (!stop.load()) t.bytecodes(10);
    });
  });
  std::uint64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    const auto s = interpreter.stats();
    EXPECT_GE(s.total().acquisitions, last);
    last = s.total().acquisitions;
    std::this_thread::sleep_for(1ms);
  }
  stop = true;
  worker.join();
  EXPECT_GE(interpreter.stats().total().acquisitions, 1u);
}

}  // namespace
}  // namespace gilcore
