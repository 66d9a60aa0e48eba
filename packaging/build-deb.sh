#!/usr/bin/env bash
# Build the Debian package from the meson install (see packaging/README.md):
#
#     packaging/build-deb.sh [OUTDIR] [BUILDDIR]
#
# Writes OUTDIR/agentwatch_VERSION-REVISION_ARCH.deb (OUTDIR: BUILDDIR/dist) and
# prints its path.  Needs only dpkg-deb; uses dpkg-shlibdeps for the
# library dependencies when dpkg-dev is installed, else dpkg -S.  The
# package's name, maintainer, description, version and changelog come
# from debian/ (the source package that dpkg-buildpackage builds).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
src=$aw_src
build=${2:-$src/build-package}
out=${1:-$build/dist}
revision=${AW_DEB_REVISION:-${aw_deb_version##*-}}

command -v dpkg-deb >/dev/null || { echo "build-deb.sh: dpkg-deb is missing" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
"$here/stage.sh" "$root" "$build"

version=$(aw_meson_version "$build")
arch=$(dpkg --print-architecture)
[ -n "$version" ] || { echo "build-deb.sh: no version from meson" >&2; exit 1; }
if [ "$version" != "${aw_deb_version%-*}" ]; then
    echo "build-deb.sh: meson says version $version, debian/changelog $aw_deb_version:" \
         "add a changelog entry (dch -v $version-1)" >&2
    exit 1
fi

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

# Debian's own files: the changelog (compressed, a fixed mtime as the
# rest) and the lintian overrides, each with its reason.
gzip -9nc "$src/debian/changelog" >"$root/usr/share/doc/agentwatch/changelog.Debian.gz"
install -D -m 0644 "$src/debian/agentwatch.lintian-overrides" "$root/usr/share/lintian/overrides/agentwatch"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$root/DEBIAN"
# dpkg-gencontrol's measure: KiB per file, rounded up, 1 per folder.
installed_size=$(find "$root" -path "$root/DEBIAN" -prune -o -mindepth 1 -printf '%y %s\n' |
                 awk '{ n += ($1 == "f") ? int(($2 + 1023) / 1024) : 1 } END { print n }')
description=$(awk '/^Package: agentwatch$/ { p = 1 } p && /^Description:/ { d = 1 } d && /^$/ { exit } d' \
              "$src/debian/control")
cat >"$root/DEBIAN/control" <<CONTROL
Package: agentwatch
Version: $version-$revision
Architecture: $arch
Maintainer: $aw_maintainer
Installed-Size: $installed_size
Depends: passwd${depends:+, $depends}
Section: admin
Priority: optional
$description
CONTROL
printf '%s\n' /etc/agentwatch/agentwatch.yaml /etc/agentwatch/rules.d/README >"$root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$src/debian/agentwatch.$script" "$root/DEBIAN/$script"
done
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles"
# Conffiles are not listed: dpkg keeps their hashes itself.
(cd "$root" && find . \( -path ./DEBIAN -o -path ./etc \) -prune -o -type f -printf '%P\0' |
    LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums"
find "$root/DEBIAN" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$out"
deb="$out/agentwatch_${version}-${revision}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
