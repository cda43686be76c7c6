/* Convolution: weight packing, the C reference kernel and the dispatch ladder. */
#include <string.h>

#include "aie/cpu.h"
#include "dsp/conv.h"

size_t aie_conv_packed_size(int cout, int cin, int kh, int kw)
{
    size_t blocks = (size_t)(cout + AIE_CONV_BLOCK - 1) / AIE_CONV_BLOCK;
    return blocks * (size_t)cin * (size_t)kh * (size_t)kw * AIE_CONV_BLOCK;
}

void aie_conv_pack(float *dst, const float *w, int cout, int cin, int kh, int kw)
{
    const int k = kh * kw, blocks = (cout + AIE_CONV_BLOCK - 1) / AIE_CONV_BLOCK;
    memset(dst, 0, sizeof(*dst) * aie_conv_packed_size(cout, cin, kh, kw));
    for (int ob = 0; ob < blocks; ob++)
        for (int i = 0; i < cin; i++)
            for (int t = 0; t < k; t++)
                for (int l = 0; l < AIE_CONV_BLOCK; l++) {
                    int o = ob * AIE_CONV_BLOCK + l;
                    if (o < cout)
                        dst[(((size_t)ob * (size_t)cin + (size_t)i) * (size_t)k + (size_t)t) * AIE_CONV_BLOCK +
                            (size_t)l] = w[((size_t)o * (size_t)cin + (size_t)i) * (size_t)k + (size_t)t];
                }
}

static inline float activate(float v, const AieConvArgs *a, int o)
{
    switch (a->act) {
    case AIE_CONV_ACT_RELU: return v < 0.0f ? 0.0f : v;
    case AIE_CONV_ACT_LEAKY: return v < 0.0f ? v * a->slope : v;
    case AIE_CONV_ACT_PRELU: return v < 0.0f ? v * a->slopes[o] : v;
    default: return v;
    }
}

/* The reference: one output at a time, the sum in the documented order. */
static AIE_CONV_FN(conv_c)
{
    const int k = a->kh * a->kw, L = a->src_lanes ? a->src_lanes : AIE_CONV_BLOCK;
    for (int ob = 0; ob < a->cout_blocks; ob++)
        for (int y = 0; y < a->out_h; y++)
            for (int x = 0; x < a->out_w; x++) {
                float *d = dst + ob * a->dst_plane + y * a->dst_row + x * AIE_CONV_BLOCK;
                for (int l = 0; l < AIE_CONV_BLOCK; l++) {
                    const int o = ob * AIE_CONV_BLOCK + l;
                    const float *wp = weight + (size_t)ob * (size_t)a->cin * (size_t)k * AIE_CONV_BLOCK + l;
                    float acc = bias[o];
                    for (int i = 0; i < a->cin; i++) {
                        const float *s = src + (i / L) * a->src_plane + i % L + y * a->src_row + x * L;
                        for (int ky = 0; ky < a->kh; ky++)
                            for (int kx = 0; kx < a->kw; kx++, wp += AIE_CONV_BLOCK)
                                acc += *wp * s[ky * a->src_row + kx * L];
                    }
                    d[l] = activate(acc, a, o);
                }
            }
}

void aie_conv_dsp_init(AieConvDSP *dsp, unsigned cpu_flags)
{
    dsp->conv = conv_c;
    dsp->fma_probe = NULL;
    dsp->fma_flops = 0;
#if defined(__x86_64__) || defined(__i386__)
    if (!(cpu_flags & AIE_CPU_AVX2))
        return;
    aie_conv_dsp_init_avx2(dsp);
    if (!(cpu_flags & AIE_CPU_AVX512))
        return;
    aie_conv_dsp_init_avx512(dsp);
#else
    (void)cpu_flags;
#endif
}
