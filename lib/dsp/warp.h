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
 * applied across each row first, then down the four rows. The AVX2 versions
 * compute the same expressions in the same order (no FMA contraction), so
 * they match the C reference within 1e-4 of a sample (checkasm).
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

typedef AIE_WARP_BICUBIC8_FN((*AieWarpBicubic8Fn));
typedef AIE_WARP_BICUBIC16_FN((*AieWarpBicubic16Fn));
typedef AIE_WARP_BILINEAR_FN((*AieWarpBilinearFn));

typedef struct AieWarpDSP {
    AieWarpBicubic8Fn bicubic8;
    AieWarpBicubic16Fn bicubic16;
    AieWarpBilinearFn bilinear;
} AieWarpDSP;

void aie_warp_dsp_init(AieWarpDSP *dsp, unsigned cpu_flags);
void aie_warp_dsp_init_avx2(AieWarpDSP *dsp);

#endif /* AIE_DSP_WARP_H */
