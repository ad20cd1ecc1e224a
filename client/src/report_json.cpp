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

nlohmann::json histogram_json(const convoy::Histogram& h, bool with_buckets) {
  convoy::SummaryFormat f;
  f.unit = convoy::SummaryFormat::Unit::us;
  f.percentiles = convoy::kPercentileKeys.size();
  f.stddev = true;
  f.buckets = with_buckets;
  return convoy::summary_json(h, f);
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
       {{"lowest_us", 0.0},
        {"highest_us", us(convoy::LogBuckets::kHighest)},
        {"bins", convoy::LogBuckets::kCount},
        {"percentile_relative_error", convoy::LogBuckets::kRelativeError},
        {"percentile_from", "bucket midpoint, clamped to the exact min and max"}}},
      {"results", std::move(results)},
  };
}

}  // namespace convoy::client
