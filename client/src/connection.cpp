#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "convoy/client/payload.hpp"
#include "convoy/duration.hpp"
#include "worker.hpp"

namespace convoy::client {
namespace {

std::string describe(std::uint16_t id, std::uint64_t seq) {
  return "connection " + std::to_string(id) + ", seq " + std::to_string(seq);
}

// The error kind (JSON error_kind) and message for a failed read.
std::pair<ErrorKind, std::string> read_failure(const boost::system::error_code& ec) {
  if (ec == boost::asio::error::eof) return {ErrorKind::closed, "server closed the connection"};
  if (ec == boost::asio::error::connection_reset) {
    return {ErrorKind::reset, "server reset the connection"};
  }
  return {ErrorKind::io, "read failed: " + ec.message()};
}

}  // namespace

Connection::Connection(Worker& worker, boost::asio::io_context& io, std::uint16_t id)
    : worker_(worker),
      config_(worker.state().config()),
      socket_(io),
      think_timer_(io),
      id_(id),
      received_(std::max<std::size_t>(64 * 1024, 4 * worker.state().config().size)) {}

void Connection::start() {
  read();
  if (config_.mode == Mode::closed) send_next();
}

void Connection::send_next() {
  if (failed_ || closed_) return;
  const std::int64_t now = now_ns();
  std::uint16_t flags = 0;
  if (!worker_.state().admit(now, flags)) {
    done_sending_ = true;
    return;
  }
  enqueue(now, flags);
}

void Connection::enqueue(std::int64_t intended_ns, std::uint16_t flags) {
  if (failed_ || closed_) return;
  const Pending p{next_seq_++, intended_ns, 0, flags};
  outstanding_.push_back(p);
  const std::size_t offset = pending_.size();
  pending_.resize(offset + config_.size);
  encode_message(std::span(pending_).subspan(offset, config_.size),
                 {id_, flags, p.seq, intended_ns, 0});
  flush();
}

void Connection::flush() {
  if (write_in_progress_ || pending_.empty() || failed_ || closed_) return;
  std::swap(writing_, pending_);
  pending_.clear();
  // The send time is stamped into each message right before the socket gets it; messages queued
  // behind a slow write are therefore timed from their real send, their lag shows the wait.
  const std::int64_t now = now_ns();
  const std::size_t n = writing_.size() / config_.size;
  const std::size_t first = outstanding_.size() - n;
  for (std::size_t k = 0; k < n; ++k) {
    stamp_sent(std::span(writing_).subspan(k * config_.size, config_.size), now);
    Pending& p = outstanding_[first + k];
    p.sent_ns = now;
    if (p.flags & kFlagWarmup) {
      ++worker_.result().warmup_sent;
    } else {
      ++worker_.result().sent;
      if (config_.mode == Mode::open) worker_.record_lag(now - p.intended_ns);
    }
  }
  write_in_progress_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(writing_),
                           [this](const boost::system::error_code& ec, std::size_t) {
                             write_in_progress_ = false;
                             if (closed_ || failed_) return;
                             if (ec) {
                               fail(ErrorKind::io, "write failed on connection " +
                                                       std::to_string(id_) + ": " + ec.message());
                               return;
                             }
                             flush();
                           });
}

void Connection::read() {
  if (unchecked_begin_ > 0 && received_.size() - received_end_ < config_.size) {
    std::memmove(received_.data(), received_.data() + unchecked_begin_,
                 received_end_ - unchecked_begin_);
    received_end_ -= unchecked_begin_;
    unchecked_begin_ = 0;
  }
  socket_.async_read_some(
      boost::asio::buffer(received_.data() + received_end_, received_.size() - received_end_),
      [this](const boost::system::error_code& ec, std::size_t n) { on_read(ec, n); });
}

