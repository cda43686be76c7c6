/*
 * AVX-512 (F/BW/DQ/VL) resampling kernels; bit-exact with the C references.
 * Same schemes as resample_avx2.c on 512-bit vectors, with masked loads and
 * stores for the tails; the 16-bit horizontal kernel picks its tap pairs from
 * a 32-word window with vpermw. hscale8_dn / hpair8_dn (periodic downscales)
 * split the row into phase rows of zero-extended sample pairs so every tap
 * pair is a valignd of aligned loads. Each kernel here measured faster than
 * its AVX2 version (checkasm --bench), so the ladder keeps all of them.
 */
#include <immintrin.h>
#include <string.h>

#include "dsp/resample.h"

static inline __m512i bcast_pair(const int16_t *c)
{
    int32_t v;
    memcpy(&v, c, sizeof(v));
    return _mm512_set1_epi32(v);
}

static inline __m512i dword_offsets(void)
{
    return _mm512_setr_epi32(0, 0x00040004, 0x00080008, 0x000c000c, 0, 0x00040004, 0x00080008,
                             0x000c000c, 0, 0x00040004, 0x00080008, 0x000c000c, 0, 0x00040004,
                             0x00080008, 0x000c000c);
}

static inline __m512i load4x128(const uint8_t *a, const uint8_t *b, const uint8_t *c,
                                const uint8_t *d)
{
    __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)a));
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)b), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)c), 2);
    return _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)d), 3);
}

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* int32 sums of 16 outputs i..i+15. Four ways to get the tap pairs, fastest
 * first: all 16 windows in one 16-byte block (upscales; one broadcast load),
 * each lane's 4 windows in its own block, all windows starting within 31
 * samples (downscales up to 2x: one vpermw of 32 zero-extended samples per
 * pair), or gathers (large downscales). */
ALWAYS_INLINE __m512i h8_group(const uint8_t *src, const int32_t *pos, const int16_t *coef,
                               ptrdiff_t stride, int taps, int i, __m512i init)
{
    const __m512i p = _mm512_loadu_si512(pos + i);
    const int npairs = taps >> 1;
    __m512i acc = init;
    if (taps <= 16) {
        const __m512i lim = _mm512_set1_epi32(16 - taps);
        __m512i d = _mm512_sub_epi32(p, _mm512_set1_epi32(pos[i]));
        __m512i data;
        if (!_mm512_cmpgt_epu32_mask(d, lim)) {
            data = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(src + pos[i])));
        } else {
            d = _mm512_sub_epi32(p, _mm512_shuffle_epi32(p, 0));
            if (_mm512_cmpgt_epu32_mask(d, lim))
                goto gather;
            data = load4x128(src + pos[i], src + pos[i + 4], src + pos[i + 8], src + pos[i + 12]);
        }
        /* bytes d, 0x80, d + 1, 0x80: the zero-extended pair at d */
        const __m512i idx = _mm512_add_epi32(_mm512_or_si512(d, _mm512_slli_epi32(d, 16)),
                                             _mm512_set1_epi32((int32_t)0x80018000u));
        #pragma GCC unroll 16
        for (int m = 0; m < npairs; m++) {
            const __m512i c = _mm512_loadu_si512(coef + 2 * (m * stride + i));
            const __m512i im = _mm512_add_epi32(idx, _mm512_set1_epi32(0x00020002 * m));
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_shuffle_epi8(data, im), c));
        }
        return acc;
    }
gather:;
    const __m512i d = _mm512_sub_epi32(p, _mm512_set1_epi32(pos[i]));
    if (!_mm512_cmpgt_epu32_mask(d, _mm512_set1_epi32(30))) {
        /* all 16 windows start within 31 samples: words d, d + 1 of the 32
         * samples from pos[i] + 2m, zero-extended */
        const __m512i idx = _mm512_add_epi32(_mm512_or_si512(d, _mm512_slli_epi32(d, 16)),
                                             _mm512_set1_epi32(0x00010000));
        #pragma GCC unroll 16
        for (int m = 0; m < npairs; m++) {
            const __m512i x = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(src + pos[i] + 2 * m)));
            const __m512i c = _mm512_loadu_si512(coef + 2 * (m * stride + i));
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_permutexvar_epi16(idx, x), c));
        }
        return acc;
    }
    const __m512i lo = _mm512_add_epi32(_mm512_set1_epi32((int32_t)0x80018000u), dword_offsets());
    const __m512i hi = _mm512_add_epi32(_mm512_set1_epi32((int32_t)0x80038002u), dword_offsets());
    #pragma GCC unroll 16
    for (int m = 0; m < npairs; m += 2) {
        const __m512i g = _mm512_i32gather_epi32(p, (const void *)(src + 2 * m), 1);
        const __m512i c0 = _mm512_loadu_si512(coef + 2 * (m * stride + i));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_shuffle_epi8(g, lo), c0));
        if (m + 1 < npairs) {
            const __m512i c1 = _mm512_loadu_si512(coef + 2 * ((m + 1) * stride + i));
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_shuffle_epi8(g, hi), c1));
        }
    }
    return acc;
}

