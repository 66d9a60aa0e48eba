#!/usr/bin/env bash
# The Windows service under wine: registers agentwatch.exe with the same
# command line shape install.ps1 gives the service control manager,
#   agentwatch.exe service --log DATA\agentwatch.log --db DATA\agentwatch.db
#       follow --rules RULES --poll-interval 200 LOGS\agent.log
# and checks, through wine's services.exe:
#   - start: RUNNING, the start line in the --log file naming the service
#     controls, the samples' findings committed (report reads alongside);
#   - a record appended to agent.log becomes a finding while it runs;
#   - the paramchange control reloads the rules (tests/windows/svcctl.c
#     sends it: wine's sc.exe has no "control");
#   - stop: STOPPED with exit code 0, the summary line in the log, and a
#     clean database (nothing new for a scan afterwards);
#   - a service whose command fails (a missing rules folder) stops with
#     ERROR_SERVICE_SPECIFIC_ERROR (1066), service exit code 1, and the
#     reason in its log.
#
#   packaging/windows/test-wine-service.sh [BUILD_DIR]   (default: build-windows)
#
# Prints "wine service: N passed, M failed" last; exit 0 when none failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$(pwd)

started=$(date +%s)
scripts/deps.sh wine wine64 gcc-mingw-w64-x86-64 python3
exe=$(packaging/windows/build.sh "${1:-build-windows}")

