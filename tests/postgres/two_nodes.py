"""Two `rollcall serve` processes on one PostgreSQL database, hammered at once.

Both nodes start together on an empty database (concurrent migration and bootstrap). Then
threads send enters, leaves, session ends and session starts of the same participants in the
same sessions, each request to a randomly chosen node, for a few seconds. In the first
application (an IVS stage too) the participants hold IVS participant tokens, and half of
their joins and leaves go through the IVS client presence endpoints instead, so both faces
race on the same members. Afterwards: no request failed with 5xx, every acknowledged enter is
found through the other node, every acknowledged leave kept its time, and the database keeps
every invariant.
"""
import random
import threading
import time

import boto3
import requests
from botocore.config import Config

from pgharness import (Client, Node, check, check_invariants, create_application,
                       database_url, fail)

DURATION_S = 6
THREADS = 8
APPS = 3
PARTICIPANTS = 12


def main():
    url = database_url()
    nodes = [Node(url, "node-a"), Node(url, "node-b")]
    for n in nodes:
        n.wait_healthy()
    creds = [c for c in (n.credentials() for n in nodes) if c]
    check(len(creds) == 1, "exactly one node bootstraps the empty database, got %d" % len(creds))
    admin = creds[0]["adminToken"]
    keys = [creds[0]["apiKey"]] + [create_application(nodes[i % 2], admin)["apiKey"]
                                   for i in range(APPS - 1)]
    # The first application's participants also join with tokens, which gives them reconnect
    # grace (docs/presence.md): a rejoin soon after a leave continues the visit that leave
    # closed. Without it, every acknowledged leave keeps its time, as checked below.
    r = requests.patch("%s/v1/applications/%s" % (nodes[0].base, creds[0]["applicationId"]),
                       json={"presence": {"reconnectWindowSeconds": 0}},
                       headers={"Authorization": "Bearer " + admin}, timeout=30)
    check(r.status_code == 200, "PATCH presence answered %s: %s" % (r.status_code, r.text))
    ivs = boto3.client("ivs-realtime", endpoint_url=nodes[1].base, region_name="us-east-1",
                       aws_access_key_id=creds[0]["accessKeyId"],
                       aws_secret_access_key=creds[0]["secretAccessKey"],
                       config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    tokens = {}  # participant id -> IVS token, for the first application's participants
    for _ in range(PARTICIPANTS):
        t = ivs.create_participant_token(stageArn=creds[0]["stageArn"],
                                         capabilities=["PUBLISH", "SUBSCRIBE"])["participantToken"]
        tokens[t["participantId"]] = t["token"]
    first_app_pids = sorted(tokens)

    lock = threading.Lock()
    current = {}  # app index -> current session id
    sessions = {}  # session id -> app index
    for a, key in enumerate(keys):
        status, s = Client(nodes[a % 2], key).start_session()
        check(status == 201, "start session answered %s: %s" % (status, s))
        current[a] = s["sessionId"]
        sessions[s["sessionId"]] = a
    entered = {}  # visit id -> (session id, participant id)
    left = {}  # visit id -> deletedAt acknowledged by a leave that closed it
    counts = {"enter": 0, "leave": 0, "end": 0, "start": 0, "ivs-join": 0, "ivs-leave": 0,
              "rejected": 0}
    errors = []
    stop_at = time.time() + DURATION_S

    def worker(seed):
        rnd = random.Random(seed)
        clients = [[Client(n, k) for k in keys] for n in nodes]
        presence = requests.Session()
        while time.time() < stop_at and not errors:
            a = rnd.randrange(APPS)
            node = rnd.randrange(2)
            c = clients[node][a]
            with lock:
                sid = current[a]
            pid = rnd.choice(first_app_pids) if a == 0 else "p%d" % rnd.randrange(PARTICIPANTS)
            op = rnd.random()
            if a == 0 and rnd.random() < 0.5 and op < 0.95:
                kind = "ivs-join" if op < 0.55 else "ivs-leave"
                r = presence.post("%s/v1/stage/%s" % (nodes[node].base, kind[4:]), json={},
                                  headers={"Authorization": "Bearer " + tokens[pid]}, timeout=30)
                status, body = r.status_code, r.json()
            elif op < 0.55:
                status, body = c.enter(sid, pid, "nick-%s-%d" % (pid, rnd.randrange(3)))
                kind = "enter"
            elif op < 0.95:
                status, body = c.leave(sid, pid)
                kind = "leave"
            elif op < 0.98:
                status, body = c.end_session(sid)
                kind = "end"
            else:
                status, body = c.start_session()
                kind = "start"
            with lock:
                if status >= 400:
                    # An ended session (409) or a leave before any enter (404) is expected.
                    if status not in (404, 409):
                        errors.append("%s %s/%s answered %s: %s" % (kind, sid, pid, status, body))
                        return
                    counts["rejected"] += 1
                    continue
                counts[kind] += 1
                if kind.startswith("ivs-"):
                    continue
                if kind == "enter":
                    entered[body["participantSessionId"]] = (sid, pid)
                elif kind == "leave" and body["deletedAt"] is not None:
                    vid = body["participantSessionId"]
                    if vid in left and left[vid] != body["deletedAt"]:
                        errors.append("leave of %s moved from %s to %s"
                                      % (vid, left[vid], body["deletedAt"]))
                    left[vid] = body["deletedAt"]
                elif kind == "start":
                    current[a] = body["sessionId"]
                    sessions[body["sessionId"]] = a
                elif kind == "end" and current[a] == sid:
                    status2, s = c.start_session()
                    if status2 != 201:
                        errors.append("start after end answered %s: %s" % (status2, s))
                        return
                    current[a] = s["sessionId"]
                    sessions[s["sessionId"]] = a

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    if errors:
        fail("; ".join(errors[:5]))
    total = sum(counts.values())
    print("%d requests in %.1fs through two nodes (%.0f/s): %s"
          % (total, elapsed, total / elapsed, counts), flush=True)
    check(counts["enter"] > 100 and counts["leave"] > 50 and counts["end"] + counts["start"] > 3
          and counts["ivs-join"] > 20 and counts["ivs-leave"] > 20,
          "the load did not exercise every operation: %s" % counts)

    # Every acknowledged write is visible through the other node, leave times unchanged.
    found = {}
    for sid, a in sessions.items():
        for row in Client(nodes[(a + 1) % 2], keys[a]).visits(sid):
            found[row["participantSessionId"]] = row
    for vid, (sid, pid) in entered.items():
        row = found.get(vid)
        check(row is not None, "acknowledged enter %s of %s in %s is missing" % (vid, pid, sid))
        check(row["participant"]["participantId"] == pid, "visit %s changed participant" % vid)
    for vid, at in left.items():
        check(found[vid]["deletedAt"] == at,
              "leave of %s acknowledged at %s but stored %s" % (vid, at, found[vid]["deletedAt"]))
    print("%d acknowledged enters and %d leaves all found" % (len(entered), len(left)), flush=True)

    # Counts the API reports add up with the visits it lists.
    for sid, a in sessions.items():
        c = Client(nodes[a % 2], keys[a])
        status, s = c.session(sid)
        check(status == 200, "get session answered %s" % status)
        rows = [r for r in found.values() if r["session"]["sessionId"] == sid]
        open_rows = [r for r in rows if r["deletedAt"] is None]
        check(s["visitCount"] == len(rows), "session %s visitCount %s, %d visits"
              % (sid, s["visitCount"], len(rows)))
        check(s["participantCount"] == len(open_rows), "session %s participantCount %s, %d open"
              % (sid, s["participantCount"], len(open_rows)))
        if s["deletedAt"] is not None:
            check(not open_rows, "ended session %s has open visits" % sid)
    check_invariants(url)
    for n in nodes:
        n.stop()
    print("PASS two nodes", flush=True)


if __name__ == "__main__":
    main()
