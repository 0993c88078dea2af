#ifndef ROLLCALL_CORE_PARTICIPANT_TOKEN_H_
#define ROLLCALL_CORE_PARTICIPANT_TOKEN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace rollcall {

// What a participant token grants. The token itself is a JWT signed with the tenant's key
// (ivs/jwt.h); these are its claims, which rollcall alone issues and reads.

enum Capability : unsigned {
  kCapabilityPublish = 1,
  kCapabilitySubscribe = 2,
};

struct TokenClaims {
  std::string participant_id;  // "jti": 12 characters of [a-zA-Z0-9], assigned at issue
  std::string stage_arn;       // "resource"
  std::string stage_id;        // "topic"
  std::string user_id;         // "user_id", 0..128 characters
  std::vector<std::pair<std::string, std::string>> attributes;        // "attributes"
  unsigned capabilities = kCapabilityPublish | kCapabilitySubscribe;  // "capabilities"
  int64_t issued_at = 0;   // "iat", seconds since the epoch
  int64_t expires_at = 0;  // "exp", seconds since the epoch
};

// Token durations in minutes: 1..20160, default 720.
constexpr int64_t kMinTokenMinutes = 1;
constexpr int64_t kMaxTokenMinutes = 20160;
constexpr int64_t kDefaultTokenMinutes = 720;

// The JSON payload of the claims (RFC 7519 names where one exists, IVS names otherwise).
std::string ClaimsToJson(const TokenClaims& c);
// Parses a payload written by ClaimsToJson. Anything else: kUnauthenticated.
StatusOr<TokenClaims> ClaimsFromJson(std::string_view json);

// OK when the claims are usable at `now` for a call that needs `needed` capabilities
// (0: none). Expired: kUnauthenticated; a missing capability: kForbidden.
Status CheckClaims(const TokenClaims& c, Millis now, unsigned needed);

// "PUBLISH", "SUBSCRIBE" in that order.
std::vector<std::string> CapabilityNames(unsigned capabilities);
std::optional<Capability> ParseCapability(std::string_view s);

}  // namespace rollcall

#endif  // ROLLCALL_CORE_PARTICIPANT_TOKEN_H_
