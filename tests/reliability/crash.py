#!/usr/bin/env python3
"""Crash safety: nothing acknowledged is lost, nothing unacknowledged is half there.

test_sigkill_under_load: several connections drive enters and leaves at full speed; the
server is SIGKILLed at a random moment, restarted, and every participant's visits are
compared with what the clients were told: every acknowledged enter and leave is present
exactly as acknowledged; the one request per connection that was in flight at the kill is
either wholly there or wholly absent; and the invariants of the spec hold (counts, one open
visit per participant, events, integrity; store-level checks read the SQLite file).

test_kill_during_migration: `rollcall serve` starts on an empty SQLite file with every write
and sync slowed down (strace fault injection, so no test hook lives in the server) and is
SIGKILLed at points spread over its start; each file is then either untouched or fully
migrated (and bootstrapped or not, wholly), and a normal start on it works.

Usage: crash.py [--rounds N] [--workers W] [--migration-kills M] [--seed S]
       (defaults: 5 rounds, 6 workers, 6 migration kills; the random seed is printed)
"""

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import harness
from harness import check, log
from presence_model import Worker, by_participant, verify_participant

ARGS = None
RNG = random.Random()


def test_sigkill_under_load():
    with harness.Workdir("crash") as work:
        db = harness.Database(work)
        server = harness.Server(work, db).start()
        try:
            tenant = harness.Tenant(server, db, "crash")
            tenant.start_session(server)
            pids = [f"w{w}-p{i}" for w in range(ARGS.workers) for i in range(ARGS.participants)]
            known = {pid: [] for pid in pids}
            totals = {"acked": 0, "applied": 0, "unchanged": 0}
            for rnd in range(ARGS.rounds):
                inside = {pid: bool(known[pid]) and known[pid][-1]["deletedAt"] is None
                          for pid in pids}
                stop = threading.Event()
                workers = [Worker(server, tenant, pids[w * ARGS.participants:(w + 1) * ARGS.participants],
                                  inside, stop, RNG.random()) for w in range(ARGS.workers)]
                for w in workers:
                    w.start()
                run = RNG.uniform(ARGS.min_run, ARGS.max_run)
                time.sleep(run)
                server.kill()
                stop.set()
                for w in workers:
                    w.join(30)
                errors = [w.error for w in workers if w.error]
                check(not errors, f"round {rnd}: unexpected answers: {errors[:3]}")
                ops = [op for w in workers for op in w.ops]
                acked = sum(op.outcome == "acked" for op in ops)
                in_flight = sum(op.outcome == "unknown" for op in ops)
                if db.is_sqlite:
                    harness.check_sqlite_invariants(db.sqlite_path)
                server.start()
                visits = by_participant(harness.check_session_counts(server, tenant))
                outcomes = []
                for pid in pids:
                    mine = [op for op in ops if op.pid == pid]
                    r = verify_participant(pid, known[pid], mine, visits.get(pid, []))
                    if r:
                        outcomes.append(r)
                    known[pid] = [{"participantSessionId": v["participantSessionId"],
                                   "createdAt": v["createdAt"], "deletedAt": v["deletedAt"]}
                                  for v in visits.get(pid, [])]
                totals["acked"] += acked
                totals["applied"] += outcomes.count("applied")
                totals["unchanged"] += outcomes.count("unchanged")
                log(f"    round {rnd + 1}: killed after {run:.2f}s, {acked} acknowledged writes "
                    f"all present; {in_flight} in flight: {outcomes.count('applied')} applied "
                    f"whole, {outcomes.count('unchanged')} absent")
                check(acked > 0, f"round {rnd}: no write was acknowledged before the kill")
            log(f"    {ARGS.rounds} rounds: {totals['acked']} acknowledged writes survived; "
                f"in-flight writes: {totals['applied']} whole, {totals['unchanged']} absent")
            server.stop()
        finally:
            server.close()


def schema_of(path):
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT type, name, sql FROM sqlite_master "
                          "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").fetchall()
        check(db.execute("PRAGMA integrity_check").fetchall() == [("ok",)], "integrity_check")
        tenants = apps = keys = 0
        version = None
        if rows:
            version = db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
            tenants = db.execute("SELECT count(*) FROM tenants").fetchone()[0]
            apps = db.execute("SELECT count(*) FROM applications").fetchone()[0]
            keys = db.execute("SELECT count(*) FROM access_keys").fetchone()[0]
        return rows, version, (tenants, apps, keys)
    finally:
        db.close()


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(k) for k in f.read().split()]
    except OSError:
        pass
    return out


def tracee_of(strace_pid, timeout=10):
    """The pid of the rollcall process strace runs (once it has exec'd)."""
    binary = os.path.realpath(harness.rollcall_bin())
    deadline = time.time() + timeout
    while time.time() < deadline:
        todo = children(strace_pid)
        while todo:
            pid = todo.pop()
            try:
                if os.readlink(f"/proc/{pid}/exe") == binary:
                    return pid
            except OSError:
                pass
            todo += children(pid)
        time.sleep(0.001)
    raise harness.Failure("strace did not start rollcall")


