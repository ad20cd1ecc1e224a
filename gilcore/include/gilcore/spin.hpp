#pragma once

#include <chrono>
#include <cstdint>

namespace gilcore {

/// Notes about the implementation
///
/// An emulated bytecode is a busy spin of a calibrated number of loop turns. The loop touches no
/// memory (its counter lives in a register the compiler must assume is used), so it costs the same
/// in every build and sanitizers do not instrument it. Calibration times back-to-back calls of a
/// short and of a long spin against steady_clock (fastest of several rounds, the least disturbed)
/// and fits cost = overhead + turns x per-turn, so that short bytecodes, where the call's fixed
/// cost matters, still cost what was asked.
class Spinner {
 public:
  /// Spins `turns` loop turns.
  static void spin(std::uint32_t turns) noexcept {
    for (std::uint32_t i = turns; i != 0; --i) asm volatile("" : "+r"(i));
  }

  /// Measures the loop once per process (about 20 ms, the first time) and returns ns per turn.
  static double ns_per_turn();

  /// The number of turns that costs about `cost`.
  static std::uint32_t turns_for(std::chrono::nanoseconds cost);
};

}  // namespace gilcore
