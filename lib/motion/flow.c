/* Dense optical flow: a coarse-to-fine pyramid of DIS inverse-search patch
 * flow (Kroeger et al. 2016) with densification and a variational refinement
 * at every level. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "motion_internal.h"

#define P AIE_DIS_PATCH

/* variational refinement: weights of brightness, gradient and smoothness
 * terms for samples in 0..255, the robust epsilon and the SOR factor */
#define VAR_DELTA 5.0f
#define VAR_GAMMA 10.0f
#define VAR_ALPHA 20.0f
#define VAR_EPS2 (0.001f * 0.001f)
#define VAR_OMEGA 1.6f
#define VAR_OUTER 1
#define VAR_ZETA2 1.0f

void aie_motion_params_default(AieMotionParams *p)
{
    p->finest_level = -1;
    p->patch_stride = 4;
    p->iterations = 12;
    p->var_iterations = 5;
}

/* ---- planes ---- */

int plane_alloc(Plane *p, int w, int h)
{
    p->w = w;
    p->h = h;
    p->stride = ((ptrdiff_t)w + 2 * PLANE_PAD + 15) & ~(ptrdiff_t)15;
    size_t n = (size_t)p->stride * (size_t)(h + 2 * PLANE_PAD) + 16;
    p->buf = aligned_alloc(64, ((n * sizeof(float)) + 63) & ~(size_t)63);
    if (!p->buf)
        return AIE_ENOMEM;
    memset(p->buf, 0, n * sizeof(float));
    p->data = p->buf + PLANE_PAD * p->stride + PLANE_PAD;
    return 0;
}

void plane_free(Plane *p)
{
    free(p->buf);
    memset(p, 0, sizeof(*p));
}

void plane_pad(Plane *p)
{
    for (int y = 0; y < p->h; y++) {
        float *r = p->data + y * p->stride;
        for (int x = 1; x <= PLANE_PAD; x++) {
            r[-x] = r[0];
            r[p->w - 1 + x] = r[p->w - 1];
        }
    }
    size_t rowb = (size_t)(p->w + 2 * PLANE_PAD) * sizeof(float);
    for (int y = 1; y <= PLANE_PAD; y++) {
        memcpy(p->data - y * p->stride - PLANE_PAD, p->data - PLANE_PAD, rowb);
        memcpy(p->data + (p->h - 1 + y) * p->stride - PLANE_PAD,
               p->data + (p->h - 1) * p->stride - PLANE_PAD, rowb);
    }
}

/* ---- fields ---- */

int aie_flow_alloc(AieFlow **out, int frame_w, int frame_h, int scale_log2)
{
    *out = NULL;
    if (frame_w < 1 || frame_h < 1 || scale_log2 < 0 || scale_log2 >= MOTION_MAX_LEVELS)
        return AIE_EINVAL;
    AieFlow *f = calloc(1, sizeof(*f));
    if (!f)
        return AIE_ENOMEM;
    int s = 1 << scale_log2;
    f->width = (frame_w + s - 1) >> scale_log2;
    f->height = (frame_h + s - 1) >> scale_log2;
    f->scale_log2 = scale_log2;
    f->stride = ((ptrdiff_t)f->width + 15) & ~(ptrdiff_t)15;
    size_t n = (size_t)f->stride * (size_t)f->height;
    f->u = calloc(n, sizeof(float));
    f->v = calloc(n, sizeof(float));
    if (!f->u || !f->v) {
        aie_flow_free(&f);
        return AIE_ENOMEM;
    }
    *out = f;
    return 0;
}

void aie_flow_free(AieFlow **f)
{
    if (!f || !*f)
        return;
    free((*f)->u);
    free((*f)->v);
    free(*f);
    *f = NULL;
}

/* ---- estimator ---- */

int aie_motion_create(AieMotion **out, int width, int height, const AieMotionParams *p,
                      unsigned cpu_flags)
{
    *out = NULL;
    if (width < 1 || height < 1 || width > AIE_MAX_DIM || height > AIE_MAX_DIM)
        return AIE_EINVAL;
    AieMotion *m = calloc(1, sizeof(*m));
    if (!m)
        return AIE_ENOMEM;
    if (p)
        m->p = *p;
    else
        aie_motion_params_default(&m->p);
    if (m->p.patch_stride < 2 || m->p.patch_stride > 8 || m->p.iterations < 1 ||
        m->p.var_iterations < 0 || m->p.finest_level < -1) {
        free(m);
        return AIE_EINVAL;
    }
    m->width = width;
    m->height = height;
    m->lw[0] = width;
    m->lh[0] = height;
    int n = 1;
    while (n < MOTION_MAX_LEVELS && (m->lw[n - 1] + 1) / 2 >= 24 && (m->lh[n - 1] + 1) / 2 >= 16) {
        m->lw[n] = (m->lw[n - 1] + 1) / 2;
        m->lh[n] = (m->lh[n - 1] + 1) / 2;
        n++;
    }
    m->levels = n;
    int fl = m->p.finest_level;
    if (fl < 0) /* automatic: the first level at most 480 samples wide */
        for (fl = 0; fl < n - 1 && m->lw[fl] > 480; fl++)
            ;
    m->finest = fl < n ? fl : n - 1;
    aie_motion_dsp_init(&m->dsp, cpu_flags);
    aie_warp_dsp_init(&m->warp, cpu_flags);
    pthread_mutex_init(&m->lock, NULL);
    *out = m;
    return 0;
}

