/* aie-batch: run many jobs in parallel, resumably, or hand them to make or
 * Slurm. GNU parallel's option names, meanings and exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aie/batch.h"
#include "aie/error.h"
#include "aie/fs.h"
#include "aie/metrics.h"
#include "aie/preview.h"
#include "aie/thread.h"
#include "aie/util.h"
#include "cli.h"

extern char **environ;

enum {
    EXIT_ERROR = 255, /* aie-batch's own errors and bad usage (GNU parallel) */
    OPT_CMD = 3000,
    OPT_SHELL,
    OPT_LOAD_MAX,
    OPT_TIMEOUT,
    OPT_GRACE,
    OPT_RETRIES,
    OPT_RETRY_DELAY,
    OPT_HALT,
    OPT_JOBLOG,
    OPT_RESUME,
    OPT_RESUME_FAILED,
    OPT_RETRY_FAILED,
    OPT_SKIP_EXISTING,
    OPT_CACHE,
    OPT_RESULTS,
    OPT_CHUNKS,
    OPT_JOIN,
    OPT_NO_SNAP,
    OPT_METRICS,
    OPT_TAG,
    OPT_BATCH_ID,
    OPT_EMIT,
    OPT_EMIT_DIR,
    OPT_JOB_INDEX,
    OPT_EXPECT_JOBS,
    OPT_SLURM_OPT,
    OPT_PREVIEW,
    OPT_PREVIEW_JOBS,
    OPT_PREVIEW_FRAMES,
    OPT_FORCE,
    MAX_SLURM_OPTS = 64,
};

typedef struct Batch {
    Cli *cli;
    AieBatchFlags f; /* what emitted tasks repeat; the rest of the run options beside */
    int jobs;
    const char *tmpl;
    double load_max;
    int halt, halt_fail;
    int joblog_append;
    int resume; /* AIE_BATCH_RESUME, AIE_BATCH_RESUME_FAILED */
    int retry_failed, skip_existing;
    int emit;
    const char *emit_dir;
    int job_index;
    const char *expect;
    const char *slurm_opts[MAX_SLURM_OPTS];
    int nslurm_opts;
    /* run state */
    long long progress_at;
    const AieBatchList *list;
    /* --preview */
    const char *preview_dir;
    int preview_jobs, preview_frames, force;
    const AieBatchExec *ex;
} Batch;

