#include "convoy/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace convoy {

namespace {

double as_double(std::uint64_t v) { return static_cast<double>(v); }

/// Nanoseconds as microseconds, the unit of the .hgrm file.
double us(std::uint64_t ns) { return as_double(ns) / 1e3; }
double us(double ns) { return ns / 1e3; }

/// printf into a string (the lines of the .hgrm file are short).
template <typename... Args>
std::string format(const char* fmt, Args... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

}  // namespace

void Histogram::add_moments(std::uint64_t n, std::uint64_t sum, double m2) {
  if (n == 0) return;
  if (count_ == 0) {
    m2_ = m2;
  } else {
    // Chan et al.'s pairwise update (Welford's when n == 1), from the exact means.
    const double na = as_double(count_);
    const double nb = as_double(n);
    const double delta = as_double(sum) / nb - as_double(sum_) / na;
    m2_ += m2 + delta * delta * na * nb / (na + nb);
  }
  count_ += n;
  sum_ += sum;
}

void Histogram::record(std::uint64_t ns, std::uint64_t n) {
  if (n == 0) return;
  const auto i = LogBuckets::index(ns);
  if (i >= counts_.size()) counts_.resize(i + 1, 0);
  counts_[i] += n;
  add_moments(n, ns * n, 0);
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  if (counts_.size() < other.counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (std::size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  add_moments(other.count_, other.sum_, other.m2_);
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double Histogram::stddev() const noexcept {
  return count_ > 0 ? std::sqrt(std::max(0.0, m2_ / as_double(count_))) : 0.0;
}

Histogram::AtPercentile Histogram::at_percentile(double p) const noexcept {
  if (count_ == 0) return {};
  p = std::clamp(p, 0.0, 100.0);
  // The epsilon keeps 99.9 % of 1000 at rank 999 despite rounding in p/100 * count.
  const double exact_rank = std::ceil(p / 100.0 * as_double(count_) - 1e-9);
  const std::uint64_t rank = exact_rank < 1 ? 1 : static_cast<std::uint64_t>(exact_rank);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    cumulative += counts_[i];
    if (cumulative < rank) continue;
    // The extremes are known exactly; only the ranks in between are read from the buckets.
    if (rank == 1) return {min(), cumulative};
    if (rank >= count_) return {max_, cumulative};
    return {std::clamp(LogBuckets::midpoint(i), min(), max_), cumulative};
  }
  return {max_, count_};
}

std::vector<Histogram::Bucket> Histogram::buckets() const {
  std::vector<Bucket> out;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    const auto lower = LogBuckets::lower(i);
    auto upper = lower + LogBuckets::width(i);
    if (i == LogBuckets::kCount - 1) upper = std::max(upper, max_ + 1);
    out.push_back({lower, upper, counts_[i]});
  }
  return out;
}

void ThreadHistogram::add_to(Histogram& into) const {
  // One pass over the atomics; everything else is computed from this copy.
  std::vector<std::uint64_t> snapshot(counts_.size());
  std::uint64_t n = 0;
  std::size_t first = counts_.size();
  std::size_t last = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    const auto c = counts_[i].load(std::memory_order_relaxed);
    if (c == 0) continue;
    snapshot[i] = c;
    first = std::min(first, i);
    last = i;
    n += c;
  }
  if (n == 0) return;
  const auto sum = sum_.load(std::memory_order_relaxed);
  const auto min = LogBuckets::lower(first);
  const auto max = std::max(max_.load(std::memory_order_relaxed), min);
  const double mean = as_double(sum) / as_double(n);
  double m2 = 0;
  for (std::size_t i = first; i <= last; ++i) {
    if (snapshot[i] == 0) continue;
    const double d = as_double(std::clamp(LogBuckets::midpoint(i), min, max)) - mean;
    m2 += as_double(snapshot[i]) * d * d;
  }
  if (into.counts_.size() <= last) into.counts_.resize(last + 1, 0);
  for (std::size_t i = first; i <= last; ++i) into.counts_[i] += snapshot[i];
  into.add_moments(n, sum, m2);
  into.min_ = std::min(into.min_, min);
  into.max_ = std::max(into.max_, max);
}

nlohmann::json summary_json(const Histogram& h, const SummaryFormat& format) {
  const bool ns = format.unit == SummaryFormat::Unit::ns;
  const std::string suffix = ns ? "_ns" : "_us";
  const auto value = [ns](std::uint64_t v) -> nlohmann::json {
    if (ns) return v;
    return us(v);
  };
  const auto real = [ns](double v) { return ns ? v : us(v); };
  nlohmann::json j = nlohmann::json::object();
  j["count"] = h.count();
  j["mean" + suffix] = real(h.mean());
  if (format.stddev) j["stddev" + suffix] = real(h.stddev());
  j["min" + suffix] = value(h.min());
  const auto n = std::min(format.percentiles, kPercentileKeys.size());
  for (std::size_t k = 0; k < n; ++k) {
    j[std::string(kPercentileKeys[k].name) + suffix] =
        value(h.percentile(kPercentileKeys[k].percentile));
  }
  j["max" + suffix] = value(h.max());
  if (format.buckets) {
    nlohmann::json buckets = nlohmann::json::array();
    for (const auto& b : h.buckets()) {
      buckets.push_back(nlohmann::json::array({value(b.lower_ns), value(b.upper_ns), b.count}));
    }
    j["buckets"] = std::move(buckets);
  }
  return j;
}

void to_json(nlohmann::json& j, const Histogram& h) { j = summary_json(h, SummaryFormat{}); }

void write_hgrm(std::ostream& out, const Histogram& h) {
  constexpr int kTicksPerHalfDistance = 5;
  const std::uint64_t total = h.count();
  out << format("%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
  if (total > 0) {
    // Rows below 100 % until one reaches the maximum, so that a plot of 1/(1-Percentile), which
    // cannot show the 100 % row, still ends at the largest value.
    double p = 0;
    while (true) {
      const auto at = h.at_percentile(p);
      out << format("%12.3f %14.12f %10llu %14.2f\n", us(at.value_ns), p / 100,
                    static_cast<unsigned long long>(at.cumulative), 1 / (1 - p / 100));
      if (at.value_ns >= h.max()) break;
      // As HdrHistogram: kTicksPerHalfDistance steps each time the distance to 100 % halves.
      const double half_distance = std::pow(2.0, std::floor(std::log2(100.0 / (100.0 - p))) + 1);
      const double next = p + 100.0 / (kTicksPerHalfDistance * half_distance);
      if (!(next > p) || next >= 100) break;  // beyond what a double tells apart from 100 %
      p = next;
    }
    out << format("%12.3f %14.12f %10llu\n", us(h.max()), 1.0,
                  static_cast<unsigned long long>(total));
  }
  out << format("#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", us(h.mean()), us(h.stddev()));
  out << format("#[Max     = %12.3f, Total count    = %12llu]\n", us(h.max()),
                static_cast<unsigned long long>(total));
  out << format("#[Buckets = %12zu, SubBuckets     = %12d]\n", LogBuckets::kCount, 1);
  out << format("#[Values in microseconds; log buckets, percentile error <= %.2f %%]\n",
                100 * LogBuckets::kRelativeError);
}

}  // namespace convoy
