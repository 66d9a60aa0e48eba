#!/usr/bin/env bash
# The whole test suite: install what is missing, then build and run every
# meson test twice -- once as shipped (warnings are errors) and once under
# AddressSanitizer and UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."

# rpm (rpmbuild, rpm2cpio) and cpio: tests/package-rpm.sh builds and
# installs the .rpm; lintian and rpmlint check the packages; debhelper
# builds the Debian source package (tests/package-debsrc.sh).  rsyslog:
# tests/shipper-rsyslog.sh runs two rsyslogd instances of its own (never
# the system's service).
scripts/deps.sh rpm cpio lintian rpmlint debhelper rsyslog

passed=0
failed=0

# Add up the CUnit "tests" summary rows (Total Ran Passed Failed Inactive)
# that meson logged for every suite of a build.
count_cunit() {
    local p f
    read -r p f < <(awk '$1 == "tests" && NF == 6 { p += $4; f += $5 } END { print p + 0, f + 0 }' \
                        "$1/meson-logs/testlog.txt")
    passed=$((passed + p))
    failed=$((failed + f))
}

# run_suite DIR [MESON_TEST_ARGS --] [MESON_SETUP_ARGS]
run_suite() {
    local dir=$1 test_args=(); shift
    if [[ " $* " == *" -- "* ]]; then
        while [ "$1" != -- ]; do test_args+=("$1"); shift; done
        shift
    fi
    [ -f "$dir/build.ninja" ] || meson setup "$dir" --werror "$@" >/dev/null
    ninja -C "$dir"
    meson test -C "$dir" --print-errorlogs "${test_args[@]}"
    count_cunit "$dir"
}

echo "== build and test (warnings are errors)"
run_suite build-test
# The package suite builds its own release binaries (packaging/stage.sh),
# the same whatever this build's options: it ran above.
echo "== build and test under address,undefined sanitizers"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suite build-sanitize --no-suite package -- -Db_sanitize=address,undefined -Db_lundef=false

# Two builds of the commit give the same .deb and .rpm (once: the packages
# are release builds whatever the build folder above).
echo "== reproducible packages"
tests/reproducible.sh

# CUnit test cases over both builds (also kept for .ci/run's last line).
echo "cunit: $passed passed, $failed failed" | tee build-test/cunit-summary.txt
