/* From aggregates to answers: percentiles, the capacity forecast and the
 * findings (thresholds in stats_internal.h, documented in aie-stats(1)). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "stats_internal.h"

const double aie_stats_quantiles[4] = {0.5, 0.9, 0.95, 0.99};

#define DAY_MS 86400000LL

double aie_stats_hist_quantile(const AieHist *h, double q) { return h && h->total ? aie_hist_quantile(h, q) : 0; }

const char *aie_stats_severity_name(int sev)
{
    return sev == 0 ? "critical" : sev == 1 ? "warning" : "info";
}

void aie_stats_group_label(const AieStats *s, const Group *g, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
    if (!s->nby) {
        snprintf(buf, n, "all");
        return;
    }
    for (int i = 0; i < s->nby && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%s=%s", i ? " " : "", s->by[i].name, g->val[i]);
}

static int group_cmp(const void *a, const void *b)
{
    const Group *x = *(Group *const *)a, *y = *(Group *const *)b;
    if (x->other != y->other)
        return x->other - y->other;
    return strcmp(x->key, y->key);
}

/* ---- findings ---- */

static Finding *finding_new(AieStats *s, const char *id, int sev, int group, int klass, const char *subject)
{
    if (s->nfindings == s->findings_cap) {
        int ncap = s->findings_cap ? s->findings_cap * 2 : 16;
        Finding *nf = realloc(s->findings, (size_t)ncap * sizeof(*nf));
        if (!nf)
            return NULL;
        s->findings = nf;
        s->findings_cap = ncap;
    }
    Finding *f = &s->findings[s->nfindings++];
    memset(f, 0, sizeof(*f));
    f->id = id;
    f->severity = sev;
    f->group = group;
    f->klass = klass;
    snprintf(f->subject, sizeof(f->subject), "%s", subject);
    return f;
}

static void ev(Finding *f, const char *name, double v)
{
    if (f->nev < (int)(sizeof(f->ev) / sizeof(f->ev[0]))) {
        f->ev[f->nev].name = name;
        f->ev[f->nev].v = v;
        f->nev++;
    }
}

static void put(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *dst, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, n, fmt, ap);
    va_end(ap);
}

static void add_input(Finding *f, const char *in)
{
    for (int i = 0; i < f->ninputs; i++)
        if (!strcmp(f->inputs[i], in))
            return;
    if (f->ninputs < (int)(sizeof(f->inputs) / sizeof(f->inputs[0])))
        snprintf(f->inputs[f->ninputs++], sizeof(f->inputs[0]), "%s", in);
}

static const char *const finding_order[] = {
    "capacity", "error_rate", "memory", "incomplete_runs", "regression", "decode_bound",
    "encode_bound", "process_bound", "threads_idle", "queue_congestion", "queue_wait",
    "slow_runs", "slow_frames", "cache_low", "metrics_dropped", "quality_outliers",
};

static int order_of(const char *id)
{
    for (size_t i = 0; i < sizeof(finding_order) / sizeof(finding_order[0]); i++)
        if (!strcmp(finding_order[i], id))
            return (int)i;
    return 99;
}

static int finding_cmp(const void *a, const void *b)
{
    const Finding *x = a, *y = b;
    if (x->severity != y->severity)
        return x->severity - y->severity;
    if (order_of(x->id) != order_of(y->id))
        return order_of(x->id) - order_of(y->id);
    return strcmp(x->subject, y->subject);
}

static const char *fmt_dur(char *buf, size_t n, double s)
{
    if (s < 120)
        snprintf(buf, n, "%.0f s", s);
    else if (s < 7200)
        snprintf(buf, n, "%.0f min", s / 60);
    else
        snprintf(buf, n, "%.1f h", s / 3600);
    return buf;
}

