/* AVX-512 weight gradient (dsp/nntrain.h): a whole 16-lane block per vector. */
#include <immintrin.h>

#include "dsp/conv.h"
#include "dsp/nntrain.h"

static inline void wgrad3(float *d, const float *g0, const float *s0, const AieWgradArgs *a)
{
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0;
    const ptrdiff_t sr = a->src_row;
    const int L = a->src_lanes;
    for (int y = 0; y < a->h; y++) {
        const float *g = g0 + y * a->gz_row;
        const float *s = s0 + y * sr;
        for (int x = 0; x < a->w; x++, g += AIE_CONV_BLOCK, s += L) {
            const __m512 v = _mm512_loadu_ps(g);
            c0 = _mm512_fmadd_ps(v, _mm512_set1_ps(s[0]), c0);
            c1 = _mm512_fmadd_ps(v, _mm512_set1_ps(s[L]), c1);
            c2 = _mm512_fmadd_ps(v, _mm512_set1_ps(s[2 * L]), c2);
            c3 = _mm512_fmadd_ps(v, _mm512_set1_ps(s[sr]), c3);
            c4 = _mm512_fmadd_ps(v, _mm512_set1_ps(s[sr + L]), c4);
            c5 = _mm512_fmadd_ps(v, _mm512_set1_ps(s[sr + 2 * L]), c5);
            c6 = _mm512_fmadd_ps(v, _mm512_set1_ps(s[2 * sr]), c6);
            c7 = _mm512_fmadd_ps(v, _mm512_set1_ps(s[2 * sr + L]), c7);
            c8 = _mm512_fmadd_ps(v, _mm512_set1_ps(s[2 * sr + 2 * L]), c8);
        }
    }
    const __m512 c[9] = {c0, c1, c2, c3, c4, c5, c6, c7, c8};
    for (int t = 0; t < 9; t++)
        _mm512_storeu_ps(d + t * AIE_CONV_BLOCK, _mm512_add_ps(_mm512_loadu_ps(d + t * AIE_CONV_BLOCK), c[t]));
}

static inline void wgrad_tap(float *d, const float *g0, const float *s0, const AieWgradArgs *a)
{
    __m512 c = _mm512_setzero_ps();
    for (int y = 0; y < a->h; y++) {
        const float *g = g0 + y * a->gz_row;
        const float *s = s0 + y * a->src_row;
        for (int x = 0; x < a->w; x++, g += AIE_CONV_BLOCK, s += a->src_lanes)
            c = _mm512_fmadd_ps(_mm512_loadu_ps(g), _mm512_set1_ps(*s), c);
    }
    _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), c));
}

static AIE_WGRAD_FN(wgrad_avx512)
{
    enum { B = AIE_CONV_BLOCK };
    const int k = a->k, kk = k * k, L = a->src_lanes;
    for (int ob = 0; ob < a->cout_blocks; ob++)
        for (int i = 0; i < a->cin; i++) {
            const float *s0 = src + (i / L) * a->src_plane + i % L;
            const float *g0 = gz + ob * a->gz_plane;
            float *d = gw + ((size_t)ob * (size_t)a->cin + (size_t)i) * (size_t)kk * B;
            if (k == 3)
                wgrad3(d, g0, s0, a);
            else
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                        wgrad_tap(d + (ky * k + kx) * B, g0, s0 + ky * a->src_row + kx * L, a);
        }
}

static AIE_ACTF_FN(act_fwd_avx512)
{
    const __m512 s = _mm512_loadu_ps(sl), zero = _mm512_setzero_ps();
    for (int x = 0; x < n; x++, a += AIE_CONV_BLOCK, z += AIE_CONV_BLOCK) {
        const __m512 zv = _mm512_loadu_ps(z);
        const __mmask16 neg = _mm512_cmp_ps_mask(zv, zero, _CMP_LT_OQ);
        _mm512_storeu_ps(a, _mm512_mask_mul_ps(zv, neg, zv, s));
    }
}

static AIE_ACTB_FN(act_bwd_avx512)
{
    const __m512 s = _mm512_loadu_ps(sl), zero = _mm512_setzero_ps();
    __m512 sb = zero, ss = zero;
    for (int x = 0; x < n; x++, g += AIE_CONV_BLOCK, z += AIE_CONV_BLOCK) {
        const __m512 gv = _mm512_loadu_ps(g), zv = _mm512_loadu_ps(z);
        const __mmask16 neg = _mm512_cmp_ps_mask(zv, zero, _CMP_LT_OQ);
        ss = _mm512_mask_add_ps(ss, neg, ss, _mm512_mul_ps(gv, zv));
        const __m512 go = _mm512_mask_mul_ps(gv, neg, gv, s);
        _mm512_storeu_ps(g, go);
        sb = _mm512_add_ps(sb, go);
    }
    _mm512_storeu_ps(ab, _mm512_add_ps(_mm512_loadu_ps(ab), sb));
    _mm512_storeu_ps(as, _mm512_add_ps(_mm512_loadu_ps(as), ss));
}

void aie_nntrain_dsp_init_avx512(AieNnTrainDSP *dsp)
{
    dsp->wgrad = wgrad_avx512;
    dsp->act_fwd = act_fwd_avx512;
    dsp->act_bwd = act_bwd_avx512;
}
