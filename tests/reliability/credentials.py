#!/usr/bin/env python3
"""Secrets: credentials never appear in the server's logs, whatever the request carries and
however it fails; ApiKeys and admin tokens are stored only as SHA-256 digests, and secret
access keys sealed with the key file (--key-file), so the database holds none of them, while
boto3 still authenticates; a wrong key file is refused at start; plaintext rows of older
databases are sealed at start.

Usage: secrets.py
"""

import hashlib
import json
import os
import subprocess
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


def ivs_call(server, creds, secret=None):
    """ListStages through boto3: None when it succeeds, else the error code."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    client = boto3.client("ivs-realtime", endpoint_url=f"http://127.0.0.1:{server.port}",
                          region_name="us-east-1", aws_access_key_id=creds["accessKeyId"],
                          aws_secret_access_key=secret or creds["secretAccessKey"],
                          config=Config(retries={"max_attempts": 1}))
    try:
        client.list_stages()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def stored_secrets(db):
    """The database's bytes (SQLite: the file and its WAL) or the access_keys table's text."""
    if db.is_sqlite:
        data = b""
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db.sqlite_path + suffix):
                with open(db.sqlite_path + suffix, "rb") as f:
                    data += f.read()
        return data
    p = subprocess.run(["psql", db.url, "-Atc", "SELECT access_key_id, secret_access_key "
                        "FROM access_keys"], capture_output=True, timeout=30)
    check(p.returncode == 0, f"psql: {p.stderr.decode()}")
    return p.stdout


def test_secret_access_keys_sealed():
    with harness.Workdir("sealed") as work:
        db = harness.Database(work)
        # PostgreSQL: the database is shared with the other tests, so is their (default) key.
        key_file = work.file("kek/rollcall.key") if db.is_sqlite else os.path.abspath(
            "var/rollcall.key")
        with harness.Server(work, db, "--key-file", key_file, quiet=False).start() as server:
            p = harness.run_cli("tenant", "create", "--name", f"sealed-{os.getpid()}",
                                "--key-file", key_file, database=db.url)
            creds = json.loads(p.stdout)
            check(ivs_call(server, creds) is None, "boto3 does not authenticate with a sealed key")
            check(ivs_call(server, creds, secret="y" * 40) == "InvalidSignatureException",
                  "a wrong secret was accepted")
            check(server.terminate() == 0, "exit status")
            logs = server.stdout() + server.stderr()
        check(os.stat(key_file).st_mode & 0o777 == 0o600, "the key file is not mode 0600")
        data = stored_secrets(db)
        check(creds["secretAccessKey"].encode() not in data,
              "the secret access key is stored in plain text")
        check(b"sealed1:" in data, "no sealed secret in the database")
        check(creds["secretAccessKey"] not in logs, "the secret access key is in the log")
        with open(key_file) as f:
            check(f.read().strip() not in logs, "the key-encryption key is in the log")

        # Another key file does not open the stored secrets: refused at start, clearly.
        wrong = work.file("wrong.key")
        p = harness.run_cli("serve", "--listen", f"127.0.0.1:{harness.free_port()}", "--key-file",
                            wrong, "--bootstrap-file", work.file("b.json"), database=db.url,
                            check_rc=False)
        check(p.returncode == 2 and "key file" in p.stderr and "--key-file" in p.stderr,
              f"serve with a wrong key file: exit {p.returncode}, {p.stderr.strip()}")
        p = harness.run_cli("tenant", "create", "--name", "w", "--key-file", wrong,
                            database=db.url, check_rc=False)
        check(p.returncode == 2, f"tenant create with a wrong key file: exit {p.returncode}")
        if db.is_sqlite:  # a key file others can read is refused
            os.chmod(key_file, 0o644)
            p = harness.run_cli("migrate", "--key-file", key_file, database=db.url, check_rc=False)
            check(p.returncode == 2 and "chmod 600" in p.stderr,
                  f"a world-readable key file: exit {p.returncode}, {p.stderr.strip()}")
            os.chmod(key_file, 0o600)
        log("    secret access keys: sealed in the database, boto3 authenticates, a wrong or "
            "readable key file is refused at start")

        if not db.is_sqlite:
            return
        # A database from before sealing: its plaintext secret is sealed in place at start.
        import sqlite3
        conn = sqlite3.connect(db.sqlite_path)
        conn.execute("UPDATE access_keys SET secret_access_key = ? WHERE access_key_id = ?",
                     (creds["secretAccessKey"], creds["accessKeyId"]))
        conn.commit()
        conn.close()
        with harness.Server(work, db, "--key-file", key_file, name="again").start() as server:
            check(ivs_call(server, creds) is None, "boto3 after sealing a plaintext row")
            check(server.terminate() == 0, "exit status")
            check("sealed 1 secret access key" in server.stderr(),
                  f"sealing was not reported: {server.stderr()}")
        check(creds["secretAccessKey"].encode() not in stored_secrets(db),
              "a plaintext secret was not sealed at start")
        log("    a plaintext secret access key of an older database is sealed at start")


def test_key_check_on_an_empty_database():
    """A database started once with a key file refuses another even before any secret is in it
    (its key check value); a key file the refused start created is removed, one that existed
    is kept. Always a SQLite file of its own: the check needs a database that starts empty."""
    with harness.Workdir("keycheck") as work:
        db = harness.Database(work, "empty")
        db.sqlite_path = work.file("empty.db")
        db.url = url = "sqlite:" + db.sqlite_path
        a, b = work.file("a.key"), work.file("keys/b.key")
        # `migrate` stores no secret (`serve` would bootstrap a tenant and seal its key).
        harness.run_cli("migrate", "--key-file", a, database=url)
        check(os.path.exists(a), "migrate did not create the key file")
        p = harness.run_cli("serve", "--listen", f"127.0.0.1:{harness.free_port()}", "--key-file",
                            b, "--bootstrap-file", work.file("b.json"), "--quiet", database=url,
                            check_rc=False, timeout=30)
        check(p.returncode == 2 and b in p.stderr and "key check" in p.stderr,
              f"serve with another key file on an empty database: exit {p.returncode}, "
              f"{p.stderr.strip()}")
        check(not os.path.exists(b), "the refused start left the key file it created behind")
        check(not os.path.exists(work.file("b.json")), "the refused start bootstrapped a tenant")

        # A wrong key file that existed before the start is refused and kept.
        with open(a) as f:
            right = f.read()
        wrong = ("0" if right[0] != "0" else "1") + right[1:]
        fd = os.open(work.file("wrong.key"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, wrong.encode())
        os.close(fd)
        p = harness.run_cli("migrate", "--key-file", work.file("wrong.key"), database=url,
                            check_rc=False)
        check(p.returncode == 2 and "wrong.key" in p.stderr,
              f"migrate with an existing wrong key file: exit {p.returncode}, {p.stderr.strip()}")
        with open(work.file("wrong.key")) as f:
            check(f.read() == wrong, "a key file that existed before the start was changed")

        # The right key file still starts.
        with harness.Server(work, db, "--key-file", a).start() as server:
            check(server.terminate() == 0, "exit status with the right key file")
        log("    key check: another key file is refused on an empty database, the key file the "
            "refused start created is removed, an existing one kept")


def main():
    return harness.main([test_credentials_never_logged, test_keys_and_tokens_stored_as_digests,
                         test_secret_access_keys_sealed, test_key_check_on_an_empty_database])


if __name__ == "__main__":
    sys.exit(main())
