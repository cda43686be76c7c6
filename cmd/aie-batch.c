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
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aie/batch.h"
#include "aie/error.h"
#include "aie/metrics.h"
#include "aie/thread.h"
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
    MAX_SLURM_OPTS = 64,
};

typedef struct Batch {
    Cli *cli;
    int jobs;
    const char *tmpl;
    int shell;
    double load_max, timeout, grace, retry_delay;
    int retries;
    int halt, halt_fail;
    const char *halt_arg;
    const char *joblog;
    int joblog_append;
    int resume; /* AIE_BATCH_RESUME, AIE_BATCH_RESUME_FAILED */
    int retry_failed, skip_existing;
    const char *cache, *results;
    int chunks, join, no_snap;
    const char *metrics;
    const char *batch_id;
    int emit;
    const char *emit_dir;
    int job_index;
    const char *expect;
    const char *slurm_opts[MAX_SLURM_OPTS];
    int nslurm_opts;
    /* run state */
    int progress_shown;
    long long progress_at;
    const AieBatchList *list;
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
    {0},
};

static int parse_halt(Batch *b, const char *arg)
{
    char when[16];
    const char *comma = strchr(arg, ',');
    size_t n = comma ? (size_t)(comma - arg) : strlen(arg);
    if (n >= sizeof(when))
        return -1;
    memcpy(when, arg, n);
    when[n] = 0;
    b->halt_fail = 1;
    if (!strcmp(when, "never") || !strcmp(when, "0"))
        b->halt = AIE_BATCH_HALT_NEVER;
    else if (!strcmp(when, "soon") || !strcmp(when, "1"))
        b->halt = AIE_BATCH_HALT_SOON;
    else if (!strcmp(when, "now") || !strcmp(when, "2"))
        b->halt = AIE_BATCH_HALT_NOW;
    else
        return -1;
    if (comma) {
        char *end;
        if (strncmp(comma + 1, "fail=", 5))
            return -1;
        long v = strtol(comma + 6, &end, 10);
        if (end == comma + 6 || *end || v < 1 || v > 1000000000)
            return -1;
        b->halt_fail = (int)v;
    }
    return 0;
}

static int handle(void *ctx, int code, const char *arg)
{
    Batch *b = ctx;
    Cli *c = b->cli;
    switch (code) {
    case 'j': b->jobs = cli_int(c, "--jobs", arg, 1, 100000); return 0;
    case OPT_CMD: b->tmpl = arg; return 0;
    case OPT_SHELL: b->shell = 1; return 0;
    case OPT_LOAD_MAX: b->load_max = cli_double(c, "--load-max", arg, 0.01, 1e6); return 0;
    case OPT_TIMEOUT: b->timeout = cli_double(c, "--timeout", arg, 0.001, 1e9); return 0;
    case OPT_GRACE: b->grace = cli_double(c, "--grace", arg, 0, 86400); return 0;
    case OPT_RETRIES: b->retries = cli_int(c, "--retries", arg, 0, 1000000); return 0;
    case OPT_RETRY_DELAY: b->retry_delay = cli_double(c, "--retry-delay", arg, 0, 300); return 0;
    case OPT_HALT:
        if (parse_halt(b, arg) < 0)
            cli_usage(c, "--halt: expected never, soon or now, optionally with ,fail=N, not '%s'", arg);
        b->halt_arg = arg;
        return 0;
    case OPT_JOBLOG:
        b->joblog_append = arg[0] == '+';
        b->joblog = arg + b->joblog_append;
        if (!*b->joblog)
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
    case OPT_CACHE: b->cache = arg; return 0;
    case OPT_RESULTS: b->results = arg; return 0;
    case OPT_CHUNKS: b->chunks = cli_int(c, "--chunks", arg, 1, 100000); return 0;
    case OPT_JOIN: b->join = 1; return 0;
    case OPT_NO_SNAP: b->no_snap = 1; return 0;
    case OPT_METRICS: b->metrics = arg; return 0;
    case OPT_TAG:
        if (!strchr(arg, '=') || arg[0] == '=')
            cli_usage(c, "--tag: expected KEY=VALUE, not '%s'", arg);
        if (c->ntags >= (int)(sizeof(c->tags) / sizeof(c->tags[0])))
            cli_usage(c, "--tag: too many tags");
        c->tags[c->ntags++] = arg;
        return 0;
    case OPT_BATCH_ID:
        if (!*arg || strlen(arg) > 128)
            cli_usage(c, "--batch-id: expected 1 to 128 characters");
        b->batch_id = arg;
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
    case OPT_EXPECT_JOBS:
        if (strlen(arg) < 8 || strlen(arg) > 64 || strspn(arg, "0123456789abcdef") != strlen(arg))
            cli_usage(c, "--expect-jobs: expected 8 to 64 hexadecimal digits");
        b->expect = arg;
        return 0;
    }
    return -1;
}

