#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <span>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace convoy {

/// Notes about the implementation
///
/// The one latency histogram of convoy: the lock's wait and hold times (gilcore), the server's
/// handling times and the client's round trips all go into these buckets, and every percentile,
/// JSON summary and HdrHistogram-format (.hgrm) table is computed here.
///
/// Log-linear buckets over nanoseconds, HdrHistogram's scheme: values below kSub get a bucket
/// each; above, every power of two is split into kSub equal buckets, so a bucket is at most
/// 1/kSub (1.6 %) of its lower bound wide and a percentile read from its midpoint is within
/// kRelativeError (1/128, 0.78 %) of the value. Values of 2^(kMaxExponent+1) ns (2.4 hours) and
/// more land in the last bucket (their percentiles are clamped to the exact maximum). The index
/// is a few integer instructions, cheap enough for the lock's hot path.
struct LogBuckets {
  static constexpr int kSubBits = 6;
  static constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;
  static constexpr int kMaxExponent = 42;
  static constexpr std::size_t kCount = (kMaxExponent - kSubBits + 2) * kSub;
  /// The end of the buckets' precision: values from here up share the last bucket.
  static constexpr std::uint64_t kHighest = std::uint64_t{1} << (kMaxExponent + 1);
  /// The bound on the relative error of a percentile read from a bucket's midpoint.
  static constexpr double kRelativeError = 1.0 / (2 * kSub);

  static constexpr std::size_t index(std::uint64_t v) noexcept {
    if (v < kSub) return static_cast<std::size_t>(v);
    const int e = static_cast<int>(std::bit_width(v)) - 1;
    if (e > kMaxExponent) return kCount - 1;
    const auto sub = (v >> (e - kSubBits)) & (kSub - 1);
    return static_cast<std::size_t>(e - kSubBits + 1) * kSub + static_cast<std::size_t>(sub);
  }
  static constexpr std::uint64_t lower(std::size_t i) noexcept {
    if (i < kSub) return i;
    const auto octave = i >> kSubBits;
    const auto sub = i & (kSub - 1);
    return (kSub + sub) << (octave - 1);
  }
  static constexpr std::uint64_t width(std::size_t i) noexcept {
    return i < kSub ? 1 : std::uint64_t{1} << ((i >> kSubBits) - 1);
  }
  /// The value a percentile in bucket i is read as (before clamping to the exact extremes).
  static constexpr std::uint64_t midpoint(std::size_t i) noexcept {
    return lower(i) + width(i) / 2;
  }
};

/// A histogram of nanosecond values with one owner at a time: recorded, merged, queried,
/// written out. Count, sum, min and max are exact; so are the mean and (for values recorded or
/// merged here) the standard deviation. Buckets are kept up to the highest non-empty one, so a
/// histogram of short values stays small. Per-thread histograms merge by adding buckets.
class Histogram {
 public:
  /// Adds `n` values `ns`.
  void record(std::uint64_t ns, std::uint64_t n = 1);
  /// Adds a signed duration; negative values count as 0.
  void record_signed(std::int64_t ns) { record(ns < 0 ? 0 : static_cast<std::uint64_t>(ns)); }
  /// Adds every value of `other` to this histogram.
  void merge(const Histogram& other);

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t sum() const noexcept { return sum_; }
  /// Exact extremes (0 when empty).
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0;
  }
  /// Population standard deviation; 0 when empty.
  double stddev() const noexcept;

  /// The value at percentile p in [0, 100]: the smallest recorded value whose rank is
  /// >= ceil(p/100 * count), read from its bucket's midpoint clamped to [min, max] (the first and
  /// last rank: the exact min and max); 0 when empty.
  std::uint64_t percentile(double p) const noexcept { return at_percentile(p).value_ns; }

  /// percentile(p) and the number of values in the buckets up to and including that value's.
  struct AtPercentile {
    std::uint64_t value_ns = 0;
    std::uint64_t cumulative = 0;
  };
  AtPercentile at_percentile(double p) const noexcept;

  /// One bucket: [lower_ns, upper_ns) and how many values fell into it.
  struct Bucket {
    std::uint64_t lower_ns = 0;
    std::uint64_t upper_ns = 0;
    std::uint64_t count = 0;
  };
  /// The non-empty buckets in increasing order (the last one open-ended: up to max() + 1).
  std::vector<Bucket> buckets() const;
  /// The count of every bucket, by LogBuckets::index, up to the highest non-empty one.
  const std::vector<std::uint64_t>& counts() const noexcept { return counts_; }

 private:
  friend class ThreadHistogram;
  void add_moments(std::uint64_t n, std::uint64_t sum, double m2);

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  double m2_ = 0;  // sum of squared deviations from the mean (Welford, Chan et al. for merges)
};

/// A histogram written by one thread and readable by any other at any time: the writer updates
/// relaxed atomics with plain loads and stores (no read-modify-write), readers take a snapshot.
/// The minimum of a snapshot is the lower bound of its first non-empty bucket, its standard
/// deviation is computed from the bucket midpoints.
class ThreadHistogram {
 public:
  /// Only the owning thread may call this.
  void record(std::uint64_t ns) noexcept {
    bump(counts_[LogBuckets::index(ns)]);
    if (ns == 0) return;  // the common uncontended wait: one bucket, nothing else changes
    sum_.store(sum_.load(std::memory_order_relaxed) + ns, std::memory_order_relaxed);
    if (ns > max_.load(std::memory_order_relaxed)) max_.store(ns, std::memory_order_relaxed);
  }
  /// Any thread. Adds the current contents to `into`.
  void add_to(Histogram& into) const;

 private:
  static void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Count and min are derived from the buckets when read: fewer stores on the lock's hot path.
  std::array<std::atomic<std::uint64_t>, LogBuckets::kCount> counts_{};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

/// The one percentile key scheme of every result file: "p50", "p90", "p99", "p999" (99.9) and
/// "p9999" (99.99), followed by "_ns" or "_us".
struct PercentileKey {
  std::string_view name;
  double percentile;
};
inline constexpr std::array<PercentileKey, 5> kPercentileKeys{{
    {"p50", 50},
    {"p90", 90},
    {"p99", 99},
    {"p999", 99.9},
    {"p9999", 99.99},
}};

/// What a JSON summary holds beyond "count", "mean", "min", the percentiles and "max".
struct SummaryFormat {
  enum class Unit : std::uint8_t { ns, us };
  Unit unit = Unit::ns;         ///< ns: integer nanoseconds (the mean a double); us: microseconds
  std::size_t percentiles = 4;  ///< the first this many of kPercentileKeys
  bool stddev = false;          ///< "stddev_<unit>"
  bool buckets = false;         ///< "buckets": the non-empty buckets as [lower, upper, count]
};

/// {"count", "mean_<u>", "min_<u>", "p50_<u>", ..., "max_<u>"} as `format` says.
nlohmann::json summary_json(const Histogram& h, const SummaryFormat& format);

/// The statistics files' form: {"count", "mean_ns", "min_ns", "p50_ns", "p90_ns", "p99_ns",
/// "p999_ns", "max_ns"}.
void to_json(nlohmann::json& j, const Histogram& h);

/// HdrHistogram's percentile distribution text (as printed by wrk2 and read by its plotter):
/// a header line, rows "Value Percentile TotalCount 1/(1-Percentile)" with 5 steps per halving
/// of the distance to 100 % up to the first that reaches the maximum, a final 100 % row, and the
/// #[Mean..], #[Max..], #[Buckets..] footer. Values in microseconds (said in a last comment line).
void write_hgrm(std::ostream& out, const Histogram& h);

}  // namespace convoy
