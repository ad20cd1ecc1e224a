// The real convoy-server binary with --io-model eventloop, on 127.0.0.1 port 0.
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
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

std::vector<std::string> eventloop(std::vector<std::string> args) {
  args.insert(args.begin(), {"--io-model", "eventloop"});
  return args;
}

std::uint64_t closed(const json& stats, const char* reason) {
  return stats["connections"]["closed"][reason].get<std::uint64_t>();
}

TEST(EventLoopProcessTest, EchoesMessagesOfEverySizeIntact) {
  ServerProcess server(eventloop({"--policy", "py3", "--cpu-threads", "1"}));
  Client client(server.port());
  for (const std::size_t size :
       {std::size_t{1}, std::size_t{100}, std::size_t{64} << 10, std::size_t{1} << 20}) {
    const auto message = pattern(size, static_cast<std::uint32_t>(size));
    const auto reply = client.echo(message);
    ASSERT_EQ(reply.size(), size);
    EXPECT_TRUE(reply == message) << "echo of " << size << " bytes differs";
  }
}

// Thousands of connections, and still no thread per connection: the fib threads and the main
// thread, which runs the loop (and a sanitizer's own thread, if it has one).
TEST(EventLoopProcessTest, ServesTwoThousandConnectionsWithoutAThreadEach) {
  constexpr int kConnections = 2000;
  constexpr rlim_t kNeeded = kConnections + 100;  // each process: its sockets and a few more
  rlimit files{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  if (files.rlim_cur < kNeeded) {
    if (files.rlim_max < kNeeded) {
      GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << files.rlim_max << " is below the " << kNeeded
                   << " descriptors " << kConnections << " connections need";
    }
    files.rlim_cur = kNeeded;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);  // the server inherits it
  }
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server(eventloop({"--cpu-threads", "1", "--policy", "py2", "--max-connections",
                                  std::to_string(kConnections), "--stats", stats_path}));
  const auto tasks = "/proc/" + std::to_string(server.pid()) + "/task";
  EXPECT_EQ(count_entries(tasks), 1 + 1 + kRuntimeThreads);

  std::vector<Client> clients;
  clients.reserve(kConnections);
  for (int i = 0; i < kConnections; ++i) clients.emplace_back(server.port());
  for (std::size_t i = 0; i < clients.size(); ++i) {
    clients[i].send_all(pattern(100, static_cast<std::uint32_t>(i)));
  }
  for (std::size_t i = 0; i < clients.size(); ++i) {
    ASSERT_EQ(clients[i].recv_exact(100), pattern(100, static_cast<std::uint32_t>(i))) << i;
  }
  EXPECT_EQ(count_entries(tasks), 1 + 1 + kRuntimeThreads);

  const auto stats = stop_and_read_stats(server, stats_path);
  EXPECT_EQ(stats["connections"]["served"], kConnections);
  EXPECT_EQ(stats["connections"]["peak_active"], kConnections);
  EXPECT_EQ(stats["connections"]["refused"], 0);
  EXPECT_EQ(closed(stats, "shutdown"), static_cast<std::uint64_t>(kConnections));
  EXPECT_EQ(stats["messages"]["count"], kConnections);
  EXPECT_EQ(stats["messages"]["bytes"], kConnections * 100);
  EXPECT_EQ(stats["lock"]["stats"]["roles"]["io"]["threads"], 1);
  // Many connections ready at once share an epoll_wait: fewer turns than messages.
  EXPECT_LT(stats["loop"]["iterations"].get<int>(), kConnections);
}

TEST(EventLoopProcessTest, AbruptClosesAndResetsEndOnlyThatConnection) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server(eventloop({"--cpu-threads", "1", "--stats", stats_path}));
  Client survivor(server.port());
  ASSERT_EQ(survivor.echo("before"), "before");
  {
    // Half of a large message, then a reset: the loop is reading it or echoing it.
    Client quitter(server.port());
    quitter.send_all(pattern(300 << 10));
    quitter.reset();
  }
  {
    // A peer that closes without reading its echo.
    Client quitter(server.port());
    quitter.send_all(pattern(100));
    quitter.close();
  }
  ASSERT_EQ(survivor.echo(pattern(64 << 10)), pattern(64 << 10));
  Client newcomer(server.port());
  ASSERT_EQ(newcomer.echo("after"), "after");
  // The listener and the two connections left: the loop ends the others when it next looks.
  EXPECT_TRUE(eventually([&] { return count_sockets(server.pid()) == 1 + 2; }, 5s * kSlowdown))
      << count_sockets(server.pid()) << " sockets open";
  const auto stats = stop_and_read_stats(server, stats_path);
  EXPECT_EQ(closed(stats, "reset") + closed(stats, "eof"), 2u) << stats["connections"].dump();
  EXPECT_EQ(closed(stats, "shutdown"), 2u);
}

TEST(EventLoopProcessTest, APeerThatNeverReadsDoesNotStallTheOthers) {
  const auto stats_path = scratch_path("stats.json");
  // A large --max-message, so that the backlog the peer builds up is not an oversized chunk.
  ServerProcess server(
      eventloop({"--cpu-threads", "1", "--max-message", "64MiB", "--stats", stats_path}));
  Client stuck(server.port());
  EXPECT_GT(fill_without_reading(stuck), 0u);
  Client other(server.port());
  for (int i = 0; i < 20; ++i) ASSERT_EQ(other.echo("still served"), "still served");
  const auto stats = stop_and_read_stats(server, stats_path);
  EXPECT_EQ(closed(stats, "shutdown"), 2u);
  EXPECT_GE(stats["messages"]["count"].get<int>(), 20);
}

