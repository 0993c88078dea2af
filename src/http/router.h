#ifndef ROLLCALL_HTTP_ROUTER_H_
#define ROLLCALL_HTTP_ROUTER_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace rollcall::http {

// Values of a pattern's {name} segments, in order.
using PathParams = std::vector<std::string>;

using Handler = std::function<void(Request& req, const PathParams& params, Reply reply)>;

// Maps (method, path pattern) to handlers. Patterns are '/'-separated; a segment "{name}"
// matches any one non-empty segment. When several patterns match a path, the most specific
// one owns it (a literal segment beats a {name} at the first segment where they differ),
// whatever the method; among routes of that pattern and method, the first added wins.
// Build first, then Find from any thread.
class Router {
 public:
  enum class Result { kFound, kNoPath, kNoMethod };

  void Add(std::string method, std::string_view pattern, Handler handler);

  // kFound: *handler and *params are set. kNoMethod: the path exists for other methods; they
  // are appended to *allowed when it is not null, each once, in registration order.
  Result Find(std::string_view method, std::string_view path, const Handler** handler,
              PathParams* params, std::vector<std::string>* allowed = nullptr) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace rollcall::http

#endif  // ROLLCALL_HTTP_ROUTER_H_
