# bench section "keyframe" (sourced by scripts/bench.sh): keyframe style
# propagation (aie-style --keyframe) by the shared protocol
# (../shared/eval/keyframe_eval.sh, read it for the details): frame k of a
# development clip is painted by the protocol's default filter F (G'MIC:
# kuwahara 9 with darkened edges and boosted colour, from Debian's gmic), the
# ground truth of frame i is F(frame i); Y-PSNR and SSIM of the propagated
# frames at k+1, k+5, k+10, k+20, k+30 and their mean over k+1..k+30, and the
# flicker (mean |dY| of consecutive frames) against the ground truth's own.
# Raced in the same run on the same frames:
#   repeat  the painted keyframe copied to every frame             (a)
#   warp    aie-style --keyframe 0:KEY --propagate warp: the key
#           advected along aie's flow, occlusions filled           (b)
#   synth   aie-style --keyframe 0:KEY (ours, the default)
# Targets: synth mean Y-PSNR >= warp + 1.5 dB; flicker <= 1.2x the ground
# truth's; >= 2 output frames/s at 640x360 with -j 2 (timed on y4m in, y4m to
# /dev/null; the protocol's sec_per_frame includes PNG in and out).
#   KEYFRAME_CLIPS="file:start ..."  clips from .cache/devclips
#       (scripts/fetch-devclips.sh); default vid1080 (handheld camera,
#       moving) from frame 0 and balle-jbart (static camera, a ball thrown)
#       from frame 2 (frame 0-1 carry a title card)
#   KEYFRAME_METHODS="METHOD ..."  more methods of keyframe_eval.sh to race
#       (repeat, identity, gt, seq:TEMPLATE, cmd:TEMPLATE; see its usage),
#       e.g. 'seq:mytool --key {key} {srcseq} {outseq}'
#   KEYFRAME_PICS=0  skips docs/keyframe-key.png (frame k of the first clip:
#       source, painted keyframe) and docs/keyframe-k30.png (frame k+30:
#       source, ground truth; ours, flow-warp)
#   KEYFRAME_REPS=N  repetitions of the y4m speed race (default 1; median)
# The ground truth and repeat are cached in .cache/bench/keyframe/; aie's
# methods are recomputed in every run.
kf_field() { # line key -> value
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}

