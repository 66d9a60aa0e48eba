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
packaging/windows/build-zip.sh build-windows
packaging/windows/build-msi.sh build-windows
