// IVS participants: GetParticipant, ListParticipants, ListParticipantEvents,
// DisconnectParticipant, and replication (Start/StopParticipantReplication,
// ListParticipantReplicas).
#include "ivs/ivs_http.h"

namespace rollcall::ivs {

namespace json = boost::json;

namespace {

std::string StageArnFromId(const StageService& stages, const Tenant& t, const std::string& id) {
  return IvsArn(stages.region(), t.account_id, "stage", id);
}

// ParticipantSummary's members.
void WriteSummaryMembers(const StageService& stages, const Tenant& t, const ParticipantSummary& s,
                         http::JsonWriter& w) {
  w.Key("participantId").String(s.ivs_participant_id);
  w.Key("userId").String(s.user_id);
  w.Key("state").String(s.connected ? "CONNECTED" : "DISCONNECTED");
  w.Key("firstJoinTime").Time(s.first_join_at);
  w.Key("published").Bool(s.published);
  w.Key("recordingState").String(RecordingStateName(s.recording_state));
  w.Key("replicationType").String(ReplicationTypeName(s.replication_type));
  if (s.replication_state) {
    w.Key("replicationState").String(ReplicationStateName(*s.replication_state));
  }
  if (s.replication_type == ReplicationType::kReplica) {
    w.Key("sourceStageArn").String(StageArnFromId(stages, t, s.source_stage_id));
    w.Key("sourceSessionId").String(s.source_session_id);
  }
}

// A Participant: the summary's members, then the rest.
void WriteParticipant(const StageService& stages, const Tenant& t, const Participant& p,
                      http::JsonWriter& w) {
  w.BeginObject();
  WriteSummaryMembers(stages, t, SummaryOf(p), w);
  w.Key("attributes").Value(AttributesJson(p.member.attributes_json));
  w.Key("ispName").String(p.ivs.client.isp_name);
  w.Key("osName").String(p.ivs.client.os_name);
  w.Key("osVersion").String(p.ivs.client.os_version);
  w.Key("browserName").String(p.ivs.client.browser_name);
  w.Key("browserVersion").String(p.ivs.client.browser_version);
  w.Key("sdkVersion").String(p.ivs.client.sdk_version);
  w.Key("recordingS3BucketName").String(p.ivs.recording_bucket);
  w.Key("recordingS3Prefix").String(p.ivs.recording_prefix);
  w.Key("protocol").String(ProtocolName(p.ivs.protocol));
  // rollcall's extras: the In-Stream profile of the participant.
  w.Key("nickname").String(p.profile.nickname);
  w.Key("profileImageUrl").OptString(p.profile.profile_image_url);
  w.EndObject();
}

json::object EventJson(const StageService& stages, const Tenant& t,
                       const std::string& participant_id, const ParticipantEvent& e) {
  json::object o;
  o["name"] = e.event.name;
  o["participantId"] = participant_id;
  o["eventTime"] = FormatTimestamp(e.event.at);
  if (!e.event.remote_participant_id.empty()) {
    o["remoteParticipantId"] = e.event.remote_participant_id;
  }
  if (!e.detail.error_code.empty()) o["errorCode"] = e.detail.error_code;
  if (!e.event.reason.empty()) o["reason"] = e.event.reason;
  if (!e.detail.destination_stage_id.empty()) {
    o["destinationStageArn"] = StageArnFromId(stages, t, e.detail.destination_stage_id);
    o["destinationSessionId"] = e.detail.destination_session_id;
  }
  o["replica"] = e.detail.replica;
  return o;
}

json::object ReplicaJson(const StageService& stages, const Tenant& t, const ReplicaView& r) {
  return json::object{
      {"sourceStageArn", StageArnFromId(stages, t, r.source_stage_id)},
      {"participantId", r.link.participant_id},
      {"sourceSessionId", r.source_stage_session_id},
      {"destinationStageArn", StageArnFromId(stages, t, r.destination_stage_id)},
      {"destinationSessionId", r.destination_stage_session_id},
      {"replicationState", ReplicationStateName(r.link.state)},
  };
}

}  // namespace

void RegisterParticipantOperations(Registrar& r) {
  r.Operation("GetParticipant", [](Call c) {
    StatusOr<Participant> p = c.stages->GetParticipant(
        c.tenant, *c.Str("stageArn"), *c.Str("sessionId"), *c.Str("participantId"));
    if (!p.ok()) return c.Fail(p.status());
    std::string body;
    http::JsonWriter w(&body);
    w.BeginObject().Key("participant");
    WriteParticipant(*c.stages, c.tenant, p.value(), w);
    w.EndObject();
    c.OkBody(std::move(body));
  });

  r.Operation("ListParticipants", [](Call c) {
    ParticipantQuery q;
    q.user_id = c.Str("filterByUserId");
    q.published = c.Bool("filterByPublished");
    q.state = c.Str("filterByState");
    q.recording_state = c.Str("filterByRecordingState");
    StatusOr<ParticipantFilter> filter = ParseParticipantFilter(q);
    if (!filter.ok()) return c.Fail(filter.status());
    const std::string arn = *c.Str("stageArn");
    const std::string session = *c.Str("sessionId");
    const std::string context = "ListParticipants|" + arn + "|" + session + "|" +
                                q.user_id.value_or("\x01") + "|" +
                                (q.published ? (*q.published ? "1" : "0") : "-") + "|" +
                                q.state.value_or("-") + "|" + q.recording_state.value_or("-");
    StatusOr<std::optional<json::array>> pos = c.Position(context, "isi");
    if (!pos.ok()) return c.Fail(pos.status());
    std::optional<ParticipantKey> after;
    if (pos.value()) {
      const json::array& a = *pos.value();
      after =
          ParticipantKey{a.at(0).as_int64(), std::string(a.at(1).as_string()), a.at(2).as_int64()};
    }
    StatusOr<KeysetPage<ParticipantSummary>> page =
        c.stages->ListParticipants(c.tenant, arn, session, filter.value(), after, c.MaxResults(50));
    if (!page.ok()) return c.Fail(page.status());
    std::string body;
    body.reserve(64 + 256 * page->items.size());
    http::JsonWriter w(&body);
    w.BeginObject().Key("participants").BeginArray();
    for (const ParticipantSummary& p : page->items) {
      w.BeginObject();
      WriteSummaryMembers(*c.stages, c.tenant, p, w);
      w.EndObject();
    }
    w.EndArray();
    if (page->more) {
      const ParticipantSummary& last = page->items.back();
      w.Key("nextToken")
          .String(
              c.NextToken(context, {last.first_join_at, last.ivs_participant_id, last.member_id}));
    }
    w.EndObject();
    c.OkBody(std::move(body));
  });

  r.Operation("ListParticipantEvents", [](Call c) {
    const std::string arn = *c.Str("stageArn");
    const std::string session = *c.Str("sessionId");
    const std::string participant = *c.Str("participantId");
    const std::string context = "ListParticipantEvents|" + arn + "|" + session + "|" + participant;
    StatusOr<std::optional<json::array>> pos = c.Position(context, "i");
    if (!pos.ok()) return c.Fail(pos.status());
    const RowId after = pos.value() ? pos.value()->at(0).as_int64() : 0;
    StatusOr<KeysetPage<ParticipantEvent>> page = c.stages->ListParticipantEvents(
        c.tenant, arn, session, participant, after, c.MaxResults(50));
    if (!page.ok()) return c.Fail(page.status());
    json::array items;
    for (const ParticipantEvent& e : page->items) {
      items.push_back(EventJson(*c.stages, c.tenant, participant, e));
    }
    json::object out{{"events", std::move(items)}};
    if (page->more) out["nextToken"] = c.NextToken(context, {page->items.back().event.id});
    c.Ok(std::move(out));
  });

  r.Operation("DisconnectParticipant", [](Call c) {
    c.stages->DisconnectParticipant(c.tenant, *c.Str("stageArn"), *c.Str("participantId"),
                                    c.StrOr("reason", ""),
                                    c.Then<Done>([](const Done&) { return json::object(); }));
  });

  r.Operation("StartParticipantReplication", [](Call c) {
    ReplicationRequest req;
    req.source_stage_arn = *c.Str("sourceStageArn");
    req.destination_stage_arn = *c.Str("destinationStageArn");
    req.participant_id = *c.Str("participantId");
    req.reconnect_window_seconds = c.Int("reconnectWindowSeconds").value_or(0);
    if (const json::value* a = c.input.if_contains("attributes"); a && a->is_object()) {
      req.attributes = AttributesFrom(a->as_object());
    }
    c.stages->StartParticipantReplication(c.tenant, std::move(req),
                                          c.Then<Done>([](const Done&) { return json::object(); }));
  });

  r.Operation("StopParticipantReplication", [](Call c) {
    c.stages->StopParticipantReplication(c.tenant, *c.Str("sourceStageArn"),
                                         *c.Str("destinationStageArn"), *c.Str("participantId"),
                                         c.Then<Done>([](const Done&) { return json::object(); }));
  });

  r.Operation("ListParticipantReplicas", [](Call c) {
    const std::string arn = *c.Str("sourceStageArn");
    const std::string participant = *c.Str("participantId");
    const std::string context = "ListParticipantReplicas|" + arn + "|" + participant;
    StatusOr<std::optional<json::array>> pos = c.Position(context, "i");
    if (!pos.ok()) return c.Fail(pos.status());
    const RowId after = pos.value() ? pos.value()->at(0).as_int64() : 0;
    StatusOr<KeysetPage<ReplicaView>> page =
        c.stages->ListParticipantReplicas(c.tenant, arn, participant, after, c.MaxResults(50));
    if (!page.ok()) return c.Fail(page.status());
    json::array items;
    for (const ReplicaView& v : page->items) items.push_back(ReplicaJson(*c.stages, c.tenant, v));
    json::object out{{"replicas", std::move(items)}};
    if (page->more) out["nextToken"] = c.NextToken(context, {page->items.back().link.id});
    c.Ok(std::move(out));
  });
}

}  // namespace rollcall::ivs
