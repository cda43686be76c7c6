/*
 * Batch runs (aie-batch): job lists, the scheduler, GNU parallel's joblog,
 * the content-addressed result cache, frame chunks and the make/Slurm
 * emitters.
 *
 * A job is one command: argv words run with fork/exec and no shell, or (in
 * shell mode) one string given to /bin/sh -c. Jobs come from a job file (one
 * command per line, '#' comments, '...', "..." and $'...' quoting, backslash
 * escapes, backslash-newline continuation) or from a template with GNU
 * parallel's replacement strings {} {.} {/} {//} {/.} {#}, applied per word.
 *
 * Jobs of aie tools (argv[0] named aie-*) declare their inputs (-i) and
 * outputs (-o); these drive duplicate-output refusal, --skip-existing, the
 * cache and chunking. A tool's `--dry-run --json` gives the normalised job.
 *
 * The library never prints and never reads the environment: the caller
 * passes the environment, PATH and temporary directory in, and gets job
 * output, progress and job ends through callbacks.
 */
#ifndef AIE_BATCH_H
#define AIE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "aie/metrics.h"
#include "aie/thread.h"

/* Job files: at most this many bytes a line and this many jobs (DECISIONS). */
#define AIE_BATCH_MAX_LINE (1 << 20)
#define AIE_BATCH_MAX_JOBS 1000000

typedef struct AieBatchJob {
    int seq;              /* 1-based number after --chunks expansion */
    int line;             /* line of the job file, argument number of a template, 0 */
    char **argv;          /* NULL-terminated words (shell mode: the words as parsed) */
    int argc;
    char *cmd;            /* the command text: canonically quoted words, or the
                           * shell line; identifies the job in the joblog */
    int simple;           /* shell mode: no shell syntax beyond quoting, so argv is
                           * what the shell would run */
    /* declared by aie tools (-i / -o); empty for other commands */
    char **inputs;
    int ninputs;
    char **outputs;
    int noutputs;
    int has_frames;       /* the job has its own --frames */
    int no_audio;         /* the job has --no-audio */
    int threads;          /* the job's own -j/--threads N, 0 when not given */
    /* chunks: 1-based chunk number and count, 0 when not a chunk */
    int chunk, nchunks;
    int64_t first, last;  /* the chunk's frame range */
    int group;            /* join group, -1 when none */
    char *cache_key;      /* 64 hex digits, NULL when the job is not cacheable */
} AieBatchJob;

/* Chunks of one job that --join concatenates into `output`. */
typedef struct AieBatchGroup {
    char *output;         /* the original job's output */
    char *source;         /* its input: audio comes from here */
    int no_audio;         /* video only */
    int overlap;          /* aie-interp: chunks share one source frame */
    int first, n;         /* the chunk jobs: jobs[first .. first + n - 1] */
} AieBatchGroup;

typedef struct AieBatchList {
    AieBatchJob *jobs;
    int n, cap;
    AieBatchGroup *groups;
    int ngroups, gcap;
    int shell;            /* commands run through /bin/sh -c */
} AieBatchList;

int aie_batch_list_create(AieBatchList **out, int shell);
/* Frees the list and everything in it; accepts NULL and sets *l to NULL. */
void aie_batch_list_free(AieBatchList **l);

/* Parse a job file held in text[0..len). Blank and comment lines are skipped.
 * AIE_EINVAL with err "NAME:LINE: unterminated \" quote" and the like. */
int aie_batch_parse(AieBatchList *l, const char *text, size_t len, const char *name, char *err,
                    size_t errlen);

/* Add one job per argument from a template (--cmd). The template is split into
 * words first and each word gets the replacements, so an argument with
 * spaces stays one word. A template without replacement strings gets the
 * argument appended as a last word (GNU parallel). Shell mode replaces in the
 * text with the argument quoted for the shell. */
int aie_batch_template(AieBatchList *l, const char *tmpl, const char *const *args, int nargs,
                       char *err, size_t errlen);

/* The same over several input sources (GNU parallel's ::: groups): njobs
 * jobs of width values each, vals[job * width + k] the value of source k+1.
 * {N}, {N.}, {N/}, {N//} and {N/.} take source N ({N} beyond width is an
 * error, not parallel's empty string); {} and the other unnumbered ones take
 * every value, one word each (joined by spaces, each quoted, in shell mode);
 * without any replacement string every value is appended as a word. */
