"""Failover to a synchronous standby under load.

Makes its own primary and a synchronous streaming standby (scripts/pg-cluster), and a node
whose --database lists both hosts with target_session_attrs=read-write. Steady enters run;
the primary crashes; the standby is promoted. The node finds the new primary by itself,
acknowledges writes again, and every enter it acknowledged before or after is there.

  python3 tests/postgres/failover.py        (ROLLCALL_BIN names the binary)
"""
import os
import shutil
import subprocess
import tempfile
import threading
import time

from pgharness import Client, Node, check, check_invariants, fail

CLUSTER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                              "pg-cluster")
WRITERS = 4


def cluster(*args):
    return subprocess.run([CLUSTER_SCRIPT, *args], check=True, stdout=subprocess.PIPE, text=True,
                          timeout=120).stdout.strip()


def wait_for(what, cond, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return time.time()
        time.sleep(0.05)
    fail("%s did not happen within %ds" % (what, timeout))


def main():
    work = tempfile.mkdtemp(prefix="rollcall-failover-")
    os.chmod(work, 0o755)  # the clusters may run as another user (scripts/pg-cluster)
    primary, standby = os.path.join(work, "primary"), os.path.join(work, "standby")
    try:
        cluster("start", primary)
        cluster("createdb", primary, "failover")
        cluster("standby", standby, primary)
        p_port = open(os.path.join(primary, "port")).read().strip()
        s_port = open(os.path.join(standby, "port")).read().strip()
        url = ("postgresql://rollcall@127.0.0.1:%s,127.0.0.1:%s/failover"
               "?target_session_attrs=read-write" % (p_port, s_port))
        run(url, primary, standby)
    finally:
        for d in (primary, standby):
            subprocess.run([CLUSTER_SCRIPT, "kill", d], check=False)
        shutil.rmtree(work, ignore_errors=True)


def run(url, primary, standby):
    node = Node(url, "failover")
    node.wait_healthy()
    key = node.credentials()["apiKey"]
    status, session = Client(node, key).start_session()
    check(status == 201, "start session answered %s" % status)
    sid = session["sessionId"]

    lock = threading.Lock()
    acked = {}
    outcomes = []
    bad = []
    stop = threading.Event()

    def writer(w):
        c = Client(node, key)
        i = 0
        while not stop.is_set():
            pid = "f%d-%d" % (w, i)
            i += 1
            status, body = c.enter(sid, pid, "n")
            with lock:
                outcomes.append((time.time(), status))
                if status in (200, 201):
                    acked[pid] = body["participantSessionId"]
                elif status != 503:
                    bad.append("enter %s answered %s: %s" % (pid, status, body))
            if status == 503:
                time.sleep(0.05)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    try:
        wait_for("acknowledged writes", lambda: len(acked) >= 200, 30)
        cluster("crash", primary)
        n_before = len(acked)
        cluster("promote", standby)
        t_promoted = time.time()
        t_write = wait_for("an acknowledged write through the promoted standby",
                           lambda: any(s in (200, 201) and t > t_promoted for t, s in outcomes), 30)
        print("primary crashed after %d acknowledged enters; the node acknowledged a write "
              "%.2fs after the standby was promoted" % (n_before, t_write - t_promoted), flush=True)
        wait_for("more acknowledged writes", lambda: len(acked) >= n_before + 100, 20)
    finally:
        stop.set()
        for t in threads:
            t.join()
    if bad:
        fail("; ".join(bad[:5]))
    found = {r["participant"]["participantId"]: r["participantSessionId"]
             for r in Client(node, key).visits(sid)}
    lost = [pid for pid in acked if found.get(pid) != acked[pid]]
    check(not lost, "%d acknowledged enters lost in the failover, e.g. %s" % (len(lost), lost[:5]))
    print("all %d acknowledged enters on the new primary" % len(acked), flush=True)
    check_invariants(cluster("url", standby, "failover"))
    node.stop()
    print("PASS failover", flush=True)


if __name__ == "__main__":
    main()
