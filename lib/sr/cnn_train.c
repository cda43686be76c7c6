/*
 * Training pairs for aie_nnt (aie/nn_train.h) from frames: 8-bit RGB of the
 * frame (YUV with its matrix and range, chroma nearest; gray replicated),
 * cropped to a multiple of the scale; the low-resolution image is the
 * bicubic downscale (aie/scale.h) of a copy optionally blurred by a
 * Gaussian, with Gaussian noise added, rounded to 8 bits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/util.h"
#include "aie/nn_train.h"
#include "aie/scale.h"
#include "aie/sr_cnn.h"

static inline int sample(const AieFrame *f, int p, int x, int y)
{
    const uint8_t *row = f->data[p] + (ptrdiff_t)y * f->stride[p];
    return f->depth > 8 ? ((const uint16_t *)(const void *)row)[x] : row[x];
}

static uint8_t clip8(double v) { return (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : (int)(v + 0.5)); }

static void coeffs(int matrix, int height, double *kr, double *kb)
{
    switch (matrix) {
    case 1: *kr = 0.2126; *kb = 0.0722; return;
    case 5:
    case 6: *kr = 0.299; *kb = 0.114; return;
    case 9:
    case 10: *kr = 0.2627; *kb = 0.0593; return;
    default:
        *kr = height >= 720 ? 0.2126 : 0.299;
        *kb = height >= 720 ? 0.0722 : 0.114;
    }
}

/* W x H of f as planar 8-bit RGB into rgb [3][H][W]. */
static void to_rgb8(const AieFrame *f, int W, int H, uint8_t *rgb)
{
    const size_t pl = (size_t)W * H;
    const double maxv = (double)((1 << f->depth) - 1), s8 = 255.0 / maxv;
    if (f->layout == AIE_LAYOUT_RGB || f->layout == AIE_LAYOUT_RGBA || f->layout == AIE_LAYOUT_GRAY) {
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    rgb[c * pl + (size_t)y * W + x] =
                        clip8(sample(f, f->layout == AIE_LAYOUT_GRAY ? 0 : c, x, y) * s8);
        return;
    }
    double kr, kb;
    coeffs(f->color.matrix, f->height, &kr, &kb);
    const double kg = 1 - kr - kb, sh = (double)(1 << (f->depth - 8));
    const int full = f->color.range == 2;
    const double yoff = full ? 0 : 16 * sh, ysc = full ? maxv : 219 * sh, csc = full ? maxv : 224 * sh;
    const int sx = f->layout == AIE_LAYOUT_YUV444 ? 0 : 1, sy = f->layout == AIE_LAYOUT_YUV420 ? 1 : 0;
    const double mid = 128 * sh;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const double Y = (sample(f, 0, x, y) - yoff) / ysc;
            const double U = (sample(f, 1, x >> sx, y >> sy) - mid) / csc, V = (sample(f, 2, x >> sx, y >> sy) - mid) / csc;
            const double R = Y + 2 * (1 - kr) * V, B = Y + 2 * (1 - kb) * U;
            const double G = (Y - kr * R - kb * B) / kg;
            rgb[(size_t)y * W + x] = clip8(R * 255);
            rgb[pl + (size_t)y * W + x] = clip8(G * 255);
            rgb[2 * pl + (size_t)y * W + x] = clip8(B * 255);
        }
}

static void blur(uint8_t *pl, int w, int h, double sigma, float *tmp)
{
    const int rad = (int)ceil(3 * sigma);
    float k[64];
    double s = 0;
    for (int i = -rad; i <= rad; i++)
        s += exp(-(double)i * i / (2 * sigma * sigma));
    for (int i = -rad; i <= rad; i++)
        k[i + rad] = (float)(exp(-(double)i * i / (2 * sigma * sigma)) / s);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float v = 0;
            for (int i = -rad; i <= rad; i++) {
                int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
                v += k[i + rad] * pl[(size_t)y * w + xx];
            }
            tmp[(size_t)y * w + x] = v;
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float v = 0;
            for (int i = -rad; i <= rad; i++) {
                int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
                v += k[i + rad] * tmp[(size_t)yy * w + x];
            }
            pl[(size_t)y * w + x] = clip8(v);
        }
}

int aie_cnn_train_add(AieNnTrainer *t, const AieFrame *f, const AieCnnTrainDegrade *d, int64_t index,
                      int validation, unsigned cpu_flags, AiePool *pool)
{
    const int r = aie_nnt_params(t)->arch.scale, W = f->width / r * r, H = f->height / r * r;
    const int lw = W / r, lh = H / r;
    if (lw < aie_nnt_params(t)->patch || lh < aie_nnt_params(t)->patch)
        return AIE_EINVAL;
    if (d->blur > 10 || d->blur < 0)
        return AIE_EINVAL;
    const size_t pl = (size_t)W * H;
    int e = 0;
    uint8_t *hr = malloc(3 * pl), *lr = malloc(3 * (size_t)lw * lh);
    AieFrame *src = NULL, *dst = NULL;
    AieScaler *sc = NULL;
    float *tmp = NULL;
    if (!hr || !lr) {
        e = AIE_ENOMEM;
        goto done;
    }
    to_rgb8(f, W, H, hr);
    if ((e = aie_frame_alloc(&src, W, H, AIE_LAYOUT_RGB, 8)) || (e = aie_frame_alloc(&dst, lw, lh, AIE_LAYOUT_RGB, 8)))
        goto done;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < H; y++)
            memcpy(src->data[c] + (ptrdiff_t)y * src->stride[c], hr + c * pl + (size_t)y * W, (size_t)W);
    if (d->blur > 0) {
        if (!(tmp = malloc(sizeof(float) * pl))) {
            e = AIE_ENOMEM;
            goto done;
        }
        for (int c = 0; c < 3; c++) {
            uint8_t *p = hr + c * pl; /* blur a copy: put it in src and restore hr after */
            uint8_t *cp = malloc(pl);
            if (!cp) {
                e = AIE_ENOMEM;
                goto done;
            }
            memcpy(cp, p, pl);
            blur(cp, W, H, d->blur, tmp);
            for (int y = 0; y < H; y++)
                memcpy(src->data[c] + (ptrdiff_t)y * src->stride[c], cp + (size_t)y * W, (size_t)W);
            free(cp);
        }
    }
    AieScaleParams sp = {.src_w = W, .src_h = H, .dst_w = lw, .dst_h = lh, .layout = AIE_LAYOUT_RGB, .depth = 8,
                         .filter = AIE_FILTER_BICUBIC};
    if ((e = aie_scaler_create(&sc, &sp, cpu_flags)) || (e = aie_scaler_scale(sc, src, dst, pool)))
        goto done;
    uint64_t seed = d->seed ^ ((uint64_t)index * 0xd1b54a32d192ed03ull);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < lh; y++)
            for (int x = 0; x < lw; x++) {
                double v = dst->data[c][(ptrdiff_t)y * dst->stride[c] + x];
                if (d->noise > 0)
                    v += d->noise * aie_gauss(&seed);
                lr[((size_t)c * lh + y) * lw + x] = clip8(v);
            }
    e = aie_nnt_add_pair(t, lr, lw, lh, hr, validation);
done:
    free(tmp);
    free(hr);
    free(lr);
    aie_scaler_free(&sc);
    aie_frame_unref(&src);
    aie_frame_unref(&dst);
    return e;
}