int aie_batch_template_n(AieBatchList *l, const char *tmpl, const char *const *vals, int width, int njobs,
                         char *err, size_t errlen);

/* One input source of the command line: the values after a ::: (or the
 * lines of a :::: file); linked: it came after :::+ (or ::::+) and pairs
 * with the source before it, value by value. */
#define AIE_BATCH_MAX_SOURCES 64
typedef struct AieBatchSource {
    const char *const *vals;
    int n;
    int linked;
} AieBatchSource;

/* Combine input sources as GNU parallel does: linked sources pair up (the
 * shortest one sets the length), the groups multiply, the last group
 * changing fastest. *vals (njobs * nsrc pointers into the sources, free()
 * it) feeds aie_batch_template_n with width nsrc. AIE_EINVAL with err when
 * the product exceeds AIE_BATCH_MAX_JOBS or a :::+ comes first. */
int aie_batch_combine(const AieBatchSource *src, int nsrc, const char ***vals, int *njobs, char *err,
                      size_t errlen);

/* The kind of a command-line word: 0 not a separator, 1 :::, 2 ::::, 3 :::+,
 * 4 ::::+. */
int aie_batch_separator(const char *word);

/* The input sources of a command line, with the texts of its :::: files. */
typedef struct AieBatchSources {
    AieBatchSource src[AIE_BATCH_MAX_SOURCES];
    const char **lines[AIE_BATCH_MAX_SOURCES]; /* owned value arrays of :::: sources */
    char *text[AIE_BATCH_MAX_SOURCES];
    int n;
} AieBatchSources;

/* Read tok[0..ntok) (tok[0] is a separator) into s: the values of ::: and
 * :::+ point into tok, the lines of :::: files are read (as
 * aie_batch_read_input). AIE_EINVAL with err for bad usage (a separator
 * followed by nothing, too many sources); other codes for a file that cannot
 * be read or is empty. */
int aie_batch_sources_read(AieBatchSources *s, char *const *tok, int ntok, const AieCancel *cancel,
                           int wake_fd, char *err, size_t errlen);
void aie_batch_sources_free(AieBatchSources *s);

/* Read a job file or :::: source whole into *text (NUL-terminated, free() it):
 * name "-" is standard input; a regular file or a pipe, bounded (a line of at
 * most AIE_BATCH_MAX_LINE bytes, at most AIE_BATCH_MAX_JOBS commands:
 * AIE_ETOOBIG), and interruptible: the wait polls wake_fd too (-1: none) and
 * returns AIE_ECANCELLED once cancel is requested. */
int aie_batch_read_input(const char *name, const AieCancel *cancel, int wake_fd, char **text, size_t *len,
                         char *err, size_t errlen);

/* --halt WHEN[,fail=N]: WHEN never/0, soon/1 or now/2 into *halt
 * (AIE_BATCH_HALT_*), N (default 1) into *halt_fail; AIE_EINVAL otherwise. */
int aie_batch_parse_halt(const char *arg, int *halt, int *halt_fail);

/* The jobs not skipped as the JSON array of --dry-run --json (malloc'd text). */
char *aie_batch_list_json(const AieBatchList *l, const unsigned char *skip);

/* Split text[0..len) (len+1 bytes, modified) into its non-empty lines, CRLF
 * or LF; *lines (free() it) points into text. */
int aie_batch_lines(char *text, size_t len, const char ***lines, int *n);

/* Add one job from a command text with a given seq (--retry-failed). */
int aie_batch_add_command(AieBatchList *l, const char *cmd, int seq, char *err, size_t errlen);

/* Split one command line into words (shell-like quoting, no expansions).
 * *words is NULL-terminated; free with aie_batch_words_free(). */
int aie_batch_split(const char *s, size_t len, char ***words, int *nwords, char *err,
                    size_t errlen);
void aie_batch_words_free(char ***words);

/* Quote a word so that aie_batch_split (and /bin/sh, unless it holds control
 * characters) reads it back unchanged. Returns a malloc'd string or NULL. */
char *aie_batch_quote(const char *word);

/* Refuse two jobs writing the same output (declared -o, compared by absolute
 * path; "-" and devices do not count). AIE_EINVAL with err naming both jobs. */
