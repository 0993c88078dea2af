"""Tenant isolation sweeps (spec: README.md, Invariants; instream-api.md, Authentication): a
tenant created with `rollcall tenant create` (before or while the server runs) tries every
endpoint, under both prefixes and with each of its credentials, on another tenant's sessions and
applications. Every answer must be exactly the answer for an id that exists nowhere (so nothing
can be learned), 404 with the documented code for the right kind of credential and 401 for the
wrong kind, and nothing of the other tenant may change."""

import json
import uuid

from harness import check
from instream import InStream, expect_status

PREFIXES = ("/v1", "/api/v1")

# (method, path with {sid} or {aid}, body)
SESSION_ENDPOINTS = [
    ("GET", "/applications/sessions/{sid}", None),
    ("GET", "/applications/sessions/{sid}/participants", None),
    ("GET", "/applications/sessions/{sid}/participants?nickname=a&size=5&firstView=true", None),
    ("GET", "/applications/sessions/{sid}/participants?firstView=false&name=nickname&option=ASC", None),
    ("POST", "/applications/sessions/{sid}/participants/enter", {"participantId": "victim", "nickname": "x"}),
    ("POST", "/applications/sessions/{sid}/participants/enter", {"participantId": "intruder", "nickname": "x"}),
    ("POST", "/applications/sessions/{sid}/participants/leave", {"participantId": "victim"}),
    ("POST", "/applications/sessions/{sid}/participants/leave", {"participantId": "nobody"}),
    ("POST", "/applications/sessions/{sid}/end", None),
]
APP_ENDPOINTS = [
    ("GET", "/applications/{aid}", None),
    ("PATCH", "/applications/{aid}", {"status": "P"}),
    ("PATCH", "/applications/{aid}", {"status": "N"}),
    ("POST", "/applications/{aid}/api-key", None),
    ("DELETE", "/applications/{aid}", None),
]


class Tenant:
    """A tenant with one application, one session and one participant inside."""

    def __init__(self, server, creds, nickname):
        self.server = server
        self.nickname = nickname
        self.creds = creds
        self.admin = creds["adminToken"]
        self.app = server.create_application(self.admin)
        self.key = self.app["apiKey"]
        self.face = InStream(server, self.key)
        s = self.face.start_session()
        self.sid = s["sessionId"]
        self.stage_session_id = s["stageSessionId"]
        v = expect_status(self.face.enter(self.sid, "victim", nickname), 201, what="enter").json()
        self.psid = v["participantSessionId"]

    def snapshot(self):
        c = self.server.client()
        admin = {"Authorization": "Bearer " + self.admin}
        key = {"ApiKey": self.key}
        out = []
        for path, h in [("/v1/applications/sessions/%s" % self.sid, key),
                        ("/v1/applications/sessions/%s/participants?size=1000" % self.sid, key),
                        ("/v1/applications/sessions?size=1000", key),
                        ("/v1/applications?size=1000", admin),
                        ("/v1/applications/%s" % self.app["applicationId"], admin)]:
            r = c.request("GET", path, headers=h)
            check(r.status == 200, "snapshot %s: %r" % (path, r))
            out.append((path, r.text))
        c.close()
        return out


def _credentials(t):
    return {
        "ApiKey": {"ApiKey": t.key},
        "admin bearer": {"Authorization": "Bearer " + t.admin},
        "both": {"ApiKey": t.key, "Authorization": "Bearer " + t.admin},
        "none": {},
    }


