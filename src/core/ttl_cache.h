#ifndef ROLLCALL_CORE_TTL_CACHE_H_
#define ROLLCALL_CORE_TTL_CACHE_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace rollcall {

// A bounded map from strings to values that answer for at most `ttl` after they were read
// from the store, and not at all after Invalidate(). It keeps credential lookups (ApiKey ->
// application, access key -> tenant) off the store on every request: this process drops
// them when it changes what they depend on; a change made by another process sharing the
// database is seen within `ttl`.
//
// A value read from the store may be stale by the time it is put: a reader takes
// generation() before it reads, and Put ignores the value when Invalidate() ran since.
// Thread-safe.
template <typename V>
class TtlCache {
 public:
  using Clock = std::chrono::steady_clock;

  // REQUIRES: capacity > 0.
  TtlCache(std::chrono::milliseconds ttl, size_t capacity) : ttl_(ttl), capacity_(capacity) {}

  // The value under key; nullopt when absent, expired or invalidated.
  std::optional<V> Get(const std::string& key) const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.generation != generation_ ||
        Clock::now() >= it->second.expires) {
      return std::nullopt;
    }
    return it->second.value;
  }

  // Read before reading the value that will be Put.
  uint64_t generation() const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    return generation_;
  }

  // Caches value under key unless Invalidate() ran since `generation` was read. At capacity,
  // the whole cache is dropped first (the entries are cheap to read again).
  void Put(const std::string& key, V value, uint64_t generation) {
    std::unique_lock<std::shared_mutex> lock(mu_);
    if (generation != generation_) return;
    if (entries_.size() >= capacity_ && entries_.find(key) == entries_.end()) entries_.clear();
    entries_.insert_or_assign(key, Entry{std::move(value), generation, Clock::now() + ttl_});
  }

  // Every value cached so far stops answering.
  void Invalidate() {
    std::unique_lock<std::shared_mutex> lock(mu_);
    ++generation_;
    entries_.clear();
  }

 private:
  struct Entry {
    V value;
    uint64_t generation;
    Clock::time_point expires;
  };

  const std::chrono::milliseconds ttl_;
  const size_t capacity_;
  mutable std::shared_mutex mu_;
  uint64_t generation_ = 0;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace rollcall

#endif  // ROLLCALL_CORE_TTL_CACHE_H_