static void work_free(MotionWork *w)
{
    if (!w)
        return;
    for (int l = 0; l < MOTION_MAX_LEVELS; l++) {
        plane_free(&w->pa[l]);
        plane_free(&w->pb[l]);
    }
    Plane *ps[] = {&w->u, &w->v, &w->u2, &w->v2, &w->du, &w->dv, &w->iw,
                   &w->a11, &w->a12, &w->a22, &w->b1, &w->b2, &w->sx, &w->sy};
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
        plane_free(ps[i]);
    free(w->pu);
    free(w->pv);
    free(w->col_lo);
    free(w->col_hi);
    free(w->row_lo);
    free(w->row_hi);
    free(w);
}

void aie_motion_free(AieMotion **mp)
{
    if (!mp || !*mp)
        return;
    AieMotion *m = *mp;
    while (m->free_work) {
        MotionWork *w = m->free_work;
        m->free_work = w->next;
        work_free(w);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
    *mp = NULL;
}

void aie_motion_field_size(const AieMotion *m, int *w, int *h, int *scale_log2)
{
    *w = m->lw[m->finest];
    *h = m->lh[m->finest];
    *scale_log2 = m->finest;
}

static int work_alloc(const AieMotion *m, MotionWork **out)
{
    MotionWork *w = calloc(1, sizeof(*w));
    int err = w ? 0 : AIE_ENOMEM;
    for (int l = 0; !err && l < m->levels; l++) {
        err = plane_alloc(&w->pa[l], m->lw[l], m->lh[l]);
        if (!err)
            err = plane_alloc(&w->pb[l], m->lw[l], m->lh[l]);
    }
    int fw = m->lw[m->finest], fh = m->lh[m->finest];
    Plane *ps[] = {&w->u, &w->v, &w->u2, &w->v2, &w->du, &w->dv, &w->iw,
                   &w->a11, &w->a12, &w->a22, &w->b1, &w->b2, &w->sx, &w->sy};
    for (size_t i = 0; !err && i < sizeof(ps) / sizeof(ps[0]); i++)
        err = plane_alloc(ps[i], fw, fh);
    if (!err) {
        size_t np = (size_t)(fw / 2 + 2) * (size_t)(fh / 2 + 2);
        w->pu = malloc(np * sizeof(float));
        w->pv = malloc(np * sizeof(float));
        w->col_lo = malloc((size_t)fw * sizeof(int));
        w->col_hi = malloc((size_t)fw * sizeof(int));
        w->row_lo = malloc((size_t)fh * sizeof(int));
        w->row_hi = malloc((size_t)fh * sizeof(int));
        if (!w->pu || !w->pv || !w->col_lo || !w->col_hi || !w->row_lo || !w->row_hi)
            err = AIE_ENOMEM;
    }
    if (err) {
        work_free(w);
        return AIE_ENOMEM;
    }
    *out = w;
    return 0;
}

static int work_get(AieMotion *m, MotionWork **out)
{
    pthread_mutex_lock(&m->lock);
    MotionWork *w = m->free_work;
    if (w)
        m->free_work = w->next;
    pthread_mutex_unlock(&m->lock);
    if (w) {
        *out = w;
        return 0;
    }
    return work_alloc(m, out);
}

static void work_put(AieMotion *m, MotionWork *w)
{
    pthread_mutex_lock(&m->lock);
    w->next = m->free_work;
    m->free_work = w;
    pthread_mutex_unlock(&m->lock);
}

/* ---- pyramid ---- */

static int luma_plane(const AieFrame *f)
{
    return f->layout == AIE_LAYOUT_RGB || f->layout == AIE_LAYOUT_RGBA ? 1 : 0;
}

void motion_load_luma(const AieMotion *m, const AieFrame *f, Plane *p)
{
    int pl = luma_plane(f);
    float scale = f->depth > 8 ? 255.0f / (float)((1 << f->depth) - 1) : 1.0f;
    for (int y = 0; y < p->h; y++) {
        const uint8_t *row = f->data[pl] + (ptrdiff_t)y * f->stride[pl];
        if (f->depth > 8)
            m->dsp.tofloat16(p->data + y * p->stride, (const uint16_t *)(const void *)row, scale, p->w);
        else
            m->dsp.tofloat8(p->data + y * p->stride, row, scale, p->w);
    }
    plane_pad(p);
}

typedef struct DownCtx {
    const AieMotion *m;
    const Plane *src;
    Plane *dst;
} DownCtx;

static void down_rows(void *ctx, int i, int worker)
{
    (void)worker;
    DownCtx *c = ctx;
    int y0 = i * 16, y1 = y0 + 16 < c->dst->h ? y0 + 16 : c->dst->h;
    for (int y = y0; y < y1; y++)
        c->m->dsp.down2(c->dst->data + y * c->dst->stride, c->src->data + 2 * y * c->src->stride,
                        c->src->stride, c->dst->w);
}

static void build_pyramid(const AieMotion *m, const AieFrame *f, Plane *lv, AiePool *pool)
{
    motion_load_luma(m, f, &lv[0]);
    for (int l = 1; l < m->levels; l++) {
        DownCtx c = {m, &lv[l - 1], &lv[l]};
        aie_pool_parallel_for(pool, (lv[l].h + 15) / 16, down_rows, &c);
        plane_pad(&lv[l]);
    }
}

/* ---- DIS at one level ---- */

typedef struct DisCtx {
    const AieMotion *m;
    MotionWork *w;
    const Plane *i0, *i1;
    Plane *u, *v;        /* in: initial dense flow; out: densified */
    const Plane *ui, *vi; /* initial flow (level units) */
    int nx, ny, stride, iters;
    int w_, h_;
} DisCtx;

static inline int patch_pos(int i, int s, int n) { return i * s < n - P ? i * s : n - P; }

static void dis_patch_row(void *ctx, int j, int worker)
{
    (void)worker;
    DisCtx *c = ctx;
    const Plane *i0 = c->i0, *i1 = c->i1;
    const AieMotionDSP *dsp = &c->m->dsp;
    float tmpl[P * P], gx[P * P], gy[P * P];
    int y0 = patch_pos(j, c->stride, c->h_);
    for (int i = 0; i < c->nx; i++) {
        int x0 = patch_pos(i, c->stride, c->w_);
        /* initial flow: the mean of the coarser estimate over the patch */
        float u = 0, v = 0;
        for (int y = 0; y < P; y++)
            for (int x = 0; x < P; x++) {
                u += c->ui->data[(y0 + y) * c->ui->stride + x0 + x];
                v += c->vi->data[(y0 + y) * c->vi->stride + x0 + x];
            }
        u *= 1.0f / (P * P);
        v *= 1.0f / (P * P);
        float sgx = 0, sgy = 0, hxx = 0, hxy = 0, hyy = 0;
        for (int y = 0; y < P; y++) {
            const float *r = i0->data + (y0 + y) * i0->stride + x0;
            for (int x = 0; x < P; x++) {
                float dx = 0.5f * (r[x + 1] - r[x - 1]);
                float dy = 0.5f * (r[x + i0->stride] - r[x - i0->stride]);
                tmpl[y * P + x] = r[x];
                gx[y * P + x] = dx;
                gy[y * P + x] = dy;
                sgx += dx;
                sgy += dy;
                hxx += dx * dx;
                hxy += dx * dy;
                hyy += dy * dy;
            }
        }
        /* the Hessian of the mean-normalised SSD */
        const float inv = 1.0f / (P * P);
        hxx -= sgx * sgx * inv;
        hxy -= sgx * sgy * inv;
        hyy -= sgy * sgy * inv;
        hxx += 1e-2f;
        hyy += 1e-2f;
        float det = hxx * hyy - hxy * hxy;
        float u0 = u, v0 = v, ssd0 = -1, ssd = 0;
        const float lox = (float)(-PLANE_PAD - x0), hix = (float)(i1->w + PLANE_PAD - P - 2 - x0);
        const float loy = (float)(-PLANE_PAD - y0), hiy = (float)(i1->h + PLANE_PAD - P - 2 - y0);
        if (det > 1e-6f) {
            float ia = hyy / det, ib = -hxy / det, ic = hxx / det;
            for (int it = 0; it <= c->iters; it++) {
                u = u < lox ? lox : u > hix ? hix : u;
                v = v < loy ? loy : v > hiy ? hiy : v;
                float px = (float)x0 + u, py = (float)y0 + v;
                int ix = (int)floorf(px), iy = (int)floorf(py);
                float s[4];
                dsp->dis_sums(s, i1->data + iy * i1->stride + ix, i1->stride, px - (float)ix,
                              py - (float)iy, tmpl, gx, gy);
                float mean = s[0] * inv;
                ssd = s[1] - s[0] * mean;
                if (ssd0 < 0)
                    ssd0 = ssd;
                if (it == c->iters)
                    break;
                float bx = s[2] - mean * sgx, by = s[3] - mean * sgy;
                float du = ia * bx + ib * by, dv = ib * bx + ic * by;
                u -= du;
                v -= dv;
                if (du * du + dv * dv < 1e-4f)
                    it = c->iters - 1; /* converged: evaluate the final cost next */
            }
            if (ssd > ssd0) {
                u = u0;
                v = v0;
            }
        }
        c->w->pu[j * c->nx + i] = u;
        c->w->pv[j * c->nx + i] = v;
    }
}

static void dis_densify_rows(void *ctx, int band, int worker)
{
    (void)worker;
    DisCtx *c = ctx;
    MotionWork *w = c->w;
    int y0 = band * 8, y1 = y0 + 8 < c->h_ ? y0 + 8 : c->h_;
    for (int y = y0; y < y1; y++) {
        const float *r0 = c->i0->data + y * c->i0->stride;
        float *ou = c->u->data + y * c->u->stride, *ov = c->v->data + y * c->v->stride;
        for (int x = 0; x < c->w_; x++) {
            float su = 0, sv = 0, sw = 0;
            for (int j = w->row_lo[y]; j <= w->row_hi[y]; j++)
                for (int i = w->col_lo[x]; i <= w->col_hi[x]; i++) {
                    float pu = w->pu[j * c->nx + i], pv = w->pv[j * c->nx + i];
                    float d = plane_bilinear(c->i1, (float)x + pu, (float)y + pv) - r0[x];
                    float ad = fabsf(d);
                    float wt = 1.0f / (ad > 1.0f ? ad : 1.0f);
                    su += wt * pu;
                    sv += wt * pv;
                    sw += wt;
                }
            ou[x] = su / sw;
            ov[x] = sv / sw;
        }
    }
}

static void dis_level(const AieMotion *m, MotionWork *w, const Plane *i0, const Plane *i1,
                      Plane *u, Plane *v, const Plane *ui, const Plane *vi, int iters,
                      AiePool *pool)
{
    DisCtx c = {.m = m, .w = w, .i0 = i0, .i1 = i1, .u = u, .v = v, .ui = ui, .vi = vi,
                .stride = m->p.patch_stride, .iters = iters, .w_ = i0->w, .h_ = i0->h};
    c.nx = (i0->w - P + c.stride - 1) / c.stride + 1;
    c.ny = (i0->h - P + c.stride - 1) / c.stride + 1;
    for (int x = 0; x < i0->w; x++) {
        int lo = c.nx, hi = -1;
        for (int i = 0; i < c.nx; i++) {
            int p0 = patch_pos(i, c.stride, i0->w);
            if (x >= p0 && x < p0 + P) {
                lo = i < lo ? i : lo;
                hi = i;
            }
        }
        w->col_lo[x] = lo;
        w->col_hi[x] = hi;
    }
    for (int y = 0; y < i0->h; y++) {
        int lo = c.ny, hi = -1;
        for (int j = 0; j < c.ny; j++) {
            int p0 = patch_pos(j, c.stride, i0->h);
            if (y >= p0 && y < p0 + P) {
                lo = j < lo ? j : lo;
                hi = j;
            }
        }
        w->row_lo[y] = lo;
        w->row_hi[y] = hi;
    }
    aie_pool_parallel_for(pool, c.ny, dis_patch_row, &c);
    aie_pool_parallel_for(pool, (i0->h + 7) / 8, dis_densify_rows, &c);
}

/* ---- variational refinement ---- */

typedef struct VarCtx {
    const AieMotion *m;
    MotionWork *w;
    const Plane *i0, *i1;
    Plane *u, *v;
    int color; /* SOR pass: 0 red, 1 black */
} VarCtx;

static inline float at(const Plane *p, int x, int y) { return p->data[y * p->stride + x]; }
static inline float *atp(Plane *p, int x, int y) { return p->data + y * p->stride + x; }

/* I1 warped by the current flow. */
static void var_warp_rows(void *ctx, int band, int worker)
{
    (void)worker;
    VarCtx *c = ctx;
    MotionWork *w = c->w;
    int W = c->i0->w, H = c->i0->h;
    int y0 = band * 8, y1 = y0 + 8 < H ? y0 + 8 : H;
    float xs[256], ys[256];
    for (int y = y0; y < y1; y++)
        for (int x0 = 0; x0 < W; x0 += 256) {
            int n = W - x0 < 256 ? W - x0 : 256;
            for (int i = 0; i < n; i++) {
                xs[i] = (float)(x0 + i) + at(c->u, x0 + i, y);
                ys[i] = (float)y + at(c->v, x0 + i, y);
            }
            c->m->warp.bilinear(atp(&w->iw, x0, y), c->i1->data, c->i1->stride, c->i1->w,
                                c->i1->h, xs, ys, n);
        }
}

/* The derivatives of the linearised data terms and their robust weights. */
static void var_prepare_rows(void *ctx, int band, int worker)
{
    (void)worker;
    VarCtx *c = ctx;
    MotionWork *w = c->w;
    int W = c->i0->w, H = c->i0->h;
    int y0 = band * 8, y1 = y0 + 8 < H ? y0 + 8 : H;
    const ptrdiff_t s = c->i0->stride, sw = w->iw.stride;
    for (int y = y0; y < y1; y++) {
        const float *r = c->i0->data + y * s, *q = w->iw.data + y * sw;
        for (int x = 0; x < W; x++) {
            float i0x = 0.5f * (r[x + 1] - r[x - 1]), i0y = 0.5f * (r[x + s] - r[x - s]);
            float i1x = 0.5f * (q[x + 1] - q[x - 1]), i1y = 0.5f * (q[x + sw] - q[x - sw]);
            float ixx = q[x + 1] + q[x - 1] - 2 * q[x];
            float iyy = q[x + sw] + q[x - sw] - 2 * q[x];
            float ixy = 0.25f * (q[x + sw + 1] - q[x + sw - 1] - q[x - sw + 1] + q[x - sw - 1]);
            float ix = 0.5f * (i1x + i0x), iy = 0.5f * (i1y + i0y);
            float iz = q[x] - r[x];
            float ixz = i1x - i0x, iyz = i1y - i0y;
            float pb = VAR_DELTA * 0.5f / sqrtf(iz * iz + VAR_EPS2);
            float pg = VAR_GAMMA * 0.5f / sqrtf(ixz * ixz + iyz * iyz + VAR_EPS2);
            pb /= ix * ix + iy * iy + VAR_ZETA2;
            pg /= ixx * ixx + ixy * ixy + iyy * iyy + VAR_ZETA2;
            *atp(&w->a11, x, y) = pb * ix * ix + pg * (ixx * ixx + ixy * ixy);
            *atp(&w->a12, x, y) = pb * ix * iy + pg * (ixx * ixy + ixy * iyy);
            *atp(&w->a22, x, y) = pb * iy * iy + pg * (ixy * ixy + iyy * iyy);
            *atp(&w->b1, x, y) = -(pb * ix * iz + pg * (ixx * ixz + ixy * iyz));
            *atp(&w->b2, x, y) = -(pb * iy * iz + pg * (ixy * ixz + iyy * iyz));
        }
    }
}

/* Smoothness weights between each sample and its right (sx) and lower (sy)
 * neighbour. */
static void var_smooth_rows(void *ctx, int band, int worker)
{
    (void)worker;
    VarCtx *c = ctx;
    MotionWork *w = c->w;
    int W = c->i0->w, H = c->i0->h;
    int y0 = band * 8, y1 = y0 + 8 < H ? y0 + 8 : H;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < W; x++) {
            float u0 = at(c->u, x, y) + at(&w->du, x, y), v0 = at(c->v, x, y) + at(&w->dv, x, y);
            int xr = x + 1 < W ? x + 1 : x, yd = y + 1 < H ? y + 1 : y;
            float ux = at(c->u, xr, y) + at(&w->du, xr, y) - u0, vx = at(c->v, xr, y) + at(&w->dv, xr, y) - v0;
            float uy = at(c->u, x, yd) + at(&w->du, x, yd) - u0, vy = at(c->v, x, yd) + at(&w->dv, x, yd) - v0;
            float g = ux * ux + vx * vx + uy * uy + vy * vy;
            float wt = VAR_ALPHA * 0.5f / sqrtf(g + VAR_EPS2);
            *atp(&w->sx, x, y) = x + 1 < W ? wt : 0;
            *atp(&w->sy, x, y) = y + 1 < H ? wt : 0;
        }
}

