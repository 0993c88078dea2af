#ifndef ROLLCALL_STORE_STORE_H_
#define ROLLCALL_STORE_STORE_H_

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/presence.h"
#include "core/search.h"
#include "core/stage.h"
#include "core/status.h"

namespace rollcall {

// Thrown by Tx methods when the store itself fails (I/O error, lost connection, constraint
// violated by a bug). Store::Read and Store::Write catch it and report Status; code outside
// the store never catches it.
class StoreFailure : public std::runtime_error {
 public:
  StoreFailure(Code code, const std::string& what) : std::runtime_error(what), code_(code) {}
  Code code() const { return code_; }

 private:
  Code code_;
};

// The primitive reads and writes of one transaction. Every method is scoped by tenant:
// a row of another tenant is never returned or changed. Lookups return nullopt when the row
// does not exist (in that tenant). Write methods REQUIRE a write transaction.
// Not thread-safe: a Tx belongs to the one thread running the transaction.
class Tx {
 public:
  virtual ~Tx() = default;

  // Tenants and credentials. InsertTenant returns false if the name is taken.
  virtual bool InsertTenant(Tenant* t, const std::string& admin_token_hash) = 0;
  virtual std::optional<Tenant> GetTenant(RowId id) = 0;
  virtual std::optional<Tenant> FindTenantByAdminHash(const std::string& hash) = 0;
  virtual std::vector<Tenant> ListTenants() = 0;
  virtual void InsertAccessKey(const AccessKey& k) = 0;
  virtual std::optional<AccessKey> FindAccessKey(const std::string& access_key_id) = 0;
  // Every tenant's access keys (administration at start), in no particular order.
  virtual std::vector<AccessKey> ListAccessKeys() = 0;
  // Replaces the stored secret of access key `access_key_id`; no-op when there is none.
  virtual void UpdateAccessKeySecret(const std::string& access_key_id,
                                     const std::string& secret) = 0;
  // The key check value (Service::SealStoredSecrets): the sealed bytes stored, or nullopt when
  // none is stored yet.
  virtual std::optional<std::string> FindKeyCheck() = 0;
  // Stores the key check value. REQUIRES: FindKeyCheck() returned nullopt in this transaction.
  // A process that stored one meanwhile makes it throw; in a store shared by several
  // processes, Store::Write then runs the fn again, and FindKeyCheck finds that value.
  virtual void InsertKeyCheck(const std::string& sealed) = 0;

  // Applications (stages). Sets a->id.
  virtual void InsertApplication(Application* a, const std::string& api_key_hash) = 0;
  virtual std::optional<Application> FindApplicationByKeyHash(const std::string& hash) = 0;
  virtual std::optional<Application> GetApplication(RowId tenant, RowId id) = 0;
  virtual std::optional<Application> FindApplication(RowId tenant, const std::string& uuid) = 0;
  virtual std::optional<Application> FindApplicationByStageId(RowId tenant,
                                                              const std::string& stage_id) = 0;
  // Newest first.
  virtual std::vector<Application> ListApplications(RowId tenant, int64_t offset,
                                                    int64_t limit) = 0;
  virtual int64_t CountApplications(RowId tenant) = 0;
  // Writes name, status and active_session_id.
  virtual void UpdateApplication(const Application& a) = 0;
  virtual void SetApiKeyHash(RowId tenant, RowId app, const std::string& hash) = 0;

  // Sessions. Sets s->id.
  virtual void InsertSession(Session* s) = 0;
  virtual std::optional<Session> GetSession(RowId tenant, RowId id) = 0;
  virtual std::optional<Session> FindSession(RowId tenant, RowId app, const std::string& uuid) = 0;
  virtual std::optional<Session> FindSessionByStageSessionId(RowId tenant, RowId app,
                                                             const std::string& st_id) = 0;
  // Newest first.
  virtual std::vector<Session> ListSessions(RowId tenant, RowId app, int64_t offset,
                                            int64_t limit) = 0;
  virtual int64_t CountSessions(RowId tenant, RowId app) = 0;
  // Writes deleted_at, participant_count and visit_count.
  virtual void UpdateSession(const Session& s) = 0;

