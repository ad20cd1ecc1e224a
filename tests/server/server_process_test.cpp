// Integration tests: the real convoy-server binary on 127.0.0.1, port 0.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server_harness.hpp"

namespace convoy::server::testing {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

TEST(ServerProcessTest, PrintsOneReadyLineWithTheBoundPort) {
  ServerProcess server({"--cpu-threads", "0"});
  EXPECT_EQ(server.ready_line(), "listening 127.0.0.1:" + std::to_string(server.port()));
  EXPECT_NE(server.port(), 0);
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(5s * kSlowdown), 0);
  EXPECT_EQ(server.rest_of_stdout(), "");
}

TEST(ServerProcessTest, EchoesMessagesOfEverySizeIntact) {
  // The real setting: the py3 lock with a fib thread running beside the connection.
  ServerProcess server({"--policy", "py3", "--cpu-threads", "1"});
  Client client(server.port());
  for (const std::size_t size :
       {std::size_t{1}, std::size_t{100}, std::size_t{64} << 10, std::size_t{1} << 20}) {
    const auto message = pattern(size, static_cast<std::uint32_t>(size));
    const auto reply = client.echo(message);
    ASSERT_EQ(reply.size(), size);
    EXPECT_TRUE(reply == message) << "echo of " << size << " bytes differs";
  }
}

TEST(ServerProcessTest, ServesTwoHundredConcurrentConnections) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server({"--cpu-threads", "1", "--policy", "py2", "--stats", stats_path});
  std::vector<Client> clients;
  clients.reserve(200);
  for (int i = 0; i < 200; ++i) clients.emplace_back(server.port());
  // Every connection has a message in flight at the same time, then all echoes are read.
  for (std::size_t i = 0; i < clients.size(); ++i) {
    clients[i].send_all(pattern(100, static_cast<std::uint32_t>(i)));
  }
  for (std::size_t i = 0; i < clients.size(); ++i) {
    ASSERT_EQ(clients[i].recv_exact(100), pattern(100, static_cast<std::uint32_t>(i)));
  }
  const auto stats = stop_and_read_stats(server, stats_path);
  EXPECT_EQ(stats["connections"]["served"], 200);
  EXPECT_EQ(stats["connections"]["peak_active"], 200);
  EXPECT_EQ(stats["connections"]["refused"], 0);
  EXPECT_EQ(stats["connections"]["closed"]["shutdown"], 200);
  EXPECT_EQ(stats["messages"]["count"], 200);
  EXPECT_EQ(stats["messages"]["bytes"], 200 * 100);
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

TEST(ServerProcessTest, AbruptCloseMidMessageEndsOnlyThatConnection) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server({"--cpu-threads", "1", "--stats", stats_path});
  const auto tasks = "/proc/" + std::to_string(server.pid()) + "/task";
  const int threads_before = count_entries(tasks);
  Client survivor(server.port());
  ASSERT_EQ(survivor.echo("before"), "before");
  {
    // Half of a large message, then a reset: the server is in recv or in the middle of sendall.
    Client quitter(server.port());
    quitter.send_all(pattern(300 << 10));
    quitter.reset();
  }
  {
    // A peer that closes without reading its echo: the server's sendall hits a dead socket.
    Client quitter(server.port());
    quitter.send_all(pattern(100));
    quitter.close();
  }
  ASSERT_EQ(survivor.echo(pattern(64 << 10)), pattern(64 << 10));
  Client newcomer(server.port());
  ASSERT_EQ(newcomer.echo("after"), "after");
  // Both quitters' threads are gone: only the survivor's and the newcomer's remain.
  EXPECT_TRUE(
      eventually([&] { return count_entries(tasks) == threads_before + 2; }, 5s * kSlowdown));
  const auto stats = stop_and_read_stats(server, stats_path);
  const auto& closed = stats["connections"]["closed"];
  EXPECT_EQ(closed["reset"].get<int>() + closed["eof"].get<int>(), 2) << closed.dump();
  EXPECT_EQ(closed["shutdown"], 2);
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

TEST(ServerProcessTest, ClosesIdleConnectionsOnly) {
  for (const bool timeout_socket : {false, true}) {
    SCOPED_TRACE(timeout_socket ? "timeout socket" : "blocking socket");
    const auto stats_path = scratch_path("stats.json");
    std::vector<std::string> args{"--cpu-threads", "0",       "--idle-timeout",
                                  "300ms",         "--stats", stats_path};
    if (timeout_socket) args.push_back("--timeout-socket");
    ServerProcess server(args);
    Client idle(server.port());
    Client busy(server.port());
    const auto start = Clock::now();
    while (Clock::now() - start < 600ms) {
      ASSERT_EQ(busy.echo("tick"), "tick");
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(idle.closed_by_peer_within(5s * kSlowdown));
    ASSERT_EQ(busy.echo("still here"), "still here");
    const auto stats = stop_and_read_stats(server, stats_path);
    EXPECT_EQ(stats["connections"]["closed"]["idle_timeout"], 1);
  }
}

TEST(ServerProcessTest, RefusesConnectionsBeyondMaxConnections) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server({"--cpu-threads", "0", "--max-connections", "2", "--log-level", "debug",
                        "--stats", stats_path});
  Client first(server.port());
  Client second(server.port());
  ASSERT_EQ(first.echo("1"), "1");
  ASSERT_EQ(second.echo("2"), "2");
  Client third(server.port());  // the kernel completes the handshake; the server closes it
  EXPECT_TRUE(third.closed_by_peer_within(5s * kSlowdown));
  first.close();
  // The slot frees once the first connection's thread has finished.
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    Client again(server.port());
    if (!again.closed_by_peer_within(20ms)) served = again.echo("3") == "3";
  }
  EXPECT_TRUE(served);
  const auto stats = stop_and_read_stats(server, stats_path);
  EXPECT_GE(stats["connections"]["refused"].get<int>(), 1);
  EXPECT_EQ(stats["connections"]["peak_active"], 2);
  EXPECT_NE(server.stderr_text().find("refused"), std::string::npos);
}

