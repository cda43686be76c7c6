#!/bin/bash
# Check aie's waifu2x port against an independent reference: the same vgg_7
# scale2.0x weights run by @tensorflow/tfjs (pure JavaScript CPU backend,
# scripts/verify-waifu2x.js). For each photo: HR (a centre crop), LR by
# swscale bicubic /2 on RGB24 (as ../shared/eval/sr_eval.sh makes it), both
# upscalers on LR, then Y-PSNR (BT.601) against HR with a 4 px border left
# out, and the difference. Bar: within 0.05 dB on every photo.
#   usage: scripts/verify-waifu2x.sh [MODEL.json]
#   VERIFY_PHOTOS=N (default 3) photos from the development set; VERIFY_CROP=WxH
#   (default 320x240) HR centre crop: tfjs's JavaScript convolutions run at
#   about 1 GFLOP/s, and waifu2x costs 2.3 TFLOP per LR megapixel.
# Installs @tensorflow/tfjs with npm into .cache/tfjs the first time (not part
# of make check).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
AIE_BIN=${AIE_BIN:-$top/build}
TFJS_VERSION=4.22.0
tfdir=$top/.cache/tfjs
n=${VERIFY_PHOTOS:-3}
crop=${VERIFY_CROP:-320x240}
cw=${crop%x*}; ch=${crop#*x}

model=${1:-}
if [ -z "$model" ]; then
    for d in "${AIE_MODEL_DIR:-}" "${XDG_CACHE_HOME:+$XDG_CACHE_HOME/aie/models}" "$HOME/.cache/aie/models"; do
        if [ -n "$d" ] && [ -f "$d/waifu2x/scale2.0x_model.json" ]; then
            model=$d/waifu2x/scale2.0x_model.json
            break
        fi
    done
fi
[ -n "$model" ] && [ -f "$model" ] || { echo "verify-waifu2x: no waifu2x scale2.0x model; run make models" >&2; exit 1; }
command -v node >/dev/null || { echo "verify-waifu2x: node is needed (scripts/deps.sh --bench installs npm and node)" >&2; exit 1; }
if [ ! -f "$tfdir/node_modules/@tensorflow/tfjs/package.json" ]; then
    echo "verify-waifu2x: installing @tensorflow/tfjs@$TFJS_VERSION into $tfdir" >&2
    mkdir -p "$tfdir"
    npm install --silent --no-audit --no-fund --prefix "$tfdir" "@tensorflow/tfjs@$TFJS_VERSION" >&2
fi
tfv=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$tfdir/node_modules/@tensorflow/tfjs/package.json" | head -1)

data=$("$top/scripts/fetch-devdata.sh")
nature=$data/usr/share/backgrounds/mate/nature
photos=(Aqua.jpg Garden.jpg LadyBird.jpg TwoWings.jpg YellowFlower.jpg Wood.jpg Storm.jpg RainDrops.jpg
        Dune.jpg FreshFlower.jpg GreenMeadow.jpg Blinds.jpg)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Y-PSNR of A against B, the protocol of sr_eval.sh (border 2*S = 4)
ypsnr() {
    local c="crop=$((cw - 8)):$((ch - 8)):4:4,format=yuv444p,extractplanes=y"
    ffmpeg -v info -i "$1" -i "$2" -lavfi "[0]$c[a];[1]$c[b];[a][b]psnr" -f null - 2>&1 |
        grep -o 'average:[0-9.inf]*' | cut -d: -f2
}

echo "== verify-waifu2x: aie vs @tensorflow/tfjs $tfv (cpu backend), $model"
echo "   $n photos, HR centre crops ${cw}x${ch}, LR bicubic /2, Y-PSNR vs HR (border 4 px)"
printf '%-16s %10s %10s %9s %12s %8s %8s\n' photo aie_dB tfjs_dB diff_dB aie-vs-tfjs aie_s tfjs_s
fail=0; sa=0; st=0
for ((i = 0; i < n; i++)); do
    p=${photos[$i]}; b=${p%.jpg}
    ffmpeg -v error -y -i "$nature/$p" -vf "crop=$cw:$ch:(iw-$cw)/2:(ih-$ch)/2,format=rgb24" "$tmp/$b.hr.png"
    ffmpeg -v error -y -i "$tmp/$b.hr.png" -vf "scale=$((cw / 2)):$((ch / 2)):flags=bicubic,format=rgb24" "$tmp/$b.lr.png"
    t0=$(date +%s.%N)
    "$AIE_BIN/aie-upscale" -q -s 2 --model "$model" -i "$tmp/$b.lr.png" -o "$tmp/$b.aie.png"
    t1=$(date +%s.%N)
    ffmpeg -v error -y -i "$tmp/$b.lr.png" -f rawvideo -pix_fmt rgb24 "$tmp/$b.lr.rgb"
    NODE_PATH=$tfdir/node_modules node "$top/scripts/verify-waifu2x.js" "$model" "$tmp/$b.lr.rgb" $((cw / 2)) $((ch / 2)) "$tmp/$b.tf.rgb" >/dev/null
    t2=$(date +%s.%N)
    ffmpeg -v error -y -f rawvideo -pix_fmt rgb24 -s "${cw}x${ch}" -i "$tmp/$b.tf.rgb" "$tmp/$b.tf.png"
    pa=$(ypsnr "$tmp/$b.aie.png" "$tmp/$b.hr.png")
    pt=$(ypsnr "$tmp/$b.tf.png" "$tmp/$b.hr.png")
    pat=$(ypsnr "$tmp/$b.aie.png" "$tmp/$b.tf.png")
    d=$(echo "$pa - $pt" | bc -l)
    ad=$(echo "if ($d < 0) -($d) else $d" | bc -l)
    [ "$(echo "$ad <= 0.05" | bc -l)" = 1 ] || fail=1
    printf '%-16s %10.3f %10.3f %+9.4f %12s %8.1f %8.1f\n' "$b" "$pa" "$pt" "$d" "$pat" \
        "$(echo "$t1 - $t0" | bc -l)" "$(echo "$t2 - $t1" | bc -l)"
    sa=$(echo "$sa + $pa" | bc -l); st=$(echo "$st + $pt" | bc -l)
done
printf '%-16s %10.3f %10.3f %+9.4f\n' MEAN "$(echo "$sa / $n" | bc -l)" "$(echo "$st / $n" | bc -l)" \
    "$(echo "($sa - $st) / $n" | bc -l)"
if [ $fail = 0 ]; then
    echo "PARITY ok: every photo within 0.05 dB"
else
    echo "PARITY FAILED: a photo differs by more than 0.05 dB" >&2
    exit 1
fi
