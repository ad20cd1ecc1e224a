#include "gilcore/policy_priority.hpp"

namespace gilcore {

// A thread's class, in its ThreadState's policy slot; touched by that thread only.
struct PriorityGil::PerThread {
  bool cpu_class = false;  // every thread starts I/O-class
};

PriorityGil::PriorityGil(const Config& config)
    : gil_((validate_knobs<PriorityGil>(config), config)) {}

PriorityGil::PerThread& PriorityGil::of(ThreadState& t) noexcept {
  return t.has_policy_data() ? t.policy_data<PerThread>() : t.emplace_policy_data<PerThread>();
}

bool PriorityGil::cpu_class(ThreadState& t) noexcept { return of(t).cpu_class; }

void PriorityGil::acquire(ThreadState& t) noexcept {
  auto& counters = t.counters();
  const bool cpu_class = of(t).cpu_class;
  gil_.lock();
  const bool contended = gil_.locked() || (cpu_class && io_waiting_ > 0);
  const std::uint64_t asked_at = contended ? Clock::now() : 0;

  if (!cpu_class) {
    if (gil_.locked()) {
      ++io_waiting_;
      while (gil_.locked()) {
        // A CPU-class holder is asked at once; a holder of our class after an interval, as py3.
        if (holder_cpu_class_ && !gil_.drop_requested()) {
          gil_.request_drop(t);
          counters.bump_own(kImmediateRequests);
        }
        gil_.wait_turn(t, io_cond_);
      }
      --io_waiting_;
    }
  } else {
    bool yielded = false;
    while (gil_.locked() || io_waiting_ > 0) {
      if (!gil_.locked() && !yielded) {
        counters.bump_own(kYieldedToIo);
        yielded = true;
      }
      gil_.wait_turn(t, gil_.cond());
    }
  }

  const bool switched = gil_.take(t);
  holder_cpu_class_ = cpu_class;
  t.note_acquired(asked_at, contended, switched);
  gil_.unlock();
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
  gil_.drop(t, "release() of a priority lock that is not locked",
            [this]() -> posix::Cond& { return io_waiting_ > 0 ? io_cond_ : gil_.cond(); });
}

void PriorityGil::forced_drop(ThreadState& t) noexcept {
  t.counters().bump(Counter::forced_switches);
  release(t, Release::forced);
  acquire(t);
}

}  // namespace gilcore
