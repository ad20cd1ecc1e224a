#pragma once

#include <atomic>
#include <chrono>

#include "gilcore/clock.hpp"
#include "gilcore/policy_traits.hpp"
#include "gilcore/posix.hpp"
#include "gilcore/thread_state.hpp"

namespace gilcore {

/// Notes about the implementation
///
/// `priority` emulates David Beazley's I/O-priority GIL ("Revisiting thread priorities and the
/// new GIL", dabeaz.blogspot.com, February 2010, written for bpo-7946): CPython 3's new GIL
/// (Python/ceval_gil.c: take_gil, drop_gil; see policy_py3.hpp) plus a class per thread. Antoine
/// Pitrou's "gilinter" patches on bpo-7946 follow a close idea. Same primitives as py3: a pthread
/// mutex, condition variables with timed waits on CLOCK_MONOTONIC, FORCE_SWITCHING.
///
/// The classes: every thread starts I/O-class. A thread made to drop the lock by a request
/// (forced) becomes CPU-class; a thread that releases it voluntarily (a blocking region) becomes
/// I/O-class again. Periodic releases do not exist here.
///
/// State, and who touches it (py3's, plus):
/// - `holder_cpu_class_`: the class of the thread holding the lock; written by the taker under
///   `mutex_`, read by waiters under it.
/// - `io_waiting_`: I/O-class threads waiting; under `mutex_`. While it is not zero, CPU-class
///   waiters do not take the lock even when it is free.
/// - `io_cond_`: where I/O-class waiters sleep; `cond_` is for CPU-class ones. A release signals
///   one I/O-class waiter if there is one, else one CPU-class waiter (never broadcast).
/// - per thread: its class, a bool in its ThreadState's policy slot, touched by itself only.
///
/// Knobs: `switch-interval` (5 ms) and `force-switching` (true), py3's own, for the timed
/// protocol; they mean the same as in py3.
///
/// Behaviour worth knowing:
/// - An I/O-class waiter that finds a CPU-class holder sets the drop request at once (counted as
///   `immediate_requests`), and the holder honours it at its next check point: the I/O thread
///   waits microseconds, not an interval. It then sleeps with py3's timed wait, so that a holder
///   of its own class is still asked after an interval.
/// - CPU-class waiters keep py3's protocol (a full interval, then a request if nobody switched)
///   and are served after every I/O-class waiter.
/// - Known pathology, kept on purpose: a thread that makes a tiny blocking call between long CPU
///   stretches is I/O-class every time it comes back, so it preempts a pure CPU thread at once
///   and is itself only ever asked to drop after a whole interval. If its stretches are shorter
///   than the interval it is never asked at all, and the pure CPU thread only runs while the
///   other is inside its blocking calls: it starves (tests/gilcore/priority_gil_timing_test.cpp
///   measures it). Pathologies of this kind are why the idea was not merged.
class PriorityGil final {
 public:
  struct Config {
    /// How long a waiter sleeps before it asks a holder of its class to drop.
    std::chrono::nanoseconds switch_interval = std::chrono::milliseconds(5);
    /// The dropper waits until another thread took the lock (CPython's FORCE_SWITCHING).
    bool force_switching = true;
  };
  static constexpr PolicyInfo kInfo{
      "priority", "I/O-priority GIL: an I/O-class waiter makes a CPU-class holder drop at once",
      "David Beazley's thread-priority GIL (2010, bpo-7946; 'Revisiting thread priorities and "
      "the new GIL') on CPython 3's take_gil/drop_gil; cf. Antoine Pitrou's gilinter patches"};
  static constexpr std::tuple kKnobs{
      Knob<Config, std::chrono::nanoseconds>{
          "switch-interval",
          "how long a waiter waits before it asks the holder to drop (5ms, 500us; "
          "sys.setswitchinterval(0.005) is 5ms)",
          &Config::switch_interval,
          {std::chrono::microseconds(1), std::chrono::hours(1)}},
      Knob<Config, bool>{
          "force-switching",
          "a thread dropping on request waits until another took the lock (true/false)",
          &Config::force_switching}};
  static constexpr std::array kCounters{
      CounterInfo{"immediate_requests",
                  "an I/O-class waiter asked a CPU-class holder to drop without waiting"},
      CounterInfo{"became_cpu_class", "a thread forced to drop became CPU-class"},
      CounterInfo{"became_io_class", "a CPU-class thread released voluntarily: I/O-class again"},
      CounterInfo{"yielded_to_io",
                  "a CPU-class waiter found the lock free but left it to an "
                  "I/O-class waiter"},
  };
  static constexpr std::size_t kImmediateRequests = 0;
  static constexpr std::size_t kBecameCpuClass = 1;
  static constexpr std::size_t kBecameIoClass = 2;
  static constexpr std::size_t kYieldedToIo = 3;
  static constexpr bool kExclusive = true;

  explicit PriorityGil(const Config& config);
  PriorityGil(const PriorityGil&) = delete;
  PriorityGil& operator=(const PriorityGil&) = delete;

  /// take_gil with classes: blocks until the calling thread holds the lock; it must not hold it.
  void acquire(ThreadState& t) noexcept;
  /// drop_gil: the calling thread must hold the lock; it becomes I/O-class. May wait for a
  /// switch (FORCE_SWITCHING).
  void release(ThreadState& t) noexcept { release(t, Release::voluntary); }
  /// Called by the holder between bytecodes: honours a pending drop request.
  void check_point(ThreadState& t) noexcept {
    if (drop_request_.load(std::memory_order_relaxed)) [[unlikely]]
      forced_drop(t);
  }

  /// True while a drop request is pending (tests).
  bool drop_requested() const noexcept { return drop_request_.load(std::memory_order_relaxed); }
  /// True if `t` is CPU-class; only `t`'s own thread may ask (tests).
  static bool cpu_class(ThreadState& t) noexcept;

 private:
  struct PerThread;
  static PerThread& of(ThreadState& t) noexcept;
  void release(ThreadState& t, Release why) noexcept;
  [[gnu::noinline]] void forced_drop(ThreadState& t) noexcept;
  void request_drop(ThreadState& t) noexcept;

  const std::chrono::nanoseconds interval_;
  const bool force_switching_;
  posix::Mutex mutex_;
  posix::Cond cond_;     // CPU-class waiters
  posix::Cond io_cond_;  // I/O-class waiters
  posix::Mutex switch_mutex_;
  posix::Cond switch_cond_;
  std::atomic<int> locked_{0};
  std::atomic<const ThreadState*> last_holder_{nullptr};
  unsigned long switch_number_ = 0;  // guarded by mutex_
  bool holder_cpu_class_ = false;    // guarded by mutex_
  int io_waiting_ = 0;               // guarded by mutex_
  std::atomic<bool> drop_request_{false};
};

}  // namespace gilcore
