"""A model of presence for load tests: workers that enter and leave their own participants
over keep-alive connections and remember what the server acknowledged, and the checks that
compare a participant's visits on the server with that history.

Each participant belongs to one worker and its operations are sequential, so its visits
after any set of committed operations are determined: the acknowledged ones, plus at most
the one operation per worker that was in flight when the server went away.
"""

import http.client
import random
import threading

import harness
from harness import check


class Op:
    __slots__ = ("pid", "kind", "outcome", "status", "visit")

    def __init__(self, pid, kind):
        self.pid, self.kind = pid, kind
        self.outcome = "unknown"  # "acked": 2xx read in full; "unknown": no answer
        self.status = None
        self.visit = None


class Worker(threading.Thread):
    """One keep-alive connection; enters and leaves of its own participants, one at a time,
    until the first request without an answer (the kill)."""

    def __init__(self, server, tenant, pids, inside, stop, seed):
        super().__init__(daemon=True)
        self.server, self.tenant, self.pids, self.inside, self.stop = server, tenant, pids, inside, stop
        self.seed = seed
        self.ops = []
        self.error = None

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        rng = random.Random(self.seed)
        try:
            while not self.stop.is_set():
                pid = rng.choice(self.pids)
                op = Op(pid, "leave" if self.inside[pid] else "enter")
                self.ops.append(op)
                if op.kind == "enter":
                    path, body = "/participants/enter", harness.enter_body(pid)
                else:
                    path, body = "/participants/leave", {"participantId": pid}
                try:
                    status, _, resp = harness.send(conn, "POST", self.tenant.path(path), body,
                                                   self.tenant.key)
                except (OSError, http.client.HTTPException):
                    return  # the server died under this request: its outcome is unknown
                op.status = status
                if status not in (200, 201):
                    self.error = f"{op.kind} {pid}: {status} {resp}"
                    return
                op.outcome, op.visit = "acked", resp
                self.inside[pid] = op.kind == "enter"
        finally:
            conn.close()


def visit_key(v):
    return (v["participantSessionId"], v["createdAt"], v["deletedAt"])


def expected_visits(before, ops):
    """The visits of one participant after its acknowledged ops, from `before`. Returns
    (visits, the unknown op or None)."""
    visits = [dict(v) for v in before]
    unknown = None
    for op in ops:
        if op.outcome == "unknown":
            unknown = op
            continue
        check(unknown is None, f"{op.pid}: an op was acknowledged after one without answer")
        v = op.visit
        open_v = visits[-1] if visits and visits[-1]["deletedAt"] is None else None
        if op.kind == "enter":
            if op.status == 201:
                check(open_v is None, f"{op.pid}: enter opened a second visit")
                visits.append({"participantSessionId": v["participantSessionId"],
                               "createdAt": v["createdAt"], "deletedAt": None})
            else:
                check(open_v is not None and v["participantSessionId"] ==
                      open_v["participantSessionId"], f"{op.pid}: repeated enter returned {v}")
        else:
            if open_v is not None:
                check(v["participantSessionId"] == open_v["participantSessionId"] and
                      v["deletedAt"] is not None, f"{op.pid}: leave answered {v}")
                open_v["deletedAt"] = v["deletedAt"]
            else:
                check(visits and visit_key(v) == visit_key(visits[-1]),
                      f"{op.pid}: repeated leave changed the visit: {v}")
    return visits, unknown


def verify_participant(pid, before, ops, actual):
    expected, unknown = expected_visits(before, ops)
    got = [visit_key(v) for v in actual]
    want = [visit_key(v) for v in expected]
    if got == want:
        return "unchanged" if unknown else None
    check(unknown is not None, f"{pid}: visits differ from the acknowledged history:\n"
                               f"  want {want}\n  got  {got}")
    open_v = expected[-1] if expected and expected[-1]["deletedAt"] is None else None
    if unknown.kind == "enter":
        check(open_v is None and len(got) == len(want) + 1 and got[:-1] == want and
              got[-1][2] is None, f"{pid}: the unanswered enter is half there:\n"
                                  f"  want {want} (+1 open)\n  got  {got}")
    else:
        check(open_v is not None and len(got) == len(want) and got[:-1] == want[:-1] and
              got[-1][0] == want[-1][0] and got[-1][1] == want[-1][1] and
              got[-1][2] is not None and got[-1][2] >= got[-1][1],
              f"{pid}: the unanswered leave is half there:\n  want {want} (closed)\n  got  {got}")
    return "applied"


def by_participant(visits):
    out = {}
    for v in visits:
        out.setdefault(v["participant"]["participantId"], []).append(v)
    return out


def matches_prefix(pid, before, ops, actual, at_least):
    """Whether `actual` is the state after the first k ops for some k >= at_least (a
    consistent snapshot taken while they ran). Returns that k or raises."""
    got = [visit_key(v) for v in actual]
    for k in range(at_least, len(ops) + 1):
        if [visit_key(v) for v in expected_visits(before, ops[:k])[0]] == got:
            return k
    raise harness.Failure(f"{pid}: the visits are no prefix of the acknowledged history "
                          f"(at least {at_least} of {len(ops)} ops): {got}")


def snapshot(visits):
    """Per participant, the visit keys a later verification starts from."""
    return {pid: [{"participantSessionId": v["participantSessionId"], "createdAt": v["createdAt"],
                   "deletedAt": v["deletedAt"]} for v in vs]
            for pid, vs in by_participant(visits).items()}
