#ifndef ROLLCALL_CORE_SERVICE_H_
#define ROLLCALL_CORE_SERVICE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/model.h"
#include "core/presence.h"
#include "core/presence_rules.h"
#include "core/rate_limiter.h"
#include "core/search.h"
#include "core/secret_box.h"
#include "core/stage.h"
#include "core/status.h"
#include "core/time.h"
#include "core/ttl_cache.h"
#include "core/tx_calls.h"
#include "store/store.h"

namespace rollcall {

template <typename T>
struct Page {
  std::vector<T> items;
  std::optional<int64_t> total;  // nullopt when the caller asked not to count
};

using Attributes = std::vector<std::pair<std::string, std::string>>;

struct EnterRequest {
  std::string participant_id;
  std::string nickname;
  std::optional<std::string> profile_image_url;
  std::optional<Attributes> attributes;
  // The client's sequence number of this report (docs/presence.md), if it sent one.
  std::optional<int64_t> seq = std::nullopt;
};

// A visit as both faces render it: with its participant and session.
struct VisitView {
  VisitRow row;
  Session session;
  bool created = false;  // Enter: a new visit was opened
};

struct SearchResult {
  Session session;
  Page<VisitRow> page;
};

struct NewApplication {
  Application app;
  std::string api_key;  // shown once
};

// An application with its presence settings, as the management API shows one application.
struct ManagedApplication {
  Application app;
  PresenceSettings presence;
};

// A change of presence settings: unset fields keep their value.
struct PresencePatch {
  std::optional<int64_t> timeout_seconds;
  std::optional<int64_t> reconnect_window_seconds;
  std::optional<int64_t> idle_session_seconds;
  std::optional<bool> manage_server_side;
};

struct TenantCredentials {
  Tenant tenant;
  std::string admin_token;  // shown once
  AccessKey access_key;     // secret shown once
};

// Checks an enter body: participantId 1..128 characters without controls, nickname 1..64
// without controls, profileImageUrl at most 2048, attributes at most 1 KiB in total.
Status ValidateEnter(const EnterRequest& r);
Status ValidateAttributes(const Attributes& a);
std::string AttributesToJson(const Attributes& a);

// The domain operations both API faces call. Holds no state of its own beyond its
// collaborators; thread-safe. Reads block the caller; writes complete through Callback.
class Service {
 public:
  // REQUIRES: store and clock outlive the service.
  Service(Store* store, Clock* clock, std::string region)
      : store_(*store), clock_(*clock), region_(std::move(region)) {}

  // How long a cached credential lookup answers (TtlCache): the longest a change made by
  // another process sharing the database takes to be seen here. This process's own changes
  // are seen at once.
  static constexpr std::chrono::milliseconds kCredentialTtl{1000};

  // The AWS region in ARNs.
  const std::string& region() const { return region_; }
  Clock& clock() { return clock_; }
  Store& store() { return store_; }

  // Limits requests per credential from now on; nullptr (the default): no limit.
  // REQUIRES: limiter outlives the service; set before serving.
  void set_rate_limiter(RateLimiter* limiter) { limiter_ = limiter; }
  // Every face calls this once per request, after the credential is authenticated, with the
  // credential's name (core/rate_limiter.h): OK, or kRateLimited with retry_after_ms.
  Status Admit(std::string_view credential) {
    return limiter_ != nullptr ? limiter_->Admit(credential) : Status::Ok();
  }

  // Seals secret access keys at rest with `box` from now on (new keys are stored sealed, stored
  // ones are opened with it). Without a box (unit tests) secrets are stored as given.
  // REQUIRES: box outlives the service; set before serving.
  void set_secret_box(const SecretBox* box);
  // The usable secret of a stored access key row: opened when sealed. A sealed secret that
  // does not open (another key file, a tampered row): kInternal.
  StatusOr<std::string> OpenAccessKeySecret(const AccessKey& stored) const;
  // Run at start, after set_secret_box: in one transaction, checks that the database's key
  // check value (a fixed plaintext sealed at the first start) and every sealed secret open
  // with the box (else kInvalidArgument naming `key_source` as the likely wrong key file),
  // seals in place every secret stored in plaintext (rows written before secrets were sealed),
  // and stores the key check value sealed with the box when there is none yet (a new database,
  // or one from before the check). Two processes starting at once on one empty database: the
  // first to commit stores its check value, the other checks against it. Returns the number of
  // rows sealed. REQUIRES: a box is set.
  StatusOr<int64_t> SealStoredSecrets(const std::string& key_source);

