/* aie-train: learn a RAISR filter bank for aie-upscale -m raisr, or (--net)
 * a compact CNN upscaler for aie-upscale --model, from your own images or
 * videos. */
#include <getopt.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aie/cpu.h"
#include "aie/fs.h"
#include "aie/io.h"
#include "aie/nn_train.h"
#include "aie/raisr.h"
#include "aie/sr_cnn.h"
#include "cli.h"

enum { OPT_LIST = 2000, OPT_BLUR, OPT_NOISE, OPT_SEED, OPT_KERNEL, OPT_STEP, OPT_EVERY, OPT_MAX_FRAMES,
       OPT_LAMBDA, OPT_MIN_SAMPLES, OPT_DESC, OPT_BINS, OPT_STHR, OPT_CTHR, OPT_NOSYM, OPT_FITCLAMPED,
       OPT_NET, OPT_PATCH, OPT_BATCH, OPT_LR, OPT_ITERS, OPT_LOSS, OPT_BUDGET, OPT_CKPT, OPT_CKPT_EVERY, OPT_RESUME,
       OPT_VAL_EVERY, OPT_VAL_STEPS, OPT_VAL_PATCHES, OPT_LAST };

/* --net: the CNN options */
typedef struct NetOpts {
    const char *arch;
    int patch, batch, loss;
    double lr;
    int64_t iters;
    double budget_min;        /* 0 = none */
    const char *ckpt;         /* NULL: OUTPUT.ckpt */
    double ckpt_every_min;    /* 0 = never */
    const char *resume;
    int val_every;            /* every Nth image is held out */
    int val_steps;            /* validate every N steps */
    int val_patches;          /* 0 = the trainer's (or the checkpoint's) */
    int last;                 /* write the last weights, not the best validated */
} NetOpts;

typedef struct Train {
    Cli *cli;
    AieRaisrTrainParams p;
    const char *output;
    const char *list;
    int every, max_frames;
    int nsthr, ncthr;     /* thresholds given */
    AieFileList in; /* inputs, in order */
    NetOpts net;
    int seed_given;
} Train;

static const CliOpt opts[] = {
    {'s', "scale", "N", "scale factor the bank is for: 2, 3 or 4", "2"},
    {'o', "output", "FILE", "the filter bank to write (required)", NULL},
    {OPT_LIST, "list", "FILE", "read input paths from FILE, one a line (- = standard input)", NULL},
    {OPT_BLUR, "blur", "SIGMA", "degradation: Gaussian blur of the high-resolution image before the bicubic downscale", "0"},
    {OPT_NOISE, "noise", "SIGMA", "degradation: Gaussian noise added to the low-resolution image, in 8-bit units", "0"},
    {OPT_SEED, "seed", "N", "seed of the noise", "1"},
    {OPT_KERNEL, "kernel", "K", "kernel side on the low-resolution grid: 3, 5 or 7", "7"},
    {OPT_BINS, "bins", "SxC", "strength x coherence bins of the hash (S x C at most 10; 24 angles always)", "3x3"},
    {OPT_STHR, "strength-thr", "A,B,...", "strength thresholds (one fewer than the bins, ascending)", "built in"},
    {OPT_CTHR, "coherence-thr", "A,B,...", "coherence thresholds in 0..1 (one fewer than the bins, ascending)", "built in"},
    {OPT_NOSYM, "no-symmetry", NULL, "do not add the flips and transposes of every sample", NULL},
    {OPT_FITCLAMPED, "fit-clamped", NULL, "also fit pixels whose target lies outside the guard's range", NULL},
    {OPT_STEP, "step", "N", "use every Nth low-resolution pixel in x and y (faster, fewer samples)", "1"},
    {OPT_EVERY, "every", "N", "videos: use every Nth frame", "10"},
    {OPT_MAX_FRAMES, "max-frames", "N", "videos: at most N frames from each file (0 = no limit)", "0"},
    {OPT_LAMBDA, "lambda", "L", "ridge regularisation, relative to the data", "0.00001"},
    {OPT_MIN_SAMPLES, "min-samples", "N", "buckets with fewer samples use the per-phase filter", "20"},
    {OPT_DESC, "desc", "TEXT", "description stored in the bank or network", "the inputs and degradation"},
    {OPT_NET, "net", "ARCH", "train a CNN instead of a bank: c32x8 (quality), c16x4 (fast), any c<C>x<L>[r]", NULL},
    {OPT_PATCH, "patch", "N", "--net: low-resolution patch side", "48"},
    {OPT_BATCH, "batch", "N", "--net: patches per step", "16"},
    {OPT_LR, "lr", "RATE", "--net: peak learning rate of Adam (cosine schedule down to 2% of it)", "0.001"},
    {OPT_ITERS, "iters", "N", "--net: steps (the schedule's length)", "100000, or what --time-budget allows"},
    {OPT_LOSS, "loss", "l1|l2", "--net: loss (L1 tends to stall at the skip alone on smooth pictures)", "l2"},
    {OPT_BUDGET, "time-budget", "MIN", "--net: stop after MIN minutes with the best weights", "none"},
    {OPT_CKPT, "checkpoint", "FILE", "--net: checkpoint file", "OUTPUT.ckpt"},
    {OPT_CKPT_EVERY, "checkpoint-every", "MIN", "--net: write the checkpoint every MIN minutes (0 = never)", "10"},
    {OPT_RESUME, "resume", "CHECKPOINT", "--net: continue from a checkpoint (its architecture and settings)", NULL},
    {OPT_VAL_EVERY, "val-every", "N", "--net: hold out every Nth image for validation", "10"},
    {OPT_VAL_STEPS, "val-steps", "N", "--net: validate every N steps", "250"},
    {OPT_VAL_PATCHES, "val-patches", "N", "--net: validation patches (with --resume: a new set, the best so far forgotten)", "256"},
    {OPT_LAST, "last", NULL, "--net: write the last weights, not the best validated ones", NULL},
    {0},
};

