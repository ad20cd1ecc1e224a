#pragma once
// What the server needs to know of convoy-client's message header (the whole header and its
// pattern: client/include/convoy/client/payload.hpp): the magic and the sequence number.

#include <cstddef>
#include <cstdint>

namespace convoy {

inline constexpr std::uint32_t kMessageMagic = 0x59564E43;  // "CNVY" read as little-endian bytes
inline constexpr std::size_t kMessageSeqOffset = 8;         // 8 bytes, little-endian

/// The sequence number of the convoy-client message at the start of `data` into `seq`; false
/// for other data (another client, a chunk that starts mid-message).
inline bool peek_sequence(const char* data, std::size_t size, std::uint64_t& seq) noexcept {
  if (size < kMessageSeqOffset + 8) return false;
  const auto byte = [data](std::size_t i) {
    return static_cast<std::uint64_t>(static_cast<unsigned char>(data[i]));
  };
  const std::uint64_t magic = byte(0) | byte(1) << 8 | byte(2) << 16 | byte(3) << 24;
  if (magic != kMessageMagic) return false;
  seq = 0;
  for (std::size_t i = 8; i-- > 0;) seq = seq << 8 | byte(kMessageSeqOffset + i);
  return true;
}

}  // namespace convoy
