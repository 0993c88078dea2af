// In-Stream management of applications (admin bearer token).
#include "core/ids.h"
#include "http/instream.h"

namespace rollcall::http {

namespace json = boost::json;

namespace {

json::object ManagedApplicationJson(const Application& a, const Tenant& t, const Service& service) {
  json::object o = ApplicationJson(a);
  o["stageArn"] = StageArn(service.region(), t.account_id, a.stage_id);
  o["name"] = a.name;
  return o;
}

json::object PresenceJson(const PresenceSettings& p) {
  return json::object{{"timeoutSeconds", p.timeout_seconds},
                      {"reconnectWindowSeconds", p.reconnect_window_seconds},
                      {"idleSessionSeconds", p.idle_session_seconds},
                      {"manageServerSide", p.manage_server_side}};
}

// One application in detail: with its presence settings (docs/presence.md).
json::object DetailedApplicationJson(const ManagedApplication& m, const Tenant& t,
                                     const Service& service) {
  json::object o = ManagedApplicationJson(m.app, t, service);
  o["presence"] = PresenceJson(m.presence);
  return o;
}

// "presence": {"timeoutSeconds", "reconnectWindowSeconds", "idleSessionSeconds",
// "manageServerSide"}, each optional; anything else is refused.
Status ParsePresence(const json::object& body, std::optional<PresencePatch>* out) {
  const json::value* v = body.if_contains("presence");
  if (v == nullptr || v->is_null()) return Status::Ok();
  if (!v->is_object()) return Status::Invalid("presence must be an object");
  const json::object& o = v->as_object();
  for (const auto& kv : o) {
    const std::string_view k = kv.key();
    if (k != "timeoutSeconds" && k != "reconnectWindowSeconds" && k != "idleSessionSeconds" &&
        k != "manageServerSide") {
      return Status::Invalid("presence has no setting named " + std::string(k));
    }
  }
  PresencePatch patch;
  Status s = GetInt(o, "timeoutSeconds", 1, 3600, &patch.timeout_seconds);
  if (s.ok()) s = GetInt(o, "reconnectWindowSeconds", 0, 300, &patch.reconnect_window_seconds);
  if (s.ok()) s = GetInt(o, "idleSessionSeconds", 0, 86400, &patch.idle_session_seconds);
  if (!s.ok()) return Status::Invalid("presence." + s.message());
  if (const json::value* m = o.if_contains("manageServerSide"); m && !m->is_null()) {
    if (!m->is_bool()) return Status::Invalid("presence.manageServerSide must be true or false");
    patch.manage_server_side = m->as_bool();
  }
  *out = patch;
  return Status::Ok();
}

Status ParseStatus(const json::object& o, std::optional<AppStatus>* out) {
  std::optional<std::string> status;
  Status s = GetString(o, "status", false, &status);
  if (!s.ok() || !status) return s;
  if (*status == "N") {
    *out = AppStatus::kActive;
  } else if (*status == "P") {
    *out = AppStatus::kInactive;
  } else {
    return Status::Invalid("status must be N (active) or P (inactive); DELETE deletes");
  }
  return Status::Ok();
}

}  // namespace

void RegisterApplicationRoutes(Router& router, Service& service) {
  AddInStreamRoute(
      router, "POST", "/applications", [&service](Request& req, const PathParams&, Reply reply) {
        StatusOr<Tenant> t = AuthenticateAdminBearer(service, req);
        if (!t.ok()) return reply(InStreamError(t.status()));
        StatusOr<json::object> body = ParseJsonBody(req, false);
        if (!body.ok()) return reply(InStreamError(body.status()));
        std::optional<std::string> type, name;
        Status s = GetString(body.value(), "type", true, &type);
        if (s.ok()) s = GetString(body.value(), "name", false, &name);
        if (!s.ok()) return reply(InStreamError(s));
        std::optional<AppType> app_type = ParseAppType(*type);
        if (!app_type) {
          return reply(InStreamError(Status::Invalid("type must be STREAMING, CHAT or LIVE")));
        }
        service.CreateApplication(
            t.value(), *app_type, name.value_or(""),
            ReplyWith<NewApplication>(
                std::move(reply), [&service, tenant = t.value()](const NewApplication& n) {
                  json::object o = ManagedApplicationJson(n.app, tenant, service);
                  o["apiKey"] = n.api_key;
                  return JsonResponse(201, o);
                }));
      });

  AddInStreamRoute(
      router, "GET", "/applications", [&service](Request& req, const PathParams&, Reply reply) {
        StatusOr<Tenant> t = AuthenticateAdminBearer(service, req);
        if (!t.ok()) return reply(InStreamError(t.status()));
        PageRequest page;
        Status s = ParsePageRequest(req.query, &page);
        if (!s.ok()) return reply(InStreamError(s));
        StatusOr<Page<Application>> r = service.ListApplications(t.value(), page);
        if (!r.ok()) return reply(InStreamError(r.status()));
        reply(PageResponse(r->items, page, r->total, [&](JsonWriter& w, const Application& a) {
          w.Value(ManagedApplicationJson(a, t.value(), service));
        }));
      });

  AddInStreamRoute(router, "GET", "/applications/{applicationId}",
                   [&service](Request& req, const PathParams& params, Reply reply) {
                     StatusOr<Tenant> t = AuthenticateAdminBearer(service, req);
                     if (!t.ok()) return reply(InStreamError(t.status()));
                     StatusOr<Application> a = service.GetApplication(t.value(), params[0]);
                     if (!a.ok()) return reply(InStreamError(a.status()));
                     StatusOr<PresenceSettings> p = service.GetPresenceSettings(a.value());
                     if (!p.ok()) return reply(InStreamError(p.status()));
                     reply(JsonResponse(
                         200, DetailedApplicationJson({a.value(), p.value()}, t.value(), service)));
                   });

  AddInStreamRoute(
      router, "PATCH", "/applications/{applicationId}",
      [&service](Request& req, const PathParams& params, Reply reply) {
        StatusOr<Tenant> t = AuthenticateAdminBearer(service, req);
        if (!t.ok()) return reply(InStreamError(t.status()));
        StatusOr<json::object> body = ParseJsonBody(req, false);
        if (!body.ok()) return reply(InStreamError(body.status()));
        std::optional<AppStatus> status;
        std::optional<PresencePatch> presence;
        Status s = ParseStatus(body.value(), &status);
        if (s.ok()) s = ParsePresence(body.value(), &presence);
        if (s.ok() && !status && !presence) {
          s = Status::Invalid("give status (N or P) and/or presence settings");
        }
        if (!s.ok()) return reply(InStreamError(s));
        service.UpdateApplication(
            t.value(), params[0], status, std::move(presence),
            ReplyWith<ManagedApplication>(
                std::move(reply), [&service, tenant = t.value()](const ManagedApplication& m) {
                  return JsonResponse(200, DetailedApplicationJson(m, tenant, service));
                }));
      });

  AddInStreamRoute(router, "DELETE", "/applications/{applicationId}",
                   [&service](Request& req, const PathParams& params, Reply reply) {
                     StatusOr<Tenant> t = AuthenticateAdminBearer(service, req);
                     if (!t.ok()) return reply(InStreamError(t.status()));
                     service.DeleteApplication(
                         t.value(), params[0],
                         ReplyWith<Application>(std::move(reply), [&service, tenant = t.value()](
                                                                      const Application& a) {
                           return JsonResponse(200, ManagedApplicationJson(a, tenant, service));
                         }));
                   });

  AddInStreamRoute(router, "POST", "/applications/{applicationId}/api-key",
                   [&service](Request& req, const PathParams& params, Reply reply) {
                     StatusOr<Tenant> t = AuthenticateAdminBearer(service, req);
                     if (!t.ok()) return reply(InStreamError(t.status()));
                     service.RotateApiKey(
                         t.value(), params[0],
                         ReplyWith<std::string>(std::move(reply), [](const std::string& key) {
                           json::object o;
                           o["apiKey"] = key;
                           return JsonResponse(200, o);
                         }));
                   });
}

}  // namespace rollcall::http