/* ---- signals: a thread waits for them; the scheduler is told through the
 * cancel tokens and a pipe that wakes its poll ---- */

typedef struct Sig {
    sigset_t set;
    AieCancel cancel, kill_now;
    int wake[2];
    atomic_int signo;
    atomic_int running; /* the scheduler is running (else a 2nd signal exits) */
} Sig;

static Sig sig;

static void *signal_main(void *arg)
{
    (void)arg;
    int s, n = 0;
    while (sigwait(&sig.set, &s) == 0) {
        n++;
        if (n == 1) {
            atomic_store(&sig.signo, s);
            aie_cancel_request(&sig.cancel, s);
        } else {
            if (!atomic_load(&sig.running))
                _exit(128 + atomic_load(&sig.signo));
            aie_cancel_request(&sig.kill_now, s);
        }
        ssize_t w = write(sig.wake[1], "x", 1);
        (void)w;
    }
    return NULL;
}

static void signals_start(void)
{
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sig.set);
    sigaddset(&sig.set, SIGINT);
    sigaddset(&sig.set, SIGTERM);
    sigaddset(&sig.set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sig.set, NULL);
    if (pipe2(sig.wake, O_CLOEXEC | O_NONBLOCK) < 0)
        sig.wake[0] = sig.wake[1] = -1;
    pthread_t t;
    if (pthread_create(&t, NULL, signal_main, NULL) == 0)
        pthread_detach(t);
}

/* ---- output ---- */

static void progress_clear(Batch *b)
{
    if (b->progress_shown) {
        fputs("\r\033[K", stderr);
        b->progress_shown = 0;
    }
}