static int bound_findings(AieStats *s, int gi, const char *subj)
{
    Group *g = s->groups[gi];
    static const char *const ids[3] = {"decode_bound", "process_bound", "encode_bound"};
    static const char *const what[3] = {"reading and decoding", "processing (per worker thread)",
                                        "encoding and writing"};
    if (g->stage_runs < TH_MIN_RUNS)
        return 0;
    for (int m = 0; m < 3; m++) {
        int64_t nb = g->bound[m];
        double share = (double)nb / (double)g->stage_runs;
        if (nb < 2 || share < TH_BOUND_SHARE)
            continue;
        double occ = g->bound_occ[m] / (double)nb, next = g->bound_next[m] / (double)nb;
        double gain = g->bound_new_wall[m] > 0 ? g->bound_wall[m] / g->bound_new_wall[m] : 1;
        int few = g->cpu_runs && g->fewer_threads * 2 >= g->cpu_runs && g->max_cores > 1;
        int sev = (m == B_PROCESS && !few) ? 2 : 1;
        Finding *f = finding_new(s, ids[m], sev, gi, -1, subj);
        if (!f)
            return AIE_ENOMEM;
        ev(f, "runs", (double)nb);
        ev(f, "of_runs", (double)g->stage_runs);
        ev(f, "stage_share", occ);
        ev(f, "next_stage_share", next);
        ev(f, "gain", gain);
        put(f->summary, sizeof(f->summary),
            "%lld of %lld runs (%.0f%%) are %s-bound: %s keeps the run busy %.0f%% of its wall time, "
            "the next busiest stage %.0f%%",
            (long long)nb, (long long)g->stage_runs, 100 * share,
            m == 0 ? "decode" : m == 1 ? "process" : "encode", what[m], 100 * occ, 100 * next);
        if (m == B_READ)
            put(f->recommendation, sizeof(f->recommendation),
                "Decoding is the limit and it runs on its own: more -j will not help. Give the decoder "
                "an easier input (transcode sources once to an intra-only or lighter codec: y4m, FFV1, "
                "or H.264 with -tune fastdecode), and keep the idle cores busy by running several "
                "inputs at once (aie-batch -j %lld).",
                (long long)(g->max_cores > 1 ? (g->max_cores + 1) / 2 : 2));
        else if (m == B_WRITE)
            put(f->recommendation, sizeof(f->recommendation),
                "Encoding is the limit: use a faster --preset (for libx264, --preset veryfast instead "
                "of the default medium encodes about 3x faster for a somewhat larger file), or write "
                "intermediates without heavy compression (--codec ffv1 or .y4m).");
        else if (sev == 1)
            put(f->recommendation, sizeof(f->recommendation),
                "The workers are the limit and only some cores are used: raise -j to %lld (the cores "
                "available).",
                (long long)g->max_cores);
        else
            put(f->recommendation, sizeof(f->recommendation),
                "The processing itself is the limit with every core in use: a faster --method or a "
                "smaller model is the lever on one machine; otherwise add machines.");
        if (m == B_PROCESS && sev == 2)
            f->gain[0] = 0;
        else
            put(f->gain, sizeof(f->gain), "up to %.1fx faster on these runs", gain);
    }
    return 0;
}

static int idle_finding(AieStats *s, int gi, const char *subj)
{
    Group *g = s->groups[gi];
    if (g->cpu_runs < TH_MIN_RUNS || g->wall_cores_ms <= 0)
        return 0;
    double util = g->cpu_ms / g->wall_cores_ms;
    if (util >= TH_IDLE_UTIL)
        return 0;
    Finding *f = finding_new(s, "threads_idle", 1, gi, -1, subj);
    if (!f)
        return AIE_ENOMEM;
    int few = g->fewer_threads * 2 >= g->cpu_runs;
    int jobs = (int)floor(0.8 / (util > 0.02 ? util : 0.02));
    if (jobs < 2)
        jobs = 2;
    ev(f, "machine_utilisation", util);
    ev(f, "runs", (double)g->cpu_runs);
    ev(f, "cores", (double)g->max_cores);
    ev(f, "threads", (double)g->max_threads);
    put(f->summary, sizeof(f->summary),
        "cores idle: the runs use %.0f%% of the CPU time the host's %lld cores offer (%lld runs, "
        "up to %lld worker threads)",
        100 * util, (long long)g->max_cores, (long long)g->cpu_runs, (long long)g->max_threads);
    if (few)
        put(f->recommendation, sizeof(f->recommendation),
            "Most runs use fewer threads than cores: raise -j to %lld, or run %d jobs per host at "
            "once (aie-batch -j %d).",
            (long long)g->max_cores, jobs, jobs);
    else
        put(f->recommendation, sizeof(f->recommendation),
            "The threads wait on something else (see the stage split): run %d jobs per host at once "
            "(aie-batch -j %d) so the idle cores get work.",
            jobs, jobs);
    put(f->gain, sizeof(f->gain), "up to %.1fx more work per host", 0.8 / (util > 0.02 ? util : 0.02));
    return 0;
}

