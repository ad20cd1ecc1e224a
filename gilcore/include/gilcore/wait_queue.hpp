#pragma once

#include <atomic>

namespace gilcore {

/// The waiting threads of a lock in arrival order, linked through each thread's own per-thread
/// data (`T* prev`, `T* next`), so that queueing allocates nothing. Changed under the lock's
/// mutex only; size() may be read by any thread (relaxed), as a hint.
template <class T>
class WaitQueue {
 public:
  T* front() const noexcept { return head_; }
  T* back() const noexcept { return tail_; }
  bool empty() const noexcept { return head_ == nullptr; }
  int size() const noexcept { return size_.load(std::memory_order_relaxed); }

  void push_back(T& x) noexcept {
    x.prev = tail_;
    x.next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = &x;
    } else {
      head_ = &x;
    }
    tail_ = &x;
    size_.store(size() + 1, std::memory_order_relaxed);
  }
  /// Takes `x`, which is queued, out of the queue.
  void remove(T& x) noexcept {
    (x.prev != nullptr ? x.prev->next : head_) = x.next;
    (x.next != nullptr ? x.next->prev : tail_) = x.prev;
    x.prev = x.next = nullptr;
    size_.store(size() - 1, std::memory_order_relaxed);
  }
  /// Takes the first waiter out; nullptr when nobody waits.
  T* pop_front() noexcept {
    T* x = head_;
    if (x != nullptr) remove(*x);
    return x;
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
  std::atomic<int> size_{0};
};

}  // namespace gilcore
