/* Metrics log writer, schema v1 (man/aie-metrics.5). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aie/error.h"
#include "aie/metrics.h"
#include "aie/thread.h"
#include "aie/util.h"
#include "aie/version.h"

typedef struct Queue {
    char **rec;          /* ring of formatted lines (with '\n') */
    size_t *len;
    long long *t_us;     /* enqueue time */
    int head, count, cap;
} Queue;

struct AieMetrics {
    char *path;
    char tool[64], version[32];
    char run_id[33];
    char host[256];
    json_object *tags;
    char *batch_id, *job_id;

    /* writer side */
    AieMetricsSink sink;
    int fd;              /* file sink; -1 until opened (lazily, by the writer) */
    int is_fifo;
    int is_reg; /* a regular file: writes hold a shared flock (see lock_until) */
    int torn;            /* the log ends in a fragment: the next write starts with '\n' */
    int batch_max, batch_ms, write_timeout_ms, flush_deadline_ms;
    int breaker_failures, breaker_recovery_ms;

    pthread_mutex_t lock;
    pthread_cond_t wake;     /* writer: work or stop */
    pthread_cond_t idle;     /* closer: the writer finished */
    Queue q;
    int stop, writer_done, started, finished, abandoned;
    int urgent; /* a lifecycle record is queued: write without waiting for a batch */
    pthread_t thread;
    AieMetricsCounters n;
    int consecutive_failures;
    long long breaker_until_us;
    char last_error[256];
};

static void *writer_main(void *arg);
static long file_write(void *opaque, const char *buf, size_t len, int timeout_ms);

/* ---- histogram ---- */

int aie_hist_bucket(double t_us)
{
    if (!(t_us >= 1.0))
        return 0;
    int b = (int)floor(AIE_HIST_PER_OCTAVE * log2(t_us));
    return b < 0 ? 0 : b >= AIE_HIST_BUCKETS ? AIE_HIST_BUCKETS - 1 : b;
}

double aie_hist_bucket_value(int b) { return exp2((b + 0.5) / AIE_HIST_PER_OCTAVE); }

void aie_hist_add(AieHist *h, double t_us)
{
    h->count[aie_hist_bucket(t_us)]++;
    h->total++;
}

void aie_hist_merge(AieHist *dst, const AieHist *src)
{
    for (int i = 0; i < AIE_HIST_BUCKETS; i++)
        dst->count[i] += src->count[i];
    dst->total += src->total;
}

double aie_hist_quantile(const AieHist *h, double q)
{
    if (!h->total)
        return 0;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    /* nearest rank: the smallest value with at least ceil(q * n) values <= it */
    uint64_t rank = (uint64_t)ceil(q * (double)h->total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < AIE_HIST_BUCKETS; i++) {
        seen += h->count[i];
        if (seen >= rank)
            return aie_hist_bucket_value(i);
    }
    return aie_hist_bucket_value(AIE_HIST_BUCKETS - 1);
}

/* ---- records ---- */

