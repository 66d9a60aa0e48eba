#!/usr/bin/env bash
# follow's events through a real syslog daemon (issue 13): without a
# journal, `agentwatch follow` sends its state changes to syslog; here
# Debian's rsyslogd receives them on a private socket (imuxsock on a path
# in the test's folder, the system socket off: $AGENTWATCH_SYSLOG_SOCKET
# names it) and writes facility, severity, program name, pid and message
# of each as rsyslog parsed them.  Every event must arrive with its
# priority and fields.  Bounded: every wait has a deadline.
#
# Usage: syslog-rsyslog.sh AGENTWATCH_BINARY.  Exit 77 (skip) only when
# rsyslogd is not installed; scripts/test.sh installs it.
set -euo pipefail

bin=${1:?usage: syslog-rsyslog.sh AGENTWATCH_BINARY}
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
need_rsyslogd

scratch aw-syslog
mkdir -p "$t/work"

cat > "$t/rsyslog.conf" <<EOF
global(workDirectory="$t/work")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$t/log")
template(name="fields" type="string"
         string="%syslogfacility-text%.%syslogseverity-text% %programname% %procid% %msg%\n")
action(type="omfile" file="$t/syslog.txt" template="fields" flushOnTXEnd="on")
EOF
"$rsyslogd" -n -f "$t/rsyslog.conf" -i "$t/rsyslog.pid" > "$t/rsyslog.out" 2>&1 &
pids+=($!)
if ! wait_for 100 test -S "$t/log"; then
    echo "FAIL: rsyslogd did not create its socket"; cat "$t/rsyslog.out"; exit 1
fi

trust_rules "$t/rules.yaml"
cp "$t/rules.yaml" "$t/good.yaml"
echo "retention_days: 0" > "$t/agentwatch.yaml"
line() { cmtrace_line "$@"; }
line 08:01:00 1 "Configuration updated successfully" > "$t/CcmMessaging.log"

AGENTWATCH_JOURNAL_SOCKET="$t/no-journal" AGENTWATCH_SYSLOG_SOCKET="$t/log" \
    "$bin" --config "$t/agentwatch.yaml" --db "$t/aw.db" follow --rules "$t/rules.yaml" \
    "$t/CcmMessaging.log" > "$t/follow.out" 2> "$t/follow.err" &
fpid=$!
pids+=($fpid)
findings() {
    [ -e "$t/aw.db" ] && grep -q "^following" "$t/follow.out" &&
        "$bin" --db "$t/aw.db" export 2>/dev/null | grep -c '"rule": "config-ok"' || echo 0
}
has() { grep -q -- "$1" "$t/syslog.txt" 2>/dev/null; }
stored() { [ "$(findings)" -ge 1 ]; }
wait_for 200 stored || { echo "FAIL: follow stored nothing"; cat "$t/follow.err" "$t/follow.out"; findings; exit 1; }

echo "rules: [" > "$t/rules.yaml"
kill -HUP "$fpid"
wait_for 200 has "rules-reload-failed:" || true
cp "$t/good.yaml" "$t/rules.yaml"
kill -HUP "$fpid"
wait_for 200 has "rules-reloaded:" || true
line 08:02:00 3 "Could not establish trust relationship for the SSL/TLS secure channel" \
    >> "$t/CcmMessaging.log"
wait_for 200 has "incident-started:" || true
line 08:03:00 1 "Configuration updated successfully" >> "$t/CcmMessaging.log"
wait_for 200 has "incident-ended:" || true
kill -TERM "$fpid"
wait "$fpid" || { echo "FAIL: follow exited $?"; exit 1; }

echo "--- as rsyslog wrote them:"
cat "$t/syslog.txt" || true
fail=0
# rsyslog's %msg% keeps the space after "agentwatch[PID]:" (RFC 3164:
# the MSG part starts right after the TAG's colon), hence two spaces.
expect() {   # $1 severity, $2 event, $3 more text the message must hold
    if grep -q -F -- "daemon.$1 agentwatch $fpid  $2: " "$t/syslog.txt" &&
       grep -F -- "$2: " "$t/syslog.txt" >"$t/event.txt" &&   # a file, not `| grep -q`: SIGPIPE
       grep -q -F -- "$3" "$t/event.txt"; then
        echo "ok   $2: daemon.$1, agentwatch[$fpid], '$3'"
    else
        echo "FAIL $2: daemon.$1, agentwatch[$fpid], '$3'"; fail=1
    fi
}
expect err rules-reload-failed "rules not reloaded (invalid rule set)"
expect info rules-reloaded "reloaded 2 rules"
expect warning incident-started "incident started: failing since 2025-03-11 08:02:00Z (mostly ssl) [category=ssl]"
expect notice incident-ended "incident ended: healthy since 2025-03-11 08:03:00Z"
n=$(wc -l < "$t/syslog.txt")
[ "$n" -eq 4 ] || { echo "FAIL: $n lines, want 4 (one per event)"; fail=1; }
exit $fail
