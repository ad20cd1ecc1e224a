#include <chrono>
#include <stdexcept>

#include <gtest/gtest.h>

#include "gilcore/config.hpp"
#include "gilcore/interpreter.hpp"
#include "policy_support.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;
using testing::every_policy_kind;

TEST(ConfigTest, DefaultsAreTheInterpretersOwn) {
  const InterpreterConfig c;
  EXPECT_EQ(c.lock.of<Py3Gil>().switch_interval, 5ms);
  EXPECT_EQ(c.lock.of<Py2Gil>().check_interval, 100);
  EXPECT_TRUE(c.lock.of<Py3Gil>().force_switching);
  EXPECT_EQ(c.bytecode_cost, 25ns);
  EXPECT_EQ(c.bytecodes_per_call, 10);
  EXPECT_NO_THROW(c.validate());
}

TEST(ConfigTest, PolicyNamesRoundTrip) {
  for (const auto kind : every_policy_kind()) {
    EXPECT_EQ(parse_policy(to_string(kind)), kind);
  }
  EXPECT_FALSE(parse_policy("py4").has_value());
  EXPECT_FALSE(parse_policy("").has_value());
  EXPECT_FALSE(parse_policy("PY3").has_value());
}

TEST(ConfigTest, RejectsZeroAndNegativeIntervals) {
  LockConfig c;
  c.of<Py3Gil>().switch_interval = 0ns;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c.of<Py3Gil>().switch_interval = -5ms;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c.of<Py3Gil>().switch_interval = 5ms;
  c.of<Py2Gil>().check_interval = 0;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c.of<Py2Gil>().check_interval = -100;
  EXPECT_THROW(c.validate(), std::invalid_argument);
}

TEST(ConfigTest, ErrorMessageNamesTheSetting) {
  LockConfig c;
  c.of<Py3Gil>().switch_interval = 0ns;
  try {
    c.validate();
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("py3 switch-interval must be in [1us, 3600s], got 0s"),
              std::string::npos)
        << e.what();
  }
}

TEST(ConfigTest, RejectsBadCostModel) {
  InterpreterConfig c;
  c.bytecodes_per_call = 0;
  EXPECT_THROW(c.validate(), std::invalid_argument);
  c.bytecodes_per_call = 10;
  c.bytecode_cost = -1ns;
  EXPECT_THROW(c.validate(), std::invalid_argument);
}

TEST(ConfigTest, InterpreterRefusesInvalidConfig) {
  InterpreterConfig c;
  c.lock.of<Py2Gil>().check_interval = 0;
  EXPECT_THROW(Interpreter{c}, std::invalid_argument);
}

using MisuseDeathTest = ::testing::Test;

TEST(MisuseDeathTest, ReleaseWithoutHoldingAbortsNamingTheBug) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  for (const auto kind : every_policy_kind()) {
    InterpreterConfig c;
    c.lock.policy = kind;
    Interpreter interpreter(c);
    ThreadState state(Role::io, 1);
    std::visit(
        [&](auto& policy) {
          EXPECT_DEATH(policy.release(state),
                       "gilcore: bug: release\\(\\) by a thread that does not hold the lock");
        },
        interpreter.policy());
  }
}

TEST(MisuseDeathTest, AcquireTwiceAbortsNamingTheBug) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  InterpreterConfig c;
  c.lock.policy = kind_of<NoGil>();
  Interpreter interpreter(c);
  ThreadState state(Role::io, 1);
  auto& policy = std::get<NoGil>(interpreter.policy());
  policy.acquire(state);
  EXPECT_DEATH(policy.acquire(state), "already holds the lock");
  policy.release(state);
}

}  // namespace
}  // namespace gilcore
