#include <gtest/gtest.h>

#include "store/store.h"

namespace rollcall {
namespace {

TEST(RedactedUrl, HidesOnlyThePassword) {
  EXPECT_EQ(RedactedUrl("postgresql://rc:s3cret@db:5432/rollcall"),
            "postgresql://rc:***@db:5432/rollcall");
  EXPECT_EQ(RedactedUrl("postgres://rc:p%40ss@h1:5432,h2:5432/db?sslmode=require"),
            "postgres://rc:***@h1:5432,h2:5432/db?sslmode=require");
  EXPECT_EQ(RedactedUrl("postgresql://rc@db:5432/rollcall"), "postgresql://rc@db:5432/rollcall");
  EXPECT_EQ(RedactedUrl("postgresql://db:5432/x?user=a@b"), "postgresql://db:5432/x?user=a@b");
  EXPECT_EQ(RedactedUrl("sqlite:var/rollcall.db"), "sqlite:var/rollcall.db");
}

TEST(OpenStore, RejectsUnknownSchemes) {
  StatusOr<std::unique_ptr<Store>> s = OpenStore("mysql://x", StoreOptions{});
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
}

TEST(OpenStore, UnreachablePostgresIsUnavailable) {
  // Port 1 on loopback refuses connections at once.
  StatusOr<std::unique_ptr<Store>> s =
      OpenStore("postgresql://rollcall@127.0.0.1:1/rollcall", StoreOptions{});
  EXPECT_EQ(s.status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace rollcall
