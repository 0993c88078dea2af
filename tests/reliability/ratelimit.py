#!/usr/bin/env python3
"""Per-credential rate limits: 429 TOO_MANY_REQUESTS with Retry-After once a credential's
bucket is empty, nothing changed by a refused request, credentials independent, and a
flooding tenant does not starve a quiet one (the quiet tenant's p99 stays low). On the IVS
face: boto3 sees ThrottlingException once an access key's bucket is empty, and a participant
token on /v1/stage/* gets the In-Stream 429 with Retry-After.

Usage: ratelimit.py [--flood-seconds S] [--flooders N] [--only instream|ivs|noisy]
       (defaults 4 and 4; all tests)
"""

import argparse
import multiprocessing
import sys
import threading
import time

import harness
from harness import check, log

ARGS = None


def test_limit_and_retry_after():
    # One token a second, five at once: timings in this test have a second of slack.
    with harness.Workdir("ratelimit") as work:
        db = harness.Database(work)
        with harness.Server(work, db, "--rate-limit", "1", "--rate-burst", "5").start() as server:
            t = harness.Tenant(server, db)
            t.start_session(server)  # the key's first token
            other = server.request("POST", "/v1/applications", {"type": "CHAT"}, t.admin)
            check(other[0] == 201, f"second application: {other[0]}")
            other_key = {"ApiKey": other[2]["apiKey"]}
            time.sleep(1.1)  # the key's bucket is full again
            conn = server.connection()
            for i in range(5):
                status, _, body = harness.send(conn, "POST", t.path("/participants/enter"),
                                               harness.enter_body(f"p{i}"), t.key)
                check(status == 201, f"request {i} within the burst: {status} {body}")
            status, headers, body = harness.send(conn, "POST", t.path("/participants/enter"),
                                                 harness.enter_body("late"), t.key)
            check(status == 429, f"request over the limit: {status}")
            check(body["code"] == "TOO_MANY_REQUESTS", f"429 body: {body}")
            check(headers.get("retry-after") == "1", f"Retry-After: {headers.get('retry-after')}")
            # Other credentials have their own buckets.
            check(harness.send(conn, "GET", "/v1/applications/sessions", None, other_key)[0] == 200,
                  "another application's key was limited")
            check(harness.send(conn, "GET", "/v1/applications", None, t.admin)[0] == 200,
                  "the admin token was limited by the ApiKey's use")
            # Retry-After is honest: after it, one request goes through, the next does not.
            time.sleep(1.05)
            status, _, _ = harness.send(conn, "GET", t.path(), None, t.key)
            check(status == 200, f"after Retry-After: {status}")
            status, _, _ = harness.send(conn, "GET", t.path(), None, t.key)
            check(status == 429, f"bucket empty again: {status}")
            time.sleep(1.1)
            status, _, s = harness.send(conn, "GET", t.path(), None, t.key)
            check(status == 200 and s["visitCount"] == 5, f"the refused enter was recorded: {s}")
            # Requests with unknown keys are 401 and spend nobody's tokens: the real key has
            # one token and still gets its request through.
            time.sleep(1.1)
            for _ in range(20):
                check(harness.send(conn, "GET", t.path(), None,
                                   {"ApiKey": "00000000-0000-4000-8000-000000000000"})[0] == 401,
                      "unknown key")
            check(harness.send(conn, "GET", t.path(), None, t.key)[0] == 200,
                  "unknown keys drained a real key's bucket")
            conn.close()


def ivs_client(server, creds, secret=None):
    import boto3
    from botocore.config import Config
    return boto3.client("ivs-realtime", endpoint_url=f"http://127.0.0.1:{server.port}",
                        region_name="us-east-1", aws_access_key_id=creds["accessKeyId"],
                        aws_secret_access_key=secret or creds["secretAccessKey"],
                        config=Config(retries={"max_attempts": 1}))


