/*
 * Artistic abstraction on float R'G'B' planes: toon, sketch, oil.
 *
 * Every pass is a row-parallel loop whose result for a pixel depends only on
 * the pass's input, so the output is the same for any number of threads.
 * Plain C on purpose: the same code runs at every --cpu level, so the goldens
 * do not depend on it.
 */
#pragma GCC optimize("O3") /* the row loops vectorise; no fast-math, so the same bits */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "look/abstract.h"

#define ROWS 16 /* rows per parallel piece */
#define KR 0.2126f
#define KB 0.0722f
#define KG 0.7152f

int aie_look_parse(const char *name, AieLook *out)
{
    if (!strcmp(name, "toon"))
        *out = AIE_LOOK_TOON;
    else if (!strcmp(name, "sketch"))
        *out = AIE_LOOK_SKETCH;
    else if (!strcmp(name, "oil"))
        *out = AIE_LOOK_OIL;
    else
        return -1;
    return 0;
}

const char *aie_look_name(AieLook look)
{
    switch (look) {
    case AIE_LOOK_TOON: return "toon";
    case AIE_LOOK_SKETCH: return "sketch";
    case AIE_LOOK_OIL: return "oil";
    default: return "none";
    }
}

void aie_look_defaults(AieLookParams *p)
{
    p->levels = 8;
    p->iterations = 2;
    p->sigma_s = p->look == AIE_LOOK_OIL ? 3.0 : 2.0;
    p->sigma_r = 0.1;
    p->edge = 1.0;
    p->damping = 0.6;
}

typedef struct Pass Pass;
typedef void (*RowFn)(const Pass *p, int y);

struct Pass {
    const AieLookParams *lp;
    int w, h;
    RowFn fn;
    /* planes */
    const float *src[3];
    float *dst[3];
    const float *key;   /* bilateral: range key plane (luma) */
    const void *tab;    /* oil: Kuwahara kernels (KuTab) */
    float *aux[3];
    /* kernels */
    const float *k;     /* taps 0..r */
    int r;
    double a, b, c;     /* pass constants */
};


static void piece(void *ctx, int index, int worker)
{
    (void)worker;
    const Pass *p = ctx;
    const int y1 = (index + 1) * ROWS < p->h ? (index + 1) * ROWS : p->h;
    for (int y = index * ROWS; y < y1; y++)
        p->fn(p, y);
}

static void run(Pass *p, RowFn fn, AiePool *pool)
{
    p->fn = fn;
    aie_pool_parallel_for(pool, (p->h + ROWS - 1) / ROWS, piece, p);
}

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Gaussian taps 0..r, normalised over -r..r. */
static int gauss(float *k, double sigma, int rmax)
{
    int r = (int)ceil(3 * sigma);
    r = r < 1 ? 1 : r > rmax ? rmax : r;
    double sum = 0;
    for (int i = 0; i <= r; i++) {
        k[i] = (float)exp(-0.5 * i * i / (sigma * sigma));
        sum += i ? 2 * k[i] : k[i];
    }
    for (int i = 0; i <= r; i++)
        k[i] = (float)(k[i] / sum);
    return r;
}

/* ---- separable Gaussian of the planes src[0..n) into dst ---- */
static void blur_h2(const Pass *p, int y);

static void blur_v(const Pass *p, int y)
{
    for (int c = 0; c < 3 && p->src[c]; c++) {
        float *d = p->dst[c] + (size_t)y * p->w;
        const float *s0 = p->src[c] + (size_t)y * p->w;
        for (int x = 0; x < p->w; x++)
            d[x] = p->k[0] * s0[x];
        for (int i = 1; i <= p->r; i++) {
            const float *a = p->src[c] + (size_t)clampi(y - i, 0, p->h - 1) * p->w;
            const float *b = p->src[c] + (size_t)clampi(y + i, 0, p->h - 1) * p->w;
            const float k = p->k[i];
            for (int x = 0; x < p->w; x++)
                d[x] += k * (a[x] + b[x]);
        }
    }
}

