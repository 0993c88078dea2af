"""Shared pieces of the PostgreSQL tests: rollcall serve processes, HTTP calls, SQL checks.

Every test talks to real `rollcall serve` processes over HTTP (ROLLCALL_BIN) on loopback, over
the database ROLLCALL_TEST_DATABASE (a postgresql:// URL of a database of its own).
"""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

BIN = os.environ.get("ROLLCALL_BIN", "build/release/rollcall")
_NODES = []


@atexit.register
def _kill_nodes():
    """A test that fails midway leaves no server behind (its directory and log stay)."""
    for n in _NODES:
        if n.proc.poll() is None:
            n.proc.kill()
            n.proc.wait()


def database_url():
    url = os.environ.get("ROLLCALL_TEST_DATABASE", "")
    if not url.startswith(("postgresql://", "postgres://")):
        sys.exit("ROLLCALL_TEST_DATABASE must name a PostgreSQL database")
    return url


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Node:
    """One `rollcall serve` process."""

    def __init__(self, database, name, pool=8, extra=()):
        self.name = name
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.dir = tempfile.mkdtemp(prefix="rollcall-%s-" % name)
        self.bootstrap = os.path.join(self.dir, "bootstrap.json")
        self.log = open(os.path.join(self.dir, "serve.log"), "w+")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:%d" % self.port, "--database", database,
             "--bootstrap-file", self.bootstrap, "--pool", str(pool), "--quiet", *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        _NODES.append(self)

    def wait_healthy(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("%s exited with %s:\n%s" % (self.name, self.proc.returncode, self.output()))
            try:
                if requests.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        fail("%s did not become healthy:\n%s" % (self.name, self.output()))

    def ready(self):
        try:
            return requests.get(self.base + "/readyz", timeout=10).status_code
        except requests.RequestException:
            return None

    def credentials(self):
        """The bootstrap credentials if this node created the first tenant, else None."""
        if not os.path.exists(self.bootstrap):
            return None
        with open(self.bootstrap) as f:
            return json.load(f)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    def stop(self):
        """SIGTERM; the node must exit 0. Its directory goes with it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                fail("%s did not stop on SIGTERM" % self.name)
            check(rc == 0, "%s exited with %d on SIGTERM:\n%s" % (self.name, rc, self.output()))
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Client:
    """The In-Stream API of one node, with one application's ApiKey. Not thread-safe."""

    def __init__(self, node, api_key):
        self.node = node
        self.http = requests.Session()
        self.http.headers["ApiKey"] = api_key

    def call(self, method, path, body=None, params=None):
        r = self.http.request(method, self.node.base + "/v1" + path, json=body, params=params,
                              timeout=30)
        try:
            data = r.json()
        except ValueError:
            data = None
        return r.status_code, data

    def start_session(self):
        return self.call("POST", "/applications/sessions")

    def end_session(self, sid):
        return self.call("POST", "/applications/sessions/%s/end" % sid)

    def session(self, sid):
        return self.call("GET", "/applications/sessions/%s" % sid)

    def enter(self, sid, pid, nickname):
        return self.call("POST", "/applications/sessions/%s/participants/enter" % sid,
                         {"participantId": pid, "nickname": nickname})

    def leave(self, sid, pid):
        return self.call("POST", "/applications/sessions/%s/participants/leave" % sid,
                         {"participantId": pid})

    def visits(self, sid):
        """Every visit of the session, oldest first, through the search endpoint."""
        rows, page = [], 0
        while True:
            status, data = self.call("GET", "/applications/sessions/%s/participants" % sid,
                                     params={"page": page, "size": 1000, "option": "ASC"})
            check(status == 200, "search answered %s: %s" % (status, data))
            rows.extend(data["data"])
            if len(data["data"]) < 1000:
                return rows
            page += 1


def create_application(node, admin_token, type_="LIVE"):
    r = requests.post(node.base + "/v1/applications", json={"type": type_, "name": "load"},
                      headers={"Authorization": "Bearer " + admin_token}, timeout=30)
    check(r.status_code == 201, "create application answered %s: %s" % (r.status_code, r.text))
    return r.json()


def psql(url, sql):
    """Runs sql and returns its rows as lists of strings."""
    out = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", url,
                          "-c", sql], capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, "psql failed: " + out.stderr)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


