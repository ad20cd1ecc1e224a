#include "convoy/server/event_loop.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <system_error>
#include <type_traits>
#include <utility>

#include <spdlog/spdlog.h>

#include "accept.hpp"
#include "convoy/message_header.hpp"
#include "sys_result.hpp"

namespace convoy::server {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::uint64_t kListenerToken = 0;
constexpr std::uint64_t kWakeToken = 1;
constexpr std::uint64_t kFirstConnectionToken = 2;

// asyncio's _accept_connection accepts at most `backlog` (100) connections per readiness event.
constexpr int kAcceptsPerEvent = 100;
// A connection's buffer for an unsent echo is given back once drained if it grew beyond this.
constexpr std::size_t kKeptPendingCapacity = 64 << 10;

using detail::accept_failure;
using detail::AcceptFailure;
using detail::finish;
using detail::kAcceptPause;
using detail::peer_name;
using detail::SysResult;
using detail::would_block;

CloseReason reason_for(int error) noexcept {
  return error == ECONNRESET || error == EPIPE ? CloseReason::reset : CloseReason::error;
}

// epoll_wait's timeout for a wake-up at `at`: -1 for never, else whole milliseconds rounded up,
// so that the loop never wakes before a deadline.
int timeout_ms(SteadyClock::time_point now, SteadyClock::time_point at) noexcept {
  if (at == SteadyClock::time_point::max()) return -1;
  if (at <= now) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(at - now).count();
  return ms > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                              : static_cast<int>(ms);
}

}  // namespace

struct EventLoop::Connection {
  std::uint64_t id = 0;  // also its epoll token
  int fd = -1;
  std::string peer;
  std::vector<char> pending;   // the unsent rest of the message being echoed
  std::size_t pending_at = 0;  // bytes of `pending` already sent
  std::size_t pending_size = 0;
  SteadyClock::time_point received_at{};  // when the recv of that message returned
  bool tagged = false;    // that message has the client's sequence number (timeline) ...
  std::uint64_t seq = 0;  // ... this one
  SteadyClock::time_point last_progress{};
  std::list<Connection*>::iterator idle_pos{};
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;

  bool writing() const noexcept { return pending_at < pending.size(); }
};

// One run of the loop on the emulated thread `t`. Everything here runs holding the lock except
// the syscalls made through call() and wait().
template <class Thread>
class EventLoop::Loop {
 public:
  Loop(EventLoop& owner, Thread& t)
      : o_(owner),
        t_(t),
        when_blocking_(owner.settings_.session.io.release == IoRelease::when_blocking),
        idle_(owner.settings_.session.io.idle_timeout),
        c_work_(owner.settings_.session.io.call_cost / 2),
        // The most one recv reads: more pending is read in several turns, as asyncio does
        // with its max_size of a read.
        capacity_(owner.settings_.session.max_message),
        buffer_(new char[capacity_]) {}

  void serve() {
    if (o_.wake_fd_ >= 0) must_register(o_.wake_fd_, kWakeToken, "the wake-up eventfd");
    if (o_.listen_fd_ >= 0) must_register(o_.listen_fd_, kListenerToken, "the listening socket");
    for (Connection* c : std::exchange(o_.adopted_, {})) start_reading(*c);
    for (;;) {
      if (o_.stop_.load(std::memory_order_relaxed)) return;
      const auto now = SteadyClock::now();
      if (now >= o_.settings_.deadline) {
        o_.stats_.stopped_by_duration = true;
        return;
      }
      const int ready = wait(timeout_ms(now, next_timer()));
      ++o_.stats_.iterations;
      if (!t_.bytecodes(o_.settings_.loop_bytecodes, o_.stop_)) return;
      for (int i = 0; i < ready; ++i) dispatch(events_[static_cast<std::size_t>(i)]);
      expire(SteadyClock::now());
    }
  }

 private:
  // A socket call in the configured release mode: its own blocking region, or (when-blocking)
  // made holding the lock, which is safe since every socket here is non-blocking.
  template <class F>
  SysResult call(gilcore::Syscall name, F f) {
    if (when_blocking_) return f();
    return t_.allow_threads(name, f);
  }
  // A recv or send: its C work around the call (--socket-call-ns), the call itself retried on
  // EINTR, each try its own call, as CPython does since PEP 475.
  template <class F>
  SysResult retrying(gilcore::Syscall name, F f) {
    const gilcore::CWork work(c_work_);
    for (;;) {
      const SysResult r = call(name, f);
      if (r.value >= 0 || r.error != EINTR) return r;
    }
  }