/* Blur one plane: in -> out, with tmp (all w x h). */
static void blur(Pass *p, const float *in, float *out, float *tmp, double sigma, AiePool *pool)
{
    float k[64];
    Pass q = *p;
    q.k = k;
    q.r = gauss(k, sigma, 63);
    q.src[0] = in;
    q.src[1] = q.src[2] = NULL;
    q.dst[0] = tmp;
    run(&q, blur_h2, pool);
    q.src[0] = tmp;
    q.dst[0] = out;
    run(&q, blur_v, pool);
}

/* ---- bilateral (separable approximation), planes L, C1, C2 ----
 * Range weight: 1 / (1 + t + t^2/2 + t^3/6) with t = d^2 / (2 sigma_r^2), a
 * smooth stand-in for exp(-t) made of plain arithmetic, so the loops
 * vectorise and every build gives the same bits. The tap loop is outside the
 * pixel loop; the scratch row holds the four sums. */
static inline float range_w(float d, float c)
{
    const float t = d * d * c;
    return 1.0f / (1.0f + t * (1.0f + t * (0.5f + t * (1.0f / 6.0f))));
}

/* 4 floats at a time with GCC vector extensions (baseline SSE2 code, no
 * intrinsics): element-wise, the same operations in the same order as the
 * scalar code, so the bits do not change. */
typedef float v4 __attribute__((vector_size(16)));
static inline v4 ld4(const float *p)
{
    v4 v;
    memcpy(&v, p, sizeof(v));
    return v;
}
static inline void st4(float *p, v4 v)
{
    memcpy(p, &v, sizeof(v));
}
static inline v4 range_w4(v4 d, float c)
{
    const v4 t = d * d * c;
    return 1.0f / (1.0f + t * (1.0f + t * (0.5f + t * (1.0f / 6.0f))));
}

/* sums += k * w(L[x + off] - L0[x]) * (1, L, A, B)[x + off] for x in [x0, x1) */
static inline void bil_acc(float *sw, float *sl, float *sa, float *sb, const float *L0, const float *L,
                           const float *A, const float *B, float k, float c, int x0, int x1)
{
    int x = x0;
    for (; x + 4 <= x1; x += 4) {
        const v4 l = ld4(L + x), wt = k * range_w4(l - ld4(L0 + x), c);
        st4(sw + x, ld4(sw + x) + wt);
        st4(sl + x, ld4(sl + x) + wt * l);
        st4(sa + x, ld4(sa + x) + wt * ld4(A + x));
        st4(sb + x, ld4(sb + x) + wt * ld4(B + x));
    }
    for (; x < x1; x++) {
        const float wt = k * range_w(L[x] - L0[x], c);
        sw[x] += wt;
        sl[x] += wt * L[x];
        sa[x] += wt * A[x];
        sb[x] += wt * B[x];
    }
}

/* Both passes work on blocks of BIL_BLK pixels so the four sums stay in L1;
 * per pixel the taps are added in the same order as over a whole row. */
#define BIL_BLK 256

