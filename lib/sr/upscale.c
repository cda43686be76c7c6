/* The upscaler front door (aie/upscale.h): method choice, model and bank
 * search, the three upscalers behind one stage, and the round-trip quality
 * score. */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/nn.h"
#include "aie/quality.h"
#include "aie/raisr.h"
#include "aie/scale.h"
#include "aie/sr_cnn.h"
#include "aie/upscale.h"
#include "aie/util.h"

#define MODELS_HINT "run 'make models' (scripts/fetch-models.sh) to download the pretrained models"

typedef struct Up {
    AieUpscaleParams p;
    AieUpscaleInfo info;
    AieVideoInfo in;
    AieFilter filter;
    AieRaisrBank *bank;
    AieRaisrUpscaler *rs;
    AieNnModel *model;
    AieCnnUpscaler *cnn;
    AieScaler *scaler;
    AieFramePool *frames; /* output frames, recycled */
    /* quality: round-trip fidelity of every Nth frame */
    AieScaler *down;      /* output size -> input size (luma only for YUV) */
    AieFramePool *back;   /* frames of the round trip */
    AieQualityAcc *fidelity;
    AieLayout q_layout;   /* GRAY (the luma of YUV) or RGB */
    int qx, qy, qw, qh;   /* the input region scored */
    int quality_every;
    /* Scores run off the frame's critical path: the job keeps references to
     * its input and output frames (no copy) in a free slot and queues the
     * score as a pool task behind the frame jobs, on one thread (the same
     * arithmetic as sliced). With every slot busy the job scores itself. */
    pthread_mutex_t q_lock;
    pthread_cond_t q_idle;
    int q_sync;           /* q_lock and q_idle initialised */
    int q_pending;        /* scores queued or running */
    long long q_us;       /* time spent scoring, summed */
    struct ScoreTask {
        struct Up *u;
        AieFrame *in, *out;
        int busy;
    } q_task[4];
} Up;

#define warn(p, ...) aie_warnf((p)->warn, (p)->warn_opaque, __VA_ARGS__)

static void search_text(const AieUpscaleParams *p, char *out, size_t n)
{
    out[0] = 0;
    for (int i = 0; i < p->ndirs; i++) {
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s%s", i ? ":" : "", p->dirs[i]);
    }
}

static int model_is_path(const char *m)
{
    return m && (strchr(m, '/') || strstr(m, ".json") || strstr(m, ".param") || strstr(m, ".aienn"));
}

int aie_upscale_output_size(const AieUpscaleParams *p, const AieVideoInfo *vi, int *out_w, int *out_h, char *why,
                            size_t n)
{
    /* odd sizes included: the writer pads for an encoder that needs even ones */
    double w, h;
    if (p->size_w) {
        w = p->size_w;
        h = p->size_h;
    } else if (p->width || p->height) {
        double ar = (double)vi->width / vi->height;
        w = p->width ? p->width : p->height * ar;
        h = p->height ? p->height : p->width / ar;
    } else {
        double s = p->scale > 0 ? p->scale : 2.0;
        w = vi->width * s;
        h = vi->height * s;
    }
    int ow = (int)lround(w), oh = (int)lround(h);
    if (ow < 1)
        ow = 1;
    if (oh < 1)
        oh = 1;
    if (ow > AIE_MAX_DIM || oh > AIE_MAX_DIM) {
        aie_errf(why, n, "output %dx%d is larger than %d pixels on a side", ow, oh, AIE_MAX_DIM);
        return AIE_ETOOBIG;
    }
    *out_w = ow;
    *out_h = oh;
    return 0;
}

/* The CNN model file: an explicit file, an installed name, or the best
 * installed for the scale (0: any). */
