#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "convoy/server/cli.hpp"
#include "gilcore/catalogue.hpp"

namespace convoy::server {
namespace {

using namespace std::chrono_literals;

struct Parsed {
  CommandLine command;
  std::string out;
  std::string err;
};

Parsed parse(const std::vector<std::string>& args) {
  std::vector<const char*> argv{"convoy-server"};
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out;
  std::ostringstream err;
  auto command = parse_command_line(static_cast<int>(argv.size()), argv.data(), out, err);
  return {std::move(command), out.str(), err.str()};
}

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = ::testing::TempDir() + "convoy-cli-test-" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(CommandLineTest, DefaultsAreTheInterpretersOwn) {
  const auto parsed = parse({});
  ASSERT_TRUE(parsed.command.config.has_value()) << parsed.err;
  const auto& c = *parsed.command.config;
  EXPECT_EQ(c.bind, "127.0.0.1");
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.interpreter.lock.policy, gilcore::kind_of<gilcore::Py3Gil>());
  EXPECT_EQ(c.interpreter.lock.of<gilcore::Py3Gil>().switch_interval, 5ms);
  EXPECT_TRUE(c.interpreter.lock.of<gilcore::Py3Gil>().force_switching);
  EXPECT_EQ(c.interpreter.lock.of<gilcore::Py2Gil>().check_interval, 100);
  EXPECT_EQ(c.io.release, IoRelease::always);
  EXPECT_FALSE(c.io.timeout_socket);
  EXPECT_EQ(c.handler_bytecodes, 20u);
  EXPECT_EQ(c.io.call_cost, 0ns);
  EXPECT_EQ(parsed.out, "");
  EXPECT_EQ(parsed.err, "");
}

TEST(CommandLineTest, ParsesEveryOption) {
  const auto parsed = parse({"--bind",
                             "::1",
                             "--port",
                             "8080",
                             "--policy",
                             "py2",
                             "--switch-interval",
                             "500us",
                             "--check-interval",
                             "50",
                             "--force-switching",
                             "false",
                             "--io-release",
                             "when-blocking",
                             "--timeout-socket",
                             "--cpu-threads",
                             "3",
                             "--fib-depth",
                             "15",
                             "--bytecode-ns",
                             "40",
                             "--bytecodes-per-call",
                             "7",
                             "--handler-bytecodes",
                             "0",
                             "--socket-call-ns",
                             "250",
                             "--max-connections",
                             "10",
                             "--max-message",
                             "64KiB",
                             "--idle-timeout",
                             "2s",
                             "--duration",
                             "1.5s",
                             "--stats",
                             "out.json",
                             "--log-level",
                             "debug"});
  ASSERT_TRUE(parsed.command.config.has_value()) << parsed.err;
  const auto& c = *parsed.command.config;
  EXPECT_EQ(c.bind, "::1");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.interpreter.lock.policy, gilcore::kind_of<gilcore::Py2Gil>());
  EXPECT_EQ(c.interpreter.lock.of<gilcore::Py3Gil>().switch_interval, 500us);
  EXPECT_EQ(c.interpreter.lock.of<gilcore::Py2Gil>().check_interval, 50);
  EXPECT_FALSE(c.interpreter.lock.of<gilcore::Py3Gil>().force_switching);
  EXPECT_EQ(c.io.release, IoRelease::when_blocking);
  EXPECT_TRUE(c.io.timeout_socket);
  EXPECT_EQ(c.cpu_threads, 3);
  EXPECT_EQ(c.fib_depth, 15);
  EXPECT_EQ(c.interpreter.bytecode_cost, 40ns);
  EXPECT_EQ(c.interpreter.bytecodes_per_call, 7);
  EXPECT_EQ(c.handler_bytecodes, 0u);
  EXPECT_EQ(c.io.call_cost, 250ns);
  EXPECT_EQ(c.max_connections, 10u);
  EXPECT_EQ(c.max_message, 65536u);
  EXPECT_EQ(c.io.idle_timeout, 2s);
  EXPECT_EQ(c.duration, 1500ms);
  EXPECT_EQ(c.stats_path, "out.json");
  EXPECT_EQ(c.log_level, "debug");
}