static void bil_h(const Pass *p, int y)
{
    const int w = p->w, r = p->r;
    const size_t o = (size_t)y * w;
    const float *L = p->src[0] + o, *A = p->src[1] + o, *B = p->src[2] + o;
    const float c = (float)p->a;
    float swb[BIL_BLK];
    float *sl = p->dst[0] + o, *sa = p->dst[1] + o, *sb = p->dst[2] + o;
    for (int x0 = 0; x0 < w; x0 += BIL_BLK) {
        const int x1 = x0 + BIL_BLK < w ? x0 + BIL_BLK : w;
        float *sw = swb - x0; /* sw[x] for x in [x0, x1) */
        for (int x = x0; x < x1; x++) {
            sw[x] = p->k[0];
            sl[x] = p->k[0] * L[x];
            sa[x] = p->k[0] * A[x];
            sb[x] = p->k[0] * B[x];
        }
        for (int i = -r; i <= r; i++) {
            if (!i)
                continue;
            const float k = p->k[i < 0 ? -i : i];
            const int lo = i < 0 ? -i : 0, hi = i > 0 ? w - i : w;
            const int le = lo < x1 ? lo : x1;
            for (int x = x0; x < le; x++) { /* left border: clamped */
                const int xx = clampi(x + i, 0, w - 1);
                const float wt = k * range_w(L[xx] - L[x], c);
                sw[x] += wt;
                sl[x] += wt * L[xx];
                sa[x] += wt * A[xx];
                sb[x] += wt * B[xx];
            }
            const int xa = lo > x0 ? lo : x0, xb = hi < x1 ? hi : x1;
            if (xb > xa) /* shifted by i: L0 = L - i, so L0[x + i] = L[x] */
                bil_acc(sw - i, sl - i, sa - i, sb - i, L - i, L, A, B, k, c, xa + i, xb + i);
            const int rs = hi > lo ? hi : lo;
            for (int x = rs > x0 ? rs : x0; x < x1; x++) { /* right border */
                const int xx = clampi(x + i, 0, w - 1);
                const float wt = k * range_w(L[xx] - L[x], c);
                sw[x] += wt;
                sl[x] += wt * L[xx];
                sa[x] += wt * A[xx];
                sb[x] += wt * B[xx];
            }
        }
        for (int x = x0; x < x1; x++) {
            const float inv = 1.0f / sw[x];
            sl[x] *= inv;
            sa[x] *= inv;
            sb[x] *= inv;
        }
    }
}

static void bil_v(const Pass *p, int y)
{
    const int w = p->w;
    const size_t o = (size_t)y * w;
    const float *L0 = p->src[0] + o;
    const float c = (float)p->a;
    float swb[BIL_BLK];
    float *sl = p->dst[0] + o, *sa = p->dst[1] + o, *sb = p->dst[2] + o;
    for (int x0 = 0; x0 < w; x0 += BIL_BLK) {
        const int x1 = x0 + BIL_BLK < w ? x0 + BIL_BLK : w;
        float *sw = swb - x0;
        for (int x = x0; x < x1; x++) {
            sw[x] = p->k[0];
            sl[x] = p->k[0] * L0[x];
            sa[x] = p->k[0] * p->src[1][o + x];
            sb[x] = p->k[0] * p->src[2][o + x];
        }
        for (int i = -p->r; i <= p->r; i++) {
            if (!i)
                continue;
            const float k = p->k[i < 0 ? -i : i];
            const size_t q = (size_t)clampi(y + i, 0, p->h - 1) * w;
            bil_acc(sw, sl, sa, sb, L0, p->src[0] + q, p->src[1] + q, p->src[2] + q, k, c, x0, x1);
        }
        for (int x = x0; x < x1; x++) {
            const float inv = 1.0f / sw[x];
            sl[x] *= inv;
            sa[x] *= inv;
            sb[x] *= inv;
        }
    }
}

/* horizontal Gaussian, tap loop outside (vectorises) */
static void blur_h2(const Pass *p, int y)
{
    const int w = p->w, r = p->r;
    for (int c = 0; c < 3 && p->src[c]; c++) {
        const float *s = p->src[c] + (size_t)y * w;
        float *d = p->dst[c] + (size_t)y * w;
        for (int x = 0; x < w; x++)
            d[x] = p->k[0] * s[x];
        for (int i = -r; i <= r; i++) {
            if (!i)
                continue;
            const float k = p->k[i < 0 ? -i : i];
            const int lo = i < 0 ? -i : 0, hi = i > 0 ? w - i : w;
            for (int x = 0; x < lo && x < w; x++)
                d[x] += k * s[clampi(x + i, 0, w - 1)];
            for (int x = lo; x < hi; x++)
                d[x] += k * s[x + i];
            for (int x = hi > lo ? hi : lo; x < w; x++)
                d[x] += k * s[clampi(x + i, 0, w - 1)];
        }
    }
}

