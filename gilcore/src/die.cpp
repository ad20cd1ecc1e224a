#include "gilcore/die.hpp"

#include <cstdio>
#include <cstdlib>

namespace gilcore {

void die(const char* what) noexcept {
  std::fprintf(stderr, "gilcore: bug: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace gilcore
