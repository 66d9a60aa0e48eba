#!/usr/bin/env bash
# Quick start: install what is missing, build, scan the shipped sample logs
# into a fresh database under build/, and print the report.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

db=build/demo.db
rm -f "$db" "$db-wal" "$db-shm"
echo "== agentwatch scan (sample logs: samples/itms, samples/ccm, samples/plain)"
build/agentwatch --db "$db" scan --rules rules \
    samples/itms/agent.log samples/ccm samples/plain/agent-text.log
echo
echo "== agentwatch report"
build/agentwatch --db "$db" report
