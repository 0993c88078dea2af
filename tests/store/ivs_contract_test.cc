// The IVS part of the Store contract (the "IVS face" block of store/store.h), run through
// StageService and Service over each backend: SQLite in a temp file, and PostgreSQL when
// ROLLCALL_TEST_PG_URL names a database.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "backends.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "core/secret_box.h"
#include "core/service.h"
#include "core/stage_service.h"
#include "store/postgres/pg_conn.h"
#include "store/store.h"

namespace rollcall {
namespace {

constexpr Millis kT0 = 1795304540000;  // 2026-11-21T23:42:20Z

class IvsContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = ResolveBackendUrl(GetParam(), "rollcall-ivs-contract", &dir_);
    StatusOr<std::unique_ptr<Store>> s = OpenStore(url_, StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s.value());
    service_ = std::make_unique<Service>(store_.get(), &clock_, "us-east-1");
    stages_ = std::make_unique<StageService>(service_.get());
    creds_ = MakeTenant();
    tenant_ = creds_.tenant;
  }

  void TearDown() override {
    stages_.reset();
    service_.reset();
    if (store_) store_->Close();
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  TenantCredentials MakeTenant() {
    StatusOr<TenantCredentials> c = service_->CreateTenant("t-" + RandomAlnum(12));
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.value();
  }

  StageView CreateStage(const Tenant& t, NewStage req = {}) {
    auto r = Wait<CreatedStage>(
        [&](Callback<CreatedStage> cb) { stages_->CreateStage(t, std::move(req), cb); });
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r->stage;
  }

  std::string Arn(const StageView& v, const Tenant* t = nullptr) {
    return stages_->StageArnOf(t ? *t : tenant_, v.app);
  }

  TokenClaims Token(const std::string& arn, const std::string& user_id, Attributes attrs = {},
                    unsigned caps = kCapabilityPublish | kCapabilitySubscribe) {
    TokenRequest req;
    req.user_id = user_id;
    req.attributes = std::move(attrs);
    req.capabilities = caps;
    StatusOr<IssuedToken> t = stages_->CreateParticipantToken(tenant_, arn, req);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t->claims;
  }

  StatusOr<PresenceView> Join(const TokenClaims& c, JoinRequest req = {}) {
    return Wait<PresenceView>(
        [&](Callback<PresenceView> cb) { stages_->Join(tenant_.id, c, std::move(req), cb); });
  }
  StatusOr<PresenceView> Leave(const TokenClaims& c) {
    return Wait<PresenceView>(
        [&](Callback<PresenceView> cb) { stages_->Leave(tenant_.id, c, cb); });
  }
  StatusOr<PresenceView> Publish(const TokenClaims& c, bool started) {
    return Wait<PresenceView>(
        [&](Callback<PresenceView> cb) { stages_->Publish(tenant_.id, c, started, cb); });
  }
  StatusOr<PresenceView> Subscribe(const TokenClaims& c, const std::string& remote, bool started) {
    return Wait<PresenceView>(
        [&](Callback<PresenceView> cb) { stages_->Subscribe(tenant_.id, c, remote, started, cb); });
  }
  Status Disconnect(const std::string& arn, const std::string& pid) {
    return Wait<Done>([&](Callback<Done> cb) {
             stages_->DisconnectParticipant(tenant_, arn, pid, "kicked", cb);
           })
        .status();
  }

  Participant Get(const std::string& arn, const std::string& session, const std::string& pid) {
    StatusOr<Participant> p = stages_->GetParticipant(tenant_, arn, session, pid);
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? p.value() : Participant{};
  }

  std::vector<std::string> EventNames(const std::string& arn, const std::string& session,
                                      const std::string& pid) {
    StatusOr<KeysetPage<ParticipantEvent>> page =
        stages_->ListParticipantEvents(tenant_, arn, session, pid, 0, 100);
    EXPECT_TRUE(page.ok()) << page.status().message();
    std::vector<std::string> names;
    if (page.ok()) {
      for (const ParticipantEvent& e : page->items) names.push_back(e.event.name);
    }
    return names;
  }

  StorageView CreateStorage(const std::string& bucket) {
    auto r = Wait<StorageView>([&](Callback<StorageView> cb) {
      stages_->CreateStorageConfiguration(tenant_, "s", bucket, {}, cb);
    });
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.value();
  }

  std::string url_;
  std::filesystem::path dir_;
  ManualClock clock_{kT0};
  std::unique_ptr<Store> store_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<StageService> stages_;
  TenantCredentials creds_;
  Tenant tenant_;
};

// Secret access keys are sealed above the store, so every backend holds only ciphertext. One
// fixed key for every test: a shared PostgreSQL database keeps what earlier tests sealed.
TEST_P(IvsContract, SecretAccessKeysSealedAtRest) {
  const SecretBox box(std::string(SecretBox::kKeySize, 'k'));
  service_->set_secret_box(&box);
  TenantCredentials c = MakeTenant();
  std::optional<AccessKey> stored;
  ASSERT_TRUE(store_
                  ->Read([&](Tx& tx) {
                    stored = tx.FindAccessKey(c.access_key.access_key_id);
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->secret_access_key.find(c.access_key.secret_access_key), std::string::npos);
  EXPECT_EQ(stored->secret_access_key.rfind("sealed1:", 0), 0u);
  StatusOr<AccessKeyOwner> owner = stages_->FindAccessKey(c.access_key.access_key_id);
  ASSERT_TRUE(owner.ok()) << owner.status().message();
  EXPECT_EQ(owner->key.secret_access_key, c.access_key.secret_access_key);

  // creds_ was stored in plaintext (no box yet): sealed in place, and still usable.
  StatusOr<int64_t> sealed = service_->SealStoredSecrets("test key");
  ASSERT_TRUE(sealed.ok()) << sealed.status().message();
  EXPECT_GE(sealed.value(), 1);
  owner = stages_->FindAccessKey(creds_.access_key.access_key_id);
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->key.secret_access_key, creds_.access_key.secret_access_key);
  EXPECT_EQ(service_->SealStoredSecrets("test key").value(), 0);

  const SecretBox wrong(std::string(SecretBox::kKeySize, 'w'));
  service_->set_secret_box(&wrong);
  StatusOr<int64_t> refused = service_->SealStoredSecrets("wrong.key");
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("wrong.key"), std::string::npos);
  EXPECT_EQ(stages_->FindAccessKey(c.access_key.access_key_id).status().code(), Code::kInternal);
  service_->set_secret_box(nullptr);
}

TEST_P(IvsContract, CredentialsAndTenantKeys) {
  StatusOr<AccessKeyOwner> owner = stages_->FindAccessKey(creds_.access_key.access_key_id);
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->tenant.id, tenant_.id);
  EXPECT_EQ(owner->key.secret_access_key, creds_.access_key.secret_access_key);
  EXPECT_EQ(stages_->FindAccessKey("AKIAUNKNOWNUNKNOWN00").status().code(), Code::kUnauthenticated);
  StatusOr<TenantKey> key = stages_->TenantKeyOf(tenant_.id);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->secret.size(), 32u);
  StatusOr<TenantKey> by_id = stages_->FindTenantKey(key->key_id);
  ASSERT_TRUE(by_id.ok());
  EXPECT_EQ(by_id->tenant_id, tenant_.id);
  EXPECT_EQ(by_id->secret, key->secret);
  EXPECT_NE(stages_->TenantKeyOf(MakeTenant().tenant.id)->secret, key->secret);
  EXPECT_EQ(stages_->FindTenantKey("0000000000000000").status().code(), Code::kUnauthenticated);
}

