#ifndef ROLLCALL_STORE_ROWS_H_
#define ROLLCALL_STORE_ROWS_H_

// Column lists and row readers shared by the store backends. A reader takes any row type R
// with Int(col), Text(col), OptInt(col) and OptText(col) (sqlite::Query, pg::Row) and reads
// the columns of its list in order, the first one at column c.

#include <string>
#include <string_view>

#include "core/model.h"
#include "core/presence.h"
#include "core/stage.h"

namespace rollcall::rows {

inline constexpr char kAppCols[] =
    "id, tenant_id, uuid, stage_id, name, type, status, created_at, active_session_id";
inline constexpr char kSessionCols[] =
    "id, tenant_id, application_id, uuid, stage_session_id, created_at, deleted_at, "
    "participant_count, visit_count";
inline constexpr char kProfileCols[] =
    "id, tenant_id, participant_id, nickname, profile_image_url, created_at";
inline constexpr int kProfileColCount = 6;
inline constexpr char kMemberCols[] =
    "id, tenant_id, session_id, profile_id, ivs_participant_id, attributes, first_join_at, "
    "open_visit_id, last_visit_id";
inline constexpr int kMemberColCount = 9;
inline constexpr char kVisitCols[] =
    "id, tenant_id, session_id, member_id, profile_id, uuid, created_at, deleted_at";
inline constexpr int kVisitColCount = 8;
inline constexpr char kMemberIvsCols[] =
    "user_id, browser_name, browser_version, os_name, os_version, sdk_version, isp_name, "
    "protocol, published, publishing, recording_state, recording_bucket, recording_prefix, "
    "replication_type, replication_state, source_stage_id, source_session_id";
inline constexpr int kMemberIvsColCount = 17;
// The members columns of a ParticipantSummary.
inline constexpr char kParticipantSummaryCols[] =
    "id, ivs_participant_id, user_id, first_join_at, open_visit_id, published, recording_state, "
    "replication_type, replication_state, source_stage_id, source_session_id";
inline constexpr char kStorageCols[] = "id, tenant_id, config_id, name, bucket_name, created_at";
inline constexpr char kReplicaCols[] =
    "id, tenant_id, participant_id, source_application_id, source_session_id, source_member_id, "
    "destination_application_id, destination_session_id, destination_member_id, state, "
    "created_at, updated_at";
inline constexpr int kReplicaColCount = 12;
inline constexpr char kEventCols[] =
    "id, tenant_id, session_id, member_id, name, at, remote_participant_id, reason, "
    "destination_stage_id, destination_session_id, replica, error_code";

// "a, b" with prefix "t" -> "t.a, t.b".
inline std::string Cols(const char* cols, const char* prefix) {
  std::string out;
  std::string_view s(cols);
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view col = s.substr(start, end - start);
    while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
    if (!out.empty()) out += ", ";
    out += prefix;
    out += '.';
    out += col;
    start = end + 1;
  }
  return out;
}

// Columns: id, name, account_id, created_at.
template <typename R>
Tenant ReadTenant(const R& r) {
  return Tenant{r.Int(0), r.Text(1), r.Text(2), r.Int(3)};
}

template <typename R>
Application ReadApp(const R& r, int c = 0) {
  Application a;
  a.id = r.Int(c);
  a.tenant_id = r.Int(c + 1);
  a.uuid = r.Text(c + 2);
  a.stage_id = r.Text(c + 3);
  a.name = r.Text(c + 4);
  a.type = ParseAppType(r.Text(c + 5)).value_or(AppType::kLive);
  a.status = ParseAppStatus(r.Text(c + 6)).value_or(AppStatus::kActive);
  a.created_at = r.Int(c + 7);
  a.active_session_id = r.OptInt(c + 8);
  return a;
}

template <typename R>
Session ReadSession(const R& r, int c = 0) {
  Session s;
  s.id = r.Int(c);
  s.tenant_id = r.Int(c + 1);
  s.application_id = r.Int(c + 2);
  s.uuid = r.Text(c + 3);
  s.stage_session_id = r.Text(c + 4);
  s.created_at = r.Int(c + 5);
  s.deleted_at = r.OptInt(c + 6);
  s.participant_count = r.Int(c + 7);
  s.visit_count = r.Int(c + 8);
  return s;
}

template <typename R>
Profile ReadProfile(const R& r, int c = 0) {
  Profile p;
  p.id = r.Int(c);
  p.tenant_id = r.Int(c + 1);
  p.participant_id = r.Text(c + 2);
  p.nickname = r.Text(c + 3);
  p.profile_image_url = r.OptText(c + 4);
  p.created_at = r.Int(c + 5);
  return p;
}

template <typename R>
Member ReadMember(const R& r, int c = 0) {
  Member m;
  m.id = r.Int(c);
  m.tenant_id = r.Int(c + 1);
  m.session_id = r.Int(c + 2);
  m.profile_id = r.Int(c + 3);
  m.ivs_participant_id = r.Text(c + 4);
  m.attributes_json = r.Text(c + 5);
  m.first_join_at = r.Int(c + 6);
  m.open_visit_id = r.OptInt(c + 7);
  m.last_visit_id = r.Int(c + 8);
  return m;
}

