#include "gilcore/policy_fifo.hpp"

namespace gilcore {

// A waiting thread's part of the queue, in its ThreadState's policy slot.
struct FifoGil::Waiter {
  explicit Waiter(ThreadState& t) noexcept : self(&t) {}
  ThreadState* self;
  posix::Cond cond;        // signalled by the releaser that chose this thread
  Waiter* prev = nullptr;  // queue links, guarded by mutex_
  Waiter* next = nullptr;  //
  bool granted = false;    // guarded by mutex_: the lock is ours
};

FifoGil::FifoGil(const Config& config)
    : check_interval_((validate_knobs<FifoGil>(config), config.check_interval)) {}

void FifoGil::acquire(ThreadState& t) noexcept {
  mutex_.lock();
  if (owner_ == nullptr) {
    // Free means nobody waits: release hands the lock over whenever the queue is not empty.
    owner_ = &t;
    const bool switched = last_holder_ != &t;
    last_holder_ = &t;
    t.note_acquired(0, false, switched);
    mutex_.unlock();
    return;
  }

  const std::uint64_t asked_at = Clock::now();
  auto& w = t.has_policy_data() ? t.policy_data<Waiter>() : t.emplace_policy_data<Waiter>(t);
  w.granted = false;
  queue_.push_back(w);
  t.counters().bump_own(kQueued);
  while (!w.granted) w.cond.wait(mutex_);

  const bool switched = last_holder_ != &t;
  last_holder_ = &t;
  t.note_acquired(asked_at, true, switched);
  mutex_.unlock();
}

void FifoGil::release(ThreadState& t, Release why) noexcept {
  t.note_releasing(why);
  mutex_.lock();
  if (owner_ != &t) die("release() of a fifo lock by a thread that does not own it");
  Waiter* next = queue_.pop_front();
  if (next == nullptr) {
    owner_ = nullptr;
    mutex_.unlock();
    return;
  }
  // The lock belongs to the first waiter from now on: nobody can take it in between.
  owner_ = next->self;
  next->granted = true;
  next->cond.signal();
  t.note_handoff(*next->self);
  mutex_.unlock();
}

void FifoGil::tick_over(ThreadState& t) noexcept {
  ticker_ = check_interval_;
  if (queue_.size() == 0) {
    t.counters().bump_own(kIdleChecks);
    return;
  }
  t.counters().bump(Counter::periodic_releases);
  release(t, Release::periodic);
  acquire(t);
}

}  // namespace gilcore
