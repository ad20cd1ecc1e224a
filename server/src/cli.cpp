#include "convoy/server/cli.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "convoy/build_info.hpp"
#include "convoy/config_file.hpp"
#include "convoy/duration.hpp"
#include "gilcore/catalogue.hpp"

namespace convoy::server {
namespace {

// Durations take convoy's one syntax (convoy/duration.hpp): a number and a unit, or a bare 0.
const CLI::Validator kDuration(
    [](std::string& text) -> std::string {
      return parse_duration(text) ? std::string() : duration_error(text);
    },
    "DURATION");

// An option named for its unit (--bytecode-ns) takes a plain number in that unit and no other:
// "40", "2.5" (rounded to whole nanoseconds).
std::optional<std::chrono::nanoseconds> parse_plain_ns(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789.") != std::string_view::npos) {
    return std::nullopt;
  }
  return parse_duration(std::string(text) + "ns");
}

const CLI::Validator kPlainNs(
    [](std::string& text) -> std::string {
      if (parse_plain_ns(text)) return {};
      return "'" + one_line(text, 40) + "' is not a number of nanoseconds (like 25; no unit)";
    },
    "NS");

// The value of a plain-nanoseconds option (`option` names it) its validator accepted.
std::chrono::nanoseconds to_plain_ns(const std::string& text, const char* option) {
  const auto ns = parse_plain_ns(text);
  if (!ns) throw std::invalid_argument(std::string(option) + ": not a number of nanoseconds");
  return *ns;
}

// The value of an option its validator accepted.
std::chrono::nanoseconds to_duration(const std::string& text) {
  const auto d = parse_duration(text);
  if (!d) throw std::invalid_argument(duration_error(text));
  return *d;
}

std::string first_line(const std::string& text) { return one_line(text); }

// CLI11's message, on one line of bounded length; an unknown key in a config file named as
// such, with the file and line.
std::string describe(const CLI::ParseError& e, const std::vector<std::string>& config_files) {
  std::string message = first_line(e.what());
  constexpr std::string_view kExtra = "INI was not able to parse ";
  if (message.rfind(kExtra, 0) == 0) {
    const std::string key = message.substr(kExtra.size());
    for (const auto& file : config_files) {
      if (const int line = config_key_line(file, key); line > 0) {
        return "--config " + file + ":" + std::to_string(line) + ": unknown option '" + key + "'";
      }
    }
    return "--config: unknown option '" + key + "' in the configuration file";
  }
  return message;
}

// CLI11's transform for an enum option, from the enum's names: a name becomes the value CLI11
// stores, anything else (an index included) is refused with the list of names.
template <class Enum>
CLI::Validator names_of(const std::vector<Enum>& values) {
  std::map<std::string, Enum> table;
  std::string names;
  for (const auto v : values) {
    table.emplace(to_string(v), v);
    names += (names.empty() ? "" : ", ") + to_string(v);
  }
  return CLI::Validator(
      [table, names](std::string& text) -> std::string {
        const auto it = table.find(text);
        if (it == table.end()) return "'" + text + "' is not one of " + names;
        text = std::to_string(static_cast<std::underlying_type_t<Enum>>(it->second));
        return {};
      },
      "{" + names + "}");
}

std::vector<gilcore::PolicyKind> every_policy() {
  std::vector<gilcore::PolicyKind> kinds;
  for (const auto& p : gilcore::catalogue()) kinds.push_back(p.kind);
  return kinds;
}

// One option per knob name; a name several policies share sets the knob of each of them.
struct KnobOption {
  std::string option;
  std::string text;
  std::vector<const gilcore::KnobDescription*> knobs;
};

std::vector<KnobOption> knob_options(const gilcore::LockConfig& seed) {
  std::vector<KnobOption> options;
  for (const auto& policy : gilcore::catalogue()) {
    for (const auto& knob : policy.knobs) {
      auto it = std::find_if(options.begin(), options.end(),
                             [&](const KnobOption& o) { return o.option == knob.option; });
      if (it == options.end()) {
        options.push_back({std::string(knob.option), knob.text_of(seed), {}});
        it = std::prev(options.end());
      }
      if (knob.policy == seed.policy) it->text = knob.text_of(seed);
      it->knobs.push_back(&knob);
    }
  }
  return options;
}

std::string knob_help(const KnobOption& o) {
  std::string users;
  for (const auto* k : o.knobs) {
    users += (users.empty() ? "" : ", ") + std::string(gilcore::describe(k->policy).info.name);
  }
  return users + ": " + std::string(o.knobs.front()->help);
}

// The options of convoy-server bound to the texts and fields they set: declared once, used to
// parse (seeded with the defaults) and to write a configuration (seeded with it).
class Options {
 public:
  Options(CLI::App& app, const ServerConfig& seed);
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;

  /// The configuration the parsed options describe, not yet validated as a whole; throws
  /// std::invalid_argument for a knob's value that its policy refuses.
  ServerConfig build() const;

  bool print_config = false;
  bool list_policies = false;
  bool json = false;

 private:
  void declare_lock(CLI::App& app);
  void declare_server(CLI::App& app);