static int model_resolve(const AieUpscaleParams *p, double scale, AieUpscaleInfo *info, char *msg, size_t n)
{
    char search[4 * PATH_MAX + 4];
    search_text(p, search, sizeof(search));
    int err;
    if (model_is_path(p->model)) {
        snprintf(info->model_file, sizeof(info->model_file), "%s", p->model);
        const char *base = strrchr(p->model, '/');
        snprintf(info->model_name, sizeof(info->model_name), "%s", base ? base + 1 : p->model);
        char *dot = strrchr(info->model_name, '.');
        if (dot && dot != info->model_name)
            *dot = 0;
        return 0;
    }
    if (p->model) {
        snprintf(info->model_name, sizeof(info->model_name), "%s", p->model);
        const AieCnnModelDesc *d = aie_cnn_model_desc(p->model);
        if (!d) {
            aie_errf(msg, n, "--model: unknown model '%s'", p->model);
            return AIE_EINVAL;
        }
        if ((err = aie_cnn_model_find(p->dirs, p->ndirs, d, info->model_file, sizeof(info->model_file))))
            aie_errf(msg, n, "--model %s: not installed (search path %s); " MODELS_HINT, p->model, search);
        return err;
    }
    const AieCnnModelDesc *d;
    if ((err = aie_cnn_model_pick(p->dirs, p->ndirs, scale, &d, info->model_file, sizeof(info->model_file)))) {
        aie_errf(msg, n, "-m cnn: no CNN model installed (search path %s); " MODELS_HINT, search);
        return err;
    }
    if (scale > 0)
        snprintf(info->model_name, sizeof(info->model_name), "%s", d->name);
    return 0;
}

int aie_upscale_check_model(const AieUpscaleParams *p, char *err, size_t errlen)
{
    if (p->method != AIE_UPSCALE_CNN)
        return 0;
    AieUpscaleInfo info;
    memset(&info, 0, sizeof(info));
    return model_resolve(p, 0, &info, err, errlen);
}

/* The filter bank for an output scale: the bank file, else raisr-x<r>.bank on
 * the search path, else the built-in one. */
static int bank_pick(Up *u, double scale, char *msg, size_t n)
{
    const AieUpscaleParams *p = &u->p;
    if (p->bank) {
        const char *base = strrchr(p->bank, '/');
        snprintf(u->info.model_name, sizeof(u->info.model_name), "%s", base ? base + 1 : p->bank);
        return aie_raisr_bank_load(&u->bank, p->bank, msg, n);
    }
    int r = scale <= 2.0 ? 2 : scale <= 3.0 ? 3 : 4;
    for (int i = 0; i < p->ndirs; i++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/raisr-x%d.bank", p->dirs[i], r) >= (int)sizeof(path) ||
            access(path, F_OK))
            continue;
        snprintf(u->info.model_name, sizeof(u->info.model_name), "%s", path);
        return aie_raisr_bank_load(&u->bank, path, msg, n);
    }
    int e = aie_raisr_bank_builtin(&u->bank, r);
    if (e)
        aie_errf(msg, n, "-m raisr: no %dx filter bank (none built in, none on the model path); train one with aie-train",
            r);
    else
        snprintf(u->info.model_name, sizeof(u->info.model_name), "raisr-x%d (built-in)", r);
    return e;
}

/* Frames per second of one way of upscaling vi to the output size, timed on a
 * synthetic frame (the best of two runs); the CNN on a 96x96 piece, scaled by
 * the pixel count. 0 when it cannot run. */
