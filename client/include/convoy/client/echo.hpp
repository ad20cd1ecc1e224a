#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>

namespace convoy::client {

/// One request sent (or queued to be sent) and not yet answered.
struct Pending {
  std::uint64_t seq = 0;
  std::int64_t intended_ns = 0;
  std::int64_t sent_ns = 0;  ///< 0 until written
  std::uint16_t flags = 0;
};

/// What an echo is, given the requests its connection has outstanding.
enum class EchoVerdict {
  verified,     ///< byte for byte the echo of the oldest outstanding request
  reordered,    ///< intact, the echo of another outstanding request
  duplicate,    ///< intact, the echo of a request already answered
  corrupt,      ///< not what the oldest outstanding request sent (which it is taken to answer)
  unsolicited,  ///< nothing was outstanding, and it is no intact echo of an earlier request
};

struct EchoClass {
  EchoVerdict verdict = EchoVerdict::corrupt;
  /// verified, reordered: the outstanding request it answers (0: the oldest).
  std::size_t index = 0;
  /// corrupt, unsolicited: where it differed from what was expected, for the first-corruption
  /// report.
  std::string corruption;
};

/// Classifies one whole echo that arrived on connection `connection`, whose requests outstanding
/// are `outstanding` (oldest first) and whose next unused sequence number is `next_seq`. Pure:
/// the caller acts on the verdict.
EchoClass classify_echo(std::span<const std::byte> message, std::uint16_t connection,
                        const std::deque<Pending>& outstanding, std::uint64_t next_seq);

}  // namespace convoy::client
