#!/usr/bin/env python3
"""Runs the IVS end-to-end tests (tests/ivs/test_*.py) against one real `rollcall serve`.

Usage: run.py BUILD_DIR [unittest names...]. Env ROLLCALL_TEST_DATABASE (a postgresql:// URL)
runs them over that store instead of a temp SQLite file.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import e2e_server  # noqa: E402  (put on the path by harness)

if __name__ == '__main__':
    sys.exit(e2e_server.run_suite(__doc__, HERE, harness.Server))
