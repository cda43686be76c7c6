/* read -> process -> write with bounded in-flight jobs and ordered output.
 *
 * The reader thread decodes and submits one job per input frame to the pool,
 * waiting while `depth` jobs are in flight. Jobs finish in any order; the
 * calling thread writes them strictly by sequence number from a ring of
 * `depth` slots. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aie/error.h"
#include "aie/pipeline.h"

typedef struct Slot {
    AieJob job;
    int state; /* 0 free, 1 running, 2 done */
    int err;
    double process_us;
} Slot;

typedef struct Pipe {
    const AiePipelineCallbacks *cb;
    const AiePipelineOpts *o;
    AieReader *r;
    AiePool *pool;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    Slot *slots;
    int depth;
    int64_t submitted;     /* jobs handed to the pool */
    int64_t written;       /* jobs whose outputs were written */
    int64_t written_in;    /* ... of them with an input frame (all but the flush job) */
    int reader_done;       /* no more jobs will be submitted */
    int stop;              /* an error or a cancel: everyone winds down */
    int err;               /* first error */
    char errmsg[AIE_ERRBUF_SIZE];
    double read_us, wait_read_us;
    int64_t frames_in;
    int in_flight, max_in_flight;
} Pipe;

typedef struct Task {
    Pipe *p;
    Slot *s;
} Task;


static void job_clear(AieJob *j)
{
    aie_frame_unref(&j->in);
    for (int i = 0; i < AIE_PIPE_MAX_HISTORY; i++)
        aie_frame_unref(&j->prev[i]);
    for (int i = 0; i < j->nout; i++)
        aie_frame_unref(&j->out[i]);
    j->nout = 0;
}

static void set_error(Pipe *p, int err, const char *msg)
{
    /* called with the lock held */
    if (!p->err) {
        p->err = err;
        snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg && *msg ? msg : aie_strerror(err));
    }
    p->stop = 1;
    pthread_cond_broadcast(&p->cond);
}

