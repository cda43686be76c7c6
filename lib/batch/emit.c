/* --emit make and --emit slurm: the same jobs, run by an existing engine.
 * Every task runs `aie-batch --job-index K --expect-jobs SUM JOBFILE`, so
 * timeouts, retries, the cache, metrics and joins behave as in a local run,
 * and a job file edited after the emit is refused rather than misnumbered. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "aie/util.h"
#include "batch_internal.h"

/* An emit request resolved: absolute paths and the flags as text. */
typedef struct Emit {
    char *self, *jobfile, *cwd, *flags;
    char stamp_dir[PATH_MAX + 16], log_dir[PATH_MAX + 16];
    const char *metrics_name, *joblog_name, *job_name;
    int jobs;
    const char *const *slurm_opts;
    int nslurm_opts;
} Emit;

/* A value in a make variable: $ doubles, # is escaped. */
static void make_value(Buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '$')
            aie_buf_puts(b, "$$");
        else if (*s == '#')
            aie_buf_puts(b, "\\#");
        else
            aie_buf_putc(b, *s);
    }
}

/* Can a file name be a make target or prerequisite? */
static int make_safe(const char *s)
{
    if (!*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || strchr("\\=;|", *p))
            return 0;
    return 1;
}

static void make_name(Buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '$')
            aie_buf_puts(b, "$$");
        else if (strchr(" :#%*?[]", *s)) {
            aie_buf_putc(b, '\\');
            aie_buf_putc(b, *s);
        } else
            aie_buf_putc(b, *s);
    }
}

static void shq(Buf *b, const char *s)
{
    char *q = aie_words_shquote(s);
    if (q)
        aie_buf_puts(b, q);
    else
        b->oom = 1;
    free(q);
}

/* Does the job get its output as the target (else a stamp)? */
static int output_target(const AieBatchJob *j)
{
    return j->noutputs == 1 && j->group < 0 && make_safe(j->outputs[0]) &&
           !aie_path_is_pattern(j->outputs[0]) && aie_path_is_regular_output(j->outputs[0]);
}

static void stamp_name(Buf *b, const AieBatchJob *j)
{
    char hex[65];
    aie_sha256_hex(j->cmd, strlen(j->cmd), hex);
    aie_buf_printf(b, "$(STAMPS)/%.16s.done", hex);
}

static int is_target(const AieBatchList *l, const char *path)
{
    for (int i = 0; i < l->n; i++)
        if (output_target(&l->jobs[i]) && !strcmp(l->jobs[i].outputs[0], path))
            return 1;
    return 0;
}

/* The distinct directories of the jobs' declared outputs, in job order. */
typedef struct Dirs {
    char **d;
    int n;
} Dirs;

static void dirs_add(Dirs *ds, const char *dir, int *oom)
{
    for (int i = 0; i < ds->n; i++)
        if (!strcmp(ds->d[i], dir))
            return;
    char **p = realloc(ds->d, (size_t)(ds->n + 1) * sizeof(*p));
    if (!p || !(p[ds->n] = strdup(dir))) {
        if (p)
            ds->d = p;
        *oom = 1;
        return;
    }
    ds->d = p;
    ds->n++;
}

static void dirs_free(Dirs *ds)
{
    for (int i = 0; i < ds->n; i++)
        free(ds->d[i]);
    free(ds->d);
    ds->d = NULL;
    ds->n = 0;
}

static void job_dirs(const AieBatchJob *j, Dirs *ds, int *oom)
{
    for (int k = 0; k < j->noutputs; k++) {
        char d[PATH_MAX];
        if (aie_path_out_dir(j->outputs[k], d, sizeof(d)))
            dirs_add(ds, d, oom);
    }
}

