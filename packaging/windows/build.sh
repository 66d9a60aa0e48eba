#!/usr/bin/env bash
# Cross-build agentwatch.exe for Windows x86-64 with Debian's mingw-w64:
# the libraries first (build-deps.sh, from Debian source packages), then
# meson with the cross file.  Prints the path of the exe on stdout.
#
#   packaging/windows/build.sh [BUILD_DIR]          (default: build-windows)
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${1:-build-windows}
packaging/windows/build-deps.sh "$build" >&2
build=$(cd "$build" && pwd)

# Only the libraries built for Windows, never the build machine's.
export PKG_CONFIG_LIBDIR=$build/deps/prefix/lib/pkgconfig
unset PKG_CONFIG_PATH
if [ ! -f "$build/cross/build.ninja" ]; then
    # The unit tests are POSIX programs (fork, signals); Windows runs the
    # black-box tests of test-wine.sh.  Warnings are errors here as on
    # Linux in CI.
    meson setup "$build/cross" --cross-file packaging/windows/x86_64-w64-mingw32.txt \
        --werror -Dtests=false -Dstrip=true \
        -Dconfig_file='C:\\ProgramData\\agentwatch\\agentwatch.yaml' >&2
fi
ninja -C "$build/cross" >&2
echo "$build/cross/agentwatch.exe"
