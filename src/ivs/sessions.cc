// IVS stage sessions: ListStageSessions (newest first), GetStageSession.
#include "ivs/ivs_http.h"

namespace rollcall::ivs {

namespace json = boost::json;

void RegisterSessionOperations(Registrar& r) {
  r.Operation("ListStageSessions", [](Call c) {
    const std::string arn = *c.Str("stageArn");
    const std::string context = "ListStageSessions|" + arn;
    StatusOr<std::optional<json::array>> pos = c.Position(context, "i");
    if (!pos.ok()) return c.Fail(pos.status());
    std::optional<RowId> before;
    if (pos.value()) before = pos.value()->at(0).as_int64();
    StatusOr<KeysetPage<Session>> page =
        c.stages->ListStageSessions(c.tenant, arn, before, c.MaxResults(50));
    if (!page.ok()) return c.Fail(page.status());
    json::array sessions;
    for (const Session& s : page->items) sessions.push_back(StageSessionJson(s));
    json::object out{{"stageSessions", std::move(sessions)}};
    if (page->more) out["nextToken"] = c.NextToken(context, {page->items.back().id});
    c.Ok(std::move(out));
  });

  r.Operation("GetStageSession", [](Call c) {
    StatusOr<Session> s =
        c.stages->GetStageSession(c.tenant, *c.Str("stageArn"), *c.Str("sessionId"));
    if (!s.ok()) return c.Fail(s.status());
    c.Ok(json::object{{"stageSession", StageSessionJson(s.value())}});
  });
}

}  // namespace rollcall::ivs
