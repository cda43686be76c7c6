#!/bin/sh
# Fetch the development photos (Debian wallpaper packages, pinned by version
# and sha256) into the ignored cache and extract them.
# usage: scripts/fetch-devdata.sh            -> prints the data directory
#        scripts/fetch-devdata.sh --training -> prints the training pictures:
#          the largest picture of every plasma-workspace-wallpapers wallpaper,
#          sorted (make bank, make net; never the mate-backgrounds benchmark set)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${AIE_DEVDATA:-$top/.cache/devdata}
mkdir -p "$dir"
cd "$dir"
fetch() { # package version sha256
    deb=$(ls "$1"_*.deb 2>/dev/null | head -1 || true)
    if [ -z "$deb" ]; then
        apt-get download "$1=$2" >/dev/null 2>&1 || {
            apt-get update -q >/dev/null 2>&1 || true
            apt-get download "$1=$2" >/dev/null
        }
        deb=$(ls "$1"_*.deb | head -1)
    fi
    echo "$3  $deb" | sha256sum -c --quiet - >&2 || { echo "fetch-devdata: $deb: checksum mismatch" >&2; rm -f "$deb"; exit 1; }
    [ -e "x/.$1" ] || { dpkg-deb -x "$deb" x && touch "x/.$1"; }
}
fetch mate-backgrounds 1.26.0-1 7bf4c2209f34b4f61ba6d24c8b58c28b361e82e4b943aae6d42c030169af9e04
fetch plasma-workspace-wallpapers 4:5.27.5-2 32cd18b71c8c938a18b3b351f217c02ac590e323caa3cf322fbb875ce8892f8b
if [ "${1:-}" = --training ]; then
    for d in "$dir"/x/usr/share/wallpapers/*/; do
        f=$(ls -S "$d"contents/images/* 2>/dev/null | head -1 || true)
        [ -n "$f" ] && echo "$f"
    done | LC_ALL=C sort
    exit 0
fi
echo "$dir/x"
