#!/bin/sh
# make demo: a real end-to-end job on input made offline. Generates a 360p
# clip with audio, upscales it 3x to 1080p H.264 with aie-upscale (the default
# -m auto picks RAISR with the built-in 3x filter bank for video; audio copied),
# and prints the output path and what the run measured (from its metrics log).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${AIE_BIN:-$top/build}
out=${AIE_DEMO_DIR:-$bin/demo}
mkdir -p "$out"
rm -f "$out/metrics.jsonl"
echo "demo: making a 10 s 640x360 test clip with audio ($out/in.mkv)"
ffmpeg -v error -y -f lavfi -i "mandelbrot=s=640x360:r=25" -f lavfi -i "sine=f=330:r=48000" \
    -t 10 -c:v ffv1 -c:a flac -pix_fmt yuv420p "$out/in.mkv"
echo "demo: aie-upscale -s 3 -i in.mkv -o out.mp4   (-m auto: RAISR learned filters for video)"
"$bin/aie-upscale" -s 3 --metrics "$out/metrics.jsonl" --tag demo=1 -i "$out/in.mkv" -o "$out/out.mp4"
rec=$(grep '"event":"run_end"' "$out/metrics.jsonl" | tail -1)
num() { echo "$rec" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
frames=$(num frames_out); wall=$(num wall_ms)
echo
echo "output:   $out/out.mp4"
ffprobe -v error -show_entries stream=codec_type,codec_name,width,height -of csv=p=0 "$out/out.mp4" | \
    sed 's/^/streams:  /'
start=$(grep '"event":"run_start"' "$out/metrics.jsonl" | tail -1)
echo "method:   $(echo "$start" | sed -n 's/.*"method":"\([^"]*\)".*/\1/p') ($(echo "$start" | sed -n 's/.*"model":"\([^"]*\)".*/\1/p'); $(echo "$start" | sed -n 's/.*"reason":"\([^"]*\)".*/\1/p'))"
echo "frames:   $frames in $(echo "scale=2; $wall / 1000" | bc) s = $(echo "scale=1; $frames * 1000 / $wall" | bc) fps"
echo "stages:   $(echo "$rec" | sed -n 's/.*"stages_ms":{\([^}]*\)}.*/\1/p') (ms, thread time)"
echo "memory:   peak RSS $(num maxrss_kb) kB"
echo "metrics:  $out/metrics.jsonl (schema: man -l man/aie-metrics.5)"

# A learned model too, when `make models` has installed some (offline otherwise).
if "$bin/aie-upscale" --list-models 2>/dev/null | grep -q '^anime4k-2x-m-rl '; then
    echo
    echo "demo: models are installed: aie-upscale -m cnn --model anime4k-2x-m-rl on one frame"
    "$bin/aie-upscale" -q -s 1 --frames 100-100 -i "$out/in.mkv" -o "$out/frame.png"
    t0=$(date +%s.%N)
    "$bin/aie-upscale" -q -m cnn --model anime4k-2x-m-rl -i "$out/frame.png" -o "$out/frame-cnn.png"
    t1=$(date +%s.%N)
    "$bin/aie-upscale" -q -s 2 -m lanczos -i "$out/frame.png" -o "$out/frame-lanczos.png"
    echo "output:   $out/frame-cnn.png ($(echo "scale=2; ($t1 - $t0) / 1" | bc) s; lanczos for comparison: $out/frame-lanczos.png)"
else
    echo
    echo "demo: no learned models installed; 'make models' downloads them (then make demo shows one)"
fi
