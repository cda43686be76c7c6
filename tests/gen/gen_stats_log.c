/*
 * gen_stats_log: synthetic aie-metrics(5) logs, written the way the real writer
 * (lib/metrics, json-c) writes them, for aie-stats' golden tests and benchmark.
 *
 *   gen_stats_log SCENARIO > log.jsonl     golden scenarios (small, deterministic)
 *   gen_stats_log bench N > log.jsonl      >= N records of a busy farm
 *
 * Standalone C11 (no libaie): cc -O2 -o gen tests/gen/gen_stats_log.c -lm
 * The expected answers are NOT computed here: scripts/stats-oracle.py reads
 * the logs independently.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- deterministic randomness ---- */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double urand(void) { return (double)(rnd64() >> 11) / 9007199254740992.0; }
static double nrand(void)
{
    double u = urand(), v = urand();
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}
static double jitter(double x, double rel) { return x * (1 + rel * nrand()); }

/* ---- output lines (golden: collected and sorted by time) ---- */
typedef struct Line {
    long long ts, seq;
    char *s;
} Line;
static Line *lines;
static long nlines, caplines, seqno;
static int streaming; /* bench: write at once */

static void emit(long long ts, const char *s)
{
    if (streaming) {
        fputs(s, stdout);
        return;
    }
    if (nlines == caplines) {
        caplines = caplines ? caplines * 2 : 1024;
        lines = realloc(lines, (size_t)caplines * sizeof(*lines));
        if (!lines)
            exit(1);
    }
    lines[nlines].ts = ts;
    lines[nlines].seq = seqno++;
    lines[nlines].s = strdup(s);
    nlines++;
}

static int line_cmp(const void *a, const void *b)
{
    const Line *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void flush_lines(void)
{
    qsort(lines, (size_t)nlines, sizeof(*lines), line_cmp);
    for (long i = 0; i < nlines; i++) {
        fputs(lines[i].s, stdout);
        free(lines[i].s);
    }
    nlines = 0;
}

/* ---- JSON text as json-c prints it ---- */
typedef struct Buf {
    char s[1 << 16];
    size_t n;
} Buf;

static void put(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(Buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, sizeof(b->s) - b->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        b->n += (size_t)k < sizeof(b->s) - b->n ? (size_t)k : sizeof(b->s) - b->n - 1;
}

/* json-c's default double format: %.17g, with ".0" when it reads as an integer */
static void dbl(Buf *b, double v)
{
    char t[40];
    snprintf(t, sizeof(t), "%.17g", v);
    if (!strpbrk(t, ".eEn"))
        strcat(t, ".0");
    put(b, "%s", t);
}

static void ts_str(char out[32], long long ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    if (snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000)) >= 32)
        out[31] = 0;
}

/* ---- a run ---- */
typedef struct Spec {
    const char *tool, *version, *host, *method, *model;
    int pid;
    char run_id[33];
    const char *tags, *batch_id, *job_id;
    int threads, cores;
    long long mem_total_kb;
    char in_name[64];
    int in_w, in_h;
    double in_fps;
    const char *in_pix;
    char out_name[64];
    int out_w, out_h;
    const char *out_pix;
    long long start_ms, frames, frames_out;
    double frame_us, sigma, tail_frac, tail_mult;
    double occ_read, occ_proc, occ_write, occ_wait; /* occ_wait: of the reader's and the writer's time */
    double occ_finish;          /* 0: no stages_ms.finish (logs before 0.2) */
    long long maxrss_kb;
    const char *status, *error; /* error: JSON string body, already escaped */
    const char *quality;        /* JSON object text */
    long long dropped;
    int snapshots;
    double done_frac;           /* < 1: no run_end, snapshots up to this fraction */
    int no_start;               /* failed before processing: no run_start, zero figures */
} Spec;

static long long next_pid = 20000;

