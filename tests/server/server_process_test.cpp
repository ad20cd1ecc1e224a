// Integration tests: the real convoy-server binary on 127.0.0.1, port 0 (what both I/O models do
// alike is in io_models_process_test.cpp).
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server_harness.hpp"

namespace convoy::server::testing {
namespace {

TEST(ServerProcessTest, PrintsOneReadyLineWithTheBoundPort) {
  ServerProcess server({"--cpu-threads", "0"});
  EXPECT_EQ(server.ready_line(), "listening 127.0.0.1:" + std::to_string(server.port()));
  EXPECT_NE(server.port(), 0);
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(5s * kSlowdown), 0);
  EXPECT_EQ(server.rest_of_stdout(), "");
}

TEST(ServerProcessTest, ServesTwoHundredConcurrentConnections) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server({"--cpu-threads", "1", "--policy", "py2", "--stats", stats_path});
  // Every connection has a message in flight at the same time, then all echoes are read.
  std::vector<Client> clients;
  ASSERT_NO_FATAL_FAILURE(echo_on_every_connection_at_once(server.port(), 200, clients));
  expect_served_all_at_once(stop_and_read_stats(server, stats_path), 200);
}

TEST(ServerProcessTest, LeavesNoThreadOrDescriptorBehindAfterThousandConnections) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server({"--cpu-threads", "1", "--policy", "py2", "--stats", stats_path});
  const auto tasks = "/proc/" + std::to_string(server.pid()) + "/task";
  const auto fds = "/proc/" + std::to_string(server.pid()) + "/fd";
  const int threads_before = count_entries(tasks);
  const int fds_before = count_entries(fds);
  ASSERT_GT(threads_before, 0);
  ASSERT_GT(fds_before, 0);

  constexpr int kCycles = 1000;
  for (int i = 0; i < kCycles; ++i) {
    Client client(server.port());
    if (i % 10 == 0) {
      ASSERT_EQ(client.echo("ping"), "ping");
    }
    if (i % 3 == 0) client.reset();
  }
  {
    // Accepted in order: once this one is served, every connection before it was accepted.
    Client last(server.port());
    ASSERT_EQ(last.echo("last"), "last");
  }
  EXPECT_TRUE(eventually([&] { return count_entries(tasks) == threads_before; }, 5s * kSlowdown))
      << count_entries(tasks) << " threads now, " << threads_before << " before";
  EXPECT_TRUE(eventually([&] { return count_entries(fds) == fds_before; }, 5s * kSlowdown))
      << count_entries(fds) << " descriptors now, " << fds_before << " before";

  const auto stats = stop_and_read_stats(server, stats_path);
  EXPECT_EQ(stats["connections"]["served"], kCycles + 1);
  EXPECT_EQ(stats["connections"]["refused"], 0);
  EXPECT_EQ(stats["messages"]["count"], kCycles / 10 + 1);
}

TEST(ServerProcessTest, ReadsMoreThanMaxMessagePendingInChunks) {
  // Under py3 with a fib thread the connection thread waits for the lock after every recv and
  // send, so a peer that sends 64 KiB at once (reading the echo as it goes) has far more than
  // --max-message pending in the kernel. That is the server's backlog, not the peer's fault.
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server(
      {"--policy", "py3", "--cpu-threads", "1", "--max-message", "1000", "--stats", stats_path});
  Client client(server.port());
  const auto message = pattern(64 << 10);
  ASSERT_EQ(client.echo(message), message);
  ASSERT_EQ(client.echo("still here"), "still here");
  const auto stats = stop_and_read_stats(server, stats_path);
  EXPECT_EQ(stats["messages"]["bytes"], message.size() + 10);
  EXPECT_GE(stats["messages"]["count"].get<std::size_t>(), message.size() / 1000);
  EXPECT_EQ(stats["connections"]["closed"]["shutdown"], 1) << stats["connections"].dump();
}

