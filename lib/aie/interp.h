/*
 * Frame-rate conversion as a stage (aie/stage.h): aie-interp's per-frame
 * work. The stage emits the output frames of a new rate (or a slow-motion
 * stretch) from the input frames, motion-compensated (aie/motion.h) or
 * blended, holding the nearer frame across scene cuts.
 *
 * Timing: job i (input frame i) renders the output frames that fall between
 * input frames i - 2 and i - 1, so the cut detector sees two frames before
 * the pair and one after it; the final flush job renders the last pair and
 * the tail. Output frame k sits at k * step seconds of input time, step =
 * 1 / (output rate x slow-motion factor), and carries pts k in 1 / rate. The
 * aux packets (audio, subtitles) of each input frame move to the first
 * output frame at or after its time.
 *
 * The stage never touches files: the motion pictures of --flow-png go to a
 * caller's sink.
 */
#ifndef AIE_INTERP_H
#define AIE_INTERP_H

#include <stddef.h>

#include "aie/error.h"
#include "aie/frame.h"
#include "aie/stage.h"

/* Receives the colour-wheel picture (RGB, depth 8, the motion field's size)
 * of output frame k; called from pool threads, in any order. Returns 0, or
 * an AIE_E* code with err filled: the stage then stops calling it and
 * reports the message through aie_interp_stage_info(). */
typedef int (*AieFlowSink)(void *opaque, const AieFrame *rgb, int64_t k, char *err, size_t errlen);

typedef struct AieInterpParams {
    /* exactly one of fps, factor and slowmo is set; the others are 0/0 */
    AieRational fps;        /* output frame rate */
    AieRational factor;     /* output rate = input rate x factor */
    AieRational slowmo;     /* keep the rate, make the video this many times longer */
    int blend;              /* plain blend instead of motion compensation */
    double scene_threshold; /* aie_scene_cut() threshold; <= 0: AIE_SCENE_THRESHOLD_DEFAULT */
    int refuse_aux;         /* fail (AIE_EUNSUP, aux_refused) on a frame carrying aux packets:
                             * slow motion cannot carry audio */
    int quality;            /* keep the unreliable-motion figure for quality_json */
    unsigned cpu_flags;
    int plan_only;          /* resolve the output format only (--dry-run): the stage cannot process */
    const char *name;       /* the input's name, for messages */
    /* Moves src's aux packets to the end of dst's: aie_frame_append_aux() of
     * aie/io.h, given by the caller so that motion stays clear of I/O. NULL:
     * the input carries none (or they are dropped). */
    int (*aux_append)(AieFrame *dst, AieFrame *src);
    AieFlowSink flow_sink;  /* may be NULL */
    void *flow_opaque;
} AieInterpParams;

/* The output rate and timing for an input; 0, or AIE_EINVAL with err filled
 * (a usage error: the rate is unknown, out of range, above 1000 fps, or
 * lowers the input's by more than 3x). */
int aie_interp_plan(const AieInterpParams *p, const AieVideoInfo *in, AieRational *out_fps, char *err,
                    size_t errlen);

/* Open the stage for frames described by in; 0 or an AIE_E* code with err
 * filled. The stage's out carries the output rate and time base and the
 * expected output frame count; its drop_streams is set under slow motion. */
int aie_interp_stage_open(AieStage **out, const AieInterpParams *p, const AieVideoInfo *in, char *err,
                          size_t errlen);

typedef struct AieInterpInfo {
    AieRational out_fps;
    long cuts;                      /* scene cuts found so far */
    int single;                     /* the input had one frame: it was copied through */
    int aux_refused;                /* refuse_aux met a frame with aux packets */
    int flow_failed;                /* the flow sink failed (flow_error says why) */
    char flow_error[AIE_ERRBUF_SIZE];
} AieInterpInfo;

/* What a stage made by aie_interp_stage_open() did; 0 or AIE_EINVAL for
 * another stage. */
int aie_interp_stage_info(const AieStage *s, AieInterpInfo *info);

#endif /* AIE_INTERP_H */