static void copy_to(int to, int from, int64_t len)
{
    while (len > 0) {
        ssize_t n = sendfile(to, from, NULL, len > (1 << 30) ? (1 << 30) : (size_t)len);
        if (n > 0) {
            len -= n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || errno == EPIPE)
            return;
        break; /* sendfile cannot write there: copy */
    }
    char buf[65536];
    while (len > 0) {
        ssize_t n = read(from, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        for (ssize_t o = 0; o < n;) {
            ssize_t w = write(to, buf + o, (size_t)(n - o));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return;
            o += w;
        }
        len -= n;
    }
}

static void on_output(void *opaque, const AieBatchJob *job, int out_fd, int64_t out_len, int err_fd,
                      int64_t err_len)
{
    Batch *b = opaque;
    (void)job;
    progress_clear(b);
    fflush(stdout);
    fflush(stderr);
    if (out_len)
        copy_to(STDOUT_FILENO, out_fd, out_len);
    if (err_len)
        copy_to(STDERR_FILENO, err_fd, err_len);
}

static void on_job_end(void *opaque, const AieBatchJob *j, const AieBatchResult *r)
{
    Batch *b = opaque;
    Cli *c = b->cli;
    if (r->not_found) {
        progress_clear(b);
        cli_error(c, "job %d: %s: %s", j->seq, b->shell ? "/bin/sh" : j->argv[0],
                  r->exit_code == 127 ? "command not found" : "cannot execute");
    } else if (r->timed_out) {
        progress_clear(b);
        cli_warn(c, "job %d timed out after %g s (killed by %s): %s", j->seq, b->timeout,
                 r->signal == SIGKILL ? "KILL" : "TERM", j->cmd);
    } else if (!r->ok && !r->interrupted && c->verbose) {
        progress_clear(b);
        if (r->signal)
            cli_info(c, "job %d killed by signal %d (attempt %d): %s", j->seq, r->signal, r->attempt, j->cmd);
        else
            cli_info(c, "job %d failed with exit %d (attempt %d): %s", j->seq, r->exit_code, r->attempt, j->cmd);
    }
    if (!r->final && c->verbose) {
        char of[32] = "";
        if (b->retries)
            snprintf(of, sizeof(of), " of %d", b->retries);
        cli_info(c, "job %d: retrying (attempt %d%s)", j->seq, r->attempt + 1, of);
    }
    if (r->error) {
        progress_clear(b);
        cli_error(c, "job %d: %s", j->seq, r->error);
    }
    if (r->joined && c->verbose) {
        progress_clear(b);
        cli_info(c, "joined %d chunks into %s", j->nchunks, b->list->groups[j->group].output);
    }
    if (c->verbose >= 2 && r->ok)
        cli_info(c, "job %d ok in %lld ms (cache %s): %s", j->seq, (long long)r->runtime_ms, r->cache, j->cmd);
}

static void on_progress(void *opaque, const AieBatchProgress *p)
{
    Batch *b = opaque;
    Cli *c = b->cli;
    if (!c->progress)
        return;
    int tty = isatty(STDERR_FILENO);
    long long now = aie_time_us();
    int last = p->done == p->total && p->running == 0;
    if (!last && now - b->progress_at < (tty ? 100000 : 5000000))
        return;
    b->progress_at = now;
    char eta[32] = "", pct[32] = "";
    if (p->eta_s >= 0 && !last) {
        long s = lround(p->eta_s);
        snprintf(eta, sizeof(eta), "  eta %ld:%02ld", s / 60, s % 60);
    }
    if (p->total > 0)
        snprintf(pct, sizeof(pct), " (%.1f%%)", 100.0 * p->done / p->total);
    fprintf(stderr, "%sjobs %d/%d%s  running %d  failed %d  %.1f jobs/s%s%s", tty ? "\r" : "", p->done,
            p->total, pct, p->running, p->failed, p->jobs_per_s, eta, tty ? "\033[K" : "\n");
    b->progress_shown = tty;
}

static void warn_cb(void *opaque, const char *msg)
{
    Batch *b = opaque;
    cli_warn(b->cli, "%s", msg);
}

/* ---- inputs ---- */

/* Job files are read in chunks, bounded (a line of at most
 * AIE_BATCH_MAX_LINE bytes, at most AIE_BATCH_MAX_JOBS lines that start a
 * command), and stay interruptible: the read waits on the file and on the
 * signal thread's wake pipe. Returns 0, an errno value, or -1 with why set. */
static int read_all(int fd, const char *name, char **out, size_t *len, char *why, size_t whylen)
{
    size_t cap = 65536, n = 0, line_start = 0, lines = 0, jobs = 0;
    int line_has = 0, cont = 0, e = 0;
    char *buf = malloc(cap);
    if (!buf)
        return ENOMEM;
    for (;;) {
        if (atomic_load(&sig.signo)) {
            e = EINTR;
            goto fail;
        }
        if (n + 65536 + 1 > cap) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                e = ENOMEM;
                goto fail;
            }
            buf = p;
            cap *= 2;
        }
        struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = sig.wake[0], .events = POLLIN}};
        if (poll(pfd, sig.wake[0] >= 0 ? 2 : 1, -1) < 0 && errno != EINTR) {
            e = errno;
            goto fail;
        }
        if (atomic_load(&sig.signo)) {
            e = EINTR;
            goto fail;
        }
        if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t r = read(fd, buf + n, 65536);
        if (r < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (r < 0) {
            e = errno;
            goto fail;
        }
        if (r == 0)
            break;
        for (size_t i = n; i < n + (size_t)r; i++) {
            char ch = buf[i];
            if (ch == '\n') {
                lines++;
                if (line_has > 0 && !cont)
                    jobs++;
                cont = i > line_start && buf[i - 1] == '\\';
                line_start = i + 1;
                line_has = 0;
                if (jobs > AIE_BATCH_MAX_JOBS) {
                    snprintf(why, whylen, "%s: more than %d jobs", name, AIE_BATCH_MAX_JOBS);
                    e = -1;
                    goto fail;
                }
            } else if (!line_has && ch != ' ' && ch != '\t' && ch != '\r') {
                line_has = ch == '#' && !cont ? -1 : 1; /* -1: a comment line */
            }
            if (ch != '\n' && i - line_start >= AIE_BATCH_MAX_LINE) {
                snprintf(why, whylen, "%s:%zu: a line over %d MiB", name, lines + 1,
                         AIE_BATCH_MAX_LINE >> 20);
                e = -1;
                goto fail;
            }
        }
        n += (size_t)r;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    return e;
}

