#include "gilcore/policy_priority.hpp"

namespace gilcore {

// A thread's class, in its ThreadState's policy slot; touched by that thread only.
struct PriorityGil::PerThread {
  bool cpu_class = false;  // every thread starts I/O-class
};

PriorityGil::PriorityGil(const Config& config)
    : interval_((validate_knobs<PriorityGil>(config), config.switch_interval)),
      force_switching_(config.force_switching) {}

PriorityGil::PerThread& PriorityGil::of(ThreadState& t) noexcept {
  return t.has_policy_data() ? t.policy_data<PerThread>() : t.emplace_policy_data<PerThread>();
}

bool PriorityGil::cpu_class(ThreadState& t) noexcept { return of(t).cpu_class; }

void PriorityGil::request_drop(ThreadState& t) noexcept {
  drop_request_.store(true, std::memory_order_relaxed);
  t.counters().bump(Counter::drop_requests);
  t.note_drop_request();
}

void PriorityGil::acquire(ThreadState& t) noexcept {
  auto& counters = t.counters();
  const bool cpu_class = of(t).cpu_class;
  mutex_.lock();
  auto locked = [this] { return locked_.load(std::memory_order_relaxed) != 0; };
  const bool contended = locked() || (cpu_class && io_waiting_ > 0);
  const std::uint64_t asked_at = contended ? Clock::now() : 0;

  if (!cpu_class) {
    if (locked()) {
      ++io_waiting_;
      while (locked()) {
        // A CPU-class holder is asked at once; a holder of our class after an interval, as py3.
        if (holder_cpu_class_ && !drop_request_.load(std::memory_order_relaxed)) {
          request_drop(t);
          counters.bump_own(kImmediateRequests);
        }
        const unsigned long saved_switch_number = switch_number_;
        if (!io_cond_.wait_until(mutex_, posix::deadline_after(interval_))) {
          if (locked() && switch_number_ == saved_switch_number) request_drop(t);
        } else if (locked()) {
          counters.bump(Counter::futile_wakeups);
        }
      }
      --io_waiting_;
    }
  } else {
    bool yielded = false;
    while (locked() || io_waiting_ > 0) {
      if (!locked() && !yielded) {
        counters.bump_own(kYieldedToIo);
        yielded = true;
      }
      const unsigned long saved_switch_number = switch_number_;
      if (!cond_.wait_until(mutex_, posix::deadline_after(interval_))) {
        if (locked() && switch_number_ == saved_switch_number) request_drop(t);
      } else if (locked()) {
        counters.bump(Counter::futile_wakeups);
      }
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

  holder_cpu_class_ = cpu_class;
  drop_request_.store(false, std::memory_order_relaxed);
  t.note_acquired(asked_at, contended, switched);
  mutex_.unlock();
}

void PriorityGil::release(ThreadState& t, Release why) noexcept {
  t.note_releasing(why);
  auto& me = of(t);
  if (why == Release::forced && !me.cpu_class) {
    me.cpu_class = true;
    t.counters().bump_own(kBecameCpuClass);
  } else if (why == Release::voluntary && me.cpu_class) {
    me.cpu_class = false;
    t.counters().bump_own(kBecameIoClass);
  }
  last_holder_.store(&t, std::memory_order_relaxed);

  mutex_.lock();
  if (locked_.load(std::memory_order_relaxed) == 0)
    die("release() of a priority lock that is not locked");
  locked_.store(0, std::memory_order_relaxed);
  if (io_waiting_ > 0) {
    io_cond_.signal();
  } else {
    cond_.signal();
  }
  mutex_.unlock();

  if (force_switching_ && drop_request_.load(std::memory_order_relaxed)) {
    switch_mutex_.lock();
    if (last_holder_.load(std::memory_order_relaxed) == &t) {
      drop_request_.store(false, std::memory_order_relaxed);
      switch_cond_.wait(switch_mutex_);
    }
    switch_mutex_.unlock();
  }
}

void PriorityGil::forced_drop(ThreadState& t) noexcept {
  t.counters().bump(Counter::forced_switches);
  release(t, Release::forced);
  acquire(t);
}

}  // namespace gilcore
