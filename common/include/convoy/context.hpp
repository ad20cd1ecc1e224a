#pragma once

#include <nlohmann/json.hpp>

namespace convoy {

/// The machine and build a result was measured on: host, kernel, CPU model, online cores, the
/// CPUs this process may run on, clocksource, build type, git revision and the start time (UTC).
/// Every result file carries it, because the numbers depend on it.
nlohmann::json machine_context();

}  // namespace convoy
