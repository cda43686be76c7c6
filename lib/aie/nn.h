/*
 * Neural network inference on the CPU (lib/nn, kernels in lib/dsp/conv*.c):
 * pretrained super-resolution networks loaded from their original files and
 * run tile by tile over float images, on SIMD kernels chosen at run time.
 *
 * Formats (aie_nn_load() tells them apart by content):
 *   - waifu2x vgg_7 JSON (an array of nn.SpatialConvolutionMM layers, LeakyReLU
 *     0.1 between them). The file does not say whether the network expects a
 *     pre-upscaled image: a file name containing "scale2.0x" (or "scaleNx")
 *     makes it an N x model (nearest N x pre-upscale), any other a 1 x model
 *     (waifu2x's noise reduction models). Borders: 7 pixels (the model's
 *     "offset") of replicate padding, then valid convolutions.
 *   - ncnn .param + .bin (the .bin next to the .param, same base name):
 *     Input, Split, Convolution (fp16 or fp32 weights), PReLU, ReLU,
 *     PixelShuffle, Interp (nearest, bilinear, bicubic), BinaryOp (add) and
 *     Concat, enough for Real-ESRGAN's SRVGGNetCompact (realesr-animevideov3).
 *   - Anime4K CNN JSON of @websr/websr ({"name": "anime4k/cnn-2x-s", "layers":
 *     {...}}): cnn-2x-s/m/l and cnn-restore-s/m/l; the graph comes from the
 *     network name, the weights from the layers. Borders: replicate (the GLSL
 *     originals sample with clamp to edge).
 *
 * Images are planar float, values 0..1 for 8..16-bit samples; networks take
 * and give RGB. Errors: AIE_ENOENT / AIE_EACCES / AIE_EIO for a file that
 * cannot be read, AIE_EMODEL for a file that is not a model aie can run (bad
 * JSON, truncated weights, a wrong shape, an unknown layer type), with err
 * naming the file and the problem.
 */
#ifndef AIE_NN_H
#define AIE_NN_H

#include <stddef.h>

#include "aie/thread.h"

typedef struct AieNnModel AieNnModel;

/* Load a model file. The model is immutable afterwards and may be shared by
 * threads and executors; free it with aie_nn_free() after them. */
int aie_nn_load(AieNnModel **out, const char *path, char *err, size_t errlen);
/* The same from memory, touching no file: data[0..len) holds the model file
 * (the .param for ncnn) and bin[0..binlen) an ncnn model's weights (ignored
 * for the JSON formats; NULL with binlen 0 is an empty .bin). name stands
 * for the file's path: it names the model in err, and its extension and
 * "scaleNx" part count as they do for aie_nn_load(). */
int aie_nn_load_mem(AieNnModel **out, const char *name, const void *data, size_t len, const void *bin,
                    size_t binlen, char *err, size_t errlen);
void aie_nn_free(AieNnModel **m);

typedef struct AieNnInfo {
    const char *name;        /* the network's name in its file ("vgg_7", ...) */
    const char *format;      /* "waifu2x-json", "ncnn", "anime4k-json", "graph" */
    int in_channels;         /* 3: RGB */
    int out_channels;        /* 3: RGB */
    int scale_num, scale_den; /* output size = input size * num / den */
    int layers;              /* convolution layers */
    double flops_per_pixel;  /* floating-point operations per input pixel */
    int context;             /* input pixels of context a tile needs around it */
} AieNnInfo;

void aie_nn_info(const AieNnModel *m, AieNnInfo *info);

/* A planar float image: channel k of pixel (x, y) is
 * data[k * plane + y * row + x] (strides in floats). */
typedef struct AieNnImage {
    int w, h, c;
    float *data;
    ptrdiff_t row, plane;
} AieNnImage;

typedef struct AieNnOpts {
    int tile;           /* tile side in input pixels; 0 = automatic (the largest
                         * power of two up to 512 whose scratch fits one
                         * thread's share of the budget) */
    size_t max_mem;     /* cap on tile scratch, bytes, all threads together;
                         * 0 = no cap (the automatic tile then aims at 1 GiB
                         * in all, at least 64 MiB per thread) */
    unsigned cpu_flags; /* aie_cpu_flags() masked by --cpu */
    int threads;        /* threads that may run tiles at once (pool threads + 1) */
    int check_finite;   /* fail a run whose output holds a NaN or an infinity with
                         * AIE_ENONFINITE (always on in AIE_DEBUG builds) */
} AieNnOpts;

/* Smallest tile: halving stops here, and the run fails with AIE_ENOMEM. */
#define AIE_NN_MIN_TILE 16

/* Runs one model over images. Thread-safe: frames may run concurrently on the
 * same pool (each tile runs on the scratch of the thread that takes it). */
typedef struct AieNnExec AieNnExec;

int aie_nn_exec_create(AieNnExec **out, const AieNnModel *m, const AieNnOpts *o);

/* Run the model on in (in->c >= the model's input channels; extra channels
 * are ignored) into out (the size the model gives: in size * num / den; its
 * first out_channels channels are written). Tiles overlap by the receptive
 * field, so the result does not depend on the tile size: it equals the
 * untiled forward pass bit for bit at a given CPU level. Tiles run on pool
 * (NULL: the calling thread). When a tile's scratch cannot be allocated, or
 * the cap would be exceeded, the tile side is halved (for this and later
 * runs) and the frame is run again; below AIE_NN_MIN_TILE the run fails with
 * AIE_ENOMEM. AIE_ECANCELLED when cancel fires. */
int aie_nn_exec_run(AieNnExec *e, const AieNnImage *in, AieNnImage *out, AiePool *pool,
                    AieCancel *cancel);

/* The tile side in use now (it only goes down), and the number of times it
 * was halved. */
int aie_nn_exec_tile(const AieNnExec *e);
int aie_nn_exec_halvings(const AieNnExec *e);
/* Peak bytes of tile scratch held by all threads together so far. */
size_t aie_nn_exec_peak_mem(const AieNnExec *e);

void aie_nn_exec_free(AieNnExec **e);

#endif /* AIE_NN_H */
