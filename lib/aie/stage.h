/*
 * The stage interface: the one shape of the per-frame work of every media
 * tool. A stage takes input frames in order (one job per input frame, with
 * the previous inputs it asked for) and emits zero or more output frames per
 * job; the pipeline (aie/pipeline.h) runs it between a reader and a writer,
 * and other drivers (a preview over sampled frames, a second pass over a
 * shot) run the same stage through aie_stage_process() and aie_stage_reset().
 *
 * Implementations: the upscaler front door (aie/upscale.h, lib/sr), frame-rate
 * conversion (lib/motion), style (lib/look). A stage never touches files.
 */
#ifndef AIE_STAGE_H
#define AIE_STAGE_H

#include <stdint.h>

#include "aie/frame.h"
#include "aie/thread.h"

/* The format of a stream of frames: what a reader delivers and a stage
 * emits. */
typedef struct AieVideoInfo {
    int width, height;
    AieLayout layout;       /* layout and depth of the frames the reader returns */
    int depth;
    AieRational fps;        /* nominal frame rate; 0/1 when unknown */
    AieRational time_base;  /* of the frames' pts */
    AieRational sar;        /* 0/1 when unknown */
    AieColor color;
    int64_t nb_frames;      /* frames the reader will return, -1 when unknown */
    int64_t duration_us;    /* -1 when unknown */
    int interlaced;
    int still;              /* a single image */
    int audio_streams;      /* audio streams the reader carries (0 with no_audio) */
    int other_streams;      /* all carried streams: audio, subtitle, data */
    char codec[32];         /* source codec name ("h264", "png", ...) */
    char pix_fmt[32];       /* source pixel format name as FFmpeg spells it */
    char container[32];     /* "mov,mp4,...", "yuv4mpegpipe", "png-sequence", ... */
} AieVideoInfo;

#define AIE_PIPE_MAX_HISTORY 4

typedef struct AieJob {
    int64_t seq;                          /* 0-based job number (= input frame number) */
    AieFrame *in;                         /* the input frame; NULL in the final flush job */
    AieFrame *prev[AIE_PIPE_MAX_HISTORY]; /* prev[0] = the input before `in`, ...; NULL at the start */
    AieFrame **out;                       /* emitted frames, written in order */
    int nout, cap;
} AieJob;

/* Add an output frame to a job (the job takes the reference). */
int aie_job_emit(AieJob *job, AieFrame *f);

typedef struct AieStageOps {
    /* Process one job; runs on a pool thread, may call aie_pool_parallel_for.
     * Jobs of one stage may run concurrently (different seq); outputs are
     * written in seq order. Returns 0 or an AIE_E* code (which stops the run). */
    int (*process)(void *self, AieJob *job, AiePool *pool);
    /* Forget the temporal state (after a seek, before a second pass); NULL
     * when the stage keeps none. */
    int (*reset)(void *self);
    /* The run's quality figures as a JSON object text for the metrics
     * run_end record (*json malloc'ed, NULL when none). NULL op: none. */
    int (*quality_json)(void *self, char **json);
    void (*free)(void *self);
} AieStageOps;

typedef struct AieStage {
    const AieStageOps *ops;
    void *self;
    AieVideoInfo out;      /* the frames it emits (size, layout, depth, fps) */
    int history;           /* previous inputs each job sees (0..AIE_PIPE_MAX_HISTORY) */
    int flush_job;         /* wants one last job with in == NULL after the end */
    int queue_depth;       /* jobs in flight at most, 0 = the pipeline's default */
    int count_output;      /* a frame-rate change: progress counts output frames */
    int64_t out_total;     /* with count_output: expected output frames, <= 0 unknown */
    int drop_streams;      /* the input's other streams cannot follow (a time stretch): the writer drops them */
    char method[64];       /* for the metrics record and -v: "lanczos", "raisr", ... */
    char model[4096];      /* model or bank name, "" when none */
    char options_json[512];/* extra run_end "options" object text, "" when none */
    char describe[512];    /* one human line of what it does, for -v */
} AieStage;

/* Run one job through the stage outside a pipeline (the caller owns the job
 * and frees job->out). */
int aie_stage_process(AieStage *s, AieJob *job, AiePool *pool);
int aie_stage_reset(AieStage *s);
/* Free the stage and its implementation; accepts NULL. */
void aie_stage_free(AieStage **s);
/* Free the frames a job emitted (when not handed to a writer). */
void aie_job_clear(AieJob *job);

#endif /* AIE_STAGE_H */
