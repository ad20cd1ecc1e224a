#include "convoy/client/report.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include "convoy/build_info.hpp"
#include "convoy/duration.hpp"

namespace convoy::client {
namespace {

double us(double ns) { return ns / 1e3; }

std::string format(const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

const char* status(const RunResult& r) {
  if (r.error_kind == ErrorKind::kInterrupted) return "interrupted";
  return r.exit_code() == 0 ? "ok" : "error";
}

std::string row(const char* name, const LatencyHistogram& h) {
  if (h.count() == 0) return format("%-34s %10s\n", name, "0");
  return format("%-34s %10llu %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f\n", name,
                static_cast<unsigned long long>(h.count()), us(h.mean()), us(h.percentile(50)),
                us(h.percentile(90)), us(h.percentile(99)), us(h.percentile(99.9)), us(h.max()));
}

std::string error_list(const ErrorCounts& e) {
  std::string out;
  auto item = [&](std::uint64_t n, const char* what) {
    if (n == 0) return;
    if (!out.empty()) out += ", ";
    out += std::to_string(n) + " " + what;
  };
  for (const auto& c : kErrorCounters) item(e.*c.member, c.words);
  return out.empty() ? "none" : out;
}

nlohmann::json error_json(const ErrorCounts& e) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& c : kErrorCounters) j[c.key] = e.*c.member;
  return j;
}

template <typename Write>
std::string render(Write write) {
  std::ostringstream out;
  write(out);
  return out.str();
}

}  // namespace

nlohmann::json histogram_json(const LatencyHistogram& h, bool with_buckets) {
  nlohmann::json j = {
      {"count", h.count()},
      {"mean_us", us(h.mean())},
      {"stddev_us", us(h.stddev())},
      {"min_us", us(h.min())},
      {"p50_us", us(h.percentile(50))},
      {"p90_us", us(h.percentile(90))},
      {"p99_us", us(h.percentile(99))},
      {"p999_us", us(h.percentile(99.9))},
      {"p9999_us", us(h.percentile(99.99))},
      {"max_us", us(h.max())},
  };
  if (with_buckets) {
    nlohmann::json buckets = nlohmann::json::array();
    for (const auto& b : h.buckets()) buckets.push_back({us(b.lower_ns), us(b.upper_ns), b.count});
    j["buckets"] = std::move(buckets);
  }
  return j;
}

nlohmann::json result_json(const Config& config, const RunResult& r,
                           const nlohmann::json& context) {
  const bool open = config.mode == Mode::kOpen;
  nlohmann::json results = {
      {"status", status(r)},
      {"exit_code", r.exit_code()},
      {"error", r.error.empty() ? nlohmann::json() : nlohmann::json(r.error)},
      {"error_kind", r.error_kind == ErrorKind::kNone ? nlohmann::json()
                                                      : nlohmann::json(to_string(r.error_kind))},
      {"first_corruption",
       r.first_corruption.empty() ? nlohmann::json() : nlohmann::json(r.first_corruption)},
      {"elapsed_s", r.elapsed_s},
      {"achieved_rate", r.achieved_rate},
      {"requests",
       {{"sent", r.sent},
        {"completed", r.completed},
        {"unanswered", r.unanswered()},
        {"not_sent", r.not_sent},
        {"warmup_sent", r.warmup_sent},
        {"warmup_completed", r.warmup_completed}}},
      {"errors", error_json(r.errors)},
      {"latency_from", open ? "intended send time (coordinated omission corrected)" : "send"},
      {"latency", histogram_json(r.latency)},
  };
  if (open) {
    results["offered_rate"] = config.rate;
    results["service_time"] = histogram_json(r.service);
    results["schedule_lag"] = histogram_json(r.lag);
  }
  return {
      {"context", context},
      {"config", config_to_json(config)},
      {"histogram",
       {{"lowest_us", us(LatencyHistogram::kLowestNs)},
        {"highest_us", us(LatencyHistogram::kHighestNs)},
        {"bins", LatencyHistogram::kBins},
        {"percentile_relative_error", LatencyHistogram::kRelativeError},
        {"percentile_from", "bin midpoint on the log axis, clamped to the exact min and max"}}},
      {"results", std::move(results)},
  };
}

