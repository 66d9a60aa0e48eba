#!/usr/bin/env bash
# Black-box tests of the Windows build under wine (Debian's wine, wine64):
# builds the libraries and the exe (build.sh), then runs agentwatch.exe on
# real files:
#   - --version, rules check on the shipped rules (Windows-style path);
#   - scan of the shipped samples from a folder with a non-ASCII name into a
#     temporary database, report --format json checked field by field (and
#     byte for byte against the Linux build when one is given), a second
#     scan adds nothing;
#   - follow --poll-interval 200 while this script appends to agent.log and
#     rotates it twice through cmd.exe's move (Windows rename semantics),
#     and a second writer refused by the lock naming the follower's pid;
#     then Ctrl-C (wine turns SIGINT into CTRL_C_EVENT) and the exact set of
#     findings, no data gaps, and nothing new for a scan afterwards.
#
#   packaging/windows/test-wine.sh [BUILD_DIR]      (default: build-windows)
#   AW_NATIVE_BIN=build-test/agentwatch packaging/windows/test-wine.sh
#
# Waits use deadlines, not fixed sleeps; every wine process is ended on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$(pwd)

started=$(date +%s)
scripts/deps.sh wine wine64 python3
exe=$(packaging/windows/build.sh "${1:-build-windows}")
version=$(sed -n "s/^  version: '\(.*\)',/\1/p" meson.build | head -n1)