# Each query returns rows that break an invariant of ../shared/spec/README.md; none may return.
INVARIANTS = {
    "a member with two open visits":
        "SELECT tenant_id, member_id FROM visits WHERE deleted_at IS NULL "
        "GROUP BY tenant_id, member_id HAVING count(*) > 1",
    "an open visit in an ended session":
        "SELECT v.id FROM visits v JOIN sessions s ON s.tenant_id = v.tenant_id "
        "AND s.id = v.session_id WHERE s.deleted_at IS NOT NULL AND v.deleted_at IS NULL",
    "a visit closed after its session ended":
        "SELECT v.id FROM visits v JOIN sessions s ON s.tenant_id = v.tenant_id "
        "AND s.id = v.session_id WHERE v.deleted_at > s.deleted_at",
    "participantCount that is not the number of open visits":
        "SELECT s.id, s.participant_count, count(v.id) FROM sessions s LEFT JOIN visits v "
        "ON v.tenant_id = s.tenant_id AND v.session_id = s.id AND v.deleted_at IS NULL "
        "GROUP BY s.tenant_id, s.id HAVING s.participant_count <> count(v.id)",
    "visitCount that is not the number of visits":
        "SELECT s.id, s.visit_count, count(v.id) FROM sessions s LEFT JOIN visits v "
        "ON v.tenant_id = s.tenant_id AND v.session_id = s.id "
        "GROUP BY s.tenant_id, s.id HAVING s.visit_count <> count(v.id)",
    "a member whose open visit is not its one open visit":
        "SELECT m.id FROM members m LEFT JOIN visits v ON v.tenant_id = m.tenant_id "
        "AND v.member_id = m.id AND v.deleted_at IS NULL "
        "WHERE m.open_visit_id IS DISTINCT FROM v.id",
    "overlapping visits of one member":
        "SELECT id FROM (SELECT id, created_at, lag(deleted_at) OVER "
        "(PARTITION BY tenant_id, member_id ORDER BY created_at, id) AS prev_end, "
        "lag(id) OVER (PARTITION BY tenant_id, member_id ORDER BY created_at, id) AS prev "
        "FROM visits) x WHERE prev IS NOT NULL AND (prev_end IS NULL OR prev_end > created_at)",
    "JOINED events that are not the member's visits":
        "SELECT m.id FROM members m WHERE (SELECT count(*) FROM events e WHERE "
        "e.tenant_id = m.tenant_id AND e.member_id = m.id AND e.name = 'JOINED') <> "
        "(SELECT count(*) FROM visits v WHERE v.tenant_id = m.tenant_id AND v.member_id = m.id)",
    "LEFT events that are not the member's closed visits":
        "SELECT m.id FROM members m WHERE (SELECT count(*) FROM events e WHERE "
        "e.tenant_id = m.tenant_id AND e.member_id = m.id AND e.name = 'LEFT') <> "
        "(SELECT count(*) FROM visits v WHERE v.tenant_id = m.tenant_id AND v.member_id = m.id "
        "AND v.deleted_at IS NOT NULL)",
    "more than one active session in an application":
        "SELECT tenant_id, application_id FROM sessions WHERE deleted_at IS NULL "
        "GROUP BY tenant_id, application_id HAVING count(*) > 1",
    "an application whose active session is not its one active session":
        "SELECT a.id FROM applications a LEFT JOIN sessions s ON s.tenant_id = a.tenant_id "
        "AND s.application_id = a.id AND s.deleted_at IS NULL "
        "WHERE a.active_session_id IS DISTINCT FROM s.id",
}


def check_invariants(url):
    for name, sql in INVARIANTS.items():
        rows = psql(url, sql)
        check(not rows, "%s: %s" % (name, rows[:5]))
    print("invariants hold (%d checks)" % len(INVARIANTS), flush=True)
