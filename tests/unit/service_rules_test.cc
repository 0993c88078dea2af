#include <gtest/gtest.h>

#include "core/service.h"

namespace rollcall {
namespace {

EnterRequest Valid() { return EnterRequest{"user-1", "kim", std::nullopt, std::nullopt}; }

TEST(ValidateEnter, AcceptsTheLimits) {
  EnterRequest r = Valid();
  r.participant_id = std::string(128, 'p');
  r.nickname = std::string(64, 'n');
  r.profile_image_url = std::string(2048, 'u');
  r.attributes = Attributes{{"k", std::string(1023, 'v')}};
  EXPECT_TRUE(ValidateEnter(r).ok());
  r.nickname = "김민수";
  EXPECT_TRUE(ValidateEnter(r).ok());
  r.profile_image_url = "";
  EXPECT_TRUE(ValidateEnter(r).ok());
}

TEST(ValidateEnter, RejectsEachBadField) {
  auto with = [](auto change) {
    EnterRequest r = Valid();
    change(r);
    return ValidateEnter(r).code();
  };
  EXPECT_EQ(with([](EnterRequest& r) { r.participant_id = ""; }), Code::kInvalidArgument);
  EXPECT_EQ(with([](EnterRequest& r) { r.participant_id = std::string(129, 'p'); }),
            Code::kInvalidArgument);
  EXPECT_EQ(with([](EnterRequest& r) { r.participant_id = "a\tb"; }), Code::kInvalidArgument);
  EXPECT_EQ(with([](EnterRequest& r) { r.nickname = ""; }), Code::kInvalidArgument);
  EXPECT_EQ(with([](EnterRequest& r) { r.nickname = std::string(65, 'n'); }),
            Code::kInvalidArgument);
  EXPECT_EQ(with([](EnterRequest& r) { r.profile_image_url = std::string(2049, 'u'); }),
            Code::kInvalidArgument);
  EXPECT_EQ(with([](EnterRequest& r) { r.attributes = Attributes{{"k", std::string(1024, 'v')}}; }),
            Code::kInvalidArgument);
  EXPECT_EQ(with([](EnterRequest& r) { r.nickname = "\xff"; }), Code::kInvalidArgument);
}

TEST(CheckWritable, ByStatus) {
  Application a;
  a.status = AppStatus::kActive;
  EXPECT_TRUE(rules::CheckWritable(a).ok());
  a.status = AppStatus::kInactive;
  EXPECT_EQ(rules::CheckWritable(a).code(), Code::kApplicationInactive);
  a.status = AppStatus::kDeleted;
  EXPECT_EQ(rules::CheckWritable(a).code(), Code::kApplicationDeleted);
}

TEST(AttributesToJson, SerializesAnObject) {
  EXPECT_EQ(AttributesToJson({}), "{}");
  EXPECT_EQ(AttributesToJson({{"a", "1"}, {"b", "\""}}), R"({"a":"1","b":"\""})");
}

}  // namespace
}  // namespace rollcall
