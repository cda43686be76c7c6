/* aie-upscale: resize video and images (classical resampling or a CNN). */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aie/cpu.h"
#include "aie/io.h"
#include "aie/metrics.h"
#include "aie/pipeline.h"
#include "aie/quality.h"
#include "aie/nn.h"
#include "aie/raisr.h"
#include "aie/scale.h"
#include "aie/sr_cnn.h"
#include "cli.h"

enum { OPT_SIZE = 2000, OPT_WIDTH, OPT_HEIGHT, OPT_MODEL, OPT_LIST_MODELS, OPT_TILE, OPT_MAX_MEM, OPT_BANK,
       OPT_BUDGET };

#define MODELS_HINT "run 'make models' (scripts/fetch-models.sh) to download the pretrained models"

/* The model search path: $AIE_MODEL_DIR, $XDG_CACHE_HOME/aie/models,
 * ~/.cache/aie/models, then the data directory next to the installed tool
 * (BINDIR/../share/aie, which is $PREFIX/share/aie after make install). */
typedef struct ModelPath {
    char buf[4][PATH_MAX];
    const char *dirs[4];
    int n;
} ModelPath;

static void model_path_init(ModelPath *mp)
{
    mp->n = 0;
    const char *e = getenv("AIE_MODEL_DIR"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (e && *e)
        snprintf(mp->buf[mp->n++], PATH_MAX, "%s", e);
    if (x && *x)
        snprintf(mp->buf[mp->n++], PATH_MAX, "%s/aie/models", x);
    if (h && *h)
        snprintf(mp->buf[mp->n++], PATH_MAX, "%s/.cache/aie/models", h);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            slash = strrchr(exe, '/');
            if (slash)
                *slash = 0;
            else
                strcpy(exe, ".");
            if (snprintf(mp->buf[mp->n], PATH_MAX, "%s/share/aie", exe) < PATH_MAX)
                mp->n++;
        }
    }
    for (int i = 0; i < mp->n; i++)
        mp->dirs[i] = mp->buf[i];
}

