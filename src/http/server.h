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
using ErrorRenderer = std::function<Response(std::string_view path, const Status& status)>;

// The limits of the transport. Each is answered in the shape of the face owning the path:
// body over body_limit 413, request target over url_limit 414, header section over
// header_limit or more than max_headers fields 431, a request not received within its
// timeouts 408, a connection over max_connections 503 with Retry-After. No connection ties up
// a thread: everything waits asynchronously.
struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port, see Server::port()
  int threads = 2;       // one io_context and acceptor (SO_REUSEPORT) per thread
  size_t body_limit = 64 * 1024;
  size_t header_limit = 16 * 1024;  // request line and fields together
  size_t url_limit = 8 * 1024;      // the request target
  size_t max_headers = 100;
  size_t max_connections = 10000;  // open at once, over every thread
  // From a request's first byte to the end of its header section (slow clients: 408).
  std::chrono::milliseconds header_timeout{10'000};
  // From the end of the header section to the end of the body (408).
  std::chrono::milliseconds body_timeout{30'000};
  // A kept-alive connection waiting for its next request is closed after this.
  std::chrono::milliseconds idle_timeout{60'000};
  // Sending a response to a client that does not read it.
  std::chrono::milliseconds write_timeout{30'000};
  // Stop(): the longest wait for requests in flight.
  std::chrono::milliseconds drain_timeout{10'000};
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
  // Serves until Stop(). Then returns once every request in flight has been answered and
  // its connection closed, or after drain_timeout.
  void Run();
  // Stops accepting, closes idle connections, and lets requests in flight finish (their
  // responses carry Connection: close). Thread-safe.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rollcall::http

#endif  // ROLLCALL_HTTP_SERVER_H_
