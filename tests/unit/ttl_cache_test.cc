#include "core/ttl_cache.h"

#include <gtest/gtest.h>

#include <thread>

namespace rollcall {
namespace {

using std::chrono::milliseconds;

TEST(TtlCache, AnswersUntilItExpires) {
  TtlCache<int> c(milliseconds(50), 10);
  EXPECT_FALSE(c.Get("a"));
  c.Put("a", 1, c.generation());
  EXPECT_EQ(c.Get("a"), 1);
  std::this_thread::sleep_for(milliseconds(60));
  EXPECT_FALSE(c.Get("a"));
}

TEST(TtlCache, InvalidateDropsEverythingAndRefusesStaleReads) {
  TtlCache<int> c(milliseconds(60000), 10);
  c.Put("a", 1, c.generation());
  const uint64_t before = c.generation();  // a reader starts reading "b"...
  c.Invalidate();                          // ...a write changes it and invalidates...
  c.Put("b", 2, before);                   // ...and the reader's stale value is refused.
  EXPECT_FALSE(c.Get("a"));
  EXPECT_FALSE(c.Get("b"));
  c.Put("b", 3, c.generation());
  EXPECT_EQ(c.Get("b"), 3);
}

TEST(TtlCache, StaysWithinCapacity) {
  TtlCache<int> c(milliseconds(60000), 3);
  for (int i = 0; i < 3; ++i) c.Put(std::to_string(i), i, c.generation());
  EXPECT_EQ(c.Get("2"), 2);
  c.Put("2", 20, c.generation());  // replacing does not evict
  EXPECT_EQ(c.Get("0"), 0);
  c.Put("3", 3, c.generation());  // a fourth key drops the rest
  EXPECT_EQ(c.Get("3"), 3);
  EXPECT_FALSE(c.Get("0"));
}

}  // namespace
}  // namespace rollcall
