#!/bin/bash
# Fetch the development clips for frame interpolation into the ignored cache:
# real footage from three Debian packages (pinned by version and sha256,
# extracted with dpkg-deb), plus pans and zooms rendered over the development
# photos of scripts/fetch-devdata.sh, whose every frame is exact ground truth.
# usage: scripts/fetch-devclips.sh   -> prints the clips directory
#   clips:  balle-jbart.mp4    720x576  25 fps h264, a ball thrown (python3-mecavideo)
#           balle1-vp9.avi     320x240 187 fps vp9, high-speed ball (python3-mecavideo)
#           vid1080.mp4       1920x1080 30 fps h264, 41 frames, handheld (forensics-samples-files)
#           movie-hello.mp4   1280x720  30 fps h264, screencast; every frame shown twice
#           diver.mov          640x480  25 fps mjpeg, underwater; every third frame repeated
#           pan1080.y4m       1920x1080 30 fps, 60 frames, diagonal pan, 12x6 px/frame
#           zoom720.y4m       1280x720  30 fps, 60 frames, zoom in (16 px wider per frame)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${AIE_DEVCLIPS:-$top/.cache/devclips}
mkdir -p "$dir/x"
cd "$dir"
fetch() { # package version sha256
    local deb
    deb=$(ls "$1"_*.deb 2>/dev/null | head -1 || true)
    if [ -z "$deb" ]; then
        apt-get download "$1=$2" >/dev/null 2>&1 || {
            apt-get update -q >/dev/null 2>&1 || true
            apt-get download "$1=$2" >/dev/null
        }
        deb=$(ls "$1"_*.deb | head -1)
    fi
    echo "$3  $deb" | sha256sum -c --quiet - >&2 ||
        { echo "fetch-devclips: $deb: checksum mismatch" >&2; rm -f "$deb"; exit 1; }
    [ -e "x/.$1" ] || { dpkg-deb -x "$deb" x && touch "x/.$1"; }
}
fetch forensics-samples-files 1.1.4-5 8710c751be1a71a88e343540ea1a5cab1fd349c2bcdf07626a27cfe68689e7c4
fetch pd-extendedview 0.5~repack-4 15736773df4797252fb3559ebf760418d1e7726f920ce5a35c0ee668f8338c6b
fetch python3-mecavideo 8.0~rc5-1 ddbf099d3d5a412ee664a8628d331752b17abb4b857e3a100f694eed9670df78

link() { [ -e "$2" ] || ln -s "$1" "$2"; }
link x/usr/share/forensics-samples/original-files/movie2/movie-hello.mp4 movie-hello.mp4
link x/usr/share/doc/pd-extendedview/media/diver.mov diver.mov
link x/usr/share/pymecavideo/data/video/balle-jbart.mp4 balle-jbart.mp4
link x/usr/share/pymecavideo/data/video/balle1-vp9.avi balle1-vp9.avi
link x/usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4 vid1080.mp4

# Rendered clips: each frame is computed from the photo at its own time, so
# the frames an interpolator rebuilds have an exact reference.
photos=$("$top/scripts/fetch-devdata.sh")/usr/share/backgrounds/mate/nature
# (-framerate on the looped input: an output -r would repeat frames)
if [ ! -s pan1080.y4m ]; then
    ffmpeg -v error -y -framerate 30 -loop 1 -i "$photos/LadyBird.jpg" \
        -vf "crop=1920:1080:'n*12':'n*6',format=yuv420p" \
        -frames:v 60 -f yuv4mpegpipe pan1080.tmp && mv pan1080.tmp pan1080.y4m
fi
if [ ! -s zoom720.y4m ]; then
    # the 2560x1600 photo scaled to (1600 + 16n) x (1000 + 10n), the centre
    # 1280x720 cropped: sizes and offsets are exact integers, so the zoom is
    # linear in time and the middle frame is exactly halfway
    ffmpeg -v error -y -framerate 30 -loop 1 -i "$photos/TwoWings.jpg" \
        -vf "scale=w='1600+16*n':h='1000+10*n':eval=frame:flags=bicubic,crop=1280:720:'(iw-1280)/2':'(ih-720)/2',format=yuv420p" \
        -frames:v 60 -f yuv4mpegpipe zoom720.tmp && mv zoom720.tmp zoom720.y4m
fi
echo "$dir"
