#include "echo_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

namespace convoy::client::testing {
namespace {

int bind_loopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port = ntohs(addr.sin_port);
  return fd;
}

bool send_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

TestEchoServer::TestEchoServer(Fault fault, std::size_t fault_at)
    : fault_(fault), fault_at_(fault_at) {
  listen_fd_ = bind_loopback(port_);
  if (::listen(listen_fd_, 64) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error(std::string("listen: ") + std::strerror(errno));
  }
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestEchoServer::~TestEchoServer() {
  stop_ = true;
  acceptor_.join();
  std::vector<std::thread> sessions;
  {
    std::lock_guard lock(mu_);
    for (const int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // wakes sessions blocked in recv
    sessions.swap(sessions_);
  }
  for (auto& t : sessions) t.join();
  for (const int fd : fds_) ::close(fd);
  ::close(listen_fd_);
}

void TestEchoServer::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const bool faulty = accepted_.fetch_add(1) == 0 && fault_ != Fault::kNone;
    std::lock_guard lock(mu_);
    fds_.push_back(fd);
    sessions_.emplace_back([this, fd, faulty] { serve(fd, faulty); });
  }
}

void TestEchoServer::serve(int fd, bool faulty) {
  std::vector<char> buf(64 * 1024);
  std::size_t offset = 0;  // bytes of this connection's stream seen so far
  while (true) {
    const ssize_t r = ::recv(fd, buf.data(), buf.size(), 0);
    if (r <= 0) return;
    auto n = static_cast<std::size_t>(r);
    if (faulty) {
      switch (fault_) {
        case Fault::kNeverAnswer: offset += n; continue;
        case Fault::kCorruptByte:
          if (offset <= fault_at_ && fault_at_ < offset + n) buf[fault_at_ - offset] ^= 0x5a;
          break;
        case Fault::kCloseMidRun:
          if (offset + n >= fault_at_) {
            send_all(fd, buf.data(), fault_at_ - offset);
            ::shutdown(fd, SHUT_RDWR);
            return;
          }
          break;
        case Fault::kStallAfter:
          if (offset + n >= fault_at_) {
            if (offset < fault_at_) send_all(fd, buf.data(), fault_at_ - offset);
            offset += n;
            continue;
          }
          break;
        case Fault::kResetUnread:
          if (offset + n >= fault_at_) {
            send_all(fd, buf.data(), fault_at_ - offset);
            // The client's writes pile up in both socket buffers; then they meet a reset.
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            const linger hard{1, 0};
            ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
            std::lock_guard lock(mu_);
            fds_.erase(std::find(fds_.begin(), fds_.end(), fd));
            ::close(fd);  // with unread data and SO_LINGER 0: a reset
            return;
          }
          break;
        case Fault::kNone: break;
      }
    }
    offset += n;
    if (!send_all(fd, buf.data(), n)) return;
  }
}

std::uint16_t unused_port() {
  std::uint16_t port = 0;
  ::close(bind_loopback(port));
  return port;
}

}  // namespace convoy::client::testing
