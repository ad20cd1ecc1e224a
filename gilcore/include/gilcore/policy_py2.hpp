#pragma once

#include <semaphore.h>

#include <atomic>

#include "gilcore/check_interval.hpp"
#include "gilcore/clock.hpp"
#include "gilcore/policy_traits.hpp"
#include "gilcore/thread_state.hpp"

namespace gilcore {

/// Notes about the implementation
///
/// `py2` emulates CPython 2.7's GIL on Linux (Python/ceval.c and Python/thread_pthread.h, v2.7.18).
///
/// - The lock is a POSIX unnamed semaphore initialised to 1, as CPython uses when the platform has
///   working POSIX semaphores: acquire is sem_wait (retried on EINTR), release is sem_post. There
///   is no queue, no hand-off and no timeout: a releaser that asks again at once usually wins.
/// - One ticker is shared by all threads (`_Py_Ticker`), touched only by the holder, so the lock
///   itself orders every access. Each check point decrements it; when it goes negative it is reset
///   to `check_interval` (default 100) and the holder releases and immediately re-acquires. Nothing
///   checks whether anybody waits: the release is only an opportunity, the OS decides who runs.
/// - That race is the whole phenomenon (the "GIL battle"): a woken waiter needs microseconds to be
///   scheduled, by which time the releaser has the lock again. glibc's semaphore hides these futile
///   wake-ups, so we count them from outside: a periodic release made while a thread slept in
///   sem_wait, after which the releaser got the lock back without waiting, is one futile wake-up.
///   `sleepers_` (threads inside sem_wait) exists only for this count; the lock never reads it.
class Py2Gil final {
 public:
  using Config = CheckIntervalConfig;
  static constexpr PolicyInfo kInfo{
      "py2", "CPython 2.7 GIL: a semaphore released and re-taken every 100 ticks, no hand-off",
      "CPython 2.7's GIL (Python/ceval.c: _Py_Ticker, PyEval_SaveThread; "
      "Python/thread_pthread.h: PyThread_acquire_lock on a sem_t)"};
  static constexpr auto kKnobs = kCheckIntervalKnobs;
  static constexpr std::array<CounterInfo, 0> kCounters{};
  static constexpr bool kExclusive = true;

  explicit Py2Gil(const Config& config);
  ~Py2Gil();
  Py2Gil(const Py2Gil&) = delete;
  Py2Gil& operator=(const Py2Gil&) = delete;

  /// Blocks until the calling thread holds the lock; it must not hold it already.
  void acquire(ThreadState& t) noexcept { (void)acquire_switched(t); }
  /// The calling thread must hold the lock. Wakes one sleeper if there is one.
  void release(ThreadState& t) noexcept { release(t, Release::voluntary); }
  /// Called by the holder between bytecodes: one tick.
  void check_point(ThreadState& t) noexcept {
    if (--ticker_ < 0) [[unlikely]]
      periodic_release(t);
  }

  int check_interval() const noexcept { return check_interval_; }
  /// The shared ticker; only meaningful to the holder (tests).
  int ticker() const noexcept { return ticker_; }

 private:
  void release(ThreadState& t, Release why) noexcept {
    t.note_releasing(why);
    sem_post(&sem_);
  }
  bool acquire_switched(ThreadState& t) noexcept;
  [[gnu::noinline]] void periodic_release(ThreadState& t) noexcept;

  sem_t sem_;
  const int check_interval_;
  int ticker_ = 0;                            // guarded by the lock itself, like _Py_Ticker
  const ThreadState* last_holder_ = nullptr;  // guarded by the lock itself
  std::atomic<int> sleepers_{0};
};

}  // namespace gilcore