  // Profiles. Sets p->id.
  virtual std::optional<Profile> FindProfile(RowId tenant, const std::string& participant_id) = 0;
  virtual std::optional<Profile> GetProfile(RowId tenant, RowId id) = 0;
  virtual void InsertProfile(Profile* p) = 0;
  // Writes nickname and profile_image_url.
  virtual void UpdateProfile(const Profile& p) = 0;

  // Members (one per session and profile). Sets m->id.
  virtual std::optional<Member> FindMember(RowId tenant, RowId session, RowId profile) = 0;
  virtual void InsertMember(Member* m) = 0;
  // Writes attributes_json, open_visit_id and last_visit_id.
  virtual void UpdateMember(const Member& m) = 0;
  // Writes what UpdateMember(m) and UpdateMemberPresence(m's tenant, m.id, p) write, at once.
  virtual void UpdateMemberAndPresence(const Member& m, const MemberPresence& p) = 0;

  // Visits. Sets v->id.
  virtual void InsertVisit(Visit* v) = 0;
  virtual std::optional<Visit> GetVisit(RowId tenant, RowId id) = 0;
  // Writes deleted_at.
  virtual void UpdateVisit(const Visit& v) = 0;
  // Sets the deleted_at of visit `id` to max(at, its created_at) and returns the visit as
  // written; nullopt (nothing changed) when there is none.
  virtual std::optional<Visit> CloseVisitAt(RowId tenant, RowId id, Millis at) = 0;
  // Closes every open visit of the session at `at`, clears its members' open visit and appends
  // a LEFT event with `reason` for each. Returns how many visits it closed.
  virtual int64_t CloseOpenVisits(RowId tenant, RowId session, Millis at,
                                  const std::string& reason) = 0;
  // One page of the session's visits, filtered and ordered as `q` says; ties by visit id.
  virtual std::vector<VisitRow> SearchVisits(RowId tenant, RowId session, const VisitQuery& q) = 0;
  // Number of visits matching q's filters (paging ignored).
  virtual int64_t CountVisits(RowId tenant, RowId session, const VisitQuery& q) = 0;

  // Events. Sets e->id.
  virtual void InsertEvent(Event* e) = 0;

  // --- IVS face ---
  // Everything the IVS Real-Time face adds (schema 002_ivs). Same rules as above: scoped by
  // tenant, nullopt when missing, write methods REQUIRE a write transaction.

  // Tenant keys (core/stage.h TenantKey): one per tenant, made with the tenant, never changed.
  virtual void InsertTenantKey(const TenantKey& k) = 0;
  virtual std::optional<TenantKey> GetTenantKey(RowId tenant) = 0;
  // By key id, across tenants (the id names its tenant).
  virtual std::optional<TenantKey> FindTenantKey(const std::string& key_id) = 0;

  // Stages that are not deleted (status N or P) with id > after_id, ascending id, at most limit.
  virtual std::vector<Application> ListStages(RowId tenant, RowId after_id, int64_t limit) = 0;
  // A stage's autoParticipantRecordingConfiguration; nullopt when it has none.
  virtual std::optional<AutoRecording> GetStageRecording(RowId tenant, RowId app) = 0;
  // Sets (or with nullopt removes) the stage's autoParticipantRecordingConfiguration.
  virtual void SetStageRecording(RowId tenant, RowId app,
                                 const std::optional<AutoRecording>& r) = 0;
  // Number of not-deleted stages whose recording uses the storage configuration.
  virtual int64_t CountStagesUsingStorage(RowId tenant, RowId storage_configuration) = 0;

  // Tags of a resource, sorted by key (empty when none).
  virtual Tags GetTags(RowId tenant, ResourceKind kind, RowId resource) = 0;
  // Adds the tags, replacing the values of keys the resource already has.
  virtual void PutTags(RowId tenant, ResourceKind kind, RowId resource, const Tags& tags) = 0;
  // Removes the keys the resource has; other keys are ignored.
  virtual void DeleteTags(RowId tenant, ResourceKind kind, RowId resource,
                          const std::vector<std::string>& keys) = 0;

  // Storage configurations. Insert sets c->id.
  virtual void InsertStorageConfiguration(StorageConfiguration* c) = 0;
  virtual std::optional<StorageConfiguration> GetStorageConfiguration(RowId tenant, RowId id) = 0;
  virtual std::optional<StorageConfiguration> FindStorageConfiguration(
      RowId tenant, const std::string& config_id) = 0;
  // id > after_id, ascending id, at most limit.
  virtual std::vector<StorageConfiguration> ListStorageConfigurations(RowId tenant, RowId after_id,
                                                                      int64_t limit) = 0;
  // Deletes the configuration and its tags.
  virtual void DeleteStorageConfiguration(RowId tenant, RowId id) = 0;

