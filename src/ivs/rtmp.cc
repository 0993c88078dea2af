// RTMP media servers (docs/nginx-rtmp.md): the stream key exchange POST /v1/stage/stream-key
// (participant token) and the nginx-rtmp notify callbacks POST /v1/rtmp/notify, which decide
// whether a publish or play may proceed (2xx) or is refused (4xx).
#include <boost/url.hpp>

#include "core/media_presence.h"
#include "http/instream.h"
#include "ivs/ivs_http.h"

namespace rollcall::ivs {

namespace json = boost::json;

namespace {

// The fields of a form-encoded body; the first occurrence of a name wins. nginx-rtmp writes
// its own fields first and appends the RTMP URL's arguments as given, so an argument cannot
// override the media server's fields.
StatusOr<Params> FormFields(const std::string& body) {
  auto parsed = boost::urls::parse_query(body);
  if (!parsed) return Status::Invalid("the body must be application/x-www-form-urlencoded");
  Params out;
  for (auto p : boost::urls::params_view(*parsed)) {
    if (FindParam(out, p.key) == nullptr) out.emplace_back(p.key, p.has_value ? p.value : "");
  }
  return out;
}

std::string FieldOr(const Params& fields, std::string_view name) {
  const std::string* v = FindParam(fields, name);
  return v ? *v : std::string();
}

}  // namespace

void RegisterRtmpRoutes(http::Router& router, StageService& stages, MediaPresence& media) {
  router.Add("POST", "/v1/stage/stream-key",
             [&stages, &media](http::Request& req, const http::PathParams&, http::Reply reply) {
               StatusOr<TokenHolder> holder = VerifiedToken(stages, req);
               if (!holder.ok()) return reply(http::InStreamError(holder.status()));
               media.CreateStreamKey(
                   holder->tenant, std::move(holder->claims),
                   http::ReplyWith<IssuedStreamKey>(std::move(reply), [](const IssuedStreamKey& k) {
                     return http::JsonResponse(
                         200, json::object{{"streamKey", k.stream_key},
                                           {"participantId", k.participant_id},
                                           {"stageArn", k.stage_arn},
                                           {"expirationTime", FormatTimestamp(k.expires_at)}});
                   }));
             });

  router.Add("POST", "/v1/rtmp/notify",
             [&media](http::Request& req, const http::PathParams&, http::Reply reply) {
               StatusOr<Params> fields = FormFields(req.body);
               if (!fields.ok()) return reply(http::InStreamError(fields.status()));
               const std::string call = FieldOr(fields.value(), "call");
               std::optional<MediaCall::Kind> kind = ParseMediaCallKind(call);
               if (!kind) {
                 // connect, disconnect, done and others carry nothing rollcall records.
                 return reply(http::JsonResponse(200, json::object{{"ignored", call}}));
               }
               MediaCall c;
               c.kind = *kind;
               c.stream = FieldOr(fields.value(), "name");
               c.stream_key = FieldOr(fields.value(), "key");
               c.connection_id =
                   FieldOr(fields.value(), "clientid") + "@" + FieldOr(fields.value(), "addr");
               const std::string* record = FindParam(req.query, "record");
               c.records = record != nullptr && *record == "on";
               media.Handle(std::move(c), [reply = std::move(reply)](StatusOr<Done> r) {
                 if (!r.ok()) return reply(http::InStreamError(r.status()));
                 reply(http::JsonResponse(200, json::object{}));
               });
             });
}

}  // namespace rollcall::ivs