int aie_batch_check_outputs(const AieBatchList *l, char *err, size_t errlen);

/* Hex SHA-256 of every job's command text in order (the --emit scripts check
 * that the job file they run is the one they were written from). */
void aie_batch_list_sum(const AieBatchList *l, char hex[65]);

/* What a tool's --dry-run --json says about a job. */
typedef struct AieBatchProbe {
    int ok;               /* the dry run succeeded and its JSON was understood */
    int64_t frames;       /* input frames, -1 unknown */
    int frames_estimated; /* frames is duration x fps (the container has no count) */
    double fps;
    char version[32];
    char *options;        /* canonical JSON text of "options" (keys sorted) */
    char **inputs;        /* "inputs" */
    int ninputs;
    char **outputs;       /* "outputs" */
    int noutputs;
    char error[256];      /* why not ok: the tool's first stderr line */
} AieBatchProbe;

/* How to start programs: PATH for the lookup, the environment of the jobs
 * (NULL-terminated "K=V" strings) and where captured output is kept. */
typedef struct AieBatchExec {
    const char *path;          /* PATH; NULL = "/usr/local/bin:/usr/bin:/bin" */
    const char *const *env;    /* NULL = empty */
    const char *tmpdir;        /* NULL = "/tmp" */
} AieBatchExec;

/* Run `argv[0] --dry-run --json argv[1..]` (or the given extra words) and
 * parse it. p is filled even when the tool fails (ok = 0, error set). */
int aie_batch_probe(const AieBatchExec *ex, char *const *argv, AieBatchProbe *p);
void aie_batch_probe_clear(AieBatchProbe *p);

/* Run argv to completion (stdout dropped); errline gets the first line of
 * its stderr. Returns the exit status, 128+signal, or a negative AIE_E*. */
int aie_batch_exec(const AieBatchExec *ex, char *const *argv, char *errline, size_t errlen);

/* Split every aie-tool job with a video input into n chunks (--chunks): each
 * chunk is the job with --frames A-B and the output renamed
 * "DIR/BASE.chunk-K-of-N.EXT" (K 1-based, zero-padded to N's width); the
 * last chunk's range is open ("A-"), so an estimated frame count is enough.
 * With join, chunks get --no-audio and a group that --join concatenates.
 * Jobs that cannot be chunked (no known frame count, a still, a pipe, a PNG
 * pattern, shell syntax, their own --frames) stay whole; warn is told why.
 * With snap, chunk edges move to the nearest scene cut (lib/aie/motion.h)
 * within 2 s of frames (at most a quarter of a chunk), which decodes each
 * input once. Seqs are renumbered 1..n after expansion. threads bounds the
 * dry runs (and decodes) in flight. */
int aie_batch_chunk(AieBatchList *l, int n, int join, int snap, const AieBatchExec *ex,
                    int threads, void (*warn)(void *opaque, const char *msg), void *opaque,
                    char *err, size_t errlen);

/* Pure part of chunking: frame ranges of n chunks over frames [first, last]
 * (overlap: consecutive chunks share their edge frame). Returns the number of
 * chunks made (fewer when there are few frames); firsts/lasts hold n each. */
int aie_batch_chunk_ranges(int64_t first, int64_t last, int n, int overlap, int64_t *firsts,
                           int64_t *lasts);

/* Concatenate group g's chunks into its output if every chunk file is there
 * (aie_io_join under a lock, so concurrent finishers join once), then remove
 * the chunks. *joined = 1 when this call joined. */
int aie_batch_join(const AieBatchList *l, int g, int *joined, char *err, size_t errlen);

/* ---- cache ---- */

/* Compute cache keys (SHA-256 over the tool, its version, the normalised
 * options of its dry run, the SHA-256 of every input's contents and the
 * output's extension) for the aie-tool jobs with one regular output whose
 * skip[i] is 0. Jobs whose dry run fails get no key (they run uncached). */
int aie_batch_cache_keys(AieBatchList *l, const unsigned char *skip, const AieBatchExec *ex,
                         int threads, char *err, size_t errlen);

/* Put the cached result for key at output (reflink, hard link or copy, then
 * rename: atomic). *hit = 0 when the cache has no entry. */