static int error_finding(AieStats *s, int gi, const char *subj)
{
    Group *g = s->groups[gi];
    int64_t fin = g->ok + g->failed;
    if (g->failed < TH_ERR_MIN || !fin)
        return 0;
    double rate = (double)g->failed / (double)fin;
    if (rate <= TH_ERR_RATE)
        return 0;
    Finding *f = finding_new(s, "error_rate", rate > TH_ERR_RATE_CRIT ? 0 : 1, gi, -1, subj);
    if (!f)
        return AIE_ENOMEM;
    ev(f, "error_rate", rate);
    ev(f, "failed", (double)g->failed);
    ev(f, "runs", (double)fin);
    char top[300] = "";
    size_t o = 0;
    for (int i = 0; i < g->errors.n && i < 3 && o < sizeof(top); i++)
        o += (size_t)snprintf(top + o, sizeof(top) - o, "%s\"%s\" x%lld", i ? "; " : "",
                              g->errors.e[i].msg, (long long)g->errors.e[i].count);
    put(f->summary, sizeof(f->summary), "%.1f%% of runs failed (%lld of %lld); top errors: %s", 100 * rate,
        (long long)g->failed, (long long)fin, top);
    const char *m = g->errors.n ? g->errors.e[0].msg : "";
    if (strstr(m, "truncated") || strstr(m, "damaged"))
        put(f->recommendation, sizeof(f->recommendation),
            "Most failures are damaged or cut-short inputs: fetch them again, or pass --ignore-errors "
            "to keep the frames that decode.");
    else if (strstr(m, "No space left") || strstr(m, "no space left"))
        put(f->recommendation, sizeof(f->recommendation),
            "The output volume is full: free space there or write elsewhere with -o.");
    else if (strstr(m, "ermission denied"))
        put(f->recommendation, sizeof(f->recommendation),
            "Fix the permissions of the inputs and the output directories.");
    else if (strstr(m, "larger than"))
        put(f->recommendation, sizeof(f->recommendation),
            "Outputs would exceed 16384 pixels a side: lower -s/--scale or give --size.");
    else if (strstr(m, "No such file") || strstr(m, "no such file"))
        put(f->recommendation, sizeof(f->recommendation),
            "Inputs are missing: check the paths in the job list.");
    else if (strstr(m, "out of memory") || strstr(m, "Cannot allocate"))
        put(f->recommendation, sizeof(f->recommendation),
            "Runs run out of memory: lower -j or run fewer jobs per host.");
    else
        put(f->recommendation, sizeof(f->recommendation),
            "Fix the most frequent error first; the failures list (--top N) names the inputs.");
    put(f->gain, sizeof(f->gain), "%lld runs (%.0f%%) that need not be run again", (long long)g->failed,
        100 * rate);
    for (int i = 0; i < g->failures.n; i++)
        add_input(f, g->failures.items[i].input);
    return 0;
}

