/* Keyframe style: guided patch synthesis carried along the flow (aie/keyframe.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "aie/keyframe.h"
#include "aie/motion.h"
#include "aie/scale.h"
#include "dsp/patch.h"

#define P AIE_PATCH_PAD
#define MAXLEV 4
#define BAND 16

/* A padded interleaved image of ch channels. */
typedef struct Img {
    int w, h, ch;
    ptrdiff_t stride;
    uint8_t *buf, *data;
} Img;

/* The style side of the matching: one keyframe (or the exemplar). */
typedef struct Side {
    int64_t index;
    int levels;
    Img guide[MAXLEV]; /* ch 0-2 source colour (or luma), 3 edge, 4-7 the painting RGBA */
    Img style;         /* the painting, RGBA, finest level */
    double ymean, ydev; /* exemplar: luma statistics */
} Side;

typedef struct Key {
    int64_t index;
    uint8_t *rgba; /* w x h x 4, the painting at the video's size */
} Key;

/* One propagation pass (forward from a keyframe, or backward from one). */
typedef struct Pass {
    int active;
    Side *side;
    AieFrame *prev;  /* the previous input frame (native) */
    uint8_t *out;    /* its stylised picture, RGBA, w x h */
    int32_t *nnf;    /* its field, w x h */
} Pass;

typedef struct Meta {
    AieFrame props; /* a pending frame's timing, colour and aux packets (aie_frame_copy_props), no pixels */
    int has_fwd;
} Meta;

struct AieKeyframe {
    AieKeyframeParams p;
    int w, h, depth;
    AieLayout layout;
    unsigned cpu;
    AiePatchDSP dsp;
    AieMotion *motion;
    AieFlow *ab, *ba;
    AieFramePool *frames;
    Key *keys;
    int nkeys;
    Side *exemplar;
    Side sides[2];  /* [0]: the forward pass's keyframe, [1]: the next one's */
    Pass fwd;
    int levels;
    /* scratch of one synthesis step */
    Img tgt[MAXLEV];
    uint8_t *wsel[MAXLEV];
    int32_t *nnf[MAXLEV][2];
    uint32_t *cost[MAXLEV][2];
    uint8_t *rgba_cur, *tmp_rgba, *tmp_rgba2;
    int32_t *nnf_init;
    /* scene cuts */
    AieSceneFeat feat[AIE_SCENE_WINDOW];
    int nfeat;
    AieFrame *held;      /* the frame pushed last, handled on the next push */
    int64_t seen;        /* frames pushed */
    int shots;
    int passthrough_noted;
    int64_t shot_start;
    /* spill */
    int fd;
    size_t native_bytes, rec_bytes;
    Meta *pend;
    int npend, cappend;
    int64_t pend_first;
    char err[AIE_ERRBUF_SIZE];
};

/* ---- images ---- */

static int img_alloc(Img *m, int w, int h, int ch)
{
    m->w = w;
    m->h = h;
    m->ch = ch;
    m->stride = (ptrdiff_t)(w + 2 * P) * ch + 32;
    m->buf = calloc((size_t)(h + 2 * P) * (size_t)m->stride + 64, 1);
    if (!m->buf)
        return AIE_ENOMEM;
    m->data = m->buf + P * m->stride + P * ch;
    return 0;
}

static void img_free(Img *m)
{
    free(m->buf);
    memset(m, 0, sizeof(*m));
}

static void img_pad(Img *m)
{
    const int ch = m->ch;
    for (int y = 0; y < m->h; y++) {
        uint8_t *r = m->data + y * m->stride;
        for (int x = 1; x <= P; x++) {
            memcpy(r - x * ch, r, (size_t)ch);
            memcpy(r + (m->w - 1 + x) * ch, r + (m->w - 1) * ch, (size_t)ch);
        }
    }
    const size_t row = (size_t)(m->w + 2 * P) * ch;
    for (int y = 1; y <= P; y++) {
        memcpy(m->data - y * m->stride - P * ch, m->data - P * ch, row);
        memcpy(m->data + (m->h - 1 + y) * m->stride - P * ch, m->data + (m->h - 1) * m->stride - P * ch, row);
    }
}

/* 2x2 box down-sampling (odd sizes: the last column/row repeats). */
static void img_down(const Img *s, Img *d)
{
    const int ch = s->ch;
    for (int y = 0; y < d->h; y++) {
        const int y0 = 2 * y, y1 = 2 * y + 1 < s->h ? 2 * y + 1 : 2 * y;
        const uint8_t *r0 = s->data + y0 * s->stride, *r1 = s->data + y1 * s->stride;
        uint8_t *o = d->data + y * d->stride;
        for (int x = 0; x < d->w; x++) {
            const int x0 = 2 * x, x1 = 2 * x + 1 < s->w ? 2 * x + 1 : 2 * x;
            for (int c = 0; c < ch; c++)
                o[x * ch + c] = (uint8_t)((r0[x0 * ch + c] + r0[x1 * ch + c] + r1[x0 * ch + c] + r1[x1 * ch + c] + 2) >> 2);
        }
    }
    img_pad(d);
}

/* ---- colour conversion (native <-> RGBA8) ---- */

static void coefs(const AieKeyframe *kf, const AieColor *c, float *kr, float *kb, int *full)
{
    switch (c->matrix) {
    case 5: case 6: *kr = 0.299f; *kb = 0.114f; break;
    case 9: case 10: *kr = 0.2627f; *kb = 0.0593f; break;
    case 1: *kr = 0.2126f; *kb = 0.0722f; break;
    default:
        *kr = kf->h > 576 ? 0.2126f : 0.299f;
        *kb = kf->h > 576 ? 0.0722f : 0.114f;
    }
    *full = c->range == 2;
}

static inline int sample(const AieFrame *f, int p, int x, int y)
{
    const uint8_t *r = f->data[p] + (ptrdiff_t)y * f->stride[p];
    return f->depth > 8 ? ((const uint16_t *)r)[x] : r[x];
}

static inline uint8_t u8c(float v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
}

static void to_rgba(const AieKeyframe *kf, const AieFrame *f, uint8_t *rgba)
{
    const float sc = 255.0f / (float)((1 << f->depth) - 1);
    int sx, sy;
    aie_layout_chroma_shift(f->layout, &sx, &sy);
    float kr, kb;
    int full;
    coefs(kf, &f->color, &kr, &kb, &full);
    const float kg = 1 - kr - kb;
    for (int y = 0; y < kf->h; y++) {
        uint8_t *o = rgba + (size_t)y * kf->w * 4;
        for (int x = 0; x < kf->w; x++, o += 4) {
            switch (f->layout) {
            case AIE_LAYOUT_RGB: case AIE_LAYOUT_RGBA:
                o[0] = u8c(sample(f, 0, x, y) * sc);
                o[1] = u8c(sample(f, 1, x, y) * sc);
                o[2] = u8c(sample(f, 2, x, y) * sc);
                break;
            case AIE_LAYOUT_GRAY:
                o[0] = o[1] = o[2] = u8c(sample(f, 0, x, y) * sc);
                break;
            default: {
                float Y = sample(f, 0, x, y) * sc, U = sample(f, 1, x >> sx, y >> sy) * sc - 128,
                      V = sample(f, 2, x >> sx, y >> sy) * sc - 128;
                if (!full) {
                    Y = (Y - 16) * (255.0f / 219);
                    U *= 255.0f / 224;
                    V *= 255.0f / 224;
                }
                const float r = Y + 2 * (1 - kr) * V, b = Y + 2 * (1 - kb) * U;
                const float g = (Y - kr * r - kb * b) / kg;
                o[0] = u8c(r);
                o[1] = u8c(g);
                o[2] = u8c(b);
            }
            }
            o[3] = 255;
        }
    }
}

