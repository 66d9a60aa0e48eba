# Sourced by the packaging scripts (stage.sh, build-deb.sh, build-rpm.sh):
# what every package of one commit shares, from one place each.
#   aw_src                the source tree
#   SOURCE_DATE_EPOCH     exported: the commit's time (git log -1 --format=%ct),
#                         else debian/changelog's date (a tarball without .git);
#                         a value already set wins.  Every timestamp a package
#                         holds comes from it, so two builds of a commit are
#                         byte-identical (tests/reproducible.sh).
#   aw_deb_version        debian/changelog's version (upstream-revision)
#   aw_maintainer         debian/control's Maintainer (see packaging/README.md)
aw_src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git -C "$aw_src" log -1 --format=%ct 2>/dev/null) || SOURCE_DATE_EPOCH=
    if [ -z "$SOURCE_DATE_EPOCH" ]; then
        SOURCE_DATE_EPOCH=$(date -d "$(sed -n 's/^ -- .*>  //p' "$aw_src/debian/changelog" | head -n1)" +%s)
    fi
fi
export SOURCE_DATE_EPOCH

aw_deb_version=$(sed -n '1s/^agentwatch (\([^)]*\)).*/\1/p' "$aw_src/debian/changelog")
aw_maintainer=$(sed -n 's/^Maintainer: //p' "$aw_src/debian/control")

# The meson project version of a configured build folder.
aw_meson_version() {
    meson introspect "$1" --projectinfo | sed -n 's/.*"version": *"\([^"]*\)".*/\1/p'
}

# The meson project version, read from meson.build (no build folder needed).
aw_project_version() {
    sed -n "s/^  version: '\(.*\)',/\1/p" "$aw_src/meson.build" | head -n1
}

# The files of the source tree, NUL-separated and sorted: git's view
# (tracked and new files, not ignored ones: no build folders) in a
# checkout, else every file outside build*/.
aw_source_files() {
    if git -C "$aw_src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$aw_src" ls-files -z --cached --others --exclude-standard |
            (cd "$aw_src" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done)
    else
        (cd "$aw_src" && find . \( -name 'build*' -o -name .git \) -prune -o -type f -printf '%P\0')
    fi | LC_ALL=C sort -uz
}

# A source tarball of the tree: DIR/agentwatch-VERSION.tar.gz, every entry
# under agentwatch-VERSION/, owned by root, dated SOURCE_DATE_EPOCH, in
# name order: the same bytes for the same files.
aw_source_tarball() {
    local dir=$1 version
    version=$(aw_project_version)
    mkdir -p "$dir"
    aw_source_files | tar -C "$aw_src" --null -T - --sort=name --mtime="@$SOURCE_DATE_EPOCH" \
        --owner=0 --group=0 --numeric-owner --format=gnu \
        --transform "s,^,agentwatch-$version/," -cf - | gzip -9n >"$dir/agentwatch-$version.tar.gz"
    echo "$dir/agentwatch-$version.tar.gz"
}
