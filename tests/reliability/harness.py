"""Shared pieces of the reliability tests: a real `rollcall serve` process, credentials made
through the CLI and the admin API, an HTTP client, and the invariant checks of
../shared/spec/README.md. Python 3 standard library only.

Every test gets its own temporary directory, free 127.0.0.1 ports and, by default, its own
SQLite file. With ROLLCALL_TEST_DATABASE=postgresql://... the tests run against that database
instead, each in a tenant of its own; checks that read the SQLite file directly are skipped.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def rollcall_bin():
    b = os.environ.get("ROLLCALL_BIN") or os.path.join(ROOT, "build", "release", "rollcall")
    if not os.access(b, os.X_OK):
        sys.exit(f"rollcall binary not found at {b}: build first or set ROLLCALL_BIN")
    return b


def log(*args):
    print(*args, flush=True)


class Failure(AssertionError):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def external_database():
    url = os.environ.get("ROLLCALL_TEST_DATABASE", "")
    return url if url.startswith(("postgresql://", "postgres://")) else None


class Workdir:
    """A temporary directory removed at the end unless ROLLCALL_KEEP_TMP is set."""

    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix=f"rollcall-rel-{name}-")

    def file(self, name):
        return os.path.join(self.path, name)

    def close(self):
        if os.environ.get("ROLLCALL_KEEP_TMP"):
            log(f"  (kept {self.path})")
        else:
            shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Database:
    """The store a test uses: a SQLite file in the work dir, or ROLLCALL_TEST_DATABASE."""

    def __init__(self, work, name="rollcall"):
        self.external = external_database()
        self.sqlite_path = None if self.external else work.file(f"{name}.db")
        self.url = self.external or f"sqlite:{self.sqlite_path}"

    @property
    def is_sqlite(self):
        return self.sqlite_path is not None


def run_cli(*args, database=None, timeout=60, check_rc=True):
    cmd = [rollcall_bin(), *args]
    if database:
        cmd += ["--database", database]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check_rc and p.returncode != 0:
        raise Failure(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return p


def create_tenant(database, prefix="rel"):
    """A fresh tenant through `rollcall tenant create`: its credentials as JSON."""
    p = run_cli("tenant", "create", "--name", f"{prefix}-{uuid.uuid4().hex[:12]}", database=database)
    return json.loads(p.stdout)


class Server:
    """One `rollcall serve` process on a free port."""

    def __init__(self, work, database, *extra, name="server", quiet=True, env=None):
        self.work = work
        self.database = database
        self.extra = list(extra)
        self.name = name
        self.quiet = quiet
        self.env = env
        self.proc = None
        self.port = None
        self.starts = 0

    def start(self, wait=True):
        self.port = free_port()
        self.starts += 1
        args = [rollcall_bin(), "serve", "--listen", f"127.0.0.1:{self.port}",
                "--database", self.database.url,
                "--bootstrap-file", self.work.file(f"{self.name}-bootstrap.json"), *self.extra]
        if self.quiet:
            args.append("--quiet")
        self.stdout_path = self.work.file(f"{self.name}-{self.starts}.out")
        self.stderr_path = self.work.file(f"{self.name}-{self.starts}.err")
        env = dict(os.environ)
        env.update(self.env or {})
        self.proc = subprocess.Popen(args, stdout=open(self.stdout_path, "wb"),
                                     stderr=open(self.stderr_path, "wb"), env=env,
                                     start_new_session=True)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"rollcall serve exited {self.proc.returncode} at start: "
                              f"{self.stderr()[-2000:]}")
            try:
                status, _, _ = self.request("GET", "/healthz", timeout=1)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise Failure("rollcall serve did not become ready")

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def connection(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = self.connection(timeout)
        try:
            return send(conn, method, path, body, headers)
        finally:
            conn.close()

    def sanitizer_reports(self):
        """Reports of ASan, LSan or UBSan (a sanitizer build) in this run's stderr."""
        text = self.stderr()
        return [line for line in text.splitlines()
                if "ERROR: AddressSanitizer" in line or "ERROR: LeakSanitizer" in line or
                "runtime error:" in line or "SUMMARY: UndefinedBehaviorSanitizer" in line]

    def check_clean(self):
        reports = self.sanitizer_reports()
        check(not reports, f"sanitizer report from rollcall serve: {reports[:3]}\n"
                           f"{self.stderr()[-3000:]}")

    def kill(self):
        """SIGKILL: the process gets no chance to flush or clean up."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.check_clean()

    def terminate(self, timeout=30):
        """SIGTERM, then waits. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure(f"rollcall serve did not stop within {timeout}s of SIGTERM")
        self.check_clean()
        return code

    def stop(self):
        """The normal end of a test's server: SIGTERM, exit status 0, no sanitizer report
        (a sanitizer build reports leaks at this exit)."""
        code = self.terminate()
        check(code == 0, f"rollcall serve exited {code} after SIGTERM: {self.stderr()[-2000:]}")

    def close(self):
        """On a failure path: ends the process, whatever state it is in."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None and self.proc and self.proc.poll() is None:
            self.stop()
        else:
            self.close()


def send(conn, method, path, body=None, headers=None):
    """One request on conn: (status, headers dict with lower-case names, parsed JSON or text)."""
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=data, headers=hdrs)
    r = conn.getresponse()
    raw = r.read()
    rh = {k.lower(): v for k, v in r.getheaders()}
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode("utf-8", "replace")
    return r.status, rh, parsed


class Tenant:
    """A tenant with one application (ApiKey) and an active session, on a running server."""

    def __init__(self, server, database, prefix="rel"):
        self.creds = create_tenant(database.url, prefix)
        self.admin = {"Authorization": f"Bearer {self.creds['adminToken']}"}
        status, _, app = server.request("POST", "/v1/applications", {"type": "LIVE"}, self.admin)
        check(status == 201, f"create application: {status} {app}")
        self.app = app
        self.key = {"ApiKey": app["apiKey"]}
        self.session = None

    def start_session(self, server):
        status, _, s = server.request("POST", "/v1/applications/sessions", headers=self.key)
        check(status == 201, f"start session: {status} {s}")
        self.session = s["sessionId"]
        return self.session

    def path(self, rest=""):
        return f"/v1/applications/sessions/{self.session}{rest}"


def enter_body(pid):
    return {"participantId": pid, "nickname": f"n-{pid}"}


def all_visits(server, tenant, session=None):
    """Every visit of the session through the search API, oldest first."""
    session = session or tenant.session
    out, page = [], 0
    while True:
        status, _, body = server.request(
            "GET", f"/v1/applications/sessions/{session}/participants"
                   f"?size=1000&page={page}&name=created_at&option=ASC", headers=tenant.key)
        check(status == 200, f"search: {status} {body}")
        out += body["data"]
        if len(body["data"]) < 1000:
            return out
        page += 1


def check_session_counts(server, tenant, session=None):
    """HTTP-level invariants of one session: counts agree with the visits; one open visit per
    participant at most; an ended session has none open."""
    session = session or tenant.session
    visits = all_visits(server, tenant, session)
    status, _, s = server.request("GET", f"/v1/applications/sessions/{session}",
                                  headers=tenant.key)
    check(status == 200, f"get session: {status} {s}")
    open_visits = [v for v in visits if v["deletedAt"] is None]
    check(s["visitCount"] == len(visits),
          f"visitCount {s['visitCount']} but {len(visits)} visits")
    check(s["participantCount"] == len(open_visits),
          f"participantCount {s['participantCount']} but {len(open_visits)} open visits")
    owners = [v["participant"]["participantId"] for v in open_visits]
    check(len(owners) == len(set(owners)), "a participant has two open visits")
    if s["deletedAt"] is not None:
        check(not open_visits, "an ended session has open visits")
    for v in visits:
        if v["deletedAt"] is not None:
            check(v["deletedAt"] >= v["createdAt"], f"visit left before it entered: {v}")
    return visits


def check_sqlite_invariants(path):
    """Store-level invariants, read straight from the SQLite file (read-only)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        q = lambda sql: db.execute(sql).fetchall()
        check(q("PRAGMA integrity_check") == [("ok",)], "integrity_check failed")
        bad = q("""SELECT s.id, s.participant_count, s.visit_count,
                          (SELECT count(*) FROM visits v WHERE v.session_id = s.id AND v.deleted_at IS NULL),
                          (SELECT count(*) FROM visits v WHERE v.session_id = s.id)
                   FROM sessions s""")
        for sid, pc, vc, open_n, all_n in bad:
            check(pc == open_n and vc == all_n,
                  f"session {sid}: participant_count {pc}/{open_n} visit_count {vc}/{all_n}")
        check(not q("""SELECT m.id FROM members m
                       WHERE (m.open_visit_id IS NULL) != NOT EXISTS
                             (SELECT 1 FROM visits v WHERE v.member_id = m.id AND v.deleted_at IS NULL)
                          OR (m.open_visit_id IS NOT NULL AND NOT EXISTS
                             (SELECT 1 FROM visits v WHERE v.id = m.open_visit_id
                              AND v.member_id = m.id AND v.deleted_at IS NULL))"""),
              "a member's open_visit_id disagrees with its visits")
        check(not q("""SELECT m.id FROM members m
                       WHERE m.last_visit_id != (SELECT coalesce(max(v.id), 0) FROM visits v
                                                 WHERE v.member_id = m.id)"""),
              "a member's last_visit_id is not its latest visit")
        check(not q("""SELECT m.id FROM members m
                       WHERE (SELECT count(*) FROM events e WHERE e.member_id = m.id AND e.name = 'JOINED')
                             != (SELECT count(*) FROM visits v WHERE v.member_id = m.id)
                          OR (SELECT count(*) FROM events e WHERE e.member_id = m.id AND e.name = 'LEFT')
                             != (SELECT count(*) FROM visits v WHERE v.member_id = m.id
                                 AND v.deleted_at IS NOT NULL)"""),
              "JOINED/LEFT events disagree with the visits")
        check(not q("""SELECT s.id FROM sessions s JOIN visits v ON v.session_id = s.id
                       WHERE s.deleted_at IS NOT NULL AND v.deleted_at IS NULL"""),
              "an ended session has an open visit")
        check(not q("""SELECT a.id FROM applications a JOIN sessions s ON s.id = a.active_session_id
                       WHERE s.deleted_at IS NOT NULL"""),
              "an application's active session has ended")
    finally:
        db.close()


def percentile(values, p):
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def main(tests, argv=None):
    """Runs the named test functions in order; prints 'N passed, N failed'; exit status."""
    passed = failed = 0
    for t in tests:
        name = t.__name__
        start = time.time()
        try:
            t()
            passed += 1
            log(f"  ok   {name} ({time.time() - start:.1f}s)")
        except Exception as e:  # a failed check or an unexpected error: both fail the test
            failed += 1
            log(f"  FAIL {name} ({time.time() - start:.1f}s): {type(e).__name__}: {e}")
    log(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1
