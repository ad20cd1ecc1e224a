#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace gilcore {

/// Notes about the implementation
///
/// What a policy says about itself, in one place. Every policy class declares:
/// - `kInfo`: its name (the `--policy` value), a one-line summary and what it emulates;
/// - `Config`: a plain struct of its settings, defaults being the original's own;
/// - `kKnobs`: a tuple of Knob, one per setting: the option name (also the TOML key and, with
///   '-' turned into '_', the JSON key), help, the Config field and its limits;
/// - `kCounters`: the events of its own it counts (beside the counters every policy keeps), at
///   most kMaxOwnCounters; it bumps them with ThreadCounters::bump_own(index);
/// - `kExclusive`: whether at most one thread runs Python code at a time.
/// Everything else (the list of names, command-line options, config files, the stats JSON, the
/// typed tests and the benchmark) is derived from these, through the type list in policies.hpp.

/// What a policy is called and what it stands for.
struct PolicyInfo {
  std::string_view name;      ///< the --policy value: lower case, no spaces
  std::string_view summary;   ///< one line, for --list-policies and --help
  std::string_view emulates;  ///< the original, with its public sources
};

/// A counter a policy keeps of its own.
struct CounterInfo {
  std::string_view name;  ///< JSON key, snake_case
  std::string_view help;
};

/// The most counters of its own a policy may declare.
inline constexpr std::size_t kMaxOwnCounters = 6;

/// Limits of an integer or duration knob, both inclusive.
template <class T>
struct Limits {
  T min;
  T max;
};

/// One setting of policy configuration `Config`, a field of type T: int, bool,
/// std::chrono::nanoseconds, or an enum whose values are 0..N-1 named by `choices`.
template <class Config, class T>
struct Knob {
  using value_type = T;
  std::string_view option;  ///< long option without "--", TOML key: "switch-interval"
  std::string_view help;    ///< what it does, without the policy names (they are added)
  T Config::*field;
  Limits<T> limits{};  ///< ignored for bool and enums; durations take convoy's one syntax
  /// Enums: the name of each value, in order.
  std::span<const std::string_view> choices{};

  T default_value() const { return Config{}.*field; }
};

/// Calls f(knob) for every knob of policy P.
template <class P, class F>
constexpr void for_each_knob_of(F&& f) {
  std::apply([&](const auto&... knob) { (f(knob), ...); }, P::kKnobs);
}

namespace detail {
std::string format_knob_limit(std::chrono::nanoseconds v);
std::string format_knob_limit(long long v);
}  // namespace detail

/// Throws std::invalid_argument "<policy> <option> must be in [min, max], got v" when a value of
/// `config` is outside its knob's limits.
template <class P>
void validate_knobs(const typename P::Config& config) {
  for_each_knob_of<P>([&](const auto& knob) {
    using T = typename std::remove_cvref_t<decltype(knob)>::value_type;
    const T& v = config.*(knob.field);
    if constexpr (std::is_same_v<T, std::chrono::nanoseconds> || std::is_integral_v<T>) {
      if constexpr (!std::is_same_v<T, bool>) {
        if (v < knob.limits.min || v > knob.limits.max) {
          auto show = [](const T& x) {
            if constexpr (std::is_same_v<T, std::chrono::nanoseconds>) {
              return detail::format_knob_limit(x);
            } else {
              return detail::format_knob_limit(static_cast<long long>(x));
            }
          };
          throw std::invalid_argument(std::string(P::kInfo.name) + " " + std::string(knob.option) +
                                      " must be in [" + show(knob.limits.min) + ", " +
                                      show(knob.limits.max) + "], got " + show(v));
        }
      }
    } else if constexpr (std::is_enum_v<T>) {
      if (static_cast<std::size_t>(v) >= knob.choices.size()) {
        throw std::invalid_argument(std::string(P::kInfo.name) + " " + std::string(knob.option) +
                                    ": not one of its choices");
      }
    }
  });
}

}  // namespace gilcore