static void spec_init(Spec *s, const char *tool, const char *host, long long start_ms)
{
    memset(s, 0, sizeof(*s));
    s->tool = tool;
    s->version = "0.1.0";
    s->host = host;
    s->method = "lanczos";
    s->pid = (int)next_pid++;
    for (int i = 0; i < 32; i++)
        s->run_id[i] = "0123456789abcdef"[rnd64() & 15];
    s->tags = "{}";
    s->threads = 8;
    s->cores = 8;
    s->mem_total_kb = 32658112;
    snprintf(s->in_name, sizeof(s->in_name), "clip%04d.mkv", (int)(rnd64() % 10000));
    snprintf(s->out_name, sizeof(s->out_name), "out%04d.mp4", (int)(rnd64() % 10000));
    s->in_w = 1920;
    s->in_h = 1080;
    s->in_fps = 25;
    s->in_pix = "yuv420p";
    s->out_w = 3840;
    s->out_h = 2160;
    s->out_pix = "yuv420p";
    s->start_ms = start_ms;
    s->frames = 1000;
    s->frame_us = 20000;
    s->sigma = 0.1;
    s->occ_read = 0.45;
    s->occ_proc = 0.70;
    s->occ_write = 0.50;
    s->occ_wait = 0.20;
    s->occ_finish = 0.02;
    s->maxrss_kb = 2000000;
    s->status = "ok";
    s->quality = "{}";
    s->snapshots = 1;
    s->done_frac = 1;
}

static double Phi(double x) { return 0.5 * erfc(-x / M_SQRT2); }

/* Frame time histogram of n frames, lognormal around median_us; bucket i =
 * floor(64 log2 t). Counts by the largest remainder, so they add up to n. */
static int make_hist(long long n, double median_us, double sigma, double tail_frac, double tail_mult,
                     int *idx, long long *cnt, double *sum_us)
{
    int k = 0;
    *sum_us = 0;
    if (n <= 0)
        return 0;
    long long tail = (long long)llround((double)n * tail_frac);
    long long body = n - tail;
    double lm = log2(median_us);
    double span = sigma > 0.005 ? 4.5 * sigma / M_LN2 : 0;
    int lo = (int)floor(64 * (lm - span)), hi = (int)floor(64 * (lm + span));
    if (lo < 0)
        lo = 0;
    if (hi > 2047)
        hi = 2047;
    double rem[4096];
    long long given = 0;
    for (int i = lo; i <= hi; i++) {
        double p;
        if (hi == lo)
            p = 1;
        else {
            double a = (i / 64.0 - lm) * M_LN2 / sigma, b = ((i + 1) / 64.0 - lm) * M_LN2 / sigma;
            p = Phi(b) - Phi(a);
            if (i == lo)
                p = Phi(b);
            if (i == hi)
                p = 1 - Phi(a);
        }
        double want = p * (double)body;
        cnt[k] = (long long)floor(want);
        rem[k] = want - (double)cnt[k];
        idx[k] = i;
        given += cnt[k];
        k++;
    }
    while (given < body) {
        int best = 0;
        for (int i = 1; i < k; i++)
            if (rem[i] > rem[best])
                best = i;
        cnt[best]++;
        rem[best] = -1;
        given++;
    }
    if (tail > 0) {
        int ti = (int)floor(64 * log2(median_us * tail_mult));
        if (ti > 2047)
            ti = 2047;
        int found = -1;
        for (int i = 0; i < k; i++)
            if (idx[i] == ti)
                found = i;
        if (found < 0) {
            idx[k] = ti;
            cnt[k] = 0;
            found = k++;
        }
        cnt[found] += tail;
    }
    /* sort by bucket, drop empty ones */
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
            int ti = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = ti;
            long long tc = cnt[j];
            cnt[j] = cnt[j - 1];
            cnt[j - 1] = tc;
        }
    int m = 0;
    for (int i = 0; i < k; i++)
        if (cnt[i]) {
            idx[m] = idx[i];
            cnt[m] = cnt[i];
            *sum_us += (double)cnt[i] * exp2((idx[i] + 0.5) / 64.0);
            m++;
        }
    return m;
}

static void common(Buf *b, const Spec *s, long long ts, const char *event)
{
    char t[32];
    ts_str(t, ts);
    put(b, "{\"v\":1,\"ts\":\"%s\",\"tool\":\"%s\",\"version\":\"%s\",\"event\":\"%s\",\"run_id\":\"%s\","
           "\"host\":\"%s\",\"pid\":%d,\"tags\":%s",
        t, s->tool, s->version, event, s->run_id, s->host, s->pid, s->tags);
    if (s->batch_id)
        put(b, ",\"batch_id\":\"%s\"", s->batch_id);
    if (s->job_id)
        put(b, ",\"job_id\":\"%s\"", s->job_id);
}

static void stream(Buf *b, const char *key, const char *name, int w, int h, double fps, const char *pix)
{
    put(b, ",\"%s\":{\"name\":\"%s\",\"width\":%d,\"height\":%d,\"fps\":", key, name, w, h);
    dbl(b, fps);
    put(b, ",\"pix_fmt\":\"%s\"}", pix);
}

