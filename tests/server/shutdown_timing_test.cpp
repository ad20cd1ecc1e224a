// Prompt shutdown for any accepted setting: the fib threads and the handler work stop between
// bytecodes, so nothing keeps the lock (which the accept loop needs to leave) or a core busy
// after SIGTERM. The target is a second (measured on a release build, docs/server.md); the
// bounds here are generous (3 s, scaled in sanitizer builds, on a busy CI machine) against
// settings that take tens of seconds without the stop checks.
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server_harness.hpp"

namespace convoy::server::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPromptly = 3s * kSlowdown;

// Sends SIGTERM and returns how long the server took to exit 0 (fails the test otherwise).
std::chrono::milliseconds time_to_stop(ServerProcess& server) {
  const auto signalled = Clock::now();
  server.signal(SIGTERM);
  const auto code = server.wait(60s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signalled);
  EXPECT_TRUE(code.has_value()) << "still running 60 s after SIGTERM";
  EXPECT_EQ(code.value_or(-1), 0) << server.stderr_text();
  return took;
}

TEST(ServerShutdownTimingTest, AThousandFibThreadsStopPromptly) {
  // Under py3 every fib thread holds the lock for a switch interval before it is asked to drop;
  // the accept loop needs the lock to leave, and would wait behind all of them.
  ServerProcess server({"--policy", "py3", "--cpu-threads", "1024"}, 60s);
  std::this_thread::sleep_for(500ms);
  EXPECT_LT(time_to_stop(server), kPromptly);
}

TEST(ServerShutdownTimingTest, LongHandlerWorkStopsPromptly) {
  // One message costs 10^9 bytecodes (about 25 s) of handler work while holding the lock.
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server({"--policy", "py3", "--cpu-threads", "1", "--handler-bytecodes",
                        "1000000000", "--stats", stats_path});
  Client client(server.port());
  client.send_all("x");
  std::this_thread::sleep_for(300ms);
  EXPECT_LT(time_to_stop(server), kPromptly);
  const auto stats = read_file(stats_path);
  EXPECT_NE(stats.find("\"shutdown\": 1"), std::string::npos) << stats.substr(0, 2000);
}

TEST(ServerShutdownTimingTest, LongBytecodesOnManyUnlockedThreadsStopPromptly) {
  // Without a lock all fib threads run at once; with 100 ms bytecodes each one would finish its
  // current bytecode first: 64 x 100 ms of CPU on a 2-core machine.
  ServerProcess server({"--policy", "none", "--cpu-threads", "64", "--bytecode-ns", "100000000",
                        "--bytecodes-per-call", "1000"});
  std::this_thread::sleep_for(300ms);
  EXPECT_LT(time_to_stop(server), kPromptly);
}

}  // namespace
}  // namespace convoy::server::testing
