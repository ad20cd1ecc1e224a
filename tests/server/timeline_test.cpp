#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "convoy/server/timeline.hpp"

namespace convoy::server {
namespace {

using gilcore::Role;
using gilcore::Syscall;
using gilcore::ThreadTrace;
using gilcore::Trace;
using gilcore::TraceEvent;
using gilcore::TraceKind;
using gilcore::TraceRelease;

TraceEvent interval(TraceKind kind, std::int64_t from, std::int64_t to, std::uint8_t detail = 0) {
  return {kind, detail, from, to, 0, 0};
}
TraceEvent instant(TraceKind kind, std::int64_t at, std::uint64_t value = 0,
                   std::uint32_t peer = 0) {
  return {kind, 0, at, at, value, peer};
}
std::uint8_t why(TraceRelease r) { return static_cast<std::uint8_t>(r); }

// A fib thread holding until a waiting io thread's drop request makes it drop; the io thread
// reads message 7 of connection 3, waits, holds, echoes; a hand-off from fib to io.
Trace sample() {
  Trace trace;
  trace.window_begin_ns = 1000;
  trace.window_end_ns = 11000;
  ThreadTrace fib{Role::cpu, 5, 1, {}, 0};
  fib.events = {interval(TraceKind::hold, 1000, 6000, why(TraceRelease::forced)),
                instant(TraceKind::handoff, 6000, 0, 7), interval(TraceKind::wait, 6500, 8000),
                interval(TraceKind::hold, 8000, 11000, why(TraceRelease::exit))};
  ThreadTrace io{Role::io, 7, 2, {}, 3};
  io.events = {interval(TraceKind::syscall, 1000, 2000, static_cast<std::uint8_t>(Syscall::recv)),
               instant(TraceKind::received, 1999, 7, 3),
               interval(TraceKind::wait, 2000, 6000),
               instant(TraceKind::drop_request, 4000),
               interval(TraceKind::hold, 6000, 6500, why(TraceRelease::blocking)),
               interval(TraceKind::syscall, 6500, 7000, static_cast<std::uint8_t>(Syscall::send)),
               instant(TraceKind::echoed, 6999, 7, 3)};
  ThreadTrace main{Role::main, 1, 1, {}, 0};
  main.events = {
      interval(TraceKind::syscall, 1000, 11000, static_cast<std::uint8_t>(Syscall::poll))};
  trace.threads = {fib, io, main};  // entry order; the tracks put main first
  return trace;
}

TimelineInfo info() {
  TimelineInfo i;
  i.policy = "py3";
  i.knobs = {{"switch_interval_ns", 5000000}, {"force_switching", true}};
  i.cpu_threads = 1;
  i.io_model = "threads";
  i.title = "py3 switch-interval=5ms force-switching=true, 1 fib thread";
  return i;
}

std::vector<nlohmann::json> named(const nlohmann::json& doc, const std::string& name) {
  std::vector<nlohmann::json> out;
  for (const auto& e : doc["traceEvents"]) {
    if (e["name"] == name) out.push_back(e);
  }
  return out;
}

TEST(TimelineTest, ThreadNamesAreRoleAndOrdinal) {
  EXPECT_EQ(thread_name({Role::main, 1, 1, {}, 0}), "main");
  EXPECT_EQ(thread_name({Role::io, 9, 3, {}, 0}), "io-3");
  EXPECT_EQ(thread_name({Role::cpu, 2, 1, {}, 0}), "fib-1");
}

TEST(TimelineTest, JsonHasTheTraceEventFormat) {
  const auto text = timeline_json(sample(), info());
  const auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["displayTimeUnit"], "ns");
  ASSERT_TRUE(doc["traceEvents"].is_array());
  for (const auto& e : doc["traceEvents"]) {
    for (const auto* key : {"ph", "ts", "pid", "tid", "name"}) {
      EXPECT_TRUE(e.contains(key)) << key << " missing in " << e.dump();
    }
    EXPECT_EQ(e["pid"], 1);
    EXPECT_GE(e["ts"].get<double>(), 0.0);
    if (e["ph"] == "X") {
      EXPECT_GE(e["dur"].get<double>(), 0.0);
    }
  }
  const auto& other = doc["otherData"];
  EXPECT_EQ(other["policy"], "py3");
  EXPECT_EQ(other["knobs"]["switch_interval_ns"], 5000000);
  EXPECT_EQ(other["cpu_threads"], 1);
  EXPECT_EQ(other["io_model"], "threads");
  EXPECT_EQ(other["title"], info().title);
  EXPECT_EQ(other["dropped_events"], 3);
  EXPECT_EQ(other["dropped_by_thread"]["io-2"], 3);
  EXPECT_EQ(other["dropped_by_thread"]["fib-1"], 0);
  EXPECT_EQ(other["window_ns"], nlohmann::json::array({1000, 11000}));
}

TEST(TimelineTest, TracksAreNamedAndSortedMainIoFib) {
  const auto doc = nlohmann::json::parse(timeline_json(sample(), info()));
  const auto process = named(doc, "process_name");
  ASSERT_EQ(process.size(), 1u);
  EXPECT_EQ(process[0]["ph"], "M");
  EXPECT_EQ(process[0]["tid"], 0);
  EXPECT_EQ(process[0]["args"]["name"], info().title);
  std::vector<std::pair<int, std::string>> names;
  for (const auto& e : named(doc, "thread_name")) {
    names.emplace_back(e["tid"].get<int>(), e["args"]["name"].get<std::string>());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::pair<int, std::string>>{{1, "main"}, {2, "io-2"}, {3, "fib-1"}}));
  for (const auto& e : named(doc, "thread_sort_index")) {
    EXPECT_EQ(e["args"]["sort_index"], e["tid"]);
  }
}

