/*
 * CUnit suite "cnn": learned upscaling end to end.
 *   - every real model of the catalogue on a small generated image, the
 *     engine (SIMD, tiled) against the naive reference; models that are not
 *     installed SKIP visibly, except under AIE_LONG (make check-long), where
 *     a missing model fails;
 *   - the frame front-end (aie/sr_cnn.h) with an identity 2x model built by
 *     hand: RGB 16-bit exact, alpha upscaled with lanczos, YUV and gray
 *     round trips, a scale the model does not make, threads;
 *   - the model catalogue and the choice of a model;
 *   - the CLI: -m cnn without models (exit 1 and the make models hint),
 *     --list-models, --model, --dry-run, the metrics record.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "aie/frame.h"
#include "aie/nn.h"
#include "aie/scale.h"
#include "aie/sr_cnn.h"
#include "nn/graph.h"
#include "tests.h"

#define BIN tests_bin_dir()
#define T(name) tests_tmp_path(name)

static char out[65536];

/* The model directories the tests look in (as aie-upscale does, minus the
 * install prefix). */
static int model_dirs(const char *dirs[3], char buf[3][512])
{
    int n = 0;
    const char *e = getenv("AIE_MODEL_DIR"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (e && *e)
        snprintf(buf[n++], 512, "%s", e);
    if (x && *x)
        snprintf(buf[n++], 512, "%s/aie/models", x);
    if (h && *h)
        snprintf(buf[n++], 512, "%s/.cache/aie/models", h);
    for (int i = 0; i < n; i++)
        dirs[i] = buf[i];
    return n;
}

/* ---- real models vs the naive reference ---- */

static void test_real_models(void)
{
    const char *dirs[3];
    char buf[3][512];
    int nd = model_dirs(dirs, buf), n;
    const AieCnnModelDesc *cat = aie_cnn_catalogue(&n);
    const int long_run = tests_long();
    const int w = long_run ? 40 : 12, h = long_run ? 30 : 9;
    char missing[2048] = "";
    int tested = 0;
    for (int i = 0; i < n; i++) {
        char p[4096], err[AIE_ERRBUF_SIZE];
        if (aie_cnn_model_find(dirs, nd, &cat[i], p, sizeof(p))) {
            size_t l = strlen(missing);
            snprintf(missing + l, sizeof(missing) - l, "%s%s", l ? " " : "", cat[i].name);
            continue;
        }
        AieNnModel *m = NULL;
        int e = aie_nn_load(&m, p, err, sizeof(err));
        if (e)
            fprintf(stderr, "\n  %s: %s\n", cat[i].name, err);
        CU_ASSERT_EQUAL(e, 0);
        if (e)
            continue;
        AieNnInfo info;
        aie_nn_info(m, &info);
        CU_ASSERT_EQUAL(info.scale_num / info.scale_den, cat[i].scale);
        AieNnImage in = {w, h, 3, malloc(sizeof(float) * 3 * w * h), w, (ptrdiff_t)w * h};
        const int ow = w * info.scale_num / info.scale_den, oh = h * info.scale_num / info.scale_den;
        AieNnImage ref = {ow, oh, 3, malloc(sizeof(float) * 3 * ow * oh), ow, (ptrdiff_t)ow * oh};
        AieNnImage got = ref;
        got.data = malloc(sizeof(float) * 3 * ow * oh);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    in.data[c * in.plane + y * w + x] = 0.5f + 0.45f * sinf(0.9f * x + 2.0f * c) * cosf(0.7f * y);
        CU_ASSERT_EQUAL(aie_nn_reference(aie_nn_model_graph(m), &in, &ref), 0);
        for (int level = long_run ? 0 : 1; level < 2; level++) {
            AieNnOpts o = {.tile = 8, .cpu_flags = level ? aie_cpu_flags() : 0, .threads = 1};
            AieNnExec *ex = NULL;
            CU_ASSERT_EQUAL_FATAL(aie_nn_exec_create(&ex, m, &o), 0);
            CU_ASSERT_EQUAL(aie_nn_exec_run(ex, &in, &got, NULL, NULL), 0);
            aie_nn_exec_free(&ex);
            double worst = 0;
            for (ptrdiff_t k = 0; k < 3 * ref.plane; k++)
                worst = fmax(worst, fabs(got.data[k] - ref.data[k]));
            if (worst > 1e-4)
                fprintf(stderr, "\n  %s (cpu %s): max difference from the reference %g\n", cat[i].name,
                        aie_cpu_name(o.cpu_flags), worst);
            CU_ASSERT(worst <= 1e-4);
        }
        tested++;
        free(in.data);
        free(ref.data);
        free(got.data);
        aie_nn_free(&m);
    }
    if (missing[0]) {
        if (long_run) {
            fprintf(stderr, "\n  AIE_LONG: models not installed (make models): %s\n", missing);
            CU_FAIL("real models missing under AIE_LONG");
        } else {
            char why[2300];
            snprintf(why, sizeof(why), "weights not installed (make models): %s", missing);
            tests_skip("cnn: real models", why);
        }
    }
    (void)tested;
}

/* ---- the frame front-end ---- */

/* 2x nearest, then a 1x1 identity conv (a model that changes nothing) */
static AieNnModel *identity_model(void)
{
    NnGraph g;
    CU_ASSERT_EQUAL_FATAL(aie_nn_graph_init(&g, 3), 0);
    float w[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, b[3] = {0};
    int u = aie_nn_upsample(&g, 0, 2, NN_UP_NEAREST);
    int c = aie_nn_conv(&g, u, 3, 1, 1, NN_PAD_ZERO, w, b, NN_ACT_NONE, 0, NULL);
    CU_ASSERT_EQUAL_FATAL(aie_nn_graph_finish(&g, c, 3), 0);
    AieNnModel *m = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_nn_model_from_graph(&m, &g), 0);
    return m;
}

static int sample(const AieFrame *f, int p, int x, int y)
{
    const uint8_t *row = f->data[p] + (ptrdiff_t)y * f->stride[p];
    return f->depth > 8 ? ((const uint16_t *)(const void *)row)[x] : row[x];
}

static void set_sample(AieFrame *f, int p, int x, int y, int v)
{
    uint8_t *row = f->data[p] + (ptrdiff_t)y * f->stride[p];
    if (f->depth > 8)
        ((uint16_t *)(void *)row)[x] = (uint16_t)v;
    else
        row[x] = (uint8_t)v;
}

static AieFrame *frame(int w, int h, AieLayout l, int depth)
{
    AieFrame *f = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&f, w, h, l, depth), 0);
    return f;
}

