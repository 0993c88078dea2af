#!/usr/bin/env python3
"""Transport limits of `rollcall serve`, each answered with its status and changing nothing:
body 64 KiB (413), request target 8 KiB (414), header section 16 KiB or 100 fields (431),
slow clients (408 within the header or body timeout, without tying up the one I/O thread),
idle keep-alive connections (closed), and the connection limit (503 with Retry-After).

Usage: limits.py [--slow-clients N]   (default 100)
"""

import argparse
import select
import socket
import sys
import threading
import time

import harness
from harness import check, log

ARGS = None


def raw_exchange(port, data, timeout=10, shut=False):
    """Sends raw bytes, reads until the server closes: (status line, whole response bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                length = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
                          if l.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0] and b"connection: close" not in head.lower():
                    break
        return out.split(b"\r\n", 1)[0].decode(), out
    finally:
        s.close()


def status_of(line):
    parts = line.split(" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


class Fixture:
    """One server with short timeouts and one I/O thread, and a tenant with a session."""

    def __init__(self):
        self.work = harness.Workdir("limits")
        self.db = harness.Database(self.work)
        self.server = harness.Server(self.work, self.db, "--threads", "1", "--header-timeout", "2",
                                     "--body-timeout", "2", "--idle-timeout", "3",
                                     "--max-connections", "1000").start()
        self.tenant = harness.Tenant(self.server, self.db)
        self.tenant.start_session(self.server)

    def visit_count(self):
        status, _, s = self.server.request("GET", self.tenant.path(), headers=self.tenant.key)
        check(status == 200, f"get session {status}")
        return s["visitCount"]

    def close(self):
        self.server.close()
        self.work.close()


F = None


def request_bytes(method, path, headers=(), body=b""):
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
    for k, v in headers:
        head += f"{k}: {v}\r\n"
    return head.encode() + b"\r\n" + body


def test_body_limit():
    port, key = F.server.port, F.tenant.key["ApiKey"]
    before = F.visit_count()
    enter = F.tenant.path("/participants/enter")
    # Declared too large: answered from Content-Length, before the body is read.
    big = b'{"participantId":"p","nickname":"' + b"x" * (64 * 1024) + b'"}'
    line, resp = raw_exchange(port, request_bytes("POST", enter, [
        ("ApiKey", key), ("Content-Type", "application/json"), ("Content-Length", len(big))], big))
    check(status_of(line) == 413, f"declared large body: {line}")
    check(b'"PAYLOAD_TOO_LARGE"' in resp, "413 body code")
    # Chunked, so only counted while read.
    chunk = b"x" * 32768
    chunked = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(3)) + b"0\r\n\r\n"
    line, _ = raw_exchange(port, request_bytes("POST", enter, [
        ("ApiKey", key), ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")],
        chunked))
    check(status_of(line) == 413, f"chunked large body: {line}")
    # Exactly at the limit: read and judged on its content (nickname too long: 400).
    prefix = b'{"participantId":"p","nickname":"'
    body = prefix + b"x" * (64 * 1024 - len(prefix) - 2) + b'"}'
    check(len(body) == 64 * 1024, "test body size")
    line, resp = raw_exchange(port, request_bytes("POST", enter, [
        ("ApiKey", key), ("Content-Type", "application/json"), ("Content-Length", len(body)),
        ("Connection", "close")], body))
    check(status_of(line) == 400, f"body at the limit: {line}")
    check(F.visit_count() == before, "a refused body changed something")


def test_url_limit():
    port = F.server.port
    for n, want in ((8192, None), (8193, 414), (20000, 414), (100000, 414)):
        path = "/healthz?" + "a" * (n - len("/healthz?"))
        line, resp = raw_exchange(port, request_bytes("GET", path, [("Connection", "close")]))
        if want is None:
            check(status_of(line) == 200, f"target of {n} bytes: {line}")
        else:
            check(status_of(line) == want, f"target of {n} bytes: {line}")
            check(b'"URI_TOO_LONG"' in resp, "414 body code")


def test_header_limits():
    port = F.server.port
    line, resp = raw_exchange(port, request_bytes("GET", "/healthz", [("X-Big", "y" * 17000)]))
    check(status_of(line) == 431, f"17 KB header: {line}")
    check(b'"REQUEST_HEADER_FIELDS_TOO_LARGE"' in resp, "431 body code")
    many = [(f"X-H{i}", "v") for i in range(101)]
    line, _ = raw_exchange(port, request_bytes("GET", "/healthz", many))
    check(status_of(line) == 431, f"102 header fields: {line}")
    ok = [(f"X-H{i}", "v") for i in range(98)] + [("Connection", "close")]
    line, _ = raw_exchange(port, request_bytes("GET", "/healthz", ok))
    check(status_of(line) == 200, f"100 header fields: {line}")


def test_malformed_requests():
    port = F.server.port
    for data in (b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
                 b"POST /v1/applications HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                 b"POST /v1/applications HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
        line, _ = raw_exchange(port, data, shut=True)
        check(status_of(line) == 400, f"{data[:30]!r}: {line}")
    check(F.server.request("GET", "/healthz")[0] == 200, "server still answers")


def test_slowloris():
    """Many clients send a header one byte a second: each gets 408 within the 2 s header
    timeout, and the server's only I/O thread keeps answering others meanwhile."""
    n = ARGS.slow_clients
    port = F.server.port
    payload = request_bytes("GET", "/healthz", [("X-Slow", "a" * 50)])
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.setblocking(False)
        socks.append(s)
    first_byte = {}
    answered = {}
    latencies = []
    stop = threading.Event()

    def normal_client():
        while not stop.is_set():
            t = time.time()
            status, _, _ = F.server.request("GET", "/healthz", timeout=10)
            latencies.append(time.time() - t)
            check(status == 200, f"normal request during slowloris: {status}")
            time.sleep(0.02)

    errors = []

    def guarded():
        try:
            normal_client()
        except Exception as e:
            errors.append(e)

    t = threading.Thread(target=guarded)
    t.start()
    sent = {s: 0 for s in socks}
    start = time.time()
    try:
        while len(answered) < n and time.time() - start < 15:
            for s in socks:
                if s in answered or sent[s] >= len(payload):
                    continue
                if sent[s] == 0 or time.time() - first_byte[s] >= sent[s]:
                    try:
                        s.send(payload[sent[s]:sent[s] + 1])
                    except OSError:
                        continue
                    if sent[s] == 0:
                        first_byte[s] = time.time()
                    sent[s] += 1
            readable, _, _ = select.select([s for s in socks if s not in answered], [], [], 0.05)
            for s in readable:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                answered[s] = (time.time() - first_byte.get(s, start), data)
    finally:
        stop.set()
        t.join()
        for s in socks:
            s.close()
    if errors:
        raise errors[0]
    check(len(answered) == n, f"only {len(answered)} of {n} slow clients were answered")
    slowest = max(a[0] for a in answered.values())
    statuses = {a[1].split(b"\r\n", 1)[0] for a in answered.values()}
    check(statuses == {b"HTTP/1.1 408 Request Timeout"}, f"slow clients got {statuses}")
    check(slowest < 3.5, f"a slow client was dropped only after {slowest:.1f}s (timeout 2s)")
    p99 = harness.percentile(latencies, 99)
    log(f"    {n} slow clients dropped after at most {slowest:.2f}s; "
        f"{len(latencies)} normal requests meanwhile, p99 {p99 * 1000:.1f} ms")
    check(len(latencies) >= 20, "normal requests starved")
    check(p99 < 0.5, f"normal requests slowed to p99 {p99:.3f}s")


