#!/bin/bash
# make check-fresh: the README's commands on new Debian 12 machines, each in a
# chroot of its own made from a debootstrap base (minbase with only gcc, make,
# git, pkg-config, ca-certificates and xz-utils, like a new machine):
#   1. make demo && make check && make deb   (first try, in this order)
#   2. make check && make demo               (the other order)
#   3. apt-get install ./aie_*.deb (the package built in 1): runtime
#      dependencies come from the archive, /usr/bin/aie-upscale --version
#      and a small upscale work, then dpkg -r aie leaves none of its files.
# The chroots get a clone of the committed HEAD (uncommitted changes are not
# tested). The base is made once (a few minutes) and cached as a tarball in
# $AIE_FRESH_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/aie/fresh); the mirror
# is the first one in this machine's apt sources.
# Not root, or no debootstrap and no way to install it: one SKIP line, exit 0.
# Logs: $AIE_FRESH_CACHE/logs/.
set -uo pipefail
P=$(git rev-parse --show-toplevel 2>/dev/null) || { echo "check-fresh: not in a git tree" >&2; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
    echo "check-fresh: SKIP: needs root (debootstrap, chroot, mount)"
    exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null 2>&1 ||
        { echo "check-fresh: SKIP: debootstrap is missing and apt-get could not install it"; exit 0; }
fi
C=${AIE_FRESH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aie/fresh}
L=$C/logs
mkdir -p "$C" "$L"
BASE=$C/bookworm-base.tar
t0=$(date +%s)
if [ ! -f "$BASE" ]; then
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
    [ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    B=$(mktemp -d "$C/base.XXXXXX")
    echo "check-fresh: making the Debian 12 base with debootstrap from $mirror (once)"
    if ! debootstrap --variant=minbase --include=gcc,make,git,pkg-config,ca-certificates,xz-utils \
        bookworm "$B" "$mirror" >"$L/debootstrap.log" 2>&1; then
        rm -rf --one-file-system "$B"
        echo "check-fresh: debootstrap failed, see $L/debootstrap.log" >&2
        exit 1
    fi
    tar -C "$B" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE"
    rm -rf --one-file-system "$B"
    echo "check-fresh: base ready in $(( $(date +%s) - t0 ))s: $BASE"
fi

R=""
cleanup() {
    [ -n "$R" ] || return 0
    umount "$R/proc" 2>/dev/null; umount "$R/dev" 2>/dev/null
    # never remove through a mount that is still there (/dev is the host's)
    if mountpoint -q "$R/dev" || mountpoint -q "$R/proc"; then
        echo "check-fresh: $R still has mounts, left in place" >&2
    else
        rm -rf --one-file-system "$R"
    fi
    R=""
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# fresh NAME: a new chroot from the base with the project cloned in /root/aie
fresh() {
    R=$(mktemp -d "$C/root-$1.XXXXXX")
    tar -C "$R" -xf "$BASE"
    cp /etc/resolv.conf "$R/etc/" 2>/dev/null
    mount -t proc proc "$R/proc"
    mount --bind /dev "$R/dev"
    git clone -q "$P" "$R/root/aie" || { echo "check-fresh: git clone failed" >&2; exit 1; }
}

# step NAME CMD: run CMD in the chroot as a login shell; stop on failure
step() {
    local name=$1 cmd=$2 s rc
    s=$(date +%s)
    chroot "$R" /bin/bash -lc "cd /root/aie && $cmd" >"$L/$name.log" 2>&1
    rc=$?
    echo "check-fresh: $name: '$cmd' rc=$rc in $(( $(date +%s) - s ))s"
    if [ $rc -ne 0 ]; then
        tail -n 20 "$L/$name.log"
        echo "check-fresh: FAILED on a fresh machine: $cmd (log: $L/$name.log)"
        exit 1
    fi
}

fresh demo-first
step 1-demo "make demo"
step 1-check "make check"
step 1-deb "make deb"
deb=$(cd "$R/root/aie/build" && ls aie_*.deb)
cp "$R/root/aie/build/$deb" "$C/"
cleanup

fresh check-first
step 2-check "make check"
step 2-demo "make demo"
cleanup

fresh deb
rm -rf --one-file-system "$R/root/aie"
cp "$C/$deb" "$R/root/"
mkdir -p "$R/root/aie"
step 3-install "export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null && apt-get install -y -q /root/$deb >/dev/null && dpkg -s aie | grep -E '^(Status|Version|Depends):'"
step 3-run "cd /tmp && /usr/bin/aie-upscale --version && { printf 'YUV4MPEG2 W16 H16 F25:1 Ip A1:1 C420jpeg\\nFRAME\\n'; head -c 384 /dev/zero; } | /usr/bin/aie-upscale -q -s 2 -i - -o /tmp/out.y4m && head -n 1 /tmp/out.y4m && test -f /usr/lib/pkgconfig/aie.pc && test -f /usr/share/aie/raisr-x2.bank"
step 3-remove "dpkg -L aie >/root/files && dpkg -r aie >/dev/null && left=\$(while read -r f; do [ -d \"\$f\" ] && continue; [ -e \"\$f\" ] && echo \"\$f\"; done </root/files; for d in /usr/share/aie /usr/include/aie /usr/share/doc/aie; do [ -e \$d ] && echo \$d; done); [ -z \"\$left\" ] || { echo \"left after dpkg -r: \$left\"; exit 1; }; echo \"dpkg -r aie: none of its \$(wc -l </root/files) paths left\""
cleanup
echo "check-fresh: all passed on fresh Debian 12 chroots in $(( $(date +%s) - t0 ))s"