TEST(CommandLineTest, ADurationNeedsAUnitAndABareNumberIsRefusedOnOneLine) {
  for (const auto* option : {"--switch-interval", "--idle-timeout", "--duration", "--trace-after",
                             "--trace-for", "--timeslice", "--rr-interval", "--steal-poll"}) {
    const auto parsed = parse({option, "30"});
    EXPECT_EQ(parsed.command.exit_code, kExitBadInput) << option;
    EXPECT_FALSE(parsed.command.config.has_value()) << option;
    EXPECT_EQ(parsed.err.find('\n'), parsed.err.size() - 1) << parsed.err;
    EXPECT_EQ(parsed.err.rfind("convoy-server: error: ", 0), 0u) << parsed.err;
    EXPECT_NE(parsed.err.find(option), std::string::npos) << parsed.err;
    EXPECT_NE(parsed.err.find("'30' is not a duration (it needs a unit: 30s, 30ms, 30us"),
              std::string::npos)
        << parsed.err;
  }
  const auto path = write_temp("bare.toml", "idle-timeout = 30\n");
  const auto from_file = parse({"--config", path});
  EXPECT_EQ(from_file.command.exit_code, kExitBadInput);
  EXPECT_NE(from_file.err.find("it needs a unit"), std::string::npos) << from_file.err;
  EXPECT_EQ(from_file.err.find('\n'), from_file.err.size() - 1) << from_file.err;
}

TEST(CommandLineTest, ABareZeroAndEveryUnitAreDurations) {
  const auto zero =
      parse({"--idle-timeout", "0", "--duration", "0", "--trace-after", "0", "--trace-for", "0.0"});
  ASSERT_TRUE(zero.command.config.has_value()) << zero.err;
  EXPECT_EQ(zero.command.config->io.idle_timeout, 0s);
  EXPECT_EQ(zero.command.config->duration, 0s);
  EXPECT_EQ(zero.command.config->trace.after, 0s);
  EXPECT_EQ(zero.command.config->trace.span, 0s);
  const auto units = parse({"--idle-timeout", "1m", "--duration", "1.5s", "--trace-after", "250ms",
                            "--trace-for", "750us", "--switch-interval", "5000000ns"});
  ASSERT_TRUE(units.command.config.has_value()) << units.err;
  const auto& c = *units.command.config;
  EXPECT_EQ(c.io.idle_timeout, 60s);
  EXPECT_EQ(c.duration, 1500ms);
  EXPECT_EQ(c.trace.after, 250ms);
  EXPECT_EQ(c.trace.span, 750us);
  EXPECT_EQ(c.interpreter.lock.of<gilcore::Py3Gil>().switch_interval, 5ms);
}

TEST(CommandLineTest, BytecodeNsIsAPlainNumberOfNanosecondsAsItsNameSays) {
  const auto parsed = parse({"--bytecode-ns", "2.5"});
  ASSERT_TRUE(parsed.command.config.has_value()) << parsed.err;
  EXPECT_EQ(parsed.command.config->interpreter.bytecode_cost, 3ns);
  for (const auto* bad : {"1.5us", "40ns", "-3", "1e3"}) {
    const auto refused = parse({"--bytecode-ns", bad});
    EXPECT_EQ(refused.command.exit_code, kExitBadInput) << bad;
    EXPECT_NE(refused.err.find("is not a number of nanoseconds"), std::string::npos) << refused.err;
    EXPECT_EQ(refused.err.find('\n'), refused.err.size() - 1) << refused.err;
  }
}

