/*
 * Convolution kernels of the inference engine (private to libaie; lib/nn is
 * the user).
 *
 * Layout: channel-blocked NCHWc float tensors. Channel c of pixel (y, x)
 * lives at data[(c / L) * plane + y * row + x * L + c % L], with row and
 * plane strides in floats and L lanes per block: 16 for everything a
 * convolution writes, and 4, 8 or 16 (src_lanes) for its input, so narrow
 * tensors (an RGB image) need not be padded to 16 channels. A tensor of C
 * channels has ceil(C / L) blocks; the lanes past C in the last block are
 * padding.
 *
 * One call computes a "valid" stride-1 convolution of a window of src:
 *   dst(o, y, x) = act(bias[o] + sum over i < cin, ky < kh, kx < kw of
 *                      w(o, i, ky, kx) * src(i, y + ky, x + kx))
 * for 0 <= y < out_h, 0 <= x < out_w and every output channel o of
 * cout_blocks blocks (all 16 lanes of each block are written). Padding
 * (zero, replicate, reflect) is the caller's business: it fills the border of
 * src before the call, so the kernel never branches on edges.
 *
 * Weights are packed by aie_conv_pack(): w(o, i, ky, kx) is
 * weight[((o / 16) * cin + i) * kh * kw * 16 + (ky * kw + kx) * 16 + o % 16],
 * so for one output block the kernel streams them in order, and a vector of
 * 16 output channels is one load. bias has cout_blocks * 16 entries; so does
 * slopes for PReLU.
 *
 * Kernels read src lanes i % L of channels i < cin only (never the padding
 * lanes), rows [0, out_h + kh - 1) and columns [0, out_w + kw - 1) of the
 * window; they write exactly the out_h x out_w pixels of cout_blocks blocks of
 * dst, never allocate, and never write their inputs.
 *
 * Numerics: every version accumulates in float in the same order (bias first,
 * then i, ky, kx), so results differ only by FMA contraction; checkasm allows
 * a relative error of 1e-5 of the sum of |terms| (tests/checkasm/conv.c).
 */
#ifndef AIE_DSP_CONV_H
#define AIE_DSP_CONV_H

#include <stddef.h>
#include <stdint.h>

#define AIE_CONV_BLOCK 16

enum { AIE_CONV_ACT_NONE = 0, AIE_CONV_ACT_RELU, AIE_CONV_ACT_LEAKY, AIE_CONV_ACT_PRELU };

typedef struct AieConvArgs {
    int cin;                 /* input channels read: lanes 0..15 of blocks 0..ceil(cin/16)-1 */
    int cout_blocks;         /* output channel blocks written */
    int kh, kw;              /* kernel size (1..7) */
    int out_w, out_h;        /* output pixels */
    ptrdiff_t src_row, src_plane; /* strides in floats */
    int src_lanes;           /* channels per src block: 4, 8 or 16 (0 = 16) */
    ptrdiff_t dst_row, dst_plane; /* dst has 16 lanes per block */
    int act;                 /* AIE_CONV_ACT_* */
    float slope;             /* LeakyReLU: x < 0 ? slope * x : x */
    const float *slopes;     /* PReLU: per output channel */
} AieConvArgs;

#define AIE_CONV_FN(name) \
    void name(float *dst, const float *src, const float *weight, const float *bias, const AieConvArgs *a)

/* Peak-rate probe for the benchmarks: n iterations of `chains` independent FMA
 * chains of one vector each; returns a value that depends on every FMA (so
 * nothing is optimised away). */
#define AIE_FMA_PROBE_FN(name) float name(long n)

typedef AIE_CONV_FN((*AieConvFn));
typedef AIE_FMA_PROBE_FN((*AieFmaProbeFn));

typedef struct AieConvDSP {
    AieConvFn conv;
    AieFmaProbeFn fma_probe;  /* NULL at the C level */
    int fma_flops;            /* floating-point operations per probe iteration */
} AieConvDSP;

/* C versions first, then the best ISA versions that cpu_flags allow. */
void aie_conv_dsp_init(AieConvDSP *dsp, unsigned cpu_flags);
void aie_conv_dsp_init_avx2(AieConvDSP *dsp);
void aie_conv_dsp_init_avx512(AieConvDSP *dsp);

/* Floats of a packed weight array (see above). */
size_t aie_conv_packed_size(int cout, int cin, int kh, int kw);

/* Pack w[o][i][ky][kx] (cout x cin x kh x kw, PyTorch/ncnn order) into the
 * kernel layout; output channels past cout get zero weights. */
void aie_conv_pack(float *dst, const float *w, int cout, int cin, int kh, int kw);

#endif /* AIE_DSP_CONV_H */
