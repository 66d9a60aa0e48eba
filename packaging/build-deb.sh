#!/usr/bin/env bash
# Build the Debian package from the meson install (see packaging/README.md):
#
#     packaging/build-deb.sh [OUTDIR] [BUILDDIR]
#
# Writes OUTDIR/agentwatch_VERSION-REVISION_ARCH.deb (OUTDIR: BUILDDIR/dist) and
# prints its path.  Needs only dpkg-deb; uses dpkg-shlibdeps for the
# library dependencies when dpkg-dev is installed, else dpkg -S.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${2:-$src/build-package}
out=${1:-$build/dist}
revision=${AW_DEB_REVISION:-1}

command -v dpkg-deb >/dev/null || { echo "build-deb.sh: dpkg-deb is missing" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
"$here/stage.sh" "$root" "$build"

version=$(meson introspect "$build" --projectinfo | sed -n 's/.*"version": *"\([^"]*\)".*/\1/p')
arch=$(dpkg --print-architecture)
[ -n "$version" ] || { echo "build-deb.sh: no version from meson" >&2; exit 1; }

# Library dependencies of the binary.
depends=
if command -v dpkg-shlibdeps >/dev/null; then
    mkdir -p "$work/src/debian"
    printf 'Source: agentwatch\n\nPackage: agentwatch\nArchitecture: any\n' >"$work/src/debian/control"
    depends=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/bin/agentwatch" 2>/dev/null |
              sed -n 's/^shlibs:Depends=//p')
fi
if [ -z "$depends" ]; then
    for lib in $(objdump -p "$root/usr/bin/agentwatch" | awk '$1 == "NEEDED" { print $2 }'); do
        path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
        pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n1 | cut -d: -f1) || true
        [ -n "$pkg" ] && depends="${depends:+$depends, }$pkg"
    done
fi

mkdir -p "$root/DEBIAN"
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: agentwatch
Version: $version-$revision
Architecture: $arch
Maintainer: agentwatch maintainers <agentwatch@localhost>
Installed-Size: $installed_size
Depends: $depends
Section: admin
Priority: optional
Description: tells why endpoints stopped talking to their management server
 agentwatch reads an endpoint's management-agent logs (Symantec/Altiris
 agent.log and its rollovers, ConfigMgr CMTrace logs, plain logs),
 classifies every record with YAML rules (TLS trust, connection and name
 resolution failures, success markers), keeps the findings in SQLite and
 reports since when, how often and why the endpoint failed.
 .
 The agentwatch service follows the logs named in
 /etc/agentwatch/agentwatch.yaml.
CONTROL
echo /etc/agentwatch/agentwatch.yaml >"$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$here/deb/$script" "$root/DEBIAN/$script"
done
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles"
# Conffiles are not listed: dpkg keeps their hashes itself.
(cd "$root" && find . \( -path ./DEBIAN -o -path ./etc \) -prune -o -type f -printf '%P\0' |
    sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/agentwatch_${version}-${revision}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