TEST_P(IvsContract, StagesTagsAndRecording) {
  StorageView storage = CreateStorage("my-bucket");
  NewStage req;
  req.name = "first";
  req.tags = {{"b", "2"}, {"a", "1"}};
  req.recording = RecordingRequest{stages_->StorageArnOf(tenant_, storage.config.config_id), {}};
  req.recording->settings.media_type = "AUDIO_ONLY";
  StageView s = CreateStage(tenant_, req);
  EXPECT_EQ(s.app.type, AppType::kLive);
  EXPECT_EQ(s.tags, (Tags{{"a", "1"}, {"b", "2"}}));
  ASSERT_TRUE(s.recording.has_value());
  EXPECT_EQ(s.recording->media_type, "AUDIO_ONLY");
  EXPECT_EQ(s.recording_storage_config_id, storage.config.config_id);

  // A storage configuration in use cannot be deleted.
  auto del = [&](const std::string& arn) {
    return Wait<Done>(
               [&](Callback<Done> cb) { stages_->DeleteStorageConfiguration(tenant_, arn, cb); })
        .status();
  };
  const std::string storage_arn = stages_->StorageArnOf(tenant_, storage.config.config_id);
  EXPECT_EQ(del(storage_arn).code(), Code::kConflict);

  auto tag = Wait<Done>([&](Callback<Done> cb) {
    stages_->TagResource(tenant_, Arn(s), {{"a", "x"}, {"c", "3"}}, cb);
  });
  ASSERT_TRUE(tag.ok());
  auto untag = Wait<Done>([&](Callback<Done> cb) {
    stages_->UntagResource(tenant_, Arn(s), {"b", "zz"}, cb);
  });
  ASSERT_TRUE(untag.ok());
  EXPECT_EQ(stages_->ListTags(tenant_, Arn(s)).value(), (Tags{{"a", "x"}, {"c", "3"}}));

  auto updated = Wait<StageView>([&](Callback<StageView> cb) {
    stages_->UpdateStage(tenant_, Arn(s), std::string("renamed"), RecordingRequest{}, cb);
  });
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->app.name, "renamed");
  EXPECT_FALSE(updated->recording.has_value());
  StorageView more = CreateStorage("more-bucket");
  StatusOr<KeysetPage<StorageView>> configs = stages_->ListStorageConfigurations(tenant_, 0, 1);
  ASSERT_TRUE(configs.ok());
  ASSERT_EQ(configs->items.size(), 1u);
  EXPECT_TRUE(configs->more);
  EXPECT_EQ(configs->items[0].config.id, storage.config.id);
  configs = stages_->ListStorageConfigurations(tenant_, storage.config.id, 1);
  ASSERT_EQ(configs->items.size(), 1u);
  EXPECT_EQ(configs->items[0].config.bucket_name, "more-bucket");
  EXPECT_FALSE(configs->more);
  EXPECT_TRUE(del(storage_arn).ok());
  EXPECT_EQ(stages_->GetStorageConfiguration(tenant_, storage_arn).status().code(),
            Code::kNotFound);

  // Listing pages in creation order and skips deleted stages.
  StageView second = CreateStage(tenant_);
  StageView third = CreateStage(tenant_);
  auto deleted =
      Wait<Done>([&](Callback<Done> cb) { stages_->DeleteStage(tenant_, Arn(second), cb); });
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(stages_->GetStage(tenant_, Arn(second)).status().code(), Code::kNotFound);
  StatusOr<KeysetPage<StageView>> page = stages_->ListStages(tenant_, 0, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->items[0].app.id, s.app.id);
  page = stages_->ListStages(tenant_, s.app.id, 10);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].app.id, third.app.id);
  EXPECT_FALSE(page->more);
}

