#pragma once

#include <cstdint>

#include "gilcore/clock.hpp"
#include "gilcore/histogram.hpp"
#include "gilcore/stats.hpp"

namespace gilcore {

/// Prints "gilcore: bug: <what>" to stderr and aborts. A broken lock invariant is a bug in the
/// caller, never an input error.
[[noreturn]] void die(const char* what) noexcept;

/// One emulated Python thread as the lock sees it: its role, whether it holds the lock, and its
/// statistics. Owned and touched by its thread only, except the statistics, which any thread may
/// read while they change.
class ThreadState {
 public:
  ThreadState(Role role, std::uint32_t id) noexcept : role_(role), id_(id) {}
  ThreadState(const ThreadState&) = delete;
  ThreadState& operator=(const ThreadState&) = delete;

  Role role() const noexcept { return role_; }
  std::uint32_t id() const noexcept { return id_; }
  bool holds() const noexcept { return holds_; }

  /// Policies call this once they hold the lock. `asked_at` is the Clock tick of the request.
  void note_acquired(std::uint64_t asked_at, bool contended, bool switched) noexcept {
    if (holds_) die("acquire() by a thread that already holds the lock (it would deadlock)");
    const auto now = Clock::now();
    holds_ = true;
    acquired_at_ = now;
    counters_.bump(Counter::acquisitions);
    if (contended) counters_.bump(Counter::contended_acquisitions);
    if (switched) counters_.bump(Counter::holder_switches);
    wait_.record(contended ? Clock::to_ns(now - asked_at) : 0);
  }
  /// Policies call this before they let go of the lock.
  void note_releasing() noexcept {
    if (!holds_) die("release() by a thread that does not hold the lock");
    holds_ = false;
    hold_.record(Clock::to_ns(Clock::now() - acquired_at_));
  }
  /// Policies that hand the lock to a chosen waiter call this, on the releasing thread, once the
  /// waiter `to` owns it.
  void note_handoff(const ThreadState& to) noexcept {
    (void)to;
    counters_.bump(Counter::handoffs);
  }
  /// Aborts unless this thread holds the lock; `what` names the operation for the message.
  void expect_holding(const char* what) const noexcept {
    if (!holds_) die(what);
  }

  ThreadCounters& counters() noexcept { return counters_; }
  /// Any thread: adds this thread's statistics to `into`.
  void add_to(RoleStats& into) const noexcept;

 private:
  Role role_;
  std::uint32_t id_;
  bool holds_ = false;
  std::uint64_t acquired_at_ = 0;
  ThreadCounters counters_;
  ThreadHistogram wait_;
  ThreadHistogram hold_;
};

}  // namespace gilcore
