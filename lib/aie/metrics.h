/*
 * Metrics log (schema v1, man/aie-metrics.5): one JSON object per line,
 * appended with O_APPEND and one write() per record, so concurrent writers
 * never interleave. A failing log never fails the job: failures are counted
 * and reported by aie_metrics_dropped()/aie_metrics_last_error().
 */
#ifndef AIE_METRICS_H
#define AIE_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Per-frame time histogram: bucket i = floor(64 * log2(t_us)), t_us < 1 -> 0.
 * A bucket is reported at its geometric middle 2^((i + 0.5) / 64) us, which
 * keeps the relative error under 0.55%. */
#define AIE_HIST_BUCKETS 2048
#define AIE_HIST_PER_OCTAVE 64

typedef struct AieHist {
    uint64_t total;
    uint32_t count[AIE_HIST_BUCKETS];
} AieHist;

int aie_hist_bucket(double t_us);
double aie_hist_bucket_value(int bucket);
void aie_hist_add(AieHist *h, double t_us);
void aie_hist_merge(AieHist *dst, const AieHist *src);
/* q in [0, 1]; nearest-rank on the bucket values; 0 when empty. */
double aie_hist_quantile(const AieHist *h, double q);

typedef struct AiePipelineStats {
    int64_t frames_in, frames_out;
    double wall_ms;
    /* thread-time sums per stage: read+decode, process, encode+write, and time
     * the reader and writer spent blocked on the queues */
    double read_ms, process_ms, write_ms, wait_ms;
    int max_in_flight;
    AieHist frame_hist; /* per-job (per input frame) processing time */
} AiePipelineStats;

typedef struct AieStreamDesc {
    const char *name;
    int width, height;
    double fps;
    const char *pix_fmt;
} AieStreamDesc;

typedef struct AieRunInfo {
    const char *method;       /* "lanczos", "cnn", ... */
    const char *model;        /* NULL when none */
    int threads;
    AieStreamDesc input, output;
    const char *options_json; /* normalised options as a JSON object text, or NULL */
} AieRunInfo;

typedef struct AieMetricsConfig {
    const char *path;         /* the log file */
    const char *tool, *version;
    const char *const *tags;  /* "key=value" strings */
    int ntags;
    const char *batch_id, *job_id; /* NULL when not run by aie-batch */
} AieMetricsConfig;

typedef struct AieMetrics AieMetrics;

/* Opens (creates) the log for appending. Fails only on bad arguments or memory;
 * an unwritable log is reported through aie_metrics_last_error() later and
 * never stops the job. */
int aie_metrics_open(AieMetrics **out, const AieMetricsConfig *c, char *err, size_t errlen);

/* The run id (32 hex digits) shared by every record of this run. */
const char *aie_metrics_run_id(const AieMetrics *m);

void aie_metrics_run_start(AieMetrics *m, const AieRunInfo *ri);
void aie_metrics_snapshot(AieMetrics *m, int64_t frames_done, int64_t frames_total, double fps,
                          int in_flight);
/* status: "ok", "failed" or "cancelled"; error may be NULL. quality_json is a
 * JSON object text or NULL. */
void aie_metrics_run_end(AieMetrics *m, const AieRunInfo *ri, const AiePipelineStats *st,
                         const char *status, const char *error, const char *quality_json);

/* Records that could not be written, and why (NULL when none failed). */
int64_t aie_metrics_dropped(const AieMetrics *m);
const char *aie_metrics_last_error(const AieMetrics *m);

void aie_metrics_close(AieMetrics **m);

/* Format t (seconds since the epoch) as RFC 3339 UTC with milliseconds. */
void aie_metrics_timestamp(char buf[32], double t);

#endif /* AIE_METRICS_H */