void aie_metrics_timestamp(char buf[32], double t)
{
    time_t s = (time_t)t;
    int ms = (int)((t - (double)s) * 1000.0);
    if (ms > 999)
        ms = 999;
    struct tm tm;
    gmtime_r(&s, &tm);
    if (snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms) >= 32)
        buf[31] = 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int aie_metrics_open(AieMetrics **out, const AieMetricsConfig *c, char *err, size_t errlen)
{
    *out = NULL;
    if (!c || ((!c->path || !*c->path) && !c->sink) || !c->tool) {
        if (err && errlen)
            snprintf(err, errlen, "metrics: no log file named");
        return AIE_EINVAL;
    }
    AieMetrics *m = calloc(1, sizeof(*m));
    if (!m)
        return AIE_ENOMEM;
    m->fd = -1;
    m->path = strdup(c->path ? c->path : "");
    m->tags = json_object_new_object();
    if (!m->path || !m->tags)
        goto nomem;
    snprintf(m->tool, sizeof(m->tool), "%s", c->tool);
    snprintf(m->version, sizeof(m->version), "%s", c->version ? c->version : "");
    for (int i = 0; i < c->ntags; i++) {
        const char *eq = strchr(c->tags[i], '=');
        if (!eq || eq == c->tags[i]) {
            if (err && errlen)
                snprintf(err, errlen, "tag '%s': expected KEY=VALUE", c->tags[i]);
            aie_metrics_close(&m);
            return AIE_EINVAL;
        }
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(eq - c->tags[i]), c->tags[i]);
        json_object_object_add(m->tags, key, json_object_new_string(eq + 1));
    }
    if (c->batch_id && !(m->batch_id = strdup(c->batch_id)))
        goto nomem;
    if (c->job_id && !(m->job_id = strdup(c->job_id)))
        goto nomem;
    aie_random_hex(m->run_id, 16);
    if (gethostname(m->host, sizeof(m->host)) != 0)
        snprintf(m->host, sizeof(m->host), "unknown");
    m->host[sizeof(m->host) - 1] = 0;
    m->batch_max = c->batch_max > 0 ? c->batch_max : 50;
    m->batch_ms = c->batch_ms > 0 ? c->batch_ms : 1000;
    m->write_timeout_ms = c->write_timeout_ms > 0 ? c->write_timeout_ms : 1000;
    m->flush_deadline_ms = c->flush_deadline_ms > 0 ? c->flush_deadline_ms : 2000;
    m->breaker_failures = c->breaker_failures > 0 ? c->breaker_failures : 3;
    m->breaker_recovery_ms = c->breaker_recovery_ms > 0 ? c->breaker_recovery_ms : 30000;
    m->q.cap = c->queue_max > 0 ? c->queue_max : 1000;
    m->q.rec = calloc((size_t)m->q.cap, sizeof(*m->q.rec));
    m->q.len = calloc((size_t)m->q.cap, sizeof(*m->q.len));
    m->q.t_us = calloc((size_t)m->q.cap, sizeof(*m->q.t_us));
    if (!m->q.rec || !m->q.len || !m->q.t_us)
        goto nomem;
    if (c->sink) {
        m->sink = *c->sink;
    } else {
        m->sink.write = file_write;
        m->sink.opaque = m;
    }
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->wake, NULL);
    pthread_cond_init(&m->idle, NULL);
    if (pthread_create(&m->thread, NULL, writer_main, m) != 0) {
        pthread_mutex_destroy(&m->lock);
        pthread_cond_destroy(&m->wake);
        pthread_cond_destroy(&m->idle);
        goto nomem;
    }
    m->started = 1;
    *out = m;
    return 0;
nomem:
    aie_metrics_close(&m);
    return AIE_ENOMEM;
}

const char *aie_metrics_run_id(const AieMetrics *m) { return m->run_id; }

/* Out of memory: json-c gives NULL containers and asserts when one is used,
 * so a record whose object could not be made is dropped (and counted) whole
 * by emit(NULL). */
static json_object *new_record(AieMetrics *m, const char *event)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    char ts[32];
    aie_metrics_timestamp(ts, now_s());
    json_object_object_add(o, "v", json_object_new_int(1));
    json_object_object_add(o, "ts", json_object_new_string(ts));
    json_object_object_add(o, "tool", json_object_new_string(m->tool));
    json_object_object_add(o, "version", json_object_new_string(m->version));
    json_object_object_add(o, "event", json_object_new_string(event));
    json_object_object_add(o, "run_id", json_object_new_string(m->run_id));
    json_object_object_add(o, "host", json_object_new_string(m->host));
    json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
    json_object_object_add(o, "tags", json_object_get(m->tags));
    if (m->batch_id)
        json_object_object_add(o, "batch_id", json_object_new_string(m->batch_id));
    if (m->job_id)
        json_object_object_add(o, "job_id", json_object_new_string(m->job_id));
    return o;
}

