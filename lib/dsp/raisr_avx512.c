/* RAISR kernels: AVX-512 filter (bit-exact with raisr.c); the others stay AVX2.
 *
 * The filter takes cells in chunks of 64: first the guard (min and max of the
 * 3x3 cells) of the whole chunk, 16 cells per vector; then the sums, 16
 * outputs at a time (4 cells of 4 phases at 2x, one cell of 16 phases at 4x;
 * 3x, and the cells left over, one cell at a time) with one transposing
 * reduction of 16 accumulators instead of a horizontal sum per output. */
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

/* sum of (p0 . w[0..31]) + (p1 . w[32..63]) as 16 partial int32 sums */
static inline __m512i dot(__m512i p0, __m512i p1, const int16_t *w)
{
    const __m512i *wp = (const __m512i *)(const void *)w;
    return _mm512_add_epi32(_mm512_madd_epi16(p0, _mm512_loadu_si512(wp)),
                            _mm512_madd_epi16(p1, _mm512_loadu_si512(wp + 1)));
}

/* s[i] = the sum of the 16 lanes of a[i] */
static inline __m512i reduce16(const __m512i *a)
{
    __m512i x[8], y[4], w0, w1;
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++)
        x[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(a[2 * i], a[2 * i + 1]),
                                _mm512_unpackhi_epi32(a[2 * i], a[2 * i + 1]));
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++)
        y[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(x[2 * i], x[2 * i + 1]),
                                _mm512_unpackhi_epi64(x[2 * i], x[2 * i + 1]));
    w0 = _mm512_add_epi32(_mm512_shuffle_i32x4(y[0], y[1], 0x88), _mm512_shuffle_i32x4(y[0], y[1], 0xdd));
    w1 = _mm512_add_epi32(_mm512_shuffle_i32x4(y[2], y[3], 0x88), _mm512_shuffle_i32x4(y[2], y[3], 0xdd));
    return _mm512_add_epi32(_mm512_shuffle_i32x4(w0, w1, 0x88), _mm512_shuffle_i32x4(w0, w1, 0xdd));
}

static inline __m128i reduce4(const __m512i *a)
{
    __m256i f[4];
    for (int j = 0; j < 4; j++)
        f[j] = _mm256_add_epi32(_mm512_castsi512_si256(a[j]), _mm512_extracti64x4_epi64(a[j], 1));
    __m256i hs = _mm256_hadd_epi32(_mm256_hadd_epi32(f[0], f[1]), _mm256_hadd_epi32(f[2], f[3]));
    return _mm_add_epi32(_mm256_castsi256_si128(hs), _mm256_extracti128_si256(hs, 1));
}

