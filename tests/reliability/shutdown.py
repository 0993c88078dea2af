#!/usr/bin/env python3
"""Graceful shutdown on SIGTERM: the server stops accepting, finishes the requests in flight
(even one whose body is still arriving), flushes its writer and exits 0; idle and slow
clients do not hold it up; everything acknowledged is there after a restart.

Usage: shutdown.py [--workers W]
"""

import argparse
import random
import socket
import sys
import threading
import time

import harness
from harness import check, log
from presence_model import Worker, by_participant, verify_participant

ARGS = None


def test_sigterm_finishes_requests_in_flight():
    with harness.Workdir("sigterm") as work:
        db = harness.Database(work)
        server = harness.Server(work, db).start()
        try:
            tenant = harness.Tenant(server, db, "term")
            tenant.start_session(server)
            pids = [f"w{w}-p{i}" for w in range(ARGS.workers) for i in range(8)]
            inside = {pid: False for pid in pids}
            stop = threading.Event()
            workers = [Worker(server, tenant, pids[w * 8:(w + 1) * 8], inside, stop, random.random())
                       for w in range(ARGS.workers)]
            for w in workers:
                w.start()

            # A request whose body is only half sent when SIGTERM arrives.
            body = b'{"participantId":"slow-body","nickname":"slow"}'
            slow = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            slow.sendall((f"POST {tenant.path('/participants/enter')} HTTP/1.1\r\n"
                          f"Host: x\r\nApiKey: {tenant.key['ApiKey']}\r\n"
                          f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                          ).encode() + body[:10])
            idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            time.sleep(0.5)
            server.proc.send_signal(15)
            sigterm = time.time()
            time.sleep(0.3)
            # Stopped accepting.
            refused = False
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
            except ConnectionRefusedError:
                refused = True
            slow.sendall(body[10:])
            reply = b""
            while True:
                chunk = slow.recv(65536)
                if not chunk:
                    break
                reply += chunk
            slow.close()
            check(idle.recv(1) == b"", "an idle connection was not closed at SIGTERM")
            idle.close()
            code = server.proc.wait(15)
            took = time.time() - sigterm
            stop.set()
            for w in workers:
                w.join(30)
            check(refused, "a new connection was accepted after SIGTERM")
            head = reply.split(b"\r\n\r\n", 1)[0].lower()
            check(head.startswith(b"http/1.1 201"), f"the request in flight got {reply[:60]!r}")
            check(b"connection: close" in head, "the last response did not say Connection: close")
            check(code == 0, f"exit status {code} after SIGTERM")
            check("rollcall: stopped" in server.stdout(), "no 'stopped' line")
            errors = [w.error for w in workers if w.error]
            check(not errors, f"unexpected answers: {errors[:3]}")
            ops = [op for w in workers for op in w.ops]
            acked = sum(op.outcome == "acked" for op in ops)
            unanswered = sum(op.outcome == "unknown" for op in ops)

            if db.is_sqlite:
                harness.check_sqlite_invariants(db.sqlite_path)
            server.start()
            visits = by_participant(harness.check_session_counts(server, tenant))
            for pid in pids:
                verify_participant(pid, [], [op for op in ops if op.pid == pid], visits.get(pid, []))
            check("slow-body" in visits, "the request finished at shutdown was not recorded")
            log(f"    stopped {took:.2f}s after SIGTERM with status 0; {acked} acknowledged writes "
                f"present after restart; {unanswered} requests sent on connections the server "
                f"was closing (none acknowledged, each wholly there or absent)")
            server.stop()
        finally:
            server.close()


def test_sigterm_not_held_by_idle_or_slow_clients():
    with harness.Workdir("sigterm-idle") as work:
        db = harness.Database(work)
        with harness.Server(work, db, "--header-timeout", "1", "--idle-timeout", "60").start() as server:
            idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
            slow = socket.create_connection(("127.0.0.1", server.port))
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHo")
            time.sleep(0.2)
            t = time.time()
            code = server.terminate(15)
            took = time.time() - t
            reply = slow.recv(4096)
            for s in idle + [slow]:
                s.close()
            check(code == 0, f"exit status {code}")
            check(took < 2.5, f"took {took:.1f}s to stop with idle and slow clients (header "
                              f"timeout 1s)")
            check(reply.startswith(b"HTTP/1.1 408"), f"the slow client got {reply[:40]!r}")
            log(f"    stopped in {took:.2f}s with 20 idle connections and a slow client (408)")


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workers", type=int, default=6)
    ARGS = p.parse_args()
    return harness.main([test_sigterm_finishes_requests_in_flight,
                         test_sigterm_not_held_by_idle_or_slow_clients])


if __name__ == "__main__":
    sys.exit(main())
