/*
 * The scheduler: one loop in the calling thread.
 *
 *   start jobs while fewer than `jobs` are alive (and the load allows),
 *   poll the pidfds of the running jobs and the caller's wake fd, with a
 *   timeout that is the nearest deadline (a timeout, a KILL after the grace,
 *   a retry's backoff, the next load check),
 *   reap what ended, act on deadlines and on the cancel tokens, repeat.
 *
 * Each job runs in its own process group with PR_SET_PDEATHSIG; its stdout
 * and stderr go to files (anonymous temporaries, or --results files) that are
 * handed to the caller whole when the job ends, so output is grouped per job.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aie/error.h"
#include "batch_internal.h"
#include "spawn.h"

enum { ST_PENDING, ST_WAIT, ST_RUNNING, ST_OK, ST_FAILED, ST_SKIPPED, ST_INTERRUPTED };

typedef struct JobState {
    int attempts;
    int state;
    long long ready_us; /* when it became ready to run (queue wait origin) */
} JobState;

typedef struct Slot {
    int job;            /* -1 when free */
    pid_t pid;
    int pidfd;
    int out_fd, err_fd;
    long long start_us, deadline_us, kill_us;
    double start_wall;
    int timed_out, interrupted;
    const char *cache;
} Slot;

typedef struct Resolved {
    char *name, *path;
    int why;
} Resolved;

typedef struct Sched {
    AieBatchList *l;
    const AieBatchOpts *o;
    AieBatchSummary *sum;
    JobState *js;
    Slot *slots;
    int nslots, running;
    int next;           /* lowest job index that may still be pending */
    int *retry;         /* jobs waiting out a backoff, in order of readiness */
    int nretry;
    void *stack;        /* the children's stack until they exec */
    size_t stack_size;
    int devnull;
    char **env;
    char jobid_var[48];
    char *batch_var, *metrics_var;
    Resolved res[64];
    int nres;
    long long t0_us;
    int total, done, failed, hits;
    int stopping, cancel_seen, kill_seen;
    int fatal;          /* an error of aie-batch itself (the joblog) */
    char *err;
    size_t errlen;
    long long load_at_us;
    double load;
    long long progress_us;
} Sched;

#define RETRY_MAX_DELAY_S 300.0

static long long us_from_s(double s) { return (long long)llround(s * 1e6); }

/* ---- environment ---- */

static int build_env(Sched *s)
{
    const AieBatchOpts *o = s->o;
    int n = 0, k = 0;
    const char *const *base = o->exec.env;
    while (base && base[n])
        n++;
    if (!(s->env = calloc((size_t)n + 4, sizeof(*s->env))))
        return AIE_ENOMEM;
    for (int i = 0; i < n; i++) {
        const char *v = base[i];
        if (!strncmp(v, "AIE_BATCH_ID=", 13) || !strncmp(v, "AIE_JOB_ID=", 11) ||
            (o->metrics_path && !strncmp(v, "AIE_METRICS=", 12)))
            continue;
        s->env[k++] = (char *)v;
    }
    if (o->batch_id) {
        Buf b = {0};
        aie_buf_printf(&b, "AIE_BATCH_ID=%s", o->batch_id);
        if (!(s->batch_var = aie_buf_take(&b)))
            return AIE_ENOMEM;
        s->env[k++] = s->batch_var;
        s->env[k++] = s->jobid_var;
    }
    if (o->metrics_path) {
        Buf b = {0};
        aie_buf_printf(&b, "AIE_METRICS=%s", o->metrics_path);
        if (!(s->metrics_var = aie_buf_take(&b)))
            return AIE_ENOMEM;
        s->env[k++] = s->metrics_var;
    }
    s->env[k] = NULL;
    return 0;
}

static const Resolved *resolve(Sched *s, const char *name)
{
    static const Resolved nomem = {NULL, NULL, ENOMEM}; /* not cached */
    for (int i = 0; i < s->nres; i++)
        if (!strcmp(s->res[i].name, name))
            return &s->res[i];
    Resolved r = {NULL, NULL, 0};
    r.path = aie_exec_resolve(name, s->o->exec.path, &r.why);
    if (!r.path && r.why == ENOMEM)
        return &nomem;
    if (s->nres == (int)(sizeof(s->res) / sizeof(s->res[0]))) {
        /* full: keep the last lookup in the last entry */
        free(s->res[s->nres - 1].name);
        free(s->res[s->nres - 1].path);
        s->nres--;
    }
    r.name = strdup(name);
    if (!r.name) {
        free(r.path);
        return &nomem;
    }
    s->res[s->nres] = r;
    return &s->res[s->nres++];
}

