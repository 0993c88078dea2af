#include "http/api.h"

#include <string>

#include "core/ids.h"
#include "http/instream.h"
#include "http/instream_errors.h"
#include "ivs/ivs_http.h"

namespace rollcall::http {

namespace json = boost::json;

Api::Api(Service* service) : service_(*service), stages_(service), media_(service, &stages_) {
  RegisterOperations();
}

void Api::RegisterOperations() {
  // Order matters: /applications/sessions before /applications/{applicationId}.
  RegisterSessionRoutes(router_, service_);
  RegisterParticipantRoutes(router_, service_);
  RegisterApplicationRoutes(router_, service_);
  ivs::RegisterIvsRoutes(router_, stages_);
  ivs::RegisterRtmpRoutes(router_, stages_, media_);

  router_.Add("GET", "/healthz", [](Request&, const PathParams&, Reply reply) {
    reply(JsonResponse(200, json::object{{"status", "ok"}}));
  });
  router_.Add("GET", "/readyz", [this](Request&, const PathParams&, Reply reply) {
    Status s = service_.store().Ping();
    if (!s.ok()) {
      return reply(InStreamError(Status::Unavailable("store not reachable: " + s.message())));
    }
    reply(JsonResponse(200, json::object{{"status", "ready"}}));
  });
  router_.Add("GET", "/metrics", [this](Request&, const PathParams&, Reply reply) {
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body =
        "# HELP rollcall_http_requests_total HTTP requests answered.\n"
        "# TYPE rollcall_http_requests_total counter\n"
        "rollcall_http_requests_total " +
        std::to_string(metrics_.requests.load()) + "\n" +
        "# HELP rollcall_http_responses_total HTTP responses by status class.\n"
        "# TYPE rollcall_http_responses_total counter\n"
        "rollcall_http_responses_total{class=\"2xx\"} " +
        std::to_string(metrics_.responses_2xx.load()) + "\n" +
        "rollcall_http_responses_total{class=\"4xx\"} " +
        std::to_string(metrics_.responses_4xx.load()) + "\n" +
        "rollcall_http_responses_total{class=\"5xx\"} " +
        std::to_string(metrics_.responses_5xx.load()) + "\n";
    reply(std::move(r));
  });
}

Response Api::TransportError(std::string_view path, const Status& status) const {
  if (ivs::IsIvsPath(path)) return ivs::IvsErrorResponse(status, NewUuid());
  return InStreamError(status);
}

void Api::Handle(Request&& req, Reply reply) {
  Reply counted = reply.Observed([this](const Response& r) {
    metrics_.requests.fetch_add(1, std::memory_order_relaxed);
    if (r.status < 300) {
      metrics_.responses_2xx.fetch_add(1, std::memory_order_relaxed);
    } else if (r.status < 500) {
      metrics_.responses_4xx.fetch_add(1, std::memory_order_relaxed);
    } else {
      metrics_.responses_5xx.fetch_add(1, std::memory_order_relaxed);
    }
  });
  const Handler* handler = nullptr;
  PathParams params;
  std::vector<std::string> allowed;
  const std::string& route_path = ivs::RoutesOnRawPath(req.raw_path) ? req.raw_path : req.path;
  const Router::Result found = router_.Find(req.method, route_path, &handler, &params, &allowed);
  if (found != Router::Result::kFound && ivs::IsIvsPath(req.path)) {
    return counted(ivs::IvsRouteError(req, found == Router::Result::kNoMethod));
  }
  switch (found) {
    case Router::Result::kFound:
      (*handler)(req, params, std::move(counted));
      return;
    case Router::Result::kNoMethod: {
      Response r;
      r.status = 405;
      json::object o{{"code", "METHOD_NOT_ALLOWED"},
                     {"message", "method " + req.method + " is not allowed on " + req.path}};
      r.body = json::serialize(o);
      std::string allow;
      for (const std::string& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
      r.headers.emplace_back("Allow", std::move(allow));
      counted(std::move(r));
      return;
    }
    case Router::Result::kNoPath: {
      Response r;
      r.status = 404;
      json::object o{{"code", "NOT_FOUND"}, {"message", "no such path: " + req.path}};
      r.body = json::serialize(o);
      counted(std::move(r));
      return;
    }
  }
}

}  // namespace rollcall::http
