#include "server_harness.hpp"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>

#include <gtest/gtest.h>

namespace convoy::server::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::atomic<int> g_scratch_counter{0};

}  // namespace

std::string server_binary() { return CONVOY_SERVER_BINARY; }

std::string scratch_path(std::string_view name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string base = ::testing::TempDir() + "convoy-" + std::to_string(::getpid()) + "-";
  if (info != nullptr) {
    std::string test = info->name();  // a parameterised test's name has a '/' in it
    std::replace(test.begin(), test.end(), '/', '-');
    base += test + "-";
  }
  return base + std::to_string(g_scratch_counter.fetch_add(1)) + "-" + std::string(name);
}

namespace {

std::vector<std::string> server_command(const std::vector<std::string>& args) {
  std::vector<std::string> command{server_binary()};
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

}  // namespace

ServerProcess::ServerProcess(const std::vector<std::string>& args,
                             std::chrono::milliseconds ready_timeout)
    : process_(server_command(args)) {
  const auto line = process_.read_line(ready_timeout);
  if (!line) {
    const std::string what =
        process_.stdout_closed() ? "exited before ready" : "printed no ready line in time";
    process_.abandon();
    throw std::runtime_error("convoy-server " + what + "; stdout: '" +
                             process_.rest_of_stdout(0ms) + "'; stderr: " + stderr_text());
  }
  ready_line_ = *line;
  const auto colon = ready_line_.rfind(':');
  if (ready_line_.rfind("listening ", 0) != 0 || colon == std::string::npos) {
    process_.abandon();
    throw std::runtime_error("unexpected ready line: '" + ready_line_ + "'");
  }
  port_ = static_cast<std::uint16_t>(std::stoi(ready_line_.substr(colon + 1)));
}

ServerProcess::~ServerProcess() = default;

void ServerProcess::signal(int sig) const { process_.signal(sig); }

std::optional<int> ServerProcess::wait(std::chrono::milliseconds timeout) {
  return process_.wait(timeout);
}

std::string ServerProcess::rest_of_stdout() { return process_.rest_of_stdout(5s); }

std::string ServerProcess::stderr_text() const { return process_.stderr_text(); }

Completed run_server_to_completion(const std::vector<std::string>& args,
                                   std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  convoy::testing::ChildProcess process(server_command(args));
  Completed result;
  result.out = process.rest_of_stdout(timeout);
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  result.exit_code = process.wait(std::max(left, 0ms)).value_or(-1);
  result.err = process.stderr_text();
  return result;
}

int count_entries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) ++n;
  }
  ::closedir(d);
  return n;
}

int count_sockets(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(d)) {
    char target[64] = {};
    const std::string link = dir + "/" + e->d_name;
    const ssize_t len = ::readlink(link.c_str(), target, sizeof target - 1);
    if (len > 0 && std::strncmp(target, "socket:", 7) == 0) ++n;
  }
  ::closedir(d);
  return n;
}

nlohmann::json stop_and_read_stats(ServerProcess& server, const std::string& stats_path,
                                   std::chrono::milliseconds within) {
  server.signal(SIGTERM);
  const auto code = server.wait(within);
  EXPECT_TRUE(code.has_value()) << "still running after SIGTERM";
  EXPECT_EQ(code.value_or(-1), 0) << server.stderr_text();
  return nlohmann::json::parse(read_file(stats_path));
}

std::size_t fill_without_reading(Client& client) {
  const auto chunk = pattern(64 << 10);
  std::size_t sent = 0;
  for (;;) {
    pollfd p{client.fd(), POLLOUT, 0};
    if (::poll(&p, 1, 200) <= 0) return sent;
    const auto n = ::send(client.fd(), chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return sent;
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
}

std::uint64_t io_acquisitions(const nlohmann::json& stats) {
  return stats["lock"]["stats"]["roles"]["io"]["counters"]["acquisitions"].get<std::uint64_t>();
}

std::uint64_t closed(const nlohmann::json& stats, const char* reason) {
  return stats["connections"]["closed"][reason].get<std::uint64_t>();
}

void echo_on_every_connection_at_once(std::uint16_t port, int connections,
                                      std::vector<Client>& clients) {
  clients.reserve(clients.size() + static_cast<std::size_t>(connections));
  for (int i = 0; i < connections; ++i) clients.emplace_back(port);
  for (std::size_t i = 0; i < clients.size(); ++i) {
    clients[i].send_all(pattern(100, static_cast<std::uint32_t>(i)));
  }
  for (std::size_t i = 0; i < clients.size(); ++i) {
    ASSERT_EQ(clients[i].recv_exact(100), pattern(100, static_cast<std::uint32_t>(i))) << i;
  }
}

void expect_served_all_at_once(const nlohmann::json& stats, int connections) {
  EXPECT_EQ(stats["connections"]["served"], connections);
  EXPECT_EQ(stats["connections"]["peak_active"], connections);
  EXPECT_EQ(stats["connections"]["refused"], 0);
  EXPECT_EQ(closed(stats, "shutdown"), static_cast<std::uint64_t>(connections));
  EXPECT_EQ(stats["messages"]["count"], connections);
  EXPECT_EQ(stats["messages"]["bytes"], connections * 100);
}

void expect_usage_error(const Completed& result) {
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(result.out, "");  // no ready line: nothing started
  EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << "more than one line: " << result.err;
  EXPECT_EQ(result.err.rfind("convoy-server: error: ", 0), 0u) << result.err;
}

double io_acquisitions_per_message(const std::vector<std::string>& args, int messages) {
  const auto stats_path = scratch_path("stats.json");
  std::vector<std::string> command{"--cpu-threads", "0", "--stats", stats_path};
  command.insert(command.end(), args.begin(), args.end());
  ServerProcess server(command);
  {
    Client client(server.port());
    for (int i = 0; i < messages; ++i) {
      EXPECT_EQ(client.echo("message"), "message");
      std::this_thread::sleep_for(2ms);
    }
  }
  std::this_thread::sleep_for(50ms);
  const auto stats = stop_and_read_stats(server, stats_path);
  EXPECT_EQ(stats["messages"]["count"], messages);
  return static_cast<double>(io_acquisitions(stats)) / messages;
}

}  // namespace convoy::server::testing