static void emit_make(const AieBatchList *l, const Emit *e, const char *sum, Buf *b)
{
    aie_buf_printf(b, "# Makefile written by aie-batch --emit make: %d job%s from %s.\n", l->n,
                   l->n == 1 ? "" : "s", e->jobfile);
    aie_buf_puts(b, "# Run it in the directory the jobs were written for:\n");
    aie_buf_printf(b, "#   cd %s && make -f THIS_FILE -j 4 -k\n", e->cwd);
    aie_buf_puts(b, "# Each target is a job's declared output (a stamp file for jobs without\n"
                 "# one), with the job's inputs as prerequisites: make runs what is missing\n"
                 "# or older than its inputs, -k keeps going past failures, and a rerun\n"
                 "# resumes. Every recipe runs one job through aie-batch --job-index.\n");
    aie_buf_puts(b, "AIE_BATCH := ");
    Buf t = {0};
    shq(&t, e->self);
    make_value(b, t.s ? t.s : "");
    aie_buf_free(&t);
    aie_buf_puts(b, "\nAIE_BATCH_FLAGS :=");
    if (e->flags && *e->flags) {
        aie_buf_putc(b, ' ');
        make_value(b, e->flags);
    }
    aie_buf_puts(b, "\nJOBFILE := ");
    shq(&t, e->jobfile);
    make_value(b, t.s ? t.s : "");
    aie_buf_free(&t);
    aie_buf_printf(b, "\nJOBS_SUM := %s\nSTAMPS := ", sum);
    make_value(b, e->stamp_dir);
    aie_buf_puts(b, "\nRUN = $(AIE_BATCH) $(AIE_BATCH_FLAGS) --expect-jobs $(JOBS_SUM) --job-index\n\n");
    Dirs all_dirs = {0};
    aie_buf_puts(b, ".DELETE_ON_ERROR:\n.PHONY: all\nall:");
    for (int i = 0; i < l->n; i++) {
        const AieBatchJob *j = &l->jobs[i];
        aie_buf_puts(b, " \\\n    ");
        if (output_target(j))
            make_name(b, j->outputs[0]);
        else
            stamp_name(b, j);
    }
    aie_buf_puts(b, "\n");
    for (int i = 0; i < l->n; i++) {
        const AieBatchJob *j = &l->jobs[i];
        int out = output_target(j);
        aie_buf_printf(b, "\n# job %d: ", j->seq);
        for (const char *p = j->cmd; *p; p++)
            aie_buf_putc(b, *p == '\n' ? ' ' : *p);
        aie_buf_puts(b, "\n");
        if (out)
            make_name(b, j->outputs[0]);
        else
            stamp_name(b, j);
        aie_buf_putc(b, ':');
        /* the inputs that exist or that another job makes */
        char *const *ins = j->inputs;
        int nins = j->ninputs;
        char *gin[2] = {NULL, NULL};
        if (j->group >= 0) {
            gin[0] = l->groups[j->group].source;
            ins = gin;
            nins = 1;
        }
        for (int k = 0; k < nins; k++) {
            struct stat st;
            if (!make_safe(ins[k]) || aie_path_is_pattern(ins[k]))
                continue;
            if ((stat(ins[k], &st) == 0 && S_ISREG(st.st_mode)) || is_target(l, ins[k])) {
                aie_buf_putc(b, ' ');
                make_name(b, ins[k]);
            }
        }
        /* its output directories: order-only, made by the rules below */
        Dirs jd = {0};
        job_dirs(j, &jd, &b->oom);
        int bar = 0;
        for (int k = 0; k < jd.n; k++) {
            if (!make_safe(jd.d[k]) || is_target(l, jd.d[k]))
                continue;
            aie_buf_puts(b, bar++ ? " " : " | ");
            make_name(b, jd.d[k]);
            dirs_add(&all_dirs, jd.d[k], &b->oom);
        }
        dirs_free(&jd);
        aie_buf_puts(b, "\n");
        if (out) {
            aie_buf_printf(b, "\t$(RUN) %d $(JOBFILE)\n", j->seq);
        } else {
            aie_buf_puts(b, "\t@mkdir -p $(STAMPS)\n");
            aie_buf_printf(b, "\t$(RUN) %d $(JOBFILE)\n\t@touch $@\n", j->seq);
        }
    }
    if (all_dirs.n)
        aie_buf_puts(b, "\n# output directories\n");
    for (int k = 0; k < all_dirs.n; k++) {
        make_name(b, all_dirs.d[k]);
        aie_buf_puts(b, ":\n\t@mkdir -p -- ");
        Buf dq = {0};
        shq(&dq, all_dirs.d[k]);
        make_value(b, dq.s ? dq.s : "");
        aie_buf_free(&dq);
        aie_buf_puts(b, "\n");
    }
    dirs_free(&all_dirs);
}

