/* AVX2 kernels of dsp/blend.h: the same operations in the same order as the
 * C reference (no FMA), so every result is bit-identical. */
#include <immintrin.h>

#include "dsp/blend.h"

static inline __m256 mc_core(const float *ca, const float *cb, const float *wa, const float *r,
                             __m256 a, __m256 b, __m256 t, __m256 mx)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 w = _mm256_loadu_ps(wa);
    __m256 m = _mm256_add_ps(_mm256_mul_ps(w, _mm256_loadu_ps(ca)),
                             _mm256_mul_ps(_mm256_sub_ps(one, w), _mm256_loadu_ps(cb)));
    __m256 p = _mm256_add_ps(a, _mm256_mul_ps(t, _mm256_sub_ps(b, a)));
    __m256 o = _mm256_add_ps(p, _mm256_mul_ps(_mm256_loadu_ps(r), _mm256_sub_ps(m, p)));
    /* C: o < 0 ? 0 : o > mx ? mx : o (NaN cannot occur) */
    o = _mm256_min_ps(_mm256_max_ps(o, _mm256_setzero_ps()), mx);
    return _mm256_add_ps(o, _mm256_set1_ps(0.5f));
}

static AIE_BLEND_MC8_FN(mc8_avx2)
{
    const __m256 vt = _mm256_set1_ps(t), mx = _mm256_set1_ps(255.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(pa + i))));
        __m256 b = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(pb + i))));
        __m256i q = _mm256_cvttps_epi32(mc_core(ca + i, cb + i, wa + i, r + i, a, b, vt, mx));
        __m128i w16 = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storel_epi64((__m128i *)(void *)(dst + i), _mm_packus_epi16(w16, w16));
    }
    if (i < n)
        aie_blend_mc8_c(dst + i, ca + i, cb + i, wa + i, r + i, pa + i, pb + i, t, n - i);
}

static AIE_BLEND_MC16_FN(mc16_avx2)
{
    const __m256 vt = _mm256_set1_ps(t), mx = _mm256_set1_ps((float)maxv);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(pa + i))));
        __m256 b = _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(pb + i))));
        __m256i q = _mm256_cvttps_epi32(mc_core(ca + i, cb + i, wa + i, r + i, a, b, vt, mx));
        __m128i w16 = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storeu_si128((__m128i *)(void *)(dst + i), w16);
    }
    if (i < n)
        aie_blend_mc16_c(dst + i, ca + i, cb + i, wa + i, r + i, pa + i, pb + i, t, maxv, n - i);
}

static AIE_BLEND_MIX8_FN(mix8_avx2)
{
    const __m256i wb = _mm256_set1_epi16((short)wt), wa = _mm256_set1_epi16((short)(256 - wt));
    const __m256i rnd = _mm256_set1_epi16(128);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i a = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(pa + i)));
        __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(pb + i)));
        /* a * wa + b * wb + 128 <= 255 * 256 + 128 < 2^16: unsigned 16-bit lanes */
        __m256i s = _mm256_add_epi16(_mm256_add_epi16(_mm256_mullo_epi16(a, wa), _mm256_mullo_epi16(b, wb)), rnd);
        s = _mm256_srli_epi16(s, 8);
        __m128i o = _mm_packus_epi16(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        _mm_storeu_si128((__m128i *)(void *)(dst + i), o);
    }
    if (i < n)
        aie_blend_mix8_c(dst + i, pa + i, pb + i, wt, n - i);
}

static AIE_BLEND_MIX16_FN(mix16_avx2)
{
    const __m256i wb = _mm256_set1_epi32(wt), wa = _mm256_set1_epi32(32768 - wt);
    const __m256i rnd = _mm256_set1_epi32(16384);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i a = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(pa + i)));
        __m256i b = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(pb + i)));
        __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(a, wa), _mm256_mullo_epi32(b, wb)), rnd);
        s = _mm256_srli_epi32(s, 15);
        __m128i o = _mm_packus_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        _mm_storeu_si128((__m128i *)(void *)(dst + i), o);
    }
    if (i < n)
        aie_blend_mix16_c(dst + i, pa + i, pb + i, wt, n - i);
}

void aie_blend_dsp_init_avx2(AieBlendDSP *dsp)
{
    dsp->mc8 = mc8_avx2;
    dsp->mc16 = mc16_avx2;
    dsp->mix8 = mix8_avx2;
    dsp->mix16 = mix16_avx2;
}
