#include "core/media_presence.h"

#include <utility>

#include "core/crypto.h"
#include "core/presence_rules.h"
#include "core/tx_calls.h"

namespace rollcall {
namespace {

using Kind = MediaCall::Kind;

constexpr char kPublishRole[] = "publish";
constexpr char kPlayRole[] = "play";

rules::Report MediaReport(Millis now) {
  return rules::Report{now, std::nullopt, PresenceSource::kMedia};
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool Opens(Kind k) { return k == Kind::kPublish || k == Kind::kPlay; }
bool Updates(Kind k) { return k == Kind::kUpdatePublish || k == Kind::kUpdatePlay; }

Status Gone() {
  return Status(Code::kConflict, "the participant is no longer in the stage on this connection");
}

// The stream key's claims, checked for a call that opens or keeps a connection.
StatusOr<TokenClaims> KeyClaims(const StreamKey& key, Kind kind, Millis now) {
  StatusOr<TokenClaims> claims = ClaimsFromJson(key.claims_json);
  if (!claims.ok()) return claims.status();
  if (Opens(kind) || Updates(kind)) {
    unsigned needed = 0;
    if (kind == Kind::kPublish || kind == Kind::kUpdatePublish) needed = kCapabilityPublish;
    if (kind == Kind::kPlay || kind == Kind::kUpdatePlay) needed = kCapabilitySubscribe;
    Status v = CheckClaims(claims.value(), now, needed);
    if (!v.ok()) return v;
  }
  return claims;
}

// A new publish or play connection: joins the stage (protocol RTMP) and starts publishing or
// subscribing to the stream's owner.
Status OpenConnection(Tx& tx, const StreamKey& key, const TokenClaims& claims,
                      const MediaCall& call, Millis now) {
  StatusOr<Application> app = rules::TokenStage(tx, key.tenant_id, claims);
  if (!app.ok()) return app.status();
  if (call.kind == Kind::kPublish && call.stream != claims.participant_id) {
    return Status(Code::kForbidden, "a publisher's stream must be named after its participantId " +
                                        claims.participant_id);
  }
  JoinRequest join;
  join.protocol = ParticipantProtocol::kRtmp;
  StatusOr<rules::Joined> joined =
      rules::JoinStageIn(tx, claims, &app.value(), join, MediaReport(now));
  if (!joined.ok()) return joined.status();
  Session& s = joined->session;
  Participant& p = joined->participant;
  const Millis at = std::max(now, s.created_at);
  MediaConnection c;
  c.tenant_id = key.tenant_id;
  c.application_id = app->id;
  c.participant_id = claims.participant_id;
  c.connection_id = call.connection_id;
  c.member_id = p.member.id;
  c.role = call.kind == Kind::kPublish ? kPublishRole : kPlayRole;
  c.stream = call.stream;
  c.opened_at = at;
  tx.PutMediaConnection(c);
  if (call.kind == Kind::kPublish) {
    rules::SetPublishingIn(tx, app.value(), s, &p, true, at);
    if (call.records && p.ivs.recording_state != RecordingState::kActive) {
      p.ivs.recording_state = RecordingState::kActive;
      if (p.ivs.recording_prefix.empty()) {
        p.ivs.recording_prefix =
            RecordingPrefix(app->stage_id, s.stage_session_id, p.member.ivs_participant_id);
      }
      tx.UpdateMemberIvs(key.tenant_id, p.member.id, p.ivs);
    }
  } else if (std::optional<Participant> owner =
                 tx.FindParticipant(key.tenant_id, s.id, call.stream);
             owner && owner->member.id != p.member.id) {
    rules::AppendSubscribeIn(tx, s, p.member.id, *owner, true, at);
  }
  return Status::Ok();
}

// The member and session a known connection belongs to.
struct ConnectionOf {
  MediaConnection connection;
  Participant participant;
  Session session;
};

std::optional<ConnectionOf> FindConnection(Tx& tx, const StreamKey& key,
                                           const std::string& connection_id) {
  std::optional<MediaConnection> c =
      tx.FindMediaConnection(key.tenant_id, key.application_id, key.participant_id, connection_id);
  if (!c) return std::nullopt;
  std::optional<Participant> p = tx.GetParticipant(key.tenant_id, c->member_id);
  if (!p) return std::nullopt;
  std::optional<Session> s = tx.GetSession(key.tenant_id, p->member.session_id);
  if (!s) return std::nullopt;
  return ConnectionOf{std::move(*c), std::move(*p), std::move(*s)};
}

// A publish or play connection ended: stops its publishing or subscription, and the
// participant leaves when it was its last open connection.
void CloseConnection(Tx& tx, ConnectionOf* k, Millis now) {
  MediaConnection& c = k->connection;
  c.closed_at = now;
  tx.PutMediaConnection(c);
  Session& s = k->session;
  Member& m = k->participant.member;
  if (!s.active()) return;
  rules::ExpireIfOverdue(tx, &s, &m, now);
  if (!m.open_visit_id) return;
  const Millis at = presence::ReportTime(tx.GetMemberPresence(s.tenant_id, m.id), now);
  if (c.role == kPublishRole) {
    if (tx.CountOpenMediaConnections(s.tenant_id, m.id, kPublishRole) == 0) {
      rules::StopPublishingIn(tx, s, m.id, at);
      rules::MirrorPublishingIn(tx, s, m.id, false, at);
    }
  } else if (std::optional<Participant> owner = tx.FindParticipant(s.tenant_id, s.id, c.stream);
             owner && owner->member.id != m.id) {
    rules::AppendSubscribeIn(tx, s, m.id, *owner, false, at);
  }
  if (tx.CountOpenMediaConnections(s.tenant_id, m.id, "") == 0) {
    rules::Depart(tx, &s, &m, MediaReport(now), "");
  }
}

// A periodic update of an open connection: a heartbeat of its participant.
Status UpdateConnection(Tx& tx, ConnectionOf* k, Millis now) {
  if (k->connection.closed_at || !k->session.active()) return Gone();
  rules::Result r = rules::Touch(tx, &k->session, &k->participant.member, MediaReport(now), true);
  if (r.outcome == rules::Outcome::kAbsent) return Gone();
  return Status::Ok();
}

void RecordingDone(Tx& tx, ConnectionOf* k) {
  MemberIvs& ivs = k->participant.ivs;
  if (ivs.recording_state != RecordingState::kActive) return;
  ivs.recording_state = RecordingState::kStopped;
  tx.UpdateMemberIvs(k->session.tenant_id, k->participant.member.id, ivs);
}

}  // namespace

std::optional<MediaCall::Kind> ParseMediaCallKind(std::string_view call) {
  static const std::pair<std::string_view, Kind> kCalls[] = {
      {"publish", Kind::kPublish},
      {"play", Kind::kPlay},
      {"publish_done", Kind::kPublishDone},
      {"play_done", Kind::kPlayDone},
      {"update_publish", Kind::kUpdatePublish},
      {"update_play", Kind::kUpdatePlay},
      {"record_done", Kind::kRecordDone},
  };
  for (const auto& [name, kind] : kCalls) {
    if (name == call) return kind;
  }
  return std::nullopt;
}

void MediaPresence::CreateStreamKey(RowId tenant, TokenClaims claims,
                                    Callback<IssuedStreamKey> cb) {
  const Millis now = stages_.Now();
  Status v = CheckClaims(claims, now, 0);
  if (!v.ok()) return cb(v);
  StatusOr<TenantKey> secret = stages_.TenantKeyOf(tenant);
  if (!secret.ok()) return cb(secret.status());
  IssuedStreamKey issued;
  issued.stream_key =
      HexOf(HmacSha256(secret->secret, "rtmp-stream-key\n" + claims.participant_id + "\n" +
                                           std::to_string(claims.issued_at) + "\n" +
                                           std::to_string(claims.expires_at)))
          .substr(0, 40);
  issued.participant_id = claims.participant_id;
  issued.stage_arn = claims.stage_arn;
  issued.expires_at = claims.expires_at * 1000;
  WriteWith<IssuedStreamKey>(
      service_.store(),
      [tenant, claims = std::move(claims), issued, now](
          Tx& tx, std::optional<IssuedStreamKey>* out) -> Status {
        StatusOr<Application> app = rules::TokenStage(tx, tenant, claims);
        if (!app.ok()) return app.status();
        StreamKey key;
        key.key_hash = Sha256(issued.stream_key);
        key.tenant_id = tenant;
        key.application_id = app->id;
        key.participant_id = claims.participant_id;
        key.claims_json = ClaimsToJson(claims);
        key.expires_at = issued.expires_at;
        key.created_at = now;
        tx.PutStreamKey(key);
        *out = issued;
        return Status::Ok();
      },
      std::move(cb));
}

void MediaPresence::Handle(MediaCall call, Callback<Done> cb) {
  if (call.stream_key.empty()) {
    return cb(Status::Unauthenticated("missing key=<stream key> in the RTMP URL"));
  }
  WriteWith<Done>(
      service_.store(),
      [this, call = std::move(call)](Tx& tx, std::optional<Done>* out) -> Status {
        const Millis now = stages_.Now();
        std::optional<StreamKey> key = tx.FindStreamKey(Sha256(call.stream_key));
        if (!key) return Status::Unauthenticated("unknown stream key");
        StatusOr<TokenClaims> claims = KeyClaims(*key, call.kind, now);
        if (!claims.ok()) return claims.status();
        Status s = Status::Ok();
        if (Opens(call.kind)) {
          s = OpenConnection(tx, *key, claims.value(), call, now);
        } else if (Updates(call.kind)) {
          // The stage (its application locked) before the connection's session: the order
          // every write takes them in.
          s = rules::TokenStage(tx, key->tenant_id, claims.value()).status();
          std::optional<ConnectionOf> k;
          if (s.ok()) k = FindConnection(tx, *key, call.connection_id);
          if (s.ok()) s = k ? UpdateConnection(tx, &*k, now) : Gone();
        } else if (std::optional<ConnectionOf> k = FindConnection(tx, *key, call.connection_id)) {
          if (call.kind == Kind::kRecordDone) {
            RecordingDone(tx, &*k);
          } else if (!k->connection.closed_at) {
            CloseConnection(tx, &*k, now);
          }
        }
        if (!s.ok()) return s;
        *out = Done{};
        return Status::Ok();
      },
      std::move(cb));
}

}  // namespace rollcall
