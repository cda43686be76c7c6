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
#define FP_ITERS 3
#define VIS_TAU 1.0f     /* forward-backward error (grid samples) of half visibility */
#define REL_LO 0.15f     /* best visibility under which the motion is unreliable */

struct AieInterp {
    int width, height, depth;
    AieLayout layout;
    AieMotion *m;
    AieWarpDSP warp;
    AieBlendDSP blend;
    int fw, fh, fs;
};

/* Private part of a pair: the luma planes at the field's level and the
 * per-t scratch fields. */
typedef struct PairPriv {
    AiePairMotion pub;
    Plane la, lb;
    Plane tu, tv, twa, trel, tmp; /* motion at t (grid units), weight of a, reliability */
} PairPriv;

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
    *out = ip;
    return 0;
}

void aie_interp_free(AieInterp **ip)
{
    if (!ip || !*ip)
        return;
    aie_motion_free(&(*ip)->m);
    free(*ip);
    *ip = NULL;
}

const AieMotion *aie_interp_motion(const AieInterp *ip) { return ip->m; }

void aie_pair_motion_free(AiePairMotion **pm)
{
    if (!pm || !*pm)
        return;
    PairPriv *p = (PairPriv *)*pm;
    aie_flow_free(&p->pub.ab);
    aie_flow_free(&p->pub.ba);
    Plane *ps[] = {&p->la, &p->lb, &p->tu, &p->tv, &p->twa, &p->trel, &p->tmp};
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
        plane_free(ps[i]);
    free(p);
    *pm = NULL;
}

int aie_interp_analyse(AieInterp *ip, const AieFrame *a, const AieFrame *b, AiePairMotion **out,
                       AiePool *pool)
{
    *out = NULL;
    if (a->width != ip->width || a->height != ip->height || a->layout != ip->layout ||
        a->depth != ip->depth || b->width != ip->width || b->height != ip->height ||
        b->layout != ip->layout || b->depth != ip->depth)
        return AIE_EINVAL;
    PairPriv *p = calloc(1, sizeof(*p));
    if (!p)
        return AIE_ENOMEM;
    int err = aie_flow_alloc(&p->pub.ab, ip->width, ip->height, ip->fs);
    if (!err)
        err = aie_flow_alloc(&p->pub.ba, ip->width, ip->height, ip->fs);
    Plane *ps[] = {&p->la, &p->lb, &p->tu, &p->tv, &p->twa, &p->trel, &p->tmp};
    for (size_t i = 0; !err && i < sizeof(ps) / sizeof(ps[0]); i++)
        err = plane_alloc(ps[i], ip->fw, ip->fh);
    if (!err)
        err = motion_estimate_keep(ip->m, a, b, p->pub.ab, p->pub.ba, &p->la, &p->lb, pool);
    if (err) {
        AiePairMotion *pm = &p->pub;
        aie_pair_motion_free(&pm);
        return err;
    }
    p->pub.unreliable = aie_flow_unreliable(p->pub.ab, p->pub.ba);
    *out = &p->pub;
    return 0;
}

/* ---- the grid pass ---- */

typedef struct GridCtx {
    const AieInterp *ip;
    PairPriv *p;
    float t;
    int extrapolate; /* t > 1 */
} GridCtx;

/* Bilinear sample of a field component in grid units at grid position. */
static inline float field_at(const float *f, ptrdiff_t stride, int w, int h, float x, float y)
{
    x = x < 0 ? 0 : x > (float)(w - 1) ? (float)(w - 1) : x;
    y = y < 0 ? 0 : y > (float)(h - 1) ? (float)(h - 1) : y;
    int ix = (int)x, iy = (int)y;
    float fx = x - (float)ix, fy = y - (float)iy;
    int ix1 = ix + 1 < w ? ix + 1 : ix, iy1 = iy + 1 < h ? iy + 1 : iy;
    const float *r0 = f + iy * stride, *r1 = f + iy1 * stride;
    float a = r0[ix] + fx * (r0[ix1] - r0[ix]);
    float b = r1[ix] + fx * (r1[ix1] - r1[ix]);
    return a + fy * (b - a);
}

