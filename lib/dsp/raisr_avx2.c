/* RAISR kernels: AVX2 (bit-exact with raisr.c). */
#include <immintrin.h>

#include "dsp/raisr.h"
#include "dsp/raisr_angle.h"

static inline __m256i load8x16(const int16_t *p) /* 8 int16 -> 8 int32 */
{
    return _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(const void *)p));
}

/* gradient products at the 8 positions c .. c + 7 */
static inline void products8(__m256i *pxx, __m256i *pxy, __m256i *pyy, const int16_t *up, const int16_t *mid,
                             const int16_t *down, int c)
{
    __m256i gx = _mm256_sub_epi32(_mm256_srai_epi32(load8x16(mid + c + 1), 6), _mm256_srai_epi32(load8x16(mid + c - 1), 6));
    __m256i gy = _mm256_sub_epi32(_mm256_srai_epi32(load8x16(down + c), 6), _mm256_srai_epi32(load8x16(up + c), 6));
    *pxx = _mm256_mullo_epi32(gx, gx);
    *pxy = _mm256_mullo_epi32(gx, gy);
    *pyy = _mm256_mullo_epi32(gy, gy);
}

/* [1 4 6 4 1] over positions x - 2 .. x + 9 held in a (x - 2 ..) and b (x + 6 ..) */
static inline __m256i binomial5(__m256i a, __m256i b)
{
    __m256i t = _mm256_permute2x128_si256(a, b, 0x21);
    __m256i s1 = _mm256_alignr_epi8(t, a, 4), s2 = _mm256_alignr_epi8(t, a, 8), s3 = _mm256_alignr_epi8(t, a, 12);
    __m256i m = _mm256_add_epi32(s1, s3);
    return _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(a, t), _mm256_slli_epi32(m, 2)),
                            _mm256_add_epi32(_mm256_slli_epi32(s2, 2), _mm256_slli_epi32(s2, 1)));
}

static AIE_RAISR_TENSOR_FN(tensor_avx2)
{
    int x = 0;
    if (w >= 8) {
        /* products once per position, the window by lane shifts */
        __m256i axx, axy, ayy;
        products8(&axx, &axy, &ayy, up, mid, down, -2);
        for (; x + 8 <= w; x += 8) {
            __m256i bxx, bxy, byy;
            products8(&bxx, &bxy, &byy, up, mid, down, x + 6);
            _mm256_storeu_si256((__m256i *)(void *)(xx + x), binomial5(axx, bxx));
            _mm256_storeu_si256((__m256i *)(void *)(xy + x), binomial5(axy, bxy));
            _mm256_storeu_si256((__m256i *)(void *)(yy + x), binomial5(ayy, byy));
            axx = bxx;
            axy = bxy;
            ayy = byy;
        }
    }
    if (x < w)
        aie_raisr_tensor_c(xx + x, xy + x, yy + x, up + x, mid + x, down + x, w - x);
}

static inline __m256i vsum5(const int32_t *const *r, int x)
{
#define L(i) _mm256_loadu_si256((const __m256i *)(const void *)(r[i] + x))
    __m256i m = _mm256_add_epi32(L(1), L(3));
    __m256i c = L(2);
    __m256i s = _mm256_add_epi32(L(0), L(4));
#undef L
    s = _mm256_add_epi32(s, _mm256_slli_epi32(m, 2));
    return _mm256_add_epi32(s, _mm256_add_epi32(_mm256_slli_epi32(c, 2), _mm256_slli_epi32(c, 1)));
}