/* ---- the writer thread ---- */

/* The default sink: the log file, opened lazily (a FIFO without a reader gives
 * ENXIO, which counts as a failed write and is tried again after recovery). */
/* Several processes may append to one log. Each write(2) with O_APPEND is
 * atomic against the others, but a reader can see a write half done: the file
 * grows page by page while the data is copied, so the tail check below could
 * mistake another writer's record in flight for a torn fragment and add a
 * blank line. Writers therefore hold a shared flock(2) while they write and
 * the tail check an exclusive one; waiting is bounded by the write timeout
 * (on a timeout the check or the lock is skipped, as before the locks). */
static int lock_until(int fd, int op, long long deadline)
{
    for (;;) {
        if (flock(fd, op | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return -1; /* no locks on this file system: go on without */
        if (aie_time_us() >= deadline)
            return -1;
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

static long file_write(void *opaque, const char *buf, size_t len, int timeout_ms)
{
    AieMetrics *m = opaque;
    long long deadline = aie_time_us() + (long long)timeout_ms * 1000;
    if (m->fd < 0) {
        m->fd = open(m->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
        if (m->fd < 0)
            return -errno;
        struct stat st;
        m->is_fifo = fstat(m->fd, &st) == 0 && S_ISFIFO(st.st_mode);
        /* a log left torn by an earlier writer (a full disk) */
        char last;
        m->is_reg = S_ISREG(st.st_mode);
        int locked = m->is_reg && st.st_size > 0 && lock_until(m->fd, LOCK_EX, deadline) == 0;
        int rfd = !m->is_fifo && S_ISREG(st.st_mode) && st.st_size > 0
                      ? open(m->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
                      : -1;
        if (rfd >= 0) {
            struct stat rst;
            if (fstat(rfd, &rst) == 0 && rst.st_dev == st.st_dev && rst.st_ino == st.st_ino &&
                rst.st_size > 0 && pread(rfd, &last, 1, rst.st_size - 1) == 1 && last != '\n')
                m->torn = 1;
            close(rfd);
        }
        if (locked)
            flock(m->fd, LOCK_UN);
    }
    if (len == 0)
        return 0;
    int locked = m->is_reg && lock_until(m->fd, LOCK_SH, deadline) == 0;
    for (;;) {
        ssize_t w = write(m->fd, buf, len);
        if (w >= 0 || errno != EINTR) {
            int e = errno;
            if (locked)
                flock(m->fd, LOCK_UN);
            locked = 0;
            errno = e;
        }
        if (w >= 0)
            return (long)w;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            int e = errno;
            if (e == EPIPE) { /* the reader went away: reopen later */
                close(m->fd);
                m->fd = -1;
            }
            return -e;
        }
        /* a stalled FIFO reader: wait for room, within the timeout */
        long long left = deadline - aie_time_us();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = m->fd, .events = POLLOUT};
        poll(&pfd, 1, (int)((left + 999) / 1000));
    }
}

/* Pop up to batch_max records (and, for FIFOs, at most atomic bytes) into buf.
 * Called with the lock held. */
static size_t take_batch(AieMetrics *m, char **buf, size_t *cap, int *nrec)
{
    size_t atomic = m->sink.atomic_max ? m->sink.atomic_max : (m->is_fifo ? PIPE_BUF : 0);
    size_t used = 0;
    *nrec = 0;
    while (m->q.count && *nrec < m->batch_max) {
        int i = m->q.head;
        size_t l = m->q.len[i];
        if (atomic && *nrec > 0 && used + l > atomic)
            break; /* the next record would make the write non-atomic */
        if (used + l > *cap) {
            size_t nc = (used + l) * 2;
            char *nb = realloc(*buf, nc);
            if (!nb)
                break;
            *buf = nb;
            *cap = nc;
        }
        /* a queued record has l >= 2 bytes, so *buf was allocated above */
        memcpy(*buf + used, m->q.rec[i], l); /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
        used += l;
        free(m->q.rec[i]);
        m->q.rec[i] = NULL;
        m->q.head = (m->q.head + 1) % m->q.cap;
        m->q.count--;
        (*nrec)++;
    }
    return used;
}

static void note_failure(AieMetrics *m, int err)
{
    /* lock held */
    snprintf(m->last_error, sizeof(m->last_error), "%s",
             err == ETIMEDOUT ? "write timed out" : strerror(err));
    m->n.write_failures++;
    if (++m->consecutive_failures >= m->breaker_failures && !m->n.breaker_open) {
        m->n.breaker_open = 1;
        m->n.breaker_opens++;
        m->breaker_until_us = aie_time_us() + (long long)m->breaker_recovery_ms * 1000;
    }
}

static void *writer_main(void *arg)
{
    AieMetrics *m = arg;
    char *buf = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&m->lock);
    for (;;) {
        /* wait for a full batch, the oldest record's deadline, or stop */
        while (!m->stop && !m->urgent && m->q.count < m->batch_max) {
            long long now = aie_time_us();
            if (m->q.count && now - m->q.t_us[m->q.head] >= (long long)m->batch_ms * 1000)
                break;
            long long until = m->q.count ? m->q.t_us[m->q.head] + (long long)m->batch_ms * 1000
                                         : now + 3600LL * 1000000;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long long wait_us = until - now;
            ts.tv_sec += (time_t)(wait_us / 1000000);
            ts.tv_nsec += (long)(wait_us % 1000000) * 1000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&m->wake, &m->lock, &ts);
        }
        if (!m->q.count && m->stop)
            break;
        if (!m->q.count)
            continue;
        int nrec;
        m->urgent = 0;
        size_t len = take_batch(m, &buf, &cap, &nrec);
        if (!nrec) { /* out of memory for the batch: drop one record */
            free(m->q.rec[m->q.head]);
            m->q.rec[m->q.head] = NULL;
            m->q.head = (m->q.head + 1) % m->q.cap;
            m->q.count--;
            m->n.dropped++;
            continue;
        }
        if (m->n.breaker_open) {
            if (aie_time_us() < m->breaker_until_us) {
                m->n.dropped += nrec; /* open: drop and count */
                continue;
            }
            /* half-open: this batch is the trial */
        }
        pthread_mutex_unlock(&m->lock);
        /* after a torn write (ours, or an earlier writer's found when the
         * file sink opens) the batch starts with a newline, so the fragment
         * stays alone on its line */
        int lead = 0;
        long w = 0;
        if (m->sink.write == file_write && m->fd < 0)
            w = file_write(m, buf, 0, m->write_timeout_ms); /* opens; checks the tail */
        if (w >= 0) {
            if (m->torn && len + 1 > cap) {
                char *nb = realloc(buf, len + 1);
                if (nb) {
                    buf = nb;
                    cap = len + 1;
                }
            }
            if (m->torn && len + 1 <= cap) {
                memmove(buf + 1, buf, len);
                buf[0] = '\n';
                len++;
                lead = 1;
            }
            w = m->sink.write(m->sink.opaque, buf, len, m->write_timeout_ms);
        }
        if (w > 0)
            m->torn = buf[w - 1] != '\n'; /* a short write tears; a whole one mends */
        pthread_mutex_lock(&m->lock);
        if (lead) { /* the newline is not a record */
            memmove(buf, buf + 1, --len);
            if (w > 0)
                w--;
        }
        if (w == (long)len) {
            m->n.written += nrec;
            m->consecutive_failures = 0;
            m->n.breaker_open = 0;
        } else {
            /* a short write leaves at most one torn line, which readers skip */
            int lines_out = 0;
            for (long i = 0; i < w; i++)
                lines_out += buf[i] == '\n';
            m->n.written += lines_out;
            m->n.dropped += nrec - lines_out;
            note_failure(m, w < 0 ? (int)-w : ENOSPC);
            if (m->n.breaker_open && w >= 0) /* a failed trial re-opens it */
                m->breaker_until_us = aie_time_us() + (long long)m->breaker_recovery_ms * 1000;
        }
    }
    m->writer_done = 1;
    pthread_cond_broadcast(&m->idle);
    pthread_mutex_unlock(&m->lock);
    free(buf);
    return NULL;
}

/* Queue a record; never blocks. Takes the json object. Lifecycle records
 * (run_start, snapshot, run_end) are urgent: they go out at once, so a run
 * killed with SIGKILL leaves its evidence; floods of other records batch. */
static void emit(AieMetrics *m, json_object *o, int urgent)
{
    const char *s =
        o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
    size_t n = s ? strlen(s) : 0;
    char *line = s ? malloc(n + 2) : NULL;
    if (line) {
        memcpy(line, s, n);
        line[n] = '\n';
        line[n + 1] = 0;
    }
    json_object_put(o);
    pthread_mutex_lock(&m->lock);
    m->n.enqueued++;
    if (!line || m->q.count == m->q.cap || m->finished) {
        m->n.dropped++;
        if (!line)
            snprintf(m->last_error, sizeof(m->last_error), "out of memory");
        else if (m->q.count == m->q.cap) {
            m->n.dropped_queue_full++;
            if (!m->last_error[0])
                snprintf(m->last_error, sizeof(m->last_error), "queue full");
        }
        pthread_mutex_unlock(&m->lock);
        free(line);
        return;
    }
    int i = (m->q.head + m->q.count) % m->q.cap;
    m->q.rec[i] = line;
    m->q.len[i] = n + 1;
    m->q.t_us[i] = aie_time_us();
    m->q.count++;
    if (urgent)
        m->urgent = 1;
    if (urgent || m->q.count >= m->batch_max)
        pthread_cond_signal(&m->wake);
    pthread_mutex_unlock(&m->lock);
}

void aie_metrics_finish(AieMetrics *m)
{
    if (!m || !m->started)
        return;
    pthread_mutex_lock(&m->lock);
    if (m->finished) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    m->finished = 1;
    m->stop = 1;
    pthread_cond_signal(&m->wake);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += m->flush_deadline_ms / 1000;
    ts.tv_nsec += (long)(m->flush_deadline_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    while (!m->writer_done)
        if (pthread_cond_timedwait(&m->idle, &m->lock, &ts) == ETIMEDOUT)
            break;
    if (!m->writer_done) {
        /* the writer is stuck in a write (a hung mount): give up on it and on
         * everything still queued; the thread keeps the object alive */
        m->abandoned = 1;
        m->n.dropped += m->q.count + 1; /* the queue and the batch in hand */
        if (!m->last_error[0] || !strcmp(m->last_error, "queue full"))
            snprintf(m->last_error, sizeof(m->last_error), "flush deadline passed");
        pthread_mutex_unlock(&m->lock);
        pthread_detach(m->thread);
        return;
    }
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
}

void aie_metrics_counters(AieMetrics *m, AieMetricsCounters *c)
{
    pthread_mutex_lock(&m->lock);
    *c = m->n;
    c->queued = m->q.count;
    pthread_mutex_unlock(&m->lock);
}

static json_object *stream_desc(const AieStreamDesc *d)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "name", json_object_new_string(d->name ? d->name : ""));
    json_object_object_add(o, "width", json_object_new_int(d->width));
    json_object_object_add(o, "height", json_object_new_int(d->height));
    json_object_object_add(o, "fps", json_object_new_double(d->fps));
    json_object_object_add(o, "pix_fmt", json_object_new_string(d->pix_fmt ? d->pix_fmt : ""));
    return o;
}

/* Returns -1 when a part could not be made (out of memory). */
static int add_run_info(json_object *o, const AieRunInfo *ri)
{
    if (!ri)
        return 0;
    json_object_object_add(o, "method", json_object_new_string(ri->method ? ri->method : ""));
    json_object_object_add(o, "model", ri->model ? json_object_new_string(ri->model) : NULL);
    json_object_object_add(o, "threads", json_object_new_int(ri->threads));
    if (ri->mode)
        json_object_object_add(o, "mode", json_object_new_string(ri->mode));
    json_object *in = stream_desc(&ri->input), *out = stream_desc(&ri->output);
    json_object_object_add(o, "input", in);
    json_object_object_add(o, "output", out);
    if (ri->options_json) {
        json_object *opt = json_tokener_parse(ri->options_json);
        if (opt)
            json_object_object_add(o, "options", opt);
    }
    return in && out ? 0 : -1;
}

void aie_metrics_event(AieMetrics *m, const char *event, const char *fields_json)
{
    if (!m)
        return;
    json_object *o = new_record(m, event);
    json_object *f = o && fields_json ? json_tokener_parse(fields_json) : NULL;
    if (f && json_object_is_type(f, json_type_object)) {
        json_object_object_foreach(f, k, v) json_object_object_add(o, k, json_object_get(v));
    }
    json_object_put(f);
    emit(m, o, 0);
}

void aie_metrics_run_start(AieMetrics *m, const AieRunInfo *ri)
{
    if (!m)
        return;
    json_object *o = new_record(m, "run_start");
    if (o && add_run_info(o, ri)) {
        json_object_put(o);
        o = NULL;
    }
    emit(m, o, 1);
}

static long rss_kb_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) /* NOLINT(cert-err34-c): the kernel's numbers */
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