static inline void put(AieFrame *f, int p, int x, int y, float v8)
{
    uint8_t *r = f->data[p] + (ptrdiff_t)y * f->stride[p];
    const float m = (float)((1 << f->depth) - 1);
    float v = v8 * (m / 255.0f) + 0.5f;
    v = v < 0 ? 0 : v > m ? m : v;
    if (f->depth > 8)
        ((uint16_t *)r)[x] = (uint16_t)v;
    else
        r[x] = (uint8_t)v;
}

/* Write rgb (w x h x 4) composited over the source src (alpha) into dst, in
 * src's format. Where alpha is 0 everywhere a sample covers, the source
 * sample is copied as is. */
static void from_rgba(const AieKeyframe *kf, const uint8_t *rgb, const uint8_t *src_rgba, const AieFrame *src,
                      AieFrame *dst)
{
    int sx, sy;
    aie_layout_chroma_shift(dst->layout, &sx, &sy);
    float kr, kb;
    int full;
    coefs(kf, &src->color, &kr, &kb, &full);
    const int w = kf->w, h = kf->h;
    const int yuv = dst->layout <= AIE_LAYOUT_YUV444;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const uint8_t *o = rgb + ((size_t)y * w + x) * 4, *s = src_rgba + ((size_t)y * w + x) * 4;
            const int a = o[3];
            float c[3];
            for (int k = 0; k < 3; k++)
                c[k] = (o[k] * a + s[k] * (255 - a)) / 255.0f;
            if (dst->layout == AIE_LAYOUT_RGB || dst->layout == AIE_LAYOUT_RGBA) {
                for (int k = 0; k < 3; k++)
                    if (a) put(dst, k, x, y, c[k]);
                    else put(dst, k, x, y, sample(src, k, x, y) * 255.0f / (float)((1 << src->depth) - 1));
                if (dst->layout == AIE_LAYOUT_RGBA)
                    put(dst, 3, x, y, sample(src, 3, x, y) * 255.0f / (float)((1 << src->depth) - 1));
                continue;
            }
            float Y = kr * c[0] + (1 - kr - kb) * c[1] + kb * c[2];
            if (yuv && !full)
                Y = 16 + Y * (219.0f / 255);
            uint8_t *r = dst->data[0] + (ptrdiff_t)y * dst->stride[0];
            if (!a) {
                if (dst->depth > 8) ((uint16_t *)r)[x] = (uint16_t)sample(src, 0, x, y);
                else r[x] = (uint8_t)sample(src, 0, x, y);
            } else {
                put(dst, 0, x, y, Y);
            }
        }
    }
    if (!yuv)
        return;
    for (int cy = 0; cy < dst->plane_h[1]; cy++)
        for (int cx = 0; cx < dst->plane_w[1]; cx++) {
            float su = 0, sv = 0;
            int n = 0, any = 0;
            for (int dy = 0; dy < (1 << sy); dy++)
                for (int dx = 0; dx < (1 << sx); dx++) {
                    const int x = (cx << sx) + dx, y = (cy << sy) + dy;
                    if (x >= w || y >= h)
                        continue;
                    const uint8_t *o = rgb + ((size_t)y * w + x) * 4, *s = src_rgba + ((size_t)y * w + x) * 4;
                    const int a = o[3];
                    float c[3];
                    for (int k = 0; k < 3; k++)
                        c[k] = (o[k] * a + s[k] * (255 - a)) / 255.0f;
                    const float Y = kr * c[0] + (1 - kr - kb) * c[1] + kb * c[2];
                    su += (c[2] - Y) / (2 * (1 - kb));
                    sv += (c[0] - Y) / (2 * (1 - kr));
                    n++;
                    any |= a;
                }
            for (int p = 1; p <= 2; p++) {
                if (!any) {
                    uint8_t *r = dst->data[p] + (ptrdiff_t)cy * dst->stride[p];
                    if (dst->depth > 8) ((uint16_t *)r)[cx] = (uint16_t)sample(src, p, cx, cy);
                    else r[cx] = (uint8_t)sample(src, p, cx, cy);
                    continue;
                }
                float v = (p == 1 ? su : sv) / (float)n;
                if (!full)
                    v *= 224.0f / 255;
                put(dst, p, cx, cy, v + 128);
            }
        }
}

/* ---- guides ---- */

static inline int luma8(const uint8_t *p)
{
    return (77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8;
}

/* Sobel magnitude of the luma of rgba (w x h x 4), into channel 3 of g. */
static void edges(const uint8_t *rgba, int w, int h, Img *g)
{
    for (int y = 0; y < h; y++) {
        const int ya = y > 0 ? y - 1 : 0, yb = y + 1 < h ? y + 1 : h - 1;
        for (int x = 0; x < w; x++) {
            const int xa = x > 0 ? x - 1 : 0, xb = x + 1 < w ? x + 1 : w - 1;
#define L(X, Y) luma8(rgba + ((size_t)(Y) * w + (X)) * 4)
            const int gx = L(xb, ya) + 2 * L(xb, y) + L(xb, yb) - L(xa, ya) - 2 * L(xa, y) - L(xa, yb);
            const int gy = L(xa, yb) + 2 * L(x, yb) + L(xb, yb) - L(xa, ya) - 2 * L(x, ya) - L(xb, ya);
#undef L
            const int e = (int)sqrtf((float)(gx * gx + gy * gy)) / 2;
            g->data[y * g->stride + x * 8 + 3] = (uint8_t)(e > 255 ? 255 : e);
        }
    }
}

static void luma_stats(const uint8_t *rgba, size_t n, double *mean, double *dev)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < n; i++) {
        const int l = luma8(rgba + 4 * i);
        s += l;
        ss += (double)l * l;
    }
    *mean = s / (double)n;
    const double v = ss / (double)n - *mean * *mean;
    *dev = v > 1 ? sqrt(v) : 1;
}

/* Channels 0-2 of g: the colours, or (exemplar mode) the luma mapped to the
 * exemplar's mean and deviation (ex NULL: the luma as is). */
static void fill_colour(const uint8_t *rgba, int w, int h, Img *g, int lum, double m0, double d0, double m1, double d1)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *s = rgba + ((size_t)y * w + x) * 4;
            uint8_t *o = g->data + y * g->stride + x * 8;
            if (lum) {
                const double l = (luma8(s) - m0) * (d1 / d0) + m1;
                o[0] = o[1] = o[2] = (uint8_t)(l < 0 ? 0 : l > 255 ? 255 : l + 0.5);
            } else {
                o[0] = s[0];
                o[1] = s[1];
                o[2] = s[2];
            }
        }
}

