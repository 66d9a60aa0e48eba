#!/usr/bin/env bash
# The Debian package end to end, without touching the real system:
#
#     tests/package.sh SRCDIR PACKAGE_BUILDDIR
#
# builds the .deb with packaging/build-deb.sh, checks its metadata,
# unpacks it into a scratch root and runs the *installed* binary from
# there (--version, rules check on the installed rules and configuration,
# a scan of samples/itms/agent.log into a scratch database).  As root it
# also installs, upgrades, removes and purges it with
# `dpkg --root SCRATCH --force-script-chrootless`, which runs the
# maintainer scripts with $DPKG_ROOT=SCRATCH: the state directory must be
# created 0700, an edited conffile must survive the upgrade, remove must
# keep the database and purge must delete it.  systemctl and
# deb-systemd-* are replaced by stubs that fail the test if called.
# Exit 77 (skipped) without dpkg-deb.
set -euo pipefail

src=$(cd "${1:?usage: package.sh SRCDIR PACKAGE_BUILDDIR}" && pwd)
pkgbuild=${2:?usage: package.sh SRCDIR PACKAGE_BUILDDIR}

command -v dpkg-deb >/dev/null || { echo "dpkg-deb not found: skipped"; exit 77; }
command -v meson >/dev/null || { echo "meson not found: skipped"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "package.sh: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

step "build the .deb"
deb=$("$src/packaging/build-deb.sh" "$tmp/dist" "$pkgbuild")
[ -f "$deb" ] || fail "no package built"
echo "$deb: $(stat -c %s "$deb") bytes"

step "metadata"
version=$(dpkg-deb -f "$deb" Version)
[ "$(dpkg-deb -f "$deb" Package)" = agentwatch ] || fail "package name"
# No `| grep -q` in this script: grep's early exit can kill the writer
# with SIGPIPE, which pipefail turns into a failure (seen in CI on the
# man page); the output is read into a variable or a file first.
depends=$(dpkg-deb -f "$deb" Depends)
grep -q libyaml <<<"$depends" || fail "Depends lacks libyaml: $depends"
dpkg-deb -e "$deb" "$tmp/control"
[ "$(cat "$tmp/control/conffiles")" = "$(printf '%s\n' /etc/agentwatch/agentwatch.yaml /etc/agentwatch/rules.d/README)" ] ||
    fail "conffiles"
for s in postinst prerm postrm; do
    [ -x "$tmp/control/$s" ] || fail "$s missing or not executable"
    sh -n "$tmp/control/$s" || fail "$s: syntax"
done
# The purge deletes folders: every rm in the scripts must be under $DPKG_ROOT,
# or running them below would touch the real system.
if grep -n 'rm ' "$tmp/control/postrm" "$tmp/control/postinst" "$tmp/control/prerm" |
   grep -v '"$root/' | grep -v '^[^:]*:[0-9]*: *#'; then
    fail "an rm in a maintainer script is not under \$DPKG_ROOT"
fi
listing=$(dpkg-deb -c "$deb")
for f in ./usr/bin/agentwatch ./usr/share/agentwatch/rules/90-health.yaml \
         ./usr/share/man/man1/agentwatch.1.gz ./usr/lib/systemd/system/agentwatch.service \
         ./etc/agentwatch/agentwatch.yaml ./etc/agentwatch/rules.d/README ./usr/share/doc/agentwatch/copyright \
         ./usr/share/doc/agentwatch/agentwatch.yaml.example \
         ./usr/share/bash-completion/completions/agentwatch ./usr/share/zsh/vendor-completions/_agentwatch; do
    grep -q " $f\$" <<<"$listing" || fail "$f not in the package"
done
if grep -q ' ./var/' <<<"$listing"; then fail "the package ships /var (the scripts create it)"; fi

for f in ./usr/share/doc/agentwatch/changelog.Debian.gz ./usr/share/doc/agentwatch/rules.md \
         ./usr/share/lintian/overrides/agentwatch; do
    grep -q " $f\$" <<<"$listing" || fail "$f not in the package"
done
[ "$(dpkg-deb -f "$deb" Maintainer)" = "$(sed -n 's/^Maintainer: //p' "$src/debian/control")" ] ||
    fail "Maintainer is not debian/control's: $(dpkg-deb -f "$deb" Maintainer)"

step "lintian -EvIL +pedantic: no tag but the overridden ones (debian/agentwatch.lintian-overrides)"
if ! command -v lintian >/dev/null && [ "$(id -u)" -eq 0 ]; then
    "$src/scripts/deps.sh" lintian
fi
if command -v lintian >/dev/null; then
    lintian -EvIL +pedantic "$deb" >"$tmp/lintian.out" 2>&1 || fail "lintian exited $?: $(cat "$tmp/lintian.out")"
    cat "$tmp/lintian.out"
    if grep -E '^[EWIPXO]: ' "$tmp/lintian.out"; then fail "lintian tags"; fi
else
    echo "lintian not installed (not root): skipped"
fi

step "unpack into a scratch root and run the installed binary"
root=$tmp/root
dpkg-deb -x "$deb" "$root"
bin=$root/usr/bin/agentwatch
"$src/tests/hardening.sh" "$bin" || fail "the packaged binary lacks hardening"
cfg=$root/etc/agentwatch/agentwatch.yaml
rules=$root/usr/share/agentwatch/rules
out=$("$bin" --version) || fail "--version exited $?"
[ "$out" = "agentwatch ${version%-*}" ] || fail "--version printed '$out'"
"$bin" --config "$cfg" rules check --rules "$rules" >"$tmp/check.out" || fail "rules check exited $?"
# The compiled-in defaults point into /usr: show them, from the package.
help=$("$bin" --help) || fail "--help exited $?"
grep -q "/etc/agentwatch/agentwatch.yaml" <<<"$help" || fail "--help lacks the config path"
help=$("$bin" rules check --help) || fail "rules check --help exited $?"
grep -q "/usr/share/agentwatch/rules" <<<"$help" || fail "rules dir is not /usr/share"
# The packaged, empty local layer: the shipped rules only, origin shipped;
# a rule dropped there is loaded after them.
origins=$("$bin" --config "$cfg" rules list --rules "$rules" --local-rules "$root/etc/agentwatch/rules.d" --format tsv |
          cut -f5 | sort -u)
[ "$origins" = shipped ] || fail "the empty rules.d changed the rule set: origins '$origins'"
printf 'disable: [connection.proxy]\n' >"$tmp/10-site.yaml"
"$bin" --config "$cfg" rules list --rules "$rules" --local-rules "$tmp/10-site.yaml" --format tsv |
    grep -q '^connection\.proxy\s' && fail "a local disable did not take the rule out"
db=$tmp/state/agentwatch.db
mkdir -m 0700 "$tmp/state"
"$bin" --config "$cfg" --db "$db" scan --rules "$rules" "$src/samples/itms/agent.log" >"$tmp/scan.out" ||
    fail "scan exited $?: $(cat "$tmp/scan.out")"
cat "$tmp/scan.out"
findings=$(sed -n 's/^scanned .*records, \([0-9]*\) new findings.*/\1/p' "$tmp/scan.out")
[ -n "$findings" ] && [ "$findings" -gt 0 ] || fail "scan stored no findings"
total=$("$bin" --db "$db" report --format json | sed -n 's/^{"since": [^,]*, "until": [^,]*, "total": \([0-9]*\),.*/\1/p')
[ "$total" = "$findings" ] || fail "report total '$total' != $findings findings scanned"
[ "$(stat -c %a "$db")" = 600 ] || fail "database mode $(stat -c %a "$db")"
man=$(zcat "$root/usr/share/man/man1/agentwatch.1.gz") || fail "zcat the man page"
grep -q '^\.TH AGENTWATCH 1' <<<"$man" || fail "man page header"

step "the unit on a fresh installation: its ExecStart with the shipped configuration (no source) waits"
unit=$root/usr/lib/systemd/system/agentwatch.service
grep -qx 'Type=notify' "$unit" || fail "the unit is not Type=notify"
grep -q '^WatchdogSec=' "$unit" || fail "the unit has no WatchdogSec="
exec_start=$(sed -n 's|^ExecStart=/usr/bin/agentwatch ||p' "$unit")
[ -n "$exec_start" ] || fail "no ExecStart=/usr/bin/agentwatch in the unit"
# shellcheck disable=SC2086 # the unit's arguments, split as systemd does
"$bin" --config "$cfg" --db "$tmp/state/unit.db" $exec_start >"$tmp/unit.out" 2>"$tmp/unit.err" &
unit_pid=$!
for _ in $(seq 200); do
    grep -q 'waiting for a source' "$tmp/unit.err" && break
    kill -0 "$unit_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$unit_pid" 2>/dev/null || { wait "$unit_pid" && rc=0 || rc=$?
    fail "ExecStart exited ($rc) with no source configured: $(cat "$tmp/unit.err")"; }
grep -q 'waiting for a source' "$tmp/unit.err" || fail "ExecStart does not say it waits: $(cat "$tmp/unit.err")"
kill -TERM "$unit_pid"
wait "$unit_pid" || fail "stopped while waiting, ExecStart exited $?"
if systemd-analyze security --offline=yes "$unit" >"$tmp/security.out" 2>&1; then
    exposure=$(sed -n 's/^→ Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$tmp/security.out")
    echo "systemd-analyze security: exposure $exposure"
    # 1.0 without network; the automatic probe (issue 12) needs IPv4/IPv6
    # sockets to any address, which systemd 252 rates 0.9 (PrivateNetwork=
    # 0.5, AF_INET/AF_INET6 0.3, IPAddressDeny= 0.2).  Everything else
    # must stay as hardened as before: exactly these items may be open,
    # each with its reason in the unit file.
    awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 1.9) }' ||
        fail "systemd-analyze security: exposure '$exposure' above 1.9: $(cat "$tmp/security.out")"
    open_items=$(sed -n 's/^✗ \([^ ]*\) .*/\1/p' "$tmp/security.out" | LC_ALL=C sort | tr '\n' ' ')
    want_open='CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER) DeviceAllow= IPAddressDeny= MemoryDenyWriteExecute= PrivateNetwork= PrivateUsers= ProtectHome= RestrictAddressFamilies=~AF_(INET|INET6) RestrictAddressFamilies=~AF_UNIX RootDirectory=/RootImage= User=/DynamicUser= '
    [ "$open_items" = "$want_open" ] ||
        fail "systemd-analyze security: open items '$open_items', want '$want_open'"
