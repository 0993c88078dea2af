#!/usr/bin/env python3
"""Runs the presence end-to-end tests (tests/presence/test_*.py) against one real
`rollcall serve`; the RTMP tests start nginx and ffmpeg themselves. Env ROLLCALL_TEST_DATABASE
(a postgresql:// URL) runs them over that store instead of a temp SQLite file.

Usage: run.py BUILD_DIR [unittest names...], e.g. run.py build/release test_rtmp
"""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.environ.get('ROLLCALL_BIN') or os.path.join(sys.argv[1], 'rollcall')
    srv = harness.Server(os.path.abspath(binary), os.environ.get('ROLLCALL_TEST_DATABASE'))
    started = time.time()
    ok = False
    try:
        srv.start()
        loader = unittest.TestLoader()
        if len(sys.argv) > 2:
            suite = loader.loadTestsFromNames(sys.argv[2:])
        else:
            suite = loader.discover(HERE, pattern='test_*.py', top_level_dir=HERE)
        result = unittest.TextTestRunner(verbosity=2).run(suite)
        ok = result.wasSuccessful()
    finally:
        srv.stop(keep=not ok)
        if not ok:
            print('presence suite: server log kept in ' + srv.dir, file=sys.stderr)
    print('presence suite: %d tests in %.1fs' % (result.testsRun, time.time() - started))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