static void side_free(Side *s)
{
    for (int l = 0; l < MAXLEV; l++)
        img_free(&s->guide[l]);
    img_free(&s->style);
    memset(s, 0, sizeof(*s));
    s->index = -1;
}

static int levels_for(int w, int h)
{
    int l = 1;
    while (l < MAXLEV && (w >> l) >= 48 && (h >> l) >= 32)
        l++;
    return l;
}

/* Build a side from the source picture src (w x h RGBA) and the painting. */
static int side_build(Side *s, int64_t index, const uint8_t *src, const uint8_t *paint, int w, int h, int lum)
{
    side_free(s);
    s->index = index;
    s->levels = levels_for(w, h);
    int err;
    if ((err = img_alloc(&s->guide[0], w, h, 8)) || (err = img_alloc(&s->style, w, h, 4)))
        return err;
    if (lum)
        luma_stats(paint, (size_t)w * h, &s->ymean, &s->ydev);
    fill_colour(lum ? paint : src, w, h, &s->guide[0], lum, 0, 1, 0, 1);
    edges(lum ? paint : src, w, h, &s->guide[0]);
    for (int y = 0; y < h; y++) {
        memcpy(s->style.data + y * s->style.stride, paint + (size_t)y * w * 4, (size_t)w * 4);
        for (int x = 0; x < w; x++)
            memcpy(s->guide[0].data + y * s->guide[0].stride + x * 8 + 4, paint + ((size_t)y * w + x) * 4, 4);
    }
    img_pad(&s->guide[0]);
    img_pad(&s->style);
    for (int l = 1; l < s->levels; l++) {
        if ((err = img_alloc(&s->guide[l], (s->guide[l - 1].w + 1) / 2, (s->guide[l - 1].h + 1) / 2, 8)))
            return err;
        img_down(&s->guide[l - 1], &s->guide[l]);
    }
    return 0;
}

/* ---- flow sampling ---- */

static inline void flow_at(const AieFlow *f, float X, float Y, float *u, float *v)
{
    const float sc = 1.0f / (float)(1 << f->scale_log2);
    float fx = (X + 0.5f) * sc - 0.5f, fy = (Y + 0.5f) * sc - 0.5f;
    fx = fx < 0 ? 0 : fx > f->width - 1 ? (float)(f->width - 1) : fx;
    fy = fy < 0 ? 0 : fy > f->height - 1 ? (float)(f->height - 1) : fy;
    int x0 = (int)fx, y0 = (int)fy;
    const int x1 = x0 + 1 < f->width ? x0 + 1 : x0, y1 = y0 + 1 < f->height ? y0 + 1 : y0;
    const float ax = fx - x0, ay = fy - y0;
    const float *U = f->u, *V = f->v;
    const ptrdiff_t s = f->stride;
#define BI(A) ((A[y0 * s + x0] * (1 - ax) + A[y0 * s + x1] * ax) * (1 - ay) + (A[y1 * s + x0] * (1 - ax) + A[y1 * s + x1] * ax) * ay)
    *u = BI(U);
    *v = BI(V);
#undef BI
}

/* ---- the synthesis step ---- */

typedef struct Step {
    AieKeyframe *kf;
    const Side *side;
    int level;
    AiePatchField f;
    const int32_t *nin;
    const uint32_t *cin;
    int32_t *nout;
    uint32_t *cout;
    int step, round;
    const Pass *ps;     /* advection */
    const uint8_t *out_rgba;
    uint8_t *dst;
} Step;

static inline uint32_t hash3(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t h = a * 0x9e3779b1u ^ (b + 0x7f4a7c15u) * 0x85ebca77u ^ (c + 0x165667b1u) * 0xc2b2ae3du;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    h *= 0x297a2d39u;
    h ^= h >> 15;
    return h;
}

static inline uint32_t cost_of(const Step *t, int x, int y, int32_t q)
{
    const AiePatchField *f = &t->f;
    const int r = f->size / 2, qx = AIE_PATCH_X(q), qy = AIE_PATCH_Y(q);
    return t->kf->dsp.dist(f->tgt + (ptrdiff_t)(y - r) * f->tstride + (ptrdiff_t)(x - r) * 8, f->tstride,
                           f->src + (ptrdiff_t)(qy - r) * f->sstride + (ptrdiff_t)(qx - r) * 8, f->sstride, f->size,
                           f->w[f->wsel[(ptrdiff_t)y * f->tw + x]]);
}

static void costs_band(void *ctx, int index, int worker)
{
    (void)worker;
    Step *t = ctx;
    const int y0 = index * BAND, y1 = y0 + BAND < t->f.th ? y0 + BAND : t->f.th;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < t->f.tw; x++)
            t->cout[(ptrdiff_t)y * t->f.tw + x] = cost_of(t, x, y, t->nout[(ptrdiff_t)y * t->f.tw + x]);
}

/* One propagation pass and a random search, rows y0..y1. */
static void pm_band(void *ctx, int index, int worker)
{
    (void)worker;
    Step *t = ctx;
    const AiePatchField *f = &t->f;
    const int tw = f->tw, y0 = index * BAND, y1 = y0 + BAND < f->th ? y0 + BAND : f->th;
    const int rmax = (f->sw > f->sh ? f->sw : f->sh) / (t->level ? 2 : 8);
    for (int y = y0; y < y1; y++) {
        const ptrdiff_t o = (ptrdiff_t)y * tw;
        t->kf->dsp.prop(f, y, t->step, t->nin + o, t->cin + o, t->nout + o, t->cout + o);
        for (int x = 0; x < tw; x++) {
            int32_t best = t->nout[o + x];
            uint32_t bc = t->cout[o + x];
            int k = 0;
            for (int rad = rmax; rad >= 1; rad /= 4, k++) {
                const uint32_t h = hash3((uint32_t)x, (uint32_t)y, (uint32_t)(t->round * 64 + t->level * 8 + k));
                int qx = AIE_PATCH_X(best) + (int)(h % (uint32_t)(2 * rad + 1)) - rad;
                int qy = AIE_PATCH_Y(best) + (int)((h >> 16) % (uint32_t)(2 * rad + 1)) - rad;
                qx = qx < 0 ? 0 : qx >= f->sw ? f->sw - 1 : qx;
                qy = qy < 0 ? 0 : qy >= f->sh ? f->sh - 1 : qy;
                const int32_t q = AIE_PATCH_Q(qx, qy);
                if (q == best)
                    continue;
                const uint32_t c = cost_of(t, x, y, q);
                if (c < bc) {
                    bc = c;
                    best = q;
                }
            }
            t->nout[o + x] = best;
            t->cout[o + x] = bc;
        }
    }
}

