#!/bin/sh
# Install the Debian packages aie needs to build, test and demo.
# As root: installs what is missing with apt-get. Otherwise: prints the exact
# command to run and fails.
# Usage: scripts/deps.sh [--check] [--bench] [--browser]   (--bench adds what
# make bench races against or uses: GNU parallel, jq, npm, gmic; --browser adds
# chromium, which the preview page test opens headless)
set -eu
# The Debian packages, in one place (the Makefile's PKGS names the pkg-config
# modules the -dev packages provide: add a new library in both). Each -dev
# package brings its runtime library (libswresample-dev: libswresample4, which
# the re-encoding of audio needs); the .deb's Depends come from dpkg-shlibdeps.
PKGS="gcc make pkg-config libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
libpng-dev libjson-c-dev libcunit1-dev ffmpeg mandoc bc dpkg-dev"
check=0
for a in "$@"; do
    case $a in
    --check) check=1 ;;
    --bench) PKGS="$PKGS parallel jq gmic"
             # npm may come from elsewhere than Debian (a newer Node.js)
             command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm" ;;
    --browser) PKGS="$PKGS chromium" ;;
    *) echo "usage: scripts/deps.sh [--check] [--bench] [--browser]" >&2; exit 2 ;;
    esac
done
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ $check -eq 1 ]; then
    echo "missing packages:$missing" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || apt-get update
    apt-get install -y -q --no-install-recommends $missing >/dev/null || \
        apt-get install -y --no-install-recommends $missing
else
    echo "deps: missing Debian packages; as root run: apt-get install -y$missing" >&2
    exit 1
fi
