"""One real `rollcall serve` for an end-to-end suite (tests/ivs, tests/presence), and the runner
those suites share: start the server, run the suite's test_*.py against it, stop it.

The server listens on a free port over a temp SQLite store, or over the store of
ROLLCALL_TEST_DATABASE (a postgresql:// URL), where it makes a tenant of its own.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import requests


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class RollcallServer:
    """`rollcall serve` with `extra_args`; after start(), `creds` is a tenant's credentials (the
    bootstrap tenant's, or a new tenant's when the store already had one)."""

    def __init__(self, binary, database=None, name='e2e', extra_args=()):
        self.binary = binary
        self.name = name
        self.dir = tempfile.mkdtemp(prefix='rollcall-%s-' % name)
        self.database = database or 'sqlite:' + os.path.join(self.dir, 'rollcall.db')
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.extra_args = list(extra_args)
        self.proc = None
        self.log = None
        self.creds = None

    def start(self):
        bootstrap = os.path.join(self.dir, 'bootstrap.json')
        self.log = open(os.path.join(self.dir, 'serve.log'), 'w')
        self.proc = subprocess.Popen(
            [self.binary, 'serve', '--listen', '127.0.0.1:%d' % self.port, '--database',
             self.database, '--bootstrap-file', bootstrap, '--threads', '2', '--quiet',
             *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            try:
                if requests.get(self.url + '/healthz', timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError('rollcall serve did not start; see ' + self.log.name)
            time.sleep(0.05)
        if os.path.exists(bootstrap):
            with open(bootstrap) as f:
                self.creds = json.load(f)
        else:  # a shared store that already had tenants: make our own
            self.creds = self.create_tenant()
        return self

    def create_tenant(self):
        """A new tenant's credentials (`rollcall tenant create`)."""
        out = subprocess.run(
            [self.binary, 'tenant', 'create', '--name', '%s-%s' % (self.name, os.urandom(6).hex()),
             '--database', self.database], capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    def stop(self, keep=False):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None:
            self.log.close()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def run_suite(doc, suite_dir, make_server, verbosity=1):
    """The main of an end-to-end suite: run.py BUILD_DIR [unittest names...]. Starts
    make_server(binary, database), runs the suite's tests (all test_*.py in suite_dir, or the
    names given), stops the server (its directory is kept when a test failed). Returns the exit
    status."""
    if len(sys.argv) < 2:
        print(doc, file=sys.stderr)
        return 2
    binary = os.environ.get('ROLLCALL_BIN') or os.path.join(sys.argv[1], 'rollcall')
    srv = make_server(os.path.abspath(binary), os.environ.get('ROLLCALL_TEST_DATABASE'))
    started = time.time()
    result = None
    try:
        srv.start()
        loader = unittest.TestLoader()
        if len(sys.argv) > 2:
            suite = loader.loadTestsFromNames(sys.argv[2:])
        else:
            suite = loader.discover(suite_dir, pattern='test_*.py', top_level_dir=suite_dir)
        result = unittest.TextTestRunner(verbosity=verbosity).run(suite)
    finally:
        ok = result is not None and result.wasSuccessful()
        srv.stop(keep=not ok)
        if not ok:
            print('%s suite: server log kept in %s' % (srv.name, srv.dir), file=sys.stderr)
    print('%s suite: %d tests in %.1fs' % (srv.name, result.testsRun, time.time() - started))
    return 0 if ok else 1
