/* aie-style: give footage a look (colour LUTs, colour transfer from a reference). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aie/cpu.h"
#include "aie/fs.h"
#include "aie/io.h"
#include "aie/keyframe.h"
#include "aie/look.h"
#include "aie/preview.h"
#include "cli.h"

enum { OPT_LUT = 2000, OPT_INTERP, OPT_REFERENCE, OPT_TRANSFER, OPT_STRENGTH, OPT_EXPORT_LUT, OPT_SHOT, OPT_LOOK, OPT_LEVELS, OPT_ITER, OPT_SPATIAL, OPT_RANGE, OPT_EDGE, OPT_DAMPING, OPT_KEYFRAME, OPT_EXEMPLAR, OPT_SHOT_ONLY, OPT_PROPAGATE, OPT_BUDGET };

#define MAX_KEYS 256

typedef struct Style {
    Cli *cli;
    const char *lut_path;
    AieLutInterp interp;
    AieLut *lut;
    const char *ref_path, *export_path;
    AieTransfer transfer;
    double strength;
    int shot;             /* --shot, 0 = not given (first shot) */
    AieFrame *reference;
    AieLookParams look;
    int look_set[8];      /* which look parameters were given */
    char method[64];
    /* keyframe style */
    long long key_index[MAX_KEYS];
    const char *key_path[MAX_KEYS];
    int nkeys;
    const char *exemplar_path;
    int shot_only;
    AieKeyframeMethod propagate;
    double budget_fps;
} Style;

static const CliOpt opts[] = {
    {OPT_LUT, "lut", "FILE.cube", "apply a 1D or 3D colour LUT (Adobe/Resolve .cube)", NULL},
    {OPT_INTERP, "interp", "NAME", "3D LUT interpolation: tetrahedral or trilinear", "tetrahedral"},
    {OPT_REFERENCE, "reference", "IMAGE", "transfer the colours of IMAGE (any picture or video; its first frame)", NULL},
    {OPT_TRANSFER, "transfer", "NAME", "colour transfer: mkl (Monge-Kantorovich) or reinhard", "mkl"},
    {OPT_STRENGTH, "strength", "S", "strength of the colour transfer, 0 to 1", "1"},
    {OPT_EXPORT_LUT, "export-lut", "FILE.cube", "also write the colour transfer of one shot as a 33-point 3D LUT", NULL},
    {OPT_SHOT, "shot", "N", "with --export-lut: the shot to export (1-based)", "1"},
    {OPT_LOOK, "look", "NAME", "artistic look: toon, sketch or oil", NULL},
    {OPT_LEVELS, "levels", "N", "toon: luminance levels, 2 to 32", "8"},
    {OPT_ITER, "iterations", "N", "toon: bilateral filter iterations, 1 to 8", "2"},
    {OPT_SPATIAL, "spatial", "PX", "toon: bilateral spatial sigma; oil: filter radius (0.5 to 16)", "toon 2, oil 3"},
    {OPT_RANGE, "range", "R", "toon: bilateral range sigma on luma 0..1", "0.1"},
    {OPT_EDGE, "edge", "E", "toon and sketch: line strength, 0 to 1", "1"},
    {OPT_DAMPING, "damping", "D", "temporal damping of the look in still areas, 0 to 1", "0.6"},
    {OPT_KEYFRAME, "keyframe", "N:FILE.png", "carry the painting FILE of input frame N (0-based) through its shot; repeatable", NULL},
    {OPT_EXEMPLAR, "exemplar", "IMAGE.png", "synthesise every shot in the style of IMAGE (a picture not from the clip)", NULL},
    {OPT_SHOT_ONLY, "shot-only", NULL, "with --keyframe: write only the shots that have a keyframe", NULL},
    {OPT_PROPAGATE, "propagate", "METHOD", "with --keyframe: synth (patch synthesis) or warp (flow-warp baseline)", "synth"},
    {OPT_BUDGET, "budget-fps", "N", "with --preview: recommend only a look that keeps up with N frames per second", "none"},
    {0},
};

