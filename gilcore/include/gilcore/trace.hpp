#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gilcore/stats.hpp"

namespace gilcore {

/// The call a blocking region wraps, as the timeline names it.
enum class Syscall : std::uint8_t {
  other,  ///< a region that did not say (tests, benchmarks)
  recv,
  send,
  poll,
  accept,
  epoll_wait,
  epoll_ctl,
  ioctl,
  close,
  sleep,
};
/// "recv", "send", ..., "other".
std::string_view to_string(Syscall call) noexcept;

/// Why a hold ended, as the timeline shows it: Release with its voluntary case split in two.
enum class TraceRelease : std::uint8_t { blocking, periodic, forced, exit };
/// "blocking", "periodic", "forced", "exit".
std::string_view to_string(TraceRelease why) noexcept;

/// What one trace record says.
enum class TraceKind : std::uint8_t {
  wait,          ///< [begin, at]: wanted the lock from begin and got it at `at`
  hold,          ///< [begin, at]: held the lock; detail is the TraceRelease
  syscall,       ///< [begin, at]: the call inside a blocking region; detail is the Syscall
  drop_request,  ///< at: asked the holder to drop
  handoff,       ///< at: handed the lock to the thread whose id is `peer`
  received,      ///< at: message `value` (the client's sequence number) of connection `peer` read
  echoed,        ///< at: ... its echo sent completely
};

/// One record, in Clock ticks; instants have begin == at. Trivial, so that a ring's memory is
/// only touched (made resident) as it fills.
struct TraceRecord {
  std::uint64_t at;
  std::uint64_t value;  ///< the begin tick of an interval; a message's sequence number
  std::uint32_t peer;   ///< a thread id (handoff) or a connection id (messages)
  TraceKind kind;
  std::uint8_t detail;
};

/// When records are kept, in Clock ticks: an interval is kept if it meets [begin, end], an
/// instant if it lies in it. Empty (nothing kept) until open(). Any thread reads it.
class TraceWindow {
 public:
  static constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
  /// Any thread; usually once, when the run starts.
  void open(std::uint64_t begin, std::uint64_t end) noexcept {
    end_.store(end, std::memory_order_relaxed);
    begin_.store(begin, std::memory_order_relaxed);
  }
  /// Ends the window at `at` if it was still open then.
  void close(std::uint64_t at) noexcept {
    if (at < end_.load(std::memory_order_relaxed)) end_.store(at, std::memory_order_relaxed);
  }
  bool meets(std::uint64_t begin, std::uint64_t at) const noexcept {
    return at >= begin_.load(std::memory_order_relaxed) &&
           begin <= end_.load(std::memory_order_relaxed);
  }
  std::uint64_t begin() const noexcept { return begin_.load(std::memory_order_relaxed); }
  std::uint64_t end() const noexcept { return end_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> begin_{kNever};
  std::atomic<std::uint64_t> end_{kNever};
};

/// Notes about the implementation
///
/// A fixed array of records written by one thread only, with neither lock nor allocation: a
/// record is a store and an index increment. Full, it overwrites its oldest record, so it keeps
/// the most recent `capacity` ones and counts the rest as dropped. Records outside the window are
/// not written at all. Read by another thread only once the writer has left (events()).
class TraceRing {
 public:
  TraceRing(std::size_t capacity, const TraceWindow& window);
  TraceRing(const TraceRing&) = delete;
  TraceRing& operator=(const TraceRing&) = delete;

  /// The owning thread only.
  void record(TraceKind kind, std::uint64_t begin, std::uint64_t at, std::uint64_t value = 0,
              std::uint32_t peer = 0, std::uint8_t detail = 0) noexcept {
    if (!window_.meets(begin, at)) return;
    TraceRecord& r = records_[next_];
    r.at = at;
    r.value = kind <= TraceKind::syscall ? begin : value;
    r.peer = peer;
    r.kind = kind;
    r.detail = detail;
    if (++next_ == capacity_) next_ = 0;
    ++written_;
  }

