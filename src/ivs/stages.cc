// IVS stages: CreateStage, GetStage, ListStages, UpdateStage, DeleteStage, and the tag
// operations on stages and storage configurations.
#include "ivs/ivs_http.h"

namespace rollcall::ivs {

namespace json = boost::json;

namespace {

const json::object* Object(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

std::optional<RecordingRequest> RecordingFrom(const json::object& input) {
  const json::object* c = Object(input, "autoParticipantRecordingConfiguration");
  if (c == nullptr) return std::nullopt;
  RecordingRequest r;
  AutoRecording& s = r.settings;
  auto str = [](const json::object& o, std::string_view k, std::string* out) {
    if (const json::value* v = o.if_contains(k); v && v->is_string()) *out = v->as_string();
  };
  auto num = [](const json::object& o, std::string_view k, int64_t* out) {
    if (const json::value* v = o.if_contains(k); v && (v->is_int64() || v->is_uint64())) {
      *out = v->as_int64();
    }
  };
  str(*c, "storageConfigurationArn", &r.storage_configuration_arn);
  if (const json::value* m = c->if_contains("mediaTypes");
      m && m->is_array() && !m->as_array().empty()) {
    s.media_type = m->as_array()[0].as_string();
  }
  if (const json::object* t = Object(*c, "thumbnailConfiguration")) {
    num(*t, "targetIntervalSeconds", &s.thumbnail_interval_seconds);
    if (const json::value* st = t->if_contains("storage"); st && st->is_array()) {
      s.thumbnail_storage.clear();
      for (const json::value& e : st->as_array()) s.thumbnail_storage.emplace_back(e.as_string());
    }
    str(*t, "recordingMode", &s.thumbnail_mode);
  }
  num(*c, "recordingReconnectWindowSeconds", &s.reconnect_window_seconds);
  if (const json::object* h = Object(*c, "hlsConfiguration")) {
    num(*h, "targetSegmentDurationSeconds", &s.hls_segment_seconds);
  }
  if (const json::value* v = c->if_contains("recordParticipantReplicas"); v && v->is_bool()) {
    s.record_replicas = v->as_bool();
  }
  return r;
}

json::object StageSummaryJson(const StageService& stages, const Tenant& t, const StageView& v) {
  json::object o;
  o["arn"] = stages.StageArnOf(t, v.app);
  o["name"] = v.app.name;
  if (v.active_session_id) o["activeSessionId"] = *v.active_session_id;
  o["tags"] = TagsJson(v.tags);
  return o;
}

}  // namespace

void RegisterStageOperations(Registrar& r) {
  r.Operation("CreateStage", [](Call c) {
    NewStage req;
    req.name = c.StrOr("name", "");
    req.tags = TagsFrom(c.input, "tags");
    req.recording = RecordingFrom(c.input);
    if (const json::value* v = c.input.if_contains("participantTokenConfigurations")) {
      for (const json::value& e : v->as_array())
        req.tokens.push_back(TokenRequestFrom(e.as_object()));
    }
    const Tenant tenant = c.tenant;
    c.stages->CreateStage(tenant, std::move(req), [c](StatusOr<CreatedStage> r) {
      if (!r.ok()) return c.Fail(r.status());
      json::array tokens;
      for (const IssuedToken& t : r->tokens) {
        StatusOr<json::object> tj = TokenJson(*c.stages, c.tenant, t);
        if (!tj.ok()) return c.Fail(tj.status());
        tokens.push_back(std::move(tj.value()));
      }
      c.Ok(json::object{{"stage", StageJson(*c.stages, c.tenant, r->stage)},
                        {"participantTokens", std::move(tokens)}});
    });
  });

  r.Operation("GetStage", [](Call c) {
    StatusOr<StageView> v = c.stages->GetStage(c.tenant, *c.Str("arn"));
    if (!v.ok()) return c.Fail(v.status());
    c.Ok(json::object{{"stage", StageJson(*c.stages, c.tenant, v.value())}});
  });

  r.Operation("ListStages", [](Call c) {
    constexpr std::string_view kContext = "ListStages";
    StatusOr<std::optional<json::array>> pos = c.Position(kContext, "i");
    if (!pos.ok()) return c.Fail(pos.status());
    const RowId after = pos.value() ? pos.value()->at(0).as_int64() : 0;
    StatusOr<KeysetPage<StageView>> page = c.stages->ListStages(c.tenant, after, c.MaxResults(50));
    if (!page.ok()) return c.Fail(page.status());
    json::array stages;
    for (const StageView& v : page->items)
      stages.push_back(StageSummaryJson(*c.stages, c.tenant, v));
    json::object out{{"stages", std::move(stages)}};
    if (page->more) out["nextToken"] = c.NextToken(kContext, {page->items.back().app.id});
    c.Ok(std::move(out));
  });

  r.Operation("UpdateStage", [](Call c) {
    c.stages->UpdateStage(c.tenant, *c.Str("arn"), c.Str("name"), RecordingFrom(c.input),
                          c.Then<StageView>([c](const StageView& v) {
                            return json::object{{"stage", StageJson(*c.stages, c.tenant, v)}};
                          }));
  });

  r.Operation("DeleteStage", [](Call c) {
    c.stages->DeleteStage(c.tenant, *c.Str("arn"),
                          c.Then<Done>([](const Done&) { return json::object(); }));
  });

  r.TagsOperation("GET", "ListTagsForResource", [](Call c) {
    StatusOr<Tags> tags = c.stages->ListTags(c.tenant, *c.Str("resourceArn"));
    if (!tags.ok()) return c.Fail(tags.status());
    c.Ok(json::object{{"tags", TagsJson(tags.value())}});
  });

  r.TagsOperation("POST", "TagResource", [](Call c) {
    c.stages->TagResource(c.tenant, *c.Str("resourceArn"), TagsFrom(c.input, "tags"),
                          c.Then<Done>([](const Done&) { return json::object(); }));
  });

  r.TagsOperation("DELETE", "UntagResource", [](Call c) {
    std::vector<std::string> keys;
    if (const json::value* v = c.input.if_contains("tagKeys")) {
      for (const json::value& k : v->as_array()) keys.emplace_back(k.as_string());
    }
    c.stages->UntagResource(c.tenant, *c.Str("resourceArn"), std::move(keys),
                            c.Then<Done>([](const Done&) { return json::object(); }));
  });
}

}  // namespace rollcall::ivs
