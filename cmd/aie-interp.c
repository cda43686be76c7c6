/* aie-interp: motion-compensated frame-rate conversion.
 *
 * Jobs: job i (input frame i) renders the output frames that fall between
 * input frames i - 2 and i - 1, so the cut detector sees two frames before
 * the pair and one after it; the final flush job renders the last pair and
 * the tail. Output frame k sits at k * step seconds of input time, step =
 * 1 / (output rate x slow-motion factor), and carries pts k in 1 / rate. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "aie/cpu.h"
#include "aie/io.h"
#include "aie/metrics.h"
#include "aie/motion.h"
#include "aie/pipeline.h"
#include "aie/quality.h"
#include "cli.h"

enum { OPT_FPS = 2000, OPT_SLOWMO, OPT_METHOD, OPT_SCENE, OPT_FLOW_PNG };

#define FEAT_SLOTS 32 /* more than the frames of the jobs in flight */
typedef struct FeatSlot {
    int used;
    int64_t index, pts;
    const void *data;
    AieSceneFeat f;
} FeatSlot;

typedef struct Interp {
    Cli *cli;
    /* options */
    AieRational fps, factor, slowmo; /* 0/0 when not given */
    int blend;                       /* --method blend */
    double scene_threshold;
    const char *flow_png;
    /* run */
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
    FeatSlot *feat; /* FEAT_SLOTS, NULL when it could not be allocated */
    int feat_next;
    atomic_int audio_seen; /* --slowmo met another stream */
    atomic_int single;     /* the input had one frame */
    atomic_int png_failed;
    char png_err[AIE_ERRBUF_SIZE];
} Interp;

static const CliOpt opts[] = {
    {OPT_FPS, "fps", "N[/D]", "output frame rate (60, 60000/1001, 59.94)", NULL},
    {'x', "factor", "K", "multiply the frame rate by K (2, 2.5, 5/2)", NULL},
    {OPT_SLOWMO, "slowmo", "K", "keep the rate, make the video K times longer (needs --no-audio with audio)", NULL},
    {OPT_METHOD, "method", "NAME", "mc (motion-compensated) or blend", "mc"},
    {OPT_SCENE, "scene-threshold", "T", "scene-cut threshold, 0.05 to 2 (higher finds fewer cuts)", "0.45"},
    {OPT_FLOW_PNG, "flow-png", "DIR", "write a colour-wheel picture of the motion of each output frame", NULL},
    {0},
};

static AieRational reduce(int64_t n, int64_t d)
{
    int64_t a = n < 0 ? -n : n, b = d;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    if (a > 1) {
        n /= a;
        d /= a;
    }
    while (n > 1000000000 || d > 1000000000) {
        n = (n + 1) / 2;
        d = (d + 1) / 2;
    }
    return (AieRational){(int)n, (int)d};
}

static int handle(void *ctx, int code, const char *arg)
{
    Interp *u = ctx;
    Cli *c = u->cli;
    switch (code) {
    case OPT_FPS:
        if (cli_rational(arg, &u->fps) < 0)
            cli_usage(c, "--fps: '%s' is not a positive rate like 60 or 60000/1001", arg);
        return 0;
    case 'x':
        if (cli_rational(arg, &u->factor) < 0)
            cli_usage(c, "--factor: '%s' is not a positive factor like 2 or 5/2", arg);
        return 0;
    case OPT_SLOWMO:
        if (cli_rational(arg, &u->slowmo) < 0)
            cli_usage(c, "--slowmo: '%s' is not a positive factor like 2 or 4", arg);
        return 0;
    case OPT_METHOD:
        if (!strcmp(arg, "mc"))
            u->blend = 0;
        else if (!strcmp(arg, "blend"))
            u->blend = 1;
        else
            cli_usage(c, "--method: unknown method '%s' (mc, blend)", arg);
        return 0;
    case OPT_SCENE: u->scene_threshold = cli_double(c, "--scene-threshold", arg, 0.05, 2.0); return 0;
    case OPT_FLOW_PNG: u->flow_png = arg; return 0;
    }
    return -1;
}