int aie_batch_cache_fetch(const char *dir, const char *key, const char *output, int *hit,
                          char *err, size_t errlen);
/* Store output under key (same linking order, atomic). */
int aie_batch_cache_store(const char *dir, const char *key, const char *output, char *err,
                          size_t errlen);

/* ---- joblog (GNU parallel's format) ---- */

typedef struct AieBatchJoblog AieBatchJoblog;

/* Open for writing. append = 0 truncates (GNU --joblog FILE), 1 appends
 * (resuming, "+FILE", --job-index). The header is written when the file is
 * empty, under a lock, so concurrent appenders write it once. */
int aie_batch_joblog_open(AieBatchJoblog **out, const char *path, int append, char *err,
                          size_t errlen);
/* One line per finished job, one write() each, O_APPEND. exitval -1 for a
 * job killed by timeout (as GNU parallel writes it). */
int aie_batch_joblog_write(AieBatchJoblog *j, int seq, double start, double runtime, int exitval,
                           int signal, const char *cmd);
/* The system's description of the last write failure ("No space left on
 * device"). */
const char *aie_batch_joblog_error(const AieBatchJoblog *j);
void aie_batch_joblog_close(AieBatchJoblog **j);

/* An existing joblog, read back. */
typedef struct AieBatchLogEntry {
    int seq;
    int exitval, signal;
    char *cmd;            /* NUL bytes GNU writes for newlines are newlines again */
} AieBatchLogEntry;
typedef struct AieBatchLog {
    AieBatchLogEntry *e;
    int n;
} AieBatchLog;

/* A missing file reads as an empty log. AIE_EFORMAT names the bad line. */
int aie_batch_joblog_read(const char *path, AieBatchLog *log, char *err, size_t errlen);
void aie_batch_joblog_clear(AieBatchLog *log);

enum { AIE_BATCH_RESUME = 1, AIE_BATCH_RESUME_FAILED = 2 };

/* Mark in skip[] (1) the jobs a resume leaves out. Jobs are matched by their
 * command text, each log line matching one job (repeated commands count):
 * AIE_BATCH_RESUME skips every job in the log, AIE_BATCH_RESUME_FAILED only
 * those that succeeded. Returns the number marked, or AIE_ENOMEM. */
int aie_batch_resume(const AieBatchList *l, const AieBatchLog *log, int mode, unsigned char *skip);

/* The jobs --retry-failed reruns: for each seq, its last log line, when that
 * one failed; seqs are kept. */
int aie_batch_retry_list(AieBatchList *l, const AieBatchLog *log, char *err, size_t errlen);

/* Mark in skip[] (1) the jobs whose declared outputs all exist and are not
 * older than any of their inputs (the way make decides). Chunks of a join
 * group are judged by the group's output and source. Returns the number. */
int aie_batch_skip_existing(const AieBatchList *l, unsigned char *skip);

/* ---- scheduler ---- */

enum { AIE_BATCH_HALT_NEVER = 0, AIE_BATCH_HALT_SOON, AIE_BATCH_HALT_NOW };

typedef struct AieBatchResult {
    int attempt;          /* 1-based */
    int exit_code;        /* exit status; -1 when killed by a signal */
    int signal;           /* 0, or the signal that ended the job */
    int timed_out;
    int not_found;        /* the command was not found (exit 127) or not executable (126) */
    int interrupted;      /* ended because aie-batch was stopping: not logged */
    int final;            /* no further attempt follows */
    int ok;
    const char *cache;    /* "hit", "miss" or "off" */
    double start, end;    /* seconds since the epoch */
    int64_t queue_wait_ms, runtime_ms;
    int joined;           /* this job's success completed its group, which was joined */
    const char *error;    /* a batch-side problem with this job (join, cache), or NULL */
} AieBatchResult;

typedef struct AieBatchProgress {
    int total;            /* jobs to run (skipped jobs are not counted) */
    int done, failed, running;
    int cache_hits;
    double elapsed_s, jobs_per_s, eta_s; /* eta_s < 0 when unknown */
} AieBatchProgress;