static AieCnnUpscaler *upscaler(const AieNnModel *m, const AieFrame *src, int dw, int dh, AieColor color)
{
    AieCnnParams p = {.src_w = src->width, .src_h = src->height, .dst_w = dw, .dst_h = dh,
                      .layout = src->layout, .depth = src->depth, .color = color, .threads = 4};
    char err[AIE_ERRBUF_SIZE];
    AieCnnUpscaler *u = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_cnn_create(&u, m, &p, aie_cpu_flags(), err, sizeof(err)), 0);
    return u;
}

static void test_frame_rgb16_alpha(void)
{
    AieNnModel *m = identity_model();
    AieFrame *src = frame(21, 13, AIE_LAYOUT_RGBA, 16), *dst = frame(42, 26, AIE_LAYOUT_RGBA, 16);
    unsigned r = 99;
    for (int p = 0; p < 4; p++)
        for (int y = 0; y < 13; y++)
            for (int x = 0; x < 21; x++) {
                r = r * 1103515245u + 12345u;
                set_sample(src, p, x, y, (int)((r >> 8) & 0xffff));
            }
    AieCnnUpscaler *u = upscaler(m, src, 42, 26, (AieColor){0});
    CU_ASSERT_EQUAL(aie_cnn_upscale(u, src, dst, NULL, NULL), 0);
    int exact = 1;
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < 26; y++)
            for (int x = 0; x < 42; x++)
                exact &= sample(dst, p, x, y) == sample(src, p, x / 2, y / 2);
    CU_ASSERT(exact); /* 16 bit in, float through the network, 16 bit out */
    /* alpha: lanczos on its own */
    AieScaleParams sp = {21, 13, 42, 26, AIE_LAYOUT_GRAY, 16, AIE_FILTER_LANCZOS, 0, 0};
    AieScaler *s = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_scaler_create(&s, &sp, aie_cpu_flags()), 0);
    AieFrame *a = NULL, *b = frame(42, 26, AIE_LAYOUT_GRAY, 16);
    uint8_t *pl[4] = {src->data[3]};
    ptrdiff_t st[4] = {src->stride[3]};
    CU_ASSERT_EQUAL_FATAL(aie_frame_wrap(&a, 21, 13, AIE_LAYOUT_GRAY, 16, pl, st, NULL, NULL), 0);
    CU_ASSERT_EQUAL(aie_scaler_scale(s, a, b, NULL), 0);
    int same = 1;
    for (int y = 0; y < 26; y++)
        for (int x = 0; x < 42; x++)
            same &= sample(dst, 3, x, y) == sample(b, 0, x, y);
    CU_ASSERT(same);
    aie_scaler_free(&s);
    aie_frame_unref(&a);
    aie_frame_unref(&b);
    aie_cnn_free(&u);
    aie_frame_unref(&src);
    aie_frame_unref(&dst);
    aie_nn_free(&m);
}

