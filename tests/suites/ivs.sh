#!/usr/bin/env bash
# The IVS Real-Time face end to end: boto3 and the aws CLI against a real `rollcall serve`
# (its own port, temp SQLite store, bootstrap file). $1: the build dir. Env
# ROLLCALL_TEST_DATABASE=postgresql://... runs it over PostgreSQL instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build/release}
exec python3 tests/ivs/run.py "$BUILD"
