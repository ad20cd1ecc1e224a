#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace gilcore {

/// Notes about the implementation
///
/// Lock statistics take a timestamp at every acquire and release, so the clock sits on the lock's
/// hot path. steady_clock costs about 35 ns a read on the KVM guests we measure on; the TSC costs
/// about 13 ns. Where the kernel says the TSC is invariant (constant_tsc and nonstop_tsc), ticks
/// come from rdtsc and are converted with a ratio calibrated once against steady_clock; elsewhere
/// ticks are steady_clock nanoseconds. Ticks are only ever subtracted from ticks of the same clock.
/// The calibration (two 10 ms windows) runs on the first use of the clock, once, whichever thread
/// comes first (the others wait for it): a program that never reads the clock does not pay for it.
/// Every ThreadState (and the Interpreter) reads it when constructed, before any lock operation.
class Clock {
 public:
  /// A raw timestamp in ticks. Cheap; callable from any thread.
  static std::uint64_t now() noexcept {
#if defined(__x86_64__)
    if (instance().tsc_) [[likely]]
      return __rdtsc();
#endif
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }

  /// Converts a tick difference to nanoseconds.
  static std::uint64_t to_ns(std::uint64_t ticks) noexcept {
    const Clock& clock = instance();
    if (!clock.tsc_) return ticks;
    // Fixed point, 32 fractional bits: an integer multiply instead of two conversions.
    __extension__ using Wide = unsigned __int128;
    return static_cast<std::uint64_t>((static_cast<Wide>(ticks) * clock.ns_per_tick_q32_) >> 32);
  }

  /// True when timestamps come from the TSC.
  static bool uses_tsc() noexcept { return instance().tsc_; }
  /// TSC ticks per nanosecond (1 when steady_clock is used).
  static double ticks_per_ns() noexcept { return 1.0 / instance().ns_per_tick_; }

 private:
  Clock() noexcept;
  // Calibrated on first use; C++ makes the initialisation thread-safe, and once it is done the
  // guard costs one predictable load and branch on the hot path.
  static const Clock& instance() noexcept {
    static const Clock clock;
    return clock;
  }

  bool tsc_ = false;
  double ns_per_tick_ = 1.0;
  std::uint64_t ns_per_tick_q32_ = std::uint64_t{1} << 32;
};

}  // namespace gilcore