/* YUV (and gray) in, float RGB through the identity model, back: within one
 * code of the nearest 2x of the input for in-gamut content. */
static void test_frame_yuv_gray(void)
{
    AieNnModel *m = identity_model();
    static const struct {
        AieLayout l;
        int depth, range, matrix, loc;
    } cases[] = {
        {AIE_LAYOUT_YUV444, 8, 1, 1, 0}, {AIE_LAYOUT_YUV444, 10, 2, 9, 0}, {AIE_LAYOUT_YUV420, 10, 1, 6, 1},
        {AIE_LAYOUT_YUV422, 8, 1, 2, 2}, {AIE_LAYOUT_GRAY, 12, 2, 2, 0},   {AIE_LAYOUT_YUV420, 8, 1, 1, 3},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        AieFrame *src = frame(18, 12, cases[k].l, cases[k].depth), *dst = frame(36, 24, cases[k].l, cases[k].depth);
        const int sh = cases[k].depth - 8;
        for (int p = 0; p < src->nplanes; p++)
            for (int y = 0; y < src->plane_h[p]; y++)
                for (int x = 0; x < src->plane_w[p]; x++) {
                    /* luma varies; chroma constant (subsampling is then exact) */
                    int v = p == 0 ? 70 + 5 * x + 3 * y : 128 + (p == 1 ? 12 : -9);
                    set_sample(src, p, x, y, v << sh);
                }
        AieColor col = {.range = cases[k].range, .matrix = cases[k].matrix, .chroma_loc = cases[k].loc};
        AieCnnUpscaler *u = upscaler(m, src, 36, 24, col);
        CU_ASSERT_EQUAL(aie_cnn_upscale(u, src, dst, NULL, NULL), 0);
        int worst = 0;
        for (int p = 0; p < dst->nplanes; p++)
            for (int y = 0; y < dst->plane_h[p]; y++)
                for (int x = 0; x < dst->plane_w[p]; x++) {
                    int d = abs(sample(dst, p, x, y) - sample(src, p, x / 2, y / 2));
                    worst = d > worst ? d : worst;
                }
        if (worst > 1)
            fprintf(stderr, "\n  case %zu: off by %d\n", k, worst);
        CU_ASSERT(worst <= 1);
        aie_cnn_free(&u);
        aie_frame_unref(&src);
        aie_frame_unref(&dst);
    }
    aie_nn_free(&m);
}

/* 3x from a 2x model: the model's 2x output resampled with lanczos; threads
 * change nothing. */
static void test_frame_other_scale(void)
{
    AieNnModel *m = identity_model();
    AieFrame *src = frame(20, 14, AIE_LAYOUT_YUV420, 8);
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < src->plane_h[p]; y++)
            for (int x = 0; x < src->plane_w[p]; x++)
                set_sample(src, p, x, y, p ? 128 + ((x * 7 + y * 3) % 20) : 40 + (x * 13 + y * 29) % 180);
    AieColor col = {.range = 1, .matrix = 1};
    AieFrame *two = frame(40, 28, AIE_LAYOUT_YUV420, 8), *three = frame(60, 42, AIE_LAYOUT_YUV420, 8);
    AieFrame *want = frame(60, 42, AIE_LAYOUT_YUV420, 8);
    AieCnnUpscaler *u2 = upscaler(m, src, 40, 28, col), *u3 = upscaler(m, src, 60, 42, col);
    CU_ASSERT_EQUAL(aie_cnn_upscale(u2, src, two, NULL, NULL), 0);
    AiePool *pool = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_pool_create(&pool, 3), 0);
    CU_ASSERT_EQUAL(aie_cnn_upscale(u3, src, three, pool, NULL), 0);
    AieScaleParams sp = {40, 28, 60, 42, AIE_LAYOUT_YUV420, 8, AIE_FILTER_LANCZOS, 0, 0};
    AieScaler *s = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_scaler_create(&s, &sp, aie_cpu_flags()), 0);
    CU_ASSERT_EQUAL(aie_scaler_scale(s, two, want, NULL), 0);
    int same = 1;
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < want->plane_h[p]; y++)
            same &= !memcmp(want->data[p] + y * want->stride[p], three->data[p] + y * three->stride[p],
                            (size_t)want->plane_w[p]);
    CU_ASSERT(same);
    aie_scaler_free(&s);
    aie_pool_destroy(&pool);
    aie_cnn_free(&u2);
    aie_cnn_free(&u3);
    aie_frame_unref(&src);
    aie_frame_unref(&two);
    aie_frame_unref(&three);
    aie_frame_unref(&want);
    aie_nn_free(&m);
}