/* R'G'B' <-> L, B - L, R - L */
static void to_lcc(const Pass *p, int y)
{
    const size_t o = (size_t)y * p->w;
    for (int x = 0; x < p->w; x++) {
        const float r = p->src[0][o + x], g = p->src[1][o + x], b = p->src[2][o + x];
        const float l = KR * r + KG * g + KB * b;
        p->dst[0][o + x] = l;
        p->dst[1][o + x] = b - l;
        p->dst[2][o + x] = r - l;
    }
}

/* tanh by its [3/2] Pade approximant, clamped (within 2.5%; smooth and cheap) */
static inline float tanh_fast(float x)
{
    x = x < -3.0f ? -3.0f : x > 3.0f ? 3.0f : x;
    return x * (27.0f + x * x) / (27.0f + 9.0f * x * x);
}

/* toon: quantise L softly, multiply by the DoG edge map (aux[0] = G1, aux[1] = G2) */
static void toon_out(const Pass *p, int y)
{
    const size_t o = (size_t)y * p->w;
    const float dq = (float)(1.0 / p->lp->levels), phq = (float)(8.0 * p->lp->levels);
    const float tau = 0.98f, phe = (float)(60.0 * p->lp->edge);
    for (int x = 0; x < p->w; x++) {
        const float l = p->src[0][o + x];
        const float qn = floorf(l / dq + 0.5f) * dq;
        float q = qn + 0.5f * dq * tanh_fast(phq * (l - qn));
        const float d = p->aux[0][o + x] - tau * p->aux[1][o + x];
        const float e = d > 0 ? 1.0f : 1.0f + tanh_fast(phe * d);
        const float ratio = l > 1e-4f ? q / l : 1.0f;
        q *= e;
        const float c1 = p->src[1][o + x] * (ratio < 1 ? ratio : 1) * e, c2 = p->src[2][o + x] * (ratio < 1 ? ratio : 1) * e;
        const float r = q + c2, b = q + c1, g = (q - KR * r - KB * b) / KG;
        p->dst[0][o + x] = r;
        p->dst[1][o + x] = g;
        p->dst[2][o + x] = b;
    }
}

/* sketch: XDoG of L (aux[0] = G1, aux[1] = G2), gray out */
static void sketch_out(const Pass *p, int y)
{
    const size_t o = (size_t)y * p->w;
    const float pp = (float)(20.0 * p->lp->edge), eps = 0.05f, phi = 10.0f;
    for (int x = 0; x < p->w; x++) {
        const float s = (1 + pp) * p->aux[0][o + x] - pp * p->aux[1][o + x];
        /* lines, over a light wash of the tone */
        const float t = (s >= eps ? 1.0f : 1.0f + tanhf(phi * (s - eps))) * (0.75f + 0.25f * p->aux[0][o + x]);
        p->dst[0][o + x] = p->dst[1][o + x] = p->dst[2][o + x] = t;
    }
}

/* oil, step 1: structure tensor of L (src[0]) into aux[0..2] = gx^2, gx gy, gy^2 */
static void tensor(const Pass *p, int y)
{
    const float *L = p->src[0];
    const int w = p->w, h = p->h;
    const size_t ym = (size_t)clampi(y - 1, 0, h - 1) * w, y0 = (size_t)y * w, yp = (size_t)clampi(y + 1, 0, h - 1) * w;
    for (int x = 0; x < w; x++) {
        const int xm = clampi(x - 1, 0, w - 1), xp = clampi(x + 1, 0, w - 1);
        const float gx = (L[ym + xp] + 2 * L[y0 + xp] + L[yp + xp] - L[ym + xm] - 2 * L[y0 + xm] - L[yp + xm]) * 0.25f;
        const float gy = (L[yp + xm] + 2 * L[yp + x] + L[yp + xp] - L[ym + xm] - 2 * L[ym + x] - L[ym + xp]) * 0.25f;
        p->aux[0][y0 + x] = gx * gx;
        p->aux[1][y0 + x] = gx * gy;
        p->aux[2][y0 + x] = gy * gy;
    }
}

