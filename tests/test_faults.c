/*
 * faults: allocation-failure injection (tests/faults.c). Each operation runs
 * once to count its allocations (K), then again with the Nth allocation
 * failing, for N = 1..K (make check samples N beyond the first MAX_DENSE
 * values when K is large; make check-long sweeps every N). Every round must
 *   - fail cleanly with a negative AIE_E* code (AIE_ENOMEM, or one the area
 *     lists as acceptable), or recover and give the same result as the
 *     undisturbed run;
 *   - leave no block allocated by libaie behind (the tracking table);
 *   - leave no temporary file behind.
 * Crashes end the runner, so they show too. Areas: reading (y4m, PNG, FFV1
 * Matroska, with FLAC audio and frame ranges), writing (y4m, Matroska, stream
 * copy, PNG, PNG sequences, outfile, image PNG), the pipeline, scaling,
 * style, interpolation, the three model loaders with one inference, stats
 * (read, aggregate, four renderers, SVG and PNG plots; every golden log in
 * check-long), the metrics writer and the batch scheduler (parse, template,
 * joblog, run, resume). Blocks that libav and json-c own are not in the
 * table: make asan runs this suite under LeakSanitizer for those.
 * AIE_FAULTS_VERBOSE=1 prints every round and where the failed call came from.
 */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/batch.h"
#include "aie/error.h"
#include "aie/frame.h"
#include "aie/fs.h"
#include "aie/io.h"
#include "aie/look.h"
#include "aie/metrics.h"
#include "aie/motion.h"
#include "aie/nn.h"
#include "aie/pipeline.h"
#include "aie/scale.h"
#include "aie/stats.h"
#include "aie/thread.h"
#include "faults.h"
#include "io/io_internal.h" /* AuxList: count the carried packets */
#include "tests.h"

/* Paths in the scratch directory that stay valid (tests_tmp_path() rotates). */
static const char *T(const char *name)
{
    static char paths[48][512];
    static int n;
    for (int i = 0; i < n; i++)
        if (!strcmp(strrchr(paths[i], '/') + 1, name))
            return paths[i];
    if (n == 48)
        return tests_tmp_path(name);
    snprintf(paths[n], sizeof(paths[n]), "%s/%s", tests_tmp_dir(), name);
    return paths[n++];
}
#define SIG_SIZE 512

/* N values swept densely in make check before sampling (every N in check-long). */
#define MAX_DENSE 400
#define MAX_SAMPLED 150

typedef int (*FaultOp)(void *ctx, char *sig, size_t siglen);