static int handle(void *ctx, int code, const char *arg)
{
    Train *t = ctx;
    Cli *c = t->cli;
    switch (code) {
    case 's': t->p.scale = cli_int(c, "--scale", arg, 2, 4); return 0;
    case 'o': t->output = arg; return 0;
    case OPT_LIST: t->list = arg; return 0;
    case OPT_BLUR: t->p.blur = cli_double(c, "--blur", arg, 0, 10); return 0;
    case OPT_NOISE: t->p.noise = cli_double(c, "--noise", arg, 0, 100); return 0;
    case OPT_SEED: t->p.seed = (uint64_t)cli_int(c, "--seed", arg, 0, INT_MAX); t->seed_given = 1; return 0;
    case OPT_NET: t->net.arch = arg; return 0;
    case OPT_PATCH: t->net.patch = cli_int(c, "--patch", arg, 8, 256); return 0;
    case OPT_BATCH: t->net.batch = cli_int(c, "--batch", arg, 1, 256); return 0;
    case OPT_LR: t->net.lr = cli_double(c, "--lr", arg, 1e-7, 1e12); return 0;
    case OPT_ITERS: t->net.iters = cli_int(c, "--iters", arg, 1, INT_MAX); return 0;
    case OPT_LOSS:
        if (strcmp(arg, "l1") && strcmp(arg, "l2"))
            cli_usage(c, "--loss: expected l1 or l2, not '%s'", arg);
        t->net.loss = !strcmp(arg, "l2") ? AIE_NNT_L2 : AIE_NNT_L1;
        return 0;
    case OPT_BUDGET: t->net.budget_min = cli_double(c, "--time-budget", arg, 0.01, 1e6); return 0;
    case OPT_CKPT: t->net.ckpt = arg; return 0;
    case OPT_CKPT_EVERY: t->net.ckpt_every_min = cli_double(c, "--checkpoint-every", arg, 0, 1e6); return 0;
    case OPT_RESUME: t->net.resume = arg; return 0;
    case OPT_VAL_EVERY: t->net.val_every = cli_int(c, "--val-every", arg, 2, 1000000); return 0;
    case OPT_VAL_STEPS: t->net.val_steps = cli_int(c, "--val-steps", arg, 1, INT_MAX); return 0;
    case OPT_VAL_PATCHES: t->net.val_patches = cli_int(c, "--val-patches", arg, 1, 4096); return 0;
    case OPT_LAST: t->net.last = 1; return 0;
    case OPT_KERNEL:
        t->p.k = cli_int(c, "--kernel", arg, 3, 7);
        if (!(t->p.k & 1))
            cli_usage(c, "--kernel: expected 3, 5 or 7, not %s", arg);
        return 0;
    case OPT_BINS: {
        char *end, *end2 = NULL;
        long a = strtol(arg, &end, 10), b = 0;
        if (end != arg && (*end == 'x' || *end == 'X'))
            b = strtol(end + 1, &end2, 10);
        if (end == arg || (*end != 'x' && *end != 'X') || end2 == end + 1 || *end2 || a < 1 || b < 1 || a * b > 10)
            cli_usage(c, "--bins: expected SxC with S x C at most 10, such as 3x3, not '%s'", arg);
        t->p.nstrength = (int)a;
        t->p.ncoherence = (int)b;
        return 0;
    }
    case OPT_STHR:
    case OPT_CTHR: {
        float *dst = code == OPT_STHR ? t->p.strength_thr : t->p.coherence_thr;
        int n = 0;
        const char *q = arg;
        while (*q) {
            char *end;
            double v = strtod(q, &end);
            if (end == q || n == 7 || !(v >= 0) || v > 1e12 || (*end && *end != ','))
                cli_usage(c, "%s: expected up to 7 numbers separated by commas, not '%s'",
                          code == OPT_STHR ? "--strength-thr" : "--coherence-thr", arg);
            dst[n++] = (float)v;
            q = *end ? end + 1 : end;
        }
        if (code == OPT_STHR)
            t->nsthr = n;
        else
            t->ncthr = n;
        return 0;
    }
    case OPT_NOSYM: t->p.no_symmetry = 1; return 0;
    case OPT_FITCLAMPED: t->p.fit_clamped = 1; return 0;
    case OPT_STEP: t->p.step = cli_int(c, "--step", arg, 1, 64); return 0;
    case OPT_EVERY: t->every = cli_int(c, "--every", arg, 1, 1000000); return 0;
    case OPT_MAX_FRAMES: t->max_frames = cli_int(c, "--max-frames", arg, 0, INT_MAX); return 0;
    case OPT_LAMBDA: t->p.lambda = cli_double(c, "--lambda", arg, 1e-9, 100); return 0;
    case OPT_MIN_SAMPLES: t->p.min_samples = cli_int(c, "--min-samples", arg, 1, INT_MAX); return 0;
    case OPT_DESC: snprintf(t->p.desc, sizeof(t->p.desc), "%s", arg); return 0;
    }
    return -1;
}