static int read_file(Cli *c, const char *name, char **text, size_t *len)
{
    int std = !strcmp(name, "-");
    const char *shown = std ? "standard input" : name;
    int fd = std ? STDIN_FILENO : open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    char why[PATH_MAX + 64] = "";
    int e = fd < 0 ? errno : 0;
    if (!e && fstat(fd, &st) != 0)
        e = errno;
    if (!e && S_ISDIR(st.st_mode))
        e = EISDIR;
    if (!e && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        snprintf(why, sizeof(why), "%s: not a regular file or a pipe", shown);
        e = -1;
    }
    if (!e)
        e = read_all(fd, shown, text, len, why, sizeof(why));
    if (fd > STDIN_FILENO)
        close(fd);
    if (e == EINTR) {
        int s = atomic_load(&sig.signo);
        exit(128 + (s ? s : SIGINT));
    }
    if (e) {
        if (e > 0)
            cli_error(c, "%s: %s", shown, strerror(e));
        else
            cli_error(c, "%s", why);
        return -1;
    }
    return 0;
}

static void random_id(char out[33])
{
    unsigned char r[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, r, sizeof(r)) : -1;
    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof(r)) {
        unsigned long long x = (unsigned long long)aie_time_us() ^ ((unsigned long long)getpid() << 32);
        for (int i = 0; i < 16; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
            r[i] = (unsigned char)(x >> 56);
    }
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static char *absolute(const char *p)
{
    if (p[0] == '/')
        return strdup(p);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        return strdup(p);
    size_t n = strlen(cwd) + strlen(p) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", cwd, p);
    return s;
}

static void add_flag(char *buf, size_t n, const char *name, const char *value)
{
    size_t at = strlen(buf);
    if (!value) {
        snprintf(buf + at, n - at, "%s%s", at ? " " : "", name);
        return;
    }
    char *q = aie_batch_quote(value);
    snprintf(buf + at, n - at, "%s%s %s", at ? " " : "", name, q ? q : value);
    free(q);
}

static char *self_path(const char *argv0)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n > 0) {
        buf[n] = 0;
        return strdup(buf);
    }
    return absolute(argv0);
}

