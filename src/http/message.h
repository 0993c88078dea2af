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
  std::string method;     // "GET", "POST", ...
  std::string target;     // as sent: path and query
  std::string raw_path;   // the path as sent, still percent-encoded
  std::string path;       // percent-decoded
  std::string raw_query;  // as sent, without '?'
  Params query;           // decoded, in order
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

// How a handler answers its request: call one of the methods exactly once, from any thread.
// Copyable; copies share the one answer.
class Reply {
 public:
  // Takes a function that makes the response and sends what it returns; the server runs it
  // on the connection's I/O thread.
  using Sink = std::function<void(std::function<Response()>)>;

  Reply() = default;
  explicit Reply(Sink sink) : sink_(std::move(sink)) {}

  // Sends r.
  void operator()(Response r) const {
    sink_([r = std::move(r)]() mutable { return std::move(r); });
  }

  // Sends what render returns, calling it on the connection's I/O thread: an answer that a
  // store thread delivers is rendered there, not on the store's (serial) writer thread.
  void Render(std::function<Response()> render) const { sink_(std::move(render)); }

  // The same answer, with observe(response) called on the I/O thread before it is sent.
  Reply Observed(std::function<void(const Response&)> observe) const {
    return Reply([sink = sink_, observe = std::move(observe)](std::function<Response()> make) {
      sink([make = std::move(make), observe]() {
        Response r = make();
        observe(r);
        return r;
      });
    });
  }

 private:
  Sink sink_;
};

}  // namespace rollcall::http

#endif  // ROLLCALL_HTTP_MESSAGE_H_
