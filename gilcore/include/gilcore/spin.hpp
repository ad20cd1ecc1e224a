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

/// C work done holding the lock around one call, like a socket call's argument parsing and
/// buffers in CPython's socket module: a spin when constructed and another when destroyed, with
/// no check point in either, since C code passes none.
class CWork {
 public:
  /// The spin of one side, converted to turns once.
  struct Cost {
    std::uint32_t turns = 0;
    explicit Cost(std::chrono::nanoseconds each_side)
        : turns(each_side.count() > 0 ? Spinner::turns_for(each_side) : 0) {}
  };
  explicit CWork(Cost cost) noexcept : turns_(cost.turns) { spin(); }
  ~CWork() { spin(); }
  CWork(const CWork&) = delete;
  CWork& operator=(const CWork&) = delete;

 private:
  void spin() const noexcept {
    if (turns_ != 0) Spinner::spin(turns_);
  }
  std::uint32_t turns_;
};

}  // namespace gilcore