/* ---- captured output ---- */

static int capture_file(Sched *s)
{
    const char *dir = s->o->exec.tmpdir ? s->o->exec.tmpdir : "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        fd = memfd_create("aie-batch-output", MFD_CLOEXEC);
    return fd;
}

static int results_files(Sched *s, const AieBatchJob *j, int *out, int *err)
{
    char d[PATH_MAX], p[PATH_MAX + 16];
    snprintf(d, sizeof(d), "%s/%d", s->o->results_dir, j->seq);
    if (mkdir(s->o->results_dir, 0755) != 0 && errno != EEXIST)
        return -1;
    if (mkdir(d, 0755) != 0 && errno != EEXIST)
        return -1;
    snprintf(p, sizeof(p), "%s/stdout", d);
    *out = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    snprintf(p, sizeof(p), "%s/stderr", d);
    *err = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return *out >= 0 && *err >= 0 ? 0 : -1;
}

/* ---- records ---- */

static void progress(Sched *s)
{
    if (!s->o->progress)
        return;
    AieBatchProgress p = {0};
    p.total = s->total;
    p.done = s->done;
    p.failed = s->failed;
    p.running = s->running;
    p.cache_hits = s->hits;
    p.elapsed_s = (aie_time_us() - s->t0_us) / 1e6;
    p.jobs_per_s = p.elapsed_s > 0 ? p.done / p.elapsed_s : 0;
    p.eta_s = p.jobs_per_s > 0 ? (p.total - p.done) / p.jobs_per_s : -1;
    s->o->progress(s->o->opaque, &p);
}

static void metrics_record(Sched *s, const AieBatchJob *j, const AieBatchResult *r)
{
    if (!s->o->metrics)
        return;
    char ts0[32], ts1[32], buf[512];
    aie_metrics_timestamp(ts0, r->start);
    aie_metrics_timestamp(ts1, r->end);
    snprintf(buf, sizeof(buf),
             "{\"job_id\":\"%d\",\"attempt\":%d,\"exit\":%d,\"signal\":%d,\"queue_wait_ms\":%lld,"
             "\"runtime_ms\":%lld,\"cache\":\"%s\",\"start\":\"%s\",\"end\":\"%s\"%s}",
             j->seq, r->attempt, r->exit_code, r->signal, (long long)r->queue_wait_ms,
             (long long)r->runtime_ms, r->cache, ts0, ts1,
             r->timed_out ? ",\"timed_out\":true" : r->interrupted ? ",\"interrupted\":true" : "");
    aie_metrics_event(s->o->metrics, "job_end", buf);
}

static void halt_check(Sched *s)
{
    const AieBatchOpts *o = s->o;
    if (o->halt == AIE_BATCH_HALT_NEVER || s->failed < (o->halt_fail > 0 ? o->halt_fail : 1))
        return;
    s->stopping = 1;
    if (o->halt != AIE_BATCH_HALT_NOW)
        return;
    long long now = aie_time_us();
    for (int k = 0; k < s->nslots; k++) {
        Slot *sl = &s->slots[k];
        if (sl->job < 0 || sl->interrupted)
            continue;
        sl->interrupted = 1;
        kill(-sl->pid, SIGTERM);
        long long at = now + us_from_s(o->grace_s);
        if (!sl->kill_us || at < sl->kill_us)
            sl->kill_us = at;
    }
}

static void try_join(Sched *s, int g, AieBatchResult *r, char *msg, size_t msglen)
{
    const AieBatchGroup *gr = &s->l->groups[g];
    for (int k = 0; k < gr->n; k++) {
        int st = s->js[gr->first + k].state;
        if (st != ST_OK && st != ST_SKIPPED)
            return;
    }
    int joined = 0, e = aie_batch_join(s->l, g, &joined, msg, msglen);
    if (e) {
        if (!msg[0])
            snprintf(msg, msglen, "%s: %s", gr->output, aie_strerror(e));
        r->error = msg;
        s->sum->join_failures++;
        s->failed++;
        halt_check(s);
    }
    r->joined = joined;
}

