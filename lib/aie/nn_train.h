/*
 * Training compact CNN upscalers on the CPU (lib/nn/train*.c).
 *
 * A network is a chain of layers at the low resolution: 3x3 or 1x1
 * convolutions ("same" size, zero padding) with a bias and an activation
 * (none, ReLU, LeakyReLU, PReLU with one learned slope per channel), and
 * residual additions of an earlier layer's output. The last layer is a
 * convolution to 3 x scale^2 channels, pixel-shuffled (depth to space, the
 * PyTorch order) to the output size and added to a fixed upscale of the
 * input (bicubic: Keys a = -0.75 with half-pixel centres and clamped edges,
 * as aie/nn.h's Interp; or nearest; or none).
 *
 * Training: mini-batches of random patches (one of the 8 flips and
 * transposes each), L1 or L2 loss, Adam with a cosine learning-rate
 * schedule. The samples of a batch run on the pool; every sample's gradient
 * goes to its own buffer and the buffers are summed in sample order, so the
 * weights after any number of steps depend on the seed and the data only,
 * never on the number of threads (at one CPU level).
 *
 * Data: pairs of 8-bit planar RGB images (low resolution, and the target at
 * scale x its size), marked for training or validation.
 *
 * Files (aie_nnt_save): little-endian, "AIENET" magic, a version, the
 * architecture and the weights, closed by the SHA-256 of everything before
 * it; aie_nn_load() (aie/nn.h) runs them like any other model. A checkpoint
 * is the same file with the optimiser state and the best weights so far
 * appended; aie_nn_load() runs its current weights.
 */
#ifndef AIE_NN_TRAIN_H
#define AIE_NN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "aie/thread.h"

#define AIE_NNT_VERSION 1
#define AIE_NNT_MAX_LAYERS 32
#define AIE_NNT_MAX_CHANNELS 128
#define AIE_NNT_DESC_SIZE 256

enum { AIE_NNT_CONV = 0, AIE_NNT_ADD };
/* the values of aie/nn.h's graph activations */
enum { AIE_NNT_ACT_NONE = 0, AIE_NNT_ACT_RELU, AIE_NNT_ACT_LEAKY, AIE_NNT_ACT_PRELU };
enum { AIE_NNT_SKIP_NONE = 0, AIE_NNT_SKIP_BICUBIC, AIE_NNT_SKIP_NEAREST };
enum { AIE_NNT_L1 = 0, AIE_NNT_L2 };
enum { AIE_NNT_FILE_WEIGHTS = 1, AIE_NNT_FILE_CHECKPOINT = 2 };

typedef struct AieNntLayer {
    int op;      /* AIE_NNT_CONV or AIE_NNT_ADD */
    int k;       /* CONV: 1 or 3 */
    int cout;    /* CONV: output channels (ADD: those of its inputs) */
    int act;     /* CONV: AIE_NNT_ACT_* */
    float slope; /* LeakyReLU slope; PReLU: the initial slope */
    int from;    /* ADD: this layer = previous layer + layer `from` (< the previous) */
} AieNntLayer;

typedef struct AieNntArch {
    char name[32];   /* "c32x8", ... */
    int scale;       /* 2, 3 or 4 */
    int skip;        /* AIE_NNT_SKIP_* */
    int n;           /* layers */
    AieNntLayer l[AIE_NNT_MAX_LAYERS];
} AieNntArch;

/* The named architectures: "c<C>x<L>" = L 3x3 convolutions of C channels
 * with PReLU (the first from RGB), a 3x3 convolution to 3 x scale^2
 * channels, pixel shuffle, bicubic skip; a suffix "r" adds the first
 * layer's output to the last hidden layer's (a residual). C 4..128, L 1..24.
 * 0, or AIE_EINVAL. */
int aie_nnt_arch_parse(AieNntArch *a, const char *name, int scale);
/* Check a hand-built architecture (shapes, indices): 0 or AIE_EINVAL. */
int aie_nnt_arch_check(const AieNntArch *a);
/* Multiply-adds per output pixel (convolutions; the skip not counted). */
double aie_nnt_arch_macs(const AieNntArch *a);
/* Learned parameters. */
size_t aie_nnt_arch_params(const AieNntArch *a);

typedef struct AieNntParams {
    AieNntArch arch;
    int patch;          /* low-resolution patch side (0 = 48) */
    int batch;          /* patches per step (0 = 16) */
    int loss;           /* AIE_NNT_L1 / L2 */
    double lr;          /* peak learning rate (0 = 1e-3) */
    double lr_min;      /* cosine floor, as a fraction of lr (0 = 0.02) */
    int64_t iters;      /* steps the cosine schedule spans (0 = 100000) */
    uint64_t seed;      /* initial weights and patch choice */
    int val_patches;    /* validation patches, at most 4096 (0 = 256) */
    unsigned cpu_flags; /* aie_cpu_flags() masked by --cpu */
    int threads;        /* threads that may run samples at once (pool threads + 1) */
} AieNntParams;

