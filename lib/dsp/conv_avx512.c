/*
 * AVX-512 convolution: register-blocked direct convolution over NCHW16c.
 *
 * The micro-kernel keeps 2 output blocks (32 channels) x 12 pixels of one
 * output row in 24 zmm accumulators. Each step (input channel i, tap ky, kx)
 * loads 2 weight vectors and broadcasts 12 input samples, for 24 FMAs: 12
 * cycles of work on 2 FMA ports against 14 loads, so the loop is FMA bound.
 * Odd block counts and row tails use narrower copies of the same body (1
 * block; 8, 4, 2, 1 pixels), all with the same per-output summation order, so
 * a pixel's value does not depend on where the tile or the row tail falls.
 * Rows are the outer loop, so one row band of the input and all the weights
 * stay in L2 while every output block is computed.
 */
#include <immintrin.h>

#include "dsp/conv.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define B AIE_CONV_BLOCK

ALWAYS_INLINE __m512 activate(__m512 v, const AieConvArgs *a, int o)
{
    if (a->act == AIE_CONV_ACT_NONE)
        return v;
    const __m512 zero = _mm512_setzero_ps();
    __mmask16 neg = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
    switch (a->act) {
    case AIE_CONV_ACT_RELU: return _mm512_mask_mov_ps(v, neg, zero);
    case AIE_CONV_ACT_LEAKY: return _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(a->slope));
    default: return _mm512_mask_mul_ps(v, neg, v, _mm512_loadu_ps(a->slopes + o));
    }
}

/* LS: lanes per src block, 16 (constant, the common case) or 0 (a->src_lanes) */
ALWAYS_INLINE void tile(float *dst, const float *src, const float *weight, const float *bias,
                        const AieConvArgs *a, int ob, int y, int x, const int NO, const int NX, const int LS)
{
    const int kh = a->kh, kw = a->kw, cin = a->cin;
    const int ls = LS ? LS : a->src_lanes, lsh = LS ? 4 : __builtin_ctz((unsigned)ls);
    const ptrdiff_t row = a->src_row, plane = a->src_plane;
    const ptrdiff_t wstride = (ptrdiff_t)cin * kh * kw * B;
    __m512 acc[2][12];
#pragma GCC unroll 2
    for (int o = 0; o < NO; o++) {
        __m512 b = _mm512_loadu_ps(bias + (ob + o) * B);
#pragma GCC unroll 12
        for (int p = 0; p < NX; p++)
            acc[o][p] = b;
    }
    const float *wp = weight + ob * wstride;
    const float *s0 = src + y * row + x * ls;
    for (int i = 0; i < cin; i++) {
        const float *s = s0 + (i >> lsh) * plane + (i & (ls - 1));
        for (int ky = 0; ky < kh; ky++, s += row) {
            for (int kx = 0; kx < kw; kx++, wp += B) {
                const float *sx = s + kx * ls;
                /* hide how sx moves, or the compiler rotates the broadcast
                 * samples of one kx step to the next through spills */
                __asm__("" : "+r"(sx));
                __m512 w0 = _mm512_loadu_ps(wp);
                __m512 w1 = NO > 1 ? _mm512_loadu_ps(wp + wstride) : w0;
#pragma GCC unroll 12
                for (int p = 0; p < NX; p++) {
                    __m512 v = _mm512_set1_ps(sx[p * ls]);
                    acc[0][p] = _mm512_fmadd_ps(w0, v, acc[0][p]);
                    if (NO > 1)
                        acc[1][p] = _mm512_fmadd_ps(w1, v, acc[1][p]);
                }
            }
        }
    }
#pragma GCC unroll 2
    for (int o = 0; o < NO; o++) {
        float *d = dst + (ob + o) * a->dst_plane + y * a->dst_row + x * B;
#pragma GCC unroll 12
        for (int p = 0; p < NX; p++)
            _mm512_storeu_ps(d + p * B, activate(acc[o][p], a, (ob + o) * B));
    }
}

/* One output row of NO blocks starting at block ob. */
ALWAYS_INLINE void row_blocks(float *dst, const float *src, const float *weight, const float *bias,
                              const AieConvArgs *a, int ob, int y, const int NO, const int LS)
{
    int x = 0;
    for (; x + 12 <= a->out_w; x += 12)
        tile(dst, src, weight, bias, a, ob, y, x, NO, 12, LS);
    if (x + 8 <= a->out_w) {
        tile(dst, src, weight, bias, a, ob, y, x, NO, 8, LS);
        x += 8;
    }
    if (x + 4 <= a->out_w) {
        tile(dst, src, weight, bias, a, ob, y, x, NO, 4, LS);
        x += 4;
    }
    if (x + 2 <= a->out_w) {
        tile(dst, src, weight, bias, a, ob, y, x, NO, 2, LS);
        x += 2;
    }
    if (x < a->out_w)
        tile(dst, src, weight, bias, a, ob, y, x, NO, 1, LS);
}

static AIE_CONV_FN(conv_avx512)
{
    const int wide = !a->src_lanes || a->src_lanes == B;
    for (int y = 0; y < a->out_h; y++) {
        int ob = 0;
        for (; ob + 2 <= a->cout_blocks; ob += 2) {
            if (wide)
                row_blocks(dst, src, weight, bias, a, ob, y, 2, B);
            else
                row_blocks(dst, src, weight, bias, a, ob, y, 2, 0);
        }
        if (ob < a->cout_blocks) {
            if (wide)
                row_blocks(dst, src, weight, bias, a, ob, y, 1, B);
            else
                row_blocks(dst, src, weight, bias, a, ob, y, 1, 0);
        }
    }
}

/* 24 independent chains: enough to cover 4 cycles of latency on 2 ports. */
static AIE_FMA_PROBE_FN(fma_probe_avx512)
{
    __m512 acc[24];
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
    for (int k = 0; k < 24; k++)
        acc[k] = _mm512_set1_ps((float)k);
    for (long i = 0; i < n; i++) {
#pragma GCC unroll 24
        for (int k = 0; k < 24; k++)
            acc[k] = _mm512_fmadd_ps(acc[k], m, c);
    }
    __m512 s = acc[0];
    for (int k = 1; k < 24; k++)
        s = _mm512_add_ps(s, acc[k]);
    return _mm512_reduce_add_ps(s);
}

void aie_conv_dsp_init_avx512(AieConvDSP *dsp)
{
    dsp->conv = conv_avx512;
    dsp->fma_probe = fma_probe_avx512;
    dsp->fma_flops = 24 * 16 * 2;
}
