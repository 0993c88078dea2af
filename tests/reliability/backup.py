#!/usr/bin/env python3
"""Online backup: `rollcall backup --to FILE` copies a SQLite store while the server takes
writes at full speed; a server started on the copy (the restore) sees a consistent snapshot:
every write acknowledged before the backup began, each participant's history up to one
instant, and the spec's invariants. Bad targets are refused. With PostgreSQL the command
answers that pg_dump is the tool.

Usage: backup.py [--workers W] [--backups N]
"""

import argparse
import os
import random
import shutil
import sys
import threading
import time

import harness
from harness import check, log
from presence_model import Worker, by_participant, matches_prefix

ARGS = None


def test_backup_while_writing_then_restore():
    with harness.Workdir("backup") as work:
        db = harness.Database(work)
        if not db.is_sqlite:
            p = harness.run_cli("backup", "--to", work.file("x.db"), database=db.url, check_rc=False)
            check(p.returncode == 2 and "pg_dump" in p.stderr, f"PostgreSQL backup: {p.stderr}")
            log("    PostgreSQL: the command points to pg_dump (online copy is SQLite only)")
            return
        server = harness.Server(work, db).start()
        try:
            tenant = harness.Tenant(server, db, "backup")
            tenant.start_session(server)
            pids = [f"w{w}-p{i}" for w in range(ARGS.workers) for i in range(8)]
            inside = {pid: False for pid in pids}
            stop = threading.Event()
            workers = [Worker(server, tenant, pids[w * 8:(w + 1) * 8], inside, stop, random.random())
                       for w in range(ARGS.workers)]
            for w in workers:
                w.start()
            backups = []
            for i in range(ARGS.backups):
                time.sleep(0.4)
                # Ops acknowledged before the backup began: the copy must have them all.
                floor = {id(w): len([op for op in w.ops if op.outcome == "acked"]) for w in workers}
                target = work.file(f"backup-{i}.db")
                t = time.time()
                harness.run_cli("backup", "--to", target, database=db.url)
                backups.append((target, floor, time.time() - t))
            time.sleep(0.3)
            stop.set()
            for w in workers:
                w.join(30)
            errors = [w.error for w in workers if w.error]
            check(not errors, f"unexpected answers: {errors[:3]}")
            check(server.terminate() == 0, "server exit status")
            ops_total = sum(len(w.ops) for w in workers)

            for i, (target, floor, took) in enumerate(backups):
                check(os.path.getsize(target) > 0, "empty backup")
                check(not [f for f in os.listdir(work.path) if ".partial-" in f],
                      "a partial backup file was left behind")
                harness.check_sqlite_invariants(target)
                # Restore: a server started on a copy of the backup.
                restored = harness.Database(work, f"restored-{i}")
                shutil.copyfile(target, restored.sqlite_path)
                # The copy's secret access keys open with the live database's key file only.
                key_file = os.path.splitext(db.sqlite_path)[0] + ".key"
                with harness.Server(work, restored, "--key-file", key_file,
                                    name=f"restored-{i}").start() as r:
                    visits = by_participant(harness.check_session_counts(r, tenant))
                    in_copy = 0
                    for w in workers:
                        for pid in w.pids:
                            mine = [op for op in w.ops if op.pid == pid]
                            before = len([op for op in w.ops[:floor[id(w)]] if op.pid == pid])
                            in_copy += matches_prefix(pid, [], mine, visits.get(pid, []), before)
                    status, _, _ = r.request("POST", tenant.path("/participants/enter"),
                                             harness.enter_body("after-restore"), tenant.key)
                    check(status == 201, f"write after restore: {status}")
                log(f"    backup {i + 1}: {took:.2f}s under load, {os.path.getsize(target) // 1024} KiB, "
                    f"restored with {in_copy} of {ops_total} writes (a consistent prefix, all "
                    f"{sum(floor.values())} acknowledged before it began)")
        finally:
            server.close()


def test_backup_refuses_bad_targets():
    with harness.Workdir("backup-bad") as work:
        db = harness.Database(work)
        if not db.is_sqlite:
            log("    skipped: SQLite targets")
            return
        harness.run_cli("migrate", database=db.url)
        p = harness.run_cli("backup", "--to", db.sqlite_path, database=db.url, check_rc=False)
        check(p.returncode != 0 and "live database" in p.stderr, f"backup onto itself: {p.stderr}")
        p = harness.run_cli("backup", "--to", work.file("no/such/dir/x.db"), database=db.url,
                            check_rc=False)
        check(p.returncode != 0 and "backup to" in p.stderr, f"missing directory: {p.stderr}")
        check(not [f for f in os.listdir(work.path) if ".partial-" in f], "partial file left")
        p = harness.run_cli("backup", database=db.url, check_rc=False)
        check(p.returncode == 2 and "--to" in p.stderr, f"no --to: {p.stderr}")


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", type=int, default=6)
    p.add_argument("--backups", type=int, default=2)
    ARGS = p.parse_args()
    return harness.main([test_backup_while_writing_then_restore, test_backup_refuses_bad_targets])


if __name__ == "__main__":
    sys.exit(main())
