/*
 * Metrics log analysis (aie-stats): read aie-metrics(5) logs, schema v1,
 * aggregate them per group, derive findings, and render the report as text,
 * JSON, CSV, Prometheus text exposition, SVG or PNG.
 *
 * Streaming: records are aggregated as they are read and never kept, so memory
 * does not grow with the log. What does grow is bounded:
 *   - groups (distinct --by values): at most AIE_STATS_MAX_GROUPS, the rest go
 *     to one "(other)" group;
 *   - speed classes (tool, method, model, input resolution) used by the
 *     regression and outlier findings: at most AIE_STATS_MAX_CLASSES;
 *   - runs seen starting but not yet ended: an LRU of max_open_runs entries;
 *     the least recently updated run is forgotten (and counted) when it is full;
 *   - lines longer than AIE_STATS_MAX_LINE bytes are skipped (and counted).
 * Percentiles come from log-bucket histograms (64 buckets per doubling): they
 * are within 0.55% of the exact nearest-rank percentile.
 *
 * The library never prints: warnings and counts are read back from the
 * AieStats object; the renderers write to the FILE the caller passes.
 */
#ifndef AIE_STATS_H
#define AIE_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aie/frame.h"

#include "aie/thread.h"

#define AIE_STATS_MAX_BY 4
#define AIE_STATS_MAX_WHERE 32
#define AIE_STATS_MAX_GROUPS 4096
#define AIE_STATS_MAX_CLASSES 1024
#define AIE_STATS_MAX_LINE (1 << 20)
#define AIE_STATS_DEFAULT_OPEN_RUNS 32768
#define AIE_STATS_DEFAULT_TOP 5
#define AIE_STATS_MAX_TOP 1000
/* Relative error of every percentile the report gives (half a bucket). */
#define AIE_STATS_PCT_ERROR 0.0055

typedef struct AieStatsOpts {
    /* Time window, milliseconds since the epoch; INT64_MIN / INT64_MAX = open. */
    int64_t since_ms, until_ms;
    /* Group keys: "tool", "method", "model", "host", "res", "batch", "day" or
     * "tag:NAME". nby == 0 groups everything together. */
    const char *by[AIE_STATS_MAX_BY];
    int nby;
    /* Filters "KEY=VALUE" or "KEY!=VALUE" with the same keys; all must hold. */
    const char *where[AIE_STATS_MAX_WHERE];
    int nwhere;
    int top;            /* entries in the slowest/failure lists, 0 = default */
    int max_open_runs;  /* 0 = AIE_STATS_DEFAULT_OPEN_RUNS */
    AieCancel *cancel;  /* polled while reading; may be NULL */
} AieStatsOpts;

/* What was read and what was skipped. */
typedef struct AieStatsCounts {
    int64_t lines;           /* non-empty lines */
    int64_t records;         /* complete JSON objects */
    int64_t used;            /* records of schema v1 inside the selection */
    int64_t torn;            /* lines that start a record but do not finish it */
    int64_t garbage;         /* other lines that are not JSON objects */
    int64_t oversize;        /* lines over AIE_STATS_MAX_LINE, skipped */
    int64_t unknown_version; /* records whose "v" is not 1 (or missing) */
    int64_t unknown_event;   /* v1 records with an event this reader does not know */
    int64_t invalid;         /* v1 records without a usable ts or event */
    int64_t unknown_fields;  /* fields this reader does not know (ignored) */
    int64_t filtered;        /* records left out by --since/--until/--where */
    int64_t fallback;        /* records the fast scanner left to json-c */
    int64_t runs_forgotten;  /* open runs dropped from the LRU when it was full */
    int64_t groups_overflow; /* records put in "(other)" because of the group cap */
} AieStatsCounts;

typedef enum AieStatsFormat {
    AIE_STATS_TEXT = 0,
    AIE_STATS_JSON,
    AIE_STATS_CSV,
    AIE_STATS_PROM,
} AieStatsFormat;

typedef struct AieStats AieStats;

/* Validates the options (a bad key or filter gives AIE_EINVAL and a message in
 * err). The caller frees with aie_stats_free(). */
int aie_stats_create(AieStats **out, const AieStatsOpts *opts, char *err, size_t errlen);

/* Feed raw log bytes; lines may be split across calls. name labels the log in
 * the report (the first call with a new name starts a new log). */
int aie_stats_feed(AieStats *s, const char *name, const char *data, size_t len);

/* Read a whole log: a path, or "-" for standard input. AIE_ENOENT, AIE_EACCES,
 * AIE_EIO... with the file named in err; AIE_ECANCELLED when opts->cancel asked. */
int aie_stats_read_file(AieStats *s, const char *path, char *err, size_t errlen);

/* Read from an open descriptor until EOF (the descriptor stays open). */
int aie_stats_read_fd(AieStats *s, int fd, const char *name, char *err, size_t errlen);

/* End of input: closes the last line, computes percentiles and findings.
 * now_ms (milliseconds since the epoch) tells running runs from stale ones;
 * 0 uses the newest record's time. Feeding after this is an error. */
int aie_stats_finish(AieStats *s, int64_t now_ms);

void aie_stats_counts(const AieStats *s, AieStatsCounts *c);

/* Counts of the same kind for the last log read (for per-file warnings). */
void aie_stats_log_counts(const AieStats *s, AieStatsCounts *c);

/* Findings after aie_stats_finish(), by severity: 0 critical, 1 warning, 2 info. */
int aie_stats_findings(const AieStats *s, int severity);

/* Render the report (after aie_stats_finish()). AIE_EIO/AIE_EPIPE/AIE_ENOSPC
 * when the stream fails. */
int aie_stats_render(const AieStats *s, AieStatsFormat fmt, FILE *f);

/* Render into path ("-" = standard output) through the temp-then-rename
 * writer (aie/fs.h; inputs: the logs, which it refuses to overwrite). A
 * failed render or write leaves no file; err names it (empty for a closed
 * pipe, AIE_EPIPE). */
int aie_stats_render_file(const AieStats *s, AieStatsFormat fmt, const char *path, const char *const *inputs,
                          int ninputs, char *err, size_t errlen);

/* What a log's counts say it could not use, as one phrase ("2 torn lines and
 * 1 garbage line"; "" when nothing). Records of another schema version are
 * not in it (say those on their own). */
void aie_stats_skipped_text(const AieStatsCounts *k, char *buf, size_t n);

/* Draw the plots as SVG 1.1 to path (a ".svg"), written atomically. */
int aie_stats_plot(const AieStats *s, const char *path, char *err, size_t errlen);

/* Draw the same plots into a new 8-bit sRGB RGB frame (*out, the caller
 * unrefs it): the tool writes it as a PNG (lib/stats never touches lib/io). */
int aie_stats_plot_image(const AieStats *s, AieFrame **out);

void aie_stats_free(AieStats **s);

/* Parse a time for --since/--until: RFC 3339 / ISO 8601 ("2026-11-22T10:00:00Z",
 * "2026-11-22T10:00:00.5+02:00", "2026-11-22 10:00", "2026-11-22"; no zone
 * means UTC) or an age before now_ms ("90s", "30m", "24h", "7d", "2w").
 * Returns 0 or AIE_EINVAL. */
int aie_stats_parse_time(const char *s, int64_t now_ms, int64_t *out_ms);

/* Is key a valid --by / --where key? */
int aie_stats_key_valid(const char *key);

/* Reports and plots are written with aie_outfile_* (lib/aie/fs.h). */

#endif /* AIE_STATS_H */
