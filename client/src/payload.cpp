#include "convoy/client/payload.hpp"

#include <array>
#include <cstdio>
#include <cstring>

namespace convoy::client {
namespace {

template <typename T>
void put(std::span<std::byte> out, std::size_t offset, T value) {
  // Little-endian on every host: the byte order is part of the wire format.
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out[offset + i] = static_cast<std::byte>(static_cast<std::uint64_t>(value) >> (8 * i));
  }
}

template <typename T>
T get(std::span<const std::byte> in, std::size_t offset) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<std::uint64_t>(std::to_integer<std::uint8_t>(in[offset + i])) << (8 * i);
  }
  return static_cast<T>(v);
}

// splitmix64: a cheap, well-mixed stream so that neighbouring sequences differ in every word.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::uint64_t pattern_seed(std::uint16_t connection, std::uint64_t seq) {
  return mix(seq ^ (static_cast<std::uint64_t>(connection) << 48));
}

// Byte i of the pattern area (i counted from the end of the header).
std::uint8_t pattern_byte(std::uint64_t seed, std::size_t i) {
  const std::uint64_t word = mix(seed + i / 8);
  return static_cast<std::uint8_t>(word >> (8 * (i % 8)));
}

void fill_pattern(std::span<std::byte> body, std::uint64_t seed) {
  std::size_t i = 0;
  for (; i + 8 <= body.size(); i += 8) {
    const std::uint64_t word = mix(seed + i / 8);
    for (std::size_t b = 0; b < 8; ++b) body[i + b] = static_cast<std::byte>(word >> (8 * b));
  }
  for (; i < body.size(); ++i) body[i] = static_cast<std::byte>(pattern_byte(seed, i));
}

// Offset of the first pattern byte that differs, or body.size().
std::size_t check_pattern(std::span<const std::byte> body, std::uint64_t seed) {
  std::size_t i = 0;
  for (; i + 8 <= body.size(); i += 8) {
    const std::uint64_t word = mix(seed + i / 8);
    std::array<std::byte, 8> want{};
    for (std::size_t b = 0; b < 8; ++b) want[b] = static_cast<std::byte>(word >> (8 * b));
    if (std::memcmp(want.data(), body.data() + i, 8) != 0) {
      for (std::size_t b = 0; b < 8; ++b) {
        if (want[b] != body[i + b]) return i + b;
      }
    }
  }
  for (; i < body.size(); ++i) {
    if (static_cast<std::byte>(pattern_byte(seed, i)) != body[i]) return i;
  }
  return body.size();
}

void encode_header(std::span<std::byte> out, const MessageHeader& h) {
  put<std::uint32_t>(out, 0, kMagic);
  put<std::uint16_t>(out, 4, h.connection);
  put<std::uint16_t>(out, 6, h.flags);
  put<std::uint64_t>(out, kMessageSeqOffset, h.seq);
  put<std::int64_t>(out, 16, h.intended_ns);
  put<std::int64_t>(out, 24, h.sent_ns);
}

}  // namespace

void encode_message(std::span<std::byte> out, const MessageHeader& h) {
  encode_header(out, h);
  fill_pattern(out.subspan(kHeaderSize), pattern_seed(h.connection, h.seq));
}

void stamp_sent(std::span<std::byte> message, std::int64_t sent_ns) {
  put<std::int64_t>(message, 24, sent_ns);
}

bool decode_header(std::span<const std::byte> in, MessageHeader& h) {
  h.connection = get<std::uint16_t>(in, 4);
  h.flags = get<std::uint16_t>(in, 6);
  h.seq = get<std::uint64_t>(in, kMessageSeqOffset);
  h.intended_ns = get<std::int64_t>(in, 16);
  h.sent_ns = get<std::int64_t>(in, 24);
  return get<std::uint32_t>(in, 0) == kMagic;
}

bool verify_message(std::span<const std::byte> received, const MessageHeader& expected,
                    Mismatch* where) {
  std::array<std::byte, kHeaderSize> header{};
  encode_header(header, expected);
  for (std::size_t i = 0; i < kHeaderSize; ++i) {
    if (header[i] != received[i]) {
      if (where != nullptr) {
        *where = {i, std::to_integer<std::uint8_t>(header[i]),
                  std::to_integer<std::uint8_t>(received[i])};
      }
      return false;
    }
  }
  const auto body = received.subspan(kHeaderSize);
  const auto seed = pattern_seed(expected.connection, expected.seq);
  const std::size_t bad = check_pattern(body, seed);
  if (bad == body.size()) return true;
  if (where != nullptr) {
    *where = {kHeaderSize + bad, pattern_byte(seed, bad), std::to_integer<std::uint8_t>(body[bad])};
  }
  return false;
}

bool self_consistent(std::span<const std::byte> received) {
  MessageHeader h;
  if (!decode_header(received, h)) return false;
  const auto body = received.subspan(kHeaderSize);
  return check_pattern(body, pattern_seed(h.connection, h.seq)) == body.size();
}

std::string describe_mismatch(const MessageHeader& expected, const Mismatch& m) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "connection %u, seq %llu, byte %zu: expected 0x%02x, got 0x%02x",
                static_cast<unsigned>(expected.connection),
                static_cast<unsigned long long>(expected.seq), m.offset,
                static_cast<unsigned>(m.expected), static_cast<unsigned>(m.actual));
  return buf;
}

}  // namespace convoy::client
