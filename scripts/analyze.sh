#!/bin/sh
# Static analysis of lib/ and cmd/ (make analyze): cppcheck, then clang-tidy
# with the committed .clang-tidy profile. Fails on any finding.
#
# Usage: scripts/analyze.sh [BUILDDIR] [FILE...]
#   BUILDDIR  where compile_commands.json and logs go [build-analyze]
#   FILE      analyse only these files (default: every .c under lib/ and cmd/)
# Environment: JOBS (clang-tidy processes, default 2), NO_TIDY=1 / NO_CPPCHECK=1
# to skip one tool.
#
# Suppressions are inline, each with its reason next to it:
#   /* cppcheck-suppress ID */ above the line, and NOLINT(check) for clang-tidy.
set -eu
cd "$(dirname "$0")/.."
O=${1:-build-analyze}
[ $# -gt 0 ] && shift
JOBS=${JOBS:-2}
NICE="nice -n 10"

# the tools, installed like scripts/deps.sh does
need=""
command -v cppcheck >/dev/null 2>&1 || need="$need cppcheck"
command -v clang-tidy >/dev/null 2>&1 || need="$need clang-tidy"
command -v run-clang-tidy >/dev/null 2>&1 || need="$need clang-tidy"
if [ -n "$need" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "analyze: installing$need" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >/dev/null || apt-get update
        apt-get install -y -q --no-install-recommends $need >/dev/null
    else
        echo "analyze: missing$need (sudo apt-get install -y$need)" >&2
        exit 1
    fi
fi
scripts/deps.sh

mkdir -p "$O"
if [ $# -gt 0 ]; then
    FILES="$*"
else
    FILES=$(find lib cmd -name '*.c' | sort)
fi
PKGS="libavformat libavcodec libavutil libswscale libswresample libpng json-c"
BASE="-std=c11 -D_GNU_SOURCE -Ilib -pthread $(pkg-config --cflags $PKGS)"

# per-ISA kernel files get their ISA flags, as in the Makefile
isa_flags() {
    case $1 in
    *_sse4.c) echo "-msse4.1" ;;
    *_avx2.c) echo "-mavx2 -mfma" ;;
    *_avx512.c) echo "-mavx2 -mfma -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512bf16" ;;
    esac
}

status=0

# ---- cppcheck ----
if [ "${NO_CPPCHECK:-0}" != 1 ]; then
    # json-c's iteration macro, which cppcheck cannot see without parsing
    # every system header
    cat > "$O/json-c.cfg" <<'EOF'
<?xml version="1.0"?>
<def format="2">
  <define name="json_object_object_foreach(obj,key,val)" value="for (char *key = 0; key;) for (struct json_object *val = 0; val;)"/>
</def>
EOF
    echo "analyze: cppcheck $(cppcheck --version | sed 's/Cppcheck //') on $(echo $FILES | wc -w) files" >&2
    # shellcheck disable=SC2086
    if ! $NICE cppcheck -q --enable=warning,performance,portability --inline-suppr --std=c11 \
        --library=posix --library="$O/json-c.cfg" -I lib -D_GNU_SOURCE -DAIE_VERSION='"0.0.0"' \
        -D__x86_64__ -j "$JOBS" --error-exitcode=1 --template='{file}:{line}: {severity}: {message} [{id}]' \
        $FILES 2> "$O/cppcheck.log"; then
        status=1
    fi
    grep -v '^$' "$O/cppcheck.log" >&2 || true
    if [ -s "$O/cppcheck.log" ]; then status=1; fi
    [ $status -eq 0 ] && echo "analyze: cppcheck clean" >&2
fi

# ---- clang-tidy ----
if [ "${NO_TIDY:-0}" != 1 ]; then
    {
        echo "["
        sep=""
        for f in $FILES; do
            args=""
            for a in cc $BASE $(isa_flags "$f") -c "$f"; do
                args="$args\"$a\", "
            done
            # AIE_VERSION is a string literal: its quotes are part of the argument
            printf '%s{"directory": "%s", "file": "%s", "arguments": [%s"-DAIE_VERSION=\\"0.0.0\\""]}\n' \
                "$sep" "$PWD" "$f" "$args"
            sep=","
        done
        echo "]"
    } > "$O/compile_commands.json"
    echo "analyze: $(clang-tidy --version | grep -o 'LLVM version [0-9.]*' | sed 's/LLVM/clang-tidy/') on $(echo $FILES | wc -w) files, $JOBS at a time" >&2
    # shellcheck disable=SC2086
    if ! $NICE run-clang-tidy -quiet -p "$O" -j "$JOBS" $FILES 2>&1 |
        sed 's/\x1b\[[0-9;]*m//g' > "$O/clang-tidy.log"; then
        status=1
    fi
    # the findings, without the progress lines and the compiler's summaries
    grep -E '(warning|error): ' "$O/clang-tidy.log" | sort -u >&2 || true
    if grep -qE '(warning|error): ' "$O/clang-tidy.log"; then
        status=1
    else
        echo "analyze: clang-tidy clean" >&2
    fi
fi
exit $status
