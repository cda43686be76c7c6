# bench section "raisr" (sourced by scripts/bench.sh): RAISR learned filters.
#   1. speed: the 60-frame 1080p pan of bench.sh to 2160p, y4m in, y4m to
#      /dev/null: aie-upscale -m raisr against ffmpeg -vf scale=...:lanczos,
#      interleaved, median of REPS runs each; RATIO (target <= 5);
#   2. quality: ../shared/eval/sr_eval.sh at x2, x3, x4 over the PHOTOS of
#      bench.sh (mate-backgrounds' nature set, never used in training) for
#      ffmpeg lanczos and the built-in banks; DELTA at x2 (target >= +1.0 dB);
#   3. own footage: per real development clip, a 2x bank trained on the
#      first half of the clip and tested, with lanczos and the built-in bank,
#      on frames of its second half;
#   4. training time of the default banks (make bank) is printed by
#      scripts/train-banks.sh itself; RAISR_TRAIN=1 runs it here too.
# RAISR_PARTS="speed quality own" selects parts.
bench_raisr() {
    local parts=" ${RAISR_PARTS:-speed quality own} "
    echo "== raisr: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
    if [[ $parts == *" speed "* ]]; then
        echo "== raisr speed: 1080p -> 2160p, y4m in, y4m to /dev/null, 60 frames, median of $REPS (interleaved)"
        local clip; clip=$(pan_clip)
        local ff=() ra=() i
        for ((i = 0; i < REPS; i++)); do
            ff+=("$(REPS=1 wall ffmpeg -v error -y -i "$clip" -vf scale=3840:2160:flags=lanczos -f yuv4mpegpipe /dev/null)")
            ra+=("$(REPS=1 wall "$AIE_BIN/aie-upscale" -q -s 2 -m raisr -i "$clip" -o /dev/null)")
        done
        local f r
        f=$(printf '%s\n' "${ff[@]}" | sort -g | sed -n "$(( (REPS + 1) / 2 ))p")
        r=$(printf '%s\n' "${ra[@]}" | sort -g | sed -n "$(( (REPS + 1) / 2 ))p")
        printf 'ffmpeg scale=lanczos   %6.3f s  (%5.1f fps)\n' "$f" "$(echo "60 / $f" | bc -l)"
        printf 'aie-upscale -m raisr   %6.3f s  (%5.1f fps)  threads=%s\n' "$r" "$(echo "60 / $r" | bc -l)" "$(nproc)"
        printf 'RATIO raisr/ffmpeg wall %6.3f  (target <= 5)\n' "$(echo "$r / $f" | bc -l)"
        echo "   load average $(cut -d' ' -f1-3 /proc/loadavg)"
    fi
    if [[ $parts == *" quality "* ]]; then
        mapfile -t imgs < <(photo_paths)
        local s a b
        for s in 2 3 4; do
            echo "== raisr quality: x$s, ${#PHOTOS[@]} natural photos, Y-PSNR (protocol: shared/eval/sr_eval.sh)"
            a=$("$eval_dir/sr_eval.sh" "$s" lanczos "${imgs[@]}" | tail -1)
            b=$("$eval_dir/sr_eval.sh" "$s" "aie:-m raisr" "${imgs[@]}")
            echo "$b" | head -n -1 | sed 's/^/   raisr /'
            echo "$a"
            echo "$b" | tail -1
            local pa pb
            pa=$(echo "$a" | sed -n 's/.*Y-PSNR \([0-9.]*\).*/\1/p')
            pb=$(echo "$b" | tail -1 | sed -n 's/.*Y-PSNR \([0-9.]*\).*/\1/p')
            printf 'DELTA x%s raisr-lanczos Y-PSNR %+.3f dB%s\n' "$s" "$(echo "$pb - $pa" | bc -l)" \
                "$([ "$s" = 2 ] && echo '  (target >= +1.0 dB)')"
        done
    fi
    if [[ $parts == *" own "* ]]; then
        raisr_own
    fi
    if [ -n "${RAISR_TRAIN:-}" ]; then
        echo "== raisr training time: the default banks (scripts/train-banks.sh into a scratch copy)"
        local t; t=$(mktemp -d)
        cp -r "$top/scripts" "$t/" && mkdir -p "$t/lib/sr"
        AIE_BIN=$AIE_BIN "$t/scripts/train-banks.sh"
        rm -rf "$t"
    fi
    return 0
}