TEST_P(IvsContract, TokenLifecycleAndEvents) {
  StageView s = CreateStage(tenant_);
  const std::string arn = Arn(s);
  TokenClaims a = Token(arn, "alice", {{"nickname", "Alice"}});
  TokenClaims b = Token(arn, "bob");

  JoinRequest jr;
  jr.browser_name = "Chrome";
  jr.protocol = ParticipantProtocol::kWhip;
  StatusOr<PresenceView> joined = Join(a, jr);
  ASSERT_TRUE(joined.ok()) << joined.status().message();
  EXPECT_TRUE(joined->connected);
  const std::string session = joined->stage_session_id;
  clock_.Advance(10);
  ASSERT_TRUE(Join(b).ok());
  clock_.Advance(10);
  EXPECT_TRUE(Join(a).ok());  // already connected: no second visit
  ASSERT_TRUE(Publish(a, true).ok());
  ASSERT_TRUE(Subscribe(b, a.participant_id, true).ok());
  EXPECT_EQ(Subscribe(b, "nobody", true).status().code(), Code::kParticipantNotFound);
  clock_.Advance(10);
  ASSERT_TRUE(Leave(a).ok());
  EXPECT_TRUE(Leave(a).ok());  // repeated leave changes nothing
  EXPECT_EQ(Publish(a, true).status().code(), Code::kConflict);
  clock_.Advance(10);
  ASSERT_TRUE(Join(a).ok());

  Participant p = Get(arn, session, a.participant_id);
  EXPECT_EQ(p.ivs.user_id, "alice");
  EXPECT_EQ(p.ivs.client.browser_name, "Chrome");
  EXPECT_EQ(p.ivs.protocol, ParticipantProtocol::kWhip);
  EXPECT_TRUE(p.ivs.published);
  EXPECT_FALSE(p.ivs.publishing);
  EXPECT_TRUE(p.connected());
  EXPECT_EQ(p.member.first_join_at, kT0);
  EXPECT_EQ(p.profile.nickname, "Alice");
  EXPECT_EQ(
      EventNames(arn, session, a.participant_id),
      (std::vector<std::string>{"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT", "JOINED"}));
  EXPECT_EQ(EventNames(arn, session, b.participant_id),
            (std::vector<std::string>{"JOINED", "SUBSCRIBE_STARTED"}));

  ASSERT_TRUE(Disconnect(arn, a.participant_id).ok());
  EXPECT_FALSE(Get(arn, session, a.participant_id).connected());
  EXPECT_EQ(Join(a).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(Leave(a).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(Disconnect(arn, "nobody").code(), Code::kNotFound);

  TokenClaims subscriber_only = Token(arn, "carol", {}, kCapabilitySubscribe);
  ASSERT_TRUE(Join(subscriber_only).ok());
  EXPECT_EQ(Publish(subscriber_only, true).status().code(), Code::kForbidden);
  clock_.Advance(13 * 60 * 60 * 1000);  // past the default 720 minutes
  EXPECT_EQ(Join(b).status().code(), Code::kUnauthenticated);
}

TEST_P(IvsContract, RecordingFollowsPublishing) {
  StorageView storage = CreateStorage("rec-bucket");
  NewStage req;
  req.recording = RecordingRequest{stages_->StorageArnOf(tenant_, storage.config.config_id), {}};
  StageView s = CreateStage(tenant_, req);
  const std::string arn = Arn(s);
  TokenClaims a = Token(arn, "alice");
  const std::string session = Join(a)->stage_session_id;
  Participant p = Get(arn, session, a.participant_id);
  EXPECT_EQ(p.ivs.recording_state, RecordingState::kDisabled);
  ASSERT_TRUE(Publish(a, true).ok());
  p = Get(arn, session, a.participant_id);
  EXPECT_EQ(p.ivs.recording_state, RecordingState::kActive);
  EXPECT_EQ(p.ivs.recording_bucket, "rec-bucket");
  EXPECT_EQ(p.ivs.recording_prefix, s.app.stage_id + "/" + session + "/" + a.participant_id);
  ASSERT_TRUE(Publish(a, false).ok());
  EXPECT_EQ(Get(arn, session, a.participant_id).ivs.recording_state, RecordingState::kStopped);
  ASSERT_TRUE(Publish(a, true).ok());
  p = Get(arn, session, a.participant_id);
  EXPECT_EQ(p.ivs.recording_state, RecordingState::kActive);
  EXPECT_EQ(p.ivs.recording_prefix, s.app.stage_id + "/" + session + "/" + a.participant_id);

  ParticipantFilter active;
  active.kind = ParticipantFilter::Kind::kRecordingState;
  active.recording_state = RecordingState::kActive;
  EXPECT_EQ(
      stages_->ListParticipants(tenant_, arn, session, active, std::nullopt, 10)->items.size(), 1u);

  // Ending the session stops the publishing and the recording (before the LEFT).
  StatusOr<Session> ended = stages_->GetStageSession(tenant_, arn, session);
  ASSERT_TRUE(ended.ok());
  auto end =
      Wait<Session>([&](Callback<Session> cb) { service_->EndSession(s.app, ended->uuid, cb); });
  ASSERT_TRUE(end.ok());
  p = Get(arn, session, a.participant_id);
  EXPECT_EQ(p.ivs.recording_state, RecordingState::kStopped);
  EXPECT_FALSE(p.ivs.publishing);
  EXPECT_FALSE(p.connected());
  EXPECT_EQ(EventNames(arn, session, a.participant_id),
            (std::vector<std::string>{"JOINED", "PUBLISH_STARTED", "PUBLISH_STOPPED",
                                      "PUBLISH_STARTED", "PUBLISH_STOPPED", "LEFT"}));
}

TEST_P(IvsContract, ListParticipantsFiltersAndPages) {
  StageView s = CreateStage(tenant_);
  const std::string arn = Arn(s);
  std::vector<TokenClaims> tokens;
  std::string session;
  for (int i = 0; i < 7; ++i) {
    tokens.push_back(Token(arn, i % 2 ? "odd" : "even"));
    StatusOr<PresenceView> v = Join(tokens.back());
    ASSERT_TRUE(v.ok());
    session = v->stage_session_id;
    if (i % 3 == 0) clock_.Advance(5);  // some share a first join time
  }
  ASSERT_TRUE(Publish(tokens[0], true).ok());
  ASSERT_TRUE(Leave(tokens[1]).ok());

  std::vector<std::string> all;
  std::optional<ParticipantKey> after;
  for (;;) {
    StatusOr<KeysetPage<ParticipantSummary>> page =
        stages_->ListParticipants(tenant_, arn, session, ParticipantFilter{}, after, 3);
    ASSERT_TRUE(page.ok());
    for (const ParticipantSummary& s : page->items) {
      all.push_back(s.ivs_participant_id);
      // The listing reads fewer columns than GetParticipant: both agree on the summary.
      StatusOr<Participant> full =
          stages_->GetParticipant(tenant_, arn, session, s.ivs_participant_id);
      ASSERT_TRUE(full.ok());
      const ParticipantSummary want = SummaryOf(full.value());
      EXPECT_EQ(s.member_id, want.member_id);
      EXPECT_EQ(s.user_id, want.user_id);
      EXPECT_EQ(s.first_join_at, want.first_join_at);
      EXPECT_EQ(s.connected, want.connected);
      EXPECT_EQ(s.published, want.published);
      EXPECT_EQ(s.recording_state, want.recording_state);
      EXPECT_EQ(s.replication_type, want.replication_type);
      EXPECT_EQ(s.replication_state, want.replication_state);
      EXPECT_EQ(s.source_stage_id, want.source_stage_id);
      EXPECT_EQ(s.source_session_id, want.source_session_id);
    }
    if (!page->more) break;
    const ParticipantSummary& last = page->items.back();
    after = ParticipantKey{last.first_join_at, last.ivs_participant_id, last.member_id};
  }
  EXPECT_EQ(all.size(), 7u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 7u);

  auto count = [&](ParticipantFilter f) {
    return stages_->ListParticipants(tenant_, arn, session, f, std::nullopt, 100)->items.size();
  };
  ParticipantFilter f;
  f.kind = ParticipantFilter::Kind::kUserId;
  f.user_id = "odd";
  EXPECT_EQ(count(f), 3u);
  f = {};
  f.kind = ParticipantFilter::Kind::kPublished;
  f.published = true;
  EXPECT_EQ(count(f), 1u);
  f.published = false;
  EXPECT_EQ(count(f), 6u);
  f = {};
  f.kind = ParticipantFilter::Kind::kState;
  f.connected = false;
  EXPECT_EQ(count(f), 1u);
  f.connected = true;
  EXPECT_EQ(count(f), 6u);
}

TEST_P(IvsContract, BothFacesShareParticipants) {
  StageView s = CreateStage(tenant_);
  const std::string arn = Arn(s);
  TokenClaims a = Token(arn, "alice", {{"nickname", "Alice"}});
  const std::string st = Join(a)->stage_session_id;
  StatusOr<Session> session = stages_->GetStageSession(tenant_, arn, st);
  ASSERT_TRUE(session.ok());

  // An In-Stream enter into the same session is an IVS participant.
  auto entered = Wait<VisitView>([&](Callback<VisitView> cb) {
    service_->Enter(s.app, session->uuid,
                    EnterRequest{"instream-user", "Kim", std::nullopt, Attributes{{"k", "v"}}}, cb);
  });
  ASSERT_TRUE(entered.ok()) << entered.status().message();
  Participant p = Get(arn, st, "instream-user");
  EXPECT_EQ(p.ivs.user_id, "instream-user");
  EXPECT_EQ(p.ivs.protocol, ParticipantProtocol::kUnknown);
  EXPECT_EQ(p.member.attributes_json, R"({"k":"v"})");
  EXPECT_TRUE(p.connected());
  EXPECT_EQ(EventNames(arn, st, "instream-user"), (std::vector<std::string>{"JOINED"}));

  // The token participant is in the In-Stream search under its participantId and nickname.
  VisitQuery q;
  ASSERT_TRUE(ParseVisitQuery({{"nickname", "alice"}}, &q).ok());
  StatusOr<SearchResult> found = service_->Search(s.app, session->uuid, q);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->page.items.size(), 1u);
  EXPECT_EQ(found->page.items[0].profile.participant_id, a.participant_id);
  EXPECT_EQ(found->session.participant_count, 2);

  // An In-Stream leave closes the visit the IVS face shows.
  auto left = Wait<VisitView>(
      [&](Callback<VisitView> cb) { service_->Leave(s.app, session->uuid, a.participant_id, cb); });
  ASSERT_TRUE(left.ok());
  EXPECT_FALSE(Get(arn, st, a.participant_id).connected());
}

TEST_P(IvsContract, SessionsNewestFirst) {
  StageView s = CreateStage(tenant_);
  const std::string arn = Arn(s);
  std::vector<RowId> started;
  for (int i = 0; i < 3; ++i) {
    auto r = Wait<Session>([&](Callback<Session> cb) { service_->StartSession(s.app, cb); });
    ASSERT_TRUE(r.ok());
    started.push_back(r->id);
  }
  StatusOr<KeysetPage<Session>> page = stages_->ListStageSessions(tenant_, arn, std::nullopt, 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->items[0].id, started[2]);
  EXPECT_FALSE(page->items[0].deleted_at.has_value());
  EXPECT_TRUE(page->items[1].deleted_at.has_value());
  page = stages_->ListStageSessions(tenant_, arn, page->items[1].id, 2);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, started[0]);
  EXPECT_FALSE(page->more);
  EXPECT_EQ(stages_->GetStageSession(tenant_, arn, "st-0000000000000").status().code(),
            Code::kNotFound);
  EXPECT_EQ(stages_->GetStageSession(tenant_, arn, "bad").status().code(), Code::kInvalidArgument);
}

