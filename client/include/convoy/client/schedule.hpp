#pragma once

#include <cstdint>
#include <random>

namespace convoy::client {

enum class Arrival { uniform, poisson };

/// The open-loop arrival schedule of one sender: the intended send times, in steady_clock
/// nanoseconds, of requests at `rate` per second. Uniform arrivals are exactly 1/rate apart
/// (computed from the index, so no rounding drift accumulates); Poisson arrivals have independent
/// exponential gaps of mean 1/rate drawn from a seeded generator (reproducible). The schedule never
/// looks at completions: that is what makes the load open and the latency free of coordinated
/// omission. Not thread-safe; one per sending thread.
class Schedule {
 public:
  /// `rate` > 0 per second; the first arrival is at `start_ns` + `phase` * 1/rate (phase in [0,1)).
  Schedule(double rate, Arrival arrival, std::uint64_t seed, std::int64_t start_ns,
           double phase = 0.0);

  /// The intended time of the next arrival; each call advances the schedule.
  std::int64_t next();

  /// How many arrivals after the last one next() returned fall in [from_ns, to_ns): exact for
  /// uniform arrivals; for Poisson arrivals a draw from the Poisson distribution of that count
  /// (the gaps are memoryless, so it is distributed as the count next() would have produced).
  /// Ends the schedule: call next() no more. For the requests a run could not send.
  std::uint64_t remaining(std::int64_t from_ns, std::int64_t to_ns);

 private:
  double period_ns_;
  Arrival arrival_;
  std::mt19937_64 rng_;
  std::exponential_distribution<double> gap_;
  std::int64_t origin_ns_;
  double phase_ns_;
  double offset_ns_ = 0;  // Poisson: the running sum of gaps
  std::uint64_t index_ = 0;
  std::int64_t last_ns_ = 0;  // what next() returned last
};

}  // namespace convoy::client