static int queue_findings(AieStats *s, int gi, const char *subj)
{
    Group *g = s->groups[gi];
    if (g->queue_n < TH_QUEUE_MIN_JOBS)
        return 0;
    char b1[32], b2[32];
    double share = g->queue_s + g->runtime_s > 0 ? g->queue_s / (g->queue_s + g->runtime_s) : 0;
    if (share > TH_QUEUE_SHARE) {
        Finding *f = finding_new(s, "queue_congestion", 1, gi, -1, subj);
        if (!f)
            return AIE_ENOMEM;
        ev(f, "queue_share", share);
        ev(f, "jobs", (double)g->queue_n);
        ev(f, "queue_s_mean", g->queue_s / (double)g->queue_n);
        ev(f, "runtime_s_mean", g->runtime_s / (double)g->queue_n);
        put(f->summary, sizeof(f->summary),
            "queue congestion: jobs spend %.0f%% of their time waiting (mean wait %s, mean runtime %s, "
            "%lld jobs)",
            100 * share, fmt_dur(b1, sizeof(b1), g->queue_s / (double)g->queue_n),
            fmt_dur(b2, sizeof(b2), g->runtime_s / (double)g->queue_n), (long long)g->queue_n);
        put(f->recommendation, sizeof(f->recommendation),
            "More work arrives than the job slots take: raise aie-batch -j where cores are idle, or "
            "spread the batch over more hosts.");
        put(f->gain, sizeof(f->gain), "turnaround up to %.1fx shorter", 1 / (1 - share));
    }
    double p95 = aie_shist_quantile(&g->queue_hist, 0.95), p50 = aie_shist_quantile(&g->queue_hist, 0.5);
    if (p95 > TH_QUEUE_LONG_S) {
        Finding *f = finding_new(s, "queue_wait", p95 > TH_QUEUE_CRIT_S ? 0 : 1, gi, -1, subj);
        if (!f)
            return AIE_ENOMEM;
        ev(f, "queue_wait_p95_s", p95);
        ev(f, "queue_wait_p50_s", p50);
        ev(f, "jobs", (double)g->queue_n);
        put(f->summary, sizeof(f->summary), "long queue waits: p95 %s, p50 %s (%lld jobs)",
            fmt_dur(b1, sizeof(b1), p95), fmt_dur(b2, sizeof(b2), p50), (long long)g->queue_n);
        put(f->recommendation, sizeof(f->recommendation),
            "Jobs wait more than %.0f minutes before they start: raise aie-batch -j, add hosts, or "
            "run urgent work as its own batch.",
            TH_QUEUE_LONG_S / 60);
    }
    return 0;
}

static int memory_finding(AieStats *s, int gi, const char *subj)
{
    Group *g = s->groups[gi];
    if (g->peak_ratio < TH_MEM)
        return 0;
    Finding *f = finding_new(s, "memory", g->peak_ratio >= TH_MEM_CRIT ? 0 : 1, gi, -1, subj);
    if (!f)
        return AIE_ENOMEM;
    ev(f, "peak_memory_ratio", g->peak_ratio);
    ev(f, "peak_rss_kb", (double)g->peak_rss_kb);
    ev(f, "mem_total_kb", (double)g->peak_mem_total_kb);
    put(f->summary, sizeof(f->summary),
        "memory close to the limit: a run peaked at %.0f%% of its host's memory (%.1f GiB, input %s)",
        100 * g->peak_ratio, (double)g->peak_rss_kb / 1048576.0, g->peak_input);
    put(f->recommendation, sizeof(f->recommendation),
        "Lower -j (every worker holds frames in flight) or run fewer jobs per host; near 100%% the "
        "kernel's OOM killer ends runs.");
    add_input(f, g->peak_input);
    return 0;
}

static int cache_finding(AieStats *s, int gi, const char *subj)
{
    Group *g = s->groups[gi];
    int64_t used = g->cache_hit + g->cache_miss;
    if (used < TH_CACHE_MIN)
        return 0;
    double rate = (double)g->cache_hit / (double)used;
    if (rate >= TH_CACHE_RATE)
        return 0;
    Finding *f = finding_new(s, "cache_low", 1, gi, -1, subj);
    if (!f)
        return AIE_ENOMEM;
    ev(f, "hit_rate", rate);
    ev(f, "hits", (double)g->cache_hit);
    ev(f, "misses", (double)g->cache_miss);
    put(f->summary, sizeof(f->summary), "cache hit rate %.0f%% (%lld hits, %lld misses)", 100 * rate,
        (long long)g->cache_hit, (long long)g->cache_miss);
    put(f->recommendation, sizeof(f->recommendation),
        "The cache rarely pays off: keep job options stable between runs (the cache key is the job "
        "printed by --dry-run --json), or turn the cache off to save its disk space and lookups.");
    return 0;
}

static int dropped_finding(AieStats *s, int gi, const char *subj)
{
    Group *g = s->groups[gi];
    if (g->dropped_records <= 0)
        return 0;
    Finding *f = finding_new(s, "metrics_dropped", 1, gi, -1, subj);
    if (!f)
        return AIE_ENOMEM;
    ev(f, "dropped_records", (double)g->dropped_records);
    put(f->summary, sizeof(f->summary),
        "the tools could not write %lld metrics records: this report undercounts", (long long)g->dropped_records);
    put(f->recommendation, sizeof(f->recommendation),
        "Check the log's file system (space, permissions); on NFS give each host its own log and "
        "merge them here (aie-stats LOG...).");
    return 0;
}

