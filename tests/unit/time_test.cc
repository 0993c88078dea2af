#include "core/time.h"

#include <gtest/gtest.h>

#include <ctime>
#include <random>

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
  for (const char* bad : {"",
                          "2026-11-21",
                          "2026-11-21T23:42",
                          "2026-11-21 23:42:20Z",
                          "2026-13-01T00:00:00Z",
                          "2026-00-01T00:00:00Z",
                          "2026-11-31T00:00:00Z",
                          "2026-11-21T24:00:00Z",
                          "2026-11-21T23:60:00Z",
                          "2026-11-21T23:59:60Z",
                          "2026-11-21T23:42:20.Z",
                          "2026-11-21T23:42:20.1234567890Z",
                          "2026-11-21T23:42:20+9",
                          "2026-11-21T23:42:20+09",
                          "2026-11-21T23:42:20+0900",
                          "2026-11-21T23:42:20+24:00",
                          "2026-11-21T23:42:20ZZ",
                          "now",
                          "1732232540",
                          "26-11-21T23:42:20Z",
                          "2026-1-21T23:42:20Z",
                          "2026-11-21T23:42:20 Z"}) {
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

// The formatter without snprintf agrees with gmtime_r + strftime over the whole range,
// and writes wider years (outside RFC 3339) the way it always did.
TEST(FormatTimestamp, MatchesTheCLibrary) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<Millis> any(kMinTimestamp, kMaxTimestamp);
  for (int i = 0; i < 20000; ++i) {
    const Millis t = i < 2 ? (i == 0 ? kMinTimestamp : kMaxTimestamp) : any(rng);
    const int64_t secs = t >= 0 ? t / 1000 : (t - 999) / 1000;
    const time_t tt = static_cast<time_t>(secs);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    char want[64];
    const size_t n = std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string expected(want, n);
    if (tm.tm_year + 1900 < 1000) {
      expected = std::string(4 - std::to_string(tm.tm_year + 1900).size(), '0') + expected;
    }
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(t - secs * 1000));
    ASSERT_EQ(FormatTimestamp(t), expected + ms) << t;
  }
  EXPECT_EQ(FormatTimestamp(kMaxTimestamp + 1), "10000-01-01T00:00:00.000Z");
  char buf[kMaxTimestampLength];
  EXPECT_EQ(std::string(buf, FormatTimestampTo(1795304540123, buf)), "2026-11-21T23:42:20.123Z");
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
