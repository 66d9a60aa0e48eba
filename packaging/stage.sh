#!/usr/bin/env bash
# Build agentwatch for a package and install it into a staging tree:
#
#     packaging/stage.sh STAGEDIR [BUILDDIR]
#
# The tree is what both packages contain: `meson install --destdir` with
# prefix /usr and sysconfdir /etc (binary, rules, man page, example
# configuration), plus what only a package installs: the configuration as
# /etc/agentwatch/agentwatch.yaml (a conffile) and the systemd unit.
# /var/lib/agentwatch is not in the tree: the maintainer scripts and
# systemd's StateDirectory= create it (0700) and only a purge removes it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
stage=${1:?usage: stage.sh STAGEDIR [BUILDDIR]}
build=${2:-$src/build-package}

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$src" --prefix=/usr --sysconfdir=/etc --buildtype=release \
        -Dtests=false -Dconfig_file=/etc/agentwatch/agentwatch.yaml --wrap-mode=nodownload >/dev/null
fi
ninja -C "$build" >/dev/null
rm -rf "$stage"
meson install -C "$build" --destdir "$stage" --no-rebuild --strip --quiet >/dev/null

install -d -m 0755 "$stage/etc/agentwatch" "$stage/usr/lib/systemd/system" \
    "$stage/usr/share/doc/agentwatch"
install -m 0644 "$here/agentwatch.yaml" "$stage/etc/agentwatch/agentwatch.yaml"
install -m 0644 "$here/agentwatch.service" "$stage/usr/lib/systemd/system/agentwatch.service"
install -m 0644 "$here/copyright" "$stage/usr/share/doc/agentwatch/copyright"
# Debian policy and rpm's brp-compress both want compressed man pages.
gzip -9nf "$stage/usr/share/man/man1/agentwatch.1"
# Modes do not depend on the builder's umask.
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f ! -path '*/bin/*' -exec chmod 0644 {} +
chmod 0755 "$stage/usr/bin/agentwatch"
