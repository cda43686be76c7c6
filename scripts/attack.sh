#!/bin/bash
# Rerun the attack list of issue 20 against the built tools.
# Usage: scripts/attack.sh [BUILD_DIR]   (root for rows 1 and 5)
B=$(cd "${1:-build}" && pwd) || exit 2
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/aie-attack.XXXXXX) || exit 2
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2
H=0; K=0
held()   { H=$((H+1)); printf 'held    %-3s %s\n' "$1" "$2"; }
broken() { K=$((K+1)); printf 'broken  %-3s %s  (%s)\n' "$1" "$2" "$3"; }
skipped(){ printf 'skipped %-3s %s  (%s)\n' "$1" "$2" "$3"; }
ff() { ffmpeg -nostdin -v error -y "$@"; }
json_ok() { python3 -c 'import json,sys; json.loads(sys.argv[1])' "$1" 2>/dev/null; }
root=0; [ "$(id -u)" = 0 ] && root=1

ff -f lavfi -i testsrc2=s=160x90:r=25:d=1 -pix_fmt yuv420p small.y4m
ff -f lavfi -i testsrc2=s=160x90:r=25:d=2 -c:v libx264 -pix_fmt yuv420p small.mp4

# 1 planted symlink at the predictable temp path
row1() {
    local d="$T/r1"; mkdir -p "$d"; chmod 1777 "$d"
    echo precious > "$T/victim"; chmod 644 "$T/victim"
    local old; old=$(cat /proc/sys/fs/protected_symlinks)
    sysctl -qw fs.protected_symlinks=0
    local p; p=$(cat /proc/sys/kernel/ns_last_pid)
    setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c '
        for i in $(seq $(('"$p"'+1)) $(('"$p"'+400))); do
            ln -s '"$T"'/victim '"$d"'/.out.y4m.aie-$i.tmp; done'
    "$B/aie-upscale" -q -s 2 -m bilinear -i small.y4m -o "$d/out.y4m" >/dev/null 2>r1.err
    local rc=$?
    sysctl -qw fs.protected_symlinks="$old"
    if [ "$(cat "$T/victim")" != precious ]; then broken 1 "planted temp symlink" "victim overwritten, rc $rc"
    elif [ -L "$d/out.y4m" ]; then broken 1 "planted temp symlink" "output is a link"
    else held 1 "planted temp symlink (rc $rc, victim intact)"; fi
}
if [ $root = 1 ]; then row1; else skipped 1 "planted temp symlink" "not root"; fi

# 2 two concurrent -n runs to one output
row2() {
    "$B/aie-upscale" -q -n -s 2 -m lanczos -i small.y4m -o r2.mp4 2>r2a.err & local a=$!
    "$B/aie-upscale" -q -n -s 2 -m lanczos -i small.y4m -o r2.mp4 2>r2b.err & local b=$!
    wait $a; local ra=$?; wait $b; local rb=$?
    if { [ $ra = 0 ] && [ $rb = 1 ]; } || { [ $ra = 1 ] && [ $rb = 0 ]; }; then
        held 2 "concurrent -n runs: one wins, one exits 1"
    else broken 2 "concurrent -n runs" "exits $ra and $rb"; fi
}
row2

