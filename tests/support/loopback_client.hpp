#pragma once
// A blocking TCP client on the loopback interface, for tests that talk to an echo server.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

#include "process.hpp"

namespace convoy::testing {

using namespace std::chrono_literals;

/// A blocking loopback TCP client with TCP_NODELAY and send/receive timeouts.
class LoopbackClient {
 public:
  /// Connects to 127.0.0.1:`port`; throws std::runtime_error on failure.
  explicit LoopbackClient(std::uint16_t port,
                          std::chrono::milliseconds io_timeout = 10s * kSlowdown);
  ~LoopbackClient();
  LoopbackClient(LoopbackClient&& other) noexcept;
  LoopbackClient& operator=(LoopbackClient&&) = delete;
  LoopbackClient(const LoopbackClient&) = delete;

  int fd() const noexcept { return fd_; }
  /// Sends all of `data`; throws on error or timeout.
  void send_all(std::string_view data);
  /// Receives exactly `n` bytes; throws on error, timeout or EOF before `n` bytes.
  std::string recv_exact(std::size_t n);
  /// Sends `data` and returns its echo, sending and receiving concurrently (large messages
  /// would otherwise fill both socket buffers and deadlock).
  std::string echo(std::string_view data);
  /// True if the peer closed the connection (EOF or reset) within `timeout`; false if it is
  /// still open (no data either).
  bool closed_by_peer_within(std::chrono::milliseconds timeout);
  /// Closes with SO_LINGER 0: the peer sees a reset.
  void reset();
  void close();

 private:
  int fd_ = -1;
};

/// n bytes of a pattern that detects reordering and loss.
std::string pattern(std::size_t n, std::uint32_t seed = 1);

/// Polls `predicate` until it holds or `timeout` passes; returns its last value.
template <class Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > deadline) return predicate();
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

}  // namespace convoy::testing
