// The timeline of real convoy-server runs: format, invariants of the lock, overflow, window.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server_harness.hpp"
#include "timeline_support.hpp"

namespace convoy::server::testing {
namespace {

using nlohmann::json;

// The exclusive policies, from the server's own list.
std::vector<std::string> exclusive_policies() {
  const auto listed = run_server_to_completion({"--list-policies", "--json"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  std::vector<std::string> names;
  for (const auto& p : json::parse(listed.out)) {
    if (p.at("exclusive").get<bool>()) names.push_back(p.at("name").get<std::string>());
  }
  return names;
}

// Runs a server with `args` plus --trace and --stats, echoes `messages` client messages with
// `think` between them, stops it; returns the trace path and the stats.
struct TracedRun {
  std::string trace_path;
  json stats;
  std::string err;
};
TracedRun traced_run(std::vector<std::string> args, int messages,
                     std::chrono::milliseconds think = 2ms) {
  TracedRun run;
  run.trace_path = scratch_path("timeline.json");
  const auto stats_path = scratch_path("stats.json");
  args.insert(args.end(), {"--trace", run.trace_path, "--stats", stats_path});
  ServerProcess server(args);
  {
    Client client(server.port());
    for (int seq = 0; seq < messages; ++seq) {
      const auto m = client_message(0, static_cast<std::uint64_t>(seq));
      EXPECT_EQ(client.echo(m), m);
      std::this_thread::sleep_for(think);
    }
  }
  run.stats = stop_and_read_stats(server, stats_path);
  run.err = server.stderr_text();
  return run;
}

void expect_format(const Timeline& t) {
  EXPECT_EQ(t.doc["displayTimeUnit"], "ns");
  for (const auto& e : t.doc["traceEvents"]) {
    for (const auto* key : {"ph", "ts", "pid", "tid", "name"}) {
      ASSERT_TRUE(e.contains(key)) << key << " missing in " << e.dump();
    }
    EXPECT_EQ(e["pid"], 1);
    EXPECT_GE(e["ts"].get<double>(), 0.0) << e.dump();
  }
  for (const auto& [tid, events] : t.tracks) {
    EXPECT_TRUE(t.names.count(tid)) << "tid " << tid << " has no thread_name";
    EXPECT_GT(tid, 0);
  }
  for (const auto* key : {"policy", "knobs", "cpu_threads", "io_model", "title", "dropped_events",
                          "dropped_by_thread", "window_ns"}) {
    EXPECT_TRUE(t.doc["otherData"].contains(key)) << key;
  }
}

// No two holds of different threads overlap; every wait ends where a hold of its thread
// begins (or at the window's end); intervals on one track never overlap.
void expect_lock_invariants(const Timeline& t) {
  std::vector<std::pair<std::int64_t, std::int64_t>> holds;
  std::size_t waits = 0;
  for (const auto& [tid, events] : t.tracks) {
    std::vector<std::pair<std::int64_t, std::int64_t>> spans;
    for (const auto& s : events) {
      if (s.ph == "X") spans.emplace_back(s.begin, s.end);
    }
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 1; i < spans.size(); ++i) {
      EXPECT_LE(spans[i - 1].second, spans[i].first) << t.names.at(tid) << " at " << spans[i].first;
    }
    const auto own = t.named(tid, "holds lock");
    for (const auto& h : own) holds.emplace_back(h.begin, h.end);
    for (const auto& w : t.named(tid, "wants lock")) {
      ++waits;
      const bool ends_in_hold =
          w.end == t.window_end() ||
          std::any_of(own.begin(), own.end(), [&](const Span& h) { return h.begin == w.end; });
      EXPECT_TRUE(ends_in_hold) << t.names.at(tid) << ": wait ending at " << w.end;
    }
  }
  EXPECT_GT(holds.size(), 0u);
  EXPECT_GT(waits, 0u);
  std::sort(holds.begin(), holds.end());
  for (std::size_t i = 1; i < holds.size(); ++i) {
    EXPECT_LE(holds[i - 1].second, holds[i].first) << "two holds overlap at " << holds[i].first;
  }
}

TEST(TimelineProcessTest, EveryExclusivePolicyKeepsTheLockInvariantsOnTheTimeline) {
  const auto policies = exclusive_policies();
  ASSERT_FALSE(policies.empty());
  for (const auto& policy : policies) {
    SCOPED_TRACE(policy);
    const auto run = traced_run({"--policy", policy, "--cpu-threads", "1"}, 20);
    const Timeline t(run.trace_path);
    expect_format(t);
    expect_lock_invariants(t);
    EXPECT_EQ(t.doc["otherData"]["policy"], policy);
    EXPECT_GE(t.tid_of("main"), 1);
    EXPECT_GE(t.tid_of("io-1"), 1);
    EXPECT_GE(t.tid_of("fib-1"), 1);
    const int io = t.tid_of("io-1");
    const auto received = t.named(io, "message received");
    const auto echoed = t.named(io, "message echoed");
    ASSERT_EQ(received.size(), 20u);
    ASSERT_EQ(echoed.size(), 20u);
    for (std::size_t i = 0; i < received.size(); ++i) {
      EXPECT_EQ(received[i].args["seq"], i);
      EXPECT_EQ(echoed[i].args["seq"], i);
      EXPECT_LE(received[i].begin, echoed[i].begin);
    }
    // One recv a message, and one that reads the close unless the stop came first (the test
    // stops the server as soon as its client has closed).
    EXPECT_GE(t.named(io, "recv").size(), 20u);
    EXPECT_LE(t.named(io, "recv").size(), 21u);
    EXPECT_FALSE(t.named(t.tid_of("main"), "accept").empty());
    EXPECT_FALSE(t.named(t.tid_of("main"), "poll").empty());
    // The summary beside the stats.
    const auto& summary = run.stats["trace"];
    EXPECT_EQ(summary["file"], run.trace_path);
    EXPECT_EQ(summary["messages"]["count"], 20);
    EXPECT_EQ(summary["dropped_events"], 0);
    EXPECT_GT(summary["threads"]["fib-1"]["hold_share"].get<double>(), 0.0);
    EXPECT_NE(run.err.find("timeline: "), std::string::npos) << run.err;
  }
}

TEST(TimelineProcessTest, EventLoopTimelineShowsEpollWaitAndMessages) {
  const auto run = traced_run({"--io-model", "eventloop", "--cpu-threads", "1"}, 10);
  const Timeline t(run.trace_path);
  expect_format(t);
  expect_lock_invariants(t);
  EXPECT_EQ(t.doc["otherData"]["io_model"], "eventloop");
  const int loop = t.tid_of("io-1");
  ASSERT_GE(loop, 1);
  EXPECT_EQ(t.tid_of("main"), -1);
  EXPECT_FALSE(t.named(loop, "epoll_wait").empty());
  EXPECT_EQ(t.named(loop, "message received").size(), 10u);
  EXPECT_EQ(t.named(loop, "message echoed").size(), 10u);
}

TEST(TimelineProcessTest, TinyBufferDropsEventsSaysHowManyAndStillWritesAValidFile) {
  const auto run = traced_run({"--cpu-threads", "1", "--trace-buffer", "4"}, 10);
  const Timeline t(run.trace_path);
  expect_format(t);
  const auto dropped = t.doc["otherData"]["dropped_events"].get<std::uint64_t>();
  EXPECT_GT(dropped, 0u);
  std::uint64_t sum = 0;
  for (const auto& [name, n] : t.doc["otherData"]["dropped_by_thread"].items()) {
    sum += n.get<std::uint64_t>();
  }
  EXPECT_EQ(sum, dropped);
  EXPECT_EQ(run.stats["trace"]["dropped_events"], dropped);
  for (const auto& [tid, events] : t.tracks) {
    // At most 4 records a thread; a forced hold adds its "forced switch", a hand-off two.
    EXPECT_LE(events.size(), 8u) << t.names.at(tid);
  }
  EXPECT_NE(run.err.find("--trace-buffer"), std::string::npos) << run.err;
}

TEST(TimelineProcessTest, WindowClipsEveryEvent) {
  const auto trace_path = scratch_path("window.json");
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server({"--cpu-threads", "1", "--trace", trace_path, "--stats", stats_path,
                        "--trace-after", "100ms", "--trace-for", "0.1s"});
  std::this_thread::sleep_for(400ms);
  stop_and_read_stats(server, stats_path);
  const Timeline t(trace_path);
  expect_format(t);
  // Tick to ns conversions may round by a nanosecond.
  EXPECT_NEAR(static_cast<double>(t.window_begin()), 100e6, 2);
  EXPECT_NEAR(static_cast<double>(t.window_end()), 200e6, 2);
  std::size_t events = 0;
  for (const auto& [tid, spans] : t.tracks) {
    for (const auto& s : spans) {
      ++events;
      EXPECT_GE(s.begin, t.window_begin()) << s.name;
      EXPECT_LE(s.end, t.window_end()) << s.name;
    }
  }
  EXPECT_GT(events, 0u);  // the fib thread holds across the window, the accept loop polls
}

TEST(TimelineProcessTest, UnwritableTracePathIsBadInputBeforeTheRun) {
  const auto r = run_server_to_completion({"--trace", "/nonexistent-dir/timeline.json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--trace"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(TimelineProcessTest, WithoutTraceThereIsNoTraceBlock) {
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server({"--cpu-threads", "0", "--stats", stats_path});
  const auto stats = stop_and_read_stats(server, stats_path);
  EXPECT_FALSE(stats.contains("trace"));
}

}  // namespace
}  // namespace convoy::server::testing