/* ---- catalogue and choice ---- */

static void mkmodels(const char *dir, const char *const *files, int n)
{
    for (int i = 0; i < n; i++) {
        char cmd[2048];
        snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname %s/%s)\" && cp %s/testdata/nn/tiny_scale2.0x_model.json %s/%s",
                 dir, files[i], tests_src_dir(), dir, files[i]);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
}

static void test_catalogue_pick(void)
{
    int n;
    const AieCnnModelDesc *cat = aie_cnn_catalogue(&n);
    CU_ASSERT(n >= 20);
    for (int i = 0; i < n; i++) {
        CU_ASSERT_PTR_EQUAL(aie_cnn_model_desc(cat[i].name), &cat[i]);
        CU_ASSERT(!strcmp(cat[i].content, "photo") || !strcmp(cat[i].content, "animation"));
    }
    CU_ASSERT_PTR_NULL(aie_cnn_model_desc("nosuch"));
    const char *d1 = T("models-a"), *d2 = T("models-b");
    static const char *const a[] = {"waifu2x/noise1_model.json", "realesrgan/realesr-animevideov3-x4.param",
                                    "anime4k/cnn-2x-s-an.json"};
    static const char *const b[] = {"realesrgan/realesr-animevideov3-x3.param", "waifu2x/scale2.0x_model.json"};
    mkmodels(d1, a, 3);
    mkmodels(d2, b, 2);
    const char *dirs[2] = {d1, d2};
    const AieCnnModelDesc *d;
    char p[4096];
    CU_ASSERT_EQUAL(aie_cnn_model_pick(dirs, 1, 2.0, &d, p, sizeof(p)), 0);
    CU_ASSERT_STRING_EQUAL(d->name, "anime4k-2x-s-an"); /* the only 2x one in d1 */
    CU_ASSERT_EQUAL(aie_cnn_model_pick(dirs, 2, 2.0, &d, p, sizeof(p)), 0);
    CU_ASSERT_STRING_EQUAL(d->name, "waifu2x-scale2x"); /* better rank */
    CU_ASSERT_EQUAL(aie_cnn_model_pick(dirs, 2, 2.5, &d, p, sizeof(p)), 0);
    CU_ASSERT_STRING_EQUAL(d->name, "realesr-animevideov3-x3"); /* smallest scale >= 2.5 */
    CU_ASSERT_EQUAL(aie_cnn_model_pick(dirs, 2, 6.0, &d, p, sizeof(p)), 0);
    CU_ASSERT_STRING_EQUAL(d->name, "realesr-animevideov3-x4"); /* the largest */
    CU_ASSERT_EQUAL(aie_cnn_model_pick(dirs, 2, 1.0, &d, p, sizeof(p)), 0);
    CU_ASSERT_STRING_EQUAL(d->name, "waifu2x-noise1");
    CU_ASSERT_EQUAL(aie_cnn_model_find(dirs, 2, aie_cnn_model_desc("waifu2x-noise1"), p, sizeof(p)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(p, "models-a/waifu2x/noise1_model.json"));
    const char *none[1] = {T("models-none")};
    CU_ASSERT_EQUAL(aie_cnn_model_pick(none, 1, 2.0, &d, p, sizeof(p)), AIE_ENOENT);
}

/* ---- the command line ---- */

/* A 24x16 4:2:0 y4m of 2 frames, written by hand. */
static void write_y4m(const char *path)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "YUV4MPEG2 W24 H16 F25:1 Ip A1:1 C420jpeg\n");
    for (int k = 0; k < 2; k++) {
        fprintf(f, "FRAME\n");
        for (int i = 0; i < 24 * 16; i++)
            fputc(40 + (i * 7 + k * 11) % 170, f);
        for (int i = 0; i < 2 * 12 * 8; i++)
            fputc(120 + i % 16, f);
    }
    fclose(f);
}

/* environment with no models anywhere (the build tree has no share/aie) */
#define NOMODELS "AIE_MODEL_DIR= XDG_CACHE_HOME=/nonexistent HOME=/nonexistent"

#define run(...) tests_run(out, sizeof(out), __VA_ARGS__)

