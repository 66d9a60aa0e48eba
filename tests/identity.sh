#!/usr/bin/env bash
# tests/identity.sh: prove that a change keeps output and exit codes byte
# for byte (issue 10).  Not part of `meson test`: it compares two builds.
#
#   tests/identity.sh run BUILD OUTDIR    record every command line's
#                                         stdout, stderr and exit code
#   tests/identity.sh compare OUT1 OUT2   count command lines and differences
#
# BUILD is a meson build directory of this tree (its agentwatch binary and
# libagentwatch_core.a are used).  The inputs are regenerated each run, by
# tests/identity_mutate.py, under one fixed folder (/tmp/aw-identity), so
# that the file names printed in messages are the same for both builds:
# deleted lines and keys, wrong types, bad and backtracking patterns,
# duplicate ids and keys, aliases, anchors, bad indentation, BOM, CRLF, NUL,
# invalid UTF-8, mutated configuration files; then scan, report, export,
# status and `rules test` over samples/.  A last command line prints the
# prefilter literals of every shipped and mutated pattern (the extractor is
# otherwise only visible through speed).  Times of this month in stdout
# (the read time export prints) are masked as <now>.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
WORK=/tmp/aw-identity

compare() {
    local a=$1 b=$2 n d=0 f
    n=$(find "$a" -name '*.txt' | wc -l)
    for f in "$a"/*.txt; do
        cmp -s "$f" "$b/$(basename "$f")" || { d=$((d + 1)); echo "differs: $(basename "$f"): $(head -1 "$f")"; }
    done
    [[ $(find "$b" -name '*.txt' | wc -l) -eq $n ]] || { echo "different number of command lines"; d=$((d + 1)); }
    echo "command lines compared: $n, differences: $d"
    [[ $d -eq 0 ]]
}

if [[ ${1:-} == compare ]]; then
    compare "$2" "$3"
    exit $?
fi
[[ ${1:-} == run && $# -eq 3 ]] || { echo "usage: $0 run BUILD OUTDIR | compare OUT1 OUT2" >&2; exit 2; }
build=$(cd "$2" && pwd)
out=$3
bin=$build/agentwatch
rm -rf "$WORK" "$out"
mkdir -p "$WORK/home" "$out"
cp -a "$repo/samples" "$repo/rules" "$WORK/"
cp -a "$repo/tests/data/rules" "$WORK/testrules"
python3 "$repo/tests/identity_mutate.py" "$repo" "$WORK/mut"
cd "$WORK"
: >empty.yaml
export HOME=$WORK/home XDG_STATE_HOME=$WORK/home LC_ALL=C TZ=UTC
unset AGENTWATCH_DB AGENTWATCH_RULES

seq=0
month=$(date -u +%Y-%m-)
# run CMD...: one command line, recorded as OUTDIR/NNNNN.txt
run() {
    local f
    f=$(printf '%s/%05d.txt' "$out" "$seq")
    seq=$((seq + 1))
    {
        printf '$ %s\n' "$*"
        set +e
        "$bin" "$@" >"$WORK/o" 2>"$WORK/e" </dev/null
        local rc=$?
        set -e
        # the read time of a finding is the clock's: masked
        sed -E "s/${month}[0-9]{2}T[0-9:.]+Z/<now>/g" "$WORK/o"
        printf -- '--- stderr\n'
        cat "$WORK/e"
        printf -- '--- exit %d\n' "$rc"
    } >"$f"
}

# rule sets: the shipped ones, then every mutation
for r in rules testrules testrules/valid.yaml rules/40-ssl.yaml mut/rules/*.yaml; do
    run --config empty.yaml rules check --rules "$r"
    run --config empty.yaml rules list --rules "$r" --format tsv
    run --config empty.yaml rules test --rules "$r"
done
run --config empty.yaml rules list --rules rules
run --config empty.yaml rules test --rules rules --quiet

# configuration files
for c in mut/config/*.yaml; do
    run --config "$c" rules check --rules rules
    run --config "$c" --db "$WORK/cfg.db" status
done

# samples: rules test per file and format, then scan + report + export
samples=(samples/itms/agent.log samples/itms/agent1.log samples/itms/agent2.log
         samples/ccm/LocationServices.log samples/ccm/LocationServices.lo_ samples/plain/agent-text.log)
for s in "${samples[@]}"; do
    for fmt in auto itms cmtrace line; do
        run --config empty.yaml rules test --rules rules --format "$fmt" "$s"
    done
done
run --config empty.yaml rules test --rules rules --quiet "${samples[@]}"

scan_and_report() {           # DB RULES [scan args...]
    local db=$1 rules=$2
    shift 2
    rm -f "$db" "$db-wal" "$db-shm"
    run --config empty.yaml --db "$db" scan --rules "$rules" "$@"
    run --config empty.yaml --db "$db" scan --rules "$rules" "$@"
    run --config empty.yaml --db "$db" report --format json --since 2000-01-01
    run --config empty.yaml --db "$db" report --format csv --since 2000-01-01
    run --config empty.yaml --db "$db" report --since 2000-01-01 --until 2030-01-01
    run --config empty.yaml --db "$db" report --format json --by hour --since 2000-01-01
    run --config empty.yaml --db "$db" export --format ndjson
    run --config empty.yaml --db "$db" export --format csv
}
scan_and_report "$WORK/s1.db" rules samples/itms/agent.log
scan_and_report "$WORK/s2.db" rules samples/itms
scan_and_report "$WORK/s3.db" rules samples/ccm/LocationServices.log
scan_and_report "$WORK/s4.db" rules samples/plain/agent-text.log --format line
scan_and_report "$WORK/s5.db" rules samples/itms samples/ccm samples/plain --host WKS-TEST --max-record 512
scan_and_report "$WORK/s6.db" testrules/valid.yaml "${samples[@]}"
# the prefilter under mutated (valid) patterns: must find the same records
for r in mut/rules/pat-*.yaml; do
    rm -f "$WORK/p.db"*
    run --config empty.yaml --db "$WORK/p.db" scan --rules "$r" "${samples[@]}"
    run --config empty.yaml --db "$WORK/p.db" export --format ndjson
done

# the command line itself: global options before and after the command
# word, their values and errors, the options of every command's table
run; run --help; run -h; run --version; run -V; run -hV; run -Vh; run -; run --; run -- scan
run --bogus; run -x; run --db; run --config; run --db=; run --db ""; run --db "" --help
run --db "" report; run --db "" bogus; run --config "" bogus; run --config "" --db "" report
run --db "" --config "" report; run --config empty.yaml; run --help=1; run --version=1
run --allow-unsafe-dir; run --allow-unsafe-dir=1 report; run --form json; run --he; run bogus
run --config empty.yaml --allow-unsafe-dir --db /nonexistent/x.db report
run --db x.db --bogus report; run --db --config status --format=intune
run --config status --format intune; run --config "" status --format intune
run --db "" status --format intune
for c in scan follow report status export prune probe rules "rules check" "rules list" "rules test"; do
    # shellcheck disable=SC2086  # "rules check": two words
    run $c --help; run $c -h; run $c --bogus; run $c -x; run $c --he; run $c --help=1
    run $c --config; run $c --config ""; run $c --config=; run $c --config=/nonexistent.yaml
    run $c --allow-unsafe-dir=1; run $c -- --config x; run $c --help --config ""
    run --config empty.yaml $c --format; run --config empty.yaml $c --format bogus
    run --config empty.yaml $c --db ""
done
for o in --since --until --warn --crit --max-age --max-record --host --timeout --rescan \
         --poll-interval --retention-days --older-than --incidents --by --cursor; do
    for v in "" 0 -1 1x 99999999999999999999 bogus 2025-13-01; do
        run --config empty.yaml --db "$WORK/o.db" report "$o" "$v"
        run --config empty.yaml --db "$WORK/o.db" status "$o" "$v"
        run --config empty.yaml --db "$WORK/o.db" prune "$o" "$v"
        run --config empty.yaml --db "$WORK/o.db" scan --rules rules "$o" "$v" /nonexistent.log
    done
done

# the extractor on every pattern
cc -I"$repo/include" -I"$repo/src" -I"$build" -o "$WORK/literals" "$repo/tests/identity_literals.c" \
    "$build/libagentwatch_core.a" -lpcre2-8 -lsqlite3 -lyaml
{
    "$bin" --config empty.yaml rules list --rules rules --format tsv | cut -f4
    cat mut/patterns.txt
} >"$WORK/patterns.txt"
bin=$WORK/literals
f=$(printf '%s/%05d.txt' "$out" "$seq")
{ echo '$ literals'; "$WORK/literals" <"$WORK/patterns.txt"; } >"$f"
echo "recorded $((seq + 1)) command lines in $out"
