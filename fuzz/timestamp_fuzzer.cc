// libFuzzer target: the timestamp parser every date filter goes through. Beyond the
// sanitizers it checks the round trip: whatever ParseTimestamp accepts, FormatTimestamp
// writes so that ParseTimestamp reads back the same instant; and every instant of years
// 0000..9999 formats to text that parses back to it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/time.h"

namespace {

void Fail(const char* what, std::string_view text, rollcall::Millis t) {
  std::fprintf(stderr, "timestamp_fuzzer: %s: '%.*s' (%lld)\n", what, static_cast<int>(text.size()),
               text.data(), static_cast<long long>(t));
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using rollcall::Millis;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (std::optional<Millis> t = rollcall::ParseTimestamp(text)) {
    const std::string formatted = rollcall::FormatTimestamp(*t);
    const std::optional<Millis> again = rollcall::ParseTimestamp(formatted);
    if (!again || *again != *t) Fail("the formatted instant does not parse back", formatted, *t);
  }
  if (size >= 8) {
    using rollcall::kMaxTimestamp, rollcall::kMinTimestamp;
    uint64_t raw;
    std::memcpy(&raw, data, sizeof raw);
    const Millis t =
        kMinTimestamp +
        static_cast<Millis>(raw % static_cast<uint64_t>(kMaxTimestamp - kMinTimestamp + 1));
    const std::string formatted = rollcall::FormatTimestamp(t);
    const std::optional<Millis> back = rollcall::ParseTimestamp(formatted);
    if (!back || *back != t) Fail("a formatted instant does not parse back", formatted, t);
  }
  return 0;
}
