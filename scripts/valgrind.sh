#!/bin/sh
# Valgrind memcheck over one real end-to-end run of every tool (make valgrind).
# Builds without sanitizers (O=build-vg, -O1 -g), makes small inputs, runs each
# tool under memcheck and fails when one reports an error or a definite or
# indirect leak (exit 99), or when a tool itself fails.
#
# Usage: scripts/valgrind.sh [BUILDDIR]      (default build-vg)
# Environment: VG_EXTRA (more valgrind options), JOBS (make -j, default 2).
#
# Third-party suppressions, each with its reason, are in tests/valgrind.supp.
set -eu
cd "$(dirname "$0")/.."
SRC=$PWD
O=${1:-build-vg}
JOBS=${JOBS:-2}

if ! command -v valgrind >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "valgrind.sh: installing valgrind" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >/dev/null || apt-get update
        apt-get install -y -q --no-install-recommends valgrind >/dev/null
    else
        echo "valgrind.sh: valgrind is missing (sudo apt-get install -y valgrind)" >&2
        exit 1
    fi
fi
scripts/deps.sh

echo "valgrind.sh: building $O (-O1 -g, no sanitizers)" >&2
nice make --no-print-directory -j"$JOBS" O="$O" OPT='-O1 -g' SAN= all >/dev/null
BIN=$SRC/$O

W=$(mktemp -d "${TMPDIR:-/tmp}/aie-vg-XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
cd "$W"

# ---- inputs: 12 frames of 64x48 with FLAC audio, a y4m of the same, a PNG ----
if command -v ffmpeg >/dev/null 2>&1; then
    ffmpeg -v error -y -f lavfi -i testsrc2=s=64x48:r=25:d=0.48 -f lavfi -i sine=f=440:r=8000:d=0.48 \
        -c:v ffv1 -c:a flac clip.mkv
    ffmpeg -v error -y -i clip.mkv -pix_fmt yuv420p clip.y4m
    ffmpeg -v error -y -i clip.mkv -frames:v 1 still.png
else
    # no ffmpeg: a y4m made here, a PNG made by aie-upscale
    {
        printf 'YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n'
        i=0
        while [ $i -lt 12 ]; do
            printf 'FRAME\n'
            head -c 4608 /dev/urandom
            i=$((i + 1))
        done
    } > clip.y4m
    "$BIN/aie-upscale" -q -s 1 -i clip.y4m -o clip.mkv --lossless
    "$BIN/aie-upscale" -q -s 1 -i clip.y4m -o still.png --frames 0-0
fi

VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
--errors-for-leak-kinds=definite,indirect --track-fds=no --num-callers=30 \
--suppressions=$SRC/tests/valgrind.supp ${VG_EXTRA:-}"

fails=0
runs=0
# run NAME EXPECTED_EXIT COMMAND...
run() {
    name=$1
    want=$2
    shift 2
    runs=$((runs + 1))
    start=$(date +%s)
    rc=0
    # shellcheck disable=SC2086
    $VG --log-file="$W/vg-$runs.log" "$@" > "$W/out-$runs.txt" 2> "$W/err-$runs.txt" || rc=$?
    if [ $rc -eq "$want" ] && [ ! -s "$W/vg-$runs.log" ]; then
        echo "valgrind.sh: ok    $name ($(($(date +%s) - start)) s)" >&2
    else
        fails=$((fails + 1))
        why="tool exited $rc, expected $want"
        [ $rc -eq 99 ] && why="memcheck errors"
        [ $rc -eq "$want" ] && why="memcheck reported"
        echo "valgrind.sh: FAIL  $name: $why" >&2
        echo "  command: $*" >&2
        sed 's/^/  | /' "$W/err-$runs.txt" | head -20 >&2
        sed 's/^/  | /' "$W/vg-$runs.log" | head -100 >&2
    fi
}

run "aie-upscale y4m -> y4m (-m auto: RAISR, 2 threads, metrics)" 0 \
    "$BIN/aie-upscale" -q -j 2 -s 2 -i clip.y4m -o up.y4m --metrics metrics.jsonl
run "aie-upscale mkv+flac -> mkv (bicubic 1.5x, stream copy, --frames)" 0 \
    "$BIN/aie-upscale" -q -j 2 -m bicubic -s 1.5 --frames 2-9 -i clip.mkv -o up.mkv --lossless \
    --metrics metrics.jsonl
run "aie-upscale png -> png (cnn, tiny waifu2x model)" 0 \
    "$BIN/aie-upscale" -q -j 2 --model "$SRC/testdata/nn/tiny_scale2.0x_model.json" -i still.png \
    -o up.png --metrics metrics.jsonl
run "aie-train (y4m + png -> 2x bank, 2 threads)" 0 \
    "$BIN/aie-train" -q -j 2 -s 2 --every 3 -o own.bank clip.y4m still.png
run "aie-upscale y4m -> y4m (--bank from aie-train)" 0 \
    "$BIN/aie-upscale" -q -j 2 --bank own.bank -i clip.y4m -o own.y4m
run "aie-interp y4m -> y4m (mc, x2, scene cuts)" 0 \
    "$BIN/aie-interp" -q -j 2 -x 2 -i clip.y4m -o interp.y4m --metrics metrics.jsonl
run "aie-interp mkv+flac -> mkv (50 fps)" 0 \
    "$BIN/aie-interp" -q -j 2 --fps 50 -i clip.mkv -o interp.mkv --lossless
run "aie-style y4m -> y4m (LUT, reference, toon, export LUT)" 0 \
    "$BIN/aie-style" -q -j 2 --lut "$SRC/testdata/lut/identity2.cube" --reference still.png \
    --look toon -i clip.y4m -o style.y4m --export-lut shot.cube --metrics metrics.jsonl
cat > jobs.txt <<EOF
$BIN/aie-upscale -q -j 1 -s 2 -i clip.y4m -o b1.y4m
$BIN/aie-style -q -j 1 --lut $SRC/testdata/lut/identity2.cube -i clip.y4m -o b2.y4m
true
sh -c 'exit 3'
EOF
# one job fails on purpose: aie-batch exits with the number of failed jobs
run "aie-batch (4 jobs, -j2, retries, joblog, metrics, cache)" 1 \
    "$BIN/aie-batch" -q -j 2 --retries 2 --retry-delay 0 --joblog joblog.txt --metrics metrics.jsonl \
    --cache cache jobs.txt
run "aie-stats (text, JSON, PNG plot)" 0 \
    "$BIN/aie-stats" -q --by tool --plot plot.png -o report.txt metrics.jsonl "$SRC/testdata/stats/healthy.jsonl"
run "aie-stats --json (damaged log)" 0 \
    "$BIN/aie-stats" -q --json -o report.json "$SRC/testdata/stats/damaged.jsonl"

echo "valgrind.sh: $runs runs, $fails failed" >&2
[ $fails -eq 0 ]
