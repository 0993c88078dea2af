// Live presence over each store backend, time-controlled with a ManualClock: heartbeats and
// timeouts, reconnect windows, the idle end of implicit sessions, ordering by seq, settings,
// and presence reported by a media server (core/media_presence.h).
#include "presence_fixture.h"

namespace rollcall::presence_test {
namespace {

using Kind = MediaCall::Kind;

PresencePatch Settings(std::optional<int64_t> timeout, std::optional<int64_t> window = {},
                       std::optional<int64_t> idle = {}, std::optional<bool> manage = {}) {
  return PresencePatch{timeout, window, idle, manage};
}

std::vector<std::string> Names(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) {
    out.push_back(e.reason.empty() ? e.name : e.name + "(" + e.reason + ")");
  }
  return out;
}

using Strings = std::vector<std::string>;

class PresenceContract : public PresenceFixture {};

// --- heartbeats and timeouts ---

TEST_P(PresenceContract, AClientTimesOutAtItsLastHeartbeat) {
  TestStage st = MakeStage();
  TokenClaims a = Token(st, "a");
  StatusOr<PresenceView> j = Join(a);
  ASSERT_TRUE(j.ok()) << j.status().message();
  const std::string sid = j->stage_session_id;
  clock_.Advance(30 * kSecond);
  StatusOr<PresenceView> hb = Heartbeat(a);
  ASSERT_TRUE(hb.ok()) << hb.status().message();
  EXPECT_TRUE(hb->connected);
  const Millis seen = clock_.Now();

  clock_.Advance(60 * kSecond - 1);
  Reap();
  EXPECT_TRUE(Get(st, sid, a.participant_id).connected());
  clock_.Advance(1);
  Reap();
  EXPECT_FALSE(Get(st, sid, a.participant_id).connected());

  std::vector<Event> events = Events(st, sid, a.participant_id);
  EXPECT_EQ(Names(events), (Strings{"JOINED", "LEFT(TIMEOUT)"}));
  EXPECT_EQ(events.back().at, seen);
  const Session s = StageSession(st, sid);
  std::vector<Visit> visits = Visits(st, s);
  ASSERT_EQ(visits.size(), 1u);
  EXPECT_EQ(visits[0].deleted_at, seen);
  EXPECT_EQ(s.participant_count, 0);
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, ATimeoutDoesNotDependOnWhenTheReaperRuns) {
  TestStage st = MakeStage();
  TokenClaims a = Token(st, "a");
  const std::string sid = Join(a)->stage_session_id;
  clock_.Advance(10 * 60 * kSecond);
  // No reaper pass: the heartbeat finds the visit timed out at the join, 10 minutes ago.
  StatusOr<PresenceView> hb = Heartbeat(a);
  ASSERT_TRUE(hb.ok()) << hb.status().message();
  EXPECT_FALSE(hb->connected);
  std::vector<Event> events = Events(st, sid, a.participant_id);
  EXPECT_EQ(Names(events), (Strings{"JOINED", "LEFT(TIMEOUT)"}));
  EXPECT_EQ(events.back().at, kT0);
  Reap();
  EXPECT_EQ(Events(st, sid, a.participant_id).size(), 2u);
  // Left at kT0, the session has been idle since: it ended at kT0 + 300 s, and a join now
  // opens a new visit in a new session.
  StatusOr<PresenceView> again = Join(a);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->stage_session_id, sid);
  EXPECT_EQ(StageSession(st, sid).deleted_at, kT0 + 300 * kSecond);
  CheckInvariants(st, sid);
  CheckInvariants(st, again->stage_session_id);
}

