#include "convoy/client/echo.hpp"

#include <algorithm>

#include "convoy/client/payload.hpp"

namespace convoy::client {
namespace {

MessageHeader expected(std::uint16_t connection, const Pending& p) {
  return {connection, p.flags, p.seq, p.intended_ns, p.sent_ns};
}

}  // namespace

EchoClass classify_echo(std::span<const std::byte> message, std::uint16_t connection,
                        const std::deque<Pending>& outstanding, std::uint64_t next_seq) {
  MessageHeader got;
  const bool magic = decode_header(message, got);
  const bool intact = magic && got.connection == connection && self_consistent(message);

  if (outstanding.empty()) {
    // An extra copy of an answered request, or bytes nobody sent.
    if (intact && got.seq < next_seq) return {EchoVerdict::duplicate, 0, {}};
    return {EchoVerdict::unsolicited, 0,
            "connection " + std::to_string(connection) +
                ": an echo arrived with no request outstanding"};
  }

  const MessageHeader want = expected(connection, outstanding.front());
  Mismatch mismatch;
  if (verify_message(message, want, &mismatch)) return {EchoVerdict::verified, 0, {}};
  if (intact && got.seq != want.seq) {
    const auto it = std::find_if(outstanding.begin() + 1, outstanding.end(),
                                 [&](const Pending& p) { return p.seq == got.seq; });
    if (it != outstanding.end()) {
      if (got == expected(connection, *it)) {
        return {EchoVerdict::reordered, static_cast<std::size_t>(it - outstanding.begin()), {}};
      }
    } else if (got.seq < next_seq) {
      return {EchoVerdict::duplicate, 0, {}};
    }
  }
  return {EchoVerdict::corrupt, 0, describe_mismatch(want, mismatch)};
}

}  // namespace convoy::client