  // The application's sessions with id < before_id (all when nullopt), newest (highest id)
  // first, at most limit.
  virtual std::vector<Session> ListSessionsBefore(RowId tenant, RowId app,
                                                  std::optional<RowId> before_id,
                                                  int64_t limit) = 0;

  // Members with their IVS state and profile.
  virtual std::optional<Participant> GetParticipant(RowId tenant, RowId member) = 0;
  // The member of the session whose ivs_participant_id is participant_id (lowest id if several).
  virtual std::optional<Participant> FindParticipant(RowId tenant, RowId session,
                                                     const std::string& participant_id) = 0;
  // The newest member (highest id) with that ivs_participant_id in any session of the app.
  virtual std::optional<Participant> FindLatestParticipant(RowId tenant, RowId app,
                                                           const std::string& participant_id) = 0;
  // The session's members matching the filter, ordered by (first_join_at, ivs_participant_id,
  // id), strictly after `after` when given, at most limit.
  virtual std::vector<ParticipantSummary> ListParticipants(
      RowId tenant, RowId session, const ParticipantFilter& filter,
      const std::optional<ParticipantKey>& after, int64_t limit) = 0;
  // The session's members that are publishing now, by id.
  virtual std::vector<Participant> ListPublishing(RowId tenant, RowId session) = 0;
  // Writes every MemberIvs column of the member.
  virtual void UpdateMemberIvs(RowId tenant, RowId member, const MemberIvs& ivs) = 0;

  // Inserts an event with its IVS detail. Sets e->id. (InsertEvent writes empty detail.)
  virtual void InsertEventWithDetail(Event* e, const EventDetail& d) = 0;
  // The member's events with id > after_id, ascending id, at most limit.
  virtual std::vector<ParticipantEvent> ListEvents(RowId tenant, RowId member, RowId after_id,
                                                   int64_t limit) = 0;

  // Participant ids of a stage whose tokens may no longer be used. Revoke is idempotent
  // (the first time is kept).
  virtual void RevokeParticipant(RowId tenant, RowId app, const std::string& participant_id,
                                 Millis at) = 0;
  virtual bool IsParticipantRevoked(RowId tenant, RowId app, const std::string& participant_id) = 0;

  // Replications. Insert sets r->id; Update writes state and updated_at.
  virtual void InsertReplica(ReplicaLink* r) = 0;
  virtual void UpdateReplica(const ReplicaLink& r) = 0;
  // The ACTIVE link of participant_id from source app to destination app.
  virtual std::optional<ReplicaLink> FindActiveReplica(RowId tenant, RowId source_app,
                                                       RowId destination_app,
                                                       const std::string& participant_id) = 0;
  // Links of participant_id from the source app with id > after_id, ascending id, at most limit.
  virtual std::vector<ReplicaView> ListReplicas(RowId tenant, RowId source_app,
                                                const std::string& participant_id, RowId after_id,
                                                int64_t limit) = 0;
  // ACTIVE links whose source or destination session is `session`, by id.
  virtual std::vector<ReplicaLink> ListActiveReplicasOfSession(RowId tenant, RowId session) = 0;

  // --- presence ---
  // Heartbeats, timeouts, reconnect grace, idle session end, RTMP stream keys and media
  // connections (schema 005_presence, core/presence.h). Same rules as above unless stated.

