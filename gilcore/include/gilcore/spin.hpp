#pragma once

#include <chrono>
#include <cstdint>

namespace gilcore {

/// Notes about the implementation
///
/// An emulated bytecode is a busy spin of a calibrated number of loop turns. The loop touches no
/// memory (its counter lives in a register the compiler must assume is used), so it costs the same
/// in every build and sanitizers do not instrument it. Calibration times back-to-back calls of a
/// short and of a long spin in thread CPU time (fastest of several rounds, so preemption by other
/// processes on a busy machine does not make bytecodes cheaper than asked)
/// and fits cost = overhead + turns x per-turn, so that short bytecodes, where the call's fixed
/// cost matters, still cost what was asked.
class Spinner {
 public:
  /// Spins `turns` loop turns. Out of line on purpose: calibration and the bytecode loop then
  /// run the very same machine code (an inlined copy's alignment alone can double its cost).
  static void spin(std::uint32_t turns) noexcept;

  /// Measures the loop once per process (about 20 ms, the first time) and returns ns per turn.
  static double ns_per_turn();

  /// The number of turns that costs about `cost`.
  static std::uint32_t turns_for(std::chrono::nanoseconds cost);
};

}  // namespace gilcore
