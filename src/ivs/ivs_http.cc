#include "ivs/ivs_http.h"

#include <boost/url/decode_view.hpp>

#include "core/ids.h"
#include "core/rate_limiter.h"
#include "ivs/cursor.h"
#include "ivs/ivs_model.h"
#include "ivs/sigv4.h"

namespace rollcall::ivs {

namespace json = boost::json;

namespace {

constexpr std::string_view kTagsPrefix = "/tags/";

http::Response WithRequestId(http::Response r, const std::string& request_id) {
  r.headers.emplace_back("x-amzn-RequestId", request_id);
  return r;
}

// Authenticates the request's SigV4 signature, then takes one request of the access key's rate
// limit; on failure returns the error response.
std::optional<http::Response> Authenticate(StageService& stages, const http::Request& req,
                                           Tenant* tenant) {
  Status lookup_failure;
  std::optional<AccessKeyOwner> owner;
  SecretLookup lookup = [&](const std::string& access_key_id) -> std::optional<std::string> {
    StatusOr<AccessKeyOwner> found = stages.FindAccessKey(access_key_id);
    if (!found.ok()) {
      if (found.status().code() != Code::kUnauthenticated) lookup_failure = found.status();
      return std::nullopt;
    }
    owner = std::move(found.value());
    return owner->key.secret_access_key;
  };
  SignedRequest signed_request{req.method, req.raw_path, req.raw_query, &req.headers, req.body};
  std::string access_key_id;
  SigV4Result r = ivs::Authenticate(signed_request, lookup, stages.Now(), &access_key_id);
  if (!lookup_failure.ok()) return IvsErrorResponse(lookup_failure, req.request_id);
  if (!r.ok()) return IvsErrorResponse(IvsErrorFor(r.error), r.message, req.request_id);
  Status admitted = stages.Admit(AccessKeyCredential(access_key_id));
  if (!admitted.ok()) return IvsErrorResponse(admitted, req.request_id);
  *tenant = std::move(owner->tenant);
  return std::nullopt;
}

StatusOr<json::object> ParseBody(const http::Request& req) {
  if (req.body.empty()) return json::object();
  json::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec) return Status::Invalid("the request body is not valid JSON: " + ec.message());
  if (!v.is_object()) return Status::Invalid("the request body must be a JSON object");
  return std::move(v.as_object());
}

}  // namespace

// --- Call ---

http::Response Call::OkResponse(const json::object& body, const std::string& request_id) {
  http::Response r;
  r.status = 200;
  r.body = json::serialize(body);
  return WithRequestId(std::move(r), request_id);
}

void Call::Ok(const json::object& body) const { reply(OkResponse(body, request_id)); }

void Call::OkBody(std::string body) const {
  http::Response r;
  r.status = 200;
  r.body = std::move(body);
  reply(WithRequestId(std::move(r), request_id));
}

void Call::Fail(const Status& status) const { reply(IvsErrorResponse(status, request_id)); }

