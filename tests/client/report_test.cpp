#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "convoy/client/report.hpp"

namespace convoy::client {
namespace {

// The write_hgrm tests are with the histogram's, in tests/common.
convoy::Histogram sample_histogram(std::size_t n) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> dist(std::log(30'000.0), 0.8);
  convoy::Histogram h;
  for (std::size_t i = 0; i < n; ++i) h.record_signed(std::llround(dist(rng)));
  return h;
}

RunResult sample_result() {
  RunResult r;
  r.connected = true;
  r.latency = sample_histogram(10'000);
  r.service = sample_histogram(5'000);
  r.lag.record(2'000);
  r.per_second.resize(3);
  r.per_second[0].record(10'000);
  r.per_second[0].record(20'000);
  r.per_second[2].record(40'000);
  r.completed = r.latency.count();
  r.sent = r.completed;
  r.elapsed_s = 2.5;
  r.achieved_rate = 4'000;
  r.errors.corrupted = 2;
  r.first_corruption = "connection 0, seq 10, byte 50: expected 0x01, got 0x5b";
  return r;
}

TEST(ClientReportTest, JsonParsesBackWithContextConfigAndResults) {
  Config c;
  c.port = 9000;
  c.duration = std::chrono::seconds(3);
  const RunResult r = sample_result();
  const nlohmann::json context = {{"host", "testhost"}, {"git_revision", "abc"}};
  const auto parsed = nlohmann::json::parse(result_json(c, r, context).dump(2));

  EXPECT_EQ(parsed.at("context").at("host"), "testhost");
  EXPECT_EQ(parsed.at("config").at("port"), 9000);
  EXPECT_EQ(parsed.at("config").at("mode"), "closed");
  EXPECT_EQ(parsed.at("config").at("duration"), "3s");
  EXPECT_EQ(parsed.at("histogram").at("bins"), convoy::LogBuckets::kCount);
  const auto& res = parsed.at("results");
  EXPECT_EQ(res.at("status"), "error");
  EXPECT_EQ(res.at("exit_code"), 1);
  EXPECT_EQ(res.at("errors").at("corrupted"), 2);
  EXPECT_EQ(res.at("first_corruption"), r.first_corruption);
  EXPECT_EQ(res.at("requests").at("completed"), r.completed);
  EXPECT_DOUBLE_EQ(res.at("achieved_rate").get<double>(), 4'000);
  const auto& lat = res.at("latency");
  EXPECT_EQ(lat.at("count"), r.latency.count());
  EXPECT_NEAR(lat.at("p99_us").get<double>(), static_cast<double>(r.latency.percentile(99)) / 1e3,
              1e-9);
  EXPECT_NEAR(lat.at("max_us").get<double>(), static_cast<double>(r.latency.max()) / 1e3, 1e-9);
  // Percentile keys as convoy-server's statistics spell them (p999_ns): digits without a point.
  EXPECT_NEAR(lat.at("p999_us").get<double>(),
              static_cast<double>(r.latency.percentile(99.9)) / 1e3, 1e-9);
  EXPECT_NEAR(lat.at("p9999_us").get<double>(),
              static_cast<double>(r.latency.percentile(99.99)) / 1e3, 1e-9);
  EXPECT_FALSE(lat.contains("p99_9_us"));
  std::uint64_t in_buckets = 0;
  for (const auto& b : lat.at("buckets")) in_buckets += b.at(2).get<std::uint64_t>();
  EXPECT_EQ(in_buckets, r.latency.count());
  EXPECT_FALSE(res.contains("service_time"));
}

TEST(ClientReportTest, OpenModeJsonHasServiceTimeLagAndOfferedRate) {
  Config c;
  c.port = 9000;
  c.mode = Mode::open;
  c.rate = 5'000;
  c.count = 1000;
  const auto parsed = nlohmann::json::parse(result_json(c, sample_result(), {}).dump());
  const auto& res = parsed.at("results");
  EXPECT_EQ(res.at("service_time").at("count"), 5'000);
  EXPECT_EQ(res.at("schedule_lag").at("count"), 1);
  EXPECT_DOUBLE_EQ(res.at("offered_rate").get<double>(), 5'000);
  EXPECT_EQ(parsed.at("config").at("count"), 1000);
  EXPECT_EQ(parsed.at("config").at("arrival"), "uniform");
  EXPECT_NE(res.at("latency_from").get<std::string>().find("intended"), std::string::npos);
}

TEST(ClientReportTest, CsvHasOneRowPerSecond) {
  const RunResult r = sample_result();
  std::ostringstream out;
  write_csv(out, r.per_second);
  std::istringstream in(out.str());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "second,count,p50_us,p99_us,max_us");
  unsigned second = 0;
  unsigned long long count = 0;
  double p50 = 0;
  double p99 = 0;
  double max = 0;
  ASSERT_EQ(std::sscanf(lines[1].c_str(), "%u,%llu,%lf,%lf,%lf", &second, &count, &p50, &p99, &max),
            5);
  EXPECT_EQ(second, 0u);
  EXPECT_EQ(count, 2u);
  EXPECT_NEAR(p50, 10.0, 0.1);
  EXPECT_NEAR(p99, 20.0, 0.2);
  EXPECT_DOUBLE_EQ(max, 20.0);
  EXPECT_EQ(lines[2], "1,0,,,");
  EXPECT_EQ(lines[3], "2,1,40.000,40.000,40.000");
}

// An open-loop run of a second at 5000 requests/s against port 9000.
Config open_loop_config() {
  Config c;
  c.port = 9000;
  c.mode = Mode::open;
  c.rate = 5'000;
  c.duration = std::chrono::seconds(1);
  return c;
}

TEST(ClientReportTest, SummaryTableNamesTheLatenciesAndErrors) {
  const Config c = open_loop_config();
  std::ostringstream out;
  print_summary(out, c, sample_result());
  const std::string s = out.str();
  EXPECT_NE(s.find("latency (from intended send)"), std::string::npos);
  EXPECT_NE(s.find("service time (from actual send)"), std::string::npos);
  EXPECT_NE(s.find("schedule lag"), std::string::npos);
  EXPECT_NE(s.find("2 corrupted"), std::string::npos);
  EXPECT_NE(s.find("offered 5000"), std::string::npos);
  EXPECT_NE(s.find("below the offered rate"), std::string::npos);
}

TEST(ClientReportTest, UnansweredAndNotSentRequestsAreReported) {
  const Config c = open_loop_config();
  RunResult r = sample_result();
  r.sent = r.completed + 3;
  r.errors.lost = 3;
  r.not_sent = 40;
  const auto res = nlohmann::json::parse(result_json(c, r, {}).dump()).at("results");
  EXPECT_EQ(res.at("requests").at("unanswered"), 3);
  EXPECT_EQ(res.at("requests").at("not_sent"), 40);
  std::ostringstream out;
  print_summary(out, c, r);
  EXPECT_NE(out.str().find("3 without a reply, 40 not sent"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("40 scheduled request(s) were never sent"), std::string::npos);
}

// The counters' sum, total and JSON all come from kErrorCounters: each counter set to its own
// value comes out under its key, and the total leaves out what does not fail a run.
TEST(ClientReportTest, ErrorCountersSumTotalAndJsonFromOneTable) {
  ErrorCounts a;
  std::uint64_t value = 1;
  std::uint64_t failing = 0;
  for (const auto& c : kErrorCounters) {
    a.*c.member = value;
    if (c.fails_the_run) failing += value;
    value *= 10;
  }
  ErrorCounts sum;
  sum.add(a);
  sum.add(a);
  EXPECT_EQ(sum.total(), 2 * failing);
  EXPECT_EQ(a.abandoned, 1'000'000u);  // the one that does not fail a run
  EXPECT_EQ(a.total(), 111'111u);

  RunResult r;
  r.errors = sum;
  const auto errors = result_json(Config{}, r, nlohmann::json::object())["results"]["errors"];
  EXPECT_EQ(errors.size(), kErrorCounters.size());
  for (const auto& c : kErrorCounters) EXPECT_EQ(errors.at(c.key), 2 * (a.*c.member)) << c.key;
  EXPECT_EQ(errors.at("short"), 2 * a.short_echoes);
}

TEST(ClientReportTest, ErrorKindIsNamedInTheJsonAndNullWhenNone) {
  RunResult r;
  EXPECT_TRUE(result_json(Config{}, r, {})["results"]["error_kind"].is_null());
  r.error = "no echo within 1s";
  r.error_kind = ErrorKind::timeout;
  EXPECT_EQ(result_json(Config{}, r, {})["results"]["error_kind"], "timeout");
  EXPECT_EQ(r.exit_code(), 1);
  r.error_kind = ErrorKind::interrupted;
  EXPECT_EQ(result_json(Config{}, r, {})["results"]["status"], "interrupted");
  EXPECT_EQ(r.exit_code(), 130);
}

}  // namespace
}  // namespace convoy::client
