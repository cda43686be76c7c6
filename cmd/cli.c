/* Shared command line: options, messages, signals, progress, exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aie/cpu.h"
#include "aie/preview.h"
#include "aie/util.h"
#include "aie/version.h"
#include "cli.h"

#ifndef AIE_VERSION
#define AIE_VERSION "0.0.0"
#endif

enum {
    OPT_CPU = 1000,
    OPT_METRICS,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_FRAMES,
    OPT_TAG,
    OPT_DRY_RUN,
    OPT_JSON,
    OPT_IGNORE_ERRORS,
    OPT_NO_AUDIO,
    OPT_INPUT_FPS,
    OPT_CODEC,
    OPT_CRF,
    OPT_PRESET,
    OPT_ENCODER_OPT,
    OPT_LOSSLESS,
    OPT_DEPTH,
    OPT_METRICS_INTERVAL,
    OPT_QUALITY_EVERY,
    OPT_STRICT,
    OPT_AUDIO,
    OPT_PREVIEW,
    OPT_PREVIEW_FRAMES,
    OPT_COMPARE,
    OPT_FORCE,
};

typedef struct Shared {
    CliOpt opt;
    unsigned feature; /* 0 = every tool */
} Shared;

static const Shared shared[] = {
    {{'i', "input", "FILE", "input: a media file, - (y4m on stdin), a PNG pattern (dir/%06d.png) or an image", NULL}, CLI_IO},
    {{'o', "output", "FILE", "output: .mp4 .mkv .mov .webm .avi .y4m, - (y4m on stdout), a PNG pattern or a .png", NULL}, CLI_IO},
    {{OPT_FRAMES, "frames", "A-B", "process frames A to B only (0-based, inclusive; A- to the end)", "all"}, CLI_IO},
    {{OPT_IGNORE_ERRORS, "ignore-errors", NULL, "keep going past damaged or truncated input, exit 0", NULL}, CLI_IO},
    {{OPT_STRICT, "strict", NULL, "fail (exit 1) on frames decoded with concealed errors and on non-finite model output", "warn and keep them"}, CLI_IO},
    {{OPT_AUDIO, "audio", "MODE", "audio: auto (copy, or re-encode what the container cannot hold), copy, encode or drop", "auto"}, CLI_IO},
    {{OPT_NO_AUDIO, "no-audio", NULL, "drop audio, subtitle and data streams (as --audio drop; wins over --audio)", NULL}, CLI_IO},
    {{'n', "no-clobber", NULL, "refuse to replace an existing output", NULL}, CLI_IO},
    {{OPT_INPUT_FPS, "input-fps", "N[/D]", "frame rate of a PNG sequence input", "25"}, CLI_IO},
    {{OPT_CODEC, "codec", "NAME", "video encoder (libx264, libvpx-vp9, ffv1, ...)", "by container"}, CLI_ENCODE},
    {{OPT_CRF, "crf", "N", "constant quality for x264/VP9 (lower is better)", "18 x264, 31 VP9"}, CLI_ENCODE},
    {{OPT_PRESET, "preset", "NAME", "encoder speed preset (x264: ultrafast..veryslow)", "encoder's"}, CLI_ENCODE},
    {{OPT_ENCODER_OPT, "encoder-opt", "KEY=VALUE", "encoder option, repeatable", NULL}, CLI_ENCODE},
    {{OPT_LOSSLESS, "lossless", NULL, "lossless video (FFV1; x264 qp 0 in .mp4/.mov; VP9 lossless in .webm)", NULL}, CLI_ENCODE},
    {{OPT_DEPTH, "depth", "8|10|12|16", "output bit depth (PNG: 8 or 16)", "the input's"}, CLI_ENCODE},
    {{'j', "threads", "N", "worker threads", "all cores"}, CLI_THREADS},
    {{OPT_CPU, "cpu", "LEVEL", "highest SIMD level: c, sse4, avx2, avx512", "detected"}, CLI_CPU},
    {{OPT_METRICS, "metrics", "FILE", "append metrics records (JSON lines) to FILE", "$AIE_METRICS"}, CLI_METRICS},
    {{OPT_TAG, "tag", "KEY=VALUE", "tag every metrics record, repeatable", NULL}, CLI_METRICS},
    {{OPT_METRICS_INTERVAL, "metrics-interval", "S", "seconds between snapshot records", "10"}, CLI_METRICS},
    {{OPT_QUALITY_EVERY, "quality-every", "N", "score the quality of every Nth frame (0: never)", "one per second"}, CLI_METRICS},
    {{OPT_PROGRESS, "progress", NULL, "show progress on stderr", "on a terminal"}, CLI_PROGRESS},
    {{OPT_NO_PROGRESS, "no-progress", NULL, "never show progress", NULL}, CLI_PROGRESS},
    {{OPT_DRY_RUN, "dry-run", NULL, "print the normalised job and exit", NULL}, CLI_DRYRUN},
    {{OPT_JSON, "json", NULL, "with --dry-run: print it as JSON", NULL}, CLI_DRYRUN},
    {{OPT_PREVIEW, "preview", "DIR", "instead of the job: run it on sampled frames, write DIR/index.html and preview.json", NULL}, CLI_PREVIEW},
    {{OPT_PREVIEW_FRAMES, "preview-frames", "N", "with --preview: frames to sample across the clip (1 to 64)", "6"}, CLI_PREVIEW},
    {{OPT_COMPARE, "compare", "METHODS", "with --preview: run each of the comma-separated methods on the same frames", NULL}, CLI_PREVIEW},
    {{OPT_FORCE, "force", NULL, "with --preview: replace a directory that holds an earlier preview", NULL}, CLI_PREVIEW},
    {{'q', "quiet", NULL, "print errors only", NULL}, 0},
    {{'v', "verbose", NULL, "print more detail", NULL}, 0},
    {{'h', "help", NULL, "show this help and exit", NULL}, 0},
    {{'V', "version", NULL, "show the version and exit", NULL}, 0},
};

