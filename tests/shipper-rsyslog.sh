#!/usr/bin/env bash
# End-to-end shipper test (issue 13): Debian's rsyslog carries agentwatch's
# spool over TCP on loopback while `agentwatch follow` is killed with
# SIGKILL and restarted several times and the spool rotates.
#
#   instance A: the shipped packaging/shippers/rsyslog-imfile.conf (imfile
#               on the spool, omfwd over TCP to B), with its spool path and
#               target replaced
#   instance B: imtcp bound to 127.0.0.1 on a free port (port 0, written to
#               a file), omfile writing each message's JSON line
#
# Both run as this test's own processes (-n, their own config, pid file and
# work folders; no system socket: imuxsock is not loaded).  Every event.id
# of the database must arrive at B; duplicates are counted and reported
# (shippers are at least once).  Bounded: every wait has a deadline.
#
# Known flake, not agentwatch's: about once in 100 runs under load, one
# whole spool file (76 findings of 1,887: one 64 KiB file) never reaches B
# while the spool holds every finding exactly once (checked by event.id
# before the transit check).  Inside rsyslog A: imfile's state file records that
# file as read to its end (curr_offs = its size), yet none of its lines
# reached A's own ruleset (an extra omfile action beside omfwd, tried by
# hand, had none of them either), and A logs "imfile: wd N already in
# wdmap!".  Debian 12's rsyslog 8.2302; rsyslog issue 3758 (a whole
# rotated file missing with a wildcard), watches re-armed after rotation
# upstream in August 2026 (PR 7534).  Polling mode is worse (2 of 18
# runs).  Counted in December 2026: 1 loss in 98 runs in inotify mode,
# 90 of them three or six at a time (load 5-15).  On a loss the test
# names the spool files the lost findings are in and whether each file's
# header arrived; when every loss is a whole file whose header never
# arrived (that bug's shape), it runs the scenario once more from scratch
# (AW_RSYSLOG_RERUN=1) and fails if it happens again or takes another shape.
#
# Usage: shipper-rsyslog.sh AGENTWATCH_BINARY.  Exit 77 (skip) only when
# rsyslogd is not installed; scripts/test.sh installs it.
set -euo pipefail

bin=${1:?usage: shipper-rsyslog.sh AGENTWATCH_BINARY}
src=${AW_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
need_rsyslogd

scratch aw-rsyslog

mkdir -p "$t/a-work" "$t/b-work" "$t/logs" "$t/spool"


# ---- instance B: the collector --------------------------------------
cat > "$t/b.conf" <<EOF
global(workDirectory="$t/b-work" maxMessageSize="64k")
module(load="imtcp")
template(name="msgonly" type="string" string="%msg%\n")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="$t/b.port"
      ruleset="store")
ruleset(name="store") {
    action(type="omfile" file="$t/received.ndjson" template="msgonly" flushOnTXEnd="on")
}
EOF
"$rsyslogd" -n -f "$t/b.conf" -i "$t/b.pid" > "$t/b.out" 2>&1 &
pids+=($!)
if ! wait_for 100 test -s "$t/b.port"; then
    echo "FAIL: rsyslog B did not listen"; cat "$t/b.out"; exit 1
fi
port=$(cat "$t/b.port")
echo "rsyslog B listening on 127.0.0.1:$port"

# ---- instance A: the shipped configuration --------------------------
{
    echo "global(workDirectory=\"$t/a-work\")"
    sed -e "s|/var/lib/agentwatch/spool/agentwatch.ndjson|$t/spool/agentwatch.ndjson|" \
        -e "s|target=\"collector.example.net\" port=\"514\"|target=\"127.0.0.1\" port=\"$port\"|" \
        "$src/packaging/shippers/rsyslog-imfile.conf"
} > "$t/a.conf"
grep -q "target=\"127.0.0.1\" port=\"$port\"" "$t/a.conf"
"$rsyslogd" -n -f "$t/a.conf" -i "$t/a.pid" > "$t/a.out" 2>&1 &
pids+=($!)

# ---- agentwatch: follow, killed and restarted ------------------------
trust_rules "$t/rules.yaml"
cat > "$t/agentwatch.yaml" <<EOF
spool:
  path: $t/spool
  max_size: 65536
  keep: 1000
EOF
: > "$t/logs/agent.log"
lines=0
append() {
    local n=$1
    for ((k = 0; k < n; k++, lines++)); do
        printf '2025-03-11T%02d:%02d:%02dZ Could not establish trust relationship for the SSL/TLS secure channel. Attempt %d.\n' \
            $(((lines / 3600) % 24)) $(((lines / 60) % 60)) $((lines % 60)) "$lines"
    done >> "$t/logs/agent.log"
}
follow() {
    "$bin" --config "$t/agentwatch.yaml" --db "$t/aw.db" follow --rules "$t/rules.yaml" \
        --format line --host WKS-E2E --rescan 1 --retention-days 0 "$t/logs/agent.log" \
        >> "$t/follow.out" 2>&1 &
    fpid=$!
}
stored() {
    local n
    n=$("$bin" --db "$t/aw.db" report --format json 2>/dev/null |
        grep -o '"total": [0-9]*' | grep -o '[0-9]*$' || true)
    echo "${n:-0}"
}

