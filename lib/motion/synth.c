/* Frame synthesis at time t between two frames.
 *
 * On the field grid: the motion at t is found from each side by a fixed-point
 * search (the point p at time t came from x in a with x + t ab(x) = p, and
 * from y in b with y + (1 - t) ba(y) = p); of the two candidates the one whose
 * two ends look alike wins. Each end's visibility is its forward-backward
 * consistency with that motion, which weights the two warped samples together
 * with the distance in time; where neither end is consistent the pixel fades
 * toward the plain blend.
 * At full resolution (every plane, chroma with the luma motion scaled): the
 * grid's motion and weights are interpolated bilinearly, both frames are
 * sampled bicubically and blended. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "motion_internal.h"

#define ROWCHUNK 512
#define FP_ITERS 2
#define VIS_TAU2 16.0f   /* squared forward-backward error (grid samples) of half visibility */
#define REL_LO 0.15f     /* best visibility under which the motion is unreliable */

/* Private part of a pair: the luma planes at the field's level and the
 * per-t scratch fields. Freed pairs wait in their synthesiser's list for the
 * next analyse(), so no memory is allocated (and zeroed) per pair. */
typedef struct PairPriv {
    AiePairMotion pub;
    struct AieInterp *owner;
    struct PairPriv *next;
    Plane la, lb;
    Plane tu, tv, twa, trel, tmp; /* motion at t (grid units), weight of a, reliability */
} PairPriv;

struct AieInterp {
    int width, height, depth;
    AieLayout layout;
    AieMotion *m;
    AieWarpDSP warp;
    AieBlendDSP blend;
    int fw, fh, fs;
    int *xi[2];   /* per column of a luma [0] and a chroma [1] plane: grid column */
    float *xw[2]; /* and the weight of the next one */
    pthread_mutex_t lock;
    PairPriv *free_pairs;
};

static void pair_destroy(PairPriv *p)
{
    aie_flow_free(&p->pub.ab);
    aie_flow_free(&p->pub.ba);
    Plane *ps[] = {&p->la, &p->lb, &p->tu, &p->tv, &p->twa, &p->trel, &p->tmp};
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
        aie_plane_free(ps[i]);
    free(p);
}

int aie_interp_create(AieInterp **out, int width, int height, AieLayout layout, int depth,
                      const AieMotionParams *p, unsigned cpu_flags)
{
    *out = NULL;
    if (layout < 0 || layout >= AIE_LAYOUT_COUNT || depth < 8 || depth > 16)
        return AIE_EINVAL;
    AieInterp *ip = calloc(1, sizeof(*ip));
    if (!ip)
        return AIE_ENOMEM;
    int err = aie_motion_create(&ip->m, width, height, p, cpu_flags);
    if (err) {
        free(ip);
        return err;
    }
    ip->width = width;
    ip->height = height;
    ip->layout = layout;
    ip->depth = depth;
    aie_warp_dsp_init(&ip->warp, cpu_flags);
    aie_blend_dsp_init(&ip->blend, cpu_flags);
    aie_motion_field_size(ip->m, &ip->fw, &ip->fh, &ip->fs);
    int sx, sy;
    aie_layout_chroma_shift(layout, &sx, &sy);
    for (int k = 0; k < 2; k++) {
        int shift = k ? sx : 0, pw = (width + (1 << shift) - 1) >> shift;
        ip->xi[k] = malloc(sizeof(int) * (size_t)pw);
        ip->xw[k] = malloc(sizeof(float) * (size_t)pw);
        if (!ip->xi[k] || !ip->xw[k]) {
            pthread_mutex_init(&ip->lock, NULL);
            aie_interp_free(&ip);
            return AIE_ENOMEM;
        }
        for (int x = 0; x < pw; x++) {
            float lx = ((float)x + 0.5f) * (float)(1 << shift) - 0.5f;
            float gx = (lx + 0.5f) / (float)(1 << ip->fs) - 0.5f;
            gx = gx < 0 ? 0 : gx > (float)(ip->fw - 1) ? (float)(ip->fw - 1) : gx;
            ip->xi[k][x] = (int)gx;
            ip->xw[k][x] = gx - (float)ip->xi[k][x];
        }
    }
    pthread_mutex_init(&ip->lock, NULL);
    *out = ip;
    return 0;
}

void aie_interp_free(AieInterp **ip)
{
    if (!ip || !*ip)
        return;
    AieInterp *s = *ip;
    while (s->free_pairs) {
        PairPriv *p = s->free_pairs;
        s->free_pairs = p->next;
        pair_destroy(p);
    }
    pthread_mutex_destroy(&s->lock);
    for (int k = 0; k < 2; k++) {
        free(s->xi[k]);
        free(s->xw[k]);
    }
    aie_motion_free(&s->m);
    free(s);
    *ip = NULL;
}

