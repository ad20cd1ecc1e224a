#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "gilcore/config.hpp"
#include "gilcore/policy_traits.hpp"

namespace gilcore {

/// A knob of one policy with its type erased: what option parsers, config files, the stats JSON
/// and --list-policies need. Values travel as text in the syntax of the command line.
struct KnobDescription {
  PolicyKind policy{};
  std::string_view option;  ///< "switch-interval"
  std::string_view help;
  std::string_view type;  ///< "duration", "integer", "boolean" or "choice"
  std::string json_key;   ///< "switch_interval_ns": '-' -> '_', durations end in _ns
  std::string default_text;
  std::string min_text, max_text;    ///< integers and durations
  std::vector<std::string> choices;  ///< choices
  /// nullopt when `text` is a valid value, else why not, on one line.
  std::function<std::optional<std::string>(std::string_view text)> check;
  /// Sets the knob in `config` from a text that passed check().
  std::function<void(LockConfig& config, std::string_view text)> set;
  /// The knob's value in `config`, as text that check() accepts.
  std::function<std::string(const LockConfig& config)> text_of;
  /// Stores the knob's value in `into[json_key]` (durations in ns).
  std::function<void(nlohmann::json& into, const LockConfig& config)> put_json;
};

/// A policy as --list-policies shows it.
struct PolicyDescription {
  PolicyKind kind{};
  PolicyInfo info;
  bool exclusive = true;
  std::vector<KnobDescription> knobs;
  std::span<const CounterInfo> counters;
};

/// Every policy on the list, in list order.
const std::vector<PolicyDescription>& catalogue();
/// The description of one policy.
const PolicyDescription& describe(PolicyKind kind);

/// "py3 (switch-interval 5ms, force-switching true)": the policy and its knobs as set.
std::string describe(const LockConfig& config);

/// The list as JSON: [{"name", "summary", "emulates", "exclusive", "knobs": [{"option", "type",
/// "default", "help", "min", "max", "choices"}], "counters": [{"name", "help"}]}].
nlohmann::json catalogue_json();

}  // namespace gilcore
