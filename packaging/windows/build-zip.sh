#!/usr/bin/env bash
# Build the Windows zip: agentwatch.exe, rules\, consoles\ (the Intune,
# ConfigMgr and ITMS scripts), README.txt, install.ps1, uninstall.ps1 (text
# files with CRLF line ends).  Cross-builds first.
#
#   packaging/windows/build-zip.sh [BUILD_DIR]      (default: build-windows)
# Result: BUILD_DIR/agentwatch-VERSION-windows-x86_64.zip (path on stdout).
set -euo pipefail
cd "$(dirname "$0")/../.."

scripts/deps.sh zip
. packaging/lib.sh
exe=$(packaging/windows/build.sh "${1:-build-windows}")
build=$(cd "${1:-build-windows}" && pwd)
version=$(sed -n "s/^  version: '\(.*\)',/\1/p" meson.build | head -n1)
name=agentwatch-$version-windows-x86_64
stage=$build/zip/$name
zipfile=$build/$name.zip

rm -rf "$build/zip" "$zipfile"
mkdir -p "$stage/rules"
cp "$exe" "$stage/agentwatch.exe"
crlf() { sed 's/\r*$/\r/' "$1" >"$2"; }
for f in rules/*.yaml rules/*.yml; do
    [ -f "$f" ] && crlf "$f" "$stage/rules/$(basename "$f")"
done
# The rule schema, beside the rules it describes.
crlf rules/README.md "$stage/rules/README.md"
crlf packaging/windows/README.txt "$stage/README.txt"
crlf packaging/windows/install.ps1 "$stage/install.ps1"
crlf packaging/windows/uninstall.ps1 "$stage/uninstall.ps1"
# The console scripts (Intune, ConfigMgr, ITMS) that call status.
mkdir -p "$stage/consoles"
for f in packaging/consoles/*.ps1; do
    crlf "$f" "$stage/consoles/$(basename "$f")"
done
# Same timestamps every build: the zip changes only when its content does.
# (SOURCE_DATE_EPOCH: the commit's time, packaging/lib.sh.)
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
(cd "$build/zip" && find "$name" -print | LC_ALL=C sort | zip -q -X -9 "$zipfile" -@)
echo "build-zip: $(du -k "$zipfile" | cut -f1) KiB, $(unzip -Z1 "$zipfile" | grep -vc '/$') files" >&2
echo "$zipfile"