TEST_P(IvsContract, ReplicationIntoASecondStage) {
  StageView src = CreateStage(tenant_);
  StageView dst = CreateStage(tenant_);
  TokenClaims a = Token(Arn(src), "alice");
  const std::string src_session = Join(a)->stage_session_id;
  ASSERT_TRUE(Publish(a, true).ok());
  auto start = [&] {
    return Wait<Done>([&](Callback<Done> cb) {
             stages_->StartParticipantReplication(
                 tenant_, ReplicationRequest{Arn(src), Arn(dst), a.participant_id, 0, std::nullopt},
                 cb);
           })
        .status();
  };
  ASSERT_TRUE(start().ok());
  EXPECT_EQ(start().code(), Code::kConflict);

  StatusOr<StageView> d = stages_->GetStage(tenant_, Arn(dst));
  ASSERT_TRUE(d->active_session_id.has_value());
  Participant replica = Get(Arn(dst), *d->active_session_id, a.participant_id);
  EXPECT_EQ(replica.ivs.replication_type, ReplicationType::kReplica);
  EXPECT_EQ(replica.ivs.replication_state, ReplicationState::kActive);
  EXPECT_EQ(replica.ivs.source_stage_id, src.app.stage_id);
  EXPECT_EQ(replica.ivs.source_session_id, src_session);
  EXPECT_EQ(replica.ivs.user_id, "alice");
  EXPECT_TRUE(replica.connected());
  Participant source = Get(Arn(src), src_session, a.participant_id);
  EXPECT_EQ(source.ivs.replication_type, ReplicationType::kSource);
  EXPECT_EQ(source.ivs.replication_state, ReplicationState::kActive);

  StatusOr<KeysetPage<ReplicaView>> replicas =
      stages_->ListParticipantReplicas(tenant_, Arn(src), a.participant_id, 0, 50);
  ASSERT_TRUE(replicas.ok());
  ASSERT_EQ(replicas->items.size(), 1u);
  EXPECT_EQ(replicas->items[0].destination_stage_id, dst.app.stage_id);
  EXPECT_EQ(replicas->items[0].destination_stage_session_id, *d->active_session_id);

  auto stop = Wait<Done>([&](Callback<Done> cb) {
    stages_->StopParticipantReplication(tenant_, Arn(src), Arn(dst), a.participant_id, cb);
  });
  ASSERT_TRUE(stop.ok());
  EXPECT_EQ(Get(Arn(dst), *d->active_session_id, a.participant_id).ivs.replication_state,
            ReplicationState::kStopped);
  EXPECT_FALSE(Get(Arn(dst), *d->active_session_id, a.participant_id).connected());
  EXPECT_EQ(Get(Arn(src), src_session, a.participant_id).ivs.replication_state,
            ReplicationState::kStopped);
  EXPECT_EQ(EventNames(Arn(src), src_session, a.participant_id),
            (std::vector<std::string>{"JOINED", "PUBLISH_STARTED", "REPLICATION_STARTED",
                                      "REPLICATION_STOPPED"}));
  StatusOr<KeysetPage<ParticipantEvent>> replica_events = stages_->ListParticipantEvents(
      tenant_, Arn(dst), *d->active_session_id, a.participant_id, 0, 10);
  ASSERT_TRUE(replica_events.ok());
  for (const ParticipantEvent& e : replica_events->items) EXPECT_TRUE(e.detail.replica);
  EXPECT_EQ(stages_->ListParticipantReplicas(tenant_, Arn(src), a.participant_id, 0, 50)
                ->items[0]
                .link.state,
            ReplicationState::kStopped);
}

