#ifndef ROLLCALL_HTTP_INSTREAM_ERRORS_H_
#define ROLLCALL_HTTP_INSTREAM_ERRORS_H_

#include <string_view>

#include "core/status.h"
#include "http/message.h"

namespace rollcall::http {

// The In-Stream face's error code and HTTP status of a Status. The one mapping of this face.
std::string_view InStreamCode(Code code);
unsigned InStreamHttpStatus(Code code);

// {"code": "...", "message": "..."} with the mapped status, and a Retry-After header (whole
// seconds, rounded up) when the status carries retry_after_ms.
Response InStreamError(const Status& status);

}  // namespace rollcall::http

#endif  // ROLLCALL_HTTP_INSTREAM_ERRORS_H_
