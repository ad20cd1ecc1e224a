#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gilcore/histogram.hpp"

namespace gilcore {
namespace {

std::uint64_t exact_quantile(std::vector<std::uint64_t> v, double q) {
  std::sort(v.begin(), v.end());
  const auto rank = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))));
  return v[rank - 1];
}

TEST(LogBucketsTest, EveryValueFallsInsideItsBucket) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t v = rng() >> (rng() % 40 + 22);
    const auto b = LogBuckets::index(v);
    ASSERT_LT(b, LogBuckets::kCount);
    ASSERT_LE(LogBuckets::lower(b), v);
    ASSERT_LT(v, LogBuckets::lower(b) + LogBuckets::width(b));
  }
}

TEST(LogBucketsTest, BucketsAreAtMostOneThirtySecondOfTheirValue) {
  for (std::size_t b = LogBuckets::kSub; b < LogBuckets::kCount - 1; ++b) {
    ASSERT_LE(static_cast<double>(LogBuckets::width(b)) / static_cast<double>(LogBuckets::lower(b)),
              1.0 / 32 + 1e-12);
    ASSERT_EQ(LogBuckets::lower(b) + LogBuckets::width(b), LogBuckets::lower(b + 1));
  }
}

TEST(HistogramDataTest, QuantilesMatchExactOnesWithinTwoPercent) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(11.0, 1.5);  // median about 60 us
  std::vector<std::uint64_t> samples;
  HistogramData h;
  for (int i = 0; i < 50000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng)) + 1;
    samples.push_back(v);
    h.record(v);
  }
  for (const double q : {0.01, 0.5, 0.9, 0.99, 0.999}) {
    const auto exact = static_cast<double>(exact_quantile(samples, q));
    EXPECT_NEAR(static_cast<double>(h.quantile(q)), exact, exact * 0.02) << "q=" << q;
  }
  EXPECT_EQ(h.count(), samples.size());
  EXPECT_EQ(h.max(), *std::max_element(samples.begin(), samples.end()));
  EXPECT_EQ(h.min(), *std::min_element(samples.begin(), samples.end()));
}

TEST(HistogramDataTest, MergeEqualsRecordingEverything) {
  HistogramData a, b, all;
  for (std::uint64_t v = 1; v < 100000; v += 7) {
    (v % 3 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.counts(), all.counts());
  EXPECT_EQ(a.quantile(0.5), all.quantile(0.5));
  EXPECT_DOUBLE_EQ(a.mean(), all.mean());
}

TEST(HistogramDataTest, EmptyHistogramReportsZeros) {
  const HistogramData h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.quantile(0.5), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(nlohmann::json(h)["count"], 0);
}

TEST(ThreadHistogramTest, SnapshotAddsUp) {
  ThreadHistogram t;
  HistogramData expected;
  for (std::uint64_t v = 0; v < 5000; ++v) {
    t.record(v * v);
    expected.record(v * v);
  }
  HistogramData got;
  t.add_to(got);
  EXPECT_EQ(got.counts(), expected.counts());
  EXPECT_EQ(got.count(), expected.count());
  EXPECT_EQ(got.max(), expected.max());
  const auto j = nlohmann::json(got);
  EXPECT_EQ(j["count"], 5000);
  EXPECT_EQ(j["max_ns"], 4999u * 4999u);
}

}  // namespace
}  // namespace gilcore
