#include "core/stage_service.h"

#include <algorithm>
#include <cctype>

#include "core/ids.h"
#include "core/text.h"
#include "core/tx_calls.h"

namespace rollcall {
namespace {

Status NotFound(std::string_view what, std::string_view name) {
  return Status(Code::kNotFound, std::string(what) + " " + std::string(name) + " not found");
}

bool IsStageSessionId(std::string_view s) {
  if (s.size() != 16 || s.substr(0, 3) != "st-") return false;
  return std::all_of(s.begin() + 3, s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

bool IsParticipantId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
  });
}

Status CheckLimit(int64_t limit, int64_t max) {
  if (limit < 1 || limit > max) {
    return Status::Invalid("maxResults must be between 1 and " + std::to_string(max));
  }
  return Status::Ok();
}

// Resolves an ARN of `type` to the parsed ARN when it names the tenant's account in this
// region; kInvalidArgument when malformed, kNotFound when foreign.
StatusOr<Arn> OwnArn(const Tenant& t, const std::string& region, std::string_view arn,
                     std::string_view type, std::string_view what) {
  std::optional<Arn> a = ParseArn(arn);
  if (!a || a->type != type) {
    std::string m = "'";
    m.append(arn).append("' is not a valid ").append(what).append(" ARN");
    return Status::Invalid(std::move(m));
  }
  if (a->account != t.account_id || a->region != region) return NotFound(what, arn);
  return std::move(*a);
}

StatusOr<Application> FindStage(Tx& tx, const Tenant& t, const std::string& region,
                                std::string_view arn) {
  StatusOr<Arn> a = OwnArn(t, region, arn, "stage", "stage");
  if (!a.ok()) return a.status();
  std::optional<Application> app = tx.FindApplicationByStageId(t.id, a->id);
  if (!app || app->status == AppStatus::kDeleted) return NotFound("stage", arn);
  return std::move(*app);
}

StatusOr<StorageConfiguration> FindStorage(Tx& tx, const Tenant& t, const std::string& region,
                                           std::string_view arn) {
  StatusOr<Arn> a = OwnArn(t, region, arn, "storage-configuration", "storage configuration");
  if (!a.ok()) return a.status();
  std::optional<StorageConfiguration> c = tx.FindStorageConfiguration(t.id, a->id);
  if (!c) return NotFound("storage configuration", arn);
  return std::move(*c);
}

StatusOr<Session> FindStageSession(Tx& tx, const Tenant& t, const Application& app,
                                   std::string_view session_id) {
  if (!IsStageSessionId(session_id)) {
    return Status::Invalid("sessionId must be 'st-' and 13 letters or digits");
  }
  std::optional<Session> s = tx.FindSessionByStageSessionId(t.id, app.id, std::string(session_id));
  if (!s) return NotFound("stage session", session_id);
  return std::move(*s);
}

StageView LoadStageView(Tx& tx, const Application& app) {
  StageView v;
  v.app = app;
  if (app.active_session_id) {
    std::optional<Session> s = tx.GetSession(app.tenant_id, *app.active_session_id);
    if (s) v.active_session_id = s->stage_session_id;
  }
  v.tags = tx.GetTags(app.tenant_id, ResourceKind::kStage, app.id);
  v.recording = tx.GetStageRecording(app.tenant_id, app.id);
  if (v.recording) {
    std::optional<StorageConfiguration> c =
        tx.GetStorageConfiguration(app.tenant_id, v.recording->storage_configuration_id);
    if (c) v.recording_storage_config_id = c->config_id;
  }
  return v;
}

// The recording a request asks for: nullopt to remove; kInvalidArgument for an unknown
// storage configuration.
StatusOr<std::optional<AutoRecording>> ResolveRecording(Tx& tx, const Tenant& t,
                                                        const std::string& region,
                                                        const RecordingRequest& r) {
  if (r.storage_configuration_arn.empty()) return std::optional<AutoRecording>();
  StatusOr<StorageConfiguration> c = FindStorage(tx, t, region, r.storage_configuration_arn);
  if (!c.ok()) {
    if (c.status().code() == Code::kNotFound) return Status::Invalid(c.status().message());
    return c.status();
  }
  AutoRecording out = r.settings;
  out.storage_configuration_id = c->id;
  return std::optional<AutoRecording>(std::move(out));
}

Status CheckTags(const Tags& tags) {
  if (tags.size() > 50) return Status::Invalid("a resource can have at most 50 tags");
  for (const auto& [k, v] : tags) {
    std::optional<size_t> kl = Utf8Length(k), vl = Utf8Length(v);
    if (!kl || !vl || *kl < 1 || *kl > 128 || *vl > 256) {
      return Status::Invalid("tag keys must be 1 to 128 and values 0 to 256 characters");
    }
  }
  return Status::Ok();
}

Tags SortedTags(Tags tags) {
  std::sort(tags.begin(), tags.end());
  return tags;
}

Status CheckTokenRequest(const TokenRequest& r) {
  if (r.duration_minutes < kMinTokenMinutes || r.duration_minutes > kMaxTokenMinutes) {
    return Status::Invalid("duration must be between 1 and 20160 minutes");
  }
  std::optional<size_t> len = Utf8Length(r.user_id);
  if (!len || *len > 128) return Status::Invalid("userId must be at most 128 characters");
  return ValidateAttributes(r.attributes);
}

IssuedToken IssueToken(const std::string& stage_arn, const Application& app, const TokenRequest& r,
                       Millis now) {
  IssuedToken out;
  out.duration_minutes = r.duration_minutes;
  TokenClaims& c = out.claims;
  c.participant_id = RandomAlnum(12);
  c.stage_arn = stage_arn;
  c.stage_id = app.stage_id;
  c.user_id = r.user_id;
  c.attributes = r.attributes;
  c.capabilities = r.capabilities;
  c.issued_at = now / 1000;
  c.expires_at = c.issued_at + r.duration_minutes * 60;
  return out;
}

void AppendEvent(Tx& tx, const Session& s, RowId member, std::string name, Millis at,
                 std::string remote = "", const EventDetail& detail = {}) {
  Event e;
  e.tenant_id = s.tenant_id;
  e.session_id = s.id;
  e.member_id = member;
  e.name = std::move(name);
  e.at = at;
  e.remote_participant_id = std::move(remote);
  tx.InsertEventWithDetail(&e, detail);
}

// The ACTIVE replications whose source is `member` of session `s`.
std::vector<ReplicaLink> ActiveReplicasFrom(Tx& tx, const Session& s, RowId member) {
  std::vector<ReplicaLink> out;
  for (ReplicaLink& l : tx.ListActiveReplicasOfSession(s.tenant_id, s.id)) {
    if (l.source_member_id == member) out.push_back(std::move(l));
  }
  return out;
}

// The participant's latest membership of the token's stage, with its session.
struct Presence {
  Application app;
  Participant participant;
  Session session;
};

StatusOr<Presence> TokenPresence(Tx& tx, RowId tenant, const TokenClaims& c) {
  StatusOr<Application> app = rules::TokenStage(tx, tenant, c);
  if (!app.ok()) return app.status();
  std::optional<Participant> p = tx.FindLatestParticipant(tenant, app->id, c.participant_id);
  if (!p) {
    return Status(Code::kParticipantNotFound, "the participant never joined this stage");
  }
  std::optional<Session> s = tx.GetSession(tenant, p->member.session_id);
  if (!s) return Status::Internal("member's session is missing");
  return Presence{std::move(app.value()), std::move(*p), std::move(*s)};
}

Status NotConnected() {
  return Status(Code::kConflict, "the participant is not connected to the stage; join first");
}

PresenceView ViewOf(const TokenClaims& c, const Session& s, const Participant& p) {
  return PresenceView{c.participant_id, c.stage_arn, s.stage_session_id, p.connected(),
                      p.ivs.published};
}

}  // namespace

