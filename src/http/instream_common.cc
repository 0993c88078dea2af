#include <boost/algorithm/string/predicate.hpp>
#include <cstdint>

#include "core/ids.h"
#include "http/instream.h"
#include "http/instream_errors.h"

namespace rollcall::http {

namespace json = boost::json;

void AddInStreamRoute(Router& router, const std::string& method, const std::string& rest,
                      Handler handler) {
  router.Add(method, "/v1" + rest, handler);
  router.Add(method, "/api/v1" + rest, std::move(handler));
}

StatusOr<json::object> ParseJsonBody(const Request& req, bool allow_empty) {
  if (req.body.empty() && allow_empty) return json::object();
  const std::string* ct = req.Header("content-type");
  std::string_view type = ct != nullptr ? std::string_view(*ct) : std::string_view();
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lower(type);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower != "application/json") {
    return Status::Invalid("Content-Type must be application/json");
  }
  json::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec) return Status::Invalid("malformed JSON body: " + ec.message());
  if (!v.is_object()) return Status::Invalid("the JSON body must be an object");
  return std::move(v.as_object());
}

Status GetString(const json::object& o, std::string_view name, bool required,
                 std::optional<std::string>* out) {
  auto it = o.find(name);
  if (it == o.end() || (!required && it->value().is_null())) {
    if (required) return Status::Invalid(std::string(name) + " is required");
    return Status::Ok();
  }
  if (!it->value().is_string()) return Status::Invalid(std::string(name) + " must be a string");
  *out = std::string(it->value().as_string());
  return Status::Ok();
}

Status GetInt(const json::object& o, std::string_view name, int64_t min, int64_t max,
              std::optional<int64_t>* out) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return Status::Ok();
  const json::value& v = it->value();
  const bool fits = v.is_int64() || (v.is_uint64() && v.get_uint64() <= INT64_MAX);
  const int64_t n = v.is_int64() ? v.get_int64() : fits ? static_cast<int64_t>(v.get_uint64()) : 0;
  if (!fits || n < min || n > max) {
    return Status::Invalid(std::string(name) + " must be an integer from " + std::to_string(min) +
                           " to " + std::to_string(max));
  }
  *out = n;
  return Status::Ok();
}

Status GetSeq(const json::object& o, std::optional<int64_t>* out) {
  return GetInt(o, "seq", 0, INT64_MAX, out);
}

Response JsonResponse(unsigned status, const json::value& body) {
  Response r;
  r.status = status;
  r.body = json::serialize(body);
  return r;
}

StatusOr<Application> AuthenticateKey(Service& service, const Request& req) {
  const std::string* key = req.Header("apikey");
  if (key == nullptr) return Status::Unauthenticated("missing ApiKey header");
  StatusOr<Application> app = service.AuthenticateApiKey(*key);
  if (!app.ok()) return app;
  Status admitted = service.Admit(ApiKeyCredential(app->uuid));
  if (!admitted.ok()) return admitted;
  return app;
}

StatusOr<Tenant> AuthenticateAdminBearer(Service& service, const Request& req) {
  const std::string* auth = req.Header("authorization");
  // The scheme is case-insensitive (RFC 9110, 11.1): "bearer" and "BEARER" work too.
  constexpr std::string_view kBearer = "bearer ";
  if (auth == nullptr || auth->size() <= kBearer.size() ||
      !boost::algorithm::iequals(std::string_view(*auth).substr(0, kBearer.size()), kBearer)) {
    return Status::Unauthenticated("missing Authorization: Bearer <admin token>");
  }
  StatusOr<Tenant> tenant =
      service.AuthenticateAdmin(std::string_view(*auth).substr(kBearer.size()));
  if (!tenant.ok()) return tenant;
  Status admitted = service.Admit(AdminCredential(tenant->account_id));
  if (!admitted.ok()) return admitted;
  return tenant;
}

json::value TimeOrNull(const std::optional<Millis>& t) {
  if (!t) return nullptr;
  return json::value(FormatTimestamp(*t));
}

json::object ApplicationJson(const Application& a) {
  json::object o;
  o["applicationId"] = a.uuid;
  o["type"] = AppTypeName(a.type);
  o["status"] = AppStatusName(a.status);
  o["createdAt"] = FormatTimestamp(a.created_at);
  return o;
}

json::object SessionJson(const Session& s) {
  json::object o;
  o["sessionId"] = s.uuid;
  o["createdAt"] = FormatTimestamp(s.created_at);
  o["deletedAt"] = TimeOrNull(s.deleted_at);
  return o;
}

void WriteVisit(JsonWriter& w, const VisitRow& row, std::string_view app_json,
                std::string_view session_json) {
  w.BeginObject();
  w.Key("participantSessionId").String(row.visit.uuid);
  w.Key("createdAt").Time(row.visit.created_at);
  w.Key("deletedAt").OptTime(row.visit.deleted_at);
  w.Key("participant").BeginObject();
  w.Key("participantId").String(row.profile.participant_id);
  w.Key("nickname").String(row.profile.nickname);
  w.Key("profileImageUrl").OptString(row.profile.profile_image_url);
  w.Key("createdAt").Time(row.profile.created_at);
  w.EndObject();
  w.Key("application").Raw(app_json);
  w.Key("session").Raw(session_json);
  w.EndObject();
}

Response VisitResponse(unsigned status, const VisitRow& row, const Application& app,
                       const Session& session) {
  Response r;
  r.status = status;
  r.body.reserve(640);
  JsonWriter w(&r.body);
  WriteVisit(w, row, json::serialize(ApplicationJson(app)), json::serialize(SessionJson(session)));
  return r;
}

}  // namespace rollcall::http
