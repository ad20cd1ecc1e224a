#pragma once
// The outcome of one socket call, shared by the thread-per-connection session and the event loop.

#include <cerrno>
#include <chrono>
#include <cstdint>

#include "gilcore/clock.hpp"

namespace convoy::server::detail {

/// The outcome of one syscall, with errno captured right after it: the lock re-acquisition that
/// follows a blocking region may clobber errno.
struct SysResult {
  long value = 0;
  int error = 0;
  std::chrono::steady_clock::time_point at{};  ///< when the syscall returned
  std::uint64_t tick = 0;                      ///< the same as a gilcore::Clock tick (timeline)
};

/// Wraps a syscall's return value; call it inside the blocking region, right after the call.
inline SysResult finish(long value) noexcept {
  const int error = value < 0 ? errno : 0;
  return {value, error, std::chrono::steady_clock::now(), gilcore::Clock::now()};
}

/// True when a non-blocking call found nothing to do.
inline bool would_block(const SysResult& r) noexcept {
  return r.value < 0 && (r.error == EAGAIN || r.error == EWOULDBLOCK);
}

}  // namespace convoy::server::detail