TEST_P(IvsContract, EndingTheSourceSessionStopsReplication) {
  StageView src = CreateStage(tenant_);
  StageView dst = CreateStage(tenant_);
  TokenClaims a = Token(Arn(src), "alice");
  ASSERT_TRUE(Join(a).ok());
  auto start = Wait<Done>([&](Callback<Done> cb) {
    stages_->StartParticipantReplication(
        tenant_, ReplicationRequest{Arn(src), Arn(dst), a.participant_id, 0, std::nullopt}, cb);
  });
  ASSERT_TRUE(start.ok());
  const std::string dst_session = *stages_->GetStage(tenant_, Arn(dst))->active_session_id;
  auto deleted =
      Wait<Done>([&](Callback<Done> cb) { stages_->DeleteStage(tenant_, Arn(src), cb); });
  ASSERT_TRUE(deleted.ok());
  Participant replica = Get(Arn(dst), dst_session, a.participant_id);
  EXPECT_FALSE(replica.connected());
  EXPECT_EQ(replica.ivs.replication_state, ReplicationState::kStopped);
}

TEST_P(IvsContract, TenantsAreIsolated) {
  StageView mine = CreateStage(tenant_);
  TenantCredentials other = MakeTenant();
  StageView theirs = CreateStage(other.tenant);
  // Another account's ARN, or my account id on their stage id: not found, alike.
  EXPECT_EQ(stages_->GetStage(tenant_, Arn(theirs, &other.tenant)).status().code(),
            Code::kNotFound);
  const std::string forged = IvsArn("us-east-1", tenant_.account_id, "stage", theirs.app.stage_id);
  EXPECT_EQ(stages_->GetStage(tenant_, forged).status().code(), Code::kNotFound);
  EXPECT_EQ(stages_->ListTags(tenant_, forged).status().code(), Code::kNotFound);
  StatusOr<KeysetPage<StageView>> listed = stages_->ListStages(tenant_, 0, 100);
  for (const StageView& v : listed->items) EXPECT_EQ(v.app.tenant_id, tenant_.id);
  // A token of my stage does not work for the other tenant.
  TokenClaims a = Token(Arn(mine), "alice");
  auto foreign = Wait<PresenceView>(
      [&](Callback<PresenceView> cb) { stages_->Join(other.tenant.id, a, JoinRequest{}, cb); });
  EXPECT_EQ(foreign.status().code(), Code::kUnauthenticated);
  // A wrong region is another resource too.
  EXPECT_EQ(
      stages_
          ->GetStage(tenant_, IvsArn("eu-west-1", tenant_.account_id, "stage", mine.app.stage_id))
          .status()
          .code(),
      Code::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, IvsContract, ::testing::ValuesIn(BackendUrls()), BackendName);

// The key check value of Service::SealStoredSecrets, over stores that start empty: SQLite in a
// new directory, PostgreSQL in a new schema of the test database (dropped at the end).
class KeyCheck : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = ResolveBackendUrl(GetParam(), "rollcall-key-check", &dir_);
    if (GetParam() != "sqlite") {
      std::string name = "key_check_" + RandomAlnum(10);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      pg::Conn(url_, 5, false).Exec("CREATE SCHEMA " + name);
      schema_ = name;
      url_ += (url_.find('?') == std::string::npos ? "?" : "&") +
              std::string("options=-csearch_path%3D") + name;
    }
  }

  void TearDown() override {
    for (auto& s : stores_) s->Close();
    stores_.clear();
    if (!schema_.empty())
      pg::Conn(GetParam(), 5, false).Exec("DROP SCHEMA " + schema_ + " CASCADE");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Another store on the same database (as another process would open it).
  Store* OpenOne() {
    StatusOr<std::unique_ptr<Store>> s = OpenStore(url_, StoreOptions{});
    EXPECT_TRUE(s.ok()) << s.status().message();
    if (!s.ok()) return nullptr;
    stores_.push_back(std::move(s.value()));
    return stores_.back().get();
  }

  static StatusOr<int64_t> Start(Service& service, const SecretBox& box, const std::string& name) {
    service.set_secret_box(&box);
    StatusOr<int64_t> r = service.SealStoredSecrets(name);
    service.set_secret_box(nullptr);
    return r;
  }

  std::optional<std::string> StoredCheck(Store* store) {
    std::optional<std::string> check;
    EXPECT_TRUE(store
                    ->Read([&](Tx& tx) {
                      check = tx.FindKeyCheck();
                      return Status::Ok();
                    })
                    .ok());
    return check;
  }

  std::string url_;
  std::string schema_;
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<Store>> stores_;
  ManualClock clock_{kT0};
  const SecretBox a_{RandomBytes(SecretBox::kKeySize)};
  const SecretBox b_{RandomBytes(SecretBox::kKeySize)};
};

