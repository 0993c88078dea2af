#ifndef ROLLCALL_CORE_MODEL_H_
#define ROLLCALL_CORE_MODEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.h"

namespace rollcall {

// Internal row ids are compact integers, unique per store; external ids are UUIDs and the
// IVS string ids. Every entity carries its tenant.
using RowId = int64_t;

struct Tenant {
  RowId id = 0;
  std::string name;
  std::string account_id;  // 12 digits, the IVS account
  Millis created_at = 0;
};

struct AccessKey {
  std::string access_key_id;
  RowId tenant_id = 0;
  std::string secret_access_key;
  Millis created_at = 0;
};

// An access key and its tenant.
struct AccessKeyOwner {
  AccessKey key;
  Tenant tenant;
};

enum class AppType { kStreaming, kChat, kLive };
enum class AppStatus { kActive, kInactive, kDeleted };  // N, P, Y

std::string_view AppTypeName(AppType t);
std::optional<AppType> ParseAppType(std::string_view s);
std::string_view AppStatusName(AppStatus s);  // "N", "P", "Y"
std::optional<AppStatus> ParseAppStatus(std::string_view s);

// An In-Stream application; the same row is an IVS stage.
struct Application {
  RowId id = 0;
  RowId tenant_id = 0;
  std::string uuid;
  std::string stage_id;  // 12 chars; ARN arn:aws:ivs:{region}:{account}:stage/{stage_id}
  std::string name;
  AppType type = AppType::kLive;
  AppStatus status = AppStatus::kActive;
  Millis created_at = 0;
  std::optional<RowId> active_session_id;
};

struct Session {
  RowId id = 0;
  RowId tenant_id = 0;
  RowId application_id = 0;
  std::string uuid;
  std::string stage_session_id;  // "st-" + 13 chars
  Millis created_at = 0;
  std::optional<Millis> deleted_at;
  int64_t participant_count = 0;  // open visits, maintained
  int64_t visit_count = 0;        // all visits, maintained
  bool active() const { return !deleted_at.has_value(); }
};

// A tenant-wide participant identity, assigned by the tenant.
struct Profile {
  RowId id = 0;
  RowId tenant_id = 0;
  std::string participant_id;
  std::string nickname;
  std::optional<std::string> profile_image_url;
  Millis created_at = 0;  // first entry ever
};

// One participant in one session (the IVS Participant object).
struct Member {
  RowId id = 0;
  RowId tenant_id = 0;
  RowId session_id = 0;
  RowId profile_id = 0;
  std::string ivs_participant_id;  // [a-zA-Z0-9-]{1,64}
  std::string attributes_json = "{}";
  Millis first_join_at = 0;
  std::optional<RowId> open_visit_id;
  RowId last_visit_id = 0;
};

// One stay of a member in a session: [created_at, deleted_at).
struct Visit {
  RowId id = 0;
  RowId tenant_id = 0;
  RowId session_id = 0;
  RowId member_id = 0;
  RowId profile_id = 0;
  std::string uuid;
  Millis created_at = 0;
  std::optional<Millis> deleted_at;
};

// One entry of a member's append-only event log (IVS event names: JOINED, LEFT, ...).
struct Event {
  RowId id = 0;
  RowId tenant_id = 0;
  RowId session_id = 0;
  RowId member_id = 0;
  std::string name;
  Millis at = 0;
  std::string remote_participant_id;
  std::string reason;
};

// A visit with the participant it belongs to, as searches return it.
struct VisitRow {
  Visit visit;
  Profile profile;
};

}  // namespace rollcall

#endif  // ROLLCALL_CORE_MODEL_H_