/* snprintf for messages that may be cut (long paths) */
static void say(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

static void model_path_text(const ModelPath *mp, char *out, size_t n)
{
    out[0] = 0;
    for (int i = 0; i < mp->n; i++) {
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s%s", i ? ":" : "", mp->dirs[i]);
    }
}

typedef struct Upscale {
    Cli *cli;
    double scale;     /* 0 = not given */
    int size_w, size_h, width, height;
    AieFilter filter;
    const char *method;
    int cnn;              /* -m cnn (or --model) */
    int raisr;            /* -m raisr (or --bank) */
    int autom;            /* -m auto (the default) */
    const char *bank_arg; /* --bank FILE */
    double budget_fps;    /* --budget-fps, 0 = none */
    char bank_name[PATH_MAX];
    AieRaisrBank *bank;
    AieRaisrUpscaler *rs;
    char choice[512];     /* -m auto: why, as a JSON object text */
    const char *model_arg; /* --model NAME|PATH */
    char model_name[256];
    char model_file[PATH_MAX];
    AieNnModel *model;
    AieCnnUpscaler *up;
    int tile;             /* --tile, 0 = automatic */
    size_t max_mem;       /* --max-mem in bytes, 0 = none */
    int method_given;
    AieScaler *scaler;
    AieFramePool *frames; /* output frames, recycled */
    int out_w, out_h;
    /* quality: round-trip fidelity of every Nth frame */
    AieScaler *down;      /* output size -> input size (luma only for YUV) */
    AieFramePool *back;   /* frames of the round trip */
    AieQualityAcc *fidelity;
    AieLayout q_layout;   /* GRAY (the luma of YUV) or RGB */
    int qx, qy, qw, qh;   /* the input region scored */
    int quality_every;
    unsigned cpu_flags;
} Upscale;

static const CliOpt opts[] = {
    {'s', "scale", "F", "scale factor, 1 to 8 (fractions allowed)", "2"},
    {OPT_SIZE, "size", "WxH", "output size in pixels", NULL},
    {OPT_WIDTH, "width", "W", "output width; the height keeps the aspect ratio", NULL},
    {OPT_HEIGHT, "height", "H", "output height; the width keeps the aspect ratio", NULL},
    {'m', "method", "NAME", "auto, nearest, bilinear, bicubic, lanczos, spline36, raisr or cnn", "auto"},
    {OPT_MODEL, "model", "NAME|PATH", "CNN model: an installed name or a model file (implies -m cnn)", "best installed for the scale"},
    {OPT_BANK, "bank", "FILE", "RAISR filter bank made by aie-train (implies -m raisr)", "built-in for the scale"},
    {OPT_BUDGET, "budget-fps", "N", "-m auto: the best method expected to keep up with N frames per second", "none"},
    {OPT_LIST_MODELS, "list-models", NULL, "list the CNN models and RAISR filter banks and exit", NULL},
    {OPT_TILE, "tile", "N", "CNN tile side in input pixels, 16 to 4096", "automatic"},
    {OPT_MAX_MEM, "max-mem", "MiB", "cap on CNN tile memory (all threads); tiles are halved to fit", "none"},
    {0},
};

/* --list-models: what is installed, one model a line, on stdout. */
static int list_models(const Cli *c)
{
    ModelPath mp;
    model_path_init(&mp);
    int n, found = 0;
    const AieCnnModelDesc *cat = aie_cnn_catalogue(&n);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], err[AIE_ERRBUF_SIZE];
        if (aie_cnn_model_find(mp.dirs, mp.n, &cat[i], path, sizeof(path)))
            continue;
        if (!found++)
            printf("%-24s %5s  %-9s  %13s  %-12s  %s\n", "NAME", "SCALE", "CONTENT", "GFLOP/MPIXEL", "LICENCE",
                   "FILE");
        AieNnModel *m = NULL;
        if (aie_nn_load(&m, path, err, sizeof(err))) {
            printf("%-24s %4dx  %-9s  %13s  %-12s  %s\n", cat[i].name, cat[i].scale, cat[i].content, "damaged",
                   cat[i].licence, path);
            cli_warn(c, "%s", err);
            continue;
        }
        AieNnInfo info;
        aie_nn_info(m, &info);
        printf("%-24s %4dx  %-9s  %13.1f  %-12s  %s\n", cat[i].name, cat[i].scale, cat[i].content,
               info.flops_per_pixel * 1e6 / 1e9, cat[i].licence, path);
        aie_nn_free(&m);
    }
    /* RAISR filter banks: the built-in ones, then raisr-x<N>.bank files on the path */
    int banks = 0;
    for (int i = -1; i < mp.n; i++)
        for (int s = 2; s <= 4; s++) {
            char path[PATH_MAX] = "", err[AIE_ERRBUF_SIZE], name[32];
            AieRaisrBank *b = NULL;
            snprintf(name, sizeof(name), "raisr-x%d", s);
            if (i < 0) {
                if (aie_raisr_bank_builtin(&b, s))
                    continue;
                snprintf(path, sizeof(path), "(built-in)");
            } else if (snprintf(path, sizeof(path), "%s/raisr-x%d.bank", mp.dirs[i], s) >= (int)sizeof(path) ||
                       access(path, F_OK)) {
                continue;
            } else if (aie_raisr_bank_load(&b, path, err, sizeof(err))) {
                printf("%-24s %4dx  %-9s  %13s  %-12s  %s\n", name, s, "filters", "damaged", "-", path);
                cli_warn(c, "%s", err);
                continue;
            }
            if (!found++ || !banks)
                printf("%s%-24s %5s  %-9s  %13s  %-12s  %s\n", found > 1 ? "\n" : "", "NAME", "SCALE", "CONTENT",
                       "GFLOP/MPIXEL", "LICENCE", "FILE");
            banks++;
            AieRaisrBankInfo bi;
            aie_raisr_bank_info(b, &bi);
            /* per output pixel: k*k multiply-adds, plus the hash per input pixel */
            printf("%-24s %4dx  %-9s  %13.2f  %-12s  %s\n", name, s, "filters", 2.0 * bi.k * bi.k / 1e3,
                   i < 0 ? "as aie" : "-", path);
            aie_raisr_bank_free(&b);
        }
    fflush(stdout);
    char sp[4 * PATH_MAX + 4];
    model_path_text(&mp, sp, sizeof(sp));
    if (found == banks)
        cli_warn(c, "no CNN models installed (search path %s); " MODELS_HINT, sp);
    else if (!c->quiet)
        fprintf(stderr, "%s: %d model%s and filter bank%s; search path %s\n", c->tool, found, found == 1 ? "" : "s",
                found == 1 ? "" : "s", sp);
    return 0;
}

