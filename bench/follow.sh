#!/usr/bin/env bash
# On-demand benchmark of `agentwatch follow`: latency from append to
# committed finding (median, p99 over RECORDS appended failure records) and
# CPU used while idle for IDLE seconds.  Release build in BUILD (build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-1000} RATE=${RATE:-50} IDLE=${IDLE:-60}
BENCH_NAME=bench/follow.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_deps
bench_build
mkdir -p bench/out/follow
"$BUILD/bench/follow_latency" "$BUILD/agentwatch" bench/out/follow "$RECORDS" "$RATE" "$IDLE" \
    | tee bench/out/follow/result.txt
