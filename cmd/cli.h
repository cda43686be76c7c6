/* Shared command line of the aie tools (STYLE.md section 8). */
#ifndef AIE_CLI_H
#define AIE_CLI_H

#include <stdint.h>

#include "aie/error.h"
#include "aie/io.h"
#include "aie/metrics.h"
#include "aie/pipeline.h"
#include "aie/thread.h"

/* Exit status (DECISIONS.md) */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* One option of a tool's table. code: a short option letter, or >= 256 for a
 * long-only option. arg: NULL for a flag, else the argument's name in --help. */
typedef struct CliOpt {
    int code;
    const char *long_name;
    const char *arg;
    const char *help;
    const char *deflt; /* shown as [default: ...], NULL for none */
} CliOpt;

/* Which shared options a tool takes. */
enum {
    CLI_IO = 1 << 0,      /* -i/-o, --frames, --ignore-errors, --strict, --audio, --no-audio, -n */
    CLI_ENCODE = 1 << 1,  /* --codec --crf --preset --encoder-opt --lossless --depth */
    CLI_THREADS = 1 << 2, /* -j/--threads */
    CLI_CPU = 1 << 3,     /* --cpu */
    CLI_METRICS = 1 << 4, /* --metrics, --tag */
    CLI_PROGRESS = 1 << 5,
    CLI_DRYRUN = 1 << 6,  /* --dry-run, --json */
    CLI_MEDIA = 0x7f,
    CLI_PREVIEW = 1 << 7, /* --preview DIR, --preview-frames, --compare, --force (lib/preview) */
};

typedef struct Cli {
    const char *tool;
    const char *purpose;
    const char *usage_args; /* e.g. "-i INPUT -o OUTPUT" */
    unsigned features;
    int usage_exit;         /* exit status for bad usage; 0 = 2 (aie-batch uses 255) */
    int stop_at_operand;    /* options end at the first operand (a command line follows) */
    const CliOpt *opts;     /* the tool's own options, ended by {0} */
    /* Handle one of the tool's own options; return 0, or call cli_usage() */
    int (*handle)(void *tool, int code, const char *arg);
    void *tool_ctx;

    /* parsed shared options */
    const char *input, *output;
    int threads;            /* 0 = all cores */
    unsigned cpu_flags;     /* detected & --cpu / AIE_CPU */
    const char *cpu_level;  /* "auto" or the name given */
    const char *metrics_path;
    double metrics_interval; /* seconds between snapshot records */
    int quality_every;      /* score every Nth frame; -1 = one per second of video, 0 = never */
    int progress;           /* -1 auto (a terminal and not -q), 0, 1 */
    int quiet, verbose;
    int64_t first, last;    /* --frames; last -1 = to the end */
    const char *tags[64];
    int ntags;
    int dry_run, json;
    int no_clobber, ignore_errors, no_audio;
    int audio;              /* --audio: AieAudioMode (drop sets no_audio) */
    char audio_plan[256];   /* what the writer will do with the audio (cli_check_audio) */
    int strict;             /* --strict: concealed decode errors and non-finite model output fail */
    AieRational input_fps;  /* --input-fps for PNG sequences */
    /* encoder */
    const char *codec;
    int crf;
    const char *preset;
    int lossless, depth;
    const char *enc_opts[64];
    int n_enc_opts;

    AieCancel cancel;       /* the first SIGINT/SIGTERM/SIGHUP */
    AieCancel kill_now;     /* cli_signals_jobs: the second */
    int wake_fd;            /* cli_signals_jobs: readable after each signal (-1: none) */
    long long t_open_us;    /* when the run started opening its input (cli_signals_start) */
    int metrics_on;         /* cli_run_media: a metrics log is open (quality scores are worth computing) */
    int usage_failed;       /* cli_run_media: CliMedia.after found the failure to be bad usage (exit 2) */
    /* --preview (CLI_PREVIEW) */
    const char *preview_dir;
    int preview_frames;     /* 0 = the library's default */
    const char *compare;    /* --compare METHODS as given */
    int force;
} Cli;

