# Shared fixtures of the shell tests, sourced by tests/shipper-rsyslog.sh,
# tests/syslog-rsyslog.sh and tests/windows/eventlog-wine.sh.
# shellcheck shell=bash

# wait_for TICKS CMD...: run CMD until it succeeds, at most TICKS times,
# $WAIT_STEP seconds apart (default 0.1); 1 when it never did.
wait_for() {
    local n=$1 i
    shift
    for ((i = 0; i < n; i++)); do
        if "$@"; then return 0; fi
        sleep "${WAIT_STEP:-0.1}"
    done
    return 1
}

# need_rsyslogd: $rsyslogd is Debian's rsyslogd; without it, exit 77 (skip).
need_rsyslogd() {
    rsyslogd=$(command -v rsyslogd || true)
    [ -x "$rsyslogd" ] || rsyslogd=/usr/sbin/rsyslogd
    if [ ! -x "$rsyslogd" ]; then
        echo "SKIP: rsyslogd is not installed (scripts/deps.sh rsyslog)"
        exit 77
    fi
}

# scratch NAME: $t, a new folder under $TMPDIR; the processes whose ids are
# added to $pids are killed and waited for, then $t removed, at exit.
scratch() {
    t=$(mktemp -d "${TMPDIR:-/tmp}/$1-XXXXXX")
    pids=()
    trap scratch_cleanup EXIT
}

scratch_cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$t"
}

# trust_rules FILE: the two rules the follow tests trigger, an error
# (ssl-trust) and the success that ends its incident (config-ok).
trust_rules() {
    cat > "$1" <<'RULES'
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
RULES
}

# cmtrace_line TIME TYPE TEXT [EOL]: a CMTrace record of 2025-03-11 (type 1
# info, 3 error), ending with EOL (default LF).
cmtrace_line() {
    printf '<![LOG[%s]LOG]!><time="%s.000+000" date="03-11-2025" component="CcmMessaging" context="" type="%s" thread="1" file="">%s' \
        "$3" "$1" "$2" "${4:-$'\n'}"
}