TEST(ServerProcessTest, StopsWithinOneSecondOnSigtermWithFibThreadsRunning) {
  for (const int sig : {SIGTERM, SIGINT, SIGHUP}) {
    SCOPED_TRACE(strsignal(sig));
    const auto stats_path = scratch_path("stats.json");
    ServerProcess server(
        {"--policy", "py3", "--cpu-threads", "2", "--max-message", "64MiB", "--stats", stats_path});
    Client waiting(server.port());  // its thread sits in recv
    Client stuck(server.port());    // its thread ends up blocked in sendall: nobody reads
    ASSERT_EQ(waiting.echo("hello"), "hello");
    EXPECT_GT(fill_without_reading(stuck), 0u);

    const auto signalled = Clock::now();
    server.signal(sig);
    const auto code = server.wait(10s * kSlowdown);
    const auto took = Clock::now() - signalled;
    ASSERT_TRUE(code.has_value()) << "still running 10s after the signal";
    EXPECT_EQ(*code, 0) << server.stderr_text();
    EXPECT_LT(took, 1s * kSlowdown)
        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << "ms";
    EXPECT_TRUE(waiting.closed_by_peer_within(1s));

    const auto stats = json::parse(read_file(stats_path));
    for (const auto* key : {"context", "config", "run", "lock", "fib", "connections", "messages"}) {
      EXPECT_TRUE(stats.contains(key)) << key;
    }
    EXPECT_EQ(stats["lock"]["policy"], "py3");
    EXPECT_EQ(stats["run"]["stopped_by"], "request");
    EXPECT_GT(stats["fib"]["calls"].get<double>(), 0);
    EXPECT_GT(stats["fib"]["calls_per_s"].get<double>(), 0);
    // Two busy threads for the run: CPU time is there and at most both threads' wall time.
    const double cpu_s = stats["fib"]["cpu_s"].get<double>();
    EXPECT_GT(cpu_s, 0);
    EXPECT_LE(cpu_s, 2 * stats["fib"]["elapsed_s"].get<double>() * 1.05 + 0.01);
    EXPECT_GE(stats["fib"]["calls_per_cpu_s"].get<double>(),
              stats["fib"]["calls_per_s"].get<double>() / 2 * 0.95);
    EXPECT_EQ(stats["fib"]["threads"], 2);
    EXPECT_EQ(stats["connections"]["served"], 2);
    EXPECT_GE(stats["messages"]["count"].get<int>(), 1);
    EXPECT_GE(stats["messages"]["handling_ns"]["count"].get<int>(), 1);
    EXPECT_GT(stats["messages"]["handling_ns"]["p50_ns"].get<double>(), 0);
    EXPECT_EQ(stats["lock"]["stats"]["roles"]["cpu"]["threads"], 2);
    EXPECT_EQ(stats["lock"]["stats"]["roles"]["main"]["threads"], 1);
    EXPECT_TRUE(stats["context"].contains("cores_online"));
  }
}

TEST(ServerProcessTest, StopsByItselfAfterDuration) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server({"--cpu-threads", "1", "--duration", "300ms", "--stats", stats_path});
  const auto code = server.wait(10s * kSlowdown);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << server.stderr_text();
  const auto stats = json::parse(read_file(stats_path));
  EXPECT_EQ(stats["run"]["stopped_by"], "duration");
  EXPECT_GE(stats["run"]["duration_s"].get<double>(), 0.29);
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
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(result.out, "");  // no ready line: nothing started
    ASSERT_FALSE(result.err.empty());
    EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << "more than one line: " << result.err;
    EXPECT_EQ(result.err.rfind("convoy-server: error: ", 0), 0u) << result.err;
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
  auto acquisitions = [](const std::vector<std::string>& extra) {
    const auto stats_path = scratch_path("stats.json");
    std::vector<std::string> args{"--cpu-threads", "0", "--stats", stats_path};
    args.insert(args.end(), extra.begin(), extra.end());
    ServerProcess server(args);
    {
      Client client(server.port());
      for (int i = 0; i < 40; ++i) {
        EXPECT_EQ(client.echo("message"), "message");
        std::this_thread::sleep_for(2ms);
      }
    }
    std::this_thread::sleep_for(50ms);
    return static_cast<double>(io_acquisitions(stop_and_read_stats(server, stats_path))) / 40;
  };
  EXPECT_NEAR(acquisitions({"--io-release", "always"}), 2.0, 0.1);
  EXPECT_NEAR(acquisitions({"--io-release", "when-blocking"}), 1.0, 0.1);
  EXPECT_NEAR(acquisitions({"--io-release", "always", "--timeout-socket"}), 4.0, 0.15);
}

TEST(ServerProcessTest, PrintedConfigurationLoadsBackUnchanged) {
  const auto first = run_server_to_completion(
      {"--policy", "py2", "--check-interval", "50", "--switch-interval", "0.001s", "--idle-timeout",
       "1500ms", "--max-message", "64KiB", "--timeout-socket", "--print-config"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("\nswitch-interval=\"1ms\"\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("\nmax-message=65536\n"), std::string::npos) << first.out;
  const auto path = scratch_path("printed.toml");
  { std::ofstream(path) << first.out; }
  const auto second = run_server_to_completion({"--config", path, "--print-config"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
}

}  // namespace
}  // namespace convoy::server::testing