TEST(ServerProcessTest, RejectsBadInputWithExitCodeTwoAndOneLine) {
  const auto bad_config = scratch_path("bad.toml");
  { std::ofstream(bad_config) << "policy = \"py3\"\nswitch-intervall = \"5ms\"\n"; }
  const auto malformed = scratch_path("malformed.toml");
  { std::ofstream(malformed) << "cpu-threads = 1\npolicy = \"py3\n"; }
  const auto huge = scratch_path("huge.toml");
  { std::ofstream(huge) << "policy = \"" << std::string(10'000'000, 'x') << "\"\n"; }
  const auto long_value = scratch_path("long.toml");
  { std::ofstream(long_value) << "policy = \"" << std::string(500'000, 'x') << "\"\n"; }
  const std::vector<std::vector<std::string>> cases = {
      {"--policy", "py4"},
      {"--port", "70000"},
      {"--switch-interval", "fast"},
      {"--switch-interval", "0"},
      {"--cpu-threads", "-1"},
      {"--force-switching", "perhaps"},
      {"--io-release", "sometimes"},
      {"--bind", "not-an-address"},
      {"--max-message", "0"},
      {"--no-such-flag"},
      {"--config", "/nonexistent/convoy.toml"},
      {"--config", bad_config},
      {"--config", "/dev/zero"},
      {"--config", malformed},
      {"--config", huge},
      {"--config", long_value},
      {"--stats", "/nonexistent/dir/stats.json"},
      {"--stats", "/dev/full"},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(args.back());
    const auto result = run_server_to_completion(args, 20s * kSlowdown);
    ASSERT_FALSE(result.err.empty()) << "exit code " << result.exit_code;
    expect_usage_error(result);
    EXPECT_LT(result.err.size(), 400u);
  }
}

TEST(ServerProcessTest, ConfigFileErrorsNameTheFileTheLineAndTheKey) {
  const auto malformed = scratch_path("malformed.toml");
  { std::ofstream(malformed) << "cpu-threads = 1\npolicy = \"py3\n"; }
  const auto malformed_run = run_server_to_completion({"--config", malformed});
  EXPECT_NE(malformed_run.err.find(malformed + ":2: unterminated string"), std::string::npos)
      << malformed_run.err;
  const auto unknown = scratch_path("unknown.toml");
  { std::ofstream(unknown) << "policy = \"py3\"\n\nswitch-intervall = \"5ms\"\n"; }
  const auto unknown_run = run_server_to_completion({"--config", unknown});
  EXPECT_NE(unknown_run.err.find(unknown + ":3: unknown option 'switch-intervall'"),
            std::string::npos)
      << unknown_run.err;
}

TEST(ServerProcessTest, AStatsFileIsCheckedAtStartWithoutLeavingAFileBehind) {
  // The bind fails (no interface has 192.0.2.1) after the stats path was checked.
  const auto dir = scratch_path("stats-dir");
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  const auto result = run_server_to_completion(
      {"--bind", "192.0.2.1", "--cpu-threads", "0", "--stats", dir + "/stats.json"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(count_entries(dir), 0) << "a file was left in " << dir;
  ::rmdir(dir.c_str());
}

TEST(ServerProcessTest, ReplacesAnExistingStatsFileWhole) {
  const auto stats_path = scratch_path("stats.json");
  { std::ofstream(stats_path) << "previous run"; }
  const auto kept = scratch_path("previous.json");
  ASSERT_EQ(::link(stats_path.c_str(), kept.c_str()), 0);
  ServerProcess server({"--cpu-threads", "0", "--stats", stats_path});
  const auto stats = stop_and_read_stats(server, stats_path);
  EXPECT_EQ(stats["program"], "convoy-server");
  // Written to a new file renamed onto the old name: the old file itself is untouched.
  EXPECT_EQ(read_file(kept), "previous run");
}

TEST(ServerProcessTest, WarnsOnOneLineWhenListeningBeyondLoopback) {
  const auto local = run_server_to_completion({"--cpu-threads", "0", "--duration", "100ms"});
  EXPECT_EQ(local.err.find(" warn"), std::string::npos) << local.err;
  const auto all =
      run_server_to_completion({"--bind", "0.0.0.0", "--cpu-threads", "0", "--duration", "100ms"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  const auto warning = all.err.find(" warn");
  ASSERT_NE(warning, std::string::npos) << all.err;
  const auto line = all.err.substr(warning, all.err.find('\n', warning) - warning);
  EXPECT_NE(line.find("every interface"), std::string::npos) << line;
  EXPECT_EQ(all.err.find(" warn", warning + 1), std::string::npos) << "one line: " << all.err;
}

TEST(ServerProcessTest, HelpAndVersionExitZero) {
  const auto help = run_server_to_completion({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--switch-interval"), std::string::npos);
  const auto version = run_server_to_completion({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("convoy-server ", 0), 0u) << version.out;
}

TEST(ServerProcessTest, ExitsWithOneWhenThePortIsInUse) {
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const auto port = std::to_string(ntohs(addr.sin_port));

  const auto result = run_server_to_completion({"--port", port, "--cpu-threads", "1"});
  ::close(holder);
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("in use"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(port), std::string::npos) << result.err;
}

TEST(ServerProcessTest, ExitsWithOneWhenTheAddressCannotBeBound) {
  // 192.0.2.1 (TEST-NET-1) is a valid address that no local interface has.
  const auto result = run_server_to_completion({"--bind", "192.0.2.1", "--cpu-threads", "0"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("192.0.2.1"), std::string::npos) << result.err;
}

TEST(ServerProcessTest, WhenBlockingReleasesHalfAsOftenAsAlways) {
  // A client that waits between messages: recv always has to wait, send never does.
  EXPECT_NEAR(io_acquisitions_per_message({"--io-release", "always"}, 40), 2.0, 0.1);
  EXPECT_NEAR(io_acquisitions_per_message({"--io-release", "when-blocking"}, 40), 1.0, 0.1);
  EXPECT_NEAR(io_acquisitions_per_message({"--io-release", "always", "--timeout-socket"}, 40), 4.0,
              0.15);
}

}  // namespace
}  // namespace convoy::server::testing
