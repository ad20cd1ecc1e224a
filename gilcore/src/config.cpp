#include "gilcore/config.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "gilcore/catalogue.hpp"

namespace gilcore {

std::string to_string(PolicyKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  if (i >= Policies::kCount) return "?";
  return std::string(
      Policies::with_index(i, [](auto tag) { return decltype(tag)::type::kInfo.name; }));
}

std::optional<PolicyKind> parse_policy(std::string_view name) noexcept {
  std::optional<PolicyKind> found;
  Policies::for_each([&](auto tag) {
    using P = typename decltype(tag)::type;
    if (P::kInfo.name == name) found = kind_of<P>();
  });
  return found;
}

std::string policy_names() {
  std::string out;
  Policies::for_each([&](auto tag) {
    if (!out.empty()) out += ", ";
    out += decltype(tag)::type::kInfo.name;
  });
  return out;
}

void LockConfig::validate() const {
  if (static_cast<std::size_t>(policy) >= Policies::kCount) {
    throw std::invalid_argument("policy must be one of " + policy_names());
  }
  Policies::for_each([&](auto tag) {
    using P = typename decltype(tag)::type;
    validate_knobs<P>(of<P>());
  });
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
  j = {{"policy", to_string(c.policy)}};
  for (const auto& knob : describe(c.policy).knobs) knob.put_json(j, c);
}

void to_json(nlohmann::json& j, const InterpreterConfig& c) {
  j = {{"lock", c.lock},
       {"bytecode_ns", c.bytecode_cost.count()},
       {"bytecodes_per_call", c.bytecodes_per_call}};
}

}  // namespace gilcore
