#ifndef ROLLCALL_HTTP_MESSAGE_H_
#define ROLLCALL_HTTP_MESSAGE_H_

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/search.h"

namespace rollcall::http {

// A parsed HTTP request, independent of the HTTP library.
struct Request {
  std::string method;    // "GET", "POST", ...
  std::string target;    // as sent: path and query
  std::string raw_path;  // the path as sent, still percent-encoded
  std::string path;      // percent-decoded
  std::string raw_query; // as sent, without '?'
  Params query;          // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string request_id;

  // The first value of header `lower_name`, or nullptr.
  const std::string* Header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers) {
      if (k == lower_name) return &v;
    }
    return nullptr;
  }
};

struct Response {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Sends the response. Call exactly once, from any thread.
using Reply = std::function<void(Response)>;

}  // namespace rollcall::http

#endif  // ROLLCALL_HTTP_MESSAGE_H_
