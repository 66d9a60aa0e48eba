#!/usr/bin/env bash
# Fuzz every target of fuzz/ for a bounded time (default 30 s each) with
# libFuzzer, in its own clang build (build-fuzz: ASan+UBSan, the core
# instrumented for coverage), starting from a copy of the checked-in
# corpus.  Skipped (exit 0, with a line saying so) without clang.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
if ! command -v clang >/dev/null; then
    echo "fuzz: skipped, clang not installed"
    exit 0
fi
if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args=-fsanitize=fuzzer-no-link >/dev/null
fi
targets=$(sed -n "s/^fuzz_targets = \[\(.*\)\]/\1/p" fuzz/meson.build | tr -d "'" | tr ',' ' ')
for t in $targets; do
    ninja -C build-fuzz "fuzz/fuzz_$t" >/dev/null
    work=build-fuzz/corpus-$t
    rm -rf "$work" && mkdir -p "$work" && cp fuzz/corpus/"$t"/* "$work"/
    # -max_len bounds one input; the time bounds the run; fuzz/NAME.dict,
    # when there is one, gives the mutator the tokens of the input's syntax.
    dict=()
    [ -f "fuzz/$t.dict" ] && dict=(-dict="../fuzz/$t.dict")
    (cd build-fuzz && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "./fuzz/fuzz_$t" -max_total_time="$secs" -max_len=16384 -print_final_stats=1 \
        "${dict[@]}" "corpus-$t" > "fuzz-$t.log" 2>&1) || { tail -40 "build-fuzz/fuzz-$t.log"; echo "fuzz: $t FAILED"; exit 1; }
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/fuzz-$t.log")
    echo "fuzz: $t: ${runs:-?} runs in ${secs} s, no crash, leak or difference"
done
