/*
 * Kernels of the motion estimator (private to libaie; lib/motion/ is the
 * user): float conversion of luma rows, the pyramid's 2x downsample, and the
 * inner sums of the DIS inverse search over one 8x8 patch.
 *
 * All are float kernels. The AVX2 versions evaluate the same expressions in a
 * different order (sums over vector lanes), so they match the C reference
 * within a relative error of 1e-5 (checkasm states it); conversions and the
 * downsample are exact in any order because their sums are of few terms with
 * exactly representable weights (see each macro).
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

/* The DIS inverse-search sums of one 8x8 patch: with the bilinear sample
 *   s(x, y) = (1 - fy) ((1 - fx) i1[y][x] + fx i1[y][x + 1])
 *           + fy ((1 - fx) i1[y + 1][x] + fx i1[y + 1][x + 1])
 * and e = s - tmpl, out = {sum e, sum e^2, sum gx e, sum gy e} over the
 * patch. i1 points at the patch's top-left sample in the second image (reads
 * 9 rows of 9 samples); tmpl, gx, gy are 64 floats, row-major. */
#define AIE_DIS_SUMS_FN(name)                                                                  \
    void name(float out[4], const float *i1, ptrdiff_t stride, float fx, float fy,            \
              const float *tmpl, const float *gx, const float *gy)

typedef AIE_TOFLOAT8_FN((*AieToFloat8Fn));
typedef AIE_TOFLOAT16_FN((*AieToFloat16Fn));
typedef AIE_DOWN2_FN((*AieDown2Fn));
typedef AIE_DIS_SUMS_FN((*AieDisSumsFn));

typedef struct AieMotionDSP {
    AieToFloat8Fn tofloat8;
    AieToFloat16Fn tofloat16;
    AieDown2Fn down2;
    AieDisSumsFn dis_sums;
} AieMotionDSP;

void aie_motion_dsp_init(AieMotionDSP *dsp, unsigned cpu_flags);
void aie_motion_dsp_init_avx2(AieMotionDSP *dsp);

#endif /* AIE_DSP_MOTION_H */