static int handle(void *ctx, int code, const char *arg)
{
    Style *s = ctx;
    switch (code) {
    case OPT_LUT: s->lut_path = cli_nonempty(s->cli, "--lut", arg, "a .cube file"); return 0;
    case OPT_INTERP:
        if (aie_lut_interp_parse(arg, &s->interp) < 0)
            cli_usage(s->cli, "--interp: unknown interpolation '%s' (tetrahedral, trilinear)", arg);
        return 0;
    case OPT_REFERENCE: s->ref_path = cli_nonempty(s->cli, "--reference", arg, "an image"); return 0;
    case OPT_TRANSFER:
        if (aie_transfer_parse(arg, &s->transfer) < 0)
            cli_usage(s->cli, "--transfer: unknown method '%s' (mkl, reinhard)", arg);
        return 0;
    case OPT_STRENGTH: s->strength = cli_double(s->cli, "--strength", arg, 0.0, 1.0); return 0;
    case OPT_EXPORT_LUT: s->export_path = cli_nonempty(s->cli, "--export-lut", arg, "a file name"); return 0;
    case OPT_SHOT: s->shot = cli_int(s->cli, "--shot", arg, 1, INT_MAX); return 0;
    case OPT_LOOK:
        if (aie_look_parse(arg, &s->look.look) < 0)
            cli_usage(s->cli, "--look: unknown look '%s' (toon, sketch, oil)", arg);
        return 0;
    case OPT_LEVELS: s->look.levels = cli_int(s->cli, "--levels", arg, 2, 32); s->look_set[0] = 1; return 0;
    case OPT_ITER: s->look.iterations = cli_int(s->cli, "--iterations", arg, 1, 8); s->look_set[1] = 1; return 0;
    case OPT_SPATIAL: s->look.sigma_s = cli_double(s->cli, "--spatial", arg, 0.5, 16); s->look_set[2] = 1; return 0;
    case OPT_RANGE: s->look.sigma_r = cli_double(s->cli, "--range", arg, 0.001, 1); s->look_set[3] = 1; return 0;
    case OPT_EDGE: s->look.edge = cli_double(s->cli, "--edge", arg, 0, 1); s->look_set[4] = 1; return 0;
    case OPT_KEYFRAME: {
        char *end;
        errno = 0;
        long long n = strtoll(arg, &end, 10);
        if (end == arg || *end != ':' || !end[1] || n < 0 || errno || arg[0] == '-' || arg[0] == '+' || arg[0] == ' ')
            cli_usage(s->cli, "--keyframe: expected N:FILE with N a frame index from 0, not '%s'", arg);
        for (int i = 0; i < s->nkeys; i++)
            if (s->key_index[i] == n)
                cli_usage(s->cli, "--keyframe: frame %lld is given twice", n);
        if (s->nkeys == MAX_KEYS)
            cli_usage(s->cli, "--keyframe: at most %d keyframes", MAX_KEYS);
        s->key_index[s->nkeys] = n;
        s->key_path[s->nkeys++] = end + 1;
        return 0;
    }
    case OPT_EXEMPLAR: s->exemplar_path = cli_nonempty(s->cli, "--exemplar", arg, "a picture"); return 0;
    case OPT_SHOT_ONLY: s->shot_only = 1; return 0;
    case OPT_PROPAGATE:
        if (!strcmp(arg, "synth")) s->propagate = AIE_KEYFRAME_SYNTH;
        else if (!strcmp(arg, "warp")) s->propagate = AIE_KEYFRAME_WARP;
        else cli_usage(s->cli, "--propagate: unknown method '%s' (synth, warp)", arg);
        return 0;
    case OPT_BUDGET: s->budget_fps = cli_double(s->cli, "--budget-fps", arg, 0.001, 100000); return 0;
    case OPT_DAMPING: s->look.damping = cli_double(s->cli, "--damping", arg, 0, 1); s->look_set[5] = 1; return 0;
    }
    return -1;
}

