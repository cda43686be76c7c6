# bench section "batch" (sourced by scripts/bench.sh): the cost of running a
# job. 2000 trivial jobs (true) with -j 2, aie-batch against GNU parallel on
# the same jobs in the same run, runs interleaved, median of REPS each.
# Per-job overhead is the wall time per job above the floor set by xargs -P 2
# (a lean C runner: about the cost of starting `true` itself). The target
# (aie-batch's overhead per job at most one third of parallel's) is judged on
# the ratio of whole time per job, which includes the cost of `true` on both
# sides and so bounds the overhead ratio from above.
bench_batch() {
    local n=2000
    echo "== batch: $n trivial jobs (true), -j 2, median of $REPS, runs interleaved"
    if ! command -v parallel >/dev/null; then
        echo "SKIP bench batch: GNU parallel is not installed (scripts/deps.sh --bench)"
        return 0
    fi
    local d; d=$(mktemp -d)
    seq $n | sed "s/.*/true/" >"$d/jobs.txt"
    seq $n >"$d/args"
    # correctness first: every job ran once and succeeded
    "$AIE_BIN/aie-batch" -q -j 2 --joblog "$d/log" "$d/jobs.txt" ||
        { echo "bench batch: aie-batch failed"; rm -rf "$d"; return 1; }
    local logged; logged=$(($(wc -l <"$d/log") - 1))
    [ "$logged" = $n ] || { echo "bench batch: $logged joblog lines, not $n"; rm -rf "$d"; return 1; }
    local x=() p=() a=() c=()
    for ((r = 0; r < REPS; r++)); do
        local t0 t1
        t0=$(date +%s.%N); xargs -P 2 -n 1 true <"$d/args"; t1=$(date +%s.%N)
        x+=("$(echo "$t1 - $t0" | bc -l)")
        t0=$(date +%s.%N); parallel -j 2 true <"$d/args"; t1=$(date +%s.%N)
        p+=("$(echo "$t1 - $t0" | bc -l)")
        t0=$(date +%s.%N); "$AIE_BIN/aie-batch" -q -j 2 "$d/jobs.txt"; t1=$(date +%s.%N)
        a+=("$(echo "$t1 - $t0" | bc -l)")
        t0=$(date +%s.%N); "$AIE_BIN/aie-batch" -q -j 2 --cmd true <"$d/args"; t1=$(date +%s.%N)
        c+=("$(echo "$t1 - $t0" | bc -l)")
    done
    rm -rf "$d"
    med() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
    local tx tp ta tc
    tx=$(med "${x[@]}"); tp=$(med "${p[@]}"); ta=$(med "${a[@]}"); tc=$(med "${c[@]}")
    # overhead per job in ms above the xargs floor (0 when below it)
    ovh() { echo "o = ($1 - $tx) * 1000 / $n; if (o < 0) o = 0; o" | bc -l; }
    local op oa oc
    op=$(ovh "$tp"); oa=$(ovh "$ta"); oc=$(ovh "$tc")
    printf 'xargs -P 2 (floor)         %6.3f s  %7.1f jobs/s\n' "$tx" "$(echo "$n / $tx" | bc -l)"
    printf 'GNU parallel -j 2          %6.3f s  %7.1f jobs/s  overhead %6.3f ms/job\n' "$tp" "$(echo "$n / $tp" | bc -l)" "$op"
    printf 'aie-batch -j 2 JOBFILE     %6.3f s  %7.1f jobs/s  overhead %6.3f ms/job\n' "$ta" "$(echo "$n / $ta" | bc -l)" "$oa"
    printf 'aie-batch -j 2 --cmd true  %6.3f s  %7.1f jobs/s  overhead %6.3f ms/job\n' "$tc" "$(echo "$n / $tc" | bc -l)" "$oc"
    printf 'overhead ratio above the xargs floor       %6.3f\n' "$(echo "$oa / $op" | bc -l)"
    printf 'RATIO aie-batch/parallel time per job      %6.3f  (bounds the overhead ratio; target <= 0.333)\n' \
        "$(echo "$ta / $tp" | bc -l)"
}
