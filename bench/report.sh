#!/usr/bin/env bash
# bench/report.sh: the on-demand report benchmark (never run by `meson test`).
#
# Fills bench/out/findings.db with FINDINGS synthetic findings (gen_findings,
# through SQLite with the store's own schema and triggers), then times
#   1. the summary:           agentwatch report --format json
#   2. a 30-day hourly trend: agentwatch report --since .. --until .. --by hour --format json
#   3. the status line:       agentwatch status
# Goal: 1 and 2 under a second each on 10,000,000 findings.
#
# Environment: FINDINGS (10000000), SEED (1), RUNS (3, best of),
# BUILD (build-bench).  See bench/README.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

FINDINGS=${FINDINGS:-10000000}
SEED=${SEED:-1}
RUNS=${RUNS:-3}
OUT=bench/out
DB=$OUT/findings.db
# gen_findings' data end at 2025-03-31T00:00Z; the trend window is the last
# 30 days with bounds inside hours, so both partial-hour edges are read too.
SINCE=2025-03-01T00:30:00Z
UNTIL=2025-03-30T23:59:59.999Z

BENCH_NAME=bench/report.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh

for t in meson ninja awk; do
    command -v "$t" >/dev/null || die "$t is required"
done
bench_build
AW=$BUILD/agentwatch
GEN=$BUILD/bench/gen_findings
[[ -x $GEN && -x $AW ]] || die "$GEN or $AW was not built"

mkdir -p "$OUT"
gen_sum=$(cat bench/gen_findings.c src/store_sql.h | cksum | awk '{print $1}')
stamp="findings=$FINDINGS seed=$SEED gen=$gen_sum"
if [[ -f $DB && -f $OUT/findings.stamp && $(cat "$OUT/findings.stamp") == "$stamp" ]]; then
    say "reusing $DB ($stamp)"
    gen_s="reused"
else
    say "generating $DB ($FINDINGS findings)"
    rm -f "$DB" "$DB-wal" "$DB-shm" "$OUT/findings.stamp"
    t0=$(date +%s.%N)
    "$GEN" --findings "$FINDINGS" --seed "$SEED" "$DB"
    t1=$(date +%s.%N)
    gen_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1fs", b - a }')
    echo "$stamp" > "$OUT/findings.stamp"
fi

now() { date +%s.%N; }
# best and first of RUNS runs of "$@" (stdout to $OUT/report.last)
time_it() {
    local best="" first="" s t0 t1
    for ((i = 1; i <= RUNS; i++)); do
        t0=$(now)
        "$@" > "$OUT/report.last" || [[ $1 == "$AW" && $3 == status ]] || die "$* failed"
        t1=$(now)
        s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        [[ -n $first ]] || first=$s
        best=$(awk -v a="$best" -v b="$s" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
    done
    echo "$best $first"
}

read -r sum_s sum_first <<< "$(time_it "$AW" --db "$DB" report --format json)"
total=$(grep -o '"total": [0-9]*' "$OUT/report.last" | grep -o '[0-9]*$')
read -r trend_s trend_first <<< "$(time_it "$AW" --db "$DB" report --since "$SINCE" --until "$UNTIL" --by hour --format json)"
buckets=$(grep -c '"start": .*"counts"' "$OUT/report.last" || true)
read -r table_s table_first <<< "$(time_it "$AW" --db "$DB" report --since "$SINCE" --until "$UNTIL" --by hour)"
read -r status_s status_first <<< "$(time_it "$AW" --db "$DB" status)"
status_line=$("$AW" --db "$DB" status || true)
ok() { awk -v s="$1" 'BEGIN { print (s < 1.0) ? "yes" : "NO" }'; }

cat <<EOF2

agentwatch report benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), best of $RUNS, first run in brackets)
  database        $DB, $(stat -c %s "$DB") bytes, $total findings (generated: ${gen_s})
  summary (json)  ${sum_s}s [${sum_first}s]   (goal < 1s: $(ok "$sum_s"))
  30-day trend    ${trend_s}s [${trend_first}s], $buckets hourly buckets   (goal < 1s: $(ok "$trend_s"))
  trend (table)   ${table_s}s [${table_first}s]
  status          ${status_s}s [${status_first}s]: $status_line
EOF2
cat > "$OUT/report-result.json" <<EOF2
{"findings": $total, "summary_seconds": $sum_s, "summary_first_seconds": $sum_first,
 "trend_seconds": $trend_s, "trend_first_seconds": $trend_first, "trend_buckets": $buckets,
 "table_trend_seconds": $table_s, "status_seconds": $status_s}
EOF2
say "wrote $OUT/report-result.json"
