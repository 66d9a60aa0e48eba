#!/usr/bin/env bash
# bench/run.sh: the on-demand benchmark (never run by `meson test`).
#
# Generates a synthetic itms agent.log (1,000,000 records, ~300 MB), then
# compares `agentwatch scan` against `LC_ALL=C grep -E -c` and
# `LC_ALL=C grep -E -i -c` over the same file with the same rule patterns,
# and measures the scan's CPU time, peak RSS and (with perf) where its time
# goes.  Goals: scan time at most half of `grep -E -c`'s, peak RSS <= 16 MiB.
#
#   bench/run.sh            one file of RECORDS records
#   bench/run.sh --flat     also a 2,000,000-record file: cost per record
#                           must stay flat as the file grows
#
# Environment: RECORDS (1000000), SEED (1), FAILURE_PERMILLE (11),
# RUNS (3, best of), BUILD (build-bench).  See bench/README.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

FLAT=0
for arg in "$@"; do
    case $arg in
        --flat) FLAT=1 ;;
        *) printf 'usage: bench/run.sh [--flat]\n' >&2; exit 2 ;;
    esac
done

RECORDS=${RECORDS:-1000000}
SEED=${SEED:-1}
FAILURE_PERMILLE=${FAILURE_PERMILLE:-11}
RUNS=${RUNS:-3}
OUT=bench/out
LOG=$OUT/agent.log
DB=$OUT/bench.db
ERE=$OUT/patterns.ere

BENCH_NAME=bench/run.sh
# shellcheck source=bench/lib.sh
. bench/lib.sh

bench_deps time
for t in meson ninja grep awk; do
    command -v "$t" >/dev/null || die "$t is required"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is required (Debian: time)"
bench_build
AW=$BUILD/agentwatch
GEN=$BUILD/bench/gen_itms
[[ -x $GEN ]] || die "$GEN was not built"
[[ -x $AW ]] || die "$AW was not built"

# ------------------------------------------------------------- workload
mkdir -p "$OUT"
# generate FILE RECORDS.  The stamp (FILE.stamp) names everything the bytes
# depend on: the parameters and the generator's source.  Reuse the file
# only when all of them and its size match.
generate() {
    local file=$1 records=$2 gen_sum stamp
    gen_sum=$(cksum < bench/gen_itms.c | awk '{print $1}')
    stamp="records=$records seed=$SEED permille=$FAILURE_PERMILLE gen=$gen_sum"
    if [[ -f $file && -f $file.stamp ]] &&
       [[ $(head -n1 "$file.stamp") == "$stamp" ]] &&
       [[ $(sed -n 2p "$file.stamp") == "$(stat -c %s "$file")" ]]; then
        say "reusing $file ($stamp)"
    else
        say "generating $file ($records records)"
        rm -f "$file.stamp"
        "$GEN" --records "$records" --seed "$SEED" --failure-permille "$FAILURE_PERMILLE" \
            "$file" 2> "$OUT/gen.txt"
        cat "$OUT/gen.txt" >&2
        printf '%s\n%s\n' "$stamp" "$(stat -c %s "$file")" > "$file.stamp"
    fi
}
generate "$LOG" "$RECORDS"
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
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
[[ -x /usr/bin/time ]] || die "/usr/bin/time is required (package time)"

# timed NAME CMD...: run CMD under /usr/bin/time; sets t_wall, t_cpu
# (user + system) and t_rss (KiB) of the run.
timed() {
    local name=$1 rc=0 u s; shift
    /usr/bin/time -f '%e %U %S %M' -o "$OUT/$name.time" "$@" || rc=$?
    read -r t_wall u s t_rss < <(tail -n1 "$OUT/$name.time")
    t_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    return $rc
}

