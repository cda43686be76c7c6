/*
 * AVX2/FMA convolution over NCHW16c: one output block (two ymm halves) x 6
 * pixels of a row in 12 accumulators; each step loads the two weight halves
 * and broadcasts 6 input samples for 12 FMAs (6 cycles on 2 ports, 8 loads).
 * Row tails use 4, 2 and 1 pixel copies of the same body, with the same
 * per-output summation order as the main body.
 */
#include <immintrin.h>

#include "dsp/conv.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define B AIE_CONV_BLOCK

ALWAYS_INLINE __m256 activate(__m256 v, const AieConvArgs *a, int o)
{
    const __m256 zero = _mm256_setzero_ps();
    __m256 neg = _mm256_cmp_ps(v, zero, _CMP_LT_OQ);
    switch (a->act) {
    case AIE_CONV_ACT_RELU: return _mm256_blendv_ps(v, zero, neg);
    case AIE_CONV_ACT_LEAKY: return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(a->slope)), neg);
    case AIE_CONV_ACT_PRELU: return _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_loadu_ps(a->slopes + o)), neg);
    default: return v;
    }
}

/* LS: lanes per src block, 16 (constant, the common case) or 0 (a->src_lanes) */
ALWAYS_INLINE void tile(float *dst, const float *src, const float *weight, const float *bias,
                        const AieConvArgs *a, int ob, int y, int x, const int NX, const int LS)
{
    const int kh = a->kh, kw = a->kw, cin = a->cin;
    const int ls = LS ? LS : a->src_lanes, lsh = LS ? 4 : __builtin_ctz((unsigned)ls);
    const ptrdiff_t row = a->src_row, plane = a->src_plane;
    const ptrdiff_t wstride = (ptrdiff_t)cin * kh * kw * B;
    __m256 lo[6], hi[6];
    const __m256 blo = _mm256_loadu_ps(bias + ob * B), bhi = _mm256_loadu_ps(bias + ob * B + 8);
#pragma GCC unroll 6
    for (int p = 0; p < NX; p++) {
        lo[p] = blo;
        hi[p] = bhi;
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
                __m256 w0 = _mm256_loadu_ps(wp), w1 = _mm256_loadu_ps(wp + 8);
#pragma GCC unroll 6
                for (int p = 0; p < NX; p++) {
                    __m256 v = _mm256_broadcast_ss(sx + p * ls);
                    lo[p] = _mm256_fmadd_ps(w0, v, lo[p]);
                    hi[p] = _mm256_fmadd_ps(w1, v, hi[p]);
                }
            }
        }
    }
    float *d = dst + ob * a->dst_plane + y * a->dst_row + x * B;
#pragma GCC unroll 6
    for (int p = 0; p < NX; p++) {
        _mm256_storeu_ps(d + p * B, activate(lo[p], a, ob * B));
        _mm256_storeu_ps(d + p * B + 8, activate(hi[p], a, ob * B + 8));
    }
}

ALWAYS_INLINE void row(float *dst, const float *src, const float *weight, const float *bias,
                       const AieConvArgs *a, int ob, int y, const int LS)
{
    int x = 0;
    for (; x + 6 <= a->out_w; x += 6)
        tile(dst, src, weight, bias, a, ob, y, x, 6, LS);
    if (x + 4 <= a->out_w) {
        tile(dst, src, weight, bias, a, ob, y, x, 4, LS);
        x += 4;
    }
    if (x + 2 <= a->out_w) {
        tile(dst, src, weight, bias, a, ob, y, x, 2, LS);
        x += 2;
    }
    if (x < a->out_w)
        tile(dst, src, weight, bias, a, ob, y, x, 1, LS);
}

static AIE_CONV_FN(conv_avx2)
{
    const int wide = !a->src_lanes || a->src_lanes == B;
    for (int y = 0; y < a->out_h; y++)
        for (int ob = 0; ob < a->cout_blocks; ob++) {
            if (wide)
                row(dst, src, weight, bias, a, ob, y, B);
            else
                row(dst, src, weight, bias, a, ob, y, 0);
        }
}

/* 12 independent chains: 4 cycles of latency on 2 ports needs 8. */
static AIE_FMA_PROBE_FN(fma_probe_avx2)
{
    __m256 acc[12];
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
    for (int k = 0; k < 12; k++)
        acc[k] = _mm256_set1_ps((float)k);
    for (long i = 0; i < n; i++) {
#pragma GCC unroll 12
        for (int k = 0; k < 12; k++)
            acc[k] = _mm256_fmadd_ps(acc[k], m, c);
    }
    __m256 s = acc[0];
    for (int k = 1; k < 12; k++)
        s = _mm256_add_ps(s, acc[k]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

void aie_conv_dsp_init_avx2(AieConvDSP *dsp)
{
    dsp->conv = conv_avx2;
    dsp->fma_probe = fma_probe_avx2;
    dsp->fma_flops = 12 * 8 * 2;
}
