#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "convoy/client/payload.hpp"

namespace convoy::client {
namespace {

std::vector<std::byte> make(std::size_t size, const MessageHeader& h) {
  std::vector<std::byte> m(size);
  encode_message(m, h);
  return m;
}

const MessageHeader kHeader{3, 0, 41, 1'000'000'123, 1'000'000'456};

TEST(PayloadTest, EncodedMessageVerifies) {
  for (const std::size_t size :
       {kHeaderSize, std::size_t{33}, std::size_t{100}, std::size_t{4096}}) {
    const auto m = make(size, kHeader);
    EXPECT_TRUE(verify_message(m, kHeader)) << size;
    EXPECT_TRUE(self_consistent(m)) << size;
  }
}

TEST(PayloadTest, HeaderRoundTrips) {
  const MessageHeader h{65535, kFlagWarmup, 0xFFFFFFFFFFFFFFF0ULL, -5, 9'000'000'000'000'000'000};
  const auto m = make(64, h);
  MessageHeader got;
  ASSERT_TRUE(decode_header(m, got));
  EXPECT_EQ(got, h);
}

// The server tags its timeline with the sequence number it peeks from the header.
TEST(PayloadTest, ServerPeeksTheSequenceNumber) {
  const MessageHeader h{7, 0, 0x0102030405060708ULL, 1, 2};
  const auto m = make(64, h);
  const auto* data = reinterpret_cast<const char*>(m.data());
  std::uint64_t seq = 0;
  ASSERT_TRUE(peek_sequence(data, m.size(), seq));
  EXPECT_EQ(seq, h.seq);
  EXPECT_FALSE(peek_sequence(data, 15, seq));  // too short for the sequence number
  auto other = m;
  other[0] = std::byte{'X'};
  EXPECT_FALSE(peek_sequence(reinterpret_cast<const char*>(other.data()), other.size(), seq));
}

TEST(PayloadTest, EveryCorruptedByteIsFoundAtItsOffset) {
  const auto original = make(100, kHeader);
  for (std::size_t i = 0; i < original.size(); ++i) {
    auto m = original;
    m[i] ^= std::byte{0x01};
    Mismatch where;
    ASSERT_FALSE(verify_message(m, kHeader, &where)) << i;
    EXPECT_EQ(where.offset, i);
    EXPECT_EQ(where.expected ^ where.actual, 0x01);
  }
}

TEST(PayloadTest, CorruptedBodyIsNotSelfConsistent) {
  auto m = make(100, kHeader);
  m[77] ^= std::byte{0x80};
  EXPECT_FALSE(self_consistent(m));
  m = make(100, kHeader);
  m[0] ^= std::byte{0x01};  // magic
  EXPECT_FALSE(self_consistent(m));
}

TEST(PayloadTest, AnotherRequestsEchoIsIntactButDoesNotVerify) {
  MessageHeader next = kHeader;
  next.seq = kHeader.seq + 1;
  const auto m = make(100, next);
  EXPECT_TRUE(self_consistent(m));
  Mismatch where;
  EXPECT_FALSE(verify_message(m, kHeader, &where));
  EXPECT_EQ(where.offset, 8u);  // the sequence number is the first difference
}

TEST(PayloadTest, PatternDependsOnSequenceAndConnection) {
  MessageHeader other_conn = kHeader;
  other_conn.connection = 4;
  const auto a = make(100, kHeader);
  const auto b = make(100, other_conn);
  std::size_t differing = 0;
  for (std::size_t i = kHeaderSize; i < a.size(); ++i) differing += a[i] != b[i];
  EXPECT_GT(differing, 50u);
}

TEST(PayloadTest, StampSentChangesOnlyTheSendTime) {
  auto m = make(100, kHeader);
  stamp_sent(m, 777);
  MessageHeader expected = kHeader;
  expected.sent_ns = 777;
  EXPECT_TRUE(verify_message(m, expected));
  EXPECT_FALSE(verify_message(m, kHeader));
}

TEST(PayloadTest, DescribeMismatchNamesConnectionSequenceAndByte) {
  const Mismatch m{45, 0x3c, 0x3d};
  EXPECT_EQ(describe_mismatch(kHeader, m),
            "connection 3, seq 41, byte 45: expected 0x3c, got 0x3d");
}

}  // namespace
}  // namespace convoy::client
