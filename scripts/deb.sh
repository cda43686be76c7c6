#!/bin/sh
# Build the Debian package $O/aie_VERSION_ARCH.deb from
# `make install DESTDIR=... PREFIX=/usr`: one package `aie` holding the tools,
# man pages, the default RAISR banks, libaie.a, its headers and aie.pc. One
# package rather than aie + aie-dev: the library is static only, so a -dev
# package would hold everything but six small binaries and split nothing a
# render farm would want to leave out.
# Binaries stripped, Depends from dpkg-shlibdeps, copyright and changelog.gz (a
# native package: the version is the Makefile's, no Debian revision) in
# /usr/share/doc/aie, files owned by root (dpkg-deb --root-owner-group).
# usage: scripts/deb.sh [--lintian]      (run from the top of the tree; O=build)
# --lintian also runs lintian on the package (installed first when missing and
# root) and fails on any error.
set -eu
O=${O:-build}
case $O in /*) ;; *) O=$(pwd)/$O ;; esac
run_lintian=0
for a in "$@"; do
    case $a in
    --lintian) run_lintian=1 ;;
    *) echo "usage: scripts/deb.sh [--lintian]" >&2; exit 2 ;;
    esac
done
for t in dpkg-deb dpkg-shlibdeps; do
    command -v $t >/dev/null 2>&1 || { echo "deb: $t missing (Debian's dpkg-dev): run 'make deps'" >&2; exit 1; }
done
VERSION=$(sed -n 's/^VERSION *:= *//p' Makefile)
ARCH=$(dpkg --print-architecture)
COMMIT=$(git describe --always --dirty --abbrev=12 --match 'v[0-9]*' 2>/dev/null || echo unknown)
DEB=$O/aie_${VERSION}_${ARCH}.deb
W=$O/deb
R=$W/root
rm -rf "$W"
mkdir -p "$W"
make --no-print-directory -s O="$O" install DESTDIR="$R" PREFIX=/usr >"$W/install.log" 2>&1 ||
    { cat "$W/install.log" >&2; echo "deb: make install failed" >&2; exit 1; }

# strip: the tools of everything not needed to run, the archive of debug info
for f in "$R"/usr/bin/*; do
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
done
strip --strip-debug --enable-deterministic-archives "$R/usr/lib/libaie.a"
# Debian wants compressed man pages
find "$R/usr/share/man" -type f -name '*.[1-8]' -exec gzip -9n {} +

D=$R/usr/share/doc/aie
install -d "$D"
date=$(git log -1 --format=%aD 2>/dev/null || date -R)
{
    echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    echo "Upstream-Name: aie"
    echo
    echo "Files: *"
    echo "Copyright: 2026 The aie authors"
    echo "License: MIT"
    echo "Comment: The package ships only aie's own code and data: the tools, libaie.a"
    echo " and its headers, and the default RAISR filter banks (usr/share/aie), which are"
    echo " coefficients computed by aie-train and distributed under the same licence."
    echo " FFmpeg, libpng and json-c are linked dynamically from their own packages."
    echo
    echo "License: MIT"
    sed -n '3,$p' LICENSE | sed -e 's/^$/./' -e 's/^/ /'
} >"$D/copyright"
{
    echo "aie ($VERSION) unstable; urgency=medium"
    echo
    echo "  * Release $VERSION, built from commit $COMMIT."
    echo
    echo " -- The aie authors <aie@example.org>  $date"
} | gzip -9n >"$D/changelog.gz"
chmod 644 "$D/copyright" "$D/changelog.gz"

# Depends from the binaries: dpkg-shlibdeps needs a debian/control to read
mkdir -p "$W/src/debian"
printf 'Source: aie\n\nPackage: aie\nArchitecture: any\n' >"$W/src/debian/control"
bins=$(cd "$W/src" && for f in ../root/usr/bin/*; do printf '%s ' "$f"; done)
# shellcheck disable=SC2086
depends=$(cd "$W/src" && dpkg-shlibdeps -O $bins 2>"$W/shlibdeps.log" | sed -n 's/^shlibs:Depends=//p') ||
    { cat "$W/shlibdeps.log" >&2; exit 1; }
[ -n "$depends" ] || { cat "$W/shlibdeps.log" >&2; echo "deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

size=$(du -sk "$R" | cut -f1)
install -d "$R/DEBIAN"
cat >"$R/DEBIAN/control" <<EOF
Package: aie
Version: $VERSION
Architecture: $ARCH
Maintainer: The aie authors <aie@example.org>
Installed-Size: $size
Depends: $depends
Section: video
Priority: optional
Description: batch video enhancement toolchain
 Command-line tools for enhancing video in batch: upscaling (classical
 resampling, learned RAISR filters, CPU inference of pretrained networks),
 motion-compensated frame-rate conversion, looks and colour transfer, a batch
 runner with resume and a content-addressed cache, and reports over the JSON
 metrics log every tool writes. Also ships the static library libaie.a, its
 headers and aie.pc for programs built on it.
EOF
chmod 644 "$R/DEBIAN/control"
find "$R" -type d -exec chmod 755 {} +
dpkg-deb --root-owner-group -Zxz --build "$R" "$DEB" >/dev/null
echo "deb: $DEB ($(du -k "$DEB" | cut -f1) KiB), Depends: $depends"

if [ $run_lintian -eq 1 ]; then
    if ! command -v lintian >/dev/null 2>&1; then
        if [ "$(id -u)" -eq 0 ]; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends lintian >/dev/null
        else
            echo "deb: SKIP lintian: not installed (sudo apt-get install -y lintian)"
            exit 0
        fi
    fi
    # root builds are normal here (make check-long as root in a chroot)
    lintian --allow-root --tag-display-limit 0 "$DEB" >"$W/lintian.log" 2>&1 || true
    cat "$W/lintian.log"
    if grep -q '^E:' "$W/lintian.log"; then
        echo "deb: lintian reports errors on $DEB" >&2
        exit 1
    fi
    echo "deb: lintian: no errors ($(grep -c '^W:' "$W/lintian.log" || true) warnings)"
fi
