#include "gilcore/spin.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gilcore {

double Spinner::ns_per_turn() {
  static const double value = [] {
    constexpr std::uint32_t kTurns = 1u << 22;
    double best = std::numeric_limits<double>::max();
    for (int round = 0; round < 7; ++round) {
      const auto t0 = std::chrono::steady_clock::now();
      spin(kTurns);
      const auto t1 = std::chrono::steady_clock::now();
      best = std::min(best, static_cast<double>((t1 - t0).count()) / kTurns);
    }
    return std::max(best, 1e-3);
  }();
  return value;
}

std::uint32_t Spinner::turns_for(std::chrono::nanoseconds cost) {
  const double turns = std::round(static_cast<double>(cost.count()) / ns_per_turn());
  return static_cast<std::uint32_t>(std::clamp(turns, 0.0, 4.0e9));
}

}  // namespace gilcore
