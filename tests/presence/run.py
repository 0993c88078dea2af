#!/usr/bin/env python3
"""Runs the presence end-to-end tests (tests/presence/test_*.py) against one real
`rollcall serve`; the RTMP tests start nginx and ffmpeg themselves. Env ROLLCALL_TEST_DATABASE
(a postgresql:// URL) runs them over that store instead of a temp SQLite file.

Usage: run.py BUILD_DIR [unittest names...], e.g. run.py build/release test_rtmp
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import e2e_server  # noqa: E402  (put on the path by harness)

if __name__ == '__main__':
    sys.exit(e2e_server.run_suite(__doc__, HERE, harness.Server, verbosity=2))