/* A finished attempt: record it, then retry, or settle the job. */
static void settle(Sched *s, int i, AieBatchResult *r)
{
    AieBatchJob *j = &s->l->jobs[i];
    JobState *st = &s->js[i];
    const AieBatchOpts *o = s->o;
    char msg[AIE_ERRBUF_SIZE] = "";
    r->ok = r->exit_code == 0 && r->signal == 0 && !r->timed_out && !r->interrupted;
    int more = !r->ok && !r->interrupted && !r->not_found && !s->stopping &&
               (o->retries == 0 || r->attempt < o->retries);
    r->final = !more;
    if (r->interrupted) {
        st->state = ST_INTERRUPTED;
        s->sum->interrupted++;
    } else if (more) {
        double d = o->retry_delay_s * pow(2, r->attempt - 1);
        if (d > RETRY_MAX_DELAY_S)
            d = RETRY_MAX_DELAY_S;
        st->state = ST_WAIT;
        st->ready_us = aie_time_us() + us_from_s(d);
        int at = s->nretry; /* keep the list ordered by readiness */
        while (at > 0 && s->js[s->retry[at - 1]].ready_us > st->ready_us)
            at--;
        memmove(s->retry + at + 1, s->retry + at, (size_t)(s->nretry - at) * sizeof(*s->retry));
        s->retry[at] = i;
        s->nretry++;
    } else {
        if (o->joblog && !s->fatal) {
            /* as GNU parallel: Exitval -1 after a timeout, 0 (and the
             * signal) for a job a signal ended */
            int ev = r->timed_out ? -1 : r->signal ? 0 : r->exit_code;
            int e = aie_batch_joblog_write(o->joblog, j->seq, r->start, r->end - r->start, ev,
                                           r->signal, j->cmd);
            if (e) {
                s->fatal = e;
                aie_errf(s->err, s->errlen, "joblog: %s; no new jobs started",
                         aie_batch_joblog_error(o->joblog));
                s->stopping = 1;
            }
        }
        s->done++;
        if (r->ok) {
            st->state = ST_OK;
            s->sum->ok++;
            if (o->cache_dir && j->cache_key && !strcmp(r->cache, "miss")) {
                int e = aie_batch_cache_store(o->cache_dir, j->cache_key, j->outputs[0], msg, sizeof(msg));
                if (e)
                    r->error = msg;
            }
            if (o->join && j->group >= 0)
                try_join(s, j->group, r, msg, sizeof(msg));
        } else {
            st->state = ST_FAILED;
            s->sum->failed++;
            s->failed++;
            halt_check(s);
        }
    }
    metrics_record(s, j, r);
    if (o->job_end)
        o->job_end(o->opaque, j, r);
    r->error = NULL; /* msg is ours: nothing may see it after this call */
    progress(s);
}

static void result_init(AieBatchResult *r, int attempt, long long ready_us, long long start_us,
                        double start_wall, const char *cache)
{
    memset(r, 0, sizeof(*r));
    r->attempt = attempt;
    r->cache = cache;
    r->start = start_wall;
    r->end = start_wall;
    r->queue_wait_ms = (start_us - ready_us) / 1000;
    if (r->queue_wait_ms < 0)
        r->queue_wait_ms = 0;
}

/* Start job i in a free slot. Jobs that need no process (a cache hit, an
 * unknown command) settle at once. Returns 0, or -1 to try again later. */