def ivs_error(call):
    from botocore.exceptions import ClientError
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def test_ivs_access_keys_and_participant_tokens():
    with harness.Workdir("ratelimit-ivs") as work:
        db = harness.Database(work)
        # One request per 2 s: a token refilled by a slow moment of a loaded machine would
        # otherwise blur "over the burst" at 1 per second.
        with harness.Server(work, db, "--rate-limit", "0.5", "--rate-burst", "3").start() as server:
            creds = harness.create_tenant(db.url)
            other = harness.create_tenant(db.url)
            ivs = ivs_client(server, creds)
            stage = ivs.create_stage(name="rl", participantTokenConfigurations=[{"userId": "u"}])
            arn = stage["stage"]["arn"]
            token = stage["participantTokens"][0]["token"]
            ivs.list_stages()
            ivs.list_stages()  # the burst of 3 is spent
            code, status = ivs_error(ivs.list_stages)
            check((code, status) == ("ThrottlingException", 429),
                  f"an access key over its limit: {code} {status}")
            check(ivs_error(ivs_client(server, other).list_stages)[0] is None,
                  "another tenant's access key was limited")
            # Bad signatures are refused before the limiter: they spend no token.
            time.sleep(2.1)
            for _ in range(10):
                code, _ = ivs_error(ivs_client(server, creds, secret="x" * 40).list_stages)
                check(code == "InvalidSignatureException", f"a wrong secret: {code}")
            check(ivs_error(ivs.list_stages)[0] is None, "bad signatures drained the bucket")

            # A participant token has a bucket of its own, apart from the access key's.
            conn = server.connection()
            bearer = {"Authorization": f"Bearer {token}"}
            for action in ("join", "leave", "join"):
                status, _, body = harness.send(conn, "POST", f"/v1/stage/{action}", {}, bearer)
                check(status == 200, f"{action} within the token's burst: {status} {body}")
            status, headers, body = harness.send(conn, "POST", "/v1/stage/leave", {}, bearer)
            check(status == 429 and body["code"] == "TOO_MANY_REQUESTS",
                  f"a token over its limit: {status} {body}")
            check(headers.get("retry-after") == "2", f"Retry-After: {headers.get('retry-after')}")
            check(harness.send(conn, "POST", "/v1/stage/join", {},
                               {"Authorization": "Bearer x.y.z"})[0] == 401,
                  "a forged token was not refused")
            conn.close()
            time.sleep(4.1)  # two requests of the access key below
            session = ivs.list_stage_sessions(stageArn=arn)["stageSessions"][0]["sessionId"]
            parts = ivs.list_participants(stageArn=arn, sessionId=session)["participants"]
            check(len(parts) == 1 and parts[0]["state"] == "CONNECTED",
                  f"the refused leave changed the participant: {parts}")
            log("    IVS: ThrottlingException 429 per access key, 429 + Retry-After per "
                "participant token, refused requests change nothing")


def flood(port, key, path, seconds, counts):
    """One flooding process: as many enters as it can for `seconds`, on keep-alive."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    deadline = time.time() + seconds
    ok = limited = other = 0
    i = 0
    while time.time() < deadline:
        i += 1
        try:
            status, _, _ = harness.send(conn, "POST", path, harness.enter_body(f"f{i % 500}"), key)
        except OSError:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            other += 1
            continue
        if status in (200, 201):
            ok += 1
        elif status == 429:
            limited += 1
        else:
            other += 1
    counts.put((ok, limited, other))


def test_noisy_tenant_does_not_starve_another():
    rate = 50
    with harness.Workdir("noisy") as work:
        db = harness.Database(work)
        with harness.Server(work, db, "--rate-limit", str(rate), "--rate-burst", str(rate)).start() as server:
            noisy = harness.Tenant(server, db, "noisy")
            noisy.start_session(server)
            quiet = harness.Tenant(server, db, "quiet")
            quiet.start_session(server)

            counts = multiprocessing.Queue()
            procs = [multiprocessing.Process(
                target=flood, args=(server.port, noisy.key, noisy.path("/participants/enter"),
                                    ARGS.flood_seconds, counts)) for _ in range(ARGS.flooders)]
            for p in procs:
                p.start()
            time.sleep(0.5)
            latencies, statuses = [], []
            conn = server.connection()
            i = 0
            end = time.time() + ARGS.flood_seconds - 1.0
            while time.time() < end:
                pid = f"q{(i // 2) % 20}"
                op = ("/participants/enter", harness.enter_body(pid)) if i % 2 == 0 else \
                     ("/participants/leave", {"participantId": pid})
                t = time.time()
                status, _, _ = harness.send(conn, "POST", quiet.path(op[0]), op[1], quiet.key)
                latencies.append(time.time() - t)
                statuses.append(status)
                i += 1
                time.sleep(0.04)  # 20 requests a second, well under the limit
            conn.close()
            for p in procs:
                p.join()
            totals = [counts.get() for _ in procs]
            ok = sum(c[0] for c in totals)
            limited = sum(c[1] for c in totals)
            other = sum(c[2] for c in totals)
            p50 = harness.percentile(latencies, 50)
            p99 = harness.percentile(latencies, 99)
            log(f"    noisy tenant: {ok} admitted, {limited} refused (429), {other} other in "
                f"{ARGS.flood_seconds}s; quiet tenant: {len(latencies)} writes, "
                f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
            check(set(statuses) <= {200, 201}, f"the quiet tenant got {set(statuses) - {200, 201}}")
            check(limited > ok, "the flood was not limited")
            check(ok <= rate * (ARGS.flood_seconds + 1) + rate, f"{ok} admitted over the limit")
            check(other == 0, f"{other} flood requests failed otherwise")
            check(p99 < 0.25, f"the quiet tenant's p99 rose to {p99 * 1000:.0f} ms")
            time.sleep(1.1)  # the noisy tenant's bucket refills for the checks
            harness.check_session_counts(server, quiet)
            harness.check_session_counts(server, noisy)
            if db.is_sqlite:
                harness.check_sqlite_invariants(db.sqlite_path)


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--flood-seconds", type=float, default=4)
    p.add_argument("--flooders", type=int, default=4)
    p.add_argument("--only", choices=["instream", "ivs", "noisy"], default=None)
    ARGS = p.parse_args()
    tests = {"instream": test_limit_and_retry_after, "ivs": test_ivs_access_keys_and_participant_tokens,
             "noisy": test_noisy_tenant_does_not_starve_another}
    return harness.main([t for name, t in tests.items() if ARGS.only in (None, name)])


if __name__ == "__main__":
    sys.exit(main())
