/* The stage interface's small common part (aie/stage.h). */
#include <stdlib.h>

#include "aie/error.h"
#include "aie/stage.h"

int aie_job_emit(AieJob *job, AieFrame *f)
{
    if (job->nout == job->cap) {
        int cap = job->cap ? job->cap * 2 : 2;
        AieFrame **o = realloc(job->out, (size_t)cap * sizeof(*o));
        if (!o) {
            aie_frame_unref(&f);
            return AIE_ENOMEM;
        }
        job->out = o;
        job->cap = cap;
    }
    job->out[job->nout++] = f;
    return 0;
}

void aie_job_clear(AieJob *job)
{
    for (int i = 0; i < job->nout; i++)
        aie_frame_unref(&job->out[i]);
    free(job->out);
    job->out = NULL;
    job->nout = job->cap = 0;
}

int aie_stage_process(AieStage *s, AieJob *job, AiePool *pool)
{
    return s->ops->process(s->self, job, pool);
}

int aie_stage_reset(AieStage *s)
{
    return s->ops->reset ? s->ops->reset(s->self) : 0;
}

void aie_stage_free(AieStage **s)
{
    if (!s || !*s)
        return;
    if ((*s)->ops && (*s)->ops->free)
        (*s)->ops->free((*s)->self);
    free(*s);
    *s = NULL;
}
