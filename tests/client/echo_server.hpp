#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace convoy::client::testing {

/// A small blocking echo server on 127.0.0.1 (port 0, so tests never collide), one thread per
/// connection, with the faults the client must detect. The fault hits the first connection only,
/// once, when its stream reaches `fault_at` bytes.
class TestEchoServer {
 public:
  enum class Fault {
    kNone,
    kCorruptByte,  ///< flips the byte at stream offset fault_at
    kCloseMidRun,  ///< echoes fault_at bytes, then closes the connection
    kNeverAnswer,  ///< reads everything, answers nothing
    kStallAfter,   ///< echoes fault_at bytes, then reads everything and answers nothing
    kResetUnread,  ///< echoes fault_at bytes, stops reading for 300 ms, then resets (RST)
  };

  explicit TestEchoServer(Fault fault = Fault::kNone, std::size_t fault_at = 0);
  ~TestEchoServer();
  TestEchoServer(const TestEchoServer&) = delete;
  TestEchoServer& operator=(const TestEchoServer&) = delete;

  std::uint16_t port() const { return port_; }
  /// Connections accepted so far.
  int accepted() const { return accepted_.load(); }

 private:
  void accept_loop();
  void serve(int fd, bool faulty);

  Fault fault_;
  std::size_t fault_at_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> sessions_;
};

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
std::uint16_t unused_port();

}  // namespace convoy::client::testing
