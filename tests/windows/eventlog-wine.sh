#!/usr/bin/env bash
# follow's events in the Windows Event Log, as far as wine shows them
# (issue 13).  wine 8's advapi32 keeps no log: RegisterEventSourceW and
# ReportEventW are stubs that trace their arguments (channel advapi: the
# handle, the type, the category, the event ID, the number of strings)
# and each insertion string on the eventlog channel (err for an error,
# warn for a warning, trace for information).  This test runs
# agentwatch.exe follow under wine with WINEDEBUG=+eventlog,+advapi, makes
# an incident start and end, and checks type, event ID and strings of
# each; then a stored probe of a refused loopback port (event 1002).
# What wine cannot show: the event stored in the Application log,
# its message rendered from the exe's message table (src/events.mc), the
# source looked up in the registry, Event Viewer, forwarding.
#
#   tests/windows/eventlog-wine.sh EXE                (scripts/test-windows.sh)
set -euo pipefail
exe=$(cd "$(dirname "${1:?usage: eventlog-wine.sh EXE}")" && pwd)/$(basename "$1")
t=$(mktemp -d "${TMPDIR:-/tmp}/aw-evtlog-XXXXXX")
export WINEPREFIX=$t/prefix WINEARCH=win64 WINEDEBUG=-all,+eventlog,+advapi
fpid=
cleanup() {
    [ -z "$fpid" ] || kill "$fpid" 2>/dev/null || true
    wineserver -k 2>/dev/null || true
    rm -rf "$t"
}
trap cleanup EXIT
cd "$t"
cp "$exe" agentwatch.exe
cat > rules.yaml <<'EOF'
version: 1
rules:
  - id: ssl-trust
    category: ssl
    severity: error
    pattern: '(?i)could not establish trust relationship'
  - id: config-ok
    category: health
    severity: info
    pattern: 'Configuration updated successfully'
EOF
line() {   # a CMTrace record: $1 time, $2 type (1 info, 3 error), $3 text
    printf '<![LOG[%s]LOG]!><time="%s.000+000" date="03-11-2025" component="CcmMessaging" context="" type="%s" thread="1" file="">\r\n' "$3" "$1" "$2"
}
wait_for() {
    local n=$1; shift
    for ((i = 0; i < n; i++)); do
        if "$@"; then return 0; fi
        sleep 0.2
    done
    return 1
}
line 08:01:00 1 "Configuration updated successfully" > CcmMessaging.log
wineboot -i >/dev/null 2>&1 || true
wine agentwatch.exe --db aw.db follow --rules rules.yaml --poll-interval 200 CcmMessaging.log \
    > out.txt 2> err.txt &
fpid=$!
wait_for 300 grep -q '^following' out.txt || { echo "FAIL: follow did not start"; cat err.txt; exit 1; }
sleep 1
line 08:02:00 3 "Could not establish trust relationship for the SSL/TLS secure channel" >> CcmMessaging.log
wait_for 300 grep -q 'warn:eventlog:ReportEventW L""' err.txt || true
line 08:03:00 1 "Configuration updated successfully" >> CcmMessaging.log
wait_for 300 grep -q 'trace:eventlog:ReportEventW L"incident ended' err.txt || true
kill "$fpid" 2>/dev/null || true
wait "$fpid" 2>/dev/null || true
fpid=
# A stored probe of a refused loopback port: the probe-verdict event.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timeout 120 wine agentwatch.exe --db aw.db probe --timeout 5 "127.0.0.1:$port" > probe.txt 2>> err.txt || true
grep -E 'EventSource|ReportEventW' err.txt | tr -d '\r' > events.txt || true
echo "--- wine's trace:"; cat events.txt
fail=0
check() {   # $1 name, then a grep -E pattern that must match a line of the trace
    if grep -qE -- "$2" events.txt; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
check "source: RegisterEventSourceW(NULL, agentwatch)" 'RegisterEventSourceW \(\(null\),L"agentwatch"\)'
# ReportEventW (handle, type, category, event ID, sid, strings, data size, ...)
check "incident-started: warning (2), ID 1000 (0x3e8), 3 strings" \
      'ReportEventW \([0-9A-F]+,0x0002,0x0000,0x000003e8,0+,0x0003,'
check "incident-started: %1 the message" \
      'warn:eventlog:ReportEventW L"incident started: failing since 2025-03-11 08:02:00Z \(mostly ssl\)"'
check "incident-started: %2 the category" 'warn:eventlog:ReportEventW L"ssl"$'
check "incident-started: %3 the target (none captured: empty)" 'warn:eventlog:ReportEventW L""$'
check "incident-ended: information (4), ID 1001 (0x3e9), 1 string" \
      'ReportEventW \([0-9A-F]+,0x0004,0x0000,0x000003e9,0+,0x0001,'
check "incident-ended: %1 the message" \
      'trace:eventlog:ReportEventW L"incident ended: healthy since 2025-03-11 08:03:00Z"'
check "probe-verdict: warning (2), ID 1002 (0x3ea), 3 strings" \
      'ReportEventW \([0-9A-F]+,0x0002,0x0000,0x000003ea,0+,0x0003,'
check "probe-verdict: %1 the message" "warn:eventlog:ReportEventW L\"probe 127.0.0.1:$port: tcp-refused: "
check "probe-verdict: %2 the rule" 'warn:eventlog:ReportEventW L"probe.tcp-refused"$'
check "probe-verdict: %3 the target" "warn:eventlog:ReportEventW L\"127.0.0.1:$port\"\$"
# The message table resource windmc made is in the exe (UTF-16 text).
if python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(0 if "%1%n%nCategory: %2%nTarget: %3".encode("utf-16-le") in d else 1)' agentwatch.exe; then
    echo "ok   message table: the text of event 1000 is in the exe"
else
    echo "FAIL message table: the text of event 1000 is not in the exe"; fail=1
fi
exit $fail
