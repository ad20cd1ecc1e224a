// The summary table on stdout.
#include "convoy/client/report.hpp"

#include <cstdint>
#include <string>

#include "convoy/build_info.hpp"
#include "convoy/duration.hpp"

#include "report_text.hpp"

namespace convoy::client {

using report_detail::format;
using report_detail::us;

namespace {

std::string row(const char* name, const convoy::Histogram& h) {
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

}  // namespace

void print_summary(std::ostream& out, const Config& c, const RunResult& r) {
  const bool open = c.mode == Mode::open;
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

}  // namespace convoy::client