static void var_sor_rows(void *ctx, int band, int worker)
{
    (void)worker;
    VarCtx *c = ctx;
    MotionWork *w = c->w;
    int W = c->i0->w, H = c->i0->h;
    int y0 = band * 8, y1 = y0 + 8 < H ? y0 + 8 : H;
    for (int y = y0; y < y1; y++)
        for (int x = (y + c->color) & 1; x < W; x += 2) {
            float su = 0, sv = 0, sw = 0;
            float u0 = at(c->u, x, y), v0 = at(c->v, x, y);
#define NB(xx, yy, wt)                                                                        \
    do {                                                                                      \
        float ww = (wt);                                                                      \
        su += ww * (at(c->u, xx, yy) + at(&w->du, xx, yy) - u0);                              \
        sv += ww * (at(c->v, xx, yy) + at(&w->dv, xx, yy) - v0);                              \
        sw += ww;                                                                             \
    } while (0)
            if (x > 0)
                NB(x - 1, y, at(&w->sx, x - 1, y));
            if (x + 1 < W)
                NB(x + 1, y, at(&w->sx, x, y));
            if (y > 0)
                NB(x, y - 1, at(&w->sy, x, y - 1));
            if (y + 1 < H)
                NB(x, y + 1, at(&w->sy, x, y));
#undef NB
            float a11 = at(&w->a11, x, y), a12 = at(&w->a12, x, y), a22 = at(&w->a22, x, y);
            float *du = atp(&w->du, x, y), *dv = atp(&w->dv, x, y);
            float nu = (at(&w->b1, x, y) - a12 * *dv + su) / (a11 + sw + 1e-9f);
            *du += VAR_OMEGA * (nu - *du);
            float nv = (at(&w->b2, x, y) - a12 * *du + sv) / (a22 + sw + 1e-9f);
            *dv += VAR_OMEGA * (nv - *dv);
        }
}