/* The first frame of the reference picture; msg gets "FILE: reason". */
static int load_reference(Style *s, char *msg, size_t n)
{
    /* a pipe or FIFO is read as a stream, like -i: a signal ends the wait */
    AieReaderOpts ro = {.cancel = &s->cli->cancel}; /* frame 0 only (.last = 0) */
    AieReader *r = NULL;
    char why[256] = "";
    int err = aie_reader_open(&r, s->ref_path, &ro, why, sizeof(why));
    if (!err && (err = aie_reader_read(r, &s->reference)) == AIE_EOF)
        err = AIE_EEMPTY;
    if (err) {
        if (why[0])
            snprintf(msg, n, "--reference: %s", why);
        else
            snprintf(msg, n, "--reference %.300s: %s", s->ref_path, aie_strerror(err));
    }
    aie_reader_close(&r);
    return err;
}

/* Write the colour transfer of the chosen shot, temp-then-rename. */
static int export_lut(Style *s, const AieStyle *style, char *msg, size_t n)
{
    const int shots = aie_style_shots(style), shot = s->shot ? s->shot : 1;
    if (shot > shots) {
        snprintf(msg, n, "--shot %d: the clip has %d shot%s", shot, shots, shots == 1 ? "" : "s");
        return AIE_EINVAL;
    }
    char *text = NULL;
    int err = aie_style_export_cube(style, shot, 33, &text);
    if (err) {
        snprintf(msg, n, "%.300s: %s", s->export_path, aie_strerror(err));
        return err;
    }
    AieOutFile *of = NULL;
    FILE *f = NULL;
    const char *in = s->cli->input;
    if (!(err = aie_outfile_open(&of, s->export_path, &in, 1, s->cli->no_clobber, &f, msg, n))) {
        fputs(text, f);
        err = aie_outfile_commit(&of, msg, n);
    }
    free(text);
    return err;
}

static void kf_note(void *cli, const char *msg)
{
    cli_info(cli, "%s", msg);
}

/* The keyframe engine with its paintings; msg gets one line. */
static int keyframe_setup(Style *s, AieKeyframe **kfp, const AieVideoInfo *vi, char *msg, size_t n)
{
    AieKeyframeParams kp;
    aie_keyframe_params_default(&kp);
    kp.method = s->propagate;
    kp.shot_only = s->shot_only;
    const char *tmp = getenv("TMPDIR");
    kp.scratch_dir = tmp && *tmp ? tmp : "/tmp";
    kp.note = kf_note;
    kp.note_opaque = s->cli;
    AieKeyframe *kf = NULL;
    int err = aie_keyframe_create(&kf, &kp, vi->width, vi->height, vi->layout, vi->depth, s->cli->cpu_flags);
    if (err) {
        snprintf(msg, n, "%s: cannot stylise %dx%d %s by keyframe: %s", s->cli->input, vi->width, vi->height,
                 vi->pix_fmt, aie_strerror(err));
        return err;
    }
    *kfp = kf;
    const int count = s->exemplar_path ? 1 : s->nkeys;
    for (int i = 0; i < count; i++) {
        const char *path = s->exemplar_path ? s->exemplar_path : s->key_path[i];
        if (!s->exemplar_path && vi->nb_frames > 0 && s->key_index[i] >= vi->nb_frames) {
            snprintf(msg, n, "--keyframe %lld: the clip has %lld frames (0 to %lld)", s->key_index[i],
                     (long long)vi->nb_frames, (long long)vi->nb_frames - 1);
            return AIE_EINVAL;
        }
        AieFrame *pf = NULL;
        char why[AIE_ERRBUF_SIZE] = "";
        if ((err = aie_image_read_png(path, &pf, msg, n)))
            return err;
        err = s->exemplar_path ? aie_keyframe_set_exemplar(kf, pf, why, sizeof(why))
                               : aie_keyframe_add(kf, s->key_index[i], pf, why, sizeof(why));
        aie_frame_unref(&pf);
        if (err) {
            snprintf(msg, n, "%.300s: %s", path, why[0] ? why : aie_strerror(err));
            return err;
        }
    }
    return 0;
}

