#include "convoy/duration.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace convoy {

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text,
                                                       double default_unit_ns) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::size_t i = 0;
  bool digits = false;
  bool dot = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits) return std::nullopt;
  const double value = std::stod(std::string(text.substr(0, i)));
  const std::string_view unit = text.substr(i);
  double scale = 0;
  if (unit.empty())
    scale = default_unit_ns;
  else if (unit == "ns")
    scale = 1;
  else if (unit == "us" || unit == "µs")
    scale = 1e3;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "s")
    scale = 1e9;
  else if (unit == "m" || unit == "min")
    scale = 60e9;
  else
    return std::nullopt;
  const double ns = value * scale;
  if (!std::isfinite(ns) || ns > 9.0e18) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(ns)));
}

std::string format_duration(std::chrono::nanoseconds d) {
  const auto ns = static_cast<double>(d.count());
  struct Unit {
    double scale;
    const char* name;
  };
  static constexpr Unit units[] = {{60e9, "m"}, {1e9, "s"}, {1e6, "ms"}, {1e3, "us"}, {1, "ns"}};
  for (const auto& u : units) {
    if (std::fabs(ns) >= u.scale || u.scale == 1) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.6g%s", ns / u.scale, u.name);
      return buf;
    }
  }
  return "0ns";
}

std::string format_exact_duration(std::chrono::nanoseconds d) {
  struct Unit {
    std::int64_t ns;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1'000'000'000, "s"}, {1'000'000, "ms"}, {1'000, "us"}};
  const auto ns = d.count();
  if (ns == 0) return "0s";
  for (const auto& u : kUnits) {
    if (ns % u.ns == 0) return std::to_string(ns / u.ns) + u.name;
  }
  return std::to_string(ns) + "ns";
}

}  // namespace convoy
