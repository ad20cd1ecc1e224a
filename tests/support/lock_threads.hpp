#pragma once
// Helpers for the unit tests of the lock policies: a thread that takes a lock once while the
// test holds it, polling for a lock's state, a thread's own counters.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

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

/// The counters of `t` after it took `gil`, passed `times` check points alone, and let go.
template <class Gil>
Counters alone_at_check_points(Gil& gil, ThreadState& t, int times) {
  gil.acquire(t);
  for (int i = 0; i < times; ++i) gil.check_point(t);
  gil.release(t);
  return t.counters().load();
}

/// The order in which `states` get `gil` after `holder`, which holds it, lets go: a thread per
/// state asks for the lock, one after the other, each once `queued(n)` says that the n before it
/// and itself wait. Returns the indices of `states` in the order they were served.
template <class Gil, class Queued>
std::vector<int> served_order(Gil& gil, ThreadState& holder, std::deque<ThreadState>& states,
                              Queued&& queued) {
  std::mutex order_mutex;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int i = 0; i < static_cast<int>(states.size()); ++i) {
    threads.emplace_back([&, i] {
      gil.acquire(states[i]);
      {
        std::lock_guard lock(order_mutex);
        order.push_back(i);
      }
      gil.release(states[i]);
    });
    wait_until([&] { return queued(i + 1); });  // thread i waits before thread i + 1 starts
  }
  gil.release(holder);
  for (auto& th : threads) th.join();
  return order;
}

/// 0, 1, ... n - 1: the order of arrival of served_order's threads.
inline std::vector<int> arrival_order(int n) {
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  return order;
}

/// After served_order in arrival order: the holder handed the lock to the first state, each
/// state waited for it and handed it to the next, the last to nobody.
inline void expect_handed_along(ThreadState& holder, std::deque<ThreadState>& states) {
  EXPECT_EQ(holder.counters().get(Counter::handoffs), 1u);
  for (std::size_t i = 0; i < states.size(); ++i) {
    EXPECT_EQ(states[i].counters().get(Counter::contended_acquisitions), 1u) << i;
    EXPECT_EQ(states[i].counters().get(Counter::handoffs), i + 1 < states.size() ? 1u : 0u) << i;
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
