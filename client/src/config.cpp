#include "convoy/client/config.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
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

// Durations in convoy's one syntax (convoy/duration.hpp): a number and a unit, or a bare 0.
using convoy::parse_duration;

bool is_count(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

const CLI::Validator kDuration(
    [](std::string& s) -> std::string {
      return parse_duration(s) ? "" : "'" + s + "' is not a duration (use a unit: 500us, 2ms, 10s)";
    },
    "DURATION");

const CLI::Validator kWarmup(
    [](std::string& s) -> std::string {
      if (is_count(s) || parse_duration(s)) return "";
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

ParseOutcome fail(const std::string& message) {
  ParseOutcome o;
  o.exit_code = 2;
  o.error = "convoy-client: error: " + convoy::one_line(message) + " (see --help)";
  return o;
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

CLI::App make_app() {
  return CLI::App{
      "convoy-client: round-trip latency of a TCP echo server, closed or open loop.\n"
      "Durations need a unit (500us, 2ms, 10s). Every option can also be set in a TOML file "
      "(--config), keys being the long option names.",
      "convoy-client"};
}

// The options of convoy-client bound to the texts and fields they set: declared once, used to
// parse a command line and to write a configuration that --config reads back.
class Options {
 public:
  explicit Options(CLI::App& app);
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;

  /// The configuration the parsed options describe (each value already checked by CLI11).
  Config build() const;

  /// "" or what is wrong with `c` or with the combination of options given.
  std::string validate(const Config& c) const;

  bool print_config = false;

 private:
  void declare_connections(CLI::App& app);
  void declare_load(CLI::App& app);
  void declare_output(CLI::App& app);

  Config config_;
  std::string mode_ = "closed";
  std::string arrival_ = "uniform";
  std::string think_ = "0";
  std::string duration_;
  std::uint64_t count_ = 0;
  std::string warmup_ = "0";
  std::string timeout_ = "1s";
  std::string connect_timeout_ = "2s";
  CLI::Option* rate_ = nullptr;
  CLI::Option* arrival_opt_ = nullptr;
  CLI::Option* in_flight_ = nullptr;
  CLI::Option* duration_opt_ = nullptr;
  CLI::Option* count_opt_ = nullptr;
};

Options::Options(CLI::App& app) {
  app.set_config("--config", "", "Read options from a TOML file (command-line values win)");
  app.allow_config_extras(false);
  app.set_version_flag("--version", convoy::version_line("convoy-client"));
  declare_connections(app);
  declare_load(app);
  declare_output(app);
  app.add_flag("--print-config", print_config, "Print the effective configuration and exit")
      ->configurable(false);
}

// Where to connect, with how many connections and threads.
void Options::declare_connections(CLI::App& app) {
  auto& c = config_;
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
}

// The load: the loop, its pace, the messages, how long it runs and what is warm-up.
void Options::declare_load(CLI::App& app) {
  auto& c = config_;
  app.add_option("--mode", mode_,
                 "closed: one request in flight per connection; open: requests at --rate, "
                 "whatever the replies do")
      ->capture_default_str()
      ->check(CLI::IsMember({"closed", "open"}));
  app.add_option("--think", think_, "Closed loop: pause between a reply and the next request")
      ->capture_default_str()
      ->check(kDuration);
  rate_ = app.add_option("--rate", c.rate, "Open loop: requests per second in total (0.001 to 1e9)")
              ->check(kRate);
  arrival_opt_ =
      app.add_option("--arrival", arrival_, "Open loop: gaps between requests: uniform | poisson")
          ->capture_default_str()
          ->check(CLI::IsMember({"uniform", "poisson"}));
  in_flight_ =
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
  duration_opt_ =
      app.add_option("-d,--duration", duration_, "Measured time, after warm-up (default 10s)")
          ->check(kDuration);
  count_opt_ = app.add_option("-n,--count", count_, "Measured requests instead of a duration")
                   ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 62));
  duration_opt_->excludes(count_opt_);
  app.add_option("-w,--warmup", warmup_,
                 "Excluded from the results: a duration (2s) or a request count (1000)")
      ->capture_default_str()
      ->check(kWarmup);
}

// The deadlines of an echo and of connecting, and the result files.
void Options::declare_output(CLI::App& app) {
  auto& c = config_;
  app.add_option("--timeout", timeout_, "Longest wait for one echo before the run fails")
      ->capture_default_str()
      ->check(kDuration);
  app.add_option("--connect-timeout", connect_timeout_, "Longest wait for the connections")
      ->capture_default_str()
      ->check(kDuration);
  app.add_option("--json", c.json_path, "Write context, config and results as JSON")
      ->check(kOutputPath);
  app.add_option("--csv", c.csv_path, "Write one row per second: count, p50, p99, max")
      ->check(kOutputPath);
  app.add_option("--hgrm", c.hgrm_path,
                 "Write the percentile distribution in HdrHistogram's text format (microseconds)")
      ->check(kOutputPath);
}

Config Options::build() const {
  Config c = config_;
  c.mode = mode_ == "open" ? Mode::open : Mode::closed;
  c.arrival = arrival_ == "poisson" ? Arrival::poisson : Arrival::uniform;
  c.think = *parse_duration(think_);
  c.timeout = *parse_duration(timeout_);
  c.connect_timeout = *parse_duration(connect_timeout_);
  if (is_count(warmup_)) {
    c.warmup_count = std::stoull(warmup_);
  } else {
    c.warmup_time = *parse_duration(warmup_);
  }
  if (count_opt_->count() > 0) {
    c.count = count_;
  } else {
    c.duration = duration_opt_->count() > 0 ? *parse_duration(duration_) : std::chrono::seconds(10);
  }
  return c;
}

std::string Options::validate(const Config& c) const {
  if (c.mode == Mode::open) {
    if (rate_->count() == 0) return "--mode open needs --rate (requests per second)";
    if (c.think.count() > 0) return "--think applies to --mode closed only";
  } else {
    if (rate_->count() > 0) return "--rate applies to --mode open only";
    if (arrival_opt_->count() > 0) return "--arrival applies to --mode open only";
    if (in_flight_->count() > 0) return "--max-in-flight applies to --mode open only";
  }
  if (c.threads > c.connections) {
    return "--threads (" + std::to_string(c.threads) + ") must not exceed --connections (" +
           std::to_string(c.connections) + ")";
  }
  if (c.duration && c.duration->count() <= 0) return "--duration must be positive";
  if (c.timeout.count() <= 0) return "--timeout must be positive";
  if (c.connect_timeout.count() <= 0) return "--connect-timeout must be positive";
  return "";
}

// The values of `c` as the options' texts: only the options that apply to its mode, so that the
// configuration never trips the consistency checks when it is read back.
std::vector<std::pair<std::string, std::vector<std::string>>> option_texts(const Config& c) {
  using convoy::format_exact_duration;
  std::vector<std::pair<std::string, std::vector<std::string>>> texts = {
      {"--host", {c.host}},
      {"--port", {std::to_string(c.port)}},
      {"--connections", {std::to_string(c.connections)}},
      {"--threads", {std::to_string(c.threads)}}};
  if (!c.cpus.empty()) {
    std::vector<std::string> cpus;
    for (const int cpu : c.cpus) cpus.push_back(std::to_string(cpu));
    texts.emplace_back("--cpus", cpus);
  }
  texts.push_back({"--mode", {to_string(c.mode)}});
  if (c.mode == Mode::closed) {
    texts.push_back({"--think", {format_exact_duration(c.think)}});
  } else {
    texts.push_back({"--rate", {number(c.rate)}});
    texts.push_back({"--arrival", {to_string(c.arrival)}});
    texts.push_back({"--max-in-flight", {std::to_string(c.max_in_flight)}});
  }
  texts.push_back({"--seed", {std::to_string(c.seed)}});
  texts.push_back({"--size", {std::to_string(c.size)}});
  if (c.count) {
    texts.push_back({"--count", {std::to_string(*c.count)}});
  } else {
    texts.push_back({"--duration", {format_exact_duration(*c.duration)}});
  }
  texts.push_back({"--warmup",
                   {c.warmup_count > 0 ? std::to_string(c.warmup_count)
                                       : format_exact_duration(c.warmup_time)}});
  texts.push_back({"--timeout", {format_exact_duration(c.timeout)}});
  texts.push_back({"--connect-timeout", {format_exact_duration(c.connect_timeout)}});
  if (!c.json_path.empty()) texts.push_back({"--json", {c.json_path}});
  if (!c.csv_path.empty()) texts.push_back({"--csv", {c.csv_path}});
  if (!c.hgrm_path.empty()) texts.push_back({"--hgrm", {c.hgrm_path}});
  return texts;
}

// The effective config as TOML, written by CLI11 (which quotes each value the way its reader
// takes it back). A value that would not come back unchanged, or that the checks of --config
// refuse, is an error rather than a file that reads differently.
std::string config_to_toml(const Config& c, std::string& error) {
  CLI::App app = make_app();
  const Options options(app);
  const auto texts = option_texts(c);
  for (const auto& [name, values] : texts) app.get_option(name)->add_result(values);
  const std::string toml = "# " + convoy::version_line("convoy-client") +
                           ": effective configuration\n" + app.config_to_str(false, false);

  std::istringstream in(toml);
  std::map<std::string, std::vector<std::string>> read_back;
  for (const auto& item : app.get_config_formatter_base()->from_config(in)) {
    read_back["--" + item.name] = item.inputs;
  }
  for (const auto& [name, values] : texts) {
    const auto key = name.substr(2);
    const auto at = toml.find("\n" + key + "=");
    const auto line = toml.substr(at + 1, toml.find('\n', at + 1) - at - 1);
    if (read_back[name] != values || !convoy::check_config_text(line).empty()) {
      error = "--print-config: the value of " + name +
              " cannot be written so that --config reads it back (it holds a '#', a line break, "
              "both kinds of quote or a backslash before the closing one)";
      return "";
    }
  }
  return toml;
}

}  // namespace

const char* to_string(Mode mode) { return mode == Mode::closed ? "closed" : "open"; }

const char* to_string(Arrival arrival) {
  return arrival == Arrival::uniform ? "uniform" : "poisson";
}

ParseOutcome parse_command_line(int argc, const char* const* argv) {
  CLI::App app = make_app();
  Options options(app);
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
  Config c = options.build();
  if (auto why = options.validate(c); !why.empty()) return fail(why);

  ParseOutcome o;
  if (options.print_config) {
    std::string error;
    o.output = config_to_toml(c, error);
    if (!error.empty()) return fail(error);
    return o;
  }
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
  if (c.mode == Mode::closed) {
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