static int handle(void *ctx, int code, const char *arg)
{
    Upscale *u = ctx;
    Cli *c = u->cli;
    switch (code) {
    case 's': u->scale = cli_double(c, "--scale", arg, 1.0, 8.0); return 0;
    case OPT_SIZE: {
        char *end;
        long w = strtol(arg, &end, 10), h = -1;
        if (end != arg && (*end == 'x' || *end == 'X')) {
            char *e2;
            h = strtol(end + 1, &e2, 10);
            if (e2 == end + 1 || *e2)
                h = -1;
        }
        if (w < 1 || h < 1)
            cli_usage(c, "--size: expected WxH such as 3840x2160, not '%s'", arg);
        if (w > AIE_MAX_DIM || h > AIE_MAX_DIM)
            cli_usage(c, "--size: %s is larger than %d pixels on a side", arg, AIE_MAX_DIM);
        u->size_w = (int)w;
        u->size_h = (int)h;
        return 0;
    }
    case OPT_WIDTH: u->width = cli_int(c, "--width", arg, 1, AIE_MAX_DIM); return 0;
    case OPT_HEIGHT: u->height = cli_int(c, "--height", arg, 1, AIE_MAX_DIM); return 0;
    case 'm':
        u->cnn = u->raisr = u->autom = 0;
        if (!strcmp(arg, "cnn")) {
            u->cnn = 1;
        } else if (!strcmp(arg, "raisr")) {
            u->raisr = 1;
        } else if (!strcmp(arg, "auto")) {
            u->autom = 1;
        } else if (aie_filter_parse(arg, &u->filter) < 0) {
            cli_usage(c, "--method: unknown method '%s' (auto, nearest, bilinear, bicubic, lanczos, spline36, raisr, "
                         "cnn)", arg);
        }
        u->method = arg;
        u->method_given = 1;
        return 0;
    case OPT_MODEL:
        if (!*arg)
            cli_usage(c, "--model: expected a model name or file");
        u->model_arg = arg;
        return 0;
    case OPT_BANK:
        if (!*arg)
            cli_usage(c, "--bank: expected a filter bank file");
        u->bank_arg = arg;
        return 0;
    case OPT_BUDGET: u->budget_fps = cli_double(c, "--budget-fps", arg, 0.001, 100000); return 0;
    case OPT_LIST_MODELS: exit(list_models(c) ? EXIT_FAIL : EXIT_OK);
    case OPT_TILE: u->tile = cli_int(c, "--tile", arg, AIE_NN_MIN_TILE, 4096); return 0;
    case OPT_MAX_MEM: u->max_mem = (size_t)cli_int(c, "--max-mem", arg, 1, 16 << 20) << 20; return 0;
    }
    return -1;
}

/* Output size from the options, odd ones included (the writer pads for an
 * encoder that needs even sizes). */
static int output_size(Upscale *u, const AieVideoInfo *vi, char *why, size_t n)
{
    double w, h;
    if (u->size_w) {
        w = u->size_w;
        h = u->size_h;
    } else if (u->width || u->height) {
        double ar = (double)vi->width / vi->height;
        w = u->width ? u->width : u->height * ar;
        h = u->height ? u->height : u->width / ar;
    } else {
        double s = u->scale > 0 ? u->scale : 2.0;
        w = vi->width * s;
        h = vi->height * s;
    }
    int ow = (int)lround(w), oh = (int)lround(h);
    if (ow < 1)
        ow = 1;
    if (oh < 1)
        oh = 1;
    if (ow > AIE_MAX_DIM || oh > AIE_MAX_DIM) {
        snprintf(why, n, "output %dx%d is larger than %d pixels on a side", ow, oh, AIE_MAX_DIM);
        return -1;
    }
    u->out_w = ow;
    u->out_h = oh;
    return 0;
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
    int a = n, b = out;
    while (b) {
        int t = a % b;
        a = b;
        b = t;
    }
    int step = n / a, l = n / 2 / step * step;
    if (l < 64 || out * (int64_t)l % n) {
        *start = 0;
        *len = n;
        return;
    }
    *len = l;
    *start = (n - l) / 2 / step * step;
}