static const CliOpt opts[] = {
    {'j', "jobs", "N", "run at most N jobs at once", "all cores"},
    {OPT_CMD, "cmd", "TEMPLATE", "one job per FILE (or stdin line, or ::: combination): {} {.} {/} {//} {/.} {#} {1} {2}...", NULL},
    {OPT_SHELL, "shell", NULL, "run each command through /bin/sh -c", NULL},
    {OPT_LOAD_MAX, "load-max", "L", "hold new jobs while the 1-minute load average is above L", "off"},
    {OPT_TIMEOUT, "timeout", "S", "stop a job after S seconds: TERM, then KILL after --grace", "none"},
    {OPT_GRACE, "grace", "S", "seconds between TERM and KILL", "5"},
    {OPT_RETRIES, "retries", "N", "run a failing job at most N times in all (0: no limit)", "1"},
    {OPT_RETRY_DELAY, "retry-delay", "S", "wait before the 2nd attempt; doubles each time, max 300", "1"},
    {OPT_HALT, "halt", "WHEN", "on failure: never, soon or now, optionally ,fail=N", "never"},
    {OPT_JOBLOG, "joblog", "FILE", "log each finished job, GNU parallel's format (+FILE appends)", NULL},
    {OPT_RESUME, "resume", NULL, "skip the jobs the joblog has (finished, ok or not)", NULL},
    {OPT_RESUME_FAILED, "resume-failed", NULL, "skip the jobs the joblog has as succeeded", NULL},
    {OPT_RETRY_FAILED, "retry-failed", NULL, "rerun the failed jobs of the joblog (no JOBFILE)", NULL},
    {OPT_SKIP_EXISTING, "skip-existing", NULL, "skip jobs whose -o is not older than their -i", NULL},
    {OPT_CACHE, "cache", "DIR", "content-addressed result cache for aie tool jobs", NULL},
    {OPT_RESULTS, "results", "DIR", "keep each job's output in DIR/SEQ/stdout and stderr", NULL},
    {OPT_CHUNKS, "chunks", "N", "split each aie tool job's video into N frame ranges", NULL},
    {OPT_JOIN, "join", NULL, "with --chunks: concatenate the chunks, then remove them", NULL},
    {OPT_NO_SNAP, "no-snap", NULL, "with --chunks: split evenly, not at the nearest scene cuts", NULL},
    {OPT_METRICS, "metrics", "FILE", "append a job_end record per attempt; jobs get AIE_METRICS", "$AIE_METRICS"},
    {OPT_TAG, "tag", "KEY=VALUE", "tag aie-batch's metrics records, repeatable", NULL},
    {OPT_BATCH_ID, "batch-id", "ID", "batch id for the metrics records", "$AIE_BATCH_ID or random"},
    {OPT_EMIT, "emit", "KIND", "write a Makefile (make) or sbatch script (slurm) to stdout", NULL},
    {OPT_SLURM_OPT, "slurm-opt", "OPT", "with --emit slurm: an #SBATCH option (--time=2:00:00), repeatable", "--cpus-per-task from the jobs' -j"},
    {OPT_EMIT_DIR, "emit-dir", "DIR", "make's stamp files and Slurm's per-host logs", ".aie-batch"},
    {OPT_JOB_INDEX, "job-index", "K", "run job K only (1-based, after --chunks)", NULL},
    {OPT_EXPECT_JOBS, "expect-jobs", "SUM", "refuse a job file other than the one emitted from", NULL},
    {OPT_PREVIEW, "preview", "DIR", "instead of the batch: preview its first jobs (their --preview) in DIR/index.html", NULL},
    {OPT_PREVIEW_JOBS, "preview-jobs", "N", "with --preview: the jobs previewed", "4"},
    {OPT_PREVIEW_FRAMES, "preview-frames", "N", "with --preview: frames sampled per job", "6"},
    {OPT_FORCE, "force", NULL, "with --preview: replace a directory that holds an earlier preview", NULL},
    {0},
};