kills=0
early=0   # kills before follow had stored every line of the log
RANDOM=13
for round in 1 2 3 4 5 6 7 8; do
    append $((150 + RANDOM % 150))
    follow
    # Kill it at a random moment of its catch-up (0 to 190 ms after start).
    sleep "0.$((RANDOM % 20 / 10))$((RANDOM % 10))"
    kill -KILL "$fpid"
    wait "$fpid" 2>/dev/null || true
    kills=$((kills + 1))
    at_kill=$(stored)
    [ "$at_kill" -ge "$lines" ] || early=$((early + 1))
    echo "round $round: $lines lines in the log, $at_kill stored when killed"
done
append 100
follow
pids+=("$fpid")
spooled() {
    cat "$t"/spool/agentwatch.ndjson* 2>/dev/null | grep -vc '"kind": "state"' || true
}
caught_up() { [ "$(stored)" -eq "$lines" ] && [ "$(spooled)" -eq "$lines" ]; }
if ! wait_for 600 caught_up; then
    echo "FAIL: follow did not catch up: $(stored) stored, $(spooled) spooled, $lines lines"
    cat "$t/follow.out"; exit 1
fi
kill -TERM "$fpid"; wait "$fpid" || true

"$bin" --db "$t/aw.db" export --format ecs | grep -o '"event": {"id": "[0-9a-f]*"' | sort > "$t/want"
files=$(ls "$t"/spool/agentwatch.ndjson* | wc -l)
# The spool itself: every event.id of the database exactly once, by id
# (the count above could hide a duplicate beside a gap).
cat "$t"/spool/agentwatch.ndjson* | grep -vF '"kind": "state"' |
    grep -o '"event": {"id": "[0-9a-f]*"' | sort > "$t/spooled"
if ! cmp -s "$t/want" "$t/spooled"; then
    echo "FAIL: the spool does not hold every finding exactly once:" \
         "$(comm -23 "$t/want" "$t/spooled" | wc -l) missing," \
         "$(uniq -d "$t/spooled" | wc -l) twice"
    exit 1
fi
got_ids() {
    grep -o '"event": {"id": "[0-9a-f]*"' "$t/received.ndjson" 2>/dev/null | sort > "$t/got" || true
    sort -u "$t/got" > "$t/got-unique"
    [ -z "$(comm -23 "$t/want" "$t/got-unique")" ]
}
ok=0
wait_for 600 got_ids && ok=1
sent=$(wc -l < "$t/want")
received=$(wc -l < "$t/got")
unique=$(wc -l < "$t/got-unique")
lost=$(comm -23 "$t/want" "$t/got-unique" | wc -l)
extra=$(comm -13 "$t/want" "$t/got-unique" | wc -l)
headers=$(grep -c '"spool_header": true' "$t/received.ndjson" || true)
echo "rsyslog end to end: $sent findings sent, $received received ($unique distinct)," \
     "$((received - unique)) duplicates, $lost lost, $extra unknown;" \
     "$kills SIGKILLs of follow ($early before it had stored the whole log)," \
     "$((files - 1)) spool rotations, $headers headers received"
if [ "$ok" -ne 1 ] || [ "$lost" -ne 0 ] || [ "$extra" -ne 0 ]; then
    echo "FAIL: findings lost in transit"
    comm -23 "$t/want" "$t/got-unique" | head -5
    # Where the lost ones are: by spool file (the spool itself held every
    # finding once, checked above), and whether that file's header, and
    # so the file, reached B at all.  One whole file missing points at
    # imfile losing track of a renamed file (rsyslog issue 3758).
    comm -23 "$t/want" "$t/got-unique" | sed 's/.*"id": "//; s/"$//' > "$t/lost-ids"
    whole=1       # every loss is a whole spool file whose header never came
    for f in "$t"/spool/agentwatch.ndjson*; do
        n=$(grep -cvF '"kind": "state"' "$f" || true)
        l=$(grep -cFf "$t/lost-ids" "$f" || true)
        seq=$(head -n 1 "$f" | grep -o '"sequence": [0-9]*' || true)
        if [ -n "$seq" ] && grep -qF "$seq," "$t/received.ndjson"; then h=yes; else h=no; fi
        [ "$l" -eq 0 ] || echo "  $(basename "$f") ($seq): $l of its $n findings lost; its header received: $h"
        if [ "$l" -ne 0 ] && { [ "$l" -ne "$n" ] || [ "$h" = yes ]; }; then whole=0; fi
    done
    echo "--- rsyslog A"; cat "$t/a.out"; echo "--- rsyslog B"; cat "$t/b.out"
    # The known imfile loss (see the top of this file) has exactly this
    # shape, and the spool was proven whole above: run the scenario once
    # more, from scratch, rather than fail on rsyslog's bug.  Any other
    # shape, or the same loss twice in a row, fails.
    if [ "$lost" -gt 0 ] && [ "$extra" -eq 0 ] && [ "$whole" -eq 1 ] &&
       [ -z "${AW_RSYSLOG_RERUN:-}" ]; then
        echo "KNOWN RSYSLOG LOSS: whole spool file(s) skipped by imfile (rsyslog issue 3758)," \
             "the spool itself complete; running the scenario once more"
        scratch_cleanup
        trap - EXIT
        AW_RSYSLOG_RERUN=1 exec "$0" "$bin"
    fi
    exit 1
fi
echo "PASS"
