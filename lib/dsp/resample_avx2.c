/*
 * AVX2 resampling kernels; bit-exact with the C references in resample.c.
 *
 * Horizontal: one int32 lane per output, one pmaddwd per pair of taps; pshufb
 * builds the zero-extended tap pairs from one 16-byte block when the windows
 * fit (any upscale, mild downscales), otherwise the pairs are gathered.
 * hscale8_x2 (2x upscales) needs no shuffle before the pmaddwd at all: the
 * dword view of the source shifted by one sample is the tap pair of every
 * other output, and the two phases are interleaved once at the end.
 * hscale8_dn (integer-factor downscales, period 1) zero-extends or shuffles
 * the source at q * j + 2m: no per-output offsets; other periodic tables take
 * hscale8.
 * Vertical: pair rows (pair16) meet one pmaddwd per pair of taps; 16-bit uses
 * pmulld on the int32 rows.
 */
#include <immintrin.h>
#include <string.h>

#include "dsp/resample.h"

static inline __m256i bcast_pair(const int16_t *c)
{
    int32_t v;
    memcpy(&v, c, sizeof(v));
    return _mm256_set1_epi32(v);
}

/* byte offset of each dword inside its 128-bit lane, in bytes 0 and 2 */
static inline __m256i dword_offsets(void)
{
    return _mm256_setr_epi32(0, 0x00040004, 0x00080008, 0x000c000c, 0, 0x00040004, 0x00080008,
                             0x000c000c);
}

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* int32 sums of 8 outputs i..i+7. Three ways to get the tap pairs, fastest
 * first: all 8 windows in one 16-byte block (one broadcast load), each lane's
 * 4 windows in its own block, or gathers (large downscales). */
ALWAYS_INLINE __m256i h8_group(const uint8_t *src, const int32_t *pos, const int16_t *coef,
                               ptrdiff_t stride, int taps, int i, __m256i init)
{
    const __m256i p = _mm256_loadu_si256((const __m256i *)(pos + i));
    const int npairs = taps >> 1;
    __m256i acc = init;
    if (taps <= 16) {
        const __m256i lim = _mm256_set1_epi32(16 - taps);
        __m256i d = _mm256_sub_epi32(p, _mm256_set1_epi32(pos[i]));
        __m256i data;
        if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(_mm256_max_epu32(d, lim), lim)) == -1) {
            data = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(src + pos[i])));
        } else {
            d = _mm256_sub_epi32(p, _mm256_shuffle_epi32(p, 0));
            if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(_mm256_max_epu32(d, lim), lim)) != -1)
                goto gather;
            data = _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(src + pos[i]))),
                _mm_loadu_si128((const __m128i *)(src + pos[i + 4])), 1);
        }
        /* bytes d, 0x80, d + 1, 0x80: the zero-extended pair at d */
        const __m256i idx = _mm256_add_epi32(_mm256_or_si256(d, _mm256_slli_epi32(d, 16)),
                                             _mm256_set1_epi32((int32_t)0x80018000u));
        #pragma GCC unroll 16
        for (int m = 0; m < npairs; m++) {
            const __m256i c = _mm256_loadu_si256((const __m256i *)(coef + 2 * (m * stride + i)));
            const __m256i im = _mm256_add_epi32(idx, _mm256_set1_epi32(0x00020002 * m));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_shuffle_epi8(data, im), c));
        }
        return acc;
    }
gather:;
    /* pshufb picks within each 128-bit lane: dword j holds bytes 4j .. 4j + 3 */
    const __m256i lo = _mm256_add_epi32(_mm256_set1_epi32((int32_t)0x80018000u), dword_offsets());
    const __m256i hi = _mm256_add_epi32(_mm256_set1_epi32((int32_t)0x80038002u), dword_offsets());
    #pragma GCC unroll 16
    for (int m = 0; m < npairs; m += 2) {
        const __m256i g = _mm256_i32gather_epi32((const int *)(src + 2 * m), p, 1);
        const __m256i c0 = _mm256_loadu_si256((const __m256i *)(coef + 2 * (m * stride + i)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_shuffle_epi8(g, lo), c0));
        if (m + 1 < npairs) {
            const __m256i c1 =
                _mm256_loadu_si256((const __m256i *)(coef + 2 * ((m + 1) * stride + i)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_shuffle_epi8(g, hi), c1));
        }
    }
    return acc;
}

