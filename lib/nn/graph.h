/*
 * The network graph of the inference engine (private to libaie; the model
 * loaders build it, lib/nn/exec.c runs it, tests build tiny ones by hand).
 *
 * A graph is a list of nodes in execution order: every node's inputs come
 * before it. Node 0 is the input (the model's RGB image, values 0..1); the
 * output is node `output`, of which the first `out_channels` channels are the
 * result. Every node has a size that follows from the input size (a conv with
 * "valid" padding shrinks, a pixel shuffle grows, ...), and all spatial
 * operators are stride 1 with integer or rational scale factors, so the
 * executor can work out, for any rectangle of the output, which rectangle of
 * every node it needs (the receptive field) and run the graph tile by tile.
 *
 * Operators
 *   INPUT     the image, `c` channels.
 *   CONV      kh x kw (odd, 1..7) stride 1, bias, padding zero / replicate /
 *             reflect ("same" size) or valid (shrinks by k - 1); an activation
 *             fused on the output (none, ReLU, LeakyReLU, PReLU).
 *   ACT       ReLU, LeakyReLU(slope) or PReLU(per-channel slopes).
 *   CRELU     [relu(x), relu(-x)]: 2c channels (Anime4K).
 *   CONCAT    channels of the inputs, in order.
 *   ADD       a + b with c = c(a): b has 1 channel (broadcast) or at least c
 *             (its first c are used).
 *   SHUFFLE   pixel shuffle (depth to space) by r: c(in) = c * r * r; output
 *             channel k of sub-pixel (i, j) (i down, j across) reads input
 *             channel k*r*r + i*r + j (ncnn/PyTorch) or (i*r + j)*c + k
 *             (TensorFlow depth_to_space).
 *   UPSAMPLE  by an integer r: nearest, or bilinear with half-pixel centres
 *             and clamped edges (a GPU sampler's "linear, clamp to edge").
 *   RESIZE    bicubic (Keys, a = -0.75, half-pixel centres, clamped edges:
 *             ncnn's Interp type 3) to size * num / den.
 *   PAD       p pixels on every side: zero, replicate or reflect.
 */
#ifndef AIE_NN_GRAPH_H
#define AIE_NN_GRAPH_H

#include <stddef.h>

#include "aie/nn.h"

#define NN_MAX_INPUTS 16
#define NN_MAX_CHANNELS 1024
#define NN_MAX_NODES 512
#define NN_BLOCK 16 /* AIE_CONV_BLOCK */

typedef enum NnOp {
    NN_INPUT = 0,
    NN_CONV,
    NN_ACT,
    NN_CRELU,
    NN_CONCAT,
    NN_ADD,
    NN_SHUFFLE,
    NN_UPSAMPLE,
    NN_RESIZE,
    NN_PAD,
} NnOp;

typedef enum NnPad { NN_PAD_ZERO = 0, NN_PAD_REPLICATE, NN_PAD_REFLECT, NN_PAD_VALID } NnPad;
/* activations: the AIE_CONV_ACT_* values of dsp/conv.h */
enum { NN_ACT_NONE = 0, NN_ACT_RELU, NN_ACT_LEAKY, NN_ACT_PRELU };
enum { NN_SHUFFLE_TORCH = 0, NN_SHUFFLE_TF };
enum { NN_UP_NEAREST = 0, NN_UP_BILINEAR };

typedef struct NnNode {
    NnOp op;
    char name[48];
    int in[NN_MAX_INPUTS];
    int nin;
    int c;                  /* output channels */
    /* CONV */
    int kh, kw, cin;
    NnPad pad;              /* also PAD's mode */
    float *w;               /* [c][cin][kh][kw] */
    float *b;               /* [c] */
    float *wpack;           /* packed for dsp/conv (aie_conv_pack), bias padded */
    float *bpack;
    /* CONV and ACT */
    int act;
    float slope;            /* LeakyReLU */
    float *slopes;          /* PReLU, [c], padded to whole blocks */
    /* SHUFFLE, UPSAMPLE */
    int r, mode;
    /* RESIZE: size * num / den; PAD: p */
    int num, den, p;
} NnNode;

typedef struct NnGraph {
    NnNode *nodes;
    int n, cap;
    int output;
    int out_channels;
    char name[64];          /* what the file calls the network */
    char format[32];        /* "waifu2x-json", "ncnn", "anime4k-json", "graph" */
} NnGraph;

/* Builders: return the new node's index, or a negative AIE_E* code. Shapes
 * are checked (channels of the inputs, kernel sizes). Weight arrays are
 * copied. */
int aie_nn_graph_init(NnGraph *g, int in_channels);
void aie_nn_graph_clear(NnGraph *g);
int aie_nn_conv(NnGraph *g, int in, int cout, int kh, int kw, NnPad pad, const float *w,
                const float *b, int act, float slope, const float *slopes);
int aie_nn_act(NnGraph *g, int in, int act, float slope, const float *slopes);
int aie_nn_crelu(NnGraph *g, int in);
int aie_nn_concat(NnGraph *g, const int *in, int nin);
int aie_nn_add(NnGraph *g, int a, int b);
int aie_nn_shuffle(NnGraph *g, int in, int r, int order);
int aie_nn_upsample(NnGraph *g, int in, int r, int mode);
int aie_nn_resize(NnGraph *g, int in, int num, int den);
int aie_nn_pad(NnGraph *g, int in, int p, NnPad mode);
/* Name the last node (for messages). */
void aie_nn_name(NnGraph *g, int node, const char *name);

/* Finish: set the output (first out_channels of node `output`), fuse a lone
 * ACT into the CONV before it, pack the weights. */
int aie_nn_graph_finish(NnGraph *g, int output, int out_channels);

/* Wrap a finished graph as a model (takes its contents; g is cleared). */
int aie_nn_model_from_graph(AieNnModel **out, NnGraph *g);
const NnGraph *aie_nn_model_graph(const AieNnModel *m);

/* Size of every node for an input of w x h (sizes[2k] = width of node k,
 * sizes[2k+1] = its height). Returns 0, or AIE_EINVAL when a node would be
 * empty (an input smaller than the valid convolutions eat). */
int aie_nn_graph_sizes(const NnGraph *g, int w, int h, int *sizes);

/* Multiply-adds per output pixel of each node, summed and divided by the
 * input pixels, times 2: FLOPs per input pixel (conv layers only); -1 when
 * out of memory. */
double aie_nn_graph_flops(const NnGraph *g);

/* Reference forward pass over the whole image, straight from the formulas
 * above with plain loops and no tiling (for the tests): in and out as in
 * aie_nn_exec_run(). */
int aie_nn_reference(const NnGraph *g, const AieNnImage *in, AieNnImage *out);

#endif /* AIE_NN_GRAPH_H */
