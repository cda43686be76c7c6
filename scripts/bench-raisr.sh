# bench section "raisr" (sourced by scripts/bench.sh): RAISR learned filters.
#   1. speed: the 60-frame 1080p pan of bench.sh to 2160p, y4m in, y4m to
#      /dev/null: aie-upscale -m raisr against ffmpeg -vf scale=...:lanczos,
#      interleaved, median of REPS runs each; RATIO (target <= 5);
#   2. quality: ../shared/eval/sr_eval.sh at x2, x3, x4 over the PHOTOS of
#      bench.sh (mate-backgrounds' nature set, never used in training) for
#      ffmpeg lanczos and the built-in banks; DELTA at x2 (target >= +1.0 dB);
#   3. own footage: a 2x bank trained on the first half of each real
#      development clip (every 4th frame) and tested, with lanczos and the
#      built-in bank, on frames from the second half of the same clips;
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

# Train on the first half of each real clip, test on its second half.
raisr_own() {
    local clips; clips=$("$top/scripts/fetch-devclips.sh")
    local d=$cache/raisr-own
    rm -rf "$d" && mkdir -p "$d/train" "$d/test"
    local c n b
    for c in balle-jbart.mp4 balle1-vp9.avi diver.mov movie-hello.mp4 vid1080.mp4; do
        [ -s "$clips/$c" ] || continue
        b=${c%.*}
        n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$clips/$c")
        ffmpeg -v error -i "$clips/$c" -vf "select='lt(n,$((n / 2)))*not(mod(n,4))',format=rgb24" -vsync 0 \
            "$d/train/$b-%03d.png"
        ffmpeg -v error -i "$clips/$c" -vf "select='gte(n,$((n / 2 + 2)))*not(mod(n-$((n / 2 + 2)),7))',format=rgb24" \
            -vsync 0 -frames:v 3 "$d/test/$b-%03d.png"
    done
    echo "== raisr own footage: a 2x bank trained on $(ls "$d/train" | wc -l) frames (first halves of the real clips)," \
         "tested on $(ls "$d/test" | wc -l) frames of their second halves"
    local t0 t1
    t0=$(date +%s.%N)
    "$AIE_BIN/aie-train" -q -s 2 -o "$d/clips-x2.bank" "$d/train"
    t1=$(date +%s.%N)
    printf '   trained in %.1f s\n' "$(echo "$t1 - $t0" | bc -l)"
    local l r o
    l=$("$eval_dir/sr_eval.sh" 2 lanczos "$d"/test/*.png | tail -1)
    r=$("$eval_dir/sr_eval.sh" 2 "aie:-m raisr" "$d"/test/*.png | tail -1)
    o=$("$eval_dir/sr_eval.sh" 2 "aie:--bank $d/clips-x2.bank" "$d"/test/*.png | tail -1)
    echo "$l"
    echo "$r"
    echo "$o"
    local pl pr po
    pl=$(echo "$l" | sed -n 's/.*Y-PSNR \([0-9.]*\).*/\1/p')
    pr=$(echo "$r" | sed -n 's/.*Y-PSNR \([0-9.]*\).*/\1/p')
    po=$(echo "$o" | sed -n 's/.*Y-PSNR \([0-9.]*\).*/\1/p')
    printf 'DELTA own-footage bank vs built-in %+.3f dB, vs lanczos %+.3f dB (built-in vs lanczos %+.3f dB)\n' \
        "$(echo "$po - $pr" | bc -l)" "$(echo "$po - $pl" | bc -l)" "$(echo "$pr - $pl" | bc -l)"
}