const AieMotion *aie_interp_motion(const AieInterp *ip) { return ip->m; }

void aie_pair_motion_free(AiePairMotion **pm)
{
    if (!pm || !*pm)
        return;
    PairPriv *p = (PairPriv *)*pm;
    AieInterp *ip = p->owner;
    pthread_mutex_lock(&ip->lock);
    p->next = ip->free_pairs;
    ip->free_pairs = p;
    pthread_mutex_unlock(&ip->lock);
    *pm = NULL;
}

static int pair_get(AieInterp *ip, PairPriv **out)
{
    pthread_mutex_lock(&ip->lock);
    PairPriv *p = ip->free_pairs;
    if (p)
        ip->free_pairs = p->next;
    pthread_mutex_unlock(&ip->lock);
    if (p) {
        *out = p;
        return 0;
    }
    p = calloc(1, sizeof(*p));
    if (!p)
        return AIE_ENOMEM;
    p->owner = ip;
    int err = aie_flow_alloc(&p->pub.ab, ip->width, ip->height, ip->fs);
    if (!err)
        err = aie_flow_alloc(&p->pub.ba, ip->width, ip->height, ip->fs);
    Plane *ps[] = {&p->la, &p->lb, &p->tu, &p->tv, &p->twa, &p->trel, &p->tmp};
    for (size_t i = 0; !err && i < sizeof(ps) / sizeof(ps[0]); i++)
        err = aie_plane_alloc(ps[i], ip->fw, ip->fh);
    if (err) {
        pair_destroy(p);
        return err;
    }
    *out = p;
    return 0;
}

int aie_interp_analyse(AieInterp *ip, const AieFrame *a, const AieFrame *b, AiePairMotion **out,
                       AiePool *pool)
{
    *out = NULL;
    if (a->width != ip->width || a->height != ip->height || a->layout != ip->layout ||
        a->depth != ip->depth || b->width != ip->width || b->height != ip->height ||
        b->layout != ip->layout || b->depth != ip->depth)
        return AIE_EINVAL;
    PairPriv *p;
    int err = pair_get(ip, &p);
    if (err)
        return err;
    err = aie_motion_estimate_keep(ip->m, a, b, p->pub.ab, p->pub.ba, &p->la, &p->lb, pool);
    if (err) {
        AiePairMotion *pm = &p->pub;
        aie_pair_motion_free(&pm);
        return err;
    }
    p->pub.unreliable = -1;
    *out = &p->pub;
    return 0;
}

double aie_pair_motion_unreliable(AiePairMotion *pm, AiePool *pool)
{
    if (pm->unreliable < 0)
        pm->unreliable = aie_motion_unreliable(pm->ab, pm->ba, pool);
    return pm->unreliable;
}

/* ---- the grid pass ---- */

typedef struct GridCtx {
    const AieInterp *ip;
    PairPriv *p;
    float t;
    int extrapolate; /* t > 1 */
} GridCtx;

static void grid_rows(void *ctx, int band, int worker)
{
    (void)worker;
    GridCtx *c = ctx;
    const AieFlow *ab = c->p->pub.ab, *ba = c->p->pub.ba;
    PairPriv *p = c->p;
    const AieFlowTArgs args = {
        .fu = ab->u, .fv = ab->v, .gu = ba->u, .gv = ba->v, .fstride = ab->stride,
        .fw = ab->width, .fh = ab->height, .la = p->la.data, .lb = p->lb.data,
        .lstride = p->la.stride, .t = c->t, .is = 1.0f / (float)(1 << ab->scale_log2),
        .tau2 = VIS_TAU2, .rel_lo = REL_LO, .iters = FP_ITERS,
        .extrapolate = c->extrapolate,
    };
    int y0 = band * 8, y1 = y0 + 8 < ab->height ? y0 + 8 : ab->height;
    for (int y = y0; y < y1; y++)
        c->ip->warp.flow_t(p->tu.data + y * p->tu.stride, p->tv.data + y * p->tv.stride,
                           p->twa.data + y * p->twa.stride, p->tmp.data + y * p->tmp.stride,
                           &args, y);
}

/* 3x3 box of the reliability, so fall-backs fade in and out softly. */
static void rel_rows(void *ctx, int band, int worker)
{
    (void)worker;
    GridCtx *c = ctx;
    const Plane *s = &c->p->tmp;
    Plane *d = &c->p->trel;
    int W = s->w, H = s->h;
    int y0 = band * 8, y1 = y0 + 8 < H ? y0 + 8 : H;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < W; x++) {
            float acc = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                    acc += s->data[(y + dy) * s->stride + x + dx];
            d->data[y * d->stride + x] = acc * (1.0f / 9.0f);
        }
}

