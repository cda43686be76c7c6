#!/bin/sh
# make net: train aie's default CNN upscalers (aie-train --net, aie-upscale
# --model aie-ARCH-x2) on the development photos, the largest picture of
# every wallpaper in plasma-workspace-wallpapers (scripts/fetch-devdata.sh,
# pinned by sha256; every 10th is held out for validation). The benchmark
# photos (mate-backgrounds) are never used here.
#
# Deterministic: a fixed seed and a fixed number of steps per network, so
# the same inputs give the same bytes on any thread count; --time-budget is
# only a safety stop (the script says when it cut a run short, which makes
# that run depend on the machine's speed). Checkpoints every 5 minutes; a
# run that finds its checkpoint resumes from it, bit for bit.
#
# usage: scripts/train-net.sh [ARCH:STEPS:MINUTES...]
#   default: c32x8:14000:55 c16x4:24000:20
#   AIE_BIN: the built tools; AIE_NET_OUT: output directory (.cache/net)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${AIE_BIN:-$top/build}
out=${AIE_NET_OUT:-$top/.cache/net}
list=$(mktemp)
trap 'rm -f "$list"' EXIT
"$top/scripts/fetch-devdata.sh" --training > "$list"
echo "train-net: $(wc -l < "$list") wallpapers from plasma-workspace-wallpapers"
mkdir -p "$out"
for spec in ${*:-c32x8:14000:55 c16x4:24000:20}; do
    arch=${spec%%:*}
    rest=${spec#*:}
    steps=${rest%%:*}
    min=${rest#*:}
    case $arch in # the catalogue's names (aie-upscale --model aie-net-x2, aie-net-small-x2)
    c32x8) name=net-x2 ;;
    c16x4) name=net-small-x2 ;;
    *) name=$arch-x2 ;;
    esac
    ck="$out/$name.ckpt"
    set --
    [ -f "$ck" ] && set -- --resume "$ck"
    t0=$(date +%s)
    nice "$bin/aie-train" --net "$arch" -s 2 --seed 1 --cpu avx2 --iters "$steps" --time-budget "$min" \
        --checkpoint "$ck" --checkpoint-every 5 --val-patches 256 -v "$@" \
        --desc "aie default 2x $arch: plasma-workspace-wallpapers 5.27.5 (largest picture of each), bicubic degradation, $steps steps" \
        -o "$out/$name.aienn" --list "$list" 2>&1 | tee "$out/$name.log"
    t1=$(date +%s)
    grep -q " $steps steps," "$out/$name.log" ||
        echo "train-net: $arch stopped by the time budget before step $steps: not reproducible"
    echo "train-net: $arch trained in $((t1 - t0)) s -> $out/$name.aienn"
done
