/*
 * Metrics log (schema v1, man/aie-metrics.5): one JSON object per line.
 *
 * The log never costs the job its speed or its life. Records go into a bounded
 * queue (enqueueing never blocks; a full queue drops and counts) drained by a
 * writer thread, which batches up to 50 records or 1 s and writes each batch as
 * whole lines in one write() on an O_APPEND descriptor (at most PIPE_BUF bytes
 * per write on a FIFO), so concurrent writers never interleave. Every write has
 * a timeout; after N consecutive failures a circuit breaker stops writing for a
 * recovery period, counting what it drops, then tries again. Closing flushes
 * with a deadline and then gives up. Failures are reported by
 * aie_metrics_dropped() and aie_metrics_last_error(), never by the job.
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
    double finish_ms;   /* aie_writer_finish(): encoder drain, trailer, rename */
    int max_in_flight;
    int64_t decode_errors; /* the reader's aie_reader_decode_errors(), set by the tool */
    int64_t packets_fixed; /* the writer's aie_writer_packets_fixed(), set by the tool */
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
    const char *mode;         /* "preview" on preview runs, NULL otherwise */
} AieRunInfo;

/* Where batches go. The default writes to the log file; tests inject their own.
 * write() returns the bytes written or a negative errno (-ETIMEDOUT for a
 * timeout); it must not block longer than timeout_ms. */
typedef struct AieMetricsSink {
    long (*write)(void *opaque, const char *buf, size_t len, int timeout_ms);
    void *opaque;
    size_t atomic_max; /* largest write that stays whole among writers; 0 = no limit */
} AieMetricsSink;

typedef struct AieMetricsConfig {
    const char *path;         /* the log file (ignored when sink is set) */
    const char *tool, *version;
    const char *const *tags;  /* "key=value" strings */
    int ntags;
    const char *batch_id, *job_id; /* NULL when not run by aie-batch */
    /* tuning; 0 = default */
    int queue_max;            /* records queued at most [1000] */
    int batch_max;            /* records per write [50] */
    int batch_ms;             /* oldest record waits at most [1000] */
    int write_timeout_ms;     /* per write [1000] */
    int flush_deadline_ms;    /* at close [2000] */
    int breaker_failures;     /* consecutive failures that open the breaker [3] */
    int breaker_recovery_ms;  /* how long it stays open [30000] */
    const AieMetricsSink *sink; /* NULL = the file at path */
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
/* Any other event (aie-batch's job_end): fields_json is a JSON object text
 * whose members are added after the common ones. */
void aie_metrics_event(AieMetrics *m, const char *event, const char *fields_json);
/* status: "ok", "failed" or "cancelled"; error may be NULL. quality_json is a
 * JSON object text or NULL. */
void aie_metrics_run_end(AieMetrics *m, const AieRunInfo *ri, const AiePipelineStats *st,
                         const char *status, const char *error, const char *quality_json);

/* Records that could not be written, and why (NULL when none failed). Final
 * after aie_metrics_finish(). */
int64_t aie_metrics_dropped(const AieMetrics *m);
const char *aie_metrics_last_error(const AieMetrics *m);

/* Counters for tests and the snapshot record. */
typedef struct AieMetricsCounters {
    int64_t enqueued, written, dropped, dropped_queue_full;
    int64_t write_failures, breaker_opens;
    int queued;        /* records waiting now */
    int breaker_open;  /* 1 while the breaker is open */
} AieMetricsCounters;
void aie_metrics_counters(AieMetrics *m, AieMetricsCounters *c);

/* Flush what is queued and stop the writer, waiting at most the flush deadline.
 * Idempotent; aie_metrics_close() calls it. */
void aie_metrics_finish(AieMetrics *m);

void aie_metrics_close(AieMetrics **m);

/* Format t (seconds since the epoch) as RFC 3339 UTC with milliseconds. */
void aie_metrics_timestamp(char buf[32], double t);

#endif /* AIE_METRICS_H */
