#pragma once

#include <tuple>

#include "gilcore/policy_traits.hpp"

namespace gilcore {

/// The setting of CPython 2.7's ticker, shared by py2 and fifo (both keep 2.7's _Py_Ticker).
struct CheckIntervalConfig {
  /// Ticks between two periodic releases of the holder (sys.setcheckinterval, 100 in 2.7): py2
  /// releases and re-takes the lock, fifo yields if somebody waits.
  int check_interval = 100;
};

/// The one knob of CheckIntervalConfig.
inline constexpr std::tuple kCheckIntervalKnobs{
    Knob<CheckIntervalConfig, int>{"check-interval",
                                   "ticks between two periodic releases (sys.setcheckinterval)",
                                   &CheckIntervalConfig::check_interval,
                                   {1, 1'000'000'000}}};

}  // namespace gilcore
