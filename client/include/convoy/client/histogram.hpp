#pragma once

#include <cstdint>
#include <tuple>
#include <vector>

#include <boost/histogram/axis/regular.hpp>
#include <boost/histogram/histogram.hpp>
#include <boost/histogram/storage_adaptor.hpp>

namespace convoy::client {

/// Notes about the implementation
///
/// A Boost.Histogram regular axis with a log transform over [1 us, 100 s], in nanoseconds:
/// kBins bins of equal width in log space, so each bin spans a ratio r = (1e8)^(1/kBins) ~ 1.0200.
/// A percentile is read from the bin's midpoint on the log axis (the geometric mean of its edges)
/// and clamped to the exact observed [min, max], so its relative error is at most sqrt(r) - 1
/// ~ 0.995 % (kRelativeError). Values below 1 us or above 100 s fall into the under/overflow bins
/// and are reported as the exact min or max. Count, min, max, mean and standard deviation are
/// exact (kept beside the bins). Histograms merge by adding bins: one per thread, merged at the
/// end, never averaged percentiles. Not thread-safe: one owner at a time.
class LatencyHistogram {
 public:
  static constexpr double kLowestNs = 1e3;
  static constexpr double kHighestNs = 1e11;
  static constexpr unsigned kBins = 931;  ///< ceil(ln(1e8) / ln(1.02))
  static const double kRelativeError;     ///< sqrt(r) - 1, the bound on any percentile's error

  /// An empty histogram (about 7.5 KB of bins).
  LatencyHistogram();

  /// Adds one value (nanoseconds; values < 1 ns count as 1 ns).
  void record(std::int64_t ns);
  /// Adds every value of `other` to this histogram.
  void merge(const LatencyHistogram& other);

  /// Values recorded (exact).
  std::uint64_t count() const { return count_; }
  /// Exact extremes and moments, in nanoseconds; 0 when empty.
  double min() const { return count_ ? min_ : 0; }
  double max() const { return count_ ? max_ : 0; }
  double mean() const { return count_ ? mean_ : 0; }
  /// Population standard deviation (exact, merged with Chan's formula); 0 when empty.
  double stddev() const;

  /// The value at percentile p in [0, 100] (ns): the smallest recorded value whose rank is
  /// >= ceil(p/100 * count), read from its bin's midpoint (the first and last rank: the exact min
  /// and max); 0 when empty.
  double percentile(double p) const;

  /// percentile(p) and the number of values in bins up to and including that value's bin.
  struct AtPercentile {
    double value_ns = 0;
    std::uint64_t cumulative = 0;
  };
  AtPercentile at_percentile(double p) const;

  /// One bin: [lower_ns, upper_ns) and how many values fell into it.
  struct Bucket {
    double lower_ns = 0;
    double upper_ns = 0;
    std::uint64_t count = 0;
  };
  /// The non-empty bins in increasing order (underflow from 0, overflow up to max()).
  std::vector<Bucket> buckets() const;

 private:
  using Axis = boost::histogram::axis::regular<double, boost::histogram::axis::transform::log,
                                               boost::histogram::axis::null_type>;
  using Hist =
      boost::histogram::histogram<std::tuple<Axis>, boost::histogram::dense_storage<std::uint64_t>>;

  double bin_value(int index) const;

  Hist hist_;
  std::uint64_t count_ = 0;
  double min_ = 0;
  double max_ = 0;
  double mean_ = 0;
  double m2_ = 0;  // sum of squared deviations from the mean (Welford)
};

}  // namespace convoy::client
