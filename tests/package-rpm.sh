#!/usr/bin/env bash
# The rpm end to end, without touching the real system:
#
#     tests/package-rpm.sh SRCDIR PACKAGE_BUILDDIR
#
# builds the .rpm with packaging/build-rpm.sh, checks its metadata with
# `rpm -qp` (name, version, release, soname Requires, the %config(noreplace)
# configuration, the file list, owners and modes, the scriptlets' syntax),
# extracts it with `rpm2cpio | cpio -idm` into a scratch root and runs the
# *installed* binary from there (--version, rules check on the installed
# rules and configuration, a scan of samples/itms/agent.log into a scratch
# database whose findings `report` must count).
#
# As root it then installs, upgrades and erases the package with
# `rpm --root SCRATCH --dbpath /var/lib/rpm --nodeps` (the scratch rpm
# database has no libc or libraries to satisfy Requires).  The scriptlets
# run for real: rpm --root chroots into SCRATCH to run them, so the scratch
# root gets the host's /bin/sh and the libraries ldd names for it, and a
# systemctl stub in /usr/bin that records its arguments (the scriptlets run
# with rpm's PATH, /sbin:/bin:/usr/sbin:/usr/bin).  The test compares
# those calls with what the spec promises, twice:
#   - no /run/systemd/system (an image build or chroot): install enables
#     only; an upgrade to release 2 (whose default configuration differs)
#     keeps the edited configuration and writes the new one as .rpmnew;
#     erase disables, keeps the database and saves the edited
#     configuration as .rpmsave;
#   - with SCRATCH/run/systemd/system (systemd running): install enables,
#     reloads and starts; the upgrade (configuration untouched, so it is
#     replaced) reloads and try-restarts; erase stops, disables and
#     reloads, leaving nothing of the package behind.
# `--noscripts` plus running `rpm -qp --scripts` by hand would test a
# copy of the scriptlets, not rpm's arguments ($1) and order.
# Release 2 is built by the same packaging/build-rpm.sh from a copy of
# packaging/ with an extra line in agentwatch.yaml, reusing the release
# build folder.  rpm has no purge: the test deletes /var/lib/agentwatch
# and /etc/agentwatch by hand, as packaging/README.md tells the admin to.
#
# rpm queries use a scratch --dbpath: Debian's rpm otherwise opens (and
# creates) ~/.rpmdb.  Exit 77 (skipped) without rpmbuild, rpm2cpio or cpio.
set -euo pipefail

src=$(cd "${1:?usage: package-rpm.sh SRCDIR PACKAGE_BUILDDIR}" && pwd)
pkgbuild=${2:?usage: package-rpm.sh SRCDIR PACKAGE_BUILDDIR}

