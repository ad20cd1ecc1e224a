#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace convoy {

/// convoy's one duration syntax (convoy-server, convoy-client and the scripts): a decimal number
/// (digits, optionally a '.' and more digits) and a unit, ns, us, ms, s or m (minutes): "250ns",
/// "500us", "1.5ms", "2s", "1m". A bare zero ("0", "0.0") is zero. Spaces around it are ignored.
/// Returns nullopt for anything else: a bare number, a sign, an exponent, another unit, overflow.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

/// Why `text` is not a duration, on one line, for an option's error message: "'30' is not a
/// duration (it needs a unit: 30s, 30ms, 30us; only 0 goes without one)" for a bare number, "'x'
/// is not a duration (a number and a unit: 500us, 2ms, 10s)" otherwise. Long texts are cut.
std::string duration_error(std::string_view text);

/// The shortest exact-ish rendering with a unit: 5000000 ns -> "5ms", 1500 ns -> "1.5us".
std::string format_duration(std::chrono::nanoseconds d);

/// Exact and re-parsable: "5ms", "500us", "1500ns", "2s", "0s".
std::string format_exact_duration(std::chrono::nanoseconds d);

}  // namespace convoy
