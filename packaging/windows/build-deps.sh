#!/usr/bin/env bash
# Build PCRE2, SQLite and libyaml for Windows x86-64 (mingw-w64) from
# Debian's own source packages, into a static prefix with .pc files that
# meson finds through PKG_CONFIG_LIBDIR.
#
#   packaging/windows/build-deps.sh [BUILD_DIR]     (default: build-windows)
#
# Result: BUILD_DIR/deps/prefix/{include,lib,lib/pkgconfig}.  Sources come
# only from `apt-get source` against the Debian archive this machine already
# uses (a deb-src entry is derived from its deb entries when missing);
# nothing is downloaded from anywhere else, and nothing lands in git (the
# build directories are ignored).  Idempotent: a library whose stamp file
# exists is not rebuilt.
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${1:-build-windows}
mkdir -p "$build"
build=$(cd "$build" && pwd)
deps=$build/deps
src=$deps/src
prefix=$deps/prefix
host=x86_64-w64-mingw32
jobs=$(nproc 2>/dev/null || echo 2)

# dpkg-dev unpacks source packages; tcl generates SQLite's amalgamation.
scripts/deps.sh gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 dpkg-dev tcl make

if [ "$(id -u)" -eq 0 ]; then as_root=(); else as_root=(sudo); fi

# A deb-src twin of every enabled deb entry, so that `apt-get source` uses
# the same archive (and snapshot) as the installed packages.
ensure_deb_src() {
    local list=/etc/apt/sources.list.d/agentwatch-deb-src.sources
    local f have=no
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        if grep -Eq '^[[:space:]]*deb-src[[:space:]]' "$f" 2>/dev/null ||
           grep -Eqi '^Types:.*deb-src' "$f" 2>/dev/null; then
            have=yes
        fi
    done
    [ "$have" = yes ] && return 0
    echo "build-deps: adding deb-src entries to $list" >&2
    {
        # deb822 stanzas: copy each "Types: deb" stanza as deb-src.
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] || continue
            awk 'BEGIN { RS = ""; ORS = "\n\n" }
                 /(^|\n)Types:[ \t]*deb([ \t]|\n|$)/ && !/(^|\n)Enabled:[ \t]*no/ {
                     sub(/Types:[ \t]*deb/, "Types: deb-src"); print }' "$f"
        done
        # one-line entries: "deb [opts] URI suite comps" -> deb822 deb-src.
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -f "$f" ] || continue
            awk '$1 == "deb" {
                     opts = ""; i = 2
                     if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opts = opts " " $i; i++ }
                                       opts = opts " " $i; i++ }
                     if (opts ~ /signed-by=/) { match(opts, /signed-by=[^] ]+/)
                                                sb = substr(opts, RSTART + 10, RLENGTH - 10) }
                     else sb = ""
                     printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents:", $i, $(i + 1)
                     for (j = i + 2; j <= NF; j++) printf " %s", $j
                     printf "\n"
                     if (sb != "") printf "Signed-By: %s\n", sb
                     printf "\n" }' "$f"
        done
    } | "${as_root[@]}" tee "$list.tmp" >/dev/null
    if ! grep -q 'deb-src' "$list.tmp"; then
        "${as_root[@]}" rm -f "$list.tmp"
        echo "build-deps: no deb entries found in /etc/apt/sources.list*" >&2
        exit 1
    fi
    "${as_root[@]}" mv "$list.tmp" "$list"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
}

# Unpack Debian source package $1 under $src; prints its directory.
fetch() {
    local pkg=$1 dir
    dir=$(find "$src" -maxdepth 1 -mindepth 1 -type d -name "$pkg-*" 2>/dev/null | head -n1)
    if [ -z "$dir" ]; then
        # Newest version first; an older one of the same release when a
        # mirror lacks the newest (security updates are not on every mirror).
        local v
        for v in $(apt-cache showsrc "$pkg" | awk '/^Version:/ { print $2 }' | sort -Vr -u); do
            if (cd "$src" && apt-get source -qq "$pkg=$v" >&2); then
                echo "build-deps: $pkg source version $v" >&2
                break
            fi
            echo "build-deps: $pkg $v not available from the archive, trying an older one" >&2
            rm -f "$src/${pkg}_"*
        done
        dir=$(find "$src" -maxdepth 1 -mindepth 1 -type d -name "$pkg-*" | head -n1)
    fi
    [ -n "$dir" ] || { echo "build-deps: apt-get source $pkg gave no directory" >&2; exit 1; }
    echo "$dir"
}

mkdir -p "$src" "$prefix/lib/pkgconfig" "$prefix/include"
ensure_deb_src
export CC=$host-gcc AR=$host-ar RANLIB=$host-ranlib
common_cflags="-O2 -g0"