static int incomplete_finding(AieStats *s, int gi, const char *subj)
{
    Group *g = s->groups[gi];
    if (g->incomplete_stale <= 0)
        return 0;
    Finding *f = finding_new(s, "incomplete_runs", 1, gi, -1, subj);
    if (!f)
        return AIE_ENOMEM;
    ev(f, "incomplete", (double)g->incomplete_stale);
    put(f->summary, sizeof(f->summary),
        "%lld run%s started and never ended (no run_end, and silent for over %d s)",
        (long long)g->incomplete_stale, g->incomplete_stale == 1 ? "" : "s", TH_STALE_MS / 1000);
    put(f->recommendation, sizeof(f->recommendation),
        "These processes were killed or crashed: look for OOM kills in the hosts' kernel log "
        "(dmesg), and rerun the inputs listed.");
    for (int i = 0; i < g->open_list.n; i++)
        if (g->open_list.items[i].b > 0)
            add_input(f, g->open_list.items[i].input);
    return 0;
}

/* Quality outliers are judged within a class (same tool, method, model and
 * input size), where the scores are comparable. */
static int quality_findings(AieStats *s, int ci)
{
    Class *c = s->classes[ci];
    for (int k = 0; k < c->nq; k++) {
        QualStat *q = &c->q[k];
        if (!q->nout)
            continue;
        Finding *f = finding_new(s, "quality_outliers", 2, -1, ci, c->label);
        if (!f)
            return AIE_ENOMEM;
        ev(f, "outliers", q->nout);
        ev(f, "p50", q->p50);
        ev(f, "threshold", q->thr);
        ev(f, "runs", (double)q->h.n);
        char list[300] = "";
        size_t o = 0;
        TopN *sides[2] = {&q->low, &q->high};
        for (int sd = 0; sd < 2; sd++)
            for (int i = 0; i < sides[sd]->n; i++) {
                TopItem *it = &sides[sd]->items[i];
                if (fabs(it->a - q->p50) > q->thr) {
                    add_input(f, it->input);
                    if (o < sizeof(list))
                        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s %.4g", o ? ", " : "",
                                              it->input, it->a);
                }
            }
        put(f->summary, sizeof(f->summary), "%s: %d run%s outside p50 %.4g +- %.3g (%llu runs): %s", q->name,
            q->nout, q->nout == 1 ? "" : "s", q->p50, q->thr, (unsigned long long)q->h.n, list);
        put(f->recommendation, sizeof(f->recommendation),
            "Check these inputs and outputs by eye: unusual content (noise, interlacing, letterboxing, "
            "scene cuts) or a damaged source usually explains such scores.");
    }
    return 0;
}

static int quality_compute(QualStat *q, int outliers)
{
    q->p50 = aie_shist_quantile(&q->h, 0.5);
    q->p90 = aie_shist_quantile(&q->h, 0.9);
    q->nout = 0;
    q->mad = q->sigma = 0;
    aie_topn_sort(&q->low);
    aie_topn_sort(&q->high);
    if (q->h.n < TH_Q_MIN_RUNS)
        return 0;
    q->mad = aie_shist_mad(&q->h, q->p50);
    if (isnan(q->mad))
        return AIE_ENOMEM;
    q->sigma = 1.4826 * q->mad;
    q->thr = TH_Q_SIGMA * q->sigma;
    if (q->thr < TH_Q_REL * fabs(q->p50))
        q->thr = TH_Q_REL * fabs(q->p50);
    if (!(q->thr > 0))
        q->thr = 1e-12;
    if (!outliers)
        return 0;
    for (int i = 0; i < q->low.n; i++)
        q->nout += q->low.items[i].a < q->p50 - q->thr;
    for (int i = 0; i < q->high.n; i++)
        q->nout += q->high.items[i].a > q->p50 + q->thr;
    return 0;
}

