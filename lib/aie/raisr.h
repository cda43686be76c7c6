/*
 * RAISR-style learned upscaling (Romano, Isidoro, Milanfar 2016): a cheap
 * bicubic pre-upscale corrected by one small learned filter per output pixel,
 * picked by the pixel's phase and a hash of the local structure tensor
 * (angle 24 bins x strength x coherence, usually 3 x 3). Filter banks are
 * trained in closed form by least squares (aie_raisr_train_*) and stored in a
 * small versioned file (aie_raisr_bank_*).
 *
 * Folded form. For an integer scale r, the bicubic pre-upscale and the filter
 * are both linear in the low-resolution pixels, so aie stores and applies
 * each (phase, bucket) filter folded with the pre-upscale: a k x k kernel on
 * the low-resolution neighbourhood of the output pixel (k = 7 covers a 9x9
 * filter on the pre-upscaled image at 2x, and more at 3x and 4x). It is the
 * same kind of model at a fraction of the cost, and the well-posed one to
 * solve: a 9x9 filter on a bicubic image has only 64 independent degrees of
 * freedom at 2x. The bicubic pre-upscale remains the prior the training
 * shrinks towards, and each pixel is clamped to the range of the 3x3
 * low-resolution pixels around it widened by a quarter on each side (the
 * guard against overshoot and ringing).
 *
 * The learned filter runs on luma (YUV), on each plane of RGB and gray; chroma
 * and alpha use the classical lanczos resampler. Samples are processed in
 * 14-bit precision (15- and 16-bit sources lose their lowest bits).
 */
#ifndef AIE_RAISR_H
#define AIE_RAISR_H

#include <stddef.h>
#include <stdint.h>

#include "aie/frame.h"
#include "aie/thread.h"

#define AIE_RAISR_BANK_VERSION 1
#define AIE_RAISR_DESC_SIZE 256

typedef struct AieRaisrBank AieRaisrBank;

typedef struct AieRaisrBankInfo {
    int version;
    int scale;          /* 2, 3 or 4 */
    int k;              /* kernel side on the low-resolution grid: 3, 5 or 7 */
    int nangle, nstrength, ncoherence;
    int buckets;        /* nangle * nstrength * ncoherence */
    float strength_thr[7], coherence_thr[7];
    int64_t samples;    /* training samples (low-resolution cells) */
    int64_t fallback;   /* buckets solved from the per-phase filter for lack of samples */
    char desc[AIE_RAISR_DESC_SIZE]; /* how it was trained, NUL-terminated */
    size_t file_size;   /* bytes of the serialised bank */
} AieRaisrBankInfo;

/* Read a bank file. Every field, the size and the checksum are verified;
 * AIE_EINVAL with a one-line reason in err for anything wrong (truncated,
 * corrupt, other version, weights out of range), AIE_EIO/AIE_ENOENT when the
 * file cannot be read. */
int aie_raisr_bank_load(AieRaisrBank **out, const char *path, char *err, size_t errlen);

/* The same from bytes in memory. */
int aie_raisr_bank_parse(AieRaisrBank **out, const void *data, size_t size, char *err, size_t errlen);

/* The default bank compiled into libaie for scale 2, 3 or 4: 0, or AIE_ENOENT. */
int aie_raisr_bank_builtin(AieRaisrBank **out, int scale);

/* Serialise (malloc'd buffer) or write atomically (temp file then rename). */
int aie_raisr_bank_serialize(const AieRaisrBank *b, uint8_t **data, size_t *size);
int aie_raisr_bank_save(const AieRaisrBank *b, const char *path, char *err, size_t errlen);

void aie_raisr_bank_info(const AieRaisrBank *b, AieRaisrBankInfo *info);

/* Weight w (Q14 integer) of tap (i, j) of the k x k kernel of (bucket, phase):
 * for tests and tools that inspect a bank. */
int aie_raisr_bank_weight(const AieRaisrBank *b, int bucket, int phase, int i, int j);

void aie_raisr_bank_free(AieRaisrBank **b);

/* ---- upscaling frames ---- */

typedef struct AieRaisrParams {
    int src_w, src_h;   /* input size */
    int dst_w, dst_h;   /* output size; other than src * scale: a lanczos pass follows */
    AieLayout layout;   /* same layout and depth in and out */
    int depth;
    int chroma_loc;     /* AieColor.chroma_loc of the source */
} AieRaisrParams;

typedef struct AieRaisrUpscaler AieRaisrUpscaler;

/* The bank must outlive the upscaler. */
int aie_raisr_create(AieRaisrUpscaler **out, const AieRaisrBank *bank, const AieRaisrParams *p,
                     unsigned cpu_flags);

/* Upscale src into dst (caller-allocated, dst size, same layout and depth).
 * Slices run on pool. Thread-safe: several frames may run at once. Does not
 * copy metadata. */
int aie_raisr_upscale(const AieRaisrUpscaler *u, const AieFrame *src, AieFrame *dst, AiePool *pool);

void aie_raisr_free(AieRaisrUpscaler **u);

/* ---- training ---- */

typedef struct AieRaisrTrainParams {
    int scale;           /* 2, 3 or 4 */
    int k;               /* kernel side, 3, 5 or 7 (0 = 7) */
    int nstrength, ncoherence;             /* 0 = 3 */
    float strength_thr[7], coherence_thr[7]; /* all 0 = the defaults */
    double blur;         /* Gaussian sigma (HR pixels) applied before the bicubic downscale, 0 = none */
    double noise;        /* Gaussian noise sigma (8-bit units) added to the LR image, 0 = none */
    uint64_t seed;       /* of the noise */
    double lambda;       /* ridge strength relative to the data (0 = 1e-5) */
    int min_samples;     /* fewer cells in a bucket: use the per-phase filter (0 = 20) */
    int step;            /* use every step-th cell in x and y (0 = 1) */
    int no_symmetry;     /* do not add the 8 flips and transposes of every sample */
    int fit_clamped;     /* also fit cells whose target the guard would clamp */
    char desc[AIE_RAISR_DESC_SIZE];
} AieRaisrTrainParams;

typedef struct AieRaisrTrainer AieRaisrTrainer;

int aie_raisr_train_create(AieRaisrTrainer **out, const AieRaisrTrainParams *p, int threads,
                           unsigned cpu_flags, char *err, size_t errlen);

/* Add one high-resolution image (any layout and depth; luma for YUV and gray,
 * BT.601 luma for RGB). index numbers the images in input order: it seeds the
 * noise, so results do not depend on threads or timing. AIE_EINVAL when the
 * image is too small for one patch. Uses the pool for rows. */
int aie_raisr_train_add(AieRaisrTrainer *t, const AieFrame *hr, int64_t index, AiePool *pool);

/* Add a pair given as it is, with no degradation: lr (gray, 8-bit, any size
 * of at least k + 2 on a side) and its high-resolution target hr (gray,
 * depth 14, exactly scale x the size of lr, samples 0..16383). For training
 * on pairs made some other way, and for tests. */
int aie_raisr_train_add_pair(AieRaisrTrainer *t, const AieFrame *lr, const AieFrame *hr, AiePool *pool);

/* Solve every bucket and return the bank. */
int aie_raisr_train_finish(AieRaisrTrainer *t, AieRaisrBank **out, char *err, size_t errlen);

/* Cells added so far. */
int64_t aie_raisr_train_samples(const AieRaisrTrainer *t);

void aie_raisr_train_free(AieRaisrTrainer **t);

#endif /* AIE_RAISR_H */
