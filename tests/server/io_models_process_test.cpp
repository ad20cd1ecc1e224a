// What the real convoy-server binary does alike in both I/O models, on 127.0.0.1 port 0: each
// case runs once with the default model (threads) and once with --io-model eventloop.
#include <signal.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <ostream>
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

struct IoModel {
  std::string name;               ///< as the stats file's config.io_model spells it
  std::vector<std::string> args;  ///< what selects it on the command line
  /// Arguments for a --print-config round trip, and lines the print has to carry.
  std::vector<std::string> print_args;
  std::vector<std::string> printed_lines;
};

void PrintTo(const IoModel& model, std::ostream* os) { *os << model.name; }

class IoModelsProcessTest : public ::testing::TestWithParam<IoModel> {
 protected:
  /// The model's arguments, then `rest`.
  static std::vector<std::string> args(const std::vector<std::string>& rest) {
    auto all = GetParam().args;
    all.insert(all.end(), rest.begin(), rest.end());
    return all;
  }
  static bool threads() { return GetParam().name == "threads"; }
};

INSTANTIATE_TEST_SUITE_P(
    Server, IoModelsProcessTest,
    ::testing::Values(IoModel{"threads",
                              {},
                              {"--policy", "py2", "--check-interval", "50", "--switch-interval",
                               "0.001s", "--idle-timeout", "1500ms", "--max-message", "64KiB",
                               "--timeout-socket"},
                              {"\nswitch-interval=\"1ms\"\n", "\nmax-message=65536\n"}},
                      IoModel{"eventloop",
                              {"--io-model", "eventloop"},
                              {"--loop-bytecodes", "7"},
                              {"\nio-model=\"eventloop\"\n", "\nloop-bytecodes=7\n"}}),
    [](const ::testing::TestParamInfo<IoModel>& model) { return model.param.name; });

TEST_P(IoModelsProcessTest, EchoesMessagesOfEverySizeIntact) {
  // The real setting: the py3 lock with a fib thread running beside the connection.
  ServerProcess server(args({"--policy", "py3", "--cpu-threads", "1"}));
  Client client(server.port());
  for (const std::size_t size :
       {std::size_t{1}, std::size_t{100}, std::size_t{64} << 10, std::size_t{1} << 20}) {
    const auto message = pattern(size, static_cast<std::uint32_t>(size));
    const auto reply = client.echo(message);
    ASSERT_EQ(reply.size(), size);
    EXPECT_TRUE(reply == message) << "echo of " << size << " bytes differs";
  }
}

TEST_P(IoModelsProcessTest, AbruptClosesAndResetsEndOnlyThatConnection) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server(args({"--cpu-threads", "1", "--stats", stats_path}));
  const auto tasks = "/proc/" + std::to_string(server.pid()) + "/task";
  const int threads_before = count_entries(tasks);
  Client survivor(server.port());
  ASSERT_EQ(survivor.echo("before"), "before");
  {
    // Half of a large message, then a reset: the server is reading it or echoing it.
    Client quitter(server.port());
    quitter.send_all(pattern(300 << 10));
    quitter.reset();
  }
  {
    // A peer that closes without reading its echo: the echo goes to a dead socket.
    Client quitter(server.port());
    quitter.send_all(pattern(100));
    quitter.close();
  }
  ASSERT_EQ(survivor.echo(pattern(64 << 10)), pattern(64 << 10));
  Client newcomer(server.port());
  ASSERT_EQ(newcomer.echo("after"), "after");
  if (threads()) {
    // Both quitters' threads are gone: only the survivor's and the newcomer's remain.
    EXPECT_TRUE(
        eventually([&] { return count_entries(tasks) == threads_before + 2; }, 5s * kSlowdown));
  } else {
    // The listener and the two connections left: the loop ends the others when it next looks.
    EXPECT_TRUE(eventually([&] { return count_sockets(server.pid()) == 1 + 2; }, 5s * kSlowdown))
        << count_sockets(server.pid()) << " sockets open";
  }
  const auto stats = stop_and_read_stats(server, stats_path);
  EXPECT_EQ(closed(stats, "reset") + closed(stats, "eof"), 2u) << stats["connections"].dump();
  EXPECT_EQ(closed(stats, "shutdown"), 2u);
}

