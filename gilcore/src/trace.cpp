#include "gilcore/trace.hpp"

#include <algorithm>

#include "gilcore/clock.hpp"

namespace gilcore {

std::string_view to_string(Syscall call) noexcept {
  switch (call) {
    case Syscall::other: return "other";
    case Syscall::recv: return "recv";
    case Syscall::send: return "send";
    case Syscall::poll: return "poll";
    case Syscall::accept: return "accept";
    case Syscall::epoll_wait: return "epoll_wait";
    case Syscall::epoll_ctl: return "epoll_ctl";
    case Syscall::ioctl: return "ioctl";
    case Syscall::close: return "close";
    case Syscall::sleep: return "sleep";
  }
  return "?";
}

std::string_view to_string(TraceRelease why) noexcept {
  switch (why) {
    case TraceRelease::blocking: return "blocking";
    case TraceRelease::periodic: return "periodic";
    case TraceRelease::forced: return "forced";
    case TraceRelease::exit: return "exit";
  }
  return "?";
}

TraceRing::TraceRing(std::size_t capacity, const TraceWindow& window)
    : window_(window),
      capacity_(std::max<std::size_t>(capacity, 1)),
      records_(new TraceRecord[capacity_]) {}

std::vector<TraceRecord> TraceRing::records() const {
  std::vector<TraceRecord> out;
  if (written_ <= capacity_) {
    out.assign(records_.get(), records_.get() + next_);
  } else {
    out.reserve(capacity_);
    out.insert(out.end(), records_.get() + next_, records_.get() + capacity_);
    out.insert(out.end(), records_.get(), records_.get() + next_);
  }
  return out;
}

std::uint64_t Trace::dropped() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& t : threads) sum += t.dropped;
  return sum;
}

void Tracer::start(std::uint64_t origin, std::chrono::nanoseconds after,
                   std::chrono::nanoseconds span) {
  const auto ticks = [](std::chrono::nanoseconds d) {
    return static_cast<std::uint64_t>(static_cast<double>(d.count()) * Clock::ticks_per_ns());
  };
  origin_.store(origin, std::memory_order_relaxed);
  const std::uint64_t begin = origin + ticks(after);
  window_.open(begin, span.count() > 0 ? begin + ticks(span) : TraceWindow::kNever);
}

TraceRing* Tracer::attach(Role role, std::uint32_t id) {
  if (!enabled()) return nullptr;
  auto ring = std::make_unique<TraceRing>(capacity_, window_);
  std::lock_guard lock(mutex_);
  const auto ordinal = ++ordinals_[static_cast<std::size_t>(role)];
  entries_.push_back({role, id, ordinal, std::move(ring), {}, 0});
  return entries_.back().ring.get();
}

void Tracer::detach(TraceRing* ring) {
  if (ring == nullptr) return;
  std::vector<TraceRecord> kept = ring->records();
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(entries_.begin(), entries_.end(),
                               [&](const Entry& e) { return e.ring.get() == ring; });
  if (it == entries_.end()) return;
  if (ring->written() == 0) {
    entries_.erase(it);
    return;
  }
  it->dropped = ring->dropped();
  it->kept = std::move(kept);
  it->ring.reset();
}

Trace Tracer::collect() const {
  const std::uint64_t origin = origin_.load(std::memory_order_relaxed);
  const std::uint64_t begin = std::max(window_.begin(), origin);
  const std::uint64_t end = window_.end();
  const auto ns = [origin](std::uint64_t tick) {
    return static_cast<std::int64_t>(Clock::to_ns(tick - origin));
  };
  Trace trace;
  if (begin == TraceWindow::kNever) return trace;
  trace.window_begin_ns = ns(begin);
  std::lock_guard lock(mutex_);
  std::uint64_t last = begin;
  for (const auto& e : entries_) {
    ThreadTrace t{e.role, e.id, e.ordinal, {}, e.ring ? e.ring->dropped() : e.dropped};
    for (const auto& r : e.ring ? e.ring->records() : e.kept) {
      const bool interval = r.kind <= TraceKind::syscall;
      const std::uint64_t from = std::max(interval ? r.value : r.at, begin);
      const std::uint64_t to = std::min(r.at, end);
      if (to < from) continue;
      last = std::max(last, to);
      t.events.push_back({r.kind, r.detail, ns(from), ns(to), interval ? 0 : r.value, r.peer});
    }
    if (!t.events.empty() || t.dropped != 0) trace.threads.push_back(std::move(t));
  }
  trace.window_end_ns = ns(end == TraceWindow::kNever ? last : std::max(end, begin));
  return trace;
}

}  // namespace gilcore
