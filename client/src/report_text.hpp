#pragma once

// Internal to convoy_client: what the writers of the result formats share.

#include <cstdint>
#include <cstdio>
#include <string>

namespace convoy::client::report_detail {

/// Nanoseconds as microseconds, the unit of every result file.
inline double us(double ns) { return ns / 1e3; }
inline double us(std::uint64_t ns) { return static_cast<double>(ns) / 1e3; }

/// printf into a string (lines of the text formats are short).
template <typename... Args>
std::string format(const char* fmt, Args... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

}  // namespace convoy::client::report_detail
