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
  acquisitions += o.acquisitions;
  contended_acquisitions += o.contended_acquisitions;
  holder_switches += o.holder_switches;
  drop_requests += o.drop_requests;
  forced_switches += o.forced_switches;
  periodic_releases += o.periodic_releases;
  futile_wakeups += o.futile_wakeups;
  return *this;
}

void to_json(nlohmann::json& j, const Counters& c) {
  j = {{"acquisitions", c.acquisitions},       {"contended_acquisitions", c.contended_acquisitions},
       {"holder_switches", c.holder_switches}, {"drop_requests", c.drop_requests},
       {"forced_switches", c.forced_switches}, {"periodic_releases", c.periodic_releases},
       {"futile_wakeups", c.futile_wakeups}};
}

Counters ThreadCounters::load() const noexcept {
  constexpr auto r = std::memory_order_relaxed;
  return {acquisitions.load(r),  contended_acquisitions.load(r), holder_switches.load(r),
          drop_requests.load(r), forced_switches.load(r),        periodic_releases.load(r),
          futile_wakeups.load(r)};
}

void to_json(nlohmann::json& j, const RoleStats& r) {
  j = {{"threads", r.threads}, {"counters", r.counters}, {"wait", r.wait_ns}, {"hold", r.hold_ns}};
}

Counters StatsSnapshot::total() const noexcept {
  Counters sum;
  for (const auto& r : roles) sum += r.counters;
  return sum;
}

void to_json(nlohmann::json& j, const StatsSnapshot& s) {
  j = nlohmann::json::object();
  j["total"] = s.total();
  for (const auto role : kRoles) j["roles"][std::string(to_string(role))] = s.of(role);
}

}  // namespace gilcore
