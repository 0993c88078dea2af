#ifndef ROLLCALL_HTTP_SERVER_H_
#define ROLLCALL_HTTP_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "http/message.h"

namespace rollcall::http {

// Renders an error that the transport itself answers (body too large, bad framing,
// unknown path) in the shape of the face that owns `path`.
using ErrorRenderer =
    std::function<Response(std::string_view path, const Status& status)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port, see Server::port()
  int threads = 2;       // one io_context and acceptor (SO_REUSEPORT) per thread
  size_t body_limit = 64 * 1024;
  size_t header_limit = 16 * 1024;
  std::chrono::seconds idle_timeout{60};
  bool log_requests = true;
};

// An HTTP/1.1 server on Boost.Beast: keep-alive, one io_context per thread, handlers
// called on the connection's thread, replies accepted from any thread.
class Server {
 public:
  using Handler = std::function<void(Request&& req, Reply reply)>;

  Server(ServerOptions options, Handler handler, ErrorRenderer errors);
  ~Server();

  // Binds and listens. Non-OK if the address cannot be bound.
  Status Listen();
  // The bound port. REQUIRES: Listen() succeeded.
  uint16_t port() const;
  // Serves until Stop(); returns after in-flight requests finished (at most 10 s).
  void Run();
  // Thread-safe and async-signal-safe enough to call from a signal-handling thread.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rollcall::http

#endif  // ROLLCALL_HTTP_SERVER_H_
