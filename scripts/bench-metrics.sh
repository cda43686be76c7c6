# bench section "metrics" (sourced by scripts/bench.sh): the cost of the
# metrics log (records, snapshots and the round-trip quality score) on a real
# aie-upscale run, with and without --metrics, interleaved, same run.
bench_metrics() {
    echo "== metrics overhead: aie-upscale 1080p -> 2160p lanczos, 60 frames, y4m to /dev/null"
    local clip log; clip=$(pan_clip)
    log=$cache/metrics-bench.jsonl
    local off=() on=()
    for ((r = 0; r < 2 * REPS + 1; r++)); do
        rm -f "$log"
        local t0 t1
        t0=$(date +%s.%N)
        "$AIE_BIN/aie-upscale" -q -s 2 -m lanczos -i "$clip" -o /dev/null
        t1=$(date +%s.%N)
        off+=("$(echo "$t1 - $t0" | bc -l)")
        t0=$(date +%s.%N)
        "$AIE_BIN/aie-upscale" -q -s 2 -m lanczos --metrics "$log" --metrics-interval 0.1 -i "$clip" -o /dev/null
        t1=$(date +%s.%N)
        on+=("$(echo "$t1 - $t0" | bc -l)")
    done
    local a b
    a=$(printf '%s\n' "${off[@]}" | sort -g | sed -n "$((REPS + 1))p")
    b=$(printf '%s\n' "${on[@]}" | sort -g | sed -n "$((REPS + 1))p")
    printf 'without --metrics      %6.3f s (median of %d)\n' "$a" $((2 * REPS + 1))
    printf 'with --metrics         %6.3f s (snapshot every 0.1 s, quality every 25th frame)\n' "$b"
    printf 'OVERHEAD               %+6.2f %%  (target < 1 %%)\n' "$(echo "100 * ($b - $a) / $a" | bc -l)"
    echo "records written: $(wc -l < "$log"); quality: $(grep -o '"roundtrip_psnr_db":[0-9.]*' "$log")"
}
