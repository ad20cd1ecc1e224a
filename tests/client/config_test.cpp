#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "convoy/client/config.hpp"
#include "process.hpp"

namespace convoy::client {
namespace {

using convoy::testing::temp_path;

Config parse_ok(const std::vector<std::string>& args) {
  const auto o = parse_command_line(args);
  EXPECT_TRUE(o.config.has_value()) << o.error;
  return o.config.value_or(Config{});
}

void expect_error(const std::vector<std::string>& args, const std::string& fragment) {
  const auto o = parse_command_line(args);
  EXPECT_FALSE(o.config.has_value());
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.error.find(fragment), std::string::npos) << o.error;
  EXPECT_EQ(o.error.find('\n'), std::string::npos) << "one line: " << o.error;
}

std::string write_temp(const std::string& text) {
  const std::string path = temp_path(".toml");
  std::ofstream(path) << text;
  return path;
}

TEST(ClientConfigTest, DefaultsAreAClosedLoopForTenSeconds) {
  const Config c = parse_ok({"--port", "9000"});
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.mode, Mode::closed);
  EXPECT_EQ(c.connections, 1u);
  EXPECT_EQ(c.size, 100u);
  ASSERT_TRUE(c.duration.has_value());
  EXPECT_EQ(*c.duration, std::chrono::seconds(10));
  EXPECT_FALSE(c.count.has_value());
  EXPECT_EQ(c.timeout, std::chrono::seconds(1));
}

