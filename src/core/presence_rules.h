#ifndef ROLLCALL_CORE_PRESENCE_RULES_H_
#define ROLLCALL_CORE_PRESENCE_RULES_H_

#include <optional>
#include <string>

#include "core/model.h"
#include "core/presence.h"
#include "store/store.h"

namespace rollcall {

// The presence rules that run inside write transactions. Every report of a participant
// (enter, leave, heartbeat, other activity), whichever face or media server it comes through,
// goes through Arrive, Depart or Touch, so it is ordered, deduplicated, timed out and resumed
// the same way (docs/presence.md).
namespace rules {

// One report of a participant.
struct Report {
  Millis now = 0;              // the server's clock when the report is applied
  std::optional<int64_t> seq;  // the client's sequence number, when it sent one
  PresenceSource source = PresenceSource::kServer;  // who reports (used when a visit opens)
};

// The application's presence settings, or the defaults when it has none stored.
PresenceSettings PresenceSettingsOf(Tx& tx, RowId tenant, RowId app);

// Presence upkeep of rules::OpenVisit (core/service.h) and of a continued visit: a session
// that is no longer empty stops its idle window. REQUIRES: s has the new participant_count.
void OnVisitOpened(Tx& tx, const Session& s);

// Presence upkeep of rules::CloseVisit: the member's visit closed at `at`. Clears the member's
// due and resumable times, in *presence when the caller holds it (and writes it), else in the
// store; starts the idle window of an implicit session left empty. REQUIRES: s has the new
// participant_count.
void OnVisitClosed(Tx& tx, const Session& s, RowId member, Millis at, MemberPresence* presence);

// If m's open visit is overdue at `now`, closes it as timed out: leave time = the last time
// the participant was seen (never before the member's latest event), LEFT with reason TIMEOUT,
// and resumable for the reconnect window counted from the due time. Returns whether it closed.
bool ExpireIfOverdue(Tx& tx, Session* s, Member* m, Millis now);

enum class Outcome {
  kStale,      // an old or repeated report (by seq): nothing changed
  kOpen,       // the member is inside (enter: the open visit was already open)
  kOpened,     // enter: a new visit was opened
  kContinued,  // enter within the reconnect window: the last visit continues (JOINED RECONNECTED)
  kClosed,     // leave: the open visit was closed
  kAbsent,     // the member is not inside (leave: nothing was open; touch: not connected)
};

struct Result {
  Outcome outcome = Outcome::kStale;
  Millis at = 0;               // the time the report was recorded at
  std::optional<Visit> visit;  // the open visit, else the member's latest (nullopt: none)
};

// An enter or join of m (created by EnsureMember) in active session s. Expires an overdue visit
// first; then, unless the report is stale: returns the open visit, continues the last visit
// within the reconnect window, or opens a new one.
Result Arrive(Tx& tx, Session* s, Member* m, const Report& r);

// A leave of m with `reason` on the LEFT event. Expires an overdue visit first; then, unless
// the report is stale, closes the open visit at the report time; a resumable member may
// continue it within the reconnect window.
Result Depart(Tx& tx, Session* s, Member* m, const Report& r, const std::string& reason);

// A heartbeat (heartbeat = true) or any other activity of m. Expires an overdue visit first;
// then, unless stale, an open visit's participant is seen at the report time (a heartbeat also
// makes the member timed). Never opens a visit: kAbsent when m is not inside.
Result Touch(Tx& tx, Session* s, Member* m, const Report& r, bool heartbeat);

// The session a join enters: app's active session, unless it is idle past its window (then it
// is ended, at its idle due time), else a new implicit session started at `now`.
// REQUIRES: CheckWritable(*app) is OK.
Session JoinableSession(Tx& tx, Application* app, Millis now);

// Ends s (reason SESSION_IDLE, at its idle due time) when it is implicit, active, empty and its
// idle window is over at `now`. Returns whether it ended.
bool EndIfIdle(Tx& tx, Application* app, Session* s, Millis now);

// The reaper's work on one due member / idle session at `now`: the same rules as above, for
// rows nobody touched. Stale index entries (a member no longer open, a session no longer
// empty) are cleared.
void ReapMember(Tx& tx, const DueMember& d, Millis now);
void ReapSession(Tx& tx, const DueSession& d, Millis now);

// After an application's settings changed: the due times of its active session's open
// members and the session's idle due time follow the new settings.
void ApplyPresenceSettings(Tx& tx, const Application& app, const PresenceSettings& old_settings,
                           const PresenceSettings& settings);

}  // namespace rules

}  // namespace rollcall

#endif  // ROLLCALL_CORE_PRESENCE_RULES_H_
