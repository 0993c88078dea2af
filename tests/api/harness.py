"""Process and HTTP plumbing shared by the case runner and the scripted tests.

Python 3 standard library only. A Server is one real `rollcall serve` process on a free
127.0.0.1 port; a Client is one keep-alive HTTP/1.1 connection to it.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid


class TestFailure(AssertionError):
    """A check failed; the message says what was expected and what came back."""


def check(cond, message):
    if not cond:
        raise TestFailure(message)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased name -> value
        self.body = body  # bytes
        self._json = None
        self._json_done = False

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        """The body parsed as JSON, or None when it is not JSON."""
        if not self._json_done:
            self._json_done = True
            try:
                self._json = json.loads(self.body)
            except ValueError:
                self._json = None
        return self._json

    def __repr__(self):
        return "%d %s" % (self.status, self.text[:500])


class Client:
    """One keep-alive connection; reconnects when the server closed it."""

    def __init__(self, port, host="127.0.0.1", timeout=30):
        self.host, self.port, self.timeout = host, port, timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, json_body=None):
        """Sends one request. body: bytes or str; json_body: serialised with Content-Type."""
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body)
            headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            sent_error = None
            try:
                self.conn.putrequest(method, path, skip_accept_encoding=True)
                for k, v in headers.items():
                    self.conn.putheader(k, v)
                if body is not None:
                    self.conn.putheader("Content-Length", str(len(body)))
                self.conn.endheaders()
                if body:
                    self.conn.send(body)
            except (BrokenPipeError, ConnectionResetError) as e:
                # The server may answer (413) and close before reading the whole body.
                sent_error = e
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 0:
                    continue
                raise
            try:
                r = self.conn.getresponse()
                data = r.read()
                resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
                if r.will_close:
                    self.close()
                return resp
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if sent_error is not None or attempt == 1:
                    raise
        raise RuntimeError("unreachable")


class Server:
    """A `rollcall serve` child process.

    database: a URL; None means a fresh temp sqlite file in workdir.
    """

    def __init__(self, binary, workdir, database=None, threads=4, name="server"):
        self.binary = binary
        self.workdir = workdir
        self.name = name
        os.makedirs(workdir, exist_ok=True)
        self.database = database or "sqlite:" + os.path.join(workdir, name + ".db")
        self.bootstrap_file = os.path.join(workdir, name + "-bootstrap.json")
        self.log_path = os.path.join(workdir, name + ".log")
        self.threads = threads
        self.proc = None
        self.port = None
        self.bootstrap = None

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=15):
        for _ in range(5):
            self.port = free_port()
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
                 "--database", self.database, "--bootstrap-file", self.bootstrap_file,
                 "--threads", str(self.threads), "--quiet"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            log.close()
            deadline = time.time() + timeout
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    r = Client(self.port, timeout=2).request("GET", "/healthz")
                    if r.status == 200:
                        self._read_bootstrap()
                        return self
                except OSError:
                    pass
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("%s did not become healthy; log: %s" % (self.name, self.log_path))
            # Exited: most likely the port was taken in between; try another.
        raise RuntimeError("%s could not start; log: %s\n%s" % (self.name, self.log_path,
                                                               self.log_tail()))

    def _read_bootstrap(self):
        if os.path.exists(self.bootstrap_file) and self.bootstrap is None:
            with open(self.bootstrap_file) as f:
                self.bootstrap = json.load(f)

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def client(self, timeout=30):
        return Client(self.port, timeout=timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL: no flush, no goodbye."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def stop(self, timeout=15):
        """SIGTERM and wait; returns the exit code."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure("%s did not stop within %ss of SIGTERM" % (self.name, timeout))

    def cli(self, *args):
        """Runs `rollcall ARGS --database <this server's database>`; returns stdout."""
        r = subprocess.run([self.binary, *args, "--database", self.database],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise TestFailure("rollcall %s failed (%d): %s" % (" ".join(args), r.returncode,
                                                              r.stderr.strip()))
        return r.stdout

    def create_tenant(self, prefix="t"):
        """A fresh tenant through the CLI while the server runs: its credentials (dict)."""
        name = "%s-%s" % (prefix, uuid.uuid4().hex[:12])
        return json.loads(self.cli("tenant", "create", "--name", name))

    def create_application(self, admin_token, app_type="LIVE", name=""):
        r = self.client().request("POST", "/v1/applications",
                                  json_body={"type": app_type, "name": name},
                                  headers={"Authorization": "Bearer " + admin_token})
        check(r.status == 201, "create application: %r" % r)
        return r.json()


class Environment:
    """What every suite gets: the binary, the database choice and a scratch directory."""

    def __init__(self, binary, database=None, keep=False):
        self.binary = os.path.abspath(binary)
        self.database = database  # None: a fresh sqlite file per server
        self.keep = keep
        self.workdir = tempfile.mkdtemp(prefix="rollcall-api-")
        self.servers = []

    def server(self, name, threads=4):
        s = Server(self.binary, os.path.join(self.workdir, name), self.database, threads, name)
        self.servers.append(s)
        return s

    def cleanup(self, ok):
        for s in self.servers:
            if s.alive():
                try:
                    s.stop()
                except TestFailure:
                    pass
        if ok and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
