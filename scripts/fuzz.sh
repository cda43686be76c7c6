#!/bin/sh
# make fuzz: build every tests/fuzz/fuzz_<target>.c with clang's libFuzzer,
# ASan and UBSan against a clang-built libaie (build-fuzz/), then fuzz each for
# FUZZ_SECONDS (default 60) starting from testdata/fuzz/<target>/. New inputs
# go to .cache/fuzz/<target>/; crashes, leaks, timeouts (-timeout, 10 s) and
# out-of-memory (-rss_limit_mb / -malloc_limit_mb, 2048 MB) to
# .cache/fuzz/crashes/ (turn them into regression inputs under
# testdata/fuzz/<target>/, which make check replays).
#
#   FUZZ_TARGETS="cube y4m"   only these targets (default: all of tests/fuzz/)
#   FUZZ_SECONDS=480          seconds per target
#
# Each run appends "<date> <target> <seconds> <execs>" to .cache/fuzz/execs.log,
# so the campaign can be spread over sessions; the totals per target are
# printed at the end. Targets run one after the other (one core each).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${FUZZ_SECONDS:-60}
case $secs in '' | *[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a number of seconds" >&2; exit 2 ;; esac
command -v clang >/dev/null 2>&1 || { echo "fuzz: clang is missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
all=
for src in tests/fuzz/fuzz_*.c; do
    [ -e "$src" ] || continue
    t=$(basename "$src" .c)
    all="$all ${t#fuzz_}"
done
targets=${FUZZ_TARGETS:-$all}
for t in $targets; do
    [ -e "tests/fuzz/fuzz_$t.c" ] || { echo "fuzz: no target '$t' (have:$all)" >&2; exit 2; }
done
san='-fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link'
make --no-print-directory O=build-fuzz CC=clang OPT='-O1 -g' SAN="$san" build-fuzz/libaie.a >/dev/null
libs=$(pkg-config --libs libavformat libavcodec libavutil libswscale libswresample libpng json-c)
log=.cache/fuzz/execs.log
mkdir -p .cache/fuzz/crashes
status=0
for t in $targets; do
    src=tests/fuzz/fuzz_$t.c
    bin=build-fuzz/fuzz_$t
    clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE \
        -Ilib -Ilib/stats "$src" build-fuzz/libaie.a $libs -lm -pthread -o "$bin"
    mkdir -p ".cache/fuzz/$t"
    echo "fuzz: $t for ${secs}s"
    start=$(date +%s)
    if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix=.cache/fuzz/crashes/"$t"- ".cache/fuzz/$t" "testdata/fuzz/$t" \
        2>".cache/fuzz/$t.log"; then
        status=1
        echo "fuzz: $t FOUND A PROBLEM; see .cache/fuzz/$t.log and .cache/fuzz/crashes/" >&2
    fi
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' ".cache/fuzz/$t.log" | tail -n 1)
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $t $took ${execs:-0}" >>"$log"
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" ".cache/fuzz/$t.log" | sed "s/^/fuzz: $t /" || true
done
# running totals over every session in the log
echo "fuzz: totals so far (target, runs, seconds, executions):"
awk '{ r[$2]++; s[$2] += $3; e[$2] += $4 }
     END { for (t in r) printf "fuzz:   %-12s %4d %8d %12d\n", t, r[t], s[t], e[t] }' "$log" | sort
exit $status
