#pragma once

// The POSIX primitives the policies are built from, with the error handling they share: a
// failing pthread call is a broken invariant (gilcore::die), never an input error.
#include <pthread.h>

#include <cerrno>
#include <chrono>
#include <ctime>

#include "gilcore/die.hpp"

namespace gilcore::posix {

/// Dies with `what` unless rc is 0.
inline void check(int rc, const char* what) noexcept {
  if (rc != 0) die(what);
}

/// CLOCK_MONOTONIC now + `interval`, for pthread_cond_timedwait on a Cond.
inline timespec deadline_after(std::chrono::nanoseconds interval) noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const auto total = static_cast<long long>(now.tv_nsec) + interval.count();
  now.tv_sec += static_cast<time_t>(total / 1'000'000'000);
  now.tv_nsec = static_cast<long>(total % 1'000'000'000);
  return now;
}

/// A default pthread mutex.
class Mutex {
 public:
  Mutex() noexcept { check(pthread_mutex_init(&m_, nullptr), "pthread_mutex_init failed"); }
  ~Mutex() { pthread_mutex_destroy(&m_); }
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;
  void lock() noexcept { check(pthread_mutex_lock(&m_), "pthread_mutex_lock failed"); }
  void unlock() noexcept { check(pthread_mutex_unlock(&m_), "pthread_mutex_unlock failed"); }
  pthread_mutex_t* native() noexcept { return &m_; }

 private:
  pthread_mutex_t m_;
};

/// A condition variable whose timed waits run on CLOCK_MONOTONIC, as CPython's and Ruby's do.
class Cond {
 public:
  Cond() noexcept {
    pthread_condattr_t attr;
    check(pthread_condattr_init(&attr), "pthread_condattr_init failed");
    check(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC), "pthread_condattr_setclock failed");
    check(pthread_cond_init(&c_, &attr), "pthread_cond_init failed");
    pthread_condattr_destroy(&attr);
  }
  ~Cond() { pthread_cond_destroy(&c_); }
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;
  void signal() noexcept { check(pthread_cond_signal(&c_), "pthread_cond_signal failed"); }
  void broadcast() noexcept { check(pthread_cond_broadcast(&c_), "pthread_cond_broadcast failed"); }
  void wait(Mutex& m) noexcept {
    check(pthread_cond_wait(&c_, m.native()), "pthread_cond_wait failed");
  }
  /// False when the deadline passed (ETIMEDOUT).
  bool wait_until(Mutex& m, const timespec& deadline) noexcept {
    const int rc = pthread_cond_timedwait(&c_, m.native(), &deadline);
    if (rc == ETIMEDOUT) return false;
    check(rc, "pthread_cond_timedwait failed");
    return true;
  }

 private:
  pthread_cond_t c_;
};

}  // namespace gilcore::posix
