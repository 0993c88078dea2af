// Participant tokens (JWT HS256 and their claims), base64url and sealed nextTokens.
#include <gtest/gtest.h>

#include "core/crypto.h"
#include "core/participant_token.h"
#include "ivs/base64url.h"
#include "ivs/cursor.h"
#include "ivs/jwt.h"

namespace rollcall::ivs {
namespace {

TEST(Base64Url, Rfc4648Vectors) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*Base64UrlDecode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(*Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_FALSE(Base64UrlDecode("Zm9v=").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());  // non-zero trailing bits
  for (int n = 0; n < 40; ++n) {
    const std::string raw = RandomBytes(n);
    EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(raw)), raw);
  }
}

TEST(Jwt, Rfc7515HmacExampleVerifies) {
  // RFC 7515 appendix A.1 (HS256), with a kid-less header: ParseJwt needs a kid, so the
  // MAC is checked directly.
  const std::string key = *Base64UrlDecode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  const std::string input =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl"
      "fQ";
  EXPECT_EQ(Base64UrlEncode(HmacSha256(key, input)), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
}

TEST(Jwt, SignParseVerify) {
  const std::string secret = RandomBytes(32);
  const std::string token = SignJwt("k1", secret, R"({"a":1})");
  std::optional<Jwt> jwt = ParseJwt(token);
  ASSERT_TRUE(jwt.has_value());
  EXPECT_EQ(jwt->key_id, "k1");
  EXPECT_EQ(jwt->payload, R"({"a":1})");
  EXPECT_TRUE(VerifyJwt(*jwt, secret));
  EXPECT_FALSE(VerifyJwt(*jwt, RandomBytes(32)));
}

TEST(Jwt, ForgeriesAreRefused) {
  const std::string secret = RandomBytes(32);
  const std::string token = SignJwt("k1", secret, R"({"a":1})");
  const size_t d1 = token.find('.');
  const size_t d2 = token.rfind('.');
  // Payload swapped: the MAC no longer matches.
  std::string swapped = token.substr(0, d1 + 1) + Base64UrlEncode(R"({"a":2})") + token.substr(d2);
  ASSERT_TRUE(ParseJwt(swapped).has_value());
  EXPECT_FALSE(VerifyJwt(*ParseJwt(swapped), secret));
  // alg none, or another alg: not even parsed.
  std::string none = Base64UrlEncode(R"({"alg":"none","kid":"k1"})") + token.substr(d1);
  EXPECT_FALSE(ParseJwt(none).has_value());
  std::string rs = Base64UrlEncode(R"({"alg":"RS256","kid":"k1"})") + token.substr(d1);
  EXPECT_FALSE(ParseJwt(rs).has_value());
  EXPECT_FALSE(ParseJwt("a.b").has_value());
  EXPECT_FALSE(ParseJwt(token + ".x").has_value());
  EXPECT_FALSE(ParseJwt("!!!.abc.def").has_value());
}

TokenClaims SampleClaims() {
  TokenClaims c;
  c.participant_id = "AbCdEf123456";
  c.stage_arn = "arn:aws:ivs:us-east-1:123456789012:stage/StAgE0000001";
  c.stage_id = "StAgE0000001";
  c.user_id = "user-1";
  c.attributes = {{"nickname", "kim"}, {"seat", "A1"}};
  c.capabilities = kCapabilityPublish;
  c.issued_at = 1795304540;
  c.expires_at = c.issued_at + 60;
  return c;
}

TEST(TokenClaims, RoundTrip) {
  const TokenClaims c = SampleClaims();
  StatusOr<TokenClaims> back = ClaimsFromJson(ClaimsToJson(c));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->participant_id, c.participant_id);
  EXPECT_EQ(back->stage_arn, c.stage_arn);
  EXPECT_EQ(back->stage_id, c.stage_id);
  EXPECT_EQ(back->user_id, c.user_id);
  EXPECT_EQ(back->attributes, c.attributes);
  EXPECT_EQ(back->capabilities, c.capabilities);
  EXPECT_EQ(back->issued_at, c.issued_at);
  EXPECT_EQ(back->expires_at, c.expires_at);
}

TEST(TokenClaims, MalformedIsUnauthenticated) {
  EXPECT_EQ(ClaimsFromJson("[]").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(ClaimsFromJson(R"({"version":"1.0"})").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(ClaimsFromJson("not json").status().code(), Code::kUnauthenticated);
}

TEST(TokenClaims, ExpiryAndCapabilities) {
  const TokenClaims c = SampleClaims();
  const Millis before_expiry = c.expires_at * 1000 - 1;
  EXPECT_TRUE(CheckClaims(c, before_expiry, 0).ok());
  EXPECT_TRUE(CheckClaims(c, before_expiry, kCapabilityPublish).ok());
  Status sub = CheckClaims(c, before_expiry, kCapabilitySubscribe);
  EXPECT_EQ(sub.code(), Code::kForbidden);
  EXPECT_NE(sub.message().find("SUBSCRIBE"), std::string::npos);
  EXPECT_EQ(CheckClaims(c, c.expires_at * 1000, 0).code(), Code::kUnauthenticated);
  EXPECT_EQ(CapabilityNames(kCapabilityPublish | kCapabilitySubscribe),
            (std::vector<std::string>{"PUBLISH", "SUBSCRIBE"}));
  EXPECT_FALSE(ParseCapability("ADMIN").has_value());
}

TEST(Cursor, SealsAndOpens) {
  const std::string secret = RandomBytes(32);
  const std::string token = SealCursor(secret, "ListStages", "[123456789012]");
  EXPECT_LE(token.size(), 1024u);
  EXPECT_EQ(token.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-"),
            std::string::npos);
  // The position is not readable (a long one: two digits turn up in random base64 by chance).
  EXPECT_EQ(token.find("123456789012"), std::string::npos);
  EXPECT_EQ(*OpenCursor(secret, "ListStages", token), "[123456789012]");
  EXPECT_NE(SealCursor(secret, "ListStages", "[123456789012]"), token);  // fresh nonce each time
}

TEST(Cursor, TamperedForeignOrMisusedIsRefused) {
  const std::string secret = RandomBytes(32);
  std::string token = SealCursor(secret, "ListParticipants|a|b", "[1,\"p\",2]");
  EXPECT_FALSE(OpenCursor(RandomBytes(32), "ListParticipants|a|b", token).has_value());
  EXPECT_FALSE(OpenCursor(secret, "ListParticipants|a|c", token).has_value());
  for (size_t i = 0; i < token.size(); i += 7) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(OpenCursor(secret, "ListParticipants|a|b", t).has_value()) << i;
  }
  EXPECT_FALSE(OpenCursor(secret, "ListParticipants|a|b", token.substr(0, 20)).has_value());
  EXPECT_FALSE(OpenCursor(secret, "ListParticipants|a|b", "").has_value());
  EXPECT_FALSE(OpenCursor(secret, "ListParticipants|a|b", "not+base64url/").has_value());
}

}  // namespace
}  // namespace rollcall::ivs
