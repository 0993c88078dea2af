#ifndef ROLLCALL_CORE_RATE_LIMITER_H_
#define ROLLCALL_CORE_RATE_LIMITER_H_

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "core/time.h"

namespace rollcall {

struct RateLimit {
  double per_second = 0;  // sustained requests per second per credential; <= 0: unlimited
  double burst = 0;       // requests a rested credential may send at once; <= 0: per_second
};

// The credential a request was authenticated with, as the rate limiter keys it. Every face
// names its credentials through these so one credential has one bucket.
std::string ApiKeyCredential(std::string_view application_uuid);
std::string AdminCredential(std::string_view account_id);
std::string AccessKeyCredential(std::string_view access_key_id);
// A participant token, named by its tenant and participant id (unique per token).
std::string ParticipantTokenCredential(int64_t tenant_id, std::string_view participant_id);

// Token buckets, one per credential: a bucket holds up to `burst` tokens, refills at
// `per_second`, and every admitted request takes one. Credentials never contend with each
// other beyond a short critical section of their shard, so one tenant's flood does not
// slow another. Memory: one small entry per credential seen recently; full buckets are
// dropped as the map grows. Thread-safe.
class RateLimiter {
 public:
  // REQUIRES: clock outlives the limiter.
  RateLimiter(RateLimit limit, Clock* clock);

  bool enabled() const { return per_second_ > 0; }

  // Takes a token for `credential`. OK when there was one; otherwise kRateLimited with
  // retry_after_ms = the time until the next token (at least 1), and nothing is taken.
  // Always OK when the limiter is disabled.
  Status Admit(std::string_view credential);

  // Number of credentials with a bucket (for tests and metrics).
  size_t BucketCount();

 private:
  struct Bucket {
    double tokens = 0;
    Millis updated = 0;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
    Millis last_sweep = 0;
  };
  static constexpr size_t kShards = 16;
  static constexpr size_t kSweepAbove = 4096;  // per shard

  // Drops the buckets of `shard` that are full at `now` (they behave like new ones), at most
  // once a second. REQUIRES: shard.mu held.
  void Sweep(Shard& shard, Millis now);
  double Refilled(const Bucket& b, Millis now) const;

  const double per_second_;
  const double burst_;
  Clock& clock_;
  std::array<Shard, kShards> shards_;
};

}  // namespace rollcall

#endif  // ROLLCALL_CORE_RATE_LIMITER_H_
