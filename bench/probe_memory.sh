#!/usr/bin/env bash
# bench/probe_memory.sh: peak memory (maximum resident set size) and wall
# time of `agentwatch probe` for verdicts of the loopback matrix of
# tests/probe/harness.py (on demand; never run by `meson test`).
#
#   bench/probe_memory.sh                         # Linux build (BUILD, default build-bench)
#   bench/probe_memory.sh --wine EXE              # the Windows exe under wine
#   SCENARIOS="ok revoked" bench/probe_memory.sh
#
# Each probe the harness runs goes through a wrapper that runs it under
# GNU time (`/usr/bin/time -f %M`, the kernel's ru_maxrss of the process
# in KiB); the harness's own checks still apply (its last line says
# whether every verdict was the expected one).  Under wine the figure is
# that of the Windows process as wine runs it, wine's own DLLs included:
# `agentwatch.exe --version` is measured the same way as the baseline.
# See bench/README.md, "Probe memory".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCENARIOS=${SCENARIOS:-"tcp-refused ok leafonly revoked hostile-crl"}
BENCH_NAME=bench/probe_memory.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh
wine_exe=
if [ "${1:-}" = --wine ]; then
    wine_exe=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
fi
[ -x /usr/bin/time ] || die "/usr/bin/time is required (Debian: time)"

tmp=$(mktemp -d /tmp/aw-probe-mem.XXXXXX)
cleanup() {
    [ -z "$wine_exe" ] || WINEPREFIX=$tmp/prefix wineserver -k 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

if [ -n "$wine_exe" ]; then
    export WINEPREFIX=$tmp/prefix WINEDEBUG=-all WINEARCH=win64
    export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
    unset DISPLAY
    timeout 300 wineboot -i >/dev/null 2>&1 || true
    wineserver -p 2>/dev/null || true
    run=(wine "$wine_exe")
    engine=cryptoapi
else
    bench_build agentwatch
    run=("$(pwd)/$BUILD/agentwatch")
    engine=openssl
fi

# One line per run: peak RSS (KiB), in the order the harness runs them.
printf '#!/bin/sh\nexec /usr/bin/time -q -a -o "%s" -f %%M %s "$@"\n' \
    "$tmp/rss" "$(printf '%q ' "${run[@]}")" >"$tmp/aw"
chmod +x "$tmp/aw"
"$tmp/aw" --version >/dev/null
base=$(tail -n1 "$tmp/rss")
: >"$tmp/rss"

# shellcheck disable=SC2086 # SCENARIOS is a list of words
AW_BIN=$tmp/aw AW_PROBE_ENGINE=$engine AW_PROBE_TIMINGS=1 \
    python3 tests/probe/harness.py $SCENARIOS >"$tmp/out" 2>&1 || true
grep '^time ' "$tmp/out" >"$tmp/times" || true
if [ "$(wc -l <"$tmp/times")" -ne "$(wc -l <"$tmp/rss")" ]; then
    cat "$tmp/out" >&2
    echo "bench/probe_memory.sh: $(wc -l <"$tmp/rss") runs, $(wc -l <"$tmp/times") timings" >&2
    exit 1
fi
echo "engine $engine; --version: $base KiB peak RSS"
printf '%-22s %9s %8s  %s\n' verdict "peak KiB" "wall ms" scenario
paste -d' ' "$tmp/rss" "$tmp/times" |
    awk '{ kib = $1; verdict = $3; ms = $4; $1 = $2 = $3 = $4 = $5 = "";
           sub(/^ +/, ""); printf "%-22s %9d %8d  %s\n", verdict, kib, ms, $0 }'
tail -n1 "$tmp/out"