TEST(TimelineTest, TimesAreMicrosecondsWithNanosecondDecimals) {
  auto trace = sample();
  trace.threads[2].events = {
      interval(TraceKind::syscall, 1234567, 1239000, static_cast<std::uint8_t>(Syscall::poll))};
  const auto text = timeline_json(trace, info());
  EXPECT_NE(text.find(R"("name":"poll","cat":"syscall","pid":1,"tid":1,"ts":1234.567,"dur":4.433)"),
            std::string::npos)
      << text;
}

TEST(TimelineTest, EventsCarryTheirNamesCategoriesAndArguments) {
  const auto doc = nlohmann::json::parse(timeline_json(sample(), info()));
  const auto holds = named(doc, "holds lock");
  ASSERT_EQ(holds.size(), 3u);
  for (const auto& h : holds) {
    EXPECT_EQ(h["ph"], "X");
    EXPECT_EQ(h["cat"], "lock");
  }
  EXPECT_EQ(holds[0]["tid"], 2);  // io first, in track order
  EXPECT_EQ(holds[0]["args"]["release"], "blocking");
  EXPECT_EQ(holds[1]["args"]["release"], "forced");
  EXPECT_EQ(holds[2]["args"]["release"], "exit");
  EXPECT_DOUBLE_EQ(holds[1]["ts"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(holds[1]["dur"].get<double>(), 5.0);

  const auto waits = named(doc, "wants lock");
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_EQ(waits[0]["cat"], "lock");

  for (const auto* call : {"recv", "send", "poll"}) {
    const auto calls = named(doc, call);
    ASSERT_EQ(calls.size(), 1u) << call;
    EXPECT_EQ(calls[0]["cat"], "syscall");
  }

  const auto drops = named(doc, "drop request");
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0]["ph"], "i");
  EXPECT_EQ(drops[0]["s"], "t");
  EXPECT_EQ(drops[0]["tid"], 2);
  EXPECT_EQ(drops[0]["args"]["holder"], "fib-1");

  const auto forced = named(doc, "forced switch");
  ASSERT_EQ(forced.size(), 1u);
  EXPECT_EQ(forced[0]["tid"], 3);
  EXPECT_DOUBLE_EQ(forced[0]["ts"].get<double>(), 6.0);

  for (const auto* name : {"message received", "message echoed"}) {
    const auto m = named(doc, name);
    ASSERT_EQ(m.size(), 1u) << name;
    EXPECT_EQ(m[0]["cat"], "message");
    EXPECT_EQ(m[0]["args"]["seq"], 7);
    EXPECT_EQ(m[0]["args"]["connection"], 3);
    EXPECT_EQ(m[0]["tid"], 2);
  }
}