bench_keyframe() {
    command -v gmic >/dev/null || { echo "bench keyframe: needs gmic (scripts/deps.sh --bench)" >&2; return 1; }
    local clips_dir ev kc
    clips_dir=$("$top/scripts/fetch-devclips.sh")
    ev=$eval_dir/keyframe_eval.sh
    kc=$cache/keyframe
    mkdir -p "$kc"
    local specs=${KEYFRAME_CLIPS:-"vid1080.mp4:0 balle-jbart.mp4:2"}
    local n=31 style=$AIE_BIN/aie-style
    echo "== keyframe: paint frame k, carry it through k+1..k+30 (protocol: shared/eval/keyframe_eval.sh, F = its default G'MIC filter), -j 2"
    local first=1 all_ok=1 timed=0
    for spec in $specs; do
        local name=${spec%%:*} start=${spec#*:}
        local clip=$clips_dir/$name base=${name%.*}
        local cpu_s=$kc/$base-synth.cpu cpu_w=$kc/$base-warp.cpu
        # user and system CPU seconds of the whole aie-style run, via bash's time
        local t_s="TIMEFORMAT='%U %S'; { time $style -q -j 2 --keyframe 0:{key} -i {srcseq} -o {outseq} 2>$kc/$base-synth.err; } 2>$cpu_s"
        local t_w="TIMEFORMAT='%U %S'; { time $style -q -j 2 --propagate warp --keyframe 0:{key} -i {srcseq} -o {outseq} 2>$kc/$base-warp.err; } 2>$cpu_w"
        local lr ls lw
        lr=$(WORK=$kc/work OMP_NUM_THREADS=2 "$ev" "$clip" "$start" "$n" repeat | tail -1) || return 1
        lw=$(WORK=$kc/work OMP_NUM_THREADS=2 FORCE=1 LABEL=warp "$ev" "$clip" "$start" "$n" "seq:$t_w" | tail -1) || return 1
        ls=$(WORK=$kc/work OMP_NUM_THREADS=2 FORCE=1 LABEL=synth "$ev" "$clip" "$start" "$n" "seq:$t_s" | tail -1) || return 1
        local size gtf
        size=$(kf_field "$lr" size)
        gtf=$(kf_field "$lr" gt_flicker)
        echo "-- $base ($size, frames $start-$((start + n - 1)), k = $start): ground truth flicker $gtf, source flicker $(kf_field "$lr" src_flicker)"
        printf '%-8s %7s %7s %7s %7s %7s %7s %7s %8s %8s %9s\n' method psnr@1 @5 @10 @20 @30 mean ssim_mean \
            flicker s/frame cpu_s/frm
        local m line
        for m in repeat warp synth; do
            case $m in repeat) line=$lr;; warp) line=$lw;; synth) line=$ls;; esac
            local spf=- cpu=-
            if [[ $m != repeat ]]; then
                spf=$(kf_field "$line" sec_per_frame)
                local f=$cpu_w
                [[ $m == synth ]] && f=$cpu_s
                cpu=$(awk -v n=$((n - 1)) 'NF == 2 {printf "%.3f", ($1 + $2) / n}' "$f")
            fi
            printf '%-8s %7s %7s %7s %7s %7s %7s %7s %8s %8s %9s\n' $m "$(kf_field "$line" psnr@1)" \
                "$(kf_field "$line" psnr@5)" "$(kf_field "$line" psnr@10)" "$(kf_field "$line" psnr@20)" \
                "$(kf_field "$line" psnr@30)" "$(kf_field "$line" psnr_mean)" "$(kf_field "$line" ssim_mean)" \
                "$(kf_field "$line" flicker)" "$spf" "$cpu"
        done
        local extra
        for extra in ${KEYFRAME_METHODS:-}; do
            WORK=$kc/work OMP_NUM_THREADS=2 "$ev" "$clip" "$start" "$n" "$extra" | tail -1
        done
        local d ratio
        d=$(echo "$(kf_field "$ls" psnr_mean) - $(kf_field "$lw" psnr_mean)" | bc -l)
        ratio=$(echo "$(kf_field "$ls" flicker) / $gtf" | bc -l)
        printf '%-12s MARGIN synth - warp mean Y-PSNR %+.2f dB (target >= +1.5)%s\n' "$base" "$d" \
            "$( (($(echo "$d < 1.5" | bc -l))) && echo '  MISSED')"
        printf '%-12s RATIO synth flicker / ground truth flicker %.2f (target <= 1.2)%s\n' "$base" "$ratio" \
            "$( (($(echo "$ratio > 1.2" | bc -l))) && echo '  MISSED')"
        (($(echo "$d < 1.5 || $ratio > 1.2" | bc -l))) && all_ok=0

        # the protocol's directories: frames, ground truth, each method's output
        local dd gtd fid
        dd=$kc/work/${base}_s${start}_n${n}_$(echo "${SCALE:-640:-2}" | tr ':' 'x')
        gtd=$(ls -d "$dd"/gt_* | head -1)
        fid=${gtd##*_}
        local out_s=$dd/seq_$(printf '%s' "$t_s" | md5sum | cut -c1-8)_$fid
        local out_w=$dd/seq_$(printf '%s' "$t_w" | md5sum | cut -c1-8)_$fid

        # speed at 640x360, y4m in, y4m to /dev/null (the first 640x360 clip)
        if [[ $size == 640x360 && $timed == 0 ]]; then
            timed=1
            local y4m=$kc/$base-360.y4m tw ts
            ffmpeg -v error -y -framerate 25 -start_number 0 -i "$dd/src/%03d.png" -frames:v $n -pix_fmt yuv420p \
                -f yuv4mpegpipe "$y4m"
            tw=$(REPS=${KEYFRAME_REPS:-1} wall "$style" -q -j 2 --propagate warp --keyframe "0:$gtd/000.png" -i "$y4m" -o /dev/null)
            ts=$(REPS=${KEYFRAME_REPS:-1} wall "$style" -q -j 2 --keyframe "0:$gtd/000.png" -i "$y4m" -o /dev/null)
            printf '%-12s FPS synth %.2f (target >= 2), warp %.2f output frames/s; synth/warp wall %.2f (%d frames 640x360, y4m in, y4m to /dev/null, -j 2)\n' \
                "$base" "$(echo "$n / $ts" | bc -l)" "$(echo "$n / $tw" | bc -l)" "$(echo "$ts / $tw" | bc -l)" "$n"
            (($(echo "$n / $ts < 2" | bc -l))) && all_ok=0
            echo "$base: $(uptime | sed 's/.*load/load/') (a shared machine: wall-clock figures are pessimistic; cpu_s/frm is user+sys)"
        fi

        if [[ $first == 1 && ${KEYFRAME_PICS:-1} != 0 ]]; then
            # docs/keyframe-key.png: source frame k | its painting (the keyframe);
            # docs/keyframe-k30.png: frame k+30: source | ground truth F | ours | flow-warp
            # (a 256-colour palette keeps each file small enough to commit)
            local pal="split[p0][p1];[p0]palettegen=max_colors=256[p];[p1][p]paletteuse=dither=none"
            mkdir -p "$top/docs"
            ffmpeg -v error -y -i "$dd/src/000.png" -i "$gtd/000.png" -filter_complex \
                "[0][1]hstack=2,scale=960:-2,$pal" -frames:v 1 "$top/docs/keyframe-key.png"
            ffmpeg -v error -y -i "$dd/src/030.png" -i "$gtd/030.png" -i "$out_s/030.png" -i "$out_w/030.png" \
                -filter_complex "[0][1]hstack=2[a];[2][3]hstack=2[b];[a][b]vstack,scale=960:-2,$pal" \
                -frames:v 1 "$top/docs/keyframe-k30.png"
            echo "pictures: docs/keyframe-key.png (frame k: source, painted keyframe), docs/keyframe-k30.png (frame k+30: source, ground truth; ours, flow-warp)"
        fi
        first=0
    done
    [[ $all_ok == 1 ]] && echo "keyframe: every target met" || echo "keyframe: some target MISSED"
}
