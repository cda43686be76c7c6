/* RAISR kernels: AVX-512 filter (bit-exact with raisr.c); the others stay AVX2. */
#include <immintrin.h>
#include <string.h>

#include "dsp/raisr.h"

static inline __m128i load_row8(const int16_t *p) { return _mm_loadu_si128((const __m128i *)(const void *)p); }

static inline __m512i patch4(const int16_t *const *row, int o)
{
    __m512i v = _mm512_castsi128_si512(load_row8(row[0] + o));
    v = _mm512_inserti32x4(v, load_row8(row[1] + o), 1);
    v = _mm512_inserti32x4(v, load_row8(row[2] + o), 2);
    return _mm512_inserti32x4(v, load_row8(row[3] + o), 3);
}

static inline __m256i fold(__m512i v)
{
    return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

static AIE_RAISR_FILTER_FN(filter_avx512)
{
    const int h = k / 2, rr = r * r;
    const int16_t *row[8];
    for (int i = 0; i < 8; i++)
        row[i] = src[i < k ? i : k - 1];
    const __m128i first3 = _mm_setr_epi16(0, 0, 0, -1, -1, -1, -1, -1);
    const __m128i rnd = _mm_set1_epi32(1 << 13);
    for (int cx = 0; cx < ncell; cx++) {
        const int o = cx - h;
        const __m512i p0 = patch4(row, o), p1 = patch4(row + 4, o);
        __m128i g0 = load_row8(src[h - 1] + cx - 1), g1 = load_row8(src[h] + cx - 1), g2 = load_row8(src[h + 1] + cx - 1);
        __m128i mn = _mm_or_si128(_mm_min_epi16(_mm_min_epi16(g0, g1), g2), first3);
        __m128i mx = _mm_andnot_si128(first3, _mm_max_epi16(_mm_max_epi16(g0, g1), g2));
        __m128i vlo = _mm_set1_epi32(_mm_cvtsi128_si32(_mm_minpos_epu16(mn)) & 0xffff);
        __m128i vhi = _mm_set1_epi32(0xffff - (_mm_cvtsi128_si32(_mm_minpos_epu16(_mm_xor_si128(mx, _mm_set1_epi16(-1)))) & 0xffff));
        const int16_t *wb = weight + (size_t)bucket[cx] * rr * AIE_RAISR_TAPS;
        int16_t *d0 = dst[0] + cx * r;
        for (int ph = 0; ph < rr; ph += 4) {
            __m256i acc[4];
            for (int j = 0; j < 4; j++) {
                if (ph + j >= rr) {
                    acc[j] = _mm256_setzero_si256();
                    continue;
                }
                const __m512i *wp = (const __m512i *)(const void *)(wb + (ph + j) * AIE_RAISR_TAPS);
                acc[j] = fold(_mm512_add_epi32(_mm512_madd_epi16(p0, _mm512_loadu_si512(wp)),
                                               _mm512_madd_epi16(p1, _mm512_loadu_si512(wp + 1))));
            }
            __m256i hs = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
            __m128i s = _mm_add_epi32(_mm256_castsi256_si128(hs), _mm256_extracti128_si256(hs, 1));
            s = _mm_srai_epi32(_mm_add_epi32(s, rnd), 14);
            s = _mm_min_epi32(_mm_max_epi32(s, vlo), vhi);
            __m128i p = _mm_packs_epi32(s, s);
            if (r == 2) { /* phases 0,1 -> row 0, phases 2,3 -> row 1 */
                int32_t a = _mm_cvtsi128_si32(p), b = _mm_extract_epi32(p, 1);
                memcpy(d0, &a, 4);
                memcpy(dst[1] + cx * r, &b, 4);
            } else {
                int16_t out[8];
                _mm_storeu_si128((__m128i *)(void *)out, p);
                int n = rr - ph < 4 ? rr - ph : 4;
                for (int j = 0; j < n; j++)
                    dst[(ph + j) / r][cx * r + (ph + j) % r] = out[j];
            }
        }
    }
}

void aie_raisr_dsp_init_avx512(AieRaisrDSP *dsp)
{
    dsp->filter = filter_avx512;
}
