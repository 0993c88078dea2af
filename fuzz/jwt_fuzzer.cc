// libFuzzer target: participant tokens (ivs/jwt.h and the claims of core/participant_token.h).
// The input as a token is parsed and verified, and claims that parse survive ClaimsToJson. The
// input as a payload must survive the round trip SignJwt -> ParseJwt (same key id and payload) and
// verify with its secret only.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/participant_token.h"
#include "ivs/jwt.h"

namespace {

constexpr char kKeyId[] = "k-fuzz";
constexpr char kSecret[] = "fuzz-tenant-secret-0123456789abcdef";

void Fail(const char* what) {
  std::fprintf(stderr, "jwt_fuzzer: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ivs = rollcall::ivs;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (std::optional<ivs::Jwt> jwt = ivs::ParseJwt(input)) {
    // Whatever parses is verified and its claims read; the sanitizers are the check.
    if (jwt->signing_input.size() >= input.size() ||
        input.substr(0, jwt->signing_input.size()) != jwt->signing_input) {
      Fail("the signing input is not the token's first two parts");
    }
    ivs::VerifyJwt(*jwt, kSecret);
    rollcall::StatusOr<rollcall::TokenClaims> claims = rollcall::ClaimsFromJson(jwt->payload);
    if (claims.ok()) {
      rollcall::StatusOr<rollcall::TokenClaims> again =
          rollcall::ClaimsFromJson(rollcall::ClaimsToJson(claims.value()));
      if (!again.ok() || again->participant_id != claims->participant_id ||
          again->stage_arn != claims->stage_arn || again->stage_id != claims->stage_id ||
          again->user_id != claims->user_id || again->attributes != claims->attributes ||
          again->capabilities != claims->capabilities || again->issued_at != claims->issued_at ||
          again->expires_at != claims->expires_at) {
        Fail("claims change in the round trip through ClaimsToJson");
      }
    }
  }

  const std::string token = ivs::SignJwt(kKeyId, kSecret, input);
  std::optional<ivs::Jwt> back = ivs::ParseJwt(token);
  if (!back) Fail("a signed token does not parse");
  if (back->key_id != kKeyId) Fail("the key id changed in the round trip");
  if (back->payload != input) Fail("the payload changed in the round trip");
  if (!ivs::VerifyJwt(*back, kSecret)) Fail("a signed token does not verify");
  if (ivs::VerifyJwt(*back, "another-secret")) Fail("a token verified under another secret");
  return 0;
}
