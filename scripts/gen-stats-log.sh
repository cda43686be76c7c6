#!/bin/sh
# Synthetic aie-metrics(5) logs for aie-stats, from tests/gen/gen_stats_log.c.
#   scripts/gen-stats-log.sh golden            rewrite testdata/stats/*.jsonl
#                                              (then: scripts/stats-oracle.py testdata/stats/*.jsonl)
#   scripts/gen-stats-log.sh bench N OUT       a farm log of at least N records
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${TMPDIR:-/tmp}/gen_stats_log.$$
trap 'rm -f "$bin"' EXIT
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -o "$bin" "$top/tests/gen/gen_stats_log.c" -lm
case "${1:-}" in
golden)
    mkdir -p "$top/testdata/stats"
    for s in healthy decode_bound encode_bound process_bound threads_idle errors outliers memory \
             queue cache regression capacity quality damaged; do
        "$bin" "$s" > "$top/testdata/stats/$s.jsonl"
    done
    echo "gen-stats-log: testdata/stats/*.jsonl written; now run scripts/stats-oracle.py testdata/stats/*.jsonl"
    ;;
bench)
    n=${2:?records}
    out=${3:?output file}
    "$bin" bench "$n" > "$out.tmp" && mv "$out.tmp" "$out"
    ;;
*)
    echo "usage: $0 golden | bench N OUT" >&2
    exit 2
    ;;
esac
