#include "gilcore/spin.hpp"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace gilcore {
namespace {

// CPU time of the calling thread: time spent preempted by other processes does not count, so
// the calibration holds on a busy machine too.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Nanoseconds of CPU per call of spin(turns), called back to back as the bytecode loop does; the
// fastest of several short rounds. `turns` goes through a volatile so the loop is not
// specialised.
double ns_per_call(std::uint32_t turns, int calls) {
  volatile std::uint32_t opaque = turns;
  double best = std::numeric_limits<double>::max();
  for (int round = 0; round < 15; ++round) {
    const std::uint32_t k = opaque;
    const double t0 = thread_cpu_ns();
    for (int i = 0; i < calls; ++i) Spinner::spin(k);
    const double t1 = thread_cpu_ns();
    best = std::min(best, (t1 - t0) / calls);
  }
  return best;
}

struct Model {
  double overhead_ns;  // cost of a call beyond its turns (loop set-up, the exit branch)
  double per_turn_ns;
};

// A straight line through two points: a short spin (about one bytecode) and a long one.
const Model& model() {
  static const Model m = [] {
    constexpr std::uint32_t kShort = 16, kLong = 4096;
    const double short_ns = ns_per_call(kShort, 20000);  // about 0.2 ms a round
    const double long_ns = ns_per_call(kLong, 300);      // about 0.5 ms a round
    const double per_turn = std::max((long_ns - short_ns) / (kLong - kShort), 1e-3);
    return Model{std::max(short_ns - per_turn * kShort, 0.0), per_turn};
  }();
  return m;
}

}  // namespace

[[gnu::noinline, gnu::aligned(64)]] void Spinner::spin(std::uint32_t turns) noexcept {
  for (std::uint32_t i = turns; i != 0; --i) asm volatile("" : "+r"(i));
}

double Spinner::ns_per_turn() { return model().per_turn_ns; }

std::uint32_t Spinner::turns_for(std::chrono::nanoseconds cost) {
  const auto& m = model();
  const double turns =
      std::round((static_cast<double>(cost.count()) - m.overhead_ns) / m.per_turn_ns);
  return static_cast<std::uint32_t>(std::clamp(turns, 0.0, 4.0e9));
}

}  // namespace gilcore
