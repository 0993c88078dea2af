// IVS participant tokens: CreateParticipantToken, and the client presence endpoints
// /v1/stage/join, leave, heartbeat, publish and subscribe where a token's holder reports its
// state.
#include <boost/algorithm/string/predicate.hpp>

#include "core/participant_token.h"
#include "core/rate_limiter.h"
#include "http/instream.h"
#include "ivs/ivs_http.h"
#include "ivs/ivs_model.h"
#include "ivs/jwt.h"

namespace rollcall::ivs {

namespace json = boost::json;

TokenRequest TokenRequestFrom(const json::object& o) {
  TokenRequest r;
  if (const json::value* v = o.if_contains("duration"); v && (v->is_int64() || v->is_uint64())) {
    r.duration_minutes = v->to_number<int64_t>();
  }
  if (const json::value* v = o.if_contains("userId"); v && v->is_string()) {
    r.user_id = v->as_string();
  }
  if (const json::value* v = o.if_contains("attributes"); v && v->is_object()) {
    r.attributes = AttributesFrom(v->as_object());
  }
  if (const json::value* v = o.if_contains("capabilities"); v && v->is_array()) {
    r.capabilities = 0;
    for (const json::value& c : v->as_array()) {
      if (c.is_string()) {
        if (std::optional<Capability> cap = ParseCapability(c.as_string())) r.capabilities |= *cap;
      }
    }
  }
  return r;
}

StatusOr<json::object> TokenJson(StageService& stages, const Tenant& t, const IssuedToken& token) {
  StatusOr<TenantKey> key = stages.TenantKeyOf(t.id);
  if (!key.ok()) return key.status();
  const TokenClaims& c = token.claims;
  json::object attributes;
  for (const auto& [k, v] : c.attributes) attributes[k] = v;
  json::array capabilities;
  for (const std::string& name : CapabilityNames(c.capabilities)) capabilities.emplace_back(name);
  return json::object{
      {"participantId", c.participant_id},
      {"token", SignJwt(key->key_id, key->secret, ClaimsToJson(c))},
      {"userId", c.user_id},
      {"attributes", std::move(attributes)},
      {"duration", token.duration_minutes},
      {"capabilities", std::move(capabilities)},
      {"expirationTime", FormatTimestamp(c.expires_at * 1000)},
  };
}

void RegisterTokenOperations(Registrar& r) {
  r.Operation("CreateParticipantToken", [](Call c) {
    StatusOr<IssuedToken> token =
        c.stages->CreateParticipantToken(c.tenant, *c.Str("stageArn"), TokenRequestFrom(c.input));
    if (!token.ok()) return c.Fail(token.status());
    StatusOr<json::object> body = TokenJson(*c.stages, c.tenant, token.value());
    if (!body.ok()) return c.Fail(body.status());
    c.Ok(json::object{{"participantToken", std::move(body.value())}});
  });
}

// --- client presence ---

StatusOr<TokenHolder> VerifiedToken(StageService& stages, const http::Request& req) {
  const std::string* auth = req.Header("authorization");
  constexpr std::string_view kBearer = "bearer ";  // the scheme is case-insensitive
  if (auth == nullptr || auth->size() <= kBearer.size() ||
      !boost::algorithm::iequals(std::string_view(*auth).substr(0, kBearer.size()), kBearer)) {
    return Status::Unauthenticated("missing Authorization: Bearer <participant token>");
  }
  std::optional<Jwt> jwt = ParseJwt(std::string_view(*auth).substr(kBearer.size()));
  if (!jwt) return Status::Unauthenticated("the participant token is malformed");
  StatusOr<TenantKey> key = stages.FindTenantKey(jwt->key_id);
  if (!key.ok()) return key.status();
  if (!VerifyJwt(*jwt, key->secret)) {
    return Status::Unauthenticated("the participant token's signature is invalid");
  }
  StatusOr<TokenClaims> claims = ClaimsFromJson(jwt->payload);
  if (!claims.ok()) return claims.status();
  Status admitted =
      stages.Admit(ParticipantTokenCredential(key->tenant_id, claims->participant_id));
  if (!admitted.ok()) return admitted;
  return TokenHolder{key->tenant_id, std::move(claims.value())};
}

namespace {

// A string member checked against a model shape; absent: nullopt.
Status ModelString(const json::object& body, std::string_view name, std::string_view shape,
                   std::optional<std::string>* out) {
  const json::value* v = body.if_contains(name);
  if (v == nullptr || v->is_null()) return Status::Ok();
  Status s = ServiceModel::Get().Validate(shape, *v, std::string(name));
  if (!s.ok()) return s;
  *out = std::string(v->as_string());
  return Status::Ok();
}

Status ParseJoin(const json::object& body, JoinRequest* out) {
  constexpr std::string_view kClient = "ParticipantClientAttribute";
  Status s = ModelString(body, "browserName", kClient, &out->browser_name);
  if (s.ok()) s = ModelString(body, "browserVersion", kClient, &out->browser_version);
  if (s.ok()) s = ModelString(body, "osName", kClient, &out->os_name);
  if (s.ok()) s = ModelString(body, "osVersion", kClient, &out->os_version);
  if (s.ok()) s = ModelString(body, "sdkVersion", kClient, &out->sdk_version);
  if (s.ok()) s = ModelString(body, "ispName", kClient, &out->isp_name);
  std::optional<std::string> protocol;
  if (s.ok()) s = ModelString(body, "protocol", "ParticipantProtocol", &protocol);
  if (s.ok() && protocol) out->protocol = ParseProtocol(*protocol);
  if (s.ok()) s = http::GetSeq(body, &out->seq);
  return s;
}

// "state": STARTED -> true, STOPPED -> false.
Status ParseState(const json::object& body, bool* started) {
  std::optional<std::string> state;
  Status s = http::GetString(body, "state", true, &state);
  if (!s.ok()) return s;
  if (*state != "STARTED" && *state != "STOPPED") {
    return Status::Invalid("state must be STARTED or STOPPED");
  }
  *started = *state == "STARTED";
  return Status::Ok();
}

http::Response PresenceJson(const PresenceView& v) {
  return http::JsonResponse(200, json::object{{"participantId", v.participant_id},
                                              {"stageArn", v.stage_arn},
                                              {"sessionId", v.stage_session_id},
                                              {"state", v.connected ? "CONNECTED" : "DISCONNECTED"},
                                              {"published", v.published}});
}

Callback<PresenceView> ReplyPresence(http::Reply reply) {
  return [reply = std::move(reply)](StatusOr<PresenceView> r) {
    if (!r.ok()) return reply(http::InStreamError(r.status()));
    reply(PresenceJson(r.value()));
  };
}

using PresenceHandler = std::function<void(StageService& stages, TokenHolder holder,
                                           const json::object& body, http::Reply reply)>;

void AddPresenceRoute(http::Router& router, StageService& stages, const std::string& action,
                      PresenceHandler handler) {
  router.Add("POST", "/v1/stage/" + action,
             [&stages, handler = std::move(handler)](http::Request& req, const http::PathParams&,
                                                     http::Reply reply) {
               StatusOr<TokenHolder> holder = VerifiedToken(stages, req);
               if (!holder.ok()) return reply(http::InStreamError(holder.status()));
               StatusOr<json::object> body = http::ParseJsonBody(req, true);
               if (!body.ok()) return reply(http::InStreamError(body.status()));
               handler(stages, std::move(holder.value()), body.value(), std::move(reply));
             });
}

}  // namespace

void RegisterClientPresenceRoutes(http::Router& router, StageService& stages) {
  AddPresenceRoute(router, stages, "join",
                   [](StageService& s, TokenHolder h, const json::object& body, http::Reply reply) {
                     JoinRequest join;
                     Status v = ParseJoin(body, &join);
                     if (!v.ok()) return reply(http::InStreamError(v));
                     s.Join(h.tenant, std::move(h.claims), std::move(join),
                            ReplyPresence(std::move(reply)));
                   });
  AddPresenceRoute(router, stages, "leave",
                   [](StageService& s, TokenHolder h, const json::object& body, http::Reply reply) {
                     std::optional<int64_t> seq;
                     Status v = http::GetSeq(body, &seq);
                     if (!v.ok()) return reply(http::InStreamError(v));
                     s.Leave(h.tenant, std::move(h.claims), ReplyPresence(std::move(reply)), seq);
                   });
  AddPresenceRoute(router, stages, "heartbeat",
                   [](StageService& s, TokenHolder h, const json::object& body, http::Reply reply) {
                     std::optional<int64_t> seq;
                     Status v = http::GetSeq(body, &seq);
                     if (!v.ok()) return reply(http::InStreamError(v));
                     s.Heartbeat(h.tenant, std::move(h.claims), seq,
                                 ReplyPresence(std::move(reply)));
                   });
  AddPresenceRoute(router, stages, "publish",
                   [](StageService& s, TokenHolder h, const json::object& body, http::Reply reply) {
                     bool started = false;
                     std::optional<int64_t> seq;
                     Status v = ParseState(body, &started);
                     if (v.ok()) v = http::GetSeq(body, &seq);
                     if (!v.ok()) return reply(http::InStreamError(v));
                     s.Publish(h.tenant, std::move(h.claims), started,
                               ReplyPresence(std::move(reply)), seq);
                   });
  AddPresenceRoute(router, stages, "subscribe",
                   [](StageService& s, TokenHolder h, const json::object& body, http::Reply reply) {
                     bool started = false;
                     std::optional<std::string> remote;
                     std::optional<int64_t> seq;
                     Status v = http::GetString(body, "remoteParticipantId", true, &remote);
                     if (v.ok()) v = ParseState(body, &started);
                     if (v.ok()) v = http::GetSeq(body, &seq);
                     if (!v.ok()) return reply(http::InStreamError(v));
                     s.Subscribe(h.tenant, std::move(h.claims), std::move(*remote), started,
                                 ReplyPresence(std::move(reply)), seq);
                   });
}

}  // namespace rollcall::ivs
