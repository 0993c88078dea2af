#include "http/instream_errors.h"

#include <boost/json.hpp>

namespace rollcall::http {

std::string_view InStreamCode(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      return "BAD_REQUEST";
    case Code::kUnauthenticated:
      return "UNAUTHORIZED";
    case Code::kForbidden:
      return "FORBIDDEN";
    case Code::kApplicationNotFound:
      return "APPLICATION_NOT_FOUND";
    case Code::kSessionNotFound:
      return "APPLICATION_SESSION_NOT_FOUND";
    case Code::kParticipantNotFound:
      return "PARTICIPANT_JOIN_NOT_FOUND";
    case Code::kNotFound:
      return "NOT_FOUND";
    case Code::kSessionEnded:
      return "APPLICATION_SESSION_ALREADY_ENDED";
    case Code::kApplicationInactive:
      return "APPLICATION_NOT_ON";
    case Code::kApplicationDeleted:
      return "APPLICATION_CAN_NOT_MODIFY";
    case Code::kConflict:
      return "CONFLICT";
    case Code::kPayloadTooLarge:
      return "PAYLOAD_TOO_LARGE";
    case Code::kUriTooLong:
      return "URI_TOO_LONG";
    case Code::kHeadersTooLarge:
      return "REQUEST_HEADER_FIELDS_TOO_LARGE";
    case Code::kRequestTimeout:
      return "REQUEST_TIMEOUT";
    case Code::kRateLimited:
      return "TOO_MANY_REQUESTS";
    case Code::kUnavailable:
      return "SERVICE_UNAVAILABLE";
    case Code::kInternal:
      return "INTERNAL_SERVER_ERROR";
  }
  return "INTERNAL_SERVER_ERROR";
}

unsigned InStreamHttpStatus(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kForbidden:
      return 403;
    case Code::kApplicationNotFound:
    case Code::kSessionNotFound:
    case Code::kParticipantNotFound:
    case Code::kNotFound:
      return 404;
    case Code::kSessionEnded:
    case Code::kApplicationInactive:
    case Code::kApplicationDeleted:
    case Code::kConflict:
      return 409;
    case Code::kPayloadTooLarge:
      return 413;
    case Code::kUriTooLong:
      return 414;
    case Code::kHeadersTooLarge:
      return 431;
    case Code::kRequestTimeout:
      return 408;
    case Code::kRateLimited:
      return 429;
    case Code::kUnavailable:
      return 503;
    case Code::kInternal:
      return 500;
  }
  return 500;
}

Response InStreamError(const Status& status) {
  Response r;
  r.status = InStreamHttpStatus(status.code());
  boost::json::object o;
  o["code"] = InStreamCode(status.code());
  o["message"] = status.message();
  r.body = boost::json::serialize(o);
  if (status.retry_after_ms() > 0) {
    // Whole seconds, rounded up: a client that waits this long finds a token.
    r.headers.emplace_back("Retry-After", std::to_string((status.retry_after_ms() + 999) / 1000));
  }
  return r;
}

}  // namespace rollcall::http
