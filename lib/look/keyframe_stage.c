/* aie-style --keyframe/--exemplar as a stage (aie/keyframe.h, aie/stage.h). */
#include <stdio.h>
#include <stdlib.h>

#include "aie/error.h"
#include "aie/keyframe.h"

static int kf_emit(void *opaque, AieFrame *f)
{
    return aie_job_emit(opaque, f);
}

static int kf_process(void *self, AieJob *job, AiePool *pool)
{
    return aie_keyframe_push(self, job->in, kf_emit, job, pool);
}

static void kf_free(void *self)
{
    AieKeyframe *kf = self;
    aie_keyframe_free(&kf);
}

static const AieStageOps kf_ops = {.process = kf_process, .free = kf_free};

int aie_keyframe_stage_open(AieStage **out, AieKeyframe **kf, const AieVideoInfo *in, const char *method)
{
    *out = NULL;
    AieStage *s = calloc(1, sizeof(*s));
    if (!s)
        return AIE_ENOMEM;
    s->ops = &kf_ops;
    s->self = *kf;
    *kf = NULL;
    s->out = *in;
    s->flush_job = 1;
    s->queue_depth = 1; /* the engine takes the frames one at a time, in order */
    snprintf(s->method, sizeof(s->method), "%s", method ? method : "keyframe");
    snprintf(s->describe, sizeof(s->describe), "%s", s->method);
    *out = s;
    return 0;
}

const char *aie_keyframe_stage_error(const AieStage *s)
{
    return s && s->ops == &kf_ops ? aie_keyframe_error(s->self) : NULL;
}
