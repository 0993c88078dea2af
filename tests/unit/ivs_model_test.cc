// The service-model validation table and the IVS error mapping.
#include "ivs/ivs_model.h"

#include <gtest/gtest.h>

#include "ivs/ivs_errors.h"

namespace rollcall::ivs {
namespace {

namespace json = boost::json;

const ServiceModel& Model() { return ServiceModel::Get(); }

Status Check(std::string_view op, std::string_view body) {
  const ServiceModel::Operation* o = Model().FindOperation(op);
  EXPECT_NE(o, nullptr) << op;
  return Model().ValidateInput(*o, json::parse(body).as_object());
}

TEST(IvsModel, HasEveryOperationWithItsBinding) {
  EXPECT_EQ(Model().operations().size(), 39u);
  const ServiceModel::Operation* list_tags = Model().FindOperation("ListTagsForResource");
  ASSERT_NE(list_tags, nullptr);
  EXPECT_EQ(list_tags->method, "GET");
  EXPECT_EQ(list_tags->uri, "/tags/{resourceArn}");
  EXPECT_EQ(Model().FindOperation("CreateStage")->uri, "/CreateStage");
  EXPECT_EQ(Model().FindOperation("NoSuchOperation"), nullptr);
  EXPECT_TRUE(Model().HasShape("ParticipantClientAttribute"));
}

TEST(IvsModel, AcceptsValidInputs) {
  EXPECT_TRUE(Check("CreateStage", R"({"name":"my-stage_1","tags":{"k":"v"},
      "participantTokenConfigurations":[{"duration":20160,"userId":"u","capabilities":["PUBLISH"]}],
      "autoParticipantRecordingConfiguration":{"storageConfigurationArn":""}})")
                  .ok());
  EXPECT_TRUE(Check("ListParticipants",
                    R"({"stageArn":"arn:aws:ivs:us-east-1:123456789012:stage/AbCdEf123456",
      "sessionId":"st-AbCdEfGh12345","maxResults":100,"filterByState":"CONNECTED"})")
                  .ok());
  EXPECT_TRUE(Check("ListStages", "{}").ok());
}

TEST(IvsModel, RequiredMembers) {
  Status s = Check("GetStage", "{}");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("'arn'"), std::string::npos);
  EXPECT_NE(s.message().find("must not be null"), std::string::npos);
  EXPECT_FALSE(Check("CreateStorageConfiguration", R"({"s3":{}})").ok());
}

TEST(IvsModel, LengthsInCodePoints) {
  EXPECT_TRUE(Check("CreateParticipantToken",
                    R"({"stageArn":"arn:aws:ivs:us-east-1:1:stage/a","userId":")" +
                        std::string(128, 'x') + R"("})")
                  .ok());
  Status s = Check("CreateParticipantToken",
                   R"({"stageArn":"arn:aws:ivs:us-east-1:1:stage/a","userId":")" +
                       std::string(129, 'x') + R"("})");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("length less than or equal to 128"), std::string::npos);
  // 128 two-byte characters are 128 characters.
  std::string korean;
  for (int i = 0; i < 128; ++i) korean += "\xea\xb0\x80";
  EXPECT_TRUE(
      Check("CreateParticipantToken",
            R"({"stageArn":"arn:aws:ivs:us-east-1:1:stage/a","userId":")" + korean + R"("})")
          .ok());
  EXPECT_FALSE(Check("GetStageSession",
                     R"({"stageArn":"arn:aws:ivs:us-east-1:1:stage/a","sessionId":"st-short"})")
                   .ok());
}

TEST(IvsModel, PatternsMatchTheWholeValue) {
  EXPECT_FALSE(Check("CreateStage", R"({"name":"has space"})").ok());
  EXPECT_FALSE(Check("CreateStage", R"({"name":"ok-but-!"})").ok());
  EXPECT_TRUE(Check("CreateStage", R"({"name":"a-b_c"})").ok());
  EXPECT_FALSE(Check("GetStage", R"({"arn":"xarn:aws:ivs:us-east-1:1:stage/a"})").ok());
  EXPECT_FALSE(Check("GetStage", R"({"arn":"arn:aws:ivs:us-east-1:1:stage/a/b"})").ok());
  EXPECT_FALSE(Check("GetStage", R"({"arn":"arn:aws:ivs:us-east-1:1:channel/a"})").ok());
  EXPECT_FALSE(
      Check("GetStageSession",
            R"({"stageArn":"arn:aws:ivs:us-east-1:1:stage/a","sessionId":"xx-AbCdEfGh12345"})")
          .ok());
  EXPECT_FALSE(Check("CreateStorageConfiguration", R"({"s3":{"bucketName":"Upper_Case"}})").ok());
  EXPECT_FALSE(Check("ListStages", R"({"nextToken":"has space"})").ok());
}

TEST(IvsModel, ResourceArnPatternIsTheCorrectedOne) {
  // The model's own ResourceArn pattern matches no real ARN; rollcall uses the fixed one.
  EXPECT_TRUE(Check("ListTagsForResource",
                    R"({"resourceArn":"arn:aws:ivs:us-east-1:123456789012:stage/AbCdEf123456"})")
                  .ok());
  EXPECT_TRUE(Check("ListTagsForResource",
                    R"({"resourceArn":"arn:aws:ivs:us-east-1:1:storage-configuration/x"})")
                  .ok());
  EXPECT_FALSE(
      Check("ListTagsForResource", R"({"resourceArn":"arn:aws:ivs:us-east-1:1:stage"})").ok());
}

