#include "gilcore/histogram.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

namespace gilcore {

void HistogramData::record(std::uint64_t ns, std::uint64_t n) noexcept {
  if (n == 0) return;
  counts_[LogBuckets::index(ns)] += n;
  count_ += n;
  sum_ += ns * n;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

void HistogramData::merge(const HistogramData& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

std::uint64_t HistogramData::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the sample at quantile q, 1-based, as in "the smallest value with at least q of
  // the samples at or below it".
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const auto mid = LogBuckets::lower(i) + LogBuckets::width(i) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

void to_json(nlohmann::json& j, const HistogramData& h) {
  j = {{"count", h.count()},           {"mean_ns", h.mean()},       {"min_ns", h.min()},
       {"p50_ns", h.quantile(0.5)},    {"p90_ns", h.quantile(0.9)}, {"p99_ns", h.quantile(0.99)},
       {"p999_ns", h.quantile(0.999)}, {"max_ns", h.max()}};
}

void ThreadHistogram::add_to(HistogramData& into) const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    const auto c = counts_[i].load(std::memory_order_relaxed);
    if (c == 0) continue;
    if (n == 0) into.min_ = std::min(into.min_, LogBuckets::lower(i));
    into.counts_[i] += c;
    n += c;
  }
  if (n == 0) return;
  into.count_ += n;
  into.sum_ += sum_.load(std::memory_order_relaxed);
  into.max_ = std::max(into.max_, max_.load(std::memory_order_relaxed));
}

}  // namespace gilcore