template <typename R>
Visit ReadVisit(const R& r, int c = 0) {
  Visit v;
  v.id = r.Int(c);
  v.tenant_id = r.Int(c + 1);
  v.session_id = r.Int(c + 2);
  v.member_id = r.Int(c + 3);
  v.profile_id = r.Int(c + 4);
  v.uuid = r.Text(c + 5);
  v.created_at = r.Int(c + 6);
  v.deleted_at = r.OptInt(c + 7);
  return v;
}

template <typename R>
MemberIvs ReadMemberIvs(const R& r, int c) {
  MemberIvs m;
  m.user_id = r.Text(c);
  m.client.browser_name = r.Text(c + 1);
  m.client.browser_version = r.Text(c + 2);
  m.client.os_name = r.Text(c + 3);
  m.client.os_version = r.Text(c + 4);
  m.client.sdk_version = r.Text(c + 5);
  m.client.isp_name = r.Text(c + 6);
  m.protocol = ParseProtocol(r.Text(c + 7)).value_or(ParticipantProtocol::kUnknown);
  m.published = r.Int(c + 8) != 0;
  m.publishing = r.Int(c + 9) != 0;
  m.recording_state = ParseRecordingState(r.Text(c + 10)).value_or(RecordingState::kDisabled);
  m.recording_bucket = r.Text(c + 11);
  m.recording_prefix = r.Text(c + 12);
  m.replication_type = ParseReplicationType(r.Text(c + 13)).value_or(ReplicationType::kNone);
  if (std::optional<std::string> st = r.OptText(c + 14)) {
    m.replication_state = ParseReplicationState(*st);
  }
  m.source_stage_id = r.Text(c + 15);
  m.source_session_id = r.Text(c + 16);
  return m;
}

// Columns: kMemberCols, kMemberIvsCols, kProfileCols.
template <typename R>
Participant ReadParticipant(const R& r) {
  Participant p;
  p.member = ReadMember(r);
  p.ivs = ReadMemberIvs(r, kMemberColCount);
  p.profile = ReadProfile(r, kMemberColCount + kMemberIvsColCount);
  return p;
}

// Binds a member's presence, in this order: presence_source, heartbeats, last_seen_at,
// due_at, resumable_until, last_seq. Returns q for more binds.
template <typename Q>
Q& BindPresence(Q& q, const MemberPresence& p) {
  return q.Bind(PresenceSourceName(p.source))
      .Bind(int64_t{p.heartbeats ? 1 : 0})
      .Bind(p.last_seen_at)
      .Bind(p.due_at)
      .Bind(p.resumable_until)
      .Bind(p.last_seq);
}

// Columns: kParticipantSummaryCols.
template <typename R>
ParticipantSummary ReadParticipantSummary(const R& r) {
  ParticipantSummary s;
  s.member_id = r.Int(0);
  s.ivs_participant_id = r.Text(1);
  s.user_id = r.Text(2);
  s.first_join_at = r.Int(3);
  s.connected = r.OptInt(4).has_value();
  s.published = r.Int(5) != 0;
  s.recording_state = ParseRecordingState(r.Text(6)).value_or(RecordingState::kDisabled);
  s.replication_type = ParseReplicationType(r.Text(7)).value_or(ReplicationType::kNone);
  if (std::optional<std::string> st = r.OptText(8))
    s.replication_state = ParseReplicationState(*st);
  s.source_stage_id = r.Text(9);
  s.source_session_id = r.Text(10);
  return s;
}

template <typename R>
StorageConfiguration ReadStorage(const R& r) {
  return StorageConfiguration{r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5)};
}

template <typename R>
ReplicaLink ReadReplica(const R& r, int c = 0) {
  ReplicaLink l;
  l.id = r.Int(c);
  l.tenant_id = r.Int(c + 1);
  l.participant_id = r.Text(c + 2);
  l.source_application_id = r.Int(c + 3);
  l.source_session_id = r.Int(c + 4);
  l.source_member_id = r.Int(c + 5);
  l.destination_application_id = r.Int(c + 6);
  l.destination_session_id = r.Int(c + 7);
  l.destination_member_id = r.Int(c + 8);
  l.state = ParseReplicationState(r.Text(c + 9)).value_or(ReplicationState::kStopped);
  l.created_at = r.Int(c + 10);
  l.updated_at = r.Int(c + 11);
  return l;
}

// Columns: kReplicaCols, then the source stage id, source stage session id, destination stage
// id and destination stage session id.
template <typename R>
ReplicaView ReadReplicaView(const R& r) {
  return ReplicaView{ReadReplica(r), r.Text(kReplicaColCount), r.Text(kReplicaColCount + 1),
                     r.Text(kReplicaColCount + 2), r.Text(kReplicaColCount + 3)};
}

template <typename R>
ParticipantEvent ReadEvent(const R& r) {
  ParticipantEvent e;
  e.event.id = r.Int(0);
  e.event.tenant_id = r.Int(1);
  e.event.session_id = r.Int(2);
  e.event.member_id = r.Int(3);
  e.event.name = r.Text(4);
  e.event.at = r.Int(5);
  e.event.remote_participant_id = r.Text(6);
  e.event.reason = r.Text(7);
  e.detail.destination_stage_id = r.Text(8);
  e.detail.destination_session_id = r.Text(9);
  e.detail.replica = r.Int(10) != 0;
  e.detail.error_code = r.Text(11);
  return e;
}

}  // namespace rollcall::rows

#endif  // ROLLCALL_STORE_ROWS_H_
