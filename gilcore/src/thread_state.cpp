#include "gilcore/thread_state.hpp"

#include <cstdio>
#include <cstdlib>

namespace gilcore {

void die(const char* what) noexcept {
  std::fprintf(stderr, "gilcore: bug: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

void ThreadState::add_to(RoleStats& into) const noexcept {
  into.counters += counters_.load();
  wait_.add_to(into.wait_ns);
  hold_.add_to(into.hold_ns);
}

}  // namespace gilcore
