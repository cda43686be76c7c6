/* lib/preview internals: the state of one preview run, shared by the
 * sampler (preview.c) and the writers of preview.json and index.html
 * (page.c). */
#ifndef AIE_PREVIEW_INTERNAL_H
#define AIE_PREVIEW_INTERNAL_H

#include <stdint.h>

#include "aie/error.h"
#include "aie/io.h"
#include "aie/motion.h"
#include "aie/preview.h"
#include "aie/scale.h"

#define PV_WINDOW 12       /* frames decoded after each sampled keyframe */
#define PV_BUDGET_MS 30000 /* processing time the window lengths aim at, all methods */

enum { PV_EST_NONE, PV_EST_VIDEO, PV_EST_RAW, PV_EST_PNG };

typedef struct PvResult {
    AieFrame *shown;        /* the output frame shown (a reference) */
    AieFrame *second;       /* the output after it (style flicker), a reference */
    int nout;               /* output frames of the window */
    int frames_in;          /* input frames of the window that ran */
    double ms;              /* wall time of the window's jobs */
    double value;           /* the measure (NAN when none) */
    int64_t png_bytes;      /* the shown picture's file */
} PvResult;

typedef struct PvSample {
    int64_t index;          /* frame number of win[0] */
    double t;               /* its time in seconds */
    double t_seek;          /* where to seek for the window (seek mode) */
    int shot;               /* 1-based */
    int cut_in_window;      /* the window was cut short by a scene cut */
    AieFrame *win[PV_WINDOW];
    int nwin;
    PvResult res[AIE_PREVIEW_MAX_METHODS];
} PvSample;

typedef struct PvMethod {
    char name[128];
    AieStage *stage;
    AieScaler *down;        /* round trip back to the input size */
    AieWriter *est;         /* the size estimate's encoder */
    char est_path[4300];
    int64_t est_bytes, est_frames;
    double encode_us;
    long long encode_cpu_us, process_cpu_us; /* CPU time, every thread */
    double ms_done;         /* processing time so far */
    int frames_done;        /* input frames processed so far */
    int64_t out_done;       /* output frames so far */
} PvMethod;

typedef struct PvRun {
    const AiePreviewParams *p;
    AieVideoInfo vi;
    long long t_start;
    int want;
    double threshold;
    PvSample s[AIE_PREVIEW_MAX_SAMPLES];
    int ns;
    PvMethod m[AIE_PREVIEW_MAX_METHODS];
    int nm;
    int shots;              /* shots told apart among the candidates */
    int64_t total;          /* frames of the input, -1 unknown */
    int64_t job_frames;     /* frames the job would process, -1 unknown */
    char mode[32];          /* "seek", "all", "first-seconds" */
    char sampling_note[512];
    int seq_frames, input_ended;
    int64_t seq_offset;     /* frame number of the first frame read sequentially */
    long long decode_us, decode_cpu_us;
    double decode_cpu_ms;
    int64_t decoded;
    double decode_ms;
    AiePool *pool;
    AieMotion *motion;
    int est_kind;
    char est_ext[32];
    char est_note[256];
    char est_error[AIE_ERRBUF_SIZE];
    unsigned long long peak_rss;
    double elapsed_s;
    char recommend[512];    /* the recommendation line */
    int best;               /* the method recommended, -1 none */
    char tmp[4200];         /* the temporary directory being written */
    char final[4096];
} PvRun;

/* page.c */
int aie_preview_write_json(PvRun *r, char *err, size_t errlen);
int aie_preview_write_html(PvRun *r, char *err, size_t errlen);
/* a method name made safe for a file name ("a.cube" -> "a.cube", "x/y" -> "x_y") */
const char *aie_preview_file_name(const char *name);
/* preview.c: the directory (refusals, temporary directory, commit) */
int aie_preview_check_dir(const char *dir, int force, char *err, size_t errlen);
int aie_preview_make_temp_dir(PvRun *r, const char *dir, char *err, size_t errlen);
int aie_preview_commit_dir(PvRun *r, char *err, size_t errlen);
/* util.c */
int aie_preview_dir_empty(const char *dir);
void aie_preview_rmtree(const char *dir);
unsigned aie_preview_umask(void);
int aie_preview_choose(const int *shot, int c, int n, int *out);

#endif
