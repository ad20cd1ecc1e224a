#pragma once

#include <string_view>

#include "gilcore/clock.hpp"
#include "gilcore/policy_traits.hpp"
#include "gilcore/thread_state.hpp"

namespace gilcore {

/// Notes about the implementation
///
/// `none` emulates an interpreter without a global lock: PEP 703's free-threaded build, or
/// separate processes. Acquire and release only keep the books, so every policy reports the same
/// counters and the cost of the bookkeeping itself can be read off this one. Check points are
/// empty. Threads never wait for each other; the OS scheduler is the only arbiter.
class NoGil final {
 public:
  struct Config {};
  static constexpr PolicyInfo kInfo{
      "none", "no lock: threads run Python code in parallel (free-threaded build)",
      "CPython's free-threaded build (PEP 703, 3.13t) or separate processes"};
  static constexpr std::tuple<> kKnobs{};
  static constexpr std::array<CounterInfo, 0> kCounters{};
  /// False: threads run Python code at the same time; no mutual exclusion to check.
  static constexpr bool kExclusive = false;

  explicit NoGil(const Config&) {}
  NoGil(const NoGil&) = delete;
  NoGil& operator=(const NoGil&) = delete;

  /// The calling thread must not hold the lock.
  void acquire(ThreadState& t) noexcept { t.note_acquired(0, false, false); }
  /// The calling thread must hold the lock.
  void release(ThreadState& t) noexcept { t.note_releasing(); }
  /// Called between bytecodes by the holder; nothing to do without a lock.
  void check_point(ThreadState&) noexcept {}
};

}  // namespace gilcore
