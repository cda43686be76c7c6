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
#include "aie/nn.h"
#include "aie/preview.h"
#include "aie/raisr.h"
#include "aie/sr_cnn.h"
#include "aie/upscale.h"
#include "cli.h"

enum { OPT_SIZE = 2000, OPT_WIDTH, OPT_HEIGHT, OPT_MODEL, OPT_LIST_MODELS, OPT_TILE, OPT_MAX_MEM, OPT_BANK,
       OPT_BUDGET };

#define MODELS_HINT "run 'make models' (scripts/fetch-models.sh) to download the pretrained models"

typedef struct Upscale {
    Cli *cli;
    AieUpscaleParams p;
    const char *method;    /* -m NAME as given */
    int method_given;
    const char *model_arg; /* --model NAME|PATH */
    const char *bank_arg;  /* --bank FILE */
    AieModelPath mp;
} Upscale;

static const CliOpt opts[] = {
    {'s', "scale", "F", "scale factor, 1 to 8 (fractions allowed)", "2"},
    {OPT_SIZE, "size", "WxH", "output size in pixels", NULL},
    {OPT_WIDTH, "width", "W", "output width; the height keeps the aspect ratio", NULL},
    {OPT_HEIGHT, "height", "H", "output height; the width keeps the aspect ratio", NULL},
    {'m', "method", "NAME", "auto, nearest, bilinear, bicubic, lanczos, spline36, raisr or cnn", "auto"},
    {OPT_MODEL, "model", "NAME|PATH", "CNN model: an installed name or a model file (implies -m cnn)", "best installed for the scale"},
    {OPT_BANK, "bank", "FILE", "RAISR filter bank made by aie-train (implies -m raisr)", "built-in for the scale"},
    {OPT_BUDGET, "budget-fps", "N", "-m auto (or --preview): the best method expected to keep up with N frames per second", "none"},
    {OPT_LIST_MODELS, "list-models", NULL, "list the CNN models and RAISR filter banks and exit", NULL},
    {OPT_TILE, "tile", "N", "CNN tile side in input pixels, 16 to 4096", "automatic"},
    {OPT_MAX_MEM, "max-mem", "MiB", "cap on CNN tile memory (all threads); tiles are halved to fit", "none"},
    {0},
};

/* --list-models: what is installed, one model a line, on stdout. */
static int list_models(const Cli *c)
{
    static AieModelPath mp;
    aie_model_path_init(&mp);
    AieModelEntry *v;
    int n, found = 0, banks = 0;
    if (aie_models_list(mp.dirs, mp.n, &v, &n))
        return -1;
    for (int i = 0; i < n; i++) {
        const AieModelEntry *e = &v[i];
        char g[32];
        snprintf(g, sizeof(g), e->bank ? "%13.2f" : "%13.1f", e->gflop_per_mpixel);
        if (e->bank && !e->damaged && (!found++ || !banks))
            printf("%s%-24s %5s  %-9s  %13s  %10s  %-12s  %s\n", found > 1 ? "\n" : "", "NAME", "SCALE", "CONTENT",
                   "GFLOP/MPIXEL", "MACS/PIXEL", "LICENCE", "FILE");
        else if (!e->bank && !found++)
            printf("%-24s %5s  %-9s  %13s  %10s  %-12s  %s\n", "NAME", "SCALE", "CONTENT", "GFLOP/MPIXEL", "MACS/PIXEL",
                   "LICENCE", "FILE");
        banks += e->bank && !e->damaged;
        char macs[32];
        snprintf(macs, sizeof(macs), "%10.0f", e->macs_per_pixel);
        printf("%-24s %4dx  %-9s  %13s  %10s  %-12s  %s\n", e->name, e->scale, e->content, e->damaged ? "damaged" : g,
               e->damaged ? "-" : macs,
               e->licence, e->file);
        if (e->damaged)
            cli_warn(c, "%s", e->error);
    }
    free(v);
    fflush(stdout);
    const char *sp = mp.text;
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
    case 's': u->p.scale = cli_double(c, "--scale", arg, 1.0, 8.0); return 0;
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
        u->p.size_w = (int)w;
        u->p.size_h = (int)h;
        return 0;
    }
    case OPT_WIDTH: u->p.width = cli_int(c, "--width", arg, 1, AIE_MAX_DIM); return 0;
    case OPT_HEIGHT: u->p.height = cli_int(c, "--height", arg, 1, AIE_MAX_DIM); return 0;
    case 'm':
        if (!strcmp(arg, "cnn")) {
            u->p.method = AIE_UPSCALE_CNN;
        } else if (!strcmp(arg, "raisr")) {
            u->p.method = AIE_UPSCALE_RAISR;
        } else if (!strcmp(arg, "auto")) {
            u->p.method = AIE_UPSCALE_AUTO;
        } else if (aie_filter_parse(arg, &u->p.filter) == 0) {
            u->p.method = AIE_UPSCALE_FILTER;
        } else {
            cli_usage(c, "--method: unknown method '%s' (auto, nearest, bilinear, bicubic, lanczos, spline36, raisr, "
                         "cnn)", arg);
        }
        u->method = arg;
        u->method_given = 1;
        return 0;
    case OPT_MODEL: u->model_arg = cli_nonempty(c, "--model", arg, "a model name or file"); return 0;
    case OPT_BANK: u->bank_arg = cli_nonempty(c, "--bank", arg, "a filter bank file"); return 0;
    case OPT_BUDGET: u->p.budget_fps = cli_double(c, "--budget-fps", arg, 0.001, 100000); return 0;
    case OPT_LIST_MODELS: exit(list_models(c) ? EXIT_FAIL : EXIT_OK);
    case OPT_TILE: u->p.tile = cli_int(c, "--tile", arg, AIE_NN_MIN_TILE, 4096); return 0;
    case OPT_MAX_MEM: u->p.max_mem = (size_t)cli_int(c, "--max-mem", arg, 1, 16 << 20) << 20; return 0;
    }
    return -1;
}

