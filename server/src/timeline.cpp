#include "convoy/server/timeline.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <numeric>
#include <utility>

namespace convoy::server {
namespace {

using gilcore::Role;
using gilcore::ThreadTrace;
using gilcore::Trace;
using gilcore::TraceEvent;
using gilcore::TraceKind;

int role_rank(Role role) noexcept {
  switch (role) {
    case Role::main: return 0;
    case Role::io: return 1;
    case Role::cpu: return 2;
  }
  return 3;
}

// The threads in track order: main, then io, then fib threads, each by ordinal.
std::vector<std::size_t> track_order(const Trace& trace) {
  std::vector<std::size_t> order(trace.threads.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto& x = trace.threads[a];
    const auto& y = trace.threads[b];
    return std::pair(role_rank(x.role), x.ordinal) < std::pair(role_rank(y.role), y.ordinal);
  });
  return order;
}

using Interval = std::pair<std::int64_t, std::int64_t>;

std::vector<Interval> intervals_of(const ThreadTrace& t, TraceKind kind) {
  std::vector<Interval> out;
  for (const auto& e : t.events) {
    if (e.kind == kind) out.emplace_back(e.begin_ns, e.end_ns);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The interval of `sorted` that contains `at`, if any.
const Interval* containing(const std::vector<Interval>& sorted, std::int64_t at) {
  auto it = std::upper_bound(sorted.begin(), sorted.end(), Interval{at, INT64_MAX});
  if (it == sorted.begin()) return nullptr;
  --it;
  return it->second >= at ? &*it : nullptr;
}

// The first interval of `sorted` that ends at or after `at`.
const Interval* first_ending_after(const std::vector<Interval>& sorted, std::int64_t at) {
  for (const auto& i : sorted) {
    if (i.second >= at) return &i;
  }
  return nullptr;
}

std::string json_string(std::string_view text) { return nlohmann::json(text).dump(); }

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void begin(const char* ph, std::string_view name, std::string_view cat, int tid,
             std::int64_t ts_ns) {
    out_ += first_ ? "\n" : ",\n";
    first_ = false;
    out_ += R"({"ph":")";
    out_ += ph;
    out_ += R"(","name":)";
    out_ += json_string(name);
    if (!cat.empty()) {
      out_ += R"(,"cat":")";
      out_ += cat;
      out_ += '"';
    }
    out_ += R"(,"pid":1,"tid":)";
    out_ += std::to_string(tid);
    out_ += R"(,"ts":)";
    us(ts_ns);
  }
  void dur(std::int64_t ns) {
    out_ += R"(,"dur":)";
    us(ns);
  }
  void raw(std::string_view text) { out_ += text; }
  void end() { out_ += '}'; }

 private:
  void us(std::int64_t ns) {
    if (ns < 0) ns = 0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%" PRId64 ".%03" PRId64, ns / 1000, ns % 1000);
    out_ += buf;
  }

  std::string& out_;
  bool first_ = true;
};

}  // namespace

std::string thread_name(const ThreadTrace& thread) {
  switch (thread.role) {
    case Role::main: return thread.ordinal <= 1 ? "main" : "main-" + std::to_string(thread.ordinal);
    case Role::io: return "io-" + std::to_string(thread.ordinal);
    case Role::cpu: return "fib-" + std::to_string(thread.ordinal);
  }
  return "?";
}

namespace {

// Each thread's track: its tid (1-based, in track order), name and sorted holds; threads by id.
struct Tracks {
  std::vector<std::size_t> order;
  std::vector<int> tid;
  std::vector<std::string> names;
  std::vector<std::vector<Interval>> holds;
  std::map<std::uint32_t, std::size_t> by_id;
};

Tracks tracks_of(const Trace& trace) {
  const std::size_t n = trace.threads.size();
  Tracks t{track_order(trace),
           std::vector<int>(n),
           std::vector<std::string>(n),
           std::vector<std::vector<Interval>>(n),
           {}};
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = t.order[k];
    t.tid[i] = static_cast<int>(k + 1);
    t.names[i] = thread_name(trace.threads[i]);
    t.holds[i] = intervals_of(trace.threads[i], TraceKind::hold);
    t.by_id[trace.threads[i].id] = i;
  }
  return t;
}

