# bench section "metrics" (sourced by scripts/bench.sh): the cost of the
# metrics log (records, snapshots and the round-trip quality score) on a real
# aie-upscale run at the default settings, with and without --metrics.
#
# Protocol (issue 21): 200 frames of 1080p at 20 fps upscaled 2x, y4m in, y4m
# to /dev/null, -j 2; PAIRS interleaved pairs of runs (the order inside a pair
# alternates, so a drift of the machine's load falls on both sides alike);
# medians, with the spread (min..max) and the median of the per-pair
# differences. Lanczos (the fastest method, where overhead shows most) and
# RAISR. Then the direct figures, which do not depend on the machine's load:
# the thread CPU time of one quality sample (run_end
# quality.roundtrip_psnr_db_cost_ms over the samples) and the mean per-frame
# processing time (stages_ms.process / frames_in) with the scores off, at the
# default sampling and on every frame: a score off the frame's critical path
# leaves it unchanged.
#   PAIRS=N (default 12), METRICS_FRAMES=N (default 200), METHODS="lanczos raisr"

# a 1080p clip at 20 fps of METRICS_FRAMES frames: a slow diagonal pan
metrics_clip() {
    local n=${METRICS_FRAMES:-200}
    local clip=$cache/pan1080-20fps-$n.y4m
    if [ ! -s "$clip" ]; then
        ffmpeg -v error -y -framerate 20 -loop 1 -i "$nature/Garden.jpg" \
            -vf "crop=1920:1080:'min(iw-1920,n*3)':'min(ih-1080,n*2)',format=yuv420p" \
            -frames:v "$n" -f yuv4mpegpipe "$clip.tmp" && mv "$clip.tmp" "$clip"
    fi
    echo "$clip"
}

# "wall user sys" in seconds of one run of "$@" (bash's time: no fork of bc)
metrics_time() {
    local TIMEFORMAT='%3R %3U %3S' out
    out=$({ time "$@" >/dev/null 2>&1; } 2>&1) || { echo "bench: command failed: $*" >&2; return 1; }
    echo "$out"
}

# median of the numbers on stdin
metrics_median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
metrics_minmax() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.3f..%.3f", lo, hi}'; }

# a field of the last run_end record of log $1 (a jq path)
metrics_field() { grep '"event":"run_end"' "$1" | tail -1 | jq -r "$2"; }

bench_metrics() {
    local pairs=${PAIRS:-12} n=${METRICS_FRAMES:-200}
    local clip log; clip=$(metrics_clip)
    log=$cache/metrics-bench.jsonl
    local m
    for m in ${METHODS:-lanczos raisr}; do
        echo "== metrics overhead: aie-upscale -m $m -j 2, 1080p -> 2160p, $n frames at 20 fps, y4m to /dev/null,"
        echo "   default settings (snapshot every 10 s, quality score once a second), $pairs interleaved pairs"
        local cmd=("$AIE_BIN/aie-upscale" -q -s 2 -m "$m" -j 2 -i "$clip" -o /dev/null)
        "${cmd[@]}" || { echo "bench: aie-upscale -m $m failed" >&2; return 1; } # warm the page cache
        local off_w=() on_w=() off_c=() on_c=() diff=() r a b
        for ((r = 0; r < pairs; r++)); do
            rm -f "$log"
            if ((r % 2)); then
                b=$(metrics_time "${cmd[@]}" --metrics "$log") || return 1
                a=$(metrics_time "${cmd[@]}") || return 1
            else
                a=$(metrics_time "${cmd[@]}") || return 1
                b=$(metrics_time "${cmd[@]}" --metrics "$log") || return 1
            fi
            read -r aw au as <<<"$a"
            read -r bw bu bs <<<"$b"
            off_w+=("$aw"); on_w+=("$bw")
            off_c+=("$(echo "$au + $as" | bc -l)"); on_c+=("$(echo "$bu + $bs" | bc -l)")
            diff+=("$(echo "100 * ($bw - $aw) / $aw" | bc -l)")
        done
        local mw_off mw_on mc_off mc_on
        mw_off=$(printf '%s\n' "${off_w[@]}" | metrics_median)
        mw_on=$(printf '%s\n' "${on_w[@]}" | metrics_median)
        mc_off=$(printf '%s\n' "${off_c[@]}" | metrics_median)
        mc_on=$(printf '%s\n' "${on_c[@]}" | metrics_median)
        printf 'without --metrics      wall %6.3f s (spread %s)  cpu %6.3f s (spread %s)\n' \
            "$mw_off" "$(printf '%s\n' "${off_w[@]}" | metrics_minmax)" "$mc_off" "$(printf '%s\n' "${off_c[@]}" | metrics_minmax)"
        printf 'with --metrics         wall %6.3f s (spread %s)  cpu %6.3f s (spread %s)\n' \
            "$mw_on" "$(printf '%s\n' "${on_w[@]}" | metrics_minmax)" "$mc_on" "$(printf '%s\n' "${on_c[@]}" | metrics_minmax)"
        printf 'per-pair wall difference: median %+.2f %%, spread %s %%\n' \
            "$(printf '%s\n' "${diff[@]}" | metrics_median)" "$(printf '%s\n' "${diff[@]}" | metrics_minmax)"
        printf 'OVERHEAD %-8s      wall %+6.2f %%  cpu %+6.2f %%  (medians; target < 1 %%)\n' "$m" \
            "$(echo "100 * ($mw_on - $mw_off) / $mw_off" | bc -l)" "$(echo "100 * ($mc_on - $mc_off) / $mc_off" | bc -l)"

        # direct figures: the cost of one sample and the per-frame processing time
        local q frames cost proc
        for q in 0 default 1; do
            rm -f "$log"
            local qa=(); [ "$q" != default ] && qa=(--quality-every "$q")
            "${cmd[@]}" --metrics "$log" "${qa[@]}" || return 1
            frames=$(metrics_field "$log" '.quality.roundtrip_psnr_db_frames // 0')
            cost=$(metrics_field "$log" '.quality.roundtrip_psnr_db_cost_ms // 0')
            proc=$(metrics_field "$log" '.stages_ms.process / .frames_in')
            if [ "$frames" -gt 0 ]; then
                printf 'quality-every %-7s  %3d samples, %6.2f ms CPU a sample (%5.2f %% of the run'"'"'s CPU), process %6.2f ms a frame\n' \
                    "$q" "$frames" "$(echo "$cost / $frames" | bc -l)" "$(echo "$cost / 10 / $mc_off" | bc -l)" "$proc"
            else
                printf 'quality-every %-7s    0 samples,                                          process %6.2f ms a frame\n' "$q" "$proc"
            fi
        done
    done
    echo "records written (last run): $(wc -l < "$log"); quality: $(grep -o '"roundtrip_psnr_db":[0-9.]*' "$log")"
}
