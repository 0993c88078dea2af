// SigV4 verification against fixed vectors: the AWS test suite's get-vanilla and requests
// signed by botocore 1.43 (SigV4Auth, timestamp 2026-11-21T23:42:20Z), one with a session
// token; then every way a request can fail.
#include <gtest/gtest.h>

#include "core/time.h"
#include "ivs/sigv4.h"

namespace rollcall::ivs {
namespace {

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const Millis kSignedAt = *ParseTimestamp("2026-11-21T23:42:20Z");

struct Fixture {
  std::string method;
  std::string raw_path;
  std::string raw_query;
  Headers headers;
  std::string body;

  SignedRequest View() const { return SignedRequest{method, raw_path, raw_query, &headers, body}; }
  std::string Authorization() const {
    for (const auto& [k, v] : headers) {
      if (k == "authorization") return v;
    }
    return "";
  }
  void Set(const std::string& name, const std::string& value) {
    for (auto& [k, v] : headers) {
      if (k == name) {
        v = value;
        return;
      }
    }
    headers.emplace_back(name, value);
  }
};

// botocore: POST /ListStages {"maxResults": 10}, region us-east-1.
Fixture ListStages() {
  return Fixture{
      "POST",
      "/ListStages",
      "",
      {{"host", "127.0.0.1:8080"},
       {"content-type", "application/json"},
       {"x-amz-date", "20261121T234220Z"},
       {"authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261121/us-east-1/ivs/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=34b22d2296081e0b9ca8bcbe0857fea9b833e4fd1361f765bdb8d50c64681538"}},
      R"({"maxResults": 10})"};
}

// botocore with a session token, region eu-west-1.
Fixture GetStageWithToken() {
  return Fixture{
      "POST",
      "/GetStage",
      "",
      {{"host", "127.0.0.1:8080"},
       {"content-type", "application/json"},
       {"x-amz-date", "20261121T234220Z"},
       {"x-amz-security-token", "FQoGZXIvYXdzEXAMPLETOKEN"},
       {"authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261121/eu-west-1/ivs/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
        "Signature=741f1e66228c4c24c3bdd06362ef7fd08a789306adbd5463aa129388397a563f"}},
      R"({"arn": "arn:aws:ivs:eu-west-1:123456789012:stage/AbCdEf123456"})"};
}

// botocore: UntagResource, the ARN encoded in the path, repeated query keys.
Fixture Untag() {
  return Fixture{
      "DELETE",
      "/tags/arn%3Aaws%3Aivs%3Aus-east-1%3A123456789012%3Astage%2FAbCdEf123456",
      "tagKeys=b&tagKeys=a%20c",
      {{"host", "127.0.0.1:8080"},
       {"x-amz-date", "20261121T234220Z"},
       {"authorization",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261121/us-east-1/ivs/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=d01a28cfa417a2f05068ca6357aafa33024cbb6bc7d585b259e8f8a6830a8a95"}},
      ""};
}

SigV4Result VerifyFixture(const Fixture& f, Millis now = kSignedAt,
                          std::string_view secret = kSecret) {
  Authorization auth;
  SigV4Result parsed = ParseAuthorization(f.Authorization(), &auth);
  if (!parsed.ok()) return parsed;
  return Verify(f.View(), auth, secret, now);
}

TEST(SigV4, AwsSuiteGetVanilla) {
  Headers headers = {{"host", "example.amazonaws.com"}, {"x-amz-date", "20150830T123600Z"}};
  SignedRequest req{"GET", "/", "", &headers, ""};
  const std::string canonical =
      CanonicalRequest(req, {"host", "x-amz-date"},
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(canonical,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string sts =
      StringToSign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", canonical);
  EXPECT_EQ(sts,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(Signature(SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830",
                                 "us-east-1", "service"),
                      sts),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, AwsDocsSigningKey) {
  // docs.aws.amazon.com, "Examples of how to derive a signing key for Signature Version 4".
  const std::string key = SigningKey(kSecret, "20120215", "us-east-1", "iam");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : key) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  EXPECT_EQ(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4, BotocoreCanonicalRequests) {
  Fixture post = ListStages();
  EXPECT_EQ(CanonicalRequest(post.View(), {"content-type", "host", "x-amz-date"},
                             "f25de1706a650264c1de625e357f269543bd26ef04e5b5b00ae7d579a9082254"),
            "POST\n/ListStages\n\ncontent-type:application/json\nhost:127.0.0.1:8080\n"
            "x-amz-date:20261121T234220Z\n\ncontent-type;host;x-amz-date\n"
            "f25de1706a650264c1de625e357f269543bd26ef04e5b5b00ae7d579a9082254");
  EXPECT_EQ(CanonicalUri(Untag().raw_path),
            "/tags/arn%253Aaws%253Aivs%253Aus-east-1%253A123456789012%253Astage%252FAbCdEf123456");
  EXPECT_EQ(CanonicalQuery(Untag().raw_query), "tagKeys=a%20c&tagKeys=b");
}

TEST(SigV4, VerifiesBotocoreRequests) {
  EXPECT_TRUE(VerifyFixture(ListStages()).ok()) << VerifyFixture(ListStages()).message;
  EXPECT_TRUE(VerifyFixture(Untag()).ok()) << VerifyFixture(Untag()).message;
}

TEST(SigV4, VerifiesWithSessionToken) {
  SigV4Result r = VerifyFixture(GetStageWithToken());
  EXPECT_TRUE(r.ok()) << r.message;
  Fixture changed = GetStageWithToken();
  changed.Set("x-amz-security-token", "AnotherToken");
  EXPECT_EQ(VerifyFixture(changed).error, SigV4Error::kMismatch);
}

TEST(SigV4, UnsignedSessionTokenIsRefused) {
  Fixture f = ListStages();
  f.Set("x-amz-security-token", "FQoGZXIvYXdzEXAMPLETOKEN");
  EXPECT_EQ(VerifyFixture(f).error, SigV4Error::kIncomplete);
}

TEST(SigV4, CanonicalFormsNormalize) {
  EXPECT_EQ(CanonicalUri(""), "/");
  EXPECT_EQ(CanonicalUri("/a//b/./c/../d/"), "/a/b/d/");
  EXPECT_EQ(CanonicalUri("/a b~"), "/a%20b~");
  EXPECT_EQ(CanonicalQuery("b=2&a=1&a=0&c"), "a=0&a=1&b=2&c=");
  EXPECT_EQ(CanonicalQuery("k=%7e%2F"), "k=~%2F");
  EXPECT_EQ(CanonicalHeaderValue("  a   b\t c  "), "a b c");
}

TEST(SigV4, TamperedBodyIsRefused) {
  Fixture f = ListStages();
  f.body = R"({"maxResults": 11})";
  EXPECT_EQ(VerifyFixture(f).error, SigV4Error::kMismatch);
}

TEST(SigV4, TamperedSignedHeaderIsRefused) {
  Fixture f = ListStages();
  f.Set("content-type", "application/x-amz-json-1.1");
  EXPECT_EQ(VerifyFixture(f).error, SigV4Error::kMismatch);
  Fixture host = ListStages();
  host.Set("host", "127.0.0.1:8081");
  EXPECT_EQ(VerifyFixture(host).error, SigV4Error::kMismatch);
}

TEST(SigV4, UnsignedHeadersMayChange) {
  Fixture f = ListStages();
  f.Set("user-agent", "anything");
  f.Set("x-custom", "value");
  EXPECT_TRUE(VerifyFixture(f).ok());
}

TEST(SigV4, TamperedPathOrQueryIsRefused) {
  Fixture f = ListStages();
  f.raw_path = "/ListStageSessions";
  EXPECT_EQ(VerifyFixture(f).error, SigV4Error::kMismatch);
  Fixture q = Untag();
  q.raw_query = "tagKeys=b";
  EXPECT_EQ(VerifyFixture(q).error, SigV4Error::kMismatch);
}

TEST(SigV4, TamperedSignatureIsRefused) {
  Fixture f = ListStages();
  std::string auth = f.Authorization();
  auth.back() = auth.back() == '8' ? '9' : '8';
  f.Set("authorization", auth);
  EXPECT_EQ(VerifyFixture(f).error, SigV4Error::kMismatch);
}

TEST(SigV4, WrongSecretIsRefused) {
  EXPECT_EQ(VerifyFixture(ListStages(), kSignedAt, "another-secret").error, SigV4Error::kMismatch);
}

TEST(SigV4, WrongServiceIsRefused) {
  Fixture f = ListStages();
  std::string auth = f.Authorization();
  auth.replace(auth.find("/ivs/"), 5, "/ivsrealtime/");
  f.Set("authorization", auth);
  SigV4Result r = VerifyFixture(f);
  EXPECT_EQ(r.error, SigV4Error::kMismatch);
  EXPECT_NE(r.message.find("'ivs'"), std::string::npos);
}

TEST(SigV4, SkewOfFifteenMinutesIsTheLimit) {
  constexpr Millis kMinute = 60 * 1000;
  EXPECT_TRUE(VerifyFixture(ListStages(), kSignedAt + 15 * kMinute).ok());
  EXPECT_TRUE(VerifyFixture(ListStages(), kSignedAt - 15 * kMinute).ok());
  SigV4Result late = VerifyFixture(ListStages(), kSignedAt + 15 * kMinute + 1);
  EXPECT_EQ(late.error, SigV4Error::kExpired);
  EXPECT_NE(late.message.find("Signature expired"), std::string::npos);
  EXPECT_EQ(VerifyFixture(ListStages(), kSignedAt - 15 * kMinute - 1).error, SigV4Error::kExpired);
}

TEST(SigV4, ScopeDateMustMatchXAmzDate) {
  Fixture f = ListStages();
  std::string auth = f.Authorization();
  auth.replace(auth.find("/20261121/"), 10, "/20261122/");
  f.Set("authorization", auth);
  EXPECT_EQ(VerifyFixture(f).error, SigV4Error::kMismatch);
}

TEST(SigV4, SignedPayloadHash) {
  Fixture f = ListStages();
  // Signing over x-amz-content-sha256 = UNSIGNED-PAYLOAD: a body change is then not detected.
  f.Set("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
  Authorization auth;
  ASSERT_TRUE(ParseAuthorization(f.Authorization(), &auth).ok());
  auth.signed_headers = {"content-type", "host", "x-amz-content-sha256", "x-amz-date"};
  const std::string canonical = CanonicalRequest(f.View(), auth.signed_headers, "UNSIGNED-PAYLOAD");
  auth.signature = Signature(SigningKey(kSecret, "20261121", "us-east-1", "ivs"),
                             StringToSign("20261121T234220Z", auth.scope(), canonical));
  EXPECT_TRUE(Verify(f.View(), auth, kSecret, kSignedAt).ok());
  // A signed hash that is not the body's: refused.
  f.Set("x-amz-content-sha256", std::string(64, 'a'));
  EXPECT_EQ(Verify(f.View(), auth, kSecret, kSignedAt).error, SigV4Error::kMismatch);
}

TEST(SigV4, MalformedAuthorizationIsIncomplete) {
  Authorization auth;
  EXPECT_EQ(ParseAuthorization("Bearer abc", &auth).error, SigV4Error::kIncomplete);
  EXPECT_EQ(
      ParseAuthorization("AWS4-HMAC-SHA256 Credential=A/20261121/us-east-1/ivs/aws4_request", &auth)
          .error,
      SigV4Error::kIncomplete);
  EXPECT_EQ(ParseAuthorization("AWS4-HMAC-SHA256 Credential=A/2026/us-east-1/ivs/aws4_request, "
                               "SignedHeaders=host;x-amz-date, Signature=" +
                                   std::string(64, '0'),
                               &auth)
                .error,
            SigV4Error::kIncomplete);
  EXPECT_EQ(ParseAuthorization("AWS4-HMAC-SHA256 Credential=A/20261121/us-east-1/ivs/aws4_request, "
                               "SignedHeaders=Host;x-amz-date, Signature=" +
                                   std::string(64, '0'),
                               &auth)
                .error,
            SigV4Error::kIncomplete);
  EXPECT_EQ(ParseAuthorization("AWS4-HMAC-SHA256 Credential=A/20261121/us-east-1/ivs/aws4_request, "
                               "SignedHeaders=host;x-amz-date, Signature=xyz",
                               &auth)
                .error,
            SigV4Error::kIncomplete);
  ASSERT_TRUE(ParseAuthorization(ListStages().Authorization(), &auth).ok());
  EXPECT_EQ(auth.access_key_id, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(auth.region, "us-east-1");
  EXPECT_EQ(auth.service, "ivs");
}

TEST(SigV4, AuthenticateLooksTheKeyUp) {
  auto known = [](const std::string& id) -> std::optional<std::string> {
    if (id == "AKIAIOSFODNN7EXAMPLE") return std::string(kSecret);
    return std::nullopt;
  };
  std::string key;
  Fixture f = ListStages();
  EXPECT_TRUE(Authenticate(f.View(), known, kSignedAt, &key).ok());
  EXPECT_EQ(key, "AKIAIOSFODNN7EXAMPLE");

  auto unknown = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  SigV4Result r = Authenticate(f.View(), unknown, kSignedAt, &key);
  EXPECT_EQ(r.error, SigV4Error::kUnknownKey);
  EXPECT_EQ(r.message, "The security token included in the request is invalid.");

  Fixture anonymous = ListStages();
  anonymous.headers.pop_back();  // the Authorization header
  EXPECT_EQ(Authenticate(anonymous.View(), known, kSignedAt, &key).error, SigV4Error::kMissing);
}

TEST(SigV4, HostAndDateMustBeSigned) {
  Fixture f = ListStages();
  Authorization auth;
  ASSERT_TRUE(ParseAuthorization(f.Authorization(), &auth).ok());
  auth.signed_headers = {"content-type", "x-amz-date"};
  EXPECT_EQ(Verify(f.View(), auth, kSecret, kSignedAt).error, SigV4Error::kIncomplete);
  auth.signed_headers = {"content-type", "host"};
  EXPECT_EQ(Verify(f.View(), auth, kSecret, kSignedAt).error, SigV4Error::kIncomplete);
  auth.signed_headers = {"content-type", "host", "x-amz-date", "x-missing"};
  EXPECT_EQ(Verify(f.View(), auth, kSecret, kSignedAt).error, SigV4Error::kIncomplete);
}

}  // namespace
}  // namespace rollcall::ivs
