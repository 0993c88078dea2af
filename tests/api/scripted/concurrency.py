"""Concurrent writers over many connections: idempotent enter and leave, end racing enters,
counts that add up (spec: README.md, Invariants; instream-api.md, Participants)."""

import random
import threading

from harness import TestFailure, check
from instream import InStream, expect_status, parallel


def _clients(ctx, key, n):
    return [InStream(ctx.server, key) for _ in range(n)]


def _close(clients):
    for c in clients:
        c.close()


def test_50_concurrent_enters_of_one_participant_open_one_visit(ctx):
    _, app = ctx.new_tenant_app()
    clients = _clients(ctx, app["apiKey"], 50)
    try:
        sid = clients[0].start_session()["sessionId"]
        seen = set()
        for rnd in range(3):
            rs = parallel(50, lambda i: clients[i].enter(sid, "same-user", "nick%d" % i))
            statuses = sorted(r.status for r in rs)
            check(statuses == [200] * 49 + [201],
                  "round %d: expected one 201 and 49 200, got %s" % (rnd, statuses))
            ids = {r.json()["participantSessionId"] for r in rs}
            check(len(ids) == 1, "round %d: %d different visits returned" % (rnd, len(ids)))
            created = {r.json()["createdAt"] for r in rs}
            check(len(created) == 1, "round %d: the open visit has several enter times" % rnd)
            psid = ids.pop()
            check(psid not in seen, "round %d reopened an earlier visit" % rnd)
            seen.add(psid)
            s = clients[0].get_session(sid)
            check(s["participantCount"] == 1 and s["visitCount"] == rnd + 1,
                  "round %d: counts %s" % (rnd, s))
            # 50 concurrent leaves: one closes the visit, all return the same leave time.
            ls = parallel(50, lambda i: clients[i].leave(sid, "same-user"))
            check(all(r.status == 200 for r in ls), "leaves: %s" % [r for r in ls if r.status != 200][:3])
            left = {r.json()["deletedAt"] for r in ls}
            check(len(left) == 1 and None not in left,
                  "round %d: concurrent leaves gave leave times %s" % (rnd, left))
            check({r.json()["participantSessionId"] for r in ls} == {psid}, "leave closed another visit")
            s = clients[0].get_session(sid)
            check(s["participantCount"] == 0 and s["visitCount"] == rnd + 1, "after leaves: %s" % s)
        visits = clients[0].all_visits(sid)
        check({v["participantSessionId"] for v in visits} == seen and len(visits) == 3,
              "search shows %d visits, expected the 3 opened" % len(visits))
    finally:
        _close(clients)


def test_end_racing_many_enters_leaves_nothing_open(ctx):
    _, app = ctx.new_tenant_app()
    n_threads, cap = 16, 300
    clients = _clients(ctx, app["apiKey"], n_threads + 1)
    try:
        sid = clients[0].start_session()["sessionId"]
        ender = clients[n_threads]
        end_result = []
        acks = [0]
        lock = threading.Lock()
        go_end = threading.Event()

        def worker(i):
            # Enters until the session has ended under it (a 409), so every thread races the end.
            out = []
            for j in range(cap):
                pid = "p%02d-%03d" % (i, j)
                r = clients[i].enter(sid, pid)
                out.append((pid, r))
                if r.status != 201:
                    break
                with lock:
                    acks[0] += 1
                    if acks[0] == 40:
                        go_end.set()
            return out

        def end_when_told():
            go_end.wait(30)
            end_result.append(ender.end_session(sid))

        t = threading.Thread(target=end_when_told)
        t.start()
        results = [r for rs in parallel(n_threads, worker) for r in rs]
        t.join()
        end = expect_status(end_result[0], 200, what="end").json()
        check(end["deletedAt"] is not None and end["participantCount"] == 0, "end answered %s" % end)

        accepted = {}
        refused = 0
        for pid, r in results:
            if r.status == 201:
                accepted[pid] = r.json()
            elif r.status == 409:
                check(r.json()["code"] == "APPLICATION_SESSION_ALREADY_ENDED", "409: %r" % r)
                refused += 1
            else:
                raise TestFailure("enter %s: unexpected %r" % (pid, r))
        check(len(accepted) >= 40 and refused == n_threads,
              "expected every thread to meet the end (%d accepted, %d refused of %d threads)"
              % (len(accepted), refused, n_threads))

        s = clients[0].get_session(sid)
        check(s["deletedAt"] == end["deletedAt"], "end time moved: %s vs %s" % (s, end))
        check(s["participantCount"] == 0, "participantCount after the end: %s" % s)
        check(s["visitCount"] == len(accepted), "visitCount %d, but %d enters were acknowledged"
              % (s["visitCount"], len(accepted)))
        visits = clients[0].all_visits(sid)
        check(len(visits) == len(accepted), "search has %d visits, %d acknowledged"
              % (len(visits), len(accepted)))
        by_pid = {v["participant"]["participantId"]: v for v in visits}
        check(set(by_pid) == set(accepted), "visits of refused enters were recorded")
        for pid, v in by_pid.items():
            check(v["deletedAt"] is not None, "visit of %s is still open after the end" % pid)
            check(v["deletedAt"] <= end["deletedAt"], "visit of %s closed after the end" % pid)
            check(v["participantSessionId"] == accepted[pid]["participantSessionId"],
                  "visit of %s is not the acknowledged one" % pid)
        open_now = clients[0].search(sid, deletedStartAt=end["deletedAt"], deletedEndAt=end["deletedAt"])
        check(open_now["totalElements"] == len(accepted),
              "every acknowledged visit should close exactly at the end (%d of %d did)"
              % (open_now["totalElements"], len(accepted)))
    finally:
        _close(clients)