// The trace events of a timeline, written one after the other into one string.
class EventWriter {
 public:
  EventWriter(std::string& out, const Trace& trace, const Tracks& tracks)
      : w_(out), trace_(trace), tracks_(tracks) {}

  void metadata(const std::string& title) {
    w_.begin("M", "process_name", "", 0, 0);
    w_.raw(R"(,"args":{"name":)" + json_string(title) + "}");
    w_.end();
    for (const std::size_t i : tracks_.order) {
      w_.begin("M", "thread_name", "", tracks_.tid[i], 0);
      w_.raw(R"(,"args":{"name":)" + json_string(tracks_.names[i]) + "}");
      w_.end();
      w_.begin("M", "thread_sort_index", "", tracks_.tid[i], 0);
      w_.raw(R"(,"args":{"sort_index":)" + std::to_string(tracks_.tid[i]) + "}");
      w_.end();
    }
  }

  // Event `e` of thread `i`.
  void event(std::size_t i, const TraceEvent& e) {
    const int tid = tracks_.tid[i];
    switch (e.kind) {
      case TraceKind::wait: return span("wants lock", "lock", tid, e);
      case TraceKind::hold: return hold(tid, e);
      case TraceKind::syscall:
        return span(to_string(static_cast<gilcore::Syscall>(e.detail)), "syscall", tid, e);
      case TraceKind::drop_request: return drop_request(i, e);
      case TraceKind::handoff: return handoff(tid, e);
      case TraceKind::received:
      case TraceKind::echoed:
        w_.begin("i", e.kind == TraceKind::received ? "message received" : "message echoed",
                 "message", tid, e.end_ns);
        w_.raw(R"(,"s":"t","args":{"seq":)" + std::to_string(e.value) + R"(,"connection":)" +
               std::to_string(e.peer) + "}");
        w_.end();
        return;
    }
  }

 private:
  void span(std::string_view name, std::string_view cat, int tid, const TraceEvent& e) {
    w_.begin("X", name, cat, tid, e.begin_ns);
    w_.dur(e.end_ns - e.begin_ns);
    w_.end();
  }

  void hold(int tid, const TraceEvent& e) {
    const auto why = static_cast<gilcore::TraceRelease>(e.detail);
    w_.begin("X", "holds lock", "lock", tid, e.begin_ns);
    w_.dur(e.end_ns - e.begin_ns);
    w_.raw(R"(,"args":{"release":")" + std::string(to_string(why)) + "\"}");
    w_.end();
    // A hold cut by the window's end did not end by its switch inside the window.
    if (why == gilcore::TraceRelease::forced && e.end_ns < trace_.window_end_ns) {
      w_.begin("i", "forced switch", "lock", tid, e.end_ns);
      w_.raw(R"(,"s":"t")");
      w_.end();
    }
  }

  void drop_request(std::size_t i, const TraceEvent& e) {
    w_.begin("i", "drop request", "lock", tracks_.tid[i], e.end_ns);
    w_.raw(R"(,"s":"t","args":{)");
    for (std::size_t j = 0; j < tracks_.holds.size(); ++j) {
      if (j != i && containing(tracks_.holds[j], e.end_ns) != nullptr) {
        w_.raw(R"("holder":)" + json_string(tracks_.names[j]));
        break;
      }
    }
    w_.raw("}");
    w_.end();
  }

  void handoff(int tid, const TraceEvent& e) {
    const auto to = tracks_.by_id.find(e.peer);
    if (to == tracks_.by_id.end()) return;
    const Interval* hold = first_ending_after(tracks_.holds[to->second], e.end_ns);
    if (hold == nullptr) return;
    const auto id = std::to_string(++flow_id_);
    w_.begin("s", "hand-off", "handoff", tid, e.end_ns);
    w_.raw(R"(,"id":)" + id);
    w_.end();
    w_.begin("f", "hand-off", "handoff", tracks_.tid[to->second], std::max(e.end_ns, hold->first));
    w_.raw(R"(,"bp":"e","id":)" + id);
    w_.end();
  }

  Writer w_;
  const Trace& trace_;
  const Tracks& tracks_;
  std::uint64_t flow_id_ = 0;
};