static void vmsg(const Cli *c, const char *kind, const char *fmt, va_list ap)
{
    char buf[2048];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    fprintf(stderr, "%s: %s%s\n", c->tool, kind, buf);
}

/* cli_error, cli_warn and cli_info: one line each; -q keeps the errors only */
#define CLI_MESSAGE(name, kind, quiet_too)                                                                   \
    void name(const Cli *c, const char *fmt, ...)                                                            \
    {                                                                                                        \
        va_list ap;                                                                                          \
        if (quiet_too && c->quiet)                                                                           \
            return;                                                                                          \
        va_start(ap, fmt);                                                                                   \
        vmsg(c, kind, fmt, ap);                                                                              \
        va_end(ap);                                                                                          \
    }
CLI_MESSAGE(cli_error, "", 0)
CLI_MESSAGE(cli_warn, "warning: ", 1)
CLI_MESSAGE(cli_info, "", 1)

void cli_warn_cb(void *cli, const char *msg) { cli_warn(cli, "%s", msg); }

void cli_usage(const Cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(c, "", fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help'.\n", c->tool);
    exit(c->usage_exit ? c->usage_exit : EXIT_USAGE);
}

static void help_line(const CliOpt *o)
{
    char left[64];
    if (o->code < 256)
        snprintf(left, sizeof(left), "-%c, --%s%s%s", o->code, o->long_name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
    else
        snprintf(left, sizeof(left), "    --%s%s%s", o->long_name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
    printf("  %-28s %s", left, o->help);
    if (o->deflt)
        printf(" [default: %s]", o->deflt);
    printf("\n");
}

static void print_help(const Cli *c)
{
    printf("Usage: %s [OPTIONS] %s\n%s\n\nOptions:\n", c->tool, c->usage_args, c->purpose);
    for (const CliOpt *o = c->opts; o && o->long_name; o++)
        help_line(o);
    printf("\nShared options:\n");
    for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
        if (!shared[i].feature || (c->features & shared[i].feature))
            help_line(&shared[i].opt);
    printf("\nEnvironment: AIE_CPU, AIE_METRICS, AIE_TAGS. See %s(1).\n", c->tool);
}

double cli_double(const Cli *c, const char *opt, const char *arg, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(v))
        cli_usage(c, "%s: '%s' is not a number", opt, arg);
    if (v < lo || v > hi)
        cli_usage(c, "%s: %s is out of range (%g to %g)", opt, arg, lo, hi);
    return v;
}

int cli_int(const Cli *c, const char *opt, const char *arg, int lo, int hi)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end)
        cli_usage(c, "%s: '%s' is not an integer", opt, arg);
    if (v < lo || v > hi)
        cli_usage(c, "%s: %s is out of range (%d to %d)", opt, arg, lo, hi);
    return (int)v;
}

int cli_rational(const char *arg, AieRational *out)
{
    char *end;
    errno = 0;
    long n = strtol(arg, &end, 10);
    if (end != arg && *end == '/') {
        char *e2;
        long d = strtol(end + 1, &e2, 10);
        if (errno || e2 == end + 1 || *e2 || n <= 0 || d <= 0 || n > 1000000 || d > 1000000)
            return -1;
        *out = (AieRational){(int)n, (int)d};
        return 0;
    }
    double v = strtod(arg, &end);
    if (end == arg || *end || !(v > 0) || v > 1000000)
        return -1;
    if (fabs(v - round(v)) < 1e-9)
        *out = (AieRational){(int)round(v), 1};
    else if (fabs(v * 1001 / 1000 - round(v * 1001 / 1000)) < 1e-3)
        *out = (AieRational){(int)round(v * 1001), 1001}; /* 29.97 -> 30000/1001 */
    else
        *out = (AieRational){(int)round(v * 1000), 1000};
    return 0;
}

const char *cli_nonempty(const Cli *c, const char *opt, const char *arg, const char *what)
{
    if (!*arg)
        cli_usage(c, "%s: expected %s", opt, what);
    return arg;
}

void cli_add_tag(Cli *c, const char *arg)
{
    if (!strchr(arg, '=') || arg[0] == '=')
        cli_usage(c, "--tag: expected KEY=VALUE, not '%s'", arg);
    if (c->ntags >= (int)(sizeof(c->tags) / sizeof(c->tags[0])))
        cli_usage(c, "--tag: too many tags");
    c->tags[c->ntags++] = arg;
}

static void parse_frames(Cli *c, const char *arg)
{
    char *end;
    errno = 0;
    long long a = strtoll(arg, &end, 10);
    if (errno || end == arg || *end != '-' || a < 0 || arg[0] == '-')
        cli_usage(c, "--frames: expected A-B or A- (0-based frame numbers), not '%s'", arg);
    const char *b = end + 1;
    long long last = -1;
    if (*b) {
        last = strtoll(b, &end, 10);
        if (errno || end == b || *end || last < 0 || b[0] == '-')
            cli_usage(c, "--frames: expected A-B or A- (0-based frame numbers), not '%s'", arg);
        if (last < a)
            cli_usage(c, "--frames: %lld comes before %lld", last, a);
    }
    c->first = a;
    c->last = last;
}

static void add_tags_from_env(Cli *c)
{
    const char *env = getenv("AIE_TAGS");
    if (!env || !*env)
        return;
    static char buf[4096];
    snprintf(buf, sizeof(buf), "%s", env);
    char *save = NULL;
    int pos = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strchr(t, '=') || t[0] == '=')
            cli_usage(c, "AIE_TAGS: '%s' is not KEY=VALUE", t);
        if (c->ntags < (int)(sizeof(c->tags) / sizeof(c->tags[0]))) {
            /* environment tags go first, so a --tag with the same key wins */
            memmove(c->tags + pos + 1, c->tags + pos, (size_t)(c->ntags - pos) * sizeof(c->tags[0]));
            c->tags[pos++] = t;
            c->ntags++;
        }
    }
}

