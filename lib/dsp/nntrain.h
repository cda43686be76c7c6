/*
 * Backward kernels of CNN training (private to libaie; lib/nn/train.c is the
 * user). The forward pass and the input gradient reuse the inference
 * convolution of dsp/conv.h (the input gradient is the convolution of the
 * zero-padded output gradient with the transposed, flipped weights); what
 * inference has no use for is the weight gradient, here.
 *
 * Layout as in dsp/conv.h: gz (the gradient of a convolution's output,
 * before its activation) has 16 lanes per block, src (the convolution's
 * input window, already padded) src_lanes (4, 8 or 16) per block. The
 * kernel ACCUMULATES into gw, which has the packed weight layout of
 * aie_conv_pack():
 *   gw[((o/16)*cin + i)*k*k*16 + (ky*k + kx)*16 + o%16] +=
 *       sum over y < h, x < w of gz(o, y, x) * src(i, y + ky, x + kx)
 * for every output channel o of cout_blocks blocks (all 16 lanes; the
 * caller keeps padding lanes of gz at zero) and input channel i < cin.
 * It reads rows [0, h + k - 1) and columns [0, w + k - 1) of src, never
 * allocates and never writes its inputs.
 *
 * Numerics: each gw entry is a float sum over the pixels; the versions
 * differ in the order of that sum (the SIMD ones keep partial sums per
 * lane group and per row) and by FMA contraction. checkasm allows
 * 2e-5 of the sum of |terms| (tests/checkasm/nntrain.c).
 */
#ifndef AIE_DSP_NNTRAIN_H
#define AIE_DSP_NNTRAIN_H

#include <stddef.h>

typedef struct AieWgradArgs {
    int cin;                      /* input channels */
    int cout_blocks;              /* blocks of 16 output channels */
    int k;                        /* kernel side, 1..7 */
    int w, h;                     /* output pixels summed over */
    ptrdiff_t gz_row, gz_plane;   /* floats */
    ptrdiff_t src_row, src_plane; /* floats */
    int src_lanes;                /* 4, 8 or 16 */
} AieWgradArgs;

#define AIE_WGRAD_FN(name) void name(float *gw, const float *gz, const float *src, const AieWgradArgs *a)

typedef AIE_WGRAD_FN((*AieWgradFn));

typedef struct AieNnTrainDSP {
    AieWgradFn wgrad;
} AieNnTrainDSP;

void aie_nntrain_dsp_init(AieNnTrainDSP *dsp, unsigned cpu_flags);
void aie_nntrain_dsp_init_avx2(AieNnTrainDSP *dsp);
void aie_nntrain_dsp_init_avx512(AieNnTrainDSP *dsp);

#endif /* AIE_DSP_NNTRAIN_H */
