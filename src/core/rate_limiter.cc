#include "core/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace rollcall {

std::string ApiKeyCredential(std::string_view application_uuid) {
  return "apikey:" + std::string(application_uuid);
}

std::string AdminCredential(std::string_view account_id) {
  return "admin:" + std::string(account_id);
}

std::string AccessKeyCredential(std::string_view access_key_id) {
  return "access:" + std::string(access_key_id);
}

std::string ParticipantTokenCredential(int64_t tenant_id, std::string_view participant_id) {
  return "token:" + std::to_string(tenant_id) + ":" + std::string(participant_id);
}

RateLimiter::RateLimiter(RateLimit limit, Clock* clock)
    : per_second_(limit.per_second),
      burst_(limit.burst > 0 ? limit.burst : std::max(1.0, limit.per_second)),
      clock_(*clock) {}

double RateLimiter::Refilled(const Bucket& b, Millis now) const {
  const Millis elapsed = std::max<Millis>(0, now - b.updated);
  return std::min(burst_, b.tokens + static_cast<double>(elapsed) * per_second_ / 1000.0);
}

void RateLimiter::Sweep(Shard& shard, Millis now) {
  if (now - shard.last_sweep < 1000) return;
  shard.last_sweep = now;
  std::erase_if(shard.buckets, [&](const auto& kv) { return Refilled(kv.second, now) >= burst_; });
}

Status RateLimiter::Admit(std::string_view credential) {
  if (!enabled()) return Status::Ok();
  const Millis now = clock_.Now();
  Shard& shard = shards_[std::hash<std::string_view>()(credential) % kShards];
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.buckets.find(std::string(credential));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= kSweepAbove) Sweep(shard, now);
    it = shard.buckets.emplace(std::string(credential), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  b.tokens = Refilled(b, now);
  b.updated = std::max(b.updated, now);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return Status::Ok();
  }
  const auto wait = static_cast<int64_t>(std::ceil((1.0 - b.tokens) * 1000.0 / per_second_));
  return Status(Code::kRateLimited, "rate limit exceeded for this credential; retry later",
                std::max<int64_t>(1, wait));
}

size_t RateLimiter::BucketCount() {
  size_t n = 0;
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace rollcall