static AIE_RAISR_FILTER_FN(filter_avx512)
{
    const int h = k / 2, rr = r * r;
    const int16_t *row[8];
    for (int i = 0; i < 8; i++)
        row[i] = src[i < k ? i : k - 1];
    const __m512i rnd = _mm512_set1_epi32(1 << 13);
    int prow[16], pcol[16]; /* no divisions in the loop */
    for (int ph = 0; ph < rr; ph++) {
        prow[ph] = ph / r;
        pcol[ph] = ph % r;
    }
    /* 2x: outputs c*4 + ph of 4 cells -> row 0 (phases 0, 1) then row 1 (2, 3) */
    const __m512i order2 = _mm512_setr_epi32(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    int32_t lo[64], hi[64];
    for (int c0 = 0; c0 < ncell; c0 += 64) {
        const int n = ncell - c0 < 64 ? ncell - c0 : 64;
        for (int x = 0; x < n; x += 16) {
            __m256i mn = _mm256_set1_epi16(32767), mx = _mm256_set1_epi16(-32768);
            const __mmask16 m = n - x >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - x)) - 1);
            for (int i = h - 1; i <= h + 1; i++)
                for (int j = -1; j <= 1; j++) {
                    __m256i v = _mm256_maskz_loadu_epi16(m, src[i] + c0 + x + j);
                    mn = _mm256_min_epi16(mn, v);
                    mx = _mm256_max_epi16(mx, v);
                }
            const __m256i room = _mm256_srli_epi16(_mm256_sub_epi16(mx, mn), 2);
            mn = _mm256_max_epi16(_mm256_sub_epi16(mn, room), _mm256_setzero_si256());
            mx = _mm256_min_epi16(_mm256_add_epi16(mx, room), _mm256_set1_epi16(16383));
            _mm512_storeu_si512(lo + x, _mm512_cvtepi16_epi32(mn));
            _mm512_storeu_si512(hi + x, _mm512_cvtepi16_epi32(mx));
        }
        int c = 0;
        if (r == 2) {
            for (; c + 4 <= n; c += 4) {
                __m512i acc[16];
#pragma GCC unroll 4
                for (int q = 0; q < 4; q++) {
                    const int cx = c0 + c + q;
                    const __m512i p0 = patch4(row, cx - h), p1 = patch4(row + 4, cx - h);
                    const int16_t *wb = weight + (size_t)bucket[cx] * 4 * AIE_RAISR_TAPS;
#pragma GCC unroll 4
                    for (int ph = 0; ph < 4; ph++)
                        acc[q * 4 + ph] = dot(p0, p1, wb + ph * AIE_RAISR_TAPS);
                }
                __m512i s = _mm512_srai_epi32(_mm512_add_epi32(reduce16(acc), rnd), 14);
                /* each cell's guard for its 4 outputs */
                __m512i vlo = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                                       _mm512_castsi128_si512(load_row8((const int16_t *)(const void *)(lo + c))));
                __m512i vhi = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                                       _mm512_castsi128_si512(load_row8((const int16_t *)(const void *)(hi + c))));
                s = _mm512_min_epi32(_mm512_max_epi32(s, vlo), vhi);
                __m256i o = _mm512_cvtepi32_epi16(_mm512_permutexvar_epi32(order2, s));
                const int cx = c0 + c;
                _mm_storeu_si128((__m128i *)(void *)(dst[0] + cx * 2), _mm256_castsi256_si128(o));
                _mm_storeu_si128((__m128i *)(void *)(dst[1] + cx * 2), _mm256_extracti128_si256(o, 1));
            }
        } else if (r == 4) {
            for (; c < n; c++) {
                const int cx = c0 + c;
                const __m512i p0 = patch4(row, cx - h), p1 = patch4(row + 4, cx - h);
                const int16_t *wb = weight + (size_t)bucket[cx] * 16 * AIE_RAISR_TAPS;
                __m512i acc[16];
#pragma GCC unroll 16
                for (int ph = 0; ph < 16; ph++)
                    acc[ph] = dot(p0, p1, wb + ph * AIE_RAISR_TAPS);
                __m512i s = _mm512_srai_epi32(_mm512_add_epi32(reduce16(acc), rnd), 14);
                s = _mm512_min_epi32(_mm512_max_epi32(s, _mm512_set1_epi32(lo[c])), _mm512_set1_epi32(hi[c]));
                __m256i o = _mm512_cvtepi32_epi16(s);
                __m128i a = _mm256_castsi256_si128(o), b = _mm256_extracti128_si256(o, 1);
                _mm_storel_epi64((__m128i *)(void *)(dst[0] + cx * 4), a);
                _mm_storel_epi64((__m128i *)(void *)(dst[1] + cx * 4), _mm_unpackhi_epi64(a, a));
                _mm_storel_epi64((__m128i *)(void *)(dst[2] + cx * 4), b);
                _mm_storel_epi64((__m128i *)(void *)(dst[3] + cx * 4), _mm_unpackhi_epi64(b, b));
            }
        }
        for (; c < n; c++) { /* 3x, and the cells left over */
            const int cx = c0 + c;
            const __m512i p0 = patch4(row, cx - h), p1 = patch4(row + 4, cx - h);
            const int16_t *wb = weight + (size_t)bucket[cx] * rr * AIE_RAISR_TAPS;
            const __m128i vlo = _mm_set1_epi32(lo[c]), vhi = _mm_set1_epi32(hi[c]);
            for (int ph = 0; ph < rr; ph += 4) {
                __m512i acc[4];
                for (int j = 0; j < 4; j++)
                    acc[j] = ph + j < rr ? dot(p0, p1, wb + (ph + j) * AIE_RAISR_TAPS) : _mm512_setzero_si512();
                __m128i s = _mm_srai_epi32(_mm_add_epi32(reduce4(acc), _mm512_castsi512_si128(rnd)), 14);
                s = _mm_min_epi32(_mm_max_epi32(s, vlo), vhi);
                int32_t out[4];
                _mm_storeu_si128((__m128i *)(void *)out, s);
                int m = rr - ph < 4 ? rr - ph : 4;
                for (int j = 0; j < m; j++)
                    dst[prow[ph + j]][cx * r + pcol[ph + j]] = (int16_t)out[j];
            }
        }
    }
}

void aie_raisr_dsp_init_avx512(AieRaisrDSP *dsp)
{
    dsp->filter = filter_avx512;
}