/* ---- the full-resolution pass ---- */

typedef struct FullCtx {
    const AieInterp *ip;
    PairPriv *p;
    const AieFrame *a, *b;
    AieFrame *dst;
    float t;
    int plane, pw, ph, sx, sy; /* plane, its size and subsampling shifts */
    const int *xi;             /* per column: grid column and weight */
    const float *xw;
} FullCtx;

static void full_rows(void *ctx, int band, int worker)
{
    (void)worker;
    FullCtx *c = ctx;
    const PairPriv *p = c->p;
    const int fw = p->tu.w, fh = p->tu.h, fs = c->ip->fs;
    const float t = c->t;
    /* grid units -> plane samples */
    const float kx = (float)(1 << fs) / (float)(1 << c->sx), ky = (float)(1 << fs) / (float)(1 << c->sy);
    float rw[ROWCHUNK], rr[ROWCHUNK], xa[ROWCHUNK], ya[ROWCHUNK], xb[ROWCHUNK], yb[ROWCHUNK];
    float ca[ROWCHUNK], cb[ROWCHUNK];
    float gbuf[4][2 * ROWCHUNK + 32]; /* the grid may be finer than a chroma plane */
    int y0 = band * 8, y1 = y0 + 8 < c->ph ? y0 + 8 : c->ph;
    const int pl = c->plane, bps = c->ip->depth > 8 ? 2 : 1;
    for (int y = y0; y < y1; y++) {
        /* the grid row of this plane row */
        float ly = ((float)y + 0.5f) * (float)(1 << c->sy) - 0.5f;
        float gy = (ly + 0.5f) / (float)(1 << fs) - 0.5f;
        gy = gy < 0 ? 0 : gy > (float)(fh - 1) ? (float)(fh - 1) : gy;
        int iy = (int)gy, iy1 = iy + 1 < fh ? iy + 1 : iy;
        float fy = gy - (float)iy;
        const uint8_t *rowa = c->a->data[pl] + (ptrdiff_t)y * c->a->stride[pl];
        const uint8_t *rowb = c->b->data[pl] + (ptrdiff_t)y * c->b->stride[pl];
        uint8_t *rowd = c->dst->data[pl] + (ptrdiff_t)y * c->dst->stride[pl];
        for (int x0 = 0; x0 < c->pw; x0 += ROWCHUNK) {
            int n = c->pw - x0 < ROWCHUNK ? c->pw - x0 : ROWCHUNK;
            /* the grid columns this chunk needs, vertically interpolated (and
             * the last one repeated, for the kernel's reads past it) */
            int g0 = c->xi[x0], g1 = c->xi[x0 + n - 1] + 1;
            if (g1 > fw - 1)
                g1 = fw - 1;
            int gn = g1 - g0 + 1;
            const Plane *src[4] = {&p->tu, &p->tv, &p->twa, &p->trel};
            for (int k = 0; k < 4; k++) {
                float *d = gbuf[k];
                c->ip->warp.lerp(d, src[k]->data + iy * src[k]->stride + g0,
                                 src[k]->data + iy1 * src[k]->stride + g0, fy, gn);
                for (int i = gn; i < gn + 17; i++)
                    d[i] = d[gn - 1];
            }
            const float *const g[4] = {gbuf[0] - g0, gbuf[1] - g0, gbuf[2] - g0, gbuf[3] - g0};
            c->ip->warp.coords(xa, ya, xb, yb, rw, rr, g, c->xi + x0, c->xw + x0, x0, (float)y, kx,
                               ky, t, n);
            if (bps == 1) {
                c->ip->warp.bicubic8(ca, c->a->data[pl], c->a->stride[pl], c->pw, c->ph, xa, ya, n);
                c->ip->warp.bicubic8(cb, c->b->data[pl], c->b->stride[pl], c->pw, c->ph, xb, yb, n);
                c->ip->blend.mc8(rowd + x0, ca, cb, rw, rr, rowa + x0, rowb + x0, t, n);
            } else {
                const uint16_t *sa = (const uint16_t *)(const void *)c->a->data[pl];
                const uint16_t *sb = (const uint16_t *)(const void *)c->b->data[pl];
                c->ip->warp.bicubic16(ca, sa, c->a->stride[pl], c->pw, c->ph, xa, ya, n);
                c->ip->warp.bicubic16(cb, sb, c->b->stride[pl], c->pw, c->ph, xb, yb, n);
                c->ip->blend.mc16((uint16_t *)(void *)rowd + x0, ca, cb, rw, rr,
                                  (const uint16_t *)(const void *)rowa + x0,
                                  (const uint16_t *)(const void *)rowb + x0, t,
                                  (1 << c->ip->depth) - 1, n);
            }
        }
    }
}

