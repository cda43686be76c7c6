/*
 * Frames through a network: float RGB conversion in and out, the engine in
 * between, lanczos for the sizes the model does not make and for alpha.
 * (The colour rules are in aie/sr_cnn.h.)
 *
 * Chroma siting (FFmpeg AVChromaLocation): horizontally co-sited with even
 * luma samples for left, topleft and bottomleft (and unspecified), centred
 * between two for center, top and bottom; vertically (4:2:0) centred for
 * left and center (and unspecified), on even rows for topleft and top, on
 * odd rows for bottomleft and bottom. Upsampling is linear between the two
 * nearest chroma samples; downsampling averages [1 2 1] / 4 around a
 * co-sited position and [1 1] / 2 around a centred one.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/scale.h"
#include "aie/sr_cnn.h"

struct AieCnnUpscaler {
    AieCnnParams p;
    const AieNnModel *m;
    AieNnExec *exec;
    int mw, mh;          /* the model's output size */
    AieScaler *resize;   /* model size -> dst size, NULL when they match */
    AieScaler *alpha;    /* src alpha -> dst alpha (RGBA) */
    int yuv, sx, sy;     /* chroma shifts */
    float kr, kb;
    float yoff, yscale, coff, cscale; /* sample = off + scale * value */
    float maxv;
    float hoff, voff;    /* chroma position in luma samples: 0, 0.5 or 1 */
};

/* ---- samples ---- */

static inline float get(const AieFrame *f, int p, int x, int y)
{
    const uint8_t *row = f->data[p] + (ptrdiff_t)y * f->stride[p];
    return f->depth > 8 ? (float)((const uint16_t *)(const void *)row)[x] : (float)row[x];
}

static inline void put(AieFrame *f, int p, int x, int y, float v, float maxv)
{
    v = v < 0.0f ? 0.0f : v > maxv ? maxv : v;
    uint8_t *row = f->data[p] + (ptrdiff_t)y * f->stride[p];
    if (f->depth > 8)
        ((uint16_t *)(void *)row)[x] = (uint16_t)lrintf(v);
    else
        row[x] = (uint8_t)lrintf(v);
}

static inline float clip01(float v) { return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }

/* chroma position t of luma position x: sample i sits at x = i * f + off */
static inline void chroma_src(int x, int shift, float off, int n, int *i0, int *i1, float *fr)
{
    float t = ((float)x - off) / (float)(1 << shift);
    int fl = (int)floorf(t);
    *fr = t - (float)fl;
    *i0 = fl < 0 ? 0 : fl > n - 1 ? n - 1 : fl;
    *i1 = fl + 1 < 0 ? 0 : fl + 1 > n - 1 ? n - 1 : fl + 1;
}

/* ---- frame -> float RGB ---- */

typedef struct InCtx {
    const AieCnnUpscaler *u;
    const AieFrame *f;
    AieNnImage *img;
    int slices;
} InCtx;

