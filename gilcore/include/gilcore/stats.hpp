#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "gilcore/histogram.hpp"

namespace gilcore {

/// What an emulated thread is for; statistics are kept per role.
enum class Role : std::uint8_t { io, cpu, main };
inline constexpr std::array kRoles{Role::io, Role::cpu, Role::main};
std::string_view to_string(Role role) noexcept;

/// The counters every policy keeps. A plain value type: sums, snapshots, JSON.
struct Counters {
  std::uint64_t acquisitions = 0;            ///< every time a thread took the lock
  std::uint64_t contended_acquisitions = 0;  ///< ... and found it held at first try
  std::uint64_t holder_switches = 0;         ///< ... and was not the previous holder
  std::uint64_t drop_requests = 0;           ///< py3: a waiter timed out with no switch and asked
  std::uint64_t forced_switches = 0;    ///< py3: the holder dropped at a check point because asked
  std::uint64_t periodic_releases = 0;  ///< py2: release + re-acquire after check_interval ticks
  std::uint64_t futile_wakeups = 0;     ///< a woken waiter found the lock taken again

  Counters& operator+=(const Counters& o) noexcept;
};
void to_json(nlohmann::json& j, const Counters& c);

/// Counters written by one thread and readable by any other: relaxed atomics, written with plain
/// load + store since there is a single writer.
struct ThreadCounters {
  std::atomic<std::uint64_t> acquisitions{0};
  std::atomic<std::uint64_t> contended_acquisitions{0};
  std::atomic<std::uint64_t> holder_switches{0};
  std::atomic<std::uint64_t> drop_requests{0};
  std::atomic<std::uint64_t> forced_switches{0};
  std::atomic<std::uint64_t> periodic_releases{0};
  std::atomic<std::uint64_t> futile_wakeups{0};

  /// Only the owning thread may bump.
  static void bump(std::atomic<std::uint64_t>& c) noexcept {
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  Counters load() const noexcept;
};

/// Statistics of the threads of one role.
struct RoleStats {
  Counters counters;
  HistogramData wait_ns;  ///< time from asking for the lock to holding it
  HistogramData hold_ns;  ///< time from taking the lock to releasing it
  std::uint64_t threads = 0;
};
void to_json(nlohmann::json& j, const RoleStats& r);

/// A snapshot of a lock's statistics; exact once every thread has left the interpreter.
struct StatsSnapshot {
  std::array<RoleStats, kRoles.size()> roles{};
  const RoleStats& of(Role r) const noexcept { return roles[static_cast<std::size_t>(r)]; }
  RoleStats& of(Role r) noexcept { return roles[static_cast<std::size_t>(r)]; }
  /// The counters of all roles added up.
  Counters total() const noexcept;
};
/// {"total": {...counters}, "roles": {"io": {...}, "cpu": {...}, "main": {...}}}
void to_json(nlohmann::json& j, const StatsSnapshot& s);

}  // namespace gilcore