/* The options every emitted task repeats. */
static void emit_flags(const Batch *b, char *flags, size_t n, int make)
{
    char num[64], *abs = NULL;
    flags[0] = 0;
    if (b->shell)
        add_flag(flags, n, "--shell", NULL);
    if (b->chunks) {
        snprintf(num, sizeof(num), "%d", b->chunks);
        add_flag(flags, n, "--chunks", num);
    }
    if (b->join)
        add_flag(flags, n, "--join", NULL);
    if (b->no_snap)
        add_flag(flags, n, "--no-snap", NULL);
    if (b->timeout > 0) {
        snprintf(num, sizeof(num), "%g", b->timeout);
        add_flag(flags, n, "--timeout", num);
    }
    if (b->grace != 5) {
        snprintf(num, sizeof(num), "%g", b->grace);
        add_flag(flags, n, "--grace", num);
    }
    if (b->retries != 1) {
        snprintf(num, sizeof(num), "%d", b->retries);
        add_flag(flags, n, "--retries", num);
    }
    if (b->retry_delay != 1) {
        snprintf(num, sizeof(num), "%g", b->retry_delay);
        add_flag(flags, n, "--retry-delay", num);
    }
    if (b->cache) {
        abs = absolute(b->cache);
        add_flag(flags, n, "--cache", abs ? abs : b->cache);
        free(abs);
    }
    if (b->results) {
        abs = absolute(b->results);
        add_flag(flags, n, "--results", abs ? abs : b->results);
        free(abs);
    }
    if (make && b->metrics) {
        abs = absolute(b->metrics);
        add_flag(flags, n, "--metrics", abs ? abs : b->metrics);
        free(abs);
    }
    if (make && b->joblog) {
        abs = absolute(b->joblog);
        char plus[PATH_MAX + 2];
        snprintf(plus, sizeof(plus), "+%s", abs ? abs : b->joblog);
        add_flag(flags, n, "--joblog", plus);
        free(abs);
    }
    for (int i = 0; i < b->cli->ntags; i++)
        add_flag(flags, n, "--tag", b->cli->tags[i]);
    add_flag(flags, n, "--batch-id", b->batch_id);
    add_flag(flags, n, "--no-progress", NULL);
    if (b->cli->quiet)
        add_flag(flags, n, "-q", NULL);
}

static void print_dry_run(const AieBatchList *l, const unsigned char *skip, int json)
{
    if (!json) {
        for (int i = 0; i < l->n; i++)
            if (!skip || !skip[i])
                printf("%s\n", l->jobs[i].cmd);
        return;
    }
    json_object *a = json_object_new_array();
    for (int i = 0; i < l->n; i++) {
        const AieBatchJob *j = &l->jobs[i];
        if (skip && skip[i])
            continue;
        json_object *o = json_object_new_object(), *v;
        json_object_object_add(o, "seq", json_object_new_int(j->seq));
        json_object_object_add(o, "line", json_object_new_int(j->line));
        json_object_object_add(o, "cmd", json_object_new_string(j->cmd));
        v = json_object_new_array();
        for (int k = 0; k < j->argc; k++)
            json_object_array_add(v, json_object_new_string(j->argv[k]));
        json_object_object_add(o, "argv", v);
        v = json_object_new_array();
        for (int k = 0; k < j->ninputs; k++)
            json_object_array_add(v, json_object_new_string(j->inputs[k]));
        json_object_object_add(o, "inputs", v);
        v = json_object_new_array();
        for (int k = 0; k < j->noutputs; k++)
            json_object_array_add(v, json_object_new_string(j->outputs[k]));
        json_object_object_add(o, "outputs", v);
        if (j->nchunks) {
            json_object_object_add(o, "chunk", json_object_new_int(j->chunk));
            json_object_object_add(o, "chunks", json_object_new_int(j->nchunks));
            json_object_object_add(o, "frames_first", json_object_new_int64(j->first));
            json_object_object_add(o, "frames_last", json_object_new_int64(j->last));
        }
        if (j->group >= 0)
            json_object_object_add(o, "join_output", json_object_new_string(l->groups[j->group].output));
        if (j->cache_key)
            json_object_object_add(o, "cache_key", json_object_new_string(j->cache_key));
        json_object_array_add(a, o);
    }
    cli_print_json(a);
}