ALWAYS_INLINE void h8_row(int16_t *dst, const uint8_t *src, const int32_t *pos,
                          const int16_t *coef, ptrdiff_t stride, int taps, int w)
{
    const __m512i init = _mm512_set1_epi32(1 << 7);
    const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
    for (int i = 0; i < w; i += 32) {
        __m512i a = _mm512_srai_epi32(h8_group(src, pos, coef, stride, taps, i, init), 8);
        __m512i b = _mm512_srai_epi32(h8_group(src, pos, coef, stride, taps, i + 16, init), 8);
        __m512i r = _mm512_permutexvar_epi64(order, _mm512_packs_epi32(a, b));
        if (w - i >= 32)
            _mm512_storeu_si512(dst + i, r);
        else
            _mm512_mask_storeu_epi16(dst + i, (__mmask32)((1u << (w - i)) - 1), r);
    }
}

static AIE_HSCALE8_FN(hscale8_avx512)
{
    switch (taps) { /* constant tap counts unroll the pair loop */
    case 2: h8_row(dst, src, pos, coef, stride, 2, w); break;
    case 4: h8_row(dst, src, pos, coef, stride, 4, w); break;
    case 6: h8_row(dst, src, pos, coef, stride, 6, w); break;
    case 8: h8_row(dst, src, pos, coef, stride, 8, w); break;
    case 10: h8_row(dst, src, pos, coef, stride, 10, w); break;
    case 12: h8_row(dst, src, pos, coef, stride, 12, w); break;
    default: h8_row(dst, src, pos, coef, stride, taps, w); break;
    }
}

/* Two rows of any table into their pair row: hscale8 into chunks of two
 * rows on the stack, then pair16. */
static AIE_PAIR16_FN(pair16_avx512);

static AIE_HPAIR8_FN(hpair8_avx512)
{
    enum { CH = 256 }; /* a multiple of AIE_RESAMPLE_ALIGN */
    int16_t a[CH] __attribute__((aligned(64))), b[CH] __attribute__((aligned(64)));
    for (int i = 0; i < w; i += CH) {
        const int n = w - i < CH ? w - i : CH;
        hscale8_avx512(a, src_a, pos + i, coef + 2 * i, stride, taps, n);
        hscale8_avx512(b, src_b, pos + i, coef + 2 * i, stride, taps, n);
        pair16_avx512(dst + 2 * i, a, b, n);
    }
}

/* 2x upscale, 64 outputs (32 source steps) per block. Phase p of step j reads
 * src[j + dp + k]; X[t] holds src[j0 + t ..] zero-extended, so the dword view
 * of X[dp + 2m] is the tap pair m of the even steps and X[dp + 1 + 2m] that of
 * the odd steps: no shuffles before the pmaddwd. */
ALWAYS_INLINE void x2_row(int16_t *dst, const uint8_t *src, const __m512i *c0, const __m512i *c1,
                          int taps, int d0, int d1, int w)
{
    const __m512i rnd = _mm512_set1_epi32(1 << 7);
    const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
    const __m512i hi = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
    const int nx = (d0 > d1 ? d0 : d1) + taps;
    for (int j0 = 0; 2 * j0 < w; j0 += 32) {
        __m512i x[10];
        #pragma GCC unroll 16
        for (int t = 0; t < nx; t++)
            x[t] = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(src + j0 + t)));
        __m512i a0 = rnd, a1 = rnd, b0 = rnd, b1 = rnd;
        #pragma GCC unroll 16
        for (int m = 0; m < taps / 2; m++) {
            a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(x[d0 + 2 * m], c0[m]));
            b0 = _mm512_add_epi32(b0, _mm512_madd_epi16(x[d0 + 1 + 2 * m], c0[m]));
            a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(x[d1 + 2 * m], c1[m]));
            b1 = _mm512_add_epi32(b1, _mm512_madd_epi16(x[d1 + 1 + 2 * m], c1[m]));
        }
        a0 = _mm512_srai_epi32(a0, 8);
        a1 = _mm512_srai_epi32(a1, 8);
        b0 = _mm512_srai_epi32(b0, 8);
        b1 = _mm512_srai_epi32(b1, 8);
        /* even steps (phase 0, 1 interleaved), then odd steps, then merged */
        const __m512i e = _mm512_packs_epi32(_mm512_unpacklo_epi32(a0, a1), _mm512_unpackhi_epi32(a0, a1));
        const __m512i o = _mm512_packs_epi32(_mm512_unpacklo_epi32(b0, b1), _mm512_unpackhi_epi32(b0, b1));
        const __m512i r1 = _mm512_unpacklo_epi32(e, o), r2 = _mm512_unpackhi_epi32(e, o);
        const __m512i out0 = _mm512_permutex2var_epi64(r1, lo, r2);
        const __m512i out1 = _mm512_permutex2var_epi64(r1, hi, r2);
        const int n = w - 2 * j0;
        int16_t *o16 = dst + 2 * j0;
        if (n >= 64) {
            _mm512_storeu_si512(o16, out0);
            _mm512_storeu_si512(o16 + 32, out1);
        } else {
            _mm512_mask_storeu_epi16(o16, n >= 32 ? ~(__mmask32)0 : (__mmask32)((1u << n) - 1), out0);
            if (n > 32)
                _mm512_mask_storeu_epi16(o16 + 32, (__mmask32)((1u << (n - 32)) - 1), out1);
        }
    }
}

