#!/usr/bin/env bash
# The Windows packages hold the console scripts (issue 13): every
# packaging/consoles/*.ps1 is in the zip as consoles\NAME with CRLF line
# ends and the same text, and in the MSI's File table in the component
# Consoles, installed to INSTALLDIR\consoles (Directory CONSOLESDIR); and the
# Event Log source agentwatch in the Registry table.
#
#   tests/windows/package-contents.sh ZIP MSI     (scripts/test-windows.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
zip=${1:?usage: package-contents.sh ZIP MSI}
msi=${2:?usage: package-contents.sh ZIP MSI}
top=$(basename "$zip" .zip)
fail=0
files=$(msiinfo export "$msi" File | tail -n +4 | tr -d '\r')
comp=$(msiinfo export "$msi" Component | tail -n +4 | tr -d '\r')
dirs=$(msiinfo export "$msi" Directory | tail -n +4 | tr -d '\r')
n=0
for f in packaging/consoles/*.ps1; do
    b=$(basename "$f")
    n=$((n + 1))
    if unzip -p "$zip" "$top/consoles/$b" >/tmp/aw-pc.$$ 2>/dev/null &&
       cmp -s <(sed 's/\r*$/\r/' "$f") /tmp/aw-pc.$$; then
        echo "ok   zip: consoles/$b (CRLF, same text)"
    else
        echo "FAIL zip: consoles/$b missing or different"; fail=1
    fi
    # File table: File, Component_, FileName ("SHORT|long" or long), ...
    if awk -F'\t' -v b="$b" '$2 == "Consoles" && ($3 == b || $3 ~ ("\\|" b "$")) {f=1} END {exit !f}' <<<"$files"; then
        echo "ok   msi: $b in component Consoles"
    else
        echo "FAIL msi: $b not in component Consoles"; fail=1
    fi
done
rm -f /tmp/aw-pc.$$
[ "$n" -ge 3 ] || { echo "FAIL: only $n console scripts in packaging/consoles"; fail=1; }
if awk -F'\t' '$1 == "Consoles" && $3 == "CONSOLESDIR" {f=1} END {exit !f}' <<<"$comp" &&
   awk -F'\t' '$1 == "CONSOLESDIR" && $2 == "INSTALLDIR" && $3 == "consoles" {f=1} END {exit !f}' <<<"$dirs"; then
    echo "ok   msi: component Consoles installs to INSTALLDIR\\consoles"
else
    echo "FAIL msi: component Consoles is not INSTALLDIR\\consoles"; fail=1
fi
# The Event Log source, registered by the MSI (removed with its component).
reg=$(msiinfo export "$msi" Registry | tail -n +4 | tr -d '\r')
key='SYSTEM\CurrentControlSet\Services\EventLog\Application\agentwatch'
if K="$key" awk -F'\t' 'BEGIN {k = ENVIRON["K"]} $2 == 2 && $3 == k && $4 == "EventMessageFile" && $5 == "#%[INSTALLDIR]agentwatch.exe" && $6 == "EventSource" {f++}
        $2 == 2 && $3 == k && $4 == "TypesSupported" && $5 == "#7" && $6 == "EventSource" {f++}
        END {exit f != 2}' <<<"$reg"; then
    echo "ok   msi: Event Log source agentwatch (EventMessageFile REG_EXPAND_SZ, TypesSupported 7)"
else
    echo "FAIL msi: Event Log source rows: $reg"; fail=1
fi
exit $fail
