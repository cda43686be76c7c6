/* Metrics log writer, schema v1 (man/aie-metrics.5). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aie/error.h"
#include "aie/metrics.h"
#include "aie/thread.h"

struct AieMetrics {
    char *path;
    char tool[64], version[32];
    char run_id[33];
    char host[256];
    json_object *tags;
    char *batch_id, *job_id;
    int fd;
    int64_t dropped;
    char last_error[256];
};

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
    if (!c || !c->path || !*c->path || !c->tool) {
        if (err && errlen)
            snprintf(err, errlen, "metrics: no log file named");
        return AIE_EINVAL;
    }
    AieMetrics *m = calloc(1, sizeof(*m));
    if (!m)
        return AIE_ENOMEM;
    m->fd = -1;
    m->path = strdup(c->path);
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
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        /* fall back to time and pid: unique enough for a run id */
        uint64_t a = (uint64_t)aie_time_us() ^ ((uint64_t)getpid() << 32), b = (uint64_t)time(NULL);
        memcpy(rnd, &a, 8);
        memcpy(rnd + 8, &b, 8);
    }
    for (int i = 0; i < 16; i++)
        snprintf(m->run_id + 2 * i, 3, "%02x", rnd[i]);
    if (gethostname(m->host, sizeof(m->host)) != 0)
        snprintf(m->host, sizeof(m->host), "unknown");
    m->host[sizeof(m->host) - 1] = 0;
    m->fd = open(m->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
    if (m->fd < 0)
        snprintf(m->last_error, sizeof(m->last_error), "%s", strerror(errno));
    *out = m;
    return 0;
nomem:
    aie_metrics_close(&m);
    return AIE_ENOMEM;
}

const char *aie_metrics_run_id(const AieMetrics *m) { return m->run_id; }

static json_object *new_record(AieMetrics *m, const char *event)
{
    json_object *o = json_object_new_object();
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

/* One write() per record, O_APPEND: lines from concurrent writers never mix. */
static void emit(AieMetrics *m, json_object *o)
{
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t n = strlen(s);
    char *line = malloc(n + 2);
    if (!line || m->fd < 0) {
        m->dropped++;
        if (!line)
            snprintf(m->last_error, sizeof(m->last_error), "out of memory");
        free(line);
        json_object_put(o);
        return;
    }
    memcpy(line, s, n);
    line[n] = '\n';
    ssize_t w;
    do
        w = write(m->fd, line, n + 1);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)(n + 1)) {
        m->dropped++;
        snprintf(m->last_error, sizeof(m->last_error), "%s",
                 w < 0 ? strerror(errno) : "short write");
    }
    free(line);
    json_object_put(o);
}

static json_object *stream_desc(const AieStreamDesc *d)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(d->name ? d->name : ""));
    json_object_object_add(o, "width", json_object_new_int(d->width));
    json_object_object_add(o, "height", json_object_new_int(d->height));
    json_object_object_add(o, "fps", json_object_new_double(d->fps));
    json_object_object_add(o, "pix_fmt", json_object_new_string(d->pix_fmt ? d->pix_fmt : ""));
    return o;
}

static void add_run_info(json_object *o, const AieRunInfo *ri)
{
    if (!ri)
        return;
    json_object_object_add(o, "method", json_object_new_string(ri->method ? ri->method : ""));
    json_object_object_add(o, "model", ri->model ? json_object_new_string(ri->model) : NULL);
    json_object_object_add(o, "threads", json_object_new_int(ri->threads));
    json_object_object_add(o, "input", stream_desc(&ri->input));
    json_object_object_add(o, "output", stream_desc(&ri->output));
    if (ri->options_json) {
        json_object *opt = json_tokener_parse(ri->options_json);
        if (opt)
            json_object_object_add(o, "options", opt);
    }
}

void aie_metrics_run_start(AieMetrics *m, const AieRunInfo *ri)
{
    if (!m)
        return;
    json_object *o = new_record(m, "run_start");
    add_run_info(o, ri);
    emit(m, o);
}

static long rss_kb_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
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
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    json_object_object_add(o, "frames_done", json_object_new_int64(done));
    json_object_object_add(o, "frames_total", json_object_new_int64(total));
    json_object_object_add(o, "fps", json_object_new_double(fps));
    json_object_object_add(o, "in_flight", json_object_new_int(in_flight));
    json_object_object_add(o, "rss_kb", json_object_new_int64(rss_kb_now()));
    json_object_object_add(o, "cpu_user_ms",
                           json_object_new_int64(ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000));
    json_object_object_add(o, "cpu_sys_ms",
                           json_object_new_int64(ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000));
    emit(m, o);
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
    json_object_object_add(o, "status", json_object_new_string(status));
    json_object_object_add(o, "error", error && *error ? json_object_new_string(error) : NULL);
    add_run_info(o, ri);
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
    json_object_object_add(stages, "read", json_object_new_int64(llround(st->read_ms)));
    json_object_object_add(stages, "process", json_object_new_int64(llround(st->process_ms)));
    json_object_object_add(stages, "write", json_object_new_int64(llround(st->write_ms)));
    json_object_object_add(stages, "wait", json_object_new_int64(llround(st->wait_ms)));
    json_object_object_add(o, "stages_ms", stages);
    json_object *hist = json_object_new_array();
    for (int i = 0; i < AIE_HIST_BUCKETS; i++) {
        if (!st->frame_hist.count[i])
            continue;
        json_object *pair = json_object_new_array();
        json_object_array_add(pair, json_object_new_int(i));
        json_object_array_add(pair, json_object_new_int64(st->frame_hist.count[i]));
        json_object_array_add(hist, pair);
    }
    json_object_object_add(o, "frame_ms_hist", hist);
    json_object *q = quality_json ? json_tokener_parse(quality_json) : NULL;
    json_object_object_add(o, "quality", q ? q : json_object_new_object());
    /* counts the records lost before this one */
    json_object_object_add(o, "dropped_records", json_object_new_int64(m->dropped));
    emit(m, o);
}

int64_t aie_metrics_dropped(const AieMetrics *m) { return m ? m->dropped : 0; }

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
    if (m->fd >= 0)
        close(m->fd);
    json_object_put(m->tags);
    free(m->path);
    free(m->batch_id);
    free(m->job_id);
    free(m);
}
