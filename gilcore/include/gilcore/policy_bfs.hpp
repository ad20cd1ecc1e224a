#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "gilcore/clock.hpp"
#include "gilcore/policy_traits.hpp"
#include "gilcore/posix.hpp"
#include "gilcore/thread_state.hpp"
#include "gilcore/wait_queue.hpp"

namespace gilcore {

/// Notes about the implementation
///
/// `bfs` emulates Nir Aides' BFS scheduler for the GIL (bpo-7946 msg101612, bfs.patch, March
/// 2010; python-dev "Fixing the GIL (with a BFS scheduler)", May 2010), a simplified form of Con
/// Kolivas' Brain F**k Scheduler for Linux. A port to a 3.10-era CPython lives in the public
/// JuliaPoo/cpython fork, Python/bfs.c (bfs_schedule, _bfs_yield, bfs_find_task,
/// bfs_checkpoint, _bfs_timed_wait). Same primitives: one pthread mutex, a condition variable
/// per thread (timed waits on CLOCK_MONOTONIC), flags the holder reads at its check points.
///
/// The idea: every thread has a time slice (`rr-interval`, 10 ms) and a virtual deadline, set
/// to python_time + `deadline-factor` x slice (8 x 10 ms) each time its slice is refilled. The
/// lock goes to the waiter with the earliest deadline; a waiter whose deadline is earlier than
/// the holder's (and the holder's has not passed) preempts it. A CPU-bound thread refills its
/// slice every 10 ms and so keeps pushing its deadline away; an I/O thread rarely uses up its
/// slice, keeps its early deadline and preempts CPU threads at once. Beyond about 8 runnable
/// CPU threads deadlines pass and the expired ones are served in arrival order.
///
/// State, and who touches it (all under `mutex_` unless said otherwise):
/// - `running_`: the thread allowed to run (it may not have woken up yet). Atomic because a
///   chosen thread spins on it without the mutex (see snatching).
/// - the run queue (`queue_`, linked through each waiter's Task): waiting threads in arrival
///   order. A waiter adds and removes itself; the releaser only chooses from it.
/// - `python_time_ns_`: the "python time" clock. It advances when a thread lets go, by the time
///   it held the lock (Clock, the TSC where there is one, as bfs.c uses the TSC), each diff
///   capped at one slice (bfs.c's _bfs_diff_ts). So it moves with the running threads' time.
/// - `flags_` (atomic, read by the holder at every check point): `preempt` (a more urgent
///   thread waits: yield at once, counted as a drop request) and `check_depleted` (a waiter
///   wants the holder to look at its slice now).
/// - `ticker_`: the holder's count of check points until it next reads the clock to see
///   whether its slice is used up; touched by the holder only.
/// - `switch_`: a yielder waiting until the more urgent thread it chose has started (bfs.c's
///   forced switch, the same idea as CPython's FORCE_SWITCHING).
/// - `snatch_open_`, `snatch_deadline_ns_`: a thread just yielded in a blocking region and the
///   thread it chose has not started yet; a more urgent thread may take the lock first.
/// - per thread: its Task in its ThreadState's policy slot (condition variable, slice, deadline,
///   when it started running, queue links). Its deadline is read by others under the mutex.
///
/// Knobs (defaults are bfs.c's):
/// - `rr-interval` (10 ms): the slice.
/// - `deadline-factor` (8): deadline = python_time + factor x slice at refill.
/// - `slice-check-ticks` (5000): check points between two clock reads of the holder (bfs.c reads
///   the clock "once every 5000 ticks"); a waiter whose timed wait (waiters x slice x 0.55) runs
///   out makes the holder look at once, as bfs.c's check_depleted flag does.
/// - `snatch` (true): bfs.c's schedule snatching and its 12 us spin-back (SWITCH_BACK_TIMEOUT);
///   false is a simplification: the chosen thread always gets the lock.
/// Not emulated: bfs.c's Windows thread-boost calls and its fork handlers (no such thing here).
///
/// Behaviour worth knowing: hand-off, not a race: the releaser sets `running_` to the thread it
/// chose and signals that thread's own condition variable. A yield on a used-up slice with
/// nobody waiting refills it and goes on (a periodic release without a switch).
class BfsGil final {
 public:
  struct Config {
    /// The time slice (bfs.c's rr_interval).
    std::chrono::nanoseconds rr_interval = std::chrono::milliseconds(10);
    /// Deadline = python time + factor x slice at each refill (bfs.c's DEADLINE_FACTOR).
    int deadline_factor = 8;
    /// Check points between two looks of the holder at the clock.
    int slice_check_ticks = 5000;
    /// Schedule snatching and the spin-back of bfs.c; off, the chosen thread always runs next.
    bool snatch = true;
  };
  static constexpr PolicyInfo kInfo{
      "bfs", "BFS scheduler: earliest virtual deadline first, 10 ms slices, preemption",
      "Nir Aides' BFS GIL (bpo-7946 msg101612, bfs.patch 2010; a port: JuliaPoo/cpython "
      "Python/bfs.c: bfs_schedule, _bfs_yield, bfs_find_task, bfs_checkpoint)"};
  static constexpr std::tuple kKnobs{
      Knob<Config, std::chrono::nanoseconds>{
          "rr-interval",
          "the time slice a thread runs before it yields to a waiter (10ms)",
          &Config::rr_interval,
          {std::chrono::microseconds(10), std::chrono::hours(1)}},
      Knob<Config, int>{"deadline-factor",
                        "a refilled slice's deadline is python time + this many slices",
                        &Config::deadline_factor,
                        {1, 1'000'000}},
      Knob<Config, int>{"slice-check-ticks",
                        "check points between two looks of the holder at its slice",
                        &Config::slice_check_ticks,
                        {1, 1'000'000'000}},
      Knob<Config, bool>{"snatch",
                         "a more urgent thread may take the lock before the chosen one started, "
                         "which spins 12us for it (true/false)",
                         &Config::snatch}};
  static constexpr std::array kCounters{
      CounterInfo{"slice_refills", "a thread's slice was used up and refilled, deadline reset"},
      CounterInfo{"wait_timeouts",
                  "a waiter's timed wait ran out: it asked the holder to check its slice"},
      CounterInfo{"switch_waits", "a yielder waited until the more urgent thread it chose ran"},
      CounterInfo{"snatches", "a more urgent thread took the lock before the chosen one woke"},
      CounterInfo{"expired_picks",
                  "the next thread was chosen in arrival order: its deadline "
                  "had passed"},
  };
  static constexpr std::size_t kSliceRefills = 0;
  static constexpr std::size_t kWaitTimeouts = 1;
  static constexpr std::size_t kSwitchWaits = 2;
  static constexpr std::size_t kSnatches = 3;
  static constexpr std::size_t kExpiredPicks = 4;
  static constexpr bool kExclusive = true;

  explicit BfsGil(const Config& config);
  BfsGil(const BfsGil&) = delete;
  BfsGil& operator=(const BfsGil&) = delete;

  /// bfs_schedule: blocks until the calling thread may run; it must not hold the lock.
  void acquire(ThreadState& t) noexcept;
  /// bfs_yield: the calling thread must hold the lock. Chooses the next thread; may wait until
  /// it runs (the forced switch).
  void release(ThreadState& t) noexcept { yield(t, Release::voluntary); }
  /// bfs_checkpoint, called by the holder between bytecodes: yields when preempted, or when its
  /// slice is used up (looked at every slice-check-ticks, or at once when a waiter asks).
  void check_point(ThreadState& t) noexcept {
    if ((flags_.load(std::memory_order_relaxed) != 0) | (--ticker_ < 0)) [[unlikely]]
      check(t);
  }

  /// True while a more urgent waiter asks the holder to yield (tests).
  bool preempt_requested() const noexcept {
    return (flags_.load(std::memory_order_relaxed) & kPreempt) != 0;
  }
  /// True while a waiter asks the holder to look at its slice (tests).
  bool check_depleted_requested() const noexcept {
    return (flags_.load(std::memory_order_relaxed) & kCheckDepleted) != 0;
  }
  /// Threads in the run queue (tests).
  int waiting() const noexcept { return queue_.size(); }

 private:
  struct Task;
  static constexpr unsigned kPreempt = 1;
  static constexpr unsigned kCheckDepleted = 2;

  Task& task_of(ThreadState& t) noexcept;
  void yield(ThreadState& t, Release why) noexcept;
  [[gnu::noinline]] void check(ThreadState& t) noexcept;
  std::uint64_t ran_ns(const Task& task) const noexcept;
  Task* find_task(ThreadState& t) noexcept;
  void wait_until_chosen(Task& me, ThreadCounters& counters) noexcept;

  const std::int64_t rr_ns_;
  const std::int64_t deadline_factor_;
  const int slice_check_ticks_;
  const bool snatch_;
  int ticker_ = 0;  // the holder's only
  posix::Mutex mutex_;
  std::atomic<Task*> running_{nullptr};
  WaitQueue<Task> queue_;                     // guarded by mutex_
  Task* switch_ = nullptr;                    // guarded by mutex_
  std::uint64_t python_time_ns_ = 0;          // guarded by mutex_
  bool snatch_open_ = false;                  // guarded by mutex_
  std::uint64_t snatch_deadline_ns_ = 0;      // guarded by mutex_
  const ThreadState* last_holder_ = nullptr;  // guarded by mutex_
  std::atomic<unsigned> flags_{0};
};

}  // namespace gilcore
