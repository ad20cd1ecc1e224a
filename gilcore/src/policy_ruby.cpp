#include "gilcore/policy_ruby.hpp"

#include <sched.h>

namespace gilcore {

/// A thread's place in the ready queue, in its ThreadState's policy slot.
struct RubyGvl::Waiter {
  explicit Waiter(const ThreadState& s) noexcept : state(&s) {}
  posix::Cond cond;  // the thread's own (3.3: th->nt->cond.readyq; 2.6: cond.gvlq)
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  const ThreadState* state;
};

RubyGvl::RubyGvl(const Config& config)
    : timeslice_((validate_knobs<RubyGvl>(config), config.timeslice)),
      tick_(config.timer_tick),
      timer_kind_(config.gvl_timer) {
  if (timer_kind_ == Timer::thread) timer_ = std::thread([this] { timer_loop(); });
}

RubyGvl::~RubyGvl() {
  if (timer_.joinable()) {
    mutex_.lock();
    stop_ = true;
    timer_cond_.signal();
    mutex_.unlock();
    timer_.join();
  }
}

int RubyGvl::queued() noexcept {
  mutex_.lock();
  const int n = queue_.size();
  mutex_.unlock();
  return n;
}

RubyGvl::Waiter& RubyGvl::waiter_of(ThreadState& t) noexcept {
  return t.has_policy_data() ? t.policy_data<Waiter>() : t.emplace_policy_data<Waiter>(t);
}

void RubyGvl::enqueue(Waiter& w) noexcept {
  queue_.push_back(w);
  // The queue was empty: the timer starts ticking.
  if (queue_.size() == 1 && timer_kind_ == Timer::thread) timer_cond_.signal();
}

void RubyGvl::acquire(ThreadState& t) noexcept {
  mutex_.lock();
  const std::uint64_t asked_at = running_ != nullptr ? Clock::now() : 0;
  const bool contended = acquire_locked(t);
  mutex_.unlock();
  became_running(t, asked_at, contended);
}

bool RubyGvl::acquire_locked(ThreadState& t) noexcept {
  if (timer_kind_ == Timer::thread) {
    // thread_sched_to_running: run if nobody does, else queue and wait for our turn.
    if (running_ == nullptr) {
      running_ = &t;
      return false;
    }
    Waiter& w = waiter_of(t);
    enqueue(w);
    for (;;) {
      w.cond.wait(mutex_);
      if (running_ == &t) break;  // the releaser unlinked us and made us the running thread
      t.counters().bump(Counter::futile_wakeups);
    }
    return true;
  }

  // gvl_acquire_common (2.6-3.2).
  bool contended = false;
  if (running_ != nullptr) {
    contended = true;
    Waiter& w = waiter_of(t);
    enqueue(w);
    do {
      if (timer_waiter_ == nullptr) {
        timed_wait_as_timer(t, w);
      } else {
        w.cond.wait(mutex_);
      }
    } while (running_ != nullptr);
    queue_.remove(w);
    if (need_yield_) {
      need_yield_ = false;
      switch_cond_.signal();
    }
  } else {
    timer_expired_ = true;  // the next timer starts a fresh quantum
  }
  running_ = &t;
  // Somebody must keep the time: the last waiter becomes the timer (designate_timer_thread).
  if (timer_waiter_ == nullptr && !queue_.empty()) queue_.back()->cond.signal();
  return contended;
}

void RubyGvl::timed_wait_as_timer(ThreadState& t, Waiter& w) noexcept {
  // do_gvl_timer: the deadline is kept across turns until a wait runs out.
  timer_waiter_ = &w;
  if (timer_expired_) timer_deadline_ = posix::deadline_after(timeslice_);
  timer_expired_ = !w.cond.wait_until(mutex_, timer_deadline_);
  // Whether it ran out or was woken: a holder gets a timer interrupt.
  if (running_ != nullptr) {
    interrupt_.store(running_, std::memory_order_relaxed);
    t.counters().bump(Counter::drop_requests);
    t.note_drop_request();
  }
  timer_waiter_ = nullptr;
}

void RubyGvl::became_running(ThreadState& t, std::uint64_t asked_at, bool contended) noexcept {
  const bool switched = last_running_ != &t;
  if (switched) {
    last_running_ = &t;
    running_time_ = std::chrono::nanoseconds(0);
  }
  t.note_acquired(asked_at, contended, switched);
}

RubyGvl::Waiter* RubyGvl::let_go_locked(ThreadState& t) noexcept {
  if (running_ != &t) die("release() of the ruby lock by a thread that is not running");
  Waiter* next = queue_.front();
  if (timer_kind_ == Timer::thread && next != nullptr) {
    // thread_sched_wakeup_next_thread: the head becomes the running thread before it wakes.
    queue_.remove(*next);
    running_ = next->state;
    t.note_handoff(*next->state);  // under mutex_: the waiter cannot run (and leave) yet
  } else {
    running_ = nullptr;
  }
  if (next != nullptr) next->cond.signal();
  return next;
}

void RubyGvl::release(ThreadState& t, Release why) noexcept {
  t.note_releasing(why);
  mutex_.lock();
  (void)let_go_locked(t);
  mutex_.unlock();
}

void RubyGvl::timer_interrupt(ThreadState& t) noexcept {
  // rb_threadptr_execute_interrupts: each interrupt taken charges a tick (3.3) or a whole
  // quantum (2.6-3.2), then rb_thread_schedule_limits yields once the quantum is used up.
  interrupt_.store(nullptr, std::memory_order_relaxed);
  t.counters().bump_own(kTimerInterrupts);
  running_time_ += timer_kind_ == Timer::thread ? tick_ : timeslice_;
  if (running_time_ >= timeslice_) {
    t.counters().bump_own(kQuantumExpiries);
    yield(t);
  }
}

void RubyGvl::yield(ThreadState& t) noexcept {
  std::uint64_t asked_at = 0;  // from the release on: the wait must not begin inside the hold
  mutex_.lock();
  bool contended = true;
  if (timer_kind_ == Timer::thread) {
    // thread_sched_yield: nothing to do when nobody is ready.
    if (queue_.empty()) {
      mutex_.unlock();
      return;
    }
    t.counters().bump(Counter::periodic_releases);
    t.note_releasing(Release::periodic);
    asked_at = Clock::now();
    (void)let_go_locked(t);
    Waiter& self = waiter_of(t);
    enqueue(self);
    for (;;) {
      self.cond.wait(mutex_);
      if (running_ == &t) break;
      t.counters().bump(Counter::futile_wakeups);
    }
  } else {
    // gvl_yield: let go, and wait until the signalled waiter took the lock.
    t.counters().bump(Counter::periodic_releases);
    t.note_releasing(Release::periodic);
    asked_at = Clock::now();
    Waiter* next = let_go_locked(t);
    if (wait_yield_) {
      while (wait_yield_) switch_wait_cond_.wait(mutex_);
    } else if (next != nullptr) {
      need_yield_ = true;
      wait_yield_ = true;
      while (need_yield_) switch_cond_.wait(mutex_);
      wait_yield_ = false;
      switch_wait_cond_.broadcast();
    } else {
      mutex_.unlock();
      sched_yield();
      mutex_.lock();
      switch_wait_cond_.broadcast();
    }
    contended = acquire_locked(t);
  }
  mutex_.unlock();
  became_running(t, asked_at, contended);
}

void RubyGvl::timer_loop() noexcept {
  mutex_.lock();
  while (!stop_) {
    if (queue_.empty()) {
      timer_cond_.wait(mutex_);
      continue;
    }
    const timespec deadline = posix::deadline_after(tick_);
    if (!timer_cond_.wait_until(mutex_, deadline) && !queue_.empty() && running_ != nullptr) {
      // The timer is no emulated thread: no drop request is noted for it.
      interrupt_.store(running_, std::memory_order_relaxed);
    }
  }
  mutex_.unlock();
}

}  // namespace gilcore
