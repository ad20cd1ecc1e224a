#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "convoy/client/schedule.hpp"

namespace convoy::client {
namespace {

std::vector<std::int64_t> draw(Schedule& s, std::size_t n) {
  std::vector<std::int64_t> t(n);
  for (auto& x : t) x = s.next();
  return t;
}

double mean_rate(const std::vector<std::int64_t>& t) {
  return static_cast<double>(t.size() - 1) / (static_cast<double>(t.back() - t.front()) / 1e9);
}

TEST(ArrivalScheduleTest, UniformArrivalsAreExactlyOnePeriodApart) {
  Schedule s(20'000, Arrival::uniform, 1, 5'000'000'000);
  const auto t = draw(s, 100'000);
  EXPECT_EQ(t.front(), 5'000'000'000);
  for (std::size_t i = 1; i < t.size(); ++i) ASSERT_EQ(t[i] - t[i - 1], 50'000) << i;
}

TEST(ArrivalScheduleTest, UniformRateDoesNotDriftWithNonIntegerPeriods) {
  Schedule s(3'000, Arrival::uniform, 1, 0);  // 333333.33 ns
  const auto t = draw(s, 300'001);
  EXPECT_NEAR(static_cast<double>(t.back()), 100e9, 1.0);
  EXPECT_NEAR(mean_rate(t), 3'000, 0.02 * 3'000);
}

TEST(ArrivalScheduleTest, PoissonMeanRateIsWithinTwoPercent) {
  for (const std::uint64_t seed : {1u, 2u, 3u, 42u}) {
    Schedule s(20'000, Arrival::poisson, seed, 0);
    const auto t = draw(s, 200'000);
    EXPECT_NEAR(mean_rate(t), 20'000, 0.02 * 20'000) << seed;
  }
}

TEST(ArrivalScheduleTest, PoissonGapsAreExponential) {
  Schedule s(1'000, Arrival::poisson, 9, 0);
  const auto t = draw(s, 200'001);
  double sum = 0;
  double sum2 = 0;
  std::size_t below_mean = 0;
  for (std::size_t i = 1; i < t.size(); ++i) {
    const auto gap = static_cast<double>(t[i] - t[i - 1]);
    ASSERT_GE(gap, 0);
    sum += gap;
    sum2 += gap * gap;
    below_mean += gap < 1e6;
  }
  const double n = static_cast<double>(t.size() - 1);
  const double mean = sum / n;
  const double cv = std::sqrt(sum2 / n - mean * mean) / mean;
  EXPECT_NEAR(cv, 1.0, 0.02);  // exponential: standard deviation equals the mean
  EXPECT_NEAR(static_cast<double>(below_mean) / n, 1 - std::exp(-1.0), 0.01);
}

TEST(ArrivalScheduleTest, SameSeedGivesTheSameSchedule) {
  Schedule a(5'000, Arrival::poisson, 77, 0);
  Schedule b(5'000, Arrival::poisson, 77, 0);
  Schedule c(5'000, Arrival::poisson, 78, 0);
  EXPECT_EQ(draw(a, 1000), draw(b, 1000));
  Schedule a2(5'000, Arrival::poisson, 77, 0);
  EXPECT_NE(draw(a2, 1000), draw(c, 1000));
}

TEST(ArrivalScheduleTest, PhaseShiftsTheUniformStart) {
  Schedule s(1'000, Arrival::uniform, 1, 100, 0.5);
  EXPECT_EQ(s.next(), 100 + 500'000);
  EXPECT_EQ(s.next(), 100 + 1'500'000);
}

TEST(ArrivalScheduleTest, RemainingCountsTheUniformArrivalsOfAWindowExactly) {
  for (const double phase : {0.0, 0.25, 0.5}) {
    SCOPED_TRACE(phase);
    Schedule counted(3'000, Arrival::uniform, 1, 1'000, phase);
    Schedule drawn(3'000, Arrival::uniform, 1, 1'000, phase);
    // After 10 arrivals, count those in [1 ms, 2 s) without drawing them, and by drawing them.
    draw(counted, 10);
    const auto last = draw(drawn, 10).back();
    std::uint64_t expected = 0;
    for (std::int64_t t = drawn.next(); t < 2'000'000'000; t = drawn.next()) {
      if (t >= 1'000'000 && t > last) ++expected;
    }
    EXPECT_EQ(counted.remaining(1'000'000, 2'000'000'000), expected);
  }
  Schedule s(1'000, Arrival::uniform, 1, 0);
  s.next();
  EXPECT_EQ(s.remaining(0, 0), 0u);
  EXPECT_EQ(s.remaining(5'000'000, 1'000'000), 0u);
}

TEST(ArrivalScheduleTest, RemainingDrawsPoissonCountsOfTheRightMean) {
  // 100 windows of 1 s at 1000/s: the counts average 1000, with a standard deviation of ~32.
  double sum = 0;
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    Schedule s(1'000, Arrival::poisson, seed, 0);
    s.next();
    sum += static_cast<double>(s.remaining(0, 1'000'000'000));
  }
  EXPECT_NEAR(sum / 100, 1'000, 15);
}

}  // namespace
}  // namespace convoy::client
