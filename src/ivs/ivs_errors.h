#ifndef ROLLCALL_IVS_IVS_ERRORS_H_
#define ROLLCALL_IVS_IVS_ERRORS_H_

#include <string_view>

#include "core/status.h"
#include "http/message.h"
#include "ivs/sigv4.h"

namespace rollcall::ivs {

// The IVS face's error type (x-amzn-ErrorType, "__type") and HTTP status. The one mapping of
// this face, for core outcomes and for authentication failures.
struct IvsErrorType {
  std::string_view code;
  unsigned status;
};

IvsErrorType IvsErrorFor(Code code);
// kMissing: MissingAuthenticationTokenException; kIncomplete: IncompleteSignatureException;
// kUnknownKey: UnrecognizedClientException; kMismatch, kExpired: InvalidSignatureException.
IvsErrorType IvsErrorFor(SigV4Error error);
// An operation of the service model that rollcall does not implement.
IvsErrorType NotSupported();
// A request to an IVS path that matches no operation, or uses another method.
IvsErrorType UnknownOperation();
IvsErrorType MethodNotAllowed();

// Status, x-amzn-ErrorType, x-amzn-RequestId and {"__type": code, "message": message}.
http::Response IvsErrorResponse(IvsErrorType type, std::string_view message,
                                std::string_view request_id);
http::Response IvsErrorResponse(const Status& status, std::string_view request_id);

}  // namespace rollcall::ivs

#endif  // ROLLCALL_IVS_IVS_ERRORS_H_
