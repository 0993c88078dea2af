#include "core/ids.h"

#include <cctype>

#include "core/crypto.h"

namespace rollcall {
namespace {

std::string RandomFrom(std::string_view alphabet, size_t n) {
  // Rejection sampling keeps every character equally likely.
  const unsigned limit = 256 - 256 % alphabet.size();
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    for (unsigned char b : RandomBytes(n)) {
      if (b < limit && out.size() < n) out.push_back(alphabet[b % alphabet.size()]);
    }
  }
  return out;
}

constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

}  // namespace

std::string NewUuid() {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char b[16];
  RandomFill(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  std::string out(36, '-');
  size_t o = 0;
  for (int i = 0; i < 16; ++i) {
    if (o == 8 || o == 13 || o == 18 || o == 23) ++o;
    out[o++] = kHex[b[i] >> 4];
    out[o++] = kHex[b[i] & 15];
  }
  return out;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

std::string CanonicalUuid(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string RandomAlnum(size_t n) { return RandomFrom(kAlnum, n); }
std::string NewStageId() { return RandomAlnum(12); }
std::string NewStageSessionId() { return "st-" + RandomAlnum(13); }
std::string NewAccountId() { return RandomFrom("123456789", 1) + RandomFrom("0123456789", 11); }
std::string NewAccessKeyId() { return "AKIA" + RandomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16); }
std::string NewSecretAccessKey() { return RandomFrom(std::string(kAlnum) + "+/", 40); }
std::string NewAdminToken() { return "rca_" + RandomFrom(std::string(kAlnum) + "-_", 43); }

std::string StageArn(std::string_view region, std::string_view account, std::string_view stage_id) {
  return "arn:aws:ivs:" + std::string(region) + ":" + std::string(account) + ":stage/" +
         std::string(stage_id);
}

std::string IvsParticipantIdFor(std::string_view id) {
  bool fits = !id.empty() && id.size() <= 64;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') fits = false;
  }
  if (fits) return std::string(id);
  return "h-" + HexEncode(Sha256(id)).substr(0, 40);
}

}  // namespace rollcall