typedef struct AieNnTrainer AieNnTrainer;

int aie_nnt_create(AieNnTrainer **out, const AieNntParams *p, char *err, size_t errlen);
void aie_nnt_free(AieNnTrainer **t);

/* Add an image pair (copied): lr is lw x lh, hr exactly scale times that;
 * both planar RGB, plane after plane, rows packed. validation: hold it out
 * for aie_nnt_validate(). AIE_EINVAL when lr is smaller than a patch. */
int aie_nnt_add_pair(AieNnTrainer *t, const uint8_t *lr, int lw, int lh, const uint8_t *hr, int validation);
/* Change the number of validation patches (a resumed run); the best
 * weights so far are forgotten (their gain was measured on another set).
 * 0, AIE_EINVAL or AIE_ENOMEM. */
int aie_nnt_set_val_patches(AieNnTrainer *t, int n);
/* Make pair i (in the order added) a validation pair. */
int aie_nnt_hold_out(AieNnTrainer *t, int i);
/* Pairs added: for training, for validation. */
void aie_nnt_pairs(const AieNnTrainer *t, int *train, int *val);

/* One optimiser step on a batch drawn from the training pairs. *loss gets
 * the batch loss before the step. AIE_ENONFINITE when the loss or a
 * gradient is NaN or infinite (the weights are left as they were),
 * AIE_EINVAL without training pairs. */
int aie_nnt_step(AieNnTrainer *t, AiePool *pool, double *loss);

/* Y-PSNR (BT.601 luma) of the network and of its skip alone (the bicubic
 * baseline) over the validation patches, outputs clipped to 0..1. When it
 * improves on the best so far, the current weights become the best.
 * AIE_EINVAL without validation pairs. */
int aie_nnt_validate(AieNnTrainer *t, AiePool *pool, double *psnr_net, double *psnr_base);

int64_t aie_nnt_iteration(const AieNnTrainer *t);
/* Change the length of the cosine schedule (steps). */
void aie_nnt_set_iters(AieNnTrainer *t, int64_t iters);
/* Best validation gain (dB over the skip) so far, and its step; -1e9 and -1 before any. */
double aie_nnt_best_gain(const AieNnTrainer *t, int64_t *iter);
const AieNntParams *aie_nnt_params(const AieNnTrainer *t);

/* Write the weights (best: the best validated ones if any, else the current)
 * or a checkpoint, atomically; desc is stored in the file. err names the file. */
int aie_nnt_save(const AieNnTrainer *t, const char *path, int best, const char *desc, char *err, size_t errlen);
int aie_nnt_save_checkpoint(const AieNnTrainer *t, const char *path, char *err, size_t errlen);

/* The training loop (aie_nnt_run): what it reports after every step. */
typedef struct AieNntProgress {
    int64_t step, iters;  /* steps done, steps the schedule spans */
    double loss_avg;      /* running mean of the batch loss */
    double gain;          /* last validation gain over the skip in dB, NAN before any */
    double psnr;          /* the network's validation Y-PSNR then */
    int validated;        /* this step ran a validation */
    double patches_per_s, eta_s, elapsed_min;
} AieNntProgress;

typedef struct AieNntRunOpts {
    double budget_min;    /* stop in time for the last validation and the save; 0 = none */
    long long t0_us;      /* when the budget started (aie_time_us) */
    int fit_schedule;     /* with a budget: after 20 steps, the schedule spans what it allows */
    int val_steps;        /* validate every N steps (and at the end of the schedule) */
    double ckpt_every_min; /* checkpoint every N minutes (0 = none) */
    const char *ckpt_path;
    const AieCancel *cancel;
    void (*progress)(void *opaque, const AieNntProgress *p);
    void *opaque;
} AieNntRunOpts;

/* Step until the schedule ends, the budget is spent or cancel is requested.
 * Returns 0; AIE_ECANCELLED (a checkpoint written when checkpoints are on,
 * err then says where); AIE_ENONFINITE with err naming the step and whether
 * the checkpoint holds the last good weights; or another error with err. */
int aie_nnt_run(AieNnTrainer *t, AiePool *pool, const AieNntRunOpts *o, char *err, size_t errlen);

/* Resume from a checkpoint: the architecture, parameters (iters, lr, patch,
 * batch, loss, seed) and state of the file replace those of t's creation.
 * AIE_EMODEL with a one-line reason for a file that is not an aie
 * checkpoint, is damaged, or is for another architecture than t's
 * (arch_must_match). */
int aie_nnt_resume(AieNnTrainer *t, const char *path, int arch_must_match, char *err, size_t errlen);

/* What a weight or checkpoint file holds, without building a trainer. */
typedef struct AieNntFileInfo {
    int version, kind;
    AieNntArch arch;
    int64_t iteration;
    float gain_db;
    char desc[AIE_NNT_DESC_SIZE];
} AieNntFileInfo;
int aie_nnt_file_info(const void *data, size_t len, AieNntFileInfo *info, char *err, size_t errlen);

#endif /* AIE_NN_TRAIN_H */