StatusOr<ParticipantFilter> ParseParticipantFilter(const ParticipantQuery& q) {
  const int given =
      (q.user_id ? 1 : 0) + (q.published ? 1 : 0) + (q.state ? 1 : 0) + (q.recording_state ? 1 : 0);
  if (given > 1) {
    return Status::Invalid(
        "only one of filterByUserId, filterByPublished, filterByState and "
        "filterByRecordingState may be given");
  }
  ParticipantFilter f;
  using Kind = ParticipantFilter::Kind;
  if (q.user_id) {
    f.kind = Kind::kUserId;
    f.user_id = *q.user_id;
  } else if (q.published) {
    f.kind = Kind::kPublished;
    f.published = *q.published;
  } else if (q.state) {
    if (*q.state != "CONNECTED" && *q.state != "DISCONNECTED") {
      return Status::Invalid("filterByState must be CONNECTED or DISCONNECTED");
    }
    f.kind = Kind::kState;
    f.connected = *q.state == "CONNECTED";
  } else if (q.recording_state) {
    std::optional<RecordingState> r = ParseRecordingState(*q.recording_state);
    if (!r || *r == RecordingState::kDisabled) {
      return Status::Invalid(
          "filterByRecordingState must be STARTING, ACTIVE, STOPPING, STOPPED or FAILED");
    }
    f.kind = Kind::kRecordingState;
    f.recording_state = *r;
  }
  return f;
}

std::string StageService::StageArnOf(const Tenant& t, const Application& app) const {
  return IvsArn(region(), t.account_id, "stage", app.stage_id);
}

std::string StageService::StorageArnOf(const Tenant& t, std::string_view config_id) const {
  return IvsArn(region(), t.account_id, "storage-configuration", config_id);
}

void StageService::CacheKey(const TenantKey& k) {
  std::lock_guard<std::mutex> lock(mu_);
  keys_by_tenant_.emplace(k.tenant_id, k);
  keys_by_id_.emplace(k.key_id, k);
}

StatusOr<TenantKey> StageService::TenantKeyOf(RowId tenant) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_by_tenant_.find(tenant);
    if (it != keys_by_tenant_.end()) return it->second;
  }
  StatusOr<TenantKey> k = ReadWith<TenantKey>(store(), [&](Tx& tx, std::optional<TenantKey>* out) {
    *out = tx.GetTenantKey(tenant);
    return out->has_value() ? Status::Ok() : Status::Internal("the tenant has no signing key");
  });
  if (k.ok()) CacheKey(k.value());
  return k;
}

StatusOr<TenantKey> StageService::FindTenantKey(std::string_view key_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = keys_by_id_.find(std::string(key_id));
    if (it != keys_by_id_.end()) return it->second;
  }
  StatusOr<TenantKey> k = ReadWith<TenantKey>(store(), [&](Tx& tx, std::optional<TenantKey>* out) {
    *out = tx.FindTenantKey(std::string(key_id));
    return out->has_value() ? Status::Ok()
                            : Status::Unauthenticated("the participant token is not rollcall's");
  });
  if (k.ok()) CacheKey(k.value());
  return k;
}

// --- stages ---

void StageService::CreateStage(const Tenant& t, NewStage req, Callback<CreatedStage> cb) {
  std::optional<size_t> name_len = Utf8Length(req.name);
  if (!name_len || *name_len > 128)
    return cb(Status::Invalid("name must be at most 128 characters"));
  Status v = CheckTags(req.tags);
  if (!v.ok()) return cb(v);
  if (req.tokens.size() > 12) {
    return cb(Status::Invalid("participantTokenConfigurations can have at most 12 entries"));
  }
  for (const TokenRequest& tr : req.tokens) {
    v = CheckTokenRequest(tr);
    if (!v.ok()) return cb(v);
  }
  WriteWith<CreatedStage>(
      store(),
      [this, t, req = std::move(req)](Tx& tx, std::optional<CreatedStage>* out) -> Status {
        std::optional<AutoRecording> recording;
        if (req.recording) {
          StatusOr<std::optional<AutoRecording>> r =
              ResolveRecording(tx, t, region(), *req.recording);
          if (!r.ok()) return r.status();
          recording = std::move(r.value());
        }
        const Millis now = Now();
        NewApplication n = rules::InsertApplication(tx, t.id, AppType::kLive, req.name, now);
        if (recording) tx.SetStageRecording(t.id, n.app.id, recording);
        if (!req.tags.empty()) tx.PutTags(t.id, ResourceKind::kStage, n.app.id, req.tags);
        CreatedStage created;
        created.stage = LoadStageView(tx, n.app);
        const std::string arn = StageArnOf(t, n.app);
        for (const TokenRequest& tr : req.tokens) {
          created.tokens.push_back(IssueToken(arn, n.app, tr, now));
        }
        *out = std::move(created);
        return Status::Ok();
      },
      std::move(cb));
}

