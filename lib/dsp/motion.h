/*
 * Kernels of the motion estimator (private to libaie; lib/motion/ is the
 * user): float conversion of luma rows, the pyramid's 2x downsample, the
 * inner sums of the DIS inverse search over one 8x8 patch, the densification
 * of the patch flows, the 2x upsample of a field, and the rows of the
 * variational refinement (smoothness weights, data terms, red-black SOR).
 *
 * All are float kernels. dis_sums and dis_prep in SIMD add in vector lanes (another
 * order, with FMA), so it matches the C reference within a relative error of
 * 1e-5 (checkasm states it); every other kernel evaluates the C reference's
 * expressions in the same order without FMA contraction (sqrtf and divisions
 * are correctly rounded in both), so the SIMD versions are bit-identical.
 *
 * Memory contract: kernels never allocate and never write outside
 * dst[0 .. w - 1] (or out[0 .. 3]); the reads each one makes are listed with
 * it. Rows of floats have strides counted in floats.
 */
#ifndef AIE_DSP_MOTION_H
#define AIE_DSP_MOTION_H

#include <stddef.h>
#include <stdint.h>

#define AIE_DIS_PATCH 8 /* patch side; templates are 64 contiguous floats */

/* dst[x] = src[x] * scale, for x < w (exact: integer samples times a power of
 * two or 1). */
#define AIE_TOFLOAT8_FN(name) void name(float *dst, const uint8_t *src, float scale, int w)
#define AIE_TOFLOAT16_FN(name) void name(float *dst, const uint16_t *src, float scale, int w)

/* One output row of the 2x pyramid downsample with the separable kernel
 * [1 3 3 1] / 8 in each direction:
 *   dst[x] = sum_{i,j < 4} k[i] k[j] src[(i - 1) * stride + 2x - 1 + j] / 64
 * src points at the source row 2y, column 0; reads rows -1..2 and columns
 * -1 .. 2w (the caller pads the source by one replicated sample). Vertical
 * sums first, then horizontal, in the order written in the C reference. */
#define AIE_DOWN2_FN(name) void name(float *dst, const float *src, ptrdiff_t stride, int w)

/* One output row of the same 2x downsample straight from 8- or 16-bit
 * samples (the first pyramid level when the full-size level is not needed):
 * r0 .. r3 are the source rows 2y - 1 .. 2y + 2 (clamped to the plane by the
 * caller), sw the source width (columns are clamped to 0 .. sw - 1), and for
 * x < w:
 *   v[j] = ((float)r0[c] + (float)r3[c]) + 3 ((float)r1[c] + (float)r2[c]),
 *   c = clamp(2x - 1 + j),
 *   dst[x] = ((v[0] + v[3]) + 3 (v[1] + v[2])) * k
 * (k: the sample scale / 64). The sums are exact integers, so SIMD versions
 * may add in integers. */
#define AIE_DOWN2_8_FN(name)                                                                   \
    void name(float *dst, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2,            \
              const uint8_t *r3, int sw, int w, float k)
#define AIE_DOWN2_16_FN(name)                                                                  \
    void name(float *dst, const uint16_t *r0, const uint16_t *r1, const uint16_t *r2,         \
              const uint16_t *r3, int sw, int w, float k)

/* The DIS inverse-search sums of one 8x8 patch: with the bilinear sample
 *   s(x, y) = (1 - fy) ((1 - fx) i1[y][x] + fx i1[y][x + 1])
 *           + fy ((1 - fx) i1[y + 1][x] + fx i1[y + 1][x + 1])
 * and e = s - tmpl, out = {sum e, sum e^2, sum gx e, sum gy e} over the
 * patch. i1 points at the patch's top-left sample in the second image (reads
 * 9 rows of 9 samples); tmpl, gx, gy are 64 floats, row-major. */
