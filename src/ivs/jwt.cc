#include "ivs/jwt.h"

#include <boost/json.hpp>

#include "core/crypto.h"
#include "ivs/base64url.h"

namespace rollcall::ivs {

std::string SignJwt(std::string_view key_id, std::string_view secret, std::string_view payload) {
  boost::json::object header{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", key_id}};
  std::string input =
      Base64UrlEncode(boost::json::serialize(header)) + "." + Base64UrlEncode(payload);
  const std::string mac = HmacSha256(secret, input);
  return input + "." + Base64UrlEncode(mac);
}

std::optional<Jwt> ParseJwt(std::string_view token) {
  const size_t d1 = token.find('.');
  if (d1 == std::string_view::npos) return std::nullopt;
  const size_t d2 = token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  std::optional<std::string> header = Base64UrlDecode(token.substr(0, d1));
  std::optional<std::string> payload = Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
  std::optional<std::string> mac = Base64UrlDecode(token.substr(d2 + 1));
  if (!header || !payload || !mac) return std::nullopt;
  boost::json::error_code ec;
  boost::json::value h = boost::json::parse(*header, ec);
  if (ec || !h.is_object()) return std::nullopt;
  const boost::json::value* alg = h.as_object().if_contains("alg");
  const boost::json::value* kid = h.as_object().if_contains("kid");
  if (alg == nullptr || !alg->is_string() || alg->as_string() != "HS256" || kid == nullptr ||
      !kid->is_string()) {
    return std::nullopt;
  }
  return Jwt{std::string(kid->as_string()), std::move(*payload), std::string(token.substr(0, d2)),
             std::move(*mac)};
}

bool VerifyJwt(const Jwt& jwt, std::string_view secret) {
  return ConstantTimeEquals(HmacSha256(secret, jwt.signing_input), jwt.mac);
}

}  // namespace rollcall::ivs
