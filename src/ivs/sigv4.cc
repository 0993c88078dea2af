#include "ivs/sigv4.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/crypto.h"

namespace rollcall::ivs {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool Unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
}

std::string Encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX sequences; a '%' not followed by two hex digits stays as it is.
std::string Decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// RFC 3986 remove_dot_segments, with empty segments dropped, as botocore normalizes.
std::string NormalizePath(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    start = end + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(segments[i]);
  }
  if (path.back() == '/' && !segments.empty()) out.push_back('/');
  return out;
}

// "20260102T030405Z" -> milliseconds.
std::optional<Millis> ParseAmzDate(std::string_view d) {
  if (d.size() != 16 || d[8] != 'T' || d[15] != 'Z') return std::nullopt;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && !std::isdigit(static_cast<unsigned char>(d[i]))) return std::nullopt;
  }
  std::string iso = std::string(d.substr(0, 4)) + "-" + std::string(d.substr(4, 2)) + "-" +
                    std::string(d.substr(6, 2)) + "T" + std::string(d.substr(9, 2)) + ":" +
                    std::string(d.substr(11, 2)) + ":" + std::string(d.substr(13, 2)) + "Z";
  return ParseTimestamp(iso);
}

std::string AmzDate(Millis t) {
  std::string iso = FormatTimestamp(t);  // 2026-01-02T03:04:05.678Z
  std::string out;
  for (char c : iso.substr(0, 19)) {
    if (c != '-' && c != ':') out.push_back(c);
  }
  return out + "Z";
}

const std::string* FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

bool Listed(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

SigV4Result Fail(SigV4Error e, std::string message) { return SigV4Result{e, std::move(message)}; }

}  // namespace

SigV4Result ParseAuthorization(std::string_view header, Authorization* out) {
  constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
  header = Trim(header);
  if (header.substr(0, kAlgorithm.size()) != kAlgorithm || header.size() == kAlgorithm.size() ||
      header[kAlgorithm.size()] != ' ') {
    return Fail(SigV4Error::kIncomplete,
                "Authorization header must use the AWS4-HMAC-SHA256 algorithm");
  }
  header.remove_prefix(kAlgorithm.size());
  std::optional<std::string_view> credential, signed_headers, signature;
  size_t start = 0;
  while (start <= header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view part = Trim(header.substr(start, end - start));
    const size_t eq = part.find('=');
    if (eq != std::string_view::npos) {
      std::string_view key = part.substr(0, eq);
      std::string_view value = part.substr(eq + 1);
      if (key == "Credential") credential = value;
      if (key == "SignedHeaders") signed_headers = value;
      if (key == "Signature") signature = value;
    }
    start = end + 1;
  }
  if (!credential || !signed_headers || !signature) {
    return Fail(SigV4Error::kIncomplete,
                "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
                "parameters");
  }
  std::vector<std::string_view> scope;
  size_t s = 0;
  while (s <= credential->size()) {
    size_t e = credential->find('/', s);
    if (e == std::string_view::npos) e = credential->size();
    scope.push_back(credential->substr(s, e - s));
    s = e + 1;
  }
  if (scope.size() != 5 || scope[0].empty() || scope[1].size() != 8 || scope[2].empty() ||
      scope[3].empty() || scope[4].empty()) {
    return Fail(SigV4Error::kIncomplete,
                "Credential must have the form ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request");
  }
  out->access_key_id = std::string(scope[0]);
  out->date = std::string(scope[1]);
  out->region = std::string(scope[2]);
  out->service = std::string(scope[3]);
  out->terminator = std::string(scope[4]);
  out->signed_headers.clear();
  size_t h = 0;
  while (h <= signed_headers->size()) {
    size_t e = signed_headers->find(';', h);
    if (e == std::string_view::npos) e = signed_headers->size();
    std::string name(signed_headers->substr(h, e - h));
    if (name.empty() || std::any_of(name.begin(), name.end(), [](unsigned char c) {
          return std::isupper(c) != 0 || std::isspace(c) != 0;
        })) {
      return Fail(SigV4Error::kIncomplete, "SignedHeaders must be lower-case names joined by ';'");
    }
    out->signed_headers.push_back(std::move(name));
    h = e + 1;
  }
  if (signature->size() != 64 ||
      !std::all_of(signature->begin(), signature->end(), [](char c) { return HexValue(c) >= 0; })) {
    return Fail(SigV4Error::kIncomplete, "Signature must be 64 hexadecimal digits");
  }
  out->signature = std::string(*signature);
  for (char& c : out->signature) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return SigV4Result{};
}

std::string CanonicalUri(std::string_view raw_path) {
  return Encode(NormalizePath(raw_path), true);
}

std::string CanonicalQuery(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start < raw_query.size()) {
    size_t end = raw_query.find('&', start);
    if (end == std::string_view::npos) end = raw_query.size();
    std::string_view pair = raw_query.substr(start, end - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      std::string_view key = pair.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
      pairs.emplace_back(Encode(Decode(key), false), Encode(Decode(value), false));
    }
    start = end + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out.push_back('&');
    out.append(k).append("=").append(v);
  }
  return out;
}

