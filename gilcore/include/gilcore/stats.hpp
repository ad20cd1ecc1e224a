#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "convoy/histogram.hpp"
#include "gilcore/policy_traits.hpp"

namespace gilcore {

/// What an emulated thread is for; statistics are kept per role.
enum class Role : std::uint8_t { io, cpu, main };
inline constexpr std::array kRoles{Role::io, Role::cpu, Role::main};
std::string_view to_string(Role role) noexcept;

/// The counters every policy keeps, by name; Counters and ThreadCounters are derived from it.
enum class Counter : std::uint8_t {
  acquisitions,            ///< every time a thread took the lock
  contended_acquisitions,  ///< ... and found it held at first try
  holder_switches,         ///< ... and was not the previous holder
  drop_requests,           ///< a waiter asked the holder to let go (py3's eval breaker)
  forced_switches,         ///< the holder dropped at a check point because it was asked
  periodic_releases,       ///< the holder released and re-took it after its interval (py2)
  futile_wakeups,          ///< a woken waiter found the lock taken again
  handoffs,                ///< the releaser gave the lock to a chosen waiter (no race for it)
};
inline constexpr std::size_t kCounterCount = 8;

/// The counters of some threads: a plain value type for sums, snapshots and JSON. `own` holds
/// the counters the policy declares for itself (PolicyDescription::counters names them).
struct Counters {
  std::uint64_t acquisitions = 0;
  std::uint64_t contended_acquisitions = 0;
  std::uint64_t holder_switches = 0;
  std::uint64_t drop_requests = 0;
  std::uint64_t forced_switches = 0;
  std::uint64_t periodic_releases = 0;
  std::uint64_t futile_wakeups = 0;
  std::uint64_t handoffs = 0;
  std::array<std::uint64_t, kMaxOwnCounters> own{};

  Counters& operator+=(const Counters& o) noexcept;
};

/// The one table of the common counters: name and member, in the order of Counter.
struct CounterField {
  std::string_view name;
  std::uint64_t Counters::*member;
};
inline constexpr std::array<CounterField, kCounterCount> kCounterFields{{
    {"acquisitions", &Counters::acquisitions},
    {"contended_acquisitions", &Counters::contended_acquisitions},
    {"holder_switches", &Counters::holder_switches},
    {"drop_requests", &Counters::drop_requests},
    {"forced_switches", &Counters::forced_switches},
    {"periodic_releases", &Counters::periodic_releases},
    {"futile_wakeups", &Counters::futile_wakeups},
    {"handoffs", &Counters::handoffs},
}};

/// The common counters as JSON, plus the policy's own under their names.
void to_json(nlohmann::json& j, const Counters& c, std::span<const CounterInfo> own);

/// Counters written by one thread and readable by any other: relaxed atomics, written with plain
/// load + store since there is a single writer.
class ThreadCounters {
 public:
  /// Only the owning thread may bump.
  void bump(Counter c) noexcept { increment(common_[static_cast<std::size_t>(c)]); }
  /// One of the policy's own counters, by its index in the policy's kCounters.
  void bump_own(std::size_t index) noexcept { increment(own_[index]); }
  /// Any thread.
  std::uint64_t get(Counter c) const noexcept {
    return common_[static_cast<std::size_t>(c)].load(std::memory_order_relaxed);
  }
  Counters load() const noexcept;

 private:
  static void increment(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  std::array<std::atomic<std::uint64_t>, kCounterCount> common_{};
  std::array<std::atomic<std::uint64_t>, kMaxOwnCounters> own_{};
};

/// Statistics of the threads of one role.
struct RoleStats {
  Counters counters;
  convoy::Histogram wait_ns;  ///< time from asking for the lock to holding it
  convoy::Histogram hold_ns;  ///< time from taking the lock to releasing it
  std::uint64_t threads = 0;
};
void to_json(nlohmann::json& j, const RoleStats& r, std::span<const CounterInfo> own);

/// A snapshot of a lock's statistics; exact once every thread has left the interpreter.
struct StatsSnapshot {
  std::array<RoleStats, kRoles.size()> roles{};
  const RoleStats& of(Role r) const noexcept { return roles[static_cast<std::size_t>(r)]; }
  RoleStats& of(Role r) noexcept { return roles[static_cast<std::size_t>(r)]; }
  /// The counters of all roles added up.
  Counters total() const noexcept;
};
/// {"total": {...counters}, "roles": {"io": {...}, "cpu": {...}, "main": {...}}}, with the
/// policy's own counters under the names in `own`.
void to_json(nlohmann::json& j, const StatsSnapshot& s, std::span<const CounterInfo> own);

}  // namespace gilcore