def test_counts_add_up_under_mixed_enters_and_leaves(ctx):
    _, app = ctx.new_tenant_app()
    n_threads, ops = 8, 40
    clients = _clients(ctx, app["apiKey"], n_threads)
    participants = ["m%02d" % i for i in range(12)]
    try:
        sid = clients[0].start_session()["sessionId"]

        def worker(i):
            rng = random.Random(i)
            created = 0
            for _ in range(ops):
                pid = rng.choice(participants)
                if rng.random() < 0.6:
                    r = expect_status(clients[i].enter(sid, pid), 200, 201, what="enter")
                    created += r.status == 201
                else:
                    expect_status(clients[i].leave(sid, pid), 200, 404, what="leave")
            return created

        created = sum(parallel(n_threads, worker))
        s = clients[0].get_session(sid)
        visits = clients[0].all_visits(sid)
        open_visits = [v for v in visits if v["deletedAt"] is None]
        check(s["visitCount"] == created == len(visits),
              "visitCount %d, 201 answers %d, visits found %d" % (s["visitCount"], created, len(visits)))
        check(s["participantCount"] == len(open_visits),
              "participantCount %d but %d open visits" % (s["participantCount"], len(open_visits)))
        per_pid = {}
        for v in open_visits:
            pid = v["participant"]["participantId"]
            check(pid not in per_pid, "%s has two open visits" % pid)
            per_pid[pid] = v
        total = clients[0].search(sid, size=1)["totalElements"]
        check(total == len(visits), "totalElements %d, visits %d" % (total, len(visits)))
        for v in visits:
            if v["deletedAt"] is not None:
                check(v["deletedAt"] >= v["createdAt"], "visit left before it entered: %s" % v)
        end = expect_status(clients[0].end_session(sid), 200, what="end").json()
        check(end["participantCount"] == 0 and end["visitCount"] == created, "after end: %s" % end)
    finally:
        _close(clients)


def test_concurrent_session_starts_leave_exactly_one_active(ctx):
    _, app = ctx.new_tenant_app()
    clients = _clients(ctx, app["apiKey"], 20)
    try:
        rs = parallel(20, lambda i: clients[i].call("POST", "/applications/sessions"))
        check(all(r.status == 201 for r in rs), "starts: %s" % [r for r in rs if r.status != 201][:3])
        b = clients[0].call("GET", "/applications/sessions?size=100").json()
        check(b["totalElements"] == 20, "expected 20 sessions, got %s" % b["totalElements"])
        active = [s for s in b["data"] if s["deletedAt"] is None]
        check(len(active) == 1, "%d sessions are active at once" % len(active))
        starts = sorted(s["createdAt"] for s in b["data"])
        ends = sorted(s["deletedAt"] for s in b["data"] if s["deletedAt"] is not None)
        # Each start ended its predecessor at the same instant.
        check(ends == starts[1:], "session ends do not chain to the next start")
    finally:
        _close(clients)


def test_an_acknowledged_enter_is_visible_at_once_on_another_connection(ctx):
    _, app = ctx.new_tenant_app()
    n_threads, per_thread = 6, 25
    writers = _clients(ctx, app["apiKey"], n_threads)
    readers = _clients(ctx, app["apiKey"], n_threads)
    try:
        sid = writers[0].start_session()["sessionId"]

        def worker(i):
            for j in range(per_thread):
                nick = "ryw%d_%d" % (i, j)
                v = expect_status(writers[i].enter(sid, nick, nick), 201, what="enter").json()
                b = readers[i].search(sid, nickname=nick, size=5)
                ids = [r["participantSessionId"] for r in b["data"]
                       if r["participant"]["nickname"] == nick]
                check(ids == [v["participantSessionId"]],
                      "visit %s acknowledged but not found by the next read" % nick)
                s = readers[i].get_session(sid)
                check(s["visitCount"] >= j + 1, "visitCount %d after %d acknowledged enters"
                      % (s["visitCount"], j + 1))

        parallel(n_threads, worker)
        check(writers[0].get_session(sid)["visitCount"] == n_threads * per_thread, "visitCount")
    finally:
        _close(writers)
        _close(readers)
