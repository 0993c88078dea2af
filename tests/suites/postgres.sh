#!/usr/bin/env bash
# The PostgreSQL suite: starts a throwaway cluster on 127.0.0.1 (scripts/pg-cluster), runs
# against it the Store contract tests (the PostgreSQL instances of every tests/*contract_test
# binary), the In-Stream, IVS and presence suites (when present), the two-node test, the key check
# test (two nodes with different key files on one empty database) and the outage
# test, each on a database of its own, and removes the cluster even on failure; then the
# failover test on a primary and standby of its own.
# Usage: tests/suites/postgres.sh BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=$(realpath -m "${1:-build/release}")
export ROLLCALL_BIN=${ROLLCALL_BIN:-$BUILD/rollcall}

dir=$(mktemp -d /tmp/rollcall-pg.XXXXXX)
trap 'scripts/pg-cluster kill "$dir"' EXIT
scripts/pg-cluster start "$dir" >/dev/null || exit 1

failed=()
step() {
  local name=$1
  shift
  echo "--- postgres: $name"
  local t0=$SECONDS
  if "$@"; then
    echo "--- postgres: $name passed in $((SECONDS - t0))s"
  else
    echo "--- postgres: $name FAILED"
    failed+=("$name")
  fi
}

db() { scripts/pg-cluster createdb "$dir" "$1"; }

for t in "$BUILD"/tests/*contract_test; do
  name=$(basename "$t")
  step "$name" env ROLLCALL_TEST_PG_URL="$(db "$name")" "$t" --gtest_brief=1 \
    --gtest_filter='*/postgres'
done
for suite in api ivs presence; do
  if [ -f "tests/suites/$suite.sh" ]; then
    step "$suite-suite" env ROLLCALL_TEST_DATABASE="$(db "$suite")" bash "tests/suites/$suite.sh" "$BUILD"
  fi
done
step two-nodes env ROLLCALL_TEST_DATABASE="$(db two_nodes)" python3 tests/postgres/two_nodes.py
step key-check env ROLLCALL_TEST_DATABASE="$(db key_check)" python3 tests/postgres/key_check.py
step outage env ROLLCALL_TEST_DATABASE="$(db outage)" ROLLCALL_PG_CLUSTER="$dir" \
  python3 tests/postgres/outage.py
step failover python3 tests/postgres/failover.py

[ ${#failed[@]} -eq 0 ] || { echo "postgres: failed: ${failed[*]}"; exit 1; }