void write_hgrm(std::ostream& out, const LatencyHistogram& h) {
  constexpr int kTicksPerHalfDistance = 5;
  const std::uint64_t total = h.count();
  out << format("%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
  if (total > 0) {
    // Rows below 100 % until one reaches the maximum, so that a plot of 1/(1-Percentile), which
    // cannot show the 100 % row, still ends at the largest value.
    double p = 0;
    while (true) {
      const auto at = h.at_percentile(p);
      out << format("%12.3f %14.12f %10llu %14.2f\n", us(at.value_ns), p / 100,
                    static_cast<unsigned long long>(at.cumulative), 1 / (1 - p / 100));
      if (at.value_ns >= h.max()) break;
      // As HdrHistogram: kTicksPerHalfDistance steps each time the distance to 100 % halves.
      const double half_distance = std::pow(2.0, std::floor(std::log2(100.0 / (100.0 - p))) + 1);
      const double next = p + 100.0 / (kTicksPerHalfDistance * half_distance);
      if (!(next > p) || next >= 100) break;  // beyond what a double tells apart from 100 %
      p = next;
    }
    out << format("%12.3f %14.12f %10llu\n", us(h.max()), 1.0,
                  static_cast<unsigned long long>(total));
  }
  out << format("#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", us(h.mean()), us(h.stddev()));
  out << format("#[Max     = %12.3f, Total count    = %12llu]\n", us(h.max()),
                static_cast<unsigned long long>(total));
  out << format("#[Buckets = %12u, SubBuckets     = %12d]\n", LatencyHistogram::kBins, 1);
  out << format("#[Values in microseconds; log buckets, percentile error <= %.2f %%]\n",
                100 * LatencyHistogram::kRelativeError);
}

void write_csv(std::ostream& out, const std::vector<LatencyHistogram>& per_second) {
  out << "second,count,p50_us,p99_us,max_us\n";
  for (std::size_t s = 0; s < per_second.size(); ++s) {
    const auto& h = per_second[s];
    if (h.count() == 0) {
      out << s << ",0,,,\n";
      continue;
    }
    out << format("%zu,%llu,%.3f,%.3f,%.3f\n", s, static_cast<unsigned long long>(h.count()),
                  us(h.percentile(50)), us(h.percentile(99)), us(h.max()));
  }
}

void print_summary(std::ostream& out, const Config& c, const RunResult& r) {
  const bool open = c.mode == Mode::kOpen;
  out << convoy::version_line("convoy-client") << "\n";
  out << "target " << c.host << ":" << c.port << ", ";
  if (open) {
    out << format("open loop at %.6g req/s (%s)", c.rate, to_string(c.arrival));
  } else {
    out << "closed loop, think " << convoy::format_duration(c.think);
  }
  out << ", " << c.connections << " connection(s), " << c.threads << " thread(s), " << c.size
      << "-byte messages\n";
  std::string warmup = "no warm-up";
  if (c.warmup_count > 0) warmup = "warm-up " + std::to_string(c.warmup_count) + " requests";
  if (c.warmup_time.count() > 0) warmup = "warm-up " + convoy::format_duration(c.warmup_time);
  out << format("measured %.3f s (%s): %llu sent, %llu answered", r.elapsed_s, warmup.c_str(),
                static_cast<unsigned long long>(r.sent),
                static_cast<unsigned long long>(r.completed));
  if (r.unanswered() > 0) {
    out << format(", %llu without a reply", static_cast<unsigned long long>(r.unanswered()));
  }
  if (r.not_sent > 0) {
    out << format(", %llu not sent", static_cast<unsigned long long>(r.not_sent));
  }
  out << format("; %.1f req/s", r.achieved_rate);
  if (open && c.rate > 0) {
    out << format(" (offered %.6g, %+.2f %%)", c.rate, 100 * (r.achieved_rate / c.rate - 1));
  }
  out << "\n\n";
  out << format("%-34s %10s %10s %10s %10s %10s %10s %10s\n", "microseconds", "count", "mean",
                "p50", "p90", "p99", "p99.9", "max");
  if (open) {
    out << row("latency (from intended send)", r.latency);
    out << row("service time (from actual send)", r.service);
    out << row("schedule lag (send - intended)", r.lag);
  } else {
    out << row("round trip", r.latency);
  }
  out << "\nerrors: " << error_list(r.errors) << "\n";
  if (open && r.completed > 0 && r.achieved_rate < 0.99 * c.rate) {
    out << format(
        "warning: achieved rate is %.1f %% below the offered rate: the client or the server "
        "fell behind\n",
        100 * (1 - r.achieved_rate / c.rate));
  }
  if (r.not_sent > 0) {
    out << format(
        "warning: %llu scheduled request(s) were never sent (%u in flight per connection at "
        "most, --max-in-flight); they are in no latency above\n",
        static_cast<unsigned long long>(r.not_sent), c.max_in_flight);
  }
}

std::vector<std::string> ResultFiles::open(const Config& c) {
  std::vector<std::string> errors;
  auto open_one = [&](convoy::ResultFile& file, const std::string& path, const char* option) {
    if (path.empty()) return;
    if (auto e = file.open(path); !e.empty()) errors.push_back(option + (": " + e));
  };
  open_one(json_, c.json_path, "--json");
  open_one(csv_, c.csv_path, "--csv");
  open_one(hgrm_, c.hgrm_path, "--hgrm");
  return errors;
}

std::vector<std::string> ResultFiles::write(const Config& c, const RunResult& r,
                                            const nlohmann::json& context) {
  std::vector<std::string> errors;
  auto write_one = [&](convoy::ResultFile& file, const char* what, auto writer) {
    if (!file.is_open()) return;
    if (auto e = file.commit(render(writer)); !e.empty()) {
      errors.push_back(std::string("the ") + what + " file: " + e);
    }
  };
  write_one(json_, "JSON",
            [&](std::ostream& o) { o << result_json(c, r, context).dump(2) << "\n"; });
  write_one(csv_, "CSV", [&](std::ostream& o) { write_csv(o, r.per_second); });
  write_one(hgrm_, "hgrm", [&](std::ostream& o) { write_hgrm(o, r.latency); });
  return errors;
}

}  // namespace convoy::client
