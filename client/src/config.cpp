#include "convoy/client/config.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

#include <CLI/CLI.hpp>

#include "convoy/build_info.hpp"
#include "convoy/client/payload.hpp"
#include "convoy/config_file.hpp"
#include "convoy/duration.hpp"
#include "convoy/result_file.hpp"

namespace convoy::client {
namespace {

constexpr std::size_t kMaxSize = 16u << 20;

// Rates the schedule can follow: at least one request in 1000 s, gaps of at least 1 ns.
constexpr double kMinRate = 1e-3;
constexpr double kMaxRate = 1e9;

// Durations need a unit ("500us", "2s"), so a bare number is never silently taken as seconds;
// "0" is the one exception.
std::optional<std::chrono::nanoseconds> parse_with_unit(const std::string& text) {
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.empty() || !std::isalpha(static_cast<unsigned char>(text.back()))) return std::nullopt;
  return convoy::parse_duration(text);
}

bool is_count(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

const CLI::Validator kDuration(
    [](std::string& s) -> std::string {
      return parse_with_unit(s) ? ""
                                : "'" + s + "' is not a duration (use a unit: 500us, 2ms, 10s)";
    },
    "DURATION");

const CLI::Validator kWarmup(
    [](std::string& s) -> std::string {
      if (is_count(s) || parse_with_unit(s)) return "";
      return "'" + s + "' is neither a request count (1000) nor a duration (500ms, 2s)";
    },
    "COUNT|DURATION");

const CLI::Validator kOutputPath([](std::string& s) { return convoy::check_result_path(s); },
                                 "FILE");

// A finite number of requests per second in [kMinRate, kMaxRate]; NaN, infinities and values
// whose period rounds to zero or overflows are not a schedule.
const CLI::Validator kRate(
    [](std::string& s) -> std::string {
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      const bool number = !s.empty() && end != nullptr && *end == '\0';
      if (number && v >= kMinRate && v <= kMaxRate) return "";
      return "'" + convoy::one_line(s, 40) +
             "' is not a rate the client can schedule: give requests per second from 0.001 to 1e9";
    },
    "REQ/S");

// CLI11's message for a key of a config file that no option has; say which file and line.
std::string unknown_key_message(const std::string& message, const std::vector<std::string>& files) {
  constexpr std::string_view kExtra = "INI was not able to parse ";
  if (message.rfind(kExtra, 0) != 0) return message;
  const std::string key = message.substr(kExtra.size());
  for (const auto& file : files) {
    if (const int line = convoy::config_key_line(file, key); line > 0) {
      return "--config " + file + ":" + std::to_string(line) + ": unknown key '" + key +
             "' (convoy-client takes the long option names; is this a server configuration?)";
    }
  }
  return "--config: unknown key '" + key + "'";
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string number(double v) {
  char buf[64];
  if (std::floor(v) == v && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

// The effective config as TOML that --config reads back: only the options that apply to the
// chosen mode, so the output never trips the consistency checks.
std::string config_to_toml(const Config& c) {
  std::ostringstream out;
  out << "# " << convoy::version_line("convoy-client") << ": effective configuration\n";
  out << "host = " << toml_string(c.host) << "\n";
  out << "port = " << c.port << "\n";
  out << "connections = " << c.connections << "\n";
  out << "threads = " << c.threads << "\n";
  if (!c.cpus.empty()) {
    out << "cpus = [";
    for (std::size_t i = 0; i < c.cpus.size(); ++i) out << (i ? ", " : "") << c.cpus[i];
    out << "]\n";
  }
  out << "mode = " << toml_string(to_string(c.mode)) << "\n";
  if (c.mode == Mode::kClosed) {
    out << "think = " << toml_string(convoy::format_duration(c.think)) << "\n";
  } else {
    out << "rate = " << number(c.rate) << "\n";
    out << "arrival = " << toml_string(to_string(c.arrival)) << "\n";
    out << "max-in-flight = " << c.max_in_flight << "\n";
  }
  out << "seed = " << c.seed << "\n";
  out << "size = " << c.size << "\n";
  if (c.count) {
    out << "count = " << *c.count << "\n";
  } else {
    out << "duration = " << toml_string(convoy::format_duration(*c.duration)) << "\n";
  }
  if (c.warmup_count > 0) {
    out << "warmup = " << c.warmup_count << "\n";
  } else {
    out << "warmup = " << toml_string(convoy::format_duration(c.warmup_time)) << "\n";
  }
  out << "timeout = " << toml_string(convoy::format_duration(c.timeout)) << "\n";
  out << "connect-timeout = " << toml_string(convoy::format_duration(c.connect_timeout)) << "\n";
  if (!c.json_path.empty()) out << "json = " << toml_string(c.json_path) << "\n";
  if (!c.csv_path.empty()) out << "csv = " << toml_string(c.csv_path) << "\n";
  if (!c.hgrm_path.empty()) out << "hgrm = " << toml_string(c.hgrm_path) << "\n";
  return out.str();
}

ParseOutcome fail(const std::string& message) {
  ParseOutcome o;
  o.exit_code = 2;
  o.error = "convoy-client: error: " + convoy::one_line(message) + " (see --help)";
  return o;
}

}  // namespace

const char* to_string(Mode mode) { return mode == Mode::kClosed ? "closed" : "open"; }

const char* to_string(Arrival arrival) {
  return arrival == Arrival::kUniform ? "uniform" : "poisson";
}

ParseOutcome parse_command_line(int argc, const char* const* argv) {
  CLI::App app{
      "convoy-client: round-trip latency of a TCP echo server, closed or open loop.\n"
      "Durations need a unit (500us, 2ms, 10s). Every option can also be set in a TOML file "
      "(--config), keys being the long option names.",
      "convoy-client"};
  app.set_config("--config", "", "Read options from a TOML file (command-line values win)");
  app.allow_config_extras(false);
  app.set_version_flag("--version", convoy::version_line("convoy-client"));

  Config c;
  std::string mode = "closed";
  std::string arrival = "uniform";
  std::string think = "0";
  std::string duration;
  std::uint64_t count = 0;
  std::string warmup = "0";
  std::string timeout = "1s";
  std::string connect_timeout = "2s";
  bool print_config = false;

  app.add_option("--host", c.host, "Server address or host name")->capture_default_str();
  app.add_option("-p,--port", c.port, "Server TCP port")->required()->check(CLI::Range(1, 65535));
  app.add_option("-c,--connections", c.connections, "TCP connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("-t,--threads", c.threads,
                 "Client threads (one event loop each); connections are spread over them")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--cpus", c.cpus, "Pin client thread k to CPU cpus[k % n] (e.g. 1 or 0,1)")
      ->delimiter(',')
      ->check(CLI::Range(0, 4095));
  app.add_option("--mode", mode,
                 "closed: one request in flight per connection; open: requests at --rate, "
                 "whatever the replies do")
      ->capture_default_str()
      ->check(CLI::IsMember({"closed", "open"}));
  app.add_option("--think", think, "Closed loop: pause between a reply and the next request")
      ->capture_default_str()
      ->check(kDuration);
  auto* rate_opt =
      app.add_option("--rate", c.rate, "Open loop: requests per second in total (0.001 to 1e9)")
          ->check(kRate);
  auto* arrival_opt =
      app.add_option("--arrival", arrival, "Open loop: gaps between requests: uniform | poisson")
          ->capture_default_str()
          ->check(CLI::IsMember({"uniform", "poisson"}));
  auto* in_flight_opt =
      app.add_option("--max-in-flight", c.max_in_flight,
                     "Open loop: requests sent and not yet answered per connection; beyond it the "
                     "client waits, and what is still unsent at the end counts as not sent")
          ->capture_default_str()
          ->check(CLI::Range(1u, 1'000'000u));
  app.add_option("--seed", c.seed, "Seed for Poisson arrivals and connection choice")
      ->capture_default_str();
  app.add_option("-s,--size", c.size, "Message size in bytes, 32-byte header included")
      ->capture_default_str()
      ->check(CLI::Range(kHeaderSize, kMaxSize));
  auto* duration_opt =
      app.add_option("-d,--duration", duration, "Measured time, after warm-up (default 10s)")
          ->check(kDuration);
  auto* count_opt = app.add_option("-n,--count", count, "Measured requests instead of a duration")
                        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62));
  duration_opt->excludes(count_opt);
  app.add_option("-w,--warmup", warmup,
                 "Excluded from the results: a duration (2s) or a request count (1000)")
      ->capture_default_str()
      ->check(kWarmup);
  app.add_option("--timeout", timeout, "Longest wait for one echo before the run fails")
      ->capture_default_str()
      ->check(kDuration);
  app.add_option("--connect-timeout", connect_timeout, "Longest wait for the connections")
      ->capture_default_str()
      ->check(kDuration);
  app.add_option("--json", c.json_path, "Write context, config and results as JSON")
      ->check(kOutputPath);
  app.add_option("--csv", c.csv_path, "Write one row per second: count, p50, p99, max")
      ->check(kOutputPath);
  app.add_option("--hgrm", c.hgrm_path,
                 "Write the percentile distribution in HdrHistogram's text format (microseconds)")
      ->check(kOutputPath);
  app.add_flag("--print-config", print_config, "Print the effective configuration and exit")
      ->configurable(false);

  if (auto why = convoy::check_config_arguments(argc, argv); !why.empty()) return fail(why);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      std::ostringstream out;
      std::ostringstream err;
      app.exit(e, out, err);
      ParseOutcome o;
      o.output = out.str();
      return o;
    }
    return fail(unknown_key_message(e.what(), convoy::config_file_arguments(argc, argv)));
  }