static void test_cli(void)
{
    char cmd[4096], in[512];
    snprintf(in, sizeof(in), "%s", T("cnn.y4m")); /* T() rotates 8 buffers */
    write_y4m(in);
    /* -m cnn without models: a runtime failure with the hint */
    snprintf(cmd, sizeof(cmd), NOMODELS " %s/aie-upscale -m cnn -i %s -o %s", BIN, in, T("o.y4m"));
    int rc = tests_run(out, sizeof(out), "%s", cmd);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT(!strncmp(out, "aie-upscale: ", 13));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "make models"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "no CNN model installed"));
    /* --list-models with nothing installed */
    snprintf(cmd, sizeof(cmd), NOMODELS " %s/aie-upscale --list-models", BIN);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "%s", cmd), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "no CNN models installed"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "make models"));
    /* usage errors */
    CU_ASSERT_EQUAL(run("%s/aie-upscale --model nosuch -i %s -o /dev/null", BIN, in), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "unknown model 'nosuch'"));
    CU_ASSERT_EQUAL(run("%s/aie-upscale -m lanczos --model waifu2x-scale2x -i %s -o /dev/null", BIN, in), 2);
    CU_ASSERT_EQUAL(run("%s/aie-upscale -m lanczos --tile 64 -i %s -o /dev/null", BIN, in), 2);
    CU_ASSERT_EQUAL(run("%s/aie-upscale -m cnn --tile 8 -i %s -o /dev/null", BIN, in), 2);
    /* a bad model file: runtime failure naming it */
    snprintf(cmd, sizeof(cmd), "%s/aie-upscale --model %s/testdata/nn/bad/malformed_model.json -i %s -o /dev/null",
             BIN, tests_src_dir(), in);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "%s", cmd), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "malformed_model.json: malformed JSON"));

    /* an installed (tiny) model */
    char dir[512];
    snprintf(dir, sizeof(dir), "%s", T("cli-models"));
    static const char *const files[] = {"waifu2x/scale2.0x_model.json"};
    mkmodels(dir, files, 1);
    snprintf(cmd, sizeof(cmd), "AIE_MODEL_DIR=%s %s/aie-upscale --list-models", dir, BIN);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "%s", cmd), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "NAME"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "GFLOP/MPIXEL"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "waifu2x-scale2x"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, " 2x  animation"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "cli-models/waifu2x/scale2.0x_model.json"));
    snprintf(cmd, sizeof(cmd), "AIE_MODEL_DIR=%s %s/aie-upscale -m cnn -i %s -o %s --dry-run --json", dir, BIN, in,
             T("o.y4m"));
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "%s", cmd), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"method\": \"cnn\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"model\": \"waifu2x-scale2x\""));
    char log[512];
    snprintf(log, sizeof(log), "%s", T("cnn-metrics.jsonl"));
    snprintf(cmd, sizeof(cmd), "AIE_MODEL_DIR=%s %s/aie-upscale -q -m cnn --tile 16 --max-mem 64 --metrics %s "
             "-i %s -o %s && head -c 9999 %s", dir, BIN, log, in, T("o.y4m"), log);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "%s", cmd), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"method\":\"cnn\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"model\":\"waifu2x-scale2x\""));
    CU_ASSERT_EQUAL(run("head -c 60 %s", T("o.y4m")), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "W48 H32"));
    /* a model file by path, and 3x with a 2x model */
    snprintf(cmd, sizeof(cmd), "%s/aie-upscale -q -s 3 --model %s/testdata/nn/tiny-x2.param -i %s -o %s && head -c 60 %s",
             BIN, tests_src_dir(), in, T("o3.y4m"), T("o3.y4m"));
    rc = tests_run(out, sizeof(out), "%s", cmd);
    if (rc)
        fprintf(stderr, "\n  %s\n  exit %d: %s\n", cmd, rc, out);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "W72 H48"));
}

int test_cnn_register(void)
{
    CU_pSuite s = CU_add_suite("cnn", NULL, NULL);
    if (!s || !CU_add_test(s, "real models vs the reference", test_real_models) ||
        !CU_add_test(s, "RGBA 16-bit: exact colour, lanczos alpha", test_frame_rgb16_alpha) ||
        !CU_add_test(s, "YUV and gray round trips", test_frame_yuv_gray) ||
        !CU_add_test(s, "scales the model does not make", test_frame_other_scale) ||
        !CU_add_test(s, "catalogue and choice", test_catalogue_pick) ||
        !CU_add_test(s, "command line", test_cli))
        return -1;
    return 0;
}
