#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "convoy/message_header.hpp"

namespace convoy::client {

/// Notes about the implementation
///
/// Every request is one message of `--size` bytes, echoed unchanged by the server. The first
/// kHeaderSize bytes are a header, the rest a pattern derived from (connection, sequence), so a
/// reply can be checked byte for byte without keeping a copy of what was sent, and a reply that is
/// intact but belongs to another request is told apart from a corrupted one.
///
///   offset  size  field
///        0     4  magic "CNVY"
///        4     2  connection index
///        6     2  flags (bit 0: warm-up request, excluded from the results)
///        8     8  sequence number on this connection, from 0
///       16     8  intended send time, steady_clock nanoseconds (open loop: the schedule)
///       24     8  actual send time, steady_clock nanoseconds (stamped just before the write)
///
/// All fields little-endian. The echo comes back on the same clock, so no clock sync is needed.
inline constexpr std::size_t kHeaderSize = 32;
inline constexpr std::uint32_t kMagic = kMessageMagic;  // "CNVY" read as little-endian bytes
inline constexpr std::uint16_t kFlagWarmup = 1;

struct MessageHeader {
  std::uint16_t connection = 0;
  std::uint16_t flags = 0;
  std::uint64_t seq = 0;
  std::int64_t intended_ns = 0;
  std::int64_t sent_ns = 0;

  bool operator==(const MessageHeader&) const = default;
};

/// Writes the header and the pattern for `h` into `out` (out.size() >= kHeaderSize).
void encode_message(std::span<std::byte> out, const MessageHeader& h);

/// Overwrites only the actual send time of an encoded message (called when it is written).
void stamp_sent(std::span<std::byte> message, std::int64_t sent_ns);

/// Reads the header fields of `in` (in.size() >= kHeaderSize); says whether the magic matched.
bool decode_header(std::span<const std::byte> in, MessageHeader& h);

/// What comparing a received message with the expected one found.
struct Mismatch {
  std::size_t offset = 0;  ///< first differing byte
  std::uint8_t expected = 0;
  std::uint8_t actual = 0;
};

/// Checks that every byte of `received` equals the message encode_message(expected) would make;
/// returns false and fills `where` with the first difference otherwise.
bool verify_message(std::span<const std::byte> received, const MessageHeader& expected,
                    Mismatch* where = nullptr);

/// True if `received` is a well-formed message in its own right: magic, and a pattern that
/// matches the connection and sequence in its own header (used to tell reordering and duplicates
/// from corruption).
bool self_consistent(std::span<const std::byte> received);

/// "connection 0, seq 17, byte 45: expected 0x3c, got 0x3d" — for error messages.
std::string describe_mismatch(const MessageHeader& expected, const Mismatch& m);

}  // namespace convoy::client