static void dry_run(void *tool, const Cli *c, const AieStage *stage, void *job_json, void *json_opts)
{
    (void)c;
    (void)stage;
    const Style *s = tool;
    json_object *o = job_json, *p = json_opts, *arr;
    if (json_object_object_get_ex(o, "inputs", &arr)) {
        if (s->lut_path)
            json_object_array_add(arr, json_object_new_string(s->lut_path));
        if (s->ref_path)
            json_object_array_add(arr, json_object_new_string(s->ref_path));
    }
    if (s->export_path && json_object_object_get_ex(o, "outputs", &arr))
        json_object_array_add(arr, json_object_new_string(s->export_path));
    json_object_object_add(p, "lut", s->lut_path ? json_object_new_string(s->lut_path) : NULL);
    if (s->lut) {
        AieLutInfo li;
        aie_lut_info(s->lut, &li);
        json_object_object_add(p, "lut_dims", json_object_new_int(li.dims));
        json_object_object_add(p, "lut_size", json_object_new_int(li.size));
        json_object_object_add(p, "lut_title", json_object_new_string(li.title));
    }
    json_object_object_add(p, "interp", json_object_new_string(aie_lut_interp_name(s->interp)));
    json_object_object_add(p, "reference", s->ref_path ? json_object_new_string(s->ref_path) : NULL);
    json_object_object_add(p, "transfer", json_object_new_string(aie_transfer_name(s->transfer)));
    json_object_object_add(p, "strength", json_object_new_double(s->strength));
    json_object_object_add(p, "export_lut", s->export_path ? json_object_new_string(s->export_path) : NULL);
    json_object_object_add(p, "shot", json_object_new_int(s->shot ? s->shot : 1));
    if (s->nkeys || s->exemplar_path) {
        json_object *ka = json_object_new_array();
        for (int i = 0; i < s->nkeys; i++) {
            json_object *k = json_object_new_object();
            json_object_object_add(k, "frame", json_object_new_int64(s->key_index[i]));
            json_object_object_add(k, "file", json_object_new_string(s->key_path[i]));
            json_object_array_add(ka, k);
            if (json_object_object_get_ex(o, "inputs", &arr))
                json_object_array_add(arr, json_object_new_string(s->key_path[i]));
        }
        json_object_object_add(p, "keyframes", ka);
        json_object_object_add(p, "exemplar", s->exemplar_path ? json_object_new_string(s->exemplar_path) : NULL);
        if (s->exemplar_path && json_object_object_get_ex(o, "inputs", &arr))
            json_object_array_add(arr, json_object_new_string(s->exemplar_path));
        json_object_object_add(p, "shot_only", json_object_new_boolean(s->shot_only));
        json_object_object_add(p, "propagate", json_object_new_string(s->propagate == AIE_KEYFRAME_WARP ? "warp" : "synth"));
    }
    json_object_object_add(p, "look", s->look.look ? json_object_new_string(aie_look_name(s->look.look)) : NULL);
    if (s->look.look) {
        json_object_object_add(p, "levels", json_object_new_int(s->look.levels));
        json_object_object_add(p, "iterations", json_object_new_int(s->look.iterations));
        json_object_object_add(p, "spatial", json_object_new_double(s->look.sigma_s));
        json_object_object_add(p, "range", json_object_new_double(s->look.sigma_r));
        json_object_object_add(p, "edge", json_object_new_double(s->look.edge));
        json_object_object_add(p, "damping", json_object_new_double(s->look.damping));
    }
}

static int prepare(void *tool, Cli *c, char *msg, size_t n)
{
    (void)c;
    Style *s = tool;
    int err = 0;
    if (s->lut_path && (err = aie_lut_load(&s->lut, s->lut_path, msg, n)))
        return err;
    if (s->ref_path && (err = load_reference(s, msg, n)))
        return err;
    return 0;
}