  c.mode = mode == "open" ? Mode::kOpen : Mode::kClosed;
  c.arrival = arrival == "poisson" ? Arrival::kPoisson : Arrival::kUniform;
  c.think = *parse_with_unit(think);
  c.timeout = *parse_with_unit(timeout);
  c.connect_timeout = *parse_with_unit(connect_timeout);
  if (is_count(warmup)) {
    c.warmup_count = std::stoull(warmup);
  } else {
    c.warmup_time = *parse_with_unit(warmup);
  }
  if (count_opt->count() > 0) {
    c.count = count;
  } else {
    c.duration = duration_opt->count() > 0 ? *parse_with_unit(duration) : std::chrono::seconds(10);
  }

  if (c.mode == Mode::kOpen) {
    if (rate_opt->count() == 0) return fail("--mode open needs --rate (requests per second)");
    if (c.think.count() > 0) return fail("--think applies to --mode closed only");
  } else {
    if (rate_opt->count() > 0) return fail("--rate applies to --mode open only");
    if (arrival_opt->count() > 0) return fail("--arrival applies to --mode open only");
    if (in_flight_opt->count() > 0) return fail("--max-in-flight applies to --mode open only");
  }
  if (c.threads > c.connections) {
    return fail("--threads (" + std::to_string(c.threads) + ") must not exceed --connections (" +
                std::to_string(c.connections) + ")");
  }
  if (c.duration && c.duration->count() <= 0) return fail("--duration must be positive");
  if (c.timeout.count() <= 0) return fail("--timeout must be positive");
  if (c.connect_timeout.count() <= 0) return fail("--connect-timeout must be positive");