StatusOr<StageView> StageService::GetStage(const Tenant& t, std::string_view arn) {
  return ReadWith<StageView>(store(), [&](Tx& tx, std::optional<StageView>* out) {
    StatusOr<Application> app = FindStage(tx, t, region(), arn);
    if (!app.ok()) return app.status();
    *out = LoadStageView(tx, app.value());
    return Status::Ok();
  });
}

StatusOr<KeysetPage<StageView>> StageService::ListStages(const Tenant& t, RowId after_id,
                                                         int64_t limit) {
  Status v = CheckLimit(limit, 100);
  if (!v.ok()) return v;
  return ReadWith<KeysetPage<StageView>>(
      store(), [&](Tx& tx, std::optional<KeysetPage<StageView>>* out) {
        std::vector<Application> apps = tx.ListStages(t.id, after_id, limit + 1);
        out->emplace();
        (*out)->more = static_cast<int64_t>(apps.size()) > limit;
        if ((*out)->more) apps.pop_back();
        for (const Application& a : apps) (*out)->items.push_back(LoadStageView(tx, a));
        return Status::Ok();
      });
}

void StageService::UpdateStage(const Tenant& t, std::string arn, std::optional<std::string> name,
                               std::optional<RecordingRequest> recording, Callback<StageView> cb) {
  if (name) {
    std::optional<size_t> len = Utf8Length(*name);
    if (!len || *len > 128) return cb(Status::Invalid("name must be at most 128 characters"));
  }
  WriteWith<StageView>(
      store(),
      [this, t, arn = std::move(arn), name = std::move(name), recording = std::move(recording)](
          Tx& tx, std::optional<StageView>* out) -> Status {
        StatusOr<Application> app = FindStage(tx, t, region(), arn);
        if (!app.ok()) return app.status();
        if (recording) {
          StatusOr<std::optional<AutoRecording>> r = ResolveRecording(tx, t, region(), *recording);
          if (!r.ok()) return r.status();
          tx.SetStageRecording(t.id, app->id, r.value());
        }
        if (name && *name != app->name) {
          app->name = *name;
          tx.UpdateApplication(app.value());
        }
        *out = LoadStageView(tx, app.value());
        return Status::Ok();
      },
      std::move(cb));
}

void StageService::DeleteStage(const Tenant& t, std::string arn, Callback<Done> cb) {
  WriteWith<Done>(
      store(),
      [this, t, arn = std::move(arn)](Tx& tx, std::optional<Done>* out) -> Status {
        StatusOr<Application> app = FindStage(tx, t, region(), arn);
        if (!app.ok()) return app.status();
        rules::LockActiveSession(tx, app.value());
        rules::DeleteApplicationIn(tx, &app.value(), Now());
        *out = Done{};
        return Status::Ok();
      },
      service_.ThenCredentialsChanged(std::move(cb)));
}

// --- tags ---

namespace {

struct Resource {
  ResourceKind kind;
  RowId id;
};

StatusOr<Resource> FindResource(Tx& tx, const Tenant& t, const std::string& region,
                                std::string_view arn) {
  std::optional<Arn> a = ParseArn(arn);
  if (!a) return Status::Invalid(std::string(arn).append(" is not a valid resource ARN"));
  if (a->type == "stage") {
    StatusOr<Application> app = FindStage(tx, t, region, arn);
    if (!app.ok()) return app.status();
    return Resource{ResourceKind::kStage, app->id};
  }
  if (a->type == "storage-configuration") {
    StatusOr<StorageConfiguration> c = FindStorage(tx, t, region, arn);
    if (!c.ok()) return c.status();
    return Resource{ResourceKind::kStorageConfiguration, c->id};
  }
  return NotFound("resource", arn);
}

}  // namespace

StatusOr<Tags> StageService::ListTags(const Tenant& t, std::string_view arn) {
  return ReadWith<Tags>(store(), [&](Tx& tx, std::optional<Tags>* out) {
    StatusOr<Resource> r = FindResource(tx, t, region(), arn);
    if (!r.ok()) return r.status();
    *out = tx.GetTags(t.id, r->kind, r->id);
    return Status::Ok();
  });
}

void StageService::TagResource(const Tenant& t, std::string arn, Tags tags, Callback<Done> cb) {
  Status v = CheckTags(tags);
  if (!v.ok()) return cb(v);
  WriteWith<Done>(
      store(),
      [this, t, arn = std::move(arn), tags = SortedTags(std::move(tags))](
          Tx& tx, std::optional<Done>* out) -> Status {
        StatusOr<Resource> r = FindResource(tx, t, region(), arn);
        if (!r.ok()) return r.status();
        Tags merged = tx.GetTags(t.id, r->kind, r->id);
        for (const auto& kv : tags) {
          auto it = std::find_if(merged.begin(), merged.end(),
                                 [&](const auto& m) { return m.first == kv.first; });
          if (it == merged.end()) merged.push_back(kv);
        }
        if (merged.size() > 50) return Status::Invalid("a resource can have at most 50 tags");
        tx.PutTags(t.id, r->kind, r->id, tags);
        *out = Done{};
        return Status::Ok();
      },
      std::move(cb));
}

void StageService::UntagResource(const Tenant& t, std::string arn, std::vector<std::string> keys,
                                 Callback<Done> cb) {
  if (keys.size() > 50) return cb(Status::Invalid("tagKeys can have at most 50 keys"));
  WriteWith<Done>(
      store(),
      [this, t, arn = std::move(arn), keys = std::move(keys)](Tx& tx,
                                                              std::optional<Done>* out) -> Status {
        StatusOr<Resource> r = FindResource(tx, t, region(), arn);
        if (!r.ok()) return r.status();
        tx.DeleteTags(t.id, r->kind, r->id, keys);
        *out = Done{};
        return Status::Ok();
      },
      std::move(cb));
}

// --- storage configurations ---