ALWAYS_INLINE void h8_row(int16_t *dst, const uint8_t *src, const int32_t *pos,
                          const int16_t *coef, ptrdiff_t stride, int taps, int w)
{
    const __m256i init = _mm256_set1_epi32(1 << 7);
    for (int i = 0; i < w; i += 16) {
        __m256i a = _mm256_srai_epi32(h8_group(src, pos, coef, stride, taps, i, init), 8);
        __m256i b = _mm256_srai_epi32(h8_group(src, pos, coef, stride, taps, i + 8, init), 8);
        __m256i r = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xd8);
        if (w - i >= 16) {
            _mm256_storeu_si256((__m256i *)(dst + i), r);
        } else {
            int16_t tmp[16];
            _mm256_storeu_si256((__m256i *)tmp, r);
            memcpy(dst + i, tmp, sizeof(*dst) * (size_t)(w - i));
        }
    }
}

static AIE_HSCALE8_FN(hscale8_avx2)
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

/* 2x upscale, 32 outputs (16 source steps) per block; see resample_avx512.c. */
ALWAYS_INLINE void x2_row(int16_t *dst, const uint8_t *src, const __m256i *c0, const __m256i *c1,
                          int taps, int d0, int d1, int w)
{
    const __m256i rnd = _mm256_set1_epi32(1 << 7);
    const int nx = (d0 > d1 ? d0 : d1) + taps;
    for (int j0 = 0; 2 * j0 < w; j0 += 16) {
        __m256i x[10];
        #pragma GCC unroll 16
        for (int t = 0; t < nx; t++)
            x[t] = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(src + j0 + t)));
        __m256i a0 = rnd, a1 = rnd, b0 = rnd, b1 = rnd;
        #pragma GCC unroll 16
        for (int m = 0; m < taps / 2; m++) {
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x[d0 + 2 * m], c0[m]));
            b0 = _mm256_add_epi32(b0, _mm256_madd_epi16(x[d0 + 1 + 2 * m], c0[m]));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(x[d1 + 2 * m], c1[m]));
            b1 = _mm256_add_epi32(b1, _mm256_madd_epi16(x[d1 + 1 + 2 * m], c1[m]));
        }
        a0 = _mm256_srai_epi32(a0, 8);
        a1 = _mm256_srai_epi32(a1, 8);
        b0 = _mm256_srai_epi32(b0, 8);
        b1 = _mm256_srai_epi32(b1, 8);
        const __m256i e = _mm256_packs_epi32(_mm256_unpacklo_epi32(a0, a1), _mm256_unpackhi_epi32(a0, a1));
        const __m256i o = _mm256_packs_epi32(_mm256_unpacklo_epi32(b0, b1), _mm256_unpackhi_epi32(b0, b1));
        const __m256i r1 = _mm256_unpacklo_epi32(e, o), r2 = _mm256_unpackhi_epi32(e, o);
        const __m256i out0 = _mm256_permute2x128_si256(r1, r2, 0x20);
        const __m256i out1 = _mm256_permute2x128_si256(r1, r2, 0x31);
        const int n = w - 2 * j0;
        int16_t *o16 = dst + 2 * j0;
        if (n >= 32) {
            _mm256_storeu_si256((__m256i *)o16, out0);
            _mm256_storeu_si256((__m256i *)(o16 + 16), out1);
        } else {
            int16_t tmp[32];
            _mm256_storeu_si256((__m256i *)tmp, out0);
            _mm256_storeu_si256((__m256i *)(tmp + 16), out1);
            memcpy(o16, tmp, sizeof(*o16) * (size_t)n);
        }
    }
}

