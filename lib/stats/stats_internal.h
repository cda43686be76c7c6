/* Private to lib/stats: the aggregator's state, bounded summaries, the
 * computed report and findings shared by the renderers. */
#ifndef AIE_STATS_INTERNAL_H
#define AIE_STATS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aie/metrics.h"
#include "aie/stats.h"
#include "record.h"

/* ---- thresholds of the findings (documented in aie-stats(1)) ---- */
#define TH_MIN_WALL_MS 1000     /* runs shorter than this are not judged for bottlenecks */
#define TH_MIN_RUNS 3           /* eligible runs before a bottleneck finding */
#define TH_BOUND_OCC 0.85       /* a stage busy >= 85% of the wall time ... */
#define TH_BOUND_RATIO 1.5      /* ... and 1.5x busier than the next stage: it is the bound */
#define TH_BOUND_SHARE 0.30     /* share of a group's runs that must be bound */
#define TH_IDLE_UTIL 0.50       /* machine utilisation below this: cores idle */
#define TH_ERR_RATE 0.05
#define TH_ERR_RATE_CRIT 0.25
#define TH_ERR_MIN 2
#define TH_QUEUE_SHARE 0.50     /* queue wait / (queue wait + runtime) */
#define TH_QUEUE_MIN_JOBS 5
#define TH_QUEUE_LONG_S 600.0   /* p95 queue wait */
#define TH_QUEUE_CRIT_S 3600.0
#define TH_SLOW_RATIO 3.0       /* p99 > 3 x p50 */
#define TH_SLOW_MIN_RUNS 5
#define TH_SLOW_MIN_FRAMES 1000
#define TH_MEM 0.80
#define TH_MEM_CRIT 0.95
#define TH_CACHE_RATE 0.30
#define TH_CACHE_MIN 10
#define TH_REG_SLOWER 0.15      /* newer half at least 15% slower */
#define TH_REG_CRIT 0.40
#define TH_REG_MIN_RUNS 5       /* per half */
#define TH_REG_MIN_SPAN_MS 3600000
#define TH_CAP_DAYS 30          /* capacity warning horizon */
#define TH_STALE_MS 120000      /* an open run silent this long has died */
#define TH_Q_SIGMA 3.0          /* quality outliers: |x - p50| > 3 * 1.4826 * MAD */
#define TH_Q_MIN_RUNS 5
#define TH_Q_REL 0.05           /* ... and more than 5% of |p50| away */

/* ---- signed log-bucket histogram (64 buckets per doubling) ----
 * Bounded: at most 2 x 4096 buckets (|x| from 2^-32 to 2^32), grown lazily
 * over the buckets actually used. Percentiles within 0.55%. */
typedef struct SHist {
    uint64_t n, zero;
    int lo[2], len[2]; /* [0] positive, [1] negative values */
    uint32_t *c[2];
    double min, max, sum;
} SHist;

int aie_shist_add(SHist *h, double x);
double aie_shist_quantile(const SHist *h, double q);
double aie_shist_mad(const SHist *h, double center); /* median absolute deviation; NAN: out of memory */
void aie_shist_free(SHist *h);
size_t aie_shist_bytes(const SHist *h);

/* ---- adaptive time series: TS_BINS bins whose width doubles as the span grows ---- */
#define TS_BINS 128
#define TS_VALS 4
typedef struct TSeries {
    int64_t base_w, w;   /* bin width in ms */
    int64_t first;       /* absolute index (t / w) of bin 0 */
    int64_t min_i, max_i;
    int used;
    double v[TS_BINS][TS_VALS];
} TSeries;

void aie_ts_init(TSeries *t, int64_t base_w);
void aie_ts_add(TSeries *t, int64_t t_ms, const double *vals, int nvals);
/* Bin b covers [ (first + b) * w, (first + b + 1) * w ). */

/* ---- bounded top-N (keeps the N largest keys) ---- */
typedef struct TopItem {
    double key;
    int64_t ts_ms, i1, i2, i3;
    double a, b, c;
    char run_id[33];
    char host[48];
    char input[128];
    char text[200];
} TopItem;

typedef struct TopN {
    int cap, n;
    TopItem *items;
} TopN;

int aie_topn_accepts(const TopN *t, double key);
int aie_topn_offer(TopN *t, const TopItem *it); /* 0 or AIE_ENOMEM */
void aie_topn_sort(TopN *t);                    /* largest key first */
void aie_topn_free(TopN *t);

