/* aie-interp: motion-compensated frame-rate conversion (the work is the
 * stage of aie/interp.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "aie/interp.h"
#include "aie/io.h"
#include "aie/motion.h"
#include "aie/preview.h"
#include "cli.h"

enum { OPT_FPS = 2000, OPT_SLOWMO, OPT_METHOD, OPT_SCENE, OPT_FLOW_PNG, OPT_BUDGET };

typedef struct Interp {
    Cli *cli;
    AieInterpParams p;
    const char *flow_png;
    AieRational in_fps;
    double budget_fps;
} Interp;

static const CliOpt opts[] = {
    {OPT_FPS, "fps", "N[/D]", "output frame rate (60, 60000/1001, 59.94)", NULL},
    {'x', "factor", "K", "multiply the frame rate by K (2, 2.5, 5/2)", NULL},
    {OPT_SLOWMO, "slowmo", "K", "keep the rate, make the video K times longer (needs --no-audio with audio)", NULL},
    {OPT_METHOD, "method", "NAME", "mc (motion-compensated) or blend", "mc"},
    {OPT_SCENE, "scene-threshold", "T", "scene-cut threshold, 0.05 to 2 (higher finds fewer cuts)", "0.45"},
    {OPT_FLOW_PNG, "flow-png", "DIR", "write a colour-wheel picture of the motion of each output frame", NULL},
    {OPT_BUDGET, "budget-fps", "N", "with --preview: recommend only a method that keeps up with N input frames per second", "none"},
    {0},
};

static int handle(void *ctx, int code, const char *arg)
{
    Interp *u = ctx;
    Cli *c = u->cli;
    switch (code) {
    case OPT_FPS:
        if (cli_rational(arg, &u->p.fps) < 0)
            cli_usage(c, "--fps: '%s' is not a positive rate like 60 or 60000/1001", arg);
        return 0;
    case 'x':
        if (cli_rational(arg, &u->p.factor) < 0)
            cli_usage(c, "--factor: '%s' is not a positive factor like 2 or 5/2", arg);
        return 0;
    case OPT_SLOWMO:
        if (cli_rational(arg, &u->p.slowmo) < 0)
            cli_usage(c, "--slowmo: '%s' is not a positive factor like 2 or 4", arg);
        return 0;
    case OPT_METHOD:
        if (strcmp(arg, "mc") && strcmp(arg, "blend"))
            cli_usage(c, "--method: unknown method '%s' (mc, blend)", arg);
        u->p.blend = !strcmp(arg, "blend");
        return 0;
    case OPT_SCENE: u->p.scene_threshold = cli_double(c, "--scene-threshold", arg, 0.05, 2.0); return 0;
    case OPT_FLOW_PNG: u->flow_png = arg; return 0;
    case OPT_BUDGET: u->budget_fps = cli_double(c, "--budget-fps", arg, 0.001, 100000); return 0;
    }
    return -1;
}

/* --flow-png: one PNG per output frame, DIR/%06d.png */
static int flow_sink(void *opaque, const AieFrame *rgb, int64_t k, char *err, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%06lld.png", ((Interp *)opaque)->flow_png, (long long)k);
    return aie_image_write_png(path, rgb, 8, err, n);
}