// No secret is stored, yet a start with another key file is refused: the first start stored
// the check value.
TEST_P(KeyCheck, RefusesAnotherKeyOnAnEmptyStore) {
  Store* store = OpenOne();
  ASSERT_NE(store, nullptr);
  Service service(store, &clock_, "us-east-1");
  ASSERT_FALSE(StoredCheck(store));
  StatusOr<int64_t> first = Start(service, a_, "a.key");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first.value(), 0);
  std::optional<std::string> check = StoredCheck(store);
  ASSERT_TRUE(check);

  StatusOr<int64_t> refused = Start(service, b_, "b.key");
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("b.key"), std::string::npos);
  EXPECT_EQ(StoredCheck(store), check);

  StatusOr<int64_t> again = Start(service, a_, "a.key");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(StoredCheck(store), check);
}

// A database from before the check (secrets sealed, or still in plaintext, and no check value)
// gets the check value at its next start, and from then on refuses another key file even
// where the secrets alone would not tell.
TEST_P(KeyCheck, StoresWithoutOneGetItAtTheirNextStart) {
  Store* store = OpenOne();
  ASSERT_NE(store, nullptr);
  Service service(store, &clock_, "us-east-1");
  service.set_secret_box(&a_);
  ASSERT_TRUE(service.CreateTenant("sealed").ok());
  service.set_secret_box(nullptr);
  ASSERT_TRUE(service.CreateTenant("plain").ok());
  ASSERT_FALSE(StoredCheck(store));

  StatusOr<int64_t> first = Start(service, a_, "a.key");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first.value(), 1);
  ASSERT_TRUE(StoredCheck(store));
  EXPECT_EQ(Start(service, b_, "b.key").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Start(service, a_, "a.key").ok());
}

