#include "convoy/duration.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>

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

TEST(DurationTest, ABareNumberInAGivenUnitForTheOptionsThatTakeOne) {
  EXPECT_EQ(parse_duration("5", 1e9), 5s);
  EXPECT_EQ(parse_duration("1500", 1), 1500ns);
  EXPECT_EQ(parse_duration("0.5", 1e9), 500ms);
  EXPECT_EQ(parse_duration("2ms", 1), 2ms);
  for (const auto* text : {"", "-1", "1e3", "5min", "5µs", ".5"}) {
    EXPECT_FALSE(parse_duration(text, 1e9)) << "'" << text << "'";
  }
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