# run_grep NAME [-i]: best wall and CPU time of RUNS runs, into NAME_s and
# NAME_cpu.  The count goes to a file: with stdout on /dev/null GNU grep
# stops at the first match and the timing would mean nothing.
run_grep() {
    local name=$1 rc i wall="" cpu=""; shift
    for ((i = 1; i <= RUNS; i++)); do
        rc=0
        timed "$name" env LC_ALL=C grep -E "$@" -c -f "$ERE" "$LOG" > "$OUT/$name.count" || rc=$?
        ((rc < 2)) || die "grep failed (status $rc)"
        wall=$(min "$wall" "$t_wall"); cpu=$(min "$cpu" "$t_cpu")
        say "$name run $i: ${t_wall}s wall, ${t_cpu}s CPU"
    done
    printf -v "${name}_s" '%s' "$wall"
    printf -v "${name}_cpu" '%s' "$cpu"
}
fresh_db() { rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"; }
# run_scan FILE: best wall and CPU time of RUNS scans into a fresh
# database each, and the highest peak RSS, into scan_s, scan_cpu, rss_kib.
run_scan() {
    local file=$1 i
    scan_s=""; scan_cpu=""; rss_kib=""
    for ((i = 1; i <= RUNS; i++)); do
        fresh_db
        timed scan "$AW" --db "$DB" scan --rules rules "$file" > "$OUT/scan.out" 2> "$OUT/scan.err" ||
            die "agentwatch scan failed: $(tail -n1 "$OUT/scan.err")"
        scan_s=$(min "$scan_s" "$t_wall"); scan_cpu=$(min "$scan_cpu" "$t_cpu")
        rss_kib=$(awk -v a="$rss_kib" -v b="$t_rss" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
        say "scan run $i: ${t_wall}s wall, ${t_cpu}s CPU, $t_rss KiB"
    done
}

# Warm the page cache once so that both sides read from memory.
cat "$LOG" > /dev/null

run_grep grep_i -i
run_grep grep_plain
grep_lines=$(cat "$OUT/grep_i.count")
grep_plain_lines=$(cat "$OUT/grep_plain.count")
grep_s=$grep_i_s
run_scan "$LOG"

# Where the scan's CPU time goes, by where perf's samples fall: the first
# look (aw_matcher_classify and the prefilter's scan), PCRE2 (its JIT
# code and library), SQLite, the kernel (reading the log, writing the
# database) and the rest (reading, framing, metadata, libc).
phases="n/a (perf not installed)"
threads="n/a"
if command -v perf >/dev/null; then
    fresh_db
    if perf record -q -F 2000 -o "$OUT/perf.data" "$AW" --db "$DB" scan --rules rules "$LOG" \
           > /dev/null 2> "$OUT/perf.err"; then
        phases=$(perf report -i "$OUT/perf.data" --sort dso,sym --stdio 2> /dev/null |
            awk -v cpu="$scan_cpu" '
            /^#/ || !/%/ { next }
            { p = $1; sub(/%/, "", p); dso = $2
              if (dso ~ /libsqlite3/) k = "sqlite"
              else if (dso ~ /JIT|libpcre2/) k = "pcre2"
              else if (dso ~ /kernel/) k = "kernel"
              else if ($0 ~ /aw_matcher_classify|aw_prefilter/) k = "prefilter"
              else k = "read/frame/other"
              t[k] += p }
            END { n = split("prefilter pcre2 sqlite kernel read/frame/other", o, " ")
                  for (i = 1; i <= n; i++)
                      printf "%s%s %.1f%% (%.2fs)", (i > 1 ? ", " : ""), o[i], t[o[i]],
                             t[o[i]] * cpu / 100 }')
        # The same samples by thread: the reading thread (the process's
        # first, lowest id) and the store threads (one per file read).
        threads=$(perf report -i "$OUT/perf.data" --sort pid --stdio 2> /dev/null |
            awk -v cpu="$scan_cpu" '
            /^#/ || !/%/ { next }
            { p = $1; sub(/%/, "", p); split($2, a, ":"); share[a[1] + 0] += p }
            END { first = -1
                  for (t in share) if (first < 0 || t + 0 < first) first = t + 0
                  for (t in share) if (t + 0 != first) store += share[t]
                  printf "reading %.1f%% (%.2fs), store %.1f%% (%.2fs)", share[first],
                         share[first] * cpu / 100, store, store * cpu / 100 }')
    else
        phases="n/a (perf record failed: $(tail -n1 "$OUT/perf.err"))"
    fi
fi

flat=""
if ((FLAT)); then
    LOG2=$OUT/agent-2m.log
    generate "$LOG2" 2000000
    cat "$LOG2" > /dev/null
    s1=$scan_s c1=$scan_cpu r1=$rss_kib
    run_scan "$LOG2"
    flat=$(awk -v n1="$RECORDS" -v w1="$s1" -v c1="$c1" -v w2="$scan_s" -v c2="$scan_cpu" \
               -v r1="$r1" -v r2="$rss_kib" 'BEGIN {
        printf "%d records: %.3f us wall, %.3f us CPU per record, peak %.1f MiB\n", n1,
               w1 * 1e6 / n1, c1 * 1e6 / n1, r1 / 1024
        printf "    2000000 records: %.3f us wall, %.3f us CPU per record, peak %.1f MiB",
               w2 * 1e6 / 2000000, c2 * 1e6 / 2000000, r2 / 1024 }')
    scan_s=$s1 scan_cpu=$c1 rss_kib=$r1
    # The findings below are those of the RECORDS file.
    fresh_db
    "$AW" --db "$DB" scan --rules rules "$LOG" > /dev/null 2>&1 || die "agentwatch scan failed"
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
# Time ratios, scan over grep; the goal is against grep without -i.
tr() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }
t_plain=$(tr "$scan_s" "$grep_plain_s"); t_i=$(tr "$scan_s" "$grep_i_s")
c_plain=$(tr "$scan_cpu" "$grep_plain_cpu"); c_i=$(tr "$scan_cpu" "$grep_i_cpu")
ratio_ok=$(awk -v r="$t_plain" 'BEGIN { print (r <= 0.5) ? "yes" : "NO" }')
rss_ok=$(awk -v m="$rss_mib" 'BEGIN { print (m <= 16) ? "yes" : "NO" }')
load=$(cut -d' ' -f1-3 /proc/loadavg 2> /dev/null || echo unknown)

cat <<EOF

agentwatch benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), best of $RUNS, load average $load)
  file            $LOG, $bytes bytes ($mb MiB)
  records         $RECORDS (seed $SEED, failure permille $FAILURE_PERMILLE)
  rule patterns   $npat
  findings        $findings
  grep matches    $grep_plain_lines lines (with -i: $grep_lines)
                  wall      CPU (user+sys)
  grep -E -c      ${grep_plain_s}s    ${grep_plain_cpu}s
  grep -E -i -c   ${grep_i_s}s    ${grep_i_cpu}s
  scan            ${scan_s}s    ${scan_cpu}s    (${scan_mbs} MiB/s wall)
  scan/grep -E    $t_plain wall, $c_plain CPU   (goal <= 0.5 wall: $ratio_ok)
  scan/grep -E -i $t_i wall, $c_i CPU
  peak RSS        $rss_mib MiB (goal <= 16: $rss_ok)
  scan CPU by phase: $phases
  scan CPU by thread: $threads
EOF
[[ -z $flat ]] || printf '  cost per record at %s\n' "$flat"
if [[ -n $by_category ]]; then
    echo "  findings by category:"
    printf '%s\n' "$by_category" | sed 's/^/    /'
fi

cat > "$OUT/result.json" <<EOF
{"file": "$LOG", "bytes": $bytes, "records": $RECORDS, "seed": $SEED, "failure_permille": $FAILURE_PERMILLE,
 "rule_patterns": $npat, "findings": ${findings:-null}, "grep_matched_lines": $grep_lines,
 "grep_seconds": $grep_s, "scan_seconds": $scan_s,
 "grep_plain_seconds": $grep_plain_s, "grep_plain_matched_lines": $grep_plain_lines,
 "scan_cpu_seconds": $scan_cpu, "grep_cpu_seconds": $grep_i_cpu, "grep_plain_cpu_seconds": $grep_plain_cpu,
 "time_ratio_scan_to_grep_plain": $t_plain, "time_ratio_scan_to_grep_i": $t_i,
 "grep_mib_per_s": $grep_mbs, "scan_mib_per_s": $scan_mbs,
 "ratio_scan_to_grep": $ratio, "peak_rss_mib": $rss_mib,
 "goal_ratio_met": $([[ $ratio_ok == yes ]] && echo true || echo false),
 "load_average": "$load",
 "goal_rss_met": $([[ $rss_ok == yes ]] && echo true || echo false)}
EOF
say "wrote $OUT/result.json"
