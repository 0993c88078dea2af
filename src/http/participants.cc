// In-Stream participants: the seed's enter, leave and search, and heartbeat (ApiKey).
#include "http/instream.h"

namespace rollcall::http {

namespace json = boost::json;

namespace {

Status ParseAttributes(const json::object& o, std::optional<Attributes>* out) {
  auto it = o.find("attributes");
  if (it == o.end() || it->value().is_null()) return Status::Ok();
  if (!it->value().is_object()) {
    return Status::Invalid("attributes must be an object of string values");
  }
  Attributes attrs;
  for (const auto& kv : it->value().as_object()) {
    if (!kv.value().is_string()) {
      return Status::Invalid("attributes must be an object of string values");
    }
    attrs.emplace_back(std::string(kv.key()), std::string(kv.value().as_string()));
  }
  *out = std::move(attrs);
  return Status::Ok();
}

Status ParseEnter(const json::object& o, EnterRequest* out) {
  std::optional<std::string> participant_id, nickname, image, image_alias;
  Status s = GetString(o, "participantId", true, &participant_id);
  if (s.ok()) s = GetString(o, "nickname", true, &nickname);
  if (s.ok()) s = GetString(o, "profileImageUrl", false, &image);
  if (s.ok()) s = GetString(o, "profileImgUrl", false, &image_alias);
  if (s.ok()) s = ParseAttributes(o, &out->attributes);
  if (s.ok()) s = GetSeq(o, &out->seq);
  if (!s.ok()) return s;
  out->participant_id = std::move(*participant_id);
  out->nickname = std::move(*nickname);
  out->profile_image_url = image ? std::move(image) : std::move(image_alias);
  return Status::Ok();
}

// The body of a leave or heartbeat: {"participantId": string, "seq": integer?}.
Status ParseReport(const json::object& o, std::optional<std::string>* participant_id,
                   std::optional<int64_t>* seq) {
  Status s = GetString(o, "participantId", true, participant_id);
  if (s.ok()) s = GetSeq(o, seq);
  return s;
}

// POST .../participants/{action} with a report body (leave, heartbeat): authenticates, parses
// the body and hands it to report(service, app, sessionId, participantId, seq, cb), which
// answers the visit.
template <typename F>
void AddReportRoute(Router& router, Service& service, const std::string& action, F report) {
  AddInStreamRoute(
      router, "POST", "/applications/sessions/{sessionId}/participants/" + action,
      [&service, report](Request& req, const PathParams& params, Reply reply) {
        StatusOr<Application> app = AuthenticateKey(service, req);
        if (!app.ok()) return reply(InStreamError(app.status()));
        StatusOr<json::object> body = ParseJsonBody(req, false);
        if (!body.ok()) return reply(InStreamError(body.status()));
        std::optional<std::string> participant_id;
        std::optional<int64_t> seq;
        Status s = ParseReport(body.value(), &participant_id, &seq);
        if (!s.ok()) return reply(InStreamError(s));
        report(service, app.value(), params[0], std::move(*participant_id), seq,
               ReplyWith<VisitView>(std::move(reply), [a = app.value()](const VisitView& v) {
                 return VisitResponse(200, v.row, a, v.session);
               }));
      });
}

}  // namespace

void RegisterParticipantRoutes(Router& router, Service& service) {
  AddInStreamRoute(
      router, "POST", "/applications/sessions/{sessionId}/participants/enter",
      [&service](Request& req, const PathParams& params, Reply reply) {
        StatusOr<Application> app = AuthenticateKey(service, req);
        if (!app.ok()) return reply(InStreamError(app.status()));
        StatusOr<json::object> body = ParseJsonBody(req, false);
        if (!body.ok()) return reply(InStreamError(body.status()));
        EnterRequest enter;
        Status s = ParseEnter(body.value(), &enter);
        if (!s.ok()) return reply(InStreamError(s));
        service.Enter(app.value(), params[0], std::move(enter),
                      ReplyWith<VisitView>(std::move(reply), [a = app.value()](const VisitView& v) {
                        return VisitResponse(v.created ? 201 : 200, v.row, a, v.session);
                      }));
      });

  AddReportRoute(router, service, "leave",
                 [](Service& s, const Application& app, std::string session, std::string id,
                    std::optional<int64_t> seq, Callback<VisitView> cb) {
                   s.Leave(app, std::move(session), std::move(id), std::move(cb), seq);
                 });
  AddReportRoute(router, service, "heartbeat",
                 [](Service& s, const Application& app, std::string session, std::string id,
                    std::optional<int64_t> seq, Callback<VisitView> cb) {
                   s.Heartbeat(app, std::move(session), std::move(id), seq, std::move(cb));
                 });

  AddInStreamRoute(router, "GET", "/applications/sessions/{sessionId}/participants",
                   [&service](Request& req, const PathParams& params, Reply reply) {
                     StatusOr<Application> app = AuthenticateKey(service, req);
                     if (!app.ok()) return reply(InStreamError(app.status()));
                     VisitQuery q;
                     Status s = ParseVisitQuery(req.query, &q);
                     if (!s.ok()) return reply(InStreamError(s));
                     StatusOr<SearchResult> r = service.Search(app.value(), params[0], q);
                     if (!r.ok()) return reply(InStreamError(r.status()));
                     const std::string app_json = json::serialize(ApplicationJson(app.value()));
                     const std::string session_json = json::serialize(SessionJson(r->session));
                     reply(PageResponse(r->page.items, q.page, r->page.total,
                                        [&](JsonWriter& w, const VisitRow& row) {
                                          WriteVisit(w, row, app_json, session_json);
                                        }));
                   });
}

}  // namespace rollcall::http
