/* Internals shared by the files of lib/nn (private). */
#ifndef AIE_NN_INTERNAL_H
#define AIE_NN_INTERNAL_H

#include <stddef.h>

#include "nn/graph.h"

struct AieNnModel {
    NnGraph g;
    int scale_num, scale_den;
    int context;
    int layers;
    double flops;
};

/* An interval [lo, hi) of one axis; empty when lo >= hi. */
typedef struct NnIv {
    int lo, hi;
} NnIv;

/* Node k's size along axis (0 = x, 1 = y), from its first input's in sizes[]. */
int aie_nn_node_size(const NnGraph *g, int k, const int *sizes, int axis);

/* The interval of input j of node k that computing [a, b) of node k reads
 * (along axis). For a CONV with same padding it may extend past the input's
 * edges (the border is filled by padding); for every other operator it lies
 * inside. */
void aie_nn_need(const NnGraph *g, int k, int j, const int *sizes, int axis, int a, int b, int *lo,
                 int *hi);

/* The regions of every node for output interval [a, b) along axis: E[k] the
 * buffer extent (what consumers read, padding included), R[k] = E[k] clipped
 * to the node (what node k computes). Nodes not needed get empty intervals. */
void aie_nn_regions(const NnGraph *g, const int *sizes, int axis, int a, int b, NnIv *E, NnIv *R);

/* Receptive field radius in input pixels (a middle output pixel); -1 when
 * out of memory. */
int aie_nn_context(const NnGraph *g, const int *sizes);

/* Source positions (see graph.h). */
void aie_nn_bilinear_src(int u, int r, int size, int *i0, int *i1, float *f);
void aie_nn_cubic_src(int u, int in_size, int out_size, int idx[4], float wt[4]);
/* PAD: source index of output u, or -1 for a zero sample. */
int aie_nn_pad_src(int u, int p, int size, NnPad mode);

/* ---- the loaders (lib/nn/load_*.c): build g from a file's contents ---- */
int aie_nn_load_waifu2x(NnGraph *g, const char *path, const char *text, size_t len, char *err,
                        size_t errlen);
int aie_nn_load_anime4k(NnGraph *g, const char *path, const char *text, size_t len, char *err,
                        size_t errlen);
/* ncnn: the weights are bin[0..binlen), or (bin NULL) the .bin file next to path */
int aie_nn_load_ncnn(NnGraph *g, const char *path, const char *text, size_t len, const void *bin,
                     size_t binlen, char *err, size_t errlen);

/* aie's own networks (lib/nn/train_io.c, aie/nn_train.h) */
int aie_nn_load_aienn(NnGraph *g, const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Read a whole file (NUL-terminated); err names the file. */
int aie_nn_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen);

/* Parse JSON text; err gets "PATH: malformed JSON at line L, column C: why". */
struct json_object;
int aie_nn_json_parse(const char *path, const char *text, size_t len, struct json_object **out, char *err,
                      size_t errlen);

/* IEEE half to float. */
float aie_nn_half(unsigned short h);

#endif /* AIE_NN_INTERNAL_H */
