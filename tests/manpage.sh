#!/usr/bin/env bash
# The man page renders cleanly: groff -ww reports no warning, every tagged
# entry's tag is one line (a tag that spills into its paragraph, as the
# `rules test` entries once did, shows as a tag line ending in "["), every
# command `agentwatch --help` lists has its own subsection, and the
# Windows service is documented.
#
#     tests/manpage.sh SRCDIR AGENTWATCH
# Exit 77 (skipped) without groff.
set -euo pipefail
src=${1:?usage: manpage.sh SRCDIR AGENTWATCH}
bin=${2:?usage: manpage.sh SRCDIR AGENTWATCH}
page=$src/docs/agentwatch.1
command -v groff >/dev/null || { echo "groff not found: skipped"; exit 77; }
fail() { echo "manpage.sh: FAIL: $*" >&2; exit 1; }

warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "groff exited $?"
[ -z "$warnings" ] || fail "groff warnings: $warnings"
text=$(MANWIDTH=80 groff -man -Tutf8 -P-cbou -rLL=78n "$page" 2>/dev/null)
grep -qE '^ +rules test \[--quiet\] \[--format FORMAT\] FILE \.\.\.$' <<<"$text" ||
    fail "the 'rules test FILE' entry's tag is not one line"
if grep -nE '^ {7}[a-z-].*\[$' <<<"$text"; then fail "a tag line ends in '['"; fi
help=$("$bin" --help)
commands=$(sed -n '/^Commands:/,/^$/p' <<<"$help" | awk 'NR > 1 && NF { print $1 }')
[ -n "$commands" ] || fail "no commands in agentwatch --help"
for c in $commands; do
    [ "$c" = service ] && continue   # Windows only: section WINDOWS
    grep -q "^\.SS $c\$" "$page" || fail "no subsection for command '$c'"
done
grep -q '^\.SH WINDOWS$' "$page" || fail "no WINDOWS section"
grep -q 'agentwatch service \[' <<<"$text" || fail "agentwatch service is not documented"
echo "man page: no groff warning, one-line tags, $(wc -w <<<"$commands") commands documented"