static double calibrate(Up *u, const char *method, const char *model_file, AiePool *pool)
{
    const AieVideoInfo *vi = &u->in;
    int sw = vi->width, sh = vi->height, dw = u->info.out_w, dh = u->info.out_h;
    double factor = 1;
    if (!strcmp(method, "cnn")) {
        int pw = sw < 96 ? sw : 96, ph = sh < 96 ? sh : 96;
        factor = (double)sw * sh / ((double)pw * ph);
        dw = (int)((int64_t)dw * pw / sw);
        dh = (int)((int64_t)dh * ph / sh);
        sw = pw;
        sh = ph;
        int sx, sy;
        aie_layout_chroma_shift(vi->layout, &sx, &sy);
        dw += sx && (dw & 1);
        dh += sy && (dh & 1);
    }
    AieFrame *src = NULL, *dst = NULL;
    AieScaler *sc = NULL;
    AieRaisrUpscaler *rs = NULL;
    AieNnModel *m = NULL;
    AieCnnUpscaler *cu = NULL;
    double best = 0;
    if (aie_frame_alloc(&src, sw, sh, vi->layout, vi->depth) || aie_frame_alloc(&dst, dw, dh, vi->layout, vi->depth))
        goto done;
    for (int p = 0; p < src->nplanes; p++) /* a textured picture, so no path is trivially fast */
        for (int y = 0; y < src->plane_h[p]; y++)
            for (int x = 0; x < src->plane_w[p]; x++) {
                unsigned v = (unsigned)((x * 7 + y * 13 + ((x * y) >> 3)) & 255);
                if (vi->depth > 8)
                    ((uint16_t *)(void *)(src->data[p] + y * src->stride[p]))[x] = (uint16_t)(v << (vi->depth - 8));
                else
                    src->data[p][y * src->stride[p] + x] = (uint8_t)v;
            }
    AieScaleParams sp = {.src_w = sw, .src_h = sh, .dst_w = dw, .dst_h = dh, .layout = vi->layout,
                         .depth = vi->depth, .filter = AIE_FILTER_LANCZOS, .chroma_loc = vi->color.chroma_loc};
    AieRaisrParams rp = {.src_w = sw, .src_h = sh, .dst_w = dw, .dst_h = dh, .layout = vi->layout,
                         .depth = vi->depth, .chroma_loc = vi->color.chroma_loc};
    char e2[AIE_ERRBUF_SIZE];
    if (!strcmp(method, "raisr")) {
        if (!u->bank || aie_raisr_create(&rs, u->bank, &rp, u->p.cpu_flags))
            goto done;
    } else if (!strcmp(method, "cnn")) {
        AieCnnParams cp = {.src_w = sw, .src_h = sh, .dst_w = dw, .dst_h = dh, .layout = vi->layout,
                           .depth = vi->depth, .color = vi->color, .threads = u->p.threads + 1};
        if (aie_nn_load(&m, model_file, e2, sizeof(e2)) || aie_cnn_create(&cu, m, &cp, u->p.cpu_flags, e2, sizeof(e2)))
            goto done;
    } else if (aie_scaler_create(&sc, &sp, u->p.cpu_flags)) {
        goto done;
    }
    for (int run = 0; run < 2; run++) {
        long long t0 = aie_time_us();
        int e = rs ? aie_raisr_upscale(rs, src, dst, pool)
              : cu ? aie_cnn_upscale(cu, src, dst, pool, u->p.cancel)
                   : aie_scaler_scale(sc, src, dst, pool);
        long long us = aie_time_us() - t0;
        if (e)
            break;
        double fps = 1e6 / ((double)(us > 0 ? us : 1) * factor);
        if (fps > best)
            best = fps;
    }
done:
    aie_frame_unref(&src);
    aie_frame_unref(&dst);
    aie_scaler_free(&sc);
    aie_raisr_free(&rs);
    aie_cnn_free(&cu);
    aie_nn_free(&m);
    return best;
}

static double out_scale(const Up *u)
{
    double sw = (double)u->info.out_w / u->in.width, sh = (double)u->info.out_h / u->in.height;
    return sw > sh ? sw : sh;
}

/* -m auto: a CNN for stills, RAISR for video; with a budget, the best of
 * cnn > raisr > lanczos expected to keep up. Sets the method and the choice. */