/* Classes: slow outliers and regressions. */
static int class_findings(AieStats *s, int ci)
{
    Class *c = s->classes[ci];
    /* slow runs */
    if (c->spf.n >= TH_SLOW_MIN_RUNS) {
        double p50 = aie_shist_quantile(&c->spf, 0.5), p99 = aie_shist_quantile(&c->spf, 0.99);
        if (p50 > 0 && p99 > TH_SLOW_RATIO * p50) {
            Finding *f = finding_new(s, "slow_runs", 1, -1, ci, c->label);
            if (!f)
                return AIE_ENOMEM;
            ev(f, "p99_over_p50", p99 / p50);
            ev(f, "p50_s_per_frame", p50);
            ev(f, "p99_s_per_frame", p99);
            ev(f, "runs", (double)c->spf.n);
            char list[300] = "";
            size_t o = 0;
            aie_topn_sort(&c->slowest);
            for (int i = 0; i < c->slowest.n; i++) {
                TopItem *it = &c->slowest.items[i];
                if (it->key > TH_SLOW_RATIO * p50) {
                    add_input(f, it->input);
                    if (o < sizeof(list))
                        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s (%.1fx, %s)", o ? ", " : "",
                                              it->input, it->key / p50, it->host);
                }
            }
            put(f->summary, sizeof(f->summary),
                "slow outliers: p99 time per frame is %.1fx the median (%.3g s vs %.3g s over %llu runs); "
                "slowest: %s",
                p99 / p50, p99, p50, (unsigned long long)c->spf.n, list);
            put(f->recommendation, sizeof(f->recommendation),
                "Look at what these inputs share (codec, bit depth, interlacing, length) and which hosts "
                "ran them: --where res=%s --by host shows a slow host; a contended host wants fewer "
                "jobs at once.",
                strrchr(c->key, '\x1f') ? strrchr(c->key, '\x1f') + 1 : "-");
            put(f->gain, sizeof(f->gain), "these runs are %.1fx slower than the median one", p99 / p50);
        }
    }
    /* slow frames */
    if (c->frame_hist && c->frame_hist->total >= TH_SLOW_MIN_FRAMES) {
        double p50 = aie_hist_quantile(c->frame_hist, 0.5) / 1000, p99 = aie_hist_quantile(c->frame_hist, 0.99) / 1000;
        if (p50 > 0 && p99 > TH_SLOW_RATIO * p50) {
            Finding *f = finding_new(s, "slow_frames", 1, -1, ci, c->label);
            if (!f)
                return AIE_ENOMEM;
            ev(f, "p99_over_p50", p99 / p50);
            ev(f, "frame_ms_p50", p50);
            ev(f, "frame_ms_p99", p99);
            ev(f, "frames", (double)c->frame_hist->total);
            char list[300] = "";
            size_t o = 0;
            aie_topn_sort(&c->tail);
            for (int i = 0; i < c->tail.n; i++) {
                TopItem *it = &c->tail.items[i];
                if (it->key > TH_SLOW_RATIO * p50) {
                    add_input(f, it->input);
                    if (o < sizeof(list))
                        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s (p99 %.3g ms, %s)",
                                              o ? ", " : "", it->input, it->key, it->host);
                }
            }
            put(f->summary, sizeof(f->summary),
                "frame-time spikes: p99 per-frame time is %.1fx the median (%.3g ms vs %.3g ms over %llu "
                "frames); worst: %s",
                p99 / p50, p99, p50, (unsigned long long)c->frame_hist->total, list);
            put(f->recommendation, sizeof(f->recommendation),
                "Some frames take far longer than the rest: look for memory pressure, swapping or "
                "competing jobs on those hosts (run fewer jobs at once), or CPU throttling.");
        }
    }
    /* regression: newer half slower than the older half */
    if (s->last_run > s->first_run && s->last_run - s->first_run >= TH_REG_MIN_SPAN_MS) {
        int64_t mid = s->first_run + (s->last_run - s->first_run) / 2;
        double n[2] = {0, 0}, lf[2] = {0, 0};
        TSeries *t = c->ts;
        for (int b = 0; b < TS_BINS; b++) {
            if (!t->used || !t->v[b][0])
                continue;
            int64_t center = (t->first + b) * t->w + t->w / 2;
            int h = center >= mid;
            n[h] += t->v[b][0];
            lf[h] += t->v[b][1];
        }
        if (n[0] >= TH_REG_MIN_RUNS && n[1] >= TH_REG_MIN_RUNS) {
            double old = exp(lf[0] / n[0]), now = exp(lf[1] / n[1]);
            double ratio = now / old;
            if (ratio < 1 - TH_REG_SLOWER) {
                Finding *f = finding_new(s, "regression", ratio < 1 - TH_REG_CRIT ? 0 : 1, -1, ci, c->label);
                if (!f)
                    return AIE_ENOMEM;
                ev(f, "fps_older", old);
                ev(f, "fps_newer", now);
                ev(f, "change", ratio - 1);
                ev(f, "runs_older", n[0]);
                ev(f, "runs_newer", n[1]);
                char ts[32];
                aie_stats_format_ts(ts, mid);
                put(f->summary, sizeof(f->summary),
                    "regression: %.3g fps in the older half of the window, %.3g fps in the newer half "
                    "(%+.0f%%; %.0f and %.0f runs, split at %s)",
                    old, now, 100 * (ratio - 1), n[0], n[1], ts);
                if (strcmp(c->first_version, c->last_version))
                    put(f->recommendation, sizeof(f->recommendation),
                        "The version changed from %s to %s over the window: compare the two (pin %s "
                        "meanwhile), and check the hosts with --where tool=%s --by host,day.",
                        c->first_version, c->last_version, c->first_version, c->tool);
                else
                    put(f->recommendation, sizeof(f->recommendation),
                        "Same version throughout: compare hosts and days with --where tool=%s --by "
                        "host,day (a new or busier host, other jobs, thermal limits).",
                        c->tool);
                put(f->gain, sizeof(f->gain), "%.2fx back if the older speed returns", 1 / ratio);
            }
        }
    }
    return 0;
}

