#!/usr/bin/env bash
# The Windows half of CI: cross-build agentwatch.exe with mingw-w64 (the
# libraries from Debian source packages) and run its black-box tests under
# wine, comparing its report with the Linux build's when that exists, and
# the MSI installed, upgraded and removed under wine; then build the zip
# and the MSI.  See packaging/windows/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Linux build of scripts/test.sh, brought up to date, for comparison.
native=
if [ -f build-test/build.ninja ] && ninja -C build-test agentwatch >/dev/null; then
    native=build-test/agentwatch
fi
AW_NATIVE_BIN=$native packaging/windows/test-wine.sh build-windows
zip=$(packaging/windows/build-zip.sh build-windows)
msi=$(packaging/windows/build-msi.sh build-windows)
# The console scripts and the Event Log source in the packages; follow's
# events as far as wine's Event Log stubs trace them (issue 13).
tests/windows/package-contents.sh "$zip" "$msi"
tests/windows/eventlog-wine.sh build-windows/cross/agentwatch.exe

# Hardening read back from the exe (the stack protector and fortified
# calls from the symbols of the unstripped build; ASLR, DEP, high-entropy
# ASLR from the PE header of the exe the packages hold).
unzip -p "$zip" "$(basename "$zip" .zip)/agentwatch.exe" >build-windows/shipped.exe
tests/hardening.sh --pe build-windows/shipped.exe build-windows/cross/agentwatch.exe

# Reproducible: the zip and the MSI built again from the same exe and
# sources are the same bytes (SOURCE_DATE_EPOCH, packaging/lib.sh).
mkdir -p build-windows/first
cp "$zip" "$msi" build-windows/first/
zip2=$(packaging/windows/build-zip.sh build-windows)
msi2=$(packaging/windows/build-msi.sh build-windows)
for f in "$zip2" "$msi2"; do
    if cmp -s "build-windows/first/$(basename "$f")" "$f"; then
        echo "reproducible: $(basename "$f") $(sha256sum <"$f" | cut -d' ' -f1)"
    else
        echo "NOT reproducible: $(basename "$f") differs between two builds" >&2
        exit 1
    fi
done
