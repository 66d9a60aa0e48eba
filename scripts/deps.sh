#!/usr/bin/env bash
# Install what building and testing agentwatch needs, from Debian's
# packages, and only what is missing.  Runs apt-get as root, through sudo
# when not root.  Extra package names may be given as arguments.
set -euo pipefail

packages=(gcc libc6-dev pkg-config meson ninja-build
          libpcre2-dev libsqlite3-dev libyaml-dev libcunit1-dev libssl-dev
          openssl python3 python3-cryptography
          bash zsh "$@")     # the completions test runs the bash one, zsh -n's the zsh one

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "deps.sh: missing packages: ${missing[*]}; run this script as root" >&2
    exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
