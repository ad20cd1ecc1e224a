#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "convoy/client/config.hpp"
#include "convoy/client/runner.hpp"
#include "convoy/histogram.hpp"
#include "convoy/result_file.hpp"

namespace convoy::client {

/// count, mean, stddev, min, p50, p90, p99, p999 (99.9), p9999 (99.99), max (microseconds, keys
/// ending in "_us", as count, mean_us, p999_us) and, if `with_buckets`, the non-empty buckets as
/// [lower_us, upper_us, count] triples so that runs can be merged later (convoy::summary_json).
nlohmann::json histogram_json(const convoy::Histogram& h, bool with_buckets = true);

/// The whole result file: {"context": `context`, "config": ..., "histogram": ..., "results": ...}.
nlohmann::json result_json(const Config& config, const RunResult& result,
                           const nlohmann::json& context);

/// One row per second since the measured start: second,count,p50_us,p99_us,max_us (empty
/// fields for seconds without replies).
void write_csv(std::ostream& out, const std::vector<convoy::Histogram>& per_second);

/// The human-readable summary table.
void print_summary(std::ostream& out, const Config& config, const RunResult& result);

/// The files asked for by --json, --csv and --hgrm. They are opened before the run, so that a
/// path that cannot be written is found before anything is measured, and each is written
/// through a temporary file renamed onto it (convoy::ResultFile). Main thread only.
class ResultFiles {
 public:
  /// Opens every file `config` names; returns one message per file that cannot be written.
  std::vector<std::string> open(const Config& config);
  /// Writes the files opened; returns one message per failure.
  std::vector<std::string> write(const Config& config, const RunResult& result,
                                 const nlohmann::json& context);

 private:
  convoy::ResultFile json_;
  convoy::ResultFile csv_;
  convoy::ResultFile hgrm_;
};

}  // namespace convoy::client