if [ ! -f "$deps/pcre2.stamp" ]; then
    dir=$(fetch pcre2)
    echo "build-deps: pcre2 from $(basename "$dir")" >&2
    rm -rf "$deps/b-pcre2" && mkdir -p "$deps/b-pcre2"
    (cd "$deps/b-pcre2" &&
        CFLAGS="$common_cflags" "$dir/configure" -q --host=$host --prefix="$prefix" \
            --enable-static --disable-shared --enable-jit --enable-pcre2-8 \
            --disable-pcre2-16 --disable-pcre2-32 --disable-pcre2grep-libz \
            --disable-pcre2grep-libbz2 --disable-pcre2test-libreadline >/dev/null &&
        make -s -j"$jobs" libpcre2-8.la >/dev/null &&
        make -s install-libLTLIBRARIES install-includeHEADERS install-nodist_includeHEADERS \
            install-pkgconfigDATA >/dev/null)
    # Only the 8-bit library was built; drop the .pc files of the others.
    rm -f "$prefix"/lib/pkgconfig/libpcre2-{16,32,posix}.pc
    touch "$deps/pcre2.stamp"
fi

if [ ! -f "$deps/yaml.stamp" ]; then
    dir=$(fetch libyaml)
    echo "build-deps: libyaml from $(basename "$dir")" >&2
    # Debian's libyaml source has no generated configure; its eight .c
    # files need only the version macros (what its CMakeLists passes), so
    # compile them directly rather than pull in autotools.
    major=$(sed -n 's/^m4_define(\[YAML_MAJOR\], *\([0-9]*\))/\1/p' "$dir/configure.ac")
    minor=$(sed -n 's/^m4_define(\[YAML_MINOR\], *\([0-9]*\))/\1/p' "$dir/configure.ac")
    patch=$(sed -n 's/^m4_define(\[YAML_PATCH\], *\([0-9]*\))/\1/p' "$dir/configure.ac")
    ver=$major.$minor.$patch
    rm -rf "$deps/b-yaml" && mkdir -p "$deps/b-yaml"
    for c in "$dir"/src/*.c; do
        $CC $common_cflags -DYAML_DECLARE_STATIC -DYAML_VERSION_MAJOR="$major" \
            -DYAML_VERSION_MINOR="$minor" -DYAML_VERSION_PATCH="$patch" \
            -DYAML_VERSION_STRING="\"$ver\"" -I"$dir/include" \
            -c "$c" -o "$deps/b-yaml/$(basename "$c" .c).o"
    done
    rm -f "$prefix/lib/libyaml.a"
    $AR rcs "$prefix/lib/libyaml.a" "$deps/b-yaml"/*.o
    cp "$dir/include/yaml.h" "$prefix/include/"
    # A static libyaml needs YAML_DECLARE_STATIC in its users too, or yaml.h
    # declares every function dllimport.
    cat >"$prefix/lib/pkgconfig/yaml-0.1.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: LibYAML
Description: Library to parse and emit YAML (Debian source, built for $host)
Version: $ver
Cflags: -I\${includedir} -DYAML_DECLARE_STATIC
Libs: -L\${libdir} -lyaml
EOF
    touch "$deps/yaml.stamp"
fi

if [ ! -f "$deps/sqlite.stamp" ]; then
    dir=$(fetch sqlite3)
    echo "build-deps: sqlite3 from $(basename "$dir")" >&2
    # The Debian source is SQLite's full tree: generate the amalgamation
    # with the host compiler (its generators run at build time), then
    # compile that one file for Windows.
    rm -rf "$deps/b-sqlite-gen" && mkdir -p "$deps/b-sqlite-gen"
    (cd "$deps/b-sqlite-gen" &&
        env -u CC -u AR -u RANLIB "$dir/configure" -q --disable-tcl >/dev/null &&
        env -u CC -u AR -u RANLIB make -s sqlite3.c >/dev/null)
    ver=$(sed -n 's/^#define SQLITE_VERSION *"\(.*\)"/\1/p' "$deps/b-sqlite-gen/sqlite3.h")
    # The same compile-time options Debian's libsqlite3 uses where they
    # matter to agentwatch (threadsafe, no extension loading needed).
    $CC $common_cflags -DSQLITE_THREADSAFE=1 -DSQLITE_OMIT_LOAD_EXTENSION=1 \
        -DSQLITE_ENABLE_COLUMN_METADATA=1 -DSQLITE_DEFAULT_FOREIGN_KEYS=0 \
        -DSQLITE_WIN64=1 -c "$deps/b-sqlite-gen/sqlite3.c" -o "$deps/b-sqlite-gen/sqlite3.o"
    rm -f "$prefix/lib/libsqlite3.a"
    $AR rcs "$prefix/lib/libsqlite3.a" "$deps/b-sqlite-gen/sqlite3.o"
    cp "$deps/b-sqlite-gen/sqlite3.h" "$deps/b-sqlite-gen/sqlite3ext.h" "$prefix/include/" 2>/dev/null ||
        cp "$deps/b-sqlite-gen/sqlite3.h" "$prefix/include/"
    cat >"$prefix/lib/pkgconfig/sqlite3.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: SQLite
Description: SQL database engine (Debian source, built for $host)
Version: $ver
Libs: -L\${libdir} -lsqlite3
Cflags: -I\${includedir}
EOF
    touch "$deps/sqlite.stamp"
fi

echo "build-deps: $prefix" >&2
ls "$prefix/lib"/*.a "$prefix/lib/pkgconfig"/*.pc >&2