  // select.epoll.poll: asyncio asks for as many events as there are registered descriptors.
  int wait(int timeout) {
    events_.resize(std::max<std::size_t>(registered_, 1));
    const int capacity = static_cast<int>(events_.size());
    auto poll = [&](int ms) {
      return finish(::epoll_wait(o_.epoll_fd_, events_.data(), capacity, ms));
    };
    SysResult r;
    if (when_blocking_) {
      r = poll(0);
      if (r.value == 0 && timeout != 0) {
        r = t_.allow_threads(gilcore::Syscall::epoll_wait, [&] { return poll(timeout); });
      }
    } else {
      r = t_.allow_threads(gilcore::Syscall::epoll_wait, [&] { return poll(timeout); });
    }
    if (r.value >= 0) return static_cast<int>(r.value);
    if (r.error == EINTR) return 0;
    throw std::system_error(r.error, std::generic_category(), "epoll_wait");
  }

  SysResult ctl(int op, int fd, std::uint32_t events, std::uint64_t token) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    const SysResult r = call(gilcore::Syscall::epoll_ctl,
                             [&] { return finish(::epoll_ctl(o_.epoll_fd_, op, fd, &ev)); });
    if (r.value == 0 && op == EPOLL_CTL_ADD) ++registered_;
    if (r.value == 0 && op == EPOLL_CTL_DEL) --registered_;
    return r;
  }

  void must_register(int fd, std::uint64_t token, const char* what) {
    const SysResult r = ctl(EPOLL_CTL_ADD, fd, EPOLLIN, token);
    if (r.value < 0) {
      throw std::system_error(r.error, std::generic_category(),
                              std::string("epoll_ctl on ") + what);
    }
  }

  void dispatch(const epoll_event& ev) {
    ++o_.stats_.events;
    const auto token = ev.data.u64;
    if (token == kWakeToken) {
      std::uint64_t count = 0;
      if (::read(o_.wake_fd_, &count, sizeof count) < 0) {
        // EAGAIN: drained already; the stop flag is what counts.
      }
      return;
    }
    if (token == kListenerToken) return accept_ready();
    const auto it = o_.connections_.find(token);
    if (it == o_.connections_.end()) return;  // ended earlier in this turn
    Connection& c = *it->second;
    if (c.writing()) {
      if ((ev.events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) flush(c);
    } else if ((ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
      read(c);
    }
  }

  // asyncio's _accept_connection: accept until the backlog is empty, at most 100 per event.
  void accept_ready() {
    for (int i = 0; i < kAcceptsPerEvent; ++i) {
      sockaddr_storage peer{};
      socklen_t peer_len = sizeof peer;
      const SysResult r = call(gilcore::Syscall::accept, [&] {
        return finish(
            ::accept4(o_.listen_fd_, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC));
      });
      if (r.value < 0) {
        // Out of descriptors or memory: the listener is left out of the epoll set for a while.
        switch (accept_failure(r.error)) {
          case AcceptFailure::transient: return;
          case AcceptFailure::pause: return pause_accepting(r.error);
          case AcceptFailure::fatal:
            throw std::system_error(r.error, std::generic_category(), "accept");
        }
      }
      start(static_cast<int>(r.value), peer_name(peer));
    }
  }

  void pause_accepting(int error) {
    spdlog::warn("accept: {}; pausing new connections for {}ms", std::strerror(error),
                 kAcceptPause.count());
    if (ctl(EPOLL_CTL_DEL, o_.listen_fd_, 0, kListenerToken).value == 0) {
      listener_resumes_at_ = SteadyClock::now() + kAcceptPause;
    }
  }

  void start(int fd, std::string peer) {
    ++o_.stats_.accepted;
    if (o_.connections_.size() >= o_.settings_.max_connections) {
      ++o_.stats_.refused;
      call(gilcore::Syscall::close, [&] { return finish(::close(fd)); });
      spdlog::debug("connection from {} refused: {} connections open (--max-connections)", peer,
                    o_.settings_.max_connections);
      return;
    }
    // sock.setblocking(False): CPython makes its ioctl in a blocking region too.
    int on = 1;
    const SysResult nonblocking =
        call(gilcore::Syscall::ioctl, [&] { return finish(::ioctl(fd, FIONBIO, &on)); });
    int error = nonblocking.value < 0 ? nonblocking.error : 0;
    const int one = 1;
    if (error == 0 && ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
      error = errno;
    }
    if (error != 0) {
      ++o_.stats_.refused;
      call(gilcore::Syscall::close, [&] { return finish(::close(fd)); });
      spdlog::debug("connection from {} dropped: cannot set socket options: {}", peer,
                    std::strerror(error));
      return;
    }
    start_reading(o_.new_connection(fd, std::move(peer)));
  }

  void start_reading(Connection& c) {
    const SysResult r = ctl(EPOLL_CTL_ADD, c.fd, EPOLLIN, c.id);
    if (r.value < 0)
      return end(c, CloseReason::error, std::string("epoll_ctl: ") + std::strerror(r.error));
    spdlog::debug("connection {} from {} opened", c.id, c.peer);
  }

  // _read_ready -> recv -> data_received -> transport.write -> send.
  void read(Connection& c) {
    const SysResult got = retrying(
        gilcore::Syscall::recv, [&] { return finish(::recv(c.fd, buffer_.get(), capacity_, 0)); });
    if (got.value < 0) {
      if (would_block(got)) return;
      return end(c, reason_for(got.error), std::string("recv: ") + std::strerror(got.error));
    }
    if (got.value == 0) return end(c, CloseReason::eof, "peer closed the connection");
    const auto size = static_cast<std::size_t>(got.value);
    progress(c, got.at);
    c.tagged = t_.tracing() && convoy::peek_sequence(buffer_.get(), size, c.seq);
    if (c.tagged) t_.note_message(false, c.seq, static_cast<std::uint32_t>(c.id), got.tick);
    // Stopping: the loop ends at its next turn and shutdown closes the connection.
    if (!t_.bytecodes(o_.settings_.session.handler_bytecodes, o_.stop_)) return;
    const SysResult sent = retrying(gilcore::Syscall::send, [&] {
      return finish(::send(c.fd, buffer_.get(), size, MSG_NOSIGNAL));
    });
    if (sent.value < 0 && !would_block(sent)) {
      return end(c, reason_for(sent.error), std::string("send: ") + std::strerror(sent.error));
    }
    const auto done = sent.value > 0 ? static_cast<std::size_t>(sent.value) : 0;
    if (done == size) return echoed(c, size, got.at, sent);
    if (done > 0) progress(c, sent.at);
    // The rest waits for EPOLLOUT (asyncio's _add_writer); the connection is not read meanwhile.
    c.pending.assign(buffer_.get() + done, buffer_.get() + size);
    c.pending_at = 0;
    c.pending_size = size;
    c.received_at = got.at;
    const SysResult r = ctl(EPOLL_CTL_MOD, c.fd, EPOLLOUT, c.id);
    if (r.value < 0)
      end(c, CloseReason::error, std::string("epoll_ctl: ") + std::strerror(r.error));
  }

  // _write_ready: send what is left; once it is out, read again (asyncio's _remove_writer).
  void flush(Connection& c) {
    const SysResult sent = retrying(gilcore::Syscall::send, [&] {
      return finish(::send(c.fd, c.pending.data() + c.pending_at, c.pending.size() - c.pending_at,
                           MSG_NOSIGNAL));
    });
    if (sent.value < 0) {
      if (would_block(sent)) return;
      return end(c, reason_for(sent.error), std::string("send: ") + std::strerror(sent.error));
    }
    c.pending_at += static_cast<std::size_t>(sent.value);
    progress(c, sent.at);
    if (c.writing()) return;
    const SysResult r = ctl(EPOLL_CTL_MOD, c.fd, EPOLLIN, c.id);
    if (r.value < 0) {
      return end(c, CloseReason::error, std::string("epoll_ctl: ") + std::strerror(r.error));
    }
    c.pending.clear();
    if (c.pending.capacity() > kKeptPendingCapacity) std::vector<char>().swap(c.pending);
    c.pending_at = 0;
    echoed(c, c.pending_size, c.received_at, sent);
  }

  void echoed(Connection& c, std::size_t size, SteadyClock::time_point received,
              const SysResult& last_send) {
    const auto sent = last_send.at;
    if (c.tagged) t_.note_message(true, c.seq, static_cast<std::uint32_t>(c.id), last_send.tick);
    progress(c, sent);
    c.messages += 1;
    c.bytes += size;
    o_.stats_.messages += 1;
    o_.stats_.bytes += size;
    o_.stats_.handling_ns.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(sent - received).count()));
  }

  void progress(Connection& c, SteadyClock::time_point at) {
    c.last_progress = at;
    if (idle_.count() > 0) o_.idle_order_.splice(o_.idle_order_.end(), o_.idle_order_, c.idle_pos);
  }

  // transport.close(): unregister (asyncio's _remove_reader/_remove_writer), then sock.close().
  void end(Connection& c, CloseReason reason, const std::string& detail) {
    ctl(EPOLL_CTL_DEL, c.fd, 0, c.id);
    call(gilcore::Syscall::close, [&] { return finish(::close(c.fd)); });
    o_.stats_.closed[static_cast<std::size_t>(reason)] += 1;
    spdlog::debug("connection {} from {} closed: {} ({}); {} messages, {} bytes", c.id, c.peer,
                  to_string(reason), detail, c.messages, c.bytes);
    if (idle_.count() > 0) o_.idle_order_.erase(c.idle_pos);
    o_.connections_.erase(c.id);
  }

  // Timers that are due: idle connections, and a paused listener.
  void expire(SteadyClock::time_point now) {
    if (idle_.count() > 0) {
      while (!o_.idle_order_.empty() && o_.idle_order_.front()->last_progress + idle_ <= now) {
        end(*o_.idle_order_.front(), CloseReason::idle_timeout, "idle timeout (--idle-timeout)");
      }
    }
    if (listener_resumes_at_ <= now) {
      listener_resumes_at_ = SteadyClock::time_point::max();
      must_register(o_.listen_fd_, kListenerToken, "the listening socket");
    }
  }

  SteadyClock::time_point next_timer() const {
    auto at = std::min(o_.settings_.deadline, listener_resumes_at_);
    if (idle_.count() > 0 && !o_.idle_order_.empty()) {
      at = std::min(at, o_.idle_order_.front()->last_progress + idle_);
    }
    return at;
  }

  EventLoop& o_;
  Thread& t_;
  const bool when_blocking_;
  const std::chrono::nanoseconds idle_;
  const gilcore::CWork::Cost c_work_;  // of each socket.recv / socket.send
  const std::size_t capacity_;
  const std::unique_ptr<char[]> buffer_;  // one recv buffer: one thread reads
  std::vector<epoll_event> events_;
  std::size_t registered_ = 0;  // descriptors in the epoll set
  SteadyClock::time_point listener_resumes_at_ = SteadyClock::time_point::max();
};