for tool in rpmbuild rpm rpm2cpio cpio meson; do
    command -v "$tool" >/dev/null || { echo "$tool not found: skipped"; exit 77; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package-rpm.sh: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
rpmq() { rpm --dbpath "$tmp/querydb" -qp "$@"; }

step "build the .rpm"
rpm=$("$src/packaging/build-rpm.sh" "$tmp/dist" "$pkgbuild")
[ -f "$rpm" ] || fail "no package built"
echo "$rpm: $(stat -c %s "$rpm") bytes"

step "metadata"
version=$(. "$src/packaging/lib.sh" && aw_project_version)
[ -n "$version" ] || fail "no version in meson.build"
[ "$(rpmq --qf '%{NAME}' "$rpm")" = agentwatch ] || fail "package name"
[ "$(rpmq --qf '%{VERSION}' "$rpm")" = "$version" ] ||
    fail "version $(rpmq --qf '%{VERSION}' "$rpm"), meson says $version"
[ "$(rpmq --qf '%{RELEASE}' "$rpm")" = 1 ] || fail "release $(rpmq --qf '%{RELEASE}' "$rpm")"
[ "$(basename "$rpm")" = "$(rpmq --qf '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}.rpm' "$rpm")" ] ||
    fail "file name $(basename "$rpm")"
requires=$(rpmq -R "$rpm")
for so in 'libpcre2-8\.so\.0' 'libsqlite3\.so\.0' 'libyaml-0\.so\.2' 'libc\.so\.6'; do
    grep -q "^$so()" <<<"$requires" || fail "Requires lacks $so: $requires"
done
grep -qx /bin/sh <<<"$requires" || fail "Requires lacks /bin/sh (scriptlets)"
[ "$(rpmq -c "$rpm" | LC_ALL=C sort)" = "$(printf '%s\n' /etc/agentwatch/agentwatch.yaml /etc/agentwatch/rules.d/README)" ] || fail "config files: $(rpmq -c "$rpm")"
# One line per file: flags (c = %config, n = noreplace, d = %doc), mode,
# owner, path.
files=$(rpmq --qf '[%{FILEFLAGS:fflags} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$rpm")
has() { grep -qx -- "$1" <<<"$files" || fail "no '$1' in the file list: $files"; }
has 'cn -rw-r--r-- root:root /etc/agentwatch/agentwatch.yaml'
has ' drwxr-xr-x root:root /etc/agentwatch'
has ' drwxr-xr-x root:root /etc/agentwatch/rules.d'
has 'cn -rw-r--r-- root:root /etc/agentwatch/rules.d/README'
has ' -rwxr-xr-x root:root /usr/bin/agentwatch'
has ' -rw-r--r-- root:root /usr/share/agentwatch/rules/90-health.yaml'
has ' -rw-r--r-- root:root /usr/lib/systemd/system/agentwatch.service'
has 'd -rw-r--r-- root:root /usr/share/man/man1/agentwatch.1.gz'
has 'd -rw-r--r-- root:root /usr/share/doc/agentwatch/copyright'
has 'd -rw-r--r-- root:root /usr/share/doc/agentwatch/agentwatch.yaml.example'
has ' drwxr-s--- root:agentwatch /var/lib/agentwatch'
has ' -rw-r--r-- root:root /usr/share/bash-completion/completions/agentwatch'
has ' -rw-r--r-- root:root /usr/share/zsh/site-functions/_agentwatch'
if grep -v -e ' root:root ' -e ' root:agentwatch /var/lib/agentwatch$' <<<"$files"; then
    fail "files not owned by root"
fi
prein=$(rpmq --qf '%{PREIN}' "$rpm")
grep -q 'groupadd -r agentwatch' <<<"$prein" || fail "%pre does not create the group agentwatch"
if grep '/var/lib/agentwatch/' <<<"$files"; then fail "the package ships a file in the state folder"; fi
for s in PREIN POSTIN PREUN POSTUN; do
    rpmq --qf "%{$s}" "$rpm" | sed 's/^(none)$//' >"$tmp/$s"
    sh -n "$tmp/$s" || fail "%$s: syntax"
done
[ -s "$tmp/POSTIN" ] && [ -s "$tmp/PREUN" ] && [ -s "$tmp/POSTUN" ] || fail "a scriptlet is missing"

step "rpmlint with packaging/rpm/rpmlint.toml: no error, no warning (the .rpm and the spec)"
if command -v rpmlint >/dev/null; then
    rpmlint -c "$src/packaging/rpm/rpmlint.toml" "$rpm" "$src/packaging/rpm/agentwatch.spec" \
        >"$tmp/rpmlint.out" 2>&1 || fail "rpmlint exited $?: $(cat "$tmp/rpmlint.out")"
    tail -n1 "$tmp/rpmlint.out"
    grep -q ' 0 errors, 0 warnings' "$tmp/rpmlint.out" || fail "rpmlint: $(cat "$tmp/rpmlint.out")"
else
    echo "rpmlint not installed: skipped"
fi
has 'd -rw-r--r-- root:root /usr/share/doc/agentwatch/rules.md'
[ "$(rpmq --qf '%{PACKAGER}' "$rpm")" = "$(sed -n 's/^Maintainer: //p' "$src/debian/control")" ] ||
    fail "Packager: $(rpmq --qf '%{PACKAGER}' "$rpm")"
# The source tarball the package was built from: the spec's BuildRequires.
for b in meson 'pkgconfig(libpcre2-8)' 'pkgconfig(sqlite3)' 'pkgconfig(yaml-0.1)'; do
    grep -q "^BuildRequires: *$b" "$src/packaging/rpm/agentwatch.spec" || fail "spec lacks BuildRequires $b"
done

step "extract into a scratch root and run the installed binary"
root=$tmp/root
mkdir "$root"
(cd "$root" && rpm2cpio "$rpm" | cpio -idm --quiet --no-absolute-filenames) || fail "rpm2cpio | cpio"
[ "$(stat -c %a "$root/var/lib/agentwatch")" = 2750 ] || fail "extracted state dir mode"
bin=$root/usr/bin/agentwatch
"$src/tests/hardening.sh" "$bin" || fail "the packaged binary lacks hardening"
cfg=$root/etc/agentwatch/agentwatch.yaml
rules=$root/usr/share/agentwatch/rules
out=$("$bin" --version) || fail "--version exited $?"
[ "$out" = "agentwatch $version" ] || fail "--version printed '$out'"
"$bin" --config "$cfg" rules check --rules "$rules" >"$tmp/check.out" || fail "rules check exited $?"
# The compiled-in defaults point into /usr and /etc.  (No `| grep -q`
# anywhere: grep's early exit would kill the writer with SIGPIPE, which
# pipefail turns into a failure.)
help=$("$bin" --help) || fail "--help exited $?"
grep -q "/etc/agentwatch/agentwatch.yaml" <<<"$help" || fail "--help lacks the config path"
help=$("$bin" rules check --help) || fail "rules check --help exited $?"
grep -q "/usr/share/agentwatch/rules" <<<"$help" || fail "rules dir is not /usr/share"
db=$tmp/state/agentwatch.db
mkdir -m 0700 "$tmp/state"
"$bin" --config "$cfg" --db "$db" scan --rules "$rules" "$src/samples/itms/agent.log" >"$tmp/scan.out" ||
    fail "scan exited $?: $(cat "$tmp/scan.out")"
cat "$tmp/scan.out"
findings=$(sed -n 's/^scanned .*records, \([0-9]*\) new findings.*/\1/p' "$tmp/scan.out")
[ -n "$findings" ] && [ "$findings" -gt 0 ] || fail "scan stored no findings"
"$bin" --db "$db" report --format json >"$tmp/report.json" || fail "report exited $?"
total=$(sed -n 's/^{"since": [^,]*, "until": [^,]*, "total": \([0-9]*\),.*/\1/p' "$tmp/report.json")
[ "$total" = "$findings" ] || fail "report total '$total' != $findings findings scanned"
# The samples hold an outage with certificate, name resolution and
# connection failures, and the recovery.
for c in ssl resolution connection health; do
    grep -q "{\"category\": \"$c\", \"count\": [1-9]" "$tmp/report.json" || fail "no $c findings"
done
[ "$(stat -c %a "$db")" = 600 ] || fail "database mode $(stat -c %a "$db")"
man=$(zcat "$root/usr/share/man/man1/agentwatch.1.gz") || fail "zcat the man page"
grep -q '^\.TH AGENTWATCH 1' <<<"$man" || fail "man page header"

if [ "$(id -u)" -ne 0 ]; then
    echo "not root: rpm --root install/upgrade/erase skipped"
    exit 0
fi

step "release 2, with a changed default configuration"
# The whole tree (the rpm is built from a tarball of it), without .git:
# the tarball's dates come from SOURCE_DATE_EPOCH, which stays the commit's.
mkdir "$tmp/src2"
(. "$src/packaging/lib.sh" && aw_source_files | tar -C "$src" --null -T - -cf - | tar -C "$tmp/src2" -xf -)
echo "# release 2" >>"$tmp/src2/packaging/agentwatch.yaml"
rpm2=$(AW_RPM_RELEASE=2 "$tmp/src2/packaging/build-rpm.sh" "$tmp/dist2" "$pkgbuild")
[ "$(rpmq --qf '%{VERSION}-%{RELEASE}' "$rpm2")" = "$version-2" ] || fail "release 2 is $(rpmq --qf '%{VERSION}-%{RELEASE}' "$rpm2")"

# A scratch root rpm can chroot into to run the scriptlets: /bin/sh, its
# libraries, /dev/null (a plain file does for redirections), rpm's
# temporary folder, an empty rpm database and the systemctl stub.
newroot() {
    local r=$1 f
    mkdir -p "$r/usr/bin" "$r/dev" "$r/var/tmp"
    for f in /bin/sh $(ldd /bin/sh | grep -o '/[^ ]*'); do
        mkdir -p "$r$(dirname "$f")"
        cp -L "$f" "$r$f"
    done
    : >"$r/dev/null"
    # The group %pre would create (groupadd is not in this root): rpm
    # resolves the folder's group in the root's /etc/group.
    mkdir -p "$r/etc"
    printf 'root:x:0:\nagentwatch:x:990:\n' >"$r/etc/group"
    printf '#!/bin/sh\necho "systemctl $*" >>/systemctl.calls\n' >"$r/usr/bin/systemctl"
    chmod 0755 "$r/usr/bin/systemctl"
    : >"$r/systemctl.calls"
    chroot "$r" /bin/sh -c 'systemctl probe' || fail "cannot run /bin/sh in a chroot"
    [ "$(cat "$r/systemctl.calls")" = "systemctl probe" ] || fail "the systemctl stub does not run"
    : >"$r/systemctl.calls"
    rpm --root "$r" --dbpath /var/lib/rpm --initdb || fail "rpm --initdb"
}
pkg() {
    rpm --root "$r" --dbpath /var/lib/rpm --nodeps "$@" >"$tmp/rpm.log" 2>&1 ||
        fail "rpm $*: $(cat "$tmp/rpm.log")"
}
# What rpm said, but for Debian's warning that it is not dpkg.
expect_said() {
    local got
    got=$(grep -v -e 'use Alien instead' -e 'assuming you know what you are doing' "$tmp/rpm.log" || :)
    [ "$got" = "$1" ] || fail "$2: rpm said '$got', expected '$1'"
}
# The systemctl calls since the last look, one per line.
calls() { cat "$r/systemctl.calls"; : >"$r/systemctl.calls"; }
expect_calls() {
    local got
    got=$(calls)
    [ "$got" = "$1" ] || fail "$2: systemctl calls were '${got//$'\n'/; }', expected '${1//$'\n'/; }'"
}
installed() { rpm --root "$r" --dbpath /var/lib/rpm -q --qf '%{VERSION}-%{RELEASE}' agentwatch; }

step "rpm --root, no systemd running: install, upgrade (edited configuration), erase"
r=$tmp/rpmroot
newroot "$r"
c=/etc/agentwatch/agentwatch.yaml
conf=$r$c
pkg -i "$rpm"
expect_said "" "install"
[ "$(installed)" = "$version-1" ] || fail "installed: $(installed)"
pkg -V agentwatch
expect_said "" "verify"
[ "$(stat -c %a "$r/var/lib/agentwatch")" = 2750 ] || fail "state dir mode after install"
[ "$(stat -c %g "$r/var/lib/agentwatch")" = 990 ] || fail "state dir group after install: $(stat -c %g "$r/var/lib/agentwatch")"
[ -x "$r/usr/bin/agentwatch" ] || fail "binary not installed"
cmp -s "$conf" "$src/packaging/agentwatch.yaml" || fail "installed configuration differs from packaging/"
expect_calls "systemctl --no-reload enable agentwatch.service" "install"
sed -i 's/^retention_days: .*/retention_days: 30  # edited/' "$conf"
grep -q '# edited' "$conf" || fail "could not edit the configuration"
"$r/usr/bin/agentwatch" --config "$conf" --db "$r/var/lib/agentwatch/agentwatch.db" \
    scan --rules "$r/usr/share/agentwatch/rules" "$src/samples/itms/agent.log" >/dev/null || fail "scan into the root"
pkg -U "$rpm2"
expect_said "warning: $c created as $c.rpmnew" "upgrade"
[ "$(installed)" = "$version-2" ] || fail "after the upgrade: $(installed)"
grep -q '# edited' "$conf" || fail "the upgrade replaced the edited configuration"
[ -f "$conf.rpmnew" ] || fail "no .rpmnew next to the edited configuration"
cmp -s "$conf.rpmnew" "$tmp/src2/packaging/agentwatch.yaml" || fail ".rpmnew is not release 2's configuration"
"$r/usr/bin/agentwatch" --config "$conf" rules check --rules "$r/usr/share/agentwatch/rules" >/dev/null ||
    fail "the kept configuration does not check"
expect_calls "" "upgrade"
"$r/usr/bin/agentwatch" --db "$r/var/lib/agentwatch/agentwatch.db" report --format json >"$tmp/kept.json" ||
    fail "report on the kept database exited $?"
grep -q "\"total\": $findings," "$tmp/kept.json" || fail "the database did not survive the upgrade"
pkg -e agentwatch
expect_said "warning: $c saved as $c.rpmsave" "erase"
installed >/dev/null && fail "still installed after rpm -e"
[ ! -e "$r/usr/bin/agentwatch" ] || fail "erase left the binary"
[ ! -e "$r/usr/lib/systemd/system/agentwatch.service" ] || fail "erase left the unit"
[ ! -e "$conf" ] || fail "erase left the edited configuration in place"
grep -q '# edited' "$conf.rpmsave" || fail "erase did not save the edited configuration as .rpmsave"
[ -f "$r/var/lib/agentwatch/agentwatch.db" ] || fail "erase deleted the database"
[ "$(stat -c %a "$r/var/lib/agentwatch")" = 2750 ] || fail "state dir mode after erase"
expect_calls "systemctl --no-reload disable agentwatch.service" "erase"
# What an administrator does instead of a purge.
rm -rf "$r/var/lib/agentwatch" "$r/etc/agentwatch"

step "rpm --root, systemd running: install, upgrade (configuration untouched), erase"
r=$tmp/rpmroot-systemd
newroot "$r"
mkdir -p "$r/run/systemd/system"
conf=$r$c
pkg -i "$rpm"
expect_said "" "install"
expect_calls "systemctl --no-reload enable agentwatch.service
systemctl daemon-reload
systemctl start agentwatch.service" "install"
pkg -U "$rpm2"
expect_said "" "upgrade"
[ "$(installed)" = "$version-2" ] || fail "after the upgrade: $(installed)"
cmp -s "$conf" "$tmp/src2/packaging/agentwatch.yaml" || fail "the untouched configuration was not updated"
[ ! -e "$conf.rpmnew" ] || fail ".rpmnew for an untouched configuration"
# The new package's %post, then the old one's %postun with $1 = 1.
expect_calls "systemctl daemon-reload
systemctl daemon-reload
systemctl try-restart agentwatch.service" "upgrade"
pkg -e agentwatch
expect_said "" "erase"
expect_calls "systemctl --no-reload disable --now agentwatch.service
systemctl daemon-reload" "erase"
[ ! -e "$r/etc/agentwatch" ] || fail "erase left /etc/agentwatch: $(ls -A "$r/etc/agentwatch")"
[ ! -e "$r/var/lib/agentwatch" ] || fail "erase left an empty /var/lib/agentwatch"
left=$(cd "$r" && find . -name '*agentwatch*')
[ -z "$left" ] || fail "erase left $left"
echo "package-rpm test passed"