TEST(ClientConfigTest, OpenModeTakesRateAndArrival) {
  const Config c = parse_ok({"-p", "1", "--mode", "open", "--rate", "20000", "--arrival", "poisson",
                             "-c", "4", "-t", "2", "-n", "5000", "-w", "1000"});
  EXPECT_EQ(c.mode, Mode::open);
  EXPECT_DOUBLE_EQ(c.rate, 20'000);
  EXPECT_EQ(c.arrival, Arrival::poisson);
  EXPECT_EQ(c.connections, 4u);
  EXPECT_EQ(c.threads, 2u);
  EXPECT_EQ(c.count, 5000u);
  EXPECT_FALSE(c.duration.has_value());
  EXPECT_EQ(c.warmup_count, 1000u);
}

TEST(ClientConfigTest, WarmupTakesADurationOrACount) {
  EXPECT_EQ(parse_ok({"-p", "1", "-w", "500ms"}).warmup_time, std::chrono::milliseconds(500));
  EXPECT_EQ(parse_ok({"-p", "1", "-w", "250"}).warmup_count, 250u);
  expect_error({"-p", "1", "-w", "soon"}, "warmup");
}

TEST(ClientConfigTest, DurationsNeedAUnit) {
  EXPECT_EQ(parse_ok({"-p", "1", "--think", "2ms"}).think, std::chrono::milliseconds(2));
  EXPECT_EQ(parse_ok({"-p", "1", "--think", "0"}).think, std::chrono::nanoseconds(0));
  expect_error({"-p", "1", "--duration", "10"}, "unit");
  expect_error({"-p", "1", "--timeout", "fast"}, "timeout");
}

TEST(ClientConfigTest, RateMustBeSchedulable) {
  EXPECT_DOUBLE_EQ(parse_ok({"-p", "1", "--mode", "open", "--rate", "0.001"}).rate, 0.001);
  EXPECT_DOUBLE_EQ(parse_ok({"-p", "1", "--mode", "open", "--rate", "1e9"}).rate, 1e9);
  for (const auto* rate : {"nan", "inf", "1e300", "1e-300", "0", "-3", "1e9x"}) {
    expect_error({"-p", "1", "--mode", "open", "--rate", rate}, "from 0.001 to 1e9");
  }
}

TEST(ClientConfigTest, MaxInFlightIsAnOpenLoopLimit) {
  EXPECT_EQ(parse_ok({"-p", "1", "--mode", "open", "--rate", "10"}).max_in_flight, 1000u);
  EXPECT_EQ(
      parse_ok({"-p", "1", "--mode", "open", "--rate", "10", "--max-in-flight", "7"}).max_in_flight,
      7u);
  expect_error({"-p", "1", "--max-in-flight", "7"}, "--mode open only");
  expect_error({"-p", "1", "--mode", "open", "--rate", "10", "--max-in-flight", "0"},
               "max-in-flight");
}

TEST(ClientConfigTest, ResultPathsAreCheckedWithoutCreatingFiles) {
  expect_error({"-p", "1", "--json", "/dev/full"}, "not a regular file");
  expect_error({"-p", "1", "--csv", "/nonexistent/dir/x.csv"}, "does not exist");
  const auto path = temp_path(".json");
  parse_ok({"-p", "1", "--json", path});
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ClientConfigTest, ConfigFileErrorsNameTheFileAndLine) {
  const auto path = write_temp("port = 7000\npolicy = \"py3\"\n");
  expect_error({"--config", path}, path + ":2: unknown key 'policy'");
  const auto malformed = write_temp("port = 7000\nmode = 'open\n");
  expect_error({"--config", malformed}, malformed + ":2: unterminated string");
  expect_error({"--config", "/dev/zero"}, "not a regular file");
  std::filesystem::remove(path);
  std::filesystem::remove(malformed);
}

TEST(ClientConfigTest, InvalidCombinationsAreRejected) {
  expect_error({}, "--port is required");
  expect_error({"-p", "1", "--mode", "open"}, "--rate");
  expect_error({"-p", "1", "--rate", "100"}, "--mode open only");
  expect_error({"-p", "1", "--arrival", "poisson"}, "--mode open only");
  expect_error({"-p", "1", "--mode", "open", "--rate", "10", "--think", "1ms"},
               "--mode closed only");
  expect_error({"-p", "1", "-d", "1s", "-n", "10"}, "excludes");
  expect_error({"-p", "1", "-c", "2", "-t", "3"}, "--threads");
  expect_error({"-p", "1", "--size", "31"}, "--size");
  expect_error({"-p", "70000"}, "--port");
  expect_error({"-p", "1", "--mode", "sideways"}, "--mode");
  expect_error({"-p", "1", "--bogus"}, "--bogus");
  expect_error({"-p", "1", "--json", "/nonexistent-dir/x.json"}, "does not exist");
}

TEST(ClientConfigTest, HelpAndVersionExitZeroWithOutput) {
  const auto help = parse_command_line({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_FALSE(help.config.has_value());
  EXPECT_NE(help.output.find("--rate"), std::string::npos);
  const auto version = parse_command_line({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("convoy-client"), std::string::npos);
}

TEST(ClientConfigTest, ConfigFileSetsOptionsAndFlagsWin) {
  const auto path = write_temp(
      "# a test config\nport = 7000\nmode = \"open\"\nrate = 500\nconnections = 3\n"
      "duration = \"2s\"\nwarmup = \"100ms\"\n");
  const Config c = parse_ok({"--config", path, "-c", "5"});
  EXPECT_EQ(c.port, 7000);
  EXPECT_EQ(c.mode, Mode::open);
  EXPECT_DOUBLE_EQ(c.rate, 500);
  EXPECT_EQ(c.connections, 5u);
  EXPECT_EQ(*c.duration, std::chrono::seconds(2));
  EXPECT_EQ(c.warmup_time, std::chrono::milliseconds(100));
  std::filesystem::remove(path);
}

TEST(ClientConfigTest, ConfigFileWithAnUnknownKeyIsAnError) {
  const auto path = write_temp("port = 7000\nconections = 3\n");
  expect_error({"--config", path}, "conections");
  std::filesystem::remove(path);
  expect_error({"--config", "/nonexistent/convoy.toml"}, "convoy.toml");
}

TEST(ClientConfigTest, PrintedConfigReadsBackToTheSameConfig) {
  const std::vector<std::string> args = {
      "-p",     "9100", "--mode",    "open",  "--rate", "1234.5", "--arrival", "poisson",
      "-c",     "6",    "-t",        "2",     "-n",     "777",    "-w",        "50",
      "--size", "256",  "--timeout", "250ms", "--cpus", "0,1",    "--host",    "localhost"};
  const auto first = parse_command_line([&] {
    auto a = args;
    a.push_back("--print-config");
    return a;
  }());
  ASSERT_EQ(first.exit_code, 0) << first.error;
  ASSERT_FALSE(first.output.empty());
  const auto path = write_temp(first.output);
  const auto reread = parse_command_line({"--config", path, "--print-config"});
  EXPECT_EQ(reread.exit_code, 0) << reread.error;
  EXPECT_EQ(reread.output, first.output);
  const Config a = parse_ok(args);
  const Config b = parse_ok({"--config", path});
  EXPECT_EQ(config_to_json(a), config_to_json(b));
  std::filesystem::remove(path);
}

// Result paths with the characters a hand-written TOML writer gets wrong come back unchanged
// through --print-config and --config.
TEST(ClientConfigTest, PrintedConfigKeepsOddPaths) {
  const auto dir = std::filesystem::path(temp_path("-dir"));
  std::filesystem::create_directory(dir);
  const std::vector<std::string> names = {
      "a\"b.json", "back\\slash.json", "with spaces.json", "caf\u00e9 \u65e5\u672c.json",
      "it's.json", "a,b.json",         "\"quoted\".json"};
  for (const auto& name : names) {
    const std::string odd = (dir / name).string();
    SCOPED_TRACE(odd);
    const auto first = parse_command_line(
        {"-p", "1", "--json", odd, "--csv", odd + ".csv", "--hgrm", odd + " x", "--print-config"});
    ASSERT_EQ(first.exit_code, 0) << first.error;
    const auto path = write_temp(first.output);
    const Config c = parse_ok({"--config", path});
    EXPECT_EQ(c.json_path, odd);
    EXPECT_EQ(c.csv_path, odd + ".csv");
    EXPECT_EQ(c.hgrm_path, odd + " x");
    const auto reread = parse_command_line({"--config", path, "--print-config"});
    EXPECT_EQ(reread.output, first.output) << reread.error;
    std::filesystem::remove(path);
  }
  std::filesystem::remove_all(dir);
}

TEST(ClientConfigTest, PrintConfigRefusesAPathItCannotWriteBack) {
  const auto dir = std::filesystem::path(temp_path("-dir"));
  std::filesystem::create_directory(dir);
  for (const auto* name : {"hash#tag.json", "both'\"quotes.json", "trailing\\"}) {
    expect_error({"-p", "1", "--json", (dir / name).string(), "--print-config"},
                 "--print-config: the value of --json cannot be written");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace convoy::client