def test_slow_body():
    port = F.server.port
    before = F.visit_count()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(request_bytes("POST", F.tenant.path("/participants/enter"), [
        ("ApiKey", F.tenant.key["ApiKey"]), ("Content-Type", "application/json"),
        ("Content-Length", "100")], b'{"participantId":'))
    t = time.time()
    data = s.recv(4096)
    elapsed = time.time() - t
    s.close()
    check(data.startswith(b"HTTP/1.1 408"), f"slow body: {data[:40]!r}")
    check(1.5 < elapsed < 3.5, f"slow body answered after {elapsed:.1f}s (timeout 2s)")
    check(F.visit_count() == before, "a timed-out request changed something")


def test_idle_keepalive_closed():
    conn = F.server.connection()
    status, _, _ = harness.send(conn, "GET", "/healthz")
    check(status == 200, "first request")
    sock = conn.sock
    sock.settimeout(10)
    t = time.time()
    data = sock.recv(1)
    elapsed = time.time() - t
    conn.close()
    check(data == b"", "the idle connection got data instead of being closed")
    check(2.5 < elapsed < 4.5, f"idle connection closed after {elapsed:.1f}s (timeout 3s)")


def test_max_connections():
    work = harness.Workdir("maxconn")
    db = harness.Database(work)
    server = harness.Server(work, db, "--max-connections", "20", "--threads", "2").start()
    held = []
    try:
        for _ in range(20):
            held.append(socket.create_connection(("127.0.0.1", server.port)))
        time.sleep(0.2)
        line, resp = raw_exchange(server.port, request_bytes("GET", "/healthz"))
        check(status_of(line) == 503, f"connection over the limit: {line}")
        check(b"retry-after: 1" in resp.lower(), "503 without Retry-After")
        check(b'"SERVICE_UNAVAILABLE"' in resp, "503 body code")
        for s in held[:5]:
            s.close()
        held = held[5:]
        deadline = time.time() + 5
        while True:
            line, _ = raw_exchange(server.port, request_bytes("GET", "/healthz",
                                                              [("Connection", "close")]))
            if status_of(line) == 200:
                break
            check(time.time() < deadline, f"no room after closing connections: {line}")
            time.sleep(0.05)
    finally:
        for s in held:
            s.close()
        if sys.exc_info()[0] is None:
            server.stop()
        server.close()
        work.close()


def test_server_stops_cleanly():
    F.server.stop()


def main():
    global ARGS, F
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--slow-clients", type=int, default=100)
    ARGS = p.parse_args()
    F = Fixture()
    try:
        return harness.main([test_body_limit, test_url_limit, test_header_limits,
                             test_malformed_requests, test_slowloris, test_slow_body,
                             test_idle_keepalive_closed, test_max_connections,
                             test_server_stops_cleanly])
    finally:
        F.close()


if __name__ == "__main__":
    sys.exit(main())
