#!/usr/bin/env bash
# On-demand benchmark of `agentwatch follow`: latency from append to
# committed finding (median, p99 over RECORDS appended failure records) and
# CPU used while idle for IDLE seconds.  Release build in build-bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-1000} RATE=${RATE:-50} IDLE=${IDLE:-60}
scripts/deps.sh
[ -f build-bench/build.ninja ] || meson setup build-bench --buildtype=release -Dtests=false >/dev/null
ninja -C build-bench >/dev/null
mkdir -p bench/out/follow
build-bench/bench/follow_latency build-bench/agentwatch bench/out/follow "$RECORDS" "$RATE" "$IDLE" \
    | tee bench/out/follow/result.txt
