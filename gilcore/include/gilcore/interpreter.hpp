#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "gilcore/config.hpp"
#include "gilcore/policies.hpp"
#include "gilcore/spin.hpp"
#include "gilcore/stats.hpp"
#include "gilcore/thread_state.hpp"
#include "gilcore/trace.hpp"

namespace gilcore {

// AnyPolicy (policies.hpp) is visited once, at a thread's entry, so the policy's check point is a
// direct, inlinable call inside the thread.

class Interpreter;

/// The handle an emulated Python thread runs with: what Python code can do to the lock.
/// Only the thread that received it from Interpreter::run may use it.
template <class Policy>
class PyThread {
 public:
  PyThread(Interpreter& interpreter, Policy& policy, ThreadState& state,
           std::uint32_t turns) noexcept
      : interpreter_(interpreter), policy_(policy), state_(state), turns_(turns) {}
  PyThread(const PyThread&) = delete;
  PyThread& operator=(const PyThread&) = delete;

  /// Executes `n` emulated bytecodes, each a calibrated spin followed by a check point.
  /// Must hold the lock (it does, outside blocking regions).
  void bytecodes(std::uint64_t n) noexcept {
    for (; n != 0; --n) {
      Spinner::spin(turns_);
      policy_.check_point(state_);
    }
  }
  /// Like bytecodes(n), but gives up once `stop` is set: looked at before every bytecode, and
  /// within a long bytecode every kStopSliceTurns spin turns (tens of microseconds), so that a
  /// stop never waits for more than that much work of this thread. Returns false if it stopped
  /// early. For loops that must end promptly at shutdown (fib, handler work).
  bool bytecodes(std::uint64_t n, const std::atomic<bool>& stop) noexcept {
    for (; n != 0; --n) {
      for (std::uint32_t left = turns_;;) {
        if (stop.load(std::memory_order_relaxed)) [[unlikely]]
          return false;
        const std::uint32_t slice = left < kStopSliceTurns ? left : kStopSliceTurns;
        Spinner::spin(slice);
        left -= slice;
        if (left == 0) break;
      }
      policy_.check_point(state_);
    }
    return true;
  }
  /// One check point without work, what the eval loop does between two opcodes.
  void check_point() noexcept { policy_.check_point(state_); }

  /// The longest spin between two looks at the stop flag in bytecodes(n, stop).
  static constexpr std::uint32_t kStopSliceTurns = 1u << 16;

  /// Py_BEGIN_ALLOW_THREADS f() Py_END_ALLOW_THREADS: releases the lock, calls f (a syscall),
  /// takes the lock again, also when f throws. Returns what f returns.
  /// `call` names the syscall for the timeline.
  template <class F>
  decltype(auto) allow_threads(Syscall call, F&& f) {
    struct Region {
      PyThread& t;
      Syscall call;
      std::uint64_t began = 0;
      Region(PyThread& thread, Syscall what) noexcept : t(thread), call(what) {
        t.policy_.release(t.state_);
        if (t.state_.tracing()) [[unlikely]]
          began = Clock::now();
      }
      ~Region() {
        if (t.state_.tracing()) [[unlikely]]
          t.state_.note_syscall(call, began, Clock::now());
        t.policy_.acquire(t.state_);
      }
      Region(const Region&) = delete;
      Region& operator=(const Region&) = delete;
    } region(*this, call);
    return std::forward<F>(f)();
  }
  /// A region whose call the timeline shows as "other".
  template <class F>
  decltype(auto) allow_threads(F&& f) {
    return allow_threads(Syscall::other, std::forward<F>(f));
  }

  /// Message `seq` of `connection` was read (echoed false) or echoed, at Clock tick `at`; for the
  /// timeline, nothing when not tracing.
  void note_message(bool echoed, std::uint64_t seq, std::uint32_t connection,
                    std::uint64_t at) noexcept {
    if (state_.tracing()) [[unlikely]]
      state_.note_message(echoed, seq, connection, at);
  }
  /// True when this thread records a trace.
  bool tracing() const noexcept { return state_.tracing(); }

