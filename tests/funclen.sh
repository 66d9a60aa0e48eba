#!/usr/bin/env bash
# tests/funclen.sh [LIMIT] [FILES...]: list C functions longer than LIMIT
# (default 80) lines, longest first, as "LINES FILE:LINE NAME".
#
# Method: the house style puts a function's opening brace alone at column
# 0 and its closing brace alone at column 0, so an awk pass takes every
# "{" line at column 0 as a body start (the name is the last identifier
# before "(" on the lines since the previous top-level item) and the next
# "}" line at column 0 as its end.  A length counts the lines from the
# line with the name through the closing brace.  Struct and array
# initialisers never open with "{" alone at column 0, so they are not
# counted.  A final line "functions over LIMIT: N" gives the count.
limit=${1:-80}
shift || true
cd "$(dirname "$0")/.."
files=("$@")
((${#files[@]})) || files=(src/*.c)
awk -v limit="$limit" '
FNR == 1 { sig = ""; sigline = 0; inbody = 0 }
!inbody && /^[A-Za-z_].*\(/ { sig = $0; sigline = FNR }
!inbody && /^\{/ && sigline { inbody = 1; start = sigline; name = sig; next }
inbody && /^\}/ {
    inbody = 0
    len = FNR - start + 1
    sub(/\(.*/, "", name); n = split(name, w, /[ *]+/); name = w[n]
    if (len > limit) printf "%d %s:%d %s\n", len, FILENAME, start, name
    sigline = 0
}
' "${files[@]}" | sort -rn | awk -v limit="$limit" '{ print } END { printf "functions over %d: %d\n", limit, NR }'