tmp=$(mktemp -d /tmp/aw-wine-svc.XXXXXX)
keeper_pid=
cleanup() {
    [ -n "$keeper_pid" ] && kill -KILL "$keeper_pid" 2>/dev/null || true
    WINEPREFIX=$tmp/prefix wineserver -k 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

export WINEPREFIX=$tmp/prefix WINEDEBUG=-all WINEARCH=win64
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
unset DISPLAY

failures=0
passes=0
pass() { echo "ok: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
winpath() { local p=${1//\//\\}; printf 'Z:%s' "$p"; }
w() { timeout 120 wine "$@"; }

x86_64-w64-mingw32-gcc -Wall -Wextra -Werror -O2 -municode -o "$tmp/svcctl.exe" \
    tests/windows/svcctl.c

echo "== wine prefix"
timeout 300 wineboot -i >/dev/null 2>&1 || true
# Let the prefix's first session end completely: a services.exe that is
# shutting down loses the services created meanwhile.
timeout 120 wineserver -w || true
# wine ends services.exe, and every service with it, when the last
# ordinary process of the prefix exits; on Windows the SCM simply runs.
# A waiting cmd.exe stands in for the rest of the machine.
wine cmd /c "ping -n 3600 127.0.0.1 >nul" >/dev/null 2>&1 &
keeper_pid=$!
disown "$keeper_pid"

data="$tmp/ProgramData/agentwatch"
logs="$tmp/Symantec Agent/Logs"
mkdir -p "$data" "$logs"
cp samples/itms/agent.log "$logs/agent.log"
svclog="$data/agentwatch.log"
dbw=$(winpath "$data/agentwatch.db")

# state NAME: the STATE number sc.exe query prints ("" when unknown).
state() { w sc query "$1" 2>/dev/null | sed -n 's/^ *STATE *: *\([0-9]\).*/\1/p'; }
field() { w sc query "$1" 2>/dev/null | sed -n "s/^ *$2 *: *\([0-9]*\).*/\1/p"; }
# wait_until SECONDS COMMAND...: poll COMMAND until it succeeds.
wait_until() {
    local deadline=$(($(date +%s) + $1)); shift
    until "$@"; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.3
    done
}
stopped() { [ "$(state "$1")" = 1 ]; }
log_has() { grep -q -- "$2" "$1" 2>/dev/null; }
findings() {
    w "$exe" --db "$dbw" report --format json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' 2>/dev/null || echo -1
}
findings_are() { [ "$(findings)" = "$1" ]; }

create() {  # NAME BINPATH-ARGS...
    local name=$1; shift
    # Retried: services.exe of a new prefix refuses changes while it starts.
    wait_until 60 w sc create "$name" binPath= "$(winpath "$exe") $*" >/dev/null
}

echo "== the service follows agent.log"
create agentwatch service --log "$(winpath "$svclog")" --db "$dbw" follow \
    --rules "$(winpath "$src/rules")" --poll-interval 200 "\"$(winpath "$logs/agent.log")\"" \
    && pass "sc create" || fail "sc create"
w sc start agentwatch >/dev/null && rc=0 || rc=$?
[ $rc -eq 0 ] && pass "sc start" || fail "sc start exit $rc"
if wait_until 30 log_has "$svclog" '^following 1 path with [0-9]* rules; the paramchange control reloads the rules, stop stops$'; then
    pass "start line in the --log file"
else
    fail "no start line in $svclog: $(cat "$svclog" 2>/dev/null)"
fi
[ "$(state agentwatch)" = 4 ] && pass "RUNNING" || fail "state $(state agentwatch), want 4 (RUNNING)"

# The samples' itms log holds 26 findings (samples/README.md).
wait_until 30 findings_are 26 && pass "catch-up: 26 findings while running" \
    || fail "catch-up: $(findings) findings, want 26"
printf "<event date='03/13/2025 10:00:00.0000000 +01:00' severity='1' hostName='WKS-0142' source='ClientPolicyMgr' module='AeXNetComms.dll' process='AeXNSAgent' pid='2984' thread='4420' tickCount='1' ><![CDATA[Failed to send request to smp01.corp.example: A security error occurred (0x80072F8F)]]></event>\n" \
    >>"$logs/agent.log"
wait_until 30 findings_are 27 && pass "append: a new finding while running" \
    || fail "append: $(findings) findings, want 27"

out=$(w "$tmp/svcctl.exe" agentwatch paramchange 2>&1) && rc=0 || rc=$?
[ $rc -eq 0 ] || fail "paramchange refused: $out"
wait_until 30 log_has "$svclog" 'reloaded [0-9]* rules$' && pass "paramchange reloads the rules" \
    || fail "no reload line in $svclog"

w sc stop agentwatch >/dev/null || true
if wait_until 60 stopped agentwatch; then
    code=$(field agentwatch WIN32_EXIT_CODE)
    [ "$code" = 0 ] && pass "stop: STOPPED, exit code 0" || fail "stop: WIN32_EXIT_CODE $code"
else
    fail "stop: still in state $(state agentwatch) after 60 s"
fi
log_has "$svclog" '^stopped after [0-9]* scans (polling): [0-9]* records, 27 new findings, 0 data gaps$' \
    && pass "summary line in the --log file" || fail "summary: $(tail -n 3 "$svclog")"
out=$(w "$exe" --db "$dbw" scan --rules "$(winpath "$src/rules")" "$(winpath "$logs/agent.log")" 2>&1)
[[ "$out" == *", 0 new findings"* ]] && pass "scan after the service: nothing new" \
    || fail "scan after the service: $out"
w sc delete agentwatch >/dev/null && pass "sc delete" || fail "sc delete"

echo "== a service whose command fails"
badlog="$data/bad.log"
create agentwatch-bad service --log "$(winpath "$badlog")" --db "$(winpath "$data/bad.db")" \
    follow --rules "$(winpath "$tmp/no-such-rules")" "\"$(winpath "$logs/agent.log")\""
w sc start agentwatch-bad >/dev/null 2>&1 || true
if wait_until 30 stopped agentwatch-bad; then
    code=$(field agentwatch-bad WIN32_EXIT_CODE)
    specific=$(field agentwatch-bad SERVICE_EXIT_CODE)
    [ "$code" = 1066 ] && [ "$specific" = 1 ] \
        && pass "failure: ERROR_SERVICE_SPECIFIC_ERROR, service exit code 1" \
        || fail "failure: WIN32_EXIT_CODE $code SERVICE_EXIT_CODE $specific"
else
    fail "failing service still in state $(state agentwatch-bad)"
fi
log_has "$badlog" "no-such-rules" && pass "failure: the reason in its log: $(head -n 1 "$badlog")" \
    || fail "failure: log says '$(cat "$badlog" 2>/dev/null)'"
w sc delete agentwatch-bad >/dev/null || true

echo "windows service tests took $(($(date +%s) - started)) s"
echo "wine service: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
