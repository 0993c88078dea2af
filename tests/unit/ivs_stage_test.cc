// Pure stage rules of the core: ARNs, filters, recording prefix, token nickname, settings.
#include <gtest/gtest.h>

#include "core/stage.h"
#include "core/stage_service.h"

namespace rollcall {
namespace {

TEST(Arn, ParsesIvsArns) {
  std::optional<Arn> a = ParseArn("arn:aws:ivs:us-east-1:123456789012:stage/AbCdEf123456");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->account, "123456789012");
  EXPECT_EQ(a->type, "stage");
  EXPECT_EQ(a->id, "AbCdEf123456");
  a = ParseArn("arn:aws:ivs:eu-west-1:1:storage-configuration/x-1");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->type, "storage-configuration");
  EXPECT_EQ(IvsArn("us-east-1", "123456789012", "stage", "AbCdEf123456"),
            "arn:aws:ivs:us-east-1:123456789012:stage/AbCdEf123456");
}

TEST(Arn, RefusesOthers) {
  for (const char* bad :
       {"", "arn:aws:ivs:us-east-1:123456789012:stage", "arn:aws:ivs:us-east-1:12a:stage/x",
        "arn:aws:ivs::1:stage/x", "arn:aws:ivs:US:1:stage/x", "arn:aws:ivs:us-east-1:1:stage/",
        "arn:aws:ivs:us-east-1:1:stage/a/b", "arn:aws:s3:us-east-1:1:stage/x",
        "arn:aws:ivs:us-east-1:1:Stage/x", "arn:aws:ivs:us-east-1:1:stage/a_b"}) {
    EXPECT_FALSE(ParseArn(bad).has_value()) << bad;
  }
}

TEST(ParticipantFilter, AtMostOne) {
  ParticipantQuery q;
  StatusOr<ParticipantFilter> f = ParseParticipantFilter(q);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->kind, ParticipantFilter::Kind::kNone);
  q.user_id = "u";
  q.published = true;
  EXPECT_EQ(ParseParticipantFilter(q).status().code(), Code::kInvalidArgument);
}

TEST(ParticipantFilter, EachKind) {
  ParticipantQuery q;
  q.user_id = "";
  EXPECT_EQ(ParseParticipantFilter(q)->kind, ParticipantFilter::Kind::kUserId);
  q = {};
  q.published = false;
  EXPECT_EQ(ParseParticipantFilter(q)->kind, ParticipantFilter::Kind::kPublished);
  EXPECT_FALSE(ParseParticipantFilter(q)->published);
  q = {};
  q.state = "DISCONNECTED";
  EXPECT_EQ(ParseParticipantFilter(q)->kind, ParticipantFilter::Kind::kState);
  EXPECT_FALSE(ParseParticipantFilter(q)->connected);
  q.state = "LEFT";
  EXPECT_FALSE(ParseParticipantFilter(q).ok());
  q = {};
  q.recording_state = "STOPPED";
  EXPECT_EQ(ParseParticipantFilter(q)->recording_state, RecordingState::kStopped);
  q.recording_state = "DISABLED";
  EXPECT_FALSE(ParseParticipantFilter(q).ok());
}

TEST(StageRules, RecordingPrefixAndNickname) {
  EXPECT_EQ(RecordingPrefix("AbCdEf123456", "st-AbCdEfGh12345", "p1"),
            "AbCdEf123456/st-AbCdEfGh12345/p1");
  EXPECT_EQ(TokenNickname({{"nickname", "kim"}}, "user", "pid"), "kim");
  EXPECT_EQ(TokenNickname({{"nickname", ""}}, "user", "pid"), "user");
  EXPECT_EQ(TokenNickname({}, "", "pid"), "pid");
}

TEST(StageRules, EnumNamesRoundTrip) {
  for (auto s : {RecordingState::kStarting, RecordingState::kActive, RecordingState::kStopping,
                 RecordingState::kStopped, RecordingState::kFailed, RecordingState::kDisabled}) {
    EXPECT_EQ(ParseRecordingState(RecordingStateName(s)), s);
  }
  for (auto p : {ParticipantProtocol::kUnknown, ParticipantProtocol::kWhip,
                 ParticipantProtocol::kRtmp, ParticipantProtocol::kRtmps}) {
    EXPECT_EQ(ParseProtocol(ProtocolName(p)), p);
  }
  EXPECT_EQ(ReplicationTypeName(ReplicationType::kReplica), "REPLICA");
  EXPECT_EQ(ParseReplicationState("STOPPED"), ReplicationState::kStopped);
  EXPECT_FALSE(ParseProtocol("SRT").has_value());
}

TEST(StageRules, AutoRecordingSettingsRoundTrip) {
  AutoRecording r;
  r.media_type = "AUDIO_ONLY";
  r.thumbnail_interval_seconds = 10;
  r.thumbnail_storage = {"LATEST", "SEQUENTIAL"};
  r.thumbnail_mode = "DISABLED";
  r.reconnect_window_seconds = 300;
  r.hls_segment_seconds = 2;
  r.record_replicas = false;
  AutoRecording back = AutoRecordingFromSettings(7, AutoRecordingSettingsJson(r));
  EXPECT_EQ(back.storage_configuration_id, 7);
  EXPECT_EQ(back.media_type, "AUDIO_ONLY");
  EXPECT_EQ(back.thumbnail_interval_seconds, 10);
  EXPECT_EQ(back.thumbnail_storage, r.thumbnail_storage);
  EXPECT_EQ(back.thumbnail_mode, "DISABLED");
  EXPECT_EQ(back.reconnect_window_seconds, 300);
  EXPECT_EQ(back.hls_segment_seconds, 2);
  EXPECT_FALSE(back.record_replicas);
  EXPECT_EQ(AutoRecordingFromSettings(1, "garbage").media_type, "AUDIO_VIDEO");
}

}  // namespace
}  // namespace rollcall