/* GNU parallel's input sources: "::: a b" (values), ":::: FILE..." (each
 * file's lines are one source), and their linked forms :::+ and ::::+. */
static int sep_kind(const char *a)
{
    if (strncmp(a, ":::", 3))
        return 0;
    a += 3;
    int files = *a == ':';
    a += files;
    int linked = *a == '+';
    a += linked;
    return *a ? 0 : 1 + files + 2 * linked; /* 1 :::  2 ::::  3 :::+  4 ::::+ */
}

typedef struct Sources {
    AieBatchSource src[AIE_BATCH_MAX_SOURCES];
    const char **lines[AIE_BATCH_MAX_SOURCES]; /* owned value arrays of :::: sources */
    char *text[AIE_BATCH_MAX_SOURCES];
    int n;
} Sources;

static void sources_free(Sources *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->lines[i]);
        free(s->text[i]);
    }
    s->n = 0;
}

/* Read tok[0..ntok) (tok[0] is a separator); exit status on a bad one. */
static int read_sources(Cli *c, char **tok, int ntok, Sources *s)
{
    int kind = 0;
    for (int i = 0; i < ntok; i++) {
        int k = sep_kind(tok[i]);
        if (k) {
            kind = k;
            if (i + 1 == ntok || sep_kind(tok[i + 1]))
                cli_usage(c, "'%s' is followed by no %s", tok[i], k == 2 || k == 4 ? "file" : "value");
            if (k == 1 || k == 3) {
                if (s->n == AIE_BATCH_MAX_SOURCES)
                    cli_usage(c, "more than %d input sources", AIE_BATCH_MAX_SOURCES);
                s->src[s->n++] = (AieBatchSource){(const char *const *)tok + i + 1, 0, k == 3};
            }
            continue;
        }
        if (kind == 1 || kind == 3) {
            s->src[s->n - 1].n++;
            continue;
        }
        /* a :::: file: its lines are one source */
        if (s->n == AIE_BATCH_MAX_SOURCES)
            cli_usage(c, "more than %d input sources", AIE_BATCH_MAX_SOURCES);
        size_t len;
        int at = s->n;
        if (read_file(c, tok[i], &s->text[at], &len) < 0)
            return EXIT_ERROR;
        s->n++;
        int n = 0;
        if (aie_batch_lines(s->text[at], len, &s->lines[at], &n)) {
            cli_error(c, "%s", aie_strerror(AIE_ENOMEM));
            return EXIT_ERROR;
        }
        if (n == 0) {
            cli_error(c, "%s: no arguments in it (an input source after ::::)", tok[i]);
            return EXIT_ERROR;
        }
        s->src[at] = (AieBatchSource){s->lines[at], n, kind == 4};
    }
    return 0;
}