static void run_info(Buf *b, const Spec *s)
{
    put(b, ",\"method\":\"%s\",\"model\":", s->method);
    if (s->model)
        put(b, "\"%s\"", s->model);
    else
        put(b, "null");
    put(b, ",\"threads\":%d", s->threads);
    stream(b, "input", s->in_name, s->in_w, s->in_h, s->in_fps, s->in_pix);
    stream(b, "output", s->out_name, s->out_w, s->out_h, s->in_fps, s->out_pix);
}

/* Emit the records of one run; returns the time of its last record. */
static long long emit_run(const Spec *s)
{
    static int idx[4200];
    static long long cnt[4200];
    Buf *b = malloc(sizeof(Buf));
    if (!b)
        exit(1);
    double sum_us = 0;
    long long frames = s->no_start ? 0 : s->frames;
    int nh = make_hist(frames, s->frame_us, s->sigma, s->tail_frac, s->tail_mult, idx, cnt, &sum_us);
    double process_ms = sum_us / 1000.0;
    double wall = frames ? process_ms / (s->threads * s->occ_proc) : 0;
    long long wall_ms = llround(wall);
    long long t = s->start_ms;
    if (!s->no_start) {
        b->n = 0;
        common(b, s, t, "run_start");
        run_info(b, s);
        put(b, "}\n");
        emit(t, b->s);
    }
    long long end_ms = s->start_ms + wall_ms + 40;
    long long total = s->frames;
    if (s->snapshots && !s->no_start) {
        for (long long k = 1; k * 10000 < (s->done_frac < 1 ? s->done_frac * wall : wall); k++) {
            double frac = k * 10000.0 / wall;
            long long done = (long long)(frac * (double)total);
            long long ts = s->start_ms + k * 10000 + (long long)(rnd64() % 7);
            double cpu = (k * 10000.0) * (s->threads * s->occ_proc + s->occ_read + s->occ_write);
            b->n = 0;
            common(b, s, ts, "snapshot");
            put(b, ",\"frames_done\":%lld,\"frames_total\":%lld,\"fps\":", done, total);
            dbl(b, done / (k * 10.0));
            put(b, ",\"in_flight\":%d,\"rss_kb\":%lld,\"cpu_user_ms\":%lld,\"cpu_sys_ms\":%lld}\n",
                2 * s->threads + 2, s->maxrss_kb * 9 / 10, (long long)(cpu * 0.97), (long long)(cpu * 0.03));
            emit(ts, b->s);
            end_ms = ts;
        }
    }
    if (s->done_frac < 1) {
        free(b);
        return end_ms;
    }
    end_ms = s->start_ms + wall_ms + 40;
    double rd = s->occ_read * wall, wr = s->occ_write * wall, wt = s->occ_wait * 2 * wall;
    double cpu = (process_ms + rd + wr) * 1.02 + 60;
    b->n = 0;
    common(b, s, end_ms, "run_end");
    put(b, ",\"status\":\"%s\",\"error\":", s->status);
    if (s->error)
        put(b, "\"%s\"", s->error);
    else
        put(b, "null");
    run_info(b, s);
    put(b, ",\"cores\":%d,\"mem_total_kb\":%lld,\"frames_in\":%lld,\"frames_out\":%lld,\"wall_ms\":%lld,"
           "\"cpu_user_ms\":%lld,\"cpu_sys_ms\":%lld,\"maxrss_kb\":%lld,",
        s->cores, s->mem_total_kb, frames, s->no_start ? 0 : (s->frames_out ? s->frames_out : frames), wall_ms,
        (long long)(cpu * 0.96), (long long)(cpu * 0.04), s->maxrss_kb);
    put(b, "\"stages_ms\":{\"read\":%lld,\"process\":%lld,\"write\":%lld,\"wait\":%lld",
        llround(rd), llround(process_ms), llround(wr), llround(wt));
    if (s->occ_finish > 0)
        put(b, ",\"finish\":%lld", llround(s->occ_finish * wall));
    put(b, "},\"frame_ms_hist\":[");
    for (int i = 0; i < nh; i++)
        put(b, "%s[%d,%lld]", i ? "," : "", idx[i], cnt[i]);
    put(b, "],\"quality\":%s,\"dropped_records\":%lld}\n", s->quality, s->dropped);
    emit(end_ms, b->s);
    free(b);
    return end_ms;
}

