#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "gilcore/fib.hpp"
#include "gilcore/interpreter.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;

Py2Gil::Config py2(int check_interval) { return {.check_interval = check_interval}; }

TEST(Python2GilTest, TickerIsSharedByAllThreads) {
  Py2Gil gil(py2(10));
  ThreadState a(Role::cpu, 1), b(Role::io, 2);
  gil.acquire(a);
  gil.check_point(a);  // the ticker starts at 0, as _Py_Ticker: the first tick wraps it
  EXPECT_EQ(gil.ticker(), 10);
  for (int i = 0; i < 4; ++i) gil.check_point(a);
  EXPECT_EQ(gil.ticker(), 6);
  gil.release(a);

  // Another thread continues from where the first one left the ticker.
  gil.acquire(b);
  EXPECT_EQ(gil.ticker(), 6);
  for (int i = 0; i < 3; ++i) gil.check_point(b);
  EXPECT_EQ(gil.ticker(), 3);
  gil.release(b);
}

TEST(Python2GilTest, TickerWrapsAtCheckIntervalWithAReleaseAndReacquire) {
  Py2Gil gil(py2(5));
  ThreadState a(Role::cpu, 1);
  gil.acquire(a);
  gil.check_point(a);  // wrap from the initial 0
  EXPECT_EQ(a.counters().get(Counter::periodic_releases), 1u);
  for (int i = 0; i < 5; ++i) gil.check_point(a);  // 5 -> 0, no wrap yet
  EXPECT_EQ(gil.ticker(), 0);
  EXPECT_EQ(a.counters().get(Counter::periodic_releases), 1u);
  gil.check_point(a);  // 0 -> -1: wrap, release and re-acquire
  EXPECT_EQ(gil.ticker(), 5);
  EXPECT_EQ(a.counters().get(Counter::periodic_releases), 2u);
  EXPECT_TRUE(a.holds());
  // Alone, the releaser always gets the lock straight back: uncontended, no switch.
  EXPECT_EQ(a.counters().get(Counter::acquisitions), 3u);
  EXPECT_EQ(a.counters().get(Counter::contended_acquisitions), 0u);
  EXPECT_EQ(a.counters().get(Counter::holder_switches), 1u);
  gil.release(a);
}

TEST(Python2GilTest, CpuThreadAndIoThreadBothMakeProgress) {
  InterpreterConfig c;
  c.lock = LockConfig::for_policy<Py2Gil>();
  c.lock.of<Py2Gil>() = py2(100);
  Interpreter interpreter(c);
  std::atomic<bool> stop{false};
  FibWorkload fib(20, c.bytecodes_per_call);
  std::atomic<int> io_rounds{0};

  std::thread cpu([&] { interpreter.run(Role::cpu, [&](auto& t) { fib.run(t, stop); }); });
  std::thread io([&] {
    interpreter.run(Role::io, [&](auto& t) {
      while (!stop.load()) {
        t.allow_threads([] { std::this_thread::sleep_for(200us); });
        t.bytecodes(20);
        io_rounds.fetch_add(1);
      }
    });
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while ((io_rounds.load() < 50 || fib.calls() < 10000) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  stop = true;
  cpu.join();
  io.join();
  EXPECT_GE(io_rounds.load(), 50);
  EXPECT_GE(fib.calls(), 10000u);
  const auto s = interpreter.stats();
  EXPECT_GT(s.of(Role::cpu).counters.periodic_releases, 0u);
  EXPECT_GT(s.of(Role::io).counters.contended_acquisitions, 0u);
}

}  // namespace
}  // namespace gilcore
