#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "convoy/client/schedule.hpp"

namespace convoy::client {

enum class Mode { closed, open };

/// The effective, validated settings of one run (command line over config file over defaults).
struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  unsigned connections = 1;
  unsigned threads = 1;
  std::vector<int> cpus;  ///< worker thread k runs on cpus[k % size]; empty: not pinned
  Mode mode = Mode::closed;
  std::chrono::nanoseconds think{0};  ///< closed loop: pause between a reply and the next request
  double rate = 0;                    ///< open loop: requests per second, all connections together
  Arrival arrival = Arrival::uniform;
  /// open loop: requests written and not yet answered per connection; past it the client waits
  /// for replies, so its memory stays bounded whatever the server does
  unsigned max_in_flight = 1000;
  std::uint64_t seed = 1;                            ///< Poisson arrivals and connection choice
  std::size_t size = 100;                            ///< bytes per message, header included
  std::optional<std::chrono::nanoseconds> duration;  ///< measured time; exactly one of the two
  std::optional<std::uint64_t> count;                ///< measured requests
  std::chrono::nanoseconds warmup_time{0};           ///< excluded from the results
  std::uint64_t warmup_count = 0;                    ///< excluded from the results
  std::chrono::nanoseconds timeout{std::chrono::seconds(1)};
  std::chrono::nanoseconds connect_timeout{std::chrono::seconds(2)};
  std::string json_path;
  std::string csv_path;
  std::string hgrm_path;
};

/// What the command line asks for: a run (`config` set), or an exit with `exit_code` after
/// printing `output` to stdout (help, version, --print-config) or `error` (one line) to stderr.
/// Exit codes: 0 for help/version/print-config, 2 for any invalid flag, value or config file.
struct ParseOutcome {
  std::optional<Config> config;
  int exit_code = 0;
  std::string output;
  std::string error;
};

/// Parses argv (argv[0] is the program name); never throws for bad input, never exits.
ParseOutcome parse_command_line(int argc, const char* const* argv);

/// Same, from arguments without the program name (for tests).
ParseOutcome parse_command_line(const std::vector<std::string>& args);

/// The config as JSON, keys equal to the long option names (durations as "2ms"-style strings).
nlohmann::json config_to_json(const Config& config);

/// "closed" or "open", as on the command line.
const char* to_string(Mode mode);
/// "uniform" or "poisson", as on the command line.
const char* to_string(Arrival arrival);

}  // namespace convoy::client
