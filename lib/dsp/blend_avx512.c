/* AVX-512 (F/BW/DQ/VL) kernels of dsp/blend.h: the motion-compensated blend
 * of 8-bit samples on 16 lanes, the C reference's operations in its order
 * (no FMA), so bit-identical; it measured faster than the AVX2 version
 * (checkasm --bench). */
#include <immintrin.h>

#include "dsp/blend.h"

static AIE_BLEND_MC8_FN(mc8_avx512)
{
    const __m512 vt = _mm512_set1_ps(t), mx = _mm512_set1_ps(255.0f), one = _mm512_set1_ps(1.0f);
    const __m512 half = _mm512_set1_ps(0.5f);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 a = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, pa + i)));
        __m512 b = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, pb + i)));
        __m512 w = _mm512_maskz_loadu_ps(m, wa + i);
        __m512 mc = _mm512_add_ps(_mm512_mul_ps(w, _mm512_maskz_loadu_ps(m, ca + i)),
                                  _mm512_mul_ps(_mm512_sub_ps(one, w), _mm512_maskz_loadu_ps(m, cb + i)));
        __m512 p = _mm512_add_ps(a, _mm512_mul_ps(vt, _mm512_sub_ps(b, a)));
        __m512 o = _mm512_add_ps(p, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, r + i), _mm512_sub_ps(mc, p)));
        /* C: o < 0 ? 0 : o > 255 ? 255 : o (NaN cannot occur), then + 0.5, truncated */
        o = _mm512_min_ps(_mm512_max_ps(o, _mm512_setzero_ps()), mx);
        __m512i q = _mm512_cvttps_epi32(_mm512_add_ps(o, half));
        _mm_mask_storeu_epi8(dst + i, m, _mm512_cvtepi32_epi8(q));
    }
}

void aie_blend_dsp_init_avx512(AieBlendDSP *dsp)
{
    dsp->mc8 = mc8_avx512;
}
