#include "server_harness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <gtest/gtest.h>

extern char** environ;

namespace convoy::server::testing {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

struct Spawned {
  pid_t pid;
  int stdout_fd;
};

// posix_spawn with stdout on a pipe and stderr into `stderr_path`; stdin from /dev/null.
Spawned spawn_server(const std::vector<std::string>& args, const std::string& stderr_path) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) fail("pipe2");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  std::vector<std::string> argv_strings{server_binary()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    errno = rc;
    fail("posix_spawn " + argv_strings[0]);
  }
  return {pid, out[0]};
}

// Reads what is available on `fd` until EOF or `deadline`.
std::string read_until_eof(int fd, Clock::time_point deadline) {
  std::string text;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc <= 0) return text;
    const auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return text;
    text.append(buf, static_cast<std::size_t>(n));
  }
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::atomic<int> g_scratch_counter{0};

}  // namespace

std::string server_binary() { return CONVOY_SERVER_BINARY; }

std::string scratch_path(std::string_view name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string base = ::testing::TempDir() + "convoy-" + std::to_string(::getpid()) + "-";
  if (info != nullptr) base += std::string(info->name()) + "-";
  return base + std::to_string(g_scratch_counter.fetch_add(1)) + "-" + std::string(name);
}

ServerProcess::ServerProcess(const std::vector<std::string>& args,
                             std::chrono::milliseconds ready_timeout)
    : stderr_path_(scratch_path("stderr.txt")) {
  const auto spawned = spawn_server(args, stderr_path_);
  pid_ = spawned.pid;
  stdout_fd_ = spawned.stdout_fd;
  const auto deadline = Clock::now() + ready_timeout;
  std::string text;
  char buf[256];
  while (text.find('\n') == std::string::npos) {
    pollfd p{stdout_fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    const auto n = rc > 0 ? ::read(stdout_fd_, buf, sizeof buf) : 0;
    if (n <= 0) {
      abandon();
      throw std::runtime_error(std::string("convoy-server ") +
                               (rc == 0 ? "printed no ready line in time" : "exited before ready") +
                               "; stdout: '" + text + "'; stderr: " + stderr_text());
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  const auto eol = text.find('\n');
  ready_line_ = text.substr(0, eol);
  pending_stdout_ = text.substr(eol + 1);
  const auto colon = ready_line_.rfind(':');
  if (ready_line_.rfind("listening ", 0) != 0 || colon == std::string::npos) {
    abandon();
    throw std::runtime_error("unexpected ready line: '" + ready_line_ + "'");
  }
  port_ = static_cast<std::uint16_t>(std::stoi(ready_line_.substr(colon + 1)));
}

ServerProcess::~ServerProcess() {
  abandon();
  ::unlink(stderr_path_.c_str());
}

void ServerProcess::abandon() noexcept {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdout_fd_ = -1;
}

void ServerProcess::signal(int sig) const {
  if (!reaped_) ::kill(pid_, sig);
}

std::optional<int> ServerProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t rc = ::waitpid(pid_, &status, WNOHANG);
    if (rc == pid_) {
      reaped_ = true;
      return exit_code_of(status);
    }
    if (rc < 0) fail("waitpid");
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(1ms);
  }
}

std::string ServerProcess::rest_of_stdout() {
  pending_stdout_ += read_until_eof(stdout_fd_, Clock::now() + 5s);
  return std::exchange(pending_stdout_, {});
}

std::string ServerProcess::stderr_text() const {
  std::ifstream in(stderr_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Completed run_server_to_completion(const std::vector<std::string>& args,
                                   std::chrono::milliseconds timeout) {
  const auto stderr_path = scratch_path("stderr.txt");
  const auto spawned = spawn_server(args, stderr_path);
  const auto deadline = Clock::now() + timeout;
  Completed result;
  result.out = read_until_eof(spawned.stdout_fd, deadline);
  ::close(spawned.stdout_fd);
  for (;;) {
    int status = 0;
    const pid_t rc = ::waitpid(spawned.pid, &status, WNOHANG);
    if (rc == spawned.pid) {
      result.exit_code = exit_code_of(status);
      break;
    }
    if (Clock::now() >= deadline) {
      ::kill(spawned.pid, SIGKILL);
      ::waitpid(spawned.pid, &status, 0);
      result.exit_code = -1;
      break;
    }
    std::this_thread::sleep_for(1ms);
  }
  result.err = read_file(stderr_path);
  ::unlink(stderr_path.c_str());
  return result;
}

Client::Client(std::uint16_t port, std::chrono::milliseconds io_timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) fail("socket");
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(io_timeout).count();
  const timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int error = errno;
    ::close(fd_);
    errno = error;
    fail("connect to port " + std::to_string(port));
  }
}

Client::~Client() { close(); }

Client::Client(Client&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

void Client::send_all(std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("send");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string Client::recv_exact(std::size_t n) {
  std::string data(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const auto r = ::recv(fd_, data.data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      throw std::runtime_error("recv: connection closed after " + std::to_string(got) + " of " +
                               std::to_string(n) + " bytes");
    }
    if (r < 0) fail("recv after " + std::to_string(got) + " of " + std::to_string(n) + " bytes");
    got += static_cast<std::size_t>(r);
  }
  return data;
}

std::string Client::echo(std::string_view data) {
  std::exception_ptr send_failure;
  std::thread sender([&] {
    try {
      send_all(data);
    } catch (...) {
      send_failure = std::current_exception();
    }
  });
  std::string reply;
  std::exception_ptr recv_failure;
  try {
    reply = recv_exact(data.size());
  } catch (...) {
    recv_failure = std::current_exception();
  }
  sender.join();
  if (send_failure) std::rethrow_exception(send_failure);
  if (recv_failure) std::rethrow_exception(recv_failure);
  return reply;
}

bool Client::closed_by_peer_within(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  const int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (rc <= 0) return false;
  char byte;
  const auto n = ::recv(fd_, &byte, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

void Client::reset() {
  if (fd_ < 0) return;
  const linger hard{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  close();
}

void Client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string pattern(std::size_t n, std::uint32_t seed) {
  std::string data(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : data) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return data;
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

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace convoy::server::testing
