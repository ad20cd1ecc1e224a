#pragma once

#include <chrono>
#include <cstdint>

namespace gilcore {

/// Notes about the implementation
///
/// An emulated bytecode is a busy spin of a calibrated number of loop turns. The loop touches no
/// memory (its counter lives in a register the compiler must assume is used), so it costs the same
/// in every build and sanitizers do not instrument it. `calibrate()` times long runs of the same
/// loop against steady_clock and keeps the fastest, which is the least disturbed.
class Spinner {
 public:
  /// Spins `turns` loop turns.
  static void spin(std::uint32_t turns) noexcept {
    for (std::uint32_t i = turns; i != 0; --i) asm volatile("" : "+r"(i));
  }

  /// Measures the loop once per process (about 30 ms, the first time) and returns ns per turn.
  static double ns_per_turn();

  /// The number of turns that costs about `cost`.
  static std::uint32_t turns_for(std::chrono::nanoseconds cost);
};

}  // namespace gilcore