static const char *const exts[] = {"png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp", "ppm", "pgm", "y4m",
                                   "mkv", "mp4", "mov", "webm", "avi", "nut", "ts", "mpg", "m4v", NULL};

static int add_input(Train *t, const char *path)
{
    char err[AIE_ERRBUF_SIZE + PATH_MAX];
    int e = aie_file_list_add(&t->in, path, exts, err, sizeof(err));
    if (e && err[0])
        cli_error(t->cli, "%s", err);
    return e;
}

static int read_list(Train *t, const char *list)
{
    FILE *f = strcmp(list, "-") ? fopen(list, "r") : stdin;
    if (!f) {
        cli_error(t->cli, "%s: %s", list, strerror(errno));
        return AIE_ENOENT;
    }
    char line[PATH_MAX + 2];
    int e = 0, lineno = 0;
    while (!e && fgets(line, sizeof(line), f)) {
        lineno++;
        size_t l = strlen(line);
        if (l && line[l - 1] != '\n' && !feof(f)) {
            cli_error(t->cli, "%s:%d: line too long", list, lineno);
            e = AIE_EINVAL;
            break;
        }
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' '))
            line[--l] = 0;
        if (!l || line[0] == '#')
            continue;
        e = add_input(t, line);
    }
    if (!e && ferror(f)) {
        cli_error(t->cli, "%s: read error", list);
        e = AIE_EIO;
    }
    if (f != stdin)
        fclose(f);
    return e;
}