#define AIE_DIS_SUMS_FN(name)                                                                  \
    void name(float out[4], const float *i1, ptrdiff_t stride, float fx, float fy,            \
              const float *tmpl, const float *gx, const float *gy)

/* Setup of the inverse search of one 8x8 patch: i0 points at its top-left
 * sample in the first image (reads one sample around the patch), u, v at the
 * same place in the initial flow (stride fstride). Writes the template
 * tmpl = i0 and its gradients gx = 0.5 (i0[x + 1] - i0[x - 1]), gy likewise
 * down (64 floats each, row-major), and out = {sum gx, sum gy, sum gx^2,
 * sum gx gy, sum gy^2, sum u, sum v} over the patch. SIMD versions add in
 * vector lanes (another order): within 1e-5 relative (checkasm). */
#define AIE_DIS_PREP_FN(name)                                                                  \
    void name(float *tmpl, float *gx, float *gy, float out[7], const float *i0,               \
              ptrdiff_t stride, const float *u, const float *v, ptrdiff_t fstride)

/* Densification of one output row y of the DIS field: the n patches of one
 * patch row, patch i covering columns px[i] .. px[i] + 7 with the flow
 * (pu[i], pv[i]), are added in order into the accumulators:
 *   X = (float)px[i] + pu[i], Y = (float)y + pv[i], ix = floorf(X),
 *   iy = floorf(Y), fx = X - ix, fy = Y - iy, and for k < 8 the bilinear
 *   sample s of i1 at (ix + k, iy) written as in dis_sums (weights w00 ..
 *   w11 from fx, fy), d = s - i0[px[i] + k], wt = 1 / max(|d|, 1):
 *   su[px[i] + k] += wt * pu[i]; sv[..] += wt * pv[i]; sw[..] += wt.
 * i0 points at row y of the first image, i1 at sample (0, 0) of the second
 * (reads rows iy, iy + 1 and columns ix .. ix + 8, which the caller keeps
 * inside its padding). Writes su, sv, sw at the patches' columns only. */
#define AIE_DENSIFY_FN(name)                                                                   \
    void name(float *su, float *sv, float *sw, const float *i0, const float *i1,              \
              ptrdiff_t stride, int y, const float *pu, const float *pv, const int *px, int n)

/* One row of the 2x upsample of a flow component, times 2 (it is in pixels
 * of the level): with the vertical mix m[c] = 0.75 near[c] + 0.25 far[c]
 * (near, far: the two source rows closest to the output row),
 *   dst[2k] = 0.5 m[k - 1] + 1.5 m[k], dst[2k + 1] = 1.5 m[k] + 0.5 m[k + 1]
 * for outputs x < w. Reads source columns -1 .. w / 2 + 1 (the caller pads the
 * source by replication). */
#define AIE_UP2_FN(name) void name(float *dst, const float *near, const float *far, int w)

/* ---- variational refinement (lib/motion/flow.c), one row per call ----
 * Every plane of a call has the same stride (floats). Constants:
 * k[0] = half the brightness weight, k[1] = half the gradient weight,
 * k[2] = half the smoothness weight, k[3] = the robust epsilon squared,
 * k[4] = the normalisation zeta squared. */

/* Robust smoothness weights between each sample and its right (sx) and lower
 * (sy) neighbours: with ux = u[x + 1] - u[x], vx likewise (0 at x = w - 1),
 * uy = ud[x] - u[x], vy = vd[x] - v[x] (ud, vd: the next row; pass u, v on the
 * last row),
 *   wt = k[2] / sqrtf(((ux * ux + vx * vx) + (uy * uy + vy * vy)) + k[3]),
 * sx[x] = x < w - 1 ? wt : 0, sy[x] = last ? 0 : wt. */
#define AIE_VAR_SMOOTH_FN(name)                                                                \
    void name(float *sx, float *sy, const float *u, const float *v, const float *ud,          \
              const float *vd, int w, int last, const float *k)