/* Vote the style along the finest field into t->dst (w x h RGBA). */
static void vote_band(void *ctx, int index, int worker)
{
    (void)worker;
    Step *t = ctx;
    const AieKeyframe *kf = t->kf;
    const int tw = t->f.tw, th = t->f.th, r = t->f.size / 2;
    const int y0 = index * BAND, y1 = y0 + BAND < th ? y0 + BAND : th;
    uint16_t acc[4 * 4096 + 64];
    uint16_t *a = tw <= 4096 ? acc : malloc((size_t)tw * 4 * sizeof(uint16_t));
    if (!a)
        return; /* tw is bounded by the create check */
    for (int y = y0; y < y1; y++) {
        memset(a, 0, (size_t)tw * 4 * sizeof(uint16_t));
        int ny = 0;
        for (int oy = -r; oy <= r; oy++) {
            const int yc = y - oy;
            if (yc < 0 || yc >= th)
                continue;
            ny++;
            for (int ox = -r; ox <= r; ox++) {
                const int x0 = ox > 0 ? ox : 0, x1 = ox < 0 ? tw + ox : tw;
                kf->dsp.vote(a + 4 * x0, t->side->style.data, t->side->style.stride,
                             t->nout + (ptrdiff_t)yc * tw + (x0 - ox), x1 - x0, ox, oy);
            }
        }
        uint8_t *d = t->dst + (size_t)y * tw * 4;
        for (int x = 0; x < tw; x++) {
            const int nx = (x - r >= 0 ? r : x) + (x + r < tw ? r : tw - 1 - x) + 1, n = nx * ny;
            for (int c = 0; c < 4; c++)
                d[4 * x + c] = (uint8_t)((a[4 * x + c] + n / 2) / n);
        }
    }
    if (a != acc)
        free(a);
}

/* Advection: the temporal guide (channels 4-7 of tgt[0]), the weight set
 * per pixel and the starting field, from the previous output along ba. */
static void advect_band(void *ctx, int index, int worker)
{
    (void)worker;
    Step *t = ctx;
    AieKeyframe *kf = t->kf;
    const Pass *ps = t->ps;
    const int w = kf->w, h = kf->h, y0 = index * BAND, y1 = y0 + BAND < h ? y0 + BAND : h;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *g = kf->tgt[0].data + y * kf->tgt[0].stride + x * 8 + 4;
            const size_t i = (size_t)y * w + x;
            if (!ps) { /* no previous frame: no temporal guide, a scattered field */
                memset(g, 0, 4);
                kf->wsel[0][i] = 0;
                const uint32_t hsh = hash3((uint32_t)x, (uint32_t)y, 977);
                const Side *s = t->side;
                kf->nnf_init[i] = AIE_PATCH_Q(hsh % (uint32_t)s->guide[0].w, (hsh >> 16) % (uint32_t)s->guide[0].h);
                continue;
            }
            float u, v, u2, v2;
            flow_at(kf->ba, (float)x, (float)y, &u, &v);
            const float X = x + u, Y = y + v;
            int sel = 0;
            if (X >= 0 && Y >= 0 && X <= w - 1 && Y <= h - 1) {
                flow_at(kf->ab, X, Y, &u2, &v2);
                const float e = hypotf(u + u2, v + v2), lim = 0.5f + 0.05f * hypotf(u, v);
                float m = 1.0f - (e - lim) / 1.5f;
                m = m > 1 ? 1 : m < 0 ? 0 : m;
                sel = (int)(m * (AIE_PATCH_NW - 1) + 0.5f);
            }
            kf->wsel[0][i] = (uint8_t)sel;
            const float cx = X < 0 ? 0 : X > w - 1 ? (float)(w - 1) : X, cy = Y < 0 ? 0 : Y > h - 1 ? (float)(h - 1) : Y;
            const int x0 = (int)cx, yy0 = (int)cy, x1 = x0 + 1 < w ? x0 + 1 : x0, y1b = yy0 + 1 < h ? yy0 + 1 : yy0;
            const float ax = cx - x0, ay = cy - yy0;
            for (int c = 0; c < 4; c++) {
                const float a00 = ps->out[((size_t)yy0 * w + x0) * 4 + c], a01 = ps->out[((size_t)yy0 * w + x1) * 4 + c];
                const float a10 = ps->out[((size_t)y1b * w + x0) * 4 + c], a11 = ps->out[((size_t)y1b * w + x1) * 4 + c];
                g[c] = u8c((a00 * (1 - ax) + a01 * ax) * (1 - ay) + (a10 * (1 - ax) + a11 * ax) * ay);
            }
            kf->nnf_init[i] = ps->nnf[(size_t)(int)(cy + 0.5f) * w + (int)(cx + 0.5f)];
        }
}

static void weights(const AieKeyframe *kf, AiePatchField *f)
{
    for (int s = 0; s < AIE_PATCH_NW; s++) {
        for (int c = 0; c < 3; c++)
            f->w[s][c] = (int16_t)kf->p.w_source;
        f->w[s][3] = (int16_t)kf->p.w_edge;
        for (int c = 4; c < 8; c++)
            f->w[s][c] = (int16_t)(kf->p.w_temporal * s / (AIE_PATCH_NW - 1));
    }
}

/* Stylise frame cur (rgba_cur holds it as RGBA) with side, continuing pass
 * ps (NULL: no previous frame), into dst (w x h RGBA). Updates ps. */
