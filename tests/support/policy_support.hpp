#pragma once
// Test helpers derived from gilcore's list of policies, so that no test spells the list.

#include <algorithm>
#include <chrono>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "gilcore/config.hpp"
#include "gilcore/policies.hpp"

namespace gilcore::testing {

/// Every policy on the list, as testing::Types for typed test suites.
using AllPolicies = Policies::Apply<::testing::Types>;

/// Every policy's kind, in list order.
inline std::vector<PolicyKind> every_policy_kind() {
  std::vector<PolicyKind> kinds;
  Policies::for_each([&](auto tag) { kinds.push_back(kind_of<typename decltype(tag)::type>()); });
  return kinds;
}

/// P's defaults with every interval shrunk so that its periodic events (drop requests, periodic
/// releases, slices, quanta) happen many times in a short test: durations become 100 µs and
/// counts 20, or the knob's limit when that is further from the default.
template <class P>
typename P::Config quick_config() {
  typename P::Config c{};
  for_each_knob_of<P>([&](const auto& knob) {
    using T = typename std::remove_cvref_t<decltype(knob)>::value_type;
    auto& v = c.*(knob.field);
    if constexpr (std::is_same_v<T, std::chrono::nanoseconds>) {
      v = std::clamp<T>(std::chrono::microseconds(100), knob.limits.min, knob.limits.max);
      v = std::min(v, knob.default_value());
    } else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      v = std::min(std::clamp<T>(20, knob.limits.min, knob.limits.max), knob.default_value());
    }
  });
  return c;
}

/// A lock configuration for P with quick_config's knobs.
template <class P>
LockConfig quick_lock() {
  auto c = LockConfig::for_policy<P>();
  c.template of<P>() = quick_config<P>();
  return c;
}

}  // namespace gilcore::testing
