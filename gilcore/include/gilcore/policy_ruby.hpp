#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <thread>

#include "gilcore/clock.hpp"
#include "gilcore/policy_traits.hpp"
#include "gilcore/posix.hpp"
#include "gilcore/thread_state.hpp"
#include "gilcore/wait_queue.hpp"

namespace gilcore {

/// Notes about the implementation
///
/// `ruby` emulates the GVL of Ruby MRI (CRuby). Two generations, chosen by `gvl-timer`:
/// - `thread` (default): Ruby 3.3 and later (thread_pthread.c: thread_sched_to_running,
///   thread_sched_to_waiting, thread_sched_wakeup_next_thread, thread_sched_yield and the timer
///   thread; thread.c: rb_threadptr_execute_interrupts, rb_thread_schedule_limits).
/// - `waiter`: Ruby 2.6 to 3.2 (thread_pthread.c: gvl_acquire_common, do_gvl_timer,
///   gvl_release_common, gvl_yield; commit 708bfd2115 removed the timer thread), the Ruby that
///   Debian 12 ships (3.1).
///
/// State, and who touches it (everything "under mutex_" is the scheduler's lock, sched->lock in
/// 3.3, vm->gvl.lock before):
/// - `running_`: the thread allowed to run (3.3 sched->running, 2.6 gvl.owner), under mutex_.
/// - the ready queue `queue_`: a FIFO of waiting threads, linked through the Waiter each
///   thread keeps in its policy slot (its own condition variable and the links), under mutex_.
///   The Waiter is built the first time a thread has to wait and destroyed with its ThreadState.
/// - `interrupt_`: the thread whose TIMER_INTERRUPT flag is set. Written by the timer (the timer
///   thread, or the designated waiter) under mutex_; read (relaxed) by the holder at every check
///   point, which clears it. One flag pending at a time: a tick for another thread overwrites it.
/// - `running_time_`, `last_running_`: the holder's time charged so far (th->running_time_us)
///   and who ran last. Touched only by the holder, so the lock itself orders them. The time is
///   reset when a thread other than the last one is switched in (rb_ractor_thread_switch in 3.3,
///   rb_thread_set_current before).
/// - 3.3 only: `timer_` (a thread of the policy's own, started with it), `stop_`, `timer_cond_`.
///   While the ready queue is not empty it wakes every `timer-tick` (10 ms; Ruby's
///   timer_thread_set_timeout) and sets the running thread's interrupt; while it is empty it
///   sleeps on timer_cond_, which the thread that makes the queue non-empty signals.
/// - 2.6 only: `timer_waiter_` (the designated waiter, vm->gvl.timer), `timer_deadline_` and
///   `timer_expired_` (the absolute deadline of its timed wait, kept across turns until it
///   expires, as do_gvl_timer's static deadline; vm->gvl.timer_err), `need_yield_`,
///   `wait_yield_`, `switch_cond_`, `switch_wait_cond_`, `yield_taker_`: under mutex_.
///
/// Behaviour worth knowing:
/// - 3.3: release and yield hand the lock to the head of the queue (running_ is set to it
///   before it is woken): no barging, FIFO order. Each tick the holder sees charges `timer-tick`
///   to it; once its time reaches `timeslice` (100 ms, RUBY_THREAD_TIMESLICE since 3.4) it yields
///   to the head and queues at the tail, but only if somebody waits. An I/O thread back from
///   recv therefore waits a fresh quantum of the fib thread: about 100 ms.
/// - 2.6: release signals the head of the queue but leaves running_ empty, so a releaser that
///   asks again at once (a short write) may take the lock back first. The first waiter with no
///   designated timer becomes it: a timed wait of `timeslice` on its own condition variable, after
///   which it sets the holder's interrupt (the holder counts as charged a whole quantum). The
///   yielding holder waits until a waiter took the lock (need_yield / switch_cond), or, with
///   nobody queued, calls sched_yield and goes on.
/// - Blocking regions release unconditionally, as rb_thread_io_blocking_call does around every
///   read and write.
/// - Priorities (which scale the quantum) and M:N threads (RUBY_MN_THREADS) are not modelled.
/// Public sources: ruby/ruby thread_pthread.c and thread.c (v2_6_0, v3_1_0, 3.3/3.4), ruby/ruby
/// PR #11981 (Feature #20861, RUBY_THREAD_TIMESLICE).
class RubyGvl final {
 public:
  /// Who raises the timer interrupt.
  enum class Timer : std::uint8_t {
    thread,  ///< Ruby 3.3+: a timer thread ticking while the ready queue is not empty
    waiter,  ///< Ruby 2.6-3.2: one designated waiter doing a timed wait of a quantum
  };
  static constexpr std::array<std::string_view, 2> kTimerChoices{"thread", "waiter"};

