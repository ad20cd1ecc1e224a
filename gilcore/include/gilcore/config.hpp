#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace gilcore {

/// The lock designs gilcore can emulate. See each policy header for what it copies.
enum class PolicyKind { none, py2, py3 };

/// "none", "py2", "py3".
std::string_view to_string(PolicyKind kind) noexcept;
/// The kind for a name, or nullopt for an unknown name.
std::optional<PolicyKind> parse_policy(std::string_view name) noexcept;
/// "none, py2, py3" — for error messages and --help.
std::string policy_names();

/// The lock and its knobs. Defaults are the interpreters' own.
struct LockConfig {
  PolicyKind policy = PolicyKind::py3;
  /// py3: how long a waiter sleeps before it asks the holder to drop (sys.setswitchinterval).
  std::chrono::nanoseconds switch_interval = std::chrono::milliseconds(5);
  /// py3: the dropper waits until another thread took the lock (CPython's FORCE_SWITCHING).
  bool force_switching = true;
  /// py2: ticks between two release+re-acquire of the holder (sys.setcheckinterval).
  int check_interval = 100;

  /// Throws std::invalid_argument with a one-line message naming the bad setting.
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

void to_json(nlohmann::json& j, const LockConfig& c);
void to_json(nlohmann::json& j, const InterpreterConfig& c);

}  // namespace gilcore
