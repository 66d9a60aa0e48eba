#!/usr/bin/env bash
# bench/run.sh: the on-demand benchmark (never run by `meson test`).
#
# Generates a synthetic itms agent.log (1,000,000 records, ~300 MB), then
# compares `agentwatch scan` against `grep -E -i -c` over the same file with
# the same rule patterns, and measures the scan's peak RSS.  Goals: scan
# throughput at least half of grep's, peak RSS under 16 MiB.
#
# Environment: RECORDS (1000000), SEED (1), FAILURE_PERMILLE (11),
# RUNS (3, best of), BUILD (build-bench).  See bench/README.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RECORDS=${RECORDS:-1000000}
SEED=${SEED:-1}
FAILURE_PERMILLE=${FAILURE_PERMILLE:-11}
RUNS=${RUNS:-3}
BUILD=${BUILD:-build-bench}
OUT=bench/out
LOG=$OUT/agent.log
DB=$OUT/bench.db
ERE=$OUT/patterns.ere

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench/run.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
install_missing() {
    local pkgs=()
    [[ -x /usr/bin/time ]] || pkgs+=(time)
    command -v meson >/dev/null || pkgs+=(meson)
    command -v ninja >/dev/null || pkgs+=(ninja-build)
    command -v pkg-config >/dev/null || pkgs+=(pkg-config)
    command -v cc >/dev/null || pkgs+=(gcc)
    if command -v pkg-config >/dev/null; then
        pkg-config --exists libpcre2-8 || pkgs+=(libpcre2-dev)
        pkg-config --exists sqlite3 || pkgs+=(libsqlite3-dev)
        pkg-config --exists yaml-0.1 || pkgs+=(libyaml-dev)
        pkg-config --exists cunit || pkgs+=(libcunit1-dev)
    else
        pkgs+=(libpcre2-dev libsqlite3-dev libyaml-dev libcunit1-dev)
    fi
    ((${#pkgs[@]})) || return 0
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        say "installing: ${pkgs[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
    else
        say "missing (install them, or run as root with apt-get): ${pkgs[*]}"
    fi
}
install_missing
for t in meson ninja grep awk; do
    command -v "$t" >/dev/null || die "$t is required"
done

# ---------------------------------------------------------------- build
if [[ ! -f $BUILD/build.ninja ]]; then
    say "meson setup $BUILD (release)"
    meson setup "$BUILD" --buildtype=release -Dtests=false >/dev/null
fi
say "ninja -C $BUILD"
ninja -C "$BUILD" >/dev/null
AW=$BUILD/agentwatch
GEN=$BUILD/bench/gen_itms
[[ -x $GEN ]] || die "$GEN was not built"
[[ -x $AW ]] || die "$AW was not built"

# ------------------------------------------------------------- workload
mkdir -p "$OUT"
# The stamp names everything the bytes depend on: the parameters and the
# generator's source.  Reuse the file only when all of them and its size match.
gen_sum=$(cksum < bench/gen_itms.c | awk '{print $1}')
stamp="records=$RECORDS seed=$SEED permille=$FAILURE_PERMILLE gen=$gen_sum"
if [[ -f $LOG && -f $OUT/gen.stamp ]] &&
   [[ $(head -n1 "$OUT/gen.stamp") == "$stamp" ]] &&
   [[ $(sed -n 2p "$OUT/gen.stamp") == "$(stat -c %s "$LOG")" ]]; then
    say "reusing $LOG ($stamp)"
else
    say "generating $LOG ($RECORDS records)"
    rm -f "$OUT/gen.stamp"
    "$GEN" --records "$RECORDS" --seed "$SEED" --failure-permille "$FAILURE_PERMILLE" \
        "$LOG" 2> "$OUT/gen.txt"
    cat "$OUT/gen.txt" >&2
    printf '%s\n%s\n' "$stamp" "$(stat -c %s "$LOG")" > "$OUT/gen.stamp"
fi
bytes=$(stat -c %s "$LOG")

# ------------------------------------------------------------- patterns
# PCRE -> GNU ERE, enough for the rule set: drop a leading (?i) (grep runs
# with -i), (?: -> (, \d \s \w (and negations) -> classes, \b stays,
# other escaped punctuation loses its backslash where ERE does not need
# it (inside [...] POSIX has no escapes; GNU grep warns about stray \),
# named groups (?<name>...) -> (...).  Patterns using constructs ERE lacks (lookaround,
# backreferences by name, ...) are reported and left out.
say "agentwatch rules list -> $ERE"
rm -f "$ERE" "$OUT/patterns.skipped"
"$AW" rules list --rules rules --format tsv > "$OUT/rules.tsv" ||
    die "'agentwatch rules list --rules rules --format tsv' failed"
awk -F '\t' -v ere="$ERE" -v skipped="$OUT/patterns.skipped" '
# End of the group opening at p[1] (index of its ")"), or 0.
function group_end(p,    i, n, c, depth, inbr, bs) {
    n = length(p); depth = 0; inbr = 0
    for (i = 1; i <= n; i++) {
        c = substr(p, i, 1)
        if (c == "\\") { i++; continue }
        if (inbr) {
            # "]" right after "[" or "[^" is a member, not the end
            if (c == "]" && i > bs + 1 && !(i == bs + 2 && substr(p, bs + 1, 1) == "^")) inbr = 0
            continue
        }
        if (c == "[") { inbr = 1; bs = i; continue }
        if (c == "(") depth++
        if (c == ")" && --depth == 0) return i
    }
    return 0
}
function conv(p,    out, i, n, c, d, inbr, first, e) {
    sub(/^\(\?i\)/, "", p)
    # A leading optional group never changes whether a line matches (the
    # search is unanchored), so the lead-in that only captures a target,
    # "(?:...(?<target>...).{0,400}?)?", is dropped: bounded repeats that
    # long are costly for grep, not for PCRE2.
    if (substr(p, 1, 1) == "(" && (e = group_end(p)) && substr(p, e + 1, 1) == "?" &&
        substr(p, e + 2, 1) != "?" && substr(p, e + 2, 1) != "+")
        p = substr(p, e + 2)
    out = ""; inbr = 0; n = length(p)
    for (i = 1; i <= n; i++) {
        c = substr(p, i, 1)
        if (c == "\\") {
            d = substr(p, ++i, 1)
            if (inbr && (d == "D" || d == "S" || d == "W")) return ""
            if (d == "d")      out = out (inbr ? "0-9" : "[0-9]")
            else if (d == "D") out = out "[^0-9]"
            else if (d == "s") out = out (inbr ? "[:space:]" : "[[:space:]]")
            else if (d == "S") out = out "[^[:space:]]"
            else if (d == "w") out = out (inbr ? "[:alnum:]_" : "[[:alnum:]_]")
            else if (d == "W") out = out "[^[:alnum:]_]"
            else if (d == "t") out = out "\t"
            else if (inbr)     out = out (d == "\\" ? "\\" : d)
            else if (index(".[]()*+?{}|^$\\bB", d) || d ~ /[1-9]/) out = out "\\" d
            else if (d ~ /[[:alnum:]]/) return ""
            else               out = out d
            continue
        }
        if (inbr) {
            if (c == "]" && !first) inbr = 0
            first = 0
            out = out c
            continue
        }
        if (c == "[") {
            inbr = 1; first = 1; out = out c
            if (substr(p, i + 1, 1) == "^") { out = out "^"; i++ }
            continue
        }
        if (c == "(" && substr(p, i + 1, 1) == "?") {
            if (substr(p, i + 2, 1) == ":") { out = out "("; i += 2; continue }
            # named group (?<name>...) -> plain group; not (?<= / (?<! lookbehind
            if (substr(p, i + 2, 1) == "<" && substr(p, i + 3, 1) ~ /[A-Za-z_]/) {
                d = index(substr(p, i + 3), ">")
                if (!d) return ""
                out = out "("; i += 2 + d; continue
            }
            if (substr(p, i, 4) == "(?i)") { i += 3; continue }
            return ""
        }
        out = out c
    }
    return out
}
$1 == "id" && $4 == "pattern" { next }
NF >= 4 {
    e = conv($4)
    if (e == "") { print $1 "\t" $4 > skipped; next }
    print e > ere
    n++
}
END { if (!n) exit 3 }
' "$OUT/rules.tsv" || die "no usable patterns from 'rules list' (see $OUT/rules.tsv)"
npat=$(wc -l < "$ERE")
[[ -s $OUT/patterns.skipped ]] &&
    say "$(wc -l < "$OUT/patterns.skipped") pattern(s) not expressible in ERE, see $OUT/patterns.skipped"
rc=0; LC_ALL=C grep -E -i -c -f "$ERE" /dev/null > /dev/null 2> "$OUT/grep.err" || rc=$?
((rc < 2)) || die "grep rejects $ERE: $(head -n1 "$OUT/grep.err")"

# --------------------------------------------------------------- timing
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }

# The count goes to a file: with stdout on /dev/null GNU grep stops at
# the first match and the timing would mean nothing.
run_grep() {
    local rc=0
    LC_ALL=C grep -E -i -c -f "$ERE" "$LOG" > "$OUT/grep.count" || rc=$?
    ((rc < 2)) || die "grep failed (status $rc)"
}
fresh_db() { rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"; }
run_scan() {
    "$AW" --db "$DB" scan --rules rules "$LOG" > "$OUT/scan.out" 2> "$OUT/scan.err" ||
        die "agentwatch scan failed: $(tail -n1 "$OUT/scan.err")"
}

# Warm the page cache once so that both sides read from memory.
cat "$LOG" > /dev/null

grep_s=""
for ((i = 1; i <= RUNS; i++)); do
    t0=$(now); run_grep; t1=$(now)
    s=$(elapsed "$t0" "$t1"); grep_s=$(min "$grep_s" "$s")
    say "grep run $i: ${s}s"
done
grep_lines=$(cat "$OUT/grep.count")

scan_s=""
for ((i = 1; i <= RUNS; i++)); do
    fresh_db
    t0=$(now); run_scan; t1=$(now)
    s=$(elapsed "$t0" "$t1"); scan_s=$(min "$scan_s" "$s")
    say "scan run $i: ${s}s"
done

rss_kib=""
if [[ -x /usr/bin/time ]]; then
    fresh_db
    /usr/bin/time -f %M -o "$OUT/scan.rss" "$AW" --db "$DB" scan --rules rules "$LOG" \
        > /dev/null 2> "$OUT/scan.err" || die "agentwatch scan failed: $(tail -n1 "$OUT/scan.err")"
    rss_kib=$(tail -n1 "$OUT/scan.rss")
else
    say "/usr/bin/time not found: peak RSS not measured"
fi

# ------------------------------------------------------------- findings
by_category=""
if command -v sqlite3 >/dev/null; then
    findings=$(sqlite3 "$DB" 'SELECT COUNT(*) FROM findings;')
    by_category=$(sqlite3 -separator ' ' "$DB" \
        'SELECT category, COUNT(*) FROM findings GROUP BY category ORDER BY 2 DESC;')
else
    findings=$("$AW" --db "$DB" report --format json |
        grep -o '"total":[[:space:]]*[0-9]*' | head -n1 | grep -o '[0-9]*$')
fi

# --------------------------------------------------------------- report
read -r mb grep_mbs scan_mbs ratio rss_mib <<EOF
$(awk -v b="$bytes" -v g="$grep_s" -v s="$scan_s" -v r="${rss_kib:-0}" 'BEGIN {
    mb = b / 1048576
    gt = (g > 0) ? mb / g : 0; st = (s > 0) ? mb / s : 0
    printf "%.1f %.1f %.1f %.3f %.1f\n", mb, gt, st, (gt > 0) ? st / gt : 0, r / 1024 }')
EOF
[[ -n $rss_kib ]] || rss_mib=null
ratio_ok=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.5) ? "yes" : "NO" }')
rss_ok=$([[ $rss_mib == null ]] && echo "n/a" || awk -v m="$rss_mib" 'BEGIN { print (m < 16) ? "yes" : "NO" }')

cat <<EOF

agentwatch benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), best of $RUNS)
  file            $LOG, $bytes bytes ($mb MiB)
  records         $RECORDS (seed $SEED, failure permille $FAILURE_PERMILLE)
  rule patterns   $npat
  findings        $findings
  grep matches    $grep_lines lines
  grep            ${grep_s}s  ${grep_mbs} MiB/s
  scan            ${scan_s}s  ${scan_mbs} MiB/s
  ratio scan/grep $ratio   (goal >= 0.5: $ratio_ok)
  peak RSS        $rss_mib MiB (goal < 16: $rss_ok)
EOF
if [[ -n $by_category ]]; then
    echo "  findings by category:"
    printf '%s\n' "$by_category" | sed 's/^/    /'
fi

cat > "$OUT/result.json" <<EOF
{"file": "$LOG", "bytes": $bytes, "records": $RECORDS, "seed": $SEED, "failure_permille": $FAILURE_PERMILLE,
 "rule_patterns": $npat, "findings": ${findings:-null}, "grep_matched_lines": $grep_lines,
 "grep_seconds": $grep_s, "scan_seconds": $scan_s,
 "grep_mib_per_s": $grep_mbs, "scan_mib_per_s": $scan_mbs,
 "ratio_scan_to_grep": $ratio, "peak_rss_mib": $rss_mib,
 "goal_ratio_met": $([[ $ratio_ok == yes ]] && echo true || echo false),
 "goal_rss_met": $([[ $rss_ok == yes ]] && echo true || echo false)}
EOF
say "wrote $OUT/result.json"