static void set_cpu(Cli *c, const char *name, const char *from)
{
    unsigned mask;
    if (aie_cpu_parse(name, &mask) < 0)
        cli_usage(c, "%s: unknown CPU level '%s' (c, sse4, avx2, avx512)", from, name);
    c->cpu_flags = aie_cpu_flags() & mask;
    c->cpu_level = name;
}

static int handle_shared(Cli *c, int code, const char *arg)
{
    switch (code) {
    case 'i': c->input = arg; return 1;
    case 'o': c->output = arg; return 1;
    case 'j': c->threads = cli_int(c, "--threads", arg, 1, 1024); return 1;
    case 'q': c->quiet = 1; return 1;
    case 'v': c->verbose++; return 1;
    case 'n': c->no_clobber = 1; return 1;
    case OPT_CPU: set_cpu(c, arg, "--cpu"); return 1;
    case OPT_METRICS: c->metrics_path = arg; return 1;
    case OPT_METRICS_INTERVAL: c->metrics_interval = cli_double(c, "--metrics-interval", arg, 0.1, 86400); return 1;
    case OPT_QUALITY_EVERY: c->quality_every = cli_int(c, "--quality-every", arg, 0, 1000000); return 1;
    case OPT_PROGRESS: c->progress = 1; return 1;
    case OPT_NO_PROGRESS: c->progress = 0; return 1;
    case OPT_FRAMES: parse_frames(c, arg); return 1;
    case OPT_TAG: cli_add_tag(c, arg); return 1;
    case OPT_DRY_RUN: c->dry_run = 1; return 1;
    case OPT_JSON: c->json = 1; return 1;
    case OPT_IGNORE_ERRORS: c->ignore_errors = 1; return 1;
    case OPT_STRICT: c->strict = 1; return 1;
    case OPT_NO_AUDIO: c->no_audio = 1; return 1;
    case OPT_AUDIO:
        if (!strcmp(arg, "auto"))
            c->audio = AIE_AUDIO_AUTO;
        else if (!strcmp(arg, "copy"))
            c->audio = AIE_AUDIO_COPY;
        else if (!strcmp(arg, "encode"))
            c->audio = AIE_AUDIO_ENCODE;
        else if (!strcmp(arg, "drop"))
            c->no_audio = 1; /* sticky: aie-batch chunks add --no-audio before the job's options */
        else
            cli_usage(c, "--audio: expected auto, copy, encode or drop, not '%s'", arg);
        return 1;
    case OPT_INPUT_FPS:
        if (cli_rational(arg, &c->input_fps) < 0)
            cli_usage(c, "--input-fps: '%s' is not a positive rate like 25 or 30000/1001", arg);
        return 1;
    case OPT_CODEC: c->codec = arg; return 1;
    case OPT_CRF: c->crf = cli_int(c, "--crf", arg, 0, 63); return 1;
    case OPT_PRESET: c->preset = arg; return 1;
    case OPT_ENCODER_OPT:
        if (!strchr(arg, '=') || arg[0] == '=')
            cli_usage(c, "--encoder-opt: expected KEY=VALUE, not '%s'", arg);
        if (c->n_enc_opts >= (int)(sizeof(c->enc_opts) / sizeof(c->enc_opts[0])))
            cli_usage(c, "--encoder-opt: too many options");
        c->enc_opts[c->n_enc_opts++] = arg;
        return 1;
    case OPT_LOSSLESS: c->lossless = 1; return 1;
    case OPT_PREVIEW: c->preview_dir = cli_nonempty(c, "--preview", arg, "a directory"); return 1;
    case OPT_PREVIEW_FRAMES: c->preview_frames = cli_int(c, "--preview-frames", arg, 1, AIE_PREVIEW_MAX_SAMPLES); return 1;
    case OPT_COMPARE: c->compare = cli_nonempty(c, "--compare", arg, "a comma-separated list of methods"); return 1;
    case OPT_FORCE: c->force = 1; return 1;
    case OPT_DEPTH: {
        int d = cli_int(c, "--depth", arg, 8, 16);
        if (d != 8 && d != 10 && d != 12 && d != 16)
            cli_usage(c, "--depth: expected 8, 10, 12 or 16, not %d", d);
        c->depth = d;
        return 1;
    }
    }
    return 0;
}

/* A name without a known extension, a codec the container cannot hold and a
 * --crf out of the codec's range are usage errors, in --dry-run as in the
 * run (an existing FIFO or device is written as y4m whatever its name). */
void cli_check_output_plan(Cli *c)
{
    struct stat st;
    if (!(c->features & CLI_ENCODE) || !c->output || (stat(c->output, &st) == 0 && !S_ISREG(st.st_mode)))
        return;
    AieWriterOpts wo = cli_writer_opts(c);
    AieOutputPlan plan;
    if (aie_writer_plan(c->output, &wo, &plan) < 0)
        cli_usage(c, "%s", plan.error[0] ? plan.error : "unusable output name");
}

void cli_check_audio(Cli *c, const AieReader *r)
{
    c->audio_plan[0] = 0;
    if (!(c->features & CLI_IO) || !c->output)
        return;
    AieWriterOpts wo = cli_writer_opts(c);
    char why[512];
    if (aie_writer_audio_plan(c->output, &wo, r, c->audio_plan, sizeof(c->audio_plan), why, sizeof(why)) ==
        AIE_EUNSUP)
        cli_usage(c, "%s", why);
}