else
    echo "systemd-analyze has no --offline: exposure not checked"
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "not root: dpkg --root install/upgrade/remove/purge skipped"
    exit 0
fi

step "dpkg --root: install, upgrade, remove, purge"
mkdir -p "$tmp/stubs"
for s in systemctl deb-systemd-helper deb-systemd-invoke; do
    printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 1\n' "$s" "$tmp/stub-calls" >"$tmp/stubs/$s"
    chmod +x "$tmp/stubs/$s"
done
r=$tmp/dpkgroot
mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/var/lib/dpkg/triggers"
: >"$r/var/lib/dpkg/status"
pkg() {
    PATH="$tmp/stubs:$PATH" dpkg --root="$r" --force-script-chrootless --force-depends \
        --force-confold --log=/dev/null "$@" >>"$tmp/dpkg.log" 2>&1 ||
        fail "dpkg $*: $(cat "$tmp/dpkg.log")"
}
pkg -i "$deb"
# The group of monitoring users, made in the root's /etc/group, owns the
# state folder (2750).
gid=$(sed -n 's/^agentwatch:x:\([0-9]*\):.*/\1/p' "$r/etc/group" 2>/dev/null)
[ -n "$gid" ] || fail "postinst did not create the group agentwatch: $(cat "$r/etc/group" 2>&1)"
[ "$(stat -c %a "$r/var/lib/agentwatch")" = 2750 ] || fail "state dir mode after install"
[ "$(stat -c %g "$r/var/lib/agentwatch")" = "$gid" ] || fail "state dir group after install"
[ -x "$r/usr/bin/agentwatch" ] || fail "binary not installed"
echo "retention_days: 30  # edited" >>"$r/etc/agentwatch/agentwatch.yaml"
echo "not really a database" >"$r/var/lib/agentwatch/agentwatch.db"
pkg -i "$deb"           # the same version again: an upgrade for the scripts
grep -q "edited" "$r/etc/agentwatch/agentwatch.yaml" || fail "upgrade replaced the edited conffile"
# A database made before the group existed is given to it.
[ "$(stat -c %a:%g "$r/var/lib/agentwatch/agentwatch.db")" = "640:$gid" ] ||
    fail "upgrade left the database $(stat -c %a:%g "$r/var/lib/agentwatch/agentwatch.db")"
[ "$(grep -c '^agentwatch:' "$r/etc/group")" = 1 ] || fail "the group was made twice"
[ -f "$r/var/lib/agentwatch/agentwatch.db" ] || fail "upgrade lost the database"
pkg -r agentwatch
[ ! -e "$r/usr/bin/agentwatch" ] || fail "remove left the binary"
[ -f "$r/var/lib/agentwatch/agentwatch.db" ] || fail "remove deleted the database"
[ -f "$r/etc/agentwatch/agentwatch.yaml" ] || fail "remove deleted the configuration"
pkg -P agentwatch
[ ! -e "$r/var/lib/agentwatch" ] || fail "purge left /var/lib/agentwatch"
[ ! -e "$r/etc/agentwatch" ] || fail "purge left /etc/agentwatch"
[ ! -s "$tmp/stub-calls" ] || fail "systemd tools called under DPKG_ROOT: $(cat "$tmp/stub-calls")"
echo "package test passed"
