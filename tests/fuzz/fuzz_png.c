/*
 * libFuzzer target for the PNG reader (lib/io/png.c): any bytes through
 * aie_png_probe and aie_png_read, the way a file reaches them; a frame that
 * comes back must be consistent with what the probe said. Seed corpus:
 * testdata/fuzz/png/ (8/16-bit, gray/RGB/RGBA, palette, Adam7, damaged files).
 * tests/test_png.c replays the corpus through png_fuzz_one() in make check;
 * `make fuzz` runs the campaign.
 */
#include <stdint.h>
#include <stdio.h>

#include "aie/error.h"
#include "aie/frame.h"
#include "io/png.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0, or 1 when the reader contradicts itself */
static int png_fuzz_one(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return 0;
    int w = 0, h = 0, depth = 0, bad = 0;
    AieLayout layout = AIE_LAYOUT_RGB;
    char err[256];
    int probed = aie_png_probe(f, &w, &h, &layout, &depth, err, sizeof(err));
    rewind(f);
    AieFrame *fr = NULL;
    int e = aie_png_read(f, &fr, err, sizeof(err));
    if (e == 0) {
        if (!fr || probed != 0 || fr->width != w || fr->height != h || fr->layout != layout ||
            fr->depth != depth || w > AIE_MAX_DIM || h > AIE_MAX_DIM)
            bad = 1;
        else { /* touch every sample, so a short buffer shows under ASan */
            volatile unsigned sum = 0;
            for (int p = 0; p < fr->nplanes; p++)
                for (int y = 0; y < fr->plane_h[p]; y++) {
                    const uint8_t *row = fr->data[p] + y * fr->stride[p];
                    size_t n = (size_t)fr->plane_w[p] * (size_t)aie_depth_bytes(fr->depth);
                    for (size_t i = 0; i < n; i++)
                        sum += row[i];
                }
            (void)sum;
        }
    } else if (fr || e > 0) {
        bad = 1;
    }
    aie_frame_unref(&fr);
    fclose(f);
    return bad;
}

#ifndef AIE_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (png_fuzz_one(data, size))
        __builtin_trap();
    return 0;
}
#endif