static int synth(AieKeyframe *kf, Pass *ps, const Side *side, AieFrame *cur, uint8_t *dst, AiePool *pool)
{
    const int w = kf->w, h = kf->h;
    int err;
    const int have_prev = ps && ps->prev;
    if (have_prev && (err = aie_motion_estimate(kf->motion, ps->prev, cur, kf->ab, kf->ba, pool)))
        return err;
    Step t = {.kf = kf, .side = side, .ps = have_prev ? ps : NULL};
    const int lum = kf->exemplar != NULL;
    double m0 = 0, d0 = 1;
    if (lum)
        luma_stats(kf->rgba_cur, (size_t)w * h, &m0, &d0);
    fill_colour(kf->rgba_cur, w, h, &kf->tgt[0], lum, m0, d0, side->ymean, side->ydev);
    edges(kf->rgba_cur, w, h, &kf->tgt[0]);
    const int nb = (h + BAND - 1) / BAND;
    aie_pool_parallel_for(pool, nb, advect_band, &t);
    img_pad(&kf->tgt[0]);
    if (kf->p.method == AIE_KEYFRAME_WARP && have_prev) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                memcpy(dst + ((size_t)y * w + x) * 4, kf->tgt[0].data + y * kf->tgt[0].stride + x * 8 + 4, 4);
        memcpy(ps->nnf, kf->nnf_init, (size_t)w * h * sizeof(int32_t));
        goto done;
    }
    const int L = side->levels;
    for (int l = 1; l < L; l++) {
        img_down(&kf->tgt[l - 1], &kf->tgt[l]);
        const int tw = kf->tgt[l].w, pw = kf->tgt[l - 1].w, ph = kf->tgt[l - 1].h;
        for (int y = 0; y < kf->tgt[l].h; y++)
            for (int x = 0; x < tw; x++) {
                int m = 255;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) {
                        const int xx = 2 * x + dx < pw ? 2 * x + dx : pw - 1, yy = 2 * y + dy < ph ? 2 * y + dy : ph - 1;
                        const int s = kf->wsel[l - 1][(size_t)yy * pw + xx];
                        m = s < m ? s : m;
                    }
                kf->wsel[l][(size_t)y * tw + x] = (uint8_t)m;
            }
    }
    int cur_buf = 0;
    for (int l = L - 1; l >= 0; l--) {
        const Img *tg = &kf->tgt[l], *sg = &side->guide[l];
        const int tw = tg->w, th = tg->h;
        int32_t *n0 = kf->nnf[l][0];
        if (l == L - 1) {
            for (int y = 0; y < th; y++)
                for (int x = 0; x < tw; x++) {
                    const int32_t q = kf->nnf_init[(size_t)(y << l) * w + (x << l)];
                    int qx = AIE_PATCH_X(q) >> l, qy = AIE_PATCH_Y(q) >> l;
                    qx = qx >= sg->w ? sg->w - 1 : qx;
                    qy = qy >= sg->h ? sg->h - 1 : qy;
                    n0[(size_t)y * tw + x] = AIE_PATCH_Q(qx, qy);
                }
        } else {
            const int32_t *up = kf->nnf[l + 1][cur_buf];
            const int uw = kf->tgt[l + 1].w;
            for (int y = 0; y < th; y++)
                for (int x = 0; x < tw; x++) {
                    const int32_t q = up[(size_t)(y >> 1) * uw + (x >> 1)];
                    int qx = 2 * AIE_PATCH_X(q) + (x & 1), qy = 2 * AIE_PATCH_Y(q) + (y & 1);
                    qx = qx >= sg->w ? sg->w - 1 : qx;
                    qy = qy >= sg->h ? sg->h - 1 : qy;
                    n0[(size_t)y * tw + x] = AIE_PATCH_Q(qx, qy);
                }
        }
        cur_buf = 0;
        t.level = l;
        t.f = (AiePatchField){.tgt = tg->data, .tstride = tg->stride, .tw = tw, .th = th,
                              .src = sg->data, .sstride = sg->stride, .sw = sg->w, .sh = sg->h,
                              .size = kf->p.patch, .wsel = kf->wsel[l]};
        weights(kf, &t.f);
        t.nout = n0;
        t.cout = kf->cost[l][0];
        const int nbl = (th + BAND - 1) / BAND;
        aie_pool_parallel_for(pool, nbl, costs_band, &t);
        static const int steps[] = {8, 4, 2, 1};
        const int first = l == L - 1 ? (have_prev ? 1 : 0) : 2;
        const int rounds = kf->p.iterations + (!have_prev && l == L - 1 ? 2 : 0);
        for (int r = 0; r < rounds; r++)
            for (int si = first; si < 4; si++) {
                t.nin = kf->nnf[l][cur_buf];
                t.cin = kf->cost[l][cur_buf];
                t.nout = kf->nnf[l][!cur_buf];
                t.cout = kf->cost[l][!cur_buf];
                t.step = steps[si];
                t.round = r * 4 + si;
                aie_pool_parallel_for(pool, nbl, pm_band, &t);
                cur_buf = !cur_buf;
            }
        t.nout = kf->nnf[l][cur_buf];
    }
    t.dst = dst;
    aie_pool_parallel_for(pool, nb, vote_band, &t);
    if (ps)
        memcpy(ps->nnf, t.nout, (size_t)w * h * sizeof(int32_t));
done:
    if (ps) {
        memcpy(ps->out, dst, (size_t)w * h * 4);
        aie_frame_unref(&ps->prev);
        ps->prev = aie_frame_ref(cur);
    }
    return 0;
}

/* ---- passes ---- */

static void pass_end(Pass *ps)
{
    ps->active = 0;
    aie_frame_unref(&ps->prev);
}

static int pass_alloc(Pass *ps, int w, int h)
{
    ps->out = malloc((size_t)w * h * 4);
    ps->nnf = malloc((size_t)w * h * sizeof(int32_t));
    return ps->out && ps->nnf ? 0 : AIE_ENOMEM;
}

/* Start a pass at keyframe frame `key` (its side built). */
static void pass_start(AieKeyframe *kf, Pass *ps, Side *side, AieFrame *keysrc, const uint8_t *paint)
{
    ps->active = 1;
    ps->side = side;
    aie_frame_unref(&ps->prev);
    ps->prev = aie_frame_ref(keysrc);
    memcpy(ps->out, paint, (size_t)kf->w * kf->h * 4);
    for (int y = 0; y < kf->h; y++)
        for (int x = 0; x < kf->w; x++)
            ps->nnf[(size_t)y * kf->w + x] = AIE_PATCH_Q(x, y);
}

/* ---- create / free ---- */

void aie_keyframe_params_default(AieKeyframeParams *p)
{
    memset(p, 0, sizeof(*p));
    p->method = AIE_KEYFRAME_SYNTH;
    p->patch = 5;
    p->iterations = 2;
    p->w_source = 8;
    p->w_edge = 4;
    p->w_temporal = 1;
}

int aie_keyframe_create(AieKeyframe **out, const AieKeyframeParams *p, int width, int height, AieLayout layout,
                        int depth, unsigned cpu_flags)
{
    *out = NULL;
    if (!p || width < 8 || height < 8 || width > 4096 || height > 4096 || layout >= AIE_LAYOUT_COUNT ||
        p->patch < 3 || p->patch > AIE_PATCH_MAX || !(p->patch & 1) || p->iterations < 1 || p->iterations > 16 ||
        p->w_source < 0 || p->w_source > AIE_PATCH_WMAX || p->w_edge < 0 || p->w_edge > AIE_PATCH_WMAX ||
        p->w_temporal < 0 || p->w_temporal > AIE_PATCH_WMAX)
        return AIE_EINVAL;
    AieKeyframe *kf = calloc(1, sizeof(*kf));
    if (!kf)
        return AIE_ENOMEM;
    kf->p = *p;
    kf->w = width;
    kf->h = height;
    kf->layout = layout;
    kf->depth = depth;
    kf->cpu = cpu_flags;
    kf->fd = -1;
    kf->sides[0].index = kf->sides[1].index = -1;
    aie_patch_dsp_init(&kf->dsp, cpu_flags);
    AieMotionParams mp;
    aie_motion_params_default(&mp);
    int err;
    if ((err = aie_motion_create(&kf->motion, width, height, &mp, cpu_flags)))
        goto fail;
    int fw, fh, fs;
    aie_motion_field_size(kf->motion, &fw, &fh, &fs);
    if ((err = aie_flow_alloc(&kf->ab, width, height, fs)) || (err = aie_flow_alloc(&kf->ba, width, height, fs)) ||
        (err = aie_frame_pool_create(&kf->frames, width, height, layout, depth)))
        goto fail;
    kf->levels = levels_for(width, height);
    int lw = width, lh = height;
    for (int l = 0; l < MAXLEV; l++) {
        if ((err = img_alloc(&kf->tgt[l], lw, lh, 8)))
            goto fail;
        const size_t n = (size_t)lw * lh;
        kf->wsel[l] = malloc(n);
        for (int b = 0; b < 2; b++) {
            kf->nnf[l][b] = malloc(n * sizeof(int32_t));
            kf->cost[l][b] = malloc(n * sizeof(uint32_t));
            if (!kf->nnf[l][b] || !kf->cost[l][b])
                err = AIE_ENOMEM;
        }
        if (!kf->wsel[l] || err) {
            err = AIE_ENOMEM;
            goto fail;
        }
        lw = (lw + 1) / 2;
        lh = (lh + 1) / 2;
    }
    const size_t n = (size_t)width * height;
    kf->rgba_cur = malloc(n * 4);
    kf->tmp_rgba = malloc(n * 4);
    kf->tmp_rgba2 = malloc(n * 4);
    kf->nnf_init = malloc(n * sizeof(int32_t));
    if (!kf->rgba_cur || !kf->tmp_rgba || !kf->tmp_rgba2 || !kf->nnf_init || pass_alloc(&kf->fwd, width, height)) {
        err = AIE_ENOMEM;
        goto fail;
    }
    AieFrame *probe = NULL;
    if ((err = aie_frame_alloc(&probe, width, height, layout, depth)))
        goto fail;
    for (int i = 0; i < probe->nplanes; i++)
        kf->native_bytes += (size_t)probe->plane_w[i] * aie_depth_bytes(depth) * probe->plane_h[i];
    aie_frame_unref(&probe);
    kf->rec_bytes = kf->native_bytes + n * 4;
    *out = kf;
    return 0;
fail:
    aie_keyframe_free(&kf);
    return err;
}

