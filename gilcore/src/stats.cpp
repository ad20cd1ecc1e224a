#include "gilcore/stats.hpp"

#include <nlohmann/json.hpp>

namespace gilcore {

std::string_view to_string(Role role) noexcept {
  switch (role) {
    case Role::io: return "io";
    case Role::cpu: return "cpu";
    case Role::main: return "main";
  }
  return "?";
}

Counters& Counters::operator+=(const Counters& o) noexcept {
  for (const auto& f : kCounterFields) this->*f.member += o.*f.member;
  for (std::size_t i = 0; i < own.size(); ++i) own[i] += o.own[i];
  return *this;
}

void to_json(nlohmann::json& j, const Counters& c, std::span<const CounterInfo> own) {
  j = nlohmann::json::object();
  for (const auto& f : kCounterFields) j[std::string(f.name)] = c.*f.member;
  for (std::size_t i = 0; i < own.size() && i < c.own.size(); ++i) {
    j[std::string(own[i].name)] = c.own[i];
  }
}

Counters ThreadCounters::load() const noexcept {
  Counters c;
  for (std::size_t i = 0; i < kCounterFields.size(); ++i) {
    c.*kCounterFields[i].member = common_[i].load(std::memory_order_relaxed);
  }
  for (std::size_t i = 0; i < own_.size(); ++i) c.own[i] = own_[i].load(std::memory_order_relaxed);
  return c;
}

void to_json(nlohmann::json& j, const RoleStats& r, std::span<const CounterInfo> own) {
  nlohmann::json counters;
  to_json(counters, r.counters, own);
  j = {{"threads", r.threads}, {"counters", counters}, {"wait", r.wait_ns}, {"hold", r.hold_ns}};
}

Counters StatsSnapshot::total() const noexcept {
  Counters sum;
  for (const auto& r : roles) sum += r.counters;
  return sum;
}

void to_json(nlohmann::json& j, const StatsSnapshot& s, std::span<const CounterInfo> own) {
  j = nlohmann::json::object();
  to_json(j["total"], s.total(), own);
  for (const auto role : kRoles) to_json(j["roles"][std::string(to_string(role))], s.of(role), own);
}

}  // namespace gilcore
