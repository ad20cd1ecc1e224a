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

std::string timeline_json(const Trace& trace, const TimelineInfo& info) {
  const auto order = track_order(trace);
  const std::size_t n = trace.threads.size();
  std::vector<int> tid(n);
  std::vector<std::string> names(n);
  std::vector<std::vector<Interval>> holds(n);
  std::map<std::uint32_t, std::size_t> by_id;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    tid[i] = static_cast<int>(k + 1);
    names[i] = thread_name(trace.threads[i]);
    holds[i] = intervals_of(trace.threads[i], TraceKind::hold);
    by_id[trace.threads[i].id] = i;
  }

  std::string out;
  out.reserve(64 + n * 256);
  out += R"({"traceEvents":[)";
  Writer w(out);
  w.begin("M", "process_name", "", 0, 0);
  w.raw(R"(,"args":{"name":)" + json_string(info.title) + "}");
  w.end();
  for (const std::size_t i : order) {
    w.begin("M", "thread_name", "", tid[i], 0);
    w.raw(R"(,"args":{"name":)" + json_string(names[i]) + "}");
    w.end();
    w.begin("M", "thread_sort_index", "", tid[i], 0);
    w.raw(R"(,"args":{"sort_index":)" + std::to_string(tid[i]) + "}");
    w.end();
  }

  std::uint64_t flow_id = 0;
  for (const std::size_t i : order) {
    const auto& thread = trace.threads[i];
    for (const auto& e : thread.events) {
      switch (e.kind) {
        case TraceKind::wait:
          w.begin("X", "wants lock", "lock", tid[i], e.begin_ns);
          w.dur(e.end_ns - e.begin_ns);
          w.end();
          break;
        case TraceKind::hold: {
          const auto why = static_cast<gilcore::TraceRelease>(e.detail);
          w.begin("X", "holds lock", "lock", tid[i], e.begin_ns);
          w.dur(e.end_ns - e.begin_ns);
          w.raw(R"(,"args":{"release":")" + std::string(to_string(why)) + "\"}");
          w.end();
          // A hold cut by the window's end did not end by its switch inside the window.
          if (why == gilcore::TraceRelease::forced && e.end_ns < trace.window_end_ns) {
            w.begin("i", "forced switch", "lock", tid[i], e.end_ns);
            w.raw(R"(,"s":"t")");
            w.end();
          }
          break;
        }
        case TraceKind::syscall:
          w.begin("X", to_string(static_cast<gilcore::Syscall>(e.detail)), "syscall", tid[i],
                  e.begin_ns);
          w.dur(e.end_ns - e.begin_ns);
          w.end();
          break;
        case TraceKind::drop_request: {
          w.begin("i", "drop request", "lock", tid[i], e.end_ns);
          w.raw(R"(,"s":"t","args":{)");
          for (std::size_t j = 0; j < n; ++j) {
            if (j != i && containing(holds[j], e.end_ns) != nullptr) {
              w.raw(R"("holder":)" + json_string(names[j]));
              break;
            }
          }
          w.raw("}");
          w.end();
          break;
        }
        case TraceKind::handoff: {
          const auto to = by_id.find(e.peer);
          if (to == by_id.end()) break;
          const Interval* hold = first_ending_after(holds[to->second], e.end_ns);
          if (hold == nullptr) break;
          const auto id = std::to_string(++flow_id);
          w.begin("s", "hand-off", "handoff", tid[i], e.end_ns);
          w.raw(R"(,"id":)" + id);
          w.end();
          w.begin("f", "hand-off", "handoff", tid[to->second], std::max(e.end_ns, hold->first));
          w.raw(R"(,"bp":"e","id":)" + id);
          w.end();
          break;
        }
        case TraceKind::received:
        case TraceKind::echoed:
          w.begin("i", e.kind == TraceKind::received ? "message received" : "message echoed",
                  "message", tid[i], e.end_ns);
          w.raw(R"(,"s":"t","args":{"seq":)" + std::to_string(e.value) + R"(,"connection":)" +
                std::to_string(e.peer) + "}");
          w.end();
          break;
      }
    }
  }

  nlohmann::json dropped = nlohmann::json::object();
  for (const std::size_t i : order) dropped[names[i]] = trace.threads[i].dropped;
  const nlohmann::json other = {
      {"policy", info.policy},
      {"knobs", info.knobs},
      {"cpu_threads", info.cpu_threads},
      {"io_model", info.io_model},
      {"title", info.title},
      {"dropped_events", trace.dropped()},
      {"dropped_by_thread", dropped},
      {"window_ns", {trace.window_begin_ns, trace.window_end_ns}},
  };
  out += "\n],\"displayTimeUnit\":\"ns\",\"otherData\":";
  out += other.dump();
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
    events += t.events.size();
    std::int64_t hold = 0, wait = 0, sys = 0;
    std::uint64_t holds = 0, waits = 0;
    std::vector<std::int64_t> wait_begins;
    std::map<std::pair<std::uint32_t, std::uint64_t>, std::int64_t> received;
    std::vector<Interval> answered;  // [received, echoed] of each message
    for (const auto& e : t.events) {
      const auto d = e.end_ns - e.begin_ns;
      switch (e.kind) {
        case TraceKind::hold: hold += d, ++holds; break;
        case TraceKind::wait:
          wait += d, ++waits;
          wait_begins.push_back(e.begin_ns);
          if (d > longest_ns) {
            longest_ns = d;
            longest = {{"thread", name}, {"ns", d}, {"at_ns", e.begin_ns}};
          }
          break;
        case TraceKind::syscall: sys += d; break;
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
    std::sort(wait_begins.begin(), wait_begins.end());
    for (const auto& [from, to] : answered) {
      const auto lo = std::lower_bound(wait_begins.begin(), wait_begins.end(), from);
      const auto hi = std::upper_bound(wait_begins.begin(), wait_begins.end(), to);
      const auto count = static_cast<std::uint64_t>(hi - lo);
      message_waits += count;
      max_waits = std::max(max_waits, count);
    }
    messages += answered.size();
    threads[name] = {{"hold_share", static_cast<double>(hold) / window},
                     {"wait_share", static_cast<double>(wait) / window},
                     {"syscall_share", static_cast<double>(sys) / window},
                     {"holds", holds},
                     {"waits", waits},
                     {"messages", answered.size()},
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