void aie_keyframe_free(AieKeyframe **kfp)
{
    AieKeyframe *kf = kfp ? *kfp : NULL;
    if (!kf)
        return;
    aie_motion_free(&kf->motion);
    aie_flow_free(&kf->ab);
    aie_flow_free(&kf->ba);
    aie_frame_pool_free(&kf->frames);
    for (int i = 0; i < kf->nkeys; i++)
        free(kf->keys[i].rgba);
    free(kf->keys);
    if (kf->exemplar) {
        side_free(kf->exemplar);
        free(kf->exemplar);
    }
    side_free(&kf->sides[0]);
    side_free(&kf->sides[1]);
    pass_end(&kf->fwd);
    free(kf->fwd.out);
    free(kf->fwd.nnf);
    for (int l = 0; l < MAXLEV; l++) {
        img_free(&kf->tgt[l]);
        free(kf->wsel[l]);
        for (int b = 0; b < 2; b++) {
            free(kf->nnf[l][b]);
            free(kf->cost[l][b]);
        }
    }
    free(kf->rgba_cur);
    free(kf->tmp_rgba);
    free(kf->tmp_rgba2);
    free(kf->nnf_init);
    for (int i = 0; i < kf->npend; i++)
        if (kf->pend[i].props.aux && kf->pend[i].props.aux_free)
            kf->pend[i].props.aux_free(kf->pend[i].props.aux);
    free(kf->pend);
    aie_frame_unref(&kf->held);
    if (kf->fd >= 0)
        close(kf->fd);
    free(kf);
    *kfp = NULL;
}

/* The painting as RGBA8 at w x h (scaled when its size differs). */
static int painting_rgba(const AieKeyframe *kf, const AieFrame *pf, int w, int h, uint8_t **out, char *err, size_t n)
{
    *out = NULL;
    if (pf->layout != AIE_LAYOUT_GRAY && pf->layout != AIE_LAYOUT_RGB && pf->layout != AIE_LAYOUT_RGBA) {
        snprintf(err, n, "the painting must be a gray, RGB or RGBA picture");
        return AIE_EINVAL;
    }
    AieFrame *rgba = NULL, *scaled = NULL;
    AieScaler *sc = NULL;
    int e;
    if ((e = aie_frame_alloc(&rgba, pf->width, pf->height, AIE_LAYOUT_RGBA, 8)))
        return e;
    const float m = (float)((1 << pf->depth) - 1);
    for (int y = 0; y < pf->height; y++)
        for (int x = 0; x < pf->width; x++)
            for (int c = 0; c < 4; c++) {
                int v;
                if (c == 3)
                    v = pf->layout == AIE_LAYOUT_RGBA ? sample(pf, 3, x, y) : (int)m;
                else
                    v = sample(pf, pf->layout == AIE_LAYOUT_GRAY ? 0 : c, x, y);
                rgba->data[c][(ptrdiff_t)y * rgba->stride[c] + x] = u8c(v * 255.0f / m);
            }
    AieFrame *use = rgba;
    if (pf->width != w || pf->height != h) {
        AieScaleParams sp = {.src_w = pf->width, .src_h = pf->height, .dst_w = w, .dst_h = h,
                             .layout = AIE_LAYOUT_RGBA, .depth = 8, .filter = AIE_FILTER_BICUBIC};
        if ((e = aie_scaler_create(&sc, &sp, kf->cpu)) || (e = aie_frame_alloc(&scaled, w, h, AIE_LAYOUT_RGBA, 8)) ||
            (e = aie_scaler_scale(sc, rgba, scaled, NULL)))
            goto fail;
        use = scaled;
    }
    uint8_t *o = malloc((size_t)w * h * 4);
    if (!o) {
        e = AIE_ENOMEM;
        goto fail;
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 4; c++)
                o[((size_t)y * w + x) * 4 + c] = use->data[c][(ptrdiff_t)y * use->stride[c] + x];
    *out = o;
fail:
    aie_scaler_free(&sc);
    aie_frame_unref(&rgba);
    aie_frame_unref(&scaled);
    return e;
}

int aie_keyframe_add(AieKeyframe *kf, int64_t index, const AieFrame *painted, char *err, size_t errlen)
{
    if (!kf || !painted || index < 0 || kf->exemplar || kf->seen) {
        snprintf(err, errlen, "keyframes are added before the first frame, without an exemplar");
        return AIE_EINVAL;
    }
    for (int i = 0; i < kf->nkeys; i++)
        if (kf->keys[i].index == index) {
            snprintf(err, errlen, "frame %lld has a keyframe already", (long long)index);
            return AIE_EEXIST;
        }
    /* the aspect within a pixel: the painting's height scaled to the video's width */
    const double hs = (double)painted->height * kf->w / painted->width, ws = (double)painted->width * kf->h / painted->height;
    if (fabs(hs - kf->h) > 1.0 && fabs(ws - kf->w) > 1.0) {
        snprintf(err, errlen, "%dx%d does not have the video's aspect (%dx%d)", painted->width, painted->height, kf->w,
                 kf->h);
        return AIE_EINVAL;
    }
    uint8_t *rgba;
    int e = painting_rgba(kf, painted, kf->w, kf->h, &rgba, err, errlen);
    if (e)
        return e;
    Key *nk = realloc(kf->keys, (size_t)(kf->nkeys + 1) * sizeof(*nk));
    if (!nk) {
        free(rgba);
        return AIE_ENOMEM;
    }
    kf->keys = nk;
    int pos = kf->nkeys;
    while (pos > 0 && kf->keys[pos - 1].index > index) {
        kf->keys[pos] = kf->keys[pos - 1];
        pos--;
    }
    kf->keys[pos] = (Key){.index = index, .rgba = rgba};
    kf->nkeys++;
    return 0;
}

