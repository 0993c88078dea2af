#ifndef ROLLCALL_CORE_TIME_H_
#define ROLLCALL_CORE_TIME_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rollcall {

// Milliseconds since the Unix epoch, UTC. Every stored time has this resolution.
using Millis = int64_t;

// The instants RFC 3339 can write: 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
inline constexpr Millis kMinTimestamp = -62167219200000;
inline constexpr Millis kMaxTimestamp = 253402300799999;

// Parses an RFC 3339 / ISO 8601 date-time: YYYY-MM-DD('T'|'t')hh:mm:ss, an optional
// fraction of 1..9 digits (truncated to milliseconds), and an optional offset 'Z', 'z',
// '+hh:mm' or '-hh:mm'. Without an offset the time is UTC.
// Returns nullopt for anything else (date only, out-of-range fields, trailing text, an
// instant outside kMinTimestamp..kMaxTimestamp once the offset is applied).
std::optional<Millis> ParseTimestamp(std::string_view text);

// Formats as RFC 3339 UTC with milliseconds: "2026-11-21T23:42:20.123Z".
std::string FormatTimestamp(Millis t);

// The longest text FormatTimestampTo writes (instants beyond kMinTimestamp..kMaxTimestamp
// have wider years).
inline constexpr size_t kMaxTimestampLength = 40;

// Writes FormatTimestamp(t) to buf (not NUL-terminated) and returns its length.
// REQUIRES: buf has room for kMaxTimestampLength characters.
size_t FormatTimestampTo(Millis t, char* buf);

// Source of "now". Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis Now() = 0;
};

// The system's real-time clock.
class SystemClock final : public Clock {
 public:
  Millis Now() override;
};

// A clock tests set by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start) : now_(start) {}
  Millis Now() override { return now_.load(); }
  void Set(Millis t) { now_.store(t); }
  void Advance(Millis d) { now_.fetch_add(d); }

 private:
  std::atomic<Millis> now_;
};

}  // namespace rollcall

#endif  // ROLLCALL_CORE_TIME_H_