tmp=$(mktemp -d /tmp/aw-wine.XXXXXX)
follow_pid=
cleanup() {
    if [ -n "$follow_pid" ] && kill -0 "$follow_pid" 2>/dev/null; then
        kill -KILL "$follow_pid" 2>/dev/null || true
    fi
    WINEPREFIX=$tmp/prefix wineserver -k 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

export WINEPREFIX=$tmp/prefix WINEDEBUG=-all WINEARCH=win64
# No Mono/Gecko installer prompts, no display needed.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
unset DISPLAY

failures=0
passes=0
pass() { echo "ok: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# Z: is wine's view of /; backslashes as a Windows user would type them.
winpath() { local p=${1//\//\\}; printf 'Z:%s' "$p"; }

aw() { timeout 120 wine "$exe" "$@"; }

echo "== wine prefix"
timeout 300 wineboot -i >/dev/null 2>&1 || true
# One wineserver for every process of this run (each start costs seconds).
wineserver -p 2>/dev/null || true

echo "== --version"
out=$(aw --version) || fail "--version exit $?"
[ "$out" = "agentwatch $version" ] && pass "--version: $out" || fail "--version printed '$out'"

echo "== rules check"
out=$(aw rules check --rules "$(winpath "$src/rules")" 2>&1) && rc=0 || rc=$?
if [ $rc -eq 0 ] && [[ "$out" == *"rules OK"* ]]; then pass "rules check: $out"
else fail "rules check exit $rc: $out"; fi

echo "== scan of the samples and report"
logs="$tmp/Journaux d'agent – été"            # non-ASCII: UTF-8 <-> UTF-16
mkdir -p "$logs"
cp -r samples/itms samples/ccm samples/plain "$logs/"
db=$(winpath "$tmp/scan.db")
out=$(aw --db "$db" scan --rules "$(winpath "$src/rules")" \
        "$(winpath "$logs/itms/agent.log")" "$(winpath "$logs/ccm")" \
        "$(winpath "$logs/plain/agent-text.log")" 2>&1) && rc=0 || rc=$?
echo "$out"
new=$(sed -n 's/^scanned 6 files: [0-9]* records, \([0-9]*\) new findings$/\1/p' <<<"$out")
if [ $rc -eq 0 ] && [ -n "$new" ] && [ "$new" -gt 0 ]; then pass "scan: 6 files, $new findings"
else fail "scan exit $rc, expected 6 files with findings"; fi
[[ "$out" == *"été"*"agent2.log: itms utf-8, bytes 0-"* ]] && pass "scan: UTF-8 path, rollovers" \
    || fail "scan output lacks the UTF-8 path or agent2.log"

aw --db "$db" report --format json >"$tmp/report.json" && rc=0 || rc=$?
[ $rc -eq 0 ] || fail "report exit $rc"
if python3 - "$tmp/report.json" "${new:-0}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
new = int(sys.argv[2])
assert r["total"] == new, ("total", r["total"], new)
cats = {c["category"]: c for c in r["categories"]}
# The samples: SSL, connection and name-resolution failures, recovered at
# the end of agent.log (samples/README.md).
assert {"ssl", "connection", "resolution", "health"} <= set(cats), cats.keys()
assert sum(c["count"] for c in r["categories"]) == new
assert r["rules"] and all(x["count"] > 0 and x["cause"] for x in r["rules"] if x["category"] != "health")
assert r["state"]["status"] == "healthy" and r["state"]["last_failure"], r["state"]
assert r["incidents"], "no incidents"
PY
then pass "report --format json: total, categories, rules, state, incidents"
else fail "report --format json content (see above)"; fi

native=${AW_NATIVE_BIN:-}
if [ -n "$native" ] && [ -x "$native" ]; then
    if "$native" --db "$tmp/native.db" scan --quiet --rules rules "$logs/itms/agent.log" \
            "$logs/ccm" "$logs/plain/agent-text.log" &&
       "$native" --db "$tmp/native.db" report --format json >"$tmp/native.json"; then
        cmp -s "$tmp/report.json" "$tmp/native.json" && pass "report identical to the Linux build's" \
            || { diff "$tmp/report.json" "$tmp/native.json" | head -20; fail "report differs from Linux"; }
    else
        fail "the Linux build $native failed on the samples"
    fi
fi

out=$(aw --db "$db" scan --rules "$(winpath "$src/rules")" "$(winpath "$logs/itms/agent.log")" 2>&1)
[[ "$out" == *"scanned 3 files: 0 records, 0 new findings"* ]] && pass "second scan: nothing new" \
    || fail "second scan: $out"

echo "== follow, appends and rotations of agent.log while followed"
dir="$tmp/Symantec Agent/Logs"
mkdir -p "$dir"
fdb=$(winpath "$tmp/follow.db")
seq_no=0
# n records of the rule ssl.* error, each one finding, numbered in the text.
write() {
    local file=$1 n=$2 i
    for ((i = 0; i < n; i++)); do
        seq_no=$((seq_no + 1))
        printf "<event date='03/13/2025 10:%02d:%02d.0000000 +01:00' severity='1' hostName='WKS-0142' source='ClientPolicyMgr' module='AeXNetComms.dll' process='AeXNSAgent' pid='2984' thread='4420' tickCount='%d' ><![CDATA[Failed to send request to smp01.corp.example: A security error occurred (0x80072F8F) seq=%d]]></event>\n" \
            $((seq_no / 60)) $((seq_no % 60)) "$seq_no" "$seq_no" >>"$dir/$file"
    done
}
count() { aw --db "$fdb" export --format ndjson 2>/dev/null | grep -c 'seq=' || true; }
# Wait until the follower has committed n findings (deadline 60 s).
wait_for() {
    local n=$1 deadline=$(($(date +%s) + 60)) c
    while :; do
        c=$(count)
        [ "$c" -eq "$n" ] && return 0
        [ "$c" -gt "$n" ] && { echo "more findings than written: $c > $n" >&2; return 1; }
        [ "$(date +%s)" -ge "$deadline" ] && { echo "timeout: $c of $n findings" >&2; return 1; }
        kill -0 "$follow_pid" 2>/dev/null || { echo "follow exited" >&2; return 1; }
        sleep 0.2
    done
}
move() { timeout 120 wine cmd /c move /y "$(winpath "$dir/$1")" "$(winpath "$dir/$2")" >/dev/null; }

write agent.log 4
wine "$exe" --db "$fdb" follow --rules "$(winpath "$src/rules")" --poll-interval 200 \
    "$(winpath "$dir/agent.log")" >"$tmp/follow.out" 2>"$tmp/follow.err" &
follow_pid=$!
wait_for 4 && pass "follow: catch-up (4)" || fail "follow: catch-up"

out=$(aw --db "$fdb" scan --rules "$(winpath "$src/rules")" "$(winpath "$dir/agent.log")" 2>&1) \
    && rc=0 || rc=$?
if [ $rc -eq 1 ] && [[ "$out" == *"in use by another agentwatch"*"(pid "* ]]; then
    pass "writer lock: second writer refused, holder's pid named"
else fail "writer lock: exit $rc: $out"; fi

write agent.log 3
wait_for 7 && pass "follow: appends (7)" || fail "follow: appends"

# Rotation with content the follower may not have read yet: it must come
# from agent1.log, once.
write agent.log 2
move agent.log agent1.log || fail "move agent.log -> agent1.log refused (sharing violation?)"
write agent.log 3
wait_for 12 && pass "follow: rename rotation (12)" || fail "follow: rename rotation"

# A shift rotation: agent1 -> agent2, agent -> agent1, new agent.log.
write agent.log 1
move agent1.log agent2.log || fail "move agent1.log -> agent2.log refused"
move agent.log agent1.log || fail "move agent.log -> agent1.log refused"
write agent.log 2
wait_for 15 && pass "follow: shift rotation (15)" || fail "follow: shift rotation"

# Ctrl-C: wine delivers SIGINT as CTRL_C_EVENT to the console handler.
kill -INT "$follow_pid"
deadline=$(($(date +%s) + 30))
while kill -0 "$follow_pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
if kill -0 "$follow_pid" 2>/dev/null; then
    fail "follow did not stop within 30 s of Ctrl-C"
else
    wait "$follow_pid" && rc=0 || rc=$?
    follow_pid=
    [ $rc -eq 0 ] && grep -q '^stopped after' "$tmp/follow.out" && pass "follow: Ctrl-C stops cleanly" \
        || { cat "$tmp/follow.out" "$tmp/follow.err"; fail "follow exit $rc after Ctrl-C"; }
fi

got=$(aw --db "$fdb" export --format ndjson | sed -n 's/.*seq=\([0-9]*\).*/\1/p' | sort -n | tr '\n' ' ')
want=$(seq 1 "$seq_no" | tr '\n' ' ')
[ "$got" = "$want" ] && pass "follow: findings exactly seq 1..$seq_no" \
    || fail "follow: findings '$got', want '$want'"
# Export must succeed for "no gaps" to mean anything.
if gap_lines=$(aw --db "$fdb" export --format ndjson --rule agentwatch.data-gap); then
    gaps=$(printf '%s' "$gap_lines" | grep -c . || true)
    [ "$gaps" -eq 0 ] && pass "follow: no data gaps" || fail "follow: $gaps data gaps"
else
    fail "follow: export of data gaps failed"
fi
out=$(aw --db "$fdb" scan --rules "$(winpath "$src/rules")" "$(winpath "$dir/agent.log")" 2>&1)
[[ "$out" == *"0 new findings"* ]] && pass "scan after follow: nothing new" \
    || fail "scan after follow: $out"
if [ -s "$tmp/follow.err" ]; then
    echo "follow stderr:"; cat "$tmp/follow.err"
fi

echo "windows tests took $(($(date +%s) - started)) s"
echo "wine: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
