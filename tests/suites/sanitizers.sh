#!/usr/bin/env bash
# The sanitizer build (build/asan: clang, ASan + LSan + UBSan, see scripts/asan-build): every
# unit and store test, each libFuzzer target over its committed corpus, and real
# `rollcall serve` runs (limits, slow clients, SIGTERM, SIGKILL rounds, backup, credentials
# with boto3 over sealed secret access keys, the IVS rate limits through boto3 and participant
# tokens) whose every exit is checked for leaks and sanitizer reports. $1 (the release build)
# is not used: this suite builds its own tree.
set -uo pipefail
cd "$(dirname "$0")/../.."
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export PYTHONDONTWRITEBYTECODE=1
start=$SECONDS
scripts/asan-build build/asan || { echo "sanitizers: build failed"; exit 1; }
echo "--- sanitizers: build/asan ready ($((SECONDS - start))s)"
failed=()
ctest --test-dir build/asan --output-on-failure -j2 || failed+=(unit)
BUILD_ASAN=build/asan scripts/fuzz --replay || failed+=(fuzz-corpus)
export ROLLCALL_BIN=$PWD/build/asan/rollcall
for t in "limits.py --slow-clients 50" "shutdown.py" "crash.py --only load --rounds 2" \
         "backup.py --backups 1" "credentials.py" "ratelimit.py --only ivs"; do
  echo "--- sanitizers: reliability/$t under ASan/UBSan/LSan"
  # shellcheck disable=SC2086
  python3 tests/reliability/$t || failed+=("${t%% *}")
done
echo "--- sanitizers: $((SECONDS - start))s"
[ ${#failed[@]} -eq 0 ] || { echo "sanitizers: failed: ${failed[*]}"; exit 1; }