static void to_float(void *opaque, int s, int worker)
{
    (void)worker;
    const InCtx *c = opaque;
    const AieCnnUpscaler *u = c->u;
    const AieFrame *f = c->f;
    AieNnImage *im = c->img;
    const int y0 = (int)((long long)f->height * s / c->slices), y1 = (int)((long long)f->height * (s + 1) / c->slices);
    float *R = im->data, *G = im->data + im->plane, *B = im->data + 2 * im->plane;
    for (int y = y0; y < y1; y++) {
        const ptrdiff_t o = (ptrdiff_t)y * im->row;
        if (f->layout == AIE_LAYOUT_RGB || f->layout == AIE_LAYOUT_RGBA) {
            for (int x = 0; x < f->width; x++) {
                R[o + x] = get(f, 0, x, y) / u->maxv;
                G[o + x] = get(f, 1, x, y) / u->maxv;
                B[o + x] = get(f, 2, x, y) / u->maxv;
            }
            continue;
        }
        if (f->layout == AIE_LAYOUT_GRAY) {
            for (int x = 0; x < f->width; x++)
                R[o + x] = G[o + x] = B[o + x] = clip01((get(f, 0, x, y) - u->yoff) / u->yscale);
            continue;
        }
        int j0, j1;
        float fy;
        chroma_src(y, u->sy, u->voff, f->plane_h[1], &j0, &j1, &fy);
        for (int x = 0; x < f->width; x++) {
            int i0, i1;
            float fx;
            chroma_src(x, u->sx, u->hoff, f->plane_w[1], &i0, &i1, &fx);
            float cb[2], cr[2];
            for (int k = 0; k < 2; k++) {
                int j = k ? j1 : j0;
                cb[k] = get(f, 1, i0, j) + fx * (get(f, 1, i1, j) - get(f, 1, i0, j));
                cr[k] = get(f, 2, i0, j) + fx * (get(f, 2, i1, j) - get(f, 2, i0, j));
            }
            float Y = (get(f, 0, x, y) - u->yoff) / u->yscale;
            float Cb = (cb[0] + fy * (cb[1] - cb[0]) - u->coff) / u->cscale;
            float Cr = (cr[0] + fy * (cr[1] - cr[0]) - u->coff) / u->cscale;
            float r = Y + 2.0f * (1.0f - u->kr) * Cr, b = Y + 2.0f * (1.0f - u->kb) * Cb;
            float g = (Y - u->kr * r - u->kb * b) / (1.0f - u->kr - u->kb);
            R[o + x] = clip01(r);
            G[o + x] = clip01(g);
            B[o + x] = clip01(b);
        }
    }
}

/* ---- float RGB -> frame ---- */

typedef struct OutCtx {
    const AieCnnUpscaler *u;
    const AieNnImage *img;
    AieFrame *f;
    float *cb, *cr;      /* full-resolution chroma (subsampled layouts) */
    int slices;
} OutCtx;

static void from_float(void *opaque, int s, int worker)
{
    (void)worker;
    const OutCtx *c = opaque;
    const AieCnnUpscaler *u = c->u;
    AieFrame *f = c->f;
    const AieNnImage *im = c->img;
    const int y0 = (int)((long long)f->height * s / c->slices), y1 = (int)((long long)f->height * (s + 1) / c->slices);
    const float *R = im->data, *G = im->data + im->plane, *B = im->data + 2 * im->plane;
    const float kg = 1.0f - u->kr - u->kb;
    for (int y = y0; y < y1; y++) {
        const ptrdiff_t o = (ptrdiff_t)y * im->row;
        for (int x = 0; x < f->width; x++) {
            float r = clip01(R[o + x]), g = clip01(G[o + x]), b = clip01(B[o + x]);
            if (f->layout == AIE_LAYOUT_RGB || f->layout == AIE_LAYOUT_RGBA) {
                put(f, 0, x, y, r * u->maxv, u->maxv);
                put(f, 1, x, y, g * u->maxv, u->maxv);
                put(f, 2, x, y, b * u->maxv, u->maxv);
                continue;
            }
            float Y = u->kr * r + kg * g + u->kb * b;
            put(f, 0, x, y, u->yoff + u->yscale * Y, u->maxv);
            if (f->layout == AIE_LAYOUT_GRAY)
                continue;
            float Cb = (b - Y) / (2.0f * (1.0f - u->kb)), Cr = (r - Y) / (2.0f * (1.0f - u->kr));
            if (!u->sx && !u->sy) {
                put(f, 1, x, y, u->coff + u->cscale * Cb, u->maxv);
                put(f, 2, x, y, u->coff + u->cscale * Cr, u->maxv);
            } else {
                c->cb[(ptrdiff_t)y * f->width + x] = Cb;
                c->cr[(ptrdiff_t)y * f->width + x] = Cr;
            }
        }
    }
}

