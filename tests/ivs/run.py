#!/usr/bin/env python3
"""Runs the IVS end-to-end tests (tests/ivs/test_*.py) against one real `rollcall serve`.

Usage: run.py BUILD_DIR [unittest names...]. Env ROLLCALL_TEST_DATABASE (a postgresql:// URL)
runs them over that store instead of a temp SQLite file.
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
    try:
        srv.start()
        loader = unittest.TestLoader()
        if len(sys.argv) > 2:
            suite = loader.loadTestsFromNames(sys.argv[2:])
        else:
            suite = loader.discover(HERE, pattern='test_*.py', top_level_dir=HERE)
        result = unittest.TextTestRunner(verbosity=1).run(suite)
    finally:
        srv.stop()
    print('ivs suite: %d tests in %.1fs' % (result.testsRun, time.time() - started))
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
