#include "core/presence_rules.h"

#include <algorithm>

#include "core/service.h"

namespace rollcall {
namespace rules {
namespace {

std::optional<Visit> LatestVisit(Tx& tx, const Member& m) {
  if (m.open_visit_id) return tx.GetVisit(m.tenant_id, *m.open_visit_id);
  if (m.last_visit_id == 0) return std::nullopt;
  return tx.GetVisit(m.tenant_id, m.last_visit_id);
}

// Reopens m's last visit, closed, at `at`: the visit continues (JOINED, reason RECONNECTED).
// Like OpenVisit, sets m's open visit without writing m.
void ContinueVisit(Tx& tx, Session* s, Member* m, Visit* visit, Millis at) {
  visit->deleted_at.reset();
  tx.UpdateVisit(*visit);
  m->open_visit_id = visit->id;
  s->participant_count += 1;
  tx.UpdateSession(*s);
  OnVisitOpened(tx, *s);
  Event e;
  e.tenant_id = s->tenant_id;
  e.session_id = s->id;
  e.member_id = m->id;
  e.name = "JOINED";
  e.at = at;
  e.reason = kReasonReconnected;
  tx.InsertEvent(&e);
}

// Records seq as applied and the participant as seen at `at`.
void Saw(MemberPresence* p, const Report& r, Millis at) {
  p->last_seen_at = at;
  if (r.seq) p->last_seq = r.seq;
}

// The settings of the session's application, read once and only when needed.
class SettingsOf {
 public:
  SettingsOf(Tx& tx, const Session& s) : tx_(tx), s_(s) {}
  const PresenceSettings& get() {
    if (!settings_) settings_ = PresenceSettingsOf(tx_, s_.tenant_id, s_.application_id);
    return *settings_;
  }