  // An application's presence settings; nullopt when never set (the defaults apply).
  virtual std::optional<PresenceSettings> GetPresenceSettings(RowId tenant, RowId app) = 0;
  virtual void PutPresenceSettings(RowId tenant, RowId app, const PresenceSettings& s) = 0;
  // A member's presence state (defaults for a member that has none yet).
  virtual MemberPresence GetMemberPresence(RowId tenant, RowId member) = 0;
  virtual void UpdateMemberPresence(RowId tenant, RowId member, const MemberPresence& p) = 0;
  // A session's presence state (defaults for a session that has none yet).
  virtual SessionPresence GetSessionPresence(RowId tenant, RowId session) = 0;
  virtual void UpdateSessionPresence(RowId tenant, RowId session, const SessionPresence& p) = 0;
  // The time of the member's latest event (highest id); nullopt when it has none.
  virtual std::optional<Millis> LastEventTime(RowId tenant, RowId member) = 0;
  // Members of the session with an open visit, by id.
  virtual std::vector<RowId> ListOpenMembers(RowId tenant, RowId session) = 0;
  // After the session ended: clears its members' due and resumable times and its idle time.
  virtual void ClearSessionPresence(RowId tenant, RowId session) = 0;
  // Across tenants, for the reaper: members whose due_at <= now, and sessions whose
  // idle_due_at <= now, earliest first, at most limit. Served by the due-time indexes.
  virtual std::vector<DueMember> ListDueMembers(Millis now, int64_t limit) = 0;
  virtual std::vector<DueSession> ListIdleSessions(Millis now, int64_t limit) = 0;

  // RTMP stream keys. Put inserts, or replaces the row with the same key_hash.
  virtual void PutStreamKey(const StreamKey& k) = 0;
  // By key hash, across tenants (the key names its tenant).
  virtual std::optional<StreamKey> FindStreamKey(const std::string& key_hash) = 0;

  // Media connections, by (application, participant, connection id). Put inserts or replaces.
  virtual std::optional<MediaConnection> FindMediaConnection(RowId tenant, RowId app,
                                                             const std::string& participant_id,
                                                             const std::string& connection_id) = 0;
  virtual void PutMediaConnection(const MediaConnection& c) = 0;
  // Open (closed_at unset) connections of the member with `role` ("" for any role).
  virtual int64_t CountOpenMediaConnections(RowId tenant, RowId member,
                                            const std::string& role) = 0;
};

// A transactional store. Implementations: sqlite/, postgres/. Thread-safe.
class Store {
 public:
  using TxFn = std::function<Status(Tx&)>;
  using Done = std::function<void(Status)>;

  virtual ~Store() = default;

  // Runs fn in a write transaction, possibly grouped with other writers' fns in one commit.
  // If fn returns non-OK, exactly its own changes are rolled back. `done` runs once, after the
  // commit is durable (or failed), with fn's Status or the failure; it runs on a store thread
  // and must not block. A store shared by several processes may roll fn back and run it again
  // (after a deadlock or a race on a unique key), so fn must act only through its Tx and
  // overwrite, not accumulate, what it reports to `done`.
  virtual void Write(TxFn fn, Done done) = 0;

  // Runs fn in a read-only snapshot on the calling thread. Returns fn's Status, or kUnavailable
  // if the store cannot be reached.
  virtual Status Read(const TxFn& fn) = 0;

  // OK when the store answers.
  virtual Status Ping() = 0;

  // Waits for every queued write to commit and stops accepting new ones (they fail with
  // kUnavailable). Idempotent.
  virtual void Close() = 0;

  // Writes a consistent copy of the whole store, as of one instant, to the file `path` while
  // writes go on, and replaces `path` with it only once it is complete and durable. The copy
  // is a store of the same kind that `OpenStore` opens as is. Stores that cannot make such a
  // copy answer kInvalidArgument naming their own tool (PostgreSQL: pg_dump); I/O failures
  // kUnavailable.
  // (Defined here, not in store.cc: Store keeps no key function, so code that only sees
  // this interface links without the store library.)
  virtual Status Backup(const std::string& path) {
    return Status::Invalid(
        "this store has no online backup to a file; use the database's own tools "
        "(PostgreSQL: pg_dump)");
  }

  // Write() and wait for `done`.
  Status WriteAndWait(TxFn fn) {
    std::promise<Status> done;
    std::future<Status> result = done.get_future();
    Write(std::move(fn), [&done](Status s) { done.set_value(std::move(s)); });
    return result.get();
  }
};

struct StoreOptions {
  int readers = 4;       // read connections
  int max_batch = 1000;  // writes grouped into one transaction at most
  int pool = 8;          // PostgreSQL: connections per process, writers and readers
};

// The store URL as logs may show it: a password in it is replaced by "***".
std::string RedactedUrl(std::string_view url);

// Opens the store a URL names: "sqlite:PATH" or "postgresql://...". Applies pending schema
// migrations first. Unknown scheme or failure: non-OK.
StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& url, const StoreOptions& options);

}  // namespace rollcall

#endif  // ROLLCALL_STORE_STORE_H_