static int prepare(void *tool, Cli *c, char *msg, size_t n)
{
    Interp *u = tool;
    struct stat st;
    if (!u->flow_png || c->dry_run)
        return 0;
    if (stat(u->flow_png, &st) != 0 && mkdir(u->flow_png, 0777) != 0 && errno != EEXIST) {
        snprintf(msg, n, "%s: cannot create the directory: %s", u->flow_png, strerror(errno));
        return AIE_EIO;
    }
    if (stat(u->flow_png, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(msg, n, "%s: not a directory", u->flow_png);
        return AIE_ENOTDIR;
    }
    return 0;
}

static int open_stage(void *tool, Cli *c, const AieVideoInfo *in, AiePool *pool, AieStage **out, char *msg,
                      size_t n)
{
    Interp *u = tool;
    char why[256];
    if (aie_interp_plan(&u->p, in, NULL, why, sizeof(why)))
        cli_usage(c, "%s", why);
    /* audio cannot follow slow motion: refuse before any work (and before an
     * output exists) unless told to drop it */
    if (u->p.slowmo.num && !c->no_audio && in->other_streams > 0)
        cli_usage(c, "%s has %s, which cannot follow --slowmo; add --no-audio to drop %s", c->input,
                  in->audio_streams > 0 ? "audio" : "subtitle or data streams", in->other_streams > 1 ? "them" : "it");
    u->in_fps = in->fps;
    u->p.plan_only = !pool;
    u->p.quality = c->metrics_on;
    return aie_interp_stage_open(out, &u->p, in, msg, n);
}

static json_object *rational_json(AieRational r)
{
    char buf[48];
    snprintf(buf, sizeof(buf), "%d/%d", r.num, r.den);
    return json_object_new_string(buf);
}

static void dry_run(void *tool, const Cli *c, const AieStage *s, void *job_json, void *json_opts)
{
    (void)c;
    const Interp *u = tool;
    json_object *p = json_opts, *outs;
    if (u->flow_png && json_object_object_get_ex(job_json, "outputs", &outs))
        json_object_array_add(outs, json_object_new_string(u->flow_png));
    json_object_object_add(p, "method", json_object_new_string(u->p.blend ? "blend" : "mc"));
    json_object_object_add(p, "fps", rational_json(s->out.fps));
    json_object_object_add(p, "input_fps", rational_json(u->in_fps));
    json_object_object_add(p, "factor", u->p.factor.num ? rational_json(u->p.factor) : NULL);
    json_object_object_add(p, "slowmo", u->p.slowmo.num ? rational_json(u->p.slowmo) : NULL);
    json_object_object_add(p, "scene_threshold", json_object_new_double(u->p.scene_threshold));
    json_object_object_add(p, "flow_png", u->flow_png ? json_object_new_string(u->flow_png) : NULL);
}

static int after(void *tool, Cli *c, AieStage *s, int err, char *msg, size_t n)
{
    (void)tool;
    AieInterpInfo info;
    if (aie_interp_stage_info(s, &info))
        return err;
    if (err && info.aux_refused) {
        snprintf(msg, n, "%s has audio (or other streams), which cannot follow --slowmo; add --no-audio to drop it",
                 c->input);
        c->usage_failed = 1;
    }
    if (!err && info.single)
        cli_warn(c, "%s: only one frame, nothing to interpolate: copied it through", c->input);
    if (!err && info.flow_failed)
        cli_warn(c, "--flow-png: %s", info.flow_error);
    if (!err && c->verbose)
        cli_info(c, "%ld cut%s", info.cuts, info.cuts == 1 ? "" : "s");
    return err;
}

/* --preview --compare: the job's settings with the other method */
static const char *const methods[] = {"blend", "mc", NULL};

static int open_method(void *tool, Cli *c, const char *method, const AieVideoInfo *in, AiePool *pool, AieStage **out,
                       char *msg, size_t n)
{
    Interp *u = tool;
    int blend = u->p.blend;
    u->p.blend = !strcmp(method, "blend");
    int err = open_stage(tool, c, in, pool, out, msg, n);
    u->p.blend = blend;
    return err;
}

int main(int argc, char **argv)
{
    static Cli cli;
    static Interp u;
    u.cli = &cli;
    u.p.scene_threshold = AIE_SCENE_THRESHOLD_DEFAULT;
    cli = (Cli){.tool = "aie-interp", .usage_args = "-i INPUT -o OUTPUT", .features = CLI_MEDIA | CLI_PREVIEW,
                .opts = opts, .handle = handle, .tool_ctx = &u,
                .purpose = "Convert the frame rate of video with motion-compensated interpolation."};
    cli_parse(&cli, argc, argv);
    int given = !!u.p.fps.num + !!u.p.factor.num + !!u.p.slowmo.num;
    if (given != 1)
        cli_usage(&cli, given ? "give only one of --fps, --factor and --slowmo"
                              : "give one of --fps, --factor and --slowmo");
    u.p.refuse_aux = u.p.slowmo.num && !cli.no_audio;
    u.p.cpu_flags = cli.cpu_flags;
    u.p.name = cli.input;
    u.p.aux_append = aie_frame_append_aux;
    if (u.budget_fps > 0 && !cli.preview_dir)
        cli_usage(&cli, "--budget-fps goes with --preview");
    if (u.flow_png && cli.preview_dir)
        cli_usage(&cli, "--flow-png goes without --preview");
    if (u.flow_png) {
        u.p.flow_sink = flow_sink;
        u.p.flow_opaque = &u;
    }
    const CliMedia media = {.method = u.p.blend ? "blend" : "mc", .prepare = prepare, .open = open_stage,
                            .dry_run = dry_run, .after = after, .preview_measure = AIE_PREVIEW_MOTION,
                            .methods = methods, .open_method = open_method, .budget_fps = u.budget_fps};
    return cli_run_media(&cli, &media, &u);
}