static int start(Sched *s, int i)
{
    AieBatchJob *j = &s->l->jobs[i];
    JobState *st = &s->js[i];
    const AieBatchOpts *o = s->o;
    long long now = aie_time_us();
    double wall = aie_batch_now();
    AieBatchResult r;
    const char *cache = "off";
    char msg[AIE_ERRBUF_SIZE] = "";
    st->attempts++;
    /* output directories the job names (the tools themselves refuse a
     * missing one); one that cannot be made is left to the job to report */
    for (int k = 0; k < j->noutputs; k++) {
        char d[PATH_MAX];
        if (aie_path_out_dir(j->outputs[k], d, sizeof(d)))
            (void)aie_path_mkdirs(d);
    }
    if (o->cache_dir && j->cache_key) {
        int hit = 0;
        int e = aie_batch_cache_fetch(o->cache_dir, j->cache_key, j->outputs[0], &hit, msg, sizeof(msg));
        cache = "miss";
        if (!e && hit) {
            result_init(&r, st->attempts, st->ready_us, now, wall, "hit");
            r.end = aie_batch_now();
            r.runtime_ms = (aie_time_us() - now) / 1000;
            s->hits++;
            s->sum->cache_hits++;
            settle(s, i, &r);
            return 0;
        }
        s->sum->cache_misses++;
    }
    const char *path;
    char *const *argv;
    char *sh_argv[4] = {"/bin/sh", "-c", j->cmd, NULL};
    if (s->l->shell) {
        path = "/bin/sh";
        argv = sh_argv;
    } else {
        const Resolved *rs = resolve(s, j->argv[0]);
        if (!rs->path && rs->why == ENOMEM) { /* like running out of processes */
            st->attempts--;
            errno = ENOMEM;
            return -1;
        }
        if (!rs->path) {
            result_init(&r, st->attempts, st->ready_us, now, wall, cache);
            r.exit_code = rs->why == EACCES ? 126 : 127;
            r.not_found = 1;
            settle(s, i, &r);
            return 0;
        }
        path = rs->path;
        argv = j->argv;
    }
    Slot *sl = NULL;
    for (int k = 0; k < s->nslots; k++)
        if (s->slots[k].job < 0) {
            sl = &s->slots[k];
            break;
        }
    if (!sl)
        return -1;
    int out = -1, err = -1;
    if (o->results_dir) {
        if (results_files(s, j, &out, &err) < 0) {
            if (out >= 0)
                close(out);
            if (err >= 0)
                close(err);
            out = err = -1;
        }
    }
    if (out < 0) {
        out = capture_file(s);
        err = capture_file(s);
    }
    if (out < 0 || err < 0) {
        if (out >= 0)
            close(out);
        if (err >= 0)
            close(err);
        st->attempts--;
        return -1;
    }
    snprintf(s->jobid_var, sizeof(s->jobid_var), "AIE_JOB_ID=%d", j->seq);
    SpawnReq req = {.path = path, .argv = argv, .envp = s->env, .in_fd = s->devnull,
                    .out_fd = out, .err_fd = err, .new_group = 1};
    pid_t pid;
    int pidfd;
    int e = aie_spawn_job(&req, s->stack, s->stack_size, &pid, &pidfd);
    if (e) {
        close(out);
        close(err);
        st->attempts--;
        return -1;
    }
    memset(sl, 0, sizeof(*sl));
    sl->job = i;
    sl->pid = pid;
    sl->pidfd = pidfd;
    sl->out_fd = out;
    sl->err_fd = err;
    sl->start_us = now;
    sl->start_wall = wall;
    sl->deadline_us = o->timeout_s > 0 ? now + us_from_s(o->timeout_s) : 0;
    sl->cache = cache;
    st->state = ST_RUNNING;
    s->running++;
    progress(s);
    return 0;
}

static void deliver_output(Sched *s, const AieBatchJob *j, Slot *sl)
{
    struct stat so, se;
    if (s->o->output && fstat(sl->out_fd, &so) == 0 && fstat(sl->err_fd, &se) == 0 &&
        (so.st_size > 0 || se.st_size > 0)) {
        lseek(sl->out_fd, 0, SEEK_SET);
        lseek(sl->err_fd, 0, SEEK_SET);
        s->o->output(s->o->opaque, j, sl->out_fd, so.st_size, sl->err_fd, se.st_size);
    }
    close(sl->out_fd);
    close(sl->err_fd);
}

