#include "core/service.h"

#include <boost/json.hpp>
#include <memory>

#include "core/crypto.h"
#include "core/ids.h"
#include "core/presence_rules.h"
#include "core/stage_service.h"
#include "core/text.h"
#include "core/tx_calls.h"

namespace rollcall {
namespace {

Status CheckText(std::string_view field, const std::string& v, size_t min, size_t max,
                 bool controls_allowed) {
  std::optional<size_t> len = Utf8Length(v);
  if (!len) return Status::Invalid(std::string(field) + " must be valid UTF-8");
  if (*len < min || *len > max) {
    return Status::Invalid(std::string(field) + " must be " + std::to_string(min) + " to " +
                           std::to_string(max) + " characters long");
  }
  if (!controls_allowed && HasControlCharacters(v)) {
    return Status::Invalid(std::string(field) + " must not contain control characters");
  }
  return Status::Ok();
}

Status SessionNotFound() {
  return Status(Code::kSessionNotFound, "no such session in this application");
}

Status AppNotFound() { return Status(Code::kApplicationNotFound, "no such application"); }

}  // namespace

Status ValidateAttributes(const Attributes& a) {
  size_t total = 0;
  for (const auto& [k, v] : a) {
    if (!Utf8Length(k) || !Utf8Length(v)) return Status::Invalid("attributes must be UTF-8 text");
    total += k.size() + v.size();
  }
  if (total > 1024) return Status::Invalid("attributes must be at most 1 KiB in total");
  return Status::Ok();
}

std::string AttributesToJson(const Attributes& a) {
  boost::json::object o;
  for (const auto& [k, v] : a) o[k] = v;
  return boost::json::serialize(o);
}

Status ValidateEnter(const EnterRequest& r) {
  Status s = CheckText("participantId", r.participant_id, 1, 128, false);
  if (s.ok()) s = CheckText("nickname", r.nickname, 1, 64, false);
  if (s.ok() && r.profile_image_url) {
    s = CheckText("profileImageUrl", *r.profile_image_url, 0, 2048, false);
  }
  if (s.ok() && r.attributes) s = ValidateAttributes(*r.attributes);
  return s;
}

namespace rules {

Status CheckWritable(const Application& app) {
  switch (app.status) {
    case AppStatus::kActive:
      return Status::Ok();
    case AppStatus::kInactive:
      return Status(Code::kApplicationInactive, "the application is inactive (status P)");
    case AppStatus::kDeleted:
      return Status(Code::kApplicationDeleted, "the application is deleted (status Y)");
  }
  return Status::Ok();
}

void EndSessionIn(Tx& tx, Application* app, Session* s, Millis at, const std::string& reason) {
  if (!s->active()) return;
  const Millis end = std::max(at, s->created_at);
  StopSessionMediaIn(tx, *s, end);
  tx.CloseOpenVisits(s->tenant_id, s->id, end, reason);
  tx.ClearSessionPresence(s->tenant_id, s->id);
  s->deleted_at = end;
  s->participant_count = 0;
  tx.UpdateSession(*s);
  if (app->active_session_id == s->id) {
    app->active_session_id.reset();
    tx.UpdateApplication(*app);
  }
}

NewApplication InsertApplication(Tx& tx, RowId tenant, AppType type, std::string name, Millis now) {
  NewApplication n;
  n.app.tenant_id = tenant;
  n.app.uuid = NewUuid();
  n.app.stage_id = NewStageId();
  n.app.name = std::move(name);
  n.app.type = type;
  n.app.status = AppStatus::kActive;
  n.app.created_at = now;
  n.api_key = NewUuid();
  tx.InsertApplication(&n.app, Sha256(n.api_key));
  return n;
}

void LockActiveSession(Tx& tx, const Application& app) {
  if (app.active_session_id) tx.GetSession(app.tenant_id, *app.active_session_id);
}

Session StartSessionIn(Tx& tx, Application* app, Millis now) {
  if (app->active_session_id) {
    std::optional<Session> old = tx.GetSession(app->tenant_id, *app->active_session_id);
    if (old) EndSessionIn(tx, app, &*old, now, "SESSION_REPLACED");
  }
  Session s;
  s.tenant_id = app->tenant_id;
  s.application_id = app->id;
  s.uuid = NewUuid();
  s.stage_session_id = NewStageSessionId();
  s.created_at = now;
  tx.InsertSession(&s);
  app->active_session_id = s.id;
  tx.UpdateApplication(*app);
  return s;
}

void DeleteApplicationIn(Tx& tx, Application* app, Millis now) {
  if (app->active_session_id) {
    std::optional<Session> s = tx.GetSession(app->tenant_id, *app->active_session_id);
    if (s) EndSessionIn(tx, app, &*s, now, "APPLICATION_DELETED");
  }
  app->status = AppStatus::kDeleted;
  app->active_session_id.reset();
  tx.UpdateApplication(*app);
}

Profile UpsertProfile(Tx& tx, RowId tenant, const std::string& participant_id,
                      const std::string& nickname, const std::optional<std::string>& image_url,
                      Millis now) {
  std::optional<Profile> p = tx.FindProfile(tenant, participant_id);
  if (!p) {
    p.emplace();
    p->tenant_id = tenant;
    p->participant_id = participant_id;
    p->nickname = nickname;
    p->profile_image_url = image_url;
    p->created_at = now;
    tx.InsertProfile(&*p);
  } else if (p->nickname != nickname || (image_url && p->profile_image_url != image_url)) {
    p->nickname = nickname;
    if (image_url) p->profile_image_url = image_url;
    tx.UpdateProfile(*p);
  }
  return std::move(*p);
}

Member EnsureMember(Tx& tx, const Session& s, const Profile& profile,
                    const std::string& ivs_participant_id,
                    const std::optional<std::string>& attributes_json, const MemberIvs& initial,
                    Millis now) {
  std::optional<Member> m = tx.FindMember(s.tenant_id, s.id, profile.id);
  if (!m) {
    m.emplace();
    m->tenant_id = s.tenant_id;
    m->session_id = s.id;
    m->profile_id = profile.id;
    m->ivs_participant_id = ivs_participant_id;
    m->first_join_at = now;
    if (attributes_json) m->attributes_json = *attributes_json;
    tx.InsertMember(&*m);
    tx.UpdateMemberIvs(s.tenant_id, m->id, initial);
  } else if (attributes_json && m->attributes_json != *attributes_json) {
    m->attributes_json = *attributes_json;
    tx.UpdateMember(*m);
  }
  return std::move(*m);
}

Visit OpenVisit(Tx& tx, Session* s, Member* m, Millis now, bool* opened) {
  if (m->open_visit_id) {
    std::optional<Visit> open = tx.GetVisit(s->tenant_id, *m->open_visit_id);
    if (!open) throw StoreFailure(Code::kInternal, "member's open visit is missing");
    *opened = false;
    return std::move(*open);
  }
  Visit visit;
  visit.tenant_id = s->tenant_id;
  visit.session_id = s->id;
  visit.member_id = m->id;
  visit.profile_id = m->profile_id;
  visit.uuid = NewUuid();
  visit.created_at = now;
  tx.InsertVisit(&visit);
  m->open_visit_id = visit.id;
  m->last_visit_id = visit.id;
  s->participant_count += 1;
  s->visit_count += 1;
  tx.UpdateSession(*s);
  Event e;
  e.tenant_id = s->tenant_id;
  e.session_id = s->id;
  e.member_id = m->id;
  e.name = "JOINED";
  e.at = now;
  tx.InsertEvent(&e);
  OnVisitOpened(tx, *s);
  *opened = true;
  return visit;
}

Visit CloseVisit(Tx& tx, Session* s, Member* m, Millis at, const std::string& reason,
                 MemberPresence* presence) {
  std::optional<Visit> open = tx.CloseVisitAt(s->tenant_id, *m->open_visit_id, at);
  if (!open) throw StoreFailure(Code::kInternal, "member's open visit is missing");
  StopMemberMediaIn(tx, *s, m->id, *open->deleted_at);
  m->open_visit_id.reset();
  if (presence == nullptr) tx.UpdateMember(*m);
  s->participant_count -= 1;
  tx.UpdateSession(*s);
  Event e;
  e.tenant_id = s->tenant_id;
  e.session_id = s->id;
  e.member_id = m->id;
  e.name = "LEFT";
  e.at = *open->deleted_at;
  e.reason = reason;
  tx.InsertEvent(&e);
  OnVisitClosed(tx, *s, m->id, *open->deleted_at, presence);
  return std::move(*open);
}

}  // namespace rules

StatusOr<Application> Service::AuthenticateApiKey(std::string_view api_key) {
  if (!IsUuid(api_key)) return Status::Unauthenticated("missing or malformed ApiKey header");
  const std::string hash = Sha256(CanonicalUuid(api_key));
  if (std::optional<Application> cached = apps_by_key_.Get(hash)) return std::move(*cached);
  const uint64_t generation = apps_by_key_.generation();
  StatusOr<Application> app =
      ReadWith<Application>(store_, [&](Tx& tx, std::optional<Application>* out) {
        *out = tx.FindApplicationByKeyHash(hash);
        return out->has_value() ? Status::Ok()
                                : Status::Unauthenticated("unknown or revoked ApiKey");
      });
  if (app.ok()) apps_by_key_.Put(hash, app.value(), generation);
  return app;
}

StatusOr<Tenant> Service::AuthenticateAdmin(std::string_view token) {
  if (token.empty()) return Status::Unauthenticated("missing admin bearer token");
  const std::string hash = Sha256(token);
  if (std::optional<Tenant> cached = tenants_by_token_.Get(hash)) return std::move(*cached);
  const uint64_t generation = tenants_by_token_.generation();
  StatusOr<Tenant> tenant = ReadWith<Tenant>(store_, [&](Tx& tx, std::optional<Tenant>* out) {
    *out = tx.FindTenantByAdminHash(hash);
    return out->has_value() ? Status::Ok() : Status::Unauthenticated("unknown admin token");
  });
  if (tenant.ok()) tenants_by_token_.Put(hash, tenant.value(), generation);
  return tenant;
}

StatusOr<AccessKeyOwner> Service::FindAccessKey(std::string_view access_key_id) {
  const std::string id(access_key_id);
  if (std::optional<AccessKeyOwner> cached = owners_by_key_id_.Get(id)) return std::move(*cached);
  const uint64_t generation = owners_by_key_id_.generation();
  StatusOr<AccessKeyOwner> owner =
      ReadWith<AccessKeyOwner>(store_, [&](Tx& tx, std::optional<AccessKeyOwner>* out) {
        const Status unknown = Status::Unauthenticated("unknown access key id");
        std::optional<AccessKey> k = tx.FindAccessKey(id);
        if (!k) return unknown;
        std::optional<Tenant> t = tx.GetTenant(k->tenant_id);
        if (!t) return unknown;
        StatusOr<std::string> secret = OpenAccessKeySecret(*k);
        if (!secret.ok()) return secret.status();
        k->secret_access_key = std::move(secret.value());
        *out = AccessKeyOwner{std::move(*k), std::move(*t)};
        return Status::Ok();
      });
  if (owner.ok()) owners_by_key_id_.Put(id, owner.value(), generation);
  return owner;
}

void Service::CredentialsChanged() {
  apps_by_key_.Invalidate();
  tenants_by_token_.Invalidate();
  owners_by_key_id_.Invalidate();
}

void Service::set_secret_box(const SecretBox* box) {
  box_ = box;
  CredentialsChanged();
}

namespace {

// A sealed secret as stored in the text column: this prefix, then the SecretBox output in
// hex. Plaintext secrets (40 characters of [A-Za-z0-9+/]) never contain ':'.
constexpr std::string_view kSealedPrefix = "sealed1:";

bool IsSealed(std::string_view stored) { return stored.rfind(kSealedPrefix, 0) == 0; }

}  // namespace

std::string Service::StoredSecret(const AccessKey& k) const {
  if (box_ == nullptr) return k.secret_access_key;
  return std::string(kSealedPrefix) + HexEncode(box_->Seal(k.secret_access_key, k.access_key_id));
}

StatusOr<std::string> Service::OpenAccessKeySecret(const AccessKey& stored) const {
  if (!IsSealed(stored.secret_access_key)) return stored.secret_access_key;
  const Status bad = Status::Internal("the secret of access key " + stored.access_key_id +
                                      " does not open with the key file");
  if (box_ == nullptr) return bad;
  std::optional<std::string> raw =
      HexDecode(std::string_view(stored.secret_access_key).substr(kSealedPrefix.size()));
  if (!raw) return bad;
  StatusOr<std::string> plain = box_->Open(*raw, stored.access_key_id);
  if (!plain.ok()) return bad;
  return plain;
}

StatusOr<int64_t> Service::SealStoredSecrets(const std::string& key_source) {
  if (box_ == nullptr) return Status::Internal("no key-encryption key is set");
  // The key check value: this plaintext sealed with this context, stored once per database.
  static constexpr std::string_view kCheckPlaintext = "rollcall key check";
  static constexpr std::string_view kCheckContext = "key_check";
  auto sealed = std::make_shared<int64_t>(0);
  Status s = store_.WriteAndWait([this, sealed, &key_source](Tx& tx) {
    *sealed = 0;
    const std::optional<std::string> check = tx.FindKeyCheck();
    if (check && !box_->Open(*check, kCheckContext).ok()) {
      return Status::Invalid("the key file " + key_source +
                             " does not open the key check value in the database: start with "
                             "the key file the database was first started with (--key-file)");
    }
    for (const AccessKey& k : tx.ListAccessKeys()) {
      if (IsSealed(k.secret_access_key)) {
        if (!OpenAccessKeySecret(k).ok()) {
          return Status::Invalid("the key file " + key_source +
                                 " does not open the secret access keys in the database (access "
                                 "key " +
                                 k.access_key_id +
                                 "): start with the key file they were sealed with (--key-file)");
        }
        continue;
      }
      tx.UpdateAccessKeySecret(k.access_key_id, StoredSecret(k));
      ++*sealed;
    }
    if (!check) tx.InsertKeyCheck(box_->Seal(kCheckPlaintext, kCheckContext));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return *sealed;
}

TenantCredentials Service::InsertTenant(Tx& tx, const std::string& name, Millis now,
                                        bool* taken) const {
  TenantCredentials c;
  c.tenant.name = name;
  c.tenant.account_id = NewAccountId();
  c.tenant.created_at = now;
  c.admin_token = NewAdminToken();
  *taken = !tx.InsertTenant(&c.tenant, Sha256(c.admin_token));
  if (*taken) return c;
  c.access_key = AccessKey{NewAccessKeyId(), c.tenant.id, NewSecretAccessKey(), now};
  AccessKey stored = c.access_key;
  stored.secret_access_key = StoredSecret(c.access_key);
  tx.InsertAccessKey(stored);
  tx.InsertTenantKey(NewTenantKey(c.tenant.id, now));
  return c;
}

StatusOr<TenantCredentials> Service::CreateTenant(const std::string& name) {
  Status v = CheckText("name", name, 1, 128, false);
  if (!v.ok()) return v;
  auto out = std::make_shared<TenantCredentials>();
  const Millis now = clock_.Now();
  Status s = store_.WriteAndWait([&, out](Tx& tx) {
    bool taken = false;
    *out = InsertTenant(tx, name, now, &taken);
    if (taken) return Status(Code::kConflict, "a tenant named " + name + " exists");
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return std::move(*out);
}

StatusOr<std::vector<Tenant>> Service::ListTenants() {
  return ReadWith<std::vector<Tenant>>(store_, [](Tx& tx, std::optional<std::vector<Tenant>>* out) {
    *out = tx.ListTenants();
    return Status::Ok();
  });
}

StatusOr<std::optional<std::pair<TenantCredentials, NewApplication>>> Service::Bootstrap(
    const std::string& name, AppType type) {
  using Result = std::optional<std::pair<TenantCredentials, NewApplication>>;
  auto out = std::make_shared<Result>();
  const Millis now = clock_.Now();
  Status s = store_.WriteAndWait([&, out](Tx& tx) {
    if (!tx.ListTenants().empty()) return Status::Ok();
    bool taken = false;
    TenantCredentials c = InsertTenant(tx, name, now, &taken);
    if (taken) return Status::Ok();
    NewApplication app = rules::InsertApplication(tx, c.tenant.id, type, name, now);
    *out = std::make_pair(std::move(c), std::move(app));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return std::move(*out);
}

void Service::CreateApplication(const Tenant& t, AppType type, std::string name,
                                Callback<NewApplication> cb) {
  Status v = CheckText("name", name, 0, 128, false);
  if (!v.ok()) return cb(v);
  WriteWith<NewApplication>(
      store_,
      [this, tenant = t.id, type, name = std::move(name)](Tx& tx,
                                                          std::optional<NewApplication>* out) {
        *out = rules::InsertApplication(tx, tenant, type, name, clock_.Now());
        return Status::Ok();
      },
      std::move(cb));
}

StatusOr<Application> Service::GetApplication(const Tenant& t, std::string_view uuid) {
  if (!IsUuid(uuid)) return Status::Invalid("applicationId must be a UUID");
  const std::string id = CanonicalUuid(uuid);
  return ReadWith<Application>(store_, [&](Tx& tx, std::optional<Application>* out) {
    *out = tx.FindApplication(t.id, id);
    return out->has_value() ? Status::Ok() : AppNotFound();
  });
}

StatusOr<Page<Application>> Service::ListApplications(const Tenant& t, PageRequest page) {
  return ReadWith<Page<Application>>(store_, [&](Tx& tx, std::optional<Page<Application>>* out) {
    out->emplace();
    (*out)->items = tx.ListApplications(t.id, page.offset(), page.size);
    (*out)->total = tx.CountApplications(t.id);
    return Status::Ok();
  });
}

void Service::SetApplicationStatus(const Tenant& t, std::string uuid, AppStatus status,
                                   Callback<Application> cb) {
  UpdateApplication(t, std::move(uuid), status, std::nullopt,
                    [cb = std::move(cb)](StatusOr<ManagedApplication> r) {
                      if (!r.ok()) return cb(r.status());
                      cb(std::move(r->app));
                    });
}

void Service::UpdateApplication(const Tenant& t, std::string uuid, std::optional<AppStatus> status,
                                std::optional<PresencePatch> presence,
                                Callback<ManagedApplication> cb) {
  if (!IsUuid(uuid)) return cb(Status::Invalid("applicationId must be a UUID"));
  if (!status && !presence) return cb(Status::Invalid("give status and/or presence"));
  WriteWith<ManagedApplication>(
      store_,
      [tenant = t.id, uuid = CanonicalUuid(uuid), status, presence](
          Tx& tx, std::optional<ManagedApplication>* out) {
        std::optional<Application> app = tx.FindApplication(tenant, uuid);
        if (!app) return AppNotFound();
        if (app->status == AppStatus::kDeleted) return rules::CheckWritable(*app);
        const PresenceSettings old_settings = rules::PresenceSettingsOf(tx, tenant, app->id);
        PresenceSettings settings = old_settings;
        if (presence) {
          auto set = [](const auto& given, auto* field) {
            if (given) *field = *given;
          };
          set(presence->timeout_seconds, &settings.timeout_seconds);
          set(presence->reconnect_window_seconds, &settings.reconnect_window_seconds);
          set(presence->idle_session_seconds, &settings.idle_session_seconds);
          set(presence->manage_server_side, &settings.manage_server_side);
          Status v = ValidatePresenceSettings(settings);
          if (!v.ok()) return v;
          tx.PutPresenceSettings(tenant, app->id, settings);
          rules::ApplyPresenceSettings(tx, *app, old_settings, settings);
        }
        if (status && *status != app->status) {
          app->status = *status;
          tx.UpdateApplication(*app);
        }
        *out = ManagedApplication{std::move(*app), settings};
        return Status::Ok();
      },
      ThenCredentialsChanged(std::move(cb)));
}

StatusOr<PresenceSettings> Service::GetPresenceSettings(const Application& app) {
  return ReadWith<PresenceSettings>(store_, [&](Tx& tx, std::optional<PresenceSettings>* out) {
    *out = rules::PresenceSettingsOf(tx, app.tenant_id, app.id);
    return Status::Ok();
  });
}

void Service::DeleteApplication(const Tenant& t, std::string uuid, Callback<Application> cb) {
  if (!IsUuid(uuid)) return cb(Status::Invalid("applicationId must be a UUID"));
  WriteWith<Application>(
      store_,
      [this, tenant = t.id, uuid = CanonicalUuid(uuid)](Tx& tx, std::optional<Application>* out) {
        std::optional<Application> app = tx.FindApplication(tenant, uuid);
        if (!app) return AppNotFound();
        rules::LockActiveSession(tx, *app);
        rules::DeleteApplicationIn(tx, &*app, clock_.Now());
        *out = std::move(app);
        return Status::Ok();
      },
      ThenCredentialsChanged(std::move(cb)));
}

void Service::RotateApiKey(const Tenant& t, std::string uuid, Callback<std::string> cb) {
  if (!IsUuid(uuid)) return cb(Status::Invalid("applicationId must be a UUID"));
  WriteWith<std::string>(
      store_,
      [tenant = t.id, uuid = CanonicalUuid(uuid)](Tx& tx, std::optional<std::string>* out) {
        std::optional<Application> app = tx.FindApplication(tenant, uuid);
        if (!app) return AppNotFound();
        if (app->status == AppStatus::kDeleted) return rules::CheckWritable(*app);
        std::string key = NewUuid();
        tx.SetApiKeyHash(tenant, app->id, Sha256(key));
        *out = std::move(key);
        return Status::Ok();
      },
      ThenCredentialsChanged(std::move(cb)));
}

void Service::StartSession(const Application& app, Callback<Session> cb) {
  WriteWith<Session>(
      store_,
      [this, tenant = app.tenant_id, app_id = app.id](Tx& tx, std::optional<Session>* out) {
        std::optional<Application> a = tx.GetApplication(tenant, app_id);
        if (!a) return AppNotFound();
        Status w = rules::CheckWritable(*a);
        if (!w.ok()) return w;
        rules::LockActiveSession(tx, *a);
        *out = rules::StartSessionIn(tx, &*a, clock_.Now());
        return Status::Ok();
      },
      std::move(cb));
}

void Service::EndSession(const Application& app, std::string session_uuid, Callback<Session> cb) {
  if (!IsUuid(session_uuid)) return cb(Status::Invalid("sessionId must be a UUID"));
  WriteWith<Session>(
      store_,
      [this, tenant = app.tenant_id, app_id = app.id, uuid = CanonicalUuid(session_uuid)](
          Tx& tx, std::optional<Session>* out) {
        std::optional<Application> a = tx.GetApplication(tenant, app_id);
        if (!a) return AppNotFound();
        std::optional<Session> s = tx.FindSession(tenant, app_id, uuid);
        if (!s) return SessionNotFound();
        rules::EndSessionIn(tx, &*a, &*s, clock_.Now(), "SESSION_ENDED");
        *out = std::move(s);
        return Status::Ok();
      },
      std::move(cb));
}

StatusOr<Session> Service::GetSession(const Application& app, std::string_view session_uuid) {
  if (!IsUuid(session_uuid)) return Status::Invalid("sessionId must be a UUID");
  const std::string uuid = CanonicalUuid(session_uuid);
  return ReadWith<Session>(store_, [&](Tx& tx, std::optional<Session>* out) {
    *out = tx.FindSession(app.tenant_id, app.id, uuid);
    return out->has_value() ? Status::Ok() : SessionNotFound();
  });
}

StatusOr<Page<Session>> Service::ListSessions(const Application& app, PageRequest page) {
  return ReadWith<Page<Session>>(store_, [&](Tx& tx, std::optional<Page<Session>>* out) {
    out->emplace();
    (*out)->items = tx.ListSessions(app.tenant_id, app.id, page.offset(), page.size);
    (*out)->total = tx.CountSessions(app.tenant_id, app.id);
    return Status::Ok();
  });
}

void Service::Enter(const Application& app, std::string session_uuid, EnterRequest req,
                    Callback<VisitView> cb) {
  if (!IsUuid(session_uuid)) return cb(Status::Invalid("sessionId must be a UUID"));
  Status v = ValidateEnter(req);
  if (!v.ok()) return cb(v);
  WriteWith<VisitView>(
      store_,
      [this, tenant = app.tenant_id, app_id = app.id, uuid = CanonicalUuid(session_uuid),
       req = std::move(req)](Tx& tx, std::optional<VisitView>* out) {
        std::optional<Application> a = tx.GetApplication(tenant, app_id);
        if (!a) return AppNotFound();
        std::optional<Session> s = tx.FindSession(tenant, app_id, uuid);
        if (!s) return SessionNotFound();
        Status w = rules::CheckWritable(*a);
        if (!w.ok()) return w;
        const Millis clock = clock_.Now();
        if (!s->active() || rules::EndIfIdle(tx, &*a, &*s, clock)) {
          return Status(Code::kSessionEnded, "the session has ended; start a new one");
        }
        const Millis now = std::max(clock, s->created_at);
        Profile p = rules::UpsertProfile(tx, tenant, req.participant_id, req.nickname,
                                         req.profile_image_url, now);
        std::optional<std::string> attributes;
        if (req.attributes) attributes = AttributesToJson(*req.attributes);
        MemberIvs initial;
        initial.user_id = req.participant_id;
        Member m = rules::EnsureMember(tx, *s, p, IvsParticipantIdFor(req.participant_id),
                                       attributes, initial, now);
        VisitView view;
        rules::Result r = rules::Arrive(tx, &*s, &m, rules::Report{now, req.seq});
        if (!r.visit) return Status::Internal("the participant's visit is missing");
        view.created = r.outcome == rules::Outcome::kOpened;
        view.row = VisitRow{std::move(*r.visit), std::move(p)};
        view.session = std::move(*s);
        *out = std::move(view);
        return Status::Ok();
      },
      std::move(cb));
}

void Service::Leave(const Application& app, std::string session_uuid, std::string participant_id,
                    Callback<VisitView> cb, std::optional<int64_t> seq) {
  if (!IsUuid(session_uuid)) return cb(Status::Invalid("sessionId must be a UUID"));
  Status v = CheckText("participantId", participant_id, 1, 128, false);
  if (!v.ok()) return cb(v);
  WriteWith<VisitView>(
      store_,
      [this, tenant = app.tenant_id, app_id = app.id, uuid = CanonicalUuid(session_uuid),
       participant_id = std::move(participant_id), seq](Tx& tx, std::optional<VisitView>* out) {
        return ReportIn(tx, tenant, app_id, uuid, participant_id, out, [&](Session* s, Member* m) {
          return rules::Depart(tx, s, m, rules::Report{clock_.Now(), seq}, "");
        });
      },
      std::move(cb));
}

void Service::Heartbeat(const Application& app, std::string session_uuid,
                        std::string participant_id, std::optional<int64_t> seq,
                        Callback<VisitView> cb) {
  if (!IsUuid(session_uuid)) return cb(Status::Invalid("sessionId must be a UUID"));
  Status v = CheckText("participantId", participant_id, 1, 128, false);
  if (!v.ok()) return cb(v);
  WriteWith<VisitView>(
      store_,
      [this, tenant = app.tenant_id, app_id = app.id, uuid = CanonicalUuid(session_uuid),
       participant_id = std::move(participant_id), seq](Tx& tx, std::optional<VisitView>* out) {
        return ReportIn(tx, tenant, app_id, uuid, participant_id, out, [&](Session* s, Member* m) {
          return rules::Touch(tx, s, m, rules::Report{clock_.Now(), seq}, true);
        });
      },
      std::move(cb));
}

Status Service::ReportIn(Tx& tx, RowId tenant, RowId app_id, const std::string& session_uuid,
                         const std::string& participant_id, std::optional<VisitView>* out,
                         const std::function<rules::Result(Session*, Member*)>& report) {
  std::optional<Session> s = tx.FindSession(tenant, app_id, session_uuid);
  if (!s) return SessionNotFound();
  const Status never(Code::kParticipantNotFound, "the participant never entered this session");
  std::optional<Profile> p = tx.FindProfile(tenant, participant_id);
  if (!p) return never;
  std::optional<Member> m = tx.FindMember(tenant, s->id, p->id);
  if (!m) return never;
  rules::Result r = report(&*s, &*m);
  if (!r.visit) return never;
  VisitView view;
  view.row = VisitRow{std::move(*r.visit), std::move(*p)};
  view.session = std::move(*s);
  *out = std::move(view);
  return Status::Ok();
}

StatusOr<SearchResult> Service::Search(const Application& app, std::string_view session_uuid,
                                       const VisitQuery& q) {
  if (!IsUuid(session_uuid)) return Status::Invalid("sessionId must be a UUID");
  const std::string uuid = CanonicalUuid(session_uuid);
  return ReadWith<SearchResult>(store_, [&](Tx& tx, std::optional<SearchResult>* out) {
    std::optional<Session> s = tx.FindSession(app.tenant_id, app.id, uuid);
    if (!s) return SessionNotFound();
    out->emplace();
    (*out)->page.items = tx.SearchVisits(app.tenant_id, s->id, q);
    if (q.count_total) {
      (*out)->page.total = q.filtered() ? tx.CountVisits(app.tenant_id, s->id, q) : s->visit_count;
    }
    (*out)->session = std::move(*s);
    return Status::Ok();
  });
}

}  // namespace rollcall
