#ifndef ROLLCALL_IVS_SIGV4_H_
#define ROLLCALL_IVS_SIGV4_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"

namespace rollcall::ivs {

// AWS Signature Version 4 verification, as the IVS face needs it (header auth, service "ivs").
// Pure functions over the request's bytes; thread-safe.

using Headers = std::vector<std::pair<std::string, std::string>>;  // names lower-cased

// The request as SigV4 sees it.
struct SignedRequest {
  std::string_view method;
  std::string_view raw_path;   // as sent, percent-encoded
  std::string_view raw_query;  // as sent, without '?'
  const Headers* headers = nullptr;
  std::string_view body;
};

// The parts of "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=a;b;c, Signature=hex".
struct Authorization {
  std::string access_key_id;
  std::string date;  // yyyymmdd of the credential scope
  std::string region;
  std::string service;
  std::string terminator;
  std::vector<std::string> signed_headers;  // as listed
  std::string signature;                    // lower-case hex
  std::string scope() const { return date + "/" + region + "/" + service + "/" + terminator; }
};

enum class SigV4Error {
  kNone,
  kMissing,     // no Authorization header
  kIncomplete,  // the header or a signed header is malformed or missing
  kUnknownKey,  // the access key id is not known
  kMismatch,    // the signature (or the signed payload hash) does not match
  kExpired,     // X-Amz-Date more than 15 minutes from now
};

struct SigV4Result {
  SigV4Error error = SigV4Error::kNone;
  std::string message;
  bool ok() const { return error == SigV4Error::kNone; }
};

constexpr std::string_view kSigningService = "ivs";
constexpr Millis kMaxSkew = 15 * 60 * 1000;
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// Parses the Authorization header value into *out.
SigV4Result ParseAuthorization(std::string_view header, Authorization* out);

// The canonical URI: the raw path with dot segments and empty segments removed, every byte
// but [A-Za-z0-9-._~/] percent-encoded (so the raw path is encoded once more).
std::string CanonicalUri(std::string_view raw_path);
// The canonical query: pairs percent-decoded, re-encoded strictly, sorted by key then value.
std::string CanonicalQuery(std::string_view raw_query);
// A header value trimmed, inner runs of whitespace collapsed to one space.
std::string CanonicalHeaderValue(std::string_view value);
// The canonical request over the listed headers (values of repeated headers joined by ',').
// A listed header the request lacks contributes an empty value.
std::string CanonicalRequest(const SignedRequest& req,
                             const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// HMAC chain from "AWS4"+secret over date, region, service, "aws4_request".
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);
// Lower-case hex HMAC-SHA256 of string_to_sign under the signing key.
std::string Signature(std::string_view signing_key, std::string_view string_to_sign);

// Verifies a request whose Authorization parsed into `auth` against the key's secret at `now`:
// service "ivs", terminator "aws4_request", signed host and x-amz-date, X-Amz-Date within
// kMaxSkew of now and on the scope's date, x-amz-security-token signed when present, a
// signed x-amz-content-sha256 equal to the body's hash or UNSIGNED-PAYLOAD, and the signature
// (compared in constant time). Any region is accepted.
SigV4Result Verify(const SignedRequest& req, const Authorization& auth, std::string_view secret,
                   Millis now);

// The secret access key of an access key id; nullopt when the id is unknown.
using SecretLookup = std::function<std::optional<std::string>(const std::string& access_key_id)>;

// Authenticates a request: its Authorization header (kMissing without one), the secret of its
// access key id (kUnknownKey), then Verify(). On success *access_key_id is the key's id.
SigV4Result Authenticate(const SignedRequest& req, const SecretLookup& lookup, Millis now,
                         std::string* access_key_id);

}  // namespace rollcall::ivs

#endif  // ROLLCALL_IVS_SIGV4_H_