int main(int argc, char **argv)
{
    static Cli cli;
    Batch b = {.cli = &cli, .grace = 5, .retries = 1, .retry_delay = 1};
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
    while (sep < argc && !sep_kind(argv[sep]))
        sep++;
    cli.stop_at_operand = sep < argc;
    cli_parse(&cli, sep, argv);
    /* cli_parse applied AIE_METRICS to its own field */
    if (!b.metrics)
        b.metrics = cli.metrics_path;
    if (cli.json && !cli.dry_run)
        cli_usage(&cli, "--json goes with --dry-run");

    int npos = sep - optind, rc = EXIT_ERROR, e = 0;
    char **pos = argv + optind;
    static Sources srcs;
    char *cmd_words = NULL;
    const char **combined = NULL;
    char msg[AIE_ERRBUF_SIZE * 2] = "", id[33];
    char *text = NULL, *self = NULL, *jobfile_abs = NULL, *script = NULL;
    const char **args = NULL;
    AieBatchList *list = NULL;
    unsigned char *skip = NULL;
    AieBatchJoblog *joblog = NULL;
    AieMetrics *metrics = NULL;
    AieBatchLog log = {0};

    if ((b.join || b.no_snap) && !b.chunks)
        cli_usage(&cli, "--%s goes with --chunks", b.join ? "join" : "no-snap");
    if ((b.resume || b.retry_failed) && !b.joblog)
        cli_usage(&cli, "--%s needs --joblog", b.retry_failed ? "retry-failed" : b.resume == AIE_BATCH_RESUME ? "resume" : "resume-failed");
    if (b.retry_failed && (b.resume || b.tmpl))
        cli_usage(&cli, "--retry-failed takes its jobs from the joblog: no --resume, --resume-failed or --cmd");
    if (b.emit && (cli.dry_run || b.job_index))
        cli_usage(&cli, "--emit conflicts with --dry-run and --job-index");
    if (b.nslurm_opts && b.emit != AIE_BATCH_EMIT_SLURM)
        cli_usage(&cli, "--slurm-opt goes with --emit slurm");
    if (sep < argc) {
        if (b.retry_failed || b.emit)
            cli_usage(&cli, "::: gives the jobs' arguments: no --%s", b.emit ? "emit (write a job file with --dry-run first)" : "retry-failed");
        if (npos && b.tmpl)
            cli_usage(&cli, "give the command once: --cmd TEMPLATE or the words before %s", argv[sep]);
        if (!npos && !b.tmpl)
            cli_usage(&cli, "no command before %s (give it as words, or with --cmd)", argv[sep]);
        if ((rc = read_sources(&cli, argv + sep, argc - sep, &srcs)))
            goto fail;
        rc = EXIT_ERROR;
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
        cli_info(&cli, "--retry-failed: the jobs come from %s; %s is not read", b.joblog, pos[0]);

    if (!b.batch_id) {
        const char *env = getenv("AIE_BATCH_ID");
        if (env && *env && strlen(env) <= 128) {
            b.batch_id = env;
        } else {
            random_id(id);
            b.batch_id = id;
        }
    }
    if (!b.jobs)
        b.jobs = aie_cpu_count();
    signals_start();

    const char *tmpdir = getenv("TMPDIR");
    AieBatchExec ex = {.path = getenv("PATH"), .env = (const char *const *)environ,
                       .tmpdir = tmpdir && *tmpdir ? tmpdir : "/tmp"};

    /* ---- the jobs ---- */
    if ((e = aie_batch_list_create(&list, b.shell)))
        goto fail;
    if (b.retry_failed) {
        if ((e = aie_batch_joblog_read(b.joblog, &log, msg, sizeof(msg))) ||
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
    if (b.chunks > 1 && (e = aie_batch_chunk(list, b.chunks, b.join, !b.no_snap, &ex, b.jobs, warn_cb, &b,
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
        char flags[8192], cwd[PATH_MAX];
        self = self_path(argv[0]);
        jobfile_abs = absolute(pos[0]);
        if (!self || !jobfile_abs || !getcwd(cwd, sizeof(cwd))) {
            e = AIE_ENOMEM;
            goto fail;
        }
        emit_flags(&b, flags, sizeof(flags), b.emit == AIE_BATCH_EMIT_MAKE);
        const char *edir = b.emit_dir ? b.emit_dir : ".aie-batch";
        char stamps[PATH_MAX + 16], logs[PATH_MAX + 16];
        snprintf(stamps, sizeof(stamps), "%s/stamps", edir);
        char *edir_abs = absolute(edir);
        snprintf(logs, sizeof(logs), "%s/logs", edir_abs ? edir_abs : edir);
        free(edir_abs);
        if (b.emit == AIE_BATCH_EMIT_SLURM) {
            /* sbatch opens the tasks' output files before they run */
            char mk[PATH_MAX + 32];
            snprintf(mk, sizeof(mk), "%s", logs);
            for (char *p = mk + 1; *p; p++)
                if (*p == '/') {
                    *p = 0;
                    mkdir(mk, 0755);
                    *p = '/';
                }
            if (mkdir(mk, 0755) != 0 && errno != EEXIST) {
                cli_error(&cli, "%s: %s", mk, strerror(errno));
                goto fail;
            }
        }
        AieBatchEmit em = {.self = self, .jobfile = jobfile_abs, .cwd = cwd, .flags = flags,
                           .stamp_dir = stamps, .log_dir = logs, .metrics_name = "metrics",
                           .joblog_name = "joblog", .jobs = b.jobs, .job_name = "aie-batch",
                           .slurm_opts = b.slurm_opts, .nslurm_opts = b.nslurm_opts};
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
        if ((e = aie_batch_joblog_read(b.joblog, &log, msg, sizeof(msg))))
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
        if (b.cache && (e = aie_batch_cache_keys(list, skip, &ex, b.jobs, msg, sizeof(msg))))
            goto fail;
        print_dry_run(list, skip, cli.json);
        rc = EXIT_OK;
        goto fail;
    }
    if (b.cache && (e = aie_batch_cache_keys(list, skip, &ex, b.jobs, msg, sizeof(msg))))
        goto fail;

    /* ---- logs ---- */
    if (b.joblog) {
        int append = b.joblog_append || b.resume || b.retry_failed || b.job_index;
        if ((e = aie_batch_joblog_open(&joblog, b.joblog, append, msg, sizeof(msg))))
            goto fail;
    }
    char *metrics_abs = NULL;
    if (b.metrics) {
        AieMetricsConfig mc = {.path = b.metrics, .tool = "aie-batch", .version = AIE_VERSION,
                               .tags = cli.tags, .ntags = cli.ntags, .batch_id = b.batch_id};
        char merr[AIE_ERRBUF_SIZE] = "";
        if (aie_metrics_open(&metrics, &mc, merr, sizeof(merr)) < 0)
            cli_warn(&cli, "metrics: %s", *merr ? merr : "cannot start the log");
        metrics_abs = absolute(b.metrics);
    }

    /* ---- run ---- */
    AieBatchOpts o = {
        .jobs = b.jobs, .load_max = b.load_max, .timeout_s = b.timeout, .grace_s = b.grace,
        .retries = b.retries, .retry_delay_s = b.retry_delay, .halt = b.halt,
        .halt_fail = b.halt_fail, .skip = skip, .exec = ex, .results_dir = b.results,
        .cache_dir = b.cache, .join = b.join, .joblog = joblog, .metrics = metrics,
        .metrics_path = metrics_abs, .batch_id = b.batch_id, .cancel = &sig.cancel,
        .kill_now = &sig.kill_now, .wake_fd = sig.wake[0], .opaque = &b, .output = on_output,
        .job_end = on_job_end, .progress = on_progress,
    };
    AieBatchSummary sum;
    atomic_store(&sig.running, 1);
    /* a signal that came during the preparations still counts */
    if (atomic_load(&sig.signo))
        aie_cancel_request(&sig.cancel, atomic_load(&sig.signo));
    e = aie_batch_run(list, &o, &sum, msg, sizeof(msg));
    if (b.progress_shown) /* keep the last progress line */
        fputc('\n', stderr);
    b.progress_shown = 0;
    free(metrics_abs);
    int failures = sum.failed + sum.join_failures;
    if (cli.verbose || (e && e != AIE_ECANCELLED))
        cli_info(&cli, "%d ok, %d failed, %d skipped, %d interrupted, %d not started; cache: %d hit%s, "
                 "%d miss%s", sum.ok, failures, sum.skipped, sum.interrupted, sum.not_run,
                 sum.cache_hits, sum.cache_hits == 1 ? "" : "s", sum.cache_misses,
                 sum.cache_misses == 1 ? "" : "es");
    if (e == AIE_ECANCELLED) {
        int s = atomic_load(&sig.signo);
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
    sources_free(&srcs);
    free(self);
    free(jobfile_abs);
    free(script);
    fflush(stdout);
    return rc;
}
