"""Two nodes given different key files start at once on one empty PostgreSQL database: exactly
one runs; the other is refused at start by the key check value the first stored (exit 2, naming
its key file), and the key file it created is removed. Without the check both would run, and
each would refuse the access keys the other sealed.

Usage: ROLLCALL_TEST_DATABASE=postgresql://... python3 tests/postgres/key_check.py
(a database of its own, empty).
"""
import os
import shutil
import tempfile
import time

import requests

from pgharness import Node, check, database_url, fail


def main():
    url = database_url()
    keys_dir = tempfile.mkdtemp(prefix="rollcall-key-check-")
    keys = {name: os.path.join(keys_dir, name + ".key") for name in ("node-a", "node-b")}
    nodes = [Node(url, name, extra=("--key-file", key)) for name, key in keys.items()]

    # Each node ends up either serving (healthy) or exited.
    deadline = time.time() + 30
    state = {}
    while len(state) < len(nodes) and time.time() < deadline:
        for n in nodes:
            if n.name in state:
                continue
            if n.proc.poll() is not None:
                state[n.name] = "exited"
                continue
            try:
                if requests.get(n.base + "/healthz", timeout=1).status_code == 200:
                    state[n.name] = "serving"
            except requests.RequestException:
                pass
        time.sleep(0.05)
    if len(state) < len(nodes):
        fail("a node neither served nor exited: %s" % state)
    serving = [n for n in nodes if state[n.name] == "serving"]
    refused = [n for n in nodes if state[n.name] == "exited"]
    check(len(serving) == 1 and len(refused) == 1,
          "not exactly one node runs: %s\n%s" % (state, "\n".join(n.output() for n in nodes)))
    loser = refused[0]
    out = loser.output()
    check(loser.proc.returncode == 2 and keys[loser.name] in out and "key check" in out,
          "%s: exit %s, %s" % (loser.name, loser.proc.returncode, out))
    check(not os.path.exists(keys[loser.name]),
          "the refused node left the key file it created behind")
    check(os.path.exists(keys[serving[0].name]), "the serving node's key file is gone")
    print("key check: of two nodes with different key files on one empty database, %s runs and "
          "%s is refused (exit 2)" % (serving[0].name, loser.name), flush=True)
    for n in nodes:
        n.stop()
    shutil.rmtree(keys_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
