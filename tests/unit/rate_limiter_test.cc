#include "core/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace rollcall {
namespace {

constexpr Millis kStart = 1'800'000'000'000;

TEST(RateLimiter, DisabledAdmitsEverything) {
  ManualClock clock(kStart);
  RateLimiter limiter(RateLimit{}, &clock);
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(limiter.Admit("apikey:a").ok());
  EXPECT_EQ(limiter.BucketCount(), 0u);
}

TEST(RateLimiter, BurstThenLimitedWithRetryAfter) {
  ManualClock clock(kStart);
  RateLimiter limiter(RateLimit{10, 5}, &clock);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.Admit("apikey:a").ok()) << i;
  Status s = limiter.Admit("apikey:a");
  EXPECT_EQ(s.code(), Code::kRateLimited);
  // 10 per second: the next token is 100 ms away.
  EXPECT_EQ(s.retry_after_ms(), 100);
  clock.Advance(40);
  s = limiter.Admit("apikey:a");
  EXPECT_EQ(s.code(), Code::kRateLimited);
  EXPECT_EQ(s.retry_after_ms(), 60);
  clock.Advance(60);
  EXPECT_TRUE(limiter.Admit("apikey:a").ok());
  EXPECT_FALSE(limiter.Admit("apikey:a").ok());
}

TEST(RateLimiter, RefillsUpToBurstOnly) {
  ManualClock clock(kStart);
  RateLimiter limiter(RateLimit{100, 3}, &clock);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.Admit("k").ok());
  ASSERT_FALSE(limiter.Admit("k").ok());
  clock.Advance(3'600'000);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.Admit("k").ok()) << i;
  EXPECT_FALSE(limiter.Admit("k").ok());
}

TEST(RateLimiter, RejectedRequestsTakeNothing) {
  ManualClock clock(kStart);
  RateLimiter limiter(RateLimit{1, 1}, &clock);
  ASSERT_TRUE(limiter.Admit("k").ok());
  for (int i = 0; i < 100; ++i) ASSERT_FALSE(limiter.Admit("k").ok());
  clock.Advance(1000);
  EXPECT_TRUE(limiter.Admit("k").ok());
}

TEST(RateLimiter, CredentialsAreIndependent) {
  ManualClock clock(kStart);
  RateLimiter limiter(RateLimit{1, 2}, &clock);
  ASSERT_TRUE(limiter.Admit(ApiKeyCredential("app-1")).ok());
  ASSERT_TRUE(limiter.Admit(ApiKeyCredential("app-1")).ok());
  ASSERT_FALSE(limiter.Admit(ApiKeyCredential("app-1")).ok());
  EXPECT_TRUE(limiter.Admit(ApiKeyCredential("app-2")).ok());
  EXPECT_TRUE(limiter.Admit(AdminCredential("123456789012")).ok());
  EXPECT_TRUE(limiter.Admit(AccessKeyCredential("AKIAEXAMPLE")).ok());
  EXPECT_NE(ApiKeyCredential("x"), AdminCredential("x"));
  EXPECT_NE(ApiKeyCredential("x"), AccessKeyCredential("x"));
}

TEST(RateLimiter, DefaultBurstIsOneSecondOfRate) {
  ManualClock clock(kStart);
  RateLimiter limiter(RateLimit{4, 0}, &clock);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(limiter.Admit("k").ok());
  EXPECT_FALSE(limiter.Admit("k").ok());
}

TEST(RateLimiter, ClockGoingBackDoesNotMintTokens) {
  ManualClock clock(kStart);
  RateLimiter limiter(RateLimit{1, 1}, &clock);
  ASSERT_TRUE(limiter.Admit("k").ok());
  clock.Set(kStart - 60'000);
  EXPECT_FALSE(limiter.Admit("k").ok());
  clock.Set(kStart + 1000);
  EXPECT_TRUE(limiter.Admit("k").ok());
}

TEST(RateLimiter, FullBucketsAreSweptSoMemoryStaysBounded) {
  ManualClock clock(kStart);
  RateLimiter limiter(RateLimit{1000, 1}, &clock);
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 20000; ++i)
      limiter.Admit("c" + std::to_string(round) + "-" + std::to_string(i));
    clock.Advance(2000);
  }
  // 80000 credentials were seen; once shards grew past their threshold in the last round,
  // the earlier rounds' (full) buckets were dropped.
  EXPECT_LT(limiter.BucketCount(), 30000u);
  EXPECT_GE(limiter.BucketCount(), 20000u);
}

TEST(RateLimiter, ConcurrentCallersShareOneBucketExactly) {
  ManualClock clock(kStart);
  RateLimiter limiter(RateLimit{1, 1000}, &clock);
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (limiter.Admit("shared").ok()) admitted.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 1000);
}

}  // namespace
}  // namespace rollcall