static void emit_slurm(const AieBatchList *l, const Emit *e, const char *sum, Buf *b)
{
    const char *logs = e->log_dir;
    aie_buf_puts(b, "#!/bin/sh\n");
    aie_buf_printf(b, "#SBATCH --job-name=%s\n", e->job_name);
    if (e->jobs > 0 && e->jobs < l->n)
        aie_buf_printf(b, "#SBATCH --array=1-%d%%%d\n", l->n, e->jobs);
    else
        aie_buf_printf(b, "#SBATCH --array=1-%d\n", l->n);
    aie_buf_printf(b, "#SBATCH --output=%s/slurm-%%A_%%a.out\n", logs);
    int own_cpus = 0, threads = 0;
    for (int i = 0; i < e->nslurm_opts; i++) {
        const char *so = e->slurm_opts[i];
        if (!strncmp(so, "--cpus-per-task", 15) || (so[0] == '-' && so[1] == 'c'))
            own_cpus = 1;
    }
    for (int i = 0; i < l->n; i++)
        if (l->jobs[i].threads > threads)
            threads = l->jobs[i].threads;
    if (!own_cpus && threads > 0)
        aie_buf_printf(b, "#SBATCH --cpus-per-task=%d\n", threads);
    for (int i = 0; i < e->nslurm_opts; i++)
        aie_buf_printf(b, "#SBATCH %s\n", e->slurm_opts[i]);
    aie_buf_printf(b, "# Written by aie-batch --emit slurm: %d job%s from %s", l->n, l->n == 1 ? "" : "s",
                   e->jobfile);
    if (e->jobs > 0)
        aie_buf_printf(b, ", at most %d at once", e->jobs);
    aie_buf_puts(b, ".\n# Submit with: sbatch THIS_FILE (sbatch --wait THIS_FILE waits for the end).\n"
                 "# Each array task runs one job; the metrics log and the joblog are\n"
                 "# per host in the log directory (merge them with cat; aie-stats reads\n"
                 "# several logs). A failed task is rerun with: sbatch --array=K THIS_FILE\n");
    aie_buf_puts(b, "set -eu\ncd ");
    shq(b, e->cwd);
    Dirs ds = {0};
    for (int i = 0; i < l->n; i++)
        job_dirs(&l->jobs[i], &ds, &b->oom);
    if (ds.n) {
        aie_buf_puts(b, "\nmkdir -p --");
        for (int k = 0; k < ds.n; k++) {
            aie_buf_putc(b, ' ');
            shq(b, ds.d[k]);
        }
    }
    dirs_free(&ds);
    aie_buf_puts(b, "\nhost=$(hostname -s)\nexec ");
    shq(b, e->self);
    if (e->flags && *e->flags) {
        aie_buf_putc(b, ' ');
        aie_buf_puts(b, e->flags);
    }
    if (e->metrics_name) {
        aie_buf_puts(b, " --metrics ");
        shq(b, logs);
        aie_buf_printf(b, "/%s.\"$host\".jsonl", e->metrics_name);
    }
    if (e->joblog_name) {
        aie_buf_puts(b, " --joblog +");
        shq(b, logs);
        aie_buf_printf(b, "/%s.\"$host\"", e->joblog_name);
    }
    aie_buf_printf(b, " --expect-jobs %s --job-index \"$SLURM_ARRAY_TASK_ID\" ", sum);
    shq(b, e->jobfile);
    aie_buf_puts(b, "\n");
}

static void add_flag(Buf *b, const char *name, const char *value)
{
    if (b->len)
        aie_buf_putc(b, ' ');
    aie_buf_puts(b, name);
    if (value) {
        char *q = aie_batch_quote(value); /* as the job file quotes: plain words stay plain */
        aie_buf_putc(b, ' ');
        aie_buf_puts(b, q ? q : "");
        b->oom |= !q;
        free(q);
    }
}

static void add_num(Buf *b, const char *name, double v)
{
    char num[64];
    snprintf(num, sizeof(num), "%g", v);
    add_flag(b, name, num);
}

static void add_path(Buf *b, const char *name, const char *prefix, const char *path)
{
    char *abs = aie_path_absolute(path);
    char *v = malloc(strlen(prefix) + strlen(abs ? abs : path) + 1);
    if (v) {
        strcpy(v, prefix);
        strcat(v, abs ? abs : path);
        add_flag(b, name, v);
    } else {
        b->oom = 1;
    }
    free(v);
    free(abs);
}