void StageService::CreateStorageConfiguration(const Tenant& t, std::string name, std::string bucket,
                                              Tags tags, Callback<StorageView> cb) {
  std::optional<size_t> len = Utf8Length(name);
  if (!len || *len > 128) return cb(Status::Invalid("name must be at most 128 characters"));
  if (bucket.size() < 3 || bucket.size() > 63) {
    return cb(Status::Invalid("s3.bucketName must be 3 to 63 characters"));
  }
  Status v = CheckTags(tags);
  if (!v.ok()) return cb(v);
  WriteWith<StorageView>(
      store(),
      [this, t, name = std::move(name), bucket = std::move(bucket),
       tags = SortedTags(std::move(tags))](Tx& tx, std::optional<StorageView>* out) {
        StorageView view;
        view.config.tenant_id = t.id;
        view.config.config_id = RandomAlnum(12);
        view.config.name = name;
        view.config.bucket_name = bucket;
        view.config.created_at = Now();
        tx.InsertStorageConfiguration(&view.config);
        if (!tags.empty()) {
          tx.PutTags(t.id, ResourceKind::kStorageConfiguration, view.config.id, tags);
        }
        view.tags = tags;
        *out = std::move(view);
        return Status::Ok();
      },
      std::move(cb));
}

StatusOr<StorageView> StageService::GetStorageConfiguration(const Tenant& t, std::string_view arn) {
  return ReadWith<StorageView>(store(), [&](Tx& tx, std::optional<StorageView>* out) {
    StatusOr<StorageConfiguration> c = FindStorage(tx, t, region(), arn);
    if (!c.ok()) return c.status();
    Tags tags = tx.GetTags(t.id, ResourceKind::kStorageConfiguration, c->id);
    *out = StorageView{std::move(c.value()), std::move(tags)};
    return Status::Ok();
  });
}

StatusOr<KeysetPage<StorageView>> StageService::ListStorageConfigurations(const Tenant& t,
                                                                          RowId after_id,
                                                                          int64_t limit) {
  Status v = CheckLimit(limit, 100);
  if (!v.ok()) return v;
  return ReadWith<KeysetPage<StorageView>>(
      store(), [&](Tx& tx, std::optional<KeysetPage<StorageView>>* out) {
        std::vector<StorageConfiguration> cs =
            tx.ListStorageConfigurations(t.id, after_id, limit + 1);
        out->emplace();
        (*out)->more = static_cast<int64_t>(cs.size()) > limit;
        if ((*out)->more) cs.pop_back();
        for (StorageConfiguration& c : cs) {
          Tags tags = tx.GetTags(t.id, ResourceKind::kStorageConfiguration, c.id);
          (*out)->items.push_back(StorageView{std::move(c), std::move(tags)});
        }
        return Status::Ok();
      });
}

void StageService::DeleteStorageConfiguration(const Tenant& t, std::string arn, Callback<Done> cb) {
  WriteWith<Done>(
      store(),
      [this, t, arn = std::move(arn)](Tx& tx, std::optional<Done>* out) -> Status {
        StatusOr<StorageConfiguration> c = FindStorage(tx, t, region(), arn);
        if (!c.ok()) return c.status();
        if (tx.CountStagesUsingStorage(t.id, c->id) > 0) {
          return Status(Code::kConflict,
                        "the storage configuration is used by a stage's "
                        "autoParticipantRecordingConfiguration");
        }
        tx.DeleteStorageConfiguration(t.id, c->id);
        *out = Done{};
        return Status::Ok();
      },
      std::move(cb));
}

// --- sessions ---

StatusOr<KeysetPage<Session>> StageService::ListStageSessions(const Tenant& t, std::string_view arn,
                                                              std::optional<RowId> before_id,
                                                              int64_t limit) {
  Status v = CheckLimit(limit, 100);
  if (!v.ok()) return v;
  return ReadWith<KeysetPage<Session>>(
      store(), [&](Tx& tx, std::optional<KeysetPage<Session>>* out) {
        StatusOr<Application> app = FindStage(tx, t, region(), arn);
        if (!app.ok()) return app.status();
        out->emplace();
        (*out)->items = tx.ListSessionsBefore(t.id, app->id, before_id, limit + 1);
        (*out)->more = static_cast<int64_t>((*out)->items.size()) > limit;
        if ((*out)->more) (*out)->items.pop_back();
        return Status::Ok();
      });
}

StatusOr<Session> StageService::GetStageSession(const Tenant& t, std::string_view arn,
                                                std::string_view session_id) {
  return ReadWith<Session>(store(), [&](Tx& tx, std::optional<Session>* out) {
    StatusOr<Application> app = FindStage(tx, t, region(), arn);
    if (!app.ok()) return app.status();
    StatusOr<Session> s = FindStageSession(tx, t, app.value(), session_id);
    if (!s.ok()) return s.status();
    *out = std::move(s.value());
    return Status::Ok();
  });
}

// --- tokens ---

StatusOr<IssuedToken> StageService::CreateParticipantToken(const Tenant& t, std::string_view arn,
                                                           const TokenRequest& req) {
  Status v = CheckTokenRequest(req);
  if (!v.ok()) return v;
  StatusOr<Application> app =
      ReadWith<Application>(store(), [&](Tx& tx, std::optional<Application>* out) {
        StatusOr<Application> a = FindStage(tx, t, region(), arn);
        if (!a.ok()) return a.status();
        *out = std::move(a.value());
        return Status::Ok();
      });
  if (!app.ok()) return app.status();
  return IssueToken(StageArnOf(t, app.value()), app.value(), req, Now());
}

// --- participants ---

StatusOr<Participant> StageService::GetParticipant(const Tenant& t, std::string_view arn,
                                                   std::string_view session_id,
                                                   std::string_view participant_id) {
  return ReadWith<Participant>(store(), [&](Tx& tx, std::optional<Participant>* out) {
    StatusOr<Application> app = FindStage(tx, t, region(), arn);
    if (!app.ok()) return app.status();
    StatusOr<Session> s = FindStageSession(tx, t, app.value(), session_id);
    if (!s.ok()) return s.status();
    *out = tx.FindParticipant(t.id, s->id, std::string(participant_id));
    return out->has_value() ? Status::Ok() : NotFound("participant", participant_id);
  });
}

