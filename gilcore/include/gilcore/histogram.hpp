#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gilcore {

/// Notes about the implementation
///
/// Log-linear buckets over nanoseconds: values below 32 get a bucket each; above, every power of
/// two is split into 32 equal buckets, so a bucket is at most 1/32 (3.1 %) of its value wide and a
/// percentile read from its midpoint is within 1.6 %. Values above 2^42 ns (73 minutes) land in
/// the last bucket. Exact count, sum, min and max are kept beside the buckets.
struct LogBuckets {
  static constexpr int kSubBits = 5;
  static constexpr std::uint64_t kSub = 1u << kSubBits;
  static constexpr int kMaxExponent = 42;
  static constexpr std::size_t kCount = (kMaxExponent - kSubBits + 2) * kSub;

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
};

/// A histogram that has stopped changing: merged, queried, written out.
class HistogramData {
 public:
  HistogramData() : counts_(LogBuckets::kCount, 0) {}

  void record(std::uint64_t ns, std::uint64_t n = 1) noexcept;
  void merge(const HistogramData& other) noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0;
  }
  /// The value at quantile q in [0, 1] (bucket midpoint, clamped to [min, max]); 0 when empty.
  std::uint64_t quantile(double q) const noexcept;
  const std::vector<std::uint64_t>& counts() const noexcept { return counts_; }

 private:
  friend class ThreadHistogram;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

/// {"count", "mean_ns", "min_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"}.
void to_json(nlohmann::json& j, const HistogramData& h);

/// A histogram written by one thread and readable by any other at any time: the writer updates
/// relaxed atomics with plain loads and stores (no read-modify-write), readers take a snapshot.
/// The minimum of a snapshot is the lower bound of its first non-empty bucket.
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
  void add_to(HistogramData& into) const noexcept;

 private:
  static void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Count and min are derived from the buckets when read: fewer stores on the lock's hot path.
  std::array<std::atomic<std::uint64_t>, LogBuckets::kCount> counts_{};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

}  // namespace gilcore