TEST(CommandLineTest, ReadsAConfigFileAndLetsTheCommandLineOverrideIt) {
  const auto path = write_temp("override.toml",
                               "# a comment\npolicy = \"py2\"\ncpu-threads = 4\n"
                               "switch-interval = \"1ms\"\ntimeout-socket = true\n");
  const auto parsed = parse({"--config", path, "--cpu-threads", "2"});
  ASSERT_TRUE(parsed.command.config.has_value()) << parsed.err;
  const auto& c = *parsed.command.config;
  EXPECT_EQ(c.interpreter.lock.policy, gilcore::kind_of<gilcore::Py2Gil>());
  EXPECT_EQ(c.cpu_threads, 2);
  EXPECT_EQ(c.interpreter.lock.of<gilcore::Py3Gil>().switch_interval, 1ms);
  EXPECT_TRUE(c.io.timeout_socket);
}

TEST(CommandLineTest, BadValuesGiveOneErrorLineAndExitCodeTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {"--policy", "gil"},
      {"--port", "-1"},
      {"--port", "65536"},
      {"--switch-interval", "5 parsecs"},
      {"--switch-interval", "0us"},
      {"--check-interval", "0"},
      {"--cpu-threads", "2000"},
      {"--fib-depth", "0"},
      {"--bytecode-ns", "-3"},
      {"--socket-call-ns", "1us"},
      {"--socket-call-ns", "20000000"},
      {"--bytecodes-per-call", "0"},
      {"--max-connections", "0"},
      {"--max-message", "lots"},
      {"--idle-timeout", "soon"},
      {"--duration", "-1s"},
      {"--log-level", "loud"},
      {"--bind", "localhost:80"},
      {"--trace-after", "later"},
      {"--trace-for", "-5ms"},
      {"--trace-buffer", "0"},
      {"--trace", "same.json", "--stats", "same.json"},
      {"--unknown"},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(args.front() + " " + args.back());
    const auto parsed = parse(args);
    EXPECT_FALSE(parsed.command.config.has_value());
    EXPECT_EQ(parsed.command.exit_code, kExitBadInput);
    EXPECT_EQ(parsed.out, "");
    ASSERT_FALSE(parsed.err.empty());
    EXPECT_EQ(parsed.err.find('\n'), parsed.err.size() - 1) << parsed.err;
  }
}

TEST(CommandLineTest, TraceOptionsSetTheTimeline) {
  const auto parsed = parse({"--trace", "t.json", "--trace-buffer", "1000", "--trace-after", "0.5s",
                             "--trace-for", "50ms"});
  ASSERT_TRUE(parsed.command.config.has_value()) << parsed.err;
  const auto& t = parsed.command.config->trace;
  EXPECT_TRUE(t.enabled());
  EXPECT_EQ(t.path, "t.json");
  EXPECT_EQ(t.buffer, 1000u);
  EXPECT_EQ(t.after, 500ms);
  EXPECT_EQ(t.span, 50ms);
  const auto off = parse({});
  ASSERT_TRUE(off.command.config.has_value());
  EXPECT_FALSE(off.command.config->trace.enabled());
}

TEST(CommandLineTest, UnknownConfigKeyIsNamed) {
  const auto path = write_temp("typo.toml", "polciy = \"py2\"\n");
  const auto parsed = parse({"--config", path});
  EXPECT_EQ(parsed.command.exit_code, kExitBadInput);
  EXPECT_EQ(parsed.err, "convoy-server: error: --config " + path + ":1: unknown option 'polciy'\n");
}

TEST(CommandLineTest, MissingConfigFileIsBadInput) {
  const auto parsed = parse({"--config", "/nonexistent/convoy.toml"});
  EXPECT_EQ(parsed.command.exit_code, kExitBadInput);
  EXPECT_NE(parsed.err.find("/nonexistent/convoy.toml"), std::string::npos);
}