 private:
  Tx& tx_;
  const Session& s_;
  std::optional<PresenceSettings> settings_;
};

// ExpireIfOverdue with the member's presence held in *p (and written here when it closes).
bool Expire(Tx& tx, Session* s, Member* m, MemberPresence* p, SettingsOf* settings, Millis now) {
  if (!m->open_visit_id || !presence::IsOverdue(*p, now)) return false;
  const MemberPresence before = *p;
  Millis at = before.last_seen_at.value_or(*before.due_at);
  if (std::optional<Millis> last = tx.LastEventTime(s->tenant_id, m->id)) at = std::max(at, *last);
  CloseVisit(tx, s, m, at, kReasonTimeout, p);
  p->resumable_until = presence::ResumableUntil(before, settings->get(), *before.due_at);
  tx.UpdateMemberAndPresence(*m, *p);
  return true;
}

}  // namespace

PresenceSettings PresenceSettingsOf(Tx& tx, RowId tenant, RowId app) {
  return tx.GetPresenceSettings(tenant, app).value_or(PresenceSettings{});
}

void OnVisitOpened(Tx& tx, const Session& s) {
  if (s.participant_count != 1) return;
  SessionPresence sp = tx.GetSessionPresence(s.tenant_id, s.id);
  if (sp.idle_due_at) {
    sp.idle_due_at.reset();
    tx.UpdateSessionPresence(s.tenant_id, s.id, sp);
  }
}

void OnVisitClosed(Tx& tx, const Session& s, RowId member, Millis at, MemberPresence* presence) {
  if (presence != nullptr) {
    presence->due_at.reset();
    presence->resumable_until.reset();
  } else {
    MemberPresence p = tx.GetMemberPresence(s.tenant_id, member);
    if (p.due_at || p.resumable_until) {
      p.due_at.reset();
      p.resumable_until.reset();
      tx.UpdateMemberPresence(s.tenant_id, member, p);
    }
  }
  if (s.participant_count != 0) return;
  SessionPresence sp = tx.GetSessionPresence(s.tenant_id, s.id);
  if (!sp.implicit) return;
  const PresenceSettings settings = PresenceSettingsOf(tx, s.tenant_id, s.application_id);
  std::optional<Millis> due = presence::IdleDueAt(sp, settings, 0, at);
  if (due != sp.idle_due_at) {
    sp.idle_due_at = due;
    tx.UpdateSessionPresence(s.tenant_id, s.id, sp);
  }
}

bool ExpireIfOverdue(Tx& tx, Session* s, Member* m, Millis now) {
  if (!m->open_visit_id) return false;
  MemberPresence p = tx.GetMemberPresence(s->tenant_id, m->id);
  SettingsOf settings(tx, *s);
  return Expire(tx, s, m, &p, &settings, now);
}

Result Arrive(Tx& tx, Session* s, Member* m, const Report& r) {
  MemberPresence p = tx.GetMemberPresence(s->tenant_id, m->id);
  SettingsOf settings(tx, *s);
  Expire(tx, s, m, &p, &settings, r.now);
  Result out;
  out.at = presence::ReportTime(p, r.now);
  if (presence::IsStale(p, r.seq)) {
    out.outcome = Outcome::kStale;
    out.visit = LatestVisit(tx, *m);
    return out;
  }
  if (m->open_visit_id) {
    out.outcome = Outcome::kOpen;
    out.visit = tx.GetVisit(s->tenant_id, *m->open_visit_id);
  } else if (std::optional<Visit> last =
                 presence::Continues(p, out.at) ? LatestVisit(tx, *m) : std::nullopt;
             last) {
    ContinueVisit(tx, s, m, &*last, out.at);
    out.outcome = Outcome::kContinued;
    out.visit = std::move(last);
  } else {
    bool opened = false;
    out.visit = OpenVisit(tx, s, m, out.at, &opened);
    out.outcome = Outcome::kOpened;
    p.source = r.source;
    p.heartbeats = false;
  }
  Saw(&p, r, out.at);
  p.resumable_until.reset();
  p.due_at = presence::DueAt(p, settings.get());
  if (out.outcome == Outcome::kOpen) {
    tx.UpdateMemberPresence(s->tenant_id, m->id, p);
  } else {
    tx.UpdateMemberAndPresence(*m, p);
  }
  return out;
}

Result Depart(Tx& tx, Session* s, Member* m, const Report& r, const std::string& reason) {
  MemberPresence p = tx.GetMemberPresence(s->tenant_id, m->id);
  SettingsOf settings(tx, *s);
  Expire(tx, s, m, &p, &settings, r.now);
  Result out;
  out.at = presence::ReportTime(p, r.now);
  if (presence::IsStale(p, r.seq)) {
    out.outcome = Outcome::kStale;
    out.visit = LatestVisit(tx, *m);
    return out;
  }
  if (m->open_visit_id) {
    const MemberPresence before = p;
    out.visit = CloseVisit(tx, s, m, out.at, reason, &p);
    out.outcome = Outcome::kClosed;
    p.resumable_until = presence::ResumableUntil(before, settings.get(), out.at);
  } else {
    out.outcome = Outcome::kAbsent;
    out.visit = LatestVisit(tx, *m);
  }
  Saw(&p, r, out.at);
  if (out.outcome == Outcome::kClosed) {
    tx.UpdateMemberAndPresence(*m, p);
  } else {
    tx.UpdateMemberPresence(s->tenant_id, m->id, p);
  }
  return out;
}

Result Touch(Tx& tx, Session* s, Member* m, const Report& r, bool heartbeat) {
  MemberPresence p = tx.GetMemberPresence(s->tenant_id, m->id);
  SettingsOf settings(tx, *s);
  Expire(tx, s, m, &p, &settings, r.now);
  Result out;
  out.at = presence::ReportTime(p, r.now);
  out.visit = LatestVisit(tx, *m);
  if (presence::IsStale(p, r.seq)) {
    out.outcome = Outcome::kStale;
    return out;
  }
  out.outcome = m->open_visit_id ? Outcome::kOpen : Outcome::kAbsent;
  Saw(&p, r, out.at);
  if (m->open_visit_id) {
    if (heartbeat && p.source != PresenceSource::kReplica) p.heartbeats = true;
    p.due_at = presence::DueAt(p, settings.get());
  }
  tx.UpdateMemberPresence(s->tenant_id, m->id, p);
  return out;
}

Session JoinableSession(Tx& tx, Application* app, Millis now) {
  if (app->active_session_id) {
    std::optional<Session> s = tx.GetSession(app->tenant_id, *app->active_session_id);
    if (s && s->active() && !EndIfIdle(tx, app, &*s, now)) return std::move(*s);
  }
  Session s = StartSessionIn(tx, app, now);
  SessionPresence sp;
  sp.implicit = true;
  sp.idle_due_at = presence::IdleDueAt(sp, PresenceSettingsOf(tx, app->tenant_id, app->id), 0, now);
  tx.UpdateSessionPresence(s.tenant_id, s.id, sp);
  return s;
}

bool EndIfIdle(Tx& tx, Application* app, Session* s, Millis now) {
  if (!s->active() || s->participant_count > 0) return false;
  const SessionPresence sp = tx.GetSessionPresence(s->tenant_id, s->id);
  if (!sp.implicit || !presence::IsIdleOver(sp, now)) return false;
  EndSessionIn(tx, app, s, *sp.idle_due_at, kReasonSessionIdle);
  return true;
}

void ReapMember(Tx& tx, const DueMember& d, Millis now) {
  std::optional<Participant> p = tx.GetParticipant(d.tenant_id, d.member_id);
  if (!p) return;
  std::optional<Session> s = tx.GetSession(d.tenant_id, p->member.session_id);
  if (s && s->active() && p->member.open_visit_id) {
    ExpireIfOverdue(tx, &*s, &p->member, now);
    return;
  }
  MemberPresence mp = tx.GetMemberPresence(d.tenant_id, d.member_id);
  if (mp.due_at) {
    mp.due_at.reset();
    tx.UpdateMemberPresence(d.tenant_id, d.member_id, mp);
  }
}

void ReapSession(Tx& tx, const DueSession& d, Millis now) {
  // The application first, then the session: the order every write takes them in.
  std::optional<Application> app = tx.GetApplication(d.tenant_id, d.application_id);
  std::optional<Session> s = tx.GetSession(d.tenant_id, d.session_id);
  if (!s || s->application_id != d.application_id) return;
  if (app && EndIfIdle(tx, &*app, &*s, now)) return;
  SessionPresence sp = tx.GetSessionPresence(d.tenant_id, d.session_id);
  if (sp.idle_due_at && (!s->active() || s->participant_count > 0 || !sp.implicit)) {
    sp.idle_due_at.reset();
    tx.UpdateSessionPresence(d.tenant_id, d.session_id, sp);
  }
}

void ApplyPresenceSettings(Tx& tx, const Application& app, const PresenceSettings& old_settings,
                           const PresenceSettings& settings) {
  if (!app.active_session_id) return;
  const RowId tenant = app.tenant_id;
  for (RowId member : tx.ListOpenMembers(tenant, *app.active_session_id)) {
    MemberPresence p = tx.GetMemberPresence(tenant, member);
    std::optional<Millis> due = presence::DueAt(p, settings);
    if (due != p.due_at) {
      p.due_at = due;
      tx.UpdateMemberPresence(tenant, member, p);
    }
  }
  SessionPresence sp = tx.GetSessionPresence(tenant, *app.active_session_id);
  if (sp.idle_due_at) {
    const Millis emptied_at = *sp.idle_due_at - old_settings.idle_session_seconds * 1000;
    sp.idle_due_at = emptied_at + settings.idle_session_seconds * 1000;
    tx.UpdateSessionPresence(tenant, *app.active_session_id, sp);
  }
}

}  // namespace rules
}  // namespace rollcall