# 3 PNG sequence output pattern equal to the input pattern
row3() {
    mkdir -p seq; ff -f lavfi -i testsrc2=s=64x36:r=25:d=0.2 seq/%03d.png
    local before; before=$(cat seq/*.png | md5sum)
    "$B/aie-upscale" -q -s 2 -m bilinear -i seq/%03d.png -o seq/%03d.png 2>r3.err; local rc=$?
    if [ $rc != 0 ] && [ "$(cat seq/*.png | md5sum)" = "$before" ]; then held 3 "PNG sequence onto itself refused"
    else broken 3 "PNG sequence onto itself" "rc $rc, inputs $( [ "$(cat seq/*.png | md5sum)" = "$before" ] && echo unchanged || echo changed)"; fi
}
row3

# 4 SIGINT/SIGTERM during the encoder drain
row4() {
    local sig=$1 want=$2
    rm -f r4.mp4 r4.jsonl; : > r4.err
    "$B/aie-upscale" --progress -s 2 -m bilinear --preset veryslow -j 2 --metrics r4.jsonl \
        -i small.mp4 -o r4.mp4 2>r4.err & local p=$!
    local i=0
    while ! grep -q finishing r4.err && kill -0 $p 2>/dev/null && [ $i -lt 600 ]; do sleep 0.02; i=$((i+1)); done
    if ! grep -q finishing r4.err; then wait $p; broken 4 "SIG$sig in the drain" "no \"finishing\" seen"; return; fi
    local t0; t0=$(date +%s%N); kill -$sig $p; wait $p; local rc=$?
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    local tmps; tmps=$(ls -A | grep -c '\.aie-.*\.tmp$')
    local st; st=$(grep '"run_end"' r4.jsonl | grep -o '"status": *"[a-z]*"' | tail -1)
    if [ $rc = $want ] && [ $ms -le 1500 ] && [ ! -e r4.mp4 ] && [ "$tmps" = 0 ] && echo "$st" | grep -q cancelled; then
        held 4 "SIG$sig in the drain ends in ${ms} ms, exit $rc, cancelled"
    else broken 4 "SIG$sig in the drain" "rc $rc, ${ms} ms, output $( [ -e r4.mp4 ] && echo yes || echo no), temps $tmps, $st"; fi
}
row4 INT 130
row4 TERM 143

# 5 full disk under the metrics log
row5() {
    local m="$T/r5"; mkdir -p "$m"
    mount -t tmpfs -o size=64k tmpfs "$m" || { skipped 5 "full disk metrics" "mount failed"; return; }
    "$B/aie-upscale" -q -s 2 -m bilinear --metrics "$m/log.jsonl" -i small.y4m -o r5a.y4m 2>/dev/null
    local sz; sz=$(stat -c %s "$m/log.jsonl")
    dd if=/dev/zero of="$m/fill" bs=1 count=$((65536 - 4096 - sz + 100)) 2>/dev/null
    dd if=/dev/zero of="$m/fill2" bs=1 2>/dev/null   # fill the rest
    local k; for k in 1 2 3 4 5 6; do    # runs on the full disk use up the page's slack
        "$B/aie-upscale" -q -s 2 -m bilinear --metrics "$m/log.jsonl" -i small.y4m -o r5b.y4m 2>/dev/null
    done
    local full; full=$(stat -c %s "$m/log.jsonl")
    rm -f "$m/fill" "$m/fill2"
    "$B/aie-upscale" -q -s 2 -m bilinear --metrics "$m/log.jsonl" -i small.y4m -o r5c.y4m 2>/dev/null
    local bad=0 n=0 line
    while IFS= read -r line; do n=$((n+1)); json_ok "$line" || bad=$((bad+1)); done < "$m/log.jsonl"
    local last; last=$(tail -n 1 "$m/log.jsonl")
    umount "$m"
    if [ $bad -le 1 ] && json_ok "$last"; then held 5 "full disk: $bad torn line of $n, the rest parse (log $sz -> $full bytes while full)"
    else broken 5 "full disk metrics" "$bad of $n lines do not parse"; fi
}
if [ $root = 1 ]; then row5; else skipped 5 "full disk metrics" "not root"; fi

# 6 byte-flipped H.264 mp4
row6() {
    ff -f lavfi -i testsrc2=s=320x180:r=25:d=2 -c:v libx264 -g 10 -pix_fmt yuv420p r6.mp4
    python3 - <<'PY'
import random
b = bytearray(open('r6.mp4','rb').read()); r = random.Random(20)
for _ in range(20):
    i = r.randrange(4096, len(b) - 4096); b[i] ^= 0xff
open('r6.mp4','wb').write(b)
PY
    "$B/aie-upscale" -s 2 -m bilinear --metrics r6.jsonl -i r6.mp4 -o r6o.mp4 >/dev/null 2>r6.err; local rc=$?
    "$B/aie-upscale" -q --strict -s 2 -m bilinear -i r6.mp4 -o r6s.mp4 >/dev/null 2>/dev/null; local rs=$?
    local warn=0 rec=0
    grep -qiE '[0-9]+.*(decode error|damaged|concealed)|(decode error|damaged|concealed).*[0-9]+' r6.err && warn=1
    grep '"run_end"' r6.jsonl | grep -q decode_errors && rec=1
    if [ $warn = 1 ] && [ $rec = 1 ] && [ $rs = 1 ]; then held 6 "byte-flipped H.264: warned, decode_errors, --strict exit 1"
    else broken 6 "byte-flipped H.264" "rc $rc, warning $warn, record $rec, --strict rc $rs"; fi
}
row6

# 7 an AVI cut by ffmpeg
row7() {
    ff -f lavfi -i testsrc2=s=160x90:r=25:d=2 -c:v mpeg4 in.avi
    ff -i in.avi -t 1 -c:v mpeg4 -an cut.avi
    "$B/aie-upscale" -q -s 2 -m bilinear -i cut.avi -o r7.mp4 2>r7.err; local rc=$?
    if [ $rc = 0 ]; then held 7 "ffmpeg-cut AVI decodes"; else broken 7 "ffmpeg-cut AVI" "rc $rc: $(head -1 r7.err)"; fi
}
row7

skipped 8 "webm with audio timestamps going back" "covered by tests audio/damaged_timestamps, audio/refused_packet"

# 9 aie-batch /dev/zero
row9() {
    local t0; t0=$(date +%s%N)
    (ulimit -v 2000000; timeout 10 "$B/aie-batch" /dev/zero) >/dev/null 2>r9.err; local rc=$?
    local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    if [ $rc != 0 ] && [ $rc != 124 ] && [ $ms -lt 5000 ] && [ "$(wc -l < r9.err)" = 1 ]; then
        held 9 "aie-batch /dev/zero refused in ${ms} ms, one line"
    else broken 9 "aie-batch /dev/zero" "rc $rc, ${ms} ms, $(wc -l < r9.err) lines"; fi
}
row9

# 10 FIFOs given as --lut/--bank/--model/--reference: the files read whole
# are refused with one line; --reference reads a FIFO as a stream, like -i
# (aie-style.1), so with no writer it waits, and a signal ends the wait
row10() {
    mkfifo fifo
    local bad="" cmd
    for cmd in "aie-style --lut fifo -i small.y4m -o r10a.y4m" \
               "aie-upscale --bank fifo -i small.y4m -o r10b.y4m" \
               "aie-upscale --model ./fifo -i small.y4m -o r10c.y4m"; do
        timeout 5 "$B"/$cmd >/dev/null 2>r10.err; local rc=$?
        if [ $rc = 0 ] || [ $rc = 124 ] || [ "$(wc -l < r10.err)" != 1 ]; then
            bad="$bad${bad:+ }${cmd%% -i*}: rc $rc, $(wc -l < r10.err) lines;"; fi
    done
    "$B/aie-style" --reference fifo -i small.y4m -o r10d.y4m >/dev/null 2>&1 &
    local pid=$! t0
    sleep 1
    t0=$(date +%s%N)
    kill -TERM $pid 2>/dev/null
    wait $pid; local rc=$? ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    if [ $rc != 143 ] || [ $ms -gt 1500 ] || [ -e r10d.y4m ]; then
        bad="$bad${bad:+ }--reference fifo without a writer: TERM gave rc $rc in $ms ms;"; fi
    if [ -z "$bad" ]; then held 10 "FIFO: --lut/--bank/--model refused, --reference waits as a stream and TERM ends it"
    else broken 10 "FIFO as model/bank/lut/reference" "${bad%;}"; fi
}
row10

# 11 waifu2x JSON model with a NaN weight
row11() {
    cp "$SRC/testdata/nn/tiny_scale2.0x_model.json" w.json || { skipped 11 "NaN weight" "no tiny model"; return; }
    sed -i '0,/0\.5/s//NaN/' w.json
    "$B/aie-upscale" --model ./w.json -i small.y4m -o r11.y4m >/dev/null 2>r11.err; local rc=$?
    if [ $rc != 0 ] && grep -q NaN r11.err && [ ! -e r11.y4m ]; then held 11 "waifu2x model with a NaN weight rejected"
    else broken 11 "waifu2x model with a NaN weight" "rc $rc: $(head -1 r11.err)"; fi
}
row11

# Also: ulimit -v 1G with a 1080p -> 4K request
rowA() {
    ff -f lavfi -i testsrc2=s=1920x1080:r=25:d=0.2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p hd.mp4
    (ulimit -v 1000000; "$B/aie-upscale" -s 2 -m lanczos -i hd.mp4 -o rA.mp4) >/dev/null 2>rA.err; local rc=$?
    if [ $rc != 0 ] && grep -qE 'memory ran out|address-space limit' rA.err; then held A "ulimit -v 1G, 4K: memory named"
    else broken A "ulimit -v 1G, 4K" "rc $rc: $(tail -1 rA.err)"; fi
}
rowA

echo "attack: $H held, $K broken"
