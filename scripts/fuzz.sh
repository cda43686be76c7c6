#!/bin/sh
# make fuzz: build every tests/fuzz/fuzz_<target>.c with clang's libFuzzer,
# ASan and UBSan against a clang-built libaie (build-fuzz/), then fuzz each for
# FUZZ_SECONDS (default 60) starting from testdata/fuzz/<target>/. New inputs
# go to .cache/fuzz/<target>/; crashes to .cache/fuzz/crashes/ (turn them into
# regression inputs under testdata/fuzz/<target>/, which make check replays).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${FUZZ_SECONDS:-60}
command -v clang >/dev/null 2>&1 || { echo "fuzz: clang is missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
san='-fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link'
make --no-print-directory O=build-fuzz CC=clang OPT='-O1 -g' SAN="$san" build-fuzz/libaie.a >/dev/null
libs=$(pkg-config --libs libavformat libavcodec libavutil libswscale libpng json-c)
mkdir -p .cache/fuzz/crashes
status=0
for src in tests/fuzz/fuzz_*.c; do
    [ -e "$src" ] || continue
    t=$(basename "$src" .c); t=${t#fuzz_}
    bin=build-fuzz/fuzz_$t
    clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ilib -Ilib/stats "$src" \
        build-fuzz/libaie.a $libs -lm -pthread -o "$bin"
    mkdir -p ".cache/fuzz/$t"
    echo "fuzz: $t for ${secs}s"
    if ! "$bin" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=.cache/fuzz/crashes/"$t"- \
        ".cache/fuzz/$t" "testdata/fuzz/$t" 2>".cache/fuzz/$t.log"; then
        status=1
        echo "fuzz: $t FOUND A PROBLEM; see .cache/fuzz/$t.log and .cache/fuzz/crashes/" >&2
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" ".cache/fuzz/$t.log" | sed "s/^/fuzz: $t /"
done
exit $status
