// The real convoy-server binary with --io-model eventloop, on 127.0.0.1 port 0: what only the
// event loop does (io_models_process_test.cpp has what both models do).
#include <sys/resource.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server_harness.hpp"

namespace convoy::server::testing {
namespace {

std::vector<std::string> eventloop(std::vector<std::string> args) {
  args.insert(args.begin(), {"--io-model", "eventloop"});
  return args;
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
  ASSERT_NO_FATAL_FAILURE(echo_on_every_connection_at_once(server.port(), kConnections, clients));
  EXPECT_EQ(count_entries(tasks), 1 + 1 + kRuntimeThreads);

  const auto stats = stop_and_read_stats(server, stats_path);
  expect_served_all_at_once(stats, kConnections);
  EXPECT_EQ(stats["lock"]["stats"]["roles"]["io"]["threads"], 1);
  // Many connections ready at once share an epoll_wait: fewer turns than messages.
  EXPECT_LT(stats["loop"]["iterations"].get<int>(), kConnections);
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

// A client that waits between messages: every epoll_wait has to wait. The few acquisitions of
// setup, accept and close are spread over 100 messages.
TEST(EventLoopProcessTest, CountsThreeReacquisitionsPerMessageOrOneWhenBlocking) {
  EXPECT_NEAR(io_acquisitions_per_message(eventloop({"--io-release", "always"}), 100), 3.0, 0.2);
  EXPECT_NEAR(io_acquisitions_per_message(eventloop({"--io-release", "when-blocking"}), 100), 1.0,
              0.1);
}

TEST(EventLoopProcessTest, RejectsSettingsTheModelCannotHonour) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--io-model", "eventloop", "--timeout-socket"},
           {"--io-model", "fibers"},
           {"--io-model", "eventloop", "--loop-bytecodes", "-1"}}) {
    SCOPED_TRACE(args.back());
    expect_usage_error(run_server_to_completion(args, 20s * kSlowdown));
  }
}

}  // namespace
}  // namespace convoy::server::testing