/* ---- Space-Saving heavy hitters (error counts) ---- */
#define SS_CAP 32
typedef struct SSEntry {
    char msg[160];
    int64_t count, over; /* over: the most by which count may overstate */
} SSEntry;
typedef struct SpaceSaving {
    int n;
    int64_t total;
    SSEntry *e;
} SpaceSaving;

int aie_ss_add(SpaceSaving *s, const char *msg);
void aie_ss_sort(SpaceSaving *s);
void aie_ss_free(SpaceSaving *s);

/* ---- groups, classes, open runs ---- */
enum { KEY_TOOL, KEY_METHOD, KEY_MODEL, KEY_HOST, KEY_RES, KEY_BATCH, KEY_DAY, KEY_TAG };
extern const char *const aie_stats_key_names[8];

typedef struct KeySpec {
    int kind;
    char tag[REC_MAX_KEY + 1];
    char name[REC_MAX_KEY + 8]; /* as written: "tool", "tag:shot" */
} KeySpec;

typedef struct Filter {
    KeySpec key;
    int negate;
    char *value;
} Filter;

typedef struct QualStat {
    char name[REC_MAX_KEY + 1];
    SHist h;
    int64_t identical; /* frames of infinite score (S_identical), kept out of h */
    TopN low, high; /* outlier candidates: keys -x and x (classes only) */
    /* computed */
    double p50, p90, mad, sigma, thr; /* thr: the outlier distance from p50 */
    int nout;
} QualStat;

#define MAX_QUALITY 16
enum { B_READ, B_PROCESS, B_WRITE };

typedef struct Group {
    char *key;                       /* values joined by \x1f (owned) */
    char *val[AIE_STATS_MAX_BY];     /* owned copies */
    int other;                       /* the overflow group */
    int64_t runs, ok, failed, cancelled, other_status;
    int64_t frames; double mpix;     /* of ok runs: input frames, output megapixels */
    int64_t jobs, retries, jobs_failed, cache_hit, cache_miss, cache_off;
    int64_t queue_n; double queue_s, runtime_s;
    SHist queue_hist;                /* queue waits, seconds */
    /* speed: ok runs with frames and wall time */
    int64_t speed_runs; double sp_frames, sp_wall_ms, sp_mpix, fps_sum;
    SHist run_fps;
    AieHist *frame_hist;
    /* stages and cpu: ok runs of at least TH_MIN_WALL_MS */
    int64_t stage_runs; double st_wall, st[5], st_fin_wall; /* st[k]: share x wall, summed; st[4] finish over st_fin_wall */
    int64_t bound[3]; double bound_wall[3], bound_new_wall[3], bound_occ[3], bound_next[3];
    int64_t cpu_runs; double cpu_ms, wall_thr_ms, wall_cores_ms;
    int64_t fewer_threads; int64_t max_threads, max_cores;
    /* memory */
    int64_t peak_rss_kb, peak_mem_total_kb; double peak_ratio; char peak_input[128];
    QualStat *q; int nq;
    SpaceSaving errors;
    TopN slowest, failures, open_list;
    int64_t incomplete, incomplete_stale;
    int64_t dropped_records;
    TSeries *ts;                     /* mpix, wall_ms, frames, runs over time */
    int64_t first_ts, last_ts;
    /* computed at finish */
    double p_fps[4], p_frame_ms[4];
} Group;

/* the stages in the order of the report: read, process, write, wait, finish */
#define STAGE_N 5
extern const char *const aie_stats_stage_names[STAGE_N];

/* stage k's share of wall time over the group's judged runs (finish: the runs
 * that log it); 0 when no run has it */
static inline int stage_share(const Group *g, int k, double *v)
{
    double d = k == 4 ? g->st_fin_wall : g->st_wall;
    if (!(d > 0))
        return 0;
    *v = g->st[k] / d;
    return 1;
}

typedef struct Class {
    char *key;                       /* tool \x1f method \x1f model \x1f res */
    char label[256];                 /* "aie-upscale lanczos 1920x1080" */
    char tool[64];
    int64_t runs, frames;
    SHist spf;                       /* seconds per frame of each ok run */
    AieHist *frame_hist;
    TopN slowest;                    /* by seconds per frame */
    TopN tail;                       /* by the run's own p99 frame time */
    TSeries *ts;                     /* runs, sum log fps, frames, wall_ms */
    char first_version[32], last_version[32];
    int64_t first_version_ts, last_version_ts;
    QualStat *q; int nq;             /* quality per member, with outlier candidates */
    char res[48], method[64], model[64];
} Class;