static AIE_HSCALE8_FN(hscale8_x2_avx512)
{
    if (w < 2 || taps > 8) {
        hscale8_avx512(dst, src, pos, coef, stride, taps, w);
        return;
    }
    const int base = pos[0] < pos[1] ? pos[0] : pos[1];
    const int d0 = pos[0] - base, d1 = pos[1] - base;
    __m512i c0[4], c1[4];
    #pragma GCC unroll 16
    for (int m = 0; m < 4; m++) {
        c0[m] = m < taps / 2 ? bcast_pair(coef + 2 * (m * stride)) : _mm512_setzero_si512();
        c1[m] = m < taps / 2 ? bcast_pair(coef + 2 * (m * stride + 1)) : _mm512_setzero_si512();
    }
    src += base;
#define X2_CASE(t, a, b)                                                                       \
    case (t) * 4 + (a) * 2 + (b): x2_row(dst, src, c0, c1, t, a, b, w); break;
    switch (taps * 4 + d0 * 2 + d1) {
        X2_CASE(2, 0, 0) X2_CASE(2, 0, 1) X2_CASE(2, 1, 0)
        X2_CASE(4, 0, 0) X2_CASE(4, 0, 1) X2_CASE(4, 1, 0)
        X2_CASE(6, 0, 0) X2_CASE(6, 0, 1) X2_CASE(6, 1, 0)
        X2_CASE(8, 0, 0) X2_CASE(8, 0, 1) X2_CASE(8, 1, 0)
    }
#undef X2_CASE
}

/* Integer-factor downscale (period-1 table), q = 2, 3 or 4: output j reads
 * src[q * j + k]. The row is split, one chunk of outputs at a time, into
 * phase rows of zero-extended sample pairs
 *   E_r[t] = (src[q * t + r], src[q * t + r + 1]),  r < q (even r for even q),
 * so tap pair m of the 16 outputs j.. is E_r[j + k ..] with 2m = q * k + r:
 * one valignd of two aligned loads (cheaper here than loads that split cache
 * lines, or than zero-extending or shuffling per pair), one pmaddwd, one add.
 * The phase rows cost one zero-extension (q = 2), one load and a shuffle per
 * phase (q = 4) or two zero-extensions and a two-source vpermw per phase
 * (q = 3) per 16 outputs. */
/* valignd with the shift as a literal in every case, so compilers that do not
 * fold an inlined argument into the immediate (clang) still build it; in the
 * unrolled loops below k is a constant and the switch disappears. */
ALWAYS_INLINE __m512i alignr32(__m512i hi, __m512i lo, int k)
{
    switch (k) {
    case 1: return _mm512_alignr_epi32(hi, lo, 1);
    case 2: return _mm512_alignr_epi32(hi, lo, 2);
    case 3: return _mm512_alignr_epi32(hi, lo, 3);
    case 4: return _mm512_alignr_epi32(hi, lo, 4);
    case 5: return _mm512_alignr_epi32(hi, lo, 5);
    case 6: return _mm512_alignr_epi32(hi, lo, 6);
    case 7: return _mm512_alignr_epi32(hi, lo, 7);
    case 8: return _mm512_alignr_epi32(hi, lo, 8);
    case 9: return _mm512_alignr_epi32(hi, lo, 9);
    case 10: return _mm512_alignr_epi32(hi, lo, 10);
    case 11: return _mm512_alignr_epi32(hi, lo, 11);
    case 12: return _mm512_alignr_epi32(hi, lo, 12);
    case 13: return _mm512_alignr_epi32(hi, lo, 13);
    case 14: return _mm512_alignr_epi32(hi, lo, 14);
    case 15: return _mm512_alignr_epi32(hi, lo, 15);
    default: return lo;
    }
}

enum { DN_CHUNK = 256, DN_ES = DN_CHUNK + 32 }; /* outputs per chunk (a multiple of 32), phase row stride */

