#include "gilcore/policy_py3.hpp"

namespace gilcore {

Py3Gil::Py3Gil(const Config& config)
    : interval_((validate_knobs<Py3Gil>(config), config.switch_interval)),
      force_switching_(config.force_switching) {}

void Py3Gil::acquire(ThreadState& t) noexcept {
  auto& counters = t.counters();
  mutex_.lock();
  // The wait is timed from here: the mutex is only ever held for a few instructions, and the
  // uncontended path is spared a clock read.
  const bool contended = locked_.load(std::memory_order_relaxed) != 0;
  const std::uint64_t asked_at = contended ? Clock::now() : 0;
  while (locked_.load(std::memory_order_relaxed) != 0) {
    const unsigned long saved_switch_number = switch_number_;
    const timespec deadline = posix::deadline_after(interval_);
    if (!cond_.wait_until(mutex_, deadline)) {
      // Nobody took the lock for a whole interval: ask the holder to let go.
      if (locked_.load(std::memory_order_relaxed) != 0 && switch_number_ == saved_switch_number) {
        drop_request_.store(true, std::memory_order_relaxed);
        counters.bump(Counter::drop_requests);
        t.note_drop_request();
      }
    } else if (locked_.load(std::memory_order_relaxed) != 0) {
      counters.bump(Counter::futile_wakeups);
    }
  }

  switch_mutex_.lock();
  locked_.store(1, std::memory_order_relaxed);
  const bool switched = last_holder_.load(std::memory_order_relaxed) != &t;
  if (switched) {
    last_holder_.store(&t, std::memory_order_relaxed);
    ++switch_number_;
  }
  switch_cond_.signal();
  switch_mutex_.unlock();

  // Whoever takes the lock consumes a pending request, as take_gil does.
  drop_request_.store(false, std::memory_order_relaxed);
  t.note_acquired(asked_at, contended, switched);
  mutex_.unlock();
}

void Py3Gil::release(ThreadState& t, Release why) noexcept {
  t.note_releasing(why);
  last_holder_.store(&t, std::memory_order_relaxed);

  mutex_.lock();
  if (locked_.load(std::memory_order_relaxed) == 0)
    die("release() of a py3 lock that is not locked");
  locked_.store(0, std::memory_order_relaxed);
  cond_.signal();
  mutex_.unlock();

  if (force_switching_ && drop_request_.load(std::memory_order_relaxed)) {
    switch_mutex_.lock();
    // Not yet switched: wait once until another thread took the lock.
    if (last_holder_.load(std::memory_order_relaxed) == &t) {
      drop_request_.store(false, std::memory_order_relaxed);
      switch_cond_.wait(switch_mutex_);
    }
    switch_mutex_.unlock();
  }
}

void Py3Gil::forced_drop(ThreadState& t) noexcept {
  t.counters().bump(Counter::forced_switches);
  release(t, Release::forced);
  acquire(t);
}

}  // namespace gilcore
