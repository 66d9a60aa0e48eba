#!/usr/bin/env bash
# The Windows half of CI: cross-build agentwatch.exe with mingw-w64 (the
# libraries from Debian source packages) and run its black-box tests under
# wine, comparing its report with the Linux build's when that exists; then
# build the zip.  See packaging/windows/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

native=
[ -x build-test/agentwatch ] && native=build-test/agentwatch
AW_NATIVE_BIN=$native packaging/windows/test-wine.sh build-windows
packaging/windows/build-zip.sh build-windows