TEST_P(PresenceContract, PublishingStopsWhenTheVisitTimesOut) {
  TestStage st = MakeStage();
  TokenClaims a = Token(st, "a");
  const std::string sid = Join(a)->stage_session_id;
  clock_.Advance(5 * kSecond);
  ASSERT_TRUE(Publish(a, true).ok());
  const Millis published_at = clock_.Now();
  clock_.Advance(2 * 60 * kSecond);
  Reap();
  Participant p = Get(st, sid, a.participant_id);
  EXPECT_FALSE(p.connected());
  EXPECT_TRUE(p.ivs.published);
  EXPECT_FALSE(p.ivs.publishing);
  std::vector<Event> events = Events(st, sid, a.participant_id);
  EXPECT_EQ(Names(events),
            (Strings{"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT(TIMEOUT)"}));
  EXPECT_EQ(events.back().at, published_at);  // publishing counts as being seen
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, ServerSideParticipantsAreNotTimedOutUnlessTheyHeartbeat) {
  TestStage st = MakeStage();
  Session s = StartSession(st);
  StatusOr<VisitView> e = Enter(st, s, "srv");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_TRUE(e->created);
  clock_.Advance(3600 * kSecond);
  Reap();
  EXPECT_EQ(StageSession(st, s.stage_session_id).participant_count, 1);

  // No reconnect grace either: leaving and entering again opens a second visit.
  ASSERT_TRUE(LeaveIn(st, s, "srv").ok());
  StatusOr<VisitView> again = Enter(st, s, "srv");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->created);
  EXPECT_NE(again->row.visit.uuid, e->row.visit.uuid);

  // A heartbeat opts the participant in: timed out a timeout after it, then resumable.
  clock_.Advance(kSecond);
  StatusOr<VisitView> hb = HeartbeatIn(st, s, "srv");
  ASSERT_TRUE(hb.ok()) << hb.status().message();
  EXPECT_FALSE(hb->row.visit.deleted_at.has_value());
  const Millis seen = clock_.Now();
  clock_.Advance(60 * kSecond);
  Reap();
  std::vector<Visit> visits = Visits(st, StageSession(st, s.stage_session_id));
  ASSERT_EQ(visits.size(), 2u);
  EXPECT_EQ(visits[1].deleted_at, seen);
  clock_.Advance(5 * kSecond);
  StatusOr<VisitView> back = Enter(st, s, "srv");
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->created);
  EXPECT_EQ(back->row.visit.uuid, again->row.visit.uuid);
  EXPECT_FALSE(back->row.visit.deleted_at.has_value());
  CheckInvariants(st, s.stage_session_id);
}

TEST_P(PresenceContract, AnApplicationCanManageServerSidePresence) {
  TestStage st = MakeStage(Settings(30, std::nullopt, std::nullopt, true));
  Session s = StartSession(st);
  StatusOr<VisitView> e = Enter(st, s, "m");
  ASSERT_TRUE(e.ok());
  clock_.Advance(30 * kSecond);
  Reap();
  EXPECT_EQ(StageSession(st, s.stage_session_id).participant_count, 0);
  clock_.Advance(10 * kSecond);  // the window ends 10 s after the due time: still inside it
  StatusOr<VisitView> back = Enter(st, s, "m");
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->created);
  EXPECT_EQ(back->row.visit.uuid, e->row.visit.uuid);
  CheckInvariants(st, s.stage_session_id);
}

TEST_P(PresenceContract, HeartbeatsOfParticipantsWhoNeverEnteredAreRefused) {
  TestStage st = MakeStage();
  TokenClaims a = Token(st, "a");
  EXPECT_EQ(Heartbeat(a).status().code(), Code::kParticipantNotFound);
  Session s = StartSession(st);
  EXPECT_EQ(HeartbeatIn(st, s, "nobody").status().code(), Code::kParticipantNotFound);
}

// --- reconnect grace ---