static void auto_choose(Up *u, AiePool *pool)
{
    const AieVideoInfo *vi = &u->in;
    double s = out_scale(u), budget = u->p.budget_fps;
    const AieCnnModelDesc *d = NULL;
    char model[PATH_MAX] = "", msg[AIE_ERRBUF_SIZE];
    int have_cnn = s >= 1.5 && aie_cnn_model_pick(u->p.dirs, u->p.ndirs, s, &d, model, sizeof(model)) == 0;
    int have_raisr = s >= 1.5 && bank_pick(u, s, msg, sizeof(msg)) == 0;
    const char *pick = "lanczos", *why;
    double fps[3] = {-1, -1, -1}; /* cnn, raisr, lanczos */
    if (s < 1.5) {
        why = "scale below 1.5";
    } else if (budget <= 0) {
        if (vi->still && have_cnn) {
            pick = "cnn";
            why = "a still image";
        } else if (have_raisr) {
            pick = "raisr";
            why = vi->still ? "a still image, no CNN model installed" : "video";
        } else {
            why = "no CNN model or filter bank";
        }
    } else {
        why = "none of cnn and raisr keeps up with the budget";
        if (have_cnn && (fps[0] = calibrate(u, "cnn", model, pool)) >= budget) {
            pick = "cnn";
            why = "the best method that keeps up with the budget";
        } else if (have_raisr && (fps[1] = calibrate(u, "raisr", NULL, pool)) >= budget) {
            pick = "raisr";
            why = "the best method that keeps up with the budget";
        } else {
            fps[2] = calibrate(u, "lanczos", NULL, pool);
            if (fps[2] < budget)
                warn(&u->p, "--budget-fps %g: even lanczos is expected to run at %.1f fps here", budget, fps[2]);
        }
    }
    u->filter = AIE_FILTER_LANCZOS;
    if (!strcmp(pick, "cnn")) {
        u->info.method = AIE_UPSCALE_CNN;
        snprintf(u->info.model_name, sizeof(u->info.model_name), "%s", d->name);
        snprintf(u->info.model_file, sizeof(u->info.model_file), "%s", model);
    } else if (!strcmp(pick, "raisr")) {
        u->info.method = AIE_UPSCALE_RAISR;
    } else {
        u->info.method = AIE_UPSCALE_FILTER;
    }
    if (u->info.method != AIE_UPSCALE_RAISR) {
        aie_raisr_bank_free(&u->bank);
        if (u->info.method != AIE_UPSCALE_CNN)
            u->info.model_name[0] = 0;
    }
    snprintf(u->info.chose, sizeof(u->info.chose), "%s (%s)", pick, why);
    char *c = u->info.choice;
    size_t cap = sizeof(u->info.choice);
    int n = snprintf(c, cap, "{\"requested\":\"auto\",\"chosen\":\"%s\",\"reason\":\"%s\"", pick, why);
    if (budget > 0 && n < (int)cap)
        n += snprintf(c + n, cap - (size_t)n, ",\"budget_fps\":%g", budget);
    static const char *const names[3] = {"cnn", "raisr", "lanczos"};
    for (int i = 0; i < 3; i++)
        if (fps[i] >= 0 && n < (int)cap)
            n += snprintf(c + n, cap - (size_t)n, ",\"predicted_fps_%s\":%.2f", names[i], fps[i]);
    if (n < (int)cap)
        snprintf(c + n, cap - (size_t)n, "}");
}

/* A frame that shows a w x h region of f at (x, y): the luma plane (GRAY) or
 * the R, G, B planes (RGB). NULL on failure. */
static AieFrame *view(const AieFrame *f, AieLayout layout, int x, int y, int w, int h)
{
    uint8_t *d[4] = {0};
    ptrdiff_t st[4] = {0};
    int n = layout == AIE_LAYOUT_GRAY ? 1 : 3, bps = aie_depth_bytes(f->depth);
    for (int p = 0; p < n; p++) {
        d[p] = f->data[p] + y * f->stride[p] + (ptrdiff_t)x * bps;
        st[p] = f->stride[p];
    }
    AieFrame *v = NULL;
    return aie_frame_wrap(&v, w, h, layout, f->depth, d, st, NULL, NULL) == 0 ? v : NULL;
}

/* The scored region along one axis: about the central half, placed so that it
 * maps to whole output pixels (a multiple of n / gcd(n, out) in the input);
 * the whole axis when no such region exists. */
static void quality_span(int n, int out, int *start, int *len)
{
    int a = (int)aie_gcd64(n, out);
    int step = n / a, l = n / 2 / step * step;
    if (l < 64 || out * (int64_t)l % n) {
        *start = 0;
        *len = n;
        return;
    }
    *len = l;
    *start = (n - l) / 2 / step * step;
}

