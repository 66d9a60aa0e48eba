#!/usr/bin/env bash
# What a rule set scores on agent families it has never seen (issue 11).
#
#   scripts/unseen.sh BASE [RULES]
#
# The corpus files of the working tree (tests/corpus/real/*.tsv) that did
# not exist at git revision BASE were gathered after it, each from families
# new to the corpus.  The rules of BASE saw none of their records, working
# or held out, so their figures on those files estimate recall and
# precision on an unseen family; the rules of RULES (a revision, default
# BASE, or "." for the working tree's rules/) show what the reworks since
# added.  Prints the realcorpus tables of those files alone, working part
# and held-out part; no record is ever printed (held-out records stay
# unread).  Uses the build in $BUILD (default build/); the test's own
# goal checks fail on such a subset and are ignored here.
set -euo pipefail
cd "$(dirname "$0")/.."

(($# >= 1 && $# <= 2)) || { echo "usage: scripts/unseen.sh BASE [RULES]" >&2; exit 2; }
base=$1
rules=${2:-$1}
build=${BUILD:-build}
git rev-parse --verify -q "$base^{commit}" >/dev/null || { echo "unseen: $base: not a revision" >&2; exit 2; }
if [ ! -x "$build/tests/test_realcorpus" ] || [ ! -x "$build/agentwatch" ]; then
    echo "unseen: $build/tests/test_realcorpus or $build/agentwatch missing: build first" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tests/corpus/real" "$tmp/rules"
if [ "$rules" = . ]; then
    cp rules/*.yaml "$tmp/rules/"
else
    git archive "$rules" rules | tar -x -C "$tmp"
fi
cp tests/corpus/real/holdout.txt "$tmp/tests/corpus/real/"
n=0
for f in tests/corpus/real/*.tsv; do
    git cat-file -e "$base:$f" 2>/dev/null && continue
    cp "$f" "$tmp/tests/corpus/real/"
    n=$((n + 1))
done
((n > 0)) || { echo "unseen: no corpus file was added after $base" >&2; exit 1; }
echo "unseen: $n corpus files added after $(git rev-parse --short "$base"), rules of $rules"
TZ=UTC AW_BIN="$PWD/$build/agentwatch" AW_SRCDIR="$tmp" "$build/tests/test_realcorpus" 2>&1 |
    grep -E -A6 '^  real records, (working|held-out) part' | grep -v -e '^--$' -e 'codes captured' || true
