"""Named setup steps for case files: `fixture NAME key=value ... -> var`.

Each fixture returns (primary value, {field: value}); the runner sets ${var} to the primary
value and ${var.field} to each field. Every fixture goes through the public HTTP API or the
`rollcall` command line, exactly as a user would.
"""

from harness import TestFailure, check


def _need(args, *names):
    for n in names:
        if n not in args:
            raise TestFailure("fixture argument %s= is required" % n)


def tenant(run, args):
    """A new tenant via `rollcall tenant create` while the server runs.
    -> adminToken; fields tenantId, accountId, accessKeyId, secretAccessKey."""
    c = run.server.create_tenant(args.get("prefix", "fx"))
    return c["adminToken"], c


def app(run, args):
    """A new application (admin=TOKEN, type=LIVE|CHAT|STREAMING) -> apiKey;
    fields applicationId, stageArn, createdAt, type."""
    _need(args, "admin")
    a = run.server.create_application(args["admin"], args.get("type", "LIVE"),
                                      args.get("name", ""))
    return a["apiKey"], a


def session(run, args):
    """Starts a session (key=APIKEY) -> sessionId; fields createdAt, stageSessionId."""
    _need(args, "key")
    r = run.client.request("POST", "/v1/applications/sessions", headers={"ApiKey": args["key"]})
    check(r.status == 201, "start session: %r" % r)
    b = r.json()
    return b["sessionId"], b


def enter(run, args):
    """One enter (key, session, id, nickname[, image]) -> participantSessionId;
    fields createdAt, status."""
    _need(args, "key", "session", "id")
    body = {"participantId": args["id"], "nickname": args.get("nickname", args["id"])}
    if "image" in args:
        body["profileImageUrl"] = args["image"]
    r = run.client.request("POST", "/v1/applications/sessions/%s/participants/enter"
                           % args["session"], headers={"ApiKey": args["key"]}, json_body=body)
    check(r.status in (200, 201), "enter %s: %r" % (args["id"], r))
    b = r.json()
    return b["participantSessionId"], {"createdAt": b["createdAt"], "status": r.status}


def leave(run, args):
    """One leave (key, session, id) -> participantSessionId; field deletedAt."""
    _need(args, "key", "session", "id")
    r = run.client.request("POST", "/v1/applications/sessions/%s/participants/leave"
                           % args["session"], headers={"ApiKey": args["key"]},
                           json_body={"participantId": args["id"]})
    check(r.status == 200, "leave %s: %r" % (args["id"], r))
    b = r.json()
    return b["participantSessionId"], {"deletedAt": b["deletedAt"]}


def enter_many(run, args):
    """count=N sequential enters of participants PREFIX000.. (prefix=, default p) with
    nicknames NICKPREFIX000.. (nickprefix=, default n), or nickname=SAME for all; -> N;
    fields first, last (enter times of the first and the last visit)."""
    _need(args, "key", "session", "count")
    prefix = args.get("prefix", "p")
    n = int(args["count"])
    first = last = None
    for i in range(n):
        nick = args["nickname"] if "nickname" in args else "%s%03d" % (args.get("nickprefix", "n"), i)
        _, f = enter(run, {"key": args["key"], "session": args["session"],
                           "id": "%s%03d" % (prefix, i), "nickname": nick})
        first = first or f["createdAt"]
        last = f["createdAt"]
    return n, {"first": first, "last": last}


FIXTURES = {
    "tenant": tenant,
    "app": app,
    "session": session,
    "enter": enter,
    "leave": leave,
    "enter-many": enter_many,
}


def run(name, file_run, args):
    if name not in FIXTURES:
        raise TestFailure("unknown fixture %r (have: %s)" % (name, ", ".join(sorted(FIXTURES))))
    return FIXTURES[name](file_run, args)
