/* Backward kernels of CNN training: the C reference and the dispatch ladder. */
#include "aie/cpu.h"
#include "dsp/conv.h"
#include "dsp/nntrain.h"

/* The reference: per (output block, input channel), one partial sum per tap
 * and lane over the pixels in row order, added to gw at the end. */
static AIE_WGRAD_FN(wgrad_c)
{
    enum { B = AIE_CONV_BLOCK };
    const int k = a->k, kk = k * k, L = a->src_lanes;
    float acc[49][B];
    for (int ob = 0; ob < a->cout_blocks; ob++)
        for (int i = 0; i < a->cin; i++) {
            for (int t = 0; t < kk; t++)
                for (int l = 0; l < B; l++)
                    acc[t][l] = 0.0f;
            const float *s0 = src + (i / L) * a->src_plane + i % L;
            for (int y = 0; y < a->h; y++)
                for (int x = 0; x < a->w; x++) {
                    const float *g = gz + ob * a->gz_plane + y * a->gz_row + x * B;
                    const float *s = s0 + y * a->src_row + x * L;
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            const float v = s[ky * a->src_row + kx * L];
                            float *ac = acc[ky * k + kx];
                            for (int l = 0; l < B; l++)
                                ac[l] += g[l] * v;
                        }
                }
            float *d = gw + ((size_t)ob * (size_t)a->cin + (size_t)i) * (size_t)kk * B;
            for (int t = 0; t < kk; t++)
                for (int l = 0; l < B; l++)
                    d[t * B + l] += acc[t][l];
        }
}

static AIE_ACTF_FN(act_fwd_c)
{
    for (int x = 0; x < n; x++, a += AIE_CONV_BLOCK, z += AIE_CONV_BLOCK)
        for (int q = 0; q < AIE_CONV_BLOCK; q++)
            a[q] = z[q] >= 0.0f ? z[q] : z[q] * sl[q];
}

static AIE_ACTB_FN(act_bwd_c)
{
    float sb[AIE_CONV_BLOCK] = {0}, ss[AIE_CONV_BLOCK] = {0};
    for (int x = 0; x < n; x++, g += AIE_CONV_BLOCK, z += AIE_CONV_BLOCK)
        for (int q = 0; q < AIE_CONV_BLOCK; q++) {
            const float gv = g[q];
            if (z[q] < 0.0f) {
                ss[q] += gv * z[q];
                g[q] = gv * sl[q];
            }
            sb[q] += g[q];
        }
    for (int q = 0; q < AIE_CONV_BLOCK; q++) {
        ab[q] += sb[q];
        as[q] += ss[q];
    }
}

void aie_nntrain_dsp_init(AieNnTrainDSP *dsp, unsigned cpu_flags)
{
    dsp->wgrad = wgrad_c;
    dsp->act_fwd = act_fwd_c;
    dsp->act_bwd = act_bwd_c;
    if (!(cpu_flags & AIE_CPU_AVX2))
        return;
    aie_nntrain_dsp_init_avx2(dsp);
    if (!(cpu_flags & AIE_CPU_AVX512))
        return;
    aie_nntrain_dsp_init_avx512(dsp);
}
