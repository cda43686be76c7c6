/*
 * Shared body of the model loader fuzz targets (fuzz_waifu2x.c,
 * fuzz_anime4k.c, fuzz_ncnn.c): load from memory with aie_nn_load_mem(); a
 * model that loads must describe itself sensibly (RGB in and out, a positive
 * scale, the format it was loaded as) and must run: a small image through
 * the executor, tiled at the smallest tile and untiled, bit for bit equal.
 * A file that does not load must say why in err.
 */
#ifndef AIE_FUZZ_NN_CHECK_H
#define AIE_FUZZ_NN_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "aie/nn.h"
#include "nn/graph.h"

/* Run budget: floating-point operations of one pass over the test image. */
#define NN_FUZZ_FLOPS 2e7

static int nn_fuzz_run(const AieNnModel *m, int tile, const AieNnImage *in, AieNnImage *out)
{
    AieNnOpts o = {.tile = tile, .threads = 1, .cpu_flags = aie_cpu_flags()};
    AieNnExec *e = NULL;
    int err = aie_nn_exec_create(&e, m, &o);
    if (!err)
        err = aie_nn_exec_run(e, in, out, NULL, NULL);
    aie_nn_exec_free(&e);
    return err;
}

/* Run m on a w x h image, tiled and untiled; 1 when they differ or fail
 * other than for lack of memory. */
static int nn_fuzz_exec(const AieNnModel *m, const AieNnInfo *info, int w, int h)
{
    const NnGraph *g = aie_nn_model_graph(m);
    int *sizes = malloc(sizeof(int) * 2 * (size_t)g->n);
    float *src = NULL, *a = NULL, *b = NULL;
    int bad = 0;
    if (!sizes)
        return 0;
    if (aie_nn_graph_sizes(g, w, h, sizes)) /* too small for its valid convolutions */
        goto done;
    const int ow = sizes[2 * g->output], oh = sizes[2 * g->output + 1];
    if (info->flops_per_pixel * w * h > NN_FUZZ_FLOPS || (double)ow * oh > 1 << 20)
        goto done;
    const size_t ni = (size_t)w * h * 3, no = (size_t)ow * oh * 3;
    src = malloc(ni * sizeof(float));
    a = calloc(no, sizeof(float));
    b = calloc(no, sizeof(float));
    if (!src || !a || !b)
        goto done;
    uint32_t r = 12345;
    for (size_t i = 0; i < ni; i++) {
        r = r * 1664525u + 1013904223u;
        src[i] = (float)(r >> 8) / 16777216.0f;
    }
    AieNnImage in = {.w = w, .h = h, .c = 3, .data = src, .row = w, .plane = (ptrdiff_t)w * h};
    AieNnImage oa = {.w = ow, .h = oh, .c = 3, .data = a, .row = ow, .plane = (ptrdiff_t)ow * oh};
    AieNnImage ob = oa;
    ob.data = b;
    int ea = nn_fuzz_run(m, AIE_NN_MIN_TILE, &in, &oa), eb = nn_fuzz_run(m, 0, &in, &ob);
    if (ea == AIE_ENOMEM || eb == AIE_ENOMEM)
        goto done;
    if (ea || eb || memcmp(a, b, no * sizeof(float)))
        bad = 1;
done:
    free(sizes);
    free(src);
    free(a);
    free(b);
    return bad;
}

/* 0, or 1 when the loader contradicts itself. format: what the loader must
 * report; scale_num: the scale the model must have, 0 when any, -1 for
 * Anime4K's rule (2 for a cnn-2x network, else 1). */
static int nn_fuzz_check(const char *name, const char *format, int scale_num, const uint8_t *data,
                         size_t size, const uint8_t *bin, size_t binlen)
{
    AieNnModel *m = NULL;
    char err[512] = "";
    int e = aie_nn_load_mem(&m, name, data, size, bin, binlen, err, sizeof(err));
    if (e) /* no allocation fails under the fuzzer (ASan stops instead): AIE_ENOMEM would be a mislabel */
        return m || e != AIE_EMODEL || !err[0];
    if (!m)
        return 1;
    AieNnInfo info;
    aie_nn_info(m, &info);
    int bad = !info.name || !info.format || strcmp(info.format, format) || info.in_channels != 3 ||
              info.out_channels != 3 || info.scale_num < 1 || info.scale_den < 1 || info.layers < 0 ||
              info.context < 0 || !(info.flops_per_pixel >= 0) || !isfinite(info.flops_per_pixel) ||
              (scale_num > 0 && (info.scale_num != scale_num || info.scale_den != 1));
    if (!bad && scale_num < 0)
        bad = info.scale_num != (strstr(info.name, "/cnn-2x-") ? 2 : 1) || info.scale_den != 1;
    if (!bad) {
        /* above AIE_NN_MIN_TILE on both axes, so the tiled run has 4 tiles or more */
        int side = 2 * info.context + 5;
        side = side < 20 ? 20 : side > 40 ? 40 : side;
        while (side > 20 && info.flops_per_pixel * side * (side + 3) > NN_FUZZ_FLOPS)
            side--;
        bad = nn_fuzz_exec(m, &info, side + 3, side);
    }
    aie_nn_free(&m);
    return bad;
}

#endif