static void emit_job_end(const Spec *s, long long ts, int attempt, int exit_code, long long queue_ms,
                         long long runtime_ms, const char *cache)
{
    Buf *b = malloc(sizeof(Buf));
    if (!b)
        exit(1);
    b->n = 0;
    Spec j = *s;
    j.tool = "aie-batch";
    common(b, &j, ts, "job_end");
    put(b, ",\"attempt\":%d,\"exit\":%d,\"signal\":0,\"queue_wait_ms\":%lld,\"runtime_ms\":%lld,\"cache\":\"%s\"}\n",
        attempt, exit_code, queue_ms, runtime_ms, cache);
    emit(ts, b->s);
    free(b);
}

/* ---- golden scenarios ---- */

#define T0 1763632800000LL /* 2025-11-20T10:00:00Z */
#define HOUR 3600000LL
#define DAY 86400000LL

static const char *const hosts2[2] = {"render-a", "render-b"};

static char qbuf[64][96];
static int qn;
static const char *qual(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *qual(const char *fmt, ...)
{
    char *q = qbuf[qn++ & 63];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, 96, fmt, ap);
    va_end(ap);
    return q;
}

/* a steady mix: three classes over `days` days, balanced pipelines */
static void healthy_runs(int days, int per_day)
{
    for (int d = 0; d < days; d++)
        for (int k = 0; k < per_day; k++) {
            Spec s;
            long long start = T0 + d * DAY + k * (20 * HOUR / per_day) + (long long)(rnd64() % 60000);
            int kind = k % 3;
            spec_init(&s, kind == 2 ? "aie-interp" : "aie-upscale", hosts2[k & 1], start);
            if (kind == 0) {
                s.frame_us = jitter(90000, 0.03);
                s.quality = qual("{\"roundtrip_psnr_db\":%.3f}", 38.2 + 0.1 * nrand());
            } else if (kind == 1) {
                s.method = "bicubic";
                s.in_w = 1280;
                s.in_h = 720;
                s.out_w = 2560;
                s.out_h = 1440;
                s.frame_us = jitter(30000, 0.03);
                s.quality = qual("{\"roundtrip_psnr_db\":%.3f}", 40.1 + 0.1 * nrand());
            } else {
                s.method = "flow";
                s.out_w = 1920;
                s.out_h = 1080;
                s.frame_us = jitter(60000, 0.03);
                s.quality = qual("{\"unreliable_motion_pct\":%.3f,\"cuts\":2}", 3.0 + 0.04 * nrand());
            }
            s.frames = 600 + (long long)(rnd64() % 600);
            s.occ_proc = jitter(0.72, 0.02);
            s.occ_read = jitter(0.45, 0.03);
            s.occ_write = jitter(0.5, 0.03);
            emit_run(&s);
        }
}