static uint32_t fnv(uint32_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static uint32_t frame_sum(const AieFrame *f)
{
    uint32_t h = 2166136261u;
    int bps = aie_depth_bytes(f->depth);
    for (int p = 0; p < f->nplanes; p++)
        for (int y = 0; y < f->plane_h[p]; y++)
            h = fnv(h, f->data[p] + y * f->stride[p], (size_t)f->plane_w[p] * bps);
    return h;
}

static uint32_t file_sum(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    uint32_t h = 2166136261u;
    unsigned char b[8192];
    size_t n;
    while ((n = fread(b, 1, sizeof(b), fp)) > 0)
        h = fnv(h, b, n);
    fclose(fp);
    return h;
}

/* Temporary files (".NAME.aie-PID.tmp") left in dir. */
static int stray_temps(const char *dir)
{
    char pat[600];
    snprintf(pat, sizeof(pat), "%s/.*.aie-*.tmp", dir);
    glob_t g;
    int n = glob(pat, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
    if (n)
        globfree(&g);
    return n;
}

static int code_ok(int rc, const int *also)
{
    if (rc == AIE_ENOMEM)
        return 1;
    for (; also && *also; also++)
        if (rc == *also)
            return 1;
    return 0;
}

/* Sweep the allocation failures over op. also: other acceptable error codes
 * (0-terminated), for paths where the allocation failure surfaces through a
 * library that reports it its own way. */
static void sweep(const char *area, FaultOp op, void *ctx, const int *also)
{
    char base[SIG_SIZE] = "", got[SIG_SIZE];
    faults_begin(0);
    int rc0 = op(ctx, base, sizeof(base));
    faults_end();
    long k = faults_count();
    long leak0 = faults_live();
    if (rc0 != 0 || leak0 != 0) {
        fprintf(stderr, "\n  faults %s: undisturbed run gave %d (%s), %ld blocks left\n", area, rc0,
                aie_strerror(rc0), leak0);
        faults_dump(stderr, 10);
        faults_forget();
        CU_FAIL("undisturbed run failed or leaked");
        return;
    }
    int dense = tests_long() || k <= MAX_DENSE;
    long step = dense ? 1 : (k - MAX_DENSE + MAX_SAMPLED - 1) / MAX_SAMPLED;
    int rounds = 0, enomem = 0, other = 0, recovered = 0, bad = 0;
    long last = 0;
    for (long n = 1;; n += n < MAX_DENSE || dense ? 1 : step) {
        got[0] = 0;
        faults_begin(n);
        int rc = op(ctx, got, sizeof(got));
        faults_end();
        int hit = faults_hit();
        long live = faults_live();
        int temps = stray_temps(tests_tmp_dir());
        if (!hit && n > k + 8) /* beyond the last allocation (thread timing moves it a little) */
            break;
        if (n > 4 * k + 100) { /* failures keep adding allocations: a retry loop */
            fprintf(stderr, "\n  faults %s: still allocating at N=%ld (K=%ld)\n", area, n, k);
            bad++;
            break;
        }
        rounds++;
        last = n;
        const char *why = NULL;
        if (faults_overflow())
            why = "tracking table overflowed";
        else if (live)
            why = "leak";
        else if (temps)
            why = "temporary file left behind";
        else if (rc == 0 && strcmp(got, base))
            why = hit ? "recovered with a different result" : "different result";
        else if (rc > 0 || (rc < 0 && !hit))
            why = "wrong return value";
        else if (rc < 0 && !code_ok(rc, also))
            why = "unexpected error code";
        if (getenv("AIE_FAULTS_VERBOSE")) {
            char w[512];
            fprintf(stderr, "\n    %s N=%ld: rc %d, failed call from %s", area, n, rc,
                    hit ? faults_where(faults_hit_caller(), w, sizeof(w)) : "(none)");
        }
        if (rc == 0)
            recovered += hit;
        else if (rc == AIE_ENOMEM)
            enomem++;
        else
            other++;
        if (why) {
            bad++;
            if (bad <= 5) {
                fprintf(stderr, "\n  faults %s: N=%ld: %s: rc %d (%s), %ld blocks (%zu bytes) left%s%s\n",
                        area, n, why, rc, rc ? aie_strerror(rc) : "ok", live, faults_live_bytes(),
                        rc == 0 && strcmp(got, base) ? ", result " : "", rc == 0 && strcmp(got, base) ? got : "");
                char w[512];
                if (faults_hit_caller())
                    fprintf(stderr, "    the failed allocation was called from %s\n",
                            faults_where(faults_hit_caller(), w, sizeof(w)));
                faults_dump(stderr, 8);
            }
            faults_forget();
            if (temps) {
                char cmd[700];
                snprintf(cmd, sizeof(cmd), "rm -f %s/.*.aie-*.tmp", tests_tmp_dir());
                if (system(cmd) != 0)
                    fprintf(stderr, "could not remove the temporary files\n");
            }
        }
    }
    fprintf(stderr, "\n  faults %-14s K=%-5ld N=1..%ld (%d rounds%s): %d AIE_ENOMEM, %d other codes, "
            "%d recovered, %d bad ",
            area, k, last, rounds, dense ? "" : ", sampled", enomem, other, recovered, bad);
    CU_ASSERT_EQUAL(bad, 0);
}

/* The harness itself: injection, counting, leak tracking (through an
 * out-of-line call, so the compiler cannot elide the allocations). */
static char *(*volatile dup_fn)(const char *) = strdup;

static void test_harness(void)
{
    faults_begin(2);
    char *a = dup_fn("a"), *b = dup_fn("b"), *c = dup_fn("c");
    faults_end();
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NULL(b);
    CU_ASSERT_PTR_NOT_NULL(c);
    CU_ASSERT(faults_hit());
    CU_ASSERT_EQUAL(faults_count(), 3);
    CU_ASSERT_EQUAL(faults_live(), 2);
    free(a);
    CU_ASSERT_EQUAL(faults_live(), 1);
    CU_ASSERT_EQUAL(faults_live_bytes(), 2);
    char *d = realloc(c, 100); /* a tracked block stays tracked when it moves */
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(faults_live(), 1);
    CU_ASSERT_EQUAL(faults_live_bytes(), 100);
    free(d);
    CU_ASSERT_EQUAL(faults_live(), 0);
    faults_begin(0);
    char *e = dup_fn("e"); /* untracked after faults_end(): still counted out when freed */
    faults_end();
    CU_ASSERT(!faults_hit());
    free(e);
    CU_ASSERT_EQUAL(faults_live(), 0);
}

/* ---- inputs ---- */

static int have_inputs;
static AieFrame *frames[3];
static AieVideoInfo frame_info;

static int make_frames(void)
{
    for (int i = 0; i < 3; i++) {
        if (aie_frame_alloc(&frames[i], 34, 22, AIE_LAYOUT_YUV420, 8))
            return -1;
        AieFrame *f = frames[i];
        for (int p = 0; p < f->nplanes; p++)
            for (int y = 0; y < f->plane_h[p]; y++)
                for (int x = 0; x < f->plane_w[p]; x++)
                    f->data[p][y * f->stride[p] + x] = (uint8_t)(x * 7 + y * 3 + p * 50 + i * 20);
        f->pts = i;
        f->time_base = (AieRational){1, 25};
        f->duration = 1;
        f->index = i;
    }
    memset(&frame_info, 0, sizeof(frame_info));
    frame_info.width = 34;
    frame_info.height = 22;
    frame_info.layout = AIE_LAYOUT_YUV420;
    frame_info.depth = 8;
    frame_info.fps = (AieRational){25, 1};
    frame_info.time_base = (AieRational){1, 25};
    frame_info.sar = (AieRational){1, 1};
    frame_info.color = frames[0]->color;
    frame_info.nb_frames = 3;
    return 0;
}

/* A y4m written by hand, a PNG and an FFV1 Matroska file written by lib/io
 * (outside any sweep), and, when the ffmpeg program is there, a Matroska file
 * with FLAC audio (the reader carries its packets). */
static int suite_init(void)
{
    if (make_frames())
        return 1;
    FILE *fp = fopen(T("in.y4m"), "wb");
    if (!fp)
        return 1;
    fprintf(fp, "YUV4MPEG2 W34 H22 F25:1 Ip A1:1 C420jpeg\n");
    for (int i = 0; i < 3; i++) {
        fputs("FRAME\n", fp);
        const AieFrame *f = frames[i];
        for (int p = 0; p < 3; p++)
            for (int y = 0; y < f->plane_h[p]; y++)
                fwrite(f->data[p] + y * f->stride[p], 1, (size_t)f->plane_w[p], fp);
    }
    if (fclose(fp))
        return 1;
    char err[256];
    if (aie_image_write_png(T("in.png"), frames[1], 8, err, sizeof(err)))
        return 1;
    AieWriter *w;
    AieWriterOpts wo = {.crf = -1, .lossless = 1, .png_compression = -1, .threads = 1};
    if (aie_writer_open(&w, T("in.mkv"), &frame_info, NULL, &wo, err, sizeof(err)))
        return 1;
    int e = 0;
    for (int i = 0; i < 3 && !e; i++)
        e = aie_writer_write(w, frames[i]);
    if (!e)
        e = aie_writer_finish(w);
    aie_writer_close(&w);
    if (e)
        return 1;
    if (tests_have_ffmpeg()) {
        char out[4096];
        if (tests_run(out, sizeof(out),
                      "cd %s && ffmpeg -v error -y -f lavfi -i testsrc2=s=32x24:r=25:d=0.24 "
                      "-f lavfi -i sine=f=440:r=8000:d=0.24 -c:v ffv1 -c:a flac audio.mkv",
                      tests_tmp_dir()) != 0)
            fprintf(stderr, "faults: could not make audio.mkv: %s\n", out);
    }
    have_inputs = 1;
    return 0;
}

static int suite_clean(void)
{
    for (int i = 0; i < 3; i++)
        aie_frame_unref(&frames[i]);
    return 0;
}

#define NEED_INPUTS()                                                                   \
    do {                                                                                \
        if (!have_inputs) {                                                             \
            tests_skip(__func__, "no inputs");                                          \
            return;                                                                     \
        }                                                                               \
    } while (0)

/* ---- reading ---- */

typedef struct ReadCase {
    const char *path;
    int64_t first, last;
} ReadCase;

static int op_read(void *ctx, char *sig, size_t siglen)
{
    const ReadCase *c = ctx;
    AieReader *r = NULL;
    char err[256];
    AieReaderOpts o = {.threads = 1, .first = c->first, .last = c->last};
    int e = aie_reader_open(&r, c->path, &o, err, sizeof(err));
    if (e)
        return e;
    int n = 0, aux = 0;
    uint32_t h = 0;
    AieFrame *f;
    while ((e = aie_reader_read(r, &f)) == 0) {
        n++;
        h = h * 31 + frame_sum(f);
        /* the carried packets travel too */
        if (f->aux) {
            aux += ((const AuxList *)f->aux)->n;
            AieFrame *g;
            if (aie_frame_alloc(&g, 16, 16, AIE_LAYOUT_GRAY, 8) == 0) {
                int a = aie_frame_append_aux(g, f);
                aie_frame_unref(&g);
                if (a) {
                    e = a;
                    aie_frame_unref(&f);
                    break;
                }
            } else {
                aie_frame_unref(&f);
                e = AIE_ENOMEM;
                break;
            }
        }
        aie_frame_unref(&f);
    }
    const AieVideoInfo *vi = aie_reader_info(r);
    snprintf(sig, siglen, "%d frames %08x %dx%d %s %d audio, %d packets", n, h, vi->width,
             vi->height, vi->codec, vi->audio_streams, aux);
    aie_reader_close(&r);
    return e == AIE_EOF ? 0 : e;
}

static void test_read_y4m(void)
{
    NEED_INPUTS();
    ReadCase c = {T("in.y4m"), 0, -1};
    sweep("read y4m", op_read, &c, NULL);
    ReadCase r = {T("in.y4m"), 1, 1};
    sweep("read y4m 1-1", op_read, &r, NULL);
}

static void test_read_png(void)
{
    NEED_INPUTS();
    ReadCase c = {T("in.png"), 0, -1};
    sweep("read png", op_read, &c, NULL);
}

static void test_read_mkv(void)
{
    NEED_INPUTS();
    ReadCase c = {T("in.mkv"), 0, -1};
    sweep("read mkv", op_read, &c, NULL);
    if (access(T("audio.mkv"), F_OK) == 0) {
        ReadCase a = {T("audio.mkv"), 0, -1};
        sweep("read mkv+flac", op_read, &a, NULL);
        ReadCase b = {T("audio.mkv"), 2, 3};
        sweep("read mkv 2-3", op_read, &b, NULL);
    } else {
        tests_skip(__func__, "no audio.mkv (the ffmpeg program is missing)");
    }
}

/* ---- writing ---- */

typedef struct WriteCase {
    const char *path;
    const char *check; /* the file to checksum ("" for none) */
    AieWriterOpts o;
    const char *src;   /* a reader whose other streams are copied; NULL = none */
    int nframes;       /* of frames[]; 0 = 3 */
} WriteCase;

static int op_write(void *ctx, char *sig, size_t siglen)
{
    const WriteCase *c = ctx;
    AieWriter *w = NULL;
    AieReader *r = NULL;
    char err[256];
    int e = 0;
    AieFrame *f = NULL;
    if (c->src) {
        AieReaderOpts ro = {.threads = 1, .last = -1};
        if ((e = aie_reader_open(&r, c->src, &ro, err, sizeof(err))))
            return e;
        e = aie_writer_open(&w, c->path, aie_reader_info(r), r, &c->o, err, sizeof(err));
        while (!e && (e = aie_reader_read(r, &f)) == 0) {
            e = aie_writer_write(w, f);
            aie_frame_unref(&f);
        }
        if (e == AIE_EOF)
            e = 0;
    } else {
        e = aie_writer_open(&w, c->path, &frame_info, NULL, &c->o, err, sizeof(err));
        for (int i = 0; i < (c->nframes ? c->nframes : 3) && !e; i++)
            e = aie_writer_write(w, frames[i]);
    }
    if (!e)
        e = aie_writer_finish(w);
    int64_t n = w ? aie_writer_frames(w) : 0;
    aie_writer_close(&w);
    aie_reader_close(&r);
    if (!e)
        snprintf(sig, siglen, "%lld frames %08x", (long long)n, *c->check ? file_sum(c->check) : 0);
    if (!e && c->src) { /* the copied streams made it */
        ReadCase rc = {c->path, 0, -1};
        size_t k = strlen(sig);
        e = op_read(&rc, sig + k, siglen - k);
    }
    return e;
}

static void test_write_y4m(void)
{
    NEED_INPUTS();
    WriteCase c = {T("out.y4m"), T("out.y4m"), {.crf = -1, .png_compression = -1, .threads = 1}, NULL, 0};
    sweep("write y4m", op_write, &c, NULL);
}

static void test_write_mkv(void)
{
    NEED_INPUTS();
    WriteCase c = {T("out.mkv"), "", {.crf = -1, .lossless = 1, .png_compression = -1, .threads = 1},
                   NULL, 0};
    sweep("write mkv", op_write, &c, NULL);
    if (access(T("audio.mkv"), F_OK) == 0) {
        WriteCase a = {T("outa.mkv"), "",
                       {.crf = -1, .lossless = 1, .png_compression = -1, .threads = 1},
                       T("audio.mkv"), 0};
        sweep("transcode mkv", op_write, &a, NULL);
    }
}

static void test_write_png(void)
{
    NEED_INPUTS();
    WriteCase c = {T("out.png"), T("out.png"), {.crf = -1, .png_compression = -1, .threads = 1}, NULL,
                   1};
    sweep("write png", op_write, &c, NULL);
    WriteCase s = {T("seq_%03d.png"), T("seq_002.png"),
                   {.crf = -1, .png_compression = -1, .threads = 1}, NULL, 0};
    sweep("write png seq", op_write, &s, NULL);
}

static int op_outfile(void *ctx, char *sig, size_t siglen)
{
    (void)ctx;
    AieOutFile *of = NULL;
    FILE *fp;
    char err[256];
    const char *in[1] = {T("in.y4m")};
    int e = aie_outfile_open(&of, T("report.txt"), in, 1, 0, &fp, err, sizeof(err));
    if (e)
        return e;
    fprintf(fp, "a report\n");
    if ((e = aie_outfile_commit(&of, err, sizeof(err))))
        return e;
    e = aie_image_write_png(T("plot.png"), frames[0], 16, err, sizeof(err));
    snprintf(sig, siglen, "%08x %08x", file_sum(T("report.txt")), e ? 0 : file_sum(T("plot.png")));
    return e;
}

static void test_outfile(void)
{
    NEED_INPUTS();
    sweep("outfile", op_outfile, NULL, NULL);
}

/* ---- the pipeline ---- */

static int op_pipeline(void *ctx, char *sig, size_t siglen)
{
    (void)ctx;
    AieReader *r = NULL;
    AieWriter *w = NULL;
    AiePool *pool = NULL;
    char err[256];
    AieReaderOpts ro = {.threads = 1, .last = -1};
    AieWriterOpts wo = {.crf = -1, .png_compression = -1, .threads = 1};
    int e = aie_reader_open(&r, T("in.y4m"), &ro, err, sizeof(err));
    if (!e)
        e = aie_writer_open(&w, T("piped.y4m"), aie_reader_info(r), r, &wo, err, sizeof(err));
    if (!e)
        e = aie_pool_create(&pool, 2);
    if (!e) {
        AiePipelineCallbacks cb = {.process = tests_copy_job, .history = 1};
        AiePipelineOpts po = {.pool = pool, .queue_depth = 3};
        AiePipelineStats st;
        e = aie_pipeline_run(r, w, &cb, &po, &st, err, sizeof(err));
    }
    if (!e)
        e = aie_writer_finish(w);
    aie_pool_destroy(&pool);
    aie_writer_close(&w);
    aie_reader_close(&r);
    if (!e)
        snprintf(sig, siglen, "%08x", file_sum(T("piped.y4m")));
    return e;
}

static void test_pipeline(void)
{
    NEED_INPUTS();
    sweep("pipeline", op_pipeline, NULL, NULL);
}

/* ---- the algorithms the tools run: scaling, style, interpolation ---- */

static int op_scale(void *ctx, char *sig, size_t siglen)
{
    (void)ctx;
    AieScaler *sc = NULL;
    AieFrame *dst = NULL;
    AiePool *pool = NULL;
    AieScaleParams p = {.src_w = 34, .src_h = 22, .dst_w = 68, .dst_h = 44,
                        .layout = AIE_LAYOUT_YUV420, .depth = 8, .filter = AIE_FILTER_LANCZOS};
    int e = aie_scaler_create(&sc, &p, 0);
    if (!e)
        e = aie_frame_alloc(&dst, 68, 44, AIE_LAYOUT_YUV420, 8);
    if (!e)
        e = aie_pool_create(&pool, 2);
    if (!e)
        e = aie_scaler_scale(sc, frames[1], dst, pool);
    if (!e)
        snprintf(sig, siglen, "%08x", frame_sum(dst));
    aie_pool_destroy(&pool);
    aie_frame_unref(&dst);
    aie_scaler_free(&sc);
    return e;
}

static char *lut_text;

static int op_style(void *ctx, char *sig, size_t siglen)
{
    (void)ctx;
    AieLut *lut = NULL;
    AieStyle *st = NULL;
    AieFrame *out[3] = {NULL, NULL, NULL};
    char err[256], *cube = NULL;
    uint32_t h = 0;
    int e = aie_lut_parse(&lut, lut_text, strlen(lut_text), err, sizeof(err));
    if (e)
        return e;
    AieStyleParams p = {.lut = lut, .interp = AIE_INTERP_TETRAHEDRAL, .reference = frames[2],
                        .transfer = AIE_TRANSFER_MKL, .strength = 0.7};
    aie_look_defaults(&p.look);
    p.look.look = AIE_LOOK_TOON;
    if ((e = aie_style_create(&st, &p, 34, 22, AIE_LAYOUT_YUV420, 8, 0)))
        goto done;
    for (int i = 0; i < 3 && !e; i++) {
        AieFrame *prev[2] = {i > 0 ? frames[i - 1] : NULL, i > 1 ? frames[i - 2] : NULL};
        if (!(e = aie_frame_alloc(&out[i], 34, 22, AIE_LAYOUT_YUV420, 8)))
            e = aie_style_process(st, i, frames[i], prev, i < 2 ? i : 2, out[i], NULL);
        if (!e)
            h = h * 31 + frame_sum(out[i]);
    }
    if (!e)
        e = aie_style_export_cube(st, 1, 5, &cube);
    if (!e)
        snprintf(sig, siglen, "%08x %08x %d shots", h, fnv(2166136261u, cube, strlen(cube)),
                 aie_style_shots(st));
done:
    free(cube);
    for (int i = 0; i < 3; i++)
        aie_frame_unref(&out[i]);
    aie_style_free(&st);
    aie_lut_free(&lut);
    return e;
}

static int op_interp(void *ctx, char *sig, size_t siglen)
{
    (void)ctx;
    AieInterp *ip = NULL;
    AiePairMotion *pm = NULL;
    AieFrame *dst = NULL;
    AieMotionParams mp;
    aie_motion_params_default(&mp);
    int e = aie_interp_create(&ip, 34, 22, AIE_LAYOUT_YUV420, 8, &mp, 0);
    if (!e)
        e = aie_interp_analyse(ip, frames[0], frames[1], &pm, NULL);
    if (!e)
        e = aie_frame_alloc(&dst, 34, 22, AIE_LAYOUT_YUV420, 8);
    if (!e)
        e = aie_interp_synth(ip, pm, frames[0], frames[1], 0.5, dst, NULL, NULL);
    if (!e)
        snprintf(sig, siglen, "%08x %.3f", frame_sum(dst), aie_pair_motion_unreliable(pm, NULL));
    aie_frame_unref(&dst);
    aie_pair_motion_free(&pm);
    aie_interp_free(&ip);
    return e;
}

static void test_algorithms(void)
{
    NEED_INPUTS();
    sweep("scale", op_scale, NULL, NULL);
    char path[1024];
    snprintf(path, sizeof(path), "%s/testdata/lut/identity2.cube", tests_src_dir());
    FILE *fp = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    static char text[8192];
    size_t n = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[n] = 0;
    lut_text = text;
    sweep("style", op_style, NULL, NULL);
    sweep("interp", op_interp, NULL, NULL);
}

/* ---- model loading (and one small inference) ---- */

static int op_nn(void *ctx, char *sig, size_t siglen)
{
    const char *path = ctx;
    AieNnModel *m = NULL;
    AieNnExec *x = NULL;
    char err[256];
    float *buf = NULL;
    int e = aie_nn_load(&m, path, err, sizeof(err));
    if (e)
        return e;
    AieNnInfo info;
    aie_nn_info(m, &info);
    int w = 12, h = 10, ow = w * info.scale_num / info.scale_den, oh = h * info.scale_num / info.scale_den;
    buf = calloc((size_t)(w * h + ow * oh) * 3, sizeof(float));
    if (!buf) {
        e = AIE_ENOMEM;
        goto done;
    }
    for (int i = 0; i < w * h * 3; i++)
        buf[i] = (float)((i * 37) % 101) / 100.0f;
    AieNnImage in = {w, h, 3, buf, w, (ptrdiff_t)w * h};
    AieNnImage out = {ow, oh, 3, buf + w * h * 3, ow, (ptrdiff_t)ow * oh};
    AieNnOpts o = {.tile = 0, .threads = 1};
    if ((e = aie_nn_exec_create(&x, m, &o)))
        goto done;
    if ((e = aie_nn_exec_run(x, &in, &out, NULL, NULL)))
        goto done;
    snprintf(sig, siglen, "%s %s %d/%d %d layers, context %d, %.0f flops %08x", info.name, info.format,
             info.scale_num, info.scale_den, info.layers, info.context, info.flops_per_pixel,
             fnv(2166136261u, out.data, (size_t)ow * oh * 3 * sizeof(float)));
done:
    free(buf);
    aie_nn_exec_free(&x);
    aie_nn_free(&m);
    return e;
}

static void test_nn_load(void)
{
    char p[3][1024];
    snprintf(p[0], sizeof(p[0]), "%s/testdata/nn/tiny_scale2.0x_model.json", tests_src_dir());
    snprintf(p[1], sizeof(p[1]), "%s/testdata/nn/tiny-a4k-s.json", tests_src_dir());
    snprintf(p[2], sizeof(p[2]), "%s/testdata/nn/tiny-x2.param", tests_src_dir());
    sweep("nn waifu2x", op_nn, p[0], NULL);
    sweep("nn anime4k", op_nn, p[1], NULL);
    sweep("nn ncnn", op_nn, p[2], NULL);
}

/* ---- stats: read, aggregate, render, plot ---- */

static int op_stats(void *ctx, char *sig, size_t siglen)
{
    const char *log = ctx;
    AieStats *s = NULL;
    char err[256];
    AieStatsOpts o = {.since_ms = INT64_MIN, .until_ms = INT64_MAX, .by = {"tool", "res"}, .nby = 2};
    int e = aie_stats_create(&s, &o, err, sizeof(err));
    if (e)
        return e;
    uint32_t h = 2166136261u;
    if ((e = aie_stats_read_file(s, log, err, sizeof(err))) || (e = aie_stats_finish(s, 0)))
        goto done;
    static const char *const names[] = {"r.txt", "r.json", "r.csv", "r.prom"};
    for (int fmt = AIE_STATS_TEXT; fmt <= AIE_STATS_PROM && !e; fmt++) {
        FILE *fp = fopen(T(names[fmt]), "w");
        if (!fp) {
            e = AIE_EIO;
            break;
        }
        e = aie_stats_render(s, (AieStatsFormat)fmt, fp);
        if (fclose(fp) && !e)
            e = AIE_EIO;
        h = h * 31 + file_sum(T(names[fmt]));
    }
    if (!e)
        e = aie_stats_plot(s, T("r.svg"), err, sizeof(err));
    if (!e)
        e = tests_plot_png(s, T("r.png"), err, sizeof(err));
    if (!e)
        snprintf(sig, siglen, "%08x %08x %08x", h, file_sum(T("r.svg")), file_sum(T("r.png")));
done:
    aie_stats_free(&s);
    return e;
}

static void test_stats(void)
{
    /* a small log: the first records of a golden one, plus damage */
    char cmd[2048], out[1024];
    snprintf(cmd, sizeof(cmd),
             "head -n 40 %s/testdata/stats/errors.jsonl > %s && head -n 20 %s/testdata/stats/cache.jsonl >> %s"
             " && printf '{\"v\":1,\"ts\":\"2026-11-2\\n{garbage\\n{\"v\":2}\\n' >> %s",
             tests_src_dir(), T("small.jsonl"), tests_src_dir(), T("small.jsonl"), T("small.jsonl"));
    CU_ASSERT_EQUAL_FATAL(tests_run(out, sizeof(out), "%s", cmd), 0);
    sweep("stats", op_stats, (void *)T("small.jsonl"), NULL);
    /* a whole golden log (make check samples N; check-long sweeps all, and
     * every golden log) */
    static const char *const logs[] = {"errors", "healthy", "cache", "capacity", "damaged",
                                       "decode_bound", "memory", "outliers", "quality", "queue",
                                       "regression", "threads_idle"};
    for (size_t i = 0; i < (tests_long() ? sizeof(logs) / sizeof(logs[0]) : 1); i++) {
        static char path[1024];
        char area[64];
        snprintf(path, sizeof(path), "%s/testdata/stats/%s.jsonl", tests_src_dir(), logs[i]);
        snprintf(area, sizeof(area), "stats %s", logs[i]);
        sweep(area, op_stats, path, NULL);
    }
}

/* ---- the metrics log writer: a record that cannot be built is dropped and
 * counted, never an error of the job ---- */

static int op_metrics(void *ctx, char *sig, size_t siglen)
{
    (void)ctx;
    AieMetrics *m = NULL;
    char err[256];
    static const char *const tags[] = {"site=lab", "k=v"};
    AieMetricsConfig c = {.path = T("metrics.jsonl"), .tool = "aie-test", .version = "0",
                          .tags = tags, .ntags = 2, .batch_id = "b1", .job_id = "3"};
    if (truncate(c.path, 0) != 0 && access(c.path, F_OK) == 0)
        return AIE_EIO;
    int e = aie_metrics_open(&m, &c, err, sizeof(err));
    if (e)
        return e;
    AieRunInfo ri = {.method = "lanczos", .threads = 2,
                     .input = {"in.y4m", 34, 22, 25, "yuv420p"},
                     .output = {"out.y4m", 68, 44, 25, "yuv420p"},
                     .options_json = "{\"scale\":2,\"method\":\"lanczos\"}"};
    aie_metrics_run_start(m, &ri);
    aie_metrics_snapshot(m, 1, 3, 25.0, 2);
    aie_metrics_event(m, "job_end", "{\"job_id\":\"3\",\"attempt\":1,\"exit\":0}");
    AiePipelineStats st = {.frames_in = 3, .frames_out = 3, .wall_ms = 10};
    aie_hist_add(&st.frame_hist, 1200);
    aie_metrics_run_end(m, &ri, &st, "ok", NULL, "{\"psnr\":41.5}");
    aie_metrics_finish(m);
    int64_t dropped = aie_metrics_dropped(m);
    aie_metrics_close(&m);
    char out[64];
    const char *n = tests_output("wc -l < %s", c.path);
    snprintf(out, sizeof(out), "%s", n);
    snprintf(sig, siglen, "%lld records", atoll(out) + (long long)dropped);
    return 0;
}

static void test_metrics(void) { sweep("metrics", op_metrics, NULL, NULL); }

/* ---- batch: parse, schedule, joblog ---- */

typedef struct BatchCase {
    const char *text;
    int shell, jobs;
} BatchCase;

static int op_batch(void *ctx, char *sig, size_t siglen)
{
    const BatchCase *c = ctx;
    AieBatchList *l = NULL;
    AieBatchJoblog *jl = NULL;
    char err[256];
    int e = aie_batch_list_create(&l, c->shell);
    if (e)
        return e;
    if ((e = aie_batch_parse(l, c->text, strlen(c->text), "jobs", err, sizeof(err))))
        goto done;
    static const char *const args[] = {"a b", "c"};
    if ((e = aie_batch_template(l, "echo {} {#}", args, 2, err, sizeof(err))))
        goto done;
    if ((e = aie_batch_joblog_open(&jl, T("joblog"), 0, err, sizeof(err))))
        goto done;
    AieBatchSummary sum;
    AieBatchOpts o = {.jobs = c->jobs, .retries = 2, .grace_s = 1, .joblog = jl, .wake_fd = -1,
                      .batch_id = "b1",
                      .exec = {.path = "/usr/bin:/bin", .tmpdir = tests_tmp_dir()}};
    if ((e = aie_batch_run(l, &o, &sum, err, sizeof(err))))
        goto done;
    aie_batch_joblog_close(&jl);
    AieBatchLog log = {0};
    if ((e = aie_batch_joblog_read(T("joblog"), &log, err, sizeof(err))))
        goto done;
    unsigned char skip[16] = {0};
    int resumed = l->n <= 16 ? aie_batch_resume(l, &log, AIE_BATCH_RESUME_FAILED, skip) : -100;
    aie_batch_joblog_clear(&log);
    if (resumed < 0 && resumed != -100) {
        e = resumed;
        goto done;
    }
    snprintf(sig, siglen, "%d jobs: %d ok %d failed %d not run, %d resumed", l->n, sum.ok, sum.failed,
             sum.not_run, resumed);
done:
    aie_batch_joblog_close(&jl);
    aie_batch_list_free(&l);
    return e;
}

static void test_batch(void)
{
    BatchCase a = {"true\nfalse\n# comment\nsh -c 'exit 3'\n'/bin/echo' \"x y\" $'\\t'\nno-such-cmd-aie\n",
                   0, 2};
    sweep("batch", op_batch, &a, NULL);
    BatchCase b = {"true && echo hi\nexit 4\n", 1, 2};
    sweep("batch shell", op_batch, &b, NULL);
}

int test_faults_register(void)
{
    CU_pSuite s = CU_add_suite("faults", suite_init, suite_clean);
    if (!s)
        return -1;
    if (!CU_add_test(s, "harness", test_harness) || !CU_add_test(s, "read_y4m", test_read_y4m) || !CU_add_test(s, "read_png", test_read_png) ||
        !CU_add_test(s, "read_mkv", test_read_mkv) || !CU_add_test(s, "write_y4m", test_write_y4m) ||
        !CU_add_test(s, "write_mkv", test_write_mkv) || !CU_add_test(s, "write_png", test_write_png) ||
        !CU_add_test(s, "outfile", test_outfile) || !CU_add_test(s, "pipeline", test_pipeline) ||
        !CU_add_test(s, "algorithms", test_algorithms) ||
        !CU_add_test(s, "nn_load", test_nn_load) || !CU_add_test(s, "stats", test_stats) ||
        !CU_add_test(s, "metrics", test_metrics) || !CU_add_test(s, "batch", test_batch))
        return -1;
    return 0;
}