static char *flags_text(const AieBatchFlags *f, int make)
{
    Buf b = {0};
    if (f->shell)
        add_flag(&b, "--shell", NULL);
    if (f->chunks)
        add_num(&b, "--chunks", f->chunks);
    if (f->join)
        add_flag(&b, "--join", NULL);
    if (f->no_snap)
        add_flag(&b, "--no-snap", NULL);
    if (f->timeout_s > 0)
        add_num(&b, "--timeout", f->timeout_s);
    if (f->grace_s != 5)
        add_num(&b, "--grace", f->grace_s);
    if (f->retries != 1)
        add_num(&b, "--retries", f->retries);
    if (f->retry_delay_s != 1)
        add_num(&b, "--retry-delay", f->retry_delay_s);
    if (f->cache_dir)
        add_path(&b, "--cache", "", f->cache_dir);
    if (f->results_dir)
        add_path(&b, "--results", "", f->results_dir);
    if (make && f->metrics)
        add_path(&b, "--metrics", "", f->metrics);
    if (make && f->joblog)
        add_path(&b, "--joblog", "+", f->joblog);
    for (int i = 0; i < f->ntags; i++)
        add_flag(&b, "--tag", f->tags[i]);
    if (f->batch_id)
        add_flag(&b, "--batch-id", f->batch_id);
    add_flag(&b, "--no-progress", NULL);
    if (f->quiet)
        add_flag(&b, "-q", NULL);
    return aie_buf_take(&b);
}

static char *self_path(const char *argv0)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n > 0) {
        buf[n] = 0;
        return strdup(buf);
    }
    return aie_path_absolute(argv0);
}

static int resolve(Emit *r, int kind, const AieBatchEmit *e, char *err, size_t errlen)
{
    static const AieBatchFlags none = {.grace_s = 5, .retries = 1, .retry_delay_s = 1};
    char cwd[PATH_MAX];
    const char *edir = e->emit_dir ? e->emit_dir : ".aie-batch";
    char *edir_abs = aie_path_absolute(edir);
    r->self = self_path(e->argv0);
    r->jobfile = aie_path_absolute(e->jobfile);
    r->cwd = getcwd(cwd, sizeof(cwd)) ? strdup(cwd) : NULL;
    r->flags = flags_text(e->flags ? e->flags : &none, kind == AIE_BATCH_EMIT_MAKE);
    int bad = !r->self || !r->jobfile || !r->cwd || !r->flags || !edir_abs;
    snprintf(r->stamp_dir, sizeof(r->stamp_dir), "%s/stamps", edir);
    snprintf(r->log_dir, sizeof(r->log_dir), "%s/logs", edir_abs ? edir_abs : edir);
    free(edir_abs);
    r->metrics_name = "metrics";
    r->joblog_name = "joblog";
    r->job_name = e->job_name ? e->job_name : "aie-batch";
    r->jobs = e->jobs;
    r->slurm_opts = e->slurm_opts;
    r->nslurm_opts = e->nslurm_opts;
    if (bad)
        return AIE_ENOMEM;
    int en;
    if (kind == AIE_BATCH_EMIT_SLURM && e->create_log_dir && (en = aie_path_mkdirs(r->log_dir))) {
        aie_errf(err, errlen, "%s: %s", r->log_dir, strerror(en));
        return aie_error_from_errno(en);
    }
    return 0;
}

int aie_batch_emit(const AieBatchList *l, int kind, const AieBatchEmit *e, char **out, char *err,
                   size_t errlen)
{
    Buf b = {0};
    char sum[65];
    Emit r = {0};
    *out = NULL;
    if (l->n == 0) {
        aie_errf(err, errlen, "no jobs to emit");
        return AIE_EINVAL;
    }
    if (kind != AIE_BATCH_EMIT_MAKE && kind != AIE_BATCH_EMIT_SLURM) {
        aie_errf(err, errlen, "unknown emitter");
        return AIE_EINVAL;
    }
    int e2 = resolve(&r, kind, e, err, errlen);
    if (!e2) {
        aie_batch_list_sum(l, sum);
        sum[16] = 0;
        if (kind == AIE_BATCH_EMIT_MAKE)
            emit_make(l, &r, sum, &b);
        else
            emit_slurm(l, &r, sum, &b);
        if (!(*out = aie_buf_take(&b)))
            e2 = AIE_ENOMEM;
    }
    free(r.self);
    free(r.jobfile);
    free(r.cwd);
    free(r.flags);
    return e2;
}
