/* aie-style's per-frame work as a stage (aie/look.h, aie/stage.h). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aie/error.h"
#include "aie/look.h"
#include "aie/quality.h"

/* The flicker figure of sampled frame `seq` compares its output with the
 * output of frame seq - 1, the one the pipeline already made (no re-render):
 * job seq - 1 leaves a reference to its output here, job seq its input, its
 * output and the input before it; whichever comes second computes the figure
 * (two mean absolute differences of one plane). */
typedef struct Pair {
    int64_t seq;            /* the sampled frame; -1: slot free */
    AieFrame *in_prev, *in, *out, *out_prev;
} Pair;

typedef struct StyleStage {
    AieStyle *style;
    AieFramePool *frames;
    AieQualityAcc *flicker;
    int quality_every;
    pthread_mutex_t lock;   /* pairs, cost_us */
    int locked;             /* lock initialised */
    Pair *pairs;            /* grows to the jobs in flight, then reused */
    int npairs;
    long long cost_us;      /* thread CPU time of the figures */
} StyleStage;

static long long thread_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
        return aie_time_us();
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void pair_clear(Pair *p)
{
    aie_frame_unref(&p->in_prev);
    aie_frame_unref(&p->in);
    aie_frame_unref(&p->out);
    aie_frame_unref(&p->out_prev);
    p->seq = -1;
}

/* Leave this job's part of the figure of frame seq: the output of the frame
 * before it (out_prev), or the sampled frame's in_prev, in and out. Computes
 * the figure when the pair is complete. */
static void pair_put(StyleStage *s, int64_t seq, AieFrame *in_prev, AieFrame *in, AieFrame *out, AieFrame *out_prev)
{
    pthread_mutex_lock(&s->lock);
    Pair *p = NULL, *free_slot = NULL;
    for (int i = 0; i < s->npairs && !p; i++) {
        if (s->pairs[i].seq == seq)
            p = &s->pairs[i];
        else if (s->pairs[i].seq < 0 && !free_slot)
            free_slot = &s->pairs[i];
    }
    if (!p && !free_slot) {
        int n = s->npairs ? 2 * s->npairs : 8;
        Pair *np = realloc(s->pairs, (size_t)n * sizeof(*np));
        if (np) {
            for (int i = s->npairs; i < n; i++)
                np[i] = (Pair){.seq = -1};
            free_slot = &np[s->npairs];
            s->pairs = np;
            s->npairs = n;
        }
    }
    if (!p && (p = free_slot))
        p->seq = seq;
    if (!p) { /* out of memory: this sample is lost */
        pthread_mutex_unlock(&s->lock);
        return;
    }
    if (out_prev) {
        p->out_prev = aie_frame_ref(out_prev);
    } else {
        p->in_prev = aie_frame_ref(in_prev);
        p->in = aie_frame_ref(in);
        p->out = aie_frame_ref(out);
    }
    Pair done = {.seq = -1};
    if (p->out_prev && p->out) {
        done = *p;
        *p = (Pair){.seq = -1};
    }
    pthread_mutex_unlock(&s->lock);
    if (done.seq < 0)
        return;
    long long t0 = thread_us();
    double f = aie_style_flicker(done.in_prev, done.in, done.out_prev, done.out);
    if (isfinite(f))
        aie_quality_add(s->flicker, f);
    pair_clear(&done);
    pthread_mutex_lock(&s->lock);
    s->cost_us += thread_us() - t0;
    pthread_mutex_unlock(&s->lock);
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
    if (s->flicker) {
        if ((job->seq + 1) % s->quality_every == 0)
            pair_put(s, job->seq + 1, NULL, NULL, NULL, out);
        if (job->prev[0] && job->seq % s->quality_every == 0)
            pair_put(s, job->seq, job->prev[0], in, out, NULL);
    }
    return aie_job_emit(job, out);
}

static int st_quality(void *self, char **json)
{
    StyleStage *s = self;
    *json = NULL;
    if (!s->flicker)
        return 0;
    pthread_mutex_lock(&s->lock);
    double ms = (double)s->cost_us / 1000.0;
    pthread_mutex_unlock(&s->lock);
    aie_quality_set_cost(s->flicker, ms);
    return aie_quality_json(s->flicker, json);
}

static void st_free(void *self)
{
    StyleStage *s = self;
    if (!s)
        return;
    for (int i = 0; i < s->npairs; i++)
        pair_clear(&s->pairs[i]);
    free(s->pairs);
    if (s->locked)
        pthread_mutex_destroy(&s->lock);
    aie_style_free(&s->style);
    aie_frame_pool_free(&s->frames);
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
    if ((s->quality_every = aie_quality_every(quality_every, in->fps)) > 0 &&
        aie_quality_create(&s->flicker, "flicker_index", 0.05) == 0) {
        st->history = st->history ? st->history : 1;
        pthread_mutex_init(&s->lock, NULL);
        s->locked = 1;
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
