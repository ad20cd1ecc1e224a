#include "convoy/client/histogram.hpp"

#include <algorithm>
#include <cmath>

#include <boost/histogram/make_histogram.hpp>
#include <boost/histogram/unsafe_access.hpp>

namespace convoy::client {

const double LatencyHistogram::kRelativeError =
    std::sqrt(std::pow(kHighestNs / kLowestNs, 1.0 / kBins)) - 1.0;

LatencyHistogram::LatencyHistogram()
    : hist_(boost::histogram::make_histogram_with(boost::histogram::dense_storage<std::uint64_t>(),
                                                  Axis(kBins, kLowestNs, kHighestNs))) {}

void LatencyHistogram::record(std::int64_t ns) {
  const double v = ns < 1 ? 1.0 : static_cast<double>(ns);
  hist_(v);
  ++count_;
  if (count_ == 1) {
    min_ = max_ = v;
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  const double delta = v - mean_;
  mean_ += delta / static_cast<double>(count_);
  m2_ += delta * (v - mean_);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  // Same axis by construction, so bins add cell by cell (this also avoids the general
  // histogram::operator+=, whose index translation trips g++ 12's -Wmaybe-uninitialized).
  auto& mine = boost::histogram::unsafe_access::storage(hist_);
  const auto& theirs = boost::histogram::unsafe_access::storage(other.hist_);
  for (std::size_t i = 0; i < mine.size(); ++i) mine[i] += theirs[i];
  if (count_ == 0) {
    count_ = other.count_;
    min_ = other.min_;
    max_ = other.max_;
    mean_ = other.mean_;
    m2_ = other.m2_;
    return;
  }
  // Chan et al.'s pairwise update keeps the merged variance exact.
  const auto n1 = static_cast<double>(count_);
  const auto n2 = static_cast<double>(other.count_);
  const double delta = other.mean_ - mean_;
  const double n = n1 + n2;
  mean_ += delta * n2 / n;
  m2_ += other.m2_ + delta * delta * n1 * n2 / n;
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double LatencyHistogram::stddev() const {
  return count_ > 0 ? std::sqrt(std::max(0.0, m2_ / static_cast<double>(count_))) : 0.0;
}

double LatencyHistogram::bin_value(int index) const {
  const auto& axis = hist_.axis();
  if (index < 0) return min_;
  if (index >= axis.size()) return max_;
  return std::clamp(axis.value(index + 0.5), min_, max_);
}

LatencyHistogram::AtPercentile LatencyHistogram::at_percentile(double p) const {
  if (count_ == 0) return {};
  p = std::clamp(p, 0.0, 100.0);
  // The epsilon keeps 99.9 % of 1000 at rank 999 despite rounding in p/100 * count.
  const double exact_rank = std::ceil(p / 100.0 * static_cast<double>(count_) - 1e-9);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(exact_rank));
  std::uint64_t cumulative = 0;
  const int size = hist_.axis().size();
  for (int i = -1; i <= size; ++i) {
    cumulative += hist_.at(i);
    if (cumulative < rank) continue;
    // The extremes are known exactly; only the ranks in between are read from the bins.
    if (rank == 1) return {min_, cumulative};
    if (rank >= count_) return {max_, cumulative};
    return {bin_value(i), cumulative};
  }
  return {max_, count_};
}

double LatencyHistogram::percentile(double p) const { return at_percentile(p).value_ns; }

std::vector<LatencyHistogram::Bucket> LatencyHistogram::buckets() const {
  std::vector<Bucket> out;
  const auto& axis = hist_.axis();
  for (int i = -1; i <= axis.size(); ++i) {
    const std::uint64_t n = hist_.at(i);
    if (n == 0) continue;
    if (i < 0) {
      out.push_back({0.0, kLowestNs, n});
    } else if (i >= axis.size()) {
      out.push_back({kHighestNs, max_, n});
    } else {
      out.push_back({axis.value(i), axis.value(i + 1), n});
    }
  }
  return out;
}

}  // namespace convoy::client
