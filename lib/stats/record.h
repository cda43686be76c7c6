/* Private to lib/stats: one metrics record as the readers see it, and the two
 * parsers that fill it (the fast scanner and the json-c fallback). */
#ifndef AIE_STATS_RECORD_H
#define AIE_STATS_RECORD_H

#include <stddef.h>
#include <stdint.h>

/* A string inside the line (or the record's scratch, or a json-c object). */
typedef struct RStr {
    const char *p; /* NULL when absent or null */
    uint32_t n;
} RStr;

enum {
    EV_NONE = 0,
    EV_RUN_START,
    EV_SNAPSHOT,
    EV_RUN_END,
    EV_JOB_END,
    EV_OTHER,
};

/* Presence bits of the fields. A field of the wrong type is absent. */
enum {
    F_V, F_TS, F_TOOL, F_VERSION, F_EVENT, F_RUN_ID, F_HOST, F_PID, F_TAGS, F_BATCH_ID, F_JOB_ID,
    F_STATUS, F_ERROR, F_METHOD, F_MODEL, F_THREADS, F_CORES, F_MEM_TOTAL, F_INPUT, F_OUTPUT,
    F_FRAMES_IN, F_FRAMES_OUT, F_WALL, F_CPU_USER, F_CPU_SYS, F_MAXRSS, F_STAGES, F_HIST,
    F_QUALITY, F_DROPPED, F_FRAMES_DONE, F_FRAMES_TOTAL, F_FPS, F_IN_FLIGHT, F_RSS, F_ATTEMPT,
    F_EXIT, F_SIGNAL, F_QUEUE_WAIT, F_RUNTIME, F_CACHE, F_MODE,
    F_COUNT
};

/* Nullable strings (error, model) set F_x with p == NULL for JSON null. */

typedef struct RStream {
    unsigned has; /* bits: 1 name, 2 width, 4 height, 8 fps, 16 pix_fmt */
    RStr name, pix_fmt;
    int64_t width, height;
    double fps;   /* see aie_rec_double(): */
    RStr fps_text; /* a fraction the scanner left unconverted (nothing reads it on the hot path) */
} RStream;

#define REC_MAX_TAGS 16
#define REC_MAX_QUALITY 16
#define REC_MAX_HIST 4096
#define REC_MAX_KEY 64

typedef struct StatsRec {
    uint64_t has;   /* 1 << F_x */
    int64_t v;
    RStr ts_str;
    int64_t ts_ms;  /* parsed ts (valid when has F_TS) */
    RStr tool, version, event_str, run_id, host, batch_id, job_id;
    int event;
    int64_t pid;
    int ntags;
    RStr tag_key[REC_MAX_TAGS], tag_val[REC_MAX_TAGS];
    RStr status, error, method, model;
    RStr mode;             /* "preview" on preview runs (left out of every figure) */
    int64_t threads, cores, mem_total_kb;
    RStream input, output;
    int64_t frames_in, frames_out, wall_ms, cpu_user_ms, cpu_sys_ms, maxrss_kb, dropped;
    unsigned stages_has; /* bits 1 read, 2 process, 4 write, 8 wait, 16 finish */
    int64_t stages[5];
    int nhist;
    uint16_t hist_i[REC_MAX_HIST];
    int64_t hist_n[REC_MAX_HIST];
    int nquality;
    RStr q_name[REC_MAX_QUALITY];
    double q_val[REC_MAX_QUALITY];
    int64_t frames_done, frames_total, in_flight, rss_kb;
    double fps;
    RStr fps_text;
    int64_t attempt, exit_code, signal, queue_wait_ms, runtime_ms;
    RStr cache;
    int64_t unknown_fields;

    /* owned scratch for unescaped strings; json-c object of a fallback parse */
    char *scratch;
    size_t scratch_cap, scratch_len;
    void *owner;
} StatsRec;

#define REC_HAS(r, f) (((r)->has >> (f)) & 1)

enum { SCAN_OK = 0, SCAN_FALLBACK = 1 };

/* Initialise/free a record's owned buffers. */
int aie_rec_init(StatsRec *r);
void aie_rec_release(StatsRec *r); /* drops a json-c owner, keeps buffers */
void aie_rec_free(StatsRec *r);

/* The fast scanner: SCAN_OK with r filled, SCAN_FALLBACK when the line is not
 * the known shape (anything it is unsure about); never reads past p + n.
 * Negative AIE_ENOMEM on allocation failure. */
int aie_rec_scan(StatsRec *r, const char *p, size_t n);

/* The json-c reader: 0 with r filled, 1 when the line is not one complete JSON
 * object (trailing non-space is not allowed), AIE_ENOMEM. */
int aie_rec_parse_jsonc(StatsRec *r, const char *p, size_t n);

/* Field by field comparison (for the tests): 0 when equal, else the F_x + 1 of
 * the first difference. */
int aie_rec_compare(const StatsRec *a, const StatsRec *b);

/* ts parsing shared by both parsers and --since/--until. */
int aie_stats_parse_rfc3339(const char *s, size_t n, int64_t *ms);

int aie_rstr_eq(RStr s, const char *lit);

/* The value of a lazily converted number: text when set, else v. */
double aie_rec_double(RStr text, double v);

#endif
