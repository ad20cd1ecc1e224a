#include "gilcore/spin.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gilcore {
namespace {

// Nanoseconds per call of spin(turns), called back to back as the bytecode loop does; the
// fastest of several rounds. `turns` goes through a volatile so the loop is not specialised.
double ns_per_call(std::uint32_t turns, int calls) {
  volatile std::uint32_t opaque = turns;
  double best = std::numeric_limits<double>::max();
  // Many short rounds: on a busy machine some of them fit between two preemptions.
  for (int round = 0; round < 15; ++round) {
    const std::uint32_t k = opaque;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) Spinner::spin(k);
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, static_cast<double>((t1 - t0).count()) / calls);
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
    const double long_ns = ns_per_call(kLong, 300);       // about 0.5 ms a round
    const double per_turn = std::max((long_ns - short_ns) / (kLong - kShort), 1e-3);
    return Model{std::max(short_ns - per_turn * kShort, 0.0), per_turn};
  }();
  return m;
}

}  // namespace

double Spinner::ns_per_turn() { return model().per_turn_ns; }

std::uint32_t Spinner::turns_for(std::chrono::nanoseconds cost) {
  const auto& m = model();
  const double turns =
      std::round((static_cast<double>(cost.count()) - m.overhead_ns) / m.per_turn_ns);
  return static_cast<std::uint32_t>(std::clamp(turns, 0.0, 4.0e9));
}

}  // namespace gilcore