TEST_P(PresenceContract, ReconnectingWithinTheWindowContinuesTheVisit) {
  TestStage st = MakeStage();
  TokenClaims a = Token(st, "a");
  const std::string sid = Join(a)->stage_session_id;
  clock_.Advance(5 * kSecond);
  ASSERT_TRUE(Leave(a).ok());
  clock_.Advance(10 * kSecond);
  StatusOr<PresenceView> back = Join(a);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->connected);
  Session s = StageSession(st, sid);
  std::vector<Visit> visits = Visits(st, s);
  ASSERT_EQ(visits.size(), 1u);
  EXPECT_EQ(visits[0].created_at, kT0);
  EXPECT_FALSE(visits[0].deleted_at.has_value());
  EXPECT_EQ(s.participant_count, 1);
  EXPECT_EQ(s.visit_count, 1);
  EXPECT_EQ(Names(Events(st, sid, a.participant_id)),
            (Strings{"JOINED", "LEFT", "JOINED(RECONNECTED)"}));

  ASSERT_TRUE(Leave(a).ok());
  clock_.Advance(10 * kSecond + 1);
  ASSERT_TRUE(Join(a).ok());
  EXPECT_EQ(Visits(st, StageSession(st, sid)).size(), 2u);
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, AfterATimeoutTheWindowCountsFromTheDueTime) {
  TestStage st = MakeStage(Settings(20, 10));
  TokenClaims a = Token(st, "a");
  const std::string sid = Join(a)->stage_session_id;
  clock_.Advance(25 * kSecond);
  Reap();  // closed at kT0, due at kT0 + 20 s: resumable until kT0 + 30 s
  EXPECT_FALSE(Get(st, sid, a.participant_id).connected());
  clock_.Advance(5 * kSecond);
  ASSERT_TRUE(Join(a).ok());
  std::vector<Visit> visits = Visits(st, StageSession(st, sid));
  ASSERT_EQ(visits.size(), 1u);
  EXPECT_FALSE(visits[0].deleted_at.has_value());
  EXPECT_EQ(Names(Events(st, sid, a.participant_id)),
            (Strings{"JOINED", "LEFT(TIMEOUT)", "JOINED(RECONNECTED)"}));

  // Seen at kT0 + 30 s, due at + 50 s, resumable until + 60 s: a join at + 61 s is a new visit.
  clock_.Advance(31 * kSecond);
  ASSERT_TRUE(Join(a).ok());
  EXPECT_EQ(Visits(st, StageSession(st, sid)).size(), 2u);
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, AZeroWindowDisablesReconnectGrace) {
  TestStage st = MakeStage(Settings(std::nullopt, 0));
  TokenClaims a = Token(st, "a");
  const std::string sid = Join(a)->stage_session_id;
  ASSERT_TRUE(Leave(a).ok());
  ASSERT_TRUE(Join(a).ok());
  EXPECT_EQ(Visits(st, StageSession(st, sid)).size(), 2u);
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, ADisconnectedParticipantIsNotResumed) {
  TestStage st = MakeStage();
  Session s = StartSession(st);
  ASSERT_TRUE(Enter(st, s, "k").ok());
  ASSERT_TRUE(HeartbeatIn(st, s, "k").ok());  // resumable from now on
  ASSERT_TRUE(Wait<Done>([&](Callback<Done> cb) {
                stages_->DisconnectParticipant(tenant_, st.arn, "k", "", cb);
              }).ok());
  StatusOr<VisitView> again = Enter(st, s, "k");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->created);
  CheckInvariants(st, s.stage_session_id);
}

// --- the idle end of implicit sessions ---

TEST_P(PresenceContract, AnImplicitSessionEndsAfterItsIdleWindow) {
  TestStage st = MakeStage();
  TokenClaims a = Token(st, "a");
  const std::string sid = Join(a)->stage_session_id;
  clock_.Advance(20 * kSecond);
  ASSERT_TRUE(Leave(a).ok());
  const Millis left = clock_.Now();
  clock_.Advance(300 * kSecond - 1);
  Reap();
  EXPECT_EQ(ActiveSession(st), sid);
  clock_.Advance(1);
  Reap();
  EXPECT_EQ(ActiveSession(st), "");
  EXPECT_EQ(StageSession(st, sid).deleted_at, left + 300 * kSecond);
  StatusOr<PresenceView> next = Join(a);
  ASSERT_TRUE(next.ok());
  EXPECT_NE(next->stage_session_id, sid);
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, AJoinAfterTheIdleWindowStartsANewSessionWithoutTheReaper) {
  TestStage st = MakeStage(Settings(std::nullopt, std::nullopt, 60));
  TokenClaims a = Token(st, "a");
  const std::string sid = Join(a)->stage_session_id;
  ASSERT_TRUE(Leave(a).ok());
  clock_.Advance(61 * kSecond);
  StatusOr<PresenceView> next = Join(a);
  ASSERT_TRUE(next.ok());
  EXPECT_NE(next->stage_session_id, sid);
  EXPECT_EQ(StageSession(st, sid).deleted_at, kT0 + 60 * kSecond);
  CheckInvariants(st, sid);
  CheckInvariants(st, next->stage_session_id);
}