StatusOr<KeysetPage<ParticipantSummary>> StageService::ListParticipants(
    const Tenant& t, std::string_view arn, std::string_view session_id,
    const ParticipantFilter& filter, const std::optional<ParticipantKey>& after, int64_t limit) {
  Status v = CheckLimit(limit, 100);
  if (!v.ok()) return v;
  return ReadWith<KeysetPage<ParticipantSummary>>(
      store(), [&](Tx& tx, std::optional<KeysetPage<ParticipantSummary>>* out) {
        StatusOr<Application> app = FindStage(tx, t, region(), arn);
        if (!app.ok()) return app.status();
        StatusOr<Session> s = FindStageSession(tx, t, app.value(), session_id);
        if (!s.ok()) return s.status();
        out->emplace();
        (*out)->items = tx.ListParticipants(t.id, s->id, filter, after, limit + 1);
        (*out)->more = static_cast<int64_t>((*out)->items.size()) > limit;
        if ((*out)->more) (*out)->items.pop_back();
        return Status::Ok();
      });
}

StatusOr<KeysetPage<ParticipantEvent>> StageService::ListParticipantEvents(
    const Tenant& t, std::string_view arn, std::string_view session_id,
    std::string_view participant_id, RowId after_id, int64_t limit) {
  Status v = CheckLimit(limit, 100);
  if (!v.ok()) return v;
  return ReadWith<KeysetPage<ParticipantEvent>>(
      store(), [&](Tx& tx, std::optional<KeysetPage<ParticipantEvent>>* out) {
        StatusOr<Application> app = FindStage(tx, t, region(), arn);
        if (!app.ok()) return app.status();
        StatusOr<Session> s = FindStageSession(tx, t, app.value(), session_id);
        if (!s.ok()) return s.status();
        std::optional<Participant> p = tx.FindParticipant(t.id, s->id, std::string(participant_id));
        if (!p) return NotFound("participant", participant_id);
        out->emplace();
        (*out)->items = tx.ListEvents(t.id, p->member.id, after_id, limit + 1);
        (*out)->more = static_cast<int64_t>((*out)->items.size()) > limit;
        if ((*out)->more) (*out)->items.pop_back();
        // A member is a replica for its whole life; SUBSCRIBE_* events carry the remote's.
        const bool replica = p->ivs.replication_type == ReplicationType::kReplica;
        for (ParticipantEvent& e : (*out)->items) {
          if (e.event.name.rfind("SUBSCRIBE_", 0) != 0) e.detail.replica = replica;
        }
        return Status::Ok();
      });
}

void StageService::DisconnectParticipant(const Tenant& t, std::string arn,
                                         std::string participant_id, std::string reason,
                                         Callback<Done> cb) {
  std::optional<size_t> len = Utf8Length(reason);
  if (!len || *len > 128) return cb(Status::Invalid("reason must be at most 128 characters"));
  WriteWith<Done>(
      store(),
      [this, t, arn = std::move(arn), participant_id = std::move(participant_id),
       reason = std::move(reason)](Tx& tx, std::optional<Done>* out) -> Status {
        StatusOr<Application> app = FindStage(tx, t, region(), arn);
        if (!app.ok()) return app.status();
        const Status absent =
            NotFound("participant", participant_id + " in the stage's active session");
        if (!app->active_session_id) return absent;
        std::optional<Session> s = tx.GetSession(t.id, *app->active_session_id);
        if (!s) return absent;
        std::optional<Participant> p = tx.FindParticipant(t.id, s->id, participant_id);
        if (!p) return absent;
        const Millis now = Now();
        rules::ExpireIfOverdue(tx, &*s, &p->member, now);
        if (p->connected()) {
          rules::CloseVisit(tx, &*s, &p->member, now,
                            reason.empty() ? "DISCONNECTED" : "DISCONNECTED: " + reason);
        }
        tx.RevokeParticipant(t.id, app->id, participant_id, now);
        *out = Done{};
        return Status::Ok();
      },
      std::move(cb));
}

// --- replication ---

void StageService::StartParticipantReplication(const Tenant& t, ReplicationRequest req,
                                               Callback<Done> cb) {
  if (req.reconnect_window_seconds < 0 || req.reconnect_window_seconds > 300) {
    return cb(Status::Invalid("reconnectWindowSeconds must be between 0 and 300"));
  }
  if (req.attributes) {
    Status v = ValidateAttributes(*req.attributes);
    if (!v.ok()) return cb(v);
  }
  if (!IsParticipantId(req.participant_id)) {
    return cb(Status::Invalid("participantId must be 1 to 64 letters, digits or '-'"));
  }
  WriteWith<Done>(
      store(),
      [this, t, req = std::move(req)](Tx& tx, std::optional<Done>* out) -> Status {
        StatusOr<Application> src = FindStage(tx, t, region(), req.source_stage_arn);
        if (!src.ok()) return src.status();
        StatusOr<Application> dst = FindStage(tx, t, region(), req.destination_stage_arn);
        if (!dst.ok()) return dst.status();
        if (src->id == dst->id) {
          return Status::Invalid("the source and destination stages must differ");
        }
        Status w = rules::CheckWritable(dst.value());
        if (!w.ok()) return Status(Code::kConflict, "the destination stage is not active");
        const Status absent =
            NotFound("participant", req.participant_id + " in the source stage's active session");
        if (!src->active_session_id) return absent;
        std::optional<Session> src_session = tx.GetSession(t.id, *src->active_session_id);
        if (!src_session) return absent;
        std::optional<Participant> source =
            tx.FindParticipant(t.id, src_session->id, req.participant_id);
        if (!source) return absent;
        if (!source->connected()) {
          return Status(Code::kConflict, "the participant is not connected to the source stage");
        }
        if (source->ivs.replication_type == ReplicationType::kReplica) {
          return Status(Code::kConflict, "a replica cannot be replicated again");
        }
        if (tx.FindActiveReplica(t.id, src->id, dst->id, req.participant_id)) {
          return Status(Code::kConflict,
                        "the participant is already replicated to the destination stage");
        }
        const Millis now = Now();
        Session dst_session = rules::JoinableSession(tx, &dst.value(), now);
        std::optional<Participant> existing =
            tx.FindParticipant(t.id, dst_session.id, req.participant_id);
        if (existing && existing->connected()) {
          return Status(Code::kConflict, "the participant is already in the destination stage");
        }
        const std::string attributes =
            req.attributes ? AttributesToJson(*req.attributes) : source->member.attributes_json;
        // A replica keeps its own publishing and recording history in its session.
        Participant replica;
        if (existing) replica = *existing;
        replica.ivs.user_id = source->ivs.user_id;
        replica.ivs.client = source->ivs.client;
        replica.ivs.protocol = source->ivs.protocol;
        replica.ivs.publishing = false;
        replica.ivs.replication_type = ReplicationType::kReplica;
        replica.ivs.replication_state = ReplicationState::kActive;
        replica.ivs.source_stage_id = src->stage_id;
        replica.ivs.source_session_id = src_session->stage_session_id;
        replica.member = rules::EnsureMember(tx, dst_session, source->profile, req.participant_id,
                                             attributes, replica.ivs, now);
        tx.UpdateMemberIvs(t.id, replica.member.id, replica.ivs);
        rules::Arrive(tx, &dst_session, &replica.member,
                      rules::Report{now, std::nullopt, PresenceSource::kReplica});
        if (source->ivs.publishing) {
          rules::StartPublishingIn(tx, dst.value(), dst_session, &replica, now);
        }

        source->ivs.replication_type = ReplicationType::kSource;
        source->ivs.replication_state = ReplicationState::kActive;
        tx.UpdateMemberIvs(t.id, source->member.id, source->ivs);
        EventDetail detail;
        detail.destination_stage_id = dst->stage_id;
        detail.destination_session_id = dst_session.stage_session_id;
        AppendEvent(tx, *src_session, source->member.id, "REPLICATION_STARTED", now, "", detail);

        ReplicaLink link;
        link.tenant_id = t.id;
        link.participant_id = req.participant_id;
        link.source_application_id = src->id;
        link.source_session_id = src_session->id;
        link.source_member_id = source->member.id;
        link.destination_application_id = dst->id;
        link.destination_session_id = dst_session.id;
        link.destination_member_id = replica.member.id;
        link.state = ReplicationState::kActive;
        link.created_at = now;
        link.updated_at = now;
        tx.InsertReplica(&link);
        *out = Done{};
        return Status::Ok();
      },
      std::move(cb));
}

