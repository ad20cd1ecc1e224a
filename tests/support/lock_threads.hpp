#pragma once
// Helpers for the unit tests of the lock policies: a thread that takes a lock once while the
// test holds it, polling for a lock's state, a thread's own counters.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>

#include "gilcore/spin.hpp"
#include "gilcore/thread_state.hpp"

namespace gilcore::testing {

/// One of the policy's own counters of `t`, by its index in the policy's kCounters.
inline std::uint64_t own(ThreadState& t, std::size_t index) {
  return t.counters().load().own[index];
}

/// Polls `done` until it is true.
template <class F>
void wait_until(F&& done) {
  while (!done()) std::this_thread::sleep_for(std::chrono::microseconds(50));
}

/// Takes and lets go of `gil` `times` times as `t`, alone.
template <class Gil>
void acquire_release(Gil& gil, ThreadState& t, int times) {
  for (int i = 0; i < times; ++i) {
    gil.acquire(t);
    gil.release(t);
  }
}

/// Tells how many threads were ever inside a section at once: each thread calls pass() where
/// only the lock's holder may be.
class OverlapProbe {
 public:
  /// Enters the section, spins `spins` iterations in it, and leaves.
  void pass(int spins) {
    const int now = inside_.fetch_add(1) + 1;
    int seen = max_inside_.load();
    while (now > seen && !max_inside_.compare_exchange_weak(seen, now)) {
    }
    Spinner::spin(spins);
    inside_.fetch_sub(1);
  }
  /// The most threads inside at once so far.
  int max_inside() const { return max_inside_.load(); }

 private:
  std::atomic<int> inside_{0};
  std::atomic<int> max_inside_{0};
};

/// A thread that takes `gil` once as `state` (blocking while the test holds it), keeps it for
/// `hold`, and lets go. Joined by join() or at destruction.
template <class Gil>
class WaiterThread {
 public:
  WaiterThread(Gil& gil, ThreadState& state,
               std::chrono::nanoseconds hold = std::chrono::nanoseconds(0))
      : thread_([this, &gil, &state, hold] {
          gil.acquire(state);
          held_ = true;
          if (hold.count() > 0) std::this_thread::sleep_for(hold);
          gil.release(state);
        }) {}
  WaiterThread(const WaiterThread&) = delete;
  WaiterThread& operator=(const WaiterThread&) = delete;
  ~WaiterThread() { join(); }

  /// Whether the thread has had the lock.
  bool held() const { return held_.load(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> held_{false};
  std::thread thread_;  // after held_: it starts once held_ exists
};

}  // namespace gilcore::testing