static void var_apply_rows(void *ctx, int band, int worker)
{
    (void)worker;
    VarCtx *c = ctx;
    MotionWork *w = c->w;
    int W = c->i0->w, H = c->i0->h;
    int y0 = band * 8, y1 = y0 + 8 < H ? y0 + 8 : H;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < W; x++) {
            *atp(c->u, x, y) += at(&w->du, x, y);
            *atp(c->v, x, y) += at(&w->dv, x, y);
            *atp(&w->du, x, y) = 0;
            *atp(&w->dv, x, y) = 0;
        }
}

static void var_refine(const AieMotion *m, MotionWork *w, const Plane *i0, const Plane *i1,
                       Plane *u, Plane *v, AiePool *pool)
{
    if (m->p.var_iterations <= 0)
        return;
    Plane *ps[] = {&w->du, &w->dv, &w->a11, &w->a12, &w->a22, &w->b1, &w->b2, &w->sx, &w->sy};
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        ps[i]->w = i0->w;
        ps[i]->h = i0->h;
    }
    for (int y = 0; y < i0->h; y++) {
        memset(atp(&w->du, 0, y), 0, (size_t)i0->w * sizeof(float));
        memset(atp(&w->dv, 0, y), 0, (size_t)i0->w * sizeof(float));
    }
    VarCtx c = {m, w, i0, i1, u, v, 0};
    int bands = (i0->h + 7) / 8;
    for (int outer = 0; outer < VAR_OUTER; outer++) {
        /* linearise around u (the increment is folded in after each outer step) */
        w->iw.w = i0->w;
        w->iw.h = i0->h;
        aie_pool_parallel_for(pool, bands, var_warp_rows, &c);
        plane_pad(&w->iw);
        aie_pool_parallel_for(pool, bands, var_prepare_rows, &c);
        aie_pool_parallel_for(pool, bands, var_smooth_rows, &c);
        for (int it = 0; it < m->p.var_iterations; it++) {
            c.color = 0;
            aie_pool_parallel_for(pool, bands, var_sor_rows, &c);
            c.color = 1;
            aie_pool_parallel_for(pool, bands, var_sor_rows, &c);
        }
        aie_pool_parallel_for(pool, bands, var_apply_rows, &c);
    }
}