void aie_metrics_snapshot(AieMetrics *m, int64_t done, int64_t total, double fps, int in_flight)
{
    if (!m)
        return;
    json_object *o = new_record(m, "snapshot");
    if (!o) {
        emit(m, NULL, 1);
        return;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    json_object_object_add(o, "frames_done", json_object_new_int64(done));
    json_object_object_add(o, "frames_total", json_object_new_int64(total));
    json_object_object_add(o, "fps", json_object_new_double(fps));
    json_object_object_add(o, "in_flight", json_object_new_int(in_flight));
    pthread_mutex_lock(&m->lock);
    int queued = m->q.count;
    int64_t dropped = m->n.dropped;
    pthread_mutex_unlock(&m->lock);
    json_object_object_add(o, "metrics_queued", json_object_new_int(queued));
    json_object_object_add(o, "metrics_dropped", json_object_new_int64(dropped));
    json_object_object_add(o, "rss_kb", json_object_new_int64(rss_kb_now()));
    json_object_object_add(o, "cpu_user_ms",
                           json_object_new_int64(ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000));
    json_object_object_add(o, "cpu_sys_ms",
                           json_object_new_int64(ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000));
    emit(m, o, 1);
}

static long mem_total_kb(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    return pages > 0 && psz > 0 ? (long)((double)pages * psz / 1024) : 0;
}

void aie_metrics_run_end(AieMetrics *m, const AieRunInfo *ri, const AiePipelineStats *st,
                         const char *status, const char *error, const char *quality_json)
{
    if (!m)
        return;
    json_object *o = new_record(m, "run_end");
    if (!o) {
        emit(m, NULL, 1);
        return;
    }
    json_object_object_add(o, "status", json_object_new_string(status));
    json_object_object_add(o, "error", error && *error ? json_object_new_string(error) : NULL);
    int bad = add_run_info(o, ri);
    json_object_object_add(o, "cores", json_object_new_int(aie_cpu_count()));
    json_object_object_add(o, "mem_total_kb", json_object_new_int64(mem_total_kb()));
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    static const AiePipelineStats empty;
    if (!st)
        st = &empty;
    json_object_object_add(o, "frames_in", json_object_new_int64(st->frames_in));
    json_object_object_add(o, "frames_out", json_object_new_int64(st->frames_out));
    json_object_object_add(o, "wall_ms", json_object_new_int64(llround(st->wall_ms)));
    json_object_object_add(o, "cpu_user_ms",
                           json_object_new_int64(ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000));
    json_object_object_add(o, "cpu_sys_ms",
                           json_object_new_int64(ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000));
    json_object_object_add(o, "maxrss_kb", json_object_new_int64(ru.ru_maxrss));
    json_object *stages = json_object_new_object();
    if (stages) {
        json_object_object_add(stages, "read", json_object_new_int64(llround(st->read_ms)));
        json_object_object_add(stages, "process", json_object_new_int64(llround(st->process_ms)));
        json_object_object_add(stages, "write", json_object_new_int64(llround(st->write_ms)));
        json_object_object_add(stages, "wait", json_object_new_int64(llround(st->wait_ms)));
        json_object_object_add(stages, "finish", json_object_new_int64(llround(st->finish_ms)));
    }
    json_object_object_add(o, "stages_ms", stages);
    json_object *hist = json_object_new_array();
    for (int i = 0; i < AIE_HIST_BUCKETS && hist; i++) {
        if (!st->frame_hist.count[i])
            continue;
        json_object *pair = json_object_new_array();
        if (!pair) {
            bad = -1;
            break;
        }
        json_object_array_add(pair, json_object_new_int(i));
        json_object_array_add(pair, json_object_new_int64(st->frame_hist.count[i]));
        json_object_array_add(hist, pair);
    }
    json_object_object_add(o, "frame_ms_hist", hist);
    json_object *q = quality_json ? json_tokener_parse(quality_json) : NULL;
    if (!q)
        q = json_object_new_object();
    json_object_object_add(o, "quality", q);
    json_object_object_add(o, "decode_errors", json_object_new_int64(st->decode_errors));
    json_object_object_add(o, "packets_fixed", json_object_new_int64(st->packets_fixed));
    /* the git commit the library was built from ("unknown" outside git) */
    json_object_object_add(o, "commit", json_object_new_string(aie_version_commit()));
    /* counts the records lost before this one */
    json_object_object_add(o, "dropped_records", json_object_new_int64(aie_metrics_dropped(m)));
    if (bad || !stages || !hist || !q) { /* drop the record rather than write it with holes */
        json_object_put(o);
        o = NULL;
    }
    emit(m, o, 1);
}

int64_t aie_metrics_dropped(const AieMetrics *m)
{
    if (!m)
        return 0;
    pthread_mutex_lock((pthread_mutex_t *)&m->lock);
    int64_t d = m->n.dropped;
    pthread_mutex_unlock((pthread_mutex_t *)&m->lock);
    return d;
}

const char *aie_metrics_last_error(const AieMetrics *m)
{
    return m && m->last_error[0] ? m->last_error : NULL;
}

void aie_metrics_close(AieMetrics **pm)
{
    AieMetrics *m = pm ? *pm : NULL;
    if (!m)
        return;
    *pm = NULL;
    aie_metrics_finish(m);
    if (m->abandoned)
        return; /* the stuck writer still uses it; the process is ending */
    if (m->started) {
        pthread_mutex_destroy(&m->lock);
        pthread_cond_destroy(&m->wake);
        pthread_cond_destroy(&m->idle);
    }
    for (int i = 0; i < m->q.cap && m->q.rec; i++)
        free(m->q.rec[i]);
    free(m->q.rec);
    free(m->q.len);
    free(m->q.t_us);
    if (m->fd >= 0)
        close(m->fd);
    json_object_put(m->tags);
    free(m->path);
    free(m->batch_id);
    free(m->job_id);
    free(m);
}