def _sweep(server, attacker, victim):
    """Every endpoint on the victim's ids vs on fresh ids; returns the number of probes."""
    c = server.client()
    before = victim.snapshot()
    probes = 0
    targets = {
        "sid": [victim.sid, victim.sid.upper(), victim.stage_session_id, victim.psid,
                victim.app["applicationId"]],
        "aid": [victim.app["applicationId"], victim.app["applicationId"].upper(), victim.sid],
    }
    for endpoints, slot in ((SESSION_ENDPOINTS, "sid"), (APP_ENDPOINTS, "aid")):
        for prefix in PREFIXES:
            for method, path, body in endpoints:
                for cred_name, headers in _credentials(attacker).items():
                    ghost = str(uuid.uuid4())
                    want = c.request(method, prefix + path.format(**{slot: ghost}), headers=headers,
                                     json_body=body)
                    for target in targets[slot]:
                        if target == victim.stage_session_id:
                            ghost_like = "st-" + uuid.uuid4().hex[:13]
                            want2 = c.request(method, prefix + path.format(**{slot: ghost_like}),
                                              headers=headers, json_body=body)
                        else:
                            want2 = want
                        got = c.request(method, prefix + path.format(**{slot: target}),
                                        headers=headers, json_body=body)
                        probes += 1
                        what = "%s %s%s as %s on the other tenant's %s" % (
                            method, prefix, path, cred_name, target)
                        check((got.status, got.body) == (want2.status, want2.body),
                              "%s: answered %r, but an id that exists nowhere gets %r"
                              % (what, got, want2))
                        check(got.status in (400, 401, 404), "%s: status %d" % (what, got.status))
                    # The documented answer for the credential kind and a well-formed id.
                    right_kind = (slot == "sid" and cred_name in ("ApiKey", "both")) or (
                        slot == "aid" and cred_name in ("admin bearer", "both"))
                    if right_kind:
                        code = "APPLICATION_SESSION_NOT_FOUND" if slot == "sid" else "APPLICATION_NOT_FOUND"
                        check(want.status == 404 and want.json()["code"] == code,
                              "%s %s%s: expected 404 %s, got %r" % (method, prefix, path, code, want))
                    else:
                        check(want.status == 401 and want.json()["code"] == "UNAUTHORIZED",
                              "%s %s%s as %s: expected 401, got %r" % (method, prefix, path, cred_name, want))
    c.close()
    after = victim.snapshot()
    for (path, b1), (_, b2) in zip(before, after):
        check(b1 == b2, "the other tenant's %s changed:\n  before %s\n  after  %s" % (path, b1, b2))
    # The victim's own key and token still work on everything.
    expect_status(victim.face.enter(victim.sid, "victim", victim.nickname), 200, what="victim re-enter")
    return probes


def _lists_hold_only_own(server, t, other):
    c = server.client()
    apps = c.request("GET", "/v1/applications?size=1000", headers={"Authorization": "Bearer " + t.admin}).json()
    ids = {a["applicationId"] for a in apps["data"]}
    check(t.app["applicationId"] in ids and other.app["applicationId"] not in ids,
          "application list crosses tenants")
    sessions = c.request("GET", "/v1/applications/sessions?size=1000", headers={"ApiKey": t.key}).json()
    sids = {s["sessionId"] for s in sessions["data"]}
    check(sids == {t.sid}, "session list crosses tenants: %s" % sids)
    c.close()


def test_second_tenant_created_while_serving_reaches_nothing(ctx):
    a = Tenant(ctx.server, ctx.server.create_tenant("iso-a"), "Victim of A")
    b = Tenant(ctx.server, ctx.server.create_tenant("iso-b"), "Victim of B")
    check(a.creds["accountId"] != b.creds["accountId"], "two tenants share an account id")
    n = _sweep(ctx.server, b, a) + _sweep(ctx.server, a, b)
    check(n >= 300, "only %d probes" % n)
    if ctx.verbose:
        print("    %d cross-tenant probes" % n)
    _lists_hold_only_own(ctx.server, a, b)
    _lists_hold_only_own(ctx.server, b, a)
    # The same participant id in both tenants is two different people.
    va = a.face.search(a.sid)["data"][0]["participant"]
    vb = b.face.search(b.sid)["data"][0]["participant"]
    check(va["participantId"] == vb["participantId"] == "victim", "setup: %s %s" % (va, vb))
    check((va["nickname"], vb["nickname"]) == ("Victim of A", "Victim of B"),
          "profiles leak across tenants: %s / %s" % (va, vb))
    a.face.close()
    b.face.close()


def test_tenant_created_before_the_server_starts(ctx):
    srv = ctx.env.server("iso-before")
    # The CLI creates the database and the tenant; the server then starts on it.
    first = srv.create_tenant("before")
    srv.start()
    if ctx.env.database is None:
        check(srv.bootstrap is None, "serve bootstrapped a tenant into a store that had one")
        listed = [t["name"] for t in json.loads(srv.cli("tenant", "list"))]
        check(listed == [first["name"]], "tenants: %s" % listed)
    a = Tenant(srv, first, "Before")
    b = Tenant(srv, srv.create_tenant("while"), "While")
    _sweep(srv, b, a)
    _sweep(srv, a, b)
    _lists_hold_only_own(srv, a, b)
    a.face.close()
    b.face.close()
    check(srv.stop() == 0, "SIGTERM did not exit 0")