EventLoop::EventLoop(gilcore::Interpreter& interpreter, EventLoopSettings settings, int listen_fd,
                     int wake_fd, const std::atomic<bool>& stop)
    : interpreter_(interpreter),
      settings_(std::move(settings)),
      listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      stop_(stop),
      next_id_(kFirstConnectionToken) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

EventLoop::~EventLoop() {
  close_all_outside();
  ::close(epoll_fd_);
}

EventLoop::Connection& EventLoop::new_connection(int fd, std::string peer) {
  auto owned = std::make_unique<Connection>();
  Connection& c = *owned;
  c.id = next_id_++;
  c.fd = fd;
  c.peer = std::move(peer);
  c.last_progress = SteadyClock::now();
  if (settings_.session.io.idle_timeout.count() > 0) {
    c.idle_pos = idle_order_.insert(idle_order_.end(), &c);
  }
  connections_.emplace(c.id, std::move(owned));
  ++stats_.served;
  stats_.peak_active = std::max<std::uint64_t>(stats_.peak_active, connections_.size());
  return c;
}

void EventLoop::add_connection(int fd, std::string peer) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::generic_category(), "fcntl O_NONBLOCK");
  }
  adopted_.push_back(&new_connection(fd, std::move(peer)));
}

EventLoopStats EventLoop::run() {
  try {
    interpreter_.run(gilcore::Role::io, [this](auto& t) {
      Loop<std::remove_reference_t<decltype(t)>> loop(*this, t);
      loop.serve();
    });
  } catch (...) {
    close_all_outside();
    throw;
  }
  close_all_outside();
  return stats_;
}

void EventLoop::close_all_outside() {
  for (const auto& [id, c] : connections_) {
    ::close(c->fd);
    stats_.closed[static_cast<std::size_t>(CloseReason::shutdown)] += 1;
    spdlog::debug(
        "connection {} from {} closed: shutdown (server shutting down); {} messages, {} "
        "bytes",
        id, c->peer, c->messages, c->bytes);
  }
  connections_.clear();
  idle_order_.clear();
  adopted_.clear();
}

}  // namespace convoy::server