void StageService::StopParticipantReplication(const Tenant& t, std::string source_arn,
                                              std::string destination_arn,
                                              std::string participant_id, Callback<Done> cb) {
  WriteWith<Done>(
      store(),
      [this, t, source_arn = std::move(source_arn), destination_arn = std::move(destination_arn),
       participant_id = std::move(participant_id)](Tx& tx, std::optional<Done>* out) -> Status {
        StatusOr<Application> src = FindStage(tx, t, region(), source_arn);
        if (!src.ok()) return src.status();
        StatusOr<Application> dst = FindStage(tx, t, region(), destination_arn);
        if (!dst.ok()) return dst.status();
        std::optional<ReplicaLink> link =
            tx.FindActiveReplica(t.id, src->id, dst->id, participant_id);
        if (!link) return NotFound("active replication of participant", participant_id);
        rules::StopReplicationIn(tx, std::move(*link), Now());
        *out = Done{};
        return Status::Ok();
      },
      std::move(cb));
}

StatusOr<KeysetPage<ReplicaView>> StageService::ListParticipantReplicas(
    const Tenant& t, std::string_view source_arn, std::string_view participant_id, RowId after_id,
    int64_t limit) {
  Status v = CheckLimit(limit, 50);
  if (!v.ok()) return v;
  return ReadWith<KeysetPage<ReplicaView>>(
      store(), [&](Tx& tx, std::optional<KeysetPage<ReplicaView>>* out) {
        StatusOr<Application> src = FindStage(tx, t, region(), source_arn);
        if (!src.ok()) return src.status();
        out->emplace();
        (*out)->items =
            tx.ListReplicas(t.id, src->id, std::string(participant_id), after_id, limit + 1);
        (*out)->more = static_cast<int64_t>((*out)->items.size()) > limit;
        if ((*out)->more) (*out)->items.pop_back();
        return Status::Ok();
      });
}

// --- client presence ---

namespace {

rules::Report ClientReport(Millis now, std::optional<int64_t> seq) {
  return rules::Report{now, seq, PresenceSource::kClient};
}

// The view of the participant as it is now in the store.
StatusOr<PresenceView> CurrentView(Tx& tx, const TokenClaims& claims, const Presence& p) {
  std::optional<Participant> now = tx.GetParticipant(p.session.tenant_id, p.participant.member.id);
  if (!now) return Status::Internal("member just written is missing");
  return ViewOf(claims, p.session, *now);
}

}  // namespace

void StageService::Join(RowId tenant, TokenClaims claims, JoinRequest req,
                        Callback<PresenceView> cb) {
  Status v = CheckClaims(claims, Now(), 0);
  if (!v.ok()) return cb(v);
  WriteWith<PresenceView>(
      store(),
      [this, tenant, claims = std::move(claims), req = std::move(req)](
          Tx& tx, std::optional<PresenceView>* out) -> Status {
        StatusOr<Application> app = rules::TokenStage(tx, tenant, claims);
        if (!app.ok()) return app.status();
        StatusOr<rules::Joined> joined =
            rules::JoinStageIn(tx, claims, &app.value(), req, ClientReport(Now(), req.seq));
        if (!joined.ok()) return joined.status();
        *out = ViewOf(claims, joined->session, joined->participant);
        return Status::Ok();
      },
      std::move(cb));
}

void StageService::Leave(RowId tenant, TokenClaims claims, Callback<PresenceView> cb,
                         std::optional<int64_t> seq) {
  Status v = CheckClaims(claims, Now(), 0);
  if (!v.ok()) return cb(v);
  WriteWith<PresenceView>(
      store(),
      [this, tenant, claims = std::move(claims), seq](Tx& tx,
                                                      std::optional<PresenceView>* out) -> Status {
        StatusOr<Presence> p = TokenPresence(tx, tenant, claims);
        if (!p.ok()) return p.status();
        rules::Depart(tx, &p->session, &p->participant.member, ClientReport(Now(), seq), "");
        StatusOr<PresenceView> view = CurrentView(tx, claims, p.value());
        if (!view.ok()) return view.status();
        *out = std::move(view.value());
        return Status::Ok();
      },
      std::move(cb));
}

