#ifndef ROLLCALL_HTTP_INSTREAM_H_
#define ROLLCALL_HTTP_INSTREAM_H_

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/service.h"
#include "http/instream_errors.h"
#include "http/json_writer.h"
#include "http/message.h"
#include "http/router.h"

namespace rollcall::http {

// Registers the In-Stream face under /v1 and /api/v1: sessions.cc, participants.cc,
// applications.cc.
void RegisterSessionRoutes(Router& router, Service& service);
void RegisterParticipantRoutes(Router& router, Service& service);
void RegisterApplicationRoutes(Router& router, Service& service);

// Adds the route under both prefixes ("/v1" + rest and "/api/v1" + rest).
void AddInStreamRoute(Router& router, const std::string& method, const std::string& rest,
                      Handler handler);

// --- helpers shared by the In-Stream resource files ---

// The JSON object in the body. Requires Content-Type application/json (charset allowed);
// an empty body counts as {} when allow_empty. Otherwise kInvalidArgument.
StatusOr<boost::json::object> ParseJsonBody(const Request& req, bool allow_empty);

// Reads a string member. Missing: nullopt when !required, else kInvalidArgument. Present with
// another JSON type (null counts as missing when !required): kInvalidArgument.
Status GetString(const boost::json::object& o, std::string_view name, bool required,
                 std::optional<std::string>* out);

// Reads an integer member in [min, max]. Missing or null: nullopt. Another type or out of
// range: kInvalidArgument.
Status GetInt(const boost::json::object& o, std::string_view name, int64_t min, int64_t max,
              std::optional<int64_t>* out);
// The optional "seq" of a presence report (docs/presence.md): an integer >= 0.
Status GetSeq(const boost::json::object& o, std::optional<int64_t>* out);

Response JsonResponse(unsigned status, const boost::json::value& body);

// Authenticates the ApiKey header, then admits the request under the key's rate limit
// (kRateLimited when over it).
StatusOr<Application> AuthenticateKey(Service& service, const Request& req);
// Authenticates "Authorization: Bearer <admin token>", then admits it under the token's limit.
StatusOr<Tenant> AuthenticateAdminBearer(Service& service, const Request& req);

boost::json::value TimeOrNull(const std::optional<Millis>& t);
boost::json::object ApplicationJson(const Application& a);
boost::json::object SessionJson(const Session& s);

// A visit (participantSessionId, createdAt, deletedAt, participant, application, session).
// app_json and session_json are ApplicationJson and SessionJson serialized: the same for
// every row of an answer, so rendered once.
void WriteVisit(JsonWriter& w, const VisitRow& row, std::string_view app_json,
                std::string_view session_json);
// One visit as the whole answer.
Response VisitResponse(unsigned status, const VisitRow& row, const Application& app,
                       const Session& session);

// The page envelope: data (each item written by write_item(w, item)), length, currentPage,
// totalPages, pageSize, totalElements (both null without a total).
template <typename Items, typename F>
Response PageResponse(const Items& items, const PageRequest& page, std::optional<int64_t> total,
                      F write_item) {
  Response r;
  r.body.reserve(128 + 640 * items.size());
  JsonWriter w(&r.body);
  w.BeginObject().Key("data").BeginArray();
  for (const auto& item : items) write_item(w, item);
  w.EndArray();
  w.Key("length").Int(static_cast<int64_t>(items.size()));
  w.Key("currentPage").Int(page.page);
  w.Key("totalPages");
  if (total) {
    w.Int(TotalPages(*total, page.size));
  } else {
    w.Null();
  }
  w.Key("pageSize").Int(page.size);
  w.Key("totalElements");
  if (total) {
    w.Int(*total);
  } else {
    w.Null();
  }
  w.EndObject();
  return r;
}

// The rendering runs on the connection's I/O thread (see Reply::Render).
template <typename T, typename F>
Callback<T> ReplyWith(Reply reply, F render) {
  return [reply = std::move(reply), render = std::move(render)](StatusOr<T> r) {
    if (!r.ok()) return reply(InStreamError(r.status()));
    reply.Render(
        [render, value = std::make_shared<T>(std::move(r.value()))]() { return render(*value); });
  };
}

}  // namespace rollcall::http

#endif  // ROLLCALL_HTTP_INSTREAM_H_
