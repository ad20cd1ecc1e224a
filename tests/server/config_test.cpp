#include <chrono>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "convoy/server/cli.hpp"
#include "convoy/server/config.hpp"
#include "gilcore/catalogue.hpp"

namespace convoy::server {
namespace {

using namespace std::chrono_literals;

TEST(ServerConfigTest, DefaultsAreValid) { EXPECT_NO_THROW(ServerConfig{}.validate()); }

TEST(ServerConfigTest, ExactDurationsUseTheLargestExactUnit) {
  EXPECT_EQ(format_exact_duration(0ns), "0s");
  EXPECT_EQ(format_exact_duration(5ms), "5ms");
  EXPECT_EQ(format_exact_duration(500us), "500us");
  EXPECT_EQ(format_exact_duration(1500us), "1500us");
  EXPECT_EQ(format_exact_duration(2s), "2s");
  EXPECT_EQ(format_exact_duration(1234567ns), "1234567ns");
}

TEST(ServerConfigTest, IoReleaseNamesRoundTrip) {
  for (const auto r : {IoRelease::always, IoRelease::when_blocking}) {
    EXPECT_EQ(parse_io_release(to_string(r)), r);
  }
  EXPECT_FALSE(parse_io_release("never").has_value());
}

TEST(ServerConfigTest, ValidateNamesTheBadSetting) {
  auto expect_invalid = [](auto change, const std::string& word) {
    ServerConfig c;
    change(c);
    try {
      c.validate();
      ADD_FAILURE() << "no error for " << word;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
  };
  expect_invalid([](ServerConfig& c) { c.bind = "example.com"; }, "bind");
  expect_invalid([](ServerConfig& c) { c.cpu_threads = -1; }, "cpu-threads");
  expect_invalid([](ServerConfig& c) { c.fib_depth = 0; }, "fib-depth");
  expect_invalid([](ServerConfig& c) { c.max_connections = 0; }, "max-connections");
  expect_invalid([](ServerConfig& c) { c.max_message = 0; }, "max-message");
  expect_invalid([](ServerConfig& c) { c.io.idle_timeout = -1s; }, "idle-timeout");
  expect_invalid([](ServerConfig& c) { c.duration = -1s; }, "duration");
  expect_invalid([](ServerConfig& c) { c.log_level = "chatty"; }, "log-level");
  expect_invalid(
      [](ServerConfig& c) { c.interpreter.lock.of<gilcore::Py3Gil>().switch_interval = 0ns; },
      "switch");
}

TEST(ServerConfigTest, TomlHasOneLinePerOption) {
  ServerConfig c;
  c.stats_path = "results/stats.json";
  const auto toml = to_toml(c);
  for (const auto* key :
       {"bind", "port", "policy", "bytecode-ns", "bytecodes-per-call", "io-release",
        "timeout-socket", "cpu-threads", "fib-depth", "handler-bytecodes", "max-connections",
        "max-message", "idle-timeout", "duration", "stats", "log-level"}) {
    EXPECT_NE(toml.find("\n" + std::string(key) + "="), std::string::npos) << key;
  }
  for (const auto& policy : gilcore::catalogue()) {
    for (const auto& knob : policy.knobs) {
      EXPECT_NE(toml.find("\n" + std::string(knob.option) + "="), std::string::npos) << knob.option;
    }
  }
  EXPECT_EQ(toml.rfind("# ", 0), 0u);
}

TEST(ServerConfigTest, JsonCarriesTheInterpreterConfiguration) {
  const nlohmann::json j = ServerConfig{};
  EXPECT_EQ(j["interpreter"]["lock"]["policy"], "py3");
  EXPECT_EQ(j["io_release"], "always");
  EXPECT_EQ(j["handler_bytecodes"], 20);
  EXPECT_EQ(j["socket_call_ns"], 0);
}

}  // namespace
}  // namespace convoy::server
