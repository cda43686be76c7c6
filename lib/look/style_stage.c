/* aie-style's per-frame work as a stage (aie/look.h, aie/stage.h). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aie/error.h"
#include "aie/look.h"
#include "aie/quality.h"

typedef struct StyleStage {
    AieStyle *style;
    AieFramePool *frames;
    AieFramePool *scratch;  /* re-rendered previous outputs for the flicker figure */
    AieQualityAcc *flicker;
    int quality_every;
    /* The flicker figure runs off the frame's critical path: the sampled job
     * keeps references to its frames (no copy) in a free slot and queues the
     * re-render of the previous frame as a pool task behind the frame jobs.
     * With every slot busy the job computes it itself. */
    pthread_mutex_t q_lock;
    pthread_cond_t q_idle;
    int q_sync, q_pending;
    long long q_us;     /* thread CPU time of the figures, summed */
    struct FlickerTask {
        struct StyleStage *s;
        int64_t seq;
        AieFrame *in, *out, *prev[AIE_PIPE_MAX_HISTORY];
        int nprev, busy;
    } q_task[4];
} StyleStage;

static long long thread_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
        return aie_time_us();
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The flicker between the output of frame seq and a re-render of the one
 * before it (prev[0], with its own history prev[1..]). */
static void flicker(StyleStage *s, int64_t seq, AieFrame *in, AieFrame *const *prev, int nprev, const AieFrame *out,
                    AiePool *pool)
{
    long long t0 = thread_us();
    AieFrame *prev_out = NULL;
    if (aie_frame_pool_get(s->scratch, &prev_out) == 0 &&
        aie_style_process(s->style, seq - 1, prev[0], prev + 1, nprev - 1, prev_out, pool) == 0) {
        double f = aie_style_flicker(prev[0], in, prev_out, out);
        if (isfinite(f))
            aie_quality_add(s->flicker, f);
    }
    aie_frame_unref(&prev_out);
    pthread_mutex_lock(&s->q_lock);
    s->q_us += thread_us() - t0;
    pthread_mutex_unlock(&s->q_lock);
}

static void flicker_task(void *ctx, int index, int worker)
{
    (void)index;
    (void)worker;
    struct FlickerTask *t = ctx;
    StyleStage *s = t->s;
    /* on this thread alone, so that its CPU time is the figure's cost (the
     * result is the same on any number of threads) */
    flicker(s, t->seq, t->in, t->prev, t->nprev, t->out, NULL);
    aie_frame_unref(&t->in);
    aie_frame_unref(&t->out);
    for (int i = 0; i < t->nprev; i++)
        aie_frame_unref(&t->prev[i]);
    pthread_mutex_lock(&s->q_lock);
    t->busy = 0;
    if (--s->q_pending == 0)
        pthread_cond_broadcast(&s->q_idle);
    pthread_mutex_unlock(&s->q_lock);
}

static void flicker_later(StyleStage *s, const AieJob *job, int nprev, AieFrame *out, AiePool *pool)
{
    struct FlickerTask *t = NULL;
    pthread_mutex_lock(&s->q_lock);
    for (int i = 0; i < (int)(sizeof(s->q_task) / sizeof(s->q_task[0])) && !t; i++)
        if (!s->q_task[i].busy)
            t = &s->q_task[i];
    if (t && pool) {
        t->busy = 1;
        s->q_pending++;
    } else {
        t = NULL;
    }
    pthread_mutex_unlock(&s->q_lock);
    if (t) {
        t->s = s;
        t->seq = job->seq;
        t->in = aie_frame_ref(job->in);
        t->out = aie_frame_ref(out);
        t->nprev = nprev;
        for (int i = 0; i < nprev; i++)
            t->prev[i] = aie_frame_ref(job->prev[i]);
        if (aie_pool_submit(pool, flicker_task, t) == 0)
            return;
        aie_frame_unref(&t->in);
        aie_frame_unref(&t->out);
        for (int i = 0; i < nprev; i++)
            aie_frame_unref(&t->prev[i]);
        pthread_mutex_lock(&s->q_lock);
        t->busy = 0;
        s->q_pending--;
        pthread_mutex_unlock(&s->q_lock);
    }
    flicker(s, job->seq, job->in, job->prev, nprev, out, NULL);
}

/* Wait for the queued figures. */
static void flicker_drain(StyleStage *s)
{
    if (!s->q_sync)
        return;
    pthread_mutex_lock(&s->q_lock);
    while (s->q_pending)
        pthread_cond_wait(&s->q_idle, &s->q_lock);
    pthread_mutex_unlock(&s->q_lock);
}

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
    if (s->flicker && job->prev[0] && job->seq % s->quality_every == 0)
        flicker_later(s, job, nprev, out, pool);
    return aie_job_emit(job, out);
}

static int st_quality(void *self, char **json)
{
    StyleStage *s = self;
    *json = NULL;
    if (!s->flicker)
        return 0;
    flicker_drain(s);
    aie_quality_set_cost(s->flicker, (double)s->q_us / 1000.0);
    return aie_quality_json(s->flicker, json);
}

static void st_free(void *self)
{
    StyleStage *s = self;
    if (!s)
        return;
    flicker_drain(s);
    if (s->q_sync) {
        pthread_mutex_destroy(&s->q_lock);
        pthread_cond_destroy(&s->q_idle);
    }
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
            aie_quality_create(&s->flicker, "flicker_index", 0.05) == 0) {
            st->history = st->history ? st->history : 1;
            pthread_mutex_init(&s->q_lock, NULL);
            pthread_cond_init(&s->q_idle, NULL);
            s->q_sync = 1;
        }
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
    if (!s || s->ops != &style_ops)
        return NULL;
    flicker_drain(s->self); /* the style's state is final once the figures are in */
    return ((StyleStage *)s->self)->style;
}
