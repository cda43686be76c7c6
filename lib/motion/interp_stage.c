/* Frame-rate conversion as a stage (aie/interp.h): the timing of the output
 * frames, the scene-cut cache, the aux-packet hand-over and the choice
 * between copying, blending and synthesising each output frame. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/interp.h"
#include "aie/motion.h"
#include "aie/quality.h"
#include "aie/util.h"

#define FEAT_SLOTS 32 /* more than the frames of the jobs in flight */
typedef struct FeatSlot {
    int used;
    int64_t index, pts;
    const void *data;
    AieSceneFeat f;
} FeatSlot;

typedef struct Interp {
    AieInterpParams p;
    AieInterp *ip;
    AieFramePool *frames;
    AieRational out_fps;
    double in_tb;       /* seconds per input tick */
    double in_frame;    /* nominal input frame duration (s), 0 when unknown */
    double step;        /* input seconds between output frames */
    double tol;         /* coincidence tolerance (s) */
    AieQualityAcc *unreliable;
    atomic_long cuts;
    pthread_mutex_t feat_lock;
    int lock_ready;
    FeatSlot *feat; /* FEAT_SLOTS, NULL when it could not be allocated */
    int feat_next;
    atomic_int aux_seen; /* refuse_aux met a frame with aux packets */
    atomic_int single;   /* the input had one frame */
    atomic_int png_failed;
    char png_err[AIE_ERRBUF_SIZE];
} Interp;

/* ---- timing ---- */

/* The output rate and the input time between output frames. */
static int plan(Interp *u, const AieInterpParams *p, const AieVideoInfo *vi, char *why, size_t n)
{
    int have_in = vi->fps.num > 0 && vi->fps.den > 0;
    AieRational slow = p->slowmo.num ? p->slowmo : (AieRational){1, 1};
    if (p->fps.num) {
        u->out_fps = p->fps;
    } else {
        if (!have_in) {
            snprintf(why, n, "%s: the input's frame rate is unknown; give --fps", p->name ? p->name : "input");
            return AIE_EINVAL;
        }
        AieRational k = p->factor.num ? p->factor : (AieRational){1, 1};
        u->out_fps = aie_rational_reduce((int64_t)vi->fps.num * k.num, (int64_t)vi->fps.den * k.den);
    }
    if (u->out_fps.num <= 0 || u->out_fps.den <= 0) {
        snprintf(why, n, "the output rate is out of range");
        return AIE_EINVAL;
    }
    double out = (double)u->out_fps.num / u->out_fps.den;
    if (out > 1000) {
        snprintf(why, n, "an output rate of %g fps is above 1000", out);
        return AIE_EINVAL;
    }
    u->step = 1.0 / (out * slow.num / slow.den);
    u->in_tb = vi->time_base.den > 0 && vi->time_base.num > 0 ? (double)vi->time_base.num / vi->time_base.den : 1e-6;
    u->in_frame = have_in ? (double)vi->fps.den / vi->fps.num : 0;
    if (have_in && u->step > 3.0 * u->in_frame + 1e-9) {
        snprintf(why, n, "%.6g fps is less than a third of the input's %.6g fps; aie-interp lowers a rate at most 3x",
                 1.0 / u->step, 1.0 / u->in_frame);
        return AIE_EINVAL;
    }
    /* half an input tick, at most 0.5 ms and a quarter of the output step */
    u->tol = fmin(fmin(0.5 * u->in_tb, 0.0005), 0.25 * u->step);
    return 0;
}

int aie_interp_plan(const AieInterpParams *p, const AieVideoInfo *in, AieRational *out_fps, char *err,
                    size_t errlen)
{
    Interp u = {0};
    int e = plan(&u, p, in, err, errlen);
    if (!e && out_fps)
        *out_fps = u.out_fps;
    return e;
}

static double frame_time(const Interp *u, const AieFrame *f)
{
    return (double)f->pts * (f->time_base.den > 0 ? (double)f->time_base.num / f->time_base.den : u->in_tb);
}

