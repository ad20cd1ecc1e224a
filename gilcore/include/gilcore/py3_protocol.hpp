#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <tuple>

#include "gilcore/policy_traits.hpp"
#include "gilcore/posix.hpp"
#include "gilcore/thread_state.hpp"

namespace gilcore {

/// CPython 3's take_gil/drop_gil protocol, the part py3 and priority share: the lock word, the
/// drop request, a waiter's timed wait of a switch interval, the switch count and the
/// FORCE_SWITCHING hand-shake. The protocol and its state are described in policy_py3.hpp. A
/// policy built on it decides who waits on which condition variable, and which one a release
/// signals.
class Py3Protocol {
 public:
  struct Config {
    /// How long a waiter sleeps before it asks the holder to drop (sys.setswitchinterval).
    std::chrono::nanoseconds switch_interval = std::chrono::milliseconds(5);
    /// The dropper waits until another thread took the lock (CPython's FORCE_SWITCHING).
    bool force_switching = true;
  };
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

  explicit Py3Protocol(const Config& config) noexcept
      : interval_(config.switch_interval), force_switching_(config.force_switching) {}
  Py3Protocol(const Py3Protocol&) = delete;
  Py3Protocol& operator=(const Py3Protocol&) = delete;

  std::chrono::nanoseconds switch_interval() const noexcept { return interval_; }
  bool force_switching() const noexcept { return force_switching_; }

  /// The mutex that guards the lock word, and whatever a policy adds to the protocol.
  void lock() noexcept { mutex_.lock(); }
  void unlock() noexcept { mutex_.unlock(); }
  /// The condition variable waiters sleep on (py3's only one).
  posix::Cond& cond() noexcept { return cond_; }

  /// Under the mutex: whether a thread holds the lock.
  bool locked() const noexcept { return locked_.load(std::memory_order_relaxed) != 0; }
  /// Any thread: whether a drop request is pending; the holder reads it at every check point.
  bool drop_requested() const noexcept { return drop_request_.load(std::memory_order_relaxed); }

  /// Under the mutex: waiter `t` asks the holder to drop.
  void request_drop(ThreadState& t) noexcept {
    drop_request_.store(true, std::memory_order_relaxed);
    t.counters().bump(Counter::drop_requests);
    t.note_drop_request();
  }

  /// Under the mutex: one turn of a waiter's loop. Sleeps on `cond` for a switch interval; if
  /// that runs out with the lock still held and nobody switched meanwhile, asks the holder to
  /// drop. A wake-up that finds the lock still held is futile.
  void wait_turn(ThreadState& t, posix::Cond& cond) noexcept {
    const unsigned long saved_switch_number = switch_number_;
    const timespec deadline = posix::deadline_after(interval_);
    if (!cond.wait_until(mutex_, deadline)) {
      // Nobody took the lock for a whole interval: ask the holder to let go.
      if (locked() && switch_number_ == saved_switch_number) request_drop(t);
    } else if (locked()) {
      t.counters().bump(Counter::futile_wakeups);
    }
  }

  /// Under the mutex, the lock being free: `t` takes it, and consumes a pending drop request, as
  /// take_gil does. Returns whether the holder changed.
  bool take(const ThreadState& t) noexcept {
    switch_mutex_.lock();
    locked_.store(1, std::memory_order_relaxed);
    const bool switched = last_holder_.load(std::memory_order_relaxed) != &t;
    if (switched) {
      last_holder_.store(&t, std::memory_order_relaxed);
      ++switch_number_;
    }
    switch_cond_.signal();
    switch_mutex_.unlock();
    drop_request_.store(false, std::memory_order_relaxed);
    return switched;
  }

  /// drop_gil, by the holder `t` once it noted its release: frees the lock and signals the
  /// condition variable `wake()` returns (called under the mutex). With FORCE_SWITCHING and a
  /// drop request pending, then waits once until another thread took the lock. Dies with
  /// `not_locked` when the lock was free.
  template <class Wake>
  void drop(const ThreadState& t, const char* not_locked, Wake&& wake) noexcept {
    last_holder_.store(&t, std::memory_order_relaxed);

    mutex_.lock();
    if (!locked()) die(not_locked);
    locked_.store(0, std::memory_order_relaxed);
    wake().signal();
    mutex_.unlock();

    if (force_switching_ && drop_requested()) {
      switch_mutex_.lock();
      // Not yet switched: wait once until another thread took the lock.
      if (last_holder_.load(std::memory_order_relaxed) == &t) {
        drop_request_.store(false, std::memory_order_relaxed);
        switch_cond_.wait(switch_mutex_);
      }
      switch_mutex_.unlock();
    }
  }

 private:
  const std::chrono::nanoseconds interval_;
  const bool force_switching_;
  posix::Mutex mutex_;
  posix::Cond cond_;
  posix::Mutex switch_mutex_;
  posix::Cond switch_cond_;
  std::atomic<int> locked_{0};
  std::atomic<const ThreadState*> last_holder_{nullptr};
  unsigned long switch_number_ = 0;  // guarded by mutex_
  std::atomic<bool> drop_request_{false};
};

}  // namespace gilcore