static int prepare(void *tool, Cli *c, char *msg, size_t n)
{
    (void)c;
    Upscale *u = tool;
    /* -m cnn needs a model: fail before reading anything when there is none */
    return aie_upscale_check_model(&u->p, msg, n);
}

static int open_stage(void *tool, Cli *c, const AieVideoInfo *in, AiePool *pool, AieStage **out, char *msg,
                      size_t n)
{
    Upscale *u = tool;
    u->p.quality_every = c->metrics_on ? c->quality_every : 0;
    int err = aie_upscale_open(out, &u->p, in, pool, msg, n);
    AieUpscaleInfo info;
    if (err || !pool || !c->verbose || aie_upscale_info(*out, &info))
        return err;
    if (u->p.method == AIE_UPSCALE_AUTO)
        cli_info(c, "-m auto: %s", info.chose);
    if (info.method == AIE_UPSCALE_CNN)
        cli_info(c, "model %s (%s), loaded in %.2f s, tile %d", info.model_name, info.model_file, info.load_s,
                 info.tile);
    return 0;
}

static void dry_run(void *tool, const Cli *c, const AieStage *s, void *job_json, void *json_opts)
{
    (void)c;
    (void)job_json;
    const Upscale *u = tool;
    json_object *p = json_opts;
    AieUpscaleInfo info;
    if (aie_upscale_info(s, &info))
        return;
    json_object_object_add(p, "method", json_object_new_string(info.method_name));
    if (info.method == AIE_UPSCALE_AUTO && u->p.budget_fps > 0)
        json_object_object_add(p, "budget_fps", json_object_new_double(u->p.budget_fps));
    if (info.method == AIE_UPSCALE_RAISR && u->bank_arg)
        json_object_object_add(p, "bank", json_object_new_string(u->bank_arg));
    if (info.method == AIE_UPSCALE_CNN) {
        json_object_object_add(p, "model", json_object_new_string(info.model_name));
        json_object_object_add(p, "model_file", json_object_new_string(info.model_file));
        json_object_object_add(p, "tile", json_object_new_int(u->p.tile));
        json_object_object_add(p, "max_mem_mib", json_object_new_int64((int64_t)(u->p.max_mem >> 20)));
    }
}

static int after(void *tool, Cli *c, AieStage *s, int err, char *msg, size_t n)
{
    (void)tool;
    (void)msg;
    (void)n;
    AieUpscaleInfo info;
    if (!aie_upscale_info(s, &info) && info.halvings)
        cli_warn(c, "tile memory: the tile was halved %d time%s, to %d input pixels%s", info.halvings,
                 info.halvings == 1 ? "" : "s", info.tile, ((Upscale *)tool)->p.max_mem ? " (--max-mem)" : "");
    return err;
}

/* --preview --compare: the job's settings with another method */
static const char *const methods[] = {"nearest", "bilinear", "bicubic", "lanczos", "spline36", "raisr", "cnn", NULL};

