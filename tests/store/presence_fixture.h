// A store (SQLite in a temp file, or PostgreSQL when ROLLCALL_TEST_PG_URL names a database)
// with Service, StageService, MediaPresence and Reaper over a ManualClock, and the invariants
// of live presence checked over what the services read back.
#ifndef ROLLCALL_TESTS_STORE_PRESENCE_FIXTURE_H_
#define ROLLCALL_TESTS_STORE_PRESENCE_FIXTURE_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <string>
#include <vector>

#include "backends.h"
#include "core/ids.h"
#include "core/media_presence.h"
#include "core/reaper.h"
#include "core/service.h"
#include "core/stage_service.h"
#include "store/store.h"

namespace rollcall::presence_test {

inline constexpr Millis kT0 = 1795304540000;  // 2026-11-21T23:42:20Z
inline constexpr Millis kSecond = 1000;

// One stage (a LIVE application) of the fixture's tenant.
struct TestStage {
  Application app;
  std::string arn;
};

class PresenceFixture : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = ResolveBackendUrl(GetParam(), "rollcall-presence", &dir_);
    StatusOr<std::unique_ptr<Store>> s = OpenStore(url_, StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s.value());
    service_ = std::make_unique<Service>(store_.get(), &clock_, "us-east-1");
    stages_ = std::make_unique<StageService>(service_.get());
    media_ = std::make_unique<MediaPresence>(service_.get(), stages_.get());
    reaper_ = std::make_unique<Reaper>(store_.get(), &clock_);
    StatusOr<TenantCredentials> c = service_->CreateTenant("t-" + RandomAlnum(12));
    ASSERT_TRUE(c.ok()) << c.status().message();
    tenant_ = c->tenant;
  }

  void TearDown() override {
    reaper_.reset();
    media_.reset();
    stages_.reset();
    service_.reset();
    if (store_) store_->Close();
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // --- setup ---

  TestStage MakeStage(std::optional<PresencePatch> settings = std::nullopt) {
    auto r = Wait<CreatedStage>(
        [&](Callback<CreatedStage> cb) { stages_->CreateStage(tenant_, NewStage{}, cb); });
    EXPECT_TRUE(r.ok()) << r.status().message();
    TestStage st{r->stage.app, stages_->StageArnOf(tenant_, r->stage.app)};
    if (settings) Configure(st, *settings);
    return st;
  }

  void Configure(const TestStage& st, const PresencePatch& settings) {
    auto r = Wait<ManagedApplication>([&](Callback<ManagedApplication> cb) {
      service_->UpdateApplication(tenant_, st.app.uuid, std::nullopt, settings, cb);
    });
    ASSERT_TRUE(r.ok()) << r.status().message();
  }

  TokenClaims Token(const TestStage& st, const std::string& user_id,
                    unsigned caps = kCapabilityPublish | kCapabilitySubscribe,
                    int64_t minutes = kDefaultTokenMinutes) {
    TokenRequest req;
    req.user_id = user_id;
    req.capabilities = caps;
    req.duration_minutes = minutes;
    StatusOr<IssuedToken> t = stages_->CreateParticipantToken(tenant_, st.arn, req);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t->claims;
  }

  // --- token clients ---

  StatusOr<PresenceView> Join(const TokenClaims& c, std::optional<int64_t> seq = std::nullopt) {
    JoinRequest req;
    req.seq = seq;
    return Wait<PresenceView>(
        [&](Callback<PresenceView> cb) { stages_->Join(tenant_.id, c, req, cb); });
  }
  StatusOr<PresenceView> Leave(const TokenClaims& c, std::optional<int64_t> seq = std::nullopt) {
    return Wait<PresenceView>(
        [&](Callback<PresenceView> cb) { stages_->Leave(tenant_.id, c, cb, seq); });
  }
  StatusOr<PresenceView> Heartbeat(const TokenClaims& c,
                                   std::optional<int64_t> seq = std::nullopt) {
    return Wait<PresenceView>(
        [&](Callback<PresenceView> cb) { stages_->Heartbeat(tenant_.id, c, seq, cb); });
  }
  StatusOr<PresenceView> Publish(const TokenClaims& c, bool started) {
    return Wait<PresenceView>(
        [&](Callback<PresenceView> cb) { stages_->Publish(tenant_.id, c, started, cb); });
  }

  // --- the In-Stream face ---

  Session StartSession(const TestStage& st) {
    auto r = Wait<Session>([&](Callback<Session> cb) { service_->StartSession(st.app, cb); });
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.value();
  }
  StatusOr<VisitView> Enter(const TestStage& st, const Session& s, const std::string& pid,
                            std::optional<int64_t> seq = std::nullopt) {
    EnterRequest req{pid, "nick-" + pid, std::nullopt, std::nullopt, seq};
    return Wait<VisitView>(
        [&](Callback<VisitView> cb) { service_->Enter(st.app, s.uuid, req, cb); });
  }
  StatusOr<VisitView> LeaveIn(const TestStage& st, const Session& s, const std::string& pid,
                              std::optional<int64_t> seq = std::nullopt) {
    return Wait<VisitView>(
        [&](Callback<VisitView> cb) { service_->Leave(st.app, s.uuid, pid, cb, seq); });
  }
  StatusOr<VisitView> HeartbeatIn(const TestStage& st, const Session& s, const std::string& pid,
                                  std::optional<int64_t> seq = std::nullopt) {
    return Wait<VisitView>(
        [&](Callback<VisitView> cb) { service_->Heartbeat(st.app, s.uuid, pid, seq, cb); });
  }

  // --- media servers ---

  std::string StreamKey(const TokenClaims& c) {
    auto r = Wait<IssuedStreamKey>(
        [&](Callback<IssuedStreamKey> cb) { media_->CreateStreamKey(tenant_.id, c, cb); });
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->stream_key : "";
  }
  Status Media(MediaCall::Kind kind, const std::string& stream, const std::string& key,
               const std::string& connection, bool records = false) {
    MediaCall call{kind, stream, key, connection, records};
    return Wait<Done>([&](Callback<Done> cb) { media_->Handle(call, cb); }).status();
  }

  // --- reading back ---

  void Reap() {
    StatusOr<Reaper::Pass> pass = reaper_->RunOnce();
    ASSERT_TRUE(pass.ok()) << pass.status().message();
  }

  Session StageSession(const TestStage& st, const std::string& stage_session_id) {
    StatusOr<Session> s = stages_->GetStageSession(tenant_, st.arn, stage_session_id);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? s.value() : Session{};
  }

  // The stage's active session id ("" when none).
  std::string ActiveSession(const TestStage& st) {
    StatusOr<StageView> v = stages_->GetStage(tenant_, st.arn);
    EXPECT_TRUE(v.ok()) << v.status().message();
    return v.ok() ? v->active_session_id.value_or("") : "";
  }

  Participant Get(const TestStage& st, const std::string& session, const std::string& pid) {
    StatusOr<Participant> p = stages_->GetParticipant(tenant_, st.arn, session, pid);
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? p.value() : Participant{};
  }

  std::vector<Event> Events(const TestStage& st, const std::string& session,
                            const std::string& pid) {
    std::vector<Event> out;
    RowId after = 0;
    for (;;) {
      StatusOr<KeysetPage<ParticipantEvent>> page =
          stages_->ListParticipantEvents(tenant_, st.arn, session, pid, after, 100);
      EXPECT_TRUE(page.ok()) << page.status().message();
      if (!page.ok()) return out;
      for (const ParticipantEvent& e : page->items) out.push_back(e.event);
      if (!page->more) return out;
      after = out.back().id;
    }
  }

  // Every visit of the session, oldest first.
  std::vector<Visit> Visits(const TestStage& st, const Session& s) {
    std::vector<Visit> out;
    for (int64_t page = 0;; ++page) {
      VisitQuery q;
      Params p = {{"page", std::to_string(page)}, {"size", "1000"}, {"option", "ASC"}};
      EXPECT_TRUE(ParseVisitQuery(p, &q).ok());
      StatusOr<SearchResult> r = service_->Search(st.app, s.uuid, q);
      EXPECT_TRUE(r.ok()) << r.status().message();
      if (!r.ok()) return out;
      for (const VisitRow& row : r->page.items) out.push_back(row.visit);
      if (r->page.items.size() < 1000) return out;
    }
  }

  std::vector<ParticipantSummary> Participants(const TestStage& st, const std::string& session) {
    std::vector<ParticipantSummary> out;
    std::optional<ParticipantKey> after;
    for (;;) {
      StatusOr<KeysetPage<ParticipantSummary>> page =
          stages_->ListParticipants(tenant_, st.arn, session, ParticipantFilter{}, after, 100);
      EXPECT_TRUE(page.ok()) << page.status().message();
      if (!page.ok()) return out;
      for (ParticipantSummary& p : page->items) out.push_back(std::move(p));
      if (!page->more) return out;
      const ParticipantSummary& last = out.back();
      after = ParticipantKey{last.first_join_at, last.ivs_participant_id, last.member_id};
    }
  }

  // The invariants of one session, as both faces read it back: the inside-now and visit counts
  // match the visits; a member's visits do not overlap and at most one is open, the one that
  // makes it CONNECTED; its events are in time order, JOINED and LEFT alternate starting with
  // JOINED, every visit starts with a JOINED that is not a reconnection, and the last of them
  // says whether it is inside; an ended session has nobody inside.
  void CheckInvariants(const TestStage& st, const std::string& stage_session_id) {
    SCOPED_TRACE("session " + stage_session_id);
    const Session s = StageSession(st, stage_session_id);
    const std::vector<Visit> visits = Visits(st, s);
    std::map<RowId, std::vector<Visit>> by_member;
    int64_t open = 0;
    for (const Visit& v : visits) {
      by_member[v.member_id].push_back(v);
      if (!v.deleted_at) ++open;
      if (v.deleted_at) {
        EXPECT_LE(v.created_at, *v.deleted_at);
      }
    }
    EXPECT_EQ(s.participant_count, open);
    EXPECT_EQ(s.visit_count, static_cast<int64_t>(visits.size()));
    if (!s.active()) {
      EXPECT_EQ(open, 0);
    }
    for (const ParticipantSummary& p : Participants(st, stage_session_id)) {
      SCOPED_TRACE("participant " + p.ivs_participant_id);
      const std::vector<Visit>& mine = by_member[p.member_id];
      int64_t mine_open = 0;
      for (size_t i = 0; i < mine.size(); ++i) {
        if (!mine[i].deleted_at) {
          ++mine_open;
          EXPECT_EQ(i + 1, mine.size()) << "only the newest visit may be open";
        }
        if (i > 0) {
          EXPECT_LE(*mine[i - 1].deleted_at, mine[i].created_at);
        }
      }
      EXPECT_LE(mine_open, 1);
      EXPECT_EQ(p.connected, mine_open == 1);
      bool inside = false;
      int64_t fresh_joins = 0;
      Millis last_at = 0;
      for (const Event& e : Events(st, stage_session_id, p.ivs_participant_id)) {
        EXPECT_GE(e.at, last_at) << e.name << " out of time order";
        last_at = e.at;
        if (e.name == "JOINED") {
          EXPECT_FALSE(inside) << "JOINED while inside";
          inside = true;
          if (e.reason != kReasonReconnected) ++fresh_joins;
        } else if (e.name == "LEFT") {
          EXPECT_TRUE(inside) << "LEFT while outside";
          inside = false;
        }
      }
      EXPECT_EQ(inside, p.connected);
      EXPECT_EQ(fresh_joins, static_cast<int64_t>(mine.size()));
    }
  }

  std::string url_;
  std::filesystem::path dir_;
  ManualClock clock_{kT0};
  std::unique_ptr<Store> store_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<StageService> stages_;
  std::unique_ptr<MediaPresence> media_;
  std::unique_ptr<Reaper> reaper_;
  Tenant tenant_;
};

}  // namespace rollcall::presence_test

#endif  // ROLLCALL_TESTS_STORE_PRESENCE_FIXTURE_H_
