#!/usr/bin/env bash
# The Debian source package (debian/) as an administrator builds it for a
# local repository:
#
#     tests/package-debsrc.sh SRCDIR
#
# copies the source tree (packaging/lib.sh's file list) into a scratch
# folder agentwatch-VERSION/, runs `dpkg-buildpackage -us -uc -b` there
# (debhelper, debian/rules, packaging/stage.sh with dh's hardened
# dpkg-buildflags), then checks the .deb it wrote: lintian -EvIL +pedantic
# clean but for debian/agentwatch.lintian-overrides, the binary hardened
# (tests/hardening.sh), the same files as packaging/build-deb.sh's .deb (a
# doc dh_compress compressed may carry .gz), the maintainer scripts and
# conffile of debian/, and the installed binary runs.
# Exit 77 (skipped) without dpkg-buildpackage or debhelper.
set -euo pipefail

src=$(cd "${1:?usage: package-debsrc.sh SRCDIR}" && pwd)
for tool in dpkg-buildpackage dh meson; do
    command -v "$tool" >/dev/null || { echo "$tool not found: skipped"; exit 77; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package-debsrc.sh: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

. "$src/packaging/lib.sh"
version=$aw_deb_version
tree=$tmp/agentwatch-${version%-*}
mkdir "$tree"
aw_source_files | tar -C "$src" --null -T - -cf - | tar -C "$tree" -xf -

step "dpkg-buildpackage -us -uc -b"
(cd "$tree" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 ||
    { tail -n 40 "$tmp/build.log" >&2; fail "dpkg-buildpackage exited $?"; }
deb=$tmp/agentwatch_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || fail "no $deb; built: $(ls "$tmp")"
echo "$deb: $(stat -c %s "$deb") bytes"

step "lintian -EvIL +pedantic"
if command -v lintian >/dev/null; then
    lintian -EvIL +pedantic "$deb" >"$tmp/lintian.out" 2>&1 || fail "lintian exited $?: $(cat "$tmp/lintian.out")"
    cat "$tmp/lintian.out"
    if grep -E '^[EWIPXO]: ' "$tmp/lintian.out"; then fail "lintian tags"; fi
else
    echo "lintian not installed: skipped"
fi

step "contents: those of build-deb.sh's package"
dpkg-deb -e "$deb" "$tmp/control"
for s in postinst prerm postrm; do
    cmp -s "$tmp/control/$s" "$src/debian/agentwatch.$s" || fail "$s is not debian/agentwatch.$s"
done
[ "$(LC_ALL=C sort "$tmp/control/conffiles")" = "$(printf '%s\n' /etc/agentwatch/agentwatch.yaml /etc/agentwatch/rules.d/README)" ] || fail "conffiles: $(cat "$tmp/control/conffiles")"
depends=$(dpkg-deb -f "$deb" Depends)   # not `| grep -q`: SIGPIPE under pipefail
grep -q libyaml <<<"$depends" || fail "Depends lacks libyaml: $depends"
other=$("$src/packaging/build-deb.sh" "$tmp/dist" "$tmp/build")
names() { dpkg-deb -c "$1" | awk '{ print $NF }' | sed 's/\.gz$//' | LC_ALL=C sort; }
diff <(names "$other") <(names "$deb") || fail "file lists differ (left: build-deb.sh, right: dpkg-buildpackage)"

step "the installed binary"
dpkg-deb -x "$deb" "$tmp/root"
"$src/tests/hardening.sh" "$tmp/root/usr/bin/agentwatch" || fail "not hardened"
out=$("$tmp/root/usr/bin/agentwatch" --version) || fail "--version exited $?"
[ "$out" = "agentwatch ${version%-*}" ] || fail "--version printed '$out'"
"$tmp/root/usr/bin/agentwatch" --config "$tmp/root/etc/agentwatch/agentwatch.yaml" rules check \
    --rules "$tmp/root/usr/share/agentwatch/rules" >/dev/null || fail "rules check exited $?"
echo "package-debsrc test passed"