static void score(Up *u, const AieFrame *in, const AieFrame *out, AiePool *pool)
{
    /* Scale the matching region of the result back to the input size and
     * compare its interior (the region's borders see replicated edges, not
     * their neighbours) */
    int ox = (int)((int64_t)u->qx * out->width / in->width);
    int oy = (int)((int64_t)u->qy * out->height / in->height);
    int ow = (int)((int64_t)u->qw * out->width / in->width);
    int oh = (int)((int64_t)u->qh * out->height / in->height);
    int m = u->qw == in->width && u->qh == in->height ? 0 : 8;
    AieFrame *back = NULL, *b = view(out, u->q_layout, ox, oy, ow, oh);
    if (b && aie_frame_pool_get(u->back, &back) == 0 && aie_scaler_scale(u->down, b, back, pool) == 0) {
        AieFrame *x = view(in, u->q_layout, u->qx + m, u->qy + m, u->qw - 2 * m, u->qh - 2 * m);
        AieFrame *y = view(back, u->q_layout, m, m, u->qw - 2 * m, u->qh - 2 * m);
        if (x && y)
            aie_quality_add(u->fidelity, aie_frame_psnr(x, y, u->p.cpu_flags));
        aie_frame_unref(&x);
        aie_frame_unref(&y);
    }
    aie_frame_unref(&back);
    aie_frame_unref(&b);
}

/* CPU time of the calling thread in microseconds: a score runs on one thread,
 * so this is its cost whatever else the machine runs. */
static long long thread_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
        return aie_time_us();
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void score_task(void *ctx, int index, int worker)
{
    (void)index;
    (void)worker;
    struct ScoreTask *t = ctx;
    Up *u = t->u;
    long long t0 = thread_us();
    score(u, t->in, t->out, NULL);
    long long us = thread_us() - t0;
    aie_frame_unref(&t->in);
    aie_frame_unref(&t->out);
    pthread_mutex_lock(&u->q_lock);
    u->q_us += us;
    t->busy = 0;
    if (--u->q_pending == 0)
        pthread_cond_broadcast(&u->q_idle);
    pthread_mutex_unlock(&u->q_lock);
}

/* Score the pair in a pool task when a slot is free, else here and now. */
static void score_later(Up *u, AieFrame *in, AieFrame *out, AiePool *pool)
{
    struct ScoreTask *t = NULL;
    pthread_mutex_lock(&u->q_lock);
    for (int i = 0; i < (int)(sizeof(u->q_task) / sizeof(u->q_task[0])) && !t; i++)
        if (!u->q_task[i].busy)
            t = &u->q_task[i];
    if (t && pool) {
        t->busy = 1;
        u->q_pending++;
    } else {
        t = NULL;
    }
    pthread_mutex_unlock(&u->q_lock);
    if (t) {
        t->u = u;
        t->in = aie_frame_ref(in);
        t->out = aie_frame_ref(out);
        if (aie_pool_submit(pool, score_task, t) == 0)
            return;
        aie_frame_unref(&t->in);
        aie_frame_unref(&t->out);
        pthread_mutex_lock(&u->q_lock);
        t->busy = 0;
        u->q_pending--;
        pthread_mutex_unlock(&u->q_lock);
    }
    long long t0 = thread_us();
    score(u, in, out, NULL);
    pthread_mutex_lock(&u->q_lock);
    u->q_us += thread_us() - t0;
    pthread_mutex_unlock(&u->q_lock);
}

/* Wait for the queued scores. */
static void score_drain(Up *u)
{
    if (!u->q_sync)
        return;
    pthread_mutex_lock(&u->q_lock);
    while (u->q_pending)
        pthread_cond_wait(&u->q_idle, &u->q_lock);
    pthread_mutex_unlock(&u->q_lock);
}

static int up_process(void *self, AieJob *job, AiePool *pool)
{
    Up *u = self;
    AieFrame *in = job->in, *out;
    int err = aie_frame_pool_get(u->frames, &out);
    if (err)
        return err;
    if (u->cnn)
        err = aie_cnn_upscale(u->cnn, in, out, pool, u->p.cancel);
    else if (u->rs)
        err = aie_raisr_upscale(u->rs, in, out, pool);
    else
        err = aie_scaler_scale(u->scaler, in, out, pool);
    if (err) {
        aie_frame_unref(&out);
        return err;
    }
    aie_frame_copy_props(out, in);
    if (u->fidelity && job->seq % u->quality_every == 0)
        score_later(u, in, out, pool);
    return aie_job_emit(job, out);
}

