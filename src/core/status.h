#ifndef ROLLCALL_CORE_STATUS_H_
#define ROLLCALL_CORE_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace rollcall {

// Protocol-agnostic outcome codes. Each API face maps them to its own status and shape
// in exactly one place (http/instream_errors.cc, ivs/ivs_errors.cc).
enum class Code {
  kOk,
  kInvalidArgument,      // the request is malformed or out of range
  kUnauthenticated,      // no or unknown credential
  kForbidden,            // credential lacks the capability
  kApplicationNotFound,  // no such application in the caller's tenant
  kSessionNotFound,      // no such session in the caller's application
  kParticipantNotFound,  // the participant never visited the session
  kNotFound,             // any other resource missing in the caller's tenant
  kSessionEnded,         // the session has ended
  kApplicationInactive,  // application status P
  kApplicationDeleted,   // application status Y
  kConflict,             // any other state conflict
  kPayloadTooLarge,
  kUriTooLong,       // the request target is over the server's limit
  kHeadersTooLarge,  // the header section is over the server's size or count limit
  kRequestTimeout,   // the client did not send its request in time
  kRateLimited,      // the credential's rate limit is exceeded; see Status::retry_after_ms()
  kUnavailable,  // the store is unreachable; nothing was recorded
  kInternal,     // a bug or an unexpected store failure
};

// Status is the result of an operation that can fail in an expected way.
// Thread-compatible value type.
class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  // retry_after_ms: how long the caller should wait before trying again (kRateLimited,
  // kUnavailable); 0 when the operation has no advice.
  Status(Code code, std::string message, int64_t retry_after_ms)
      : code_(code), message_(std::move(message)), retry_after_ms_(retry_after_ms) {}

  static Status Ok() { return Status(); }
  static Status Invalid(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status Unauthenticated(std::string m) {
    return Status(Code::kUnauthenticated, std::move(m));
  }
  static Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
  static Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  int64_t retry_after_ms() const { return retry_after_ms_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  int64_t retry_after_ms_ = 0;
};

// StatusOr<T> holds either a value or a non-OK Status.
template <typename T>
class StatusOr {
 public:
  StatusOr(Status s) : status_(std::move(s)) {}  // NOLINT: implicit by design
  StatusOr(T v) : value_(std::move(v)) {}        // NOLINT: implicit by design

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  // REQUIRES: ok()
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace rollcall

#endif  // ROLLCALL_CORE_STATUS_H_