  if (print_config) {
    ParseOutcome o;
    o.output = config_to_toml(c);
    return o;
  }
  ParseOutcome o;
  o.config = std::move(c);
  return o;
}

ParseOutcome parse_command_line(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  argv.push_back("convoy-client");
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

nlohmann::json config_to_json(const Config& c) {
  nlohmann::json j = {
      {"host", c.host},
      {"port", c.port},
      {"connections", c.connections},
      {"threads", c.threads},
      {"cpus", c.cpus},
      {"mode", to_string(c.mode)},
      {"seed", c.seed},
      {"size", c.size},
      {"timeout", convoy::format_duration(c.timeout)},
      {"connect-timeout", convoy::format_duration(c.connect_timeout)},
  };
  if (c.mode == Mode::kClosed) {
    j["think"] = convoy::format_duration(c.think);
  } else {
    j["rate"] = c.rate;
    j["arrival"] = to_string(c.arrival);
    j["max-in-flight"] = c.max_in_flight;
  }
  if (c.count) {
    j["count"] = *c.count;
  } else {
    j["duration"] = convoy::format_duration(*c.duration);
  }
  if (c.warmup_count > 0) {
    j["warmup"] = c.warmup_count;
  } else {
    j["warmup"] = convoy::format_duration(c.warmup_time);
  }
  j["json"] = c.json_path;
  j["csv"] = c.csv_path;
  j["hgrm"] = c.hgrm_path;
  return j;
}

}  // namespace convoy::client
