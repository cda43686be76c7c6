/* AVX2 patch-synthesis kernels (dsp/patch.h); equal to the C references. */
#include <immintrin.h>

#include "dsp/patch.h"

static AIE_PATCH_DIST_FN(dist_avx2)
{
    const __m128i w8 = _mm_loadu_si128((const __m128i *)w);
    const __m256i w16 = _mm256_broadcastsi128_si256(w8);
    __m256i acc = _mm256_setzero_si256();
    const int pairs = size / 2, odd = size & 1;
    for (int y = 0; y < size; y++) {
        const uint8_t *ra = a + y * as, *rb = b + y * bs;
        for (int i = 0; i < pairs; i++) {
            __m256i va = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(ra + 16 * i)));
            __m256i vb = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(rb + 16 * i)));
            __m256i d = _mm256_sub_epi16(va, vb);
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(d, _mm256_mullo_epi16(d, w16)));
        }
        if (odd) {
            __m128i va = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(ra + 16 * pairs)));
            __m128i vb = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(rb + 16 * pairs)));
            __m128i d = _mm_sub_epi16(va, vb);
            acc = _mm256_add_epi32(acc, _mm256_castsi128_si256(_mm_madd_epi16(d, _mm_mullo_epi16(d, w8))));
        }
    }
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return (uint32_t)_mm_cvtsi128_si32(s);
}

#define PROP_NAME prop_avx2
#define PROP_DIST dist_avx2
#include "dsp/patch_prop.h"

static AIE_PATCH_VOTE_FN(vote_avx2)
{
    const __m256i mask = _mm256_set1_epi32(0xffff);
    const __m256i vs = _mm256_set1_epi32((int)stride), v4 = _mm256_set1_epi32(4);
    const __m256i vo = _mm256_set1_epi32((int)(oy * stride + ox * 4));
    const uint8_t *base = style;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(nnf + i));
        __m256i qx = _mm256_and_si256(q, mask), qy = _mm256_srli_epi32(q, 16);
        __m256i off = _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(qy, vs), _mm256_mullo_epi32(qx, v4)), vo);
        __m256i px = _mm256_i32gather_epi32((const int *)base, off, 1);
        __m256i lo = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(px));
        __m256i hi = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(px, 1));
        __m256i *a = (__m256i *)(acc + 4 * i);
        _mm256_storeu_si256(a, _mm256_add_epi16(_mm256_loadu_si256(a), lo));
        _mm256_storeu_si256(a + 1, _mm256_add_epi16(_mm256_loadu_si256(a + 1), hi));
    }
    for (; i < n; i++) {
        const uint8_t *p = style + (ptrdiff_t)(AIE_PATCH_Y(nnf[i]) + oy) * stride + (ptrdiff_t)(AIE_PATCH_X(nnf[i]) + ox) * 4;
        for (int c = 0; c < 4; c++)
            acc[4 * i + c] = (uint16_t)(acc[4 * i + c] + p[c]);
    }
}

void aie_patch_dsp_init_avx2(AiePatchDSP *dsp)
{
    dsp->dist = dist_avx2;
    dsp->prop = prop_avx2;
    dsp->vote = vote_avx2;
}
