#!/bin/sh
# Every external symbol libaie.a defines starts with aie_: a program linking
# the library can then not collide with it. Fails on a new unprefixed one,
# naming it and the object that defines it.
# usage: scripts/check-symbols.sh [build/libaie.a]
lib=${1:-build/libaie.a}
[ -f "$lib" ] || { echo "check-symbols: $lib is missing (build it first)" >&2; exit 1; }
bad=$(nm -A -g --defined-only "$lib" | awk 'NF >= 2 && $(NF-1) ~ /^[TDRBCGSVW]$/ && $NF !~ /^aie_/ { sub(/:[^:]*$/, "", $1); print "  " $NF " (" $1 ")" }' | sort -u)
if [ -n "$bad" ]; then
    echo "check-symbols: external symbols of $lib without the aie_ prefix (rename them aie_... or make them static):" >&2
    echo "$bad" >&2
    exit 1
fi
echo "symbols: every external symbol of $lib starts with aie_ ($(nm -g --defined-only "$lib" | awk 'NF >= 2 && $(NF-1) ~ /^[TDRBCGSVW]$/' | wc -l) symbols)"
