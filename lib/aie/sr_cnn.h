/*
 * Learned upscaling of frames (lib/sr/cnn.c) over the inference engine
 * (aie/nn.h), and the catalogue of pretrained models aie knows.
 *
 * A frame goes through: conversion to planar float RGB 0..1 (YUV with the
 * frame's matrix and range, chroma upsampled bilinearly with its siting;
 * gray replicated to R, G and B; 8 to 16-bit samples alike), the network
 * (tiled, threaded on the pool), conversion back to the frame's layout and
 * depth (YUV with the same matrix and range, chroma averaged with its
 * siting; gray as BT.601 luma), rounded and clipped. When the wanted size is
 * not the model's own (3x with a 2x model, or a --size), the network's
 * output is resampled with the lanczos scaler (aie/scale.h). Alpha does not
 * go through the network: it is upscaled on its own with lanczos.
 *
 * Unspecified matrix: BT.709 for sources of 720 lines or more, BT.601 below
 * (as the writer tags RGB sources). Unspecified range: limited.
 */
#ifndef AIE_SR_CNN_H
#define AIE_SR_CNN_H

#include <stddef.h>

#include "aie/frame.h"
#include "aie/nn.h"
#include "aie/thread.h"

/* ---- the catalogue ---- */

typedef struct AieCnnModelDesc {
    const char *name;     /* "waifu2x-scale2x", "realesr-animevideov3-x4", ... */
    const char *file;     /* path inside a model directory */
    int scale;            /* native scale factor */
    const char *content;  /* "photo" or "animation" */
    const char *origin;   /* where the weights come from */
    const char *licence;  /* "MIT", "BSD-3-Clause" */
    int rank;             /* preference among installed models of one scale, lower first */
} AieCnnModelDesc;

/* The models fetch-models.sh installs, in rank order. */
const AieCnnModelDesc *aie_cnn_catalogue(int *count);

/* A catalogue model by name, or NULL. */
const AieCnnModelDesc *aie_cnn_model_desc(const char *name);

/* Look for a catalogue model in dirs[0..ndirs) (the first directory holding
 * its file wins): 0 and its full path, or AIE_ENOENT. */
int aie_cnn_model_find(const char *const *dirs, int ndirs, const AieCnnModelDesc *d, char *path,
                       size_t pathlen);

/* One line of the installed-models list (aie-upscale --list-models). */
typedef struct AieModelEntry {
    int bank;                 /* a RAISR filter bank (else a CNN model) */
    int damaged;              /* the file does not load: error says why */
    char name[64];
    int scale;
    const char *content;      /* "photo", "anime", ..., "filters" for a bank */
    const char *licence;      /* "-" for a bank file, "as aie" for a built-in one */
    double gflop_per_mpixel;  /* compute per output megapixel */
    char file[4096];          /* the file, "(built-in)" for an embedded bank */
    char error[512];
} AieModelEntry;

/* The model and bank search path: $AIE_MODEL_DIR, $XDG_CACHE_HOME/aie/models,
 * ~/.cache/aie/models, then the data directory beside the installed tool
 * (BINDIR/../share/aie, $PREFIX/share/aie after make install). text: the
 * same joined by ':', for messages. */
typedef struct AieModelPath {
    char buf[4][4096];
    const char *dirs[4];
    int n;
    char text[4 * 4096 + 4];
} AieModelPath;
void aie_model_path_init(AieModelPath *mp);

/* The CNN models of the catalogue found on the search path, then the RAISR
 * banks: the built-in ones, then raisr-x<N>.bank files (N = 2..4) in each
 * directory. *out is malloc'ed (free it); 0 or AIE_ENOMEM. */
int aie_models_list(const char *const *dirs, int ndirs, AieModelEntry **out, int *n);

/* The best installed model for a scale factor: the smallest native scale at
 * least `scale` (else the largest there is), then the lowest rank. 0 with
 * *desc and path set, or AIE_ENOENT when no catalogue model is installed. */
int aie_cnn_model_pick(const char *const *dirs, int ndirs, double scale, const AieCnnModelDesc **desc,
                       char *path, size_t pathlen);

/* ---- upscaling frames ---- */

typedef struct AieCnnParams {
    int src_w, src_h;     /* input size */
    int dst_w, dst_h;     /* output size */
    AieLayout layout;     /* same layout and depth in and out */
    int depth;
    AieColor color;       /* of the source: matrix, range, chroma siting */
    int tile;             /* AieNnOpts.tile */
    size_t max_mem;       /* AieNnOpts.max_mem */
    int threads;          /* pool threads + 1 */
    int check_finite;     /* AieNnOpts.check_finite (--strict) */
} AieCnnParams;

typedef struct AieCnnUpscaler AieCnnUpscaler;

/* The model must outlive the upscaler. err says why creation failed. */
int aie_cnn_create(AieCnnUpscaler **out, const AieNnModel *m, const AieCnnParams *p,
                   unsigned cpu_flags, char *err, size_t errlen);

/* Upscale src into dst (allocated by the caller: dst size, same layout and
 * depth). Thread-safe: several frames may run at once on one pool. Does not
 * copy metadata. AIE_ENOMEM when even the smallest tile does not fit,
 * AIE_ECANCELLED when cancel fires. */
int aie_cnn_upscale(AieCnnUpscaler *u, const AieFrame *src, AieFrame *dst, AiePool *pool,
                    AieCancel *cancel);

/* The tile side in use (after any halving), and how often it was halved. */
int aie_cnn_tile(const AieCnnUpscaler *u);
int aie_cnn_halvings(const AieCnnUpscaler *u);

void aie_cnn_free(AieCnnUpscaler **u);

#endif /* AIE_SR_CNN_H */