int aie_keyframe_set_exemplar(AieKeyframe *kf, const AieFrame *ex, char *err, size_t errlen)
{
    if (!kf || !ex || kf->nkeys || kf->exemplar || kf->seen) {
        snprintf(err, errlen, "an exemplar goes without keyframes, before the first frame");
        return AIE_EINVAL;
    }
    if ((double)ex->width * ex->height > 4.0 * kf->w * kf->h || ex->width < 8 || ex->height < 8) {
        snprintf(err, errlen, "%dx%d: the exemplar must be 8x8 to 4 times the video's pixels", ex->width, ex->height);
        return AIE_EINVAL;
    }
    uint8_t *rgba;
    int e = painting_rgba(kf, ex, ex->width, ex->height, &rgba, err, errlen);
    if (e)
        return e;
    kf->exemplar = calloc(1, sizeof(Side));
    if (!kf->exemplar) {
        free(rgba);
        return AIE_ENOMEM;
    }
    e = side_build(kf->exemplar, -1, rgba, rgba, ex->width, ex->height, 1);
    free(rgba);
    return e;
}

/* ---- streaming ---- */

static const Key *key_at(const AieKeyframe *kf, int64_t i)
{
    for (int k = 0; k < kf->nkeys; k++)
        if (kf->keys[k].index == i)
            return &kf->keys[k];
    return NULL;
}

static int key_after(const AieKeyframe *kf, int64_t i)
{
    for (int k = 0; k < kf->nkeys; k++)
        if (kf->keys[k].index > i)
            return 1;
    return 0;
}

static int spill_io(AieKeyframe *kf, int slot, AieFrame *f, uint8_t *rgba, int write)
{
    int64_t off = (int64_t)slot * (int64_t)kf->rec_bytes;
    int e = 0;
    const int bps = aie_depth_bytes(kf->depth);
    for (int p = 0; p < f->nplanes && !e; p++)
        for (int y = 0; y < f->plane_h[p] && !e; y++) {
            const size_t n = (size_t)f->plane_w[p] * bps;
            uint8_t *row = f->data[p] + (ptrdiff_t)y * f->stride[p];
            e = write ? aie_fs_pwrite_all(kf->fd, row, n, off) : aie_fs_pread_all(kf->fd, row, n, off);
            off += (int64_t)n;
        }
    if (!e && rgba)
        e = write ? aie_fs_pwrite_all(kf->fd, rgba, (size_t)kf->w * kf->h * 4, off)
                  : aie_fs_pread_all(kf->fd, rgba, (size_t)kf->w * kf->h * 4, off);
    if (e) {
        snprintf(kf->err, sizeof(kf->err), "spill file: %s", strerror(-e));
        return aie_error_from_errno(-e);
    }
    return 0;
}

static int emit_frame(AieKeyframe *kf, AieFrame *f, AieKeyframeEmitFn emit, void *opaque)
{
    (void)kf;
    return emit(opaque, f);
}

/* Composite rgb over src and emit it with meta m (or src's props). */
static int emit_styled(AieKeyframe *kf, const uint8_t *rgb, AieFrame *src, const uint8_t *src_rgba, Meta *m,
                       AieKeyframeEmitFn emit, void *opaque)
{
    AieFrame *o = NULL;
    int e = aie_frame_pool_get(kf->frames, &o);
    if (e)
        return e;
    from_rgba(kf, rgb, src_rgba, src, o);
    if (m)
        aie_frame_copy_props(o, &m->props);
    else
        aie_frame_copy_props(o, src);
    return emit_frame(kf, o, emit, opaque);
}

static void note_passthrough(AieKeyframe *kf, int64_t i)
{
    if (kf->passthrough_noted || !kf->p.note)
        return;
    kf->passthrough_noted = 1;
    char msg[200];
    snprintf(msg, sizeof(msg), "shot %d (from frame %lld) has no keyframe: %s", kf->shots, (long long)i,
             kf->p.shot_only ? "left out (--shot-only)" : "passed through unchanged");
    kf->p.note(kf->p.note_opaque, msg);
}

/* Emit the pending frames in order, forward results only (or unchanged). */
static int flush_pending(AieKeyframe *kf, AieKeyframeEmitFn emit, void *opaque)
{
    int e = 0;
    for (int i = 0; i < kf->npend && !e; i++) {
        AieFrame *f = NULL;
        Meta *m = &kf->pend[i];
        if ((e = aie_frame_pool_get(kf->frames, &f)))
            break;
        if ((e = spill_io(kf, i, f, m->has_fwd ? kf->tmp_rgba : NULL, 0))) {
            aie_frame_unref(&f);
            break;
        }
        f->color = m->props.color;
        if (m->has_fwd) {
            to_rgba(kf, f, kf->tmp_rgba2);
            e = emit_styled(kf, kf->tmp_rgba, f, kf->tmp_rgba2, m, emit, opaque);
            aie_frame_unref(&f);
        } else {
            note_passthrough(kf, kf->pend_first + i);
            aie_frame_copy_props(f, &m->props);
            if (kf->p.shot_only) {
                aie_frame_unref(&f);
                continue;
            }
            e = emit_frame(kf, f, emit, opaque);
        }
    }
    for (int i = 0; i < kf->npend; i++)
        if (kf->pend[i].props.aux && kf->pend[i].props.aux_free)
            kf->pend[i].props.aux_free(kf->pend[i].props.aux);
    kf->npend = 0;
    return e;
}

/* Keyframe frame j (cur) arrived: backward pass over the pending frames,
 * blended with their forward results, emitted in order. */
static int resolve_pending(AieKeyframe *kf, AieFrame *cur, const Key *key, int64_t j, AieKeyframeEmitFn emit,
                           void *opaque, AiePool *pool)
{
    if (!kf->npend)
        return 0;
    Side *bs = &kf->sides[1];
    int e;
    if ((e = side_build(bs, j, kf->rgba_cur, key->rgba, kf->w, kf->h, 0)))
        return e;
    Pass bp = {0};
    uint8_t *keep_cur = malloc((size_t)kf->w * kf->h * 4);
    if (!keep_cur || (e = pass_alloc(&bp, kf->w, kf->h))) {
        e = AIE_ENOMEM;
        goto done;
    }
    memcpy(keep_cur, kf->rgba_cur, (size_t)kf->w * kf->h * 4);
    pass_start(kf, &bp, bs, cur, key->rgba);
    const int64_t kp = kf->fwd.active ? kf->fwd.side->index : -1;
    for (int i = kf->npend - 1; i >= 0; i--) {
        Meta *m = &kf->pend[i];
        AieFrame *f = NULL;
        if ((e = aie_frame_pool_get(kf->frames, &f)))
            goto done;
        if ((e = spill_io(kf, i, f, m->has_fwd ? kf->tmp_rgba : NULL, 0))) {
            aie_frame_unref(&f);
            goto done;
        }
        f->color = m->props.color;
        to_rgba(kf, f, kf->rgba_cur);
        e = synth(kf, &bp, bs, f, kf->tmp_rgba2, pool);
        if (!e && m->has_fwd) {
            const int64_t fi = kf->pend_first + i;
            const int wb = (int)(256 * (fi - kp) / (j - kp)); /* weight of the backward result */
            const size_t n = (size_t)kf->w * kf->h * 4;
            for (size_t k = 0; k < n; k++)
                kf->tmp_rgba2[k] = (uint8_t)((kf->tmp_rgba[k] * (256 - wb) + kf->tmp_rgba2[k] * wb + 128) >> 8);
        }
        if (!e)
            e = spill_io(kf, i, f, kf->tmp_rgba2, 1);
        m->has_fwd = 1;
        aie_frame_unref(&f);
        if (e)
            goto done;
    }
    e = flush_pending(kf, emit, opaque);
    memcpy(kf->rgba_cur, keep_cur, (size_t)kf->w * kf->h * 4);
done:
    pass_end(&bp);
    free(bp.out);
    free(bp.nnf);
    free(keep_cur);
    return e;
}

