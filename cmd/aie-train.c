/* aie-train: learn a RAISR filter bank for aie-upscale -m raisr from your own
 * images or videos. */
#include <getopt.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/cpu.h"
#include "aie/fs.h"
#include "aie/io.h"
#include "aie/raisr.h"
#include "cli.h"

enum { OPT_LIST = 2000, OPT_BLUR, OPT_NOISE, OPT_SEED, OPT_KERNEL, OPT_STEP, OPT_EVERY, OPT_MAX_FRAMES,
       OPT_LAMBDA, OPT_MIN_SAMPLES, OPT_DESC, OPT_BINS, OPT_STHR, OPT_CTHR, OPT_NOSYM, OPT_FITCLAMPED };

typedef struct Train {
    Cli *cli;
    AieRaisrTrainParams p;
    const char *output;
    const char *list;
    int every, max_frames;
    int nsthr, ncthr;     /* thresholds given */
    AieFileList in; /* inputs, in order */
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
    {OPT_DESC, "desc", "TEXT", "description stored in the bank", "the inputs and degradation"},
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
    case OPT_SEED: t->p.seed = (uint64_t)cli_int(c, "--seed", arg, 0, INT_MAX); return 0;
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

int main(int argc, char **argv)
{
    static Cli cli;
    static Train t;
    t.cli = &cli;
    t.p.scale = 2;
    t.p.seed = 1;
    t.every = 10;
    cli = (Cli){.tool = "aie-train", .usage_args = "-s SCALE -o BANK (DIR|FILE)... [--list FILE]", .features = CLI_THREADS | CLI_CPU,
                .opts = opts, .handle = handle, .tool_ctx = &t,
                .purpose = "Learn a RAISR filter bank (aie-upscale -m raisr) from images or videos."};
    cli_parse(&cli, argc, argv);
    if (!t.output)
        cli_usage(&cli, "no output: give -o BANK");
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
    if (!e && (e = aie_raisr_train_create(&tr, &t.p, threads + 1, cli.cpu_flags, err, sizeof(err))))
        cli_error(&cli, "%s", err);
    for (int i = 0; !e && i < t.in.n; i++) {
        AieReaderOpts ro = {.last = -1, .no_audio = 1, .cancel = &cli.cancel};
        AieReader *rd = NULL;
        if ((e = aie_reader_open(&rd, t.in.files[i], &ro, err, sizeof(err)))) {
            cli_error(&cli, "%s", err);
            break;
        }
        int64_t n = 0, used = 0;
        for (;;) {
            AieFrame *f = NULL;
            int re = aie_reader_read(rd, &f);
            if (re == AIE_EOF)
                break;
            if (re) {
                cli_error(&cli, "%s: %s", t.in.files[i], aie_strerror(re));
                e = re;
                break;
            }
            if (n++ % t.every == 0) {
                int ae = aie_raisr_train_add(tr, f, images, pool);
                if (ae == AIE_EINVAL) {
                    cli_error(&cli, "%s: %dx%d is too small to train a %dx bank (at least %dx%d pixels)", t.in.files[i],
                              f->width, f->height, t.p.scale, (t.p.k ? t.p.k : 7) * t.p.scale + 2 * t.p.scale,
                              (t.p.k ? t.p.k : 7) * t.p.scale + 2 * t.p.scale);
                    e = ae;
                } else if (ae) {
                    cli_error(&cli, "%s: %s", t.in.files[i], aie_strerror(ae));
                    e = ae;
                }
                images++;
                used++;
            }
            aie_frame_unref(&f);
            if (e || (t.max_frames && used >= t.max_frames) || cli_signal(&cli))
                break;
        }
        aie_reader_close(&rd);
        if (!e && cli_signal(&cli))
            e = AIE_ECANCELLED;
        if (!e && cli.verbose)
            cli_info(&cli, "%s: %lld frame%s, %lld samples so far", t.in.files[i], (long long)used, used == 1 ? "" : "s",
                     (long long)aie_raisr_train_samples(tr));
    }
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