void cli_parse(Cli *c, int argc, char **argv)
{
    c->progress = -1;
    c->last = -1;
    c->metrics_interval = 10;
    c->quality_every = -1;
    c->crf = -1;
    c->cpu_flags = aie_cpu_flags();
    c->cpu_level = "auto";
    const char *envcpu = getenv("AIE_CPU");
    if (envcpu && *envcpu)
        set_cpu(c, envcpu, "AIE_CPU");

    struct option lopts[128];
    char sopts[256];
    const CliOpt *all[128];
    int n = 0, sn = 0;
    if (c->stop_at_operand)
        sopts[sn++] = '+'; /* the command's own options are not ours */
    sopts[sn++] = ':'; /* report missing arguments distinctly */
    for (const CliOpt *o = c->opts; o && o->long_name; o++)
        all[n++] = o;
    for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
        if (!shared[i].feature || (c->features & shared[i].feature))
            all[n++] = &shared[i].opt;
    for (int i = 0; i < n; i++) {
        lopts[i] = (struct option){all[i]->long_name, all[i]->arg ? required_argument : no_argument,
                                   NULL, all[i]->code};
        if (all[i]->code < 256) {
            sopts[sn++] = (char)all[i]->code;
            if (all[i]->arg)
                sopts[sn++] = ':';
        }
    }
    lopts[n] = (struct option){0};
    sopts[sn] = 0;
    opterr = 0;
    int ch, idx;
    while ((ch = getopt_long(argc, argv, sopts, lopts, &idx)) != -1) {
        if (ch == '?') {
            if (optopt && optopt < 256)
                cli_usage(c, "unknown option '-%c'", optopt);
            cli_usage(c, "unknown option '%s'", argv[optind - 1]);
        }
        if (ch == ':') {
            const char *name = argv[optind - 1];
            cli_usage(c, "option '%s' needs a value", name);
        }
        if (ch == 'h') {
            print_help(c);
            exit(EXIT_OK);
        }
        if (ch == 'V') {
            /* the SIMD level is the one this run would use: detected, masked by
             * AIE_CPU or a --cpu given before --version */
            printf("%s %s\ncommit %s\nsimd %s (this CPU: %s)\n", c->tool, AIE_VERSION,
                   aie_version_commit(), aie_cpu_name(c->cpu_flags), aie_cpu_name(aie_cpu_flags()));
            exit(EXIT_OK);
        }
        int is_tool = 0;
        for (const CliOpt *o = c->opts; o && o->long_name; o++)
            if (o->code == ch)
                is_tool = 1;
        if (is_tool) {
            if (c->handle(c->tool_ctx, ch, optarg) != 0)
                cli_usage(c, "bad option");
        } else if (!handle_shared(c, ch, optarg)) {
            cli_usage(c, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc && (c->features & CLI_IO))
        cli_usage(c, "unexpected argument '%s' (inputs and outputs take -i and -o)", argv[optind]);
    if (c->features & CLI_IO) {
        if (!c->input)
            cli_usage(c, "no input: give -i FILE (or -i - for y4m on stdin)");
        if (!c->output && !c->dry_run && !c->preview_dir)
            cli_usage(c, "no output: give -o FILE (or -o - for y4m on stdout)");
    }
    if ((c->preview_frames || c->compare || c->force) && !c->preview_dir)
        cli_usage(c, "--preview-frames, --compare and --force go with --preview DIR");
    if (c->json && !c->dry_run)
        cli_usage(c, "--json goes with --dry-run");
    if (c->quiet && c->verbose)
        cli_usage(c, "--quiet and --verbose conflict");
    if (c->lossless && c->crf >= 0)
        cli_usage(c, "--lossless and --crf conflict");
    if (!c->metrics_path) {
        const char *m = getenv("AIE_METRICS");
        if (m && *m)
            c->metrics_path = m;
    }
    add_tags_from_env(c);
    if (c->progress < 0)
        c->progress = !c->quiet && isatty(STDERR_FILENO);
}

/* ---- signals ---- */

typedef struct SigState {
    Cli *cli;
    AieWriter **writer;
    sigset_t set;
    atomic_int signo;
    int jobs;             /* aie-batch: a second signal kills the jobs (or exits before they run) */
    atomic_int running;   /* aie-batch: the scheduler has the jobs */
    int wake[2];          /* written on every signal, for poll() */
} SigState;

static SigState sigstate = {.wake = {-1, -1}};

static void last_resort_exit(int signo)
{
    /* the run did not wind down in time: remove the temporary output and go */
    const char *tmp = sigstate.writer ? aie_writer_temp_path(*sigstate.writer) : NULL;
    if (tmp)
        unlink(tmp);
    _exit(128 + signo);
}

static void wake(void)
{
    if (sigstate.wake[1] >= 0) {
        ssize_t w = write(sigstate.wake[1], "x", 1);
        (void)w;
    }
}

static void *signal_main(void *arg)
{
    (void)arg;
    int sig, again;
    if (sigwait(&sigstate.set, &sig) != 0)
        return NULL;
    atomic_store(&sigstate.signo, sig);
    aie_cancel_request(&sigstate.cli->cancel, sig);
    wake();
    if (sigstate.jobs) {
        /* aie-batch: the jobs get TERM and the grace; a second signal KILLs
         * them at once, or ends aie-batch while it is still preparing */
        while (sigwait(&sigstate.set, &again) == 0) {
            if (!atomic_load(&sigstate.running))
                _exit(128 + sig);
            aie_cancel_request(&sigstate.cli->kill_now, again);
            wake();
        }
        return NULL;
    }
    /* Grace period. Every stage stops within a second of the cancel (reads
     * of pipes poll, jobs and the encoder drain check the token), and the
     * run then writes its run_end record and exits 128+signal, or 0 when the
     * output was already committed. This is the last resort when it does
     * not: a second signal, or 3 s, ends the process at once (a signal of
     * another kind, EINTR, does not cut it short). */
    long long end = aie_time_us() + 3000000;
    siginfo_t info;
    for (;;) {
        long long left = end - aie_time_us();
        if (left <= 0)
            break;
        struct timespec ts = {(time_t)(left / 1000000), (long)(left % 1000000) * 1000};
        if (sigtimedwait(&sigstate.set, &info, &ts) >= 0 || errno != EINTR)
            break;
    }
    last_resort_exit(sig);
    return NULL;
}

static void signals_start(Cli *c, AieWriter **writer_slot, int jobs)
{
    c->t_open_us = aie_time_us();
    signal(SIGPIPE, SIG_IGN);
    sigstate.cli = c;
    sigstate.writer = writer_slot;
    sigstate.jobs = jobs;
    sigemptyset(&sigstate.set);
    /* SIGHUP that the parent set to be ignored stays ignored (nohup). SIGINT and
     * SIGTERM are always caught, as ffmpeg does: a shell without job control
     * ignores SIGINT in its background jobs, and `kill -INT` must still stop them
     * cleanly. */
    sigaddset(&sigstate.set, SIGINT);
    sigaddset(&sigstate.set, SIGTERM);
    struct sigaction sa;
    if (!(sigaction(SIGHUP, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN))
        sigaddset(&sigstate.set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigstate.set, NULL);
    if (jobs && pipe2(sigstate.wake, O_CLOEXEC | O_NONBLOCK) < 0)
        sigstate.wake[0] = sigstate.wake[1] = -1;
    c->wake_fd = sigstate.wake[0];
    pthread_t t;
    if (pthread_create(&t, NULL, signal_main, NULL) == 0)
        pthread_detach(t);
}

void cli_signals_start(Cli *c, AieWriter **writer_slot) { signals_start(c, writer_slot, 0); }
void cli_signals_jobs(Cli *c) { signals_start(c, NULL, 1); }
void cli_signals_running(Cli *c)
{
    atomic_store(&sigstate.running, 1);
    /* a signal that came during the preparations still counts */
    if (atomic_load(&sigstate.signo))
        aie_cancel_request(&c->cancel, atomic_load(&sigstate.signo));
}

int cli_signal(const Cli *c)
{
    (void)c;
    return atomic_load(&sigstate.signo);
}

int cli_exit_code(const Cli *c, int err)
{
    if (!err)
        return EXIT_OK; /* committed: a signal after the rename changes nothing */
    int sig = cli_signal(c);
    if (sig)
        return 128 + sig;
    if (err == AIE_ECANCELLED)
        return 128 + SIGINT;
    return EXIT_FAIL;
}

/* ---- finishing the output ---- */

/* ---- status lines: progress, finishing, aie-batch's jobs ---- */

static int status_shown; /* a status line is on the terminal, to be ended */

void cli_eta(char *buf, size_t n, double eta_s)
{
    long s = eta_s >= 0 ? lround(eta_s) : -1;
    if (s >= 0)
        snprintf(buf, n, "  eta %ld:%02ld", s / 60, s % 60);
    else if (n)
        buf[0] = 0;
}

int cli_status(long long *last, long long tty_us, int force, const char *fmt, ...)
{
    int tty = isatty(STDERR_FILENO);
    long long now = aie_time_us();
    if (!force && now - *last < (tty ? tty_us : 5000000))
        return 0;
    *last = now;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s%s%s", tty ? "\r" : "", buf, tty ? "\033[K" : "\n");
    status_shown = tty;
    return 1;
}

void cli_status_end(int keep)
{
    if (status_shown)
        fputs(keep ? "\n" : "\r\033[K", stderr);
    status_shown = 0;
}

static void finishing(void *arg, int64_t pending)
{
    Cli *c = arg;
    static long long last_line;
    static int64_t last_pending = -1;
    if (!c->progress || pending == last_pending || (pending <= 0 && !status_shown))
        return;
    int shown = 1;
    if (pending > 0)
        shown = cli_status(&last_line, 100000, 0, "finishing: %lld frame%s still in the encoder",
                           (long long)pending, pending == 1 ? "" : "s");
    else if (isatty(STDERR_FILENO))
        cli_status(&last_line, 0, 1, "finishing: writing the trailer");
    if (shown)
        last_pending = pending;
}

int cli_finish_output(Cli *c, AieWriter *w, AiePipelineStats *st, char *msg, size_t msglen)
{
    long long t0 = aie_time_us();
    int err = aie_writer_finish(w);
    long long t1 = aie_time_us();
    cli_status_end(1);
    st->finish_ms = (double)(t1 - t0) / 1000.0;
    if (c->t_open_us)
        st->wall_ms = (double)(t1 - c->t_open_us) / 1000.0;
    if (err)
        snprintf(msg, msglen, "%s", aie_writer_error(w));
    return err;
}

/* ---- progress ---- */

void cli_progress(void *arg, const AieProgress *p)
{
    Cli *c = arg;
    static long long last_line;
    if (!c->progress)
        return;
    char total[64] = "", eta[32];
    /* an estimate of the total can be short (a header's frame count, a
     * rate change's rounding): the count never runs past it */
    int64_t shown = p->shown, tot = p->shown_total;
    if (tot > 0)
        snprintf(total, sizeof(total), "/%lld (%.1f%%)", (long long)(shown > tot ? shown : tot),
                 shown >= tot ? 100.0 : 100.0 * (double)shown / (double)tot);
    cli_eta(eta, sizeof(eta), p->eta_s);
    /* on a terminal every update; elsewhere a plain line every 5 s, and the last one */
    cli_status(&last_line, 0, p->final, "frame %lld%s  %.1f fps%s", (long long)shown, total, p->shown_fps, eta);
}

void cli_progress_end(Cli *c)
{
    (void)c;
    cli_status_end(1);
}

/* ---- options for the library ---- */

AieReaderOpts cli_reader_opts(Cli *c)
{
    return (AieReaderOpts){.first = c->first, .last = c->last, .ignore_errors = c->ignore_errors,
                           .strict = c->strict, .no_audio = c->no_audio, .seq_fps = c->input_fps,
                           .cancel = &c->cancel, .warn = cli_warn_cb, .warn_opaque = c};
}

AieWriterOpts cli_writer_opts(Cli *c)
{
    return (AieWriterOpts){.codec = c->codec, .crf = c->crf, .preset = c->preset, .lossless = c->lossless,
                           .encoder_opts = c->enc_opts, .n_encoder_opts = c->n_enc_opts, .depth = c->depth,
                           .no_clobber = c->no_clobber, .no_audio = c->no_audio, .audio = c->audio,
                           .png_compression = -1, .warn = cli_warn_cb, .warn_opaque = c, .cancel = &c->cancel,
                           .finishing = finishing, .finishing_opaque = c};
}

AieMetrics *cli_metrics_open(Cli *c)
{
    if (!c->metrics_path)
        return NULL;
    AieMetricsConfig mc = {
        .path = c->metrics_path,
        .tool = c->tool,
        .version = AIE_VERSION,
        .tags = c->tags,
        .ntags = c->ntags,
        .batch_id = getenv("AIE_BATCH_ID"),
        .job_id = getenv("AIE_JOB_ID"),
    };
    AieMetrics *m = NULL;
    char err[AIE_ERRBUF_SIZE] = "";
    if (aie_metrics_open(&m, &mc, err, sizeof(err)) < 0)
        cli_warn(c, "metrics: %s", *err ? err : "cannot start the log");
    return m;
}

void cli_metrics_close(Cli *c, AieMetrics **m)
{
    if (!*m)
        return;
    aie_metrics_finish(*m); /* flush within the deadline; the counts are final then */
    int64_t lost = aie_metrics_dropped(*m);
    if (lost)
        cli_warn(c, "metrics: %lld record%s dropped (%s)", (long long)lost, lost == 1 ? "" : "s",
                 aie_metrics_last_error(*m) ? aie_metrics_last_error(*m) : "unknown error");
    aie_metrics_close(m);
}

void cli_check_output_tty(const Cli *c)
{
    if (c->output && !strcmp(c->output, "-") && isatty(STDOUT_FILENO))
        cli_usage(c, "refusing to write video to a terminal; redirect stdout or use -o FILE");
}

void cli_print_json(void *obj)
{
    json_object *o = obj;
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

void *cli_job_json(const Cli *c, const AieVideoInfo *vi, int out_w, int out_h, void **opts)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "tool", json_object_new_string(c->tool));
    json_object_object_add(o, "version", json_object_new_string(AIE_VERSION));
    json_object *in = json_object_new_array();
    json_object_array_add(in, json_object_new_string(c->input));
    json_object_object_add(o, "inputs", in);
    json_object *ii = json_object_new_object();
    json_object_object_add(ii, "width", json_object_new_int(vi->width));
    json_object_object_add(ii, "height", json_object_new_int(vi->height));
    json_object_object_add(ii, "frames", json_object_new_int64(vi->nb_frames));
    json_object_object_add(ii, "fps", json_object_new_double(vi->fps.den > 0 ? (double)vi->fps.num / vi->fps.den : 0));
    json_object_object_add(ii, "duration_s", json_object_new_double(vi->duration_us >= 0 ? vi->duration_us / 1e6 : -1));
    json_object_object_add(ii, "audio_streams", json_object_new_int(vi->audio_streams));
    json_object_object_add(o, "input", ii);
    json_object *out = json_object_new_array();
    if (c->output)
        json_object_array_add(out, json_object_new_string(c->output));
    json_object_object_add(o, "outputs", out);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "width", json_object_new_int(out_w));
    json_object_object_add(p, "height", json_object_new_int(out_h));
    json_object_object_add(p, "frames_first", json_object_new_int64(c->first));
    json_object_object_add(p, "frames_last", json_object_new_int64(c->last));
    /* the encoder and quality the writer will use, defaults resolved */
    AieWriterOpts wo = cli_writer_opts((Cli *)c);
    AieOutputPlan plan = {0};
    if (c->output && aie_writer_plan(c->output, &wo, &plan) == 0) {
        json_object_object_add(p, "container", json_object_new_string(plan.container));
        json_object_object_add(p, "codec", json_object_new_string(plan.codec));
        json_object_object_add(p, "crf", plan.crf >= 0 ? json_object_new_int(plan.crf) : NULL);
    }
    json_object_object_add(p, "preset", c->preset ? json_object_new_string(c->preset) : NULL);
    json_object *eo = json_object_new_array();
    for (int i = 0; i < c->n_enc_opts; i++)
        json_object_array_add(eo, json_object_new_string(c->enc_opts[i]));
    json_object_object_add(p, "encoder_opts", eo);
    json_object_object_add(p, "lossless", json_object_new_boolean(c->lossless));
    json_object_object_add(p, "depth", json_object_new_int(c->depth ? c->depth : vi->depth));
    json_object_object_add(p, "no_audio", json_object_new_boolean(c->no_audio));
    static const char *const modes[] = {"auto", "copy", "encode", "drop"};
    json_object_object_add(p, "audio", json_object_new_string(c->no_audio ? "drop" : modes[c->audio & 3]));
    json_object_object_add(p, "audio_plan", json_object_new_string(c->audio_plan));
    json_object_object_add(p, "ignore_errors", json_object_new_boolean(c->ignore_errors));
    json_object_object_add(p, "strict", json_object_new_boolean(c->strict));
    json_object_object_add(o, "options", p);
    *opts = p;
    return o;
}

/* Out of memory under ulimit -v is named as such, with this tool's levers
 * (most effective first, measured in aie.7, MEMORY). */
static void explain_memory(const Cli *c, int err, char *msg, size_t msglen)
{
    char less[160] = "";
    int threads = c->threads ? c->threads : aie_cpu_count(), max_mem = 0;
    for (const CliOpt *o = c->opts; o && o->long_name; o++)
        max_mem |= !strcmp(o->long_name, "max-mem");
    snprintf(less, sizeof(less), "%s", c->features & CLI_ENCODE ? "a faster --preset (the encoder's lookahead)" : "");
    if (threads > 1)
        snprintf(less + strlen(less), sizeof(less) - strlen(less), "%s-j 1 (this run had -j %d)",
                 less[0] ? ", " : "", threads);
    if (max_mem)
        snprintf(less + strlen(less), sizeof(less) - strlen(less), "%s--max-mem (CNN tiles)", less[0] ? ", " : "");
    aie_explain_memory(err, less, msg, msglen);
}

void cli_finish(Cli *c, AieMetrics *m, const AieRunInfo *ri, const AiePipelineStats *st, int err,
                char *msg, size_t msglen, const char *quality_json)
{
    if (err) {
        if (!msg[0])
            snprintf(msg, msglen, "%s: %s", c->input, aie_strerror(err));
        if (err != AIE_ECANCELLED && err != AIE_EPIPE)
            explain_memory(c, err, msg, msglen);
        /* a closed stdout pipe and a signal end the run quietly */
        if (err != AIE_ECANCELLED && err != AIE_EPIPE)
            cli_error(c, "%s", msg);
        if (err == AIE_ETRUNC)
            cli_error(c, "no output written; --ignore-errors keeps the frames that decoded");
    }
    if (!c->dry_run) {
        /* the run's wall time is open to close, whatever ended it */
        AiePipelineStats s = st ? *st : (AiePipelineStats){0};
        if (c->t_open_us && (err || !s.wall_ms))
            s.wall_ms = (double)(aie_time_us() - c->t_open_us) / 1000.0;
        int cancelled = err == AIE_ECANCELLED || (err && cli_signal(c));
        const char *status = !err ? "ok" : cancelled ? "cancelled" : "failed";
        aie_metrics_run_end(m, ri, &s, status, err ? msg : NULL, quality_json);
    }
}

void cli_print_job(const Cli *c, void *obj)
{
    if (c->json) {
        cli_print_json(obj);
        return;
    }
    printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_SPACED));
    json_object_put(obj);
}

