// py3's drop requests on the timeline of a real run: each is answered by a forced switch of the
// fib thread it was addressed to, before the requester holds the lock. The bound is a time.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "server_harness.hpp"
#include "timeline_support.hpp"

namespace convoy::server::testing {
namespace {

TEST(TimelineTimingTest, Py3DropRequestsAreFollowedByForcedSwitches) {
  const auto trace_path = scratch_path("timeline.json");
  const auto stats_path = scratch_path("stats.json");
  ServerProcess server({"--policy", "py3", "--switch-interval", "2ms", "--cpu-threads", "1",
                        "--trace", trace_path, "--stats", stats_path});
  {
    Client client(server.port());
    for (std::uint64_t seq = 0; seq < 20; ++seq) {
      const auto m = client_message(0, seq);
      ASSERT_EQ(client.echo(m), m);
      std::this_thread::sleep_for(5ms);  // think time: the fib thread takes the lock meanwhile
    }
  }
  stop_and_read_stats(server, stats_path);
  const Timeline t(trace_path);
  const int fib = t.tid_of("fib-1");
  ASSERT_GE(fib, 1);
  const auto fib_holds = t.named(fib, "holds lock");
  const auto forced = t.named(fib, "forced switch");
  std::size_t requests = 0;
  for (const auto& [tid, events] : t.tracks) {
    if (tid == fib) continue;
    const auto own_holds = t.named(tid, "holds lock");
    for (const auto& d : t.named(tid, "drop request")) {
      if (d.args.value("holder", "") != "fib-1") continue;
      ++requests;
      // The fib hold the request was addressed to ends by a forced switch ...
      const auto hold = std::find_if(fib_holds.begin(), fib_holds.end(), [&](const Span& h) {
        return h.begin <= d.begin && d.begin <= h.end;
      });
      ASSERT_NE(hold, fib_holds.end());
      if (hold->args["release"] == "exit") continue;  // the run ended meanwhile
      EXPECT_EQ(hold->args["release"], "forced") << "at " << d.begin;
      EXPECT_TRUE(std::any_of(forced.begin(), forced.end(),
                              [&](const Span& f) { return f.begin == hold->end; }));
      // ... before the requester's next hold, and promptly: one check point is a bytecode,
      // the rest is the scheduler of a loaded machine.
      const auto next = std::find_if(own_holds.begin(), own_holds.end(),
                                     [&](const Span& h) { return h.begin >= d.begin; });
      if (next != own_holds.end()) {
        EXPECT_LE(hold->end, next->begin);
      }
      EXPECT_LE(hold->end - d.begin, 50'000'000 * kSlowdown) << "at " << d.begin;
    }
  }
  EXPECT_GT(requests, 0u);
}

}  // namespace
}  // namespace convoy::server::testing