/* The first output frame at or after time t (within the tolerance). */
static int64_t first_k(const Interp *u, double t)
{
    double x = (t - u->tol) / u->step;
    return (int64_t)ceil(x - 1e-9);
}

/* ---- output frames ---- */

static void unref_cb(void *opaque)
{
    AieFrame *f = opaque;
    aie_frame_unref(&f);
}

/* A new frame showing src's pixels (no copy). */
static int copy_frame(AieFrame **out, AieFrame *src)
{
    AieFrame *ref = aie_frame_ref(src);
    int err = aie_frame_wrap(out, src->width, src->height, src->layout, src->depth, src->data,
                             src->stride, unref_cb, ref);
    if (err)
        aie_frame_unref(&ref);
    return err;
}

static void set_props(const Interp *u, AieFrame *o, const AieFrame *like, int64_t k)
{
    o->pts = k;
    o->duration = 1;
    o->time_base = (AieRational){u->out_fps.den, u->out_fps.num};
    o->sar = like->sar;
    o->color = like->color;
    o->index = k;
    o->interlaced = 0;
}

static void send_flow(Interp *u, const AieFlow *flow, int64_t k)
{
    if (!u->p.flow_sink || atomic_load(&u->png_failed))
        return;
    AieFrame *rgb = NULL;
    char err[AIE_ERRBUF_SIZE] = "";
    int e = aie_frame_alloc(&rgb, flow->width, flow->height, AIE_LAYOUT_RGB, 8);
    if (!e)
        e = aie_flow_paint(flow, rgb, 0);
    if (!e)
        e = u->p.flow_sink(u->p.flow_opaque, rgb, k, err, sizeof(err));
    aie_frame_unref(&rgb);
    if (e && !atomic_exchange(&u->png_failed, 1))
        snprintf(u->png_err, sizeof(u->png_err), "%s", err[0] ? err : aie_strerror(e));
}

/* Move the aux packets of the window's frames to the first output frame at or
 * after each one's time; when several frames land on one output (a lowered
 * rate) their packets are merged into it, oldest first, so none is lost. Only
 * the job whose range holds that output touches a frame's packets. */
static int claim_aux(Interp *u, AieFrame *const *cand, int ncand, AieFrame **outs, int64_t k_lo, int nout)
{
    for (int i = ncand - 1; i >= 0; i--) { /* oldest first */
        AieFrame *f = cand[i];
        if (!f)
            continue;
        int64_t k = first_k(u, frame_time(u, f));
        if (k < k_lo || k >= k_lo + nout)
            continue; /* another job's: not even f->aux may be read (that job moves it) */
        if (!f->aux || !u->p.aux_append)
            continue;
        int err = u->p.aux_append(outs[k - k_lo], f);
        if (err)
            return err;
    }
    return 0;
}

/* The cut detector's features of a frame; each frame is in five windows, so
 * they are kept in a small cache (keyed by the frame's index, timestamp and
 * pixels) shared by the jobs. */
static void scene_features(Interp *u, const AieFrame *f, AieSceneFeat *out)
{
    pthread_mutex_lock(&u->feat_lock);
    for (int i = 0; i < FEAT_SLOTS; i++) {
        FeatSlot *s = &u->feat[i];
        if (s->used && s->index == f->index && s->pts == f->pts && s->data == f->data[0]) {
            *out = s->f;
            pthread_mutex_unlock(&u->feat_lock);
            return;
        }
    }
    pthread_mutex_unlock(&u->feat_lock);
    aie_scene_features(f, out);
    pthread_mutex_lock(&u->feat_lock);
    FeatSlot *s = &u->feat[u->feat_next];
    u->feat_next = (u->feat_next + 1) % FEAT_SLOTS;
    s->used = 1;
    s->index = f->index;
    s->pts = f->pts;
    s->data = f->data[0];
    s->f = *out;
    pthread_mutex_unlock(&u->feat_lock);
}