static void run_job(void *ctx, int index, int worker)
{
    (void)index;
    (void)worker;
    Task *t = ctx;
    Pipe *p = t->p;
    Slot *s = t->s;
    free(t);
    int stop;
    pthread_mutex_lock(&p->lock);
    stop = p->stop;
    pthread_mutex_unlock(&p->lock);
    long long t0 = aie_time_us();
    int err = stop ? AIE_ECANCELLED : p->cb->process(p->cb->ctx, &s->job, p->pool);
    if (!err && aie_cancel_requested(p->o->cancel))
        err = AIE_ECANCELLED;
    s->process_us = (double)(aie_time_us() - t0);
    pthread_mutex_lock(&p->lock);
    s->err = err;
    s->state = 2;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* Wait for a free slot for job seq and submit it. Takes the job's frames. */
static int submit(Pipe *p, AieJob *job)
{
    long long t0 = aie_time_us();
    pthread_mutex_lock(&p->lock);
    Slot *s = &p->slots[p->submitted % p->depth];
    while (!p->stop && s->state != 0)
        pthread_cond_wait(&p->cond, &p->lock);
    p->wait_read_us += (double)(aie_time_us() - t0);
    if (p->stop) {
        pthread_mutex_unlock(&p->lock);
        job_clear(job);
        return AIE_ECANCELLED;
    }
    AieFrame **keep_out = s->job.out;
    int keep_cap = s->job.cap;
    s->job = *job;
    s->job.out = keep_out;
    s->job.cap = keep_cap;
    s->job.nout = 0;
    s->job.seq = p->submitted;
    s->state = 1;
    s->err = 0;
    p->submitted++;
    p->in_flight++;
    if (p->in_flight > p->max_in_flight)
        p->max_in_flight = p->in_flight;
    pthread_mutex_unlock(&p->lock);
    Task *t = malloc(sizeof(*t));
    int err = t ? 0 : AIE_ENOMEM;
    if (t) {
        t->p = p;
        t->s = s;
        err = aie_pool_submit(p->pool, run_job, t);
        if (err)
            free(t);
    }
    if (err) {
        pthread_mutex_lock(&p->lock);
        s->err = err;
        s->state = 2;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
    }
    return err;
}

static void *reader_main(void *arg)
{
    Pipe *p = arg;
    AieFrame *hist[AIE_PIPE_MAX_HISTORY] = {0};
    int nh = p->cb->history;
    int err = 0;
    for (;;) {
        if (aie_cancel_requested(p->o->cancel)) {
            err = AIE_ECANCELLED;
            break;
        }
        AieFrame *f = NULL;
        long long t0 = aie_time_us();
        err = aie_reader_read(p->r, &f);
        p->read_us += (double)(aie_time_us() - t0);
        if (err)
            break;
        p->frames_in++;
        AieJob job = {0};
        job.in = f;
        for (int i = 0; i < nh; i++)
            job.prev[i] = aie_frame_ref(hist[i]);
        if (nh > 0) {
            aie_frame_unref(&hist[nh - 1]);
            memmove(hist + 1, hist, (size_t)(nh - 1) * sizeof(*hist));
            hist[0] = aie_frame_ref(f);
        }
        if ((err = submit(p, &job)))
            break;
    }
    if (err == AIE_EOF && p->cb->flush_job) {
        AieJob job = {0};
        for (int i = 0; i < nh; i++)
            job.prev[i] = aie_frame_ref(hist[i]);
        err = submit(p, &job);
        if (!err)
            err = AIE_EOF;
    }
    for (int i = 0; i < nh; i++)
        aie_frame_unref(&hist[i]);
    pthread_mutex_lock(&p->lock);
    if (err != AIE_EOF)
        set_error(p, err, err == AIE_ECANCELLED ? "" : aie_reader_error(p->r));
    p->reader_done = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* in_flight: p->in_flight, read by the caller under the lock (the reader
 * thread changes it) */
static void report_progress(Pipe *p, AiePipelineStats *st, long long t_start, int64_t frames_out,
                            int in_flight, int final)
{
    AieProgress pr;
    pr.final = final;
    pr.frames_in = p->written_in; /* input frames fully through the pipeline (not the flush job) */
    pr.frames_out = frames_out;
    pr.frames_total = aie_reader_info(p->r)->nb_frames;
    pr.in_flight = in_flight;
    pr.elapsed_s = (double)(aie_time_us() - t_start) / 1e6;
    pr.fps = pr.elapsed_s > 0 ? (double)pr.frames_in / pr.elapsed_s : 0;
    pr.eta_s = pr.frames_total > 0 && pr.fps > 0
                   ? (double)(pr.frames_total - pr.frames_in) / pr.fps
                   : -1;
    if (pr.eta_s < 0 && pr.frames_total > 0)
        pr.eta_s = 0;
    pr.shown = pr.frames_in;
    pr.shown_total = pr.frames_total;
    pr.shown_fps = pr.fps;
    if (p->o->count_output) {
        pr.shown = frames_out;
        pr.shown_total = p->o->out_total > 0 ? p->o->out_total : -1;
        pr.shown_fps = pr.elapsed_s > 0 ? (double)frames_out / pr.elapsed_s : 0;
        pr.eta_s = -1;
        if (pr.shown_total > 0 && pr.shown_fps > 0)
            pr.eta_s = pr.shown >= pr.shown_total ? 0 : (double)(pr.shown_total - pr.shown) / pr.shown_fps;
    }
    if (p->o->progress)
        p->o->progress(p->o->progress_opaque, &pr);
    (void)st;
}

int aie_pipeline_run(AieReader *r, AieWriter *w, const AiePipelineCallbacks *cb,
                     const AiePipelineOpts *o, AiePipelineStats *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    if (!o->pool || !cb->process || cb->history < 0 || cb->history > AIE_PIPE_MAX_HISTORY)
        return AIE_EINVAL;
    Pipe p = {0};
    p.cb = cb;
    p.o = o;
    p.r = r;
    p.pool = o->pool;
    p.depth = o->queue_depth > 0 ? o->queue_depth : 2 * aie_pool_threads(o->pool) + 2;
    p.slots = calloc((size_t)p.depth, sizeof(*p.slots));
    if (!p.slots)
        return AIE_ENOMEM;
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.cond, NULL);
    long long t_start = aie_time_us();
    pthread_t reader;
    if (pthread_create(&reader, NULL, reader_main, &p)) {
        free(p.slots);
        return AIE_ENOMEM;
    }
    double interval = o->progress_interval_s > 0 ? o->progress_interval_s : 0.25;
    long long next_progress = t_start + (long long)(interval * 1e6);
    long long next_snap = o->snapshot_interval_s > 0 ? t_start + (long long)(o->snapshot_interval_s * 1e6) : 0;
    double write_us = 0, wait_write_us = 0, process_us = 0;
    int64_t frames_out = 0;

    pthread_mutex_lock(&p.lock);
    for (;;) {
        Slot *s = &p.slots[p.written % p.depth];
        long long t0 = aie_time_us();
        while (!(p.written < p.submitted && s->state == 2) &&
               !(p.reader_done && p.written == p.submitted) && !p.stop) {
            /* wake up now and then to notice a cancel while every thread is busy */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&p.cond, &p.lock, &ts);
            if (aie_cancel_requested(o->cancel))
                set_error(&p, AIE_ECANCELLED, "");
        }
        wait_write_us += (double)(aie_time_us() - t0);
        if (p.stop)
            break;
        if (p.reader_done && p.written == p.submitted)
            break;
        /* s is done */
        if (s->err) {
            char msg[128];
            snprintf(msg, sizeof(msg), "processing frame %lld: %s", (long long)s->job.seq,
                     aie_strerror(s->err));
            set_error(&p, s->err, s->err == AIE_ECANCELLED ? "" : msg);
            break;
        }
        p.in_flight--;
        pthread_mutex_unlock(&p.lock);
        process_us += s->process_us;
        const int had_in = s->job.in != NULL;
        if (had_in)
            aie_hist_add(&st->frame_hist, s->process_us);
        int werr = 0;
        long long tw = aie_time_us();
        for (int i = 0; i < s->job.nout && !werr; i++) {
            werr = aie_writer_write(w, s->job.out[i]);
            if (!werr)
                frames_out++;
        }
        write_us += (double)(aie_time_us() - tw);
        job_clear(&s->job);
        pthread_mutex_lock(&p.lock);
        if (werr) {
            set_error(&p, werr, aie_writer_error(w));
            break;
        }
        s->state = 0;
        p.written_in += had_in;
        p.written++;
        pthread_cond_broadcast(&p.cond);
        long long now = aie_time_us();
        if (now >= next_progress) {
            next_progress = now + (long long)(interval * 1e6);
            int in_flight = p.in_flight;
            pthread_mutex_unlock(&p.lock);
            report_progress(&p, st, t_start, frames_out, in_flight, 0);
            pthread_mutex_lock(&p.lock);
        }
        if (next_snap && now >= next_snap && o->snapshot) {
            next_snap = now + (long long)(o->snapshot_interval_s * 1e6);
            AieProgress pr = {.frames_in = p.written_in, .frames_out = frames_out,
                              .frames_total = aie_reader_info(r)->nb_frames,
                              .elapsed_s = (double)(now - t_start) / 1e6,
                              .in_flight = p.in_flight};
            pr.fps = pr.elapsed_s > 0 ? (double)pr.frames_in / pr.elapsed_s : 0;
            st->frames_in = p.written;
            st->frames_out = frames_out;
            st->max_in_flight = p.max_in_flight;
            pthread_mutex_unlock(&p.lock);
            o->snapshot(o->snapshot_opaque, &pr, st);
            pthread_mutex_lock(&p.lock);
        }
    }
    pthread_mutex_unlock(&p.lock);
    pthread_join(reader, NULL);
    /* wait for the jobs still running, then drop their results */
    pthread_mutex_lock(&p.lock);
    for (int i = 0; i < p.depth; i++)
        while (p.slots[i].state == 1)
            pthread_cond_wait(&p.cond, &p.lock);
    pthread_mutex_unlock(&p.lock);
    for (int i = 0; i < p.depth; i++) {
        job_clear(&p.slots[i].job);
        free(p.slots[i].job.out);
    }
    if (!p.err) /* the reader and the jobs are done: in_flight is settled */
        report_progress(&p, st, t_start, frames_out, p.in_flight, 1);
    st->frames_in = p.written_in;
    st->frames_out = frames_out;
    st->wall_ms = (double)(aie_time_us() - t_start) / 1000.0;
    st->read_ms = p.read_us / 1000.0;
    st->process_ms = process_us / 1000.0;
    st->write_ms = write_us / 1000.0;
    st->wait_ms = (p.wait_read_us + wait_write_us) / 1000.0;
    st->max_in_flight = p.max_in_flight;
    pthread_mutex_destroy(&p.lock);
    pthread_cond_destroy(&p.cond);
    free(p.slots);
    if (p.err && err && errlen)
        snprintf(err, errlen, "%s", p.errmsg);
    return p.err;
}

int aie_pipeline_run_stage(AieReader *r, AieWriter *w, AieStage *stage, const AiePipelineOpts *o,
                           AiePipelineStats *stats, char *err, size_t errlen)
{
    AiePipelineCallbacks cb = {.ctx = stage->self, .process = stage->ops->process, .history = stage->history,
                               .flush_job = stage->flush_job};
    AiePipelineOpts po = *o;
    if (stage->queue_depth > 0)
        po.queue_depth = stage->queue_depth;
    if (stage->count_output) {
        po.count_output = 1;
        po.out_total = stage->out_total;
    }
    return aie_pipeline_run(r, w, &cb, &po, stats, err, errlen);
}
