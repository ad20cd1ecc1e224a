#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "gilcore/catalogue.hpp"
#include "gilcore/interpreter.hpp"
#include "gilcore/trace.hpp"
#include "policy_support.hpp"

namespace gilcore {
namespace {

using namespace std::chrono_literals;
using testing::every_policy_kind;

TEST(TraceRingTest, KeepsEveryRecordUntilFull) {
  TraceWindow w;
  w.open(0, TraceWindow::kNever);
  TraceRing ring(4, w);
  for (std::uint64_t i = 1; i <= 3; ++i) ring.record(TraceKind::drop_request, i, i);
  const auto records = ring.records();
  ASSERT_EQ(records.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(records[i].at, i + 1);
  EXPECT_EQ(ring.dropped(), 0u);
  EXPECT_EQ(ring.written(), 3u);
}

TEST(TraceRingTest, OverflowKeepsTheMostRecentAndCountsTheRest) {
  TraceWindow w;
  w.open(0, TraceWindow::kNever);
  TraceRing ring(4, w);
  for (std::uint64_t i = 1; i <= 11; ++i) ring.record(TraceKind::received, i, i, 100 + i, 7);
  const auto records = ring.records();
  ASSERT_EQ(records.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(records[i].at, 8 + i);
    EXPECT_EQ(records[i].value, 108 + i);
    EXPECT_EQ(records[i].peer, 7u);
    EXPECT_EQ(records[i].kind, TraceKind::received);
  }
  EXPECT_EQ(ring.dropped(), 7u);
}

TEST(TraceRingTest, IntervalsKeepTheirBeginInstantsTheirValue) {
  TraceWindow w;
  w.open(0, TraceWindow::kNever);
  TraceRing ring(8, w);
  ring.record(TraceKind::hold, 10, 20, 999, 0, static_cast<std::uint8_t>(TraceRelease::forced));
  ring.record(TraceKind::echoed, 30, 30, 5, 2);
  const auto r = ring.records();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].value, 10u);
  EXPECT_EQ(r[0].detail, static_cast<std::uint8_t>(TraceRelease::forced));
  EXPECT_EQ(r[1].value, 5u);
}

TEST(TraceRingTest, RecordsOnlyWhatMeetsTheWindow) {
  TraceWindow w;
  TraceRing ring(16, w);
  ring.record(TraceKind::drop_request, 5, 5);  // not open yet
  EXPECT_EQ(ring.written(), 0u);
  w.open(100, 200);
  ring.record(TraceKind::drop_request, 50, 50);    // before
  ring.record(TraceKind::hold, 50, 99);            // ends before
  ring.record(TraceKind::hold, 50, 100);           // reaches the begin
  ring.record(TraceKind::syscall, 150, 300);       // starts inside, ends after
  ring.record(TraceKind::wait, 10, 500);           // spans the whole window
  ring.record(TraceKind::drop_request, 201, 201);  // after
  ring.record(TraceKind::hold, 201, 300);          // starts after
  EXPECT_EQ(ring.written(), 3u);
  w.close(150);
  ring.record(TraceKind::hold, 160, 170);
  EXPECT_EQ(ring.written(), 3u);
  w.close(180);  // later than the end: no effect
  EXPECT_EQ(w.end(), 150u);
}

TEST(TracerTest, OffGivesNoRing) {
  Tracer tracer;
  EXPECT_FALSE(tracer.enabled());
  EXPECT_EQ(tracer.attach(Role::io, 1), nullptr);
  Interpreter interpreter(InterpreterConfig{});
  interpreter.run(Role::io, [](auto& t) {
    EXPECT_FALSE(t.tracing());
    t.allow_threads(Syscall::recv, [] {});
  });
  EXPECT_TRUE(interpreter.tracer().collect().threads.empty());
}

TEST(TracerTest, CollectClipsToTheWindowRelativeToTheOrigin) {
  Tracer tracer(16);
  const std::uint64_t origin = Clock::now();
  tracer.start(origin, 0ns, 0ns);
  TraceRing* ring = tracer.attach(Role::cpu, 9);
  ASSERT_NE(ring, nullptr);
  ring->record(TraceKind::hold, origin - 1000, origin + 1000);  // began before the origin
  tracer.stop(origin + 2000);
  ring->record(TraceKind::hold, origin + 1500, origin + 5000);  // ends after the stop
  const Trace trace = tracer.collect();
  ASSERT_EQ(trace.threads.size(), 1u);
  const auto& t = trace.threads[0];
  EXPECT_EQ(t.role, Role::cpu);
  EXPECT_EQ(t.id, 9u);
  EXPECT_EQ(t.ordinal, 1u);
  ASSERT_EQ(t.events.size(), 2u);
  EXPECT_EQ(t.events[0].begin_ns, 0);
  EXPECT_EQ(t.events[0].end_ns, static_cast<std::int64_t>(Clock::to_ns(1000)));
  EXPECT_EQ(t.events[1].begin_ns, static_cast<std::int64_t>(Clock::to_ns(1500)));
  EXPECT_EQ(t.events[1].end_ns, static_cast<std::int64_t>(Clock::to_ns(2000)));
  EXPECT_EQ(trace.window_begin_ns, 0);
  EXPECT_EQ(trace.window_end_ns, static_cast<std::int64_t>(Clock::to_ns(2000)));
}

TEST(TracerTest, ThreadsThatRecordedNothingAreLeftOut) {
  Tracer tracer(16);
  TraceRing* quiet = tracer.attach(Role::io, 1);
  tracer.detach(quiet);
  tracer.start(Clock::now(), 0ns, 0ns);
  TraceRing* busy = tracer.attach(Role::io, 2);
  busy->record(TraceKind::drop_request, Clock::now(), Clock::now());
  tracer.detach(busy);
  const Trace trace = tracer.collect();
  ASSERT_EQ(trace.threads.size(), 1u);
  EXPECT_EQ(trace.threads[0].id, 2u);
  EXPECT_EQ(trace.threads[0].ordinal, 2u);  // ordinals count every thread of the role
}

// A thread of every policy: the hold before its region ends "blocking", the region's call has
// its name, the last hold ends "exit"; all in order on one track.
TEST(TracerTest, EveryPolicyRecordsHoldsRegionsAndTheirReasons) {
  for (const auto kind : every_policy_kind()) {
    InterpreterConfig c;
    c.lock.policy = kind;
    Interpreter interpreter(c);
    interpreter.enable_tracing(64);
    interpreter.tracer().start(Clock::now(), 0ns, 0ns);
    interpreter.run(Role::io, [](auto& t) {
      EXPECT_TRUE(t.tracing());
      t.allow_threads(Syscall::recv, [] { std::this_thread::sleep_for(1ms); });
      t.bytecodes(10);
    });
    const Trace trace = interpreter.tracer().collect();
    SCOPED_TRACE(to_string(kind));
    ASSERT_EQ(trace.threads.size(), 1u);
    // Alone, a thread never waits; a policy's periodic releases (py2's first tick) may split
    // the last hold.
    std::vector<TraceEvent> ev;
    for (const auto& e : trace.threads[0].events) {
      const bool periodic = e.kind == TraceKind::hold &&
                            e.detail == static_cast<std::uint8_t>(TraceRelease::periodic);
      if (e.kind != TraceKind::wait && !periodic) ev.push_back(e);
    }
    std::vector<TraceKind> kinds;
    for (const auto& e : ev) kinds.push_back(e.kind);
    ASSERT_EQ(kinds, (std::vector{TraceKind::hold, TraceKind::syscall, TraceKind::hold}));
    EXPECT_EQ(ev.front().detail, static_cast<std::uint8_t>(TraceRelease::blocking));
    EXPECT_EQ(ev[1].detail, static_cast<std::uint8_t>(Syscall::recv));
    EXPECT_GE(ev[1].end_ns - ev[1].begin_ns, 1'000'000);
    EXPECT_EQ(ev.back().detail, static_cast<std::uint8_t>(TraceRelease::exit));
    const auto& all = trace.threads[0].events;
    for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LE(all[i - 1].end_ns, all[i].begin_ns);
  }
}

// Two threads on each exclusive policy: a waiter's wait ends where its hold begins, and the
// holds of the two never overlap.
TEST(TracerTest, ExclusivePoliciesRecordWaitsThatEndInHoldsAndDisjointHolds) {
  for (const auto kind : every_policy_kind()) {
    InterpreterConfig c;
    c.lock.policy = kind;
    Policies::with_index(static_cast<std::size_t>(kind), [&](auto tag) {
      using P = typename decltype(tag)::type;
      c.lock = testing::quick_lock<P>();
    });
    Interpreter interpreter(c);
    if (!describe(kind).exclusive) continue;
    interpreter.enable_tracing(1 << 16);
    interpreter.tracer().start(Clock::now(), 0ns, 0ns);
    std::atomic<bool> stop{false};
    std::atomic<bool> cpu_started{false};
    std::thread cpu([&] {
      interpreter.run(Role::cpu, [&](auto& t) {
        cpu_started = true;
        t.bytecodes(~0ull, stop);
      });
    });
    while (!cpu_started) std::this_thread::sleep_for(100us);
    interpreter.run(Role::io, [&](auto& t) {
      for (int i = 0; i < 20; ++i) {
        t.allow_threads(Syscall::poll, [] { std::this_thread::sleep_for(200us); });
      }
    });
    stop = true;
    cpu.join();
    const Trace trace = interpreter.tracer().collect();
    SCOPED_TRACE(to_string(kind));
    std::vector<std::pair<std::int64_t, std::int64_t>> holds;
    std::size_t waits = 0;
    for (const auto& t : trace.threads) {
      for (const auto& e : t.events) {
        if (e.kind == TraceKind::hold) holds.emplace_back(e.begin_ns, e.end_ns);
        if (e.kind != TraceKind::wait) continue;
        ++waits;
        const bool hold_follows = std::any_of(t.events.begin(), t.events.end(), [&](const auto& h) {
          return h.kind == TraceKind::hold && h.begin_ns == e.end_ns;
        });
        EXPECT_TRUE(hold_follows) << "wait ending at " << e.end_ns;
      }
    }
    EXPECT_GT(waits, 0u);
    std::sort(holds.begin(), holds.end());
    for (std::size_t i = 1; i < holds.size(); ++i) {
      EXPECT_LE(holds[i - 1].second, holds[i].first) << "holds overlap at " << holds[i].first;
    }
  }
}

}  // namespace
}  // namespace gilcore
