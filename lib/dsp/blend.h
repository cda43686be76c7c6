/*
 * Blending kernels of frame synthesis (private to libaie; lib/motion/ is the
 * user).
 *
 * mc8/mc16 (float): the motion-compensated pixel, softened toward the plain
 * blend where the motion is unreliable:
 *   m = wa * ca + (1 - wa) * cb          (the two warped samples)
 *   p = pa + t * (pb - pa)               (the plain blend, same position)
 *   o = p + r * (m - p)
 *   dst = (int)(clamp(o, 0, maxv) + 0.5)
 * evaluated in that order without FMA contraction; the SIMD versions are
 * bit-exact with C (checkasm checks equality).
 *
 * mix8/mix16 (integer, bit-exact): the plain blend with a fixed weight,
 *   mix8:  dst = (pa * (256 - wt) + pb * wt + 128) >> 8,         wt in [0, 256]
 *   mix16: dst = (pa * (32768 - wt) + pb * wt + 16384) >> 15,    wt in [0, 32768]
 * (unsigned 32-bit sums, which cannot overflow for 16-bit samples).
 *
 * Kernels never allocate and write dst[0 .. n - 1] only.
 */
#ifndef AIE_DSP_BLEND_H
#define AIE_DSP_BLEND_H

#include <stddef.h>
#include <stdint.h>

#define AIE_BLEND_MC8_FN(name)                                                                 \
    void name(uint8_t *dst, const float *ca, const float *cb, const float *wa, const float *r, \
              const uint8_t *pa, const uint8_t *pb, float t, int n)
#define AIE_BLEND_MC16_FN(name)                                                                 \
    void name(uint16_t *dst, const float *ca, const float *cb, const float *wa, const float *r, \
              const uint16_t *pa, const uint16_t *pb, float t, int maxv, int n)
#define AIE_BLEND_MIX8_FN(name)                                                                \
    void name(uint8_t *dst, const uint8_t *pa, const uint8_t *pb, int wt, int n)
#define AIE_BLEND_MIX16_FN(name)                                                               \
    void name(uint16_t *dst, const uint16_t *pa, const uint16_t *pb, int wt, int n)

typedef AIE_BLEND_MC8_FN((*AieBlendMc8Fn));
typedef AIE_BLEND_MC16_FN((*AieBlendMc16Fn));
typedef AIE_BLEND_MIX8_FN((*AieBlendMix8Fn));
typedef AIE_BLEND_MIX16_FN((*AieBlendMix16Fn));

typedef struct AieBlendDSP {
    AieBlendMc8Fn mc8;
    AieBlendMc16Fn mc16;
    AieBlendMix8Fn mix8;
    AieBlendMix16Fn mix16;
} AieBlendDSP;

void aie_blend_dsp_init(AieBlendDSP *dsp, unsigned cpu_flags);
/* The C references; the SIMD versions finish their rows' tails with them. */
AIE_BLEND_MC8_FN(aie_blend_mc8_c);
AIE_BLEND_MC16_FN(aie_blend_mc16_c);
AIE_BLEND_MIX8_FN(aie_blend_mix8_c);
AIE_BLEND_MIX16_FN(aie_blend_mix16_c);
void aie_blend_dsp_init_avx2(AieBlendDSP *dsp);
void aie_blend_dsp_init_avx512(AieBlendDSP *dsp);

#endif /* AIE_DSP_BLEND_H */
