#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace convoy {

/// Parses a duration with a unit: "5ms", "500us", "2s", "1.5ms", "250ns", "1m". A bare number is
/// taken in `default_unit_ns` nanoseconds. Returns nullopt on anything else (negative, no digits,
/// unknown unit, overflow).
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text,
                                                       double default_unit_ns = 1e9);

/// The shortest exact-ish rendering with a unit: 5000000 ns -> "5ms", 1500 ns -> "1.5us".
std::string format_duration(std::chrono::nanoseconds d);

/// Exact and re-parsable: "5ms", "500us", "1500ns", "2s", "0s".
std::string format_exact_duration(std::chrono::nanoseconds d);

}  // namespace convoy