nlohmann::json other_data(const Trace& trace, const Tracks& tracks, const TimelineInfo& info) {
  nlohmann::json dropped = nlohmann::json::object();
  for (const std::size_t i : tracks.order) dropped[tracks.names[i]] = trace.threads[i].dropped;
  return {
      {"policy", info.policy},
      {"knobs", info.knobs},
      {"cpu_threads", info.cpu_threads},
      {"io_model", info.io_model},
      {"title", info.title},
      {"dropped_events", trace.dropped()},
      {"dropped_by_thread", dropped},
      {"window_ns", {trace.window_begin_ns, trace.window_end_ns}},
  };
}

// What the summary says of one thread, and what it adds to the totals.
struct ThreadSummary {
  std::int64_t hold = 0, wait = 0, sys = 0;
  std::uint64_t holds = 0, waits = 0;
  std::uint64_t messages = 0;       // received and echoed inside the window
  std::uint64_t message_waits = 0;  // waits that began while a message was being answered
  std::uint64_t max_waits = 0;      // the most of them for one message
  std::int64_t longest_ns = -1;     // the longest wait, and when it began
  std::int64_t longest_at_ns = 0;
};

// The waits that began while each message was being answered ([received, echoed]).
void count_message_waits(std::vector<std::int64_t> wait_begins,
                         const std::vector<Interval>& answered, ThreadSummary& s) {
  std::sort(wait_begins.begin(), wait_begins.end());
  for (const auto& [from, to] : answered) {
    const auto lo = std::lower_bound(wait_begins.begin(), wait_begins.end(), from);
    const auto hi = std::upper_bound(wait_begins.begin(), wait_begins.end(), to);
    const auto count = static_cast<std::uint64_t>(hi - lo);
    s.message_waits += count;
    s.max_waits = std::max(s.max_waits, count);
  }
  s.messages = answered.size();
}

ThreadSummary summarise(const ThreadTrace& t) {
  ThreadSummary s;
  std::vector<std::int64_t> wait_begins;
  std::map<std::pair<std::uint32_t, std::uint64_t>, std::int64_t> received;
  std::vector<Interval> answered;  // [received, echoed] of each message
  for (const auto& e : t.events) {
    const auto d = e.end_ns - e.begin_ns;
    switch (e.kind) {
      case TraceKind::hold: s.hold += d, ++s.holds; break;
      case TraceKind::wait:
        s.wait += d, ++s.waits;
        wait_begins.push_back(e.begin_ns);
        if (d > s.longest_ns) s.longest_ns = d, s.longest_at_ns = e.begin_ns;
        break;
      case TraceKind::syscall: s.sys += d; break;
      case TraceKind::received: received[{e.peer, e.value}] = e.end_ns; break;
      case TraceKind::echoed:
        if (const auto it = received.find({e.peer, e.value}); it != received.end()) {
          answered.emplace_back(it->second, e.end_ns);
          received.erase(it);
        }
        break;
      default: break;
    }
  }
  count_message_waits(std::move(wait_begins), answered, s);
  return s;
}

}  // namespace

std::string timeline_json(const Trace& trace, const TimelineInfo& info) {
  const Tracks tracks = tracks_of(trace);
  std::string out;
  out.reserve(64 + trace.threads.size() * 256);
  out += R"({"traceEvents":[)";
  EventWriter w(out, trace, tracks);
  w.metadata(info.title);
  for (const std::size_t i : tracks.order) {
    for (const auto& e : trace.threads[i].events) w.event(i, e);
  }
  out += "\n],\"displayTimeUnit\":\"ns\",\"otherData\":";
  out += other_data(trace, tracks, info).dump();
  out += "}\n";
  return out;
}