/* ---- coarse to fine ---- */

typedef struct UpCtx {
    const Plane *su, *sv;
    Plane *du, *dv;
} UpCtx;

static void up_rows(void *ctx, int band, int worker)
{
    (void)worker;
    UpCtx *c = ctx;
    int y0 = band * 16, y1 = y0 + 16 < c->du->h ? y0 + 16 : c->du->h;
    for (int y = y0; y < y1; y++) {
        float sy = ((float)y + 0.5f) * 0.5f - 0.5f;
        for (int x = 0; x < c->du->w; x++) {
            float sx = ((float)x + 0.5f) * 0.5f - 0.5f;
            *atp(c->du, x, y) = 2.0f * plane_bilinear(c->su, sx, sy);
            *atp(c->dv, x, y) = 2.0f * plane_bilinear(c->sv, sx, sy);
        }
    }
}

static void flow_one_way(const AieMotion *m, MotionWork *w, const Plane *p0, const Plane *p1,
                         AieFlow *out, AiePool *pool)
{
    int top = m->levels - 1;
    Plane *u = &w->u, *v = &w->v, *u2 = &w->u2, *v2 = &w->v2;
    for (int l = top; l >= m->finest; l--) {
        Plane ui = *u2, vi = *v2;
        ui.w = vi.w = m->lw[l];
        ui.h = vi.h = m->lh[l];
        if (l == top) {
            for (int y = 0; y < m->lh[l]; y++) {
                memset(atp(&ui, 0, y), 0, (size_t)m->lw[l] * sizeof(float));
                memset(atp(&vi, 0, y), 0, (size_t)m->lw[l] * sizeof(float));
            }
        } else {
            /* u2, v2 hold level l + 1 at its size: upsample into u, v, then
             * swap so the initial flow is in ui, vi */
            Plane cu = *u2, cv = *v2;
            cu.w = cv.w = m->lw[l + 1];
            cu.h = cv.h = m->lh[l + 1];
            Plane tu = *u, tv = *v;
            UpCtx uc = {&cu, &cv, &tu, &tv};
            aie_pool_parallel_for(pool, (m->lh[l] + 15) / 16, up_rows, &uc);
            /* swap buffers: initial flow in (u2, v2) sized for level l */
            Plane t = *u;
            *u = *u2;
            *u2 = t;
            t = *v;
            *v = *v2;
            *v2 = t;
            ui = *u2;
            vi = *v2;
            ui.w = vi.w = m->lw[l];
            ui.h = vi.h = m->lh[l];
        }
        u->w = v->w = m->lw[l];
        u->h = v->h = m->lh[l];
        int iters = m->p.iterations + (l == top ? 4 : 0);
        dis_level(m, w, &p0[l], &p1[l], u, v, &ui, &vi, iters, pool);
        var_refine(m, w, &p0[l], &p1[l], u, v, pool);
        /* the result becomes the coarser flow of the next level */
        Plane t = *u;
        *u = *u2;
        *u2 = t;
        t = *v;
        *v = *v2;
        *v2 = t;
        u2->w = v2->w = m->lw[l];
        u2->h = v2->h = m->lh[l];
    }
    /* (u2, v2) holds the finest level: to full-resolution pixels */
    float s = (float)(1 << m->finest);
    for (int y = 0; y < out->height; y++)
        for (int x = 0; x < out->width; x++) {
            out->u[y * out->stride + x] = s * at(u2, x, y);
            out->v[y * out->stride + x] = s * at(v2, x, y);
        }
}

