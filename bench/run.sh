#!/usr/bin/env bash
# `npm run bench`: installs the peers if missing, builds, then runs the
# side-by-side benchmark with the load generator pinned to core 1 (each
# server is pinned to core 0 by the harness). Env: see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! bash bench/setup.sh --check >/dev/null 2>&1; then
  bash bench/setup.sh
fi
npm run -s build
exec taskset -c "${BENCH_CLIENT_CPU:-1}" node dist/bench/main.js "$@"