  std::size_t capacity() const noexcept { return capacity_; }
  /// Records written so far, kept or overwritten.
  std::uint64_t written() const noexcept { return written_; }
  /// Records overwritten by later ones.
  std::uint64_t dropped() const noexcept { return written_ > capacity_ ? written_ - capacity_ : 0; }
  /// The kept records, oldest first. Once the writer is done.
  std::vector<TraceRecord> records() const;

 private:
  const TraceWindow& window_;
  const std::size_t capacity_;
  std::unique_ptr<TraceRecord[]> records_;
  std::size_t next_ = 0;
  std::uint64_t written_ = 0;
};

/// One record in nanoseconds from the trace's origin, clipped to its window.
struct TraceEvent {
  TraceKind kind = TraceKind::wait;
  std::uint8_t detail = 0;
  std::int64_t begin_ns = 0;  ///< == end_ns for instants
  std::int64_t end_ns = 0;
  std::uint64_t value = 0;  ///< a message's sequence number
  std::uint32_t peer = 0;   ///< a thread id (handoff) or a connection id (messages)
};

/// One thread's part of a trace.
struct ThreadTrace {
  Role role = Role::main;
  std::uint32_t id = 0;            ///< the ThreadState id
  std::uint32_t ordinal = 0;       ///< 1 for the first thread of its role, 2 for the next...
  std::vector<TraceEvent> events;  ///< in the order they were recorded
  std::uint64_t dropped = 0;       ///< records lost to the ring's overflow
};

/// A whole trace: every traced thread that recorded something, times relative to the origin.
struct Trace {
  std::int64_t window_begin_ns = 0;
  std::int64_t window_end_ns = 0;
  std::vector<ThreadTrace> threads;  ///< in the order the threads entered the interpreter
  std::uint64_t dropped() const noexcept;
};

/// Notes about the implementation
///
/// The rings of an interpreter's threads: one given to each thread as it enters (attach), kept
/// after it leaves, read by collect(). Off (capacity 0), attach gives nothing and the threads
/// record nothing. The window is read by every ring; start() opens it relative to an origin, the
/// moment the trace's times count from.
class Tracer {
 public:
  /// `capacity`: records per thread; 0 = tracing off.
  explicit Tracer(std::size_t capacity = 0) : capacity_(capacity) {}
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  bool enabled() const noexcept { return capacity_ != 0; }
  std::size_t capacity() const noexcept { return capacity_; }

  /// Times count from `origin` (a Clock tick); records are kept from origin + after for `span`
  /// (0 = until stop()). Any thread, once.
  void start(std::uint64_t origin, std::chrono::nanoseconds after, std::chrono::nanoseconds span);
  /// Closes the window at `at` (a Clock tick) if it is still open.
  void stop(std::uint64_t at) noexcept { window_.close(at); }
  const TraceWindow& window() const noexcept { return window_; }

  /// A ring for a thread entering the interpreter, or nullptr when off. Thread entry only.
  TraceRing* attach(Role role, std::uint32_t id);
  /// The thread of `ring` left: its records are kept in a vector of their size and the ring is
  /// freed (so threads that come and go cost what they recorded). Thread exit only.
  void detach(TraceRing* ring);
  /// Every thread's records, in ns from the origin and clipped to the window. Call once the
  /// traced threads have left (a live thread's ring may be read while it writes otherwise).
  Trace collect() const;

 private:
  struct Entry {
    Role role;
    std::uint32_t id;
    std::uint32_t ordinal;
    std::unique_ptr<TraceRing> ring;  // while the thread runs
    std::vector<TraceRecord> kept;    // once it left
    std::uint64_t dropped = 0;        // once it left
  };
  const std::size_t capacity_;
  TraceWindow window_;
  std::atomic<std::uint64_t> origin_{0};
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;                  // guarded by mutex_
  std::uint32_t ordinals_[kRoles.size()] = {};  // guarded by mutex_
};

}  // namespace gilcore
