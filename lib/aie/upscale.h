/*
 * The upscaler front door: one parameter struct for every way aie upscales
 * (classical filters, RAISR filter banks, CNN models), the method choice of
 * -m auto (with --budget-fps calibration), the model and bank search, and
 * the round-trip quality score of the metrics log. The result is a stage
 * (aie/stage.h) that the pipeline runs.
 */
#ifndef AIE_UPSCALE_H
#define AIE_UPSCALE_H

#include <stddef.h>

#include "aie/filter.h"
#include "aie/stage.h"
#include "aie/thread.h"

typedef enum AieUpscaleMethod {
    AIE_UPSCALE_AUTO = 0, /* a CNN for stills, RAISR for video; with budget_fps the best that keeps up */
    AIE_UPSCALE_FILTER,   /* classical resampling with `filter` */
    AIE_UPSCALE_RAISR,
    AIE_UPSCALE_CNN,
} AieUpscaleMethod;

typedef struct AieUpscaleParams {
    /* output size: scale (0 = 2), or size_w x size_h, or width and/or height
     * keeping the aspect ratio */
    double scale;
    int size_w, size_h, width, height;
    AieUpscaleMethod method;
    AieFilter filter;         /* AIE_UPSCALE_FILTER */
    const char *model;        /* CNN: an installed name or a file (NULL: best installed for the scale) */
    const char *bank;         /* RAISR: a bank file (NULL: raisr-x<N>.bank on the path, else built in) */
    double budget_fps;        /* auto: frames per second to keep up with, 0 = none */
    int tile;                 /* CNN tile side, 0 = automatic */
    size_t max_mem;           /* CNN tile memory cap in bytes, 0 = none */
    int check_finite;         /* CNN: fail on non-finite output (--strict) */
    const char *const *dirs;  /* model and bank search path, in order (the tool builds it) */
    int ndirs;
    int quality_every;        /* score the round trip of every Nth frame; 0 = never, < 0 = once per second */
    int threads;              /* worker threads of the pool the stage runs on */
    unsigned cpu_flags;
    AieCancel *cancel;
    const char *name;         /* the input's name, for messages */
    void (*warn)(void *opaque, const char *msg); /* non-fatal notes; may be NULL */
    void *warn_opaque;
} AieUpscaleParams;

/* What the front door resolved, for --dry-run and messages. */
typedef struct AieUpscaleInfo {
    int out_w, out_h;
    AieUpscaleMethod method;  /* after -m auto's choice (AUTO while not chosen: a dry run) */
    char method_name[32];     /* "auto", "lanczos", "raisr", "cnn", ... */
    char model_name[4096];    /* CNN model or RAISR bank name, "" for filters */
    char model_file[4096];    /* CNN model file, "" otherwise */
    char choice[512];         /* -m auto: why, as a JSON object text ("" otherwise) */
    char chose[160];          /* -m auto: "raisr (video)", for -v ("" otherwise) */
    double load_s;            /* CNN: seconds to load the model */
    int tile, halvings;       /* CNN: tile side in input pixels, times it was halved to fit memory */
} AieUpscaleInfo;

/* The output size for in under p (odd sizes kept: the writer pads where an
 * encoder needs even ones). Returns
 * 0, or AIE_ETOOBIG with err saying why. */
int aie_upscale_output_size(const AieUpscaleParams *p, const AieVideoInfo *in, int *w, int *h, char *err,
                            size_t errlen);

/* Check before reading anything that -m cnn has a model to use: an explicit
 * file is taken as is, a name must be installed, no name needs one
 * installed. Returns 0 or AIE_ENOENT with err naming the search path. */
int aie_upscale_check_model(const AieUpscaleParams *p, char *err, size_t errlen);

/* Open the stage for frames of `in`. With pool == NULL only resolve (output
 * size, model, bank; no -m auto choice, nothing built): what --dry-run
 * prints. Returns 0 or an AIE_E* code with err naming the file and reason. */
int aie_upscale_open(AieStage **out, const AieUpscaleParams *p, const AieVideoInfo *in, AiePool *pool, char *err,
                     size_t errlen);

/* What the stage (made by aie_upscale_open) resolved; 0 or AIE_EINVAL for
 * another kind of stage. */
int aie_upscale_info(const AieStage *s, AieUpscaleInfo *info);

#endif /* AIE_UPSCALE_H */
