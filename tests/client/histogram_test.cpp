#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "convoy/client/histogram.hpp"

namespace convoy::client {
namespace {

// The same rank rule as LatencyHistogram::percentile, on the sorted samples.
double exact_percentile(std::vector<std::int64_t> sorted, double p) {
  std::sort(sorted.begin(), sorted.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()) - 1e-9);
  const auto index = static_cast<std::size_t>(std::max(1.0, rank)) - 1;
  return static_cast<double>(sorted[index]);
}

std::vector<std::int64_t> lognormal_samples(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  // Median ~ 20 us with a heavy tail up to tens of milliseconds, like a loopback run.
  std::lognormal_distribution<double> dist(std::log(20'000.0), 1.2);
  std::vector<std::int64_t> v(n);
  for (auto& x : v) x = std::llround(dist(rng));
  return v;
}

TEST(LatencyHistogramTest, RelativeErrorBoundIsBelowOnePercent) {
  EXPECT_LT(LatencyHistogram::kRelativeError, 0.01);
  EXPECT_GT(LatencyHistogram::kRelativeError, 0.009);
}

TEST(LatencyHistogramTest, PercentilesMatchExactPercentilesWithinOnePercent) {
  const auto samples = lognormal_samples(200'000, 7);
  LatencyHistogram h;
  for (const auto s : samples) h.record(s);
  ASSERT_EQ(h.count(), samples.size());
  for (const double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const double exact = exact_percentile(samples, p);
    EXPECT_NEAR(h.percentile(p), exact, 0.01 * exact) << "p" << p;
  }
  EXPECT_EQ(h.percentile(100),
            static_cast<double>(*std::max_element(samples.begin(), samples.end())));
  EXPECT_EQ(h.percentile(0),
            static_cast<double>(*std::min_element(samples.begin(), samples.end())));
}

TEST(LatencyHistogramTest, EveryValueInRangeIsReadBackWithinTheBound) {
  // Between a smaller and a larger value, the median (rank 2 of 3) is read from v's bin alone.
  for (double v = 1'000; v < 1e11; v *= 1.013) {
    LatencyHistogram h;
    h.record(500);
    h.record(std::llround(v));
    h.record(200'000'000'000);
    const double got = h.percentile(50);
    EXPECT_LE(std::fabs(got - std::round(v)) / std::round(v),
              LatencyHistogram::kRelativeError + 1e-9)
        << v;
  }
}

TEST(LatencyHistogramTest, ExactStatisticsBesideTheBins) {
  LatencyHistogram h;
  for (const std::int64_t v : {10'000, 20'000, 30'000, 40'000}) h.record(v);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_DOUBLE_EQ(h.min(), 10'000);
  EXPECT_DOUBLE_EQ(h.max(), 40'000);
  EXPECT_DOUBLE_EQ(h.mean(), 25'000);
  EXPECT_NEAR(h.stddev(), std::sqrt(125'000'000.0), 1e-6);
}

TEST(LatencyHistogramTest, EmptyHistogramReportsZero) {
  const LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.stddev(), 0);
  EXPECT_TRUE(h.buckets().empty());
}

TEST(LatencyHistogramTest, ValuesOutsideTheRangeReportTheExactExtremes) {
  LatencyHistogram h;
  h.record(300);              // below 1 us
  h.record(50'000);           // in range
  h.record(250'000'000'000);  // above 100 s
  EXPECT_DOUBLE_EQ(h.percentile(0), 300);
  EXPECT_NEAR(h.percentile(50), 50'000, 500);
  EXPECT_DOUBLE_EQ(h.percentile(100), 250'000'000'000);
  const auto b = h.buckets();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b.front().upper_ns, LatencyHistogram::kLowestNs);
  EXPECT_EQ(b.back().lower_ns, LatencyHistogram::kHighestNs);
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  const auto a = lognormal_samples(50'000, 1);
  const auto b = lognormal_samples(30'000, 2);
  LatencyHistogram ha;
  LatencyHistogram hb;
  LatencyHistogram all;
  for (const auto v : a) {
    ha.record(v);
    all.record(v);
  }
  for (const auto v : b) {
    hb.record(v);
    all.record(v);
  }
  LatencyHistogram merged;
  merged.merge(ha);
  merged.merge(hb);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_NEAR(merged.mean(), all.mean(), 1e-6 * all.mean());
  EXPECT_NEAR(merged.stddev(), all.stddev(), 1e-6 * all.stddev());
  for (const double p : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(merged.percentile(p), all.percentile(p)) << p;
  }
  std::vector<std::int64_t> both = a;
  both.insert(both.end(), b.begin(), b.end());
  EXPECT_NEAR(merged.percentile(99), exact_percentile(both, 99), 0.01 * exact_percentile(both, 99));
}

TEST(LatencyHistogramTest, MergingAnEmptyHistogramChangesNothing) {
  LatencyHistogram h;
  h.record(12'345);
  const LatencyHistogram empty;
  h.merge(empty);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_DOUBLE_EQ(h.min(), 12'345);
  LatencyHistogram target;
  target.merge(h);
  EXPECT_EQ(target.count(), 1u);
  EXPECT_DOUBLE_EQ(target.max(), 12'345);
}

TEST(LatencyHistogramTest, CumulativeCountAtPercentileCoversTheRank) {
  LatencyHistogram h;
  for (int i = 1; i <= 1000; ++i) h.record(i * 1'000);
  const auto at = h.at_percentile(90);
  EXPECT_GE(at.cumulative, 900u);
  EXPECT_LE(at.cumulative, 920u);
  EXPECT_EQ(h.at_percentile(100).cumulative, 1000u);
}

}  // namespace
}  // namespace convoy::client
