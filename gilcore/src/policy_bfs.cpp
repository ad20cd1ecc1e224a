#include "gilcore/policy_bfs.hpp"

#include <algorithm>

namespace gilcore {

namespace {
// How long a chosen thread spins for the yielder to snatch the lock back (SWITCH_BACK_TIMEOUT).
constexpr std::uint64_t kSwitchBackNs = 12'000;
}  // namespace

// A thread as the scheduler sees it, in its ThreadState's policy slot.
struct BfsGil::Task {
  explicit Task(ThreadState& t) noexcept : self(&t) {}
  ThreadState* self;
  posix::Cond cond;               // the thread waits here to be chosen, or for its switch
  Task* prev = nullptr;           // run-queue links, guarded by mutex_
  Task* next = nullptr;           //
  std::int64_t slice_ns = 0;      // what is left of its slice; refilled when <= 0
  std::uint64_t deadline_ns = 0;  // in python time; read by others under mutex_
  std::uint64_t started_at = 0;   // Clock ticks when it last began to run
};

BfsGil::BfsGil(const Config& config)
    : rr_ns_((validate_knobs<BfsGil>(config), config.rr_interval.count())),
      deadline_factor_(config.deadline_factor),
      slice_check_ticks_(config.slice_check_ticks),
      snatch_(config.snatch) {}

BfsGil::Task& BfsGil::task_of(ThreadState& t) noexcept {
  return t.has_policy_data() ? t.policy_data<Task>() : t.emplace_policy_data<Task>(t);
}

std::uint64_t BfsGil::ran_ns(const Task& task) const noexcept {
  return std::min<std::uint64_t>(Clock::to_ns(Clock::now() - task.started_at),
                                 static_cast<std::uint64_t>(rr_ns_));
}

// The earliest deadline in the queue, or the first waiter met whose deadline has passed.
BfsGil::Task* BfsGil::find_task(ThreadState& t) noexcept {
  Task* best = queue_.front();
  if (best == nullptr) return nullptr;
  for (Task* x = best->next; x != nullptr && best->deadline_ns > python_time_ns_; x = x->next) {
    if (x->deadline_ns < best->deadline_ns) best = x;
  }
  if (best->deadline_ns <= python_time_ns_) t.counters().bump_own(kExpiredPicks);
  return best;
}

// With mutex_ held, in the run queue: waits until a yield or release makes `me` the running
// task (running_ == &me). The mutex is released while waiting.
void BfsGil::wait_until_chosen(Task& me, ThreadCounters& counters) noexcept {
  while (running_.load(std::memory_order_relaxed) != &me) {
    // Timed, against a holder in a long tick; longer with more waiters (_bfs_timed_wait).
    const auto timeout = std::chrono::nanoseconds(static_cast<std::int64_t>(
        static_cast<double>(queue_.size()) * static_cast<double>(rr_ns_) * 0.55));
    if (!me.cond.wait_until(mutex_, posix::deadline_after(timeout))) {
      flags_.fetch_or(kCheckDepleted, std::memory_order_relaxed);
      counters.bump_own(kWaitTimeouts);
    } else if (running_.load(std::memory_order_relaxed) != &me) {
      counters.bump(Counter::futile_wakeups);
    }
    // Chosen, but the yielder was more urgent: give it a moment to take the lock back.
    if (snatch_ && running_.load(std::memory_order_relaxed) == &me && snatch_open_ &&
        me.deadline_ns > snatch_deadline_ns_ && me.deadline_ns >= python_time_ns_) {
      mutex_.unlock();
      const auto spin_from = Clock::now();
      while (running_.load(std::memory_order_relaxed) == &me &&
             Clock::to_ns(Clock::now() - spin_from) < kSwitchBackNs) {
      }
      mutex_.lock();
    }
  }
}

void BfsGil::acquire(ThreadState& t) noexcept {
  auto& counters = t.counters();
  Task& me = task_of(t);
  mutex_.lock();
  if (me.slice_ns <= 0) {
    me.slice_ns = rr_ns_;
    me.deadline_ns = python_time_ns_ + static_cast<std::uint64_t>(rr_ns_ * deadline_factor_);
    counters.bump_own(kSliceRefills);
  }

  bool contended = false;
  std::uint64_t asked_at = 0;
  if (Task* running = running_.load(std::memory_order_relaxed); running != nullptr) {
    // Strictly earlier: two threads whose deadlines are equal (both filled at the same python
    // time, as fib threads starting together are) would otherwise preempt each other at every
    // check point, microseconds apart, until their slices ran out.
    const bool urgent =
        me.deadline_ns < running->deadline_ns && running->deadline_ns >= python_time_ns_;
    if (urgent && snatch_ && snatch_open_) {
      // The thread chosen by the last yield has not started, and we are more urgent.
      counters.bump_own(kSnatches);
    } else {
      contended = true;
      asked_at = Clock::now();
      if (urgent) {
        if ((flags_.fetch_or(kPreempt, std::memory_order_relaxed) & kPreempt) == 0) {
          counters.bump(Counter::drop_requests);
          t.note_drop_request();
        }
      } else {
        flags_.fetch_or(kCheckDepleted, std::memory_order_relaxed);
      }
      queue_.push_back(me);
      wait_until_chosen(me, counters);
      queue_.remove(me);
    }
  }

  running_.store(&me, std::memory_order_relaxed);
  snatch_open_ = false;
  if (switch_ != nullptr) {
    switch_->cond.signal();
    switch_ = nullptr;
  }
  const bool switched = last_holder_ != &t;
  last_holder_ = &t;
  me.started_at = Clock::now();
  ticker_ = slice_check_ticks_;
  t.note_acquired(asked_at, contended, switched);
  mutex_.unlock();
}

void BfsGil::yield(ThreadState& t, Release why) noexcept {
  t.note_releasing(why);
  Task& me = t.policy_data<Task>();
  const std::uint64_t ran = ran_ns(me);
  mutex_.lock();
  if (running_.load(std::memory_order_relaxed) != &me)
    die("release() of a bfs lock by a thread that is not running");
  python_time_ns_ += ran;
  me.slice_ns -= static_cast<std::int64_t>(ran);
  flags_.store(0, std::memory_order_relaxed);  // the shout was heard
  if (snatch_ && why == Release::voluntary) {
    // A blocking region may end at once (a call that did not block): let this thread take the
    // lock back if it is more urgent than the one it chooses now.
    snatch_open_ = true;
    snatch_deadline_ns_ = me.deadline_ns;
  }

  Task* next = find_task(t);
  running_.store(next, std::memory_order_relaxed);
  if (next != nullptr) {
    next->cond.signal();
    t.note_handoff(*next->self);
    // Forced switch: if the next thread is more urgent (or we are used up), wait until it runs,
    // lest the OS keep it off this core while we go on.
    if (switch_ == nullptr && (me.slice_ns <= 0 || next->deadline_ns < python_time_ns_ ||
                               me.deadline_ns >= next->deadline_ns)) {
      switch_ = &me;
      t.counters().bump_own(kSwitchWaits);
      while (switch_ == &me) me.cond.wait(mutex_);
    }
  }
  mutex_.unlock();
}

void BfsGil::check(ThreadState& t) noexcept {
  ticker_ = slice_check_ticks_;
  const unsigned flags = flags_.fetch_and(~kCheckDepleted, std::memory_order_relaxed);
  Task& me = t.policy_data<Task>();
  if ((flags & kPreempt) != 0) {
    t.counters().bump(Counter::forced_switches);
    yield(t, Release::forced);
    acquire(t);
  } else if (me.slice_ns <= static_cast<std::int64_t>(ran_ns(me))) {
    t.counters().bump(Counter::periodic_releases);
    yield(t, Release::periodic);
    acquire(t);
  }
}

}  // namespace gilcore