static int open_stage(void *tool, Cli *c, const AieVideoInfo *vi, AiePool *pool, AieStage **out, char *msg,
                      size_t n)
{
    Style *s = tool;
    if (!pool) { /* --dry-run: the job is the options; nothing to build */
        AieStage *st = calloc(1, sizeof(*st));
        static const AieStageOps none = {0};
        if (!st)
            return AIE_ENOMEM;
        st->ops = &none;
        st->out = *vi;
        *out = st;
        return 0;
    }
    if (s->nkeys || s->exemplar_path) {
        AieKeyframe *kf = NULL;
        int err = keyframe_setup(s, &kf, vi, msg, n);
        if (!err && (err = aie_keyframe_stage_open(out, &kf, vi, s->method)))
            snprintf(msg, n, "%s: %s", c->input, aie_strerror(err));
        aie_keyframe_free(&kf);
        return err;
    }
    char what[600] = "";
    if (s->ref_path)
        snprintf(what, sizeof(what), "%s transfer from %.200s at %.2f%s", aie_transfer_name(s->transfer), s->ref_path,
                 s->strength, s->lut ? ", then " : "");
    if (s->lut) {
        AieLutInfo li;
        aie_lut_info(s->lut, &li);
        size_t l = strlen(what);
        snprintf(what + l, sizeof(what) - l, "%dD LUT of %d (%.200s), %s", li.dims, li.size,
                 li.title[0] ? li.title : s->lut_path, aie_lut_interp_name(s->interp));
    }
    if (s->look.look) {
        size_t l = strlen(what);
        snprintf(what + l, sizeof(what) - l, "%s%s look", l ? ", then " : "", aie_look_name(s->look.look));
    }
    AieStyleParams sp = {.lut = s->lut, .interp = s->interp, .reference = s->reference, .transfer = s->transfer,
                         .strength = s->strength, .look = s->look};
    int err = aie_style_stage_open(out, &sp, vi, c->metrics_on ? c->quality_every : 0, c->cpu_flags, s->method,
                                   what);
    if (err)
        snprintf(msg, n, "%s: cannot style %dx%d %s: %s", c->input, vi->width, vi->height, vi->pix_fmt,
                 aie_strerror(err));
    return err;
}

static int after(void *tool, Cli *c, AieStage *stage, int err, char *msg, size_t n)
{
    Style *s = tool;
    const char *kerr = aie_keyframe_stage_error(stage);
    if (err && err != AIE_ECANCELLED && kerr && kerr[0])
        snprintf(msg, n, "%s: %s", c->input, kerr);
    if (!err && s->export_path)
        err = export_lut(s, aie_style_stage_style(stage), msg, n);
    return err;
}

/* --preview --compare: each item a .cube LUT or a look name, with the job's
 * other settings (--reference, --interp, the look parameters) */
static int method_ok(void *tool, const char *name)
{
    (void)tool;
    AieLook look;
    size_t l = strlen(name);
    return aie_look_parse(name, &look) == 0 || (l > 5 && !strcmp(name + l - 5, ".cube"));
}

static int open_method(void *tool, Cli *c, const char *method, const AieVideoInfo *vi, AiePool *pool, AieStage **out,
                       char *msg, size_t n)
{
    Style *s = tool;
    (void)pool;
    AieStyleParams sp = {.interp = s->interp, .reference = s->reference, .transfer = s->transfer,
                         .strength = s->strength, .look = s->look};
    AieLut *lut = NULL;
    int err = 0;
    if (aie_look_parse(method, &sp.look.look) != 0) {
        sp.look.look = AIE_LOOK_NONE;
        if ((err = aie_lut_load(&lut, method, msg, n)))
            return err;
        sp.lut = lut;
    }
    err = aie_style_stage_open(out, &sp, vi, 0, c->cpu_flags, method, method);
    if (err)
        snprintf(msg, n, "%s: cannot style %dx%d %s with %s: %s", c->input, vi->width, vi->height, vi->pix_fmt,
                 method, aie_strerror(err));
    aie_lut_free(&lut);
    return err;
}

