#!/usr/bin/env bash
# The Windows packages hold the console scripts (issue 13): every
# packaging/consoles/*.ps1 is in the zip as consoles\NAME with CRLF line
# ends and the same text, and in the MSI's File table in the component
# Consoles, installed to INSTALLDIR\consoles (Directory CONSOLESDIR); the
# Event Log source agentwatch in the Registry table; and the zip's
# install.ps1 registering the same source with the same values (read from
# the script and compared with the MSI's rows: no PowerShell in Debian to
# run it), its uninstall.ps1 removing it.
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
# The zip's install.ps1 registers the same source: every New-ItemProperty on
# $evtKey, encoded as an MSI Registry row (Root 2 = HKLM; "#%" REG_EXPAND_SZ,
# "#" REG_DWORD; $exe = [INSTALLDIR]agentwatch.exe), must be a row of the
# MSI's component EventSource and the other way round.
unzip -p "$zip" "$top/install.ps1" | tr -d '\r' >/tmp/aw-pc-in.$$
unzip -p "$zip" "$top/uninstall.ps1" | tr -d '\r' >/tmp/aw-pc-un.$$
ps_rows=$(python3 - /tmp/aw-pc-in.$$ <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
key = re.findall(r"^\$evtKey = 'HKLM:\\(.+)'$", text, re.M)
exe = re.search(r"^\$exe = Join-Path \$InstallDir 'agentwatch\.exe'$", text, re.M)
types = {"ExpandString": "#%", "DWord": "#", "String": ""}
for name, ptype, value in re.findall(
        r"^New-ItemProperty -Force -LiteralPath \$evtKey -Name '([^']+)' "
        r"-PropertyType (\w+) -Value (\S+) \| Out-Null$", text, re.M):
    if value == "$exe" and exe:
        value = "[INSTALLDIR]agentwatch.exe"
    elif not value.isdigit():
        value = "?" + value
    print("2\t%s\t%s\t%s%s" % (key[0] if len(key) == 1 else "?", name,
                               types.get(ptype, "?" + ptype), value))
EOF
)
msi_rows=$(awk -F'\t' '$6 == "EventSource" {print $2 "\t" $3 "\t" $4 "\t" $5}' <<<"$reg")
if [ -n "$ps_rows" ] && [ "$(sort <<<"$ps_rows")" = "$(sort <<<"$msi_rows")" ]; then
    echo "ok   zip: install.ps1 registers the Event Log source with the MSI's $(wc -l <<<"$ps_rows") values"
else
    echo "FAIL zip: install.ps1's Event Log source differs from the MSI's"
    echo "  install.ps1:"; sed 's/^/    /' <<<"$ps_rows"
    echo "  msi:"; sed 's/^/    /' <<<"$msi_rows"
    fail=1
fi
if K="\$evtKey = 'HKLM:\\$key'" awk '$0 == ENVIRON["K"] {k = 1}
        k && /^    Remove-Item -Recurse -Force -LiteralPath \$evtKey$/ {f = 1}
        END {exit !f}' /tmp/aw-pc-un.$$; then
    echo "ok   zip: uninstall.ps1 removes the Event Log source's key"
else
    echo "FAIL zip: uninstall.ps1 does not remove $key"; fail=1
fi
rm -f /tmp/aw-pc-in.$$ /tmp/aw-pc-un.$$
exit $fail