  struct Config {
    /// The quantum (TIME_QUANTUM_MSEC; RUBY_THREAD_TIMESLICE in 3.4).
    std::chrono::nanoseconds timeslice = std::chrono::milliseconds(100);
    /// The timer thread's period and the time each tick charges (Ruby 3.3+).
    std::chrono::nanoseconds timer_tick = std::chrono::milliseconds(10);
    Timer gvl_timer = Timer::thread;
  };
  static constexpr PolicyInfo kInfo{
      "ruby",
      "Ruby 3.3+ GVL: FIFO hand-off, a 10 ms timer, the holder yields after a 100 ms quantum",
      "Ruby MRI's GVL (thread_pthread.c: thread_sched_to_running, thread_sched_yield, "
      "thread_sched_wakeup_next_thread, the timer thread; 2.6-3.2: gvl_acquire_common, "
      "do_gvl_timer, gvl_yield)"};
  static constexpr std::tuple kKnobs{
      Knob<Config, std::chrono::nanoseconds>{
          "timeslice",
          "the quantum a thread runs before it yields to a waiter (100ms; "
          "RUBY_THREAD_TIMESLICE=100 is 100ms)",
          &Config::timeslice,
          {std::chrono::milliseconds(1), std::chrono::hours(1)}},
      Knob<Config, std::chrono::nanoseconds>{
          "timer-tick",
          "the timer's period while threads wait, and the time a tick charges to the holder "
          "(10ms; gvl-timer thread only)",
          &Config::timer_tick,
          {std::chrono::microseconds(100), std::chrono::seconds(10)}},
      Knob<Config, Timer>{"gvl-timer",
                          "who raises the timer interrupt: thread (Ruby 3.3+, a timer thread) or "
                          "waiter (Ruby 2.6-3.2, a designated waiter's timed wait of a quantum)",
                          &Config::gvl_timer,
                          {},
                          kTimerChoices}};
  /// Indices into kCounters.
  enum OwnCounter : std::size_t { kTimerInterrupts, kQuantumExpiries };
  static constexpr std::array<CounterInfo, 2> kCounters{{
      {"timer_interrupts", "timer interrupts the holder took at a check point (each charges time)"},
      {"quantum_expiries", "check points at which the holder's time had reached the quantum"},
  }};
  static constexpr bool kExclusive = true;

  explicit RubyGvl(const Config& config);
  ~RubyGvl();
  RubyGvl(const RubyGvl&) = delete;
  RubyGvl& operator=(const RubyGvl&) = delete;

  /// Blocks until the calling thread may run; it must not hold the lock already.
  void acquire(ThreadState& t) noexcept;
  /// The calling thread must hold the lock; passes it to the head of the queue, if any.
  void release(ThreadState& t) noexcept { release(t, Release::voluntary); }
  /// Called by the holder between bytecodes: takes a pending timer interrupt.
  void check_point(ThreadState& t) noexcept {
    if (interrupt_.load(std::memory_order_relaxed) == &t) [[unlikely]]
      timer_interrupt(t);
  }

  std::chrono::nanoseconds timeslice() const noexcept { return timeslice_; }
  Timer gvl_timer() const noexcept { return timer_kind_; }
  /// Threads in the ready queue (tests).
  int queued() noexcept;

 private:
  struct Waiter;
  Waiter& waiter_of(ThreadState& t) noexcept;
  void enqueue(Waiter& w) noexcept;
  /// Waits (under mutex_) until `t` may run; returns whether it had to wait.
  bool acquire_locked(ThreadState& t) noexcept;
  void became_running(ThreadState& t, std::uint64_t asked_at, bool contended) noexcept;
  void release(ThreadState& t, Release why) noexcept;
  /// Under mutex_: lets go of the lock; returns the waiter it went to (3.3) or was signalled.
  Waiter* let_go_locked(ThreadState& t) noexcept;
  [[gnu::noinline]] void timer_interrupt(ThreadState& t) noexcept;
  void yield(ThreadState& t) noexcept;
  void timer_loop() noexcept;
  void timed_wait_as_timer(ThreadState& t, Waiter& w) noexcept;

  const std::chrono::nanoseconds timeslice_;
  const std::chrono::nanoseconds tick_;
  const Timer timer_kind_;
  posix::Mutex mutex_;
  const ThreadState* running_ = nullptr;  // guarded by mutex_
  WaitQueue<Waiter> queue_;               // guarded by mutex_
  std::atomic<const ThreadState*> interrupt_{nullptr};
  // Touched by the holder only.
  const ThreadState* last_running_ = nullptr;
  std::chrono::nanoseconds running_time_{0};
  // Ruby 3.3+: the timer thread.
  posix::Cond timer_cond_;
  bool stop_ = false;  // guarded by mutex_
  std::thread timer_;
  // Ruby 2.6-3.2: the designated waiter and the yield handshake, guarded by mutex_.
  Waiter* timer_waiter_ = nullptr;
  bool timer_expired_ = true;
  timespec timer_deadline_{};
  bool need_yield_ = false;
  bool wait_yield_ = false;
  const ThreadState* yield_taker_ = nullptr;
  posix::Cond switch_cond_;
  posix::Cond switch_wait_cond_;
};

}  // namespace gilcore