void StageService::Heartbeat(RowId tenant, TokenClaims claims, std::optional<int64_t> seq,
                             Callback<PresenceView> cb) {
  Status v = CheckClaims(claims, Now(), 0);
  if (!v.ok()) return cb(v);
  WriteWith<PresenceView>(
      store(),
      [this, tenant, claims = std::move(claims), seq](Tx& tx,
                                                      std::optional<PresenceView>* out) -> Status {
        StatusOr<Presence> p = TokenPresence(tx, tenant, claims);
        if (!p.ok()) return p.status();
        rules::Touch(tx, &p->session, &p->participant.member, ClientReport(Now(), seq), true);
        StatusOr<PresenceView> view = CurrentView(tx, claims, p.value());
        if (!view.ok()) return view.status();
        *out = std::move(view.value());
        return Status::Ok();
      },
      std::move(cb));
}

void StageService::Publish(RowId tenant, TokenClaims claims, bool started,
                           Callback<PresenceView> cb, std::optional<int64_t> seq) {
  Status v = CheckClaims(claims, Now(), kCapabilityPublish);
  if (!v.ok()) return cb(v);
  WriteWith<PresenceView>(
      store(),
      [this, tenant, claims = std::move(claims), started, seq](
          Tx& tx, std::optional<PresenceView>* out) -> Status {
        StatusOr<Presence> p = TokenPresence(tx, tenant, claims);
        if (!p.ok()) return p.status();
        rules::Result r =
            rules::Touch(tx, &p->session, &p->participant.member, ClientReport(Now(), seq), false);
        if (r.outcome == rules::Outcome::kAbsent) return NotConnected();
        if (r.outcome != rules::Outcome::kStale) {
          rules::SetPublishingIn(tx, p->app, p->session, &p->participant, started, r.at);
        }
        StatusOr<PresenceView> view = CurrentView(tx, claims, p.value());
        if (!view.ok()) return view.status();
        *out = std::move(view.value());
        return Status::Ok();
      },
      std::move(cb));
}

void StageService::Subscribe(RowId tenant, TokenClaims claims, std::string remote, bool started,
                             Callback<PresenceView> cb, std::optional<int64_t> seq) {
  Status v = CheckClaims(claims, Now(), kCapabilitySubscribe);
  if (!v.ok()) return cb(v);
  if (!IsParticipantId(remote)) {
    return cb(Status::Invalid("remoteParticipantId must be 1 to 64 letters, digits or '-'"));
  }
  if (remote == claims.participant_id) {
    return cb(Status::Invalid("a participant cannot subscribe to itself"));
  }
  WriteWith<PresenceView>(
      store(),
      [this, tenant, claims = std::move(claims), remote = std::move(remote), started, seq](
          Tx& tx, std::optional<PresenceView>* out) -> Status {
        StatusOr<Presence> p = TokenPresence(tx, tenant, claims);
        if (!p.ok()) return p.status();
        std::optional<Participant> r = tx.FindParticipant(tenant, p->session.id, remote);
        if (!r) {
          return Status(Code::kParticipantNotFound,
                        "remote participant " + remote + " is not in this stage session");
        }
        rules::Result t =
            rules::Touch(tx, &p->session, &p->participant.member, ClientReport(Now(), seq), false);
        if (t.outcome == rules::Outcome::kAbsent) return NotConnected();
        if (t.outcome != rules::Outcome::kStale) {
          rules::AppendSubscribeIn(tx, p->session, p->participant.member.id, *r, started, t.at);
        }
        StatusOr<PresenceView> view = CurrentView(tx, claims, p.value());
        if (!view.ok()) return view.status();
        *out = std::move(view.value());
        return Status::Ok();
      },
      std::move(cb));
}

// --- rules ---

