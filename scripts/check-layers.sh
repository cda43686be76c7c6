#!/bin/sh
# make check: the include arrows of ../shared/STYLE.md's module map, enforced.
# Every #include line of lib/ and cmd/ is checked against the modules its
# directory may use; an offending line fails with file:line and the rule.
#
# Public headers lib/aie/NAME.h belong to a module (table below) and follow
# that module's rules; "dir/x.h" and plain "x.h" includes belong to lib/dir
# or to the including file's own module.
set -eu
cd "$(dirname "$0")/.."

# module -> the modules it may include (itself always allowed)
allowed() {
    case $1 in
    core)     echo "" ;;
    fs)       echo "core" ;;
    dsp)      echo "core" ;;
    nn)       echo "core dsp fs" ;;
    quality)  echo "core dsp" ;;
    sr)       echo "core dsp nn fs quality" ;;
    motion)   echo "core dsp quality" ;;
    look)     echo "core dsp fs motion quality sr" ;;
    io)       echo "core fs" ;;
    metrics)  echo "core fs quality" ;;
    pipeline) echo "core io metrics" ;;
    stats)    echo "core fs metrics" ;;
    batch)    echo "core fs io motion metrics" ;;
    preview)  echo "core fs io motion quality sr look" ;;
    cmd)      echo "*" ;;
    *)        echo "?" ;;
    esac
}
# public header -> owning module
owner() {
    case $1 in
    error | frame | thread | stage | util | version) echo core ;;
    cpu | filter)           echo dsp ;;
    fs)                     echo fs ;;
    io)                     echo io ;;
    nn | nn_train)          echo nn ;;
    scale | raisr | sr_cnn | upscale) echo sr ;;
    motion | interp)        echo motion ;;
    look | keyframe)        echo look ;;
    metrics)                echo metrics ;;
    quality)                echo quality ;;
    pipeline)               echo pipeline ;;
    stats)                  echo stats ;;
    batch)                  echo batch ;;
    preview)                echo preview ;;
    *)                      echo "" ;;
    esac
}
# external libraries: the modules that may include them
ext_ok() { # MODULE HEADER
    case $2 in
    libav* | libswscale/* | libswresample/* | png.h | pngconf.h)
        [ "$1" = io ] ;;
    json-c/*)
        case $1 in metrics | quality | stats | nn | batch | sr | preview | cmd) return 0 ;; *) return 1 ;; esac ;;
    CUnit/*) return 1 ;;
    *) return 0 ;;
    esac
}

bad=0
files=$(find lib cmd -name '*.[ch]' | sort)
for f in $files; do
    case $f in
    lib/aie/*) n=$(basename "$f" .h); mod=$(owner "$n")
               [ -n "$mod" ] || { echo "layers: $f: public header with no module in scripts/check-layers.sh" >&2; bad=1; continue; } ;;
    lib/*)     mod=${f#lib/}; mod=${mod%%/*} ;;
    cmd/*)     mod=cmd ;;
    esac
    ok=$(allowed "$mod")
    if [ "$ok" = "?" ]; then
        echo "layers: $f: directory lib/$mod is not in the module map (scripts/check-layers.sh)" >&2
        bad=1
        continue
    fi
    grep -n '^[[:space:]]*#[[:space:]]*include' "$f" | while IFS= read -r line; do
        ln=${line%%:*}
        inc=$(printf '%s\n' "$line" | sed -n 's/.*#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p')
        case $line in
        *'<'*)
            if ! ext_ok "$mod" "$inc"; then
                echo "layers: $f:$ln: $mod may not include <$inc>"
            fi
            continue ;;
        esac
        case $inc in
        aie/*) n=${inc#aie/}; to=$(owner "${n%.h}") ;;
        */*)   to=${inc%%/*}; [ "$mod" = cmd ] && to=private ;;
        *)     to=$mod ;;
        esac
        [ "$mod" = cmd ] && [ "$inc" = cli.h ] && continue
        if [ "$to" = private ]; then
            echo "layers: $f:$ln: cmd/ includes only public headers (aie/*.h), not \"$inc\""
            continue
        fi
        [ "$to" = "$mod" ] && continue
        [ "$ok" = "*" ] && continue
        case " $ok " in
        *" $to "*) ;;
        *) echo "layers: $f:$ln: $mod may not include \"$inc\" ($to); allowed: ${ok:-none}" ;;
        esac
    done
done > "${TMPDIR:-/tmp}/aie-layers.$$"
if [ -s "${TMPDIR:-/tmp}/aie-layers.$$" ]; then
    cat "${TMPDIR:-/tmp}/aie-layers.$$" >&2
    bad=1
fi
rm -f "${TMPDIR:-/tmp}/aie-layers.$$"
[ $bad -eq 0 ] && echo "layers: every #include follows the module map"
exit $bad
