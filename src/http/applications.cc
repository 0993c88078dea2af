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

Status ParseStatus(const json::object& o, AppStatus* out) {
  std::optional<std::string> status;
  Status s = GetString(o, "status", true, &status);
  if (!s.ok()) return s;
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
            ReplyWith<NewApplication>(std::move(reply), [&service, tenant = t.value()](
                                                            const NewApplication& n) {
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
        json::array data;
        for (const Application& a : r->items) {
          data.push_back(ManagedApplicationJson(a, t.value(), service));
        }
        reply(JsonResponse(200, PageEnvelope(std::move(data), page, r->total)));
      });

  AddInStreamRoute(router, "GET", "/applications/{applicationId}",
                   [&service](Request& req, const PathParams& params, Reply reply) {
                     StatusOr<Tenant> t = AuthenticateAdminBearer(service, req);
                     if (!t.ok()) return reply(InStreamError(t.status()));
                     StatusOr<Application> a = service.GetApplication(t.value(), params[0]);
                     if (!a.ok()) return reply(InStreamError(a.status()));
                     reply(JsonResponse(200, ManagedApplicationJson(a.value(), t.value(), service)));
                   });

  AddInStreamRoute(
      router, "PATCH", "/applications/{applicationId}",
      [&service](Request& req, const PathParams& params, Reply reply) {
        StatusOr<Tenant> t = AuthenticateAdminBearer(service, req);
        if (!t.ok()) return reply(InStreamError(t.status()));
        StatusOr<json::object> body = ParseJsonBody(req, false);
        if (!body.ok()) return reply(InStreamError(body.status()));
        AppStatus status = AppStatus::kActive;
        Status s = ParseStatus(body.value(), &status);
        if (!s.ok()) return reply(InStreamError(s));
        service.SetApplicationStatus(
            t.value(), params[0], status,
            ReplyWith<Application>(std::move(reply),
                                   [&service, tenant = t.value()](const Application& a) {
                                     return JsonResponse(
                                         200, ManagedApplicationJson(a, tenant, service));
                                   }));
      });

  AddInStreamRoute(
      router, "DELETE", "/applications/{applicationId}",
      [&service](Request& req, const PathParams& params, Reply reply) {
        StatusOr<Tenant> t = AuthenticateAdminBearer(service, req);
        if (!t.ok()) return reply(InStreamError(t.status()));
        service.DeleteApplication(
            t.value(), params[0],
            ReplyWith<Application>(std::move(reply),
                                   [&service, tenant = t.value()](const Application& a) {
                                     return JsonResponse(
                                         200, ManagedApplicationJson(a, tenant, service));
                                   }));
      });

  AddInStreamRoute(router, "POST", "/applications/{applicationId}/api-key",
                   [&service](Request& req, const PathParams& params, Reply reply) {
                     StatusOr<Tenant> t = AuthenticateAdminBearer(service, req);
                     if (!t.ok()) return reply(InStreamError(t.status()));
                     service.RotateApiKey(t.value(), params[0],
                                          ReplyWith<std::string>(std::move(reply),
                                                                 [](const std::string& key) {
                                                                   json::object o;
                                                                   o["apiKey"] = key;
                                                                   return JsonResponse(200, o);
                                                                 }));
                   });
}

}  // namespace rollcall::http