ALWAYS_INLINE __m512i dn_group(const int32_t *e, const __m512i *c, int npairs, int q)
{
    __m512i a0[4], a1[4];
    #pragma GCC unroll 4
    for (int r = 0; r < 4; r++) {
        const int used = r < q && (q == 3 || !(r & 1)) && r <= 2 * (npairs - 1);
        a0[r] = used ? _mm512_load_si512(e + r * DN_ES) : _mm512_setzero_si512();
        a1[r] = used ? _mm512_load_si512(e + r * DN_ES + 16) : _mm512_setzero_si512();
    }
    __m512i acc = _mm512_set1_epi32(1 << 7);
    #pragma GCC unroll 16
    for (int m = 0; m < npairs; m++) {
        const int r = 2 * m % q, k = 2 * m / q;
        const __m512i x = alignr32(a1[r], a0[r], k);
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, c[m]));
    }
    return _mm512_srai_epi32(acc, 8);
}

/* Phase rows of the outputs [0, nv + 16) of one chunk from s; lim: bytes of
 * s that may be read (the rest reads as zero). */
ALWAYS_INLINE void dn_fill(int32_t *e, const uint8_t *s, int q, int nv, ptrdiff_t lim)
{
    const __m512i even = _mm512_add_epi32(_mm512_set1_epi32((int32_t)0x80018000u), dword_offsets());
    const __m512i odd = _mm512_add_epi32(_mm512_set1_epi32((int32_t)0x80038002u), dword_offsets());
    /* q = 3: words 3t + r, 3t + r + 1 of 64 zero-extended bytes */
    const __m512i three = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32(3 * 0x00010001));
    for (int t = 0; t < nv + 16; t += 16) {
        const uint8_t *p = s + (ptrdiff_t)q * t;
        const ptrdiff_t k = lim - (ptrdiff_t)q * t; /* bytes left */
        if (q == 2) {
            const __m256i v = k >= 32 ? _mm256_loadu_si256((const __m256i *)p)
                                      : _mm256_maskz_loadu_epi8(k <= 0 ? 0 : (__mmask32)((1ull << k) - 1), p);
            _mm512_store_si512(e + t, _mm512_cvtepu8_epi16(v));
            continue;
        }
        const __m512i v = k >= 64 ? _mm512_loadu_si512(p)
                                  : _mm512_maskz_loadu_epi8(k <= 0 ? 0 : ((__mmask64)1 << k) - 1, p);
        if (q == 4) {
            _mm512_store_si512(e + t, _mm512_shuffle_epi8(v, even));
            _mm512_store_si512(e + 2 * DN_ES + t, _mm512_shuffle_epi8(v, odd));
        } else {
            const __m512i z0 = _mm512_cvtepu8_epi16(_mm512_castsi512_si256(v));
            const __m512i z1 = _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(v, 1));
            #pragma GCC unroll 3
            for (int r = 0; r < 3; r++) {
                const __m512i idx = _mm512_add_epi32(three, _mm512_set1_epi32(0x00010000 + r * 0x00010001));
                _mm512_store_si512(e + r * DN_ES + t, _mm512_permutex2var_epi16(z0, idx, z1));
            }
        }
    }
}

/* One row (pair 0: dst[j] = I_a[j]) or the pair row of two (pair 1: dst[2j]
 * = I_a[j], dst[2j + 1] = I_b[j]); lim: bytes of each source that may be read. */
ALWAYS_INLINE void dn_rows(int16_t *dst, const uint8_t *sa, const uint8_t *sb, const __m512i *c,
                           int npairs, int q, int w, ptrdiff_t lim, int pair)
{
    int32_t e[2][3 * DN_ES] __attribute__((aligned(64)));
    const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
    /* per 128-bit lane, words a0..a3 b0..b3 -> a0 b0 a1 b1 a2 b2 a3 b3 */
    const __m512i inter = _mm512_broadcast_i32x4(
        _mm_setr_epi8(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15));
    for (int c0 = 0; c0 < w; c0 += DN_CHUNK) {
        const int n = w - c0 < DN_CHUNK ? w - c0 : DN_CHUNK;
        const ptrdiff_t o = (ptrdiff_t)q * c0;
        if (!pair) {
            const int nv = (n + 31) & ~31;
            dn_fill(e[0], sa + o, q, nv, lim - o);
            for (int j = 0; j < nv; j += 32) {
                const __m512i a = dn_group(e[0] + j, c, npairs, q);
                const __m512i b = dn_group(e[0] + j + 16, c, npairs, q);
                const __m512i r = _mm512_permutexvar_epi64(order, _mm512_packs_epi32(a, b));
                if (n - j >= 32)
                    _mm512_storeu_si512(dst + c0 + j, r);
                else
                    _mm512_mask_storeu_epi16(dst + c0 + j, (__mmask32)((1u << (n - j)) - 1), r);
            }
        } else {
            const int nv = (n + 15) & ~15;
            dn_fill(e[0], sa + o, q, nv, lim - o);
            dn_fill(e[1], sb + o, q, nv, lim - o);
            for (int j = 0; j < nv; j += 16) {
                const __m512i a = dn_group(e[0] + j, c, npairs, q), b = dn_group(e[1] + j, c, npairs, q);
                const __m512i r = _mm512_shuffle_epi8(_mm512_packs_epi32(a, b), inter);
                if (n - j >= 16)
                    _mm512_storeu_si512(dst + 2 * (c0 + j), r);
                else
                    _mm512_mask_storeu_epi16(dst + 2 * (c0 + j), (__mmask32)((1u << 2 * (n - j)) - 1), r);
            }
        }
    }
}