static AIE_HSCALE8_FN(hscale8_x2_avx2)
{
    if (w < 2 || taps > 8) {
        hscale8_avx2(dst, src, pos, coef, stride, taps, w);
        return;
    }
    const int base = pos[0] < pos[1] ? pos[0] : pos[1];
    const int d0 = pos[0] - base, d1 = pos[1] - base;
    __m256i c0[4], c1[4];
    #pragma GCC unroll 16
    for (int m = 0; m < 4; m++) {
        c0[m] = m < taps / 2 ? bcast_pair(coef + 2 * (m * stride)) : _mm256_setzero_si256();
        c1[m] = m < taps / 2 ? bcast_pair(coef + 2 * (m * stride + 1)) : _mm256_setzero_si256();
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

/* Integer-factor downscale (period-1 table), q = 2 or 4: output j reads
 * src[q * j + k], so tap pair m of the 8 outputs j.. is, as dwords, the
 * source at q * j + 2m zero-extended (q = 2) or bytes 0 and 1 of each dword
 * (q = 4, one in-lane shuffle): no per-output offsets. Loads of outputs past
 * w stay within the overread. */
ALWAYS_INLINE __m256i dn_group(const uint8_t *s, const __m256i *c, int npairs, int q)
{
    const __m256i lo = _mm256_add_epi32(_mm256_set1_epi32((int32_t)0x80018000u), dword_offsets());
    __m256i acc = _mm256_set1_epi32(1 << 7);
    #pragma GCC unroll 16
    for (int m = 0; m < npairs; m++) {
        const __m256i x = q == 2 ? _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(s + 2 * m)))
                                 : _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(s + 2 * m)), lo);
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, c[m]));
    }
    return _mm256_srai_epi32(acc, 8);
}

ALWAYS_INLINE void dn_row(int16_t *dst, const uint8_t *src, const __m256i *c, int npairs, int q,
                          int w)
{
    for (int j = 0; j < w; j += 16) {
        const uint8_t *s = src + (ptrdiff_t)q * j;
        const __m256i a = dn_group(s, c, npairs, q), b = dn_group(s + 8 * q, c, npairs, q);
        const __m256i r = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xd8);
        if (w - j >= 16) {
            _mm256_storeu_si256((__m256i *)(dst + j), r);
        } else {
            int16_t tmp[16];
            _mm256_storeu_si256((__m256i *)tmp, r);
            memcpy(dst + j, tmp, sizeof(*dst) * (size_t)(w - j));
        }
    }
}

static AIE_HSCALE8_FN(hscale8_dn_avx2)
{
    /* period 1 (the coefficients of output 1 are those of output 0) with q = 2
     * or 4; period-2 tables take hscale8 */
    int q = w >= 2 ? pos[1] - pos[0] : 0;
    if (w >= 3 && pos[2] - pos[1] != q)
        q = 0;
    for (int m = 0; m < taps / 2 && q; m++)
        if (memcmp(coef + 2 * (m * stride), coef + 2 * (m * stride + 1), 2 * sizeof(*coef)))
            q = 0;
    if ((q != 2 && q != 4) || taps > 24) {
        hscale8_avx2(dst, src, pos, coef, stride, taps, w);
        return;
    }
    __m256i c[12];
    for (int m = 0; m < taps / 2; m++)
        c[m] = bcast_pair(coef + 2 * (m * stride));
    src += pos[0];
#define DN_CASE(np)                                                                            \
    case np:                                                                                   \
        if (q == 2)                                                                            \
            dn_row(dst, src, c, np, 2, w);                                                     \
        else                                                                                   \
            dn_row(dst, src, c, np, 4, w);                                                     \
        break;
    switch (taps / 2) {
        DN_CASE(1) DN_CASE(2) DN_CASE(3) DN_CASE(4) DN_CASE(5) DN_CASE(6) DN_CASE(7) DN_CASE(8)
        DN_CASE(9) DN_CASE(10) DN_CASE(11) DN_CASE(12)
    }
#undef DN_CASE
}

/* Two rows into their pair row: hscale8_dn into chunks of two rows on the
 * stack, then pair16. */
static AIE_PAIR16_FN(pair16_avx2);

