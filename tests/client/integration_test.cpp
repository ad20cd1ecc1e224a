#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "echo_server.hpp"
#include "process.hpp"

namespace convoy::client::testing {
namespace {

using convoy::testing::ProcessResult;
using convoy::testing::read_file;
using convoy::testing::run_process;
using convoy::testing::temp_path;

using std::chrono::milliseconds;
using Fault = TestEchoServer::Fault;

// Hard limit for every client run: a hang fails the test instead of blocking the suite.
constexpr milliseconds kHardTimeout{20'000};

ProcessResult client(std::vector<std::string> args, milliseconds timeout = kHardTimeout) {
  args.insert(args.begin(), CONVOY_CLIENT_PATH);
  return run_process(args, timeout);
}

std::string port_of(const TestEchoServer& s) { return std::to_string(s.port()); }

nlohmann::json load_json(const std::string& path) {
  const std::string text = std::filesystem::exists(path) ? read_file(path) : "";
  EXPECT_FALSE(text.empty()) << path << " was not written";
  std::filesystem::remove(path);
  return text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text);
}

void expect_no_errors(const nlohmann::json& results) {
  for (const auto& [name, count] : results.at("errors").items()) {
    EXPECT_EQ(count.get<std::uint64_t>(), 0u) << name;
  }
}

// A client run with --json to a temporary file: its outcome, and the file's "results".
struct JsonRun {
  ProcessResult r;
  nlohmann::json res;
};

// Runs the client with `args` and --json to a temporary file, expecting `exit_code` of it; fatal
// if the run hits the hard limit.
void run_with_json(std::vector<std::string> args, int exit_code, JsonRun& run) {
  const auto json = temp_path(".json");
  args.insert(args.end(), {"--json", json});
  run.r = client(std::move(args));
  ASSERT_FALSE(run.r.timed_out);
  EXPECT_EQ(run.r.exit_code, exit_code) << run.r.err;
  run.res = load_json(json).at("results");
}

TEST(ClientRunTest, ClosedModeCompletesWithZeroErrors) {
  TestEchoServer server;
  const auto json = temp_path(".json");
  const auto csv = temp_path(".csv");
  const auto hgrm = temp_path(".hgrm");
  const auto r = client({"-p", port_of(server), "-c", "2", "-d", "400ms", "-w", "100ms", "--json",
                         json, "--csv", csv, "--hgrm", hgrm});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("round trip"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("errors: none"), std::string::npos) << r.out;

  const auto j = load_json(json);
  const auto& res = j.at("results");
  EXPECT_EQ(res.at("status"), "ok");
  expect_no_errors(res);
  const auto completed = res.at("requests").at("completed").get<std::uint64_t>();
  EXPECT_GT(completed, 10u);
  EXPECT_EQ(res.at("latency").at("count").get<std::uint64_t>(), completed);
  EXPECT_GT(res.at("requests").at("warmup_completed").get<std::uint64_t>(), 0u);
  EXPECT_GT(res.at("latency").at("p50_us").get<double>(), 0.0);
  EXPECT_TRUE(j.at("context").contains("git_revision"));
  EXPECT_EQ(j.at("config").at("connections"), 2);
  EXPECT_EQ(server.accepted(), 2);

  const std::string csv_text = read_file(csv);
  EXPECT_EQ(csv_text.rfind("second,count,p50_us,p99_us,max_us\n0,", 0), 0u) << csv_text;
  const std::string hgrm_text = read_file(hgrm);
  EXPECT_NE(hgrm_text.find("Total count    = "), std::string::npos) << hgrm_text;
  std::filesystem::remove(csv);
  std::filesystem::remove(hgrm);
}

TEST(ClientRunTest, ClosedModeWithCountAndThinkSendsExactlyThatMany) {
  TestEchoServer server;
  JsonRun run;
  ASSERT_NO_FATAL_FAILURE(
      run_with_json({"-p", port_of(server), "-n", "150", "-w", "20", "--think", "500us"}, 0, run));
  const auto& [r, res] = run;
  expect_no_errors(res);
  EXPECT_EQ(res.at("requests").at("completed"), 150);
  EXPECT_EQ(res.at("requests").at("sent"), 150);
  EXPECT_EQ(res.at("requests").at("warmup_completed"), 20);
  // Each cycle includes a 500 us think, so 150 replies take at least 75 ms.
  EXPECT_GE(res.at("elapsed_s").get<double>(), 0.075);
}

TEST(ClientRunTest, OpenModeCompletesWithZeroErrorsAtTheOfferedRate) {
  TestEchoServer server;
  JsonRun run;
  ASSERT_NO_FATAL_FAILURE(run_with_json({"-p", port_of(server), "--mode", "open", "--rate", "2000",
                                         "-c", "4", "-t", "2", "-d", "500ms", "-w", "100ms"},
                                        0, run));
  const auto& [r, res] = run;
  EXPECT_NE(r.out.find("latency (from intended send)"), std::string::npos) << r.out;
  expect_no_errors(res);
  // Uniform arrivals: exactly rate * duration requests are scheduled in the measured window.
  EXPECT_NEAR(res.at("requests").at("completed").get<double>(), 1000, 3);
  // Generous: a stalled reply at the end of a short run stretches the measured time.
  EXPECT_NEAR(res.at("achieved_rate").get<double>(), 2000, 500);
  EXPECT_EQ(res.at("service_time").at("count"), res.at("latency").at("count"));
  EXPECT_GE(res.at("latency").at("p50_us").get<double>(),
            res.at("service_time").at("p50_us").get<double>() * 0.99);
  EXPECT_EQ(server.accepted(), 4);
}

TEST(ClientRunTest, OpenPoissonModeWithCountsCompletesExactly) {
  TestEchoServer server;
  JsonRun run;
  ASSERT_NO_FATAL_FAILURE(
      run_with_json({"-p", port_of(server), "--mode", "open", "--rate", "3000", "--arrival",
                     "poisson", "-c", "3", "-n", "600", "-w", "100"},
                    0, run));
  const auto& [r, res] = run;
  expect_no_errors(res);
  EXPECT_EQ(res.at("requests").at("completed"), 600);
  EXPECT_EQ(res.at("requests").at("warmup_completed"), 100);
  EXPECT_EQ(res.at("schedule_lag").at("count"), 600);
}

TEST(ClientRunTest, CorruptedEchoExitsOneAndStillWritesResults) {
  // Byte 1050 of the stream is byte 50 of the 11th 100-byte message (seq 10).
  TestEchoServer server(Fault::kCorruptByte, 1050);
  JsonRun run;
  ASSERT_NO_FATAL_FAILURE(run_with_json({"-p", port_of(server), "-d", "300ms"}, 1, run));
  const auto& [r, res] = run;
  EXPECT_NE(r.err.find("1 corrupted echo"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("seq 10, byte 50"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("1 corrupted"), std::string::npos) << r.out;
  EXPECT_EQ(res.at("status"), "error");
  EXPECT_EQ(res.at("errors").at("corrupted"), 1);
  EXPECT_GT(res.at("requests").at("completed").get<std::uint64_t>(), 10u);
}

TEST(ClientRunTest, ServerClosingMidRunExitsOneWithPartialResults) {
  // The server echoes 50 whole messages and half of the 51st, then closes.
  TestEchoServer server(Fault::kCloseMidRun, 5050);
  const auto csv = temp_path(".csv");
  JsonRun run;
  ASSERT_NO_FATAL_FAILURE(run_with_json({"-p", port_of(server), "-d", "5s", "--csv", csv}, 1, run));
  const auto& [r, res] = run;
  EXPECT_LT(r.seconds, 4.0);
  EXPECT_NE(r.err.find("server closed the connection"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("round trip"), std::string::npos) << r.out;
  EXPECT_EQ(res.at("status"), "error");
  EXPECT_EQ(res.at("error_kind"), "closed");
  EXPECT_EQ(res.at("requests").at("completed"), 50);
  EXPECT_EQ(res.at("errors").at("short"), 1);
  EXPECT_EQ(res.at("latency").at("count"), 50);
  EXPECT_NE(read_file(csv).find("\n0,50,"), std::string::npos);
  std::filesystem::remove(csv);
}

TEST(ClientRunTest, NeverAnsweringServerTimesOutAndExitsOne) {
  TestEchoServer server(Fault::kNeverAnswer);
  JsonRun run;
  ASSERT_NO_FATAL_FAILURE(
      run_with_json({"-p", port_of(server), "-d", "10s", "--timeout", "200ms"}, 1, run));
  const auto& [r, res] = run;
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_NE(r.err.find("no echo within 200ms"), std::string::npos) << r.err;
  EXPECT_EQ(res.at("error_kind"), "timeout");
  EXPECT_EQ(res.at("errors").at("timeouts"), 1);
  EXPECT_EQ(res.at("requests").at("completed"), 0);
}

TEST(ClientRunTest, NoServerExitsOneQuickly) {
  const auto r = client({"-p", std::to_string(unused_port()), "-d", "10s"});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_NE(r.err.find("cannot connect to 127.0.0.1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
}

TEST(ClientRunTest, UnansweredConnectTimesOut) {
  // A listener that never accepts, with its one-slot backlog already full: the kernel drops
  // further handshakes, so only --connect-timeout ends the attempt.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(fd);
  }
  const auto r = client({"-p", std::to_string(ntohs(addr.sin_port)), "-c", "4", "--connect-timeout",
                         "300ms", "-d", "1s"});
  for (const int fd : fillers) ::close(fd);
  ::close(listener);
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

TEST(ClientRunTest, InterruptEndsTheRunWithPartialResults) {
  TestEchoServer server;
  const auto json = temp_path(".json");
  const auto r = run_process(
      {CONVOY_CLIENT_PATH, "-p", port_of(server), "-d", "60s", "--think", "1ms", "--json", json},
      kHardTimeout, milliseconds(1500));
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_LT(r.seconds, 10.0);
  EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("round trip"), std::string::npos) << r.out;
  const auto res = load_json(json).at("results");
  EXPECT_EQ(res.at("status"), "interrupted");
  EXPECT_GT(res.at("requests").at("completed").get<std::uint64_t>(), 0u);
}

// Sanitizer builds run several times slower (and ASan keeps freed memory in quarantine).
using convoy::testing::kSanitized;
using convoy::testing::kSlowdown;

std::uint64_t count_of(const nlohmann::json& results, const char* group, const char* key) {
  return results.at(group).at(key).get<std::uint64_t>();
}

// Every measured request written is either answered or counted as one kind of failure.
void expect_every_sent_request_accounted(const nlohmann::json& res) {
  const auto& e = res.at("errors");
  std::uint64_t failed = 0;
  for (const auto* key : {"corrupted", "short", "timeouts", "lost", "abandoned"}) {
    failed += e.at(key).get<std::uint64_t>();
  }
  EXPECT_EQ(count_of(res, "requests", "sent"), count_of(res, "requests", "completed") + failed)
      << res.dump();
  EXPECT_EQ(count_of(res, "requests", "unanswered"),
            count_of(res, "requests", "sent") - count_of(res, "requests", "completed"));
}

TEST(ClientRunTest, OpenLoopFarBeyondTheServerStaysBoundedAndEndsOnTime) {
  // 2 million requests per second are far more than any echo server answers here: the client
  // must hold at most --max-in-flight per connection, count the rest as not sent, and stop
  // at the end of the measured time (plus the wait for the last replies).
  TestEchoServer server;
  const auto json = temp_path(".json");
  const auto r = client(
      {"-p", port_of(server), "--mode", "open", "--rate", "2000000", "-d", "1s", "--json", json});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.seconds, 3.0 * kSlowdown);
  if (!kSanitized) {
    EXPECT_LT(r.max_rss_kb, 100 * 1024) << "peak RSS in KiB";
  }
  const auto res = load_json(json).at("results");
  expect_no_errors(res);
  expect_every_sent_request_accounted(res);
  // Uniform arrivals: the schedule asked for exactly rate x duration measured requests.
  const auto scheduled = count_of(res, "requests", "sent") + count_of(res, "requests", "not_sent");
  EXPECT_NEAR(static_cast<double>(scheduled), 2'000'000, 2);
  EXPECT_GT(count_of(res, "requests", "not_sent"), 0u);
  EXPECT_NE(r.out.find("not sent"), std::string::npos) << r.out;
  EXPECT_NEAR(res.at("elapsed_s").get<double>(), 1.0, 1e-6);
}

TEST(ClientRunTest, OpenLoopNeverHasMoreThanMaxInFlightOutstanding) {
  TestEchoServer server(Fault::kNeverAnswer);
  JsonRun run;
  ASSERT_NO_FATAL_FAILURE(
      run_with_json({"-p", port_of(server), "--mode", "open", "--rate", "10000", "-d", "300ms",
                     "--max-in-flight", "5", "--timeout", "600ms"},
                    1, run));
  const auto& [r, res] = run;
  EXPECT_EQ(res.at("error_kind"), "timeout");
  EXPECT_EQ(count_of(res, "requests", "sent"), 5u);
  EXPECT_EQ(count_of(res, "errors", "timeouts"), 1u);
  EXPECT_EQ(count_of(res, "errors", "lost"), 4u);
  EXPECT_EQ(count_of(res, "requests", "sent") + count_of(res, "requests", "not_sent"), 3000u);
  expect_every_sent_request_accounted(res);
}

TEST(ClientRunTest, RejectsRatesThatCannotBeScheduled) {
  for (const auto* rate : {"nan", "inf", "-inf", "1e300", "1e-300", "0", "-1", "2e9", "fast"}) {
    SCOPED_TRACE(rate);
    const auto r =
        client({"-p", "1", "--mode", "open", "--rate", rate, "-d", "1s"}, milliseconds(10'000));
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("from 0.001 to 1e9"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(ClientRunTest, AWriteFailureCountsTheOutstandingRequestsAsLost) {
  // Large messages at a high rate: the server stops reading, so the client's writes back up in
  // the socket buffers, and the reset then fails a write in progress.
  TestEchoServer server(Fault::kResetUnread, 10 * 65536);
  JsonRun run;
  ASSERT_NO_FATAL_FAILURE(run_with_json({"-p", port_of(server), "--mode", "open", "--rate", "4000",
                                         "-s", "65536", "-d", "5s", "--timeout", "5s"},
                                        1, run));
  const auto& [r, res] = run;
  EXPECT_EQ(count_of(res, "requests", "completed"), 10u);
  EXPECT_GT(count_of(res, "requests", "sent"), 10u);
  EXPECT_GT(count_of(res, "errors", "lost"), 0u) << res.dump();
  expect_every_sent_request_accounted(res);
}

TEST(ClientRunTest, AchievedRateDividesByTheMeasuredTimeNotTheLastReply) {
  // 20 echoes, then the server answers nothing: the run ends by the reply timeout, about
  // 0.5 s after the stall began, with 20 replies. The rate is replies per measured second.
  TestEchoServer server(Fault::kStallAfter, 20 * 100);
  JsonRun run;
  ASSERT_NO_FATAL_FAILURE(run_with_json({"-p", port_of(server), "--mode", "open", "--rate", "1000",
                                         "-d", "10s", "--timeout", "500ms"},
                                        1, run));
  const auto& [r, res] = run;
  EXPECT_EQ(count_of(res, "requests", "completed"), 20u);
  const double elapsed = res.at("elapsed_s").get<double>();
  EXPECT_GE(elapsed, 0.5) << "the stall is part of the measured time";
  EXPECT_LT(elapsed, 10.0);
  EXPECT_NEAR(res.at("achieved_rate").get<double>(), 20 / elapsed, 1e-6);
  EXPECT_GT(count_of(res, "requests", "unanswered"), 0u);
  expect_every_sent_request_accounted(res);
  EXPECT_NE(r.out.find("without a reply"), std::string::npos) << r.out;
}

TEST(ClientRunTest, ResultFilesThatCannotBeWrittenAreRejectedBeforeTheRun) {
  TestEchoServer server;
  for (const auto* option : {"--json", "--csv", "--hgrm"}) {
    SCOPED_TRACE(option);
    const auto r = client({"-p", port_of(server), "-d", "300ms", option, "/dev/full"});
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("/dev/full"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_EQ(server.accepted(), 0) << "nothing was run";
}

TEST(ClientRunTest, ResultFilesAppearWholeAndAloneInTheirDirectory) {
  TestEchoServer server;
  const auto dir = std::filesystem::path(temp_path(".dir"));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "run.json") << "old"; }
  const auto r = client({"-p", port_of(server), "-d", "200ms", "--json",
                         (dir / "run.json").string(), "--csv", (dir / "run.csv").string()});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"run.csv", "run.json"}));
  EXPECT_EQ(load_json((dir / "run.json").string()).at("results").at("status"), "ok");
  std::filesystem::remove_all(dir);
}

TEST(ClientRunTest, HangupEndsTheRunLikeAnInterruptWithResultsWritten) {
  TestEchoServer server;
  const auto json = temp_path(".json");
  const auto r = run_process(
      {CONVOY_CLIENT_PATH, "-p", port_of(server), "-d", "60s", "--think", "1ms", "--json", json},
      kHardTimeout, milliseconds(1000), SIGHUP);
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.out.find("round trip"), std::string::npos) << r.out;
  const auto res = load_json(json).at("results");
  EXPECT_EQ(res.at("status"), "interrupted");
  EXPECT_GT(count_of(res, "requests", "completed"), 0u);
}

TEST(ClientRunTest, BadConfigFilesExitTwoQuicklyWithTheFileAndLine) {
  const auto malformed = temp_path(".toml");
  { std::ofstream(malformed) << "port = 5\nmode = \"open\nrate = 10\n"; }
  const auto huge = temp_path(".toml");
  { std::ofstream(huge) << "mode = \"" << std::string(10'000'000, 'x') << "\"\n"; }
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--config", "/dev/zero"}, "not a regular file"},
      {{"--config", malformed}, malformed + ":2: unterminated string"},
      {{"--config", huge}, "at most"},
      {{"--config", std::string(CONVOY_SOURCE_DIR) + "/configs/py3.toml", "-p", "1"}, "py3.toml:"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args[1]);
    const auto r = client(c.args, milliseconds(10'000));
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err.substr(0, 300);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err.substr(0, 300);
    EXPECT_LT(r.err.size(), 400u);
  }
  const auto server_config =
      client({"--config", std::string(CONVOY_SOURCE_DIR) + "/configs/py3.toml", "-p", "1"},
             milliseconds(10'000));
  EXPECT_NE(server_config.err.find("unknown key 'policy'"), std::string::npos) << server_config.err;
  std::filesystem::remove(malformed);
  std::filesystem::remove(huge);
}

TEST(ClientRunTest, BadFlagsExitTwoWithOneErrorLine) {
  const std::vector<std::vector<std::string>> cases = {
      {"-p", "1", "--mode", "bogus"},
      {"-p", "1", "--size", "8"},
      {"--mode", "closed"},
      {"-p", "1", "--rate", "100"},
      {"-p", "1", "--duration", "ten"},
      {"-p", "1", "--no-such-flag"},
      {"--config", "/nonexistent/client.toml"},
  };
  for (const auto& args : cases) {
    const auto r = client(args, milliseconds(10'000));
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_EQ(r.err.rfind("convoy-client: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(ClientRunTest, HelpVersionAndPrintConfigExitZero) {
  const auto help = client({"--help"}, milliseconds(10'000));
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--mode"), std::string::npos);
  const auto version = client({"--version"}, milliseconds(10'000));
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("convoy-client ", 0), 0u) << version.out;
  const auto print =
      client({"-p", "5", "--mode", "open", "--rate", "10", "--print-config"}, milliseconds(10'000));
  EXPECT_EQ(print.exit_code, 0) << print.err;
  EXPECT_NE(print.out.find("\nrate=10\n"), std::string::npos) << print.out;
}

}  // namespace
}  // namespace convoy::client::testing