static void reaped(Sched *s, Slot *sl, int status)
{
    int i = sl->job;
    AieBatchJob *j = &s->l->jobs[i];
    AieBatchResult r;
    long long now = aie_time_us();
    result_init(&r, s->js[i].attempts, s->js[i].ready_us, sl->start_us, sl->start_wall, sl->cache);
    r.end = aie_batch_now();
    r.runtime_ms = (now - sl->start_us) / 1000;
    if (WIFEXITED(status)) {
        r.exit_code = WEXITSTATUS(status);
    } else {
        r.exit_code = -1;
        r.signal = WTERMSIG(status);
    }
    r.timed_out = sl->timed_out;
    r.interrupted = sl->interrupted && !r.timed_out;
    if (r.interrupted && r.exit_code == 0 && !r.signal)
        r.interrupted = 0; /* it finished before our TERM arrived */
    /* what the job left behind in its group goes with it */
    if (sl->timed_out || sl->interrupted)
        kill(-sl->pid, SIGKILL);
    deliver_output(s, j, sl);
    if (sl->pidfd >= 0)
        close(sl->pidfd);
    sl->job = -1;
    s->running--;
    settle(s, i, &r);
}

static void reap(Sched *s, Slot *sl)
{
    int status;
    pid_t p;
    while ((p = waitpid(sl->pid, &status, WNOHANG)) < 0 && errno == EINTR)
        ;
    if (p == sl->pid)
        reaped(s, sl, status);
}

/* The next job to start, or -1. *wait_us gets how long until a backoff ends. */
static int next_job(Sched *s, long long now, long long *wait_us)
{
    if (s->nretry && s->js[s->retry[0]].ready_us <= now) {
        int i = s->retry[0];
        memmove(s->retry, s->retry + 1, (size_t)(s->nretry - 1) * sizeof(*s->retry));
        s->nretry--;
        return i;
    }
    while (s->next < s->l->n && s->js[s->next].state != ST_PENDING)
        s->next++;
    if (s->next < s->l->n)
        return s->next++;
    if (s->nretry) {
        long long w = s->js[s->retry[0]].ready_us - now;
        if (*wait_us < 0 || w < *wait_us)
            *wait_us = w;
    }
    return -1;
}

/* Is any job still pending or waiting for a retry? */
static int has_work(Sched *s)
{
    if (s->nretry)
        return 1;
    while (s->next < s->l->n && s->js[s->next].state != ST_PENDING)
        s->next++;
    return s->next < s->l->n;
}

static int load_ok(Sched *s, long long now, long long *wait_us)
{
    if (s->o->load_max <= 0)
        return 1;
    if (!s->load_at_us || now - s->load_at_us >= 1000000) {
        double l[1];
        s->load = getloadavg(l, 1) == 1 ? l[0] : 0;
        s->load_at_us = now;
    }
    if (s->load <= s->o->load_max)
        return 1;
    long long w = s->load_at_us + 1000000 - now;
    if (*wait_us < 0 || w < *wait_us)
        *wait_us = w;
    return 0;
}

static void on_cancel(Sched *s, long long now)
{
    const AieBatchOpts *o = s->o;
    if (!s->cancel_seen && aie_cancel_requested(o->cancel)) {
        s->cancel_seen = 1;
        s->stopping = 1;
        for (int k = 0; k < s->nslots; k++) {
            Slot *sl = &s->slots[k];
            if (sl->job < 0)
                continue;
            sl->interrupted = 1;
            kill(-sl->pid, SIGTERM);
            long long at = now + us_from_s(o->grace_s);
            if (!sl->kill_us || at < sl->kill_us)
                sl->kill_us = at;
        }
    }
    if (!s->kill_seen && aie_cancel_requested(o->kill_now)) {
        s->kill_seen = s->cancel_seen = s->stopping = 1;
        for (int k = 0; k < s->nslots; k++) {
            Slot *sl = &s->slots[k];
            if (sl->job < 0)
                continue;
            sl->interrupted = 1;
            kill(-sl->pid, SIGKILL);
            sl->kill_us = 0;
        }
    }
}

