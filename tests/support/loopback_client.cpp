#include "loopback_client.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <utility>

namespace convoy::testing {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

LoopbackClient::LoopbackClient(std::uint16_t port, std::chrono::milliseconds io_timeout) {
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

LoopbackClient::~LoopbackClient() { close(); }

LoopbackClient::LoopbackClient(LoopbackClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

void LoopbackClient::send_all(std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("send");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string LoopbackClient::recv_exact(std::size_t n) {
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

std::string LoopbackClient::echo(std::string_view data) {
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

bool LoopbackClient::closed_by_peer_within(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  const int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (rc <= 0) return false;
  char byte;
  const auto n = ::recv(fd_, &byte, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

void LoopbackClient::reset() {
  if (fd_ < 0) return;
  const linger hard{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  close();
}

void LoopbackClient::close() {
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

}  // namespace convoy::testing