/* 8 buckets from the summed tensor, as int32 */
static inline __m256i classify8(__m256i sxx, __m256i sxy, __m256i syy, const AieRaisrHashParams *hp)
{
    const __m256 zero = _mm256_setzero_ps(), half = _mm256_set1_ps(0.5f);
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 a = _mm256_cvtepi32_ps(_mm256_sub_epi32(sxx, syy));
    __m256 b = _mm256_cvtepi32_ps(_mm256_add_epi32(sxy, sxy));
    __m256 t = _mm256_cvtepi32_ps(_mm256_add_epi32(sxx, syy));
    __m256 sq = _mm256_sqrt_ps(_mm256_add_ps(_mm256_mul_ps(a, a), _mm256_mul_ps(b, b)));
    __m256 l1 = _mm256_mul_ps(_mm256_add_ps(t, sq), half);
    __m256 l2 = _mm256_max_ps(_mm256_mul_ps(_mm256_sub_ps(t, sq), half), zero);
    __m256 r1 = _mm256_sqrt_ps(l1), r2 = _mm256_sqrt_ps(l2);
    __m256 den = _mm256_add_ps(r1, r2);
    __m256 coh = _mm256_and_ps(_mm256_div_ps(_mm256_sub_ps(r1, r2), den), _mm256_cmp_ps(den, zero, _CMP_GT_OQ));
    /* angle */
    __m256 ax = _mm256_and_ps(a, absmask), ay = _mm256_and_ps(b, absmask);
    __m256i sub = _mm256_setzero_si256();
    for (int k = 0; k < 5; k++) {
        __m256 ge = _mm256_cmp_ps(_mm256_mul_ps(ay, _mm256_set1_ps(aie_raisr_cos15[k])),
                                  _mm256_mul_ps(ax, _mm256_set1_ps(aie_raisr_sin15[k])), _CMP_GE_OQ);
        sub = _mm256_sub_epi32(sub, _mm256_castps_si256(ge));
    }
    __m256i apos = _mm256_castps_si256(_mm256_cmp_ps(a, zero, _CMP_GE_OQ));
    __m256i bpos = _mm256_castps_si256(_mm256_cmp_ps(b, zero, _CMP_GE_OQ));
    /* a >= 0: b >= 0 ? 12 + sub : 11 - sub; a < 0: b >= 0 ? 23 - sub : sub */
    __m256i pp = _mm256_add_epi32(sub, _mm256_set1_epi32(12));
    __m256i pn = _mm256_sub_epi32(_mm256_set1_epi32(11), sub);
    __m256i np = _mm256_sub_epi32(_mm256_set1_epi32(23), sub);
    __m256i angle = _mm256_blendv_epi8(_mm256_blendv_epi8(sub, np, bpos), _mm256_blendv_epi8(pn, pp, bpos), apos);
    __m256i s = _mm256_setzero_si256(), c = s;
    for (int i = 0; i < hp->nstrength - 1; i++)
        s = _mm256_sub_epi32(s, _mm256_castps_si256(_mm256_cmp_ps(l1, _mm256_set1_ps(hp->strength_thr[i]), _CMP_GT_OQ)));
    for (int i = 0; i < hp->ncoherence - 1; i++)
        c = _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps(coh, _mm256_set1_ps(hp->coherence_thr[i]), _CMP_GT_OQ)));
    __m256i v = _mm256_add_epi32(_mm256_mullo_epi32(angle, _mm256_set1_epi32(hp->nstrength)), s);
    return _mm256_add_epi32(_mm256_mullo_epi32(v, _mm256_set1_epi32(hp->ncoherence)), c);
}

static AIE_RAISR_CLASSIFY_FN(classify_avx2)
{
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        __m256i b = classify8(vsum5(xx, x), vsum5(xy, x), vsum5(yy, x), hp);
        __m128i p = _mm_packs_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
        _mm_storel_epi64((__m128i *)(void *)(bucket + x), _mm_packus_epi16(p, p));
    }
    if (x < w) { /* the tail through a scratch copy of 8 columns */
        int32_t t[3][5][8] = {{{0}}};
        const int32_t *p[3][5];
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < w - x; j++) {
                t[0][i][j] = xx[i][x + j];
                t[1][i][j] = xy[i][x + j];
                t[2][i][j] = yy[i][x + j];
            }
            for (int q = 0; q < 3; q++)
                p[q][i] = t[q][i];
        }
        uint8_t out[16];
        __m256i b = classify8(vsum5(p[0], 0), vsum5(p[1], 0), vsum5(p[2], 0), hp);
        __m128i pk = _mm_packs_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
        _mm_storeu_si128((__m128i *)(void *)out, _mm_packus_epi16(pk, pk));
        for (int j = 0; j < w - x; j++)
            bucket[x + j] = out[j];
    }
}

static inline __m128i load_row8(const int16_t *p) { return _mm_loadu_si128((const __m128i *)(const void *)p); }