static void scenario(const char *name)
{
    Spec s;
    if (!strcmp(name, "healthy")) {
        healthy_runs(3, 12);
        /* a batch: jobs with a working cache and short waits */
        for (int k = 0; k < 12; k++) {
            spec_init(&s, "aie-upscale", hosts2[k & 1], T0 + 5 * HOUR + k * 600000);
            s.batch_id = "b-healthy";
            char job[16];
            snprintf(job, sizeof(job), "%d", k + 1);
            s.job_id = job;
            emit_job_end(&s, s.start_ms, 1, 0, 5000 + k * 1000, 240000, k % 3 == 0 ? "miss" : "hit");
        }
        return;
    }
    if (!strcmp(name, "decode_bound") || !strcmp(name, "encode_bound")) {
        int dec = !strcmp(name, "decode_bound");
        for (int k = 0; k < 12; k++) {
            spec_init(&s, "aie-upscale", hosts2[k & 1], T0 + k * 1200000);
            s.frames = 800;
            s.occ_proc = jitter(0.35, 0.03);
            s.occ_read = dec ? jitter(0.95, 0.01) : 0.3;
            s.occ_write = dec ? 0.3 : jitter(0.95, 0.01);
            s.occ_wait = 0.5;
            s.in_name[0] = 0;
            snprintf(s.in_name, sizeof(s.in_name), "%s%02d.mp4", dec ? "longgop" : "master", k);
            emit_run(&s);
        }
        return;
    }
    if (!strcmp(name, "process_bound")) {
        for (int k = 0; k < 10; k++) {
            spec_init(&s, "aie-upscale", "render-a", T0 + k * 1800000);
            s.threads = 2;
            s.cores = 16;
            s.occ_proc = jitter(0.97, 0.005);
            s.occ_read = 0.2;
            s.occ_write = 0.25;
            s.occ_wait = 0.1;
            emit_run(&s);
        }
        return;
    }
    if (!strcmp(name, "threads_idle")) {
        for (int k = 0; k < 10; k++) {
            spec_init(&s, "aie-style", "render-b", T0 + k * 1800000);
            s.method = "adain";
            s.model = "starry";
            s.out_w = 1920;
            s.out_h = 1080;
            s.occ_proc = jitter(0.3, 0.02);
            s.occ_read = 0.3;
            s.occ_write = 0.35;
            s.occ_wait = 0.6;
            s.quality = qual("{\"flicker_index\":%.4f}", 0.02 + 0.0005 * nrand());
            emit_run(&s);
        }
        return;
    }
    if (!strcmp(name, "errors")) {
        for (int k = 0; k < 40; k++) {
            spec_init(&s, "aie-upscale", hosts2[k & 1], T0 + k * 600000);
            s.frames = 400;
            char err[200];
            if (k % 4 == 1 || k == 2) {
                int e = k < 20 ? 0 : k < 30 ? 1 : 2;
                if (k == 2)
                    e = 0;
                if (e == 0)
                    snprintf(err, sizeof(err), "%s: input is truncated or damaged: %d frame lost", s.in_name, 1 + k % 3);
                else if (e == 1)
                    snprintf(err, sizeof(err), "%s: cannot scale 640x480 to 40960x30720: dimensions too large", s.in_name);
                else
                    snprintf(err, sizeof(err), "%s: No such file or directory", s.in_name);
                s.status = "failed";
                s.error = err;
                if (e == 2) {
                    s.no_start = 1;
                } else {
                    s.frames = 120;
                }
            } else if (k == 7) {
                s.status = "cancelled";
                s.error = "cancelled";
                s.frames = 50;
            }
            emit_run(&s);
        }
        return;
    }
    if (!strcmp(name, "outliers")) {
        for (int k = 0; k < 30; k++) {
            spec_init(&s, "aie-upscale", hosts2[k & 1], T0 + k * 900000);
            s.frames = 500;
            s.frame_us = jitter(40000, 0.03);
            if (k == 5 || k == 17 || k == 26) {
                s.frame_us *= 5;
                snprintf(s.in_name, sizeof(s.in_name), "slow%02d_10bit.mov", k);
            }
            emit_run(&s);
        }
        /* a second class whose frames have a long tail */
        for (int k = 0; k < 5; k++) {
            spec_init(&s, "aie-interp", "render-a", T0 + k * 3600000 + 1234567);
            s.method = "flow";
            s.in_w = 1280;
            s.in_h = 720;
            s.out_w = 1280;
            s.out_h = 720;
            s.frames = 2000;
            s.frame_us = 25000;
            s.sigma = 0.08;
            s.tail_frac = 0.03;
            s.tail_mult = 9;
            snprintf(s.in_name, sizeof(s.in_name), "spiky%02d.mkv", k);
            s.quality = "{\"unreliable_motion_pct\":4.5,\"cuts\":1}";
            emit_run(&s);
        }
        return;
    }
    if (!strcmp(name, "memory")) {
        for (int k = 0; k < 8; k++) {
            spec_init(&s, "aie-upscale", "render-a", T0 + k * 1800000);
            s.mem_total_kb = 16303412;
            s.maxrss_kb = k == 6 ? 14900000 : 3000000;
            if (k == 6)
                snprintf(s.in_name, sizeof(s.in_name), "huge8k.mov");
            emit_run(&s);
        }
        return;
    }
    if (!strcmp(name, "queue") || !strcmp(name, "cache")) {
        int q = !strcmp(name, "queue");
        for (int k = 0; k < 20; k++) {
            spec_init(&s, "aie-upscale", hosts2[k & 1], T0 + k * 300000);
            s.batch_id = q ? "b-queue" : "b-cache";
            char job[16];
            snprintf(job, sizeof(job), "%d", k + 1);
            s.job_id = job;
            s.frames = 300;
            long long end = emit_run(&s);
            long long qwait = q ? 1500000 + k * 60000 : 200;
            emit_job_end(&s, end + 100, k % 5 == 4 ? 2 : 1, 0, qwait, end - s.start_ms + 500,
                         q ? "off" : (k % 7 == 0 ? "hit" : "miss"));
        }
        return;
    }
    if (!strcmp(name, "regression")) {
        for (int k = 0; k < 40; k++) {
            long long start = T0 + k * (2 * DAY / 40);
            spec_init(&s, "aie-upscale", hosts2[k & 1], start);
            s.frames = 600;
            s.frame_us = jitter(k < 20 ? 40000 : 56000, 0.02);
            s.version = k < 20 ? "0.1.0" : "0.2.0";
            s.occ_finish = k < 20 ? 0 : 0.05;
            emit_run(&s);
        }
        return;
    }
    if (!strcmp(name, "capacity")) {
        /* one host, growing daily volume; no snapshots to keep the file small */
        for (int d = 0; d < 10; d++) {
            int runs = 20 + 4 * d;
            for (int k = 0; k < runs; k++) {
                spec_init(&s, "aie-upscale", "render-a", T0 - 10 * HOUR + d * DAY + k * (23 * HOUR / runs));
                s.frames = 10000;
                s.frame_us = 820800; /* 1080 s a run: one host does 80 runs a day */
                s.sigma = 0.02;
                s.snapshots = 0;
                s.occ_proc = 0.95;
                s.occ_read = 0.3;
                s.occ_write = 0.4;
                emit_run(&s);
            }
        }
        return;
    }
    if (!strcmp(name, "quality")) {
        for (int k = 0; k < 25; k++) {
            spec_init(&s, "aie-upscale", hosts2[k & 1], T0 + k * 600000);
            s.frames = 300;
            double q = 38.0 + 0.2 * nrand();
            if (k == 9 || k == 20) {
                q = k == 9 ? 29.5 : 31.2;
                snprintf(s.in_name, sizeof(s.in_name), "noisy%02d.mkv", k);
            }
            s.quality = qual("{\"roundtrip_psnr_db\":%.3f}", q);
            emit_run(&s);
        }
        return;
    }
    if (!strcmp(name, "damaged")) {
        /* a healthy day, then everything a reader must survive */
        healthy_runs(1, 9);
        /* runs that never ended: one stale with snapshots, one seen only by snapshots */
        spec_init(&s, "aie-upscale", "render-b", T0 + 2 * HOUR);
        s.frames = 20000;
        s.done_frac = 0.4;
        snprintf(s.in_name, sizeof(s.in_name), "killed_oom.mkv");
        emit_run(&s);
        spec_init(&s, "aie-interp", "render-a", T0 + 3 * HOUR);
        s.frames = 20000;
        s.done_frac = 0.3;
        s.method = "flow";
        snprintf(s.in_name, sizeof(s.in_name), "vanished.mkv");
        {
            /* emit only its snapshots: drop the run_start by emitting into a scratch run */
            long save = nlines;
            emit_run(&s);
            free(lines[save].s);
            memmove(lines + save, lines + save + 1, (size_t)(nlines - save - 1) * sizeof(*lines));
            nlines--;
        }
        /* a run whose writer lost records */
        spec_init(&s, "aie-upscale", "render-a", T0 + 4 * HOUR);
        s.dropped = 3;
        emit_run(&s);
        char buf[4096];
        long long t = T0 + 5 * HOUR;
        /* torn write (no newline) followed by a whole record on the same line */
        emit(t, "{\"v\":1,\"ts\":\"2025-11-20T15:00:00.000Z\",\"tool\":\"aie-upscale\",\"version\":\"0.1.0\",\"ev"
                "{\"v\":1,\"ts\":\"2025-11-20T15:00:00.500Z\",\"tool\":\"aie-upscale\",\"version\":\"0.1.0\","
                "\"event\":\"run_start\",\"run_id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"host\":\"render-a\","
                "\"pid\":4242,\"tags\":{},\"method\":\"lanczos\",\"model\":null,\"threads\":8,\"input\":{\"name\":"
                "\"recovered.mkv\",\"width\":1920,\"height\":1080,\"fps\":25.0,\"pix_fmt\":\"yuv420p\"},\"output\":"
                "{\"name\":\"r.mp4\",\"width\":3840,\"height\":2160,\"fps\":25.0,\"pix_fmt\":\"yuv420p\"}}\n");
        /* its run_end, with CRLF, odd whitespace, fields in another order, escapes and unknown fields */
        emit(t + 1, "{ \"event\" : \"run_end\", \"v\":1, \"ts\":\"2025-11-20T15:01:40.000Z\", \"tool\":\"aie-upscale\","
                    "\"version\":\"0.1.0\",\"run_id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"host\":\"render-a\","
                    "\"pid\":4242,\"tags\":{\"shot\":\"12\",\"note\":\"caf\\u00e9 \\\"quoted\\\"\\n2nd line\"},"
                    "\"gpu\":{\"name\":\"none\",\"mem\":[1,2,3]},\"status\":\"ok\",\"error\":null,"
                    "\"method\":\"lanczos\",\"model\":null,\"threads\":8,\"input\":{\"name\":\"recovered.mkv\","
                    "\"width\":1920,\"height\":1080,\"fps\":25,\"pix_fmt\":\"yuv420p\",\"sar\":\"1:1\"},"
                    "\"output\":{\"name\":\"r.mp4\",\"width\":3840,\"height\":2160,\"fps\":2.5e1,\"pix_fmt\":"
                    "\"yuv420p\"},\"cores\":8,\"mem_total_kb\":32658112,\"frames_in\":2500,\"frames_out\":2500,"
                    "\"wall_ms\":100000,\"cpu_user_ms\":640000,\"cpu_sys_ms\":9000,\"maxrss_kb\":2100000,"
                    "\"stages_ms\":{\"read\":45000,\"process\":560000,\"write\":50000,\"wait\":20000,\"gc\":1},"
                    "\"frame_ms_hist\":[[1050,2000],[1060,500]],\"quality\":{\"roundtrip_psnr_db\":38.25,"
                    "\"label\":\"text is ignored\"},\"dropped_records\":0,\"options\":{\"scale\":2}}\r\n");
        emit(t + 2, "this is not json\n");
        emit(t + 3, "\x01\x02\xff\xfe binary junk\n");
        emit(t + 4, "[1,2,3]\n");
        emit(t + 5, "{\"v\":1,\"ts\":\"2025-11-20T15:02:00.000Z\",\"tool\":\"aie-upscale\",\"version\":\"0.1.0\","
                    "\"event\":\"run_end\",\"run_id\":\"bbbbbbbb\",\"host\":\"render-a\",\"pid\":1,\"tags\":{},"
                    "\"status\":\"ok\",\"frames_in\":10,\"wall_ms\":10\n"); /* torn: cut mid-record */
        snprintf(buf, sizeof(buf), "{\"v\":2,\"ts\":\"2025-11-20T15:03:00.000Z\",\"tool\":\"aie-upscale\",\"version\":"
                                   "\"9.0.0\",\"event\":\"run_end\",\"run_id\":\"cccc\",\"status\":\"ok\"}\n");
        emit(t + 6, buf);
        emit(t + 7, "{\"v\":1,\"ts\":\"2025-11-20T15:04:00.000Z\",\"tool\":\"aie-upscale\",\"version\":\"0.1.0\","
                    "\"event\":\"heartbeat\",\"run_id\":\"dddd\",\"host\":\"render-a\",\"pid\":2,\"tags\":{}}\n");
        emit(t + 8, "{\"v\":1,\"tool\":\"aie-upscale\",\"event\":\"run_start\",\"run_id\":\"eeee\"}\n"); /* no ts */
        emit(t + 9, "{\"v\":1,\"ts\":\"yesterday\",\"tool\":\"aie-upscale\",\"event\":\"run_start\"}\n");
        emit(t + 10, "\n   \n");
        /* a batch with retries */
        for (int k = 0; k < 4; k++) {
            spec_init(&s, "aie-upscale", "render-b", T0 + 6 * HOUR + k * 60000);
            s.batch_id = "b-damaged";
            s.job_id = k < 2 ? "1" : "2";
            emit_job_end(&s, s.start_ms, k % 2 + 1, k % 2 ? 0 : 1, 1000, 20000, "off");
        }
        /* the log ends with a torn record (no newline) */
        emit(T0 + 30 * HOUR, "{\"v\":1,\"ts\":\"2025-11-21T16:00:00.000Z\",\"tool\":\"aie-up");
        return;
    }
    fprintf(stderr, "gen_stats_log: unknown scenario '%s'\n", name);
    exit(2);
}

