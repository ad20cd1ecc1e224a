#include "gilcore/clock.hpp"

#include <fstream>
#include <string>
#include <thread>

namespace gilcore {
namespace {

bool invariant_tsc() noexcept {
#if defined(__x86_64__)
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      return line.find(" constant_tsc") != std::string::npos &&
             line.find(" nonstop_tsc") != std::string::npos;
    }
  }
#endif
  return false;
}

}  // namespace

Clock::Clock() noexcept {
#if defined(__x86_64__)
  if (!invariant_tsc()) return;
  // Two 10 ms windows; keep the second so the first absorbs page faults and frequency ramps.
  double ratio = 0;
  for (int round = 0; round < 2; ++round) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto c0 = __rdtsc();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto t1 = std::chrono::steady_clock::now();
    const auto c1 = __rdtsc();
    if (c1 <= c0) return;
    ratio = static_cast<double>((t1 - t0).count()) / static_cast<double>(c1 - c0);
  }
  if (ratio > 0) {
    ns_per_tick_ = ratio;
    ns_per_tick_q32_ = static_cast<std::uint64_t>(ratio * 4294967296.0);
    tsc_ = true;
  }
#endif
}

}  // namespace gilcore