/* ---- capacity forecast ---- */

static int day_index(int64_t ms) { return (int)(ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS)); }

static void capacity(AieStats *s)
{
    Capacity *cp = &s->cap;
    memset(cp, 0, sizeof(*cp));
    cp->days_one_full = cp->days_hosts_full = -1;
    cp->hosts = s->nhosts;
    if (s->last_run < s->first_run)
        return;
    const TSeries *t = &s->days;
    double mp = 0, frames = 0, runs = 0, machine_s = 0;
    for (int b = 0; b < TS_BINS; b++) {
        mp += t->v[b][0];
        frames += t->v[b][1];
        runs += t->v[b][2];
        machine_s += t->v[b][3];
    }
    int d0 = day_index(s->first_run), d1 = day_index(s->last_run);
    cp->days = d1 - d0 + 1;
    double wd0 = (double)t->w / (double)DAY_MS;
    for (int b = 0; b < TS_BINS; b++)
        cp->days_with_data += t->v[b][2] > 0 ? wd0 : 0;
    cp->daily_mpix = mp / cp->days;
    cp->daily_frames = frames / cp->days;
    cp->daily_runs = runs / cp->days;
    cp->machine_mps = machine_s > 0 ? mp / machine_s : 0;
    cp->hours_one_machine = cp->machine_mps > 0 ? cp->daily_mpix / cp->machine_mps / 3600 : 0;
    cp->enough = cp->days_with_data >= 2;
    if (!cp->enough)
        return;
    /* least squares over the bins (each worth w/DAY_MS days), zeros included */
    double wd = (double)t->w / (double)DAY_MS;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, k = 0, xlast = 0;
    for (int64_t i = t->min_i; i <= t->max_i; i++) {
        int b = (int)(i - t->first);
        double x = ((double)i + 0.5) * wd, y = t->v[b][0] / wd;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        k++;
        xlast = x;
    }
    double den = k * sxx - sx * sx;
    double slope = k >= 2 && den > 0 ? (k * sxy - sx * sy) / den : 0;
    double icpt = (sy - slope * sx) / k;
    cp->slope_mpix = slope;
    cp->level_mpix = icpt + slope * xlast;
    if (cp->level_mpix < 0)
        cp->level_mpix = 0;
    double one = cp->machine_mps * 86400.0;
    if (one > 0) {
        double cap[2] = {one, one * (double)(cp->hosts > 0 ? cp->hosts : 1)};
        double *out[2] = {&cp->days_one_full, &cp->days_hosts_full};
        for (int i = 0; i < 2; i++)
            *out[i] = cp->level_mpix >= cap[i] ? 0 : slope > 0 ? (cap[i] - cp->level_mpix) / slope : -1;
    }
}

