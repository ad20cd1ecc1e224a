#pragma once

#include <array>
#include <chrono>

#include "gilcore/clock.hpp"
#include "gilcore/policy_traits.hpp"
#include "gilcore/py3_protocol.hpp"
#include "gilcore/thread_state.hpp"

namespace gilcore {

/// Notes about the implementation
///
/// `py3` emulates CPython's "new GIL" (Python/ceval_gil.h in 3.2–3.11, Python/ceval_gil.c since
/// 3.12; the algorithm has not changed). Same primitives as the original: a pthread mutex and
/// condition variables, the timed wait on CLOCK_MONOTONIC with a deadline of now + interval taken
/// anew at each turn of the wait loop.
///
/// State, and who touches it (kept by Py3Protocol, gilcore/py3_protocol.hpp, which priority
/// builds on too):
/// - `locked_`: 1 while held. Written under `mutex_`; read under it (atomic only so that a
///   snapshot may peek).
/// - `last_holder_`: the thread that held the lock last. The dropper stores itself there before
///   letting go (no mutex, as in CPython); the taker writes it under `mutex_` and `switch_mutex_`.
/// - `switch_number_`: bumped under `mutex_` each time a thread other than `last_holder_` takes
///   the lock. A waiter compares it before and after its timed wait to tell "nobody switched".
/// - `drop_request_`: set by a waiter whose wait of `switch_interval` timed out with the lock
///   still held and no switch; read (relaxed) by the holder at every check point; cleared by
///   whoever takes the lock next, and by a FORCE_SWITCHING dropper before it waits.
///
/// Behaviour worth knowing:
/// - A waiter always sleeps a full interval before it even asks; the holder is never told that
///   somebody arrived. That is the convoy: an I/O thread back from recv waits an interval.
/// - Release signals one waiter (never broadcast). Whoever wins the mutex takes the lock: after a
///   forced drop it need not be the thread that asked.
/// - With `force_switching` (CPython's FORCE_SWITCHING, always compiled in), a thread that drops
///   while a drop request is pending waits once on `switch_cond_` until `last_holder_` is somebody
///   else. One wait, not a loop, exactly as in CPython. This applies to voluntary drops (I/O) too
///   when a request happens to be pending. Off, the dropper may take the lock straight back.
class Py3Gil final {
 public:
  using Config = Py3Protocol::Config;
  static constexpr PolicyInfo kInfo{
      "py3", "CPython 3.2-3.13 GIL: waiters ask the holder to drop after a switch interval",
      "CPython's new GIL (Python/ceval_gil.c: take_gil, drop_gil; bpo-7946, Antoine Pitrou 2009)"};
  static constexpr auto kKnobs = Py3Protocol::kKnobs;
  static constexpr std::array<CounterInfo, 0> kCounters{};
  static constexpr bool kExclusive = true;

  explicit Py3Gil(const Config& config);
  Py3Gil(const Py3Gil&) = delete;
  Py3Gil& operator=(const Py3Gil&) = delete;

  /// take_gil: blocks until the calling thread holds the lock; it must not hold it already.
  void acquire(ThreadState& t) noexcept;
  /// drop_gil: the calling thread must hold the lock. May wait for a switch (FORCE_SWITCHING).
  void release(ThreadState& t) noexcept { release(t, Release::voluntary); }
  /// Called by the holder between bytecodes: honours a pending drop request.
  void check_point(ThreadState& t) noexcept {
    if (gil_.drop_requested()) [[unlikely]]
      forced_drop(t);
  }

  std::chrono::nanoseconds switch_interval() const noexcept { return gil_.switch_interval(); }
  bool force_switching() const noexcept { return gil_.force_switching(); }
  /// True while a drop request is pending (tests).
  bool drop_requested() const noexcept { return gil_.drop_requested(); }

 private:
  void release(ThreadState& t, Release why) noexcept;
  [[gnu::noinline]] void forced_drop(ThreadState& t) noexcept;

  Py3Protocol gil_;
};

}  // namespace gilcore