static int up_quality(void *self, char **json)
{
    Up *u = self;
    *json = NULL;
    if (!u->fidelity)
        return 0;
    score_drain(u);
    aie_quality_set_cost(u->fidelity, (double)u->q_us / 1000.0);
    return aie_quality_json(u->fidelity, json);
}

static void up_free(void *self)
{
    Up *u = self;
    if (!u)
        return;
    score_drain(u);
    if (u->q_sync) {
        pthread_mutex_destroy(&u->q_lock);
        pthread_cond_destroy(&u->q_idle);
    }
    aie_scaler_free(&u->scaler);
    aie_cnn_free(&u->cnn);
    aie_raisr_free(&u->rs);
    aie_raisr_bank_free(&u->bank);
    aie_nn_free(&u->model);
    aie_frame_pool_free(&u->frames);
    aie_scaler_free(&u->down);
    aie_frame_pool_free(&u->back);
    aie_quality_free(&u->fidelity);
    free(u);
}

static const AieStageOps up_ops = {
    .process = up_process,
    .quality_json = up_quality,
    .free = up_free,
};

static const char *method_name(const Up *u)
{
    switch (u->info.method) {
    case AIE_UPSCALE_AUTO: return "auto";
    case AIE_UPSCALE_CNN: return "cnn";
    case AIE_UPSCALE_RAISR: return "raisr";
    default: return aie_filter_name(u->filter);
    }
}

/* Build the chosen upscaler and the quality score. */
static int build(Up *u, char *msg, size_t n)
{
    const AieVideoInfo *vi = &u->in;
    const AieUpscaleParams *p = &u->p;
    int ow = u->info.out_w, oh = u->info.out_h, err;
    AieScaleParams sp = {
        .src_w = vi->width, .src_h = vi->height, .dst_w = ow, .dst_h = oh, .layout = vi->layout,
        .depth = vi->depth, .filter = u->filter, .chroma_loc = vi->color.chroma_loc,
    };
    if (u->info.method == AIE_UPSCALE_CNN) {
        char why[AIE_ERRBUF_SIZE];
        long long t0 = aie_time_us();
        if ((err = aie_nn_load(&u->model, u->info.model_file, msg, n)))
            return err;
        AieCnnParams cp = {
            .src_w = vi->width, .src_h = vi->height, .dst_w = ow, .dst_h = oh, .layout = vi->layout,
            .depth = vi->depth, .color = vi->color, .tile = p->tile, .max_mem = p->max_mem,
            .threads = p->threads + 1, .check_finite = p->check_finite,
        };
        if ((err = aie_cnn_create(&u->cnn, u->model, &cp, p->cpu_flags, why, sizeof(why)))) {
            aie_errf(msg, n, "%s: %s", u->info.model_file, why);
            return err;
        }
        u->info.load_s = (aie_time_us() - t0) / 1e6;
        u->info.tile = aie_cnn_tile(u->cnn);
    } else if (u->info.method == AIE_UPSCALE_RAISR) {
        AieRaisrParams rp = {
            .src_w = vi->width, .src_h = vi->height, .dst_w = ow, .dst_h = oh, .layout = vi->layout,
            .depth = vi->depth, .chroma_loc = vi->color.chroma_loc,
        };
        if ((err = aie_raisr_create(&u->rs, u->bank, &rp, p->cpu_flags))) {
            aie_errf(msg, n, "%s: cannot upscale %dx%d to %dx%d with RAISR: %s", p->name ? p->name : "input",
                vi->width, vi->height, ow, oh, aie_strerror(err));
            return err;
        }
    } else if ((err = aie_scaler_create(&u->scaler, &sp, p->cpu_flags))) {
        aie_errf(msg, n, "%s: cannot scale %dx%d to %dx%d: %s", p->name ? p->name : "input", vi->width, vi->height, ow,
            oh, aie_strerror(err));
        return err;
    }
    if ((err = aie_frame_pool_create(&u->frames, ow, oh, vi->layout, vi->depth)))
        return err;
    if (p->quality_every != 0) {
        /* the round trip of the central quarter of the frame: 4x cheaper than
         * the whole frame */
        quality_span(vi->width, ow, &u->qx, &u->qw);
        quality_span(vi->height, oh, &u->qy, &u->qh);
        AieScaleParams dp = sp;
        dp.src_w = (int)((int64_t)u->qw * ow / vi->width);
        dp.src_h = (int)((int64_t)u->qh * oh / vi->height);
        dp.dst_w = u->qw;
        dp.dst_h = u->qh;
        dp.filter = AIE_FILTER_LANCZOS;
        u->q_layout = vi->layout <= AIE_LAYOUT_GRAY ? AIE_LAYOUT_GRAY : AIE_LAYOUT_RGB;
        dp.layout = u->q_layout;
        u->quality_every = aie_quality_every(p->quality_every, vi->fps);
        if (aie_scaler_create(&u->down, &dp, p->cpu_flags) == 0 &&
            aie_frame_pool_create(&u->back, u->qw, u->qh, dp.layout, vi->depth) == 0 &&
            aie_quality_create(&u->fidelity, "roundtrip_psnr_db", 0.25) == 0) {
            pthread_mutex_init(&u->q_lock, NULL);
            pthread_cond_init(&u->q_idle, NULL);
            u->q_sync = 1;
        }
    }
    return 0;
}