typedef struct AieBatchOpts {
    int jobs;               /* at most this many jobs alive (>= 1) */
    double load_max;        /* hold new jobs while the 1-minute load is above; 0 = off */
    double timeout_s;       /* per attempt; 0 = none */
    double grace_s;         /* TERM, then KILL this much later [5] */
    int retries;            /* attempts in all (GNU): 1 = no retry, 0 = unlimited */
    double retry_delay_s;   /* wait before attempt 2; doubles each time, at most 300 s */
    int halt, halt_fail;    /* AIE_BATCH_HALT_*, after this many failures (>= 1) */
    const unsigned char *skip; /* per job: nonzero = do not run; NULL = run all */
    AieBatchExec exec;
    const char *results_dir;   /* keep DIR/SEQ/stdout and DIR/SEQ/stderr; NULL = no */
    const char *cache_dir;     /* NULL = no cache */
    int join;                  /* join groups as their chunks complete */
    AieBatchJoblog *joblog;    /* NULL = none */
    AieMetrics *metrics;       /* job_end records; NULL = none */
    const char *metrics_path;  /* given to jobs as AIE_METRICS; NULL = not set */
    const char *batch_id;      /* given to jobs as AIE_BATCH_ID (and AIE_JOB_ID = seq) */
    AieCancel *cancel;         /* set: stop starting, TERM the jobs, KILL after the grace */
    AieCancel *kill_now;       /* set: KILL the jobs at once */
    int wake_fd;               /* readable when either token changes; -1 = none */
    void *opaque;
    /* A job's captured output, positioned at 0 (sizes in bytes), when it ends. */
    void (*output)(void *opaque, const AieBatchJob *job, int out_fd, int64_t out_len, int err_fd,
                   int64_t err_len);
    void (*job_end)(void *opaque, const AieBatchJob *job, const AieBatchResult *r);
    void (*progress)(void *opaque, const AieBatchProgress *p);
} AieBatchOpts;

typedef struct AieBatchSummary {
    int ok, failed, skipped, interrupted, not_run;
    int cache_hits, cache_misses;
    int join_failures;
} AieBatchSummary;

/* Run the jobs. Returns 0 when the batch ran (look at the summary for
 * failures), AIE_ECANCELLED when stopped through the cancel tokens, or an
 * error of aie-batch itself (a joblog that cannot be written: no new jobs
 * are started, the running ones finish). Every child is gone on return. */
int aie_batch_run(AieBatchList *l, const AieBatchOpts *o, AieBatchSummary *sum, char *err,
                  size_t errlen);

/* ---- emitters ---- */

enum { AIE_BATCH_EMIT_MAKE = 1, AIE_BATCH_EMIT_SLURM };

/* The aie-batch options every emitted task repeats. */
typedef struct AieBatchFlags {
    int shell, chunks, join, no_snap;
    double timeout_s, grace_s, retry_delay_s; /* as AieBatchOpts; grace 5 and delay 1 are not repeated */
    int retries;
    const char *cache_dir, *results_dir;
    const char *metrics, *joblog;  /* make only (Slurm's are per host in the log directory) */
    const char *const *tags;
    int ntags;
    const char *batch_id;
    int quiet;
} AieBatchFlags;

typedef struct AieBatchEmit {
    const char *argv0;         /* how aie-batch was run (/proc/self/exe wins when readable) */
    const char *jobfile;       /* the job file, as given */
    const char *emit_dir;      /* make's stamps and Slurm's logs, NULL = .aie-batch */
    const AieBatchFlags *flags;
    int jobs;                  /* slurm: array tasks at once (%M) */
    const char *job_name;      /* slurm --job-name, NULL = aie-batch */
    const char *const *slurm_opts; /* slurm: extra #SBATCH lines (--slurm-opt) */
    int nslurm_opts;
    int create_log_dir;        /* slurm: mkdir -p the log directory (sbatch opens the tasks' output there) */
} AieBatchEmit;

/* Write the Makefile or sbatch script into *out (malloc'd text); paths in it
 * are absolute and the working directory is this one. Both create
 * the directories of the jobs' declared outputs (make: an order-only
 * prerequisite per directory; Slurm: mkdir -p before the task). The Slurm
 * script asks for --cpus-per-task of the largest -j/--threads among the jobs
 * unless slurm_opts sets --cpus-per-task (or -c) itself. */
int aie_batch_emit(const AieBatchList *l, int kind, const AieBatchEmit *e, char **out, char *err,
                   size_t errlen);

#endif /* AIE_BATCH_H */