static void hms(char *b, size_t n, double s)
{
    long v = s > 0 && s < 1e9 ? (long)(s + 0.5) : 0;
    if (v >= 3600)
        snprintf(b, n, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
    else
        snprintf(b, n, "%ld:%02ld", v / 60, v % 60);
}

/* Read the inputs (every Nth frame of videos) into the trainer. */
/* Every Nth frame of every input (at most --max-frames a file) goes to
 * add(), which reports its own failure; -v says how many frames each file
 * gave (and what note() adds). Returns 0 or the error. */
typedef int (*AddFn)(Train *t, void *ctx, const AieFrame *f, const char *file, int64_t index);
static int read_inputs(Train *t, AddFn add, void *ctx, void (*note)(void *ctx, char *buf, size_t n),
                       int64_t *images)
{
    Cli *cli = t->cli;
    char err[AIE_ERRBUF_SIZE] = "";
    int e = 0;
    for (int i = 0; !e && i < t->in.n; i++) {
        AieReaderOpts ro = {.last = -1, .no_audio = 1, .cancel = &cli->cancel};
        AieReader *rd = NULL;
        if ((e = aie_reader_open(&rd, t->in.files[i], &ro, err, sizeof(err)))) {
            cli_error(cli, "%s", err);
            break;
        }
        int64_t n = 0, used = 0;
        for (;;) {
            AieFrame *f = NULL;
            int re = aie_reader_read(rd, &f);
            if (re == AIE_EOF)
                break;
            if (re) {
                cli_error(cli, "%s: %s", t->in.files[i], aie_strerror(re));
                e = re;
                break;
            }
            if (n++ % t->every == 0) {
                e = add(t, ctx, f, t->in.files[i], *images);
                (*images)++;
                used++;
            }
            aie_frame_unref(&f);
            if (e || (t->max_frames && used >= t->max_frames) || cli_signal(cli))
                break;
        }
        aie_reader_close(&rd);
        if (!e && cli_signal(cli))
            e = AIE_ECANCELLED;
        if (!e && cli->verbose) {
            char more[128] = "";
            if (note)
                note(ctx, more, sizeof(more));
            cli_info(cli, "%s: %lld frame%s%s", t->in.files[i], (long long)used, used == 1 ? "" : "s", more);
        }
    }
    return e;
}

typedef struct NetAdd {
    AieNnTrainer *tr;
    AiePool *pool;
} NetAdd;

static int net_add(Train *t, void *ctx, const AieFrame *f, const char *file, int64_t index)
{
    NetAdd *na = ctx;
    const AieNntParams *np = aie_nnt_params(na->tr);
    AieCnnTrainDegrade d = {.blur = t->p.blur, .noise = t->p.noise, .seed = t->p.seed};
    const int val = index % t->net.val_every == t->net.val_every - 1;
    int e = aie_cnn_train_add(na->tr, f, &d, index, val, t->cli->cpu_flags, na->pool);
    if (e == AIE_EINVAL) {
        const int m = np->patch * np->arch.scale;
        cli_error(t->cli, "%s: %dx%d is smaller than one %dx%d training patch at %dx (--patch %d)", file, f->width,
                  f->height, m, m, np->arch.scale, np->patch);
    } else if (e) {
        cli_error(t->cli, "%s: %s", file, aie_strerror(e));
    }
    return e;
}

typedef struct RaisrAdd {
    AieRaisrTrainer *tr;
    AiePool *pool;
} RaisrAdd;

static int raisr_add(Train *t, void *ctx, const AieFrame *f, const char *file, int64_t index)
{
    RaisrAdd *ra = ctx;
    int e = aie_raisr_train_add(ra->tr, f, index, ra->pool);
    if (e == AIE_EINVAL) {
        const int side = (t->p.k ? t->p.k : 7) * t->p.scale + 2 * t->p.scale;
        cli_error(t->cli, "%s: %dx%d is too small to train a %dx bank (at least %dx%d pixels)", file, f->width,
                  f->height, t->p.scale, side, side);
    } else if (e) {
        cli_error(t->cli, "%s: %s", file, aie_strerror(e));
    }
    return e;
}

static void raisr_note(void *ctx, char *buf, size_t n)
{
    snprintf(buf, n, ", %lld samples so far", (long long)aie_raisr_train_samples(((RaisrAdd *)ctx)->tr));
}

static void net_progress(void *opaque, const AieNntProgress *p)
{
    const Train *t = opaque;
    const Cli *cli = t->cli;
    if (p->validated && cli->verbose && cli->progress <= 0)
        cli_info(cli, "step %lld  loss %.5f  validation %+.3f dB over bicubic (%.2f dB)  %.1f min", (long long)p->step,
                 p->loss_avg, p->gain, p->psnr, p->elapsed_min);
    if (cli->progress > 0 && (p->step % 5 == 0 || p->step == p->iters)) {
        char eta[32], g[32] = "  -";
        hms(eta, sizeof(eta), p->eta_s);
        if (!isnan(p->gain))
            snprintf(g, sizeof(g), "%+.2f dB", p->gain);
        fprintf(stderr, "\rstep %lld/%lld (%.1f%%)  loss %.5f  val %s  %.1f patches/s  eta %s   ", (long long)p->step,
                (long long)p->iters, 100.0 * (double)p->step / (double)p->iters, p->loss_avg, g, p->patches_per_s, eta);
    }
}

static int run_net(Train *t, AiePool *pool, int threads)
{
    Cli *cli = t->cli;
    NetOpts *no = &t->net;
    char err[AIE_ERRBUF_SIZE + 4096] = "", ckpath[4096];
    AieNntParams p = {.patch = no->patch, .batch = no->batch, .loss = no->loss, .lr = no->lr, .iters = no->iters,
                      .seed = t->p.seed, .val_patches = no->val_patches, .cpu_flags = cli->cpu_flags,
                      .threads = threads + 1};
    if (aie_nnt_arch_parse(&p.arch, no->arch ? no->arch : "c32x8", t->p.scale))
        cli_usage(cli, "--net: expected c<C>x<L> or c<C>x<L>r (C 4..128 channels, L 1..24 layers), such as c32x8, "
                       "not '%s'", no->arch);
    if (no->ckpt)
        snprintf(ckpath, sizeof(ckpath), "%s", no->ckpt);
    else
        snprintf(ckpath, sizeof(ckpath), "%s.ckpt", t->output);
    if (!strcmp(ckpath, t->output))
        cli_usage(cli, "--checkpoint: the checkpoint cannot be the output");
    const long long t0 = aie_time_us();
    AieNnTrainer *tr = NULL;
    int e = aie_nnt_create(&tr, &p, err, sizeof(err));
    if (e) {
        cli_error(cli, "cannot set up training: %s", err);
        return e;
    }
    if (no->resume && (e = aie_nnt_resume(tr, no->resume, no->arch != NULL, err, sizeof(err)))) {
        cli_error(cli, "%s", err);
        goto done;
    }
    if (no->resume && no->iters) /* a longer (or shorter) schedule than the checkpoint's */
        aie_nnt_set_iters(tr, no->iters);
    if (no->resume && no->val_patches && (e = aie_nnt_set_val_patches(tr, no->val_patches))) {
        cli_error(cli, "--val-patches: %s", aie_strerror(e));
        goto done;
    }
    const AieNntParams *tp = aie_nnt_params(tr);
    int64_t images = 0;
    NetAdd na = {tr, pool};
    if ((e = read_inputs(t, net_add, &na, NULL, &images)))
        goto done;
    int ntrain, nval;
    aie_nnt_pairs(tr, &ntrain, &nval);
    if (!nval && ntrain >= 2) {
        aie_nnt_hold_out(tr, ntrain - 1);
        aie_nnt_pairs(tr, &ntrain, &nval);
    }
    if (!ntrain || !nval) {
        cli_error(cli, "%lld image%s: --net needs at least 2 (one is held out for validation)", (long long)images,
                  images == 1 ? "" : "s");
        e = AIE_EINVAL;
        goto done;
    }
    if (cli->verbose)
        cli_info(cli, "%s at %dx: %zu parameters, %.0f multiply-adds per output pixel; %d training and %d validation "
                      "images; batch %d of %dx%d patches",
                 tp->arch.name, tp->arch.scale, aie_nnt_arch_params(&tp->arch), aie_nnt_arch_macs(&tp->arch), ntrain,
                 nval, tp->batch, tp->patch, tp->patch);
    AieNntRunOpts ro = {.budget_min = no->budget_min, .t0_us = t0, .fit_schedule = !no->iters && !no->resume,
                        .val_steps = no->val_steps, .ckpt_every_min = no->ckpt_every_min, .ckpt_path = ckpath,
                        .cancel = &cli->cancel, .progress = net_progress, .opaque = t};
    e = aie_nnt_run(tr, pool, &ro, err, sizeof(err));
    if (cli->progress > 0)
        fputc('\n', stderr);
    if (e == AIE_ECANCELLED) {
        if (err[0])
            cli_info(cli, "%s", err);
        goto done;
    }
    if (e) {
        cli_error(cli, "%s", err);
        goto done;
    }
    double pn, pb;
    if ((e = aie_nnt_validate(tr, pool, &pn, &pb))) {
        cli_error(cli, "validation: %s", aie_strerror(e));
        goto done;
    }
    int64_t best_it;
    const double best = aie_nnt_best_gain(tr, &best_it);
    if (!t->p.desc[0] || !strncmp(t->p.desc, "aie-train ", 10))
        snprintf(t->p.desc, sizeof(t->p.desc), "aie-train %s --net %s: %lld images, blur %g, noise %g, seed %llu, "
                 "%lld steps", AIE_VERSION, tp->arch.name, (long long)images, t->p.blur, t->p.noise,
                 (unsigned long long)tp->seed, (long long)aie_nnt_iteration(tr));
    if ((e = aie_nnt_save(tr, t->output, !no->last, t->p.desc, err, sizeof(err)))) {
        cli_error(cli, "%s", err);
        goto done;
    }
    if (no->ckpt_every_min > 0 && (e = aie_nnt_save_checkpoint(tr, ckpath, err, sizeof(err)))) {
        cli_error(cli, "%s", err);
        goto done;
    }
    if (!cli->quiet)
        fprintf(stderr, "%s: %s: %s %dx network, %lld steps, validation %+.3f dB over bicubic (best, step %lld; "
                        "now %+.3f; written: the %s), %.0f multiply-adds per output pixel, %.1f min\n",
                cli->tool, t->output, tp->arch.name, tp->arch.scale, (long long)aie_nnt_iteration(tr), best,
                (long long)best_it, pn - pb, no->last ? "last" : "best", aie_nnt_arch_macs(&tp->arch),
                (double)(aie_time_us() - t0) / 60e6);
done:
    aie_nnt_free(&tr);
    return e;
}

int main(int argc, char **argv)
{
    static Cli cli;
    static Train t;
    t.cli = &cli;
    t.p.scale = 2;
    t.p.seed = 1;
    t.every = 10;
    t.net.ckpt_every_min = 10;
    t.net.val_every = 10;
    t.net.val_steps = 250;
    t.net.loss = AIE_NNT_L2;
    cli = (Cli){.tool = "aie-train", .usage_args = "-s SCALE -o BANK|NET [--net ARCH] (DIR|FILE)... [--list FILE]",
                .features = CLI_THREADS | CLI_CPU | CLI_PROGRESS, .opts = opts, .handle = handle, .tool_ctx = &t,
                .purpose = "Learn a RAISR filter bank (aie-upscale -m raisr), or with --net a CNN upscaler "
                           "(aie-upscale --model), from images or videos."};
    cli_parse(&cli, argc, argv);
    if (!t.output)
        cli_usage(&cli, "no output: give -o BANK");
    const int net = t.net.arch || t.net.resume;
    if (!net && (t.net.patch || t.net.batch || t.net.lr > 0 || t.net.iters || t.net.budget_min > 0 || t.net.ckpt))
        cli_usage(&cli, "--patch, --batch, --lr, --iters, --time-budget and --checkpoint apply to --net");
    if (t.net.resume && t.output && !strcmp(t.net.resume, t.output))
        cli_usage(&cli, "--resume: the checkpoint cannot be the output");
    if ((t.nsthr || t.ncthr) && (t.nsthr + 1 != (t.p.nstrength ? t.p.nstrength : 3) ||
                                 t.ncthr + 1 != (t.p.ncoherence ? t.p.ncoherence : 3)))
        cli_usage(&cli, "--strength-thr and --coherence-thr: give both, one threshold fewer than the --bins");
    if (optind >= argc && !t.list)
        cli_usage(&cli, "no input: give folders or files of images or videos, or --list FILE");

    int e = 0;
    for (int i = optind; !e && i < argc; i++)
        e = add_input(&t, argv[i]);
    if (!e && t.list)
        e = read_list(&t, t.list);
    if (!e && !t.in.n) {
        cli_error(&cli, "no images or videos to train on");
        e = AIE_EEMPTY;
    }
    for (int i = 0; !e && i < t.in.n; i++) /* never train into an input */
        if (!strcmp(t.in.files[i], t.output)) {
            cli_error(&cli, "%s: the output is also an input", t.output);
            e = AIE_ESAME;
        }
    if (!t.p.desc[0])
        snprintf(t.p.desc, sizeof(t.p.desc), "aie-train %s: %d file%s%s%s, blur %g, noise %g, seed %llu",
                 AIE_VERSION, t.in.n, t.in.n == 1 ? "" : "s", t.in.n ? " from " : "",
                 t.in.n ? t.in.files[0] : "", t.p.blur, t.p.noise, (unsigned long long)t.p.seed);

    cli_signals_start(&cli, NULL);
    const int threads = cli.threads ? cli.threads : aie_cpu_count();
    AiePool *pool = NULL;
    AieRaisrTrainer *tr = NULL;
    AieRaisrBank *bank = NULL;
    char err[AIE_ERRBUF_SIZE] = "";
    long long t0 = aie_time_us();
    int64_t images = 0;
    if (!e && (e = aie_pool_create(&pool, threads)))
        cli_error(&cli, "cannot start %d threads: %s", threads, aie_strerror(e));
    if (net) {
        if (!e)
            e = run_net(&t, pool, threads);
        aie_pool_destroy(&pool);
        aie_file_list_free(&t.in);
        return cli_exit_code(&cli, e);
    }
    if (!e && (e = aie_raisr_train_create(&tr, &t.p, threads + 1, cli.cpu_flags, err, sizeof(err))))
        cli_error(&cli, "%s", err);
    RaisrAdd ra = {tr, pool};
    if (!e)
        e = read_inputs(&t, raisr_add, &ra, raisr_note, &images);
    if (!e && (e = aie_raisr_train_finish(tr, &bank, err, sizeof(err))))
        cli_error(&cli, "%s", err);
    if (!e && (e = aie_raisr_bank_save(bank, t.output, err, sizeof(err))))
        cli_error(&cli, "%s", err);
    if (!e && !cli.quiet) {
        AieRaisrBankInfo bi;
        aie_raisr_bank_info(bank, &bi);
        fprintf(stderr, "%s: %s: %dx bank, %d buckets x %d phases of %dx%d, %lld images, %lld samples, %lld buckets "
                        "on the per-phase filter, %zu bytes, %.1f s\n",
                cli.tool, t.output, bi.scale, bi.buckets, bi.scale * bi.scale, bi.k, bi.k, (long long)images,
                (long long)bi.samples, (long long)bi.fallback, bi.file_size, (double)(aie_time_us() - t0) / 1e6);
    }
    aie_raisr_bank_free(&bank);
    aie_raisr_train_free(&tr);
    aie_pool_destroy(&pool);
    aie_file_list_free(&t.in);
    return cli_exit_code(&cli, e);
}
