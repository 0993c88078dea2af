#ifndef ROLLCALL_IVS_JWT_H_
#define ROLLCALL_IVS_JWT_H_

#include <optional>
#include <string>
#include <string_view>

namespace rollcall::ivs {

// Compact JWS with HS256 (RFC 7515/7519): base64url(header).base64url(payload).base64url(mac),
// header {"alg":"HS256","typ":"JWT","kid":key_id}. Pure; thread-safe.

std::string SignJwt(std::string_view key_id, std::string_view secret, std::string_view payload);

// A token split and decoded, not yet verified.
struct Jwt {
  std::string key_id;
  std::string payload;        // decoded JSON text
  std::string signing_input;  // the first two parts with their '.'
  std::string mac;            // decoded signature bytes
};

// Splits and decodes a token whose header says alg HS256 and carries a kid. Anything else
// (wrong part count, bad base64url, another alg, "none"): nullopt.
std::optional<Jwt> ParseJwt(std::string_view token);

// True when the token's MAC is HMAC-SHA256(secret, signing_input), compared in constant time.
bool VerifyJwt(const Jwt& jwt, std::string_view secret);

}  // namespace rollcall::ivs

#endif  // ROLLCALL_IVS_JWT_H_