/* ---- the benchmark farm ---- */

typedef struct Slot {
    long long next_ts;
    int host;
    long long free_at;
} Slot;

static void bench(long long want)
{
    static const char *const hostnames[8] = {"farm-01", "farm-02", "farm-03", "farm-04",
                                             "farm-05", "farm-06", "farm-07", "farm-08"};
    static const struct {
        const char *tool, *method, *model;
        int in_w, in_h, out_w, out_h;
        double frame_us;
    } kinds[] = {
        {"aie-upscale", "lanczos", NULL, 1920, 1080, 3840, 2160, 45000},
        {"aie-upscale", "bicubic", NULL, 1280, 720, 2560, 1440, 12000},
        {"aie-upscale", "cnn", "waifu2x-art", 960, 540, 1920, 1080, 250000},
        {"aie-interp", "flow", NULL, 1920, 1080, 1920, 1080, 80000},
        {"aie-style", "adain", "starry", 1280, 720, 1280, 720, 150000},
    };
    streaming = 1;
    long long emitted = 0;
    /* one run at a time per slot; 8 hosts x 4 slots; interleave by a simple
     * time-ordered merge of the slots' pending records */
    enum { SLOTS = 32 };
    typedef struct Pending {
        char *recs[64];
        long long ts[64];
        int n, i;
        long long clock;
    } Pending;
    static Pending p[SLOTS];
    for (int k = 0; k < SLOTS; k++)
        p[k].clock = T0 + (long long)(rnd64() % 600000);
    while (emitted < want) {
        /* refill empty slots with their next run */
        for (int k = 0; k < SLOTS; k++) {
            if (p[k].i < p[k].n)
                continue;
            for (int i = 0; i < p[k].n; i++)
                free(p[k].recs[i]);
            p[k].n = p[k].i = 0;
            int kind = (int)(rnd64() % 5);
            Spec s;
            spec_init(&s, kinds[kind].tool, hostnames[k % 8], p[k].clock);
            s.method = kinds[kind].method;
            s.model = kinds[kind].model;
            s.in_w = kinds[kind].in_w;
            s.in_h = kinds[kind].in_h;
            s.out_w = kinds[kind].out_w;
            s.out_h = kinds[kind].out_h;
            s.frame_us = jitter(kinds[kind].frame_us, 0.1);
            s.sigma = 0.05 + 0.2 * urand();
            s.frames = (long long)exp(log(50) + urand() * (log(4000) - log(50)));
            s.threads = 4;
            s.cores = 16;
            s.occ_proc = 0.5 + 0.45 * urand();
            s.occ_read = 0.2 + 0.7 * urand();
            s.occ_write = 0.2 + 0.7 * urand();
            double qv = kind == 4 ? 0.02 + 0.002 * nrand() : kind == 3 ? 3 + nrand() : 38 + nrand();
            if (kind == 4)
                s.quality = qual("{\"flicker_index\":%.4f}", qv);
            else if (kind == 3)
                s.quality = qual("{\"unreliable_motion_pct\":%.3f,\"cuts\":3}", qv);
            else
                s.quality = qual("{\"roundtrip_psnr_db\":%.3f}", qv);
            if (urand() < 0.03) {
                s.status = "failed";
                s.error = "input is truncated or damaged: 1 frame lost";
                s.frames /= 3;
            }
            int batch = urand() < 0.5;
            if (batch) {
                s.batch_id = "b-farm";
                s.job_id = "1";
            }
            /* collect this run's records */
            streaming = 0;
            long save = nlines;
            long long end = emit_run(&s);
            if (batch)
                emit_job_end(&s, end + 50, urand() < 0.05 ? 2 : 1, 0, (long long)(urand() * 60000),
                             end - s.start_ms, urand() < 0.4 ? "hit" : "miss");
            streaming = 1;
            for (long i = save; i < nlines && p[k].n < 64; i++) {
                p[k].recs[p[k].n] = lines[i].s;
                p[k].ts[p[k].n++] = lines[i].ts;
            }
            for (long i = save + 64; i < nlines; i++)
                free(lines[i].s);
            nlines = save;
            p[k].clock = end + 1000 + (long long)(rnd64() % 30000);
        }
        /* write the earliest pending record */
        int best = 0;
        for (int k = 1; k < SLOTS; k++)
            if (p[k].ts[p[k].i] < p[best].ts[p[best].i])
                best = k;
        fputs(p[best].recs[p[best].i], stdout);
        free(p[best].recs[p[best].i]);
        p[best].recs[p[best].i] = NULL;
        p[best].i++;
        emitted++;
    }
    for (int k = 0; k < SLOTS; k++)
        for (int i = p[k].i; i < p[k].n; i++)
            free(p[k].recs[i]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: gen_stats_log SCENARIO | bench N\n");
        return 2;
    }
    if (!strcmp(argv[1], "bench")) {
        bench(argc > 2 ? atoll(argv[2]) : 2000000);
        return fflush(stdout) ? 1 : 0;
    }
    scenario(argv[1]);
    flush_lines();
    return fflush(stdout) ? 1 : 0;
}
