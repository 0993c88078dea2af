#!/usr/bin/env bash
# Live presence end to end (docs/presence.md, docs/nginx-rtmp.md): tests/presence/test_*.py
# against a real `rollcall serve` (own port, temp SQLite store, a fast reaper), with nginx and
# its RTMP module and ffmpeg for the media server tests. $1: the build dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build/release}
if ! command -v nginx >/dev/null || ! command -v ffmpeg >/dev/null ||
   [ ! -e /usr/lib/nginx/modules/ngx_rtmp_module.so ]; then
  scripts/install-deps
fi
exec python3 tests/presence/run.py "$BUILD"
