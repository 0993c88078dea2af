#!/usr/bin/env python3
"""End-to-end API tests of rollcall: a real `rollcall serve` process over HTTP.

Runs the data-driven case files (tests/api/cases/*.case, format in tests/api/README.md) and
the scripted suites (tests/api/scripted/*.py: functions test_*(ctx)). Prints one summary
line per suite; exits 1 if anything failed.

  runner.py [--bin build/release/rollcall] [--database URL] [--suite NAME]... [-k TEXT] [-v]

--database (or env ROLLCALL_TEST_DATABASE): the store every server uses, e.g. a
postgresql:// URL; default a fresh temp sqlite file per server.
"""

import argparse
import concurrent.futures
import glob
import importlib.util
import inspect
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import casefile  # noqa: E402
from harness import Environment, TestFailure  # noqa: E402


class Ctx:
    """Handed to every scripted test."""

    def __init__(self, env, server, verbose):
        self.env = env
        self.server = server  # shared; tests that kill or restart servers start their own
        self.verbose = verbose

    def new_tenant_app(self, app_type="LIVE"):
        """A fresh tenant (CLI) and one application in it: (credentials, application)."""
        t = self.server.create_tenant("scripted")
        a = self.server.create_application(t["adminToken"], app_type)
        return t, a


def file_variables(server):
    t = server.create_tenant("case")
    a = server.create_application(t["adminToken"], "LIVE", "cases")
    v = {
        "base": server.base,
        "region": "us-east-1",
        "adminToken": t["adminToken"],
        "accountId": t["accountId"],
        "tenantId": t["tenantId"],
        "applicationId": a["applicationId"],
        "apiKey": a["apiKey"],
        "stageArn": a["stageArn"],
        "appCreatedAt": a["createdAt"],
    }
    if server.bootstrap:
        for k, val in server.bootstrap.items():
            v["bootstrap." + k] = val
    return v


def run_case_files(env, server, pattern, verbose, jobs):
    files = sorted(glob.glob(os.path.join(HERE, "cases", "*.case")))
    results = []
    requests = 0

    def one(path):
        name = os.path.relpath(path, HERE)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            records = casefile.parse(text, name)
        except casefile.CaseError as e:
            return [casefile.Result(name, 0, "parse", str(e))], 0
        if pattern:
            records = select(records, name, pattern)
            if records is None:
                return [], 0
        try:
            variables = file_variables(server)
        except TestFailure as e:
            return [casefile.Result(name, 0, "per-file tenant", str(e))], 0
        run = casefile.FileRun(server, name, records, variables, verbose)
        return run.run(), run.requests

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for rs, n in pool.map(one, files):
            results.extend(rs)
            requests += n
    for r in results:
        if not r.ok:
            print("  FAIL %s:%d  %s\n      %s" % (r.filename, r.line, r.title,
                                                 r.error.replace("\n", "\n      ")))
        elif verbose:
            print("  ok   %s:%d  %s" % (r.filename, r.line, r.title))
    files_run = len({r.filename for r in results})
    return results, "%d files, %d requests" % (files_run, requests)


def select(records, name, pattern):
    """Keeps setup plus the cases whose title or file name contains pattern; None if none."""
    if pattern in name:
        return records
    out, keep, any_case = [], True, False
    for rec in records:
        if rec.kind == "case":
            keep = pattern in rec.args
            any_case = any_case or keep
        if keep:
            out.append(rec)
    return out if any_case else None


def load_scripted():
    suites = []
    for path in sorted(glob.glob(os.path.join(HERE, "scripted", "*.py"))):
        mod_name = os.path.splitext(os.path.basename(path))[0]
        if mod_name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location("scripted_" + mod_name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        tests = [(n, f) for n, f in inspect.getmembers(mod, inspect.isfunction)
                 if n.startswith("test_") and f.__module__ == mod.__name__]
        tests.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
        suites.append((mod_name, tests))
    return suites


def run_scripted(ctx, tests, pattern):
    results = []
    for name, fn in tests:
        if pattern and pattern not in name:
            continue
        t0 = time.time()
        try:
            fn(ctx)
            err = None
        except TestFailure as e:
            err = str(e)
        except Exception:  # a crash of the test itself is a failure too
            err = traceback.format_exc()
        results.append(casefile.Result(name, 0, name, err))
        if err:
            print("  FAIL %s (%.1fs)\n      %s" % (name, time.time() - t0,
                                                 err.replace("\n", "\n      ")))
        elif ctx.verbose:
            print("  ok   %s (%.1fs)" % (name, time.time() - t0))
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("ROLLCALL_BIN", "build/release/rollcall"))
    ap.add_argument("--database", default=os.environ.get("ROLLCALL_TEST_DATABASE") or None)
    ap.add_argument("--suite", action="append", help="run only these suites (cases, or a "
                    "scripted module name); repeatable")
    ap.add_argument("-k", dest="pattern", help="only cases/tests whose name contains this")
    ap.add_argument("-j", dest="jobs", type=int, default=2, help="case files run in parallel")
    ap.add_argument("-v", dest="verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temp directory")
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        print("runner: no rollcall binary at %s" % args.bin)
        return 2

    env = Environment(args.bin, args.database, args.keep)
    all_ok = True
    summaries = []
    t_start = time.time()
    try:
        shared = env.server("shared").start()
        ctx = Ctx(env, shared, args.verbose)
        wanted = set(args.suite or [])
        if not wanted or "cases" in wanted:
            t0 = time.time()
            print("=== api/cases")
            results, extra = run_case_files(env, shared, args.pattern, args.verbose, args.jobs)
            failed = sum(1 for r in results if not r.ok)
            all_ok &= failed == 0 and bool(results)
            summaries.append("api/cases: %d passed, %d failed (%s, %.1fs)" % (
                len(results) - failed, failed, extra, time.time() - t0))
            print(summaries[-1])
        for name, tests in load_scripted():
            if wanted and name not in wanted:
                continue
            t0 = time.time()
            print("=== api/%s" % name)
            results = run_scripted(ctx, tests, args.pattern)
            failed = sum(1 for r in results if not r.ok)
            all_ok &= failed == 0
            summaries.append("api/%s: %d passed, %d failed (%.1fs)" % (
                name, len(results) - failed, failed, time.time() - t0))
            print(summaries[-1])
        if shared.alive():
            m = shared.client().request("GET", "/metrics")
            if 'rollcall_http_responses_total{class="5xx"} 0\n' not in m.text:
                print("  FAIL the shared server answered 5xx during the run:\n%s" % m.text)
                all_ok = False
            code = shared.stop()
            if code != 0:
                print("  FAIL shared server exited %s on SIGTERM" % code)
                all_ok = False
    except Exception:
        traceback.print_exc()
        all_ok = False
    finally:
        env.cleanup(all_ok)
    print("--- api summary (%.1fs, database %s)" % (
        time.time() - t_start, args.database or "sqlite temp files"))
    for s in summaries:
        print(s)
    if not all_ok:
        print("api: FAILED (logs and databases kept in %s)" % env.workdir)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
