#!/usr/bin/env bash
# Two builds of one commit give byte-identical Linux packages:
#
#     tests/reproducible.sh [SRCDIR]
#
# builds the .deb (packaging/build-deb.sh) and the .rpm
# (packaging/build-rpm.sh) twice, each time from a new build folder at the
# same path (the path a builder uses; compiler flags map the source tree
# to "."), and compares the packages with cmp.  SOURCE_DATE_EPOCH is the
# commit's time (packaging/lib.sh), so every timestamp in them is too.
# The Windows zip and MSI are checked the same way by scripts/test-windows.sh.
# Prints one line per package with its SHA-256; exits 1 when one differs.
set -euo pipefail

src=$(cd "${1:-$(dirname "$0")/..}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for run in 1 2; do
    rm -rf "$tmp/build"
    "$src/packaging/build-deb.sh" "$tmp/out$run" "$tmp/build" >/dev/null
    "$src/packaging/build-rpm.sh" "$tmp/out$run" "$tmp/build" >/dev/null
done
status=0
for f in "$tmp"/out1/*; do
    name=$(basename "$f")
    if cmp -s "$f" "$tmp/out2/$name"; then
        echo "reproducible: $name $(sha256sum <"$f" | cut -d' ' -f1)"
    else
        echo "NOT reproducible: $name differs between two builds" >&2
        cmp "$f" "$tmp/out2/$name" >&2 || :
        status=1
    fi
done
[ "$(ls "$tmp/out1" | wc -l)" -eq 2 ] || { echo "reproducible.sh: expected a .deb and an .rpm" >&2; exit 1; }
exit $status