# Own footage: for each real clip, a 2x bank trained on the first half of the
# clip (every 2nd frame) and tested on frames of its second half, next to
# lanczos and the built-in bank; then the means over the clips.
raisr_own() {
    local clips; clips=$("$top/scripts/fetch-devclips.sh")
    local d=$cache/raisr-own c b n
    echo "== raisr own footage: per real clip, a 2x bank trained on its first half, tested on its second half"
    printf '   %-14s %7s %6s %9s %9s %9s\n' clip train test lanczos built-in own
    local sl=0 sr=0 so=0 k=0
    for c in balle-jbart.mp4 balle1-vp9.avi diver.mov movie-hello.mp4 vid1080.mp4; do
        [ -s "$clips/$c" ] || continue
        b=${c%.*}
        rm -rf "$d/$b" && mkdir -p "$d/$b/train" "$d/$b/test"
        n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$clips/$c")
        ffmpeg -v error -i "$clips/$c" -vf "select='lt(n,$((n / 2)))*not(mod(n,2))',format=rgb24" -vsync 0 \
            "$d/$b/train/f%03d.png"
        ffmpeg -v error -i "$clips/$c" -vf "select='gte(n,$((n / 2 + 2)))*not(mod(n-$((n / 2 + 2)),4))',format=rgb24" \
            -vsync 0 -frames:v 5 "$d/$b/test/f%03d.png"
        local t0 t1 l r o
        t0=$(date +%s.%N)
        "$AIE_BIN/aie-train" -q -s 2 -o "$d/$b/own-x2.bank" "$d/$b/train"
        t1=$(date +%s.%N)
        l=$("$eval_dir/sr_eval.sh" 2 lanczos "$d/$b"/test/*.png | tail -1 | sed -n 's/.*Y-PSNR \([0-9.]*\).*/\1/p')
        r=$("$eval_dir/sr_eval.sh" 2 "aie:-m raisr" "$d/$b"/test/*.png | tail -1 | sed -n 's/.*Y-PSNR \([0-9.]*\).*/\1/p')
        o=$("$eval_dir/sr_eval.sh" 2 "aie:--bank $d/$b/own-x2.bank" "$d/$b"/test/*.png | tail -1 | sed -n 's/.*Y-PSNR \([0-9.]*\).*/\1/p')
        printf '   %-14s %7s %6s %9.3f %9.3f %9.3f  (own - built-in %+.3f dB; trained in %.1f s)\n' "$b" \
            "$(ls "$d/$b/train" | wc -l)" "$(ls "$d/$b/test" | wc -l)" "$l" "$r" "$o" "$(echo "$o - $r" | bc -l)" \
            "$(echo "$t1 - $t0" | bc -l)"
        sl=$(echo "$sl + $l" | bc -l); sr=$(echo "$sr + $r" | bc -l); so=$(echo "$so + $o" | bc -l); k=$((k + 1))
    done
    [ "$k" -gt 0 ] || { echo "   SKIP: no development clips"; return 0; }
    printf 'DELTA own footage: own bank vs built-in %+.3f dB, vs lanczos %+.3f dB (built-in vs lanczos %+.3f dB), mean of %d clips\n' \
        "$(echo "($so - $sr) / $k" | bc -l)" "$(echo "($so - $sl) / $k" | bc -l)" "$(echo "($sr - $sl) / $k" | bc -l)" "$k"
}
