/* C references of the blending kernels (dsp/blend.h). */
#include "aie/cpu.h"
#include "dsp/blend.h"

AIE_BLEND_MC8_FN(aie_blend_mc8_c)
{
    for (int i = 0; i < n; i++) {
        float m = wa[i] * ca[i] + (1.0f - wa[i]) * cb[i];
        float a = (float)pa[i];
        float p = a + t * ((float)pb[i] - a);
        float o = p + r[i] * (m - p);
        o = o < 0.0f ? 0.0f : o > 255.0f ? 255.0f : o;
        dst[i] = (uint8_t)(int)(o + 0.5f);
    }
}

AIE_BLEND_MC16_FN(aie_blend_mc16_c)
{
    const float mx = (float)maxv;
    for (int i = 0; i < n; i++) {
        float m = wa[i] * ca[i] + (1.0f - wa[i]) * cb[i];
        float a = (float)pa[i];
        float p = a + t * ((float)pb[i] - a);
        float o = p + r[i] * (m - p);
        o = o < 0.0f ? 0.0f : o > mx ? mx : o;
        dst[i] = (uint16_t)(int)(o + 0.5f);
    }
}

AIE_BLEND_MIX8_FN(aie_blend_mix8_c)
{
    const unsigned wb = (unsigned)wt, wa = 256u - wb;
    for (int i = 0; i < n; i++)
        dst[i] = (uint8_t)((pa[i] * wa + pb[i] * wb + 128u) >> 8);
}

AIE_BLEND_MIX16_FN(aie_blend_mix16_c)
{
    const unsigned wb = (unsigned)wt, wa = 32768u - wb;
    for (int i = 0; i < n; i++)
        dst[i] = (uint16_t)((pa[i] * wa + pb[i] * wb + 16384u) >> 15);
}

void aie_blend_dsp_init(AieBlendDSP *dsp, unsigned cpu_flags)
{
    dsp->mc8 = aie_blend_mc8_c;
    dsp->mc16 = aie_blend_mc16_c;
    dsp->mix8 = aie_blend_mix8_c;
    dsp->mix16 = aie_blend_mix16_c;
#if defined(__x86_64__) || defined(__i386__)
    if (!(cpu_flags & AIE_CPU_AVX2))
        return;
    aie_blend_dsp_init_avx2(dsp);
    if (!(cpu_flags & AIE_CPU_AVX512))
        return;
    aie_blend_dsp_init_avx512(dsp);
#else
    (void)cpu_flags;
#endif
}