/* taps of chroma sample i along an axis of n luma samples: 2 or 3 */
static int down_taps(int i, int shift, float off, int n, int *idx, float *w)
{
    if (!shift) {
        idx[0] = i < n ? i : n - 1;
        w[0] = 1.0f;
        return 1;
    }
    if (off == 0.5f) { /* centred between 2i and 2i + 1 */
        idx[0] = 2 * i < n ? 2 * i : n - 1;
        idx[1] = 2 * i + 1 < n ? 2 * i + 1 : n - 1;
        w[0] = w[1] = 0.5f;
        return 2;
    }
    int c = 2 * i + (off == 1.0f); /* co-sited with luma sample c */
    idx[0] = c - 1 < 0 ? 0 : c - 1 > n - 1 ? n - 1 : c - 1;
    idx[1] = c > n - 1 ? n - 1 : c;
    idx[2] = c + 1 > n - 1 ? n - 1 : c + 1;
    w[0] = w[2] = 0.25f;
    w[1] = 0.5f;
    return 3;
}

static void chroma_down(void *opaque, int s, int worker)
{
    (void)worker;
    const OutCtx *c = opaque;
    const AieCnnUpscaler *u = c->u;
    AieFrame *f = c->f;
    const int ch = f->plane_h[1], cw = f->plane_w[1];
    const int j0 = (int)((long long)ch * s / c->slices), j1 = (int)((long long)ch * (s + 1) / c->slices);
    for (int j = j0; j < j1; j++) {
        int vy[3];
        float wy[3];
        int ny = down_taps(j, u->sy, u->voff, f->height, vy, wy);
        for (int i = 0; i < cw; i++) {
            int vx[3];
            float wx[3];
            int nx = down_taps(i, u->sx, u->hoff, f->width, vx, wx);
            float b = 0.0f, r = 0.0f;
            for (int a = 0; a < ny; a++)
                for (int k = 0; k < nx; k++) {
                    ptrdiff_t at = (ptrdiff_t)vy[a] * f->width + vx[k];
                    b += wy[a] * wx[k] * c->cb[at];
                    r += wy[a] * wx[k] * c->cr[at];
                }
            put(f, 1, i, j, u->coff + u->cscale * b, u->maxv);
            put(f, 2, i, j, u->coff + u->cscale * r, u->maxv);
        }
    }
}

static int slices_for(AiePool *pool, int rows)
{
    int n = pool ? 4 * (aie_pool_threads(pool) + 1) : 1;
    return n > rows ? (rows > 0 ? rows : 1) : n;
}

static int image_alloc(AieNnImage *im, int w, int h)
{
    im->w = w;
    im->h = h;
    im->c = 3;
    im->row = w;
    im->plane = (ptrdiff_t)w * h;
    im->data = malloc(sizeof(float) * 3 * (size_t)im->plane);
    return im->data ? 0 : AIE_ENOMEM;
}