TEST_P(IoModelsProcessTest, ClosesIdleConnectionsOnly) {
  // --timeout-socket is a setting of the threads model only.
  for (const bool timeout_socket : {false, true}) {
    if (timeout_socket && !threads()) continue;
    SCOPED_TRACE(timeout_socket ? "timeout socket" : "blocking socket");
    const auto stats_path = scratch_path("stats.json");
    auto server_args =
        args({"--cpu-threads", "0", "--idle-timeout", "300ms", "--stats", stats_path});
    if (timeout_socket) server_args.push_back("--timeout-socket");
    ServerProcess server(server_args);
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
}

TEST_P(IoModelsProcessTest, RefusesConnectionsBeyondMaxConnections) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server(args({"--cpu-threads", "0", "--max-connections", "2", "--log-level", "debug",
                             "--stats", stats_path}));
  Client first(server.port());
  Client second(server.port());
  ASSERT_EQ(first.echo("1"), "1");
  ASSERT_EQ(second.echo("2"), "2");
  Client third(server.port());  // the kernel completes the handshake; the server closes it
  EXPECT_TRUE(third.closed_by_peer_within(5s * kSlowdown));
  first.close();
  // The slot frees once the server has finished with the first connection.
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

TEST_P(IoModelsProcessTest, StopsWithinOneSecondOnASignalWithFibThreadsRunning) {
  for (const int sig : {SIGTERM, SIGINT, SIGHUP}) {
    SCOPED_TRACE(strsignal(sig));
    const auto stats_path = scratch_path("stats.json");
    ServerProcess server(args({"--policy", "py3", "--cpu-threads", "2", "--max-message", "64MiB",
                               "--stats", stats_path}));
    Client waiting(server.port());  // the server waits for its next message
    Client stuck(server.port());    // its echo backs up: nobody reads
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
    EXPECT_EQ(stats["config"]["io_model"], GetParam().name);
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
    EXPECT_EQ(closed(stats, "shutdown"), 2u);
    EXPECT_GE(stats["messages"]["count"].get<int>(), 1);
    EXPECT_GE(stats["messages"]["handling_ns"]["count"].get<int>(), 1);
    EXPECT_GT(stats["messages"]["handling_ns"]["p50_ns"].get<double>(), 0);
    EXPECT_EQ(stats["lock"]["stats"]["roles"]["cpu"]["threads"], 2);
    // The main thread takes the lock: as the acceptor of the threads model (role main), as the
    // event loop of the other (role io).
    if (threads()) {
      EXPECT_EQ(stats["lock"]["stats"]["roles"]["main"]["threads"], 1);
    } else {
      EXPECT_EQ(stats["lock"]["stats"]["roles"]["io"]["threads"], 1);
      EXPECT_EQ(stats["lock"]["stats"]["roles"]["main"]["threads"], 0);
      EXPECT_GT(stats["loop"]["iterations"].get<int>(), 0);
    }
    EXPECT_TRUE(stats["context"].contains("cores_online"));
  }
}

TEST_P(IoModelsProcessTest, StopsByItselfAfterDuration) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server(args({"--cpu-threads", "1", "--duration", "300ms", "--stats", stats_path}));
  const auto code = server.wait(10s * kSlowdown);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << server.stderr_text();
  const auto stats = json::parse(read_file(stats_path));
  EXPECT_EQ(stats["run"]["stopped_by"], "duration");
  EXPECT_GE(stats["run"]["duration_s"].get<double>(), 0.29);
}

TEST_P(IoModelsProcessTest, PrintedConfigurationLoadsBackUnchanged) {
  auto print_args = args(GetParam().print_args);
  print_args.push_back("--print-config");
  const auto first = run_server_to_completion(print_args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  for (const auto& line : GetParam().printed_lines) {
    EXPECT_NE(first.out.find(line), std::string::npos) << first.out;
  }
  const auto path = scratch_path("printed.toml");
  { std::ofstream(path) << first.out; }
  const auto second = run_server_to_completion({"--config", path, "--print-config"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, first.out);
}

}  // namespace
}  // namespace convoy::server::testing