static int open_method(void *tool, Cli *c, const char *method, const AieVideoInfo *in, AiePool *pool, AieStage **out,
                       char *msg, size_t n)
{
    (void)c;
    Upscale *u = tool;
    AieUpscaleParams p = u->p;
    p.quality_every = 0;
    p.budget_fps = 0;
    if (!strcmp(method, "cnn")) {
        p.method = AIE_UPSCALE_CNN;
    } else if (!strcmp(method, "raisr")) {
        p.method = AIE_UPSCALE_RAISR;
        p.model = NULL;
    } else {
        p.method = AIE_UPSCALE_FILTER;
        p.model = p.bank = NULL;
        if (aie_filter_parse(method, &p.filter)) {
            snprintf(msg, n, "--compare: unknown method '%s'", method);
            return AIE_EINVAL;
        }
    }
    if (p.method != AIE_UPSCALE_RAISR)
        p.bank = NULL;
    if (p.method != AIE_UPSCALE_CNN)
        p.model = NULL;
    int err = aie_upscale_check_model(&p, msg, n);
    return err ? err : aie_upscale_open(out, &p, in, pool, msg, n);
}

int main(int argc, char **argv)
{
    static Cli cli;
    Upscale u = {.cli = &cli, .p = {.method = AIE_UPSCALE_AUTO, .filter = AIE_FILTER_LANCZOS}};
    cli = (Cli){.tool = "aie-upscale", .usage_args = "-i INPUT -o OUTPUT", .features = CLI_MEDIA | CLI_PREVIEW,
                .opts = opts, .handle = handle, .tool_ctx = &u,
                .purpose = "Upscale (or resize) video and images with classical resampling or a CNN."};
    cli_parse(&cli, argc, argv);
    AieUpscaleParams *p = &u.p;
    if (p->scale > 0 && (p->size_w || p->width || p->height))
        cli_usage(&cli, "--scale conflicts with --size/--width/--height");
    if (p->size_w && (p->width || p->height))
        cli_usage(&cli, "--size conflicts with --width/--height");
    if (u.model_arg) {
        if (u.method_given && p->method != AIE_UPSCALE_CNN)
            cli_usage(&cli, "--model goes with -m cnn, not -m %s", u.method);
        p->method = AIE_UPSCALE_CNN;
        u.method = "cnn";
    }
    if (u.bank_arg) {
        if ((u.method_given && p->method != AIE_UPSCALE_RAISR) || u.model_arg)
            cli_usage(&cli, "--bank goes with -m raisr, not %s", u.model_arg ? "--model" : u.method);
        p->method = AIE_UPSCALE_RAISR;
        u.method = "raisr";
    }
    if (p->budget_fps > 0 && p->method != AIE_UPSCALE_AUTO && !cli.preview_dir)
        cli_usage(&cli, "--budget-fps goes with -m auto (or --preview)");
    if (p->method != AIE_UPSCALE_CNN && p->method != AIE_UPSCALE_AUTO && (p->tile || p->max_mem))
        cli_usage(&cli, "--tile and --max-mem go with -m cnn (or -m auto)");
    const int model_is_path = u.model_arg && (strchr(u.model_arg, '/') || strstr(u.model_arg, ".json") ||
                                              strstr(u.model_arg, ".param") || strstr(u.model_arg, ".aienn"));
    if (u.model_arg && !model_is_path && !aie_cnn_model_desc(u.model_arg))
        cli_usage(&cli, "--model: unknown model '%s' (see --list-models, or give a file)", u.model_arg);
    aie_model_path_init(&u.mp);
    p->model = u.model_arg;
    p->bank = u.bank_arg;
    p->dirs = u.mp.dirs;
    p->ndirs = u.mp.n;
    p->threads = cli.threads ? cli.threads : aie_cpu_count();
    p->cpu_flags = cli.cpu_flags;
    p->cancel = &cli.cancel;
    p->check_finite = cli.strict;
    p->name = cli.input;
    p->warn = cli_warn_cb;
    p->warn_opaque = &cli;
    const CliMedia media = {
        .method = p->method == AIE_UPSCALE_AUTO ? "auto" : p->method == AIE_UPSCALE_CNN ? "cnn"
                : p->method == AIE_UPSCALE_RAISR ? "raisr" : aie_filter_name(p->filter),
        .prepare = prepare, .open = open_stage, .dry_run = dry_run, .after = after,
        .preview_measure = AIE_PREVIEW_ROUNDTRIP, .methods = methods, .open_method = open_method,
        .budget_fps = p->budget_fps,
    };
    return cli_run_media(&cli, &media, &u);
}
