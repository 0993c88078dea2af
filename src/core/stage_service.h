#ifndef ROLLCALL_CORE_STAGE_SERVICE_H_
#define ROLLCALL_CORE_STAGE_SERVICE_H_

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/model.h"
#include "core/participant_token.h"
#include "core/presence_rules.h"
#include "core/service.h"
#include "core/stage.h"
#include "core/status.h"
#include "store/store.h"

namespace rollcall {

// The IVS Real-Time operations over the same store and rules as Service: a stage is an
// application, a stage session is a session, a participant is a member. Reads block the
// caller; writes complete through Callback after the commit. Thread-safe.
//
// Resources are named by ARN. An ARN of another account or region, a deleted stage, or a
// resource that does not exist all answer kNotFound, alike. A malformed ARN or id is
// kInvalidArgument.

// A stage as the IVS face shows it.
struct StageView {
  Application app;
  std::optional<std::string> active_session_id;  // "st-..." of the active session
  Tags tags;
  std::optional<AutoRecording> recording;
  std::string recording_storage_config_id;  // config_id of recording's storage configuration
};

struct StorageView {
  StorageConfiguration config;
  Tags tags;
};

// A page of a keyset listing: `more` is true when items follow the last one returned.
template <typename T>
struct KeysetPage {
  std::vector<T> items;
  bool more = false;
};

struct TokenRequest {
  int64_t duration_minutes = kDefaultTokenMinutes;
  std::string user_id;
  Attributes attributes;
  unsigned capabilities = kCapabilityPublish | kCapabilitySubscribe;
};

struct IssuedToken {
  TokenClaims claims;
  int64_t duration_minutes = 0;
};

// autoParticipantRecordingConfiguration as given: an empty ARN removes the configuration.
struct RecordingRequest {
  std::string storage_configuration_arn;
  AutoRecording settings;
};

struct NewStage {
  std::string name;
  Tags tags;
  std::optional<RecordingRequest> recording;
  std::vector<TokenRequest> tokens;  // at most 12
};

struct CreatedStage {
  StageView stage;
  std::vector<IssuedToken> tokens;
};

// ListParticipants filters as given; at most one may be set.
struct ParticipantQuery {
  std::optional<std::string> user_id;
  std::optional<bool> published;
  std::optional<std::string> state;            // CONNECTED | DISCONNECTED
  std::optional<std::string> recording_state;  // STARTING | ACTIVE | STOPPING | STOPPED | FAILED
};
// The one filter of q. More than one, or an unknown enum value: kInvalidArgument.
StatusOr<ParticipantFilter> ParseParticipantFilter(const ParticipantQuery& q);

struct ReplicationRequest {
  std::string source_stage_arn;
  std::string destination_stage_arn;
  std::string participant_id;
  int64_t reconnect_window_seconds = 0;
  std::optional<Attributes> attributes;  // the replica's; default: the source's
};

// What the client presence endpoints answer.
struct PresenceView {
  std::string participant_id;
  std::string stage_arn;
  std::string stage_session_id;
  bool connected = false;
  bool published = false;
};

// What a participant's client reports when it joins; unset fields keep their value.
struct JoinRequest {
  std::optional<std::string> browser_name, browser_version, os_name, os_version, sdk_version,
      isp_name;
  std::optional<ParticipantProtocol> protocol;
  // The client's sequence number of this report (docs/presence.md), if it sent one.
  std::optional<int64_t> seq = std::nullopt;
};

struct Done {};

class StageService {
 public:
  // REQUIRES: service outlives this.
  explicit StageService(Service* service) : service_(*service) {}

  const std::string& region() const { return service_.region(); }
  Millis Now() { return service_.clock().Now(); }
  // arn:aws:ivs:{region}:{account}:stage/{stage_id}
  std::string StageArnOf(const Tenant& t, const Application& app) const;
  std::string StorageArnOf(const Tenant& t, std::string_view config_id) const;

  // The rate limit of Service::Admit, for the IVS face's credentials.
  Status Admit(std::string_view credential) { return service_.Admit(credential); }

  // Credentials. Unknown access key or key id: kUnauthenticated. The access key is
  // Service::FindAccessKey's. Tenant keys are cached.
  StatusOr<AccessKeyOwner> FindAccessKey(std::string_view access_key_id) {
    return service_.FindAccessKey(access_key_id);
  }
  StatusOr<TenantKey> TenantKeyOf(RowId tenant);
  StatusOr<TenantKey> FindTenantKey(std::string_view key_id);