namespace rules {

void StartPublishingIn(Tx& tx, const Application& app, const Session& s, Participant* p,
                       Millis at) {
  MemberIvs& ivs = p->ivs;
  if (ivs.publishing) return;
  ivs.publishing = true;
  ivs.published = true;
  if (!ivs.recording_prefix.empty()) {
    ivs.recording_state = RecordingState::kActive;
  } else if (std::optional<AutoRecording> r = tx.GetStageRecording(app.tenant_id, app.id);
             r && (ivs.replication_type != ReplicationType::kReplica || r->record_replicas)) {
    std::optional<StorageConfiguration> c =
        tx.GetStorageConfiguration(app.tenant_id, r->storage_configuration_id);
    if (c) {
      ivs.recording_state = RecordingState::kActive;
      ivs.recording_bucket = c->bucket_name;
      ivs.recording_prefix =
          RecordingPrefix(app.stage_id, s.stage_session_id, p->member.ivs_participant_id);
    }
  }
  tx.UpdateMemberIvs(app.tenant_id, p->member.id, ivs);
  AppendEvent(tx, s, p->member.id, "PUBLISH_STARTED", at);
}

void MirrorPublishingIn(Tx& tx, const Session& s, RowId member, bool started, Millis at) {
  for (const ReplicaLink& link : ActiveReplicasFrom(tx, s, member)) {
    std::optional<Participant> replica = tx.GetParticipant(s.tenant_id, link.destination_member_id);
    std::optional<Session> dst_session = tx.GetSession(s.tenant_id, link.destination_session_id);
    std::optional<Application> dst_app =
        tx.GetApplication(s.tenant_id, link.destination_application_id);
    if (!replica || !dst_session || !dst_app || !replica->connected()) continue;
    if (started) {
      StartPublishingIn(tx, *dst_app, *dst_session, &*replica, at);
    } else {
      rules::StopPublishingIn(tx, *dst_session, replica->member.id, at);
    }
  }
}

StatusOr<Application> TokenStage(Tx& tx, RowId tenant, const TokenClaims& c) {
  std::optional<Application> app = tx.FindApplicationByStageId(tenant, c.stage_id);
  if (!app || app->status == AppStatus::kDeleted) {
    return Status::Unauthenticated("the participant token's stage no longer exists");
  }
  if (tx.IsParticipantRevoked(tenant, app->id, c.participant_id)) {
    return Status::Unauthenticated(
        "the participant was disconnected; its token can no longer be used");
  }
  return std::move(*app);
}

StatusOr<Joined> JoinStageIn(Tx& tx, const TokenClaims& claims, Application* app,
                             const JoinRequest& req, const Report& r) {
  Status w = CheckWritable(*app);
  if (!w.ok()) return w;
  const RowId tenant = app->tenant_id;
  if (r.seq) {
    std::optional<Participant> latest =
        tx.FindLatestParticipant(tenant, app->id, claims.participant_id);
    if (latest && presence::IsStale(tx.GetMemberPresence(tenant, latest->member.id), r.seq)) {
      std::optional<Session> s = tx.GetSession(tenant, latest->member.session_id);
      if (!s) return Status::Internal("member's session is missing");
      return Joined{std::move(*s), std::move(*latest), Outcome::kStale};
    }
  }
  Session s = JoinableSession(tx, app, r.now);
  const Millis now = std::max(r.now, s.created_at);
  std::optional<std::string> image;
  for (const auto& [k, val] : claims.attributes) {
    if (k == "profileImageUrl") image = val;
  }
  Profile profile = UpsertProfile(
      tx, tenant, claims.participant_id,
      TokenNickname(claims.attributes, claims.user_id, claims.participant_id), image, now);
  MemberIvs initial;
  initial.user_id = claims.user_id;
  Member m = EnsureMember(tx, s, profile, claims.participant_id,
                          AttributesToJson(claims.attributes), initial, now);
  Report at_now = r;
  at_now.now = now;
  const Outcome outcome = Arrive(tx, &s, &m, at_now).outcome;
  std::optional<Participant> p = tx.GetParticipant(tenant, m.id);
  if (!p) return Status::Internal("member just written is missing");
  if (outcome != Outcome::kStale) {
    MemberIvs& ivs = p->ivs;
    ivs.user_id = claims.user_id;
    auto set = [](const std::optional<std::string>& given, std::string* field) {
      if (given) *field = *given;
    };
    set(req.browser_name, &ivs.client.browser_name);
    set(req.browser_version, &ivs.client.browser_version);
    set(req.os_name, &ivs.client.os_name);
    set(req.os_version, &ivs.client.os_version);
    set(req.sdk_version, &ivs.client.sdk_version);
    set(req.isp_name, &ivs.client.isp_name);
    if (req.protocol) ivs.protocol = *req.protocol;
    tx.UpdateMemberIvs(tenant, m.id, ivs);
  }
  return Joined{std::move(s), std::move(*p), outcome};
}

void SetPublishingIn(Tx& tx, const Application& app, const Session& s, Participant* p, bool started,
                     Millis at) {
  if (started) {
    StartPublishingIn(tx, app, s, p, at);
  } else {
    StopPublishingIn(tx, s, p->member.id, at);
    p->ivs.publishing = false;
  }
  MirrorPublishingIn(tx, s, p->member.id, started, at);
}

void AppendSubscribeIn(Tx& tx, const Session& s, RowId member, const Participant& remote,
                       bool started, Millis at) {
  EventDetail detail;
  detail.replica = remote.ivs.replication_type == ReplicationType::kReplica;
  AppendEvent(tx, s, member, started ? "SUBSCRIBE_STARTED" : "SUBSCRIBE_STOPPED", at,
              remote.member.ivs_participant_id, detail);
}

void StopPublishingIn(Tx& tx, const Session& s, RowId member, Millis at) {
  std::optional<Participant> p = tx.GetParticipant(s.tenant_id, member);
  if (!p || !p->ivs.publishing) return;
  p->ivs.publishing = false;
  if (p->ivs.recording_state == RecordingState::kActive) {
    p->ivs.recording_state = RecordingState::kStopped;
  }
  tx.UpdateMemberIvs(s.tenant_id, member, p->ivs);
  AppendEvent(tx, s, member, "PUBLISH_STOPPED", at);
}

void StopMemberMediaIn(Tx& tx, const Session& s, RowId member, Millis at) {
  for (ReplicaLink& link : ActiveReplicasFrom(tx, s, member)) {
    StopReplicationIn(tx, std::move(link), at);
  }
  StopPublishingIn(tx, s, member, at);
}

void StopSessionMediaIn(Tx& tx, const Session& s, Millis at) {
  for (ReplicaLink& link : tx.ListActiveReplicasOfSession(s.tenant_id, s.id)) {
    StopReplicationIn(tx, std::move(link), at);
  }
  for (const Participant& p : tx.ListPublishing(s.tenant_id, s.id)) {
    StopPublishingIn(tx, s, p.member.id, at);
  }
}

void StopReplicationIn(Tx& tx, ReplicaLink link, Millis at) {
  const RowId tenant = link.tenant_id;
  link.state = ReplicationState::kStopped;
  link.updated_at = at;
  tx.UpdateReplica(link);

  std::optional<Session> dst_session = tx.GetSession(tenant, link.destination_session_id);
  std::optional<Participant> replica = tx.GetParticipant(tenant, link.destination_member_id);
  if (replica && dst_session) {
    replica->ivs.replication_state = ReplicationState::kStopped;
    tx.UpdateMemberIvs(tenant, replica->member.id, replica->ivs);
    if (replica->connected()) {
      CloseVisit(tx, &*dst_session, &replica->member, at, "REPLICATION_STOPPED");
    }
  }

  std::optional<Session> src_session = tx.GetSession(tenant, link.source_session_id);
  std::optional<Participant> source = tx.GetParticipant(tenant, link.source_member_id);
  std::optional<Application> dst_app = tx.GetApplication(tenant, link.destination_application_id);
  if (!source || !src_session) return;
  EventDetail detail;
  detail.destination_stage_id = dst_app ? dst_app->stage_id : "";
  detail.destination_session_id = dst_session ? dst_session->stage_session_id : "";
  AppendEvent(tx, *src_session, source->member.id, "REPLICATION_STOPPED", at, "", detail);
  bool other_active = false;
  for (const ReplicaLink& l : tx.ListActiveReplicasOfSession(tenant, link.source_session_id)) {
    if (l.source_member_id == link.source_member_id) other_active = true;
  }
  if (!other_active) {
    source->ivs.replication_state = ReplicationState::kStopped;
    tx.UpdateMemberIvs(tenant, source->member.id, source->ivs);
  }
}

}  // namespace rules

}  // namespace rollcall
