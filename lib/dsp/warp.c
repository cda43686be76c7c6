/* C references of the warping kernels (dsp/warp.h). */
#include <math.h>

#include "aie/cpu.h"
#include "dsp/warp.h"

static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }
static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static inline void cubic_taps(float f, float k[4])
{
    k[0] = fmaf(fmaf(-0.5f, f, 1.0f), f, -0.5f) * f;
    k[1] = fmaf(fmaf(1.5f, f, -2.5f) * f, f, 1.0f);
    k[2] = fmaf(fmaf(-1.5f, f, 2.0f), f, 0.5f) * f;
    k[3] = fmaf(0.5f, f, -0.5f) * f * f;
}

#define BICUBIC_BODY(T)                                                                        \
    for (int i = 0; i < n; i++) {                                                              \
        float px = clampf(x[i], 0.0f, (float)(w - 1)), py = clampf(y[i], 0.0f, (float)(h - 1)); \
        int ix = (int)px, iy = (int)py;                                                        \
        float kx[4], ky[4];                                                                    \
        cubic_taps(px - (float)ix, kx);                                                        \
        cubic_taps(py - (float)iy, ky);                                                        \
        int cx[4];                                                                             \
        for (int j = 0; j < 4; j++)                                                            \
            cx[j] = clampi(ix - 1 + j, 0, w - 1);                                              \
        float acc = 0.0f;                                                                      \
        for (int r = 0; r < 4; r++) {                                                          \
            const T *row = (const T *)(const void *)((const uint8_t *)src +                    \
                                                     clampi(iy - 1 + r, 0, h - 1) * stride);   \
            float s = fmaf(kx[3], (float)row[cx[3]],                                           \
                           fmaf(kx[2], (float)row[cx[2]],                                      \
                                fmaf(kx[1], (float)row[cx[1]], kx[0] * (float)row[cx[0]])));  \
            acc = fmaf(ky[r], s, acc);                                                         \
        }                                                                                      \
        dst[i] = acc;                                                                          \
    }

/* 8-bit: each row's horizontal sum in integers with the taps in Q14
 * (lrintf(16384 k), round to nearest even), exact; then down the rows in
 * float with the vertical taps over 16384 (exact: a power of two). */
#define BICUBIC8_BODY                                                                          \
    for (int i = 0; i < n; i++) {                                                              \
        float px = clampf(x[i], 0.0f, (float)(w - 1)), py = clampf(y[i], 0.0f, (float)(h - 1)); \
        int ix = (int)px, iy = (int)py;                                                        \
        float kx[4], ky[4];                                                                    \
        cubic_taps(px - (float)ix, kx);                                                        \
        cubic_taps(py - (float)iy, ky);                                                        \
        int cx[4], kq[4];                                                                      \
        for (int j = 0; j < 4; j++) {                                                          \
            cx[j] = clampi(ix - 1 + j, 0, w - 1);                                              \
            kq[j] = (int)lrintf(kx[j] * 16384.0f);                                             \
        }                                                                                      \
        float acc = 0.0f;                                                                      \
        for (int r = 0; r < 4; r++) {                                                          \
            const uint8_t *row = src + clampi(iy - 1 + r, 0, h - 1) * stride;                  \
            int s = (kq[0] * row[cx[0]] + kq[1] * row[cx[1]]) +                                \
                    (kq[2] * row[cx[2]] + kq[3] * row[cx[3]]);                                 \
            acc = fmaf(ky[r] * (1.0f / 16384.0f), (float)s, acc);                              \
        }                                                                                      \
        dst[i] = acc;                                                                          \
    }

AIE_WARP_BICUBIC8_FN(aie_warp_bicubic8_c) { BICUBIC8_BODY }
AIE_WARP_BICUBIC16_FN(aie_warp_bicubic16_c) { BICUBIC_BODY(uint16_t) }

AIE_WARP_BILINEAR_FN(aie_warp_bilinear_c)
{
    for (int i = 0; i < n; i++) {
        float px = clampf(x[i], 0.0f, (float)(w - 1)), py = clampf(y[i], 0.0f, (float)(h - 1));
        int ix = (int)px, iy = (int)py;
        float fx = px - (float)ix, fy = py - (float)iy;
        int ix1 = ix + 1 < w ? ix + 1 : ix, iy1 = iy + 1 < h ? iy + 1 : iy;
        const float *r0 = src + iy * stride, *r1 = src + iy1 * stride;
        float a = r0[ix] + fx * (r0[ix1] - r0[ix]);
        float b = r1[ix] + fx * (r1[ix1] - r1[ix]);
        dst[i] = a + fy * (b - a);
    }
}

/* Clamped bilinear sample of a float plane (the rule of bilinear_c). */
static inline float bl(const float *src, ptrdiff_t stride, int w, int h, float x, float y)
{
    float px = clampf(x, 0.0f, (float)(w - 1)), py = clampf(y, 0.0f, (float)(h - 1));
    int ix = (int)px, iy = (int)py;
    float fx = px - (float)ix, fy = py - (float)iy;
    int ix1 = ix + 1 < w ? ix + 1 : ix, iy1 = iy + 1 < h ? iy + 1 : iy;
    const float *r0 = src + iy * stride, *r1 = src + iy1 * stride;
    float a = r0[ix] + fx * (r0[ix1] - r0[ix]);
    float b = r1[ix] + fx * (r1[ix1] - r1[ix]);
    return a + fy * (b - a);
}