static int process(void *ctx, AieJob *job, AiePool *pool)
{
    Upscale *u = ctx;
    AieFrame *in = job->in, *out;
    int err = aie_frame_pool_get(u->frames, &out);
    if (err)
        return err;
    if (u->up)
        err = aie_cnn_upscale(u->up, in, out, pool, &u->cli->cancel);
    else if (u->rs)
        err = aie_raisr_upscale(u->rs, in, out, pool);
    else
        err = aie_scaler_scale(u->scaler, in, out, pool);
    if (err) {
        aie_frame_unref(&out);
        return err;
    }
    aie_frame_copy_props(out, in);
    if (u->fidelity && job->seq % u->quality_every == 0) {
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
                aie_quality_add(u->fidelity, aie_frame_psnr(x, y, u->cpu_flags));
            aie_frame_unref(&x);
            aie_frame_unref(&y);
        }
        aie_frame_unref(&back);
        aie_frame_unref(&b);
    }
    return aie_job_emit(job, out);
}

static const char *method_name(const Upscale *u)
{
    return u->autom ? "auto" : u->cnn ? "cnn" : u->raisr ? "raisr" : aie_filter_name(u->filter);
}

/* The filter bank for an output scale: --bank FILE, else raisr-x<r>.bank on
 * the model path, else the built-in one. */
static int bank_pick(Upscale *u, const ModelPath *mp, double scale, char *msg, size_t n)
{
    if (u->bank_arg) {
        const char *base = strrchr(u->bank_arg, '/');
        snprintf(u->bank_name, sizeof(u->bank_name), "%s", base ? base + 1 : u->bank_arg);
        return aie_raisr_bank_load(&u->bank, u->bank_arg, msg, n);
    }
    int r = scale <= 2.0 ? 2 : scale <= 3.0 ? 3 : 4;
    for (int i = 0; i < mp->n; i++) {
        char path[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/raisr-x%d.bank", mp->dirs[i], r) >= (int)sizeof(path) ||
            access(path, F_OK))
            continue;
        snprintf(u->bank_name, sizeof(u->bank_name), "%s", path);
        return aie_raisr_bank_load(&u->bank, path, msg, n);
    }
    int e = aie_raisr_bank_builtin(&u->bank, r);
    if (e)
        say(msg, n, "-m raisr: no %dx filter bank (none built in, none on the model path); train one with aie-train", r);
    else
        snprintf(u->bank_name, sizeof(u->bank_name), "raisr-x%d (built-in)", r);
    return e;
}

/* Frames per second of one way of upscaling vi to the output size, timed on a
 * synthetic frame (the best of two runs); the CNN on a 96x96 piece, scaled by
 * the pixel count. 0 when it cannot run. */
