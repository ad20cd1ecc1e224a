#include "gilcore/config.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace gilcore {

std::string_view to_string(PolicyKind kind) noexcept {
  switch (kind) {
    case PolicyKind::none: return "none";
    case PolicyKind::py2: return "py2";
    case PolicyKind::py3: return "py3";
  }
  return "?";
}

std::optional<PolicyKind> parse_policy(std::string_view name) noexcept {
  for (const auto kind : {PolicyKind::none, PolicyKind::py2, PolicyKind::py3}) {
    if (to_string(kind) == name) return kind;
  }
  return std::nullopt;
}

std::string policy_names() { return "none, py2, py3"; }

void LockConfig::validate() const {
  using namespace std::chrono_literals;
  if (switch_interval < 1us) {
    throw std::invalid_argument(
        "switch interval must be at least 1us (CPython's resolution), got " +
        std::to_string(switch_interval.count()) + "ns");
  }
  if (switch_interval > 1h) {
    throw std::invalid_argument("switch interval must be at most 1h, got " +
                                std::to_string(switch_interval.count()) + "ns");
  }
  if (check_interval < 1) {
    throw std::invalid_argument("check interval must be at least 1 tick, got " +
                                std::to_string(check_interval));
  }
}

void InterpreterConfig::validate() const {
  lock.validate();
  if (bytecode_cost.count() < 0) {
    throw std::invalid_argument("bytecode cost must not be negative, got " +
                                std::to_string(bytecode_cost.count()) + "ns");
  }
  if (bytecode_cost > std::chrono::milliseconds(100)) {
    throw std::invalid_argument("bytecode cost must be at most 100ms, got " +
                                std::to_string(bytecode_cost.count()) + "ns");
  }
  if (bytecodes_per_call < 1) {
    throw std::invalid_argument("bytecodes per call must be at least 1, got " +
                                std::to_string(bytecodes_per_call));
  }
}

void to_json(nlohmann::json& j, const LockConfig& c) {
  j = {{"policy", to_string(c.policy)},
       {"switch_interval_ns", c.switch_interval.count()},
       {"force_switching", c.force_switching},
       {"check_interval", c.check_interval}};
}

void to_json(nlohmann::json& j, const InterpreterConfig& c) {
  j = {{"lock", c.lock},
       {"bytecode_ns", c.bytecode_cost.count()},
       {"bytecodes_per_call", c.bytecodes_per_call}};
}

}  // namespace gilcore
