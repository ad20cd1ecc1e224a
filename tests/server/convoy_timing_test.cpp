// The convoy signature end to end: one fib thread beside an echo connection whose client thinks
// 2 ms between messages, so the connection thread really blocks in recv and the fib thread owns
// the lock when the next message arrives (the round trip in docs/locks.md).
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server_harness.hpp"

namespace convoy::server::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Median round trip of 100-byte messages with 2 ms think time, in microseconds.
double median_round_trip_us(const std::vector<std::string>& server_args, int messages) {
  ServerProcess server(server_args);
  Client client(server.port());
  const auto message = pattern(100);
  std::vector<double> round_trips;
  for (int i = 0; i < messages + 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const auto start = Clock::now();
    client.send_all(message);
    const auto reply = client.recv_exact(message.size());
    const auto took = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    EXPECT_EQ(reply, message);
    if (i >= 5) round_trips.push_back(took);  // the first ones warm up
  }
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(std::chrono::seconds(10) * kSlowdown), 0) << server.stderr_text();
  std::nth_element(round_trips.begin(), round_trips.begin() + messages / 2, round_trips.end());
  return round_trips[static_cast<std::size_t>(messages / 2)];
}

TEST(ServerConvoyTimingTest, Py3MakesEveryRoundTripWaitForTheSwitchInterval) {
  const double median = median_round_trip_us(
      {"--policy", "py3", "--switch-interval", "5ms", "--cpu-threads", "1"}, 40);
  RecordProperty("median_us", std::to_string(median));
  EXPECT_GE(median, 2500) << "py3 median round trip " << median << "us";
}

// Scheduling noise (a busy machine, sanitizers) only ever adds latency, so an upper bound gets up
// to three tries; the first median under the bound passes.
void expect_median_below_one_millisecond(const std::vector<std::string>& server_args) {
  std::string medians;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const double median = median_round_trip_us(server_args, 100);
    medians += std::to_string(median) + "us ";
    if (median < 1000) {
      ::testing::Test::RecordProperty("median_us", std::to_string(median));
      return;
    }
  }
  ADD_FAILURE() << "median round trip not below 1ms in three runs: " << medians;
}

// py2's hand-off is a race that ThreadSanitizer's interception of the semaphore tilts towards
// the holder for milliseconds: its latency is measured in the other builds.
void skip_py2_latency_under_tsan() {
  if (convoy::testing::kThreadSanitizer)
    GTEST_SKIP() << "py2's latency is not meaningful under ThreadSanitizer";
}

TEST(ServerConvoyTimingTest, Py2ServesTheConnectionWithinAMillisecond) {
  skip_py2_latency_under_tsan();
  if (::testing::Test::IsSkipped()) return;
  expect_median_below_one_millisecond({"--policy", "py2", "--cpu-threads", "1"});
}

TEST(ServerConvoyTimingTest, NoLockServesTheConnectionWithinAMillisecond) {
  expect_median_below_one_millisecond({"--policy", "none", "--cpu-threads", "1"});
}

// The same signature with one event loop serving the connection: the loop comes back from
// epoll_wait to a lock the fib thread holds.
TEST(ServerConvoyTimingTest, EventLoopUnderPy3WaitsForTheSwitchInterval) {
  const double median = median_round_trip_us({"--io-model", "eventloop", "--policy", "py3",
                                              "--switch-interval", "5ms", "--cpu-threads", "1"},
                                             40);
  RecordProperty("median_us", std::to_string(median));
  EXPECT_GE(median, 2500) << "py3 event loop median round trip " << median << "us";
}

TEST(ServerConvoyTimingTest, EventLoopUnderPy2ServesWithinAMillisecond) {
  skip_py2_latency_under_tsan();
  if (::testing::Test::IsSkipped()) return;
  expect_median_below_one_millisecond(
      {"--io-model", "eventloop", "--policy", "py2", "--cpu-threads", "1"});
}

TEST(ServerConvoyTimingTest, EventLoopWithoutALockServesWithinAMillisecond) {
  expect_median_below_one_millisecond(
      {"--io-model", "eventloop", "--policy", "none", "--cpu-threads", "1"});
}

// --socket-call-ns is C work done holding the lock, half of it on each side of a socket call's
// system call: a round trip contains the second half of the recv's and the first of the send's.
TEST(ServerConvoyTimingTest, SocketCallWorkLengthensEveryRoundTripInBothIoModels) {
  for (const char* model : {"threads", "eventloop"}) {
    const double median =
        median_round_trip_us({"--io-model", model, "--policy", "none", "--cpu-threads", "0",
                              "--socket-call-ns", "3000000"},
                             20);
    RecordProperty(std::string("median_us_") + model, std::to_string(median));
    EXPECT_GE(median, 2700) << model << ": median round trip " << median << "us";
  }
}

}  // namespace
}  // namespace convoy::server::testing
