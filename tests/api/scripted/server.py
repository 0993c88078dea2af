"""The server process and its transport (spec: operations.md): first-run bootstrap, metrics,
HTTP framing errors, body limits without Content-Length, restart on the same store."""

import json
import os
import subprocess
import re
import socket
import stat

from harness import check
from instream import InStream, expect_status


def _raw(server, data, read_timeout=5):
    """Sends raw bytes on a fresh connection; returns everything read until the server closes
    (or the timeout)."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=read_timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out
    finally:
        s.close()


def _status_and_body(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.1 (\d{3})", head)
    check(m is not None, "no HTTP status line in %r" % raw[:200])
    return int(m.group(1)), body


def _metrics(server):
    r = server.client().request("GET", "/metrics")
    check(r.status == 200, "metrics: %r" % r)
    out = {}
    for line in r.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_bootstrap_credentials_work_and_are_private(ctx):
    srv = ctx.server
    if ctx.env.database is not None and srv.bootstrap is None:
        # A shared, non-empty store (e.g. PostgreSQL given by URL) is not bootstrapped again.
        tenants = json.loads(srv.cli("tenant", "list"))
        check(tenants, "no bootstrap file and no tenant in the store")
        return
    b = srv.bootstrap
    check(b is not None, "serve on an empty store wrote no bootstrap file")
    mode = stat.S_IMODE(os.stat(srv.bootstrap_file).st_mode)
    check(mode == 0o600, "bootstrap file mode %o, expected 600" % mode)
    for k in ("tenantId", "accountId", "adminToken", "accessKeyId", "secretAccessKey",
              "applicationId", "apiKey", "stageArn", "endpoint", "curl"):
        check(k in b and b[k], "bootstrap file lacks %s" % k)
    check(b["endpoint"] == srv.base, "endpoint %s, server at %s" % (b["endpoint"], srv.base))
    check(b["apiKey"] in b["curl"] and srv.base in b["curl"], "curl line does not use the key")
    c = srv.client()
    r = c.request("GET", "/v1/applications", headers={"Authorization": "Bearer " + b["adminToken"]})
    check(r.status == 200 and r.json()["data"][-1]["applicationId"] == b["applicationId"],
          "the bootstrap admin token does not list the bootstrap application: %r" % r)
    check(r.json()["data"][-1]["type"] == "LIVE" and r.json()["data"][-1]["stageArn"] == b["stageArn"],
          "bootstrap application: %r" % r)
    face = InStream(srv, b["apiKey"])
    sid = face.start_session()["sessionId"]
    expect_status(face.enter(sid, "first-user"), 201, what="enter with the bootstrap key")
    face.close()
    c.close()


def test_metrics_count_every_answer_by_class(ctx):
    srv = ctx.server
    before = _metrics(srv)
    c = srv.client()
    c.request("GET", "/healthz")
    c.request("GET", "/v1/applications/sessions")  # 401
    c.request("GET", "/no/such/path")  # 404
    c.close()
    after = _metrics(srv)
    total = "rollcall_http_requests_total"
    c2, c4 = 'rollcall_http_responses_total{class="2xx"}', 'rollcall_http_responses_total{class="4xx"}'
    # The first /metrics answer is counted too.
    check(after[total] - before[total] == 4, "requests_total grew by %s" % (after[total] - before[total]))
    check(after[c2] - before[c2] == 2, "2xx grew by %s" % (after[c2] - before[c2]))
    check(after[c4] - before[c4] == 2, "4xx grew by %s" % (after[c4] - before[c4]))


def test_chunked_body_over_the_limit_is_413(ctx):
    srv, key = ctx.server, ctx.new_tenant_app()[1]["apiKey"]
    sid = InStream(srv, key).start_session()["sessionId"]
    chunk = b"x" * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n"
    raw = _raw(srv, b"POST /v1/applications/sessions/%s/participants/enter HTTP/1.1\r\n"
               b"Host: x\r\nApiKey: %s\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" % (sid.encode(), key.encode()) + body)
    status, payload = _status_and_body(raw)
    check(status == 413 and json.loads(payload)["code"] == "PAYLOAD_TOO_LARGE",
          "chunked 80 KiB: %d %r" % (status, payload[:200]))
    check(InStream(srv, key).get_session(sid)["visitCount"] == 0, "a refused body recorded a visit")


def test_chunked_body_under_the_limit_is_read(ctx):
    srv, key = ctx.server, ctx.new_tenant_app()[1]["apiKey"]
    sid = InStream(srv, key).start_session()["sessionId"]
    doc = json.dumps({"participantId": "chunky", "nickname": "c"}).encode()
    body = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (5, doc[:5], len(doc) - 5, doc[5:])
    raw = _raw(srv, b"POST /v1/applications/sessions/%s/participants/enter HTTP/1.1\r\n"
               b"Host: x\r\nApiKey: %s\r\nContent-Type: application/json\r\nConnection: close\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" % (sid.encode(), key.encode()) + body)
    status, payload = _status_and_body(raw)
    check(status == 201, "chunked enter: %d %r" % (status, payload[:200]))


def test_malformed_http_gets_400_and_the_server_stays_up(ctx):
    srv = ctx.server
    for junk in (b"HELLO\r\n\r\n", b"GET /healthz HTTP/9.9\r\n\r\n",
                 b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
                 b"POST /v1/applications HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                 b"POST /healthz HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
                 b"POST /v1/applications HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"):
        status, payload = _status_and_body(_raw(srv, junk, read_timeout=3))
        check(status == 400, "%r answered %d" % (junk, status))
        check(json.loads(payload)["code"] == "BAD_REQUEST", "%r: %r" % (junk, payload))
    check(srv.client().request("GET", "/healthz").status == 200, "server down after junk")


def test_oversized_headers_are_refused(ctx):
    srv = ctx.server
    raw = _raw(srv, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
    status, payload = _status_and_body(raw)
    check(status == 431 and json.loads(payload)["code"] == "REQUEST_HEADER_FIELDS_TOO_LARGE",
          "20 KB header: %d %r" % (status, payload[:200]))
    check(srv.client().request("GET", "/healthz").status == 200, "server down after a big header")


def test_pipelined_requests_are_answered_in_order(ctx):
    srv, key = ctx.server, ctx.new_tenant_app()[1]["apiKey"]
    sid = InStream(srv, key).start_session()["sessionId"]
    reqs = b""
    for i in range(5):
        doc = json.dumps({"participantId": "pipe%d" % i, "nickname": "p"}).encode()
        reqs += (b"POST /v1/applications/sessions/%s/participants/enter HTTP/1.1\r\nHost: x\r\n"
                 b"ApiKey: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
                 % (sid.encode(), key.encode(), len(doc),
                    b"Connection: close\r\n" if i == 4 else b"", doc))
    raw = _raw(srv, reqs)
    ids = re.findall(rb'"participantId":"(pipe\d)"', raw)
    check(ids == [b"pipe0", b"pipe1", b"pipe2", b"pipe3", b"pipe4"],
          "pipelined answers out of order or missing: %s" % ids)


def test_a_second_server_on_a_taken_port_refuses_to_start(ctx):
    srv = ctx.env.server("first-on-port")
    srv.start()
    other = os.path.join(srv.workdir, "second")
    os.makedirs(other, exist_ok=True)
    second = subprocess.run(
        [srv.binary, "serve", "--listen", "127.0.0.1:%d" % srv.port,
         "--database", "sqlite:" + os.path.join(other, "db"),
         "--bootstrap-file", os.path.join(other, "boot.json"), "--quiet"],
        stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    check(second.returncode != 0, "a second serve on a taken port started")
    check(b"Address already in use" in second.stderr, "no clear message: %r" % second.stderr)
    check(srv.client().request("GET", "/healthz").status == 200, "the first server is gone")
    check(srv.stop() == 0, "SIGTERM did not exit 0")


def test_restart_keeps_data_and_does_not_bootstrap_again(ctx):
    srv = ctx.env.server("restart")
    srv.start()
    t = srv.create_tenant("restart")
    app = srv.create_application(t["adminToken"])
    face = InStream(srv, app["apiKey"])
    sid = face.start_session()["sessionId"]
    expect_status(face.enter(sid, "stay"), 201, what="enter")
    face.close()
    tenants = json.loads(srv.cli("tenant", "list"))
    boot = srv.bootstrap
    check(srv.stop() == 0, "SIGTERM did not exit 0")
    if boot is not None:
        os.remove(srv.bootstrap_file)
    srv.bootstrap = None
    srv.start()
    check(not os.path.exists(srv.bootstrap_file), "restart on a non-empty store bootstrapped again")
    check(json.loads(srv.cli("tenant", "list")) == tenants, "tenants changed across a restart")
    face = InStream(srv, app["apiKey"])
    s = face.get_session(sid)
    check(s["deletedAt"] is None and s["participantCount"] == 1 and s["visitCount"] == 1,
          "session after restart: %s" % s)
    face.close()
    check(srv.stop() == 0, "SIGTERM did not exit 0")
