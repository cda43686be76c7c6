/*
 * Preview before you render: run a tool's stage (aie/stage.h) with the job's
 * settings on a few frames sampled across the clip, and write a directory
 * with the input and output pictures of each sample, preview.json (the
 * measured numbers and an estimate for the whole job, man/aie-preview.5)
 * and index.html, one self-contained page with a before/after wipe slider.
 *
 * Sampling: a seekable input is sampled at evenly spaced keyframes (the
 * reader seeks; the clip is never decoded whole); the scene detector runs on
 * a thumbnail of each candidate and within the short window decoded after
 * each chosen keyframe, so that each shot found is represented. An input
 * that cannot seek (a pipe) is sampled from its first seconds, an input
 * with fewer frames than samples gives all its frames; both are said through
 * the note callback.
 *
 * With several methods (--compare) every method runs on the same frames; the
 * page has a method picker for each side of the slider, and preview.json a
 * recommendation: the best method measured that fits the frame-rate budget.
 *
 * The directory is built in a temporary directory beside it and renamed into
 * place: on failure nothing is left. An existing DIR that is not empty is
 * refused unless force is set, and force replaces only a directory that holds
 * an earlier preview.json.
 */
#ifndef AIE_PREVIEW_H
#define AIE_PREVIEW_H

#include <stddef.h>

#include "aie/io.h"
#include "aie/stage.h"
#include "aie/thread.h"

/* What the tool measures on each sample. */
typedef enum AiePreviewMeasure {
    AIE_PREVIEW_ROUNDTRIP, /* upscaling: PSNR of the output scaled back to the input size (dB, higher is better) */
    AIE_PREVIEW_MOTION,    /* frame-rate conversion: reliability of the motion between the pair (0..1) */
    AIE_PREVIEW_FLICKER,   /* style: flicker index of the output pair (1 = adds none, lower is better) */
} AiePreviewMeasure;

/* Open the stage of method `method` (an index into methods; 0 with no
 * methods: the job's own) for frames described by in. Returns 0 or an AIE_E*
 * code with msg filled. */
typedef int (*AiePreviewOpenFn)(void *opaque, int method, const AieVideoInfo *in, AiePool *pool, AieStage **out,
                                char *msg, size_t n);

#define AIE_PREVIEW_MAX_METHODS 16
#define AIE_PREVIEW_MAX_SAMPLES 64
#define AIE_PREVIEW_DEFAULT_SAMPLES 6

typedef struct AiePreviewParams {
    const char *dir;            /* the directory to write */
    int samples;                /* frames to sample, 0 = AIE_PREVIEW_DEFAULT_SAMPLES */
    int force;                  /* replace a directory holding an earlier preview */
    double budget_fps;          /* the recommendation must reach this rate, 0 = no budget */
    int threads;                /* the job's -j */
    const char *tool;           /* "aie-upscale", ... */
    const char *input;
    const char *output;         /* the job's -o, naming the container of the size estimate; may be NULL */
    AiePreviewMeasure measure;
    const char *const *methods; /* names of the methods compared; NULL/0: the job's method alone */
    int nmethods;
    const char *job_method;     /* the name of the job's method (shown without methods) */
    AiePreviewOpenFn open;
    void *opaque;
    AieReaderOpts reader;       /* decoder options; the frame range and the audio are the preview's */
    AieWriterOpts writer;       /* the job's encoder, for the size estimate */
    double pipe_seconds;        /* an unseekable input is sampled from its first seconds, 0 = 10 */
    unsigned cpu_flags;
    AieCancel *cancel;
    AieWarnFn note;             /* the notes (pipe input, a short input, where it went) */
    void *note_opaque;
} AiePreviewParams;

/* Run the preview. Returns 0, or an AIE_E* code with err filled with one line
 * naming the directory or the input: AIE_EEXIST for a DIR that is not empty
 * (no force) or holds no preview.json (force); AIE_EACCES, AIE_ENOSPC or
 * AIE_EIO for a directory that cannot be written (read-only, full). */
int aie_preview_run(const AiePreviewParams *p, char *err, size_t errlen);

/* ---- a batch (aie-batch --preview DIR) ---- */

/* Run job k's preview (0-based) into the directory `dir` (not there yet).
 * Returns 0, or the job's non-zero exit status with err filled with its last
 * error line. */
typedef int (*AiePreviewJobFn)(void *opaque, int k, const char *dir, char *err, size_t errlen);

typedef struct AiePreviewBatchParams {
    const char *dir;
    int force;                 /* as AiePreviewParams.force */
    const char *const *cmds;   /* the command lines of the jobs previewed */
    int npreview;              /* jobs previewed (the first of the batch) */
    int njobs;                 /* jobs in the batch */
    AiePreviewJobFn run;
    void *opaque;
    AieCancel *cancel;
    AieWarnFn note;
    void *note_opaque;
} AiePreviewBatchParams;

/* Preview the first jobs of a batch: DIR/jobNN/ holds each job's preview,
 * DIR/index.html one section per job (its command, first sample, estimate,
 * recommendation and a link to its page) and the totals estimated for the
 * whole batch, DIR/preview.json the same numbers ("format":
 * "aie-preview-batch", man/aie-preview.5). Temp-then-rename and the refusals
 * of aie_preview_run(). *failed gets the jobs whose preview failed (their
 * sections say why). Returns 0 or an AIE_E* code with err filled. */
int aie_preview_batch(const AiePreviewBatchParams *p, int *failed, char *err, size_t errlen);

#endif /* AIE_PREVIEW_H */
