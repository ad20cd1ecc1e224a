#include "convoy/client/echo.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <deque>
#include <vector>

#include "convoy/client/payload.hpp"

namespace convoy::client {
namespace {

constexpr std::uint16_t kConnection = 3;
constexpr std::size_t kSize = 64;

// The message a request was sent as (what an honest echo server returns).
std::vector<std::byte> sent_as(const Pending& p, std::uint16_t connection = kConnection) {
  std::vector<std::byte> m(kSize);
  encode_message(m, {connection, p.flags, p.seq, p.intended_ns, 0});
  stamp_sent(m, p.sent_ns);
  return m;
}

// Requests 5, 6 and 7 outstanding; 0 to 4 answered; 8 is the next sequence number.
std::deque<Pending> outstanding() {
  return {{5, 1000, 1100, 0}, {6, 2000, 2100, 0}, {7, 3000, 3100, kFlagWarmup}};
}

EchoClass classify(const std::vector<std::byte>& m, const std::deque<Pending>& o = outstanding()) {
  return classify_echo(m, kConnection, o, 8);
}

TEST(EchoClassTest, TheOldestRequestsEchoIsVerified) {
  const auto c = classify(sent_as(outstanding()[0]));
  EXPECT_EQ(c.verdict, EchoVerdict::verified);
  EXPECT_EQ(c.index, 0u);
  EXPECT_TRUE(c.corruption.empty());
}

TEST(EchoClassTest, AnotherOutstandingRequestsEchoIsReordered) {
  const auto c = classify(sent_as(outstanding()[2]));
  EXPECT_EQ(c.verdict, EchoVerdict::reordered);
  EXPECT_EQ(c.index, 2u);
}

TEST(EchoClassTest, AnAnsweredRequestsEchoIsADuplicate) {
  const Pending answered{4, 500, 600, 0};
  EXPECT_EQ(classify(sent_as(answered)).verdict, EchoVerdict::duplicate);
  // With nothing outstanding, too.
  EXPECT_EQ(classify(sent_as(answered), {}).verdict, EchoVerdict::duplicate);
}

TEST(EchoClassTest, AChangedByteIsCorruptAndSaysWhere) {
  auto m = sent_as(outstanding()[0]);
  m[kSize - 1] ^= std::byte{0xff};
  const auto c = classify(m);
  EXPECT_EQ(c.verdict, EchoVerdict::corrupt);
  EXPECT_FALSE(c.corruption.empty());
}

TEST(EchoClassTest, AnIntactEchoWithAChangedTimeIsCorrupt) {
  // Request 6's header with the intended time of another request: self-consistent, not equal.
  Pending wrong = outstanding()[1];
  wrong.intended_ns += 1;
  EXPECT_EQ(classify(sent_as(wrong)).verdict, EchoVerdict::corrupt);
}

TEST(EchoClassTest, AnotherConnectionsEchoOrAFutureSequenceIsCorrupt) {
  EXPECT_EQ(classify(sent_as(outstanding()[1], kConnection + 1)).verdict, EchoVerdict::corrupt);
  const Pending future{9, 4000, 4100, 0};
  EXPECT_EQ(classify(sent_as(future)).verdict, EchoVerdict::corrupt);
}

TEST(EchoClassTest, AnEchoWithNothingOutstandingIsUnsolicited) {
  const Pending future{9, 4000, 4100, 0};
  const auto c = classify(sent_as(future), {});
  EXPECT_EQ(c.verdict, EchoVerdict::unsolicited);
  EXPECT_NE(c.corruption.find("no request outstanding"), std::string::npos) << c.corruption;
  std::vector<std::byte> noise(kSize, std::byte{0x5a});
  EXPECT_EQ(classify(noise, {}).verdict, EchoVerdict::unsolicited);
}

}  // namespace
}  // namespace convoy::client