/* oil, step 2: anisotropic Kuwahara over 8 sectors of an ellipse aligned with
 * the local structure (src = R'G'B', aux = smoothed tensor).
 *
 * The ellipse of a pixel depends on its flow angle and anisotropy only, so
 * both are quantised (KU_NT angles over 180 degrees, KU_NA anisotropy levels)
 * and the kernels are built once per frame: per kernel, a list of samples
 * (offset, weight) grouped by sector, so the inner loop is loads, multiplies
 * and adds into registers, with no per-sample geometry. */
#define KU_NT 32
#define KU_NA 8

typedef struct KuTab {
    int *off;        /* dy * w + dx */
    short *dx, *dy;
    float *wt;
    int start[KU_NT * KU_NA][9]; /* sector k of kernel i: [start[i][k], start[i][k + 1]) */
    int ext;         /* max |dx|, |dy| */
} KuTab;

/* Build the kernels for radius `radius` and row stride w; 0 or AIE_ENOMEM. */
static int ku_build(KuTab *t, float radius, int w)
{
    const float alpha = 1.0f;
    const int R = (int)ceilf(2 * radius) + 1, side = 2 * R + 1;
    const size_t cap = (size_t)KU_NT * KU_NA * side * side;
    t->ext = R;
    t->off = malloc(cap * sizeof(int));
    t->dx = malloc(cap * sizeof(short));
    t->dy = malloc(cap * sizeof(short));
    t->wt = malloc(cap * sizeof(float));
    if (!t->off || !t->dx || !t->dy || !t->wt)
        return AIE_ENOMEM;
    int n = 0;
    for (int ai = 0; ai < KU_NA; ai++)
        for (int ti = 0; ti < KU_NT; ti++) {
            const int i = ai * KU_NT + ti;
            const float A = (float)ai / (KU_NA - 1);
            const float th = (float)(M_PI * ti / KU_NT);
            const float a = radius * (alpha + A) / alpha, b = radius * alpha / (alpha + A);
            const float c = cosf(th), s = sinf(th); /* flow direction */
            const float m00 = c / a, m01 = s / a, m10 = -s / b, m11 = c / b;
            for (int k = 0; k < 8; k++) {
                t->start[i][k] = n;
                for (int dy = -R; dy <= R; dy++)
                    for (int dx = -R; dx <= R; dx++) {
                        const float u = m00 * dx + m01 * dy, v = m10 * dx + m11 * dy, rr = u * u + v * v;
                        if (rr > 1.0f)
                            continue;
                        int kk = (v < 0) << 2;
                        const float uu = v < 0 ? -u : u, vv = v < 0 ? -v : v;
                        kk |= (uu < 0) << 1;
                        kk |= (uu < 0 ? vv < -uu : vv > uu);
                        if (kk != k)
                            continue;
                        t->off[n] = dy * w + dx;
                        t->dx[n] = (short)dx;
                        t->dy[n] = (short)dy;
                        t->wt[n] = (1.0f - rr) * (1.0f - rr) + 0.05f; /* radial fall-off */
                        n++;
                    }
            }
            t->start[i][8] = n;
        }
    return 0;
}

static void ku_free(KuTab *t)
{
    free(t->off);
    free(t->dx);
    free(t->dy);
    free(t->wt);
}

/* atan(t) for t in [0, 1], within 0.0015 rad: plain arithmetic */
static inline float atan01(float t)
{
    return 0.78539816f * t - t * (t - 1.0f) * (0.2447f + 0.0663f * t);
}