static int capacity_finding(AieStats *s)
{
    Capacity *cp = &s->cap;
    if (!cp->enough || cp->machine_mps <= 0 || cp->days_hosts_full < 0 || cp->days_hosts_full > TH_CAP_DAYS)
        return 0;
    int now = cp->days_hosts_full == 0;
    Finding *f = finding_new(s, "capacity", now ? 0 : 1, -1, -1, "all");
    if (!f)
        return AIE_ENOMEM;
    double per_host = cp->machine_mps * 86400.0;
    ev(f, "daily_megapixels", cp->level_mpix);
    ev(f, "machine_day_megapixels", per_host);
    ev(f, "hosts", (double)cp->hosts);
    ev(f, "days_until_full", cp->days_hosts_full);
    ev(f, "trend_megapixels_per_day", cp->slope_mpix);
    double need30 = (cp->level_mpix + (cp->slope_mpix > 0 ? cp->slope_mpix * TH_CAP_DAYS : 0)) / per_host;
    if (now)
        put(f->summary, sizeof(f->summary),
            "over capacity: the daily demand (%.4g MP) exceeds what %lld host%s in a day (%.4g MP)",
            cp->level_mpix, (long long)cp->hosts, cp->hosts == 1 ? " does" : "s do", per_host * (double)cp->hosts);
    else
        put(f->summary, sizeof(f->summary),
            "capacity: at the current trend (%+.3g MP/day each day) the daily demand (%.4g MP now) "
            "exceeds what %lld host%s in a day (%.4g MP) in %.0f days",
            cp->slope_mpix, cp->level_mpix, (long long)cp->hosts, cp->hosts == 1 ? " does" : "s do",
            per_host * (double)cp->hosts, cp->days_hosts_full);
    put(f->recommendation, sizeof(f->recommendation),
        "Plan for %.0f host%s of the current speed within %d days (now %lld), or a faster --method.",
        ceil(need30), ceil(need30) == 1 ? "" : "s", TH_CAP_DAYS, (long long)cp->hosts);
    return 0;
}

/* ---- compute everything ---- */

int aie_stats_compute(AieStats *s)
{
    int err = 0;
    if (s->ngroups > 1)
        qsort(s->groups, (size_t)s->ngroups, sizeof(*s->groups), group_cmp);
    for (int gi = 0; gi < s->ngroups; gi++) {
        Group *g = s->groups[gi];
        for (int k = 0; k < 4; k++) {
            g->p_fps[k] = aie_shist_quantile(&g->run_fps, aie_stats_quantiles[k]);
            g->p_frame_ms[k] = aie_stats_hist_quantile(g->frame_hist, aie_stats_quantiles[k]) / 1000.0;
        }
        aie_ss_sort(&g->errors);
        aie_topn_sort(&g->slowest);
        aie_topn_sort(&g->failures);
        aie_topn_sort(&g->open_list);
        for (int k = 0; k < g->nq && !err; k++)
            err = quality_compute(&g->q[k], 0);
    }
    for (int ci = 0; ci < s->nclasses && !err; ci++)
        for (int k = 0; k < s->classes[ci]->nq && !err; k++)
            err = quality_compute(&s->classes[ci]->q[k], 1);
    if (err)
        return err;
    capacity(s);
    s->nfindings = 0;
    for (int gi = 0; gi < s->ngroups && !err; gi++) {
        char subj[200];
        aie_stats_group_label(s, s->groups[gi], subj, sizeof(subj));
        if ((err = bound_findings(s, gi, subj)) || (err = idle_finding(s, gi, subj)) ||
            (err = error_finding(s, gi, subj)) || (err = queue_findings(s, gi, subj)) ||
            (err = memory_finding(s, gi, subj)) || (err = cache_finding(s, gi, subj)) ||
            (err = dropped_finding(s, gi, subj)) || (err = incomplete_finding(s, gi, subj)))
            break;
    }
    for (int ci = 0; ci < s->nclasses && !err; ci++)
        if (!(err = class_findings(s, ci)))
            err = quality_findings(s, ci);
    if (!err)
        err = capacity_finding(s);
    if (s->nfindings > 1)
        qsort(s->findings, (size_t)s->nfindings, sizeof(*s->findings), finding_cmp);
    return err;
}

int aie_stats_findings(const AieStats *s, int severity)
{
    int n = 0;
    for (int i = 0; i < s->nfindings; i++)
        n += s->findings[i].severity == severity;
    return n;
}
