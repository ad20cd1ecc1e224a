#include "convoy/client/schedule.hpp"

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
  if (arrival_ == Arrival::kUniform) {
    offset = phase_ns_ + static_cast<double>(index_) * period_ns_;
  } else {
    offset = phase_ns_ + offset_ns_;
    offset_ns_ += gap_(rng_) * period_ns_;
  }
  ++index_;
  return origin_ns_ + std::llround(offset);
}

}  // namespace convoy::client