static double calibrate(Upscale *u, const AieVideoInfo *vi, const char *method, const char *model_file,
                        AiePool *pool, int threads)
{
    int sw = vi->width, sh = vi->height, dw = u->out_w, dh = u->out_h;
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
        if (!u->bank || aie_raisr_create(&rs, u->bank, &rp, u->cli->cpu_flags))
            goto done;
    } else if (!strcmp(method, "cnn")) {
        AieCnnParams cp = {.src_w = sw, .src_h = sh, .dst_w = dw, .dst_h = dh, .layout = vi->layout,
                           .depth = vi->depth, .color = vi->color, .threads = threads + 1};
        if (aie_nn_load(&m, model_file, e2, sizeof(e2)) ||
            aie_cnn_create(&cu, m, &cp, u->cli->cpu_flags, e2, sizeof(e2)))
            goto done;
    } else if (aie_scaler_create(&sc, &sp, u->cli->cpu_flags)) {
        goto done;
    }
    for (int run = 0; run < 2; run++) {
        long long t0 = aie_time_us();
        int e = rs ? aie_raisr_upscale(rs, src, dst, pool)
              : cu ? aie_cnn_upscale(cu, src, dst, pool, &u->cli->cancel)
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

/* -m auto: a CNN for stills, RAISR for video; with --budget-fps, the best of
 * cnn > raisr > lanczos expected to keep up. Sets the method and u->choice. */
static void auto_choose(Upscale *u, const AieVideoInfo *vi, const ModelPath *mp, AiePool *pool, int threads)
{
    double sw = (double)u->out_w / vi->width, sh = (double)u->out_h / vi->height, s = sw > sh ? sw : sh;
    const AieCnnModelDesc *d = NULL;
    char model[PATH_MAX] = "", msg[AIE_ERRBUF_SIZE];
    int have_cnn = s >= 1.5 && aie_cnn_model_pick(mp->dirs, mp->n, s, &d, model, sizeof(model)) == 0;
    int have_raisr = s >= 1.5 && bank_pick(u, mp, s, msg, sizeof(msg)) == 0;
    const char *pick = "lanczos", *why;
    double fps[3] = {-1, -1, -1}; /* cnn, raisr, lanczos */
    if (s < 1.5) {
        why = "scale below 1.5";
    } else if (u->budget_fps <= 0) {
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
        if (have_cnn && (fps[0] = calibrate(u, vi, "cnn", model, pool, threads)) >= u->budget_fps) {
            pick = "cnn";
            why = "the best method that keeps up with the budget";
        } else if (have_raisr && (fps[1] = calibrate(u, vi, "raisr", NULL, pool, threads)) >= u->budget_fps) {
            pick = "raisr";
            why = "the best method that keeps up with the budget";
        } else {
            fps[2] = calibrate(u, vi, "lanczos", NULL, pool, threads);
            if (fps[2] < u->budget_fps)
                cli_warn(u->cli, "--budget-fps %g: even lanczos is expected to run at %.1f fps here", u->budget_fps,
                         fps[2]);
        }
    }
    u->autom = 0;
    u->cnn = !strcmp(pick, "cnn");
    u->raisr = !strcmp(pick, "raisr");
    u->filter = AIE_FILTER_LANCZOS;
    if (u->cnn)
        snprintf(u->model_name, sizeof(u->model_name), "%s", d->name);
    if (!u->raisr)
        aie_raisr_bank_free(&u->bank);
    int n = snprintf(u->choice, sizeof(u->choice), "{\"requested\":\"auto\",\"chosen\":\"%s\",\"reason\":\"%s\"", pick,
                     why);
    if (u->budget_fps > 0 && n < (int)sizeof(u->choice))
        n += snprintf(u->choice + n, sizeof(u->choice) - (size_t)n, ",\"budget_fps\":%g", u->budget_fps);
    static const char *const names[3] = {"cnn", "raisr", "lanczos"};
    for (int i = 0; i < 3; i++)
        if (fps[i] >= 0 && n < (int)sizeof(u->choice))
            n += snprintf(u->choice + n, sizeof(u->choice) - (size_t)n, ",\"predicted_fps_%s\":%.2f", names[i], fps[i]);
    if (n < (int)sizeof(u->choice))
        snprintf(u->choice + n, sizeof(u->choice) - (size_t)n, "}");
    if (u->cli->verbose)
        cli_info(u->cli, "-m auto: %s (%s)", pick, why);
}

static json_object *job_json(const Upscale *u, const Cli *c, const AieVideoInfo *vi)
{
    void *tool_opts;
    json_object *o = cli_job_json(c, vi, u->out_w, u->out_h, &tool_opts), *p = tool_opts;
    json_object_object_add(p, "method", json_object_new_string(method_name(u)));
    if (u->autom && u->budget_fps > 0)
        json_object_object_add(p, "budget_fps", json_object_new_double(u->budget_fps));
    if (u->raisr && u->bank_arg)
        json_object_object_add(p, "bank", json_object_new_string(u->bank_arg));
    if (u->cnn) {
        json_object_object_add(p, "model", json_object_new_string(u->model_name));
        json_object_object_add(p, "model_file", json_object_new_string(u->model_file));
        json_object_object_add(p, "tile", json_object_new_int(u->tile));
        json_object_object_add(p, "max_mem_mib", json_object_new_int64((int64_t)(u->max_mem >> 20)));
    }
    return o;
}


int main(int argc, char **argv)
{
    static Cli cli;
    Upscale u = {.cli = &cli, .filter = AIE_FILTER_LANCZOS};
    cli.tool = "aie-upscale";
    cli.purpose = "Upscale (or resize) video and images with classical resampling or a CNN.";
    cli.usage_args = "-i INPUT -o OUTPUT";
    cli.features = CLI_MEDIA;
    cli.opts = opts;
    cli.handle = handle;
    cli.tool_ctx = &u;
    cli_parse(&cli, argc, argv);
    if (u.scale > 0 && (u.size_w || u.width || u.height))
        cli_usage(&cli, "--scale conflicts with --size/--width/--height");
    if (u.size_w && (u.width || u.height))
        cli_usage(&cli, "--size conflicts with --width/--height");
    if (u.model_arg) {
        if (u.method_given && !u.cnn)
            cli_usage(&cli, "--model goes with -m cnn, not -m %s", u.method);
        u.cnn = 1;
        u.method = "cnn";
    }
    if (u.bank_arg) {
        if ((u.method_given && !u.raisr) || u.model_arg)
            cli_usage(&cli, "--bank goes with -m raisr, not %s", u.model_arg ? "--model" : u.method);
        u.raisr = 1;
        u.method = "raisr";
    }
    if (!u.method_given && !u.model_arg && !u.bank_arg)
        u.autom = 1;
    if (u.budget_fps > 0 && !u.autom)
        cli_usage(&cli, "--budget-fps goes with -m auto");
    if (!u.cnn && !u.autom && (u.tile || u.max_mem))
        cli_usage(&cli, "--tile and --max-mem go with -m cnn (or -m auto)");
    const int model_is_path = u.model_arg && (strchr(u.model_arg, '/') || strstr(u.model_arg, ".json") ||
                                              strstr(u.model_arg, ".param"));
    if (u.model_arg && !model_is_path && !aie_cnn_model_desc(u.model_arg))
        cli_usage(&cli, "--model: unknown model '%s' (see --list-models, or give a file)", u.model_arg);
    if (!cli.dry_run)
        cli_check_output_tty(&cli);

    static AieWriter *writer;
    cli_signals_start(&cli, &writer);

    int err = 0, threads = cli.threads ? cli.threads : aie_cpu_count();
    char msg[AIE_ERRBUF_SIZE] = "";
    AieReader *reader = NULL;
    AiePool *pool = NULL;
    AieMetrics *metrics = cli.dry_run ? NULL : cli_metrics_open(&cli);
    AiePipelineStats stats = {0};
    AieRunInfo ri = {.method = method_name(&u), .threads = threads};
    char out_fmt[32] = "";
    ri.input.name = cli.input;
    ri.output.name = cli.output;
    ModelPath mp;
    model_path_init(&mp);
    char search[4 * PATH_MAX + 4];
    model_path_text(&mp, search, sizeof(search));

    /* -m cnn needs a model: fail before reading anything when there is none */
    if (u.cnn && model_is_path) {
        snprintf(u.model_file, sizeof(u.model_file), "%s", u.model_arg);
        const char *base = strrchr(u.model_arg, '/');
        snprintf(u.model_name, sizeof(u.model_name), "%s", base ? base + 1 : u.model_arg);
        char *dot = strrchr(u.model_name, '.');
        if (dot && dot != u.model_name)
            *dot = 0;
        ri.model = u.model_name;
    } else if (u.cnn && u.model_arg) {
        snprintf(u.model_name, sizeof(u.model_name), "%s", u.model_arg);
        ri.model = u.model_name;
        if ((err = aie_cnn_model_find(mp.dirs, mp.n, aie_cnn_model_desc(u.model_arg), u.model_file,
                                      sizeof(u.model_file)))) {
            say(msg, sizeof(msg), "--model %s: not installed (search path %s); " MODELS_HINT, u.model_arg,
                     search);
            goto done;
        }
    } else if (u.cnn) {
        const AieCnnModelDesc *d;
        if ((err = aie_cnn_model_pick(mp.dirs, mp.n, 0, &d, u.model_file, sizeof(u.model_file)))) {
            say(msg, sizeof(msg), "-m cnn: no CNN model installed (search path %s); " MODELS_HINT, search);
            goto done;
        }
    }

    AieReaderOpts ro = cli_reader_opts(&cli);
    if ((err = aie_reader_open(&reader, cli.input, &ro, msg, sizeof(msg))))
        goto done;
    const AieVideoInfo *vi = aie_reader_info(reader);
    cli_stream_desc(&ri.input, cli.input, vi->width, vi->height, vi->fps, vi->pix_fmt);
    char why[256];
    if (output_size(&u, vi, why, sizeof(why)) < 0) {
        snprintf(msg, sizeof(msg), "%s: %s", cli.input, why);
        err = AIE_ETOOBIG;
        goto done;
    }
    if (!cli.dry_run && (err = aie_pool_create(&pool, threads))) {
        snprintf(msg, sizeof(msg), "cannot start %d threads: %s", threads, aie_strerror(err));
        goto done;
    }
    if (u.autom && !cli.dry_run) {
        auto_choose(&u, vi, &mp, pool, threads);
        ri.method = method_name(&u);
        ri.options_json = u.choice;
    }
    if (u.raisr && !u.bank) {
        double sw = (double)u.out_w / vi->width, sh = (double)u.out_h / vi->height;
        if ((err = bank_pick(&u, &mp, sw > sh ? sw : sh, msg, sizeof(msg))))
            goto done;
    }
    if (u.raisr)
        ri.model = u.bank_name;
    if (u.cnn && !u.model_arg) {
        /* the best installed model for the scale asked */
        double sw = (double)u.out_w / vi->width, sh = (double)u.out_h / vi->height;
        const AieCnnModelDesc *d;
        if ((err = aie_cnn_model_pick(mp.dirs, mp.n, sw > sh ? sw : sh, &d, u.model_file, sizeof(u.model_file)))) {
            say(msg, sizeof(msg), "-m cnn: no CNN model installed (search path %s); " MODELS_HINT, search);
            goto done;
        }
        snprintf(u.model_name, sizeof(u.model_name), "%s", d->name);
        ri.model = u.model_name;
    }
    if (cli.dry_run) {
        json_object *j = job_json(&u, &cli, vi);
        cli_print_job(&cli, j);
        goto done;
    }
    AieScaleParams sp = {
        .src_w = vi->width, .src_h = vi->height, .dst_w = u.out_w, .dst_h = u.out_h,
        .layout = vi->layout, .depth = vi->depth, .filter = u.filter,
        .chroma_loc = vi->color.chroma_loc,
    };
    if (u.cnn) {
        char why2[AIE_ERRBUF_SIZE];
        long long t0 = aie_time_us();
        if ((err = aie_nn_load(&u.model, u.model_file, msg, sizeof(msg))))
            goto done;
        AieCnnParams cp = {
            .src_w = vi->width, .src_h = vi->height, .dst_w = u.out_w, .dst_h = u.out_h,
            .layout = vi->layout, .depth = vi->depth, .color = vi->color, .tile = u.tile,
            .max_mem = u.max_mem, .threads = threads + 1,
        };
        if ((err = aie_cnn_create(&u.up, u.model, &cp, cli.cpu_flags, why2, sizeof(why2)))) {
            say(msg, sizeof(msg), "%s: %s", u.model_file, why2);
            goto done;
        }
        if (cli.verbose)
            cli_info(&cli, "model %s (%s), loaded in %.2f s, tile %d", u.model_name, u.model_file,
                     (aie_time_us() - t0) / 1e6, aie_cnn_tile(u.up));
    } else if (u.raisr) {
        AieRaisrParams rp = {
            .src_w = vi->width, .src_h = vi->height, .dst_w = u.out_w, .dst_h = u.out_h,
            .layout = vi->layout, .depth = vi->depth, .chroma_loc = vi->color.chroma_loc,
        };
        if ((err = aie_raisr_create(&u.rs, u.bank, &rp, cli.cpu_flags))) {
            snprintf(msg, sizeof(msg), "%s: cannot upscale %dx%d to %dx%d with RAISR: %s", cli.input, vi->width,
                     vi->height, u.out_w, u.out_h, aie_strerror(err));
            goto done;
        }
    } else if ((err = aie_scaler_create(&u.scaler, &sp, cli.cpu_flags))) {
        snprintf(msg, sizeof(msg), "%s: cannot scale %dx%d to %dx%d: %s", cli.input, vi->width,
                 vi->height, u.out_w, u.out_h, aie_strerror(err));
        goto done;
    }
    if ((err = aie_frame_pool_create(&u.frames, u.out_w, u.out_h, vi->layout, vi->depth)))
        goto done;
    if (metrics && cli.quality_every != 0) {
        /* the round trip of the central quarter of the frame: 4x cheaper than
         * the whole frame, so the score stays well under 1% of the run */
        quality_span(vi->width, u.out_w, &u.qx, &u.qw);
        quality_span(vi->height, u.out_h, &u.qy, &u.qh);
        AieScaleParams dp = sp;
        dp.src_w = (int)((int64_t)u.qw * u.out_w / vi->width);
        dp.src_h = (int)((int64_t)u.qh * u.out_h / vi->height);
        dp.dst_w = u.qw;
        dp.dst_h = u.qh;
        dp.filter = AIE_FILTER_LANCZOS;
        u.q_layout = vi->layout <= AIE_LAYOUT_GRAY ? AIE_LAYOUT_GRAY : AIE_LAYOUT_RGB;
        dp.layout = u.q_layout;
        double fps = vi->fps.den > 0 && vi->fps.num > 0 ? (double)vi->fps.num / vi->fps.den : 25;
        u.quality_every = cli.quality_every > 0 ? cli.quality_every : (int)(fps + 0.5) > 0 ? (int)(fps + 0.5) : 1;
        u.cpu_flags = cli.cpu_flags;
        if (aie_scaler_create(&u.down, &dp, cli.cpu_flags) == 0 &&
            aie_frame_pool_create(&u.back, u.qw, u.qh, dp.layout, vi->depth) == 0)
            aie_quality_create(&u.fidelity, "roundtrip_psnr_db", 0.25);
    }
    AieVideoInfo ovi = *vi;
    ovi.width = u.out_w;
    ovi.height = u.out_h;
    AieWriterOpts wo = cli_writer_opts(&cli);
    if ((err = aie_writer_open(&writer, cli.output, &ovi, reader, &wo, msg, sizeof(msg))))
        goto done;
    snprintf(out_fmt, sizeof(out_fmt), "%s", aie_writer_pix_fmt(writer));
    cli_stream_desc(&ri.output, cli.output, u.out_w, u.out_h, vi->fps, out_fmt);
    aie_metrics_run_start(metrics, &ri);
    if (cli.verbose)
        cli_info(&cli, "%s: %dx%d %s -> %dx%d %s %s, %s, %d threads, cpu %s", cli.input, vi->width,
                 vi->height, vi->pix_fmt, u.out_w, u.out_h, aie_writer_codec(writer), out_fmt,
                 u.cnn ? u.model_name : u.raisr ? u.bank_name : aie_filter_name(u.filter), threads, aie_cpu_name(cli.cpu_flags));

    AiePipelineCallbacks cb = {.ctx = &u, .process = process};
    AiePipelineOpts po = {
        .pool = pool, .cancel = &cli.cancel, .progress = cli_progress, .progress_opaque = &cli,
        .snapshot = metrics ? cli_snapshot : NULL, .snapshot_opaque = metrics,
        .snapshot_interval_s = metrics ? cli.metrics_interval : 0,
    };
    err = aie_pipeline_run(reader, writer, &cb, &po, &stats, msg, sizeof(msg));
    cli_progress_end(&cli);
    if (!err)
        err = cli_finish_output(&cli, writer, &stats, msg, sizeof(msg));
    if (!err && aie_reader_frames_lost(reader) > 0)
        cli_warn(&cli, "%s: %lld damaged frame%s skipped (--ignore-errors)", cli.input,
                 (long long)aie_reader_frames_lost(reader),
                 aie_reader_frames_lost(reader) == 1 ? "" : "s");
    if (u.up && aie_cnn_halvings(u.up))
        cli_warn(&cli, "tile memory: the tile was halved %d time%s, to %d input pixels%s",
                 aie_cnn_halvings(u.up), aie_cnn_halvings(u.up) == 1 ? "" : "s", aie_cnn_tile(u.up),
                 u.max_mem ? " (--max-mem)" : "");
    if (!err && cli.verbose)
        cli_info(&cli, "%lld frames in %.2f s (%.1f fps)", (long long)stats.frames_out,
                 stats.wall_ms / 1000, stats.wall_ms > 0 ? stats.frames_out * 1000.0 / stats.wall_ms : 0);
done: {
        char *quality = NULL;
        if (u.fidelity)
            aie_quality_json(u.fidelity, &quality);
        cli_finish(&cli, metrics, &ri, &stats, err, msg, sizeof(msg), quality);
        free(quality);
    }
    aie_writer_close(&writer);
    aie_pool_destroy(&pool);
    aie_scaler_free(&u.scaler);
    aie_cnn_free(&u.up);
    aie_raisr_free(&u.rs);
    aie_raisr_bank_free(&u.bank);
    aie_nn_free(&u.model);
    aie_frame_pool_free(&u.frames);
    aie_scaler_free(&u.down);
    aie_frame_pool_free(&u.back);
    aie_quality_free(&u.fidelity);
    aie_reader_close(&reader);
    cli_metrics_close(&cli, &metrics);
    return cli_exit_code(&cli, err);
}
