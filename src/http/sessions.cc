// In-Stream sessions: start, list, get, end (ApiKey).
#include "http/instream.h"

namespace rollcall::http {

namespace json = boost::json;

namespace {

json::object SessionDetailJson(const Session& s) {
  json::object o = SessionJson(s);
  o["stageSessionId"] = s.stage_session_id;
  o["participantCount"] = s.participant_count;
  o["visitCount"] = s.visit_count;
  return o;
}

}  // namespace

void RegisterSessionRoutes(Router& router, Service& service) {
  AddInStreamRoute(router, "POST", "/applications/sessions",
                   [&service](Request& req, const PathParams&, Reply reply) {
                     StatusOr<Application> app = AuthenticateKey(service, req);
                     if (!app.ok()) return reply(InStreamError(app.status()));
                     StatusOr<json::object> body = ParseJsonBody(req, true);
                     if (!body.ok()) return reply(InStreamError(body.status()));
                     service.StartSession(
                         app.value(), ReplyWith<Session>(std::move(reply), [](const Session& s) {
                           return JsonResponse(201, SessionDetailJson(s));
                         }));
                   });

  AddInStreamRoute(
      router, "GET", "/applications/sessions",
      [&service](Request& req, const PathParams&, Reply reply) {
        StatusOr<Application> app = AuthenticateKey(service, req);
        if (!app.ok()) return reply(InStreamError(app.status()));
        PageRequest page;
        Status s = ParsePageRequest(req.query, &page);
        if (!s.ok()) return reply(InStreamError(s));
        StatusOr<Page<Session>> r = service.ListSessions(app.value(), page);
        if (!r.ok()) return reply(InStreamError(r.status()));
        reply(PageResponse(r->items, page, r->total, [](JsonWriter& w, const Session& item) {
          w.Value(SessionDetailJson(item));
        }));
      });

  AddInStreamRoute(router, "GET", "/applications/sessions/{sessionId}",
                   [&service](Request& req, const PathParams& params, Reply reply) {
                     StatusOr<Application> app = AuthenticateKey(service, req);
                     if (!app.ok()) return reply(InStreamError(app.status()));
                     StatusOr<Session> r = service.GetSession(app.value(), params[0]);
                     if (!r.ok()) return reply(InStreamError(r.status()));
                     reply(JsonResponse(200, SessionDetailJson(r.value())));
                   });

  AddInStreamRoute(router, "POST", "/applications/sessions/{sessionId}/end",
                   [&service](Request& req, const PathParams& params, Reply reply) {
                     StatusOr<Application> app = AuthenticateKey(service, req);
                     if (!app.ok()) return reply(InStreamError(app.status()));
                     StatusOr<json::object> body = ParseJsonBody(req, true);
                     if (!body.ok()) return reply(InStreamError(body.status()));
                     service.EndSession(app.value(), params[0],
                                        ReplyWith<Session>(std::move(reply), [](const Session& s) {
                                          return JsonResponse(200, SessionDetailJson(s));
                                        }));
                   });
}

}  // namespace rollcall::http
