#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "convoy/server/session.hpp"

namespace convoy::server {
namespace {

using namespace std::chrono_literals;

// One session on one end of a socketpair, run on its own thread; the test is the peer.
class SessionRun {
 public:
  explicit SessionRun(IoConfig io, std::size_t max_message = 1 << 20,
                      gilcore::PolicyKind policy = gilcore::kind_of<gilcore::NoGil>(),
                      std::uint64_t handler_bytecodes = 20) {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_) != 0) {
      throw std::runtime_error("socketpair failed");
    }
    const timeval tv{10, 0};  // the test's end never waits forever
    ::setsockopt(peer(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(peer(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (prepare_socket(fds_[0], io) != 0) throw std::runtime_error("prepare_socket failed");
    gilcore::InterpreterConfig config;
    config.lock.policy = policy;
    interpreter_ = std::make_unique<gilcore::Interpreter>(config);
    settings_ = {io, max_message, handler_bytecodes};
    thread_ =
        std::thread([this] { stats_ = run_session(*interpreter_, fds_[0], settings_, stopping_); });
  }
  ~SessionRun() {
    if (thread_.joinable()) {
      ::shutdown(fds_[0], SHUT_RDWR);
      thread_.join();
    }
    ::close(fds_[0]);
    if (fds_[1] >= 0) ::close(fds_[1]);
  }

  int peer() const { return fds_[1]; }
  int server_end() const { return fds_[0]; }

  void send(const std::string& data) {
    ASSERT_EQ(::send(peer(), data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<long>(data.size()));
  }
  std::string recv_exact(std::size_t n) {
    std::string data(n, '\0');
    std::size_t got = 0;
    while (got < n) {
      const auto r = ::recv(peer(), data.data() + got, n - got, 0);
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    data.resize(got);
    return data;
  }
  /// Sends `n` small messages, each after a pause, so that every recv of the session waits.
  void ping_pong(int n) {
    for (int i = 0; i < n; ++i) {
      std::this_thread::sleep_for(1ms);
      send("ping");
      ASSERT_EQ(recv_exact(4), "ping");
    }
  }
  /// The peer closes; waits for the session to end.
  const SessionStats& close_and_finish() {
    ::close(fds_[1]);
    fds_[1] = -1;
    return finish();
  }
  /// Waits for the session to end by itself.
  const SessionStats& finish() {
    thread_.join();
    return stats_;
  }
  /// The server stops: `stopping` is set and the socket shut down.
  const SessionStats& shut_down() {
    stopping_.store(true);
    ::shutdown(fds_[0], SHUT_RDWR);
    return finish();
  }
  std::uint64_t io_acquisitions() const {
    return interpreter_->stats().of(gilcore::Role::io).counters.acquisitions;
  }

 private:
  int fds_[2] = {-1, -1};
  std::unique_ptr<gilcore::Interpreter> interpreter_;
  SessionSettings settings_;
  std::atomic<bool> stopping_{false};
  SessionStats stats_;
  std::thread thread_;
};

TEST(SessionTest, EchoesEveryByteAndCountsMessages) {
  SessionRun run(IoConfig{});
  std::size_t total = 0;
  for (const std::size_t size : {std::size_t{1}, std::size_t{100}, std::size_t{60000}}) {
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 7 + size);
    run.send(data);
    ASSERT_EQ(run.recv_exact(size), data);
    total += size;
  }
  const auto& stats = run.close_and_finish();
  EXPECT_EQ(stats.reason, CloseReason::eof);
  EXPECT_EQ(stats.bytes, total);
  EXPECT_GE(stats.messages, 3u);
  EXPECT_EQ(stats.handling_ns.count(), stats.messages);
}

// Acquisitions of the io thread over 30 messages and the peer's close: one on entry, then per
// message as the I/O mode dictates, then the final recv that sees the peer's close.
struct AcquisitionCase {
  const char* name;
  IoConfig io;
  std::uint64_t least, most;
};

void PrintTo(const AcquisitionCase& c, std::ostream* os) { *os << c.name; }

class SessionAcquisitionTest : public ::testing::TestWithParam<AcquisitionCase> {};

TEST_P(SessionAcquisitionTest, Over30Messages) {
  const AcquisitionCase& c = GetParam();
  SessionRun run(c.io);
  run.ping_pong(30);
  run.close_and_finish();
  EXPECT_GE(run.io_acquisitions(), c.least);
  EXPECT_LE(run.io_acquisitions(), c.most);
}

// With when-blocking, only a call that has to wait releases (recv, or the poll of a timeout
// socket): at most one a message. A recv whose message is already there (the client was quicker
// than this thread, as on a loaded machine) does not wait, so fewer is fine.
INSTANTIATE_TEST_SUITE_P(
    SessionTest, SessionAcquisitionTest,
    ::testing::Values(
        // recv and send each release and re-acquire: exactly two a message.
        AcquisitionCase{"AlwaysReleasesAroundRecvAndSend", IoConfig{IoRelease::always, false, 0s},
                        1 + 2 * 30 + 1, 1 + 2 * 30 + 1},
        AcquisitionCase{"WhenBlockingReleasesOnlyToWait",
                        IoConfig{IoRelease::when_blocking, false, 0s}, 1, 1 + 30 + 1},
        // poll + recv, poll + send per message; poll + recv for the close.
        AcquisitionCase{"TimeoutSocketReleasesTwicePerCall", IoConfig{IoRelease::always, true, 0s},
                        1 + 4 * 30 + 2, 1 + 4 * 30 + 2},
        AcquisitionCase{"TimeoutSocketWhenBlockingReleasesOnlyForThePoll",
                        IoConfig{IoRelease::when_blocking, true, 10s}, 1, 1 + 30 + 1}),
    [](const ::testing::TestParamInfo<AcquisitionCase>& param) { return param.param.name; });

TEST(SessionTest, MoreThanMaxMessagePendingIsReadInChunks) {
  // A peer that sends 56 bytes at once (or a server that fell behind) is served in chunks of
  // at most --max-message bytes, not disconnected.
  SessionRun run(IoConfig{}, 10);
  const std::string data = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST";
  run.send(data);
  ASSERT_EQ(run.recv_exact(data.size()), data);
  const auto& stats = run.close_and_finish();
  EXPECT_EQ(stats.reason, CloseReason::eof) << stats.detail;
  EXPECT_EQ(stats.bytes, data.size());
  EXPECT_GE(stats.messages, 6u);
}

TEST(SessionTest, IdlePeerTimesOut) {
  for (const bool timeout_socket : {false, true}) {
    for (const auto release : {IoRelease::always, IoRelease::when_blocking}) {
      SCOPED_TRACE(std::string(timeout_socket ? "timeout socket, " : "blocking socket, ") +
                   std::string(to_string(release)));
      SessionRun run(IoConfig{release, timeout_socket, 100ms});
      run.send("x");
      ASSERT_EQ(run.recv_exact(1), "x");
      const auto start = std::chrono::steady_clock::now();
      const auto& stats = run.finish();
      EXPECT_EQ(stats.reason, CloseReason::idle_timeout) << stats.detail;
      EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);
    }
  }
}

TEST(SessionTest, ShutdownWakesABlockedRecv) {
  for (const bool timeout_socket : {false, true}) {
    SessionRun run(IoConfig{IoRelease::always, timeout_socket, 0s});
    run.send("x");
    ASSERT_EQ(run.recv_exact(1), "x");
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(run.shut_down().reason, CloseReason::shutdown);
  }
}

TEST(SessionTest, PeerClosingMidMessageIsAnOrdinaryEnd) {
  SessionRun run(IoConfig{});
  run.send("half a mess");
  const auto& stats = run.close_and_finish();
  EXPECT_TRUE(stats.reason == CloseReason::eof || stats.reason == CloseReason::reset)
      << to_string(stats.reason);
}

TEST(SessionTest, PartialSendsEachGetTheirOwnRelease) {
  // A timeout socket sends without waiting, so sendall of a chunk larger than the send buffer
  // is several partial sends, each its own poll + send. The peer starts reading late.
  SessionRun run(IoConfig{IoRelease::always, true, 0s}, 8 << 20);
  const int small = 16 << 10;
  ASSERT_EQ(::setsockopt(run.server_end(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  const std::string big(1 << 20, 'z');
  std::thread reader([&] {
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(run.recv_exact(big.size()).size(), big.size());
  });
  run.send(big);
  reader.join();
  const auto& stats = run.close_and_finish();
  EXPECT_EQ(stats.bytes, big.size());
  // Without partial sends: 1 + 4 per message + 2 for the close.
  EXPECT_GT(run.io_acquisitions(), 1 + 4 * stats.messages + 2);
}

}  // namespace
}  // namespace convoy::server