int aie_motion_estimate(AieMotion *m, const AieFrame *a, const AieFrame *b, AieFlow *ab,
                        AieFlow *ba, AiePool *pool)
{
    return motion_estimate_keep(m, a, b, ab, ba, NULL, NULL, pool);
}

static void plane_copy(Plane *dst, const Plane *src)
{
    for (int y = -PLANE_PAD; y < src->h + PLANE_PAD; y++)
        memcpy(dst->data + y * dst->stride - PLANE_PAD, src->data + y * src->stride - PLANE_PAD,
               (size_t)(src->w + 2 * PLANE_PAD) * sizeof(float));
}

int motion_estimate_keep(AieMotion *m, const AieFrame *a, const AieFrame *b, AieFlow *ab,
                         AieFlow *ba, Plane *la, Plane *lb, AiePool *pool)
{
    if (!m || !a || !b || a->width != m->width || a->height != m->height ||
        b->width != m->width || b->height != m->height || a->layout != b->layout ||
        a->depth != b->depth)
        return AIE_EINVAL;
    AieFlow *outs[2] = {ab, ba};
    for (int i = 0; i < 2; i++)
        if (outs[i] && (outs[i]->width != m->lw[m->finest] || outs[i]->height != m->lh[m->finest] ||
                        outs[i]->scale_log2 != m->finest))
            return AIE_EINVAL;
    MotionWork *w;
    int err = work_get(m, &w);
    if (err)
        return err;
    build_pyramid(m, a, w->pa, pool);
    build_pyramid(m, b, w->pb, pool);
    if (ab)
        flow_one_way(m, w, w->pa, w->pb, ab, pool);
    if (ba)
        flow_one_way(m, w, w->pb, w->pa, ba, pool);
    if (la)
        plane_copy(la, &w->pa[m->finest]);
    if (lb)
        plane_copy(lb, &w->pb[m->finest]);
    work_put(m, w);
    return 0;
}