def slowed_serve(work, path, name):
    port = harness.free_port()
    slowed = "pwrite64,write,fdatasync,fsync"
    cmd = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={slowed}",
           "-e", f"inject={slowed}:delay_enter={ARGS.syscall_delay_us}",
           harness.rollcall_bin(), "serve", "--listen", f"127.0.0.1:{port}",
           "--database", f"sqlite:{path}", "--bootstrap-file", work.file(f"{name}.json"), "--quiet"]
    out = open(work.file(f"{name}.out"), "wb")
    return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)


def test_kill_during_migration():
    if harness.external_database():
        log("    skipped: kills a server migrating a fresh SQLite file; PostgreSQL runs DDL in "
            "one transaction and is not reset by this test")
        return
    if not shutil.which("strace"):
        raise harness.Failure("strace is needed (scripts/install-deps installs it)")
    with harness.Workdir("migration") as work:
        ref = work.file("reference.db")
        harness.run_cli("migrate", database=f"sqlite:{ref}")
        ref_schema, ref_version, _ = schema_of(ref)

        # How long a slowed start takes, to spread the kills over it.
        full = work.file("full.db")
        t0 = time.time()
        p = slowed_serve(work, full, "full")
        while True:
            check(p.poll() is None, "the slowed server exited")
            with open(work.file("full.out"), "rb") as f:
                if b"serving on" in f.read():
                    break
            check(time.time() - t0 < 120, "the slowed server did not start")
            time.sleep(0.005)
        start_time = time.time() - t0
        os.kill(tracee_of(p.pid), signal.SIGKILL)
        p.wait()
        check(schema_of(full)[0] == ref_schema, "a slowed start migrates like a normal one")

        kinds = {"untouched": 0, "mid-transaction, rolled back": 0, "migrated": 0,
                 "migrated and bootstrapped": 0}
        for k in range(ARGS.migration_kills):
            path = work.file(f"kill{k}.db")
            at = start_time * (k + RNG.uniform(0.2, 0.8)) / ARGS.migration_kills
            p = slowed_serve(work, path, f"kill{k}")
            started = time.time()
            pid = tracee_of(p.pid)
            time.sleep(max(0.0, at - (time.time() - started)))
            os.kill(pid, signal.SIGKILL)
            p.wait()
            wal = os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0
            exists = os.path.exists(path)
            schema, version, (tenants, apps, keys) = schema_of(path) if exists else ([], None, (0, 0, 0))
            if not schema:
                kind = "mid-transaction, rolled back" if wal > 0 else "untouched"
            else:
                check(schema == ref_schema and version == ref_version,
                      f"kill {k} at {at:.2f}s left a partial schema (version {version})")
                check((tenants, apps, keys) in ((0, 0, 0), (1, 1, 1)),
                      f"kill {k}: the bootstrap is half there: {(tenants, apps, keys)}")
                kind = "migrated and bootstrapped" if tenants else "migrated"
            kinds[kind] += 1
            # A normal start on what the kill left works, and so does the API.
            db = harness.Database(work)
            db.sqlite_path, db.url = path, f"sqlite:{path}"
            with harness.Server(work, db, name=f"after{k}").start() as server:
                t = harness.Tenant(server, db, "mig")
                t.start_session(server)
                status, _, _ = server.request("POST", t.path("/participants/enter"),
                                              harness.enter_body("u1"), t.key)
                check(status == 201, f"enter after restart: {status}")
                harness.check_session_counts(server, t)
            harness.check_sqlite_invariants(path)
        log(f"    slowed start {start_time:.2f}s; {ARGS.migration_kills} kills: " +
            ", ".join(f"{v} {k}" for k, v in kinds.items()))
        check(kinds["mid-transaction, rolled back"] > 0,
              "no kill landed inside the migration transaction")


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--workers", type=int, default=6)
    p.add_argument("--participants", type=int, default=8, help="per worker")
    p.add_argument("--min-run", type=float, default=0.3, help="seconds of load before a kill")
    p.add_argument("--max-run", type=float, default=1.2)
    p.add_argument("--migration-kills", type=int, default=6)
    p.add_argument("--syscall-delay-us", type=int, default=10000,
                   help="delay strace adds to each write and sync during the migration test")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--only", choices=["load", "migration"], default=None)
    ARGS = p.parse_args()
    seed = ARGS.seed if ARGS.seed is not None else random.randrange(1 << 30)
    RNG.seed(seed)
    log(f"  crash.py seed {seed}")
    tests = []
    if ARGS.only in (None, "load"):
        tests.append(test_sigkill_under_load)
    if ARGS.only in (None, "migration"):
        tests.append(test_kill_during_migration)
    return harness.main(tests)


if __name__ == "__main__":
    sys.exit(main())
