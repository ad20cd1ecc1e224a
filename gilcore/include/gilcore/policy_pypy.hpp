#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "gilcore/clock.hpp"
#include "gilcore/policy_traits.hpp"
#include "gilcore/posix.hpp"
#include "gilcore/thread_state.hpp"

namespace gilcore {

/// Notes about the implementation
///
/// `pypy` emulates PyPy's GIL (rpython/translator/c/src/thread_gil.c: RPyGilAcquireSlowPath,
/// RPyGilYieldThread; rpython/translator/c/src/thread_pthread.c: the mutex1/mutex2 helpers;
/// pypy/module/thread/gil.py: GILReleaseAction; pypy/module/sys/vm.py: setcheckinterval).
///
/// State, and who touches it:
/// - `fastgil_`: the "fast GIL" word (rpy_fastgil), 1 while a thread holds the GIL. Released by
///   a plain store of 0 around every external call, taken by an atomic exchange: a thread that
///   finds it 0 has the GIL without a system call. Any thread.
/// - `gil_`: mutex_gil, a binary lock kept locked nearly all the time, which one thread may lock
///   and another unlock: a flag with a mutex and a condition variable, as PyPy's mutex2_t. Only
///   a yielding holder unlocks it, to hand the GIL to the stealer; the stealer locks it again.
/// - `stealer_mutex_`: mutex_gil_stealer; the waiter that holds it is the stealer, the others
///   queue on it (in the order glibc's mutex grants it: roughly first come, first served).
/// - `waiting_`: rpy_waiting_threads, waiters in the slow path. Any thread (atomic).
/// - `stealer_`: which thread is the stealer, under gil_.mutex (for the hand-off note only).
/// - `countdown_`: emulated bytecodes left before the next periodic check (the space-wide
///   ticker). Touched only by the holder, so the GIL itself orders it.
///
/// Behaviour worth knowing:
/// - The stealer loops: if the word is 0, exchange it and, on success, hold the GIL ("steal");
///   else wait on mutex_gil for `steal-poll` (100 us; mutex2_lock_timeout) and take it if it
///   was unlocked meanwhile. So a release around I/O wakes nobody: the stealer finds it within
///   a poll. Its timed wait runs on CLOCK_MONOTONIC here (PyPy's takes gettimeofday).
/// - Every `pypy-check-interval` ticks (10 000, sys.setcheckinterval; sys.setswitchinterval(x)
///   sets it to x * 2 000 000) the holder yields, but only if somebody waits: it unlocks
///   mutex_gil, which the stealer takes, and queues again as a waiter behind the others.
/// - A tick is `bytecodes-per-tick` emulated bytecodes. Under PyPy's JIT the countdown does not
///   advance per executed Python bytecode: the compiled code decrements it only at the back edges
///   of its loops (pypy/module/pypyjit/interp_jit.py, jump_absolute), by an amount that depends
///   on the trace's length, so recursive calls inside an iteration cost nothing. A fib thread
///   under PyPy therefore runs for hundreds of milliseconds between two yields. The default is
///   measured on the real interpreter with the fib workload (docs/locks.md, the pypy section;
///   scripts/reference/yield_period.py); set it to 1 for one tick per bytecode, PyPy without
///   its JIT.
class PyPyGil final {
 public:
  struct Config {
    /// Ticks between two yields of the holder (sys.setcheckinterval).
    int check_interval = 10'000;
    /// Emulated bytecodes per PyPy tick.
    int bytecodes_per_tick = 290;
    /// The stealer's timed wait on mutex_gil.
    std::chrono::nanoseconds steal_poll = std::chrono::microseconds(100);
  };
  static constexpr PolicyInfo kInfo{
      "pypy",
      "PyPy GIL: a fast word released around I/O, a stealer polling every 100 us, a yield "
      "every 10000 ticks",
      "PyPy's GIL (rpython/translator/c/src/thread_gil.c: RPyGilAcquireSlowPath, "
      "RPyGilYieldThread; pypy/module/thread/gil.py: GILReleaseAction)"};
  static constexpr std::tuple kKnobs{
      Knob<Config, int>{"pypy-check-interval",
                        "ticks between two yields of the holder to a waiter (sys.setcheckinterval)",
                        &Config::check_interval,
                        {1, 1'000'000'000}},
      Knob<Config, int>{"bytecodes-per-tick",
                        "emulated bytecodes per tick of the check-interval countdown (1: PyPy "
                        "without its JIT; the default is measured for the fib workload)",
                        &Config::bytecodes_per_tick,
                        {1, 1'000'000'000}},
      Knob<Config, std::chrono::nanoseconds>{
          "steal-poll",
          "how long the stealer waits on mutex_gil before it looks at the fast word again "
          "(100us)",
          &Config::steal_poll,
          {std::chrono::microseconds(1), std::chrono::seconds(1)}}};
  /// Indices into kCounters.
  enum OwnCounter : std::size_t { kFastAcquisitions, kSteals, kStealerTimeouts, kIdleYieldPoints };
  static constexpr std::array<CounterInfo, 4> kCounters{{
      {"fast_acquisitions", "took the fast word with one atomic exchange, no system call"},
      {"steals", "the stealer took the fast word released around an external call"},
      {"stealer_timeouts", "the stealer's timed wait on mutex_gil ran out"},
      {"idle_yield_points", "check intervals that ran out with nobody waiting (no yield)"},
  }};
  static constexpr bool kExclusive = true;

  explicit PyPyGil(const Config& config);
  PyPyGil(const PyPyGil&) = delete;
  PyPyGil& operator=(const PyPyGil&) = delete;

  /// RPyGilAcquire: one exchange of the fast word; the slow path when it was taken.
  void acquire(ThreadState& t) noexcept {
    if (fastgil_.exchange(1, std::memory_order_acquire) == 0) [[likely]] {
      acquired_fast(t);
    } else {
      acquire_slow(t);
    }
  }
  /// RPyGilRelease: a plain store, whoever waits.
  void release(ThreadState& t) noexcept {
    t.note_releasing(Release::voluntary);
    fastgil_.store(0, std::memory_order_release);
  }
  /// Called by the holder between bytecodes: one step of the countdown.
  void check_point(ThreadState& t) noexcept {
    if (--countdown_ <= 0) [[unlikely]]
      check_interval_expired(t);
  }

  int check_interval() const noexcept { return check_interval_; }
  /// Threads in the slow path (tests).
  int waiting() const noexcept { return waiting_.load(std::memory_order_relaxed); }
  /// Whether a thread is inside the stealer loop (tests).
  bool has_stealer() noexcept;

 private:
  void acquired_fast(ThreadState& t) noexcept;
  [[gnu::noinline]] void acquire_slow(ThreadState& t) noexcept;
  [[gnu::noinline]] void check_interval_expired(ThreadState& t) noexcept;

  /// mutex2_t: a lock that one thread may take and another release.
  struct HandoffLock {
    posix::Mutex mutex;
    posix::Cond cond;
    bool locked = true;  // mutex_gil starts locked
  };

  const int check_interval_;
  const std::int64_t countdown_reset_;
  const std::chrono::nanoseconds steal_poll_;
  std::atomic<int> fastgil_{0};
  HandoffLock gil_;
  posix::Mutex stealer_mutex_;
  std::atomic<int> waiting_{0};
  const ThreadState* stealer_ = nullptr;      // guarded by gil_.mutex
  const ThreadState* last_holder_ = nullptr;  // guarded by the GIL itself
  std::int64_t countdown_;                    // guarded by the GIL itself
};

}  // namespace gilcore
