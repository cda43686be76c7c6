/* C references of the warping kernels (dsp/warp.h). */
#include "aie/cpu.h"
#include "dsp/warp.h"

static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }
static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static inline void cubic_taps(float f, float k[4])
{
    k[0] = ((-0.5f * f + 1.0f) * f - 0.5f) * f;
    k[1] = (1.5f * f - 2.5f) * f * f + 1.0f;
    k[2] = ((-1.5f * f + 2.0f) * f + 0.5f) * f;
    k[3] = (0.5f * f - 0.5f) * f * f;
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
            float s = ((kx[0] * (float)row[cx[0]] + kx[1] * (float)row[cx[1]]) +               \
                       (kx[2] * (float)row[cx[2]] + kx[3] * (float)row[cx[3]]));               \
            acc += ky[r] * s;                                                                  \
        }                                                                                      \
        dst[i] = acc;                                                                          \
    }

static AIE_WARP_BICUBIC8_FN(bicubic8_c) { BICUBIC_BODY(uint8_t) }
static AIE_WARP_BICUBIC16_FN(bicubic16_c) { BICUBIC_BODY(uint16_t) }

static AIE_WARP_BILINEAR_FN(bilinear_c)
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

void aie_warp_dsp_init(AieWarpDSP *dsp, unsigned cpu_flags)
{
    dsp->bicubic8 = bicubic8_c;
    dsp->bicubic16 = bicubic16_c;
    dsp->bilinear = bilinear_c;
    if (!(cpu_flags & AIE_CPU_AVX2))
        return;
    aie_warp_dsp_init_avx2(dsp);
}