static void grid_rows(void *ctx, int band, int worker)
{
    (void)worker;
    GridCtx *c = ctx;
    const AieFlow *ab = c->p->pub.ab, *ba = c->p->pub.ba;
    const int W = ab->width, H = ab->height;
    const float is = 1.0f / (float)(1 << ab->scale_log2); /* full-res px -> grid */
    const float t = c->t, t1 = 1.0f - t;
    int y0 = band * 8, y1 = y0 + 8 < H ? y0 + 8 : H;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < W; x++) {
            const float px = (float)x, py = (float)y;
            /* from a: x_a + t ab(x_a) = p (not past b: b alone extrapolates) */
            float ua = 0, va = 0, qx = px, qy = py;
            for (int k = 0; k < FP_ITERS && !c->extrapolate; k++) {
                ua = field_at(ab->u, ab->stride, W, H, qx, qy) * is;
                va = field_at(ab->v, ab->stride, W, H, qx, qy) * is;
                qx = px - t * ua;
                qy = py - t * va;
            }
            /* from b: y_b + (1 - t) ba(y_b) = p; the a -> b motion is -ba */
            float ub = 0, vb = 0;
            qx = px;
            qy = py;
            for (int k = 0; k < FP_ITERS; k++) {
                ub = -field_at(ba->u, ba->stride, W, H, qx, qy) * is;
                vb = -field_at(ba->v, ba->stride, W, H, qx, qy) * is;
                qx = px + t1 * ub;
                qy = py + t1 * vb;
            }
            /* the two candidates agree, or the one whose two ends look more
             * alike wins */
            float u, v;
            float dd = (ua - ub) * (ua - ub) + (va - vb) * (va - vb);
            if (c->extrapolate) {
                u = ub;
                v = vb;
            } else if (dd < 0.25f) {
                u = 0.5f * (ua + ub);
                v = 0.5f * (va + vb);
            } else {
                float ea = fabsf(plane_bilinear(&c->p->la, px - t * ua, py - t * va) -
                                 plane_bilinear(&c->p->lb, px + t1 * ua, py + t1 * va));
                float eb = fabsf(plane_bilinear(&c->p->la, px - t * ub, py - t * vb) -
                                 plane_bilinear(&c->p->lb, px + t1 * ub, py + t1 * vb));
                u = ea <= eb ? ua : ub;
                v = ea <= eb ? va : vb;
            }
            /* visibility of each end: its own motion agrees with (u, v) */
            float ax = px - t * u, ay = py - t * v, bx = px + t1 * u, by = py + t1 * v;
            float da = 0, db = 0;
            {
                float fu = field_at(ab->u, ab->stride, W, H, ax, ay) * is - u;
                float fv = field_at(ab->v, ab->stride, W, H, ax, ay) * is - v;
                da = fu * fu + fv * fv;
                float gu = field_at(ba->u, ba->stride, W, H, bx, by) * is + u;
                float gv = field_at(ba->v, ba->stride, W, H, bx, by) * is + v;
                db = gu * gu + gv * gv;
            }
            float vis_a = 1.0f / (1.0f + da / (VIS_TAU * VIS_TAU));
            float vis_b = 1.0f / (1.0f + db / (VIS_TAU * VIS_TAU));
            const float lo = -0.5f, hx = (float)W - 0.5f, hy = (float)H - 0.5f;
            if (ax < lo || ay < lo || ax > hx || ay > hy)
                vis_a = 0;
            if (bx < lo || by < lo || bx > hx || by > hy)
                vis_b = 0;
            if (c->extrapolate) {
                vis_a = 0;
                vis_b = 1;
            }
            float wa = t1 * vis_a, wb = t * vis_b;
            float a_share = wa + wb > 1e-4f ? wa / (wa + wb) : t1;
            float best = vis_a > vis_b ? vis_a : vis_b;
            float rel = best >= REL_LO ? 1.0f : best / REL_LO;
            c->p->tu.data[y * c->p->tu.stride + x] = u;
            c->p->tv.data[y * c->p->tv.stride + x] = v;
            c->p->twa.data[y * c->p->twa.stride + x] = a_share;
            c->p->tmp.data[y * c->p->tmp.stride + x] = rel;
        }
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
    const float t = c->t, t1 = 1.0f - t;
    /* grid units -> plane samples */
    const float kx = (float)(1 << fs) / (float)(1 << c->sx), ky = (float)(1 << fs) / (float)(1 << c->sy);
    float ru[ROWCHUNK], rv[ROWCHUNK], rw[ROWCHUNK], rr[ROWCHUNK];
    float gu[ROWCHUNK], gv[ROWCHUNK], gw[ROWCHUNK], gr[ROWCHUNK];
    float xa[ROWCHUNK], ya[ROWCHUNK], xb[ROWCHUNK], yb[ROWCHUNK], ca[ROWCHUNK], cb[ROWCHUNK];
    (void)fw;
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
            /* the grid columns this chunk needs, vertically interpolated */
            int g0 = c->xi[x0], g1 = c->xi[x0 + n - 1] + 1;
            if (g1 > fw - 1)
                g1 = fw - 1;
            int gn = g1 - g0 + 1;
            if (gn > ROWCHUNK)
                gn = ROWCHUNK; /* cannot happen: the grid is coarser than the plane */
            const Plane *src[4] = {&p->tu, &p->tv, &p->twa, &p->trel};
            float *dstv[4] = {gu, gv, gw, gr};
            for (int k = 0; k < 4; k++) {
                const float *r0 = src[k]->data + iy * src[k]->stride + g0;
                const float *r1 = src[k]->data + iy1 * src[k]->stride + g0;
                for (int i = 0; i < gn; i++)
                    dstv[k][i] = r0[i] + fy * (r1[i] - r0[i]);
            }
            for (int i = 0; i < n; i++) {
                int gi = c->xi[x0 + i] - g0, gj = gi + 1 < gn ? gi + 1 : gi;
                float fx = c->xw[x0 + i];
                ru[i] = gu[gi] + fx * (gu[gj] - gu[gi]);
                rv[i] = gv[gi] + fx * (gv[gj] - gv[gi]);
                rw[i] = gw[gi] + fx * (gw[gj] - gw[gi]);
                rr[i] = gr[gi] + fx * (gr[gj] - gr[gi]);
                float mu = ru[i] * kx, mv = rv[i] * ky;
                float px = (float)(x0 + i), py = (float)y;
                xa[i] = px - t * mu;
                ya[i] = py - t * mv;
                xb[i] = px + t1 * mu;
                yb[i] = py + t1 * mv;
            }
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
    plane_pad(&p->tmp);
    aie_pool_parallel_for(pool, bands, rel_rows, &gc);
    plane_pad(&p->tu);
    plane_pad(&p->tv);
    plane_pad(&p->twa);
    plane_pad(&p->trel);
    int sx, sy;
    aie_layout_chroma_shift(ip->layout, &sx, &sy);
    int *xi = malloc(sizeof(int) * (size_t)ip->width);
    float *xw = malloc(sizeof(float) * (size_t)ip->width);
    if (!xi || !xw) {
        free(xi);
        free(xw);
        return AIE_ENOMEM;
    }
    for (int pl = 0; pl < dst->nplanes; pl++) {
        int chroma = ip->layout <= AIE_LAYOUT_YUV444 && (pl == 1 || pl == 2);
        FullCtx fc = {ip, p, a, b, dst, (float)t, pl, dst->plane_w[pl], dst->plane_h[pl],
                      chroma ? sx : 0, chroma ? sy : 0, xi, xw};
        for (int x = 0; x < fc.pw; x++) {
            float lx = ((float)x + 0.5f) * (float)(1 << fc.sx) - 0.5f;
            float gx = (lx + 0.5f) / (float)(1 << ip->fs) - 0.5f;
            gx = gx < 0 ? 0 : gx > (float)(ip->fw - 1) ? (float)(ip->fw - 1) : gx;
            xi[x] = (int)gx;
            xw[x] = gx - (float)xi[x];
        }
        aie_pool_parallel_for(pool, (fc.ph + 7) / 8, full_rows, &fc);
    }
    free(xi);
    free(xw);
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
