/*
 * libFuzzer target for the .cube LUT parser (lib/look/lut.c): any bytes
 * through aie_lut_parse. A LUT that parses must describe itself sensibly
 * (1D or 3D, a size in range, finite DOMAIN_MIN below DOMAIN_MAX), give its
 * first and last entries back at the corners of its domain, evaluate to
 * finite values, and go through a style (the fixed-point tables and the
 * kernels) on small RGB and YUV frames without leaving the sample range.
 * A file that does not parse must say why ("line N: ...").
 * Seed corpus: testdata/fuzz/cube/. tests/test_fuzz.c replays it in make
 * check; `make fuzz` runs the campaign.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "aie/error.h"
#include "aie/frame.h"
#include "aie/look.h"
#include "look/look_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run the LUT over a small frame of every code pattern; 1 when an output
 * sample is out of range. */
static int cube_style(const AieLut *lut, AieLayout layout, int depth, AieLutInterp interp)
{
    AieStyleParams p = {.lut = lut, .interp = interp};
    AieStyle *s = NULL;
    AieFrame *in = NULL, *out = NULL;
    int bad = 0;
    if (aie_style_create(&s, &p, 16, 4, layout, depth, 0))
        return 1; /* a parsed LUT must be usable */
    if (aie_frame_alloc(&in, 16, 4, layout, depth) || aie_frame_alloc(&out, 16, 4, layout, depth))
        goto done;
    const unsigned maxv = (1u << depth) - 1;
    unsigned k = 0;
    for (int pl = 0; pl < in->nplanes; pl++)
        for (int y = 0; y < in->plane_h[pl]; y++)
            for (int x = 0; x < in->plane_w[pl]; x++) {
                unsigned v = (k++ * 2654435761u) >> 7 & maxv;
                if (depth > 8)
                    ((uint16_t *)(in->data[pl] + y * in->stride[pl]))[x] = (uint16_t)v;
                else
                    in->data[pl][y * in->stride[pl] + x] = (uint8_t)v;
            }
    if (aie_style_apply(s, in, out, NULL)) {
        bad = 1;
        goto done;
    }
    for (int pl = 0; pl < out->nplanes; pl++)
        for (int y = 0; y < out->plane_h[pl]; y++)
            for (int x = 0; x < out->plane_w[pl]; x++) {
                unsigned v = depth > 8 ? ((const uint16_t *)(out->data[pl] + y * out->stride[pl]))[x]
                                       : out->data[pl][y * out->stride[pl] + x];
                bad |= v > maxv;
            }
done:
    aie_frame_unref(&in);
    aie_frame_unref(&out);
    aie_style_free(&s);
    return bad;
}

/* 0, or 1 when the parser contradicts itself */
static int cube_fuzz_one(const uint8_t *data, size_t size)
{
    AieLut *lut = NULL;
    char err[256];
    int e = aie_lut_parse(&lut, (const char *)data, size, err, sizeof(err));
    if (e) {
        if (lut || (e != AIE_EFORMAT && e != AIE_ENOMEM))
            return 1;
        return e == AIE_EFORMAT && strncmp(err, "line ", 5) != 0;
    }
    if (!lut)
        return 1;
    int bad = 0;
    AieLutInfo info;
    aie_lut_info(lut, &info);
    if (!(info.dims == 1 || info.dims == 3) || info.size < AIE_LUT3D_MIN ||
        info.size > (info.dims == 3 ? AIE_LUT3D_MAX : AIE_LUT1D_MAX) || !info.title ||
        strlen(info.title) >= sizeof(lut->title))
        bad = 1;
    for (int c = 0; c < 3 && !bad; c++)
        if (!isfinite(info.domain_min[c]) || !isfinite(info.domain_max[c]) ||
            !(info.domain_min[c] < info.domain_max[c]))
            bad = 1;
    if (!bad) {
        /* the corners of the domain give the first and the last entry */
        const size_t n = info.dims == 3 ? (size_t)info.size * info.size * info.size : (size_t)info.size;
        double lo[3], hi[3], o[3];
        for (int c = 0; c < 3; c++) {
            lo[c] = info.domain_min[c];
            hi[c] = info.domain_max[c];
        }
        for (int tet = 0; tet < 2; tet++) {
            aie_lut_eval(lut, tet, lo, o);
            for (int c = 0; c < 3; c++)
                bad |= o[c] != (double)lut->data[c];
            aie_lut_eval(lut, tet, hi, o);
            for (int c = 0; c < 3; c++)
                bad |= o[c] != (double)lut->data[3 * (n - 1) + c];
            /* and a point inside: finite */
            double mid[3] = {lo[0] / 2 + hi[0] / 2, lo[1] * 0.7 + hi[1] * 0.3, lo[2] * 0.1 + hi[2] * 0.9};
            aie_lut_eval(lut, tet, mid, o);
            for (int c = 0; c < 3; c++)
                bad |= !isfinite(o[c]);
        }
    }
    if (!bad) {
        bad |= cube_style(lut, AIE_LAYOUT_RGB, 8, AIE_INTERP_TETRAHEDRAL);
        bad |= cube_style(lut, AIE_LAYOUT_YUV420, 10, AIE_INTERP_TRILINEAR);
    }
    aie_lut_free(&lut);
    return bad;
}

#ifndef AIE_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (cube_fuzz_one(data, size))
        __builtin_trap();
    return 0;
}
#endif
