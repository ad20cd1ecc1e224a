#include "gilcore/policy_pypy.hpp"

namespace gilcore {

PyPyGil::PyPyGil(const Config& config)
    : check_interval_((validate_knobs<PyPyGil>(config), config.check_interval)),
      countdown_reset_(static_cast<std::int64_t>(config.check_interval) *
                       config.bytecodes_per_tick),
      steal_poll_(config.steal_poll),
      countdown_(countdown_reset_) {}

bool PyPyGil::has_stealer() noexcept {
  gil_.mutex.lock();
  const bool any = stealer_ != nullptr;
  gil_.mutex.unlock();
  return any;
}

void PyPyGil::acquired_fast(ThreadState& t) noexcept {
  const bool switched = last_holder_ != &t;
  last_holder_ = &t;
  t.counters().bump_own(kFastAcquisitions);
  t.note_acquired(0, false, switched);
}

void PyPyGil::acquire_slow(ThreadState& t) noexcept {
  // RPyGilAcquireSlowPath: another thread holds the word. Queue for the stealer's place.
  const std::uint64_t asked_at = Clock::now();
  auto& counters = t.counters();
  waiting_.fetch_add(1, std::memory_order_relaxed);
  stealer_mutex_.lock();
  gil_.mutex.lock();  // mutex2_loop_start: held by the stealer except while it waits
  stealer_ = &t;
  for (;;) {
    // The word was released around an external call: try to take it.
    if (fastgil_.load(std::memory_order_relaxed) == 0 &&
        fastgil_.exchange(1, std::memory_order_acquire) == 0) {
      counters.bump_own(kSteals);
      break;
    }
    // mutex2_lock_timeout: one timed wait (not a loop) for a yielding holder to unlock it.
    if (gil_.locked) {
      const timespec deadline = posix::deadline_after(steal_poll_);
      if (!gil_.cond.wait_until(gil_.mutex, deadline)) counters.bump_own(kStealerTimeouts);
    }
    const bool unlocked = !gil_.locked;
    gil_.locked = true;
    if (unlocked) break;  // handed over: the word stays 1, it is ours now
  }
  stealer_ = nullptr;
  gil_.mutex.unlock();
  waiting_.fetch_sub(1, std::memory_order_relaxed);
  stealer_mutex_.unlock();
  const bool switched = last_holder_ != &t;
  last_holder_ = &t;
  t.note_acquired(asked_at, true, switched);
}

void PyPyGil::check_interval_expired(ThreadState& t) noexcept {
  countdown_ = countdown_reset_;
  // RPyGilYieldThread: nothing to do when nobody waits.
  if (waiting_.load(std::memory_order_relaxed) <= 0) {
    t.counters().bump_own(kIdleYieldPoints);
    return;
  }
  t.counters().bump(Counter::periodic_releases);
  t.note_releasing(Release::periodic);
  // mutex2_unlock: the word stays 1, so only the stealer can take the GIL now.
  gil_.mutex.lock();
  gil_.locked = false;
  if (stealer_ != nullptr) t.note_handoff(*stealer_);  // under gil_.mutex: it cannot leave yet
  gil_.mutex.unlock();
  gil_.cond.signal();
  // Queue again, behind the waiters already there.
  acquire_slow(t);
}

}  // namespace gilcore
