#include "gilcore/thread_state.hpp"

namespace gilcore {

void ThreadState::add_to(RoleStats& into) const noexcept {
  into.counters += counters_.load();
  wait_.add_to(into.wait_ns);
  hold_.add_to(into.hold_ns);
}

}  // namespace gilcore
