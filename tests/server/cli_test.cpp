#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "convoy/server/cli.hpp"

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
  EXPECT_EQ(c.interpreter.lock.policy, gilcore::PolicyKind::py3);
  EXPECT_EQ(c.interpreter.lock.switch_interval, 5ms);
  EXPECT_TRUE(c.interpreter.lock.force_switching);
  EXPECT_EQ(c.interpreter.lock.check_interval, 100);
  EXPECT_EQ(c.io.release, IoRelease::always);
  EXPECT_FALSE(c.io.timeout_socket);
  EXPECT_EQ(c.handler_bytecodes, 20u);
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
                             "--max-connections",
                             "10",
                             "--max-message",
                             "64KiB",
                             "--idle-timeout",
                             "2",
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
  EXPECT_EQ(c.interpreter.lock.policy, gilcore::PolicyKind::py2);
  EXPECT_EQ(c.interpreter.lock.switch_interval, 500us);
  EXPECT_EQ(c.interpreter.lock.check_interval, 50);
  EXPECT_FALSE(c.interpreter.lock.force_switching);
  EXPECT_EQ(c.io.release, IoRelease::when_blocking);
  EXPECT_TRUE(c.io.timeout_socket);
  EXPECT_EQ(c.cpu_threads, 3);
  EXPECT_EQ(c.fib_depth, 15);
  EXPECT_EQ(c.interpreter.bytecode_cost, 40ns);
  EXPECT_EQ(c.interpreter.bytecodes_per_call, 7);
  EXPECT_EQ(c.handler_bytecodes, 0u);
  EXPECT_EQ(c.max_connections, 10u);
  EXPECT_EQ(c.max_message, 65536u);
  EXPECT_EQ(c.io.idle_timeout, 2s);  // a bare number is seconds
  EXPECT_EQ(c.duration, 1500ms);
  EXPECT_EQ(c.stats_path, "out.json");
  EXPECT_EQ(c.log_level, "debug");
}

TEST(CommandLineTest, BareSwitchIntervalIsSecondsLikeSetSwitchInterval) {
  const auto parsed = parse({"--switch-interval", "0.005"});
  ASSERT_TRUE(parsed.command.config.has_value()) << parsed.err;
  EXPECT_EQ(parsed.command.config->interpreter.lock.switch_interval, 5ms);
}

TEST(CommandLineTest, ReadsAConfigFileAndLetsTheCommandLineOverrideIt) {
  const auto path = write_temp("override.toml",
                               "# a comment\npolicy = \"py2\"\ncpu-threads = 4\n"
                               "switch-interval = \"1ms\"\ntimeout-socket = true\n");
  const auto parsed = parse({"--config", path, "--cpu-threads", "2"});
  ASSERT_TRUE(parsed.command.config.has_value()) << parsed.err;
  const auto& c = *parsed.command.config;
  EXPECT_EQ(c.interpreter.lock.policy, gilcore::PolicyKind::py2);
  EXPECT_EQ(c.cpu_threads, 2);
  EXPECT_EQ(c.interpreter.lock.switch_interval, 1ms);
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
      {"--bytecodes-per-call", "0"},
      {"--max-connections", "0"},
      {"--max-message", "lots"},
      {"--idle-timeout", "soon"},
      {"--duration", "-1s"},
      {"--log-level", "loud"},
      {"--bind", "localhost:80"},
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

TEST(CommandLineTest, PrintConfigRoundTripsThroughAConfigFile) {
  const auto first =
      parse({"--policy", "none", "--io-release", "when-blocking", "--duration", "90s", "--stats",
             "it's.json", "--bytecode-ns", "1.5us", "--print-config"});
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