/* Period 2 with q = 3 (1.5x): outputs 2j + p read src[3j + d[p] + k]; the
 * phase rows of q = 3 serve both phases (2m + d[p] = 3k + r), and the two
 * phases interleave like the two rows of a pair row. */
ALWAYS_INLINE __m512i d2_group(const int32_t *e, const __m512i *c, int npairs, int d)
{
    __m512i a0[3], a1[3];
    #pragma GCC unroll 3
    for (int r = 0; r < 3; r++) {
        a0[r] = _mm512_load_si512(e + r * DN_ES);
        a1[r] = _mm512_load_si512(e + r * DN_ES + 16);
    }
    __m512i acc = _mm512_set1_epi32(1 << 7);
    #pragma GCC unroll 16
    for (int m = 0; m < npairs; m++) {
        const int r = (2 * m + d) % 3, k = (2 * m + d) / 3;
        const __m512i x = alignr32(a1[r], a0[r], k);
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, c[m]));
    }
    return _mm512_srai_epi32(acc, 8);
}

/* c: npairs vectors of phase 0, then npairs of phase 1; d0, d1: 0..2 */
ALWAYS_INLINE void d2_rows(int16_t *dst, const uint8_t *sa, const uint8_t *sb, const __m512i *c,
                           int npairs, int d0, int d1, int w, ptrdiff_t lim, int pair)
{
    int32_t e[2][3 * DN_ES] __attribute__((aligned(64)));
    const __m512i inter = _mm512_broadcast_i32x4(
        _mm_setr_epi8(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15));
    const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
    const __m512i hi = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
    for (int c0 = 0; c0 < w; c0 += 2 * DN_CHUNK) { /* outputs c0.., steps c0 / 2.. */
        const int n = w - c0 < 2 * DN_CHUNK ? w - c0 : 2 * DN_CHUNK;
        const int nv = ((n + 1) / 2 + 15) & ~15; /* steps computed */
        const ptrdiff_t o = 3 * (ptrdiff_t)(c0 / 2);
        dn_fill(e[0], sa + o, 3, nv, lim - o);
        if (pair)
            dn_fill(e[1], sb + o, 3, nv, lim - o);
        for (int j = 0; j < nv; j += 16) {
            const int left = n - 2 * j; /* outputs left from 2j */
            const __m512i a0 = d2_group(e[0] + j, c, npairs, d0);
            const __m512i a1 = d2_group(e[0] + j, c + npairs, npairs, d1);
            const __m512i ra = _mm512_shuffle_epi8(_mm512_packs_epi32(a0, a1), inter);
            if (!pair) {
                if (left >= 32)
                    _mm512_storeu_si512(dst + c0 + 2 * j, ra);
                else
                    _mm512_mask_storeu_epi16(dst + c0 + 2 * j, (__mmask32)((1u << left) - 1), ra);
                continue;
            }
            const __m512i b0 = d2_group(e[1] + j, c, npairs, d0);
            const __m512i b1 = d2_group(e[1] + j, c + npairs, npairs, d1);
            /* dwords (a0, b0)[j] and (a1, b1)[j], interleaved */
            const __m512i p0 = _mm512_shuffle_epi8(_mm512_packs_epi32(a0, b0), inter);
            const __m512i p1 = _mm512_shuffle_epi8(_mm512_packs_epi32(a1, b1), inter);
            const __m512i l = _mm512_unpacklo_epi32(p0, p1), h = _mm512_unpackhi_epi32(p0, p1);
            const __m512i r0 = _mm512_permutex2var_epi64(l, lo, h), r1 = _mm512_permutex2var_epi64(l, hi, h);
            int16_t *o16 = dst + 2 * (c0 + 2 * j);
            if (left >= 32) {
                _mm512_storeu_si512(o16, r0);
                _mm512_storeu_si512(o16 + 32, r1);
            } else {
                _mm512_mask_storeu_epi16(o16, left >= 16 ? ~(__mmask32)0 : (__mmask32)((1u << 2 * left) - 1), r0);
                if (left > 16)
                    _mm512_mask_storeu_epi16(o16 + 32, (__mmask32)((1u << 2 * (left - 16)) - 1), r1);
            }
        }
    }
}

/* The tables hscale8_dn and hpair8_dn take (see aie_resample_filter_dn()):
 * period 1 with q = 2, 3 or 4, or period 2 with q = 3, at most 32 taps.
 * Returns the period (c[] set; with period 2 *d0, *d1 and the base offset
 * *b), or 0. */