static int is_cut(Interp *u, AieFrame *const win[AIE_SCENE_WINDOW])
{
    AieSceneFeat *feat = malloc(sizeof(*feat) * AIE_SCENE_WINDOW);
    if (!feat)
        return 0;
    const AieSceneFeat *w[AIE_SCENE_WINDOW];
    for (int i = 0; i < AIE_SCENE_WINDOW; i++) {
        w[i] = NULL;
        if (win[i]) {
            if (u->feat)
                scene_features(u, win[i], &feat[i]);
            else
                aie_scene_features(win[i], &feat[i]);
            w[i] = &feat[i];
        }
    }
    int cut = aie_scene_cut(w, u->p.scene_threshold);
    free(feat);
    return cut;
}

/* Render the outputs k in [k_lo, k_hi] between a (time ta) and b (time tb),
 * holding b past tb. */
static int render(Interp *u, AieJob *job, AiePool *pool, AieFrame *a, AieFrame *b,
                  AieFrame *const win[AIE_SCENE_WINDOW], int64_t k_lo, int64_t k_hi, AieFrame *const *claim,
                  int nclaim)
{
    int err = 0, nout = (int)(k_hi - k_lo + 1);
    if (nout <= 0)
        return 0;
    AieFrame **outs = calloc((size_t)nout, sizeof(*outs));
    AiePairMotion *pm = NULL;
    AieFlow *ft = NULL;
    if (!outs)
        return AIE_ENOMEM;
    double ta = a ? frame_time(u, a) : 0, tb = frame_time(u, b);
    int cut = a && win ? is_cut(u, win) : 0;
    if (cut)
        atomic_fetch_add(&u->cuts, 1);
    int fw = 0, fh = 0, fs = 0;
    aie_motion_field_size(aie_interp_motion(u->ip), &fw, &fh, &fs);
    if (u->p.flow_sink && (err = aie_flow_alloc(&ft, b->width, b->height, fs)))
        goto fail;
    for (int64_t k = k_lo; k <= k_hi; k++) {
        double T = (double)k * u->step;
        AieFrame *o = NULL;
        int synth = 0;
        double t = 0;
        if (!a || fabs(T - tb) <= u->tol || (T > tb && (cut || u->p.blend || T - ta >= 2 * (tb - ta)))) {
            err = copy_frame(&o, b); /* b itself, or held past it */
        } else if (T > tb) {
            t = (T - ta) / (tb - ta); /* past the last frame: carry its motion on */
            synth = 1;
        } else if (T - ta <= u->tol || (T - ta) / (tb - ta) <= 1e-9) {
            err = copy_frame(&o, a); /* a itself (T may sit up to the tolerance before it) */
        } else if ((T - ta) / (tb - ta) >= 1 - 1e-9) {
            err = copy_frame(&o, b);
        } else {
            t = (T - ta) / (tb - ta);
            if (cut)
                err = copy_frame(&o, t < 0.5 ? a : b);
            else
                synth = 1;
        }
        if (synth) {
            if (!u->p.blend && !pm && (err = aie_interp_analyse(u->ip, a, b, &pm, pool)))
                goto fail;
            if ((err = aie_frame_pool_get(u->frames, &o)))
                goto fail;
            if ((err = aie_interp_synth(u->ip, pm, a, b, t, o, ft, pool))) {
                aie_frame_unref(&o);
                goto fail;
            }
            if (pm && u->unreliable)
                aie_quality_add(u->unreliable, 100.0 * aie_pair_motion_unreliable(pm, pool));
        } else if (err) {
            goto fail;
        } else if (ft) {
            for (int y = 0; y < ft->height; y++) { /* a copied frame shows no motion */
                memset(ft->u + y * ft->stride, 0, (size_t)ft->width * sizeof(float));
                memset(ft->v + y * ft->stride, 0, (size_t)ft->width * sizeof(float));
            }
        }
        set_props(u, o, b, k);
        if (ft)
            send_flow(u, ft, k);
        outs[k - k_lo] = o;
    }
    if ((err = claim_aux(u, claim, nclaim, outs, k_lo, nout)))
        goto fail;
    for (int i = 0; i < nout; i++) {
        err = err ? err : aie_job_emit(job, outs[i]);
        if (err)
            aie_frame_unref(&outs[i]);
        outs[i] = NULL;
    }
fail:
    if (outs)
        for (int i = 0; i < nout; i++)
            aie_frame_unref(&outs[i]);
    free(outs);
    aie_pair_motion_free(&pm);
    aie_flow_free(&ft);
    return err;
}