static AIE_HPAIR8_FN(hpair8_dn_avx2)
{
    enum { CH = 256 }; /* a multiple of AIE_RESAMPLE_ALIGN */
    int16_t a[CH] __attribute__((aligned(32))), b[CH] __attribute__((aligned(32)));
    for (int i = 0; i < w; i += CH) {
        const int n = w - i < CH ? w - i : CH;
        hscale8_dn_avx2(a, src_a, pos + i, coef + 2 * i, stride, taps, n);
        hscale8_dn_avx2(b, src_b, pos + i, coef + 2 * i, stride, taps, n);
        pair16_avx2(dst + 2 * i, a, b, n);
    }
}

static inline __m256i h16_group(const uint16_t *src, const int32_t *pos, const int16_t *coef,
                                ptrdiff_t stride, int taps, int i, __m256i init)
{
    const __m256i p = _mm256_loadu_si256((const __m256i *)(pos + i));
    const __m256i d = _mm256_sub_epi32(p, _mm256_shuffle_epi32(p, 0));
    const __m256i lim = _mm256_set1_epi32(8 - taps);
    const __m256i sign = _mm256_set1_epi32((int32_t)0x80008000u);
    const int npairs = taps >> 1;
    __m256i acc = init;
    if (taps <= 8 && _mm256_movemask_epi8(_mm256_cmpeq_epi32(_mm256_max_epu32(d, lim), lim)) == -1) {
        const __m256i data = _mm256_xor_si256(
            _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(src + pos[i]))),
                _mm_loadu_si128((const __m128i *)(src + pos[i + 4])), 1),
            sign);
        /* bytes 2d, 2d + 1, 2d + 2, 2d + 3: the pair of words at d */
        __m256i d2 = _mm256_slli_epi32(d, 1);
        d2 = _mm256_or_si256(d2, _mm256_slli_epi32(d2, 8));
        __m256i idx = _mm256_add_epi32(_mm256_or_si256(d2, _mm256_slli_epi32(d2, 16)),
                                       _mm256_set1_epi32(0x03020100));
        const __m256i four = _mm256_set1_epi32(0x04040404);
        #pragma GCC unroll 16
        for (int m = 0; m < npairs; m++) {
            const __m256i c = _mm256_loadu_si256((const __m256i *)(coef + 2 * (m * stride + i)));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_shuffle_epi8(data, idx), c));
            idx = _mm256_add_epi32(idx, four);
        }
        return acc;
    }
    #pragma GCC unroll 16
    for (int m = 0; m < npairs; m++) {
        const __m256i g = _mm256_xor_si256(
            _mm256_i32gather_epi32((const int *)(src + 2 * m), p, 2), sign);
        const __m256i c = _mm256_loadu_si256((const __m256i *)(coef + 2 * (m * stride + i)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(g, c));
    }
    return acc;
}

static AIE_HSCALE16_FN(hscale16_avx2)
{
    /* samples are biased by -32768 to fit pmaddwd; the taps sum to 1 << 14,
     * so adding 32768 << 14 restores the exact sum */
    const int sh = depth - 2;
    const __m256i init = _mm256_set1_epi32((1 << (sh - 1)) + (32768 << AIE_RESAMPLE_HBITS));
    for (int i = 0; i < w; i += 8) {
        __m256i r = _mm256_srai_epi32(h16_group(src, pos, coef, stride, taps, i, init), sh);
        if (w - i >= 8) {
            _mm256_storeu_si256((__m256i *)(dst + i), r);
        } else {
            int32_t tmp[8];
            _mm256_storeu_si256((__m256i *)tmp, r);
            memcpy(dst + i, tmp, sizeof(*dst) * (size_t)(w - i));
        }
    }
}

static AIE_PAIR16_FN(pair16_avx2)
{
    int x = 0;
    for (; x + 16 <= w; x += 16) {
        const __m256i va = _mm256_loadu_si256((const __m256i *)(a + x));
        const __m256i vb = _mm256_loadu_si256((const __m256i *)(b + x));
        const __m256i l = _mm256_unpacklo_epi16(va, vb), h = _mm256_unpackhi_epi16(va, vb);
        _mm256_storeu_si256((__m256i *)(dst + 2 * x), _mm256_permute2x128_si256(l, h, 0x20));
        _mm256_storeu_si256((__m256i *)(dst + 2 * x + 16), _mm256_permute2x128_si256(l, h, 0x31));
    }
    for (; x < w; x++) {
        dst[2 * x] = a[x];
        dst[2 * x + 1] = b[x];
    }
}

