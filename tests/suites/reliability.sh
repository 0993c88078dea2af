#!/usr/bin/env bash
# Reliability and security, end to end against real `rollcall serve` processes (short
# versions; the longer ones are in docs/reliability.md): transport limits and slow clients,
# rate limits, SIGKILL crash rounds and a kill during migration, SIGTERM, online backup and
# restore, credentials in logs and at rest. $1: the build dir. Honours ROLLCALL_TEST_DATABASE.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build/release}
export ROLLCALL_BIN=${ROLLCALL_BIN:-$PWD/$BUILD/rollcall}
export PYTHONDONTWRITEBYTECODE=1
failed=()
for t in limits ratelimit crash shutdown backup credentials; do
  echo "--- reliability/$t"
  start=$SECONDS
  if python3 "tests/reliability/$t.py"; then
    echo "--- reliability/$t: ok ($((SECONDS - start))s)"
  else
    echo "--- reliability/$t: FAILED ($((SECONDS - start))s)"
    failed+=("$t")
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "reliability: failed: ${failed[*]}"; exit 1; }
