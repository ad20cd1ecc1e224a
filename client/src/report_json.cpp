// The --json result file: context, config, histogram range and results.
#include "convoy/client/report.hpp"

#include <string>

#include "report_text.hpp"

namespace convoy::client {

using report_detail::us;

namespace {

const char* status(const RunResult& r) {
  if (r.error_kind == ErrorKind::interrupted) return "interrupted";
  return r.exit_code() == 0 ? "ok" : "error";
}

nlohmann::json error_json(const ErrorCounts& e) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& c : kErrorCounters) j[c.key] = e.*c.member;
  return j;
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
  const bool open = config.mode == Mode::open;
  nlohmann::json results = {
      {"status", status(r)},
      {"exit_code", r.exit_code()},
      {"error", r.error.empty() ? nlohmann::json() : nlohmann::json(r.error)},
      {"error_kind", r.error_kind == ErrorKind::none ? nlohmann::json()
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

}  // namespace convoy::client
