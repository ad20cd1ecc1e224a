#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gilcore/fib.hpp"
#include "gilcore/interpreter.hpp"
#include "policy_support.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;
using testing::every_policy_kind;

TEST(InterpreterTest, DispatchesToTheConfiguredPolicy) {
  for (const auto kind : every_policy_kind()) {
    InterpreterConfig c;
    c.lock.policy = kind;
    Interpreter interpreter(c);
    PolicyKind seen{};
    interpreter.run(Role::main, [&](auto& t) {
      seen = kind_of<std::remove_reference_t<decltype(t.policy())>>();
      EXPECT_TRUE(t.state().holds());
      t.allow_threads([&] { EXPECT_FALSE(t.state().holds()); });
      EXPECT_TRUE(t.state().holds());
    });
    EXPECT_EQ(seen, kind);
  }
}

TEST(InterpreterTest, AllowThreadsReturnsTheSyscallResult) {
  Interpreter interpreter(InterpreterConfig{});
  interpreter.run(Role::io, [](auto& t) { EXPECT_EQ(t.allow_threads([] { return 42; }), 42); });
}

TEST(InterpreterTest, BytecodeCostIsCalibrated) {
  InterpreterConfig c;
  c.lock.policy = kind_of<NoGil>();
  c.bytecode_cost = 1us;
  Interpreter interpreter(c);
  EXPECT_GT(interpreter.calibration().spin_ns_per_turn, 0.0);
  EXPECT_GT(interpreter.calibration().bytecode_turns, 0u);
  // 2000 bytecodes of 1 us: at least about 2 ms of work (it can only be slower, never faster,
  // than calibrated, except for a generous margin).
  const auto t0 = std::chrono::steady_clock::now();
  interpreter.run(Role::cpu, [](auto& t) { t.bytecodes(2000); });
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1ms);
}

TEST(InterpreterTest, FibComputesFibonacciAndCountsCalls) {
  InterpreterConfig c;
  c.lock.policy = kind_of<Py3Gil>();
  c.bytecode_cost = 0ns;
  Interpreter interpreter(c);
  FibWorkload fib(15, 1);
  std::atomic<bool> stop{false};
  std::thread watcher([&] {
    while (fib.last_result() == 0) std::this_thread::sleep_for(100us);
    stop = true;
  });
  interpreter.run(Role::cpu, [&](auto& t) { fib.run(t, stop); });
  watcher.join();
  EXPECT_EQ(fib.last_result(), 610u);
  EXPECT_GE(fib.calls(), 1973u);  // calls of one fib(15)
}

TEST(InterpreterTest, StatsJsonHasPolicyConfigCalibrationAndCounters) {
  InterpreterConfig c;
  c.lock.policy = kind_of<Py2Gil>();
  Interpreter interpreter(c);
  interpreter.run(Role::io, [](auto& t) { t.allow_threads([] {}); });
  const auto j = interpreter.stats_json();
  EXPECT_EQ(j["policy"], "py2");
  EXPECT_EQ(j["config"]["lock"]["check_interval"], 100);
  EXPECT_TRUE(j["calibration"].contains("spin_ns_per_turn"));
  EXPECT_EQ(j["stats"]["total"]["acquisitions"], 2);
  EXPECT_EQ(j["stats"]["roles"]["io"]["threads"], 1);
  EXPECT_EQ(j["stats"]["roles"]["io"]["wait"]["count"], 2);
  EXPECT_EQ(j["stats"]["roles"]["cpu"]["threads"], 0);
}

}  // namespace
}  // namespace gilcore
