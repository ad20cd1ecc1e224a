#include "gilcore/policy_py3.hpp"

namespace gilcore {

Py3Gil::Py3Gil(const Config& config) : gil_((validate_knobs<Py3Gil>(config), config)) {}

void Py3Gil::acquire(ThreadState& t) noexcept {
  gil_.lock();
  // The wait is timed from here: the mutex is only ever held for a few instructions, and the
  // uncontended path is spared a clock read.
  const bool contended = gil_.locked();
  const std::uint64_t asked_at = contended ? Clock::now() : 0;
  while (gil_.locked()) gil_.wait_turn(t, gil_.cond());
  const bool switched = gil_.take(t);
  t.note_acquired(asked_at, contended, switched);
  gil_.unlock();
}

void Py3Gil::release(ThreadState& t, Release why) noexcept {
  t.note_releasing(why);
  gil_.drop(t, "release() of a py3 lock that is not locked",
            [this]() -> posix::Cond& { return gil_.cond(); });
}

void Py3Gil::forced_drop(ThreadState& t) noexcept {
  t.counters().bump(Counter::forced_switches);
  release(t, Release::forced);
  acquire(t);
}

}  // namespace gilcore
