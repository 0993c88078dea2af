#include "core/stage.h"

#include <boost/json.hpp>
#include <cctype>

#include "core/crypto.h"

namespace rollcall {
namespace {

template <typename E, size_t N>
std::optional<E> Lookup(const std::pair<E, std::string_view> (&table)[N], std::string_view s) {
  for (const auto& [e, name] : table) {
    if (name == s) return e;
  }
  return std::nullopt;
}

template <typename E, size_t N>
std::string_view NameOf(const std::pair<E, std::string_view> (&table)[N], E e) {
  for (const auto& [v, name] : table) {
    if (v == e) return name;
  }
  return table[0].second;
}

constexpr std::pair<ParticipantProtocol, std::string_view> kProtocols[] = {
    {ParticipantProtocol::kUnknown, "UNKNOWN"},
    {ParticipantProtocol::kWhip, "WHIP"},
    {ParticipantProtocol::kRtmp, "RTMP"},
    {ParticipantProtocol::kRtmps, "RTMPS"},
};
constexpr std::pair<RecordingState, std::string_view> kRecordingStates[] = {
    {RecordingState::kDisabled, "DISABLED"}, {RecordingState::kStarting, "STARTING"},
    {RecordingState::kActive, "ACTIVE"},     {RecordingState::kStopping, "STOPPING"},
    {RecordingState::kStopped, "STOPPED"},   {RecordingState::kFailed, "FAILED"},
};
constexpr std::pair<ReplicationType, std::string_view> kReplicationTypes[] = {
    {ReplicationType::kNone, "NONE"},
    {ReplicationType::kSource, "SOURCE"},
    {ReplicationType::kReplica, "REPLICA"},
};
constexpr std::pair<ReplicationState, std::string_view> kReplicationStates[] = {
    {ReplicationState::kActive, "ACTIVE"},
    {ReplicationState::kStopped, "STOPPED"},
};

bool AllOf(std::string_view s, bool (*ok)(char)) {
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

}  // namespace

std::string_view ProtocolName(ParticipantProtocol p) { return NameOf(kProtocols, p); }
std::optional<ParticipantProtocol> ParseProtocol(std::string_view s) {
  return Lookup(kProtocols, s);
}
std::string_view RecordingStateName(RecordingState s) { return NameOf(kRecordingStates, s); }
std::optional<RecordingState> ParseRecordingState(std::string_view s) {
  return Lookup(kRecordingStates, s);
}
std::string_view ReplicationTypeName(ReplicationType t) { return NameOf(kReplicationTypes, t); }
std::optional<ReplicationType> ParseReplicationType(std::string_view s) {
  return Lookup(kReplicationTypes, s);
}
std::string_view ReplicationStateName(ReplicationState s) { return NameOf(kReplicationStates, s); }
std::optional<ReplicationState> ParseReplicationState(std::string_view s) {
  return Lookup(kReplicationStates, s);
}

std::string AutoRecordingSettingsJson(const AutoRecording& r) {
  boost::json::array storage;
  for (const std::string& s : r.thumbnail_storage) storage.emplace_back(s);
  boost::json::object o{
      {"mediaType", r.media_type},
      {"thumbnailIntervalSeconds", r.thumbnail_interval_seconds},
      {"thumbnailStorage", std::move(storage)},
      {"thumbnailMode", r.thumbnail_mode},
      {"reconnectWindowSeconds", r.reconnect_window_seconds},
      {"hlsSegmentSeconds", r.hls_segment_seconds},
      {"recordReplicas", r.record_replicas},
  };
  return boost::json::serialize(o);
}

AutoRecording AutoRecordingFromSettings(RowId storage_configuration_id, std::string_view json) {
  AutoRecording r;
  r.storage_configuration_id = storage_configuration_id;
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return r;
  const boost::json::object& o = v.as_object();
  auto str = [&](const char* k, std::string* out) {
    if (auto* p = o.if_contains(k); p && p->is_string()) *out = std::string(p->as_string());
  };
  auto num = [&](const char* k, int64_t* out) {
    if (auto* p = o.if_contains(k); p && p->is_int64()) *out = p->as_int64();
  };
  str("mediaType", &r.media_type);
  num("thumbnailIntervalSeconds", &r.thumbnail_interval_seconds);
  if (auto* p = o.if_contains("thumbnailStorage"); p && p->is_array()) {
    r.thumbnail_storage.clear();
    for (const auto& s : p->as_array()) {
      if (s.is_string()) r.thumbnail_storage.emplace_back(s.as_string());
    }
  }
  str("thumbnailMode", &r.thumbnail_mode);
  num("reconnectWindowSeconds", &r.reconnect_window_seconds);
  num("hlsSegmentSeconds", &r.hls_segment_seconds);
  if (auto* p = o.if_contains("recordReplicas"); p && p->is_bool())
    r.record_replicas = p->as_bool();
  return r;
}

std::string_view ResourceKindName(ResourceKind k) {
  return k == ResourceKind::kStage ? "stage" : "storage-configuration";
}

TenantKey NewTenantKey(RowId tenant, Millis now) {
  return TenantKey{tenant, HexEncode(RandomBytes(8)), RandomBytes(32), now};
}

std::optional<Arn> ParseArn(std::string_view s) {
  constexpr std::string_view kPrefix = "arn:aws:ivs:";
  if (s.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  s.remove_prefix(kPrefix.size());
  const size_t c1 = s.find(':');
  if (c1 == std::string_view::npos) return std::nullopt;
  const size_t c2 = s.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return std::nullopt;
  const size_t slash = s.find('/', c2 + 1);
  if (slash == std::string_view::npos) return std::nullopt;
  Arn a{std::string(s.substr(0, c1)), std::string(s.substr(c1 + 1, c2 - c1 - 1)),
        std::string(s.substr(c2 + 1, slash - c2 - 1)), std::string(s.substr(slash + 1))};
  auto region_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  auto type_char = [](char c) { return (c >= 'a' && c <= 'z') || c == '-'; };
  auto id_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
  };
  if (a.region.empty() || !AllOf(a.region, region_char) || a.account.empty() ||
      !AllOf(a.account, digit) || a.type.empty() || !AllOf(a.type, type_char) || a.id.empty() ||
      !AllOf(a.id, id_char)) {
    return std::nullopt;
  }
  return a;
}

std::string IvsArn(std::string_view region, std::string_view account, std::string_view type,
                   std::string_view id) {
  std::string out = "arn:aws:ivs:";
  out.append(region).append(":").append(account).append(":").append(type).append("/").append(id);
  return out;
}

std::string RecordingPrefix(std::string_view stage_id, std::string_view stage_session_id,
                            std::string_view participant_id) {
  std::string out(stage_id);
  out.append("/").append(stage_session_id).append("/").append(participant_id);
  return out;
}

std::string TokenNickname(const std::vector<std::pair<std::string, std::string>>& attributes,
                          const std::string& user_id, const std::string& participant_id) {
  for (const auto& [k, v] : attributes) {
    if (k == "nickname" && !v.empty()) return v;
  }
  return user_id.empty() ? participant_id : user_id;
}

ParticipantSummary SummaryOf(const Participant& p) {
  ParticipantSummary s;
  s.member_id = p.member.id;
  s.ivs_participant_id = p.member.ivs_participant_id;
  s.user_id = p.ivs.user_id;
  s.first_join_at = p.member.first_join_at;
  s.connected = p.connected();
  s.published = p.ivs.published;
  s.recording_state = p.ivs.recording_state;
  s.replication_type = p.ivs.replication_type;
  s.replication_state = p.ivs.replication_state;
  s.source_stage_id = p.ivs.source_stage_id;
  s.source_session_id = p.ivs.source_session_id;
  return s;
}

}  // namespace rollcall