void cli_stream_desc(AieStreamDesc *d, const char *name, int w, int h, AieRational fps,
                     const char *pix_fmt)
{
    d->name = name;
    d->width = w;
    d->height = h;
    d->fps = fps.den > 0 ? (double)fps.num / fps.den : 0;
    d->pix_fmt = pix_fmt;
}

void cli_snapshot(void *metrics, const AieProgress *p, const AiePipelineStats *s)
{
    (void)s;
    aie_metrics_snapshot(metrics, p->frames_in, p->frames_total, p->fps, p->in_flight);
}

static int run_preview(Cli *c, const CliMedia *m, void *tool);

int cli_run_media(Cli *c, const CliMedia *m, void *tool)
{
    if (c->preview_dir && !c->dry_run)
        return run_preview(c, m, tool);
    cli_check_output_plan(c);
    if (!c->dry_run)
        cli_check_output_tty(c);
    static AieWriter *writer;
    cli_signals_start(c, &writer);

    int err = 0, threads = c->threads ? c->threads : aie_cpu_count();
    char msg[AIE_ERRBUF_SIZE] = "", out_fmt[32] = "";
    AieReader *reader = NULL;
    AiePool *pool = NULL;
    AieStage *stage = NULL;
    AieMetrics *metrics = c->dry_run ? NULL : cli_metrics_open(c);
    c->metrics_on = metrics != NULL;
    AiePipelineStats stats = {0};
    AieRunInfo ri = {.method = m->method, .threads = threads};
    ri.input.name = c->input;
    ri.output.name = c->output;

    if (m->prepare && (err = m->prepare(tool, c, msg, sizeof(msg))))
        goto done;
    AieReaderOpts ro = cli_reader_opts(c);
    if ((err = aie_reader_open(&reader, c->input, &ro, msg, sizeof(msg))))
        goto done;
    const AieVideoInfo *vi = aie_reader_info(reader);
    cli_stream_desc(&ri.input, c->input, vi->width, vi->height, vi->fps, vi->pix_fmt);
    cli_check_audio(c, reader);
    if (c->dry_run) {
        if ((err = m->open(tool, c, vi, NULL, &stage, msg, sizeof(msg))))
            goto done;
        void *opts;
        json_object *j = cli_job_json(c, vi, stage->out.width, stage->out.height, &opts);
        if (m->dry_run)
            m->dry_run(tool, c, stage, j, opts);
        cli_print_job(c, j);
        goto done;
    }
    if ((err = aie_pool_create(&pool, threads))) {
        snprintf(msg, sizeof(msg), "cannot start %d threads: %s", threads, aie_strerror(err));
        goto done;
    }
    if ((err = m->open(tool, c, vi, pool, &stage, msg, sizeof(msg))))
        goto done;
    ri.method = stage->method;
    ri.model = stage->model[0] ? stage->model : NULL;
    ri.options_json = stage->options_json[0] ? stage->options_json : NULL;
    AieWriterOpts wo = cli_writer_opts(c);
    wo.no_audio |= stage->drop_streams;
    if ((err = aie_writer_open(&writer, c->output, &stage->out, reader, &wo, msg, sizeof(msg))))
        goto done;
    snprintf(out_fmt, sizeof(out_fmt), "%s", aie_writer_pix_fmt(writer));
    cli_stream_desc(&ri.output, c->output, stage->out.width, stage->out.height, stage->out.fps, out_fmt);
    aie_metrics_run_start(metrics, &ri);
    if (c->verbose)
        cli_info(c, "%s: %dx%d %s -> %dx%d %s %s, %s, %d threads, cpu %s", c->input, vi->width, vi->height,
                 vi->pix_fmt, stage->out.width, stage->out.height, aie_writer_codec(writer), out_fmt,
                 stage->describe, threads, aie_cpu_name(c->cpu_flags));
    AiePipelineOpts po = {
        .pool = pool, .cancel = &c->cancel, .progress = cli_progress, .progress_opaque = c,
        .snapshot = metrics ? cli_snapshot : NULL, .snapshot_opaque = metrics,
        .snapshot_interval_s = metrics ? c->metrics_interval : 0,
    };
    err = aie_pipeline_run_stage(reader, writer, stage, &po, &stats, msg, sizeof(msg));
    cli_progress_end(c);
    if (!err)
        err = cli_finish_output(c, writer, &stats, msg, sizeof(msg));
    if (m->after)
        err = m->after(tool, c, stage, err, msg, sizeof(msg));
    if (!err && aie_reader_frames_lost(reader) > 0)
        cli_warn(c, "%s: %lld damaged frame%s skipped (--ignore-errors)", c->input,
                 (long long)aie_reader_frames_lost(reader), aie_reader_frames_lost(reader) == 1 ? "" : "s");
    if (!err && c->verbose && stage->count_output)
        cli_info(c, "%lld frames in, %lld out in %.2f s (%.1f fps out)", (long long)stats.frames_in,
                 (long long)stats.frames_out, stats.wall_ms / 1000,
                 stats.wall_ms > 0 ? stats.frames_out * 1000.0 / stats.wall_ms : 0);
    else if (!err && c->verbose)
        cli_info(c, "%lld frames in %.2f s (%.1f fps)", (long long)stats.frames_out, stats.wall_ms / 1000,
                 stats.wall_ms > 0 ? stats.frames_out * 1000.0 / stats.wall_ms : 0);
done: {
        stats.decode_errors = reader ? aie_reader_decode_errors(reader) : 0;
        stats.packets_fixed = aie_writer_packets_fixed(writer);
        char *quality = NULL;
        if (stage && stage->ops->quality_json)
            stage->ops->quality_json(stage->self, &quality);
        cli_finish(c, metrics, &ri, &stats, err, msg, sizeof(msg), quality);
        free(quality);
        if (err && c->usage_failed)
            fprintf(stderr, "Try '%s --help'.\n", c->tool);
    }
    aie_writer_close(&writer);
    aie_pool_destroy(&pool);
    aie_stage_free(&stage);
    aie_reader_close(&reader);
    cli_metrics_close(c, &metrics);
    if (err && c->usage_failed && !cli_signal(c))
        return EXIT_USAGE;
    return cli_exit_code(c, err);
}

