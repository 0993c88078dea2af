#ifndef ROLLCALL_CORE_STAGE_H_
#define ROLLCALL_CORE_STAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/model.h"
#include "core/status.h"
#include "core/time.h"

namespace rollcall {

// The IVS Real-Time view of the domain: stage participants' client, publishing, recording and
// replication state, storage configurations, tags and ARNs. Value types only.

enum class ParticipantProtocol { kUnknown, kWhip, kRtmp, kRtmps };
enum class RecordingState { kStarting, kActive, kStopping, kStopped, kFailed, kDisabled };
enum class ReplicationType { kNone, kSource, kReplica };
enum class ReplicationState { kActive, kStopped };

std::string_view ProtocolName(ParticipantProtocol p);
std::optional<ParticipantProtocol> ParseProtocol(std::string_view s);
std::string_view RecordingStateName(RecordingState s);
std::optional<RecordingState> ParseRecordingState(std::string_view s);
std::string_view ReplicationTypeName(ReplicationType t);
std::optional<ReplicationType> ParseReplicationType(std::string_view s);
std::string_view ReplicationStateName(ReplicationState s);
std::optional<ReplicationState> ParseReplicationState(std::string_view s);

// What the participant's client reported when it joined ("" when not reported).
struct ClientInfo {
  std::string browser_name;
  std::string browser_version;
  std::string os_name;
  std::string os_version;
  std::string sdk_version;
  std::string isp_name;
};

// The IVS-only state of a Member (columns added by schema 002). Every member has it: a member
// entered through the In-Stream face has user_id = its In-Stream participantId and defaults.
struct MemberIvs {
  std::string user_id;
  ClientInfo client;
  ParticipantProtocol protocol = ParticipantProtocol::kUnknown;
  bool published = false;   // ever published in this session
  bool publishing = false;  // publishing now
  RecordingState recording_state = RecordingState::kDisabled;
  std::string recording_bucket;  // "" when never recorded
  std::string recording_prefix;  // "" when never recorded
  ReplicationType replication_type = ReplicationType::kNone;
  std::optional<ReplicationState> replication_state;  // nullopt for kNone
  std::string source_stage_id;                        // kReplica only
  std::string source_session_id;                      // kReplica only ("st-...")
};

// A member of a session with its IVS state and profile, as IVS reads return it.
struct Participant {
  Member member;
  MemberIvs ivs;
  Profile profile;
  bool connected() const { return member.open_visit_id.has_value(); }
};

// What a listing returns of a participant: the IVS ParticipantSummary, and the member's row
// id (its position in the listing's order with first_join_at and ivs_participant_id).
struct ParticipantSummary {
  RowId member_id = 0;
  std::string ivs_participant_id;
  std::string user_id;
  Millis first_join_at = 0;
  bool connected = false;
  bool published = false;
  RecordingState recording_state = RecordingState::kDisabled;
  ReplicationType replication_type = ReplicationType::kNone;
  std::optional<ReplicationState> replication_state;  // nullopt for kNone
  std::string source_stage_id;                        // kReplica only
  std::string source_session_id;                      // kReplica only
};

// The summary of a full participant.
ParticipantSummary SummaryOf(const Participant& p);

// The IVS detail of an event beyond core Event (schema 002 columns).
struct EventDetail {
  std::string destination_stage_id;    // REPLICATION_* only
  std::string destination_session_id;  // REPLICATION_* only
  bool replica = false;                // SUBSCRIBE_*: the remote participant is a replica
  std::string error_code;              // *_ERROR only
};

struct ParticipantEvent {
  Event event;
  EventDetail detail;
};

// An S3 storage configuration (metadata only; rollcall writes nothing to S3).
struct StorageConfiguration {
  RowId id = 0;
  RowId tenant_id = 0;
  std::string config_id;  // 12 chars of [a-zA-Z0-9], the ARN's last part
  std::string name;
  std::string bucket_name;
  Millis created_at = 0;
};

// A stage's autoParticipantRecordingConfiguration, defaults filled in.
struct AutoRecording {
  RowId storage_configuration_id = 0;
  std::string media_type = "AUDIO_VIDEO";
  int64_t thumbnail_interval_seconds = 60;
  std::vector<std::string> thumbnail_storage = {"SEQUENTIAL"};
  std::string thumbnail_mode = "INTERVAL";
  int64_t reconnect_window_seconds = 0;
  int64_t hls_segment_seconds = 6;
  bool record_replicas = true;
};

// The settings of an AutoRecording other than its storage configuration, as stored text.
std::string AutoRecordingSettingsJson(const AutoRecording& r);
// Reads what AutoRecordingSettingsJson wrote; missing or bad fields keep their defaults.
AutoRecording AutoRecordingFromSettings(RowId storage_configuration_id, std::string_view json);

// Tags of one resource, sorted by key.
using Tags = std::vector<std::pair<std::string, std::string>>;

enum class ResourceKind { kStage, kStorageConfiguration };
// "stage", "storage-configuration": the ARN resource type and the stored kind.
std::string_view ResourceKindName(ResourceKind k);

// A participant's replication from a source stage to a destination stage.
struct ReplicaLink {
  RowId id = 0;
  RowId tenant_id = 0;
  std::string participant_id;
  RowId source_application_id = 0;
  RowId source_session_id = 0;
  RowId source_member_id = 0;
  RowId destination_application_id = 0;
  RowId destination_session_id = 0;
  RowId destination_member_id = 0;
  ReplicationState state = ReplicationState::kActive;
  Millis created_at = 0;
  Millis updated_at = 0;
};

// A ReplicaLink with the external ids of its stages and sessions.
struct ReplicaView {
  ReplicaLink link;
  std::string source_stage_id;
  std::string source_stage_session_id;
  std::string destination_stage_id;
  std::string destination_stage_session_id;
};

// The one filter ListParticipants may apply.
struct ParticipantFilter {
  enum class Kind { kNone, kUserId, kPublished, kState, kRecordingState };
  Kind kind = Kind::kNone;
  std::string user_id;
  bool published = false;
  bool connected = false;
  RecordingState recording_state = RecordingState::kActive;
};

// A position in ListParticipants order: (firstJoinTime, participantId, member row id).
struct ParticipantKey {
  Millis first_join_at = 0;
  std::string participant_id;
  RowId member_id = 0;
};

// The per-tenant secret that signs participant tokens and pagination cursors.
struct TenantKey {
  RowId tenant_id = 0;
  std::string key_id;  // 16 hex digits, the JWT "kid"
  std::string secret;  // 32 random bytes
  Millis created_at = 0;
};
TenantKey NewTenantKey(RowId tenant, Millis now);

// A parsed IVS ARN: arn:aws:ivs:{region}:{account}:{type}/{id}.
struct Arn {
  std::string region;
  std::string account;
  std::string type;  // "stage", "storage-configuration", ...
  std::string id;
};
// Parses arn:aws:ivs:[a-z0-9-]+:[0-9]+:[a-z-]+/[a-zA-Z0-9-]+. Anything else: nullopt.
std::optional<Arn> ParseArn(std::string_view arn);
std::string IvsArn(std::string_view region, std::string_view account, std::string_view type,
                   std::string_view id);

// The S3 prefix of a participant's individual recording:
// {stageId}/{stageSessionId}/{participantId}.
std::string RecordingPrefix(std::string_view stage_id, std::string_view stage_session_id,
                            std::string_view participant_id);

// The In-Stream nickname of a token-joined participant: the attribute "nickname" when present
// and non-empty, else userId, else the participantId.
std::string TokenNickname(const std::vector<std::pair<std::string, std::string>>& attributes,
                          const std::string& user_id, const std::string& participant_id);

}  // namespace rollcall

#endif  // ROLLCALL_CORE_STAGE_H_
