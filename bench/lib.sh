# shellcheck shell=bash
# bench/lib.sh: what the bench scripts share, sourced (never run) after they
# cd to the top of the tree: their messages, their dependencies and the
# release build they measure.  BENCH_NAME names the script in messages;
# BUILD (default build-bench) is the build directory.

BUILD=${BUILD:-build-bench}

say() { printf '== %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; exit 1; }

# bench_deps [PACKAGE...]: what building agentwatch needs and the extra
# Debian packages a benchmark measures with, installed only when missing
# (scripts/deps.sh: apt-get as root, or through sudo).  Without root the
# benchmark goes on with what is installed: each script checks the tools it
# runs, and deps.sh's list holds test-only packages a benchmark can lack.
# shellcheck disable=SC2120 # the arguments are optional
bench_deps() {
    scripts/deps.sh "$@" || say "could not install missing packages; going on with what is installed"
}

# bench_build [TARGET...]: the release build in $BUILD, configured on first
# use.  Without -Dtests=false the tests' dependencies would be needed too.
# shellcheck disable=SC2120 # the arguments are optional
bench_build() {
    if [[ ! -f $BUILD/build.ninja ]]; then
        say "meson setup $BUILD (release)"
        meson setup "$BUILD" --buildtype=release -Dtests=false >/dev/null
    fi
    say "ninja -C $BUILD"
    ninja -C "$BUILD" "$@" >/dev/null
}