// A start refused by the stored secrets stores no check value either (its transaction rolls
// back whole), so the right key file can still start.
TEST_P(KeyCheck, RefusedStartStoresNothing) {
  Store* store = OpenOne();
  ASSERT_NE(store, nullptr);
  Service service(store, &clock_, "us-east-1");
  service.set_secret_box(&a_);
  ASSERT_TRUE(service.CreateTenant("sealed").ok());
  service.set_secret_box(nullptr);
  EXPECT_EQ(Start(service, b_, "b.key").status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(StoredCheck(store));
  EXPECT_TRUE(Start(service, a_, "a.key").ok());
  EXPECT_TRUE(StoredCheck(store));
}

// Two processes with different key files starting at once on one empty database: exactly one
// starts, and the other is refused against the check value the first stored.
TEST_P(KeyCheck, ConcurrentFirstStartsWithDifferentKeys) {
  for (int round = 0; round < 5; ++round) {
    TearDown();
    SetUp();
    Store* one = OpenOne();
    Store* two = OpenOne();
    ASSERT_NE(one, nullptr);
    ASSERT_NE(two, nullptr);
    Service s1(one, &clock_, "us-east-1");
    Service s2(two, &clock_, "us-east-1");
    StatusOr<int64_t> r1 = Status::Internal("not run");
    StatusOr<int64_t> r2 = Status::Internal("not run");
    std::thread t1([&] { r1 = Start(s1, a_, "a.key"); });
    std::thread t2([&] { r2 = Start(s2, b_, "b.key"); });
    t1.join();
    t2.join();
    EXPECT_NE(r1.ok(), r2.ok()) << r1.status().message() << " / " << r2.status().message();
    const Status& refused = r1.ok() ? r2.status() : r1.status();
    EXPECT_EQ(refused.code(), Code::kInvalidArgument) << refused.message();
    EXPECT_EQ(Start(s2, r1.ok() ? a_ : b_, "winner.key").status().code(), Code::kOk);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyCheck, ::testing::ValuesIn(BackendUrls()), BackendName);

}  // namespace
}  // namespace rollcall