  // Stages. A stage made here is a LIVE application.
  void CreateStage(const Tenant& t, NewStage req, Callback<CreatedStage> cb);
  StatusOr<StageView> GetStage(const Tenant& t, std::string_view arn);
  // Not-deleted stages in creation order, after the stage with row id after_id.
  StatusOr<KeysetPage<StageView>> ListStages(const Tenant& t, RowId after_id, int64_t limit);
  // Sets the name and/or the recording configuration (as given).
  void UpdateStage(const Tenant& t, std::string arn, std::optional<std::string> name,
                   std::optional<RecordingRequest> recording, Callback<StageView> cb);
  // Ends the stage's active session and marks its application deleted (history is kept).
  void DeleteStage(const Tenant& t, std::string arn, Callback<Done> cb);

  // Tags of a stage or storage configuration; at most 50 per resource (kInvalidArgument).
  StatusOr<Tags> ListTags(const Tenant& t, std::string_view arn);
  void TagResource(const Tenant& t, std::string arn, Tags tags, Callback<Done> cb);
  void UntagResource(const Tenant& t, std::string arn, std::vector<std::string> keys,
                     Callback<Done> cb);

  // Storage configurations. Deleting one that a stage records to: kConflict.
  void CreateStorageConfiguration(const Tenant& t, std::string name, std::string bucket, Tags tags,
                                  Callback<StorageView> cb);
  StatusOr<StorageView> GetStorageConfiguration(const Tenant& t, std::string_view arn);
  StatusOr<KeysetPage<StorageView>> ListStorageConfigurations(const Tenant& t, RowId after_id,
                                                              int64_t limit);
  void DeleteStorageConfiguration(const Tenant& t, std::string arn, Callback<Done> cb);

  // Stage sessions, newest first, before the session with row id before_id.
  StatusOr<KeysetPage<Session>> ListStageSessions(const Tenant& t, std::string_view arn,
                                                  std::optional<RowId> before_id, int64_t limit);
  StatusOr<Session> GetStageSession(const Tenant& t, std::string_view arn,
                                    std::string_view session_id);

  // Issues the claims of a token for the stage; the caller signs them with TenantKeyOf.
  StatusOr<IssuedToken> CreateParticipantToken(const Tenant& t, std::string_view arn,
                                               const TokenRequest& req);

  // Participants of a stage session.
  StatusOr<Participant> GetParticipant(const Tenant& t, std::string_view arn,
                                       std::string_view session_id,
                                       std::string_view participant_id);
  StatusOr<KeysetPage<ParticipantSummary>> ListParticipants(
      const Tenant& t, std::string_view arn, std::string_view session_id,
      const ParticipantFilter& filter, const std::optional<ParticipantKey>& after, int64_t limit);
  // Oldest first, after the event with id after_id. Each event's `replica` is filled in.
  StatusOr<KeysetPage<ParticipantEvent>> ListParticipantEvents(const Tenant& t,
                                                               std::string_view arn,
                                                               std::string_view session_id,
                                                               std::string_view participant_id,
                                                               RowId after_id, int64_t limit);
  // Closes the participant's visit in the stage's active session (LEFT) and revokes its
  // token for good. Not a participant of the active session: kNotFound.
  void DisconnectParticipant(const Tenant& t, std::string arn, std::string participant_id,
                             std::string reason, Callback<Done> cb);

  // Replication of a connected participant into another stage's active session (started
  // if there is none). Already active to that stage, or not connected: kConflict.
  void StartParticipantReplication(const Tenant& t, ReplicationRequest req, Callback<Done> cb);
  void StopParticipantReplication(const Tenant& t, std::string source_arn,
                                  std::string destination_arn, std::string participant_id,
                                  Callback<Done> cb);
  StatusOr<KeysetPage<ReplicaView>> ListParticipantReplicas(const Tenant& t,
                                                            std::string_view source_arn,
                                                            std::string_view participant_id,
                                                            RowId after_id, int64_t limit);

