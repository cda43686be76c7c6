# bench_stats: aie-stats speed on a >= 2M record farm log, raced against jq
# computing one of its aggregates (per tool: count, mean and p95 of the per-run
# fps over the run_end records that ended ok) in the same run. Sourced by
# scripts/bench.sh (wall, REPS, AIE_BIN, top, cache).
#   STATS_RECORDS=N   records in the generated log (default 2200000)
#   STATS_JQ_REPS=N   repetitions of the jq pipeline (default 1: it is slow)

# the same aggregate, in jq: a streaming select, then a small grouping pass
stats_jq_fps() {
    jq -c 'select(.event == "run_end" and .status == "ok" and .wall_ms > 0 and .frames_in > 0)
           | [.tool, (.frames_in * 1000 / .wall_ms)]' "$1" |
        jq -s -c 'group_by(.[0]) | map({tool: .[0][0], n: length, mean: (map(.[1]) | add / length),
                  p95: (map(.[1]) | sort | .[(length * 0.95 | ceil) - 1])})'
}

bench_stats() {
    local n=${STATS_RECORDS:-2200000}
    local log=$cache/stats-$n.jsonl
    if [ ! -s "$log" ] || [ "$top/tests/gen/gen_stats_log.c" -nt "$log" ]; then
        echo "== stats: generating $n records into $log (once)"
        "$top/scripts/gen-stats-log.sh" bench "$n" "$log"
    fi
    local bytes recs
    bytes=$(stat -c %s "$log")
    recs=$(wc -l < "$log")
    cat "$log" > /dev/null # page cache: both sides read from memory
    echo "== stats: $recs records ($((bytes / 1000000)) MB; run_start, snapshot, run_end, job_end of 5 tools on 8 hosts), one core (taskset -c 0), median of $REPS"

    local aie cpu
    aie=$(wall taskset -c 0 "$AIE_BIN/aie-stats" -q --json "$log")
    # CPU time of one more run, for a figure that other load on core 0 does not inflate
    cpu=$( { TIMEFORMAT='%U %S'; time taskset -c 0 "$AIE_BIN/aie-stats" -q --json "$log" > "$cache/stats-aie.json"; } 2>&1 | awk '{print $1 + $2}')
    printf 'aie-stats --json        %7.3f s  %9.0f records/s wall, %9.0f records/s of CPU time  (target >= 1000000)\n' \
        "$aie" "$(echo "$recs / $aie" | bc -l)" "$(echo "$recs / $cpu" | bc -l)"

    if ! command -v jq > /dev/null 2>&1; then
        echo "SKIP jq is not installed: no ratio"
        return 0
    fi
    local jqt
    jqt=$(REPS=${STATS_JQ_REPS:-1} wall taskset -c 0 bash -c "$(declare -f stats_jq_fps); stats_jq_fps '$log'")
    taskset -c 0 bash -c "$(declare -f stats_jq_fps); stats_jq_fps '$log'" > "$cache/stats-jq.json"
    printf 'jq (per-tool fps)       %7.3f s  %9.0f records/s\n' "$jqt" "$(echo "$recs / $jqt" | bc -l)"
    printf 'RATIO jq/aie-stats wall %7.1f   (target >= 10)\n' "$(echo "$jqt / $aie" | bc -l)"

    # the same answers: counts equal, means to 1e-9, p95 within the stated 0.55%
    jq -n -r --slurpfile a "$cache/stats-aie.json" --slurpfile j "$cache/stats-jq.json" '
        ($a[0].groups | map(select(.throughput.runs > 0) | {key: .key.tool, value: .throughput}) | from_entries) as $s
        | $j[0][] | . as $r | $s[$r.tool] as $t
        | (($t.runs == $r.n) and ((($t.fps_mean - $r.mean) | fabs) <= 1e-9 * $r.mean)
           and ((($t.run_fps.p95 - $r.p95) | fabs) <= 0.0055 * $r.p95)) as $ok
        | "CHECK \($r.tool): runs \($t.runs)/\($r.n), mean \($t.fps_mean)/\($r.mean), p95 \($t.run_fps.p95)/\($r.p95) \(if $ok then "ok" else "MISMATCH" end)"'
}
