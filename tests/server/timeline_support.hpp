#pragma once
// Reading a convoy-server timeline in tests: its events by track, times in integer nanoseconds.

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server_harness.hpp"

namespace convoy::server::testing {

/// One event of a timeline, times in ns (ts and dur are µs with three decimals).
struct Span {
  std::string name;
  std::string ph;
  std::int64_t begin = 0;
  std::int64_t end = 0;
  nlohmann::json args;
};

inline std::int64_t to_ns(const nlohmann::json& us) {
  return static_cast<std::int64_t>(std::llround(us.get<double>() * 1000.0));
}

/// A parsed timeline: events per tid (metadata left out) and the thread names.
struct Timeline {
  nlohmann::json doc;
  std::map<int, std::string> names;
  std::map<int, std::vector<Span>> tracks;

  explicit Timeline(const std::string& path) : doc(nlohmann::json::parse(read_file(path))) {
    for (const auto& e : doc.at("traceEvents")) {
      const int tid = e.at("tid").get<int>();
      if (e.at("ph") == "M") {
        if (e.at("name") == "thread_name") names[tid] = e.at("args").at("name").get<std::string>();
        continue;
      }
      const auto begin = to_ns(e.at("ts"));
      const auto end = e.contains("dur") ? begin + to_ns(e.at("dur")) : begin;
      tracks[tid].push_back({e.at("name").get<std::string>(), e.at("ph").get<std::string>(), begin,
                             end, e.value("args", nlohmann::json::object())});
    }
  }

  /// Every event named `name` on track `tid`, in file order.
  std::vector<Span> named(int tid, const std::string& name) const {
    std::vector<Span> out;
    const auto it = tracks.find(tid);
    if (it == tracks.end()) return out;
    for (const auto& s : it->second) {
      if (s.name == name) out.push_back(s);
    }
    return out;
  }
  /// The tid of the thread called `name`, or -1.
  int tid_of(const std::string& name) const {
    for (const auto& [tid, n] : names) {
      if (n == name) return tid;
    }
    return -1;
  }
  std::int64_t window_begin() const { return doc["otherData"]["window_ns"][0].get<std::int64_t>(); }
  std::int64_t window_end() const { return doc["otherData"]["window_ns"][1].get<std::int64_t>(); }
};

/// A 64-byte message with convoy-client's header: magic, connection, flags, sequence number.
inline std::string client_message(std::uint16_t connection, std::uint64_t seq) {
  std::string m(64, 'x');
  m.replace(0, 4, "CNVY");
  m[4] = static_cast<char>(connection & 0xff);
  m[5] = static_cast<char>(connection >> 8);
  m[6] = m[7] = 0;
  for (int i = 0; i < 8; ++i) m[8 + i] = static_cast<char>((seq >> (8 * i)) & 0xff);
  return m;
}

}  // namespace convoy::server::testing