typedef struct MixCtx {
    const AieFrame *a, *b;
    AieFrame *dst;
    const AieBlendDSP *dsp;
    double t;
} MixCtx;

static void mix_rows(void *ctx, int band, int worker)
{
    (void)worker;
    MixCtx *c = ctx;
    for (int pl = 0; pl < c->dst->nplanes; pl++) {
        int h = c->dst->plane_h[pl], w = c->dst->plane_w[pl];
        int y0 = (int)((long)band * h / 64), y1 = (int)((long)(band + 1) * h / 64);
        for (int y = y0; y < y1; y++) {
            const uint8_t *ra = c->a->data[pl] + (ptrdiff_t)y * c->a->stride[pl];
            const uint8_t *rb = c->b->data[pl] + (ptrdiff_t)y * c->b->stride[pl];
            uint8_t *rd = c->dst->data[pl] + (ptrdiff_t)y * c->dst->stride[pl];
            if (c->dst->depth > 8)
                c->dsp->mix16((uint16_t *)(void *)rd, (const uint16_t *)(const void *)ra,
                              (const uint16_t *)(const void *)rb, (int)lround(c->t * 32768), w);
            else
                c->dsp->mix8(rd, ra, rb, (int)lround(c->t * 256), w);
        }
    }
}

int aie_interp_synth(AieInterp *ip, const AiePairMotion *pm, const AieFrame *a,
                     const AieFrame *b, double t, AieFrame *dst, AieFlow *flow_t, AiePool *pool)
{
    const AieFrame *fs[3] = {a, b, dst};
    for (int i = 0; i < 3; i++)
        if (!fs[i] || fs[i]->width != ip->width || fs[i]->height != ip->height ||
            fs[i]->layout != ip->layout || fs[i]->depth != ip->depth)
            return AIE_EINVAL;
    if (!(t > 0 && t < 2) || t == 1 || (!pm && t > 1))
        return AIE_EINVAL;
    if (flow_t && (flow_t->width != ip->fw || flow_t->height != ip->fh || flow_t->scale_log2 != ip->fs))
        return AIE_EINVAL;
    if (!pm) {
        MixCtx mc = {a, b, dst, &ip->blend, t};
        aie_pool_parallel_for(pool, 64, mix_rows, &mc);
        if (flow_t)
            for (int y = 0; y < flow_t->height; y++) {
                memset(flow_t->u + y * flow_t->stride, 0, (size_t)flow_t->width * sizeof(float));
                memset(flow_t->v + y * flow_t->stride, 0, (size_t)flow_t->width * sizeof(float));
            }
        return 0;
    }
    PairPriv *p = (PairPriv *)(void *)pm;
    GridCtx gc = {ip, p, (float)t, t > 1};
    int bands = (ip->fh + 7) / 8;
    aie_pool_parallel_for(pool, bands, grid_rows, &gc);
    aie_plane_pad(&p->tmp);
    aie_pool_parallel_for(pool, bands, rel_rows, &gc);
    aie_plane_pad(&p->tu);
    aie_plane_pad(&p->tv);
    aie_plane_pad(&p->twa);
    aie_plane_pad(&p->trel);
    int sx, sy;
    aie_layout_chroma_shift(ip->layout, &sx, &sy);
    for (int pl = 0; pl < dst->nplanes; pl++) {
        int chroma = ip->layout <= AIE_LAYOUT_YUV444 && (pl == 1 || pl == 2);
        FullCtx fc = {ip, p, a, b, dst, (float)t, pl, dst->plane_w[pl], dst->plane_h[pl],
                      chroma ? sx : 0, chroma ? sy : 0, ip->xi[chroma], ip->xw[chroma]};
        aie_pool_parallel_for(pool, (fc.ph + 7) / 8, full_rows, &fc);
    }
    if (flow_t) {
        float s = (float)(1 << ip->fs);
        for (int y = 0; y < flow_t->height; y++)
            for (int x = 0; x < flow_t->width; x++) {
                flow_t->u[y * flow_t->stride + x] = s * p->tu.data[y * p->tu.stride + x];
                flow_t->v[y * flow_t->stride + x] = s * p->tv.data[y * p->tv.stride + x];
            }
    }
    return 0;
}
