#include "convoy/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace convoy {
namespace {

double as_double(std::uint64_t v) { return static_cast<double>(v); }

// The same rank rule as Histogram::percentile, on the samples sorted.
std::uint64_t exact_percentile(std::vector<std::uint64_t> v, double p) {
  std::sort(v.begin(), v.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(v.size()) - 1e-9);
  return v[static_cast<std::size_t>(std::max(1.0, rank)) - 1];
}

std::vector<std::uint64_t> lognormal_samples(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  // Median ~ 20 us with a heavy tail up to tens of milliseconds, like a loopback run.
  std::lognormal_distribution<double> dist(std::log(20'000.0), 1.2);
  std::vector<std::uint64_t> v(n);
  for (auto& x : v) x = static_cast<std::uint64_t>(std::llround(dist(rng)));
  return v;
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
  EXPECT_EQ(LogBuckets::index(LogBuckets::kHighest - 1), LogBuckets::kCount - 1);
  EXPECT_EQ(LogBuckets::index(LogBuckets::kHighest), LogBuckets::kCount - 1);
  EXPECT_EQ(LogBuckets::index(UINT64_MAX), LogBuckets::kCount - 1);
  EXPECT_EQ(LogBuckets::lower(LogBuckets::kCount - 1) + LogBuckets::width(LogBuckets::kCount - 1),
            LogBuckets::kHighest);
}

TEST(LogBucketsTest, BucketsAreAtMostOneSixtyFourthOfTheirValueAndAdjacent) {
  EXPECT_EQ(LogBuckets::lower(0), 0u);
  for (std::size_t b = 0; b < LogBuckets::kSub; ++b) ASSERT_EQ(LogBuckets::width(b), 1u);
  for (std::size_t b = LogBuckets::kSub; b < LogBuckets::kCount - 1; ++b) {
    ASSERT_LE(as_double(LogBuckets::width(b)) / as_double(LogBuckets::lower(b)), 1.0 / 64 + 1e-12);
    ASSERT_EQ(LogBuckets::lower(b) + LogBuckets::width(b), LogBuckets::lower(b + 1));
  }
}

// At least the precision of both histograms this one replaced: the lock's 1/64 (1.6 %) and the
// client's log axis (0.995 %). And the bound is tight: some bucket's midpoint is that far off.
TEST(LogBucketsTest, RelativeErrorBoundIsBelowOnePercentAndTight) {
  EXPECT_LT(LogBuckets::kRelativeError, 0.01);
  EXPECT_DOUBLE_EQ(LogBuckets::kRelativeError, 1.0 / 128);
  double worst = 0;
  for (std::size_t b = 1; b < LogBuckets::kCount; ++b) {
    const auto lower = as_double(LogBuckets::lower(b));
    const auto last = lower + as_double(LogBuckets::width(b)) - 1;
    const auto mid = as_double(LogBuckets::midpoint(b));
    worst = std::max({worst, (mid - lower) / lower, (last - mid) / last});
  }
  EXPECT_LE(worst, LogBuckets::kRelativeError + 1e-12);
  EXPECT_GT(worst, 0.99 * LogBuckets::kRelativeError);
}

TEST(HistogramTest, PercentilesMatchExactPercentilesWithinOnePercent) {
  const auto samples = lognormal_samples(200'000, 7);
  Histogram h;
  for (const auto s : samples) h.record(s);
  ASSERT_EQ(h.count(), samples.size());
  for (const double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const auto exact = as_double(exact_percentile(samples, p));
    EXPECT_NEAR(as_double(h.percentile(p)), exact, 0.01 * exact) << "p" << p;
  }
  EXPECT_EQ(h.percentile(100), *std::max_element(samples.begin(), samples.end()));
  EXPECT_EQ(h.percentile(0), *std::min_element(samples.begin(), samples.end()));
  EXPECT_EQ(h.max(), *std::max_element(samples.begin(), samples.end()));
  EXPECT_EQ(h.min(), *std::min_element(samples.begin(), samples.end()));
}

TEST(HistogramTest, EveryValueInRangeIsReadBackWithinTheBound) {
  // Between a smaller and a larger value, the median (rank 2 of 3) is read from v's bucket alone.
  for (double v = 1; v < as_double(LogBuckets::kHighest); v *= 1.013) {
    const auto value = static_cast<std::uint64_t>(std::llround(v));
    Histogram h;
    h.record(0);
    h.record(value);
    h.record(4 * LogBuckets::kHighest);
    const auto got = as_double(h.percentile(50));
    EXPECT_LE(std::fabs(got - as_double(value)) / as_double(value),
              LogBuckets::kRelativeError + 1e-9)
        << value;
  }
}

TEST(HistogramTest, ExactStatisticsBesideTheBuckets) {
  Histogram h;
  for (const std::uint64_t v : {10'000, 20'000, 30'000, 40'000}) h.record(v);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.sum(), 100'000u);
  EXPECT_EQ(h.min(), 10'000u);
  EXPECT_EQ(h.max(), 40'000u);
  EXPECT_DOUBLE_EQ(h.mean(), 25'000);
  EXPECT_NEAR(h.stddev(), std::sqrt(125'000'000.0), 1e-6);
  Histogram repeated;
  repeated.record(10'000, 3);
  repeated.record(50'000);
  EXPECT_EQ(repeated.count(), 4u);
  EXPECT_DOUBLE_EQ(repeated.mean(), 20'000);
  EXPECT_NEAR(repeated.stddev(), std::sqrt(300'000'000.0), 1e-6);
}

TEST(HistogramTest, NegativeSignedValuesCountAsZero) {
  Histogram h;
  h.record_signed(-5);
  h.record_signed(7);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 7u);
}

TEST(HistogramTest, EmptyHistogramReportsZero) {
  const Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.stddev(), 0);
  EXPECT_TRUE(h.buckets().empty());
  EXPECT_EQ(nlohmann::json(h)["count"], 0);
}

TEST(HistogramTest, ValuesBeyondThePrecisionReportTheExactExtremes) {
  Histogram h;
  h.record(3);                                 // a bucket of its own
  h.record(50'000);                            // in a 1/64 wide bucket
  h.record(3 * LogBuckets::kHighest + 12345);  // in the last, open-ended bucket
  EXPECT_EQ(h.percentile(0), 3u);
  EXPECT_NEAR(as_double(h.percentile(50)), 50'000, 500);
  EXPECT_EQ(h.percentile(100), 3 * LogBuckets::kHighest + 12345);
  const auto b = h.buckets();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b.front().lower_ns, 3u);
  EXPECT_EQ(b.front().upper_ns, 4u);
  EXPECT_LE(b[1].lower_ns, 50'000u);
  EXPECT_GT(b[1].upper_ns, 50'000u);
  EXPECT_EQ(b.back().lower_ns, LogBuckets::lower(LogBuckets::kCount - 1));
  EXPECT_EQ(b.back().upper_ns, h.max() + 1);
  for (const auto& x : b) EXPECT_EQ(x.count, 1u);
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  const auto a = lognormal_samples(50'000, 1);
  const auto b = lognormal_samples(30'000, 2);
  Histogram ha;
  Histogram hb;
  Histogram all;
  for (const auto v : a) {
    ha.record(v);
    all.record(v);
  }
  for (const auto v : b) {
    hb.record(v);
    all.record(v);
  }
  Histogram merged;
  merged.merge(ha);
  merged.merge(hb);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.counts(), all.counts());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  EXPECT_NEAR(merged.stddev(), all.stddev(), 1e-6 * all.stddev());
  for (const double p : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(merged.percentile(p), all.percentile(p)) << p;
  }
  std::vector<std::uint64_t> both = a;
  both.insert(both.end(), b.begin(), b.end());
  const auto exact = as_double(exact_percentile(both, 99));
  EXPECT_NEAR(as_double(merged.percentile(99)), exact, 0.01 * exact);
}

TEST(HistogramTest, MergingAnEmptyHistogramChangesNothing) {
  Histogram h;
  h.record(12'345);
  const Histogram empty;
  h.merge(empty);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.min(), 12'345u);
  Histogram target;
  target.merge(h);
  EXPECT_EQ(target.count(), 1u);
  EXPECT_EQ(target.min(), 12'345u);
  EXPECT_EQ(target.max(), 12'345u);
}

TEST(HistogramTest, CumulativeCountAtPercentileCoversTheRank) {
  Histogram h;
  for (std::uint64_t i = 1; i <= 1000; ++i) h.record(i * 1'000);
  const auto at = h.at_percentile(90);
  EXPECT_GE(at.cumulative, 900u);
  EXPECT_LE(at.cumulative, 920u);
  EXPECT_EQ(h.at_percentile(100).cumulative, 1000u);
  EXPECT_EQ(h.at_percentile(100).value_ns, 1'000'000u);
}

TEST(ThreadHistogramTest, SnapshotAddsUp) {
  ThreadHistogram t;
  Histogram expected;
  for (std::uint64_t v = 0; v < 5000; ++v) {
    t.record(v * v);
    expected.record(v * v);
  }
  Histogram got;
  t.add_to(got);
  EXPECT_EQ(got.counts(), expected.counts());
  EXPECT_EQ(got.count(), expected.count());
  EXPECT_EQ(got.sum(), expected.sum());
  EXPECT_EQ(got.max(), expected.max());
  EXPECT_EQ(got.min(), 0u);
  EXPECT_EQ(got.percentile(50), expected.percentile(50));
  // From the bucket midpoints: within the buckets' precision.
  EXPECT_NEAR(got.stddev(), expected.stddev(), 0.01 * expected.stddev());
  const auto j = nlohmann::json(got);
  EXPECT_EQ(j["count"], 5000);
  EXPECT_EQ(j["max_ns"], 4999u * 4999u);
}

TEST(ThreadHistogramTest, SnapshotMinimumIsTheLowerBoundOfTheFirstBucket) {
  ThreadHistogram t;
  t.record(1'000'001);
  t.record(2'000'000);
  Histogram got;
  t.add_to(got);
  EXPECT_EQ(got.min(), LogBuckets::lower(LogBuckets::index(1'000'001)));
  EXPECT_EQ(got.max(), 2'000'000u);
  Histogram none;
  ThreadHistogram().add_to(none);
  EXPECT_EQ(none.count(), 0u);
}

// One writer, one reader taking snapshots meanwhile (the lock's statistics read while threads
// run): every snapshot is a prefix of what the writer recorded, the last one all of it.
TEST(ThreadHistogramTest, SnapshotsWhileTheOwnerRecords) {
  constexpr std::uint64_t kValues = 200'000;
  ThreadHistogram t;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (std::uint64_t v = 0; v < kValues; ++v) t.record(v % 5000);
    done = true;
  });
  std::uint64_t last = 0;
  while (!done.load()) {
    Histogram snap;
    t.add_to(snap);
    EXPECT_GE(snap.count(), last);
    EXPECT_LE(snap.count(), kValues);
    last = snap.count();
  }
  writer.join();
  Histogram final_snapshot;
  t.add_to(final_snapshot);
  EXPECT_EQ(final_snapshot.count(), kValues);
  EXPECT_EQ(final_snapshot.max(), 4999u);
}

TEST(HistogramJsonTest, StatisticsFileFormInIntegerNanoseconds) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.record(v * 1'000);
  const auto j = nlohmann::json(h);
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"count", "mean_ns", "min_ns", "p50_ns", "p90_ns", "p99_ns",
                                         "p999_ns", "max_ns"}));
  EXPECT_EQ(j["count"], 1000);
  EXPECT_TRUE(j["min_ns"].is_number_unsigned());
  EXPECT_TRUE(j["p50_ns"].is_number_unsigned());
  EXPECT_EQ(j["min_ns"], 1'000u);
  EXPECT_EQ(j["max_ns"], 1'000'000u);
  EXPECT_EQ(j["p50_ns"], h.percentile(50));
  EXPECT_EQ(j["p999_ns"], h.percentile(99.9));
  EXPECT_DOUBLE_EQ(j["mean_ns"].get<double>(), 500'500);
}

TEST(HistogramJsonTest, MicrosecondFormWithStddevP9999AndBuckets) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.record(v * 1'000);
  SummaryFormat f;
  f.unit = SummaryFormat::Unit::us;
  f.percentiles = kPercentileKeys.size();
  f.stddev = true;
  f.buckets = true;
  const auto j = summary_json(h, f);
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  EXPECT_EQ(keys,
            (std::set<std::string>{"count", "mean_us", "stddev_us", "min_us", "p50_us", "p90_us",
                                   "p99_us", "p999_us", "p9999_us", "max_us", "buckets"}));
  EXPECT_DOUBLE_EQ(j["min_us"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["max_us"].get<double>(), 1'000.0);
  EXPECT_DOUBLE_EQ(j["p9999_us"].get<double>(), as_double(h.percentile(99.99)) / 1e3);
  EXPECT_NEAR(j["stddev_us"].get<double>(), h.stddev() / 1e3, 1e-9);
  std::uint64_t in_buckets = 0;
  double previous_upper = 0;
  for (const auto& b : j["buckets"]) {
    EXPECT_GE(b.at(0).get<double>(), previous_upper);
    EXPECT_LT(b.at(0).get<double>(), b.at(1).get<double>());
    previous_upper = b.at(1).get<double>();
    in_buckets += b.at(2).get<std::uint64_t>();
  }
  EXPECT_EQ(in_buckets, h.count());
}

struct HgrmRow {
  double value = 0;
  double percentile = 0;
  unsigned long long total = 0;
};

struct Hgrm {
  std::string header;
  std::vector<HgrmRow> rows;
  double mean = -1;
  double stddev = -1;
  double max = -1;
  unsigned long long total = 0;
  std::size_t buckets = 0;
};

Hgrm parse_hgrm(const std::string& text) {
  Hgrm h;
  std::istringstream in(text);
  std::string line;
  std::getline(in, h.header);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("#[Mean", 0) == 0) {
      std::sscanf(line.c_str(), "#[Mean = %lf, StdDeviation = %lf]", &h.mean, &h.stddev);
    } else if (line.rfind("#[Max", 0) == 0) {
      std::sscanf(line.c_str(), "#[Max = %lf, Total count = %llu]", &h.max, &h.total);
    } else if (line.rfind("#[Buckets", 0) == 0) {
      std::sscanf(line.c_str(), "#[Buckets = %zu", &h.buckets);
    } else if (line[0] != '#') {
      HgrmRow r;
      std::istringstream fields(line);
      fields >> r.value >> r.percentile >> r.total;
      h.rows.push_back(r);
    }
  }
  return h;
}

Histogram sample_histogram(std::size_t n) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> dist(std::log(30'000.0), 0.8);
  Histogram h;
  for (std::size_t i = 0; i < n; ++i) h.record(static_cast<std::uint64_t>(std::llround(dist(rng))));
  return h;
}

TEST(HgrmTest, ParsesBackToTheHistogram) {
  const auto h = sample_histogram(100'000);
  std::ostringstream out;
  write_hgrm(out, h);
  const Hgrm parsed = parse_hgrm(out.str());

  EXPECT_NE(parsed.header.find("Value"), std::string::npos);
  EXPECT_NE(parsed.header.find("Percentile"), std::string::npos);
  EXPECT_NE(parsed.header.find("TotalCount"), std::string::npos);
  EXPECT_NE(parsed.header.find("1/(1-Percentile)"), std::string::npos);
  ASSERT_GT(parsed.rows.size(), 50u);
  for (std::size_t i = 1; i < parsed.rows.size(); ++i) {
    EXPECT_GE(parsed.rows[i].value, parsed.rows[i - 1].value) << i;
    EXPECT_GT(parsed.rows[i].percentile, parsed.rows[i - 1].percentile) << i;
    EXPECT_GE(parsed.rows[i].total, parsed.rows[i - 1].total) << i;
  }
  EXPECT_DOUBLE_EQ(parsed.rows.front().percentile, 0.0);
  EXPECT_DOUBLE_EQ(parsed.rows.back().percentile, 1.0);
  EXPECT_EQ(parsed.rows.back().total, h.count());
  EXPECT_NEAR(parsed.rows.back().value, as_double(h.max()) / 1e3, 1e-3);
  for (const auto& r : parsed.rows) {
    if (r.percentile >= 1.0) continue;
    EXPECT_NEAR(r.value, as_double(h.percentile(r.percentile * 100)) / 1e3, 1e-3) << r.percentile;
  }
  EXPECT_NEAR(parsed.mean, h.mean() / 1e3, 1e-3);
  EXPECT_NEAR(parsed.stddev, h.stddev() / 1e3, 1e-3);
  EXPECT_NEAR(parsed.max, as_double(h.max()) / 1e3, 1e-3);
  EXPECT_EQ(parsed.total, h.count());
  EXPECT_EQ(parsed.buckets, LogBuckets::kCount);
  EXPECT_NE(out.str().find("microseconds"), std::string::npos);
}

// A plotter of 1/(1-Percentile) skips the 100 % row (it has no such column), so the rows before
// it must reach the maximum: here a single outlier far above every other value.
TEST(HgrmTest, RowsBelowOneHundredPercentReachTheMaximum) {
  Histogram h;
  for (std::uint64_t i = 0; i < 99'999; ++i) h.record(30'000 + i % 1000);
  h.record(50'000'000);
  std::ostringstream out;
  write_hgrm(out, h);
  std::istringstream in(out.str());
  std::string line;
  double last_plotted = -1;
  double last_inverse = 0;
  while (std::getline(in, line)) {
    double value = 0, percentile = 0, inverse = 0;
    unsigned long long total = 0;
    if (std::sscanf(line.c_str(), "%lf %lf %llu %lf", &value, &percentile, &total, &inverse) == 4) {
      EXPECT_LT(percentile, 1.0) << line;
      last_plotted = value;
      last_inverse = inverse;
    }
  }
  EXPECT_NEAR(last_plotted, as_double(h.max()) / 1e3, 1e-3);
  EXPECT_GT(last_inverse, 1e4);  // past 99.99 %: the one outlier in 100 000
  EXPECT_TRUE(std::isfinite(last_inverse));
}

TEST(HgrmTest, SingleValueHasItsRowAndTheHundredPercentRow) {
  Histogram h;
  h.record(42'000);
  std::ostringstream out;
  write_hgrm(out, h);
  const Hgrm parsed = parse_hgrm(out.str());
  ASSERT_EQ(parsed.rows.size(), 2u);
  EXPECT_NEAR(parsed.rows[0].value, 42.0, 1e-3);
  EXPECT_DOUBLE_EQ(parsed.rows[0].percentile, 0.0);
  EXPECT_DOUBLE_EQ(parsed.rows[1].percentile, 1.0);
  EXPECT_NEAR(parsed.rows[1].value, 42.0, 1e-3);
}

TEST(HgrmTest, EmptyHistogramHasHeaderAndFooterOnly) {
  std::ostringstream out;
  write_hgrm(out, Histogram());
  const Hgrm parsed = parse_hgrm(out.str());
  EXPECT_TRUE(parsed.rows.empty());
  EXPECT_EQ(parsed.total, 0u);
  EXPECT_EQ(parsed.max, 0.0);
}

}  // namespace
}  // namespace convoy
