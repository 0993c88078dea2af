// libFuzzer target: nextToken pagination cursors (ivs/cursor.h). The input as a token is
// opened for a fixed tenant and context (nothing made by anyone without the key opens, so
// this must fail); the input as a position must survive SealCursor -> OpenCursor, give a
// token of the model's alphabet [a-zA-Z0-9+/=_-], and not open for another context or tenant.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "ivs/cursor.h"

namespace {

constexpr char kSecret[] = "fuzz-tenant-secret-0123456789abcdef";
constexpr char kContext[] = "ListParticipants:stage:st-AbCdEfGh12345";

void Fail(const char* what) {
  std::fprintf(stderr, "cursor_fuzzer: %s\n", what);
  std::abort();
}

bool InAlphabet(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=' || c == '_' || c == '-';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ivs = rollcall::ivs;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (ivs::OpenCursor(kSecret, kContext, input)) Fail("an unsealed token opened");

  const std::string token = ivs::SealCursor(kSecret, kContext, input);
  for (char c : token) {
    if (!InAlphabet(c)) Fail("a token has a character outside the model's pattern");
  }
  std::optional<std::string> back = ivs::OpenCursor(kSecret, kContext, token);
  if (!back || *back != input) Fail("a sealed position does not open to itself");
  if (ivs::OpenCursor(kSecret, "ListStages:", token)) Fail("a token opened in another context");
  if (ivs::OpenCursor("another-tenant-secret", kContext, token)) {
    Fail("a token opened for another tenant");
  }
  return 0;
}
