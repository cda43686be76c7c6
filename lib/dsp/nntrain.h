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

/* Activations over n pixels of one 16-lane block (lane q of pixel x at
 * [x * 16 + q]); sl[q] is lane q's factor for negative inputs (0 ReLU, the
 * slope for LeakyReLU and PReLU, 1 for none).
 *   forward:  a = z >= 0 ? z : z * sl
 *   backward: g = z < 0 ? g * sl : g (in place), then ab[q] += g and
 *             as[q] += (z < 0 ? g_in * z : 0) summed over the pixels (the
 *             bias and slope gradients; the sums start at zero and are
 *             added to ab, as at the end). */
#define AIE_ACTF_FN(name) void name(float *a, const float *z, const float *sl, int n)
#define AIE_ACTB_FN(name) void name(float *g, const float *z, const float *sl, float *ab, float *as, int n)

typedef AIE_WGRAD_FN((*AieWgradFn));
typedef AIE_ACTF_FN((*AieActFwdFn));
typedef AIE_ACTB_FN((*AieActBwdFn));

typedef struct AieNnTrainDSP {
    AieWgradFn wgrad;
    AieActFwdFn act_fwd;
    AieActBwdFn act_bwd;
} AieNnTrainDSP;

void aie_nntrain_dsp_init(AieNnTrainDSP *dsp, unsigned cpu_flags);
void aie_nntrain_dsp_init_avx2(AieNnTrainDSP *dsp);
void aie_nntrain_dsp_init_avx512(AieNnTrainDSP *dsp);

#endif /* AIE_DSP_NNTRAIN_H */