static void kuwahara(const Pass *p, int y)
{
    const int w = p->w, h = p->h;
    const KuTab *T = p->tab;
    const int R = T->ext;
    const size_t o = (size_t)y * w;
    const float *restrict S0 = p->src[0], *restrict S1 = p->src[1], *restrict S2 = p->src[2];
    for (int x = 0; x < w; x++) {
        const float E = p->aux[0][o + x], F = p->aux[1][o + x], G = p->aux[2][o + x];
        const float disc = sqrtf((E - G) * (E - G) + 4 * F * F);
        const float l1 = 0.5f * (E + G + disc), l2 = 0.5f * (E + G - disc);
        float tx = l1 - E, ty = -F;
        const float tl = sqrtf(tx * tx + ty * ty);
        if (tl > 0) {
            tx /= tl;
            ty /= tl;
        } else {
            tx = 0;
            ty = 1;
        }
        const float A = l1 + l2 > 0 ? (l1 - l2) / (l1 + l2) : 0;
        /* flow direction (c, s), perpendicular to the gradient; its angle in [0, pi) */
        float c = ty, s = -tx;
        if (s < 0) {
            c = -c;
            s = -s;
        }
        const float ac = fabsf(c);
        float th = ac >= s ? (ac > 0 ? atan01(s / ac) : 0) : 1.57079633f - atan01(ac / s);
        if (c < 0)
            th = 3.14159265f - th;
        int ti = (int)(th * (KU_NT / 3.14159265f) + 0.5f);
        ti = ti >= KU_NT ? ti - KU_NT : ti < 0 ? 0 : ti;
        int ai = (int)(A * (KU_NA - 1) + 0.5f);
        ai = ai < 0 ? 0 : ai >= KU_NA ? KU_NA - 1 : ai;
        const int *st = T->start[ai * KU_NT + ti];
        const int inside = x >= R && x < w - R && y >= R && y < h - R;
        float ow = 0, out[3] = {0, 0, 0};
        for (int k = 0; k < 8; k++) {
            float sw = 0, m0 = 0, m1 = 0, m2 = 0, q0 = 0, q1 = 0, q2 = 0;
            if (inside) {
                const float *s0 = S0 + o + x, *s1 = S1 + o + x, *s2 = S2 + o + x;
                for (int j = st[k]; j < st[k + 1]; j++) {
                    const int d = T->off[j];
                    const float wt = T->wt[j], r = s0[d], g = s1[d], bl = s2[d];
                    const float wr = wt * r, wg = wt * g, wb = wt * bl;
                    sw += wt;
                    m0 += wr;
                    m1 += wg;
                    m2 += wb;
                    q0 += wr * r;
                    q1 += wg * g;
                    q2 += wb * bl;
                }
            } else {
                for (int j = st[k]; j < st[k + 1]; j++) {
                    const size_t q = (size_t)clampi(y + T->dy[j], 0, h - 1) * w + (size_t)clampi(x + T->dx[j], 0, w - 1);
                    const float wt = T->wt[j], r = S0[q], g = S1[q], bl = S2[q];
                    const float wr = wt * r, wg = wt * g, wb = wt * bl;
                    sw += wt;
                    m0 += wr;
                    m1 += wg;
                    m2 += wb;
                    q0 += wr * r;
                    q1 += wg * g;
                    q2 += wb * bl;
                }
            }
            if (sw <= 0)
                continue;
            const float mean[3] = {m0 / sw, m1 / sw, m2 / sw};
            const float qq[3] = {q0, q1, q2};
            float var = 0;
            for (int ch = 0; ch < 3; ch++) {
                const float vch = qq[ch] / sw - mean[ch] * mean[ch];
                var += vch > 0 ? vch : 0;
            }
            /* alpha_k = 1 / (1 + (sigma_k / 0.02)^8): flat sectors dominate */
            const float sd = sqrtf(var) * 50.0f, s2 = sd * sd, s4 = s2 * s2;
            const float ak = 1.0f / (1.0f + s4 * s4);
            ow += ak;
            for (int ch = 0; ch < 3; ch++)
                out[ch] += ak * mean[ch];
        }
        for (int ch = 0; ch < 3; ch++)
            p->dst[ch][o + x] = ow > 0 ? out[ch] / ow : p->src[ch][o + x];
    }
}