  // Credentials. Unknown or revoked: kUnauthenticated.
  StatusOr<Application> AuthenticateApiKey(std::string_view api_key);
  StatusOr<Tenant> AuthenticateAdmin(std::string_view token);
  // The access key and its tenant, the secret opened (OpenAccessKeySecret). Unknown:
  // kUnauthenticated.
  StatusOr<AccessKeyOwner> FindAccessKey(std::string_view access_key_id);
  // Drops every cached credential lookup (see kCredentialTtl). Called by the writes that
  // change them; thread-safe.
  void CredentialsChanged();
  // cb, after dropping the cached credentials: for writes that change what an ApiKey
  // authenticates as (an application's status, key or deletion).
  template <typename T>
  Callback<T> ThenCredentialsChanged(Callback<T> cb) {
    return [this, cb = std::move(cb)](StatusOr<T> r) {
      CredentialsChanged();
      cb(std::move(r));
    };
  }

  // Tenants (administration, not exposed over HTTP).
  StatusOr<TenantCredentials> CreateTenant(const std::string& name);
  StatusOr<std::vector<Tenant>> ListTenants();
  // Creates tenant `name` with one application of `type` unless any tenant exists.
  // Returns nullopt when the store already had a tenant.
  StatusOr<std::optional<std::pair<TenantCredentials, NewApplication>>> Bootstrap(
      const std::string& name, AppType type);

  // Applications of a tenant.
  void CreateApplication(const Tenant& t, AppType type, std::string name,
                         Callback<NewApplication> cb);
  StatusOr<Application> GetApplication(const Tenant& t, std::string_view uuid);
  StatusOr<Page<Application>> ListApplications(const Tenant& t, PageRequest page);
  // status must be kActive or kInactive. Deleted application: kApplicationDeleted.
  void SetApplicationStatus(const Tenant& t, std::string uuid, AppStatus status,
                            Callback<Application> cb);
  // Sets the status (kActive or kInactive) and/or changes the presence settings; at least one
  // must be given. The due times of visits and of the idle session follow new settings.
  // Deleted application: kApplicationDeleted; settings out of range: kInvalidArgument.
  void UpdateApplication(const Tenant& t, std::string uuid, std::optional<AppStatus> status,
                         std::optional<PresencePatch> presence, Callback<ManagedApplication> cb);
  // The application's presence settings (the defaults when never set).
  StatusOr<PresenceSettings> GetPresenceSettings(const Application& app);
  // Marks the application deleted and ends its active session. Idempotent.
  void DeleteApplication(const Tenant& t, std::string uuid, Callback<Application> cb);
  // Issues a new ApiKey and revokes the old one.
  void RotateApiKey(const Tenant& t, std::string uuid, Callback<std::string> cb);

  // Sessions of the key's application.
  void StartSession(const Application& app, Callback<Session> cb);
  void EndSession(const Application& app, std::string session_uuid, Callback<Session> cb);
  StatusOr<Session> GetSession(const Application& app, std::string_view session_uuid);
  StatusOr<Page<Session>> ListSessions(const Application& app, PageRequest page);

  // Participants.
  void Enter(const Application& app, std::string session_uuid, EnterRequest req,
             Callback<VisitView> cb);
  // Closes the participant's open visit (or returns its latest). `seq`: docs/presence.md.
  void Leave(const Application& app, std::string session_uuid, std::string participant_id,
             Callback<VisitView> cb, std::optional<int64_t> seq = std::nullopt);
  // The participant is alive: its open visit's timeout restarts. Returns the open visit, or the
  // latest one (closed) when the participant is not inside. Never entered: kParticipantNotFound.
  void Heartbeat(const Application& app, std::string session_uuid, std::string participant_id,
                 std::optional<int64_t> seq, Callback<VisitView> cb);
  StatusOr<SearchResult> Search(const Application& app, std::string_view session_uuid,
                                const VisitQuery& q);

