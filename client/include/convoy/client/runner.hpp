#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "convoy/client/config.hpp"
#include "convoy/histogram.hpp"

namespace convoy::client {

/// Echoes that were not what was sent, or never came.
struct ErrorCounts {
  std::uint64_t corrupted = 0;     ///< a byte differs from what was sent
  std::uint64_t reordered = 0;     ///< intact, but not the oldest outstanding request's echo
  std::uint64_t duplicated = 0;    ///< intact echo of a request already answered
  std::uint64_t short_echoes = 0;  ///< the connection ended in the middle of an echo
  std::uint64_t timeouts = 0;      ///< no echo within --timeout (the connection is given up)
  std::uint64_t lost = 0;  ///< outstanding on a connection that ended (closed, reset, timed out)
  std::uint64_t abandoned = 0;  ///< outstanding on healthy connections when the run was stopped

  /// Everything that makes the run fail (abandoned requests are a consequence, not a cause).
  std::uint64_t total() const;
  /// Adds another thread's counts.
  void add(const ErrorCounts& o);
};

/// One counter of ErrorCounts: its key in the JSON result, its words in the summary, whether it
/// makes the run fail. The sum, the total, the JSON and the summary all go through this table.
struct ErrorCounter {
  const char* key;
  const char* words;
  std::uint64_t ErrorCounts::*member;
  bool fails_the_run;
};

inline constexpr std::array<ErrorCounter, 7> kErrorCounters{{
    {"corrupted", "corrupted", &ErrorCounts::corrupted, true},
    {"reordered", "reordered", &ErrorCounts::reordered, true},
    {"duplicated", "duplicated", &ErrorCounts::duplicated, true},
    {"short", "short", &ErrorCounts::short_echoes, true},
    {"timeouts", "timed out", &ErrorCounts::timeouts, true},
    {"lost", "lost", &ErrorCounts::lost, true},
    {"abandoned", "abandoned at stop", &ErrorCounts::abandoned, false},
}};

/// What ended a run early (JSON error_kind). none: nothing did.
enum class ErrorKind {
  none,
  resolve,      ///< the host name did not resolve
  connect,      ///< a connection could not be made within --connect-timeout
  closed,       ///< the server closed a connection
  reset,        ///< the server reset a connection
  io,           ///< another read or write error
  timeout,      ///< no echo within --timeout
  interrupted,  ///< SIGINT, SIGTERM or SIGHUP
  setup,        ///< a client thread could not be pinned to its --cpus CPU
  internal,     ///< a client thread failed
};

/// The JSON and log name of a kind: "resolve", "connect", ...; "" for none.
const char* to_string(ErrorKind kind);

/// Everything one run measured; histograms in nanoseconds.
struct RunResult {
  bool connected = false;                  ///< false: nothing was sent (see error)
  std::string error;                       ///< the first fatal error, in words; empty if none
  ErrorKind error_kind = ErrorKind::none;  ///< its kind, one of ErrorKind (none if no error)
  std::string first_corruption;            ///< where the first corrupted echo differed

  /// Closed loop: round trip from the send. Open loop: from the intended send time (coordinated
  /// omission corrected).
  convoy::Histogram latency;
  convoy::Histogram service;                  ///< from the actual send time (open loop only)
  convoy::Histogram lag;                      ///< actual minus intended send time (open loop only)
  std::vector<convoy::Histogram> per_second;  ///< `latency` per second since the measured start

  ErrorCounts errors;
  std::uint64_t sent = 0;       ///< measured requests written
  std::uint64_t completed = 0;  ///< measured requests answered correctly (in `latency`)
  /// Measured requests the schedule asked for and that were never written: held back by
  /// --max-in-flight until the measured time was over, or not yet written when a connection
  /// failed or the run was stopped. Not in any histogram.
  std::uint64_t not_sent = 0;
  std::uint64_t warmup_sent = 0;
  std::uint64_t warmup_completed = 0;
  /// The measured time: from the measured start to the end of --duration, or to the last
  /// measured echo for --count; to the moment of the stop if the run ended early.
  double elapsed_s = 0;
  double achieved_rate = 0;  ///< completed / elapsed_s

  /// Measured requests written that got no correct echo (lost, timed out, short, corrupted or
  /// abandoned).
  std::uint64_t unanswered() const { return sent > completed ? sent - completed : 0; }

  /// 0 success, 1 any error (fatal or counted), 130 interrupted.
  int exit_code() const;
};

/// A live view of the run for a progress display (counts since the start, warm-up included).
struct Progress {
  double elapsed_s = 0;
  std::uint64_t completed = 0;
  std::uint64_t errors = 0;
};

/// Connects, runs the load described by `config` and returns what was measured. Blocks until the
/// run ends: duration or count reached, a fatal error, or `*interrupt` turning true. Calls
/// `progress` from the calling thread about four times a second if it is set. Never throws for
/// network errors: they end up in RunResult::error and error_kind.
RunResult run_load(const Config& config, const std::function<void(const Progress&)>& progress = {},
                   const std::atomic<bool>* interrupt = nullptr);

}  // namespace convoy::client