static int is_process(void *self, AieJob *job, AiePool *pool)
{
    Interp *u = self;
    if (!u->ip)
        return AIE_EINVAL; /* opened with plan_only */
    if (u->p.refuse_aux) {
        for (int i = -1; i < AIE_PIPE_MAX_HISTORY; i++) {
            AieFrame *f = i < 0 ? job->in : job->prev[i];
            if (f && f->aux) {
                atomic_store(&u->aux_seen, 1);
                return AIE_EUNSUP;
            }
        }
    }
    AieFrame *b = job->prev[0], *a = job->prev[1];
    if (job->in) {
        if (!a)
            return 0; /* no pair yet */
        AieFrame *win[AIE_SCENE_WINDOW] = {job->prev[3], job->prev[2], a, b, job->in};
        int64_t lo = first_k(u, frame_time(u, a)), hi = first_k(u, frame_time(u, b)) - 1;
        AieFrame *claim[3] = {a, job->prev[2], job->prev[3]};
        return render(u, job, pool, a, b, win, lo, hi, claim, 3);
    }
    /* the flush job: the last pair, then the tail */
    if (!b)
        return 0;
    if (!a) {
        /* one frame: copy it through */
        atomic_store(&u->single, 1);
        AieFrame *claim[1] = {b};
        return render(u, job, pool, NULL, b, NULL, 0, 0, claim, 1);
    }
    double ta = frame_time(u, a), tb = frame_time(u, b);
    double dur = b->duration > 0 && b->time_base.den > 0 ? (double)b->duration * b->time_base.num / b->time_base.den
                 : u->in_frame > 0                      ? u->in_frame
                                                        : tb - ta;
    if (dur <= 0)
        dur = u->step;
    int64_t lo = first_k(u, ta);
    int64_t kb = first_k(u, tb);
    int64_t hi = first_k(u, tb + dur) - 1; /* every output before the end of b */
    if (hi < kb)
        hi = kb; /* at least one frame at or after the last input */
    AieFrame *win[AIE_SCENE_WINDOW] = {job->prev[3], job->prev[2], a, b, NULL};
    AieFrame *claim[4] = {b, a, job->prev[2], job->prev[3]};
    return render(u, job, pool, a, b, win, lo, hi, claim, 4);
}

static int is_reset(void *self)
{
    Interp *u = self;
    if (u->feat) {
        pthread_mutex_lock(&u->feat_lock);
        memset(u->feat, 0, FEAT_SLOTS * sizeof(*u->feat));
        u->feat_next = 0;
        pthread_mutex_unlock(&u->feat_lock);
    }
    return 0;
}

/* {"unreliable_motion_pct": ..., "cuts": N}: the quality figures and the count
 * of cuts, which is there with no figures too. */
static int is_quality(void *self, char **json)
{
    Interp *u = self;
    char *q = NULL;
    *json = NULL;
    aie_quality_json(u->unreliable, &q); /* "{}" with no figures */
    char cuts[48];
    snprintf(cuts, sizeof(cuts), "\"cuts\":%ld", (long)atomic_load(&u->cuts));
    size_t n = q ? strlen(q) : 0;
    /* q is an object text "{...}": insert the count before its closing brace */
    while (n > 0 && q[n - 1] != '}')
        n--;
    int empty = 1;
    for (size_t i = 1; q && i + 1 < n; i++)
        if (q[i] != ' ')
            empty = 0;
    size_t len = (n ? n - 1 : 1) + strlen(cuts) + 3;
    char *out = malloc(len);
    if (!out) {
        free(q);
        return AIE_ENOMEM;
    }
    if (n)
        snprintf(out, len, "%.*s%s%s}", (int)(n - 1), q, empty ? "" : ",", cuts);
    else
        snprintf(out, len, "{%s}", cuts);
    free(q);
    *json = out;
    return 0;
}