std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string CanonicalRequest(const SignedRequest& req,
                             const std::vector<std::string>& signed_headers,
                             std::string_view payload_hash) {
  std::string out(req.method);
  out.push_back('\n');
  out.append(CanonicalUri(req.raw_path)).push_back('\n');
  out.append(CanonicalQuery(req.raw_query)).push_back('\n');
  std::string names;
  for (const std::string& name : signed_headers) {
    std::string value;
    bool first = true;
    for (const auto& [k, v] : *req.headers) {
      if (k != name) continue;
      if (!first) value.push_back(',');
      value.append(CanonicalHeaderValue(v));
      first = false;
    }
    out.append(name).append(":").append(value).push_back('\n');
    if (!names.empty()) names.push_back(';');
    names.append(name);
  }
  out.push_back('\n');
  out.append(names).push_back('\n');
  out.append(payload_hash);
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out = "AWS4-HMAC-SHA256\n";
  out.append(amz_date).append("\n").append(scope).append("\n");
  out.append(HexEncode(Sha256(canonical_request)));
  return out;
}

std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  std::string k = HmacSha256("AWS4" + std::string(secret), date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  return HmacSha256(k, "aws4_request");
}

std::string Signature(std::string_view signing_key, std::string_view string_to_sign) {
  return HexEncode(HmacSha256(signing_key, string_to_sign));
}

SigV4Result Verify(const SignedRequest& req, const Authorization& auth, std::string_view secret,
                   Millis now) {
  if (auth.service != kSigningService) {
    return Fail(SigV4Error::kMismatch, "Credential should be scoped to correct service: 'ivs'.");
  }
  if (auth.terminator != "aws4_request") {
    return Fail(SigV4Error::kMismatch,
                "Credential should be scoped with a valid terminator: 'aws4_request'.");
  }
  if (!Listed(auth.signed_headers, "host")) {
    return Fail(SigV4Error::kIncomplete, "SignedHeaders must include 'host'");
  }
  if (!Listed(auth.signed_headers, "x-amz-date")) {
    return Fail(SigV4Error::kIncomplete, "SignedHeaders must include 'x-amz-date'");
  }
  for (const std::string& name : auth.signed_headers) {
    if (FindHeader(*req.headers, name) == nullptr) {
      return Fail(SigV4Error::kIncomplete, "signed header '" + name + "' is missing");
    }
  }
  if (FindHeader(*req.headers, "x-amz-security-token") != nullptr &&
      !Listed(auth.signed_headers, "x-amz-security-token")) {
    return Fail(SigV4Error::kIncomplete, "X-Amz-Security-Token must be a signed header");
  }
  const std::string& amz_date = *FindHeader(*req.headers, "x-amz-date");
  std::optional<Millis> when = ParseAmzDate(amz_date);
  if (!when) {
    return Fail(SigV4Error::kIncomplete, "X-Amz-Date must have the form YYYYMMDD'T'HHMMSS'Z'");
  }
  if (*when < now - kMaxSkew) {
    return Fail(SigV4Error::kExpired, "Signature expired: " + amz_date + " is now earlier than " +
                                          AmzDate(now - kMaxSkew) + " (" + AmzDate(now) +
                                          " - 15 min.)");
  }
  if (*when > now + kMaxSkew) {
    return Fail(SigV4Error::kExpired, "Signature not yet current: " + amz_date +
                                          " is still later than " + AmzDate(now + kMaxSkew) + " (" +
                                          AmzDate(now) + " + 15 min.)");
  }
  if (amz_date.compare(0, 8, auth.date) != 0) {
    return Fail(SigV4Error::kMismatch,
                "Date in Credential scope does not match YYYYMMDD from X-Amz-Date");
  }
  const std::string body_hash = HexEncode(Sha256(req.body));
  std::string payload_hash = body_hash;
  if (Listed(auth.signed_headers, "x-amz-content-sha256")) {
    payload_hash = *FindHeader(*req.headers, "x-amz-content-sha256");
    if (payload_hash != kUnsignedPayload && payload_hash != body_hash) {
      return Fail(SigV4Error::kMismatch,
                  "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
  }
  const std::string canonical = CanonicalRequest(req, auth.signed_headers, payload_hash);
  const std::string expected = Signature(SigningKey(secret, auth.date, auth.region, auth.service),
                                         StringToSign(amz_date, auth.scope(), canonical));
  if (!ConstantTimeEquals(expected, auth.signature)) {
    return Fail(SigV4Error::kMismatch,
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.");
  }
  return SigV4Result{};
}

SigV4Result Authenticate(const SignedRequest& req, const SecretLookup& lookup, Millis now,
                         std::string* access_key_id) {
  const std::string* header = FindHeader(*req.headers, "authorization");
  if (header == nullptr) return Fail(SigV4Error::kMissing, "Missing Authentication Token");
  Authorization auth;
  SigV4Result parsed = ParseAuthorization(*header, &auth);
  if (!parsed.ok()) return parsed;
  std::optional<std::string> secret = lookup(auth.access_key_id);
  if (!secret) {
    return Fail(SigV4Error::kUnknownKey, "The security token included in the request is invalid.");
  }
  SigV4Result verified = Verify(req, auth, *secret, now);
  if (verified.ok()) *access_key_id = auth.access_key_id;
  return verified;
}

}  // namespace rollcall::ivs