TEST(TimelineTest, HandOffIsAFlowFromReleaserToReceiver) {
  const auto doc = nlohmann::json::parse(timeline_json(sample(), info()));
  const auto flow = named(doc, "hand-off");
  ASSERT_EQ(flow.size(), 2u);
  const auto& s = flow[0]["ph"] == "s" ? flow[0] : flow[1];
  const auto& f = flow[0]["ph"] == "s" ? flow[1] : flow[0];
  EXPECT_EQ(s["ph"], "s");
  EXPECT_EQ(f["ph"], "f");
  EXPECT_EQ(f["bp"], "e");
  EXPECT_EQ(s["id"], f["id"]);
  EXPECT_EQ(s["cat"], "handoff");
  EXPECT_EQ(s["tid"], 3);  // fib-1 released
  EXPECT_EQ(f["tid"], 2);  // io-2's hold from 6 µs
  EXPECT_DOUBLE_EQ(f["ts"].get<double>(), 6.0);
}

TEST(TimelineTest, DropRequestWithoutAHolderHasNoHolder) {
  auto trace = sample();
  trace.threads[1].events.push_back(instant(TraceKind::drop_request, 10'999));
  trace.threads[0].events.pop_back();  // fib's last hold gone: nobody holds at 10.999 µs
  const auto doc = nlohmann::json::parse(timeline_json(trace, info()));
  const auto drops = named(doc, "drop request");
  ASSERT_EQ(drops.size(), 2u);
  EXPECT_FALSE(drops[1]["args"].contains("holder"));
}

TEST(TimelineTest, AHoldCutByTheWindowEndHasNoForcedSwitch) {
  auto trace = sample();
  trace.threads[0].events.back().detail = why(TraceRelease::forced);  // [8, 11] µs, cut at 11
  const auto doc = nlohmann::json::parse(timeline_json(trace, info()));
  EXPECT_EQ(named(doc, "forced switch").size(), 1u);  // only the one at 6 µs
  EXPECT_EQ(named(doc, "holds lock")[2]["args"]["release"], "forced");
}

TEST(TimelineTest, EmptyTraceIsStillValid) {
  const auto doc = nlohmann::json::parse(timeline_json(Trace{}, info()));
  EXPECT_EQ(doc["traceEvents"].size(), 1u);  // the process name
  EXPECT_EQ(doc["otherData"]["dropped_events"], 0);
}

TEST(TimelineTest, SummaryHasSharesWaitsPerMessageAndTheLongestWait) {
  const auto s = timeline_summary(sample());
  EXPECT_EQ(s["window_ns"], nlohmann::json::array({1000, 11000}));
  EXPECT_EQ(s["dropped_events"], 3);
  EXPECT_EQ(s["events"], 12);
  const auto& fib = s["threads"]["fib-1"];
  EXPECT_DOUBLE_EQ(fib["hold_share"].get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(fib["wait_share"].get<double>(), 0.15);
  const auto& io = s["threads"]["io-2"];
  EXPECT_DOUBLE_EQ(io["syscall_share"].get<double>(), 0.15);
  EXPECT_DOUBLE_EQ(io["wait_share"].get<double>(), 0.4);
  EXPECT_EQ(io["dropped_events"], 3);
  EXPECT_DOUBLE_EQ(s["threads"]["main"]["syscall_share"].get<double>(), 1.0);
  EXPECT_EQ(s["messages"]["count"], 1);
  EXPECT_EQ(s["messages"]["waits"], 1);
  EXPECT_DOUBLE_EQ(s["messages"]["waits_per_message"].get<double>(), 1.0);
  EXPECT_EQ(s["longest_wait"]["thread"], "io-2");
  EXPECT_EQ(s["longest_wait"]["ns"], 4000);
  EXPECT_EQ(s["longest_wait"]["at_ns"], 2000);
  const auto lines = summary_lines(s);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("1.00 waits per message"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("3 dropped"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("--trace-buffer"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace convoy::server
