"""PostgreSQL goes away under load and comes back.

A node serves steady enters; PostgreSQL (the cluster in ROLLCALL_PG_CLUSTER) is stopped
mid-run the way a crash stops it (immediate shutdown: the restart replays its WAL).
Requests then get 503 SERVICE_UNAVAILABLE (IVS face: InternalServerException, 500) promptly
and /readyz says not ready.
PostgreSQL is started again: the node becomes ready and serves writes by itself, every
acknowledged enter is stored, and nothing half-written breaks an invariant.
"""
import os
import subprocess
import threading
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from pgharness import (Client, Node, check, check_invariants, database_url, fail)

CLUSTER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                              "pg-cluster")
WRITERS = 4
SLOWEST_ANSWER_S = 5  # no request may hang longer than this while the database is away


def cluster(cmd):
    d = os.environ.get("ROLLCALL_PG_CLUSTER")
    if not d:
        fail("ROLLCALL_PG_CLUSTER must name the cluster directory of scripts/pg-cluster")
    subprocess.run([CLUSTER_SCRIPT, cmd, d], check=True, stdout=subprocess.DEVNULL, timeout=90)


def wait_for(what, cond, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return time.time()
        time.sleep(0.05)
    fail("%s did not happen within %ds" % (what, timeout))


def ivs_failure(node, creds):
    """The error code and HTTP status of an IVS ListStages call (boto3, no retries)."""
    ivs = boto3.client("ivs-realtime", endpoint_url=node.base, region_name="us-east-1",
                       aws_access_key_id=creds["accessKeyId"],
                       aws_secret_access_key=creds["secretAccessKey"],
                       config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    try:
        ivs.list_stages()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def main():
    url = database_url()
    node = Node(url, "outage")
    node.wait_healthy()
    creds = node.credentials()
    check(creds is not None, "the node did not bootstrap the empty database")
    key = creds["apiKey"]
    status, session = Client(node, key).start_session()
    check(status == 201, "start session answered %s" % status)
    sid = session["sessionId"]

    lock = threading.Lock()
    acked = {}  # participant id -> visit id
    outcomes = []  # (time, status)
    bad = []
    slowest = [0.0]
    stop = threading.Event()

    def writer(w):
        c = Client(node, key)
        i = 0
        while not stop.is_set():
            pid = "w%d-%d" % (w, i)
            i += 1
            t0 = time.time()
            try:
                status, body = c.enter(sid, pid, "n")
            except Exception as e:  # a connection the server dropped counts as a failure
                with lock:
                    bad.append("enter %s raised %r" % (pid, e))
                return
            took = time.time() - t0
            with lock:
                slowest[0] = max(slowest[0], took)
                outcomes.append((time.time(), status))
                if status in (200, 201):
                    acked[pid] = body["participantSessionId"]
                elif status == 503:
                    if not body or body.get("code") != "SERVICE_UNAVAILABLE":
                        bad.append("503 with body %s" % body)
                else:
                    bad.append("enter %s answered %s: %s" % (pid, status, body))
            if status == 503:
                time.sleep(0.05)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    try:
        wait_for("acknowledged writes", lambda: len(acked) >= 200, 30)
        before = len(acked)
        t_stop = time.time()
        cluster("crash")
        print("PostgreSQL crashed after %d acknowledged enters" % before, flush=True)
        wait_for("503 answers", lambda: any(s == 503 and t > t_stop for t, s in outcomes), 10)
        check(node.ready() == 503, "/readyz is not 503 while PostgreSQL is down")
        c = Client(node, key)
        status, body = c.call("GET", "/applications/sessions/%s/participants" % sid)
        check(status == 503 and body["code"] == "SERVICE_UNAVAILABLE",
              "a search answered %s %s while PostgreSQL is down" % (status, body))
        status, body = c.leave(sid, "w0-0")
        check(status == 503, "a leave answered %s while PostgreSQL is down" % status)
        code, status = ivs_failure(node, creds)
        check((code, status) == ("InternalServerException", 500),
              "IVS ListStages answered %s %s while PostgreSQL is down" % (status, code))
        time.sleep(1.5)
        with lock:
            during = sum(1 for t, s in outcomes if t > t_stop + 1 and s in (200, 201))
        check(during == 0, "%d writes acknowledged while PostgreSQL was down" % during)

        cluster("start")
        t_start = time.time()
        t_ready = wait_for("readiness after restart", lambda: node.ready() == 200, 20)
        t_write = wait_for("an acknowledged write after restart",
                           lambda: any(s in (200, 201) and t > t_start for t, s in outcomes), 20)
        print("PostgreSQL accepting connections again: the node was ready %.2fs later and "
              "acknowledged a write %.2fs later" % (t_ready - t_start, t_write - t_start),
              flush=True)
        n = len(acked)
        wait_for("more acknowledged writes", lambda: len(acked) >= n + 100, 20)
    finally:
        stop.set()
        for t in threads:
            t.join()
    if bad:
        fail("; ".join(bad[:5]))
    check(slowest[0] < SLOWEST_ANSWER_S, "a request took %.1fs" % slowest[0])
    n503 = sum(1 for _, s in outcomes if s == 503)
    print("%d enters acknowledged, %d answered 503, slowest answer %.2fs"
          % (len(acked), n503, slowest[0]), flush=True)

    found = {r["participant"]["participantId"]: r["participantSessionId"]
             for r in Client(node, key).visits(sid)}
    lost = [pid for pid in acked if found.get(pid) != acked[pid]]
    check(not lost, "%d acknowledged enters lost, e.g. %s" % (len(lost), lost[:5]))
    print("all %d acknowledged enters stored" % len(acked), flush=True)
    check_invariants(url)
    node.stop()
    print("PASS outage", flush=True)


if __name__ == "__main__":
    main()
