#!/usr/bin/env bash
# Build agentwatch for a package and install it into a staging tree:
#
#     packaging/stage.sh STAGEDIR [BUILDDIR]
#
# The tree is what both packages contain: `meson install --destdir` with
# prefix /usr and sysconfdir /etc (binary, rules, man page, example
# configuration, rule schema), plus what only a package installs: the
# configuration as /etc/agentwatch/agentwatch.yaml (a conffile), the
# local rules folder /etc/agentwatch/rules.d with its README (a conffile),
# the systemd unit and the copyright.  /var/lib/agentwatch is not in the tree:
# the maintainer scripts and systemd's StateDirectory= create it (2750,
# group agentwatch)
# and only a purge removes it.
#
# Compiler flags: CFLAGS, CPPFLAGS and LDFLAGS from the environment when
# CFLAGS is set (rpmbuild's %set_build_flags, debian/rules), else Debian's
# `dpkg-buildflags` with hardening=+all, else the same hardening spelt
# out.  PIE is asked of meson (b_pie) whatever the compiler's default.
# The build folder is set up anew when the flags change.
#
# The zsh completion goes where the distribution's zsh looks:
# $AW_ZSH_COMPLETIONS_DIR (the rpm spec: /usr/share/zsh/site-functions),
# else Debian's /usr/share/zsh/vendor-completions.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
stage=${1:?usage: stage.sh STAGEDIR [BUILDDIR]}
build=${2:-$aw_src/build-package}

if [ -n "${CFLAGS:-}" ]; then
    cflags=$CFLAGS cppflags=${CPPFLAGS:-} ldflags=${LDFLAGS:-}
elif command -v dpkg-buildflags >/dev/null; then
    # -ffile-prefix-map maps the current folder: the source tree.
    cd "$aw_src"
    export DEB_BUILD_MAINT_OPTIONS=hardening=+all
    cflags=$(dpkg-buildflags --get CFLAGS)
    cppflags=$(dpkg-buildflags --get CPPFLAGS)
    ldflags=$(dpkg-buildflags --get LDFLAGS)
    cd - >/dev/null
else
    cflags="-g -O2 -ffile-prefix-map=$aw_src=. -fstack-protector-strong -fstack-clash-protection -Wformat -Werror=format-security"
    cppflags="-D_FORTIFY_SOURCE=2"
    ldflags="-Wl,-z,relro -Wl,-z,now"
fi
flags="CFLAGS=$cflags CPPFLAGS=$cppflags LDFLAGS=$ldflags ZSH=${AW_ZSH_COMPLETIONS_DIR:-}"
if [ -f "$build/build.ninja" ] && [ "$(cat "$build/aw-stage-flags" 2>/dev/null)" != "$flags" ] &&
   [ -d "$build/meson-private" ]; then
    rm -rf "$build"
fi
if [ ! -f "$build/build.ninja" ]; then
    CFLAGS=$cflags CPPFLAGS=$cppflags LDFLAGS=$ldflags \
        meson setup "$build" "$aw_src" --prefix=/usr --sysconfdir=/etc --buildtype=plain \
        -Db_ndebug=true -Db_pie=true -Dtests=false -Dconfig_file=/etc/agentwatch/agentwatch.yaml \
        -Dzsh_completions_dir="${AW_ZSH_COMPLETIONS_DIR:-/usr/share/zsh/vendor-completions}" \
        --wrap-mode=nodownload >/dev/null
    printf '%s\n' "$flags" >"$build/aw-stage-flags"
fi
ninja -C "$build" >/dev/null
rm -rf "$stage"
meson install -C "$build" --destdir "$stage" --no-rebuild --strip --quiet >/dev/null
# What `strip` keeps and a package does not need: the compilers' version
# strings (.comment); dh_strip removes the same.
objcopy --remove-section=.comment --remove-section=.note "$stage/usr/bin/agentwatch"

install -d -m 0755 "$stage/etc/agentwatch" "$stage/usr/lib/systemd/system" \
    "$stage/usr/share/doc/agentwatch"
install -m 0644 "$here/agentwatch.yaml" "$stage/etc/agentwatch/agentwatch.yaml"
# The local rules folder, empty but for its README (a conffile): what an
# administrator puts there survives upgrades.
install -d -m 0755 "$stage/etc/agentwatch/rules.d"
install -m 0644 "$here/rules.d-README" "$stage/etc/agentwatch/rules.d/README"
install -m 0644 "$here/agentwatch.service" "$stage/usr/lib/systemd/system/agentwatch.service"
install -m 0644 "$aw_src/debian/copyright" "$stage/usr/share/doc/agentwatch/copyright"
# Debian policy and rpm's brp-compress both want compressed man pages;
# -n and a fixed mtime: the same bytes every build.
gzip -9nf "$stage/usr/share/man/man1/agentwatch.1"
# Modes do not depend on the builder's umask, times on the build's time.
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f ! -path '*/bin/*' -exec chmod 0644 {} +
chmod 0755 "$stage/usr/bin/agentwatch"
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
