/* aie-style's per-frame work as a stage (aie/look.h, aie/stage.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "aie/error.h"
#include "aie/look.h"
#include "aie/quality.h"

typedef struct StyleStage {
    AieStyle *style;
    AieFramePool *frames;
    AieFramePool *scratch;  /* re-rendered previous outputs for the flicker figure */
    AieQualityAcc *flicker;
    int quality_every;
} StyleStage;

static int st_process(void *self, AieJob *job, AiePool *pool)
{
    StyleStage *s = self;
    AieFrame *in = job->in, *out;
    int err = aie_frame_pool_get(s->frames, &out);
    if (err)
        return err;
    int nprev = 0;
    while (nprev < AIE_STYLE_HISTORY && job->prev[nprev])
        nprev++;
    if ((err = aie_style_process(s->style, job->seq, in, job->prev, nprev, out, pool))) {
        aie_frame_unref(&out);
        return err;
    }
    aie_frame_copy_props(out, in);
    if (s->flicker && job->prev[0] && job->seq % s->quality_every == 0) {
        AieFrame *prev_out = NULL;
        if (aie_frame_pool_get(s->scratch, &prev_out) == 0 &&
            aie_style_process(s->style, job->seq - 1, job->prev[0], job->prev + 1, nprev - 1, prev_out, pool) == 0) {
            double f = aie_style_flicker(job->prev[0], in, prev_out, out);
            if (isfinite(f))
                aie_quality_add(s->flicker, f);
        }
        aie_frame_unref(&prev_out);
    }
    return aie_job_emit(job, out);
}

static int st_quality(void *self, char **json)
{
    StyleStage *s = self;
    *json = NULL;
    return s->flicker ? aie_quality_json(s->flicker, json) : 0;
}

static void st_free(void *self)
{
    StyleStage *s = self;
    if (!s)
        return;
    aie_style_free(&s->style);
    aie_frame_pool_free(&s->frames);
    aie_frame_pool_free(&s->scratch);
    aie_quality_free(&s->flicker);
    free(s);
}

static const AieStageOps style_ops = {.process = st_process, .quality_json = st_quality, .free = st_free};

int aie_style_stage_open(AieStage **out, const AieStyleParams *p, const AieVideoInfo *in, int quality_every,
                         unsigned cpu_flags, const char *method, const char *describe)
{
    *out = NULL;
    AieStage *st = calloc(1, sizeof(*st));
    StyleStage *s = calloc(1, sizeof(*s));
    int err = AIE_ENOMEM;
    if (!st || !s)
        goto fail;
    if ((err = aie_style_create(&s->style, p, in->width, in->height, in->layout, in->depth, cpu_flags)) ||
        (err = aie_frame_pool_create(&s->frames, in->width, in->height, in->layout, in->depth)))
        goto fail;
    st->history = p->reference || p->look.look ? AIE_STYLE_HISTORY : 0;
    if ((s->quality_every = aie_quality_every(quality_every, in->fps)) > 0) {
        if (aie_frame_pool_create(&s->scratch, in->width, in->height, in->layout, in->depth) == 0 &&
            aie_quality_create(&s->flicker, "flicker_index", 0.05) == 0)
            st->history = st->history ? st->history : 1;
    }
    st->ops = &style_ops;
    st->self = s;
    st->out = *in;
    snprintf(st->method, sizeof(st->method), "%s", method ? method : "style");
    snprintf(st->describe, sizeof(st->describe), "%s", describe ? describe : st->method);
    *out = st;
    return 0;
fail:
    free(st);
    st_free(s);
    return err;
}

AieStyle *aie_style_stage_style(const AieStage *s)
{
    return s && s->ops == &style_ops ? ((StyleStage *)s->self)->style : NULL;
}