  ServerConfig config_;
  int port_;
  std::string bytecode_ns_;
  std::string socket_call_ns_;
  std::string idle_timeout_;
  std::string duration_;
  std::string trace_after_;
  std::string trace_for_;
  std::vector<KnobOption> knobs_;
};

Options::Options(CLI::App& app, const ServerConfig& seed)
    : config_(seed),
      port_(seed.port),
      bytecode_ns_(std::to_string(seed.interpreter.bytecode_cost.count())),
      socket_call_ns_(std::to_string(seed.io.call_cost.count())),
      idle_timeout_(format_exact_duration(seed.io.idle_timeout)),
      duration_(format_exact_duration(seed.duration)),
      trace_after_(format_exact_duration(seed.trace.after)),
      trace_for_(format_exact_duration(seed.trace.span)),
      knobs_(knob_options(seed.interpreter.lock)) {
  app.option_defaults()->always_capture_default();
  app.set_config("--config", "", "Read options from a TOML file; keys are the long option names");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.set_version_flag("--version", version_line("convoy-server"));
  app.footer("Exit codes: 0 ok, 1 could not start or failed, 2 invalid option or config file.");
  app.add_option("--bind", config_.bind, "Address to listen on (an IPv4 or IPv6 literal)");
  app.add_option("--port", port_, "TCP port; 0 picks a free one (see the ready line)")
      ->check(CLI::Range(0, 65535));
  declare_lock(app);
  declare_server(app);
  app.add_flag("--print-config", print_config,
               "Print the effective configuration as TOML (loadable with --config) and exit")
      ->configurable(false);
  app.add_flag("--list-policies", list_policies,
               "Print the lock policies, one per line (name<TAB>summary), and exit")
      ->configurable(false);
  app.add_flag("--json", json, "With --list-policies: a JSON list with knobs and defaults")
      ->configurable(false);
}

void Options::declare_lock(CLI::App& app) {
  auto& interpreter = config_.interpreter;
  app.add_option("--policy", interpreter.lock.policy, "Lock policy: " + gilcore::policy_names())
      ->transform(names_of(every_policy()))
      ->type_name("NAME");
  for (auto& knob : knobs_) {
    const auto* desc = knob.knobs.front();
    std::string type = desc->type == "duration"  ? "DURATION"
                       : desc->type == "integer" ? "INT"
                       : desc->type == "boolean" ? "BOOLEAN"
                                                 : "NAME";
    std::string limits;
    if (!desc->min_text.empty()) limits = "[" + desc->min_text + " - " + desc->max_text + "]";
    for (const auto& c : desc->choices) limits += (limits.empty() ? "{" : ",") + c;
    if (!desc->choices.empty()) limits += "}";
    app.add_option("--" + knob.option, knob.text, knob_help(knob))
        ->check(CLI::Validator(
            [desc](std::string& text) { return desc->check(text).value_or(std::string()); },
            limits))
        ->type_name(type);
  }
  app.add_option("--bytecode-ns", bytecode_ns_,
                 "Cost of one emulated bytecode, a plain number of nanoseconds (no unit)")
      ->check(kPlainNs);
  app.add_option("--bytecodes-per-call", interpreter.bytecodes_per_call,
                 "Emulated bytecodes per fib call")
      ->check(CLI::Range(1, 1'000'000));
}

void Options::declare_server(CLI::App& app) {
  auto& c = config_;
  app.add_option("--io-model", c.io_model,
                 "threads: one thread per connection (socketserver.ThreadingTCPServer); "
                 "eventloop: one thread runs an epoll loop over every connection (asyncio)")
      ->transform(names_of(std::vector{IoModel::threads, IoModel::eventloop}))
      ->type_name("MODEL");
  app.add_option("--loop-bytecodes", c.loop_bytecodes,
                 "eventloop: emulated bytecodes of the loop's own work per iteration")
      ->check(CLI::Range(0, 1'000'000'000));
  app.add_option("--io-release", c.io.release,
                 "always: release the lock around every socket call (CPython); when-blocking: try "
                 "it non-blocking first and release only to wait (bpo-7946)")
      ->transform(names_of(std::vector{IoRelease::always, IoRelease::when_blocking}))
      ->type_name("MODE");
  app.add_flag("--timeout-socket", c.io.timeout_socket,
               "Emulate a Python socket with a timeout: poll and call released separately");
  app.add_option("--cpu-threads", c.cpu_threads, "Number of fib threads")
      ->check(CLI::Range(0, 1024));
  app.add_option("--fib-depth", c.fib_depth, "Each fib thread computes fib(depth) in a loop")
      ->check(CLI::Range(1, 64));
  app.add_option("--handler-bytecodes", c.handler_bytecodes,
                 "Emulated bytecodes of handler work per echoed message")
      ->check(CLI::Range(0, 1'000'000'000));
  app.add_option("--socket-call-ns", socket_call_ns_,
                 "CPU time each socket call holds the lock for outside its syscall (C work, no "
                 "check points), half before the release and half after; plain nanoseconds")
      ->check(kPlainNs);
  app.add_option("--max-connections", c.max_connections,
                 "Connections served at once; more are accepted and closed at once")
      ->check(CLI::Range(1, 100000));
  app.add_option("--max-message", c.max_message,
                 "The most one recv reads, and each connection's receive buffer (bytes; 64KiB, "
                 "1MiB accepted); more pending is read in several chunks")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--idle-timeout", idle_timeout_,
                 "Close a connection idle for this long (30s); 0 = never")
      ->check(kDuration);
  app.add_option("--duration", duration_,
                 "Stop by itself after this long (60s); 0 = run until SIGINT/SIGTERM")
      ->check(kDuration);
  app.add_option("--stats", c.stats_path, "Write the statistics as JSON to this file at exit");
  app.add_option("--trace", c.trace.path,
                 "Record the lock timeline and write it as Chrome trace-event JSON to this file at "
                 "exit (Perfetto UI, chrome://tracing; see docs/timeline.md)");
  app.add_option("--trace-buffer", c.trace.buffer,
                 "With --trace: events kept per thread, the most recent (24 bytes each)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{64} << 20));
  app.add_option("--trace-after", trace_after_,
                 "With --trace: start recording this long after the server is ready (500ms)")
      ->check(kDuration);
  app.add_option("--trace-for", trace_for_,
                 "With --trace: record for this long (50ms); 0 = until the end of the run")
      ->check(kDuration);
  app.add_option("--log-level", c.log_level, "Log level on stderr: " + log_level_names())
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
}

ServerConfig Options::build() const {
  ServerConfig c = config_;
  c.port = static_cast<std::uint16_t>(port_);
  for (const auto& knob : knobs_) {
    for (const auto* desc : knob.knobs) {
      if (const auto error = desc->check(knob.text)) {
        throw std::invalid_argument("--" + knob.option + ": " + *error);
      }
      desc->set(c.interpreter.lock, knob.text);
    }
  }
  c.interpreter.bytecode_cost = to_plain_ns(bytecode_ns_, "--bytecode-ns");
  c.io.call_cost = to_plain_ns(socket_call_ns_, "--socket-call-ns");
  c.io.idle_timeout = to_duration(idle_timeout_);
  c.duration = to_duration(duration_);
  c.trace.after = to_duration(trace_after_);
  c.trace.span = to_duration(trace_for_);
  return c;
}

void print_policies(std::ostream& out, bool json) {
  if (json) {
    out << gilcore::catalogue_json().dump(2) << '\n';
    return;
  }
  for (const auto& p : gilcore::catalogue()) out << p.info.name << '\t' << p.info.summary << '\n';
}

CLI::App make_app() {
  return CLI::App{
      "A TCP echo server whose connection threads share one emulated interpreter lock with "
      "CPU-bound fib threads (see docs/server.md).",
      "convoy-server"};
}

CommandLine fail(std::ostream& err, const std::string& message) {
  err << "convoy-server: error: " << first_line(message) << '\n';
  return {std::nullopt, kExitBadInput};
}

// Checks the config files named and lets CLI11 read the command line and them into the options;
// what to exit with instead of going on (--help, --version, an error), or nullopt.
std::optional<CommandLine> read_arguments(CLI::App& app, int argc, const char* const* argv,
                                          std::ostream& out, std::ostream& err) {
  // CLI11 reads whatever it is given: first make sure each config file is a small, well-formed
  // regular file.
  if (const auto why = check_config_arguments(argc, argv); !why.empty()) return fail(err, why);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      app.exit(e, out, err);  // --help, --version
      return CommandLine{std::nullopt, kExitOk};
    }
    return fail(err, describe(e, config_file_arguments(argc, argv)));
  }
  return std::nullopt;
}

// --list-policies [--json]: what to exit with after printing them (or for a --json without it).
std::optional<CommandLine> list_policies(const Options& options, std::ostream& out,
                                         std::ostream& err) {
  if (options.list_policies) {
    print_policies(out, options.json);
    return CommandLine{std::nullopt, kExitOk};
  }
  if (options.json) return fail(err, "--json only goes with --list-policies");
  return std::nullopt;
}

}  // namespace

std::string to_toml(const ServerConfig& config) {
  auto app = make_app();
  const Options options(app, config);
  return "# convoy-server configuration; load it with --config FILE\n" +
         app.config_to_str(true, true);
}

CommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out,
                               std::ostream& err) {
  auto app = make_app();
  // Static, not a temporary or a local: GCC 12 at -O3 takes the strings of a ServerConfig
  // destroyed here for uninitialised (-Wmaybe-uninitialized, a false positive).
  static const ServerConfig defaults{};
  Options options(app, defaults);
  if (auto exit = read_arguments(app, argc, argv, out, err)) return std::move(*exit);
  if (auto exit = list_policies(options, out, err)) return std::move(*exit);
  ServerConfig config;
  try {
    config = options.build();
    config.validate();
  } catch (const std::invalid_argument& e) {
    return fail(err, e.what());
  }
  if (options.print_config) {
    out << to_toml(config) << std::flush;
    return {std::nullopt, kExitOk};
  }
  return {std::move(config), kExitOk};
}

}  // namespace convoy::server
