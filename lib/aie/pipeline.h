/*
 * The frame pipeline: read -> process -> write, as stages joined by bounded
 * queues. One reader thread decodes, a pool of worker threads processes jobs
 * (one job per input frame), and the calling thread writes the results in
 * order. At most `queue_depth` jobs are in flight, so memory stays bounded
 * whatever the length of the video.
 */
#ifndef AIE_PIPELINE_H
#define AIE_PIPELINE_H

#include <stdint.h>

#include "aie/frame.h"
#include "aie/io.h"
#include "aie/metrics.h"
#include "aie/stage.h"
#include "aie/thread.h"


typedef struct AiePipelineCallbacks {
    void *ctx;
    /* Process one job; runs on a pool thread, may call aie_pool_parallel_for.
     * Returns 0 or an AIE_E* code (which stops the run). */
    int (*process)(void *ctx, AieJob *job, AiePool *pool);
    int history;   /* previous inputs each job sees (0..AIE_PIPE_MAX_HISTORY) */
    int flush_job; /* run one last job with in == NULL after the end */
} AiePipelineCallbacks;

typedef struct AieProgress {
    int64_t frames_in, frames_out;
    int64_t frames_total;   /* expected input frames, -1 when unknown */
    double elapsed_s;
    double fps;             /* input frames per second so far */
    double eta_s;           /* -1 when unknown */
    int in_flight;          /* jobs queued or running now */
    /* what a progress line shows: input frames, or output frames when
     * AiePipelineOpts.out_total is set (a frame-rate change) */
    int64_t shown, shown_total; /* shown_total -1 when unknown */
    double shown_fps;
    int final;              /* the last report of the run (every frame through) */
} AieProgress;

typedef struct AiePipelineOpts {
    AiePool *pool;          /* required: runs the jobs */
    int queue_depth;        /* jobs in flight; 0 = 2 x threads + 2 */
    AieCancel *cancel;
    void (*progress)(void *opaque, const AieProgress *p); /* called from the writing thread */
    void *progress_opaque;
    double progress_interval_s; /* 0 = 0.25 s */
    int count_output;       /* progress counts output frames (a frame-rate change), not input */
    int64_t out_total;      /* with count_output: expected output frames, <= 0 when unknown */
    /* Called from the writing thread every snapshot_interval_s (0 = never). */
    void (*snapshot)(void *opaque, const AieProgress *p, const AiePipelineStats *s);
    void *snapshot_opaque;
    double snapshot_interval_s;
} AiePipelineOpts;

/* Run until the reader ends. Returns 0, or the first error (AIE_ECANCELLED when
 * the cancel token fired); err names the stage and the reason. stats is filled
 * in either case. The writer is not finished: the caller calls
 * aie_writer_finish() on success. */
int aie_pipeline_run(AieReader *r, AieWriter *w, const AiePipelineCallbacks *cb,
                     const AiePipelineOpts *o, AiePipelineStats *stats, char *err, size_t errlen);

/* The same, running a stage (aie/stage.h): its process op, history and flush
 * job, and its output count for the progress when it changes the rate. */
int aie_pipeline_run_stage(AieReader *r, AieWriter *w, AieStage *stage, const AiePipelineOpts *o,
                           AiePipelineStats *stats, char *err, size_t errlen);

#endif /* AIE_PIPELINE_H */
