#pragma once
// The client's sequence number in a message it sent, for the timeline.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

namespace convoy::server::detail {

/// The sequence number of the convoy-client message at the start of `data`: bytes 0-3 the
/// magic "CNVY", bytes 8-15 the sequence number, little-endian (client/include/convoy/client/
/// payload.hpp has the whole header). nullopt for other data, or a chunk that starts mid-message.
inline std::optional<std::uint64_t> peek_sequence(const char* data, std::size_t size) noexcept {
  constexpr std::size_t kSeqEnd = 16;
  if (size < kSeqEnd || std::memcmp(data, "CNVY", 4) != 0) return std::nullopt;
  std::uint64_t seq = 0;
  for (int i = 7; i >= 0; --i) seq = seq << 8 | static_cast<unsigned char>(data[8 + i]);
  return seq;
}

}  // namespace convoy::server::detail