TEST_P(PresenceContract, ATimeoutStartsTheIdleWindowAtTheLastSeenTime) {
  TestStage st = MakeStage(Settings(60, 10, 120));
  TokenClaims a = Token(st, "a");
  const std::string sid = Join(a)->stage_session_id;
  clock_.Advance(200 * kSecond);
  Reap();
  Reap();
  EXPECT_EQ(ActiveSession(st), "");
  EXPECT_EQ(StageSession(st, sid).deleted_at, kT0 + 120 * kSecond);
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, ComingBackWithinTheIdleWindowKeepsTheSession) {
  TestStage st = MakeStage();
  TokenClaims a = Token(st, "a"), b = Token(st, "b");
  const std::string sid = Join(a)->stage_session_id;
  ASSERT_TRUE(Leave(a).ok());
  clock_.Advance(299 * kSecond);
  ASSERT_EQ(Join(b)->stage_session_id, sid);
  ASSERT_TRUE(Leave(b).ok());
  clock_.Advance(299 * kSecond);
  Reap();
  EXPECT_EQ(ActiveSession(st), sid);
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, ExplicitSessionsEndOnlyExplicitly) {
  TestStage st = MakeStage();
  Session s = StartSession(st);
  TokenClaims a = Token(st, "a");
  ASSERT_TRUE(Enter(st, s, "srv").ok());
  ASSERT_TRUE(LeaveIn(st, s, "srv").ok());
  ASSERT_EQ(Join(a)->stage_session_id, s.stage_session_id);  // joins the explicit session
  ASSERT_TRUE(Leave(a).ok());
  clock_.Advance(24 * 3600 * kSecond);
  Reap();
  EXPECT_EQ(ActiveSession(st), s.stage_session_id);
  EXPECT_TRUE(StageSession(st, s.stage_session_id).active());
}

