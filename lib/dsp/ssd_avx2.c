#include <immintrin.h>

#include "dsp/ssd.h"

static uint64_t hsum64(__m256i v)
{
    __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return (uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_extract_epi64(s, 1);
}

static AIE_SSD8_FN(ssd8_avx2)
{
    __m256i acc64 = _mm256_setzero_si256();
    int x = 0;
    while (x + 16 <= w) {
        /* up to 2048 samples per int32 round: 1024 madd pairs * 2 * 65025 < 2^31 */
        __m256i acc = _mm256_setzero_si256();
        int end = x + 2048 < w ? x + 2048 : w;
        for (; x + 16 <= end; x += 16) {
            __m256i va = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(a + x)));
            __m256i vb = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(b + x)));
            __m256i d = _mm256_sub_epi16(va, vb);
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(d, d));
        }
        acc64 = _mm256_add_epi64(acc64, _mm256_cvtepu32_epi64(_mm256_castsi256_si128(acc)));
        acc64 = _mm256_add_epi64(acc64, _mm256_cvtepu32_epi64(_mm256_extracti128_si256(acc, 1)));
    }
    uint64_t s = hsum64(acc64);
    for (; x < w; x++) {
        int d = a[x] - b[x];
        s += (uint64_t)(d * d);
    }
    return s;
}

static AIE_SSD16_FN(ssd16_avx2)
{
    __m256i acc = _mm256_setzero_si256();
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        __m256i va = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(a + x)));
        __m256i vb = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(b + x)));
        __m256i d = _mm256_sub_epi32(va, vb);
        /* squares of the even and odd int32 lanes as 64-bit products */
        acc = _mm256_add_epi64(acc, _mm256_mul_epi32(d, d));
        __m256i o = _mm256_srli_epi64(d, 32);
        acc = _mm256_add_epi64(acc, _mm256_mul_epi32(o, o));
    }
    uint64_t s = hsum64(acc);
    for (; x < w; x++) {
        int64_t d = (int64_t)a[x] - b[x];
        s += (uint64_t)(d * d);
    }
    return s;
}

void aie_ssd_dsp_init_avx2(AieSsdDSP *dsp)
{
    dsp->ssd8 = ssd8_avx2;
    dsp->ssd16 = ssd16_avx2;
}
