#include "convoy/duration.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace convoy {

namespace {

// The number of a duration and what follows it; nullopt unless the text starts with digits,
// optionally followed by '.' and digits.
struct Number {
  double value;
  std::string_view unit;
};

std::optional<Number> split_number(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  auto digits_from = [&](std::size_t i) {
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i;
  };
  std::size_t end = digits_from(0);
  if (end == 0) return std::nullopt;
  if (end < text.size() && text[end] == '.') {
    const std::size_t fraction = digits_from(end + 1);
    if (fraction == end + 1) return std::nullopt;
    end = fraction;
  }
  return Number{std::stod(std::string(text.substr(0, end))), text.substr(end)};
}

// Nanoseconds per unit, or 0 for a unit that is not one.
double unit_ns(std::string_view unit) {
  struct Unit {
    std::string_view name;
    double ns;
  };
  static constexpr Unit kUnits[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}};
  for (const auto& u : kUnits) {
    if (u.name == unit) return u.ns;
  }
  return 0;
}

std::optional<std::chrono::nanoseconds> to_nanoseconds(double value, double scale) {
  const double ns = value * scale;
  if (!std::isfinite(ns) || ns > 9.0e18) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(ns)));
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  const auto number = split_number(text);
  if (!number) return std::nullopt;
  if (number->unit.empty()) {
    if (number->value == 0) return std::chrono::nanoseconds(0);
    return std::nullopt;
  }
  const double scale = unit_ns(number->unit);
  if (scale == 0) return std::nullopt;
  return to_nanoseconds(number->value, scale);
}

std::string duration_error(std::string_view text) {
  constexpr std::size_t kShown = 40;
  std::string shown(text.substr(0, kShown));
  if (text.size() > kShown) shown += "...";
  if (const auto number = split_number(text); number && number->unit.empty()) {
    const std::string n =
        shown.substr(shown.find_first_not_of(' '),
                     shown.find_last_not_of(' ') - shown.find_first_not_of(' ') + 1);
    return "'" + shown + "' is not a duration (it needs a unit: " + n + "s, " + n + "ms, " + n +
           "us; only 0 goes without one)";
  }
  return "'" + shown + "' is not a duration (a number and a unit: 500us, 2ms, 10s)";
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