TEST(IvsModel, EnumsAndRanges) {
  const std::string arn =
      R"("stageArn":"arn:aws:ivs:us-east-1:1:stage/a","sessionId":"st-AbCdEfGh12345")";
  Status e = Check("ListParticipants", "{" + arn + R"(,"filterByState":"connected"})");
  EXPECT_EQ(e.code(), Code::kInvalidArgument);
  EXPECT_NE(e.message().find("enum value set: [CONNECTED, DISCONNECTED]"), std::string::npos);
  EXPECT_FALSE(
      Check("ListParticipants", "{" + arn + R"(,"filterByRecordingState":"DISABLED"})").ok());
  EXPECT_FALSE(Check("ListParticipants", "{" + arn + R"(,"maxResults":0})").ok());
  Status big = Check("ListParticipants", "{" + arn + R"(,"maxResults":101})");
  EXPECT_NE(big.message().find("value less than or equal to 100"), std::string::npos);
  EXPECT_FALSE(
      Check(
          "ListParticipantReplicas",
          R"({"sourceStageArn":"arn:aws:ivs:us-east-1:1:stage/a","participantId":"p","maxResults":51})")
          .ok());
  EXPECT_FALSE(Check("CreateParticipantToken",
                     R"({"stageArn":"arn:aws:ivs:us-east-1:1:stage/a","duration":20161})")
                   .ok());
  EXPECT_FALSE(Check("CreateParticipantToken",
                     R"({"stageArn":"arn:aws:ivs:us-east-1:1:stage/a","capabilities":["ADMIN"]})")
                   .ok());
  EXPECT_FALSE(
      Check(
          "CreateParticipantToken",
          R"({"stageArn":"arn:aws:ivs:us-east-1:1:stage/a","capabilities":["PUBLISH","SUBSCRIBE","PUBLISH"]})")
          .ok());
}

TEST(IvsModel, ListAndMapSizes) {
  std::string tokens = "[";
  for (int i = 0; i < 13; ++i) tokens += std::string(i ? "," : "") + "{}";
  tokens += "]";
  EXPECT_FALSE(Check("CreateStage", R"({"participantTokenConfigurations":)" + tokens + "}").ok());
  std::string tags = "{";
  for (int i = 0; i < 51; ++i)
    tags += std::string(i ? "," : "") + "\"k" + std::to_string(i) + "\":\"v\"";
  tags += "}";
  EXPECT_FALSE(Check("CreateStage", R"({"tags":)" + tags + "}").ok());
  EXPECT_FALSE(Check("CreateStage", R"({"tags":{"":"v"}})").ok());
}

TEST(IvsModel, JsonTypes) {
  EXPECT_FALSE(Check("ListStages", R"({"maxResults":"10"})").ok());
  EXPECT_FALSE(Check("ListStages", R"({"maxResults":1.5})").ok());
  EXPECT_FALSE(Check("CreateStage", R"({"name":5})").ok());
  EXPECT_FALSE(Check("CreateStage", R"({"tags":[]})").ok());
  EXPECT_FALSE(
      Check(
          "ListParticipants",
          R"({"stageArn":"arn:aws:ivs:us-east-1:1:stage/a","sessionId":"st-AbCdEfGh12345","filterByPublished":"true"})")
          .ok());
}

TEST(IvsModel, ClientAttributeShape) {
  EXPECT_TRUE(Model()
                  .Validate("ParticipantClientAttribute", json::value("Chrome 120.0, x_y:z;"), "b")
                  .ok());
  EXPECT_FALSE(Model().Validate("ParticipantClientAttribute", json::value("<script>"), "b").ok());
  EXPECT_FALSE(Model().Validate("ParticipantProtocol", json::value("SRT"), "protocol").ok());
  EXPECT_TRUE(Model().Validate("ParticipantProtocol", json::value("WHIP"), "protocol").ok());
}

TEST(IvsErrors, OneMappingPerOutcome) {
  EXPECT_EQ(IvsErrorFor(Code::kInvalidArgument).code, "ValidationException");
  EXPECT_EQ(IvsErrorFor(Code::kInvalidArgument).status, 400u);
  EXPECT_EQ(IvsErrorFor(Code::kNotFound).code, "ResourceNotFoundException");
  EXPECT_EQ(IvsErrorFor(Code::kSessionNotFound).status, 404u);
  EXPECT_EQ(IvsErrorFor(Code::kConflict).code, "ConflictException");
  EXPECT_EQ(IvsErrorFor(Code::kApplicationInactive).status, 409u);
  EXPECT_EQ(IvsErrorFor(Code::kForbidden).code, "AccessDeniedException");
  EXPECT_EQ(IvsErrorFor(Code::kRateLimited).code, "ThrottlingException");
  EXPECT_EQ(IvsErrorFor(Code::kRateLimited).status, 429u);
  EXPECT_EQ(IvsErrorFor(Code::kInternal).code, "InternalServerException");
  EXPECT_EQ(IvsErrorFor(SigV4Error::kMissing).code, "MissingAuthenticationTokenException");
  EXPECT_EQ(IvsErrorFor(SigV4Error::kMismatch).code, "InvalidSignatureException");
  EXPECT_EQ(IvsErrorFor(SigV4Error::kExpired).status, 403u);
  EXPECT_EQ(IvsErrorFor(SigV4Error::kUnknownKey).code, "UnrecognizedClientException");
  EXPECT_EQ(IvsErrorFor(SigV4Error::kIncomplete).code, "IncompleteSignatureException");
  http::Response r = IvsErrorResponse(Status::Invalid("bad"), "req-1");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"__type":"ValidationException","message":"bad"})"));
  bool type = false, id = false;
  for (const auto& [k, v] : r.headers) {
    type = type || (k == "x-amzn-ErrorType" && v == "ValidationException");
    id = id || (k == "x-amzn-RequestId" && v == "req-1");
  }
  EXPECT_TRUE(type);
  EXPECT_TRUE(id);
}

}  // namespace
}  // namespace rollcall::ivs
