#!/bin/bash
# make bench: speed and quality figures, each a ratio against an anchor
# measured in the same run (never a timed unit test).
#   BENCH="upscale ..." or the arguments (scripts/bench.sh metrics) select
#   sections (default: all); REPS=N repetitions
#   (median is used). Sections are bench_<name> functions, here or in
#   scripts/bench-<name>.sh files, which are sourced.
# Needs the ffmpeg program (the anchor we race) and the development photos
# (scripts/fetch-devdata.sh downloads them once into .cache/).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
AIE_BIN=${AIE_BIN:-$top/build}
export AIE_BIN
REPS=${REPS:-5}
for f in "$top"/scripts/bench-*.sh; do
    [ -e "$f" ] && . "$f"
done
sections=${BENCH:-${*:-$(declare -F | sed -n 's/^declare -f bench_//p' | tr '\n' ' ')}}
cache=$top/.cache/bench
mkdir -p "$cache"
data=$("$top/scripts/fetch-devdata.sh")
eval_dir=${AIE_EVAL:-$top/../shared/eval}

# Natural photos for quality (mate-backgrounds' nature set). They are never
# used for training anything (the RAISR banks train on plasma wallpapers).
nature=$data/usr/share/backgrounds/mate/nature
PHOTOS=(Aqua.jpg Garden.jpg LadyBird.jpg TwoWings.jpg YellowFlower.jpg Wood.jpg Storm.jpg
        RainDrops.jpg Dune.jpg FreshFlower.jpg GreenMeadow.jpg Blinds.jpg)
photo_paths() { for p in "${PHOTOS[@]}"; do printf '%s\n' "$nature/$p"; done; }

# median wall time in seconds of REPS runs of "$@"
wall() {
    local t=()
    for ((i = 0; i < REPS; i++)); do
        local t0 t1
        t0=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || { echo "bench: command failed: $*" >&2; return 1; }
        t1=$(date +%s.%N)
        t+=("$(echo "$t1 - $t0" | bc -l)")
    done
    printf '%s\n' "${t[@]}" | sort -g | sed -n "$(( (REPS + 1) / 2 ))p"
}

# A 1080p clip of natural content: a diagonal pan over a photo, 60 frames.
pan_clip() {
    local clip=$cache/pan1080.y4m
    if [ ! -s "$clip" ]; then
        ffmpeg -v error -y -loop 1 -i "$nature/Garden.jpg" \
            -vf "crop=1920:1080:'min(iw-1920,n*8)':'min(ih-1080,n*4)',format=yuv420p" \
            -frames:v 60 -f yuv4mpegpipe "$clip"
    fi
    echo "$clip"
}

bench_upscale() {
    echo "== upscale: 1080p -> 2160p lanczos, y4m in, y4m to /dev/null, 60 frames, median of $REPS"
    local clip; clip=$(pan_clip)
    local ff aie
    ff=$(wall ffmpeg -v error -y -i "$clip" -vf scale=3840:2160:flags=lanczos -f yuv4mpegpipe /dev/null)
    aie=$(wall "$AIE_BIN/aie-upscale" -q -s 2 -m lanczos -i "$clip" -o /dev/null)
    printf 'ffmpeg scale=lanczos   %6.3f s  (%5.1f fps)\n' "$ff" "$(echo "60 / $ff" | bc -l)"
    printf 'aie-upscale lanczos    %6.3f s  (%5.1f fps)  threads=%s\n' "$aie" "$(echo "60 / $aie" | bc -l)" "$(nproc)"
    printf 'RATIO aie/ffmpeg wall  %6.3f  (target <= 0.70)\n' "$(echo "$aie / $ff" | bc -l)"

    echo "== upscale quality: x2, ${#PHOTOS[@]} natural photos, Y-PSNR (protocol: shared/eval/sr_eval.sh)"
    mapfile -t imgs < <(photo_paths)
    local a b
    a=$("$eval_dir/sr_eval.sh" 2 lanczos "${imgs[@]}" | tail -1)
    b=$("$eval_dir/sr_eval.sh" 2 "aie:-m lanczos" "${imgs[@]}" | tail -1)
    echo "$a"
    echo "$b"
    local pa pb
    pa=$(echo "$a" | sed -n 's/.*Y-PSNR \([0-9.]*\).*/\1/p')
    pb=$(echo "$b" | sed -n 's/.*Y-PSNR \([0-9.]*\).*/\1/p')
    printf 'DELTA aie-ffmpeg Y-PSNR %+.3f dB  (target within 0.1 dB)\n' "$(echo "$pb - $pa" | bc -l)"
}

for s in $sections; do
    "bench_$s"
done