/* Parse argv; on --help/--version prints and exits 0; on bad usage prints the
 * two-line message and exits 2. Applies AIE_CPU, AIE_METRICS and AIE_TAGS. */
void cli_parse(Cli *c, int argc, char **argv);

/* Report bad usage and exit 2. */
void cli_usage(const Cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Messages on stderr, prefixed by the tool name. */
void cli_error(const Cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn(const Cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_info(const Cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn_cb(void *cli, const char *msg); /* AieWarnFn */

/* Parse helpers for tool options (exit 2 with a message on bad values). */
double cli_double(const Cli *c, const char *opt, const char *arg, double lo, double hi);
int cli_int(const Cli *c, const char *opt, const char *arg, int lo, int hi);
int cli_rational(const char *arg, AieRational *out); /* "30", "30000/1001", "29.97" */
void cli_add_tag(Cli *c, const char *arg);          /* --tag KEY=VALUE */
/* arg, or bad usage "OPT: expected WHAT" when it is empty. */
const char *cli_nonempty(const Cli *c, const char *opt, const char *arg, const char *what);

/* Start the signal thread: SIGINT/SIGTERM set c->cancel; if the run has not
 * ended `grace` seconds later (or on a second signal), the temporary output
 * is removed and the process exits 130/143. Call before creating threads. */
void cli_signals_start(Cli *c, AieWriter **writer_slot);
/* The same thread for aie-batch: the first signal sets c->cancel (the jobs
 * get TERM and their grace), a second sets c->kill_now once
 * cli_signals_running() has been called, and ends the process at once
 * before; c->wake_fd becomes readable on each. */
void cli_signals_jobs(Cli *c);
void cli_signals_running(Cli *c);

/* Finish the output (encoder drain, trailer, rename: the commit point) and
 * close the run's timings: st->finish_ms, and st->wall_ms from the start of
 * the run to now (open to close, DECISIONS.md). Shows "finishing" with the
 * frames still in the encoder on a terminal. Returns 0 or the error, with msg
 * filled. */
int cli_finish_output(Cli *c, AieWriter *w, AiePipelineStats *st, char *msg, size_t msglen);

/* Signal that stopped the run (0 if none). */
int cli_signal(const Cli *c);

/* One status line on stderr: on a terminal rewritten in place (at most every
 * tty_us), elsewhere a plain line at most every 5 s; force: always. Returns 1
 * when it printed. cli_status_end ends a line left on the terminal (keep: with
 * a newline; else erased, before a message). */
int cli_status(long long *last, long long tty_us, int force, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cli_status_end(int keep);
/* "  eta M:SS", or "" when eta_s < 0. */
void cli_eta(char *buf, size_t n, double eta_s);

/* Progress line callback for AiePipelineOpts. */
void cli_progress(void *cli, const AieProgress *p);
void cli_progress_end(Cli *c);

/* Map a library error to the exit status: 0 once the output is committed
 * (even when a signal came after the commit point), 128+signal when one
 * stopped the run. */
int cli_exit_code(const Cli *c, int err);

/* Reader/writer option structs from the shared options. */
AieReaderOpts cli_reader_opts(Cli *c);
AieWriterOpts cli_writer_opts(Cli *c);

/* Open the metrics log when --metrics or AIE_METRICS names one (NULL if not). */
AieMetrics *cli_metrics_open(Cli *c);
/* Close it and print the one-line loss report if records were dropped. */
void cli_metrics_close(Cli *c, AieMetrics **m);

/* Refuse an output the writer cannot make (unknown extension, a codec the
 * container cannot hold, --crf out of the codec's range): exit 2, in
 * --dry-run too. Call after the tool's own option checks, so a conflict
 * between options is reported first. */
void cli_check_output_plan(Cli *c);

/* With the input open: refuse --audio copy (or encode) that the output
 * cannot take, exit 2 with one line naming codec and container, in --dry-run
 * too; keep the plan for --dry-run's "audio_plan". */
void cli_check_audio(Cli *c, const AieReader *r);

/* Refuse to write binary data to a terminal (exit 2). */
void cli_check_output_tty(const Cli *c);

/* Print a JSON value (json-c object) for --dry-run --json, then free it. */
void cli_print_json(void *json_object_ptr);

/* The normalised job for --dry-run (a json-c object): tool, version, inputs,
 * the input's facts (size, frames, fps, duration, audio streams), outputs, and
 * "options" holding the shared ones (output size, frame range, the encoder
 * plan with defaults resolved, ...). *opts receives that "options" object so
 * the tool adds its own. */
void *cli_job_json(const Cli *c, const AieVideoInfo *vi, int out_w, int out_h, void **opts);

/* The end of a media tool's run: on failure one line naming the input and the
 * reason (none for a signal or a closed stdout pipe; a hint for truncated
 * input), then, unless --dry-run, the run_end record with its status, the error
 * and quality_json (may be NULL). msg may be empty: it is filled from err. */
void cli_finish(Cli *c, AieMetrics *m, const AieRunInfo *ri, const AiePipelineStats *st, int err,
                char *msg, size_t msglen, const char *quality_json);

/* Print the normalised job for --dry-run (pretty with --json, one line
 * otherwise) and free it. */
void cli_print_job(const Cli *c, void *json_object_ptr);

/* Fill a metrics stream description. */
void cli_stream_desc(AieStreamDesc *d, const char *name, int w, int h, AieRational fps,
                     const char *pix_fmt);

/* AiePipelineOpts.snapshot callback; the opaque pointer is the AieMetrics. */
void cli_snapshot(void *metrics, const AieProgress *p, const AiePipelineStats *s);

/* The one media-tool skeleton: reader -> stage -> writer through the
 * pipeline, with signals, metrics, progress, --dry-run and the exit status.
 * The tool supplies its stage. */
typedef struct CliMedia {
    const char *method;   /* method name for the run record while no stage exists */
    /* Checks and loads that come before reading anything (a model that must
     * exist, a LUT); may be NULL. Returns 0 or an error with msg filled. */
    int (*prepare)(void *tool, Cli *c, char *msg, size_t n);
    /* Open the tool's stage for the input; pool is NULL on --dry-run (resolve
     * only). Returns 0 or an error with msg filled. */
    int (*open)(void *tool, Cli *c, const AieVideoInfo *in, AiePool *pool, AieStage **out, char *msg, size_t n);
    /* --dry-run: add the tool's options to the job's "options" object and
     * its extra inputs/outputs to the job (json-c objects); may be NULL. */
    void (*dry_run)(void *tool, const Cli *c, const AieStage *s, void *job_json, void *json_opts);
    /* After the pipeline ended (err is its result, 0 once committed): the
     * tool's own notes or follow-up work; returns the new err. May be NULL. */
    int (*after)(void *tool, Cli *c, AieStage *s, int err, char *msg, size_t n);
    /* --preview DIR (aie/preview.h): what the tool measures (AiePreviewMeasure),
     * the methods --compare knows (NULL-ended, for the check and the message;
     * method_ok may judge names instead), the stage of one named method, and
     * the --budget-fps of the recommendation (0: none). */
    int preview_measure;
    const char *const *methods;
    int (*method_ok)(void *tool, const char *name);
    const char *methods_text; /* the list for an unknown method's message, when not `methods` */
    int (*open_method)(void *tool, Cli *c, const char *method, const AieVideoInfo *in, AiePool *pool,
                       AieStage **out, char *msg, size_t n);
    double budget_fps;
} CliMedia;

/* Run a media tool's job; returns the exit status. */
int cli_run_media(Cli *c, const CliMedia *m, void *tool);

#endif