static AIE_RAISR_FILTER_FN(filter_avx2)
{
    const int h = k / 2, rr = r * r;
    const int16_t *row[8];
    for (int i = 0; i < 8; i++)
        row[i] = src[i < k ? i : k - 1];
    const __m128i first3 = _mm_setr_epi16(0, 0, 0, -1, -1, -1, -1, -1);
    const __m256i rnd = _mm256_set1_epi32(1 << 13);
    int prow[16], pcol[16]; /* no divisions in the loop */
    for (int ph = 0; ph < rr; ph++) {
        prow[ph] = ph / r;
        pcol[ph] = ph % r;
    }
    for (int cx = 0; cx < ncell; cx++) {
        const int o = cx - h;
        __m256i p0 = _mm256_inserti128_si256(_mm256_castsi128_si256(load_row8(row[0] + o)), load_row8(row[1] + o), 1);
        __m256i p1 = _mm256_inserti128_si256(_mm256_castsi128_si256(load_row8(row[2] + o)), load_row8(row[3] + o), 1);
        __m256i p2 = _mm256_inserti128_si256(_mm256_castsi128_si256(load_row8(row[4] + o)), load_row8(row[5] + o), 1);
        __m256i p3 = _mm256_inserti128_si256(_mm256_castsi128_si256(load_row8(row[6] + o)), load_row8(row[7] + o), 1);
        /* guard: min and max of the 3x3 cells (samples are >= 0) */
        __m128i g0 = load_row8(src[h - 1] + cx - 1), g1 = load_row8(src[h] + cx - 1), g2 = load_row8(src[h + 1] + cx - 1);
        __m128i mn = _mm_or_si128(_mm_min_epi16(_mm_min_epi16(g0, g1), g2), first3);
        __m128i mx = _mm_andnot_si128(first3, _mm_max_epi16(_mm_max_epi16(g0, g1), g2));
        int lo = _mm_cvtsi128_si32(_mm_minpos_epu16(mn)) & 0xffff;
        int hi = 0xffff - (_mm_cvtsi128_si32(_mm_minpos_epu16(_mm_xor_si128(mx, _mm_set1_epi16(-1)))) & 0xffff);
        /* mx lanes 3..7 are 0 -> 0xffff after the xor: never the minimum unless all are */
        const int m = (hi - lo) >> 2;
        lo = lo - m < 0 ? 0 : lo - m;
        hi = hi + m > 16383 ? 16383 : hi + m;
        const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
        const int16_t *wb = weight + (size_t)bucket[cx] * rr * AIE_RAISR_TAPS;
        for (int ph = 0; ph < rr; ph += 4) {
            __m256i acc[4];
            for (int j = 0; j < 4; j++) {
                if (ph + j >= rr) {
                    acc[j] = _mm256_setzero_si256();
                    continue;
                }
                const __m256i *wp = (const __m256i *)(const void *)(wb + (ph + j) * AIE_RAISR_TAPS);
                __m256i a = _mm256_add_epi32(_mm256_madd_epi16(p0, _mm256_loadu_si256(wp)),
                                             _mm256_madd_epi16(p1, _mm256_loadu_si256(wp + 1)));
                __m256i b = _mm256_add_epi32(_mm256_madd_epi16(p2, _mm256_loadu_si256(wp + 2)),
                                             _mm256_madd_epi16(p3, _mm256_loadu_si256(wp + 3)));
                acc[j] = _mm256_add_epi32(a, b);
            }
            __m256i hs = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
            __m128i s = _mm_add_epi32(_mm256_castsi256_si128(hs), _mm256_extracti128_si256(hs, 1));
            __m256i v = _mm256_srai_epi32(_mm256_add_epi32(_mm256_castsi128_si256(s), rnd), 14);
            v = _mm256_min_epi32(_mm256_max_epi32(v, vlo), vhi);
            int32_t out[8];
            _mm256_storeu_si256((__m256i *)(void *)out, v);
            int n = rr - ph < 4 ? rr - ph : 4;
            for (int j = 0; j < n; j++)
                dst[prow[ph + j]][cx * r + pcol[ph + j]] = (int16_t)out[j];
        }
    }
}

static AIE_RAISR_PACK8_FN(pack8_avx2)
{
    const __m256i rnd = _mm256_set1_epi16(32);
    int x = 0;
    for (; x + 32 <= w; x += 32) {
        __m256i a = _mm256_srai_epi16(_mm256_add_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(src + x)), rnd), 6);
        __m256i b = _mm256_srai_epi16(_mm256_add_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(src + x + 16)), rnd), 6);
        _mm256_storeu_si256((__m256i *)(void *)(dst + x), _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xd8));
    }
    if (x < w)
        aie_raisr_pack8_c(dst + x, src + x, w - x);
}

static AIE_RAISR_PACK16_FN(pack16_avx2)
{
    int x = 0;
    if (depth <= 14) {
        const int sh = 14 - depth, half = sh ? 1 << (sh - 1) : 0, max = (1 << depth) - 1;
        const __m256i vh = _mm256_set1_epi16((int16_t)half), vm = _mm256_set1_epi16((int16_t)max);
        const __m128i cnt = _mm_cvtsi32_si128(sh);
        for (; x + 16 <= w; x += 16) {
            __m256i v = _mm256_add_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(src + x)), vh);
            v = _mm256_min_epu16(_mm256_srl_epi16(v, cnt), vm);
            _mm256_storeu_si256((__m256i *)(void *)(dst + x), v);
        }
    } else {
        const __m128i cnt = _mm_cvtsi32_si128(depth - 14);
        for (; x + 16 <= w; x += 16)
            _mm256_storeu_si256((__m256i *)(void *)(dst + x),
                                _mm256_sll_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(src + x)), cnt));
    }
    if (x < w)
        aie_raisr_pack16_c(dst + x, src + x, w - x, depth);
}

void aie_raisr_dsp_init_avx2(AieRaisrDSP *dsp)
{
    dsp->tensor = tensor_avx2;
    dsp->classify = classify_avx2;
    dsp->filter = filter_avx2;
    dsp->pack8 = pack8_avx2;
    dsp->pack16 = pack16_avx2;
}
