#include "ivs/ivs_errors.h"

#include <boost/json.hpp>
#include <string>

namespace rollcall::ivs {

IvsErrorType IvsErrorFor(Code code) {
  switch (code) {
    case Code::kOk:
      return {"OK", 200};
    case Code::kInvalidArgument:
      return {"ValidationException", 400};
    case Code::kUnauthenticated:
      return {"UnrecognizedClientException", 403};
    case Code::kForbidden:
      return {"AccessDeniedException", 403};
    case Code::kApplicationNotFound:
    case Code::kSessionNotFound:
    case Code::kParticipantNotFound:
    case Code::kNotFound:
      return {"ResourceNotFoundException", 404};
    case Code::kSessionEnded:
    case Code::kApplicationInactive:
    case Code::kApplicationDeleted:
    case Code::kConflict:
      return {"ConflictException", 409};
    case Code::kPayloadTooLarge:
      return {"ValidationException", 413};
    case Code::kUriTooLong:
      return {"ValidationException", 414};
    case Code::kHeadersTooLarge:
      return {"ValidationException", 431};
    case Code::kRequestTimeout:
      return {"ValidationException", 408};
    case Code::kRateLimited:
      return {"ThrottlingException", 429};
    case Code::kUnavailable:
    case Code::kInternal:
      return {"InternalServerException", 500};
  }
  return {"InternalServerException", 500};
}

IvsErrorType IvsErrorFor(SigV4Error error) {
  switch (error) {
    case SigV4Error::kNone:
      return {"OK", 200};
    case SigV4Error::kMissing:
      return {"MissingAuthenticationTokenException", 403};
    case SigV4Error::kIncomplete:
      return {"IncompleteSignatureException", 400};
    case SigV4Error::kUnknownKey:
      return {"UnrecognizedClientException", 403};
    case SigV4Error::kMismatch:
    case SigV4Error::kExpired:
      return {"InvalidSignatureException", 403};
  }
  return {"InvalidSignatureException", 403};
}

IvsErrorType NotSupported() { return {"ValidationException", 400}; }

IvsErrorType UnknownOperation() { return {"UnknownOperationException", 404}; }

IvsErrorType MethodNotAllowed() { return {"MethodNotAllowedException", 405}; }

http::Response IvsErrorResponse(IvsErrorType type, std::string_view message,
                                std::string_view request_id) {
  http::Response r;
  r.status = type.status;
  r.headers.emplace_back("x-amzn-ErrorType", std::string(type.code));
  r.headers.emplace_back("x-amzn-RequestId", std::string(request_id));
  boost::json::object o{{"__type", type.code}, {"message", message}};
  r.body = boost::json::serialize(o);
  return r;
}

http::Response IvsErrorResponse(const Status& status, std::string_view request_id) {
  http::Response r = IvsErrorResponse(IvsErrorFor(status.code()), status.message(), request_id);
  if (status.retry_after_ms() > 0) {  // whole seconds, rounded up
    r.headers.emplace_back("Retry-After", std::to_string((status.retry_after_ms() + 999) / 1000));
  }
  return r;
}

}  // namespace rollcall::ivs
