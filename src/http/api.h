#ifndef ROLLCALL_HTTP_API_H_
#define ROLLCALL_HTTP_API_H_

#include <atomic>
#include <cstdint>
#include <string_view>

#include "core/service.h"
#include "core/stage_service.h"
#include "http/message.h"
#include "http/router.h"

namespace rollcall::http {

// Request counters exposed at /metrics. Thread-safe.
struct Metrics {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> responses_2xx{0};
  std::atomic<uint64_t> responses_4xx{0};
  std::atomic<uint64_t> responses_5xx{0};
};

// Every route of the server: both faces, management, health and metrics.
// Thread-safe once constructed.
class Api {
 public:
  explicit Api(Service* service);

  // Routes the request; unknown path: 404, known path with another method: 405.
  void Handle(Request&& req, Reply reply);

  // A transport-level error (framing, body limit) in the shape of the face owning `path`.
  Response TransportError(std::string_view path, const Status& status) const;

 private:
  void RegisterOperations();

  Service& service_;
  StageService stages_;  // the IVS face's operations over the same service
  Router router_;
  Metrics metrics_;
};

}  // namespace rollcall::http

#endif  // ROLLCALL_HTTP_API_H_
