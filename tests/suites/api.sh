#!/usr/bin/env bash
# End-to-end API suites: real `rollcall serve` processes over HTTP (tests/api/README.md).
# Usage: tests/suites/api.sh [BUILD_DIR] [runner options: --suite NAME, -k TEXT, -v]
# The binary is $ROLLCALL_BIN if set, else BUILD_DIR/rollcall (default build/release).
# ROLLCALL_TEST_DATABASE=URL runs every suite over that store instead of temp sqlite files.
# Prints one summary line per suite; exits non-zero on any failure.
set -euo pipefail
BUILD=${1:-build/release}
BIN=${ROLLCALL_BIN:-$BUILD/rollcall}
BIN=$(realpath -m "$BIN")
cd "$(dirname "$0")/../.."
exec python3 tests/api/runner.py --bin "$BIN" "${@:2}"