int aie_cnn_upscale(AieCnnUpscaler *u, const AieFrame *src, AieFrame *dst, AiePool *pool,
                    AieCancel *cancel)
{
    const AieCnnParams *p = &u->p;
    if (src->width != p->src_w || src->height != p->src_h || src->layout != p->layout ||
        src->depth != p->depth || dst->width != p->dst_w || dst->height != p->dst_h ||
        dst->layout != p->layout || dst->depth != p->depth)
        return AIE_EINVAL;
    AieNnImage in = {0}, out = {0};
    AieFrame *mid = NULL, *a = NULL, *b = NULL;
    float *chroma = NULL;
    int err;
    if ((err = image_alloc(&in, p->src_w, p->src_h)) || (err = image_alloc(&out, u->mw, u->mh)))
        goto fail;
    /* everything the frame needs is allocated before the network runs, so
     * that when memory is short the tile is halved until it all fits (an
     * allocation failing after the run would fail the frame instead) */
    AieFrame *target = dst;
    if (u->resize) {
        if ((err = aie_frame_alloc(&mid, u->mw, u->mh, p->layout, p->depth)))
            goto fail;
        target = mid;
    }
    OutCtx oc = {u, &out, target, NULL, NULL, slices_for(pool, target->height)};
    if (u->yuv && (u->sx || u->sy)) {
        chroma = malloc(sizeof(float) * 2 * (size_t)target->width * (size_t)target->height);
        if (!chroma) {
            err = AIE_ENOMEM;
            goto fail;
        }
        oc.cb = chroma;
        oc.cr = chroma + (size_t)target->width * (size_t)target->height;
    }
    InCtx ic = {u, src, &in, slices_for(pool, src->height)};
    aie_pool_parallel_for(pool, ic.slices, to_float, &ic);
    if ((err = aie_nn_exec_run(u->exec, &in, &out, pool, cancel)))
        goto fail;
    free(in.data);
    in.data = NULL;
    aie_pool_parallel_for(pool, oc.slices, from_float, &oc);
    if (oc.cb) {
        oc.slices = slices_for(pool, target->plane_h[1]);
        aie_pool_parallel_for(pool, oc.slices, chroma_down, &oc);
    }
    if (u->resize && (err = aie_scaler_scale(u->resize, mid, dst, pool)))
        goto fail;
    if (u->alpha) {
        uint8_t *ps[4] = {src->data[3]}, *pd[4] = {dst->data[3]};
        ptrdiff_t ss[4] = {src->stride[3]}, sd[4] = {dst->stride[3]};
        if ((err = aie_frame_wrap(&a, src->width, src->height, AIE_LAYOUT_GRAY, src->depth, ps, ss, NULL, NULL)) ||
            (err = aie_frame_wrap(&b, dst->width, dst->height, AIE_LAYOUT_GRAY, dst->depth, pd, sd, NULL, NULL)) ||
            (err = aie_scaler_scale(u->alpha, a, b, pool)))
            goto fail;
    }
    err = 0;
fail:
    free(in.data);
    free(out.data);
    free(chroma);
    aie_frame_unref(&mid);
    aie_frame_unref(&a);
    aie_frame_unref(&b);
    return err;
}

/* ---- creation ---- */

static void matrix_coeffs(int matrix, int height, float *kr, float *kb)
{
    switch (matrix) {
    case 1: *kr = 0.2126f; *kb = 0.0722f; return;      /* BT.709 */
    case 4: *kr = 0.30f; *kb = 0.11f; return;          /* FCC */
    case 5:
    case 6: *kr = 0.299f; *kb = 0.114f; return;        /* BT.601 */
    case 7: *kr = 0.212f; *kb = 0.087f; return;        /* SMPTE 240M */
    case 9:
    case 10: *kr = 0.2627f; *kb = 0.0593f; return;     /* BT.2020 */
    default:
        if (height >= 720) {
            *kr = 0.2126f;
            *kb = 0.0722f;
        } else {
            *kr = 0.299f;
            *kb = 0.114f;
        }
    }
}