static void deadlines(Sched *s, long long now, long long *wait_us)
{
    for (int k = 0; k < s->nslots; k++) {
        Slot *sl = &s->slots[k];
        if (sl->job < 0)
            continue;
        if (sl->deadline_us && now >= sl->deadline_us && !sl->timed_out && !sl->interrupted) {
            sl->timed_out = 1;
            kill(-sl->pid, SIGTERM);
            sl->kill_us = now + us_from_s(s->o->grace_s);
        }
        if (sl->kill_us && now >= sl->kill_us) {
            kill(-sl->pid, SIGKILL);
            sl->kill_us = 0;
        }
        long long next = 0;
        if (sl->deadline_us && !sl->timed_out && !sl->interrupted)
            next = sl->deadline_us;
        if (sl->kill_us && (!next || sl->kill_us < next))
            next = sl->kill_us;
        if (next && (*wait_us < 0 || next - now < *wait_us))
            *wait_us = next - now > 0 ? next - now : 0;
    }
}

int aie_batch_run(AieBatchList *l, const AieBatchOpts *o, AieBatchSummary *sum, char *err,
                  size_t errlen)
{
    Sched s = {0};
    int e = 0;
    struct pollfd *pf = NULL;
    int *pf_slot = NULL;
    memset(sum, 0, sizeof(*sum));
    if (err && errlen)
        err[0] = 0;
    s.l = l;
    s.o = o;
    s.sum = sum;
    s.err = err;
    s.errlen = errlen;
    s.devnull = -1;
    s.nslots = o->jobs > 0 ? o->jobs : 1;
    s.js = calloc((size_t)l->n + 1, sizeof(*s.js));
    s.slots = calloc((size_t)s.nslots, sizeof(*s.slots));
    s.retry = calloc((size_t)l->n + 1, sizeof(*s.retry));
    pf = calloc((size_t)s.nslots + 1, sizeof(*pf));
    pf_slot = calloc((size_t)s.nslots + 1, sizeof(*pf_slot));
    s.stack_size = 64 * 1024;
    /* fd -1 with MAP_ANONYMOUS, as portable code passes it */
    s.stack = mmap(NULL, s.stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0); /* cppcheck-suppress invalidFunctionArg */
    if (s.stack == MAP_FAILED)
        s.stack = NULL;
    for (int k = 0; s.slots && k < s.nslots; k++)
        s.slots[k].job = -1; /* before any goto fail: it kills the slots' jobs */
    if (!s.js || !s.slots || !s.retry || !pf || !pf_slot || !s.stack) {
        e = AIE_ENOMEM;
        goto fail;
    }
    if ((s.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
        e = aie_error_from_errno(errno);
        aie_errf(err, errlen, "/dev/null: %s", strerror(errno));
        goto fail;
    }
    if ((e = build_env(&s)))
        goto fail;
    s.t0_us = aie_time_us();
    for (int i = 0; i < l->n; i++) {
        s.js[i].ready_us = s.t0_us;
        if (o->skip && o->skip[i]) {
            s.js[i].state = ST_SKIPPED;
            sum->skipped++;
        } else {
            s.total++;
        }
    }
    progress(&s);

    for (;;) {
        long long now = aie_time_us(), wait_us = -1;
        on_cancel(&s, now);
        /* start what may start */
        int blocked = 0;
        while (!s.stopping && s.running < s.nslots && !blocked) {
            if (!load_ok(&s, now, &wait_us))
                break;
            int i = next_job(&s, now, &wait_us);
            if (i < 0)
                break;
            if (start(&s, i) < 0) {
                /* out of processes or files: put it back, try again soon */
                s.js[i].state = ST_WAIT;
                s.js[i].ready_us = now + 100000;
                memmove(s.retry + 1, s.retry, (size_t)s.nretry * sizeof(*s.retry));
                s.retry[0] = i;
                s.nretry++;
                if (!s.running) {
                    s.fatal = errno == ENOMEM ? AIE_ENOMEM : AIE_EIO;
                    aie_errf(err, errlen, "cannot start jobs: %s", strerror(errno));
                    s.stopping = 1;
                }
                blocked = 1;
            }
            now = aie_time_us();
        }
        if (!s.running && (s.stopping || !has_work(&s)))
            break;
        if (blocked && (wait_us < 0 || wait_us > 100000))
            wait_us = 100000;
        deadlines(&s, now, &wait_us);
        int n = 0, no_pidfd = 0;
        for (int k = 0; k < s.nslots; k++) {
            if (s.slots[k].job < 0)
                continue;
            if (s.slots[k].pidfd < 0) {
                no_pidfd = 1;
                continue;
            }
            pf[n] = (struct pollfd){s.slots[k].pidfd, POLLIN, 0};
            pf_slot[n++] = k;
        }
        if (o->wake_fd >= 0) {
            pf[n] = (struct pollfd){o->wake_fd, POLLIN, 0};
            pf_slot[n++] = -1;
        } else if (o->cancel && (wait_us < 0 || wait_us > 50000)) {
            wait_us = 50000; /* no wake fd: look at the tokens now and then */
        }
        if (no_pidfd && (wait_us < 0 || wait_us > 10000))
            wait_us = 10000;
        int timeout = wait_us < 0 ? -1 : (int)((wait_us + 999) / 1000);
        int got = poll(pf, (nfds_t)n, timeout);
        if (got < 0 && errno != EINTR) {
            e = aie_error_from_errno(errno);
            aie_errf(err, errlen, "poll: %s", strerror(errno));
            break;
        }
        for (int k = 0; got > 0 && k < n; k++) {
            if (!pf[k].revents)
                continue;
            if (pf_slot[k] < 0) {
                char buf[64];
                while (read(o->wake_fd, buf, sizeof(buf)) > 0)
                    ;
                continue;
            }
            Slot *sl = &s.slots[pf_slot[k]];
            if (sl->job >= 0)
                reap(&s, sl);
        }
        if (no_pidfd)
            for (int k = 0; k < s.nslots; k++)
                if (s.slots[k].job >= 0 && s.slots[k].pidfd < 0)
                    reap(&s, &s.slots[k]);
    }
    /* jobs left waiting for a retry when the run stopped */
    for (int q = 0; q < s.nretry; q++) {
        int i = s.retry[q];
        if (s.js[i].attempts == 0) {
            s.js[i].state = ST_PENDING;
            continue;
        }
        if (s.cancel_seen) {
            s.js[i].state = ST_INTERRUPTED;
            sum->interrupted++;
        } else {
            s.js[i].state = ST_FAILED;
            sum->failed++;
            s.failed++;
        }
    }
    /* groups whose chunks were all done before (resume) still get joined */
    if (o->join && !s.cancel_seen) {
        for (int g = 0; g < l->ngroups; g++) {
            const AieBatchGroup *gr = &l->groups[g];
            int any_ran = 0, all_ok = 1;
            for (int k = 0; k < gr->n; k++) {
                int st = s.js[gr->first + k].state;
                any_ran |= st == ST_OK;
                all_ok &= st == ST_OK || st == ST_SKIPPED;
            }
            if (!all_ok || any_ran) /* any_ran: joined as its last chunk ended */
                continue;
            int joined;
            char msg[AIE_ERRBUF_SIZE] = "";
            if (aie_batch_join(l, g, &joined, msg, sizeof(msg)) != 0) {
                sum->join_failures++;
                if (o->job_end) {
                    AieBatchResult r = {.attempt = 1, .final = 1, .cache = "off", .error = msg,
                                        .start = aie_batch_now(), .end = aie_batch_now()};
                    o->job_end(o->opaque, &l->jobs[gr->first + gr->n - 1], &r);
                }
            }
        }
    }
    for (int i = 0; i < l->n; i++)
        if (s.js[i].state == ST_PENDING)
            sum->not_run++;
    if (!e && s.fatal)
        e = s.fatal;
    if (!e && s.cancel_seen)
        e = AIE_ECANCELLED;
fail:
    /* never leave a child behind */
    for (int k = 0; s.slots && k < s.nslots; k++) {
        Slot *sl = &s.slots[k];
        if (sl->job < 0)
            continue;
        kill(-sl->pid, SIGKILL);
        waitpid(sl->pid, NULL, 0);
        close(sl->out_fd);
        close(sl->err_fd);
        if (sl->pidfd >= 0)
            close(sl->pidfd);
    }
    if (s.devnull >= 0)
        close(s.devnull);
    if (s.stack)
        munmap(s.stack, s.stack_size);
    for (int i = 0; i < s.nres; i++) {
        free(s.res[i].name);
        free(s.res[i].path);
    }
    free(s.env);
    free(s.batch_var);
    free(s.metrics_var);
    free(s.js);
    free(s.slots);
    free(s.retry);
    free(pf);
    free(pf_slot);
    return e;
}