/* The linearised data terms (brightness and gradient constancy with robust
 * weights) of one row, folded with the smoothness terms into the SOR system
 * of that row; the C reference spells out the expressions. Reads i0 (the
 * first image) and iw (the second, warped by the flow) at x - 1 .. x + 1 of
 * the row and the rows above and below; u, v and sx, sy likewise (sx at
 * x - 1, sy in the row above; those must be 0 outside the field, u, v
 * finite). Writes a12, b1, b2, ia11, ia22 at x < w. */
#define AIE_VAR_PREPARE_FN(name)                                                               \
    void name(float *a12, float *b1, float *b2, float *ia11, float *ia22, const float *i0,    \
              const float *iw, const float *u, const float *v, const float *sx,               \
              const float *sy, ptrdiff_t stride, int w, const float *k)

/* One red-black SOR half-sweep over a row: for x < w with x % 2 == parity,
 *   nu = (b1 - a12 dv + ((sx[x-1] du[x-1] + sx[x] du[x+1])
 *                        + (sy[x-s] du[x-s] + sy[x] du[x+s]))) * ia11,
 *   du += omega (nu - du), then the same for dv with b2, ia22 and the new du.
 * Reads du, dv at x - 1 .. x + 1 and in the rows above and below (must be
 * finite; their weights are 0 outside the field); SIMD versions load whole
 * vectors, so every row read may be read up to 16 samples past w (the
 * caller's padding). Writes du, dv at the updated columns only (other threads
 * may read the rest meanwhile). */
#define AIE_VAR_SOR_FN(name)                                                                   \
    void name(float *du, float *dv, const float *a12, const float *b1, const float *b2,       \
              const float *ia11, const float *ia22, const float *sx, const float *sy,         \
              ptrdiff_t stride, int w, int parity, float omega)

typedef AIE_TOFLOAT8_FN((*AieToFloat8Fn));
typedef AIE_TOFLOAT16_FN((*AieToFloat16Fn));
typedef AIE_DOWN2_FN((*AieDown2Fn));
typedef AIE_DOWN2_8_FN((*AieDown2_8Fn));
typedef AIE_DOWN2_16_FN((*AieDown2_16Fn));
typedef AIE_DIS_SUMS_FN((*AieDisSumsFn));
typedef AIE_DIS_PREP_FN((*AieDisPrepFn));
typedef AIE_DENSIFY_FN((*AieDensifyFn));
typedef AIE_UP2_FN((*AieUp2Fn));
typedef AIE_VAR_SMOOTH_FN((*AieVarSmoothFn));
typedef AIE_VAR_PREPARE_FN((*AieVarPrepareFn));
typedef AIE_VAR_SOR_FN((*AieVarSorFn));

typedef struct AieMotionDSP {
    AieToFloat8Fn tofloat8;
    AieToFloat16Fn tofloat16;
    AieDown2Fn down2;
    AieDown2_8Fn down2_8;
    AieDown2_16Fn down2_16;
    AieDisSumsFn dis_sums;
    AieDisPrepFn dis_prep;
    AieDensifyFn densify;
    AieUp2Fn up2;
    AieVarSmoothFn var_smooth;
    AieVarPrepareFn var_prepare;
    AieVarSorFn var_sor;
} AieMotionDSP;

void aie_motion_dsp_init(AieMotionDSP *dsp, unsigned cpu_flags);
/* C references the SIMD versions finish their rows with. */
AIE_UP2_FN(aie_motion_up2_c);
AIE_VAR_SMOOTH_FN(aie_motion_var_smooth_c);
AIE_VAR_PREPARE_FN(aie_motion_var_prepare_c);
AIE_VAR_SOR_FN(aie_motion_var_sor_c);
void aie_motion_dsp_init_avx2(AieMotionDSP *dsp);
void aie_motion_dsp_init_avx512(AieMotionDSP *dsp);

#endif /* AIE_DSP_MOTION_H */
