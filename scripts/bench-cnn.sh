# bench section "cnn" (sourced by scripts/bench.sh): learned upscaling.
#   1. the conv kernel's GFLOP/s on 3x3 64->64 and 128->128 layers as a
#      fraction of this machine's peak FMA rate, both measured by checkasm
#      --bench in the same run (one thread, medians);
#   2. quality by ../shared/eval/sr_eval.sh over the PHOTOS of bench.sh, for
#      every installed model next to bicubic and lanczos: per image and mean;
#      2x models (and the 1x ones, followed by lanczos) at x2, the 3x and 4x
#      models at x3 and x4. The photos are centre-cropped to CNN_CROP (default
#      1024x768; CNN_CROP=full for whole photos, about 4x slower);
#   3. seconds per frame of aie-upscale for every model, 960x540 -> 1920x1080
#      (--size: models of other scales are followed by lanczos), y4m in, y4m
#      to /dev/null, default threads, CNN_FRAMES frames (2), median of CNN_REPS
#      runs (3) of wall time, and the CPU seconds (user + sys) per frame of one
#      more run, which a busy machine inflates less.
# CNN_PARTS="kernel quality speed" selects parts. Skipped (visibly) when no
# model is installed (make models).
bench_cnn() {
    local crop=${CNN_CROP:-1024x768} frames=${CNN_FRAMES:-2} creps=${CNN_REPS:-3}
    local parts=" ${CNN_PARTS:-kernel quality speed} "
    local list
    # CNN models only: not the header lines, nor the RAISR banks ("filters")
    list=$("$AIE_BIN/aie-upscale" -q --list-models 2>/dev/null | awk 'NF && $1 != "NAME" && $3 != "filters"' || true)
    if [ -z "$list" ]; then
        echo "== cnn: SKIP: no CNN models installed (make models)"
        return 0
    fi
    echo "== cnn: $(echo "$list" | wc -l) models installed; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

    if [[ $parts == *" kernel "* ]]; then
        echo "== cnn kernel: checkasm --bench --test=conv (1 thread, medians of 11 interleaved runs)"
        "$AIE_BIN/tests/checkasm/checkasm" --bench --test=conv | grep -E 'fma peak|conv3x3'
        echo "   load average $(cut -d' ' -f1-3 /proc/loadavg)"
    fi
    [[ $parts == *" quality "* ]] && cnn_quality "$crop" "$list"
    [[ $parts == *" speed "* ]] && cnn_speed "$frames" "$creps" "$list"
    return 0
}

cnn_quality() {
    local crop=$1 list=$2
    local qdir=$cache/cnn-photos-$crop
    mkdir -p "$qdir"
    local imgs=() p b
    for p in "${PHOTOS[@]}"; do
        b=${p%.jpg}
        if [ "$crop" = full ]; then
            [ -s "$qdir/$b.png" ] || ffmpeg -v error -y -i "$nature/$p" -vf format=rgb24 "$qdir/$b.png"
        else
            [ -s "$qdir/$b.png" ] || ffmpeg -v error -y -i "$nature/$p" \
                -vf "crop=${crop%x*}:${crop#*x}:(iw-${crop%x*})/2:(ih-${crop#*x})/2,format=rgb24" "$qdir/$b.png"
        fi
        imgs+=("$qdir/$b.png")
    done
    local s
    for s in 2 3 4; do
        local methods=(bicubic lanczos) name scale
        while read -r name scale _; do
            scale=${scale%x}
            if [ "$scale" = "$s" ] || { [ "$s" = 2 ] && [ "$scale" = 1 ]; }; then
                methods+=("aie:--model $name")
            fi
        done <<< "$list"
        [ ${#methods[@]} -gt 2 ] || continue
        echo "== cnn quality x$s: ${#imgs[@]} photos (centre crops $crop), Y-PSNR dB / SSIM, protocol shared/eval/sr_eval.sh"
        local header="method                              mean_dB  vs_lanc   SSIM  "
        for p in "${PHOTOS[@]}"; do header+=$(printf ' %7.7s' "${p%.jpg}"); done
        echo "$header"
        local lanczos_mean="" m
        for m in "${methods[@]}"; do
            local res t0 t1
            t0=$(date +%s.%N)
            res=$("$eval_dir/sr_eval.sh" "$s" "$m" "${imgs[@]}") || { echo "bench: sr_eval failed for $m" >&2; continue; }
            t1=$(date +%s.%N)
            local mean ssim per
            mean=$(echo "$res" | sed -n 's/^MEAN.*Y-PSNR \([0-9.]*\) SSIM.*/\1/p')
            ssim=$(echo "$res" | sed -n 's/^MEAN.*SSIM \([0-9.]*\) over.*/\1/p')
            per=$(echo "$res" | grep -v '^MEAN' | awk '{printf " %7.2f", $2}')
            [ "$m" = lanczos ] && lanczos_mean=$mean
            local delta="      "
            [ -n "$lanczos_mean" ] && delta=$(printf '%+6.3f' "$(echo "$mean - $lanczos_mean" | bc -l)")
            printf '%-34s %8.3f  %s  %.4f %s   (%.0f s)\n' "${m#aie:--model }" "$mean" "$delta" "$ssim" "$per" \
                "$(echo "$t1 - $t0" | bc -l)"
        done
    done

}

cnn_speed() {
    local frames=$1 creps=$2 list=$3
    local clip=$cache/cnn540-$frames.y4m
    if [ ! -s "$clip" ]; then
        ffmpeg -v error -y -loop 1 -i "$nature/Garden.jpg" \
            -vf "scale=1920:1200,crop=960:540:'n*16':'n*8',format=yuv420p" -frames:v "$frames" \
            -f yuv4mpegpipe "$clip"
    fi
    echo "== cnn speed: 960x540 -> 1920x1080, $frames frames, y4m to /dev/null, threads=$(nproc), median of $creps"
    local saved=$REPS name scale
    REPS=$creps
    printf '%-26s %6s %10s %12s %10s\n' model scale s/frame cpu_s/frame "GFLOP/MP"
    local t c args
    while read -r name scale _ gflop _; do
        args=(-q --model "$name" --size 1920x1080 -i "$clip" -o /dev/null)
        t=$(wall "$AIE_BIN/aie-upscale" "${args[@]}") || continue
        c=$(/usr/bin/time -f '%U %S' "$AIE_BIN/aie-upscale" "${args[@]}" 2>&1 | tail -1 | awk '{print $1 + $2}')
        printf '%-26s %6s %10.3f %12.3f %10s\n' "$name" "$scale" "$(echo "$t / $frames" | bc -l)" \
            "$(echo "$c / $frames" | bc -l)" "$gflop"
    done <<< "$list"
    args=(-q -m lanczos --size 1920x1080 -i "$clip" -o /dev/null)
    t=$(wall "$AIE_BIN/aie-upscale" "${args[@]}")
    c=$(/usr/bin/time -f '%U %S' "$AIE_BIN/aie-upscale" "${args[@]}" 2>&1 | tail -1 | awk '{print $1 + $2}')
    printf '%-26s %6s %10.3f %12.3f\n' "(lanczos)" 2x "$(echo "$t / $frames" | bc -l)" "$(echo "$c / $frames" | bc -l)"
    REPS=$saved
    echo "   load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
