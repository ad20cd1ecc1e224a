// The event loop on socketpairs: one EventLoop run on its own thread, the test as every peer.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "convoy/server/event_loop.hpp"
#include "gilcore/fib.hpp"
#include "loopback_client.hpp"
#include "policy_support.hpp"
#include "sanitizer.hpp"

namespace convoy::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using convoy::testing::kSlowdown;

struct LoopOptions {
  IoRelease release = IoRelease::always;
  std::chrono::nanoseconds idle_timeout{0};
  std::size_t max_message = 1 << 20;
  std::uint64_t handler_bytecodes = 20;
  std::uint64_t loop_bytecodes = 100;
  gilcore::LockConfig lock = gilcore::LockConfig::for_policy<gilcore::NoGil>();
  int fib_threads = 0;
  std::optional<Clock::time_point> deadline = std::nullopt;
};

template <class Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!predicate()) {
    if (Clock::now() > deadline) return predicate();
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// `connections` socketpairs served by one loop; the test holds the peer ends.
class LoopRun {
 public:
  explicit LoopRun(LoopOptions options, int connections = 1) : options_(std::move(options)) {
    gilcore::InterpreterConfig config;
    config.lock = options_.lock;
    interpreter_ = std::make_unique<gilcore::Interpreter>(config);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
    EventLoopSettings settings;
    settings.session = {IoConfig{options_.release, false, options_.idle_timeout},
                        options_.max_message, options_.handler_bytecodes};
    settings.loop_bytecodes = options_.loop_bytecodes;
    if (options_.deadline) settings.deadline = *options_.deadline;
    loop_ = std::make_unique<EventLoop>(*interpreter_, settings, -1, wake_fd_, stop_);
    for (int i = 0; i < connections; ++i) {
      int fds[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        throw std::runtime_error("socketpair failed");
      }
      const timeval tv{10 * kSlowdown, 0};  // the test's end never waits forever
      ::setsockopt(fds[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fds[1], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      server_ends_.push_back(fds[0]);
      peers_.push_back(fds[1]);
      loop_->add_connection(fds[0], "pair-" + std::to_string(i));
    }
  }
  ~LoopRun() {
    if (thread_.joinable()) stop();
    for (const int fd : peers_) {
      if (fd >= 0) ::close(fd);
    }
    ::close(wake_fd_);
  }

  /// Starts the loop (and the fib threads) on threads of their own.
  void start() {
    for (int i = 0; i < options_.fib_threads; ++i) {
      fibs_.push_back(std::make_unique<gilcore::FibWorkload>(20, 10));
      fib_threads_.emplace_back([this, &fib = *fibs_.back()] {
        interpreter_->run(gilcore::Role::cpu, [&](auto& t) { fib.run(t, fib_stop_); });
      });
    }
    thread_ = std::thread([this] { stats_ = loop_->run(); });
  }
  /// Waits for the loop to return by itself.
  const EventLoopStats& finish() {
    thread_.join();
    stop_fibs();
    return stats_;
  }
  /// Asks the loop to stop, as the server's signal handler does, and waits for it.
  const EventLoopStats& stop() {
    stop_.store(true);
    const std::uint64_t one = 1;
    if (::write(wake_fd_, &one, sizeof one) != sizeof one) ADD_FAILURE() << "eventfd write";
    return finish();
  }

  int peer(int i) const { return peers_[static_cast<std::size_t>(i)]; }
  /// The loop's end of connection i; valid until the loop closes it.
  int server_end(int i) const { return server_ends_[static_cast<std::size_t>(i)]; }
  void close_peer(int i) {
    ::close(peers_[static_cast<std::size_t>(i)]);
    peers_[static_cast<std::size_t>(i)] = -1;
  }

  void send(int i, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const auto n = ::send(peer(i), data.data() + done, data.size() - done, MSG_NOSIGNAL);
      ASSERT_GT(n, 0) << "send: " << std::strerror(errno);
      done += static_cast<std::size_t>(n);
    }
  }
  std::string recv_exact(int i, std::size_t n) {
    std::string data(n, '\0');
    std::size_t got = 0;
    while (got < n) {
      const auto r = ::recv(peer(i), data.data() + got, n - got, 0);
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    data.resize(got);
    return data;
  }
  /// Sends and receives at the same time: a large echo would otherwise fill both buffers.
  std::string echo(int i, const std::string& data) {
    std::thread sender([&] { send(i, data); });
    std::string reply = recv_exact(i, data.size());
    sender.join();
    return reply;
  }
  /// `n` small messages, each after a pause, so that the loop waits in epoll_wait for each.
  void ping_pong(int i, int n) {
    for (int k = 0; k < n; ++k) {
      std::this_thread::sleep_for(1ms);
      send(i, "ping");
      ASSERT_EQ(recv_exact(i, 4), "ping");
    }
  }
  /// True if the loop closed connection i (EOF or reset) within `timeout`.
  bool closed_by_loop_within(int i, std::chrono::milliseconds timeout) {
    pollfd p{peer(i), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char byte;
    const auto n = ::recv(peer(i), &byte, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

  gilcore::Counters io_counters() const {
    return interpreter_->stats().of(gilcore::Role::io).counters;
  }
  std::uint64_t fib_calls() const {
    std::uint64_t calls = 0;
    for (const auto& f : fibs_) calls += f->calls();
    return calls;
  }

 private:
  void stop_fibs() {
    fib_stop_.store(true);
    for (auto& t : fib_threads_) t.join();
    fib_threads_.clear();
  }

  LoopOptions options_;
  std::unique_ptr<gilcore::Interpreter> interpreter_;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::unique_ptr<EventLoop> loop_;
  std::vector<int> server_ends_;
  std::vector<int> peers_;
  std::thread thread_;
  EventLoopStats stats_;
  std::vector<std::unique_ptr<gilcore::FibWorkload>> fibs_;
  std::vector<std::thread> fib_threads_;
  std::atomic<bool> fib_stop_{false};
};

// n bytes of a pattern that detects reordering and loss.
using convoy::testing::pattern;

// The io thread's acquisitions once the loop sits in epoll_wait: waits for `expected`, then
// checks that nothing more happens.
void expect_acquisitions_settle_at(const LoopRun& run, std::uint64_t expected) {
  EXPECT_TRUE(
      eventually([&] { return run.io_counters().acquisitions == expected; }, 5000ms * kSlowdown))
      << run.io_counters().acquisitions << " acquisitions, expected " << expected;
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(run.io_counters().acquisitions, expected);
}

TEST(EventLoopTest, EchoesEveryByteFromOneByteToOneMebibyte) {
  LoopRun run({});
  run.start();
  std::size_t total = 0;
  for (const std::size_t size :
       {std::size_t{1}, std::size_t{100}, std::size_t{64} << 10, std::size_t{1} << 20}) {
    const auto data = pattern(size, static_cast<unsigned>(size));
    const auto reply = run.echo(0, data);
    ASSERT_EQ(reply.size(), size);
    EXPECT_TRUE(reply == data) << "echo of " << size << " bytes differs";
    total += size;
  }
  const auto& stats = run.stop();
  EXPECT_EQ(stats.bytes, total);
  EXPECT_GE(stats.messages, 4u);
  EXPECT_EQ(stats.handling_ns.count(), stats.messages);
  EXPECT_EQ(stats.served, 1u);
}

// Acquisitions of the io thread: one on entry and one per epoll_ctl of the wake-up eventfd and
// the connection, then three per message: epoll_wait, recv, send.
TEST(EventLoopTest, AlwaysReleasesAroundEpollWaitRecvAndSend) {
  LoopRun run({});
  run.start();
  expect_acquisitions_settle_at(run, 3);
  run.ping_pong(0, 30);
  expect_acquisitions_settle_at(run, 3 + 3 * 30);
  const auto& stats = run.stop();
  EXPECT_EQ(stats.messages, 30u);
  // One turn per message, and one for the stop unless the loop saw it before waiting again.
  EXPECT_GE(stats.iterations, 30u);
  EXPECT_LE(stats.iterations, 30u + 1);
}

TEST(EventLoopTest, WhenBlockingReleasesOnlyToWaitInEpollWait) {
  LoopRun run({.release = IoRelease::when_blocking});
  run.start();
  expect_acquisitions_settle_at(run, 1);
  run.ping_pong(0, 30);
  std::this_thread::sleep_for(20ms);
  // Each message: at most the epoll_wait that had to wait (none if it came early).
  const auto acquisitions = run.io_counters().acquisitions;
  EXPECT_LE(acquisitions, 1u + 30);
  EXPECT_GE(acquisitions, 1u + 15);
  EXPECT_EQ(run.stop().messages, 30u);
}

TEST(EventLoopTest, ConnectionsReadyTogetherShareOneEpollWait) {
  constexpr int kConnections = 4;
  LoopRun run({}, kConnections);
  // Queued before the loop starts: its first epoll_wait returns all four.
  for (int i = 0; i < kConnections; ++i) run.send(i, "hello");
  run.start();
  for (int i = 0; i < kConnections; ++i) ASSERT_EQ(run.recv_exact(i, 5), "hello");
  // entry 1 + epoll_ctl 1 + 4, then one epoll_wait and recv + send for each connection.
  expect_acquisitions_settle_at(run, 1 + 1 + kConnections + 1 + 2 * kConnections);
  const auto& stats = run.stop();
  EXPECT_EQ(stats.messages, 4u);
  EXPECT_GE(stats.events, 4u);  // four connections in the first turn, then the wake-up
  EXPECT_LE(stats.iterations, 2u);
}

// py2's ticker counts the bytecodes its holder executes: one periodic release per 101 check
// points (the ticker runs from 100 down past 0), so 10100 bytecodes make exactly 100.
TEST(EventLoopTest, LoopAndHandlerBytecodesAreSpentHoldingTheLock) {
  auto py2 = gilcore::LockConfig::for_policy<gilcore::Py2Gil>();
  py2.of<gilcore::Py2Gil>().check_interval = 100;
  {
    LoopRun run({.handler_bytecodes = 0, .loop_bytecodes = 10100, .lock = py2});
    run.start();
    run.ping_pong(0, 10);
    const auto& stats = run.stop();
    // Every turn spends its bytecodes, but the one the stop interrupts may spend fewer.
    const auto releases = run.io_counters().periodic_releases;
    EXPECT_LE(releases, 100 * stats.iterations);
    EXPECT_GE(releases, 100 * (stats.iterations - 1));
  }
  {
    LoopRun run({.handler_bytecodes = 10100, .loop_bytecodes = 0, .lock = py2});
    run.start();
    run.ping_pong(0, 10);
    const auto& stats = run.stop();
    EXPECT_EQ(stats.messages, 10u);
    EXPECT_EQ(run.io_counters().periodic_releases, 100 * stats.messages);
  }
}

TEST(EventLoopTest, PartialWritesAreFinishedWhenTheSocketIsWritable) {
  LoopRun run({});
  const int small = 16 << 10;
  ASSERT_EQ(::setsockopt(run.server_end(0), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  run.start();
  const auto big = pattern(1 << 20, 7);
  std::string reply;
  std::thread reader([&] {
    std::this_thread::sleep_for(50ms);  // the loop's sends fill up first
    reply = run.recv_exact(0, big.size());
  });
  run.send(0, big);
  reader.join();
  EXPECT_TRUE(reply == big) << "echo differs (" << reply.size() << " bytes)";
  const auto& stats = run.stop();
  EXPECT_EQ(stats.bytes, big.size());
  // Each message that went out at once costs 3; the partial ones cost their extra sends and
  // the epoll_ctl that switches the connection to EPOLLOUT and back.
  EXPECT_GT(run.io_counters().acquisitions, 2 + 3 * stats.messages + 2);
}

TEST(EventLoopTest, APeerThatNeverReadsDoesNotStallTheOthers) {
  LoopRun run({}, 2);
  run.start();
  // Connection 0 sends and never reads: its echo backs up into the loop's buffer and its
  // socket, and then the peer cannot send any more.
  std::size_t sent = 0;
  const auto chunk = pattern(64 << 10, 3);
  for (;;) {
    pollfd p{run.peer(0), POLLOUT, 0};
    if (::poll(&p, 1, 200) <= 0) break;
    const auto n = ::send(run.peer(0), chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  EXPECT_GT(sent, 0u);
  run.ping_pong(1, 20);
  const auto& stats = run.stop();
  EXPECT_GE(stats.messages, 20u);
  EXPECT_EQ(stats.closed[static_cast<std::size_t>(CloseReason::shutdown)], 2u);
}

TEST(EventLoopTest, MoreThanMaxMessagePendingIsReadInChunksOfIt) {
  LoopRun run({.max_message = 10}, 2);
  run.start();
  run.send(0, "0123456789");
  ASSERT_EQ(run.recv_exact(0, 10), "0123456789");
  run.send(0, std::string(50, 'x'));
  EXPECT_EQ(run.recv_exact(0, 50), std::string(50, 'x'));
  run.ping_pong(1, 3);
  const auto& stats = run.stop();
  EXPECT_GE(stats.messages, 1u + 5u + 3u) << "50 bytes in reads of at most 10";
  EXPECT_EQ(stats.closed[static_cast<std::size_t>(CloseReason::shutdown)], 2u);
}

TEST(EventLoopTest, IdleConnectionsAreClosedAndBusyOnesKept) {
  for (const auto release : {IoRelease::always, IoRelease::when_blocking}) {
    SCOPED_TRACE(std::string(to_string(release)));
    const auto created = Clock::now();
    LoopRun run({.release = release, .idle_timeout = 250ms}, 2);
    run.start();
    bool closed_early = false;
    while (Clock::now() - created < 600ms) {
      run.ping_pong(1, 1);
      if (Clock::now() - created < 150ms && run.closed_by_loop_within(0, 0ms)) closed_early = true;
    }
    EXPECT_FALSE(closed_early);
    EXPECT_TRUE(run.closed_by_loop_within(0, 5000ms * kSlowdown));
    run.ping_pong(1, 1);
    const auto& stats = run.stop();
    EXPECT_EQ(stats.closed[static_cast<std::size_t>(CloseReason::idle_timeout)], 1u);
    EXPECT_EQ(stats.closed[static_cast<std::size_t>(CloseReason::shutdown)], 1u);
  }
}

TEST(EventLoopTest, PeerClosingMidMessageIsAnOrdinaryEnd) {
  LoopRun run({}, 2);
  run.start();
  run.send(0, "half a mess");
  run.close_peer(0);
  run.ping_pong(1, 3);
  const auto& stats = run.stop();
  EXPECT_EQ(stats.closed[static_cast<std::size_t>(CloseReason::eof)] +
                stats.closed[static_cast<std::size_t>(CloseReason::reset)],
            1u);
}

TEST(EventLoopTest, StopClosesEveryConnectionAtOnce) {
  LoopRun run({}, 3);
  run.start();
  run.ping_pong(2, 1);
  const auto asked = Clock::now();
  const auto& stats = run.stop();
  EXPECT_LT(Clock::now() - asked, 1000ms * kSlowdown);
  EXPECT_FALSE(stats.stopped_by_duration);
  EXPECT_EQ(stats.closed[static_cast<std::size_t>(CloseReason::shutdown)], 3u);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(run.closed_by_loop_within(i, 1000ms)) << i;
}

TEST(EventLoopTest, ReturnsByItselfAtTheDeadline) {
  const auto deadline = Clock::now() + 100ms;
  LoopRun run({.deadline = deadline});
  run.start();
  const auto& stats = run.finish();
  EXPECT_TRUE(stats.stopped_by_duration);
  EXPECT_GE(Clock::now(), deadline);
}

// Every policy on gilcore's list serves the loop with a fib thread competing for the lock.
TEST(EventLoopTest, EveryPolicyEchoesWithAFibThreadCompeting) {
  const auto kinds = gilcore::testing::every_policy_kind();
  ASSERT_GE(kinds.size(), 3u);
  for (const auto kind : kinds) {
    SCOPED_TRACE(std::string(gilcore::to_string(kind)));
    LoopOptions options;
    // Short intervals, so that a lock whose holder yields every 100 ms (ruby) or every few
    // hundred ms of fib work (pypy) serves the test's round trips quickly too.
    options.lock = gilcore::Policies::with_index(static_cast<std::size_t>(kind), [](auto tag) {
      return gilcore::testing::quick_lock<typename decltype(tag)::type>();
    });
    options.fib_threads = 1;
    LoopRun run(options);
    run.start();
    run.ping_pong(0, 10);
    ASSERT_EQ(run.echo(0, pattern(256 << 10, 5)), pattern(256 << 10, 5));
    const auto& stats = run.stop();
    EXPECT_GE(stats.messages, 11u);
    EXPECT_GT(run.fib_calls(), 0u);
    EXPECT_GE(run.io_counters().acquisitions, 3 + 3 * 10u);
  }
}

}  // namespace
}  // namespace convoy::server
