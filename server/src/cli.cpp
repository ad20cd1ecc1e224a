#include "convoy/server/cli.hpp"

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "convoy/build_info.hpp"
#include "convoy/config_file.hpp"
#include "convoy/duration.hpp"

namespace convoy::server {
namespace {

constexpr double kSecond = 1e9;
constexpr double kNanosecond = 1;

// A CLI11 check for a duration with a unit; a bare number is taken in `default_unit_ns`.
CLI::Validator duration_check(double default_unit_ns) {
  return CLI::Validator(
      [default_unit_ns](std::string& text) -> std::string {
        if (parse_duration(text, default_unit_ns)) return {};
        return "not a duration (like 5ms, 500us, 2s): '" + text + "'";
      },
      "DURATION");
}

std::chrono::nanoseconds to_duration(const std::string& text, double default_unit_ns) {
  const auto d = parse_duration(text, default_unit_ns);
  if (!d) throw std::invalid_argument("not a duration: '" + text + "'");
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

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv, std::ostream& out,
                               std::ostream& err) {
  ServerConfig config;
  auto& lock = config.interpreter.lock;

  CLI::App app{
      "A TCP echo server whose connection threads share one emulated interpreter lock with "
      "CPU-bound fib threads (see docs/server.md).",
      "convoy-server"};
  app.option_defaults()->always_capture_default();
  app.set_config("--config", "", "Read options from a TOML file; keys are the long option names");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.set_version_flag("--version", version_line("convoy-server"));
  app.footer("Exit codes: 0 ok, 1 could not start or failed, 2 invalid option or config file.");

  int port = config.port;
  std::string policy(gilcore::to_string(lock.policy));
  std::string switch_interval = format_exact_duration(lock.switch_interval);
  std::string bytecode_ns = std::to_string(config.interpreter.bytecode_cost.count());
  std::string io_release(to_string(config.io.release));
  std::string idle_timeout = format_exact_duration(config.io.idle_timeout);
  std::string duration = format_exact_duration(config.duration);
  bool print_config = false;

  app.add_option("--bind", config.bind, "Address to listen on (an IPv4 or IPv6 literal)");
  app.add_option("--port", port, "TCP port; 0 picks a free one (see the ready line)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--policy", policy, "Lock policy: " + gilcore::policy_names())
      ->check(CLI::IsMember({"none", "py2", "py3"}));
  app.add_option("--switch-interval", switch_interval,
                 "py3: how long a waiter waits before it asks the holder to drop (5ms, 500us; "
                 "a bare number is seconds, as sys.setswitchinterval)")
      ->check(duration_check(kSecond));
  app.add_option("--check-interval", lock.check_interval,
                 "py2: ticks between two periodic releases (sys.setcheckinterval)")
      ->check(CLI::Range(1, 1'000'000'000));
  app.add_option(
      "--force-switching", lock.force_switching,
      "py3: a thread dropping on request waits until another took the lock (true/false)");
  app.add_option("--io-release", io_release,
                 "always: release the lock around every socket call (CPython); when-blocking: try "
                 "it non-blocking first and release only to wait (bpo-7946)")
      ->check(CLI::IsMember({"always", "when-blocking"}));
  app.add_flag("--timeout-socket", config.io.timeout_socket,
               "Emulate a Python socket with a timeout: poll and call released separately");
  app.add_option("--cpu-threads", config.cpu_threads, "Number of fib threads")
      ->check(CLI::Range(0, 1024));
  app.add_option("--fib-depth", config.fib_depth, "Each fib thread computes fib(depth) in a loop")
      ->check(CLI::Range(1, 64));
  app.add_option("--bytecode-ns", bytecode_ns,
                 "Cost of one emulated bytecode (a bare number is nanoseconds)")
      ->check(duration_check(kNanosecond));
  app.add_option("--bytecodes-per-call", config.interpreter.bytecodes_per_call,
                 "Emulated bytecodes per fib call")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--handler-bytecodes", config.handler_bytecodes,
                 "Emulated bytecodes of handler work per echoed message")
      ->check(CLI::Range(0, 1'000'000'000));
  app.add_option("--max-connections", config.max_connections,
                 "Connections served at once; more are accepted and closed at once")
      ->check(CLI::Range(1, 100000));
  app.add_option("--max-message", config.max_message,
                 "The most one recv reads, and each connection's receive buffer (bytes; 64KiB, "
                 "1MiB accepted); more pending is read in several chunks")
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--idle-timeout", idle_timeout,
                 "Close a connection idle for this long; 0 = never (a bare number is seconds)")
      ->check(duration_check(kSecond));
  app.add_option("--duration", duration,
                 "Stop by itself after this long; 0 = run until SIGINT/SIGTERM")
      ->check(duration_check(kSecond));
  app.add_option("--stats", config.stats_path, "Write the statistics as JSON to this file at exit");
  app.add_option("--log-level", config.log_level, "Log level on stderr: " + log_level_names())
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_flag("--print-config", print_config,
               "Print the effective configuration as TOML (loadable with --config) and exit");

  // CLI11 reads whatever it is given: first make sure each config file is a small, well-formed
  // regular file.
  if (const auto why = check_config_arguments(argc, argv); !why.empty()) {
    err << "convoy-server: error: " << why << '\n';
    return {std::nullopt, kExitBadInput};
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      app.exit(e, out, err);  // --help, --version
      return {std::nullopt, kExitOk};
    }
    err << "convoy-server: error: " << describe(e, config_file_arguments(argc, argv)) << '\n';
    return {std::nullopt, kExitBadInput};
  }

  try {
    config.port = static_cast<std::uint16_t>(port);
    lock.policy = *gilcore::parse_policy(policy);
    lock.switch_interval = to_duration(switch_interval, kSecond);
    config.interpreter.bytecode_cost = to_duration(bytecode_ns, kNanosecond);
    config.io.release = *parse_io_release(io_release);
    config.io.idle_timeout = to_duration(idle_timeout, kSecond);
    config.duration = to_duration(duration, kSecond);
    config.validate();
  } catch (const std::invalid_argument& e) {
    err << "convoy-server: error: " << first_line(e.what()) << '\n';
    return {std::nullopt, kExitBadInput};
  }

  if (print_config) {
    out << to_toml(config) << std::flush;
    return {std::nullopt, kExitOk};
  }
  return {std::move(config), kExitOk};
}

}  // namespace convoy::server