static int dn_setup(__m512i *c, int *q, int *d0, int *d1, int *b, const int32_t *pos,
                    const int16_t *coef, ptrdiff_t stride, int taps, int w)
{
    if (w < 2 || taps > 32)
        return 0;
    int same = 1; /* output 1 has the coefficients of output 0 */
    for (int m = 0; m < taps / 2 && same; m++)
        same = !memcmp(coef + 2 * (m * stride), coef + 2 * (m * stride + 1), 2 * sizeof(*coef));
    if (same && (w < 3 || pos[2] - pos[1] == pos[1] - pos[0])) {
        *q = pos[1] - pos[0];
        if (*q < 2 || *q > 4)
            return 0;
        for (int m = 0; m < taps / 2; m++)
            c[m] = bcast_pair(coef + 2 * (m * stride));
        return 1;
    }
    if (w < 32 || taps > 16 || pos[2] - pos[0] != 3)
        return 0;
    *q = 3;
    *b = pos[0] < pos[1] ? pos[0] : pos[1];
    *d0 = pos[0] - *b;
    *d1 = pos[1] - *b;
    if (*d0 > 2 || *d1 > 2)
        return 0;
    for (int m = 0; m < taps / 2; m++) {
        c[m] = bcast_pair(coef + 2 * (m * stride));
        c[taps / 2 + m] = bcast_pair(coef + 2 * (m * stride + 1));
    }
    return 2;
}

static void d2_any(int16_t *dst, const uint8_t *sa, const uint8_t *sb, const __m512i *c, int d0,
                   int d1, int taps, int w, ptrdiff_t lim)
{
#define D2_D(np, a, b)                                                                         \
    if (sb)                                                                                    \
        d2_rows(dst, sa, sb, c, np, a, b, w, lim, 1);                                          \
    else                                                                                       \
        d2_rows(dst, sa, sb, c, np, a, b, w, lim, 0)
#define D2_CALL(np)                                                                            \
    switch (d0 * 3 + d1) {                                                                     \
    case 0: D2_D(np, 0, 0); break;                                                             \
    case 1: D2_D(np, 0, 1); break;                                                             \
    case 2: D2_D(np, 0, 2); break;                                                             \
    case 3: D2_D(np, 1, 0); break;                                                             \
    default: D2_D(np, 2, 0); break;                                                            \
    }
    switch (taps / 2) {
    case 1: D2_CALL(1); break;
    case 2: D2_CALL(2); break;
    case 3: D2_CALL(3); break;
    case 4: D2_CALL(4); break;
    case 5: D2_CALL(5); break;
    case 6: D2_CALL(6); break;
    case 7: D2_CALL(7); break;
    default: D2_CALL(8); break;
    }
#undef D2_CALL
#undef D2_D
}

/* sb NULL: one row */
static void dn_any(int16_t *dst, const uint8_t *sa, const uint8_t *sb, const __m512i *c, int q,
                   int taps, int w, ptrdiff_t lim)
{
#define DN_Q(np, qq)                                                                           \
    if (sb)                                                                                    \
        dn_rows(dst, sa, sb, c, np, qq, w, lim, 1);                                            \
    else                                                                                       \
        dn_rows(dst, sa, sb, c, np, qq, w, lim, 0)
#define DN_CALL(np)                                                                            \
    if (q == 2) {                                                                              \
        DN_Q(np, 2);                                                                           \
    } else if (q == 3) {                                                                       \
        DN_Q(np, 3);                                                                           \
    } else {                                                                                   \
        DN_Q(np, 4);                                                                           \
    }
    switch (taps / 2) {
    case 1: DN_CALL(1); break;
    case 2: DN_CALL(2); break;
    case 3: DN_CALL(3); break;
    case 4: DN_CALL(4); break;
    case 5: DN_CALL(5); break;
    case 6: DN_CALL(6); break;
    case 7: DN_CALL(7); break;
    case 8: DN_CALL(8); break;
    case 9: DN_CALL(9); break;
    case 10: DN_CALL(10); break;
    case 11: DN_CALL(11); break;
    case 12: DN_CALL(12); break;
    case 13: DN_CALL(13); break;
    case 14: DN_CALL(14); break;
    case 15: DN_CALL(15); break;
    default: DN_CALL(16); break;
    }
#undef DN_CALL
#undef DN_Q
}

static AIE_HSCALE8_FN(hscale8_dn_avx512)
{
    __m512i c[32];
    int q, d0 = 0, d1 = 0, b = 0;
    const int period = dn_setup(c, &q, &d0, &d1, &b, pos, coef, stride, taps, w);
    /* reads stay below src[pos[w - 1] + taps + AIE_RESAMPLE_OVERREAD] */
    if (period == 1)
        dn_any(dst, src + pos[0], NULL, c, q, taps, w, (ptrdiff_t)pos[w - 1] - pos[0] + taps + AIE_RESAMPLE_OVERREAD);
    else if (period == 2)
        d2_any(dst, src + b, NULL, c, d0, d1, taps, w, (ptrdiff_t)pos[w - 1] - b + taps + AIE_RESAMPLE_OVERREAD);
    else
        hscale8_avx512(dst, src, pos, coef, stride, taps, w);
}

