#ifndef ROLLCALL_CORE_PRESENCE_H_
#define ROLLCALL_CORE_PRESENCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/model.h"
#include "core/status.h"
#include "core/time.h"

namespace rollcall {

// Live presence: heartbeats, timeouts, reconnect grace, the idle end of implicit sessions and
// the ordering of reports (docs/presence.md). Value types and pure rules; the rules that run
// inside write transactions are in core/presence_rules.h.

// Who reports a member's presence, decided by the report that opened its current visit.
enum class PresenceSource {
  kServer,   // the tenant's server, with the ApiKey (In-Stream enter/leave)
  kClient,   // the participant's own client, with its participant token (/v1/stage/*)
  kMedia,    // a media server (nginx RTMP callbacks) on the participant's behalf
  kReplica,  // a replica made by StartParticipantReplication; follows its source
};
std::string_view PresenceSourceName(PresenceSource s);  // SERVER, CLIENT, MEDIA, REPLICA
std::optional<PresenceSource> ParsePresenceSource(std::string_view s);

// An application's presence settings (PATCH /v1/applications/{id} "presence").
struct PresenceSettings {
  int64_t timeout_seconds = 60;           // 1..3600
  int64_t reconnect_window_seconds = 10;  // 0..300; 0 disables reconnect grace
  int64_t idle_session_seconds = 300;     // 0..86400
  bool manage_server_side = false;        // timeouts and reconnect grace for kServer members too
  bool operator==(const PresenceSettings&) const = default;
};
// kInvalidArgument naming the first field out of range.
Status ValidatePresenceSettings(const PresenceSettings& s);

// The presence state of a member (one participant in one session).
struct MemberPresence {
  PresenceSource source = PresenceSource::kServer;
  bool heartbeats = false;                // a heartbeat was received during the current visit
  std::optional<Millis> last_seen_at;     // the latest report of the participant
  std::optional<Millis> due_at;           // the open visit times out at this time
  std::optional<Millis> resumable_until;  // an enter until then continues the last visit
  std::optional<int64_t> last_seq;        // the highest client sequence number applied
};

// The presence state of a session.
struct SessionPresence {
  bool implicit = false;              // started by a join, not by StartSession
  std::optional<Millis> idle_due_at;  // implicit and empty: ends by itself at this time
};

// Reasons written on events (events.reason).
inline constexpr char kReasonTimeout[] = "TIMEOUT";           // LEFT: no heartbeat in time
inline constexpr char kReasonReconnected[] = "RECONNECTED";   // JOINED: the last visit continues
inline constexpr char kReasonSessionIdle[] = "SESSION_IDLE";  // session end: idle window over

namespace presence {

// True when the member's open visit closes by itself without reports: a client member, a
// member that has sent a heartbeat (not a replica), or a server member when the application
// manages server-side presence.
bool IsTimed(const MemberPresence& p, const PresenceSettings& s);

// True when a leave or timeout of the member can be continued by an enter within the
// reconnect window: client and media members, and server members that heartbeat or whose
// application manages server-side presence. Never replicas.
bool IsResumable(const MemberPresence& p, const PresenceSettings& s);

// When the open visit times out: last_seen_at + timeout for a timed member, else nullopt.
std::optional<Millis> DueAt(const MemberPresence& p, const PresenceSettings& s);

// True when the open visit has timed out by `now`.
bool IsOverdue(const MemberPresence& p, Millis now);

// True when a report carrying `seq` is older than, or a repeat of, one already applied.
// A report without seq is never stale.
bool IsStale(const MemberPresence& p, std::optional<int64_t> seq);

// The time a report at `now` is recorded at: never before the member's last report, so the
// member's events and visits stay in order even if the clock steps back.
Millis ReportTime(const MemberPresence& p, Millis now);

// Until when an enter continues the visit that closed, where the leave became known at
// `known_at` (the leave's time, or the due time of a timeout); nullopt when the member is not
// resumable or the window is 0.
std::optional<Millis> ResumableUntil(const MemberPresence& p, const PresenceSettings& s,
                                     Millis known_at);

// True when an enter at `now` continues the member's last visit.
bool Continues(const MemberPresence& p, Millis now);

// When an implicit session whose participant count became `participant_count` at `at` ends
// by itself; nullopt for explicit sessions or while someone is inside.
std::optional<Millis> IdleDueAt(const SessionPresence& sp, const PresenceSettings& s,
                                int64_t participant_count, Millis at);

// True when the session's idle window is over by `now`.
bool IsIdleOver(const SessionPresence& sp, Millis now);

}  // namespace presence

// A member or session the reaper must look at (found by the due-time indexes).
struct DueMember {
  RowId tenant_id = 0;
  RowId member_id = 0;
};
struct DueSession {
  RowId tenant_id = 0;
  RowId session_id = 0;
  RowId application_id = 0;
};

// An RTMP stream key (docs/nginx-rtmp.md): a short secret standing for a participant token,
// for media servers that cannot pass a whole token.
struct StreamKey {
  std::string key_hash;  // SHA-256 of the key
  RowId tenant_id = 0;
  RowId application_id = 0;
  std::string participant_id;
  std::string claims_json;  // the token's claims (core/participant_token.h ClaimsToJson)
  Millis expires_at = 0;
  Millis created_at = 0;
};

// One media-server connection of a participant (an RTMP publish or play).
struct MediaConnection {
  RowId tenant_id = 0;
  RowId application_id = 0;
  std::string participant_id;
  std::string connection_id;  // "<clientid>@<addr>" as the media server reports them
  RowId member_id = 0;        // the member it belongs to now
  std::string role;           // "publish" | "play"
  std::string stream;         // the stream name published or played
  Millis opened_at = 0;
  std::optional<Millis> closed_at;
};

}  // namespace rollcall

#endif  // ROLLCALL_CORE_PRESENCE_H_