/* ---- timing ---- */

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

static void write_flow_png(Interp *u, const AieFlow *flow, int64_t k)
{
    if (!u->flow_png || atomic_load(&u->png_failed))
        return;
    AieFrame *rgb = NULL;
    char path[4096], err[AIE_ERRBUF_SIZE] = "";
    int e = aie_frame_alloc(&rgb, flow->width, flow->height, AIE_LAYOUT_RGB, 8);
    if (!e)
        e = aie_flow_paint(flow, rgb, 0);
    snprintf(path, sizeof(path), "%s/%06lld.png", u->flow_png, (long long)k);
    if (!e)
        e = aie_image_write_png(path, rgb, 8, err, sizeof(err));
    aie_frame_unref(&rgb);
    if (e && !atomic_exchange(&u->png_failed, 1))
        snprintf(u->png_err, sizeof(u->png_err), "%s", err[0] ? err : aie_strerror(e));
}

/* Move the aux packets of the window's frames to the first output frame at or
 * after each one's time; when several frames land on one output (a lowered
 * rate) their packets are merged into it, oldest first, so none is lost. Only
 * the job whose range holds that output touches a frame's packets. */
static int claim_aux(Interp *u, AieFrame *const *cand, int ncand, AieFrame **outs, int64_t k_lo,
                     int nout)
{
    for (int i = ncand - 1; i >= 0; i--) { /* oldest first */
        AieFrame *f = cand[i];
        if (!f)
            continue;
        int64_t k = first_k(u, frame_time(u, f));
        if (k < k_lo || k >= k_lo + nout)
            continue; /* another job's: not even f->aux may be read (that job moves it) */
        if (!f->aux)
            continue;
        int err = aie_frame_append_aux(outs[k - k_lo], f);
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
    int cut = aie_scene_cut(w, u->scene_threshold);
    free(feat);
    return cut;
}

/* Render the outputs k in [k_lo, k_hi] between a (time ta) and b (time tb),
 * holding b past tb. */
static int render(Interp *u, AieJob *job, AiePool *pool, AieFrame *a, AieFrame *b,
                  AieFrame *const win[AIE_SCENE_WINDOW], int64_t k_lo, int64_t k_hi,
                  AieFrame *const *claim, int nclaim)
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
    if (u->flow_png && (err = aie_flow_alloc(&ft, b->width, b->height, fs)))
        goto fail;
    for (int64_t k = k_lo; k <= k_hi; k++) {
        double T = (double)k * u->step;
        AieFrame *o = NULL;
        int synth = 0;
        double t = 0;
        if (!a || fabs(T - tb) <= u->tol || (T > tb && (cut || u->blend || T - ta >= 2 * (tb - ta)))) {
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
            if (!u->blend && !pm && (err = aie_interp_analyse(u->ip, a, b, &pm, pool)))
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
            for (int y = 0; y < ft->height; y++) {
                memset(ft->u + y * ft->stride, 0, (size_t)ft->width * sizeof(float));
                memset(ft->v + y * ft->stride, 0, (size_t)ft->width * sizeof(float));
            }
        }
        set_props(u, o, b, k);
        if (ft)
            write_flow_png(u, ft, k);
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

static int process(void *ctx, AieJob *job, AiePool *pool)
{
    Interp *u = ctx;
    if (u->slowmo.num && !u->cli->no_audio) {
        for (int i = -1; i < AIE_PIPE_MAX_HISTORY; i++) {
            AieFrame *f = i < 0 ? job->in : job->prev[i];
            if (f && f->aux) {
                atomic_store(&u->audio_seen, 1);
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
    double dur = b->duration > 0 && b->time_base.den > 0
                     ? (double)b->duration * b->time_base.num / b->time_base.den
                     : u->in_frame > 0 ? u->in_frame : tb - ta;
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

/* ---- the command ---- */

static json_object *rational_json(AieRational r)
{
    char buf[48];
    snprintf(buf, sizeof(buf), "%d/%d", r.num, r.den);
    return json_object_new_string(buf);
}

static json_object *job_json(const Interp *u, const Cli *c, const AieVideoInfo *vi)
{
    void *tool_opts;
    json_object *o = cli_job_json(c, vi, vi->width, vi->height, &tool_opts), *p = tool_opts;
    json_object *out;
    if (u->flow_png && json_object_object_get_ex(o, "outputs", &out))
        json_object_array_add(out, json_object_new_string(u->flow_png));
    json_object_object_add(p, "method", json_object_new_string(u->blend ? "blend" : "mc"));
    json_object_object_add(p, "fps", rational_json(u->out_fps));
    json_object_object_add(p, "input_fps", rational_json(vi->fps));
    json_object_object_add(p, "factor", u->factor.num ? rational_json(u->factor) : NULL);
    json_object_object_add(p, "slowmo", u->slowmo.num ? rational_json(u->slowmo) : NULL);
    json_object_object_add(p, "scene_threshold", json_object_new_double(u->scene_threshold));
    json_object_object_add(p, "flow_png", u->flow_png ? json_object_new_string(u->flow_png) : NULL);
    return o;
}


/* The output rate and the input time between output frames; 0 or a usage
 * message. */
static int plan_rates(Interp *u, const AieVideoInfo *vi, char *why, size_t n)
{
    int have_in = vi->fps.num > 0 && vi->fps.den > 0;
    AieRational slow = u->slowmo.num ? u->slowmo : (AieRational){1, 1};
    if (u->fps.num) {
        u->out_fps = u->fps;
    } else {
        if (!have_in) {
            snprintf(why, n, "%s: the input's frame rate is unknown; give --fps", u->cli->input);
            return -1;
        }
        AieRational k = u->factor.num ? u->factor : (AieRational){1, 1};
        u->out_fps = reduce((int64_t)vi->fps.num * k.num, (int64_t)vi->fps.den * k.den);
    }
    if (u->out_fps.num <= 0 || u->out_fps.den <= 0) {
        snprintf(why, n, "the output rate is out of range");
        return -1;
    }
    double out = (double)u->out_fps.num / u->out_fps.den;
    if (out > 1000) {
        snprintf(why, n, "an output rate of %g fps is above 1000", out);
        return -1;
    }
    u->step = 1.0 / (out * slow.num / slow.den);
    u->in_tb = vi->time_base.den > 0 && vi->time_base.num > 0 ? (double)vi->time_base.num / vi->time_base.den : 1e-6;
    u->in_frame = have_in ? (double)vi->fps.den / vi->fps.num : 0;
    if (have_in && u->step > 3.0 * u->in_frame + 1e-9) {
        snprintf(why, n, "%.6g fps is less than a third of the input's %.6g fps; aie-interp lowers a rate at most 3x",
                 1.0 / u->step, 1.0 / u->in_frame);
        return -1;
    }
    /* half an input tick, at most 0.5 ms and a quarter of the output step */
    u->tol = fmin(fmin(0.5 * u->in_tb, 0.0005), 0.25 * u->step);
    return 0;
}

int main(int argc, char **argv)
{
    static Cli cli;
    static Interp u;
    u.cli = &cli;
    u.scene_threshold = AIE_SCENE_THRESHOLD_DEFAULT;
    cli.tool = "aie-interp";
    cli.purpose = "Convert the frame rate of video with motion-compensated interpolation.";
    cli.usage_args = "-i INPUT -o OUTPUT";
    cli.features = CLI_MEDIA;
    cli.opts = opts;
    cli.handle = handle;
    cli.tool_ctx = &u;
    cli_parse(&cli, argc, argv);
    int given = !!u.fps.num + !!u.factor.num + !!u.slowmo.num;
    if (given != 1)
        cli_usage(&cli, given ? "give only one of --fps, --factor and --slowmo"
                              : "give one of --fps, --factor and --slowmo");
    cli_check_output_plan(&cli);
    if (!cli.dry_run)
        cli_check_output_tty(&cli);
    if (u.flow_png && !cli.dry_run) {
        struct stat st;
        if (stat(u.flow_png, &st) != 0 && mkdir(u.flow_png, 0777) != 0 && errno != EEXIST) {
            cli_error(&cli, "%s: cannot create the directory: %s", u.flow_png, strerror(errno));
            return EXIT_FAIL;
        }
        if (stat(u.flow_png, &st) != 0 || !S_ISDIR(st.st_mode)) {
            cli_error(&cli, "%s: not a directory", u.flow_png);
            return EXIT_FAIL;
        }
    }

    static AieWriter *writer;
    cli_signals_start(&cli, &writer);

    int err = 0, usage = 0, threads = cli.threads ? cli.threads : aie_cpu_count();
    char msg[AIE_ERRBUF_SIZE] = "";
    AieReader *reader = NULL;
    AiePool *pool = NULL;
    AieMetrics *metrics = cli.dry_run ? NULL : cli_metrics_open(&cli);
    AiePipelineStats stats = {0};
    AieRunInfo ri = {.method = u.blend ? "blend" : "mc", .threads = threads};
    char out_fmt[32] = "";
    ri.input.name = cli.input;
    ri.output.name = cli.output;
    atomic_init(&u.cuts, 0);
    pthread_mutex_init(&u.feat_lock, NULL);

    AieReaderOpts ro = cli_reader_opts(&cli);
    if ((err = aie_reader_open(&reader, cli.input, &ro, msg, sizeof(msg))))
        goto done;
    const AieVideoInfo *vi = aie_reader_info(reader);
    cli_stream_desc(&ri.input, cli.input, vi->width, vi->height, vi->fps, vi->pix_fmt);
    char why[256];
    if (plan_rates(&u, vi, why, sizeof(why)) < 0) {
        cli_usage(&cli, "%s", why);
    }
    /* audio cannot follow slow motion: refuse before any work (and before an
     * output exists) unless told to drop it */
    if (u.slowmo.num && !cli.no_audio && vi->other_streams > 0)
        cli_usage(&cli, "%s has %s, which cannot follow --slowmo; add --no-audio to drop %s", cli.input,
                  vi->audio_streams > 0 ? "audio" : "subtitle or data streams",
                  vi->other_streams > 1 ? "them" : "it");
    cli_check_audio(&cli, reader);
    if (cli.dry_run) {
        json_object *j = job_json(&u, &cli, vi);
        cli_print_job(&cli, j);
        goto done;
    }
    AieMotionParams mp;
    aie_motion_params_default(&mp);
    if ((err = aie_interp_create(&u.ip, vi->width, vi->height, vi->layout, vi->depth, &mp,
                                 cli.cpu_flags))) {
        snprintf(msg, sizeof(msg), "%s: cannot interpolate %dx%d %s: %s", cli.input, vi->width,
                 vi->height, vi->pix_fmt, aie_strerror(err));
        goto done;
    }
    if ((err = aie_frame_pool_create(&u.frames, vi->width, vi->height, vi->layout, vi->depth)))
        goto done;
    u.feat = calloc(FEAT_SLOTS, sizeof(*u.feat));
    if (metrics)
        aie_quality_create(&u.unreliable, "unreliable_motion_pct", 1.0);
    AieVideoInfo ovi = *vi;
    ovi.fps = u.out_fps;
    ovi.time_base = (AieRational){u.out_fps.den, u.out_fps.num};
    ovi.interlaced = 0;
    if (vi->nb_frames > 0 && vi->fps.num > 0)
        ovi.nb_frames = (int64_t)ceil((double)vi->nb_frames * (double)vi->fps.den / vi->fps.num / u.step);
    AieWriterOpts wo = cli_writer_opts(&cli);
    if (u.slowmo.num)
        wo.no_audio = 1; /* audio is refused above unless --no-audio */
    if ((err = aie_writer_open(&writer, cli.output, &ovi, reader, &wo, msg, sizeof(msg))))
        goto done;
    if ((err = aie_pool_create(&pool, threads))) {
        snprintf(msg, sizeof(msg), "cannot start %d threads: %s", threads, aie_strerror(err));
        goto done;
    }
    snprintf(out_fmt, sizeof(out_fmt), "%s", aie_writer_pix_fmt(writer));
    cli_stream_desc(&ri.output, cli.output, vi->width, vi->height, u.out_fps, out_fmt);
    aie_metrics_run_start(metrics, &ri);
    if (cli.verbose)
        cli_info(&cli, "%s: %dx%d %s %d/%d fps -> %d/%d fps%s, %s, %d threads, cpu %s", cli.input,
                 vi->width, vi->height, vi->pix_fmt, vi->fps.num, vi->fps.den, u.out_fps.num,
                 u.out_fps.den, u.slowmo.num ? " (slow motion)" : "", u.blend ? "blend" : "mc",
                 threads, aie_cpu_name(cli.cpu_flags));

    AiePipelineCallbacks cb = {.ctx = &u, .process = process, .history = 4, .flush_job = 1};
    AiePipelineOpts po = {
        .pool = pool, .cancel = &cli.cancel, .progress = cli_progress, .progress_opaque = &cli,
        .snapshot = metrics ? cli_snapshot : NULL, .snapshot_opaque = metrics,
        .snapshot_interval_s = metrics ? cli.metrics_interval : 0,
        .count_output = 1, .out_total = ovi.nb_frames, /* progress counts output frames */
    };
    err = aie_pipeline_run(reader, writer, &cb, &po, &stats, msg, sizeof(msg));
    cli_progress_end(&cli);
    if (err && atomic_load(&u.audio_seen)) {
        snprintf(msg, sizeof(msg),
                 "%s has audio (or other streams), which cannot follow --slowmo; add --no-audio to drop it",
                 cli.input);
        usage = 1;
    }
    if (!err)
        err = cli_finish_output(&cli, writer, &stats, msg, sizeof(msg));
    if (!err && atomic_load(&u.single))
        cli_warn(&cli, "%s: only one frame, nothing to interpolate: copied it through", cli.input);
    if (!err && atomic_load(&u.png_failed))
        cli_warn(&cli, "--flow-png: %s", u.png_err);
    if (!err && aie_reader_frames_lost(reader) > 0)
        cli_warn(&cli, "%s: %lld damaged frame%s skipped (--ignore-errors)", cli.input,
                 (long long)aie_reader_frames_lost(reader),
                 aie_reader_frames_lost(reader) == 1 ? "" : "s");
    if (!err && cli.verbose)
        cli_info(&cli, "%lld frames in, %lld out in %.2f s (%.1f fps out), %ld cut%s",
                 (long long)stats.frames_in, (long long)stats.frames_out, stats.wall_ms / 1000,
                 stats.wall_ms > 0 ? stats.frames_out * 1000.0 / stats.wall_ms : 0,
                 (long)atomic_load(&u.cuts), atomic_load(&u.cuts) == 1 ? "" : "s");
done: {
        stats.decode_errors = reader ? aie_reader_decode_errors(reader) : 0;
        stats.packets_fixed = aie_writer_packets_fixed(writer);
        char *quality = NULL;
        if (u.unreliable)
            aie_quality_json(u.unreliable, &quality);
        json_object *q = quality ? json_tokener_parse(quality) : json_object_new_object();
        if (q) {
            json_object_object_add(q, "cuts", json_object_new_int64(atomic_load(&u.cuts)));
            free(quality);
            quality = strdup(json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN));
            json_object_put(q);
        }
        cli_finish(&cli, metrics, &ri, &stats, err, msg, sizeof(msg), quality);
        free(quality);
        if (err && usage)
            fprintf(stderr, "Try '%s --help'.\n", cli.tool);
    }
    aie_writer_close(&writer);
    aie_pool_destroy(&pool);
    aie_interp_free(&u.ip);
    aie_frame_pool_free(&u.frames);
    aie_quality_free(&u.unreliable);
    free(u.feat);
    pthread_mutex_destroy(&u.feat_lock);
    aie_reader_close(&reader);
    cli_metrics_close(&cli, &metrics);
    if (usage && !cli_signal(&cli))
        return EXIT_USAGE;
    return cli_exit_code(&cli, err);
}
