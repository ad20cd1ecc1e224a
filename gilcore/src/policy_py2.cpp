#include "gilcore/policy_py2.hpp"

#include <cerrno>

namespace gilcore {

Py2Gil::Py2Gil(const Config& config)
    : check_interval_((validate_knobs<Py2Gil>(config), config.check_interval)) {
  if (sem_init(&sem_, 0, 1) != 0) die("sem_init failed");
}

Py2Gil::~Py2Gil() { sem_destroy(&sem_); }

bool Py2Gil::acquire_switched(ThreadState& t) noexcept {
  std::uint64_t asked_at = 0;
  bool contended = false;
  // sem_trywait is sem_wait's own fast path; trying it first only tells us whether we waited.
  if (sem_trywait(&sem_) != 0) {
    asked_at = Clock::now();
    contended = true;
    sleepers_.fetch_add(1, std::memory_order_relaxed);
    while (sem_wait(&sem_) != 0) {
      if (errno != EINTR) die("sem_wait failed");
    }
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }
  const bool switched = last_holder_ != &t;
  last_holder_ = &t;
  t.note_acquired(asked_at, contended, switched);
  return switched;
}

void Py2Gil::periodic_release(ThreadState& t) noexcept {
  ticker_ = check_interval_;
  t.counters().bump(Counter::periodic_releases);
  const bool had_sleeper = sleepers_.load(std::memory_order_relaxed) > 0;
  release(t, Release::periodic);
  const bool switched = acquire_switched(t);
  if (had_sleeper && !switched) t.counters().bump(Counter::futile_wakeups);
}

}  // namespace gilcore
