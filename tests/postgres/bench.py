"""Measures enters per second (each a new participant, so each is a durable write) with wrk:
one node over SQLite, one node over PostgreSQL, two nodes over one PostgreSQL, one node over
PostgreSQL with a synchronous standby; and pgbench running the same statements.

  python3 tests/postgres/bench.py [--seconds 10] [--connections 32] [--pool 8] [--sessions 1]

--sessions N spreads the enters round robin over N sessions (one per application); with 1,
every enter goes to the same session, whose row every write must lock in turn.

Needs wrk (Debian package wrk) and the PostgreSQL server binaries; starts and removes its own
throwaway cluster (scripts/pg-cluster). Not part of `make test`; docs/scaling.md quotes it.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import tempfile

from pgharness import Client, Node, check, create_application, psql

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER = os.path.join(HERE, "..", "..", "scripts", "pg-cluster")
PGBIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]


def wrk(node, targets, seconds, connections, threads):
    env = dict(os.environ, ROLLCALL_TARGETS=targets)
    return subprocess.Popen(
        ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--latency",
         "-s", os.path.join(HERE, "enter.lua"), node.base],
        env=env, stdout=subprocess.PIPE, text=True)


def result(proc):
    out = proc.communicate()[0]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    check(not bad, "non-2xx answers under load:\n" + out)
    return rate, p50, p99, errors.group(0) if errors else ""


def run(nodes, seconds, connections, sessions):
    creds = [c for c in (n.credentials() for n in nodes) if c][0]
    keys = [creds["apiKey"]] + [create_application(nodes[0], creds["adminToken"])["apiKey"]
                                for _ in range(sessions - 1)]
    targets = []
    for key in keys:
        status, s = Client(nodes[0], key).start_session()
        check(status == 201, "start session answered %s" % status)
        targets.append("%s:%s" % (s["sessionId"], key))
    per = max(1, connections // len(nodes))
    procs = [wrk(n, ",".join(targets), seconds, per, max(1, 2 // len(nodes))) for n in nodes]
    results = [result(p) for p in procs]
    total = sum(r[0] for r in results)
    detail = "; ".join("%.0f/s p50 %s p99 %s %s" % r for r in results)
    return total, detail


def pgbench(cluster, seconds, clients, sessions):
    """Transactions per second of enter.pgbench on a database with `sessions` sessions."""
    url = subprocess.run([CLUSTER, "createdb", cluster, "pgbench"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip()
    node = Node(url, "pgbench-setup")
    node.wait_healthy()
    creds = node.credentials()
    keys = [creds["apiKey"]] + [create_application(node, creds["adminToken"])["apiKey"]
                                for _ in range(sessions - 1)]
    for key in keys:
        check(Client(node, key).start_session()[0] == 201, "start session failed")
    node.stop()
    aligned = psql(url, "SELECT count(*) FROM sessions WHERE id = application_id AND tenant_id = 1")
    check(int(aligned[0][0]) == sessions, "sessions are not numbered like their applications")
    out = subprocess.run(
        [os.path.join(PGBIN, "pgbench"), "-n", "-M", "prepared", "-c", str(clients), "-j", "2",
         "-T", str(seconds), "-D", "sessions=%d" % sessions, "-f",
         os.path.join(HERE, "enter.pgbench"), url],
        check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--pool", type=int, default=8)
    ap.add_argument("--sessions", type=int, default=1)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="rollcall-bench-")
    os.chmod(tmp, 0o755)  # the cluster may run as another user (scripts/pg-cluster)
    lines = []

    node = Node("sqlite:" + os.path.join(tmp, "bench.db"), "sqlite")
    node.wait_healthy()
    total, detail = run([node], a.seconds, a.connections, a.sessions)
    node.stop()
    lines.append("1 node, SQLite:      %6.0f enters/s (%s)" % (total, detail))
    print(lines[-1], flush=True)

    cluster = os.path.join(tmp, "pg")
    subprocess.run([CLUSTER, "start", cluster], check=True, stdout=subprocess.DEVNULL)
    try:
        for count in (1, 2):
            url = subprocess.run([CLUSTER, "createdb", cluster, "bench%d" % count], check=True,
                                 stdout=subprocess.PIPE, text=True).stdout.strip()
            nodes = [Node(url, "pg%d" % i, pool=a.pool) for i in range(count)]
            for n in nodes:
                n.wait_healthy()
            total, detail = run(nodes, a.seconds, a.connections, a.sessions)
            for n in nodes:
                n.stop()
            lines.append("%d node%s, PostgreSQL: %6.0f enters/s (%s)"
                         % (count, "s" if count > 1 else " ", total, detail))
            print(lines[-1], flush=True)
        standby = os.path.join(tmp, "standby")
        subprocess.run([CLUSTER, "standby", standby, cluster], check=True,
                       stdout=subprocess.DEVNULL)
        url = subprocess.run([CLUSTER, "createdb", cluster, "bench_standby"], check=True,
                             stdout=subprocess.PIPE, text=True).stdout.strip()
        node = Node(url, "pg-standby", pool=a.pool)
        node.wait_healthy()
        total, detail = run([node], a.seconds, a.connections, a.sessions)
        node.stop()
        subprocess.run([CLUSTER, "kill", standby], check=False)
        admin = subprocess.run([CLUSTER, "url", cluster], check=True, stdout=subprocess.PIPE,
                               text=True).stdout.strip()
        psql(admin, "ALTER SYSTEM RESET synchronous_standby_names")
        psql(admin, "SELECT pg_reload_conf()")
        lines.append("1 node, PostgreSQL with a synchronous standby: %6.0f enters/s (%s)"
                     % (total, detail))
        print(lines[-1], flush=True)
        lines.append("PostgreSQL itself:   %6.0f enters/s (pgbench, the same statements, one "
                     "transaction per enter, %d clients)"
                     % (pgbench(cluster, a.seconds, a.connections, a.sessions), a.connections))
        print(lines[-1], flush=True)
    finally:
        subprocess.run([CLUSTER, "kill", cluster], check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(["", "wrk -c%d for %ds per run, %d session(s), a new participant per enter:"
                     % (a.connections, a.seconds, a.sessions)] + lines))


if __name__ == "__main__":
    main()
