#pragma once

#include <array>
#include <chrono>

#include "gilcore/clock.hpp"
#include "gilcore/policy_traits.hpp"
#include "gilcore/posix.hpp"
#include "gilcore/py3_protocol.hpp"
#include "gilcore/thread_state.hpp"

namespace gilcore {

/// Notes about the implementation
///
/// `priority` emulates David Beazley's I/O-priority GIL ("Revisiting thread priorities and the
/// new GIL", dabeaz.blogspot.com, February 2010, written for bpo-7946): py3's protocol
/// (Py3Protocol; its notes are in policy_py3.hpp: the state, the timed wait, FORCE_SWITCHING,
/// the knobs `switch-interval` and `force-switching`) plus a class per thread. Antoine Pitrou's
/// "gilinter" patches on bpo-7946 follow a close idea.
///
/// The classes: every thread starts I/O-class. A thread made to drop the lock by a request
/// (forced) becomes CPU-class; a thread that releases it voluntarily (a blocking region) becomes
/// I/O-class again. Periodic releases do not exist here.
///
/// State it adds to py3's:
/// - `holder_cpu_class_`: the class of the thread holding the lock; written by the taker under
///   the protocol's mutex, read by waiters under it.
/// - `io_waiting_`: I/O-class threads waiting; under the mutex. While it is not zero, CPU-class
///   waiters do not take the lock even when it is free.
/// - `io_cond_`: where I/O-class waiters sleep; the protocol's own is for CPU-class ones. A
///   release signals one I/O-class waiter if there is one, else one CPU-class waiter (never
///   broadcast).
/// - per thread: its class, a bool in its ThreadState's policy slot, touched by itself only.
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
  using Config = Py3Protocol::Config;
  static constexpr PolicyInfo kInfo{
      "priority", "I/O-priority GIL: an I/O-class waiter makes a CPU-class holder drop at once",
      "David Beazley's thread-priority GIL (2010, bpo-7946; 'Revisiting thread priorities and "
      "the new GIL') on CPython 3's take_gil/drop_gil; cf. Antoine Pitrou's gilinter patches"};
  static constexpr auto kKnobs = Py3Protocol::kKnobs;
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
    if (gil_.drop_requested()) [[unlikely]]
      forced_drop(t);
  }

  /// True while a drop request is pending (tests).
  bool drop_requested() const noexcept { return gil_.drop_requested(); }
  /// True if `t` is CPU-class; only `t`'s own thread may ask (tests).
  static bool cpu_class(ThreadState& t) noexcept;

 private:
  struct PerThread;
  static PerThread& of(ThreadState& t) noexcept;
  void release(ThreadState& t, Release why) noexcept;
  [[gnu::noinline]] void forced_drop(ThreadState& t) noexcept;

  Py3Protocol gil_;
  posix::Cond io_cond_;            // I/O-class waiters; the protocol's cond() is for CPU-class ones
  bool holder_cpu_class_ = false;  // guarded by the protocol's mutex
  int io_waiting_ = 0;             // guarded by the protocol's mutex
};

}  // namespace gilcore