ALWAYS_INLINE void v8_row(uint8_t *dst, const int16_t *const *src, const int16_t *coef,
                          int npairs, int w)
{
    const int sh = AIE_RESAMPLE_VBITS8 + 6;
    const __m256i rnd = _mm256_set1_epi32(1 << (sh - 1));
    /* dword 4L + t of the packed bytes holds pixels 8t + 4L .. + 3 */
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int x = 0;
    for (; x + 32 <= w; x += 32) {
        __m256i acc[4] = {rnd, rnd, rnd, rnd};
        #pragma GCC unroll 16
        for (int m = 0; m < npairs; m++) {
            const __m256i c = bcast_pair(coef + 2 * m);
            const int16_t *r = src[m] + 2 * x;
            #pragma GCC unroll 16
            for (int q = 0; q < 4; q++)
                acc[q] = _mm256_add_epi32(
                    acc[q], _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(r + 16 * q)), c));
        }
        const __m256i p01 = _mm256_packs_epi32(_mm256_srai_epi32(acc[0], sh), _mm256_srai_epi32(acc[1], sh));
        const __m256i p23 = _mm256_packs_epi32(_mm256_srai_epi32(acc[2], sh), _mm256_srai_epi32(acc[3], sh));
        _mm256_storeu_si256((__m256i *)(dst + x),
                            _mm256_permutevar8x32_epi32(_mm256_packus_epi16(p01, p23), order));
    }
    for (; x < w; x++) {
        int32_t acc = 1 << (sh - 1);
        #pragma GCC unroll 16
        for (int m = 0; m < npairs; m++)
            acc += coef[2 * m] * src[m][2 * x] + coef[2 * m + 1] * src[m][2 * x + 1];
        acc >>= sh;
        dst[x] = (uint8_t)(acc < 0 ? 0 : acc > 255 ? 255 : acc);
    }
}

static AIE_VSCALE8_FN(vscale8_avx2)
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

static AIE_VSCALE16_FN(vscale16_avx2)
{
    const int sh = AIE_RESAMPLE_VBITS16 + 16 - depth;
    const int32_t maxv = (1 << depth) - 1;
    const __m256i rnd = _mm256_set1_epi32(1 << (sh - 1));
    const __m256i vmax = _mm256_set1_epi16((int16_t)maxv);
    int x = 0;
    for (; x + 16 <= w; x += 16) {
        __m256i a = rnd, b = rnd;
        for (int k = 0; k < taps; k++) {
            const __m256i c = _mm256_set1_epi32(coef[k]);
            a = _mm256_add_epi32(a, _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(src[k] + x)), c));
            b = _mm256_add_epi32(b, _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(src[k] + x + 8)), c));
        }
        __m256i r = _mm256_packus_epi32(_mm256_srai_epi32(a, sh), _mm256_srai_epi32(b, sh));
        r = _mm256_min_epu16(_mm256_permute4x64_epi64(r, 0xd8), vmax);
        _mm256_storeu_si256((__m256i *)(dst + x), r);
    }
    for (; x < w; x++) {
        int32_t acc = 1 << (sh - 1);
        for (int k = 0; k < taps; k++)
            acc += coef[k] * src[k][x];
        acc >>= sh;
        dst[x] = (uint16_t)(acc < 0 ? 0 : acc > maxv ? maxv : acc);
    }
}

void aie_resample_dsp_init_avx2(AieResampleDSP *dsp)
{
    dsp->hscale8 = hscale8_avx2;
    dsp->hscale8_x2 = hscale8_x2_avx2;
    dsp->hscale8_dn = hscale8_dn_avx2;
    dsp->hpair8_dn = hpair8_dn_avx2;
    dsp->hscale16 = hscale16_avx2;
    dsp->pair16 = pair16_avx2;
    dsp->vscale8 = vscale8_avx2;
    dsp->vscale16 = vscale16_avx2;
}
