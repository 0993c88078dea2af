#ifndef ROLLCALL_IVS_IVS_HTTP_H_
#define ROLLCALL_IVS_IVS_HTTP_H_

#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/media_presence.h"
#include "core/stage_service.h"
#include "http/json_writer.h"
#include "http/message.h"
#include "http/router.h"
#include "ivs/ivs_errors.h"

namespace rollcall::ivs {

// The IVS Real-Time face: POST /<Operation> and /tags/{resourceArn} signed with SigV4 by
// the tenant's access key, answered in the IVS error shape; and the client presence
// endpoints /v1/stage/* for participant tokens, answered in the In-Stream error shape.

// Registers every route of the face. Operations of the service model that rollcall does not
// implement answer ValidationException saying so.
void RegisterIvsRoutes(http::Router& router, StageService& stages);
// True for the paths whose errors the IVS face renders: /<Operation of the model>, /tags/...
bool IsIvsPath(std::string_view path);
// True when the request routes on its raw path: /tags/{resourceArn} carries an encoded '/'.
bool RoutesOnRawPath(std::string_view raw_path);
// The answer to an IVS path that no route takes: 405 MethodNotAllowedException when the path
// exists for another method, else 404 UnknownOperationException.
http::Response IvsRouteError(const http::Request& req, bool other_method_exists);

// --- for the resource files ---

// One authenticated, validated IVS call. Copyable; replies at most once.
struct Call {
  std::string request_id;
  Tenant tenant;
  boost::json::object input;  // the operation's input members, validated against the model
  http::Reply reply;
  StageService* stages = nullptr;

  void Ok(const boost::json::object& body) const;
  // Answers 200 with body, a JSON document already written.
  void OkBody(std::string body) const;
  void Fail(const Status& status) const;
  // A callback that renders its value with render(const T&) -> boost::json::object, or fails.
  // The rendering runs on the connection's I/O thread (see http::Reply::Render).
  template <typename T, typename F>
  Callback<T> Then(F render) const {
    return [call = *this, render = std::move(render)](StatusOr<T> r) {
      if (!r.ok()) return call.Fail(r.status());
      call.reply.Render([request_id = call.request_id, render,
                         value = std::make_shared<T>(std::move(r.value()))]() {
        return OkResponse(render(*value), request_id);
      });
    };
  }
  static http::Response OkResponse(const boost::json::object& body, const std::string& request_id);

  // Input accessors. REQUIRE: the member, when present, has the model's type.
  std::optional<std::string> Str(std::string_view name) const;
  std::string StrOr(std::string_view name, std::string fallback) const;
  std::optional<int64_t> Int(std::string_view name) const;
  std::optional<bool> Bool(std::string_view name) const;
  // maxResults, or `fallback` when absent.
  int64_t MaxResults(int64_t fallback) const;

  // The position a nextToken carries for `context` (nullopt: first page), an array whose
  // elements have the types `shape` lists ('i' integer, 's' string). A token that is
  // malformed, tampered with, issued for another tenant or listing, or of another shape:
  // kInvalidArgument.
  StatusOr<std::optional<boost::json::array>> Position(std::string_view context,
                                                       std::string_view shape) const;
  // A nextToken carrying `position` for `context`.
  std::string NextToken(std::string_view context, const boost::json::array& position) const;
};

using OperationHandler = std::function<void(Call call)>;

// Collects the face's routes while they are registered; knows which model operations are
// implemented. The routes it adds reference only the StageService.
class Registrar {
 public:
  Registrar(http::Router& router, StageService& stages) : router_(router), stages_(stages) {}

  // POST /<operation>: authenticate, parse the JSON body, validate it, call handler.
  void Operation(const std::string& operation, OperationHandler handler);
  // method /tags/{resourceArn}: as Operation, with resourceArn from the path and tagKeys from
  // the query added to the input.
  void TagsOperation(const std::string& method, const std::string& operation,
                     OperationHandler handler);
  // Every other operation of the model: ValidationException "not supported".
  void RemainingOperations();

  http::Router& router() { return router_; }
  StageService& stages() { return stages_; }

 private:
  http::Router& router_;
  StageService& stages_;
  std::set<std::string> implemented_;
};

void RegisterStageOperations(Registrar& r);
void RegisterStorageOperations(Registrar& r);
void RegisterSessionOperations(Registrar& r);
void RegisterParticipantOperations(Registrar& r);
void RegisterTokenOperations(Registrar& r);
void RegisterClientPresenceRoutes(http::Router& router, StageService& stages);
// RTMP media servers: POST /v1/stage/stream-key and POST /v1/rtmp/notify (ivs/rtmp.cc).
void RegisterRtmpRoutes(http::Router& router, StageService& stages, MediaPresence& media);

// The holder of a participant token: its tenant and verified claims.
struct TokenHolder {
  RowId tenant = 0;
  TokenClaims claims;
};
// The verified claims of "Authorization: Bearer <participant token>", after taking one request
// of the token's rate limit. Missing, malformed, foreign or badly signed: kUnauthenticated
// (expiry is checked by the operation); over the rate limit: kRateLimited.
StatusOr<TokenHolder> VerifiedToken(StageService& stages, const http::Request& req);

// Rendering shared by the resource files.
boost::json::object TagsJson(const Tags& tags);
// Tags from a validated map member (empty when absent).
Tags TagsFrom(const boost::json::object& input, std::string_view name);
Attributes AttributesFrom(const boost::json::object& o);
boost::json::object AttributesJson(std::string_view attributes_json);
boost::json::object StageJson(const StageService& stages, const Tenant& t, const StageView& v);
boost::json::object StageSessionJson(const Session& s);
// A participantTokenConfiguration / CreateParticipantToken input, defaults applied.
TokenRequest TokenRequestFrom(const boost::json::object& o);
// The ParticipantToken of an issued token, signed with the tenant's key.
StatusOr<boost::json::object> TokenJson(StageService& stages, const Tenant& t,
                                        const IssuedToken& token);

}  // namespace rollcall::ivs

#endif  // ROLLCALL_IVS_IVS_HTTP_H_
