#include "core/presence.h"

#include <algorithm>

namespace rollcall {

std::string_view PresenceSourceName(PresenceSource s) {
  switch (s) {
    case PresenceSource::kServer:
      return "SERVER";
    case PresenceSource::kClient:
      return "CLIENT";
    case PresenceSource::kMedia:
      return "MEDIA";
    case PresenceSource::kReplica:
      return "REPLICA";
  }
  return "SERVER";
}

std::optional<PresenceSource> ParsePresenceSource(std::string_view s) {
  for (PresenceSource p : {PresenceSource::kServer, PresenceSource::kClient, PresenceSource::kMedia,
                           PresenceSource::kReplica}) {
    if (PresenceSourceName(p) == s) return p;
  }
  return std::nullopt;
}

Status ValidatePresenceSettings(const PresenceSettings& s) {
  if (s.timeout_seconds < 1 || s.timeout_seconds > 3600) {
    return Status::Invalid("presence.timeoutSeconds must be between 1 and 3600");
  }
  if (s.reconnect_window_seconds < 0 || s.reconnect_window_seconds > 300) {
    return Status::Invalid("presence.reconnectWindowSeconds must be between 0 and 300");
  }
  if (s.idle_session_seconds < 0 || s.idle_session_seconds > 86400) {
    return Status::Invalid("presence.idleSessionSeconds must be between 0 and 86400");
  }
  return Status::Ok();
}

namespace presence {

bool IsTimed(const MemberPresence& p, const PresenceSettings& s) {
  switch (p.source) {
    case PresenceSource::kClient:
      return true;
    case PresenceSource::kMedia:
      return p.heartbeats;
    case PresenceSource::kServer:
      return p.heartbeats || s.manage_server_side;
    case PresenceSource::kReplica:
      return false;
  }
  return false;
}

bool IsResumable(const MemberPresence& p, const PresenceSettings& s) {
  switch (p.source) {
    case PresenceSource::kClient:
    case PresenceSource::kMedia:
      return true;
    case PresenceSource::kServer:
      return p.heartbeats || s.manage_server_side;
    case PresenceSource::kReplica:
      return false;
  }
  return false;
}

std::optional<Millis> DueAt(const MemberPresence& p, const PresenceSettings& s) {
  if (!IsTimed(p, s) || !p.last_seen_at) return std::nullopt;
  return *p.last_seen_at + s.timeout_seconds * 1000;
}

bool IsOverdue(const MemberPresence& p, Millis now) { return p.due_at && now >= *p.due_at; }

bool IsStale(const MemberPresence& p, std::optional<int64_t> seq) {
  return seq && p.last_seq && *seq <= *p.last_seq;
}

Millis ReportTime(const MemberPresence& p, Millis now) {
  return p.last_seen_at ? std::max(now, *p.last_seen_at) : now;
}

std::optional<Millis> ResumableUntil(const MemberPresence& p, const PresenceSettings& s,
                                     Millis known_at) {
  if (!IsResumable(p, s) || s.reconnect_window_seconds == 0) return std::nullopt;
  return known_at + s.reconnect_window_seconds * 1000;
}

bool Continues(const MemberPresence& p, Millis now) {
  return p.resumable_until && now <= *p.resumable_until;
}

std::optional<Millis> IdleDueAt(const SessionPresence& sp, const PresenceSettings& s,
                                int64_t participant_count, Millis at) {
  if (!sp.implicit || participant_count > 0) return std::nullopt;
  return at + s.idle_session_seconds * 1000;
}

bool IsIdleOver(const SessionPresence& sp, Millis now) {
  return sp.idle_due_at && now >= *sp.idle_due_at;
}

}  // namespace presence

}  // namespace rollcall