std::optional<std::string> Call::Str(std::string_view name) const {
  const json::value* v = input.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

std::string Call::StrOr(std::string_view name, std::string fallback) const {
  std::optional<std::string> v = Str(name);
  return v ? std::move(*v) : std::move(fallback);
}

std::optional<int64_t> Call::Int(std::string_view name) const {
  const json::value* v = input.if_contains(name);
  if (v == nullptr || !(v->is_int64() || v->is_uint64())) return std::nullopt;
  return v->to_number<int64_t>();
}

std::optional<bool> Call::Bool(std::string_view name) const {
  const json::value* v = input.if_contains(name);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->as_bool();
}

int64_t Call::MaxResults(int64_t fallback) const { return Int("maxResults").value_or(fallback); }

StatusOr<std::optional<json::array>> Call::Position(std::string_view context,
                                                    std::string_view shape) const {
  std::optional<std::string> token = Str("nextToken");
  if (!token || token->empty()) return std::optional<json::array>();
  StatusOr<TenantKey> key = stages->TenantKeyOf(tenant.id);
  if (!key.ok()) return key.status();
  const Status bad = Status::Invalid("nextToken is not valid for this request");
  std::optional<std::string> position = OpenCursor(key->secret, context, *token);
  if (!position) return bad;
  json::error_code ec;
  json::value v = json::parse(*position, ec);
  if (ec || !v.is_array() || v.as_array().size() != shape.size()) return bad;
  for (size_t i = 0; i < shape.size(); ++i) {
    const json::value& e = v.as_array()[i];
    if ((shape[i] == 'i' && !e.is_int64()) || (shape[i] == 's' && !e.is_string())) return bad;
  }
  return std::optional<json::array>(std::move(v.as_array()));
}

std::string Call::NextToken(std::string_view context, const json::array& position) const {
  StatusOr<TenantKey> key = stages->TenantKeyOf(tenant.id);
  if (!key.ok()) return "";
  return SealCursor(key->secret, context, json::serialize(position));
}

// --- Registrar ---

namespace {

// Authenticates, validates the input against the operation's model and calls the handler.
void RunOperation(StageService* stages, const std::string& operation, http::Request& req,
                  json::object input, const OperationHandler& handler, http::Reply reply) {
  Tenant tenant;
  if (std::optional<http::Response> error = Authenticate(*stages, req, &tenant)) {
    return reply(std::move(*error));
  }
  const ServiceModel& model = ServiceModel::Get();
  const ServiceModel::Operation* op = model.FindOperation(operation);
  Status valid = op != nullptr ? model.ValidateInput(*op, input)
                               : Status::Internal("operation missing from the model");
  if (!valid.ok()) return reply(IvsErrorResponse(valid, req.request_id));
  try {
    handler(Call{req.request_id, std::move(tenant), std::move(input), reply, stages});
  } catch (const std::exception& e) {  // a bug: answer, and keep the I/O thread alive
    reply(IvsErrorResponse(Status::Internal(std::string("internal error: ") + e.what()),
                           req.request_id));
  }
}

// A body that is not a JSON object: the authentication failure if any, else the parse error.
void RejectBody(StageService* stages, http::Request& req, const Status& error,
                const http::Reply& reply) {
  Tenant tenant;
  if (std::optional<http::Response> auth = Authenticate(*stages, req, &tenant)) {
    return reply(std::move(*auth));
  }
  reply(IvsErrorResponse(error, req.request_id));
}

}  // namespace

void Registrar::Operation(const std::string& operation, OperationHandler handler) {
  implemented_.insert(operation);
  router_.Add("POST", "/" + operation,
              [stages = &stages_, operation, handler = std::move(handler)](
                  http::Request& req, const http::PathParams&, http::Reply reply) {
                StatusOr<json::object> body = ParseBody(req);
                if (!body.ok()) return RejectBody(stages, req, body.status(), reply);
                RunOperation(stages, operation, req, std::move(body.value()), handler,
                             std::move(reply));
              });
}

void Registrar::TagsOperation(const std::string& method, const std::string& operation,
                              OperationHandler handler) {
  implemented_.insert(operation);
  router_.Add(method, std::string(kTagsPrefix) + "{resourceArn}",
              [stages = &stages_, operation, handler = std::move(handler)](
                  http::Request& req, const http::PathParams& params, http::Reply reply) {
                StatusOr<json::object> body = ParseBody(req);
                if (!body.ok()) return RejectBody(stages, req, body.status(), reply);
                json::object input = std::move(body.value());
                std::string arn;
                for (char c : boost::urls::decode_view(params[0])) arn.push_back(c);
                input["resourceArn"] = arn;
                json::array keys;
                bool any_key = false;
                for (const auto& [k, v] : req.query) {
                  if (k == "tagKeys") {
                    keys.emplace_back(v);
                    any_key = true;
                  }
                }
                if (any_key) input["tagKeys"] = std::move(keys);
                RunOperation(stages, operation, req, std::move(input), handler, std::move(reply));
              });
}

void Registrar::RemainingOperations() {
  for (const ServiceModel::Operation& op : ServiceModel::Get().operations()) {
    if (implemented_.count(op.name) > 0) continue;
    const std::string message =
        op.name +
        " is not supported by rollcall, which implements the stage, session, "
        "participant, token, storage configuration, tag and replication operations";
    router_.Add(op.method, op.uri,
                [stages = &stages_, message](http::Request& req, const http::PathParams&,
                                             http::Reply reply) {
                  Tenant tenant;
                  if (auto error = Authenticate(*stages, req, &tenant))
                    return reply(std::move(*error));
                  reply(IvsErrorResponse(NotSupported(), message, req.request_id));
                });
  }
}

// --- routes ---

void RegisterIvsRoutes(http::Router& router, StageService& stages) {
  Registrar r(router, stages);
  RegisterStageOperations(r);
  RegisterStorageOperations(r);
  RegisterSessionOperations(r);
  RegisterParticipantOperations(r);
  RegisterTokenOperations(r);
  r.RemainingOperations();
  RegisterClientPresenceRoutes(router, stages);
}

bool IsIvsPath(std::string_view path) {
  if (path.substr(0, kTagsPrefix.size()) == kTagsPrefix) return true;
  if (path.size() < 2 || path.front() != '/') return false;
  return ServiceModel::Get().FindOperation(path.substr(1)) != nullptr;
}

bool RoutesOnRawPath(std::string_view raw_path) {
  return raw_path.substr(0, kTagsPrefix.size()) == kTagsPrefix;
}

http::Response IvsRouteError(const http::Request& req, bool other_method_exists) {
  if (other_method_exists) {
    return IvsErrorResponse(MethodNotAllowed(),
                            "method " + req.method + " is not allowed on " + req.path,
                            req.request_id);
  }
  return IvsErrorResponse(UnknownOperation(), "no operation at " + req.path, req.request_id);
}

// --- rendering ---

json::object TagsJson(const Tags& tags) {
  json::object o;
  for (const auto& [k, v] : tags) o[k] = v;
  return o;
}

Tags TagsFrom(const json::object& input, std::string_view name) {
  Tags tags;
  const json::value* v = input.if_contains(name);
  if (v == nullptr || !v->is_object()) return tags;
  for (const auto& [k, val] : v->as_object()) {
    tags.emplace_back(std::string(k), val.is_string() ? std::string(val.as_string()) : "");
  }
  return tags;
}

Attributes AttributesFrom(const json::object& o) {
  Attributes a;
  for (const auto& [k, v] : o) {
    a.emplace_back(std::string(k), v.is_string() ? std::string(v.as_string()) : "");
  }
  return a;
}

json::object AttributesJson(std::string_view attributes_json) {
  json::error_code ec;
  json::value v = json::parse(attributes_json, ec);
  if (ec || !v.is_object()) return json::object();
  return std::move(v.as_object());
}

json::object StageJson(const StageService& stages, const Tenant& t, const StageView& v) {
  json::object o;
  o["arn"] = stages.StageArnOf(t, v.app);
  o["name"] = v.app.name;
  if (v.active_session_id) o["activeSessionId"] = *v.active_session_id;
  o["tags"] = TagsJson(v.tags);
  if (v.recording) {
    const AutoRecording& r = *v.recording;
    json::array media{json::value(r.media_type)};
    json::array storage;
    for (const std::string& s : r.thumbnail_storage) storage.emplace_back(s);
    o["autoParticipantRecordingConfiguration"] = json::object{
        {"storageConfigurationArn", stages.StorageArnOf(t, v.recording_storage_config_id)},
        {"mediaTypes", std::move(media)},
        {"thumbnailConfiguration",
         json::object{{"targetIntervalSeconds", r.thumbnail_interval_seconds},
                      {"storage", std::move(storage)},
                      {"recordingMode", r.thumbnail_mode}}},
        {"recordingReconnectWindowSeconds", r.reconnect_window_seconds},
        {"hlsConfiguration", json::object{{"targetSegmentDurationSeconds", r.hls_segment_seconds}}},
        {"recordParticipantReplicas", r.record_replicas},
    };
  }
  return o;
}

json::object StageSessionJson(const Session& s) {
  json::object o;
  o["sessionId"] = s.stage_session_id;
  o["startTime"] = FormatTimestamp(s.created_at);
  if (s.deleted_at) o["endTime"] = FormatTimestamp(*s.deleted_at);
  return o;
}

}  // namespace rollcall::ivs