TEST(CommandLineTest, HelpAndVersionExitZeroWithoutAConfig) {
  for (const auto* flag : {"--help", "--version"}) {
    const auto parsed = parse({flag});
    EXPECT_FALSE(parsed.command.config.has_value());
    EXPECT_EQ(parsed.command.exit_code, kExitOk);
    EXPECT_FALSE(parsed.out.empty());
  }
}

TEST(CommandLineTest, ListPoliciesPrintsEveryPolicyWithItsSummary) {
  const auto parsed = parse({"--list-policies"});
  EXPECT_EQ(parsed.command.exit_code, kExitOk) << parsed.err;
  EXPECT_FALSE(parsed.command.config.has_value());
  std::string expected;
  for (const auto& p : gilcore::catalogue()) {
    expected += std::string(p.info.name) + "\t" + std::string(p.info.summary) + "\n";
  }
  EXPECT_EQ(parsed.out, expected);
}

TEST(CommandLineTest, ListPoliciesAsJsonNamesKnobsAndDefaults) {
  const auto parsed = parse({"--list-policies", "--json"});
  ASSERT_EQ(parsed.command.exit_code, kExitOk) << parsed.err;
  const auto j = nlohmann::json::parse(parsed.out);
  ASSERT_EQ(j.size(), gilcore::catalogue().size());
  EXPECT_EQ(j[0]["name"], gilcore::catalogue()[0].info.name);
  const auto alone = parse({"--json"});
  EXPECT_EQ(alone.command.exit_code, kExitBadInput);
  EXPECT_NE(alone.err.find("--list-policies"), std::string::npos) << alone.err;
}

TEST(CommandLineTest, EveryKnobOfEveryPolicyIsAnOptionThatSetsIt) {
  for (const auto& policy : gilcore::catalogue()) {
    for (const auto& knob : policy.knobs) {
      const std::string value = knob.max_text.empty() ? knob.default_text : knob.max_text;
      const auto parsed = parse(
          {"--policy", std::string(policy.info.name), "--" + std::string(knob.option), value});
      ASSERT_TRUE(parsed.command.config.has_value()) << knob.option << ": " << parsed.err;
      EXPECT_EQ(knob.text_of(parsed.command.config->interpreter.lock), value) << knob.option;
      EXPECT_EQ(parsed.command.config->interpreter.lock.policy, policy.kind);
      const auto bad = parse({"--" + std::string(knob.option), "bogus"});
      EXPECT_EQ(bad.command.exit_code, kExitBadInput) << knob.option;
      EXPECT_EQ(bad.err.find('\n'), bad.err.size() - 1) << bad.err;
    }
  }
}

TEST(CommandLineTest, PolicyIsANameNotAnIndex) {
  for (const auto* bad : {"1", "PY3", "py9", ""}) {
    const auto parsed = parse({"--policy", bad});
    EXPECT_EQ(parsed.command.exit_code, kExitBadInput) << bad;
    EXPECT_NE(parsed.err.find(gilcore::policy_names()), std::string::npos) << parsed.err;
  }
}

TEST(CommandLineTest, PrintConfigRoundTripsThroughAConfigFile) {
  const auto first =
      parse({"--policy", "none", "--io-release", "when-blocking", "--duration", "90s", "--stats",
             "it's.json", "--bytecode-ns", "1500", "--print-config"});
  ASSERT_EQ(first.command.exit_code, kExitOk) << first.err;
  EXPECT_FALSE(first.command.config.has_value());
  const auto path = write_temp("roundtrip.toml", first.out);
  const auto second = parse({"--config", path, "--print-config"});
  ASSERT_EQ(second.command.exit_code, kExitOk) << second.err;
  EXPECT_EQ(second.out, first.out);
  const auto loaded = parse({"--config", path});
  ASSERT_TRUE(loaded.command.config.has_value()) << loaded.err;
  EXPECT_EQ(loaded.command.config->duration, 90s);
  EXPECT_EQ(loaded.command.config->interpreter.bytecode_cost, 1500ns);
}

}  // namespace
}  // namespace convoy::server
