/* AVX2 + FMA weight gradient (dsp/nntrain.h). */
#include <immintrin.h>

#include "dsp/conv.h"
#include "dsp/nntrain.h"

/* One output block, one input channel, one half (8 lanes) of the block, k = 3:
 * nine accumulators over every pixel. */
static inline void wgrad3_half(float *d, const float *g0, const float *s0, const AieWgradArgs *a)
{
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0;
    const ptrdiff_t sr = a->src_row;
    const int L = a->src_lanes;
    for (int y = 0; y < a->h; y++) {
        const float *g = g0 + y * a->gz_row;
        const float *s = s0 + y * sr;
        for (int x = 0; x < a->w; x++, g += AIE_CONV_BLOCK, s += L) {
            const __m256 v = _mm256_loadu_ps(g);
            c0 = _mm256_fmadd_ps(v, _mm256_broadcast_ss(s), c0);
            c1 = _mm256_fmadd_ps(v, _mm256_broadcast_ss(s + L), c1);
            c2 = _mm256_fmadd_ps(v, _mm256_broadcast_ss(s + 2 * L), c2);
            c3 = _mm256_fmadd_ps(v, _mm256_broadcast_ss(s + sr), c3);
            c4 = _mm256_fmadd_ps(v, _mm256_broadcast_ss(s + sr + L), c4);
            c5 = _mm256_fmadd_ps(v, _mm256_broadcast_ss(s + sr + 2 * L), c5);
            c6 = _mm256_fmadd_ps(v, _mm256_broadcast_ss(s + 2 * sr), c6);
            c7 = _mm256_fmadd_ps(v, _mm256_broadcast_ss(s + 2 * sr + L), c7);
            c8 = _mm256_fmadd_ps(v, _mm256_broadcast_ss(s + 2 * sr + 2 * L), c8);
        }
    }
    const __m256 c[9] = {c0, c1, c2, c3, c4, c5, c6, c7, c8};
    for (int t = 0; t < 9; t++)
        _mm256_storeu_ps(d + t * AIE_CONV_BLOCK, _mm256_add_ps(_mm256_loadu_ps(d + t * AIE_CONV_BLOCK), c[t]));
}

/* Any k: one tap at a time. */
static inline void wgrad_tap_half(float *d, const float *g0, const float *s0, const AieWgradArgs *a)
{
    __m256 c = _mm256_setzero_ps();
    for (int y = 0; y < a->h; y++) {
        const float *g = g0 + y * a->gz_row;
        const float *s = s0 + y * a->src_row;
        for (int x = 0; x < a->w; x++, g += AIE_CONV_BLOCK, s += a->src_lanes)
            c = _mm256_fmadd_ps(_mm256_loadu_ps(g), _mm256_broadcast_ss(s), c);
    }
    _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), c));
}

static AIE_WGRAD_FN(wgrad_avx2)
{
    enum { B = AIE_CONV_BLOCK };
    const int k = a->k, kk = k * k, L = a->src_lanes;
    for (int ob = 0; ob < a->cout_blocks; ob++)
        for (int i = 0; i < a->cin; i++) {
            const float *s0 = src + (i / L) * a->src_plane + i % L;
            float *d = gw + ((size_t)ob * (size_t)a->cin + (size_t)i) * (size_t)kk * B;
            for (int h = 0; h < 2; h++) {
                const float *g0 = gz + ob * a->gz_plane + 8 * h;
                if (k == 3) {
                    wgrad3_half(d + 8 * h, g0, s0, a);
                } else {
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                            wgrad_tap_half(d + (ky * k + kx) * B + 8 * h, g0, s0 + ky * a->src_row + kx * L, a);
                }
            }
        }
}

static AIE_ACTF_FN(act_fwd_avx2)
{
    const __m256 s0 = _mm256_loadu_ps(sl), s1 = _mm256_loadu_ps(sl + 8), zero = _mm256_setzero_ps();
    for (int x = 0; x < n; x++, a += AIE_CONV_BLOCK, z += AIE_CONV_BLOCK) {
        const __m256 z0 = _mm256_loadu_ps(z), z1 = _mm256_loadu_ps(z + 8);
        _mm256_storeu_ps(a, _mm256_blendv_ps(z0, _mm256_mul_ps(z0, s0), _mm256_cmp_ps(z0, zero, _CMP_LT_OQ)));
        _mm256_storeu_ps(a + 8, _mm256_blendv_ps(z1, _mm256_mul_ps(z1, s1), _mm256_cmp_ps(z1, zero, _CMP_LT_OQ)));
    }
}

static AIE_ACTB_FN(act_bwd_avx2)
{
    const __m256 zero = _mm256_setzero_ps();
    for (int h = 0; h < 2; h++) {
        const __m256 s = _mm256_loadu_ps(sl + 8 * h);
        __m256 sb = zero, ss = zero;
        float *gp = g + 8 * h;
        const float *zp = z + 8 * h;
        for (int x = 0; x < n; x++, gp += AIE_CONV_BLOCK, zp += AIE_CONV_BLOCK) {
            const __m256 gv = _mm256_loadu_ps(gp), zv = _mm256_loadu_ps(zp);
            const __m256 neg = _mm256_cmp_ps(zv, zero, _CMP_LT_OQ);
            ss = _mm256_add_ps(ss, _mm256_and_ps(neg, _mm256_mul_ps(gv, zv)));
            const __m256 go = _mm256_blendv_ps(gv, _mm256_mul_ps(gv, s), neg);
            _mm256_storeu_ps(gp, go);
            sb = _mm256_add_ps(sb, go);
        }
        _mm256_storeu_ps(ab + 8 * h, _mm256_add_ps(_mm256_loadu_ps(ab + 8 * h), sb));
        _mm256_storeu_ps(as + 8 * h, _mm256_add_ps(_mm256_loadu_ps(as + 8 * h), ss));
    }
}

void aie_nntrain_dsp_init_avx2(AieNnTrainDSP *dsp)
{
    dsp->wgrad = wgrad_avx2;
    dsp->act_fwd = act_fwd_avx2;
    dsp->act_bwd = act_bwd_avx2;
}
