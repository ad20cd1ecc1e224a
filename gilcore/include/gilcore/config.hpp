#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include <nlohmann/json_fwd.hpp>

#include "gilcore/policies.hpp"

namespace gilcore {

/// The name of a policy: "py3" (a std::string, which CLI11 also uses to show defaults).
std::string to_string(PolicyKind kind);
/// The kind for a name, or nullopt for an unknown name.
std::optional<PolicyKind> parse_policy(std::string_view name) noexcept;
/// "none, py2, py3, ..." — for error messages and --help.
std::string policy_names();

/// The lock: which policy, and the settings of every policy (only the chosen one's are used, the
/// others keep their values so that a configuration can switch policy and keep its knobs).
struct LockConfig {
  PolicyKind policy = kind_of<Py3Gil>();
  Policies::Configs configs{};

  /// The settings of policy P.
  template <class P>
  typename P::Config& of() noexcept {
    return std::get<Policies::index_of<P>()>(configs);
  }
  template <class P>
  const typename P::Config& of() const noexcept {
    return std::get<Policies::index_of<P>()>(configs);
  }
  /// A configuration for policy P with its defaults.
  template <class P>
  static LockConfig for_policy() {
    LockConfig c;
    c.policy = kind_of<P>();
    return c;
  }

  /// Throws std::invalid_argument with a one-line message naming the bad setting; checks the
  /// knobs of every policy.
  void validate() const;
};

/// The emulated interpreter: the lock plus the cost model of Python-level work.
struct InterpreterConfig {
  LockConfig lock;
  /// Cost of one emulated bytecode (a calibrated busy spin), followed by one check point.
  std::chrono::nanoseconds bytecode_cost = std::chrono::nanoseconds(25);
  /// Bytecodes executed per call of the fib workload.
  int bytecodes_per_call = 10;

  /// Throws std::invalid_argument with a one-line message naming the bad setting.
  void validate() const;
};

/// {"policy": name, <knob json key>: value...} with the chosen policy's knobs only.
void to_json(nlohmann::json& j, const LockConfig& c);
void to_json(nlohmann::json& j, const InterpreterConfig& c);

}  // namespace gilcore
