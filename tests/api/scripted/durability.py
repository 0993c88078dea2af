"""Nothing acknowledged is lost (spec: README.md, Invariants): a 2xx answer survives SIGKILL of
the server the next instant. Each test runs its own server and restarts it on the same database."""

import http.client
import threading
import time

from harness import check
from instream import InStream


def _fresh_server(ctx, name):
    srv = ctx.env.server(name)
    srv.start()
    t = srv.create_tenant("durable")
    app = srv.create_application(t["adminToken"])
    return srv, t, app


def test_sigkill_right_after_the_last_ack_of_500_concurrent_enters(ctx):
    srv, _, app = _fresh_server(ctx, "durable-500")
    n, conns = 500, 8
    sid = InStream(srv, app["apiKey"]).start_session()["sessionId"]
    acked = {}
    lock = threading.Lock()
    errors = []

    def worker(w):
        c = InStream(srv, app["apiKey"])
        try:
            for i in range(w, n, conns):
                r = c.enter(sid, "d%03d" % i)
                if r.status != 201:
                    errors.append(r)
                    return
                with lock:
                    acked["d%03d" % i] = r.json()
                    if len(acked) == n:
                        srv.kill()  # right after the last 2xx, before anything else
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, "enter failed before the kill: %r" % errors[:1])
    check(len(acked) == n and not srv.alive(), "expected %d acks then a kill" % n)

    srv.start()  # same database
    c = InStream(srv, app["apiKey"])
    visits = {v["participant"]["participantId"]: v for v in c.all_visits(sid)}
    missing = sorted(set(acked) - set(visits))
    check(not missing, "%d acknowledged enters lost after SIGKILL, e.g. %s" % (len(missing), missing[:5]))
    for pid, a in acked.items():
        v = visits[pid]
        check(v["participantSessionId"] == a["participantSessionId"] and v["createdAt"] == a["createdAt"],
              "visit of %s changed across the restart: %s vs %s" % (pid, v, a))
    s = c.get_session(sid)
    check(s["visitCount"] == n and s["participantCount"] == n and s["deletedAt"] is None,
          "session after restart: %s" % s)
    c.close()
    check(srv.stop() == 0, "SIGTERM did not exit 0")


def test_sigkill_in_the_middle_of_enters_and_leaves(ctx):
    srv, _, app = _fresh_server(ctx, "durable-mid")
    conns = 8
    sid = InStream(srv, app["apiKey"]).start_session()["sessionId"]
    enters, leaves = {}, {}
    lock = threading.Lock()
    stop = threading.Event()
    target = 300

    def worker(w):
        c = InStream(srv, app["apiKey"])
        i = 0
        try:
            while not stop.is_set():
                pid = "w%d-%04d" % (w, i)
                i += 1
                try:
                    r = c.enter(sid, pid)
                    if r.status == 201:
                        with lock:
                            enters[pid] = r.json()
                    if i % 3 == 0:
                        r = c.leave(sid, pid)
                        if r.status == 200:
                            with lock:
                                leaves[pid] = r.json()
                except (OSError, http.client.HTTPException):
                    return  # the server is gone; what was acknowledged is recorded above
                with lock:
                    if len(enters) >= target:
                        stop.set()
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(conns)]
    for t in threads:
        t.start()
    stop.wait(60)
    srv.kill()  # requests are in flight on every connection
    for t in threads:
        t.join()
    check(len(enters) >= target, "only %d enters were acknowledged" % len(enters))

    srv.start()
    c = InStream(srv, app["apiKey"])
    visits = {v["participant"]["participantId"]: v for v in c.all_visits(sid)}
    lost = [p for p in enters if p not in visits]
    check(not lost, "%d acknowledged enters lost, e.g. %s" % (len(lost), lost[:5]))
    for pid, a in enters.items():
        check(visits[pid]["participantSessionId"] == a["participantSessionId"], "visit of %s changed" % pid)
    for pid, a in leaves.items():
        check(visits[pid]["deletedAt"] == a["deletedAt"],
              "acknowledged leave of %s lost: %s vs %s" % (pid, visits[pid]["deletedAt"], a["deletedAt"]))
    s = c.get_session(sid)
    open_visits = sum(1 for v in visits.values() if v["deletedAt"] is None)
    check(s["visitCount"] == len(visits) and s["participantCount"] == open_visits,
          "counts after the crash do not add up: %s, %d visits, %d open" % (s, len(visits), open_visits))
    c.close()
    check(srv.stop() == 0, "SIGTERM did not exit 0")


def test_sigterm_finishes_requests_in_flight_and_exits_zero(ctx):
    srv, _, app = _fresh_server(ctx, "durable-term")
    sid = InStream(srv, app["apiKey"]).start_session()["sessionId"]
    acked = {}
    lock = threading.Lock()
    started = threading.Event()

    def worker(w):
        c = InStream(srv, app["apiKey"])
        try:
            for i in range(1000):
                started.set()
                try:
                    r = c.enter(sid, "t%d-%03d" % (w, i))
                except (OSError, http.client.HTTPException):
                    return
                if r.status != 201:
                    return  # refused or closed while stopping
                with lock:
                    acked[r.json()["participant"]["participantId"]] = r.json()
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    started.wait(10)
    time.sleep(0.2)
    code = srv.stop()
    for t in threads:
        t.join()
    check(code == 0, "SIGTERM exit code %s, log:\n%s" % (code, srv.log_tail()))
    check(acked, "nothing was acknowledged before SIGTERM")
    srv.start()
    c = InStream(srv, app["apiKey"])
    visits = {v["participant"]["participantId"] for v in c.all_visits(sid)}
    lost = set(acked) - visits
    check(not lost, "%d acknowledged enters lost across SIGTERM" % len(lost))
    c.close()
    srv.stop()
