// libFuzzer target: SigV4 authentication of the IVS face. The input is taken two ways:
// - as an Authorization header value, run through ParseAuthorization and Authenticate over a
//   fixed request; it must never authenticate (its signature would have to be a preimage);
// - split at NUL bytes into path, query, body and X-Amz-Date, signed with the functions of
//   ivs/sigv4.h as a client would sign it; that request must authenticate, and with one
//   signature digit changed it must not.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.h"
#include "core/time.h"
#include "ivs/sigv4.h"

namespace {

using rollcall::ivs::Authorization;
using rollcall::ivs::Headers;
using rollcall::ivs::SignedRequest;
using rollcall::ivs::SigV4Result;

constexpr char kKeyId[] = "AKIAFUZZFUZZFUZZFUZZ";
constexpr char kSecret[] = "fuzzsecretfuzzsecretfuzzsecretfuzzsecret";
constexpr rollcall::Millis kNow = 1794988800000;  // 2026-11-18T08:00:00Z, as in X-Amz-Date

void Fail(const char* what) {
  std::fprintf(stderr, "sigv4_fuzzer: %s\n", what);
  std::abort();
}

std::optional<std::string> Lookup(const std::string& id) {
  if (id == kKeyId) return std::string(kSecret);
  return std::nullopt;
}

std::vector<std::string_view> Split(std::string_view s, size_t n) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < n) {
    const size_t nul = s.find('\0');
    if (nul == std::string_view::npos) break;
    parts.push_back(s.substr(0, nul));
    s.remove_prefix(nul + 1);
  }
  parts.push_back(s);
  while (parts.size() < n) parts.emplace_back();
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace sigv4 = rollcall::ivs;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string amz_date = "20261118T080000Z";
  std::string access_key_id;

  // The input as a header value.
  Authorization parsed;
  sigv4::ParseAuthorization(input, &parsed);
  Headers headers{{"host", "127.0.0.1:8080"},
                  {"x-amz-date", amz_date},
                  {"content-type", "application/x-amz-json-1.1"},
                  {"authorization", std::string(input)}};
  SignedRequest fixed{"POST", "/ListStages", "", &headers, "{}"};
  SigV4Result r = sigv4::Authenticate(fixed, Lookup, kNow, &access_key_id);
  if (r.ok()) Fail("an arbitrary Authorization header authenticated");

  // The input as a request, signed properly.
  std::vector<std::string_view> p = Split(input, 3);
  const std::string path = "/" + std::string(p[0]);
  const std::string_view query = p[1], body = p[2];
  Headers signed_headers{{"host", "127.0.0.1:8080"}, {"x-amz-date", amz_date}};
  const std::vector<std::string> names{"host", "x-amz-date"};
  SignedRequest req{"POST", path, query, &signed_headers, body};
  const std::string scope = "20261118/us-east-1/ivs/aws4_request";
  const std::string canonical =
      sigv4::CanonicalRequest(req, names, rollcall::HexEncode(rollcall::Sha256(body)));
  const std::string signature =
      sigv4::Signature(sigv4::SigningKey(kSecret, "20261118", "us-east-1", "ivs"),
                       sigv4::StringToSign(amz_date, scope, canonical));
  const std::string header = std::string("AWS4-HMAC-SHA256 Credential=") + kKeyId + "/" + scope +
                             ", SignedHeaders=host;x-amz-date, Signature=";
  signed_headers.emplace_back("authorization", header + signature);
  r = sigv4::Authenticate(req, Lookup, kNow, &access_key_id);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.message.c_str());
    Fail("a properly signed request did not authenticate");
  }
  if (access_key_id != kKeyId) Fail("the authenticated access key id is wrong");
  std::string wrong = signature;
  wrong[size % wrong.size()] = wrong[size % wrong.size()] == '0' ? '1' : '0';
  signed_headers.back().second = header + wrong;
  if (sigv4::Authenticate(req, Lookup, kNow, &access_key_id).ok()) {
    Fail("a request with a changed signature authenticated");
  }
  return 0;
}
