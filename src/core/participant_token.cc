#include "core/participant_token.h"

#include <boost/json.hpp>

namespace rollcall {

namespace json = boost::json;

std::vector<std::string> CapabilityNames(unsigned capabilities) {
  std::vector<std::string> out;
  if (capabilities & kCapabilityPublish) out.emplace_back("PUBLISH");
  if (capabilities & kCapabilitySubscribe) out.emplace_back("SUBSCRIBE");
  return out;
}

std::optional<Capability> ParseCapability(std::string_view s) {
  if (s == "PUBLISH") return kCapabilityPublish;
  if (s == "SUBSCRIBE") return kCapabilitySubscribe;
  return std::nullopt;
}

std::string ClaimsToJson(const TokenClaims& c) {
  json::object attrs;
  for (const auto& [k, v] : c.attributes) attrs[k] = v;
  json::object o{
      {"version", "1.0"},
      {"jti", c.participant_id},
      {"resource", c.stage_arn},
      {"topic", c.stage_id},
      {"user_id", c.user_id},
      {"attributes", std::move(attrs)},
      {"capabilities",
       json::object{{"allow_publish", (c.capabilities & kCapabilityPublish) != 0},
                    {"allow_subscribe", (c.capabilities & kCapabilitySubscribe) != 0}}},
      {"iat", c.issued_at},
      {"exp", c.expires_at},
  };
  return json::serialize(o);
}

StatusOr<TokenClaims> ClaimsFromJson(std::string_view text) {
  const Status bad = Status::Unauthenticated("the participant token's claims are malformed");
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return bad;
  const json::object& o = v.as_object();
  auto str = [&](const char* k, std::string* out) {
    const json::value* p = o.if_contains(k);
    if (p == nullptr || !p->is_string()) return false;
    *out = std::string(p->as_string());
    return true;
  };
  auto num = [&](const char* k, int64_t* out) {
    const json::value* p = o.if_contains(k);
    if (p == nullptr || !p->is_int64()) return false;
    *out = p->as_int64();
    return true;
  };
  TokenClaims c;
  std::string version;
  if (!str("version", &version) || version != "1.0" || !str("jti", &c.participant_id) ||
      !str("resource", &c.stage_arn) || !str("topic", &c.stage_id) || !str("user_id", &c.user_id) ||
      !num("iat", &c.issued_at) || !num("exp", &c.expires_at)) {
    return bad;
  }
  const json::value* attrs = o.if_contains("attributes");
  if (attrs == nullptr || !attrs->is_object()) return bad;
  for (const auto& kv : attrs->as_object()) {
    if (!kv.value().is_string()) return bad;
    c.attributes.emplace_back(std::string(kv.key()), std::string(kv.value().as_string()));
  }
  const json::value* caps = o.if_contains("capabilities");
  if (caps == nullptr || !caps->is_object()) return bad;
  const json::value* pub = caps->as_object().if_contains("allow_publish");
  const json::value* sub = caps->as_object().if_contains("allow_subscribe");
  if (pub == nullptr || !pub->is_bool() || sub == nullptr || !sub->is_bool()) return bad;
  c.capabilities =
      (pub->as_bool() ? kCapabilityPublish : 0u) | (sub->as_bool() ? kCapabilitySubscribe : 0u);
  return c;
}

Status CheckClaims(const TokenClaims& c, Millis now, unsigned needed) {
  if (now >= c.expires_at * 1000) {
    return Status::Unauthenticated("the participant token expired at " +
                                   FormatTimestamp(c.expires_at * 1000));
  }
  if ((c.capabilities & needed) != needed) {
    return Status(Code::kForbidden, "the participant token lacks the " +
                                        CapabilityNames(needed & ~c.capabilities).front() +
                                        " capability");
  }
  return Status::Ok();
}

}  // namespace rollcall
