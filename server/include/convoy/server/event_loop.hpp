#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "convoy/histogram.hpp"
#include "convoy/server/session.hpp"
#include "gilcore/interpreter.hpp"

namespace convoy::server {

/// What the event loop needs to know.
struct EventLoopSettings {
  /// Release mode, idle timeout, the largest chunk one recv may return, handler bytecodes.
  SessionSettings session;
  std::uint64_t loop_bytecodes = 120;  ///< Python work of one loop iteration
  std::size_t max_connections = 1024;  ///< beyond this, new connections are closed at once
  /// The loop returns by itself at this time (stopped_by_duration); max() = never.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

/// What the event loop did; complete once run() returned.
struct EventLoopStats {
  std::uint64_t accepted = 0;  ///< connections accept returned
  std::uint64_t served = 0;    ///< ... that were served (adopted ones included)
  std::uint64_t refused = 0;   ///< ... that were closed at once (max connections, socket options)
  std::uint64_t peak_active = 0;
  std::uint64_t messages = 0;  ///< recv chunks echoed completely
  std::uint64_t bytes = 0;     ///< bytes echoed
  std::uint64_t closed[kCloseReasonCount] = {};
  /// Per message: from its recv returning to the send that finished its echo.
  convoy::Histogram handling_ns;
  std::uint64_t iterations = 0;  ///< returns from epoll_wait: the loop's turns
  std::uint64_t events = 0;      ///< readiness events handled
  bool stopped_by_duration = false;
};

/// Notes about the implementation
///
/// The I/O model of asyncio's selector event loop (Lib/asyncio/base_events.py `_run_once`,
/// Lib/asyncio/selector_events.py) with a Protocol that echoes in data_received: one emulated `io`
/// thread, one epoll set holding the listening socket, a wake-up eventfd and every connection.
/// One turn of the loop: epoll_wait, `loop_bytecodes` of Python work, then for each ready socket
/// its callback — accept, or recv -> `handler_bytecodes` -> send.
///
/// Every syscall CPython makes there in its own blocking region is made in one here (under
/// `--io-release always`): epoll_wait (select.epoll.poll), epoll_ctl (register, modify,
/// unregister), accept, the ioctl of setblocking(False), recv, send and close — also when the
/// socket is non-blocking and the call cannot wait, as Modules/socketmodule.c and
/// Modules/selectmodule.c do. With `when-blocking` each call is made holding the lock and only a
/// wait in epoll_wait lets go. setsockopt(TCP_NODELAY) and the clock are read holding the lock,
/// as CPython does. One echoed message thus costs three re-acquisitions when one connection is
/// ready per turn (epoll_wait, recv, send), and two plus a share of the epoll_wait when several
/// are ready at once.
///
/// Echo semantics are those of the threads model: a send that does not take everything leaves
/// the rest in the connection's buffer, and the connection waits for EPOLLOUT instead of EPOLLIN
/// until it is out (asyncio's transport buffers it and a protocol that honours pause_writing()
/// stops reading, which keeps memory bounded); other connections are served meanwhile. A recv that
/// returns more than max_message bytes, no progress for the idle timeout, an error or EOF ends
/// that connection only. Idle deadlines are kept in a list ordered by last progress, so the next
/// one is at its front and the loop's epoll_wait timeout is the earliest of it, the deadline and
/// a paused listener's resumption.
///
/// Stopping: whoever sets `stop` writes the wake-up eventfd; the loop notices on its next turn
/// and leaves the interpreter, and only then are the connections still open closed (outside the
/// emulation, as a shutdown that costs no lock re-acquisitions).
class EventLoop {
 public:
  /// `listen_fd`: a non-blocking listening socket, or -1 for none. `wake_fd`: an eventfd that is
  /// written after `stop` is set (-1 for none). Neither is owned. Throws std::system_error when
  /// the epoll set cannot be made.
  EventLoop(gilcore::Interpreter& interpreter, EventLoopSettings settings, int listen_fd,
            int wake_fd, const std::atomic<bool>& stop);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Serves an already connected socket, which the loop then owns (asyncio's
  /// connect_accepted_socket). Before run(), from the thread that will call it.
  void add_connection(int fd, std::string peer);

  /// Runs the loop on the calling thread as an emulated `io` thread of the interpreter until
  /// `stop` is set or the deadline passes; then closes every connection still open (reason
  /// shutdown). Blocks; call once. Throws std::system_error when epoll or accept fails in a way
  /// that is not a single connection's problem.
  EventLoopStats run();

 private:
  struct Connection;
  template <class Thread>
  class Loop;

  Connection& new_connection(int fd, std::string peer);
  void close_all_outside();

  gilcore::Interpreter& interpreter_;
  EventLoopSettings settings_;
  int listen_fd_;
  int wake_fd_;
  const std::atomic<bool>& stop_;
  int epoll_fd_ = -1;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::list<Connection*> idle_order_;  // least recent progress first; with an idle timeout only
  std::vector<Connection*> adopted_;   // added before run(), registered by it
  EventLoopStats stats_;
};

}  // namespace convoy::server