  // Client presence, for the holder of a verified token of `tenant`. An expired token, a
  // deleted stage or a revoked participant: kUnauthenticated; a capability the call needs
  // and the token lacks: kForbidden; never joined the stage: kParticipantNotFound;
  // publish/subscribe while not connected: kConflict. Each is a report of the participant
  // (core/presence_rules.h): `seq` orders them; a stale report changes nothing and answers the
  // current state.
  void Join(RowId tenant, TokenClaims claims, JoinRequest req, Callback<PresenceView> cb);
  void Leave(RowId tenant, TokenClaims claims, Callback<PresenceView> cb,
             std::optional<int64_t> seq = std::nullopt);
  // The participant's client is alive: its visit's timeout restarts. Not connected: answers
  // state DISCONNECTED (join again).
  void Heartbeat(RowId tenant, TokenClaims claims, std::optional<int64_t> seq,
                 Callback<PresenceView> cb);
  void Publish(RowId tenant, TokenClaims claims, bool started, Callback<PresenceView> cb,
               std::optional<int64_t> seq = std::nullopt);
  void Subscribe(RowId tenant, TokenClaims claims, std::string remote_participant_id, bool started,
                 Callback<PresenceView> cb, std::optional<int64_t> seq = std::nullopt);

 private:
  Store& store() { return service_.store(); }
  void CacheKey(const TenantKey& k);

  Service& service_;
  std::mutex mu_;
  std::unordered_map<RowId, TenantKey> keys_by_tenant_;
  std::unordered_map<std::string, TenantKey> keys_by_id_;
};

// Stage rules run by the presence rules (core/service.h) inside write transactions.
namespace rules {

// The stage a verified token names, for a client or media-server presence call. Deleted stage
// or revoked participant: kUnauthenticated.
StatusOr<Application> TokenStage(Tx& tx, RowId tenant, const TokenClaims& c);

// Starts p's publishing in session s of app at `at`, unless it is publishing: published,
// PUBLISH_STARTED, and recording ACTIVE when p was recorded before in this session (same
// prefix) or the stage records participants (replicas only if it records replicas).
void StartPublishingIn(Tx& tx, const Application& app, const Session& s, Participant* p, Millis at);

// Applies a publish change of a source member to its connected replicas.
void MirrorPublishingIn(Tx& tx, const Session& s, RowId member, bool started, Millis at);

// A participant joined through its token, with the session and its state after the join.
struct Joined {
  Session session;
  Participant participant;
  Outcome outcome = Outcome::kStale;
};

// The join of the token's holder to *app (status checked) as report `r`: the stage's joinable
// session (started when there is none), the profile and member upserted from the claims, the
// report applied (rules::Arrive), and the client fields of `req` set unless the report is stale
// (stale by seq against the participant's latest membership of the stage).
StatusOr<Joined> JoinStageIn(Tx& tx, const TokenClaims& claims, Application* app,
                             const JoinRequest& req, const Report& r);

// Publishing of p started or stopped at `at` (rules above), mirrored to its replicas.
void SetPublishingIn(Tx& tx, const Application& app, const Session& s, Participant* p, bool started,
                     Millis at);

// SUBSCRIBE_STARTED / SUBSCRIBE_STOPPED of `member` to `remote` at `at`.
void AppendSubscribeIn(Tx& tx, const Session& s, RowId member, const Participant& remote,
                       bool started, Millis at);

// If the member is publishing: PUBLISH_STOPPED at `at`, publishing ends, an ACTIVE recording
// becomes STOPPED. Otherwise nothing.
void StopPublishingIn(Tx& tx, const Session& s, RowId member, Millis at);

// When the member's visit closes at `at`: stops the replications it is the source of, then
// its publishing.
void StopMemberMediaIn(Tx& tx, const Session& s, RowId member, Millis at);

// Before session `s` ends at `at`: stops every ACTIVE replication from or into it, then the
// publishing of every member.
void StopSessionMediaIn(Tx& tx, const Session& s, Millis at);

// Stops an ACTIVE replication at `at`: the link and the replica become STOPPED and the
// replica's visit closes; the source gets REPLICATION_STOPPED, and STOPPED when it has no
// other active replication.
void StopReplicationIn(Tx& tx, ReplicaLink link, Millis at);

}  // namespace rules

}  // namespace rollcall

#endif  // ROLLCALL_CORE_STAGE_SERVICE_H_
