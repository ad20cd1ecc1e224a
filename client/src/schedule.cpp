#include "convoy/client/schedule.hpp"

#include <algorithm>
#include <cmath>

namespace convoy::client {

Schedule::Schedule(double rate, Arrival arrival, std::uint64_t seed, std::int64_t start_ns,
                   double phase)
    : period_ns_(1e9 / rate),
      arrival_(arrival),
      rng_(seed),
      gap_(1.0),
      origin_ns_(start_ns),
      phase_ns_(phase * 1e9 / rate) {}

std::int64_t Schedule::next() {
  // Offsets stay relative to the origin, so double precision covers any uptime.
  double offset = 0;
  if (arrival_ == Arrival::uniform) {
    offset = phase_ns_ + static_cast<double>(index_) * period_ns_;
  } else {
    offset = phase_ns_ + offset_ns_;
    offset_ns_ += gap_(rng_) * period_ns_;
  }
  ++index_;
  last_ns_ = origin_ns_ + std::llround(offset);
  return last_ns_;
}

std::uint64_t Schedule::remaining(std::int64_t from_ns, std::int64_t to_ns) {
  from_ns = std::max(from_ns, last_ns_ + 1);
  if (to_ns <= from_ns) return 0;
  if (arrival_ == Arrival::poisson) {
    const double mean = static_cast<double>(to_ns - from_ns) / period_ns_;
    return static_cast<std::uint64_t>(std::poisson_distribution<std::int64_t>(mean)(rng_));
  }
  // Arrival k is at origin + round(phase + k * period); count the k >= index_ inside the window.
  const auto at = [&](double k) { return origin_ns_ + std::llround(phase_ns_ + k * period_ns_); };
  const auto first_at_or_after = [&](std::int64_t t) {
    double k = std::max(static_cast<double>(index_),
                        std::ceil((static_cast<double>(t - origin_ns_) - phase_ns_) / period_ns_));
    while (k > static_cast<double>(index_) && at(k - 1) >= t) k -= 1;
    while (at(k) < t) k += 1;
    return k;
  };
  return static_cast<std::uint64_t>(first_at_or_after(to_ns) - first_at_or_after(from_ns));
}

}  // namespace convoy::client
