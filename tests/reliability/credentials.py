#!/usr/bin/env python3
"""Secrets: credentials never appear in the server's logs, whatever the request carries and
however it fails, and ApiKeys and admin tokens are stored only as SHA-256 digests, so the
database files hold neither.

Usage: secrets.py
"""

import hashlib
import os
import sys

import harness
from harness import check, log


def test_credentials_never_logged():
    with harness.Workdir("secrets") as work:
        db = harness.Database(work)
        with harness.Server(work, db, "--rate-limit", "1000", quiet=False).start() as server:
            t = harness.Tenant(server, db, "sec")
            t.start_session(server)
            key = t.key["ApiKey"]
            token = t.creds["adminToken"]
            secret = t.creds["secretAccessKey"]
            calls = [
                ("POST", t.path("/participants/enter"), harness.enter_body("u1"), t.key),
                ("GET", t.path("/participants"), None, t.key),
                ("GET", f"/v1/applications/sessions?ApiKey={key}&token={token}", None, t.key),
                ("GET", "/v1/applications", None, t.admin),
                ("GET", "/v1/applications", None, {"Authorization": f"Bearer {token}x"}),
                ("GET", "/v1/applications", None, {"Authorization": f"Basic {token}"}),
                ("GET", t.path(), None, {"ApiKey": key + "0"}),
                ("GET", t.path(), None, {"ApiKey": key.upper()}),
                ("POST", t.path("/participants/enter"), {"participantId": key, "nickname": token},
                 {"ApiKey": "nope"}),
                ("POST", t.path("/participants/leave"), b"{bad json " + key.encode(), t.key),
                ("GET", "/nowhere", None, {"Authorization": f"AWS4-HMAC-SHA256 Credential={secret}"}),
                ("DELETE", t.path(), None, t.key),
            ]
            statuses = []
            for method, path, body, headers in calls:
                statuses.append(server.request(method, path, body, headers)[0])
            check(statuses[0] == 201 and statuses[3] == 200 and 401 in statuses,
                  f"the calls were not answered as expected: {statuses}")
            check(server.terminate() == 0, "exit status")
            logs = server.stdout() + server.stderr()
            check(t.path("/participants") in logs, "the request log is missing (wrong test setup)")
            for name, value in (("ApiKey", key), ("admin token", token),
                                ("secret access key", secret)):
                check(value not in logs, f"the {name} appears in the server's log")
                check(value.upper() not in logs and value.lower() not in logs,
                      f"the {name} appears in the server's log in another case")
            log(f"    {len(calls)} requests carrying credentials in headers, query and body: "
                f"none in {len(logs.splitlines())} log lines")


def test_keys_and_tokens_stored_as_digests():
    with harness.Workdir("digests") as work:
        db = harness.Database(work)
        if not db.is_sqlite:
            log("    skipped: reads the SQLite file")
            return
        with harness.Server(work, db).start() as server:
            t = harness.Tenant(server, db, "dig")
            rotated = server.request("POST", f"/v1/applications/{t.app['applicationId']}/api-key",
                                     None, t.admin)
            check(rotated[0] == 200, f"rotate: {rotated[0]}")
            new_key = rotated[2]["apiKey"]
            check(server.terminate() == 0, "exit status")
        data = b""
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db.sqlite_path + suffix):
                with open(db.sqlite_path + suffix, "rb") as f:
                    data += f.read()
        for name, value in (("ApiKey", t.key["ApiKey"]), ("rotated ApiKey", new_key),
                            ("admin token", t.creds["adminToken"])):
            check(value.encode() not in data, f"the {name} is stored in plain text")
        check(hashlib.sha256(t.creds["adminToken"].encode()).digest() in data,
              "the admin token's SHA-256 digest is not what is stored")
        check(hashlib.sha256(new_key.encode()).digest() in data,
              "the ApiKey's SHA-256 digest is not what is stored")
        log("    ApiKeys and admin tokens: only their SHA-256 digests are in the database files")


def main():
    return harness.main([test_credentials_never_logged, test_keys_and_tokens_stored_as_digests])


if __name__ == "__main__":
    sys.exit(main())