int main(int argc, char **argv)
{
    static Cli cli;
    Style s = {.cli = &cli, .interp = AIE_INTERP_TETRAHEDRAL, .transfer = AIE_TRANSFER_MKL, .strength = 1.0};
    cli = (Cli){.tool = "aie-style", .usage_args = "-i INPUT -o OUTPUT", .features = CLI_MEDIA | CLI_PREVIEW,
                .opts = opts, .handle = handle, .tool_ctx = &s,
                .purpose = "Give video and images a look: colour LUTs, colour transfer from a reference, toon, sketch or oil."};
    cli_parse(&cli, argc, argv);
    {
        /* look parameters: defaults for the look chosen, then what was given */
        AieLookParams given = s.look;
        aie_look_defaults(&s.look);
        if (s.look_set[0]) s.look.levels = given.levels;
        if (s.look_set[1]) s.look.iterations = given.iterations;
        if (s.look_set[2]) s.look.sigma_s = given.sigma_s;
        if (s.look_set[3]) s.look.sigma_r = given.sigma_r;
        if (s.look_set[4]) s.look.edge = given.edge;
        if (s.look_set[5]) s.look.damping = given.damping;
        int any = 0;
        for (int i = 0; i < 6; i++)
            any |= s.look_set[i];
        if (any && !s.look.look)
            cli_usage(&cli, "--levels, --iterations, --spatial, --range, --edge and --damping go with --look");
    }
    const int keyed = s.nkeys || s.exemplar_path;
    if (keyed && (s.lut_path || s.ref_path || s.look.look))
        cli_usage(&cli, "--keyframe and --exemplar go without --lut, --reference and --look");
    if (s.nkeys && s.exemplar_path)
        cli_usage(&cli, "--keyframe and --exemplar exclude each other");
    if ((s.shot_only || s.propagate) && !s.nkeys)
        cli_usage(&cli, "--shot-only and --propagate go with --keyframe");
    if (keyed && cli.preview_dir)
        cli_usage(&cli, "--preview goes without --keyframe and --exemplar");
    if (s.budget_fps > 0 && !cli.preview_dir)
        cli_usage(&cli, "--budget-fps goes with --preview");
    if (!keyed && !s.lut_path && !s.ref_path && !s.look.look && !cli.compare)
        cli_usage(&cli, "nothing to do: give --lut FILE.cube, --reference IMAGE and/or --look NAME, or --keyframe N:FILE.png");
    if (s.export_path && !s.ref_path)
        cli_usage(&cli, "--export-lut goes with --reference");
    if (s.shot && !s.export_path)
        cli_usage(&cli, "--shot goes with --export-lut");
    if (keyed)
        snprintf(s.method, sizeof(s.method), "%s", s.exemplar_path ? "exemplar" : s.propagate ? "keyframe-warp" : "keyframe");
    else
    snprintf(s.method, sizeof(s.method), "%s%s%s%s%s", s.ref_path ? "transfer" : "",
             s.ref_path && s.lut_path ? "+" : "", s.lut_path ? "lut" : "",
             s.look.look && (s.ref_path || s.lut_path) ? "+" : "", s.look.look ? aie_look_name(s.look.look) : "");
    const CliMedia media = {.method = s.method, .prepare = prepare, .open = open_stage, .dry_run = dry_run,
                            .after = after, .preview_measure = AIE_PREVIEW_FLICKER, .method_ok = method_ok,
                            .methods_text = "a .cube LUT or a look: toon, sketch, oil", .open_method = open_method,
                            .budget_fps = s.budget_fps};
    int rc = cli_run_media(&cli, &media, &s);
    aie_lut_free(&s.lut);
    aie_frame_unref(&s.reference);
    return rc;
}