/* ---- --preview DIR: the job on sampled frames (lib/preview) ---- */

typedef struct PreviewCtx {
    Cli *c;
    const CliMedia *m;
    void *tool;
    const char *names[AIE_PREVIEW_MAX_METHODS];
    int n;
} PreviewCtx;

static int preview_open(void *opaque, int method, const AieVideoInfo *in, AiePool *pool, AieStage **out, char *msg,
                        size_t n)
{
    PreviewCtx *x = opaque;
    if (!x->n)
        return x->m->open(x->tool, x->c, in, pool, out, msg, n);
    return x->m->open_method(x->tool, x->c, x->names[method], in, pool, out, msg, n);
}

static void preview_note(void *cli, const char *msg) { cli_info(cli, "%s", msg); }

static int run_preview(Cli *c, const CliMedia *m, void *tool)
{
    static PreviewCtx x;
    static char list[4096];
    x = (PreviewCtx){.c = c, .m = m, .tool = tool};
    if (c->compare) {
        char known[512] = "";
        if (m->methods)
            for (int i = 0; m->methods[i]; i++)
                snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "", m->methods[i]);
        else if (m->methods_text)
            snprintf(known, sizeof(known), "%s", m->methods_text);
        if (!m->open_method)
            cli_usage(c, "--compare: %s has no methods to compare", c->tool);
        snprintf(list, sizeof(list), "%s", c->compare);
        char *save = NULL;
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int ok = m->method_ok ? m->method_ok(tool, t) : 0;
            for (int i = 0; m->methods && m->methods[i] && !ok; i++)
                ok = !strcmp(m->methods[i], t);
            if (!ok)
                cli_usage(c, "--compare: unknown method '%s' (%s)", t, known);
            for (int i = 0; i < x.n; i++)
                if (!strcmp(x.names[i], t))
                    cli_usage(c, "--compare: '%s' is given twice", t);
            if (x.n == AIE_PREVIEW_MAX_METHODS)
                cli_usage(c, "--compare: at most %d methods", AIE_PREVIEW_MAX_METHODS);
            x.names[x.n++] = t;
        }
        if (!x.n)
            cli_usage(c, "--compare: expected a comma-separated list of methods");
    }
    cli_check_output_plan(c);
    static AieWriter *no_writer;
    cli_signals_start(c, &no_writer);
    char msg[AIE_ERRBUF_SIZE] = "";
    /* the run is logged as such: aie-stats leaves preview runs out */
    AieMetrics *metrics = cli_metrics_open(c);
    AieRunInfo ri = {.method = m->method, .threads = c->threads ? c->threads : aie_cpu_count(), .mode = "preview"};
    cli_stream_desc(&ri.input, c->input, 0, 0, (AieRational){0, 1}, "");
    cli_stream_desc(&ri.output, c->preview_dir, 0, 0, (AieRational){0, 1}, "");
    aie_metrics_run_start(metrics, &ri);
    int err = m->prepare ? m->prepare(tool, c, msg, sizeof(msg)) : 0;
    if (!err) {
        AiePreviewParams pp = {
            .dir = c->preview_dir, .samples = c->preview_frames, .force = c->force, .budget_fps = m->budget_fps,
            .threads = c->threads ? c->threads : aie_cpu_count(), .tool = c->tool, .input = c->input,
            .output = c->output, .measure = (AiePreviewMeasure)m->preview_measure, .methods = x.names,
            .nmethods = x.n, .job_method = m->method, .open = preview_open, .opaque = &x,
            .reader = cli_reader_opts(c), .writer = cli_writer_opts(c), .cpu_flags = c->cpu_flags,
            .cancel = &c->cancel, .note = preview_note, .note_opaque = c,
        };
        err = aie_preview_run(&pp, msg, sizeof(msg));
    }
    if (err && err != AIE_ECANCELLED && !msg[0])
        snprintf(msg, sizeof(msg), "%s", aie_strerror(err));
    cli_finish(c, metrics, &ri, NULL, err, msg, sizeof(msg), NULL);
    cli_metrics_close(c, &metrics);
    return cli_exit_code(c, err);
}