int aie_cnn_create(AieCnnUpscaler **out, const AieNnModel *m, const AieCnnParams *p,
                   unsigned cpu_flags, char *err, size_t errlen)
{
    *out = NULL;
    int e = AIE_EINVAL;
    AieCnnUpscaler *u = calloc(1, sizeof(*u));
    if (!u) {
        snprintf(err, errlen, "%s", aie_strerror(AIE_ENOMEM));
        return AIE_ENOMEM;
    }
    u->p = *p;
    u->m = m;
    AieNnInfo info;
    aie_nn_info(m, &info);
    if (info.in_channels != 3 || info.out_channels != 3) {
        snprintf(err, errlen, "the model does not take and give RGB");
        goto fail;
    }
    if (p->src_w < 1 || p->src_h < 1 || p->dst_w < 1 || p->dst_h < 1 || p->depth < 8 || p->depth > 16 ||
        (unsigned)p->layout >= AIE_LAYOUT_COUNT) {
        snprintf(err, errlen, "bad sizes or format");
        goto fail;
    }
    u->mw = (int)((long long)p->src_w * info.scale_num / info.scale_den);
    u->mh = (int)((long long)p->src_h * info.scale_num / info.scale_den);
    if (u->mw < 1 || u->mh < 1 || u->mw > AIE_MAX_DIM || u->mh > AIE_MAX_DIM) {
        e = AIE_ETOOBIG;
        snprintf(err, errlen, "the model's output, %dx%d, is out of range", u->mw, u->mh);
        goto fail;
    }
    AieNnOpts no = {.tile = p->tile, .max_mem = p->max_mem, .cpu_flags = cpu_flags,
                    .threads = p->threads > 0 ? p->threads : 1, .check_finite = p->check_finite};
    if ((e = aie_nn_exec_create(&u->exec, m, &no))) {
        snprintf(err, errlen, "cannot set up the network: %s", aie_strerror(e));
        goto fail;
    }
    u->maxv = (float)((1 << p->depth) - 1);
    u->yuv = p->layout <= AIE_LAYOUT_YUV444;
    aie_layout_chroma_shift(p->layout, &u->sx, &u->sy);
    matrix_coeffs(p->color.matrix, p->src_h, &u->kr, &u->kb);
    const float k = (float)(1 << (p->depth - 8));
    if (p->color.range == 2) {
        u->yoff = 0.0f;
        u->yscale = u->maxv;
        u->coff = (float)(1 << (p->depth - 1));
        u->cscale = u->maxv;
    } else {
        u->yoff = 16.0f * k;
        u->yscale = 219.0f * k;
        u->coff = 128.0f * k;
        u->cscale = 224.0f * k;
    }
    const int loc = p->color.chroma_loc;
    u->hoff = !u->sx ? 0.0f : loc == 2 || loc == 4 || loc == 6 ? 0.5f : 0.0f;
    u->voff = !u->sy ? 0.0f : loc == 3 || loc == 4 ? 0.0f : loc == 5 || loc == 6 ? 1.0f : 0.5f;
    if (u->mw != p->dst_w || u->mh != p->dst_h) {
        AieScaleParams sp = {.src_w = u->mw, .src_h = u->mh, .dst_w = p->dst_w, .dst_h = p->dst_h,
                             .layout = p->layout, .depth = p->depth, .filter = AIE_FILTER_LANCZOS,
                             .chroma_loc = p->color.chroma_loc};
        if ((e = aie_scaler_create(&u->resize, &sp, cpu_flags))) {
            snprintf(err, errlen, "cannot resample %dx%d to %dx%d: %s", u->mw, u->mh, p->dst_w, p->dst_h,
                     aie_strerror(e));
            goto fail;
        }
    }
    if (p->layout == AIE_LAYOUT_RGBA) {
        AieScaleParams sp = {.src_w = p->src_w, .src_h = p->src_h, .dst_w = p->dst_w, .dst_h = p->dst_h,
                             .layout = AIE_LAYOUT_GRAY, .depth = p->depth, .filter = AIE_FILTER_LANCZOS};
        if ((e = aie_scaler_create(&u->alpha, &sp, cpu_flags))) {
            snprintf(err, errlen, "cannot scale alpha: %s", aie_strerror(e));
            goto fail;
        }
    }
    *out = u;
    return 0;
fail:
    aie_cnn_free(&u);
    return e;
}

int aie_cnn_tile(const AieCnnUpscaler *u) { return aie_nn_exec_tile(u->exec); }
int aie_cnn_halvings(const AieCnnUpscaler *u) { return aie_nn_exec_halvings(u->exec); }

void aie_cnn_free(AieCnnUpscaler **u)
{
    if (!u || !*u)
        return;
    aie_nn_exec_free(&(*u)->exec);
    aie_scaler_free(&(*u)->resize);
    aie_scaler_free(&(*u)->alpha);
    free(*u);
    *u = NULL;
}