int aie_look_abstract(const AieLookParams *lp, float *const rgb[3], int w, int h, float *buf, AiePool *pool)
{
    if (lp->look == AIE_LOOK_NONE)
        return 0;
    const size_t n = (size_t)w * h;
    float *t[6];
    for (int i = 0; i < 6; i++)
        t[i] = buf + (size_t)i * n;
    Pass p = {.lp = lp, .w = w, .h = h};
    if (lp->look == AIE_LOOK_TOON) {
        float k[64];
        const double sr = lp->sigma_r;
        p.a = 0.5 / (sr * sr);
        p.k = k;
        p.r = gauss(k, lp->sigma_s, 63);
        /* rgb -> lcc in t[0..2] */
        for (int c = 0; c < 3; c++) {
            p.src[c] = rgb[c];
            p.dst[c] = t[c];
        }
        run(&p, to_lcc, pool);
        for (int it = 0; it < lp->iterations; it++) {
            for (int c = 0; c < 3; c++) {
                p.src[c] = t[c];
                p.dst[c] = t[3 + c];
            }
            run(&p, bil_h, pool);
            for (int c = 0; c < 3; c++) {
                p.src[c] = t[3 + c];
                p.dst[c] = t[c];
            }
            run(&p, bil_v, pool);
        }
        /* DoG edges of the filtered L: G1 in t[3], G2 in t[4], scratch t[5] */
        blur(&p, t[0], t[3], t[5], 1.0, pool);
        blur(&p, t[0], t[4], t[5], 1.6, pool);
        for (int c = 0; c < 3; c++) {
            p.src[c] = t[c];
            p.dst[c] = rgb[c];
        }
        p.aux[0] = t[3];
        p.aux[1] = t[4];
        run(&p, toon_out, pool);
    } else if (lp->look == AIE_LOOK_SKETCH) {
        for (int c = 0; c < 3; c++) {
            p.src[c] = rgb[c];
            p.dst[c] = t[c];
        }
        run(&p, to_lcc, pool);
        blur(&p, t[0], t[3], t[5], 1.0, pool);
        blur(&p, t[0], t[4], t[5], 1.6, pool);
        p.aux[0] = t[3];
        p.aux[1] = t[4];
        for (int c = 0; c < 3; c++)
            p.dst[c] = rgb[c];
        run(&p, sketch_out, pool);
    } else {
        /* luma into t[0]; tensor into t[1..3]; smoothed into t[3..5] (scratch t[0] after) */
        for (int c = 0; c < 3; c++) {
            p.src[c] = rgb[c];
            p.dst[c] = t[c];
        }
        run(&p, to_lcc, pool);
        p.src[0] = t[0];
        p.aux[0] = t[3];
        p.aux[1] = t[4];
        p.aux[2] = t[5];
        run(&p, tensor, pool);
        blur(&p, t[3], t[3], t[0], 2.0, pool);
        blur(&p, t[4], t[4], t[0], 2.0, pool);
        blur(&p, t[5], t[5], t[0], 2.0, pool);
        /* Kuwahara: src = rgb copies in t[0..2] */
        KuTab kt = {0};
        if (ku_build(&kt, (float)lp->sigma_s, w)) {
            ku_free(&kt);
            return AIE_ENOMEM;
        }
        for (int c = 0; c < 3; c++) {
            memcpy(t[c], rgb[c], n * sizeof(float));
            p.src[c] = t[c];
            p.dst[c] = rgb[c];
        }
        p.tab = &kt;
        run(&p, kuwahara, pool);
        ku_free(&kt);
    }
    return 0;
}
