#pragma once

#include <atomic>

#include "gilcore/check_interval.hpp"
#include "gilcore/clock.hpp"
#include "gilcore/policy_traits.hpp"
#include "gilcore/posix.hpp"
#include "gilcore/thread_state.hpp"
#include "gilcore/wait_queue.hpp"

namespace gilcore {

/// Notes about the implementation
///
/// `fifo` emulates the round-robin GIL Kristján Valur Jónsson proposed for CPython 2.7
/// (bpo-8299, "Improve GIL in 2.7", 2010: a GIL lock type with legacy, round-robin and priority
/// implementations; the round-robin one "fixes the multicore problem" because nobody can jump the
/// queue). It keeps 2.7's ticker and check interval and changes only who gets the lock next:
/// waiters are served in the order they arrived, and the releaser hands the lock straight to the
/// first of them. Primitives: pthread ones, as the patch's POSIX build; a mutex, and a condition
/// variable per waiting thread so that release wakes exactly the thread it chose (the patch's
/// own queue code is not reproduced; this is its rule, "no jumping the queue", in its plainest
/// form).
///
/// State, and who touches it:
/// - `owner_`: the thread the lock belongs to, or nobody. Written under `mutex_`, by the taker
///   when the lock is free and by the releaser when it hands it over.
/// - the queue (`queue_`, linked through each waiter's per-thread data): threads waiting,
///   in arrival order. Under `mutex_`. Only the releaser removes the head.
/// - the queue's length, written under `mutex_`; the holder reads it (relaxed)
///   when its ticker runs out, to tell whether anybody waits.
/// - `ticker_`: one ticker shared by all threads, as 2.7's _Py_Ticker; touched by the holder only.
/// - per thread: the FifoWaiter in its ThreadState's policy slot (a condition variable, the
///   queue link, a "granted" flag the releaser sets), built on its first contended acquire.
///
/// Knob: `check-interval` (default 100 ticks, the 2.7 default): ticks between two looks at the
/// queue.
///
/// Behaviour worth knowing:
/// - No barging: the lock is never free while somebody waits. A releaser that asks again at once
///   queues behind every thread that was already waiting.
/// - The holder yields when its ticker runs out only if somebody waits; alone, it runs on (the
///   look at the queue is counted as `idle_checks`).
/// - An I/O thread back from recv waits for the holder's next check (at most `check-interval`
///   ticks, microseconds of fib) plus one wake-up, and behind every thread queued before it. With
///   N fib threads in the queue that is up to N check intervals.
class FifoGil final {
 public:
  using Config = CheckIntervalConfig;
  static constexpr PolicyInfo kInfo{
      "fifo",
      "round-robin GIL: waiters queue in arrival order, release hands the lock to the first",
      "Kristjan Valur Jonsson's round-robin GIL for CPython 2.7 (bpo-8299: a GIL lock type "
      "without barging; 2.7's Python/ceval.c ticker)"};
  static constexpr auto kKnobs = kCheckIntervalKnobs;
  static constexpr std::array kCounters{
      CounterInfo{"idle_checks", "the ticker ran out with nobody waiting: no yield"},
      CounterInfo{"queued", "a thread joined the queue (it found the lock taken)"},
  };
  static constexpr std::size_t kIdleChecks = 0;
  static constexpr std::size_t kQueued = 1;
  static constexpr bool kExclusive = true;

  explicit FifoGil(const Config& config);
  FifoGil(const FifoGil&) = delete;
  FifoGil& operator=(const FifoGil&) = delete;

  /// Blocks until the calling thread holds the lock, behind every thread already waiting; it
  /// must not hold it already.
  void acquire(ThreadState& t) noexcept;
  /// The calling thread must hold the lock. Hands it to the first waiter, if any; never blocks
  /// beyond the mutex.
  void release(ThreadState& t) noexcept { release(t, Release::voluntary); }
  /// Called by the holder between bytecodes: one tick.
  void check_point(ThreadState& t) noexcept {
    if (--ticker_ < 0) [[unlikely]]
      tick_over(t);
  }

  int check_interval() const noexcept { return check_interval_; }
  /// Threads in the queue; any thread (tests).
  int waiting() const noexcept { return queue_.size(); }

 private:
  struct Waiter;
  void release(ThreadState& t, Release why) noexcept;
  [[gnu::noinline]] void tick_over(ThreadState& t) noexcept;

  const int check_interval_;
  int ticker_ = 0;  // guarded by the lock itself, like _Py_Ticker
  posix::Mutex mutex_;
  const ThreadState* owner_ = nullptr;        // guarded by mutex_
  const ThreadState* last_holder_ = nullptr;  // guarded by mutex_
  WaitQueue<Waiter> queue_;                   // guarded by mutex_
};

}  // namespace gilcore