static int handle(void *ctx, int code, const char *arg)
{
    Batch *b = ctx;
    Cli *c = b->cli;
    switch (code) {
    case 'j': b->jobs = cli_int(c, "--jobs", arg, 1, 100000); return 0;
    case OPT_CMD: b->tmpl = arg; return 0;
    case OPT_SHELL: b->f.shell = 1; return 0;
    case OPT_LOAD_MAX: b->load_max = cli_double(c, "--load-max", arg, 0.01, 1e6); return 0;
    case OPT_TIMEOUT: b->f.timeout_s = cli_double(c, "--timeout", arg, 0.001, 1e9); return 0;
    case OPT_GRACE: b->f.grace_s = cli_double(c, "--grace", arg, 0, 86400); return 0;
    case OPT_RETRIES: b->f.retries = cli_int(c, "--retries", arg, 0, 1000000); return 0;
    case OPT_RETRY_DELAY: b->f.retry_delay_s = cli_double(c, "--retry-delay", arg, 0, 300); return 0;
    case OPT_HALT:
        if (aie_batch_parse_halt(arg, &b->halt, &b->halt_fail))
            cli_usage(c, "--halt: expected never, soon or now, optionally with ,fail=N, not '%s'", arg);
        return 0;
    case OPT_JOBLOG:
        b->joblog_append = arg[0] == '+';
        b->f.joblog = arg + b->joblog_append;
        if (!*b->f.joblog)
            cli_usage(c, "--joblog: no file name");
        return 0;
    case OPT_RESUME:
    case OPT_RESUME_FAILED: {
        int m = code == OPT_RESUME ? AIE_BATCH_RESUME : AIE_BATCH_RESUME_FAILED;
        if (b->resume && b->resume != m)
            cli_usage(c, "--resume and --resume-failed conflict");
        b->resume = m;
        return 0;
    }
    case OPT_RETRY_FAILED: b->retry_failed = 1; return 0;
    case OPT_SKIP_EXISTING: b->skip_existing = 1; return 0;
    case OPT_CACHE: b->f.cache_dir = arg; return 0;
    case OPT_RESULTS: b->f.results_dir = arg; return 0;
    case OPT_CHUNKS: b->f.chunks = cli_int(c, "--chunks", arg, 1, 100000); return 0;
    case OPT_JOIN: b->f.join = 1; return 0;
    case OPT_NO_SNAP: b->f.no_snap = 1; return 0;
    case OPT_METRICS: b->f.metrics = arg; return 0;
    case OPT_TAG: cli_add_tag(c, arg); return 0;
    case OPT_BATCH_ID:
        if (!*arg || strlen(arg) > 128)
            cli_usage(c, "--batch-id: expected 1 to 128 characters");
        b->f.batch_id = arg;
        return 0;
    case OPT_EMIT:
        if (!strcmp(arg, "make"))
            b->emit = AIE_BATCH_EMIT_MAKE;
        else if (!strcmp(arg, "slurm"))
            b->emit = AIE_BATCH_EMIT_SLURM;
        else
            cli_usage(c, "--emit: expected make or slurm, not '%s'", arg);
        return 0;
    case OPT_EMIT_DIR: b->emit_dir = arg; return 0;
    case OPT_SLURM_OPT:
        if (arg[0] != '-' || !arg[1])
            cli_usage(c, "--slurm-opt: expected an sbatch option such as --time=1:00:00, not '%s'", arg);
        for (const unsigned char *p = (const unsigned char *)arg; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                cli_usage(c, "--slurm-opt: control characters are not allowed");
        if (b->nslurm_opts >= MAX_SLURM_OPTS)
            cli_usage(c, "--slurm-opt: at most %d", MAX_SLURM_OPTS);
        b->slurm_opts[b->nslurm_opts++] = arg;
        return 0;
    case OPT_JOB_INDEX: b->job_index = cli_int(c, "--job-index", arg, 1, INT_MAX); return 0;
    case OPT_PREVIEW: b->preview_dir = cli_nonempty(c, "--preview", arg, "a directory"); return 0;
    case OPT_PREVIEW_JOBS: b->preview_jobs = cli_int(c, "--preview-jobs", arg, 1, 1000); return 0;
    case OPT_PREVIEW_FRAMES: b->preview_frames = cli_int(c, "--preview-frames", arg, 1, AIE_PREVIEW_MAX_SAMPLES); return 0;
    case OPT_FORCE: b->force = 1; return 0;
    case OPT_EXPECT_JOBS:
        if (strlen(arg) < 8 || strlen(arg) > 64 || strspn(arg, "0123456789abcdef") != strlen(arg))
            cli_usage(c, "--expect-jobs: expected 8 to 64 hexadecimal digits");
        b->expect = arg;
        return 0;
    }
    return -1;
}

/* ---- output ---- */

static void on_output(void *opaque, const AieBatchJob *job, int out_fd, int64_t out_len, int err_fd,
                      int64_t err_len)
{
    (void)opaque;
    (void)job;
    cli_status_end(0);
    fflush(stdout);
    fflush(stderr);
    if (out_len)
        aie_fs_copy_fd(STDOUT_FILENO, out_fd, out_len);
    if (err_len)
        aie_fs_copy_fd(STDERR_FILENO, err_fd, err_len);
}

static void on_job_end(void *opaque, const AieBatchJob *j, const AieBatchResult *r)
{
    Batch *b = opaque;
    Cli *c = b->cli;
    if (r->not_found) {
        cli_status_end(0);
        cli_error(c, "job %d: %s: %s", j->seq, b->f.shell ? "/bin/sh" : j->argv[0],
                  r->exit_code == 127 ? "command not found" : "cannot execute");
    } else if (r->timed_out) {
        cli_status_end(0);
        cli_warn(c, "job %d timed out after %g s (killed by %s): %s", j->seq, b->f.timeout_s,
                 r->signal == SIGKILL ? "KILL" : "TERM", j->cmd);
    } else if (!r->ok && !r->interrupted && c->verbose) {
        cli_status_end(0);
        if (r->signal)
            cli_info(c, "job %d killed by signal %d (attempt %d): %s", j->seq, r->signal, r->attempt, j->cmd);
        else
            cli_info(c, "job %d failed with exit %d (attempt %d): %s", j->seq, r->exit_code, r->attempt, j->cmd);
    }
    if (!r->final && c->verbose) {
        char of[32] = "";
        if (b->f.retries)
            snprintf(of, sizeof(of), " of %d", b->f.retries);
        cli_info(c, "job %d: retrying (attempt %d%s)", j->seq, r->attempt + 1, of);
    }
    if (r->error) {
        cli_status_end(0);
        cli_error(c, "job %d: %s", j->seq, r->error);
    }
    if (r->joined && c->verbose) {
        cli_status_end(0);
        cli_info(c, "joined %d chunks into %s", j->nchunks, b->list->groups[j->group].output);
    }
    if (c->verbose >= 2 && r->ok)
        cli_info(c, "job %d ok in %lld ms (cache %s): %s", j->seq, (long long)r->runtime_ms, r->cache, j->cmd);
}

static void on_progress(void *opaque, const AieBatchProgress *p)
{
    Batch *b = opaque;
    if (!b->cli->progress)
        return;
    int last = p->done == p->total && p->running == 0;
    char eta[32], pct[32] = "";
    cli_eta(eta, sizeof(eta), last ? -1 : p->eta_s);
    if (p->total > 0)
        snprintf(pct, sizeof(pct), " (%.1f%%)", 100.0 * p->done / p->total);
    cli_status(&b->progress_at, 100000, last, "jobs %d/%d%s  running %d  failed %d  %.1f jobs/s%s", p->done,
               p->total, pct, p->running, p->failed, p->jobs_per_s, eta);
}

static void warn_cb(void *opaque, const char *msg)
{
    Batch *b = opaque;
    cli_warn(b->cli, "%s", msg);
}

/* ---- inputs ---- */

/* Read a job file or standard input; exit 128+signal when a signal came. */
static int read_file(Cli *c, const char *name, char **text, size_t *len)
{
    char msg[PATH_MAX + 64] = "";
    int e = aie_batch_read_input(name, &c->cancel, c->wake_fd, text, len, msg, sizeof(msg));
    if (e == AIE_ECANCELLED)
        exit(128 + cli_signal(c));
    if (e)
        cli_error(c, "%s", msg[0] ? msg : aie_strerror(e));
    return e ? -1 : 0;
}

/* ---- --preview: each of the first jobs run with --preview DIR/jobNN ---- */

static int preview_job(void *opaque, int k, const char *dir, char *err, size_t errlen)
{
    Batch *b = opaque;
    const AieBatchJob *j = &b->list->jobs[k];
    const char *name = j->argv && j->argv[0] ? strrchr(j->argv[0], '/') : NULL;
    name = name ? name + 1 : j->argv && j->argv[0] ? j->argv[0] : "";
    if ((b->f.shell && !j->simple) ||
        (strcmp(name, "aie-upscale") && strcmp(name, "aie-interp") && strcmp(name, "aie-style"))) {
        snprintf(err, errlen, "not an aie-upscale, aie-interp or aie-style job");
        return 1;
    }
    char **argv = calloc((size_t)j->argc + 8, sizeof(*argv)), frames[16];
    if (!argv) {
        snprintf(err, errlen, "%s", aie_strerror(AIE_ENOMEM));
        return 1;
    }
    int n = 0;
    for (int i = 0; i < j->argc; i++)
        argv[n++] = j->argv[i];
    argv[n++] = "--preview";
    argv[n++] = (char *)dir;
    argv[n++] = "-q";
    if (b->preview_frames) {
        snprintf(frames, sizeof(frames), "%d", b->preview_frames);
        argv[n++] = "--preview-frames";
        argv[n++] = frames;
    }
    int rc = aie_batch_exec(b->ex, argv, err, errlen);
    free(argv);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", j->argv[0], aie_strerror(rc));
    if (rc && !err[0])
        snprintf(err, errlen, "exit status %d", rc);
    return rc < 0 ? 1 : rc;
}

static void preview_note(void *opaque, const char *msg)
{
    Batch *b = opaque;
    cli_info(b->cli, "%s", msg);
}

static int run_preview(Batch *b, Cli *c)
{
    const AieBatchList *list = b->list;
    int n = b->preview_jobs ? b->preview_jobs : 4;
    n = n > list->n ? list->n : n;
    const char **cmds = calloc((size_t)n + 1, sizeof(*cmds));
    if (!cmds)
        return EXIT_ERROR;
    for (int i = 0; i < n; i++)
        cmds[i] = list->jobs[i].cmd;
    AiePreviewBatchParams pp = {.dir = b->preview_dir, .force = b->force, .cmds = cmds, .npreview = n,
                                .njobs = list->n, .run = preview_job, .opaque = b, .cancel = &c->cancel,
                                .note = preview_note, .note_opaque = b};
    char msg[AIE_ERRBUF_SIZE] = "";
    int failed = 0, e = aie_preview_batch(&pp, &failed, msg, sizeof(msg));
    free(cmds);
    if (e == AIE_ECANCELLED)
        return 128 + (cli_signal(c) ? cli_signal(c) : SIGINT);
    if (e) {
        cli_error(c, "%s", msg[0] ? msg : aie_strerror(e));
        return EXIT_ERROR;
    }
    return failed <= 100 ? failed : 101;
}

int main(int argc, char **argv)
{
    static Cli cli;
    Batch b = {.cli = &cli, .f = {.grace_s = 5, .retries = 1, .retry_delay_s = 1}};
    cli.tool = "aie-batch";
    cli.purpose = "Run many commands in parallel, resumably; or write them out for make or Slurm.";
    cli.usage_args = "JOBFILE | --cmd TEMPLATE [FILE...] | [COMMAND...] ::: ARG... [::: ARG...]";
    cli.features = CLI_PROGRESS | CLI_DRYRUN;
    cli.usage_exit = EXIT_ERROR;
    cli.opts = opts;
    cli.handle = handle;
    cli.tool_ctx = &b;
    /* GNU parallel's form: [OPTIONS] [COMMAND...] ::: ARGS... : the options
     * end at the command, whose own options are not ours */
    int sep = 1;
    while (sep < argc && !aie_batch_separator(argv[sep]))
        sep++;
    cli.stop_at_operand = sep < argc;
    cli_parse(&cli, sep, argv);
    /* cli_parse applied AIE_METRICS to its own field */
    if (!b.f.metrics)
        b.f.metrics = cli.metrics_path;
    if (cli.json && !cli.dry_run)
        cli_usage(&cli, "--json goes with --dry-run");

    int npos = sep - optind, rc = EXIT_ERROR, e = 0;
    char **pos = argv + optind;
    static AieBatchSources srcs;
    char *cmd_words = NULL;
    const char **combined = NULL;
    char msg[AIE_ERRBUF_SIZE * 2] = "", id[33];
    char *text = NULL, *script = NULL;
    const char **args = NULL;
    AieBatchList *list = NULL;
    unsigned char *skip = NULL;
    AieBatchJoblog *joblog = NULL;
    AieMetrics *metrics = NULL;
    AieBatchLog log = {0};

    if ((b.f.join || b.f.no_snap) && !b.f.chunks)
        cli_usage(&cli, "--%s goes with --chunks", b.f.join ? "join" : "no-snap");
    if ((b.resume || b.retry_failed) && !b.f.joblog)
        cli_usage(&cli, "--%s needs --joblog", b.retry_failed ? "retry-failed" : b.resume == AIE_BATCH_RESUME ? "resume" : "resume-failed");
    if (b.retry_failed && (b.resume || b.tmpl))
        cli_usage(&cli, "--retry-failed takes its jobs from the joblog: no --resume, --resume-failed or --cmd");
    if (b.emit && (cli.dry_run || b.job_index))
        cli_usage(&cli, "--emit conflicts with --dry-run and --job-index");
    if (b.nslurm_opts && b.emit != AIE_BATCH_EMIT_SLURM)
        cli_usage(&cli, "--slurm-opt goes with --emit slurm");
    if ((b.preview_jobs || b.preview_frames || b.force) && !b.preview_dir)
        cli_usage(&cli, "--preview-jobs, --preview-frames and --force go with --preview DIR");
    if (b.preview_dir && (b.emit || cli.dry_run || b.retry_failed || b.f.chunks))
        cli_usage(&cli, "--preview conflicts with --emit, --dry-run, --retry-failed and --chunks");
    if (sep < argc) {
        if (b.retry_failed || b.emit)
            cli_usage(&cli, "::: gives the jobs' arguments: no --%s", b.emit ? "emit (write a job file with --dry-run first)" : "retry-failed");
        if (npos && b.tmpl)
            cli_usage(&cli, "give the command once: --cmd TEMPLATE or the words before %s", argv[sep]);
        if (!npos && !b.tmpl)
            cli_usage(&cli, "no command before %s (give it as words, or with --cmd)", argv[sep]);
        if ((e = aie_batch_sources_read(&srcs, argv + sep, argc - sep, &cli.cancel, cli.wake_fd, msg,
                                        sizeof(msg)))) {
            if (e == AIE_ECANCELLED)
                exit(128 + cli_signal(&cli));
            if (e == AIE_EINVAL)
                cli_usage(&cli, "%s", msg);
            goto fail;
        }
        if (npos) {
            /* the words make one command line, as parallel joins them */
            size_t len = 1;
            for (int i = 0; i < npos; i++)
                len += strlen(pos[i]) + 1;
            if (!(cmd_words = malloc(len))) {
                e = AIE_ENOMEM;
                goto fail;
            }
            char *p = cmd_words;
            for (int i = 0; i < npos; i++)
                p += sprintf(p, "%s%s", i ? " " : "", pos[i]);
            b.tmpl = cmd_words;
            npos = 0;
        }
    }
    if (b.emit && (b.tmpl || b.retry_failed || (npos == 1 && !strcmp(pos[0], "-"))))
        cli_usage(&cli, "--emit needs a job file (write one with --dry-run > jobs.txt)");
    if (!b.tmpl && !b.retry_failed && npos != 1)
        cli_usage(&cli, npos ? "one JOBFILE, or --cmd TEMPLATE FILE..." : "no jobs: give a JOBFILE (- for stdin) or --cmd TEMPLATE");
    if (b.retry_failed && npos && cli.verbose)
        cli_info(&cli, "--retry-failed: the jobs come from %s; %s is not read", b.f.joblog, pos[0]);

    if (!b.f.batch_id) {
        const char *env = getenv("AIE_BATCH_ID");
        if (env && *env && strlen(env) <= 128) {
            b.f.batch_id = env;
        } else {
            aie_random_hex(id, 16);
            b.f.batch_id = id;
        }
    }
    if (!b.jobs)
        b.jobs = aie_cpu_count();
    cli_signals_jobs(&cli);

    const char *tmpdir = getenv("TMPDIR");
    AieBatchExec ex = {.path = getenv("PATH"), .env = (const char *const *)environ,
                       .tmpdir = tmpdir && *tmpdir ? tmpdir : "/tmp"};

    /* ---- the jobs ---- */
    if ((e = aie_batch_list_create(&list, b.f.shell)))
        goto fail;
    if (b.retry_failed) {
        if ((e = aie_batch_joblog_read(b.f.joblog, &log, msg, sizeof(msg))) ||
            (e = aie_batch_retry_list(list, &log, msg, sizeof(msg))))
            goto fail;
    } else if (srcs.n) {
        int njobs;
        if ((e = aie_batch_combine(srcs.src, srcs.n, &combined, &njobs, msg, sizeof(msg))) ||
            (e = aie_batch_template_n(list, b.tmpl, combined, srcs.n, njobs, msg, sizeof(msg))))
            goto fail;
    } else if (b.tmpl) {
        int nargs = npos;
        if (npos) {
            args = calloc((size_t)npos + 1, sizeof(*args));
            if (!args) {
                e = AIE_ENOMEM;
                goto fail;
            }
            for (int i = 0; i < npos; i++)
                args[i] = pos[i];
        } else {
            size_t len = 0;
            if (read_file(&cli, "-", &text, &len) < 0)
                goto fail;
            if ((e = aie_batch_lines(text, len, &args, &nargs)))
                goto fail;
        }
        if ((e = aie_batch_template(list, b.tmpl, args, nargs, msg, sizeof(msg))))
            goto fail;
    } else {
        size_t len;
        if (read_file(&cli, pos[0], &text, &len) < 0)
            goto fail;
        if ((e = aie_batch_parse(list, text, len, strcmp(pos[0], "-") ? pos[0] : "stdin", msg, sizeof(msg))))
            goto fail;
    }
    b.list = list;
    if ((e = aie_batch_check_outputs(list, msg, sizeof(msg)))) {
        size_t at = strlen(msg);
        snprintf(msg + at, sizeof(msg) - at, "; nothing was started");
        goto fail;
    }
    if (b.preview_dir) {
        b.ex = &ex;
        rc = run_preview(&b, &cli);
        goto fail;
    }
    if (b.f.chunks > 1 && (e = aie_batch_chunk(list, b.f.chunks, b.f.join, !b.f.no_snap, &ex, b.jobs, warn_cb, &b,
                                             msg, sizeof(msg))))
        goto fail;
    if (b.expect) {
        char sum[65];
        aie_batch_list_sum(list, sum);
        if (strncmp(sum, b.expect, strlen(b.expect))) {
            cli_error(&cli, "the jobs are not the ones this script was written for (job file "
                      "changed?): write it again with --emit");
            goto fail;
        }
    }
    if (b.job_index > list->n) {
        cli_error(&cli, "--job-index %d: there %s %d job%s", b.job_index, list->n == 1 ? "is" : "are",
                  list->n, list->n == 1 ? "" : "s");
        goto fail;
    }

    /* ---- emit ---- */
    if (b.emit) {
        b.f.tags = cli.tags;
        b.f.ntags = cli.ntags;
        b.f.quiet = cli.quiet;
        AieBatchEmit em = {.argv0 = argv[0], .jobfile = pos[0], .emit_dir = b.emit_dir, .flags = &b.f,
                           .jobs = b.jobs, .slurm_opts = b.slurm_opts, .nslurm_opts = b.nslurm_opts,
                           .create_log_dir = 1};
        if ((e = aie_batch_emit(list, b.emit, &em, &script, msg, sizeof(msg))))
            goto fail;
        fputs(script, stdout);
        rc = fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_ERROR;
        if (rc)
            cli_error(&cli, "standard output: %s", strerror(errno));
        goto fail;
    }

    /* ---- what to skip ---- */
    if (!(skip = calloc((size_t)list->n + 1, 1))) {
        e = AIE_ENOMEM;
        goto fail;
    }
    if (b.job_index)
        for (int i = 0; i < list->n; i++)
            skip[i] = i + 1 != b.job_index;
    if (b.resume) {
        if ((e = aie_batch_joblog_read(b.f.joblog, &log, msg, sizeof(msg))))
            goto fail;
        int n = aie_batch_resume(list, &log, b.resume, skip);
        if (n < 0) {
            e = n;
            goto fail;
        }
        if (cli.verbose)
            cli_info(&cli, "resuming: %d job%s done before", n, n == 1 ? "" : "s");
    }
    if (b.skip_existing) {
        int n = aie_batch_skip_existing(list, skip);
        if (cli.verbose)
            cli_info(&cli, "--skip-existing: %d job%s up to date", n, n == 1 ? "" : "s");
    }
    if (cli.dry_run) {
        if (b.f.cache_dir && (e = aie_batch_cache_keys(list, skip, &ex, b.jobs, msg, sizeof(msg))))
            goto fail;
        char *j = NULL;
        for (int i = 0; i < list->n && !cli.json; i++)
            if (!skip[i])
                printf("%s\n", list->jobs[i].cmd);
        if (cli.json && !(j = aie_batch_list_json(list, skip))) {
            e = AIE_ENOMEM;
            goto fail;
        }
        if (j)
            printf("%s\n", j);
        free(j);
        rc = EXIT_OK;
        goto fail;
    }
    if (b.f.cache_dir && (e = aie_batch_cache_keys(list, skip, &ex, b.jobs, msg, sizeof(msg))))
        goto fail;

    /* ---- logs ---- */
    if (b.f.joblog) {
        int append = b.joblog_append || b.resume || b.retry_failed || b.job_index;
        if ((e = aie_batch_joblog_open(&joblog, b.f.joblog, append, msg, sizeof(msg))))
            goto fail;
    }
    char *metrics_abs = NULL;
    if (b.f.metrics) {
        AieMetricsConfig mc = {.path = b.f.metrics, .tool = "aie-batch", .version = AIE_VERSION,
                               .tags = cli.tags, .ntags = cli.ntags, .batch_id = b.f.batch_id};
        char merr[AIE_ERRBUF_SIZE] = "";
        if (aie_metrics_open(&metrics, &mc, merr, sizeof(merr)) < 0)
            cli_warn(&cli, "metrics: %s", *merr ? merr : "cannot start the log");
        metrics_abs = aie_path_absolute(b.f.metrics);
    }

    /* ---- run ---- */
    AieBatchOpts o = {
        .jobs = b.jobs, .load_max = b.load_max, .timeout_s = b.f.timeout_s, .grace_s = b.f.grace_s,
        .retries = b.f.retries, .retry_delay_s = b.f.retry_delay_s, .halt = b.halt,
        .halt_fail = b.halt_fail, .skip = skip, .exec = ex, .results_dir = b.f.results_dir,
        .cache_dir = b.f.cache_dir, .join = b.f.join, .joblog = joblog, .metrics = metrics,
        .metrics_path = metrics_abs, .batch_id = b.f.batch_id, .cancel = &cli.cancel,
        .kill_now = &cli.kill_now, .wake_fd = cli.wake_fd, .opaque = &b, .output = on_output,
        .job_end = on_job_end, .progress = on_progress,
    };
    AieBatchSummary sum;
    cli_signals_running(&cli);
    e = aie_batch_run(list, &o, &sum, msg, sizeof(msg));
    cli_status_end(1); /* keep the last progress line */
    free(metrics_abs);
    int failures = sum.failed + sum.join_failures;
    if (cli.verbose || (e && e != AIE_ECANCELLED))
        cli_info(&cli, "%d ok, %d failed, %d skipped, %d interrupted, %d not started; cache: %d hit%s, "
                 "%d miss%s", sum.ok, failures, sum.skipped, sum.interrupted, sum.not_run,
                 sum.cache_hits, sum.cache_hits == 1 ? "" : "s", sum.cache_misses,
                 sum.cache_misses == 1 ? "" : "es");
    if (e == AIE_ECANCELLED) {
        int s = cli_signal(&cli);
        rc = 128 + (s ? s : SIGINT);
        if (!cli.quiet)
            cli_info(&cli, "stopped by signal %d: %d job%s interrupted, %d not started", s,
                     sum.interrupted, sum.interrupted == 1 ? "" : "s", sum.not_run);
        e = 0;
        goto fail;
    }
    if (e)
        goto fail;
    rc = failures == 0 ? 0 : failures <= 100 ? failures : 101;
fail:
    if (e) {
        cli_error(&cli, "%s", msg[0] ? msg : aie_strerror(e));
        rc = EXIT_ERROR;
    }
    cli_metrics_close(&cli, &metrics);
    aie_batch_joblog_close(&joblog);
    aie_batch_joblog_clear(&log);
    aie_batch_list_free(&list);
    free(skip);
    free(args);
    free(text);
    free(combined);
    free(cmd_words);
    aie_batch_sources_free(&srcs);
    free(script);
    fflush(stdout);
    return rc;
}