typedef struct OpenRun {
    uint8_t id[16];
    int32_t group, hnext, prev, next;
    int64_t start_ts, last_ts, frames_done, frames_total, pid;
    char host[48], input[96];
    uint8_t started, live;
} OpenRun;

typedef struct Finding {
    const char *id;
    int severity;          /* 0 critical, 1 warning, 2 info */
    int group, klass;      /* indices or -1 */
    char subject[200];
    char summary[400];
    char recommendation[600];
    char gain[200];
    int nev;
    struct {
        const char *name;
        double v;
    } ev[12];
    int ninputs;
    char inputs[8][128];
} Finding;

typedef struct Capacity {
    int enough;
    double days;                 /* calendar days from the first run to the last */
    double days_with_data;       /* UTC days with at least one finished run */
    int64_t hosts;
    double daily_mpix, daily_frames, daily_runs;
    double machine_mps;          /* megapixels per machine-second */
    double hours_one_machine;    /* hours a day the current demand takes on one machine */
    double level_mpix, slope_mpix; /* fitted daily demand at the last day and its daily change */
    double days_one_full, days_hosts_full; /* < 0: not on the current trend */
} Capacity;

struct AieStats {
    AieStatsOpts o;
    KeySpec by[AIE_STATS_MAX_BY];
    int nby;
    Filter where[AIE_STATS_MAX_WHERE];
    int nwhere;
    int top, max_open;
    int finished;

    AieStatsCounts c, logc;
    char **logs;
    int nlogs;

    StatsRec rec;
    char *buf;                /* line assembly for aie_stats_feed */
    size_t buf_len, buf_cap;
    int skipping;             /* inside an oversize line */

    Group **groups;
    char **gkeys;             /* groups[i]->key, for the index */
    int ngroups, groups_cap, other_group;
    int32_t *ghash; int ghash_cap;
    Class **classes;
    char **ckeys;
    int nclasses, classes_cap;
    int32_t *chash; int chash_cap;

    OpenRun *runs;
    int nruns, runs_cap, runs_hw, free_run;
    int32_t *rhash; int rhash_cap;
    int32_t lru_head, lru_tail; /* head: most recent */

    uint64_t *hosts; int nhosts, hosts_cap;
    TSeries days;             /* mpix, frames, runs, machine seconds per day */
    int64_t first_ts, last_ts;    /* of the records used */
    int64_t first_run, last_run;  /* of ok run_end records (regression window) */
    int64_t now_ms;
    int64_t last_day;         /* cache for day keys */
    char last_day_str[16];

    Finding *findings;
    int nfindings, findings_cap;
    Capacity cap;
    int plotted_groups;
};

/* agg.c */
int aie_stats_key_parse(KeySpec *k, const char *s);
int aie_stats_line(AieStats *s, const char *p, size_t n, int final);
size_t aie_stats_mem_bytes(const AieStats *s);

/* report.c */
int aie_stats_compute(AieStats *s);
double aie_stats_hist_quantile(const AieHist *h, double q); /* 0 when empty */

/* time.c */
void aie_stats_format_ts(char buf[32], int64_t ms);
void aie_stats_format_day(char buf[16], int64_t ms);

/* renderers */
int aie_stats_render_text(const AieStats *s, FILE *f);
int aie_stats_render_json(const AieStats *s, FILE *f);
int aie_stats_render_csv(const AieStats *s, FILE *f);
int aie_stats_render_prom(const AieStats *s, FILE *f);

/* helpers shared by the renderers */
void aie_stats_group_label(const AieStats *s, const Group *g, char *buf, size_t n);
const char *aie_stats_severity_name(int sev);
extern const double aie_stats_quantiles[4]; /* 0.5 0.9 0.95 0.99 */

/* plot.c: draw text with the raster plot's 5x7 font (descenders two rows
 * below the baseline), left end at x, scale 1 or 2, clipped to the frame */
void aie_stats_draw_text(AieFrame *f, int x, int baseline, int scale, const char *text, uint32_t rgb);

#endif
