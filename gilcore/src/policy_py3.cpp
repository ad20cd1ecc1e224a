#include "gilcore/policy_py3.hpp"

#include <cerrno>
#include <ctime>

namespace gilcore {
namespace {

void check(int rc, const char* what) noexcept {
  if (rc != 0) die(what);
}

timespec deadline_after(std::chrono::nanoseconds interval) noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const auto total = static_cast<long long>(now.tv_nsec) + interval.count();
  now.tv_sec += static_cast<time_t>(total / 1'000'000'000);
  now.tv_nsec = static_cast<long>(total % 1'000'000'000);
  return now;
}

}  // namespace

Py3Gil::Py3Gil(const Config& config)
    : interval_((validate_knobs<Py3Gil>(config), config.switch_interval)),
      force_switching_(config.force_switching) {
  pthread_condattr_t attr;
  check(pthread_condattr_init(&attr), "pthread_condattr_init failed");
  check(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC), "pthread_condattr_setclock failed");
  check(pthread_mutex_init(&mutex_, nullptr), "pthread_mutex_init failed");
  check(pthread_cond_init(&cond_, &attr), "pthread_cond_init failed");
  check(pthread_mutex_init(&switch_mutex_, nullptr), "pthread_mutex_init failed");
  check(pthread_cond_init(&switch_cond_, &attr), "pthread_cond_init failed");
  pthread_condattr_destroy(&attr);
}

Py3Gil::~Py3Gil() {
  pthread_cond_destroy(&switch_cond_);
  pthread_mutex_destroy(&switch_mutex_);
  pthread_cond_destroy(&cond_);
  pthread_mutex_destroy(&mutex_);
}

void Py3Gil::acquire(ThreadState& t) noexcept {
  auto& counters = t.counters();
  check(pthread_mutex_lock(&mutex_), "pthread_mutex_lock failed");
  // The wait is timed from here: the mutex is only ever held for a few instructions, and the
  // uncontended path is spared a clock read.
  const bool contended = locked_.load(std::memory_order_relaxed) != 0;
  const std::uint64_t asked_at = contended ? Clock::now() : 0;
  while (locked_.load(std::memory_order_relaxed) != 0) {
    const unsigned long saved_switch_number = switch_number_;
    const timespec deadline = deadline_after(interval_);
    const int rc = pthread_cond_timedwait(&cond_, &mutex_, &deadline);
    if (rc == ETIMEDOUT) {
      // Nobody took the lock for a whole interval: ask the holder to let go.
      if (locked_.load(std::memory_order_relaxed) != 0 && switch_number_ == saved_switch_number) {
        drop_request_.store(true, std::memory_order_relaxed);
        counters.bump(Counter::drop_requests);
        t.note_drop_request();
      }
    } else if (rc == 0) {
      if (locked_.load(std::memory_order_relaxed) != 0) counters.bump(Counter::futile_wakeups);
    } else {
      die("pthread_cond_timedwait failed");
    }
  }

  check(pthread_mutex_lock(&switch_mutex_), "pthread_mutex_lock failed");
  locked_.store(1, std::memory_order_relaxed);
  const bool switched = last_holder_.load(std::memory_order_relaxed) != &t;
  if (switched) {
    last_holder_.store(&t, std::memory_order_relaxed);
    ++switch_number_;
  }
  check(pthread_cond_signal(&switch_cond_), "pthread_cond_signal failed");
  check(pthread_mutex_unlock(&switch_mutex_), "pthread_mutex_unlock failed");

  // Whoever takes the lock consumes a pending request, as take_gil does.
  drop_request_.store(false, std::memory_order_relaxed);
  t.note_acquired(asked_at, contended, switched);
  check(pthread_mutex_unlock(&mutex_), "pthread_mutex_unlock failed");
}

void Py3Gil::release(ThreadState& t, Release why) noexcept {
  t.note_releasing(why);
  last_holder_.store(&t, std::memory_order_relaxed);

  check(pthread_mutex_lock(&mutex_), "pthread_mutex_lock failed");
  if (locked_.load(std::memory_order_relaxed) == 0)
    die("release() of a py3 lock that is not locked");
  locked_.store(0, std::memory_order_relaxed);
  check(pthread_cond_signal(&cond_), "pthread_cond_signal failed");
  check(pthread_mutex_unlock(&mutex_), "pthread_mutex_unlock failed");

  if (force_switching_ && drop_request_.load(std::memory_order_relaxed)) {
    check(pthread_mutex_lock(&switch_mutex_), "pthread_mutex_lock failed");
    // Not yet switched: wait once until another thread took the lock.
    if (last_holder_.load(std::memory_order_relaxed) == &t) {
      drop_request_.store(false, std::memory_order_relaxed);
      check(pthread_cond_wait(&switch_cond_, &switch_mutex_), "pthread_cond_wait failed");
    }
    check(pthread_mutex_unlock(&switch_mutex_), "pthread_mutex_unlock failed");
  }
}

void Py3Gil::forced_drop(ThreadState& t) noexcept {
  t.counters().bump(Counter::forced_switches);
  release(t, Release::forced);
  acquire(t);
}

}  // namespace gilcore