static int spill(AieKeyframe *kf, AieFrame *f, int64_t j, const uint8_t *fwd_rgba)
{
    if (kf->fd < 0) {
        int e = aie_fs_scratch_open(kf->p.scratch_dir, &kf->fd, kf->err, sizeof(kf->err));
        if (e)
            return e;
    }
    if (kf->npend == kf->cappend) {
        int nc = kf->cappend ? 2 * kf->cappend : 32;
        Meta *nm = realloc(kf->pend, (size_t)nc * sizeof(*nm));
        if (!nm)
            return AIE_ENOMEM;
        kf->pend = nm;
        kf->cappend = nc;
    }
    if (!kf->npend)
        kf->pend_first = j;
    Meta *m = &kf->pend[kf->npend];
    memset(m, 0, sizeof(*m));
    int e = spill_io(kf, kf->npend, f, (uint8_t *)fwd_rgba, 1);
    if (e)
        return e;
    aie_frame_copy_props(&m->props, f);
    m->has_fwd = fwd_rgba != NULL;
    kf->npend++;
    return 0;
}

static int shot_end(AieKeyframe *kf, AieKeyframeEmitFn emit, void *opaque)
{
    int e = flush_pending(kf, emit, opaque);
    pass_end(&kf->fwd);
    return e;
}

/* Handle frame j (= f), cut telling whether a shot starts at it. */
static int handle(AieKeyframe *kf, AieFrame *f, int64_t j, int cut, AieKeyframeEmitFn emit, void *opaque,
                  AiePool *pool)
{
    int e;
    if (cut || j == 0) {
        if ((e = shot_end(kf, emit, opaque)))
            return e;
        kf->shots++;
        kf->passthrough_noted = 0;
        kf->shot_start = j;
    }
    to_rgba(kf, f, kf->rgba_cur);
    if (kf->exemplar) {
        Pass *ps = &kf->fwd;
        if (!ps->active) {
            ps->active = 1;
            ps->side = kf->exemplar;
        }
        if ((e = synth(kf, ps, kf->exemplar, f, kf->tmp_rgba, pool)))
            return e;
        return emit_styled(kf, kf->tmp_rgba, f, kf->rgba_cur, NULL, emit, opaque);
    }
    const Key *key = key_at(kf, j);
    if (key) {
        if ((e = resolve_pending(kf, f, key, j, emit, opaque, pool)))
            return e;
        Side *s = &kf->sides[0];
        if (kf->sides[1].index == j) { /* built by the backward pass: take it */
            Side t = *s;
            *s = kf->sides[1];
            kf->sides[1] = t;
        } else if ((e = side_build(s, j, kf->rgba_cur, key->rgba, kf->w, kf->h, 0))) {
            return e;
        }
        pass_start(kf, &kf->fwd, s, f, key->rgba);
        return emit_styled(kf, key->rgba, f, kf->rgba_cur, NULL, emit, opaque);
    }
    const uint8_t *fwd = NULL;
    if (kf->fwd.active) {
        if ((e = synth(kf, &kf->fwd, kf->fwd.side, f, kf->tmp_rgba, pool)))
            return e;
        fwd = kf->tmp_rgba;
    }
    if (key_after(kf, j))
        return spill(kf, f, j, fwd);
    if (fwd)
        return emit_styled(kf, fwd, f, kf->rgba_cur, NULL, emit, opaque);
    note_passthrough(kf, j);
    if (kf->p.shot_only)
        return 0;
    AieFrame *o = aie_frame_ref(f);
    return emit_frame(kf, o, emit, opaque);
}

int aie_keyframe_push(AieKeyframe *kf, AieFrame *in, AieKeyframeEmitFn emit, void *opaque, AiePool *pool)
{
    if (!kf || !emit)
        return AIE_EINVAL;
    if (!kf->nkeys && !kf->exemplar) {
        snprintf(kf->err, sizeof(kf->err), "no keyframe and no exemplar");
        return AIE_EINVAL;
    }
    if (in && (in->width != kf->w || in->height != kf->h || in->layout != kf->layout || in->depth != kf->depth)) {
        snprintf(kf->err, sizeof(kf->err), "frame %lld: size or format changed", (long long)kf->seen);
        return AIE_EINVAL;
    }
    int e = 0;
    const double thr = kf->p.cut_threshold > 0 ? kf->p.cut_threshold : AIE_SCENE_THRESHOLD_DEFAULT;
    if (in) {
        /* features of frames seen-4 .. seen in feat[0..4] */
        if (kf->nfeat == AIE_SCENE_WINDOW) {
            memmove(kf->feat, kf->feat + 1, sizeof(kf->feat[0]) * (AIE_SCENE_WINDOW - 1));
            kf->nfeat--;
        }
        aie_scene_features(in, &kf->feat[kf->nfeat++]);
        kf->seen++;
    }
    if (kf->held) {
        /* the held frame is frame seen-2 (or seen-1 at the end) */
        const int n = kf->nfeat, hi = in ? n - 2 : n - 1; /* index of the held frame in feat */
        int cut = 0;
        if (hi >= 1) {
            const AieSceneFeat *win[AIE_SCENE_WINDOW] = {
                hi >= 3 ? &kf->feat[hi - 3] : NULL, hi >= 2 ? &kf->feat[hi - 2] : NULL, &kf->feat[hi - 1],
                &kf->feat[hi], hi + 1 < n ? &kf->feat[hi + 1] : NULL};
            cut = aie_scene_cut(win, thr);
        }
        const int64_t j = in ? kf->seen - 2 : kf->seen - 1;
        AieFrame *f = kf->held;
        kf->held = NULL;
        e = handle(kf, f, j, cut, emit, opaque, pool);
        aie_frame_unref(&f);
        if (e)
            return e;
    }
    if (in) {
        kf->held = aie_frame_ref(in);
        return 0;
    }
    /* the end */
    if ((e = shot_end(kf, emit, opaque)))
        return e;
    for (int k = 0; k < kf->nkeys; k++)
        if (kf->keys[k].index >= kf->seen) {
            snprintf(kf->err, sizeof(kf->err), "keyframe %lld is past the end of the clip (%lld frames)",
                     (long long)kf->keys[k].index, (long long)kf->seen);
            return AIE_EINVAL;
        }
    return 0;
}

const char *aie_keyframe_error(const AieKeyframe *kf)
{
    return kf ? kf->err : "";
}

int64_t aie_keyframe_frames(const AieKeyframe *kf)
{
    return kf->seen;
}

int aie_keyframe_shots(const AieKeyframe *kf)
{
    return kf->shots;
}