static AIE_HPAIR8_FN(hpair8_dn_avx512)
{
    __m512i c[32];
    int q, d0 = 0, d1 = 0, b = 0;
    const int period = dn_setup(c, &q, &d0, &d1, &b, pos, coef, stride, taps, w);
    const ptrdiff_t lim = (ptrdiff_t)pos[w - 1] + taps + AIE_RESAMPLE_OVERREAD;
    if (period == 1)
        dn_any(dst, src_a + pos[0], src_b + pos[0], c, q, taps, w, lim - pos[0]);
    else if (period == 2)
        d2_any(dst, src_a + b, src_b + b, c, d0, d1, taps, w, lim - b);
    else
        hpair8_avx512(dst, src_a, src_b, pos, coef, stride, taps, w);
}

static inline __m512i h16_group(const uint16_t *src, const int32_t *pos, const int16_t *coef,
                                ptrdiff_t stride, int taps, int i, __m512i init)
{
    const __m512i p = _mm512_loadu_si512(pos + i);
    const __m512i d = _mm512_sub_epi32(p, _mm512_set1_epi32(pos[i]));
    const __m512i sign = _mm512_set1_epi32((int32_t)0x80008000u);
    const int npairs = taps >> 1;
    __m512i acc = init;
    if (taps <= 32 && _mm512_cmpgt_epu32_mask(d, _mm512_set1_epi32(32 - taps)) == 0) {
        const __m512i data = _mm512_xor_si512(_mm512_loadu_si512(src + pos[i]), sign);
        /* words d, d + 1 */
        __m512i idx = _mm512_add_epi32(_mm512_or_si512(d, _mm512_slli_epi32(d, 16)),
                                       _mm512_set1_epi32(0x00010000));
        const __m512i two = _mm512_set1_epi32(0x00020002);
        #pragma GCC unroll 16
        for (int m = 0; m < npairs; m++) {
            const __m512i c = _mm512_loadu_si512(coef + 2 * (m * stride + i));
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_permutexvar_epi16(idx, data), c));
            idx = _mm512_add_epi32(idx, two);
        }
        return acc;
    }
    #pragma GCC unroll 16
    for (int m = 0; m < npairs; m++) {
        const __m512i g = _mm512_xor_si512(
            _mm512_i32gather_epi32(p, (const void *)(src + 2 * m), 2), sign);
        const __m512i c = _mm512_loadu_si512(coef + 2 * (m * stride + i));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(g, c));
    }
    return acc;
}

static AIE_HSCALE16_FN(hscale16_avx512)
{
    const int sh = depth - 2;
    const __m512i init = _mm512_set1_epi32((1 << (sh - 1)) + (32768 << AIE_RESAMPLE_HBITS));
    for (int i = 0; i < w; i += 16) {
        __m512i r = _mm512_srai_epi32(h16_group(src, pos, coef, stride, taps, i, init), sh);
        if (w - i >= 16)
            _mm512_storeu_si512(dst + i, r);
        else
            _mm512_mask_storeu_epi32(dst + i, (__mmask16)((1u << (w - i)) - 1), r);
    }
}

static AIE_PAIR16_FN(pair16_avx512)
{
    const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11);
    const __m512i hi = _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15);
    for (int x = 0; x < w; x += 32) {
        const int n = w - x;
        const __mmask32 m = n >= 32 ? ~(__mmask32)0 : (__mmask32)((1u << n) - 1);
        const __m512i va = n >= 32 ? _mm512_loadu_si512(a + x) : _mm512_maskz_loadu_epi16(m, a + x);
        const __m512i vb = n >= 32 ? _mm512_loadu_si512(b + x) : _mm512_maskz_loadu_epi16(m, b + x);
        const __m512i l = _mm512_unpacklo_epi16(va, vb), h = _mm512_unpackhi_epi16(va, vb);
        const __m512i r0 = _mm512_permutex2var_epi64(l, lo, h), r1 = _mm512_permutex2var_epi64(l, hi, h);
        if (n >= 32) {
            _mm512_storeu_si512(dst + 2 * x, r0);
            _mm512_storeu_si512(dst + 2 * x + 32, r1);
        } else {
            _mm512_mask_storeu_epi16(dst + 2 * x, n >= 16 ? ~(__mmask32)0 : (__mmask32)((1u << 2 * n) - 1), r0);
            if (n > 16)
                _mm512_mask_storeu_epi16(dst + 2 * x + 32, (__mmask32)((1u << 2 * (n - 16)) - 1), r1);
        }
    }
}