static AIE_FLOW_T_FN(flow_t_c)
{
    const int W = a->fw, H = a->fh;
    const ptrdiff_t fs = a->fstride, ls = a->lstride;
    const float t = a->t, t1 = 1.0f - t, is = a->is;
    const float py = (float)y;
    for (int x = 0; x < W; x++) {
        const float px = (float)x;
        float ua = 0, va = 0, qx = px, qy = py;
        for (int k = 0; k < a->iters && !a->extrapolate; k++) {
            ua = bl(a->fu, fs, W, H, qx, qy) * is;
            va = bl(a->fv, fs, W, H, qx, qy) * is;
            qx = px - t * ua;
            qy = py - t * va;
        }
        float ub = 0, vb = 0;
        qx = px;
        qy = py;
        for (int k = 0; k < a->iters; k++) {
            ub = -(bl(a->gu, fs, W, H, qx, qy) * is);
            vb = -(bl(a->gv, fs, W, H, qx, qy) * is);
            qx = px + t1 * ub;
            qy = py + t1 * vb;
        }
        float mu, mv;
        float dd = (ua - ub) * (ua - ub) + (va - vb) * (va - vb);
        if (a->extrapolate) {
            mu = ub;
            mv = vb;
        } else if (dd < 0.25f) {
            mu = 0.5f * (ua + ub);
            mv = 0.5f * (va + vb);
        } else {
            float ea = fabsf(bl(a->la, ls, W, H, px - t * ua, py - t * va) -
                             bl(a->lb, ls, W, H, px + t1 * ua, py + t1 * va));
            float eb = fabsf(bl(a->la, ls, W, H, px - t * ub, py - t * vb) -
                             bl(a->lb, ls, W, H, px + t1 * ub, py + t1 * vb));
            mu = ea <= eb ? ua : ub;
            mv = ea <= eb ? va : vb;
        }
        float ax = px - t * mu, ay = py - t * mv, bx = px + t1 * mu, by = py + t1 * mv;
        float fu = bl(a->fu, fs, W, H, ax, ay) * is - mu;
        float fv = bl(a->fv, fs, W, H, ax, ay) * is - mv;
        float da = fu * fu + fv * fv;
        float gu = bl(a->gu, fs, W, H, bx, by) * is + mu;
        float gv = bl(a->gv, fs, W, H, bx, by) * is + mv;
        float db = gu * gu + gv * gv;
        float vis_a = 1.0f / (1.0f + da / a->tau2);
        float vis_b = 1.0f / (1.0f + db / a->tau2);
        const float lo = -0.5f, hx = (float)W - 0.5f, hy = (float)H - 0.5f;
        if (ax < lo || ay < lo || ax > hx || ay > hy)
            vis_a = 0;
        if (bx < lo || by < lo || bx > hx || by > hy)
            vis_b = 0;
        if (a->extrapolate) {
            vis_a = 0;
            vis_b = 1;
        }
        float wa = t1 * vis_a, wb = t * vis_b;
        float sh = wa + wb > 1e-4f ? wa / (wa + wb) : t1;
        float best = vis_a > vis_b ? vis_a : vis_b;
        u[x] = mu;
        v[x] = mv;
        share[x] = sh;
        rel[x] = best >= a->rel_lo ? 1.0f : best / a->rel_lo;
    }
}

AIE_WARP_COORDS_FN(aie_warp_coords_c)
{
    const float t1 = 1.0f - t;
    for (int i = 0; i < n; i++) {
        int j = xi[i];
        float f = xw[i], c[4];
        for (int k = 0; k < 4; k++)
            c[k] = g[k][j] + f * (g[k][j + 1] - g[k][j]);
        float mu = c[0] * kx, mv = c[1] * ky, px = (float)(x0 + i);
        xa[i] = px - t * mu;
        ya[i] = y - t * mv;
        xb[i] = px + t1 * mu;
        yb[i] = y + t1 * mv;
        wa[i] = c[2];
        r[i] = c[3];
    }
}

static AIE_LERP_FN(lerp_c)
{
    for (int i = 0; i < n; i++)
        dst[i] = r0[i] + f * (r1[i] - r0[i]);
}

void aie_warp_dsp_init(AieWarpDSP *dsp, unsigned cpu_flags)
{
    dsp->lerp = lerp_c;
    dsp->coords = aie_warp_coords_c;
    dsp->bicubic8 = aie_warp_bicubic8_c;
    dsp->bicubic16 = aie_warp_bicubic16_c;
    dsp->bilinear = aie_warp_bilinear_c;
    dsp->flow_t = flow_t_c;
#if defined(__x86_64__) || defined(__i386__)
    if (!(cpu_flags & AIE_CPU_AVX2))
        return;
    aie_warp_dsp_init_avx2(dsp);
    if (!(cpu_flags & AIE_CPU_AVX512))
        return;
    aie_warp_dsp_init_avx512(dsp);
#else
    (void)cpu_flags;
#endif
}
