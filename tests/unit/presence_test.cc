// The pure rules of live presence (core/presence.h) and the media server's call names.
#include "core/presence.h"

#include <gtest/gtest.h>

#include "core/media_presence.h"

namespace rollcall {
namespace {

constexpr Millis kT = 1795304540000;

MemberPresence Seen(PresenceSource source, bool heartbeats = false) {
  MemberPresence p;
  p.source = source;
  p.heartbeats = heartbeats;
  p.last_seen_at = kT;
  return p;
}

TEST(PresenceSettings, DefaultsAndRanges) {
  PresenceSettings s;
  EXPECT_EQ(s.timeout_seconds, 60);
  EXPECT_EQ(s.reconnect_window_seconds, 10);
  EXPECT_EQ(s.idle_session_seconds, 300);
  EXPECT_FALSE(s.manage_server_side);
  EXPECT_TRUE(ValidatePresenceSettings(s).ok());
  EXPECT_TRUE(ValidatePresenceSettings({1, 0, 0, true}).ok());
  EXPECT_TRUE(ValidatePresenceSettings({3600, 300, 86400, false}).ok());
  for (const PresenceSettings& bad :
       {PresenceSettings{0, 10, 300}, PresenceSettings{3601, 10, 300},
        PresenceSettings{60, -1, 300}, PresenceSettings{60, 301, 300}, PresenceSettings{60, 10, -1},
        PresenceSettings{60, 10, 86401}}) {
    EXPECT_EQ(ValidatePresenceSettings(bad).code(), Code::kInvalidArgument);
  }
}

TEST(PresenceSource, Names) {
  for (PresenceSource s : {PresenceSource::kServer, PresenceSource::kClient, PresenceSource::kMedia,
                           PresenceSource::kReplica}) {
    EXPECT_EQ(ParsePresenceSource(PresenceSourceName(s)), s);
  }
  EXPECT_FALSE(ParsePresenceSource("server").has_value());
}

TEST(Presence, WhoIsTimedAndWhoIsResumable) {
  const PresenceSettings plain;
  PresenceSettings managed;
  managed.manage_server_side = true;
  struct Row {
    PresenceSource source;
    bool heartbeats;
    bool timed, resumable, timed_managed, resumable_managed;
  };
  const Row rows[] = {
      {PresenceSource::kClient, false, true, true, true, true},
      {PresenceSource::kMedia, false, false, true, false, true},
      {PresenceSource::kMedia, true, true, true, true, true},
      {PresenceSource::kServer, false, false, false, true, true},
      {PresenceSource::kServer, true, true, true, true, true},
      {PresenceSource::kReplica, false, false, false, false, false},
      {PresenceSource::kReplica, true, false, false, false, false},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(std::string(PresenceSourceName(r.source)) + (r.heartbeats ? " hb" : ""));
    MemberPresence p = Seen(r.source, r.heartbeats);
    EXPECT_EQ(presence::IsTimed(p, plain), r.timed);
    EXPECT_EQ(presence::IsResumable(p, plain), r.resumable);
    EXPECT_EQ(presence::IsTimed(p, managed), r.timed_managed);
    EXPECT_EQ(presence::IsResumable(p, managed), r.resumable_managed);
  }
}

TEST(Presence, DueTimeAndOverdue) {
  PresenceSettings s;
  s.timeout_seconds = 45;
  MemberPresence client = Seen(PresenceSource::kClient);
  EXPECT_EQ(presence::DueAt(client, s), kT + 45000);
  EXPECT_FALSE(presence::DueAt(Seen(PresenceSource::kServer), s).has_value());
  MemberPresence never_seen;
  never_seen.source = PresenceSource::kClient;
  EXPECT_FALSE(presence::DueAt(never_seen, s).has_value());

  client.due_at = kT + 45000;
  EXPECT_FALSE(presence::IsOverdue(client, kT + 44999));
  EXPECT_TRUE(presence::IsOverdue(client, kT + 45000));
  EXPECT_FALSE(presence::IsOverdue(Seen(PresenceSource::kServer), kT + 1000000));
}

TEST(Presence, StaleReports) {
  MemberPresence p;
  EXPECT_FALSE(presence::IsStale(p, 1));
  EXPECT_FALSE(presence::IsStale(p, std::nullopt));
  p.last_seq = 5;
  EXPECT_TRUE(presence::IsStale(p, 4));
  EXPECT_TRUE(presence::IsStale(p, 5));  // a repeat
  EXPECT_FALSE(presence::IsStale(p, 6));
  EXPECT_FALSE(presence::IsStale(p, std::nullopt));  // no seq: arrival order
}

TEST(Presence, ReportTimeNeverGoesBack) {
  MemberPresence p;
  EXPECT_EQ(presence::ReportTime(p, kT), kT);
  p.last_seen_at = kT;
  EXPECT_EQ(presence::ReportTime(p, kT - 5), kT);
  EXPECT_EQ(presence::ReportTime(p, kT + 5), kT + 5);
}

TEST(Presence, ReconnectWindow) {
  PresenceSettings s;
  MemberPresence client = Seen(PresenceSource::kClient);
  EXPECT_EQ(presence::ResumableUntil(client, s, kT + 1000), kT + 11000);
  EXPECT_FALSE(presence::ResumableUntil(Seen(PresenceSource::kServer), s, kT).has_value());
  s.reconnect_window_seconds = 0;
  EXPECT_FALSE(presence::ResumableUntil(client, s, kT).has_value());

  client.resumable_until = kT + 11000;
  EXPECT_TRUE(presence::Continues(client, kT + 11000));
  EXPECT_FALSE(presence::Continues(client, kT + 11001));
  EXPECT_FALSE(presence::Continues(Seen(PresenceSource::kClient), kT));
}

TEST(Presence, IdleWindow) {
  PresenceSettings s;
  SessionPresence implicit{true, std::nullopt};
  SessionPresence explicit_session{false, std::nullopt};
  EXPECT_EQ(presence::IdleDueAt(implicit, s, 0, kT), kT + 300000);
  EXPECT_FALSE(presence::IdleDueAt(implicit, s, 1, kT).has_value());
  EXPECT_FALSE(presence::IdleDueAt(explicit_session, s, 0, kT).has_value());
  s.idle_session_seconds = 0;
  EXPECT_EQ(presence::IdleDueAt(implicit, s, 0, kT), kT);

  implicit.idle_due_at = kT;
  EXPECT_FALSE(presence::IsIdleOver(implicit, kT - 1));
  EXPECT_TRUE(presence::IsIdleOver(implicit, kT));
  EXPECT_FALSE(presence::IsIdleOver(explicit_session, kT));
}

TEST(MediaCall, Names) {
  using Kind = MediaCall::Kind;
  EXPECT_EQ(ParseMediaCallKind("publish"), Kind::kPublish);
  EXPECT_EQ(ParseMediaCallKind("play"), Kind::kPlay);
  EXPECT_EQ(ParseMediaCallKind("publish_done"), Kind::kPublishDone);
  EXPECT_EQ(ParseMediaCallKind("play_done"), Kind::kPlayDone);
  EXPECT_EQ(ParseMediaCallKind("update_publish"), Kind::kUpdatePublish);
  EXPECT_EQ(ParseMediaCallKind("update_play"), Kind::kUpdatePlay);
  EXPECT_EQ(ParseMediaCallKind("record_done"), Kind::kRecordDone);
  for (const char* other : {"connect", "disconnect", "done", "update", "", "PUBLISH"}) {
    EXPECT_FALSE(ParseMediaCallKind(other).has_value()) << other;
  }
}

}  // namespace
}  // namespace rollcall