static void is_free(void *self)
{
    Interp *u = self;
    if (!u)
        return;
    aie_interp_free(&u->ip);
    aie_frame_pool_free(&u->frames);
    aie_quality_free(&u->unreliable);
    free(u->feat);
    if (u->lock_ready)
        pthread_mutex_destroy(&u->feat_lock);
    free(u);
}

static const AieStageOps interp_ops = {
    .process = is_process, .reset = is_reset, .quality_json = is_quality, .free = is_free};

int aie_interp_stage_open(AieStage **out, const AieInterpParams *p, const AieVideoInfo *vi, char *err,
                          size_t errlen)
{
    *out = NULL;
    AieStage *st = calloc(1, sizeof(*st));
    Interp *u = calloc(1, sizeof(*u));
    int e = AIE_ENOMEM;
    if (!st || !u)
        goto fail;
    u->p = *p;
    if (u->p.scene_threshold <= 0)
        u->p.scene_threshold = AIE_SCENE_THRESHOLD_DEFAULT;
    atomic_init(&u->cuts, 0);
    if ((e = plan(u, p, vi, err, errlen)))
        goto fail;
    if (pthread_mutex_init(&u->feat_lock, NULL)) {
        e = AIE_ENOMEM;
        goto fail;
    }
    u->lock_ready = 1;
    if (!p->plan_only) {
        AieMotionParams mp;
        aie_motion_params_default(&mp);
        if ((e = aie_interp_create(&u->ip, vi->width, vi->height, vi->layout, vi->depth, &mp, p->cpu_flags))) {
            snprintf(err, errlen, "%s: cannot interpolate %dx%d %s: %s", p->name ? p->name : "input", vi->width,
                     vi->height, vi->pix_fmt, aie_strerror(e));
            goto fail;
        }
        if ((e = aie_frame_pool_create(&u->frames, vi->width, vi->height, vi->layout, vi->depth)))
            goto fail;
        u->feat = calloc(FEAT_SLOTS, sizeof(*u->feat));
        if (p->quality)
            aie_quality_create(&u->unreliable, "unreliable_motion_pct", 1.0);
    }
    st->ops = &interp_ops;
    st->self = u;
    st->out = *vi;
    st->out.fps = u->out_fps;
    st->out.time_base = (AieRational){u->out_fps.den, u->out_fps.num};
    st->out.interlaced = 0;
    if (vi->nb_frames > 0 && vi->fps.num > 0)
        st->out.nb_frames = (int64_t)ceil((double)vi->nb_frames * (double)vi->fps.den / vi->fps.num / u->step);
    st->history = 4;
    st->flush_job = 1;
    st->count_output = 1; /* progress counts output frames */
    st->out_total = st->out.nb_frames;
    st->drop_streams = p->slowmo.num != 0; /* audio cannot follow slow motion */
    snprintf(st->method, sizeof(st->method), "%s", p->blend ? "blend" : "mc");
    snprintf(st->describe, sizeof(st->describe), "%d/%d fps -> %d/%d fps%s, %s", vi->fps.num, vi->fps.den,
             u->out_fps.num, u->out_fps.den, p->slowmo.num ? " (slow motion)" : "", st->method);
    *out = st;
    return 0;
fail:
    free(st);
    is_free(u);
    return e;
}

int aie_interp_stage_info(const AieStage *s, AieInterpInfo *info)
{
    if (!s || s->ops != &interp_ops)
        return AIE_EINVAL;
    Interp *u = s->self;
    memset(info, 0, sizeof(*info));
    info->out_fps = u->out_fps;
    info->cuts = atomic_load(&u->cuts);
    info->single = atomic_load(&u->single);
    info->aux_refused = atomic_load(&u->aux_seen);
    info->flow_failed = atomic_load(&u->png_failed);
    snprintf(info->flow_error, sizeof(info->flow_error), "%s", u->png_err);
    return 0;
}
