#include "convoy/duration.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>
#include <string>

namespace convoy {
namespace {

using namespace std::chrono_literals;

TEST(DurationTest, ANumberAndAUnit) {
  EXPECT_EQ(parse_duration("250ns"), 250ns);
  EXPECT_EQ(parse_duration("500us"), 500us);
  EXPECT_EQ(parse_duration("1.5ms"), 1500us);
  EXPECT_EQ(parse_duration("2s"), 2s);
  EXPECT_EQ(parse_duration("1m"), 60s);
  EXPECT_EQ(parse_duration("0.2s"), 200ms);
  EXPECT_EQ(parse_duration(" 10ms "), 10ms);
  EXPECT_EQ(parse_duration("0s"), 0ns);
}

TEST(DurationTest, OnlyZeroGoesWithoutAUnit) {
  EXPECT_EQ(parse_duration("0"), 0ns);
  EXPECT_EQ(parse_duration("0.0"), 0ns);
  EXPECT_FALSE(parse_duration("10"));
  EXPECT_FALSE(parse_duration("1.5"));
}

TEST(DurationTest, AnythingElseIsRefused) {
  for (const auto* text :
       {"",    " ",    "ms", "-1ms", "+1ms", "1e3us", "1.ms",  ".5ms", "1..5ms", "5 ms",
        "5MS", "5sec", "5h", "5µs",  "5min", "1ms2",  "0x10s", "nan",  "inf",    "99999999999m"}) {
    EXPECT_FALSE(parse_duration(text)) << "'" << text << "'";
  }
}

TEST(DurationTest, TheErrorSaysABareNumberNeedsAUnit) {
  EXPECT_EQ(duration_error("30"),
            "'30' is not a duration (it needs a unit: 30s, 30ms, 30us; only 0 goes without one)");
  EXPECT_EQ(duration_error(" 0.5 "),
            "' 0.5 ' is not a duration (it needs a unit: 0.5s, 0.5ms, "
            "0.5us; only 0 goes without one)");
  EXPECT_EQ(duration_error("soon"),
            "'soon' is not a duration (a number and a unit: 500us, 2ms, 10s)");
  const auto long_one = duration_error(std::string(100, 'x'));
  EXPECT_NE(long_one.find("'" + std::string(40, 'x') + "...'"), std::string::npos) << long_one;
  EXPECT_EQ(long_one.find('\n'), std::string::npos);
}

TEST(DurationTest, ExactFormatReadsBack) {
  for (const std::chrono::nanoseconds d : std::initializer_list<std::chrono::nanoseconds>{
           0ns, 1ns, 1500ns, 5ms, 500us, 2s, 90s, 1234567ns}) {
    const auto text = format_exact_duration(d);
    EXPECT_EQ(parse_duration(text), d) << text;
  }
  EXPECT_EQ(format_exact_duration(1500us), "1500us");
  EXPECT_EQ(format_exact_duration(0ns), "0s");
}

TEST(DurationTest, ShortFormatPicksTheLargestUnit) {
  EXPECT_EQ(format_duration(5ms), "5ms");
  EXPECT_EQ(format_duration(1500ns), "1.5us");
  EXPECT_EQ(format_duration(120s), "2m");
  EXPECT_EQ(format_duration(0ns), "0ns");
}

}  // namespace
}  // namespace convoy
