# bench section "style" (sourced by scripts/bench.sh): aie-style speed.
#   1. a 33-point 3D LUT (tetrahedral) on the 1080p pan clip (60 frames), y4m
#      in, y4m to /dev/null, against ffmpeg -vf lut3d=interp=tetrahedral, with
#      the max abs difference of the two outputs (target: >= 1.5x, <= 1);
#   2. 1080p fps of each look (targets: toon, sketch >= 10, oil >= 3);
#   3. docs/style-grid.png: source, toon, sketch, oil, colour transfer.
#   STYLE_GRID=0 skips the picture.
style_cube() { # size -> a smooth non-linear grade, red fastest
    awk -v n="$1" 'BEGIN {
        printf "TITLE \"bench grade\"\nLUT_3D_SIZE %d\n", n
        for (b = 0; b < n; b++) for (g = 0; g < n; g++) for (r = 0; r < n; r++) {
            R = r / (n - 1); G = g / (n - 1); B = b / (n - 1)
            o1 = 0.9 * R ^ 0.8 + 0.1 * B; if (o1 > 1) o1 = 1
            o2 = 0.7 * G * G + 0.3 * sin(3 * R) ^ 2; if (o2 > 1) o2 = 1
            o3 = 0.5 * (1 - R) + 0.5 * B
            printf "%.6f %.6f %.6f\n", o1, o2, o3
        } }'
}

bench_style() {
    local clip; clip=$(pan_clip)
    local sc=$cache/style
    mkdir -p "$sc"
    local cube=$sc/grade33.cube
    style_cube 33 >"$cube"
    echo "== style: 33-point 3D LUT, tetrahedral, 1080p pan, 60 frames, y4m in, y4m to /dev/null, median of $REPS"
    local ff aie
    ff=$(wall ffmpeg -v error -y -i "$clip" -vf "lut3d=file=$cube:interp=tetrahedral" -pix_fmt yuv420p \
        -f yuv4mpegpipe /dev/null)
    aie=$(wall "$AIE_BIN/aie-style" -q --lut "$cube" -i "$clip" -o /dev/null)
    # accuracy (8-bit RGB, so only the LUT is compared): frame 30 as PNG
    ffmpeg -v error -y -i "$clip" -vf "select=eq(n\,30)" -frames:v 1 -pix_fmt rgb24 "$sc/f30.png"
    "$AIE_BIN/aie-style" -q --lut "$cube" -i "$sc/f30.png" -o "$sc/f30-aie.png"
    ffmpeg -v error -y -i "$sc/f30.png" -vf "lut3d=file=$cube:interp=tetrahedral" -pix_fmt rgb24 "$sc/f30-ff.png"
    ffmpeg -v error -y -i "$sc/f30-aie.png" -f rawvideo -pix_fmt rgb24 "$sc/f30-aie.rgb"
    ffmpeg -v error -y -i "$sc/f30-ff.png" -f rawvideo -pix_fmt rgb24 "$sc/f30-ff.rgb"
    local maxd
    maxd=$(python3 -c 'import sys
a = open(sys.argv[1], "rb").read(); b = open(sys.argv[2], "rb").read()
print(max(abs(x - y) for x, y in zip(a, b)) if len(a) == len(b) and a else "size mismatch")' \
        "$sc/f30-aie.rgb" "$sc/f30-ff.rgb")
    printf 'ffmpeg lut3d (tetrahedral) %6.3f s  (%5.1f fps)\n' "$ff" "$(echo "60 / $ff" | bc -l)"
    printf 'aie-style --lut            %6.3f s  (%5.1f fps)\n' "$aie" "$(echo "60 / $aie" | bc -l)"
    local ratio; ratio=$(echo "$ff / $aie" | bc -l)
    printf 'speed ratio %.2fx (target >= 1.5x); max abs difference on 8-bit RGB %s (target <= 1)\n' \
        "$ratio" "$maxd"

    echo "== style: looks at 1080p (60 frames of the pan clip, $(nproc) cores, median of $REPS)"
    local l t
    for l in toon sketch oil; do
        local frames=60
        [ $l = oil ] && frames=20
        t=$(wall "$AIE_BIN/aie-style" -q --look $l --frames 0-$((frames - 1)) -i "$clip" -o /dev/null)
        local target=10
        [ $l = oil ] && target=3
        printf '%-7s %6.2f fps  (target >= %d)\n' "$l" "$(echo "$frames / $t" | bc -l)" "$target"
    done

    if [ "${STYLE_GRID:-1}" != 0 ]; then
        # the README picture: a 640x360 crop of a photo, each look, and the
        # colour transfer from another photo (MKL)
        local src=$sc/grid-src.png ref=$sc/grid-ref.png
        ffmpeg -v error -y -i "$nature/Garden.jpg" -vf "scale=-2:540,crop=640:360" -frames:v 1 -pix_fmt rgb24 "$src"
        ffmpeg -v error -y -i "$nature/Dune.jpg" -vf "scale=640:-2" -frames:v 1 -pix_fmt rgb24 "$ref"
        for l in toon sketch oil; do
            "$AIE_BIN/aie-style" -q --look $l -i "$src" -o "$sc/grid-$l.png"
        done
        "$AIE_BIN/aie-style" -q --reference "$ref" -i "$src" -o "$sc/grid-mkl.png"
        mkdir -p "$top/docs"
        ffmpeg -v error -y -i "$src" -i "$sc/grid-toon.png" -i "$sc/grid-sketch.png" -i "$sc/grid-oil.png" \
            -i "$sc/grid-mkl.png" -i "$ref" -filter_complex \
            "[5]scale=640:360:force_original_aspect_ratio=increase,crop=640:360[r];[0][1][2]hstack=3[top];[3][4][r]hstack=3[bot];[top][bot]vstack,scale=1080:-2" \
            -frames:v 1 "$top/docs/style-grid.png"
        echo "picture: docs/style-grid.png (top: source, toon, sketch; bottom: oil, MKL transfer, its reference)"
    fi
}
