#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "convoy/histogram.hpp"
#include "gilcore/clock.hpp"
#include "gilcore/die.hpp"
#include "gilcore/stats.hpp"
#include "gilcore/trace.hpp"

namespace gilcore {

/// Why a thread lets go of the lock; the timeline shows it. Policies pass it to note_releasing().
enum class Release : std::uint8_t {
  voluntary,  ///< release() called from outside the policy: a blocking region, the thread's exit
  periodic,   ///< the policy's own periodic release (py2's ticker, a yield at a check point)
  forced,     ///< the holder honours another thread's request to drop (py3's drop request)
};

/// One emulated Python thread as the lock sees it: its role, whether it holds the lock, and its
/// statistics. Owned and touched by its thread only, except the statistics, which any thread may
/// read while they change.
class ThreadState {
 public:
  ThreadState(Role role, std::uint32_t id) noexcept : role_(role), id_(id) {
    // The clock is calibrated here at the latest, so that no lock operation is the first to read
    // it (the calibration sleeps, and a fast path must make no system call).
    static_cast<void>(Clock::uses_tsc());
  }
  ~ThreadState() {
    if (destroy_policy_data_ != nullptr) destroy_policy_data_(policy_slot_);
  }
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
    if (trace_ != nullptr && contended) [[unlikely]]
      trace_->record(TraceKind::wait, asked_at, now);
  }
  /// Policies call this before they let go of the lock, saying why.
  void note_releasing(Release why = Release::voluntary) noexcept {
    if (!holds_) die("release() by a thread that does not hold the lock");
    holds_ = false;
    const auto now = Clock::now();
    hold_.record(Clock::to_ns(now - acquired_at_));
    if (trace_ != nullptr) [[unlikely]]
      trace_->record(TraceKind::hold, acquired_at_, now, 0, 0,
                     static_cast<std::uint8_t>(trace_release(why)));
  }
  /// Policies that hand the lock to a chosen waiter call this, on the releasing thread, once the
  /// waiter `to` owns it.
  void note_handoff(const ThreadState& to) noexcept {
    counters_.bump(Counter::handoffs);
    if (trace_ != nullptr) [[unlikely]] {
      const auto now = Clock::now();
      trace_->record(TraceKind::handoff, now, now, 0, to.id());
    }
  }
  /// Policies call this on the thread that asks the holder to drop (py3's drop request, a
  /// preempt flag), when it asks.
  void note_drop_request() noexcept {
    if (trace_ != nullptr) [[unlikely]] {
      const auto now = Clock::now();
      trace_->record(TraceKind::drop_request, now, now);
    }
  }

  /// The thread is leaving the interpreter: a voluntary release from now on is its exit, not a
  /// blocking region. Interpreter::run calls it before its last release.
  void note_exit() noexcept { exiting_ = true; }

  /// True when this thread records a trace; the callers of the note_* below test it first.
  bool tracing() const noexcept { return trace_ != nullptr; }
  /// The ring this thread records into (nullptr: not tracing). Set by the interpreter at entry.
  void set_trace(TraceRing* ring) noexcept { trace_ = ring; }
  TraceRing* trace() const noexcept { return trace_; }
  /// A blocking region's call ran from `begin` to `end` (Clock ticks). Only when tracing().
  void note_syscall(Syscall call, std::uint64_t begin, std::uint64_t end) noexcept {
    trace_->record(TraceKind::syscall, begin, end, 0, 0, static_cast<std::uint8_t>(call));
  }
  /// Message `seq` (the client's sequence number) of `connection` was read (`echoed` false) or
  /// its echo sent, at Clock tick `at`. Only when tracing().
  void note_message(bool echoed, std::uint64_t seq, std::uint32_t connection,
                    std::uint64_t at) noexcept {
    trace_->record(echoed ? TraceKind::echoed : TraceKind::received, at, at, seq, connection);
  }

  /// Aborts unless this thread holds the lock; `what` names the operation for the message.
  void expect_holding(const char* what) const noexcept {
    if (!holds_) die(what);
  }

  ThreadCounters& counters() noexcept { return counters_; }

  /// The bytes a policy keeps per thread (a condition variable of its own, a queue link, a
  /// class). The policy constructs its data there once, with emplace_policy_data (which arranges
  /// for the data to be destroyed with the ThreadState, when the thread leaves the interpreter),
  /// or with `new (t.policy_slot()) T(...)` if T is trivially destructible. Only the policy
  /// touches it.
  static constexpr std::size_t kPolicySlotSize = 192;
  template <class T>
  T& policy_data() noexcept {
    static_assert(sizeof(T) <= kPolicySlotSize && alignof(T) <= alignof(std::max_align_t),
                  "a policy's per-thread data must fit its slot");
    return *std::launder(reinterpret_cast<T*>(policy_slot_));
  }
  /// Constructs T(args...) in the slot; it is destroyed when this ThreadState is. At most once.
  template <class T, class... Args>
  T& emplace_policy_data(Args&&... args) noexcept {
    static_assert(sizeof(T) <= kPolicySlotSize && alignof(T) <= alignof(std::max_align_t),
                  "a policy's per-thread data must fit its slot");
    static_assert(std::is_nothrow_constructible_v<T, Args...>);
    if (has_policy_data_) die("a policy constructed its per-thread data twice");
    T* data = new (policy_slot_) T(std::forward<Args>(args)...);
    has_policy_data_ = true;
    if constexpr (!std::is_trivially_destructible_v<T>) {
      destroy_policy_data_ = [](void* slot) noexcept { std::launder(static_cast<T*>(slot))->~T(); };
    }
    return *data;
  }
  /// Whether emplace_policy_data was called.
  bool has_policy_data() const noexcept { return has_policy_data_; }
  void* policy_slot() noexcept { return policy_slot_; }
  /// Any thread: adds this thread's statistics to `into`.
  void add_to(RoleStats& into) const noexcept;

 private:
  TraceRelease trace_release(Release why) const noexcept {
    switch (why) {
      case Release::periodic: return TraceRelease::periodic;
      case Release::forced: return TraceRelease::forced;
      case Release::voluntary: break;
    }
    return exiting_ ? TraceRelease::exit : TraceRelease::blocking;
  }

  Role role_;
  std::uint32_t id_;
  bool holds_ = false;
  bool exiting_ = false;
  std::uint64_t acquired_at_ = 0;
  TraceRing* trace_ = nullptr;
  ThreadCounters counters_;
  convoy::ThreadHistogram wait_;
  convoy::ThreadHistogram hold_;
  bool has_policy_data_ = false;
  void (*destroy_policy_data_)(void*) noexcept = nullptr;
  alignas(std::max_align_t) unsigned char policy_slot_[kPolicySlotSize]{};
};

}  // namespace gilcore
