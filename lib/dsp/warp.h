/*
 * Warping kernels (private to libaie; lib/motion/ is the user): sample a
 * plane at arbitrary positions, one output row at a time.
 *
 * Positions are absolute sample coordinates of the plane (x right, y down,
 * sample centres at integers). They are first clamped to [0, w - 1] x
 * [0, h - 1]; every tap is then clamped to the plane as well, so the plane is
 * extended by replicating its edges. Reads stay inside rows 0..h-1 and
 * columns 0..w-1 of src; writes stay inside dst[0 .. n - 1].
 *
 * Float kernels. Bicubic is Catmull-Rom (a = -0.5): for the fraction f the
 * taps are
 *   k0 = ((-0.5 f + 1) f - 0.5) f, k1 = (1.5 f - 2.5) f f + 1,
 *   k2 = ((-1.5 f + 2) f + 0.5) f, k3 = (0.5 f - 0.5) f f,
 * applied across each row first (k0 p0 + k1 p1 + k2 p2 + k3 p3, in that
 * order), then down the four rows, with the fused multiply-adds the C
 * reference spells with fmaf(); for 8-bit samples the row sums are exact
 * integers with the taps rounded to 1/16384 (aie_warp_bicubic8_c). SIMD versions use
 * FMA exactly there and nowhere else, so they match the C reference bit for
 * bit (checkasm).
 */
#ifndef AIE_DSP_WARP_H
#define AIE_DSP_WARP_H

#include <stddef.h>
#include <stdint.h>

/* dst[i] = src sampled at (x[i], y[i]), bicubic. stride in bytes. */
#define AIE_WARP_BICUBIC8_FN(name)                                                             \
    void name(float *dst, const uint8_t *src, ptrdiff_t stride, int w, int h, const float *x,  \
              const float *y, int n)
#define AIE_WARP_BICUBIC16_FN(name)                                                            \
    void name(float *dst, const uint16_t *src, ptrdiff_t stride, int w, int h, const float *x, \
              const float *y, int n)
/* dst[i] = src sampled at (x[i], y[i]), bilinear; float plane, stride in
 * floats. */
#define AIE_WARP_BILINEAR_FN(name)                                                             \
    void name(float *dst, const float *src, ptrdiff_t stride, int w, int h, const float *x,    \
              const float *y, int n)

/* The motion at time t along one row of the field grid (frame synthesis,
 * lib/motion/synth.c). Fields are sampled with the clamped bilinear rule of
 * `bilinear` above (positions clamped to the field, taps too); the a -> b
 * field (fu, fv) and the b -> a field (gu, gv) are in full-resolution pixels
 * and `is` scales them to grid units. For each grid sample (x, y), x < fw:
 *   from a: ua = va = 0, q = p; iters times: ua = is fu(q), va = is fv(q),
 *           q = p - t (ua, va)          (skipped when extrapolating)
 *   from b: q = p; iters times: ub = -is gu(q), vb = -is gv(q),
 *           q = p + (1 - t) (ub, vb)
 *   extrapolating: (u, v) = (ub, vb); else if the candidates agree,
 *   (ua - ub)^2 + (va - vb)^2 < 0.25, their mean 0.5 (ua + ub); else the one
 *   whose ends look more alike, |la(p - t c) - lb(p + (1 - t) c)|, a's on ties
 *   visibility: da = |is f(p - t (u, v)) - (u, v)|^2, db = |is g(p + (1 - t)
 *   (u, v)) + (u, v)|^2, vis = 1 / (1 + d / tau2), 0 for an end outside
 *   [-0.5, fw - 0.5] x [-0.5, fh - 0.5]; extrapolating vis_a = 0, vis_b = 1
 *   wa = (1 - t) vis_a, wb = t vis_b, share = wa + wb > 1e-4 ? wa / (wa + wb)
 *   : 1 - t, rel = max(vis) >= rel_lo ? 1 : max(vis) / rel_lo
 * la, lb: luma planes of the grid's size (stride ls). The C reference spells
 * out the operation order; SIMD versions follow it without FMA (bit-exact). */
typedef struct AieFlowTArgs {
    const float *fu, *fv, *gu, *gv;
    ptrdiff_t fstride;
    int fw, fh;
    const float *la, *lb;
    ptrdiff_t lstride;
    float t, is, tau2, rel_lo;
    int iters, extrapolate;
} AieFlowTArgs;
#define AIE_FLOW_T_FN(name)                                                                    \
    void name(float *u, float *v, float *share, float *rel, const AieFlowTArgs *a, int y)

/* Per-pixel motion of one plane row from grid rows (frame synthesis): g[0..3]
 * are rows of the motion's u, v (grid units), a's share and the reliability,
 * indexed by grid column; the kernel reads g[k][xi[i] .. xi[i] + 16] (the
 * values past xi[i] + 1 only to load whole vectors). For i < n, with j = xi[i], f = xw[i] and
 *   c_k = g[k][j] + f * (g[k][j + 1] - g[k][j]),
 *   mu = c_0 * kx, mv = c_1 * ky, px = x0 + i:
 * xa = px - t mu, ya = y - t mv, xb = px + (1 - t) mu, yb = y + (1 - t) mv,
 * wa = c_2, r = c_3 (bit-exact in SIMD). */
#define AIE_WARP_COORDS_FN(name)                                                               \
    void name(float *xa, float *ya, float *xb, float *yb, float *wa, float *r,                \
              const float *const g[4], const int *xi, const float *xw, int x0, float y,       \
              float kx, float ky, float t, int n)

/* dst[i] = r0[i] + f * (r1[i] - r0[i]) for i < n (bit-exact in SIMD). */
#define AIE_LERP_FN(name) void name(float *dst, const float *r0, const float *r1, float f, int n)

typedef AIE_WARP_BICUBIC8_FN((*AieWarpBicubic8Fn));
typedef AIE_WARP_BICUBIC16_FN((*AieWarpBicubic16Fn));
typedef AIE_WARP_BILINEAR_FN((*AieWarpBilinearFn));
typedef AIE_FLOW_T_FN((*AieFlowTFn));
typedef AIE_WARP_COORDS_FN((*AieWarpCoordsFn));
typedef AIE_LERP_FN((*AieLerpFn));

typedef struct AieWarpDSP {
    AieWarpBicubic8Fn bicubic8;
    AieWarpBicubic16Fn bicubic16;
    AieWarpBilinearFn bilinear;
    AieFlowTFn flow_t;
    AieWarpCoordsFn coords;
    AieLerpFn lerp;
} AieWarpDSP;

void aie_warp_dsp_init(AieWarpDSP *dsp, unsigned cpu_flags);
/* The C references of the bicubic kernels, which the SIMD versions call for
 * positions whose taps touch the plane's edge and for the tails. */
AIE_WARP_BICUBIC8_FN(aie_warp_bicubic8_c);
AIE_WARP_BICUBIC16_FN(aie_warp_bicubic16_c);
AIE_WARP_BILINEAR_FN(aie_warp_bilinear_c);
AIE_WARP_COORDS_FN(aie_warp_coords_c);
void aie_warp_dsp_init_avx2(AieWarpDSP *dsp);
void aie_warp_dsp_init_avx512(AieWarpDSP *dsp);

#endif /* AIE_DSP_WARP_H */
