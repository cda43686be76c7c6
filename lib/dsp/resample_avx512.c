/*
 * AVX-512 (F/BW/DQ/VL) resampling kernels; bit-exact with the C references.
 * Same schemes as resample_avx2.c on 512-bit vectors, with masked loads and
 * stores for the tails; the 16-bit horizontal kernel picks its tap pairs from
 * a 32-word window with vpermw. Each kernel here measured faster than its
 * AVX2 version (checkasm --bench), so the ladder keeps all of them.
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

/* int32 sums of 16 outputs i..i+15. Three ways to get the tap pairs, fastest
 * first: all 16 windows in one 16-byte block (upscales; one broadcast load),
 * each lane's 4 windows in its own block, or gathers (large downscales). */
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
    default: h8_row(dst, src, pos, coef, stride, taps, w); break;
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
    dsp->hscale16 = hscale16_avx512;
    dsp->pair16 = pair16_avx512;
    dsp->vscale8 = vscale8_avx512;
    dsp->vscale16 = vscale16_avx512;
}