/* ---- checks and pictures ---- */

double aie_flow_unreliable(const AieFlow *ab, const AieFlow *ba)
{
    if (!ab || !ba || ab->width != ba->width || ab->height != ba->height)
        return 0;
    const float s = (float)(1 << ab->scale_log2);
    long bad = 0;
    for (int y = 0; y < ab->height; y++)
        for (int x = 0; x < ab->width; x++) {
            float u = ab->u[y * ab->stride + x], v = ab->v[y * ab->stride + x];
            float tx = (float)x + u / s, ty = (float)y + v / s;
            if (tx < -0.5f || ty < -0.5f || tx > (float)ab->width - 0.5f || ty > (float)ab->height - 0.5f) {
                bad++;
                continue;
            }
            int ix = (int)floorf(tx), iy = (int)floorf(ty);
            float fx = tx - (float)ix, fy = ty - (float)iy;
            int x0 = ix < 0 ? 0 : ix, y0 = iy < 0 ? 0 : iy;
            int x1 = ix + 1 < ab->width ? ix + 1 : ab->width - 1, y1 = iy + 1 < ab->height ? iy + 1 : ab->height - 1;
            x0 = x0 < ab->width ? x0 : ab->width - 1;
            y0 = y0 < ab->height ? y0 : ab->height - 1;
#define BL(F)                                                                                  \
    ((1 - fy) * ((1 - fx) * F[y0 * ba->stride + x0] + fx * F[y0 * ba->stride + x1]) +          \
     fy * ((1 - fx) * F[y1 * ba->stride + x0] + fx * F[y1 * ba->stride + x1]))
            float bu = BL(ba->u), bv = BL(ba->v);
#undef BL
            float du = u + bu, dv = v + bv;
            float lim = 1.0f + 0.05f * sqrtf(u * u + v * v);
            if (du * du + dv * dv > lim * lim)
                bad++;
        }
    return (double)bad / ((double)ab->width * ab->height);
}