TEST(EventLoopProcessTest, ReadsMoreThanMaxMessageInChunksAndEchoesItWhole) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server(
      eventloop({"--cpu-threads", "0", "--max-message", "1000", "--stats", stats_path}));
  Client ok(server.port());
  ASSERT_EQ(ok.echo(pattern(1000)), pattern(1000));
  Client big(server.port());
  ASSERT_EQ(big.echo(pattern(5000)), pattern(5000));
  ASSERT_EQ(ok.echo("still here"), "still here");
  const auto stats = stop_and_read_stats(server, stats_path);
  EXPECT_EQ(closed(stats, "error"), 0u);
  EXPECT_GE(stats["messages"]["count"].get<int>(), 7);  // 1 + at least 5 chunks + 1
}

TEST(EventLoopProcessTest, ClosesIdleConnectionsOnly) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server(
      eventloop({"--cpu-threads", "0", "--idle-timeout", "300ms", "--stats", stats_path}));
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
  EXPECT_EQ(closed(stats, "idle_timeout"), 1u);
}

TEST(EventLoopProcessTest, RefusesConnectionsBeyondMaxConnections) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server(eventloop({"--cpu-threads", "0", "--max-connections", "2", "--log-level",
                                  "debug", "--stats", stats_path}));
  Client first(server.port());
  Client second(server.port());
  ASSERT_EQ(first.echo("1"), "1");
  ASSERT_EQ(second.echo("2"), "2");
  Client third(server.port());
  EXPECT_TRUE(third.closed_by_peer_within(5s * kSlowdown));
  first.close();
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

TEST(EventLoopProcessTest, StopsWithinOneSecondOnSigtermAndSigint) {
  for (const int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    const auto stats_path = scratch_path("stats.json");
    ServerProcess server(eventloop({"--policy", "py3", "--cpu-threads", "2", "--max-message",
                                    "64MiB", "--stats", stats_path}));
    Client waiting(server.port());
    Client stuck(server.port());  // its echo backs up: nobody reads
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
    EXPECT_EQ(stats["config"]["io_model"], "eventloop");
    EXPECT_EQ(stats["run"]["stopped_by"], "request");
    EXPECT_GT(stats["fib"]["calls_per_s"].get<double>(), 0);
    EXPECT_EQ(stats["connections"]["served"], 2);
    EXPECT_EQ(closed(stats, "shutdown"), 2u);
    EXPECT_GE(stats["messages"]["count"].get<int>(), 1);
    EXPECT_EQ(stats["lock"]["stats"]["roles"]["io"]["threads"], 1);
    EXPECT_EQ(stats["lock"]["stats"]["roles"]["main"]["threads"], 0);
    EXPECT_EQ(stats["lock"]["stats"]["roles"]["cpu"]["threads"], 2);
    EXPECT_GT(stats["loop"]["iterations"].get<int>(), 0);
  }
}

TEST(EventLoopProcessTest, StopsByItselfAfterDuration) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server(
      eventloop({"--cpu-threads", "1", "--duration", "300ms", "--stats", stats_path}));
  const auto code = server.wait(10s * kSlowdown);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << server.stderr_text();
  const auto stats = json::parse(read_file(stats_path));
  EXPECT_EQ(stats["run"]["stopped_by"], "duration");
  EXPECT_GE(stats["run"]["duration_s"].get<double>(), 0.29);
}

// A client that waits between messages: every epoll_wait has to wait. The few acquisitions of
// setup, accept and close are spread over 100 messages.
TEST(EventLoopProcessTest, CountsThreeReacquisitionsPerMessageOrOneWhenBlocking) {
  auto per_message = [](const std::string& release) {
    const auto stats_path = scratch_path("stats.json");
    ServerProcess server(
        eventloop({"--cpu-threads", "0", "--io-release", release, "--stats", stats_path}));
    {
      Client client(server.port());
      for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(client.echo("message"), "message");
        std::this_thread::sleep_for(2ms);
      }
    }
    std::this_thread::sleep_for(50ms);
    const auto stats = stop_and_read_stats(server, stats_path);
    EXPECT_EQ(stats["messages"]["count"], 100);
    return static_cast<double>(io_acquisitions(stats)) / 100;
  };
  EXPECT_NEAR(per_message("always"), 3.0, 0.2);
  EXPECT_NEAR(per_message("when-blocking"), 1.0, 0.1);
}

TEST(EventLoopProcessTest, RejectsSettingsTheModelCannotHonour) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--io-model", "eventloop", "--timeout-socket"},
           {"--io-model", "fibers"},
           {"--io-model", "eventloop", "--loop-bytecodes", "-1"}}) {
    SCOPED_TRACE(args.back());
    const auto result = run_server_to_completion(args, 20s * kSlowdown);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << "more than one line: " << result.err;
    EXPECT_EQ(result.err.rfind("convoy-server: error: ", 0), 0u) << result.err;
  }
}

TEST(EventLoopProcessTest, PrintedConfigurationCarriesTheModel) {
  const auto first =
      run_server_to_completion(eventloop({"--loop-bytecodes", "7", "--print-config"}));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("\nio-model=\"eventloop\"\n"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("\nloop-bytecodes=7\n"), std::string::npos) << first.out;
  const auto path = scratch_path("printed.toml");
  { std::ofstream(path) << first.out; }
  const auto second = run_server_to_completion({"--config", path, "--print-config"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
}

}  // namespace
}  // namespace convoy::server::testing
