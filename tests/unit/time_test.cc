#include "core/time.h"

#include <gtest/gtest.h>

namespace rollcall {
namespace {

TEST(ParseTimestamp, UtcWithMillis) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(ParseTimestamp("2026-11-21T23:42:20.123Z"), 1795304540123);
}

TEST(ParseTimestamp, OffsetsAreHonoured) {
  EXPECT_EQ(ParseTimestamp("2026-11-22T08:42:20.123+09:00"),
            ParseTimestamp("2026-11-21T23:42:20.123Z"));
  EXPECT_EQ(ParseTimestamp("2026-11-21T18:42:20-05:00"), ParseTimestamp("2026-11-21T23:42:20Z"));
}

TEST(ParseTimestamp, NoOffsetMeansUtc) {
  EXPECT_EQ(ParseTimestamp("2026-11-21T23:42:20"), ParseTimestamp("2026-11-21T23:42:20Z"));
}

TEST(ParseTimestamp, FractionsTruncateToMillis) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.1Z"), 100);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.12Z"), 120);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.123456789Z"), 123);
}

TEST(ParseTimestamp, BeforeEpoch) {
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999Z");
}

TEST(ParseTimestamp, LeapDays) {
  EXPECT_TRUE(ParseTimestamp("2024-02-29T00:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("2026-02-29T00:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("1900-02-29T00:00:00Z"));
  EXPECT_TRUE(ParseTimestamp("2000-02-29T00:00:00Z"));
}

TEST(ParseTimestamp, RejectsMalformed) {
  for (const char* bad : {"", "2026-11-21", "2026-11-21T23:42", "2026-11-21 23:42:20Z",
                          "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-11-31T00:00:00Z",
                          "2026-11-21T24:00:00Z", "2026-11-21T23:60:00Z", "2026-11-21T23:59:60Z",
                          "2026-11-21T23:42:20.Z", "2026-11-21T23:42:20.1234567890Z",
                          "2026-11-21T23:42:20+9", "2026-11-21T23:42:20+09", "2026-11-21T23:42:20+0900",
                          "2026-11-21T23:42:20+24:00", "2026-11-21T23:42:20ZZ", "now", "1732232540",
                          "26-11-21T23:42:20Z", "2026-1-21T23:42:20Z", "2026-11-21T23:42:20 Z"}) {
    EXPECT_FALSE(ParseTimestamp(bad)) << bad;
  }
}

TEST(ParseTimestamp, RejectsInstantsOutsideYears0000To9999) {
  // Found by fuzz/timestamp_fuzzer: valid text whose instant has no RFC 3339 form.
  EXPECT_FALSE(ParseTimestamp("9999-12-31T23:59:59-23:59"));
  EXPECT_FALSE(ParseTimestamp("0000-01-01T00:00:00+00:01"));
  EXPECT_EQ(ParseTimestamp("9999-12-31T23:59:59.999Z"), kMaxTimestamp);
  EXPECT_EQ(ParseTimestamp("0000-01-01T00:00:00Z"), kMinTimestamp);
  EXPECT_EQ(ParseTimestamp("9999-12-31T23:59:59.999+00:01"), kMaxTimestamp - 60'000);
  EXPECT_EQ(FormatTimestamp(kMaxTimestamp), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(kMinTimestamp), "0000-01-01T00:00:00.000Z");
}

TEST(FormatTimestamp, RoundTrips) {
  for (Millis t : {0LL, 1LL, 999LL, 1795304540123LL, 253402300799999LL}) {
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(t)), t) << t;
  }
  EXPECT_EQ(FormatTimestamp(1795304540123), "2026-11-21T23:42:20.123Z");
}

TEST(ManualClock, SetsAndAdvances) {
  ManualClock c(1000);
  EXPECT_EQ(c.Now(), 1000);
  c.Advance(5);
  EXPECT_EQ(c.Now(), 1005);
  c.Set(7);
  EXPECT_EQ(c.Now(), 7);
}

}  // namespace
}  // namespace rollcall