TEST_P(PresenceContract, EndingASessionClosesVisitsAtTheEndAndClearsDueTimes) {
  TestStage st = MakeStage();
  TokenClaims a = Token(st, "a"), b = Token(st, "b");
  const std::string sid = Join(a)->stage_session_id;
  ASSERT_TRUE(Join(b).ok());
  clock_.Advance(kSecond);
  const Session s = StageSession(st, sid);
  ASSERT_TRUE(
      Wait<Session>([&](Callback<Session> cb) { service_->EndSession(st.app, s.uuid, cb); }).ok());
  for (const TokenClaims* c : {&a, &b}) {
    std::vector<Event> events = Events(st, sid, c->participant_id);
    EXPECT_EQ(Names(events), (Strings{"JOINED", "LEFT(SESSION_ENDED)"}));
    EXPECT_EQ(events.back().at, kT0 + kSecond);
  }
  std::vector<DueMember> due;
  ASSERT_TRUE(store_
                  ->Read([&](Tx& tx) {
                    due = tx.ListDueMembers(kT0 + 3600 * kSecond, 100);
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_TRUE(due.empty());
  CheckInvariants(st, sid);
}

// --- ordering of reports ---

TEST_P(PresenceContract, ALateLeaveAfterARejoinIsIgnored) {
  TestStage st = MakeStage();
  TokenClaims a = Token(st, "a");
  // Sent: join 1, leave 2, join 3. Delivered: join 1, join 3, leave 2.
  const std::string sid = Join(a, 1)->stage_session_id;
  clock_.Advance(kSecond);
  ASSERT_TRUE(Join(a, 3)->connected);
  StatusOr<PresenceView> late = Leave(a, 2);
  ASSERT_TRUE(late.ok());
  EXPECT_TRUE(late->connected);
  EXPECT_TRUE(Join(a, 3)->connected);  // a retry of join 3 changes nothing
  EXPECT_EQ(Names(Events(st, sid, a.participant_id)), (Strings{"JOINED"}));

  clock_.Advance(kSecond);
  EXPECT_FALSE(Leave(a, 4)->connected);
  EXPECT_FALSE(Leave(a, 4)->connected);  // a retry of leave 4
  EXPECT_FALSE(Join(a, 2)->connected);   // join 2 arriving very late
  EXPECT_FALSE(Heartbeat(a, 3)->connected);
  EXPECT_EQ(Names(Events(st, sid, a.participant_id)), (Strings{"JOINED", "LEFT"}));
  // Reports without seq apply in arrival order.
  EXPECT_TRUE(Join(a)->connected);
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, AStaleJoinDoesNotReopenAnEndedSession) {
  TestStage st = MakeStage();
  TokenClaims a = Token(st, "a");
  const std::string sid = Join(a, 5)->stage_session_id;
  ASSERT_FALSE(Leave(a, 6)->connected);
  clock_.Advance(301 * kSecond);
  Reap();
  ASSERT_EQ(ActiveSession(st), "");
  StatusOr<PresenceView> late = Join(a, 5);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->connected);
  EXPECT_EQ(late->stage_session_id, sid);
  EXPECT_EQ(ActiveSession(st), "");
  EXPECT_TRUE(Join(a, 7)->connected);
  EXPECT_NE(ActiveSession(st), sid);
}

TEST_P(PresenceContract, SeqOrdersInStreamReportsToo) {
  TestStage st = MakeStage();
  Session s = StartSession(st);
  ASSERT_TRUE(Enter(st, s, "p", 1).ok());
  ASSERT_TRUE(Enter(st, s, "p", 3).ok());
  StatusOr<VisitView> late = LeaveIn(st, s, "p", 2);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->row.visit.deleted_at.has_value());
  StatusOr<VisitView> left = LeaveIn(st, s, "p", 4);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->row.visit.deleted_at.has_value());
  StatusOr<VisitView> retry = Enter(st, s, "p", 3);
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->created);
  EXPECT_TRUE(retry->row.visit.deleted_at.has_value());
  CheckInvariants(st, s.stage_session_id);
}

TEST_P(PresenceContract, AClockSteppingBackKeepsEachParticipantsEventsInOrder) {
  TestStage st = MakeStage();
  TokenClaims a = Token(st, "a");
  clock_.Set(kT0 + 10 * kSecond);
  const std::string sid = Join(a)->stage_session_id;
  clock_.Set(kT0);
  ASSERT_TRUE(Heartbeat(a).ok());
  ASSERT_TRUE(Leave(a).ok());
  std::vector<Event> events = Events(st, sid, a.participant_id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].at, kT0 + 10 * kSecond);
  CheckInvariants(st, sid);
}

// --- settings ---