nlohmann::json timeline_summary(const Trace& trace) {
  const double window =
      static_cast<double>(std::max<std::int64_t>(trace.window_end_ns - trace.window_begin_ns, 1));
  nlohmann::json threads = nlohmann::json::object();
  std::uint64_t events = 0;
  std::uint64_t messages = 0;
  std::uint64_t message_waits = 0;
  std::uint64_t max_waits = 0;
  nlohmann::json longest = nullptr;
  std::int64_t longest_ns = -1;
  for (const std::size_t i : track_order(trace)) {
    const auto& t = trace.threads[i];
    const auto name = thread_name(t);
    const ThreadSummary s = summarise(t);
    events += t.events.size();
    if (s.longest_ns > longest_ns) {
      longest_ns = s.longest_ns;
      longest = {{"thread", name}, {"ns", s.longest_ns}, {"at_ns", s.longest_at_ns}};
    }
    message_waits += s.message_waits;
    max_waits = std::max(max_waits, s.max_waits);
    messages += s.messages;
    threads[name] = {{"hold_share", static_cast<double>(s.hold) / window},
                     {"wait_share", static_cast<double>(s.wait) / window},
                     {"syscall_share", static_cast<double>(s.sys) / window},
                     {"holds", s.holds},
                     {"waits", s.waits},
                     {"messages", s.messages},
                     {"events", t.events.size()},
                     {"dropped_events", t.dropped}};
  }
  return {
      {"window_ns", {trace.window_begin_ns, trace.window_end_ns}},
      {"events", events},
      {"dropped_events", trace.dropped()},
      {"threads", threads},
      {"messages",
       {{"count", messages},
        {"waits", message_waits},
        {"waits_per_message",
         messages > 0 ? static_cast<double>(message_waits) / static_cast<double>(messages) : 0.0},
        {"max_waits", max_waits}}},
      {"longest_wait", longest}};
}

std::vector<std::string> summary_lines(const nlohmann::json& s) {
  char buf[256];
  std::vector<std::string> lines;
  const auto& w = s["window_ns"];
  const auto& m = s["messages"];
  std::snprintf(buf, sizeof buf,
                "timeline: %.3f ms window from %.3f ms, %" PRIu64 " events, %" PRIu64
                " dropped; %.2f waits per message (at most %" PRIu64 ", %" PRIu64 " messages)",
                static_cast<double>(w[1].get<std::int64_t>() - w[0].get<std::int64_t>()) / 1e6,
                static_cast<double>(w[0].get<std::int64_t>()) / 1e6,
                s["events"].get<std::uint64_t>(), s["dropped_events"].get<std::uint64_t>(),
                m["waits_per_message"].get<double>(), m["max_waits"].get<std::uint64_t>(),
                m["count"].get<std::uint64_t>());
  std::string line = buf;
  if (const auto& l = s["longest_wait"]; !l.is_null()) {
    std::snprintf(buf, sizeof buf, "; longest wait %.3f ms (%s at %.3f ms)",
                  static_cast<double>(l["ns"].get<std::int64_t>()) / 1e6,
                  l["thread"].get<std::string>().c_str(),
                  static_cast<double>(l["at_ns"].get<std::int64_t>()) / 1e6);
    line += buf;
  }
  if (s["dropped_events"].get<std::uint64_t>() > 0) {
    line += " (the oldest events of some threads were dropped: raise --trace-buffer)";
  }
  lines.push_back(line);
  for (const auto& [name, t] : s["threads"].items()) {
    std::snprintf(buf, sizeof buf,
                  "timeline: %s holds %.1f%%, waits %.1f%%, in syscalls %.1f%% of the window; "
                  "%" PRIu64 " waits, %" PRIu64 " dropped events",
                  name.c_str(), 100 * t["hold_share"].get<double>(),
                  100 * t["wait_share"].get<double>(), 100 * t["syscall_share"].get<double>(),
                  t["waits"].get<std::uint64_t>(), t["dropped_events"].get<std::uint64_t>());
    lines.emplace_back(buf);
  }
  return lines;
}

}  // namespace convoy::server
