#include "convoy/server/session.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>

#include "convoy/message_header.hpp"
#include "sys_result.hpp"

namespace convoy::server {
namespace {

using SteadyClock = std::chrono::steady_clock;

using detail::finish;
using detail::SysResult;
using detail::would_block;

int poll_timeout_ms(std::chrono::nanoseconds timeout) noexcept {
  if (timeout.count() <= 0) return -1;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
  return ms > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                              : static_cast<int>(ms);
}

// The socket calls of CPython's socket module, on one connected socket, made by the emulated
// thread `t` under the configured release mode. Every wait happens inside a blocking region.
template <class Thread>
class SocketCalls {
 public:
  SocketCalls(Thread& t, int fd, const IoConfig& io)
      : t_(t),
        fd_(fd),
        io_(io),
        poll_ms_(poll_timeout_ms(io.idle_timeout)),
        c_work_(io.call_cost / 2) {}

  SysResult recv(char* buffer, std::size_t capacity) {
    const gilcore::CWork work(c_work_);
    return call(POLLIN, gilcore::Syscall::recv,
                [&](int flags) { return finish(::recv(fd_, buffer, capacity, flags)); });
  }

  // socket.sendall: one call per partial send. Returns the first failure, or the byte count.
  SysResult sendall(const char* data, std::size_t size) {
    const gilcore::CWork work(c_work_);
    SysResult r;
    std::size_t done = 0;
    while (done < size) {
      r = call(POLLOUT, gilcore::Syscall::send, [&](int flags) {
        return finish(::send(fd_, data + done, size - done, flags | MSG_NOSIGNAL));
      });
      if (r.value < 0) return r;
      done += static_cast<std::size_t>(r.value);
    }
    r.value = static_cast<long>(done);
    return r;
  }

 private:
  // One socket call; EINTR is retried, as CPython does since PEP 475. An idle timeout comes
  // back as ETIMEDOUT.
  template <class Op>
  SysResult call(short events, gilcore::Syscall name, Op op) {
    for (;;) {
      SysResult r = call_once(events, name, op);
      if (r.value < 0 && r.error == EINTR) continue;
      return r;
    }
  }

  template <class Op>
  SysResult call_once(short events, gilcore::Syscall name, Op op) {
    const bool when_blocking = io_.release == IoRelease::when_blocking;
    if (when_blocking) {
      // Holding the lock: done at once, unless it would block.
      SysResult r = op(MSG_DONTWAIT);
      if (!would_block(r)) return r;
    }
    if (!io_.timeout_socket) {
      // A blocking socket: one region around the call. SO_RCVTIMEO/SO_SNDTIMEO bound the wait.
      SysResult r = t_.allow_threads(name, [&] { return op(0); });
      if (would_block(r)) r.error = ETIMEDOUT;
      return r;
    }
    // A socket with a timeout (sock_call_ex): the readiness poll in one region, the call in
    // another, until the call does not report EAGAIN.
    for (;;) {
      const SysResult ready = t_.allow_threads(gilcore::Syscall::poll, [&] {
        pollfd p{fd_, events, 0};
        return finish(::poll(&p, 1, poll_ms_));
      });
      if (ready.value == 0) return {-1, ETIMEDOUT, ready.at};
      if (ready.value < 0) return ready;
      SysResult r = when_blocking ? op(MSG_DONTWAIT)
                                  : t_.allow_threads(name, [&] { return op(MSG_DONTWAIT); });
      if (!would_block(r)) return r;
    }
  }

  Thread& t_;
  int fd_;
  const IoConfig& io_;
  int poll_ms_;
  gilcore::CWork::Cost c_work_;
};

void close_because(SessionStats& stats, const SysResult& r, const std::atomic<bool>& stopping,
                   const char* call) {
  if (stopping.load(std::memory_order_relaxed)) {
    stats.reason = CloseReason::shutdown;
    stats.detail = "server shutting down";
    return;
  }
  if (r.value == 0) {
    stats.reason = CloseReason::eof;
    stats.detail = "peer closed the connection";
    return;
  }
  switch (r.error) {
    case ECONNRESET:
    case EPIPE: stats.reason = CloseReason::reset; break;
    case ETIMEDOUT:
      stats.reason = CloseReason::idle_timeout;
      stats.detail = std::string("idle timeout in ") + call;
      return;
    default: stats.reason = CloseReason::error; break;
  }
  stats.detail = std::string(call) + ": " + std::strerror(r.error);
}

timeval to_timeval(std::chrono::nanoseconds d) noexcept {
  const auto us = std::chrono::ceil<std::chrono::microseconds>(d).count();
  return {static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
}

}  // namespace

std::string_view to_string(CloseReason reason) noexcept {
  switch (reason) {
    case CloseReason::eof: return "eof";
    case CloseReason::reset: return "reset";
    case CloseReason::idle_timeout: return "idle_timeout";
    case CloseReason::shutdown: return "shutdown";
    case CloseReason::error: return "error";
  }
  return "?";
}

int prepare_socket(int fd, const IoConfig& io) noexcept {
  if (io.idle_timeout.count() <= 0) return 0;
  const timeval tv = to_timeval(io.idle_timeout);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) return errno;
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) return errno;
  return 0;
}

SessionStats run_session(gilcore::Interpreter& interpreter, int fd, const SessionSettings& settings,
                         const std::atomic<bool>& stopping, std::uint64_t connection) {
  SessionStats stats;
  // The most one recv reads, and all the memory a connection's data costs: a peer with more
  // pending (the server fell behind, or the peer pipelines) is simply read in several chunks.
  const std::size_t capacity = settings.max_message;
  const std::unique_ptr<char[]> buffer(new char[capacity]);

  interpreter.run(gilcore::Role::io, [&](auto& t) {
    SocketCalls calls(t, fd, settings.io);
    for (;;) {
      const SysResult got = calls.recv(buffer.get(), capacity);
      if (got.value <= 0) return close_because(stats, got, stopping, "recv");
      const auto size = static_cast<std::size_t>(got.value);
      std::uint64_t seq = 0;
      const bool tagged = t.tracing() && convoy::peek_sequence(buffer.get(), size, seq);
      if (tagged) t.note_message(false, seq, static_cast<std::uint32_t>(connection), got.tick);
      if (!t.bytecodes(settings.handler_bytecodes, stopping)) {
        stats.reason = CloseReason::shutdown;
        stats.detail = "server shutting down";
        return;
      }
      const SysResult sent = calls.sendall(buffer.get(), size);
      if (sent.value < 0) return close_because(stats, sent, stopping, "send");
      if (tagged) t.note_message(true, seq, static_cast<std::uint32_t>(connection), sent.tick);
      const auto elapsed = SteadyClock::now() - got.at;
      stats.handling_ns.record(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()));
      stats.messages += 1;
      stats.bytes += size;
    }
  });
  return stats;
}

}  // namespace convoy::server