void Connection::on_read(const boost::system::error_code& ec, std::size_t n) {
  if (closed_ || failed_) return;
  if (ec) {
    const std::size_t partial = received_end_ - unchecked_begin_;
    auto& errors = worker_.result().errors;
    auto [kind, what] = read_failure(ec);
    what += " (connection " + std::to_string(id_);
    if (partial > 0) {
      ++errors.short_echoes;
      what += ", in the middle of an echo: " + std::to_string(partial) + " of " +
              std::to_string(config_.size) + " bytes";
    }
    if (partial > 0 && !outstanding_.empty()) outstanding_.pop_front();  // counted as short
    what += ", " + std::to_string(outstanding_.size()) + " request(s) unanswered)";
    fail(kind, what);
    return;
  }
  received_end_ += n;
  const std::int64_t now = now_ns();
  while (received_end_ - unchecked_begin_ >= config_.size && !failed_) {
    on_message(std::span<const std::byte>(received_.data() + unchecked_begin_, config_.size), now);
    unchecked_begin_ += config_.size;
  }
  if (unchecked_begin_ == received_end_) unchecked_begin_ = received_end_ = 0;
  if (!failed_ && !closed_) read();
}

void Connection::on_message(std::span<const std::byte> message, std::int64_t now) {
  EchoClass echo = classify_echo(message, id_, outstanding_, next_seq_);
  auto& errors = worker_.result().errors;
  switch (echo.verdict) {
    case EchoVerdict::reordered: ++errors.reordered; [[fallthrough]];
    case EchoVerdict::verified: {
      const auto it = outstanding_.begin() + static_cast<std::ptrdiff_t>(echo.index);
      const Pending p = *it;
      outstanding_.erase(it);
      complete(p, now);
      after_reply(now);
      return;
    }
    case EchoVerdict::duplicate: ++errors.duplicated; return;
    case EchoVerdict::corrupt:
      note_corruption(std::move(echo.corruption));
      outstanding_.pop_front();  // the oldest request got this instead of its echo
      after_reply(now);
      return;
    case EchoVerdict::unsolicited: note_corruption(std::move(echo.corruption)); return;
  }
}

void Connection::note_corruption(std::string where) {
  auto& result = worker_.result();
  ++result.errors.corrupted;
  if (result.first_corruption.empty()) result.first_corruption = std::move(where);
}

void Connection::complete(const Pending& p, std::int64_t now) { worker_.record(p, now); }

void Connection::after_reply(std::int64_t now) {
  if (config_.mode != Mode::closed || !outstanding_.empty()) return;
  if (config_.think.count() == 0) {
    send_next();
    return;
  }
  think_timer_.expires_at(to_time_point(now + config_.think.count()));
  think_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) send_next();
  });
}

void Connection::check_timeout(std::int64_t now) {
  if (failed_ || closed_ || outstanding_.empty()) return;
  const Pending& oldest = outstanding_.front();
  const std::int64_t since = oldest.sent_ns != 0 ? oldest.sent_ns : oldest.intended_ns;
  if (now - since <= config_.timeout.count()) return;
  ++worker_.result().errors.timeouts;
  const std::string what = "no echo within " + convoy::format_duration(config_.timeout) + " (" +
                           describe(id_, oldest.seq) + ", " + std::to_string(outstanding_.size()) +
                           " request(s) unanswered)";
  outstanding_.pop_front();
  fail(ErrorKind::timeout, what);
}

bool Connection::done() const {
  if (failed_) return true;
  const bool sending = config_.mode == Mode::closed && !done_sending_;
  return !sending && outstanding_.empty() && pending_.empty() && !write_in_progress_;
}

void Connection::shutdown(bool aborted) {
  if (closed_) return;
  if (aborted && !failed_) drop_outstanding(true);
  closed_ = true;
  boost::system::error_code ignored;
  think_timer_.cancel();
  socket_.shutdown(Socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void Connection::drop_outstanding(bool stopped) {
  auto& result = worker_.result();
  for (const Pending& p : outstanding_) {
    if (p.sent_ns == 0) {
      if ((p.flags & kFlagWarmup) == 0) ++result.not_sent;
    } else if (stopped) {
      ++result.errors.abandoned;
    } else {
      ++result.errors.lost;
    }
  }
  outstanding_.clear();
}

void Connection::fail(ErrorKind kind, const std::string& message) {
  failed_ = true;
  drop_outstanding(false);
  boost::system::error_code ignored;
  think_timer_.cancel();
  socket_.close(ignored);
  worker_.state().fail(kind, message);
}

}  // namespace convoy::client
