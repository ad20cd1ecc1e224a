// The convoy signature at library level: a thread that blocks 1 ms outside the lock and then takes
// it again, next to one fib thread. Under py3 it waits for a drop request every time (about one
// interval); under py2 the fib thread's periodic releases let it in within microseconds.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "gilcore/fib.hpp"
#include "gilcore/interpreter.hpp"
#include "sanitizer.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;

convoy::Histogram reacquire_waits(PolicyKind kind) {
  InterpreterConfig c;
  c.lock.policy = kind;
  c.lock.of<Py3Gil>().switch_interval = 2ms;
  Interpreter interpreter(c);
  std::atomic<bool> stop{false};
  FibWorkload fib(25, c.bytecodes_per_call);
  std::thread cpu([&] { interpreter.run(Role::cpu, [&](auto& t) { fib.run(t, stop); }); });
  while (fib.calls() == 0) std::this_thread::sleep_for(100us);  // the fib thread holds the lock

  interpreter.run(Role::io, [&](auto& t) {
    for (int i = 0; i < 40; ++i) {
      t.allow_threads([&] {
        const auto before = fib.calls();
        std::this_thread::sleep_for(1ms);
        // On a loaded machine the fib thread may not have been scheduled yet; the experiment
        // is about a lock held by a running CPU thread, so wait until it has run.
        const auto cap = std::chrono::steady_clock::now() + 1s;
        while (fib.calls() == before && std::chrono::steady_clock::now() < cap)
          std::this_thread::yield();
      });
      t.bytecodes(20);
    }
  });
  stop = true;
  cpu.join();
  const auto waits = interpreter.stats().of(Role::io).wait_ns;
  std::printf("%s: re-acquire wait p50 %.1f us, p90 %.1f us, max %.1f us\n",
              std::string(to_string(kind)).c_str(), static_cast<double>(waits.percentile(50)) / 1e3,
              static_cast<double>(waits.percentile(90)) / 1e3,
              static_cast<double>(waits.max()) / 1e3);
  return waits;
}

TEST(ConvoySignatureTimingTest, Python3WaitsAboutAnIntervalForEveryReacquire) {
  const auto waits = reacquire_waits(kind_of<Py3Gil>());
  EXPECT_GE(waits.count(), 41u);
  EXPECT_GE(waits.percentile(50), 1'000'000u) << "median re-acquire wait under py3 at 2 ms";
}

TEST(ConvoySignatureTimingTest, Python2ReacquiresWithinMicroseconds) {
  if (convoy::testing::kThreadSanitizer) {
    // py2's hand-off is a race between the woken waiter and the holder's next sem_trywait, and
    // ThreadSanitizer's interception of the semaphore slows the waiter's side so much that the
    // holder wins for milliseconds (5-15 ms medians here): its latency is measured in the other
    // builds. The run itself stays, for the race detector.
    (void)reacquire_waits(kind_of<Py2Gil>());
    GTEST_SKIP() << "py2's latency is not meaningful under ThreadSanitizer";
  }
  const auto waits = reacquire_waits(kind_of<Py2Gil>());
  EXPECT_LT(waits.percentile(50), 500'000u) << "median re-acquire wait under py2";
}

TEST(ConvoySignatureTimingTest, NoLockNeverWaits) {
  const auto waits = reacquire_waits(kind_of<NoGil>());
  EXPECT_LT(waits.percentile(50), 500'000u);
  EXPECT_EQ(waits.max(), 0u);
}

}  // namespace
}  // namespace gilcore