  Role role() const noexcept { return state_.role(); }
  ThreadState& state() noexcept { return state_; }
  Policy& policy() noexcept { return policy_; }
  Interpreter& interpreter() noexcept { return interpreter_; }

 private:
  Interpreter& interpreter_;
  Policy& policy_;
  ThreadState& state_;
  std::uint32_t turns_;
};

/// How the cost model was calibrated on this machine (written into every stats file).
struct Calibration {
  bool tsc_clock = false;            ///< lock timings come from the TSC
  double tsc_ticks_per_ns = 1;       ///< its rate, measured against steady_clock
  double spin_ns_per_turn = 0;       ///< measured cost of one spin-loop turn
  std::uint32_t bytecode_turns = 0;  ///< turns per emulated bytecode
};
void to_json(nlohmann::json& j, const Calibration& c);

/// Notes about the implementation
///
/// The emulated interpreter: one lock, chosen at run time, shared by every thread that enters it
/// through run(). Like a new CPython thread, a thread takes the lock on entry and holds it except
/// inside blocking regions and when the policy makes it let go; it releases it on exit.
/// The interpreter keeps a registry of live threads so that stats() can be read at any moment;
/// a thread's statistics move to the per-role totals when it leaves.
class Interpreter {
 public:
  /// Validates the configuration (std::invalid_argument on a bad one) and calibrates the spin.
  explicit Interpreter(const InterpreterConfig& config);
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  /// Runs `body(PyThread<P>&)` on the calling thread as an emulated Python thread of `role`,
  /// holding the lock. `body` must be generic (e.g. `[&](auto& t) {...}`): P is the policy type.
  /// Blocks until body returns; exceptions from body propagate after the lock is released.
  template <class Body>
  void run(Role role, Body&& body);

  /// Statistics of every thread so far, live ones included. Any thread, any time.
  StatsSnapshot stats() const;
  /// {"policy", "config", "calibration", "stats"}; the policy's own counters under their names.
  nlohmann::json stats_json() const;

  const InterpreterConfig& config() const noexcept { return config_; }
  PolicyKind policy_kind() const noexcept { return config_.lock.policy; }
  const Calibration& calibration() const noexcept { return calibration_; }
  /// Direct access to the policy object (tests and benchmarks).
  AnyPolicy& policy() noexcept { return policy_; }

  /// Turns the timeline on: every thread entering from now on records up to `capacity` events
  /// (0 = off). Call before any thread runs.
  void enable_tracing(std::size_t capacity);
  /// The timeline's recorder (off unless enable_tracing was called).
  Tracer& tracer() noexcept { return *tracer_; }
  const Tracer& tracer() const noexcept { return *tracer_; }

 private:
  void enter(ThreadState* state);
  void leave(ThreadState* state);

  InterpreterConfig config_;
  Calibration calibration_;
  AnyPolicy policy_;
  mutable std::mutex registry_mutex_;
  std::vector<const ThreadState*> live_;  // guarded by registry_mutex_
  StatsSnapshot retired_;                 // guarded by registry_mutex_
  std::atomic<std::uint32_t> next_id_{1};
  std::unique_ptr<Tracer> tracer_;
};

template <class Body>
void Interpreter::run(Role role, Body&& body) {
  std::visit(
      [&](auto& policy) {
        using Policy = std::remove_reference_t<decltype(policy)>;
        ThreadState state(role, next_id_.fetch_add(1, std::memory_order_relaxed));
        enter(&state);
        struct Exit {
          Interpreter& interpreter;
          Policy& policy;
          ThreadState& state;
          ~Exit() {
            state.note_exit();
            if (state.holds()) policy.release(state);
            interpreter.leave(&state);
          }
        } exit{*this, policy, state};
        policy.acquire(state);
        PyThread<Policy> thread(*this, policy, state, calibration_.bytecode_turns);
        body(thread);
      },
      policy_);
}

}  // namespace gilcore