double aie_flow_epe(const AieFlow *f, const AieFlow *ref, int border)
{
    double sum = 0;
    long n = 0;
    for (int y = border; y < f->height - border; y++)
        for (int x = border; x < f->width - border; x++) {
            double du = f->u[y * f->stride + x] - ref->u[y * ref->stride + x];
            double dv = f->v[y * f->stride + x] - ref->v[y * ref->stride + x];
            sum += sqrt(du * du + dv * dv);
            n++;
        }
    return n ? sum / (double)n : 0;
}

/* The Middlebury colour wheel: 55 hues through red, yellow, green, cyan,
 * blue and magenta. */
static void wheel_colour(float fx, float fy, float rad, uint8_t rgb[3])
{
    enum { RY = 15, YG = 6, GC = 4, CB = 11, BM = 13, MR = 6, NC = RY + YG + GC + CB + BM + MR };
    float a = atan2f(-fy, -fx) / (float)M_PI;
    float fk = (a + 1) / 2 * (NC - 1);
    int k0 = (int)fk, k1 = (k0 + 1) % NC;
    float f = fk - (float)k0;
    for (int ch = 0; ch < 3; ch++) {
        float c0 = 0, c1 = 0;
        for (int pass = 0; pass < 2; pass++) {
            int k = pass ? k1 : k0;
            float c;
            int i = k;
            if (i < RY)
                c = ch == 0 ? 1 : ch == 1 ? (float)i / RY : 0;
            else if ((i -= RY) < YG)
                c = ch == 0 ? 1 - (float)i / YG : ch == 1 ? 1 : 0;
            else if ((i -= YG) < GC)
                c = ch == 0 ? 0 : ch == 1 ? 1 : (float)i / GC;
            else if ((i -= GC) < CB)
                c = ch == 0 ? 0 : ch == 1 ? 1 - (float)i / CB : 1;
            else if ((i -= CB) < BM)
                c = ch == 0 ? (float)i / BM : ch == 1 ? 0 : 1;
            else {
                i -= BM;
                c = ch == 0 ? 1 : ch == 1 ? 0 : 1 - (float)i / MR;
            }
            if (pass)
                c1 = c;
            else
                c0 = c;
        }
        float col = (1 - f) * c0 + f * c1;
        col = rad <= 1 ? 1 - rad * (1 - col) : col * 0.75f;
        rgb[ch] = (uint8_t)(255.0f * col + 0.5f);
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

int aie_flow_paint(const AieFlow *f, AieFrame *rgb, double max_px)
{
    if (!f || !rgb || rgb->layout != AIE_LAYOUT_RGB || rgb->depth != 8 ||
        rgb->width != f->width || rgb->height != f->height)
        return AIE_EINVAL;
    float mx = (float)max_px;
    if (mx <= 0) {
        /* the 98th percentile of the speed (a few wild samples at the edges
         * must not wash the picture out), at least 1 px */
        long n = (long)f->width * f->height, step = n > 65536 ? n / 65536 : 1, k = 0;
        float *sp = malloc(sizeof(float) * (size_t)(n / step + 1));
        if (!sp)
            return AIE_ENOMEM;
        for (long i = 0; i < n; i += step) {
            long x = i % f->width, y = i / f->width;
            float u = f->u[y * f->stride + x], v = f->v[y * f->stride + x];
            sp[k++] = sqrtf(u * u + v * v);
        }
        qsort(sp, (size_t)k, sizeof(float), cmp_float);
        mx = sp[(long)((double)(k - 1) * 0.98)];
        free(sp);
        mx = mx > 1 ? mx : 1;
    }
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++) {
            float u = f->u[y * f->stride + x], v = f->v[y * f->stride + x];
            uint8_t c[3];
            wheel_colour(u / mx, v / mx, sqrtf(u * u + v * v) / mx, c);
            for (int p = 0; p < 3; p++)
                rgb->data[p][(ptrdiff_t)y * rgb->stride[p] + x] = c[p];
        }
    return 0;
}