int aie_upscale_open(AieStage **out, const AieUpscaleParams *p, const AieVideoInfo *in, AiePool *pool, char *msg,
                     size_t n)
{
    *out = NULL;
    AieStage *s = calloc(1, sizeof(*s));
    Up *u = calloc(1, sizeof(*u));
    int err = AIE_ENOMEM;
    if (!s || !u)
        goto fail;
    s->ops = &up_ops;
    s->self = u;
    u->p = *p;
    u->in = *in;
    u->filter = p->method == AIE_UPSCALE_FILTER ? p->filter : AIE_FILTER_LANCZOS;
    u->info.method = p->method;
    char why[256];
    if ((err = aie_upscale_output_size(p, in, &u->info.out_w, &u->info.out_h, why, sizeof(why)))) {
        aie_errf(msg, n, "%s: %s", p->name ? p->name : "input", why);
        goto fail;
    }
    if (pool && p->method == AIE_UPSCALE_AUTO)
        auto_choose(u, pool);
    if (u->info.method == AIE_UPSCALE_RAISR && !u->bank && (err = bank_pick(u, out_scale(u), msg, n)))
        goto fail;
    if (u->info.method == AIE_UPSCALE_CNN && !u->info.model_file[0] &&
        (err = model_resolve(p, out_scale(u), &u->info, msg, n)))
        goto fail;
    snprintf(u->info.method_name, sizeof(u->info.method_name), "%s", method_name(u));
    if (pool && (err = build(u, msg, n)))
        goto fail;
    s->out = *in;
    s->out.width = u->info.out_w;
    s->out.height = u->info.out_h;
    snprintf(s->method, sizeof(s->method), "%s", u->info.method_name);
    snprintf(s->model, sizeof(s->model), "%s", u->info.model_name);
    snprintf(s->options_json, sizeof(s->options_json), "%s", u->info.choice);
    snprintf(s->describe, sizeof(s->describe), "%.500s",
             u->info.method == AIE_UPSCALE_CNN || u->info.method == AIE_UPSCALE_RAISR ? u->info.model_name
                                                                                       : aie_filter_name(u->filter));
    *out = s;
    return 0;
fail:
    if (s)
        s->self = NULL;
    free(s);
    up_free(u);
    return err;
}

int aie_upscale_info(const AieStage *s, AieUpscaleInfo *info)
{
    if (!s || s->ops != &up_ops)
        return AIE_EINVAL;
    const Up *u = s->self;
    *info = u->info;
    if (u->cnn) {
        info->tile = aie_cnn_tile(u->cnn);
        info->halvings = aie_cnn_halvings(u->cnn);
    }
    return 0;
}