TEST_P(PresenceContract, SettingsAreValidatedAndApplyToOpenVisits) {
  TestStage st = MakeStage();
  for (const PresencePatch& bad :
       {Settings(0), Settings(3601), Settings(std::nullopt, -1), Settings(std::nullopt, 301),
        Settings(std::nullopt, std::nullopt, 86401)}) {
    auto r = Wait<ManagedApplication>([&](Callback<ManagedApplication> cb) {
      service_->UpdateApplication(tenant_, st.app.uuid, std::nullopt, bad, cb);
    });
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
  EXPECT_EQ(service_->GetPresenceSettings(st.app).value(), PresenceSettings{});

  TokenClaims a = Token(st, "a");
  const std::string sid = Join(a)->stage_session_id;
  clock_.Advance(10 * kSecond);
  Configure(st, Settings(5, 0, 1, true));
  EXPECT_EQ(service_->GetPresenceSettings(st.app).value(), (PresenceSettings{5, 0, 1, true}));
  Reap();  // the visit was due 5 s after the join
  std::vector<Event> events = Events(st, sid, a.participant_id);
  EXPECT_EQ(Names(events), (Strings{"JOINED", "LEFT(TIMEOUT)"}));
  EXPECT_EQ(events.back().at, kT0);
  Reap();  // idle since kT0, for 1 s
  EXPECT_EQ(StageSession(st, sid).deleted_at, kT0 + kSecond);
}

TEST_P(PresenceContract, TheDueIndexFindsDueMembersEarliestFirst) {
  TestStage st = MakeStage();
  TokenClaims a = Token(st, "a"), b = Token(st, "b");
  const std::string sid = Join(a)->stage_session_id;
  clock_.Advance(kSecond);
  ASSERT_TRUE(Join(b).ok());
  clock_.Advance(kSecond);
  ASSERT_TRUE(Heartbeat(a).ok());
  auto due_at = [&](Millis now) {
    std::vector<RowId> ids;
    EXPECT_TRUE(store_
                    ->Read([&](Tx& tx) {
                      for (const DueMember& d : tx.ListDueMembers(now, 10))
                        ids.push_back(d.member_id);
                      return Status::Ok();
                    })
                    .ok());
    return ids;
  };
  const RowId ma = Get(st, sid, a.participant_id).member.id;
  const RowId mb = Get(st, sid, b.participant_id).member.id;
  EXPECT_TRUE(due_at(kT0 + 61 * kSecond - 1).empty());
  EXPECT_EQ(due_at(kT0 + 61 * kSecond), (std::vector<RowId>{mb}));
  EXPECT_EQ(due_at(kT0 + 62 * kSecond), (std::vector<RowId>{mb, ma}));
}

// --- media servers ---

TEST_P(PresenceContract, AnRtmpPublisherAndViewerComeAndGo) {
  TestStage st = MakeStage();
  TokenClaims pub = Token(st, "pub", kCapabilityPublish);
  TokenClaims view = Token(st, "view", kCapabilitySubscribe);
  const std::string kp = StreamKey(pub), kv = StreamKey(view);
  EXPECT_EQ(StreamKey(pub), kp);  // the same token always gets the same key
  EXPECT_NE(kp, kv);
  const std::string stream = pub.participant_id;

  ASSERT_TRUE(Media(Kind::kPublish, stream, kp, "1@127.0.0.1").ok());
  const std::string sid = ActiveSession(st);
  Participant p = Get(st, sid, pub.participant_id);
  EXPECT_TRUE(p.connected());
  EXPECT_EQ(p.ivs.protocol, ParticipantProtocol::kRtmp);
  EXPECT_TRUE(p.ivs.published);
  EXPECT_TRUE(p.ivs.publishing);
  EXPECT_EQ(p.ivs.user_id, "pub");

  clock_.Advance(kSecond);
  ASSERT_TRUE(Media(Kind::kPlay, stream, kv, "2@127.0.0.1").ok());
  Participant v = Get(st, sid, view.participant_id);
  EXPECT_TRUE(v.connected());
  EXPECT_EQ(v.ivs.protocol, ParticipantProtocol::kRtmp);
  EXPECT_FALSE(v.ivs.published);
  EXPECT_TRUE(Media(Kind::kUpdatePublish, stream, kp, "1@127.0.0.1").ok());
  EXPECT_TRUE(Media(Kind::kUpdatePlay, stream, kv, "2@127.0.0.1").ok());

  clock_.Advance(kSecond);
  ASSERT_TRUE(Media(Kind::kPlayDone, stream, kv, "2@127.0.0.1").ok());
  ASSERT_TRUE(Media(Kind::kPublishDone, stream, kp, "1@127.0.0.1").ok());
  EXPECT_FALSE(Get(st, sid, view.participant_id).connected());
  p = Get(st, sid, pub.participant_id);
  EXPECT_FALSE(p.connected());
  EXPECT_TRUE(p.ivs.published);
  EXPECT_FALSE(p.ivs.publishing);
  std::vector<Event> ve = Events(st, sid, view.participant_id);
  EXPECT_EQ(Names(ve), (Strings{"JOINED", "SUBSCRIBE_STARTED", "SUBSCRIBE_STOPPED", "LEFT"}));
  EXPECT_EQ(ve[1].remote_participant_id, pub.participant_id);
  EXPECT_EQ(Names(Events(st, sid, pub.participant_id)),
            (Strings{"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT"}));
  // An update after the done (the media server's requests crossed): drop the connection.
  EXPECT_EQ(Media(Kind::kUpdatePublish, stream, kp, "1@127.0.0.1").code(), Code::kConflict);
  // A repeated done changes nothing.
  EXPECT_TRUE(Media(Kind::kPublishDone, stream, kp, "1@127.0.0.1").ok());
  EXPECT_EQ(Events(st, sid, pub.participant_id).size(), 4u);
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, RtmpCallbacksAreRefusedWithoutTheRightKey) {
  TestStage st = MakeStage();
  TokenClaims pub = Token(st, "pub", kCapabilityPublish);
  TokenClaims view = Token(st, "view", kCapabilitySubscribe);
  TokenClaims brief = Token(st, "brief", kCapabilityPublish, 1);
  const std::string kp = StreamKey(pub), kv = StreamKey(view), kb = StreamKey(brief);
  EXPECT_EQ(Media(Kind::kPublish, pub.participant_id, "", "1@a").code(), Code::kUnauthenticated);
  EXPECT_EQ(Media(Kind::kPublish, pub.participant_id, "nope", "1@a").code(),
            Code::kUnauthenticated);
  EXPECT_EQ(Media(Kind::kPublish, "someone-else", kp, "1@a").code(), Code::kForbidden);
  EXPECT_EQ(Media(Kind::kPublish, view.participant_id, kv, "1@a").code(), Code::kForbidden);
  EXPECT_EQ(Media(Kind::kPlay, pub.participant_id, kp, "1@a").code(), Code::kForbidden);
  EXPECT_EQ(ActiveSession(st), "");  // nothing was recorded

  ASSERT_TRUE(Media(Kind::kPublish, brief.participant_id, kb, "3@a").ok());
  const std::string sid = ActiveSession(st);
  clock_.Advance(61 * kSecond);
  // The token expired: no new connection, updates drop the stream, its done still counts.
  EXPECT_EQ(Media(Kind::kPublish, brief.participant_id, kb, "4@a").code(), Code::kUnauthenticated);
  EXPECT_EQ(Media(Kind::kUpdatePublish, brief.participant_id, kb, "3@a").code(),
            Code::kUnauthenticated);
  ASSERT_TRUE(Media(Kind::kPublishDone, brief.participant_id, kb, "3@a").ok());
  EXPECT_FALSE(Get(st, sid, brief.participant_id).connected());
  // The done of a connection rollcall never saw changes nothing.
  EXPECT_TRUE(Media(Kind::kPublishDone, brief.participant_id, kb, "9@a").ok());

  // A disconnected participant's stream is dropped at its next update.
  ASSERT_TRUE(Media(Kind::kPublish, pub.participant_id, kp, "5@a").ok());
  ASSERT_TRUE(Wait<Done>([&](Callback<Done> cb) {
                stages_->DisconnectParticipant(tenant_, st.arn, pub.participant_id, "", cb);
              }).ok());
  EXPECT_EQ(Media(Kind::kUpdatePublish, pub.participant_id, kp, "5@a").code(),
            Code::kUnauthenticated);
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, TheDoneOfAnOldConnectionDoesNotEndANewOne) {
  TestStage st = MakeStage();
  TokenClaims pub = Token(st, "pub");
  const std::string kp = StreamKey(pub), stream = pub.participant_id;
  ASSERT_TRUE(Media(Kind::kPublish, stream, kp, "1@a").ok());
  const std::string sid = ActiveSession(st);
  clock_.Advance(kSecond);
  // The encoder reconnected before the media server noticed the old connection died.
  ASSERT_TRUE(Media(Kind::kPublish, stream, kp, "2@a").ok());
  ASSERT_TRUE(Media(Kind::kPublishDone, stream, kp, "1@a").ok());
  Participant p = Get(st, sid, pub.participant_id);
  EXPECT_TRUE(p.connected());
  EXPECT_TRUE(p.ivs.publishing);
  ASSERT_TRUE(Media(Kind::kPublishDone, stream, kp, "2@a").ok());
  EXPECT_FALSE(Get(st, sid, pub.participant_id).connected());
  EXPECT_EQ(Names(Events(st, sid, pub.participant_id)),
            (Strings{"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT"}));
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, AnRtmpReconnectWithinTheWindowContinuesTheVisit) {
  TestStage st = MakeStage();
  TokenClaims pub = Token(st, "pub");
  const std::string kp = StreamKey(pub), stream = pub.participant_id;
  ASSERT_TRUE(Media(Kind::kPublish, stream, kp, "1@a").ok());
  const std::string sid = ActiveSession(st);
  ASSERT_TRUE(Media(Kind::kPublishDone, stream, kp, "1@a").ok());
  clock_.Advance(3 * kSecond);
  ASSERT_TRUE(Media(Kind::kPublish, stream, kp, "2@a").ok());
  EXPECT_EQ(Visits(st, StageSession(st, sid)).size(), 1u);
  EXPECT_EQ(Names(Events(st, sid, pub.participant_id)),
            (Strings{"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT", "JOINED(RECONNECTED)",
                     "PUBLISH_STARTED"}));
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, RtmpUpdatesMakeMediaVisitsTimed) {
  TestStage st = MakeStage(Settings(20));
  TokenClaims pub = Token(st, "pub");
  const std::string kp = StreamKey(pub), stream = pub.participant_id;
  ASSERT_TRUE(Media(Kind::kPublish, stream, kp, "1@a").ok());
  const std::string sid = ActiveSession(st);
  clock_.Advance(3600 * kSecond);
  Reap();  // without updates the media server's word is all rollcall has
  EXPECT_TRUE(Get(st, sid, pub.participant_id).connected());
  ASSERT_TRUE(Media(Kind::kUpdatePublish, stream, kp, "1@a").ok());
  const Millis seen = clock_.Now();
  clock_.Advance(20 * kSecond);
  Reap();
  EXPECT_FALSE(Get(st, sid, pub.participant_id).connected());
  EXPECT_EQ(Events(st, sid, pub.participant_id).back().at, seen);
  EXPECT_EQ(Media(Kind::kUpdatePublish, stream, kp, "1@a").code(), Code::kConflict);
  CheckInvariants(st, sid);
}

TEST_P(PresenceContract, RtmpRecordingFollowsTheRecordCallbacks) {
  TestStage st = MakeStage();
  TokenClaims pub = Token(st, "pub");
  const std::string kp = StreamKey(pub), stream = pub.participant_id;
  ASSERT_TRUE(Media(Kind::kPublish, stream, kp, "1@a", true).ok());
  const std::string sid = ActiveSession(st);
  Participant p = Get(st, sid, pub.participant_id);
  EXPECT_EQ(p.ivs.recording_state, RecordingState::kActive);
  EXPECT_EQ(p.ivs.recording_prefix, RecordingPrefix(st.app.stage_id, sid, pub.participant_id));
  ASSERT_TRUE(Media(Kind::kRecordDone, stream, kp, "1@a").ok());
  EXPECT_EQ(Get(st, sid, pub.participant_id).ivs.recording_state, RecordingState::kStopped);
  EXPECT_TRUE(Get(st, sid, pub.participant_id).connected());
}

INSTANTIATE_TEST_SUITE_P(Backends, PresenceContract, ::testing::ValuesIn(BackendUrls()), BackendName);

}  // namespace
}  // namespace rollcall::presence_test