 private:
  // The write of one report of an In-Stream participant: finds the session and member
  // (kSessionNotFound, kParticipantNotFound), applies `report`, and renders its visit.
  Status ReportIn(Tx& tx, RowId tenant, RowId app_id, const std::string& session_uuid,
                  const std::string& participant_id, std::optional<VisitView>* out,
                  const std::function<rules::Result(Session*, Member*)>& report);
  // c's tenant, admin token and access key (its secret sealed when a box is set), inserted
  // in tx. *taken: the name exists, nothing inserted.
  TenantCredentials InsertTenant(Tx& tx, const std::string& name, Millis now, bool* taken) const;
  // The secret as stored: sealed to the access key id when a box is set.
  std::string StoredSecret(const AccessKey& k) const;

  Store& store_;
  Clock& clock_;
  const std::string region_;
  RateLimiter* limiter_ = nullptr;
  const SecretBox* box_ = nullptr;
  // By SHA-256 of the ApiKey / admin token.
  TtlCache<Application> apps_by_key_{kCredentialTtl, 100000};
  TtlCache<Tenant> tenants_by_token_{kCredentialTtl, 10000};
  TtlCache<AccessKeyOwner> owners_by_key_id_{kCredentialTtl, 10000};
};

// Pure rules of presence, used inside write transactions (unit-tested directly). Both faces
// (Service, StageService) build every write from these, so a participant is recorded the same
// way whichever face it came through.
namespace rules {

// Ends `s` at `at` inside tx: stops its publishing and replications (stage rules), closes its
// open visits (LEFT events with `reason`), zeroes the inside-now count and clears the
// application's active session. No-op if already ended.
void EndSessionIn(Tx& tx, Application* app, Session* s, Millis at, const std::string& reason);

// The status a write to `app` gets: kApplicationInactive (P), kApplicationDeleted (Y) or OK.
Status CheckWritable(const Application& app);

// Inserts an active application of `type` with a fresh ApiKey (returned in the result).
NewApplication InsertApplication(Tx& tx, RowId tenant, AppType type, std::string name, Millis now);

// Reads the application's active session, if any, which in a store shared by several
// processes locks it. Call before reading the clock for StartSessionIn or DeleteApplicationIn,
// so that no write to that session this transaction waited for is later than its end.
void LockActiveSession(Tx& tx, const Application& app);

// Starts a new session of `app` at `now`, ending its active one first (reason
// SESSION_REPLACED). REQUIRES: CheckWritable(*app) is OK.
Session StartSessionIn(Tx& tx, Application* app, Millis now);

// Ends the application's active session (reason APPLICATION_DELETED) and marks it deleted.
void DeleteApplicationIn(Tx& tx, Application* app, Millis now);

// The tenant-wide profile of participant_id: created at `now` when missing, otherwise its
// nickname is set and, when given, its profile image URL.
Profile UpsertProfile(Tx& tx, RowId tenant, const std::string& participant_id,
                      const std::string& nickname, const std::optional<std::string>& image_url,
                      Millis now);

// The member of `profile` in `s`. When missing it is created (first_join_at = now) with
// `ivs_participant_id`, the attributes (or {}) and `initial` IVS state; when present and
// attributes_json is given, its attributes are replaced.
Member EnsureMember(Tx& tx, const Session& s, const Profile& profile,
                    const std::string& ivs_participant_id,
                    const std::optional<std::string>& attributes_json, const MemberIvs& initial,
                    Millis now);

// Opens a visit of `m` at `now` (JOINED event, counts maintained) unless one is open. Returns
// the open visit; *opened tells whether it was opened by this call. Sets m's open and last
// visit but does not write m: the caller does. Every report of a participant goes through
// rules::Arrive (core/presence_rules.h), which calls this and writes the member with its
// presence for the visit (Tx::UpdateMemberAndPresence).
Visit OpenVisit(Tx& tx, Session* s, Member* m, Millis now, bool* opened);

// Closes m's open visit at max(at, its enter time): stops its replications and publishing
// (stage rules), LEFT
// event with `reason`, counts maintained, presence upkept (rules::OnVisitClosed: `presence` is
// the member's presence when the caller holds it; the caller then also writes *m, with that
// presence: Tx::UpdateMemberAndPresence). REQUIRES: m->open_visit_id.
Visit CloseVisit(Tx& tx, Session* s, Member* m, Millis at, const std::string& reason,
                 MemberPresence* presence = nullptr);

}  // namespace rules

}  // namespace rollcall

#endif  // ROLLCALL_CORE_SERVICE_H_