/* Pixel count n (0..16) of one vector of pair words -> load mask. */
static inline __mmask32 pair_mask(int n)
{
    return n >= 16 ? ~(__mmask32)0 : n <= 0 ? 0 : (__mmask32)((1u << 2 * n) - 1);
}

/* 64 outputs from x (n of them valid): four int32 accumulators of 16 pixels. */
ALWAYS_INLINE __m512i v8_block(const int16_t *const *src, const int16_t *coef, int npairs, int x,
                               int n)
{
    const int sh = AIE_RESAMPLE_VBITS8 + 6;
    const __m512i rnd = _mm512_set1_epi32(1 << (sh - 1));
    __m512i acc[4] = {rnd, rnd, rnd, rnd};
    #pragma GCC unroll 16
    for (int m = 0; m < npairs; m++) {
        const __m512i c = bcast_pair(coef + 2 * m);
        const int16_t *r = src[m] + 2 * x;
        #pragma GCC unroll 16
        for (int q = 0; q < 4; q++) {
            const __m512i v = n >= 64 ? _mm512_loadu_si512(r + 32 * q)
                                      : _mm512_maskz_loadu_epi16(pair_mask(n - 16 * q), r + 32 * q);
            acc[q] = _mm512_add_epi32(acc[q], _mm512_madd_epi16(v, c));
        }
    }
    const __m512i p01 = _mm512_packs_epi32(_mm512_srai_epi32(acc[0], sh), _mm512_srai_epi32(acc[1], sh));
    const __m512i p23 = _mm512_packs_epi32(_mm512_srai_epi32(acc[2], sh), _mm512_srai_epi32(acc[3], sh));
    /* dword 4L + t of the packed bytes holds pixels 16t + 4L .. + 3 */
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_epi32(order, _mm512_packus_epi16(p01, p23));
}

ALWAYS_INLINE void v8_row(uint8_t *dst, const int16_t *const *src, const int16_t *coef,
                          int npairs, int w)
{
    int x = 0;
    for (; x + 64 <= w; x += 64)
        _mm512_storeu_si512(dst + x, v8_block(src, coef, npairs, x, 64));
    if (x < w)
        _mm512_mask_storeu_epi8(dst + x, ((__mmask64)1 << (w - x)) - 1,
                                v8_block(src, coef, npairs, x, w - x));
}

static AIE_VSCALE8_FN(vscale8_avx512)
{
    switch (taps) { /* constant tap counts unroll the pair loop */
    case 2: v8_row(dst, src, coef, 1, w); break;
    case 4: v8_row(dst, src, coef, 2, w); break;
    case 6: v8_row(dst, src, coef, 3, w); break;
    case 8: v8_row(dst, src, coef, 4, w); break;
    case 10: v8_row(dst, src, coef, 5, w); break;
    case 12: v8_row(dst, src, coef, 6, w); break;
    default: v8_row(dst, src, coef, taps / 2, w); break;
    }
}

static AIE_VSCALE16_FN(vscale16_avx512)
{
    const int sh = AIE_RESAMPLE_VBITS16 + 16 - depth;
    const __m512i rnd = _mm512_set1_epi32(1 << (sh - 1));
    const __m512i vmax = _mm512_set1_epi16((int16_t)((1 << depth) - 1));
    const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
    for (int x = 0; x < w; x += 32) {
        const int n = w - x;
        const __mmask16 ma = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
        const __mmask16 mb = n >= 32 ? 0xffff : n <= 16 ? 0 : (__mmask16)((1u << (n - 16)) - 1);
        __m512i a = rnd, b = rnd;
        for (int k = 0; k < taps; k++) {
            const __m512i c = _mm512_set1_epi32(coef[k]);
            a = _mm512_add_epi32(a, _mm512_mullo_epi32(_mm512_maskz_loadu_epi32(ma, src[k] + x), c));
            b = _mm512_add_epi32(b, _mm512_mullo_epi32(_mm512_maskz_loadu_epi32(mb, src[k] + x + 16), c));
        }
        __m512i r = _mm512_packus_epi32(_mm512_srai_epi32(a, sh), _mm512_srai_epi32(b, sh));
        r = _mm512_min_epu16(_mm512_permutexvar_epi64(order, r), vmax);
        if (n >= 32)
            _mm512_storeu_si512(dst + x, r);
        else
            _mm512_mask_storeu_epi16(dst + x, (__mmask32)((1u << n) - 1), r);
    }
}

void aie_resample_dsp_init_avx512(AieResampleDSP *dsp)
{
    dsp->hscale8 = hscale8_avx512;
    dsp->hscale8_x2 = hscale8_x2_avx512;
    dsp->hscale8_dn = hscale8_dn_avx512;
    dsp->hpair8_dn = hpair8_dn_avx512;
    dsp->hscale16 = hscale16_avx512;
    dsp->pair16 = pair16_avx512;
    dsp->vscale8 = vscale8_avx512;
    dsp->vscale16 = vscale16_avx512;
}
