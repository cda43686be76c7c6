/*
 * style: colour transfer from a reference (MKL and Reinhard): output statistics
 * match the reference, --strength 0 is the identity, gray and flat references,
 * per-shot statistics and --export-lut, order independence, and aie-style's
 * command line for references.
 *
 * Tolerances (R'G'B' 0..1 units, statistics over every pixel of a 160x120
 * frame whose colours stay well inside the cube, so clipping is negligible):
 *   MKL: means within 0.01, covariance entries within 5% of the largest
 *        reference entry (+1e-4);
 *   Reinhard: l-alpha-beta means within 0.02, deviations within 10%.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "aie/frame.h"
#include "aie/look.h"
#include "tests.h"

#define W 160
#define H 120

static uint32_t st_rnd = 777;
static double urand(void)
{
    st_rnd = st_rnd * 1664525u + 1013904223u;
    return (st_rnd >> 8) / 16777216.0;
}

static double nrand(void)
{
    double u = urand() + 1e-9, v = urand();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* An RGB frame of correlated colours: mean m, mixing matrix A (x = m + A n). */
static AieFrame *rgb_frame(const double m[3], const double A[9], int gray)
{
    AieFrame *f = NULL;
    if (aie_frame_alloc(&f, W, H, AIE_LAYOUT_RGB, 8))
        return NULL;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double n[3] = {nrand(), nrand(), nrand()}, v[3];
            for (int c = 0; c < 3; c++) {
                v[c] = m[c] + A[3 * c] * n[0] + A[3 * c + 1] * n[1] + A[3 * c + 2] * n[2];
                if (gray)
                    v[c] = v[0];
                int q = (int)lround(v[c] * 255);
                f->data[c][y * f->stride[c] + x] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
        }
    f->color.range = 2;
    return f;
}

static void moments(const AieFrame *f, int lab, double mean[3], double cov[9])
{
    double s[3] = {0}, ss[9] = {0};
    const double n = (double)f->width * f->height;
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++) {
            double v[3];
            for (int c = 0; c < 3; c++)
                v[c] = f->data[c][y * f->stride[c] + x] / 255.0;
            if (lab) {
                double L = 0.3811 * v[0] + 0.5783 * v[1] + 0.0402 * v[2];
                double M = 0.1967 * v[0] + 0.7244 * v[1] + 0.0782 * v[2];
                double S = 0.0241 * v[0] + 0.1288 * v[1] + 0.8444 * v[2];
                L = log10(fmax(L, 1e-4));
                M = log10(fmax(M, 1e-4));
                S = log10(fmax(S, 1e-4));
                v[0] = (L + M + S) / sqrt(3);
                v[1] = (L + M - 2 * S) / sqrt(6);
                v[2] = (L - M) / sqrt(2);
            }
            for (int i = 0; i < 3; i++) {
                s[i] += v[i];
                for (int j = 0; j < 3; j++)
                    ss[3 * i + j] += v[i] * v[j];
            }
        }
    for (int i = 0; i < 3; i++)
        mean[i] = s[i] / n;
    for (int i = 0; i < 9; i++)
        cov[i] = ss[i] / n - mean[i / 3] * mean[i % 3];
}

static const double M_SRC[3] = {0.45, 0.5, 0.55}, A_SRC[9] = {0.08, 0.02, 0, 0.02, 0.07, 0.01, 0, 0.03, 0.06};
static const double M_REF[3] = {0.6, 0.45, 0.35}, A_REF[9] = {0.06, 0, 0.01, 0.03, 0.04, 0, -0.02, 0.01, 0.05};

static AieFrame *styled(const AieFrame *in, const AieFrame *ref, AieTransfer tr, double strength)
{
    AieStyleParams p = {.reference = ref, .transfer = tr, .strength = strength};
    AieStyle *s = NULL;
    AieFrame *out = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_style_create(&s, &p, in->width, in->height, in->layout, in->depth, aie_cpu_flags()), 0);
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&out, in->width, in->height, in->layout, in->depth), 0);
    CU_ASSERT_EQUAL(aie_style_process(s, 0, in, NULL, 0, out, NULL), 0);
    aie_style_free(&s);
    return out;
}

static void test_mkl_stats(void)
{
    AieFrame *src = rgb_frame(M_SRC, A_SRC, 0), *ref = rgb_frame(M_REF, A_REF, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    AieFrame *out = styled(src, ref, AIE_TRANSFER_MKL, 1.0);
    double mo[3], co[9], mr[3], cr[9];
    moments(out, 0, mo, co);
    moments(ref, 0, mr, cr);
    double cmax = 0;
    for (int i = 0; i < 9; i++)
        cmax = fmax(cmax, fabs(cr[i]));
    int bad = 0;
    for (int i = 0; i < 3; i++)
        bad += fabs(mo[i] - mr[i]) > 0.01;
    for (int i = 0; i < 9; i++)
        bad += fabs(co[i] - cr[i]) > 0.05 * cmax + 1e-4;
    if (bad) {
        fprintf(stderr, "\n  mean out %.4f %.4f %.4f ref %.4f %.4f %.4f\n", mo[0], mo[1], mo[2], mr[0], mr[1], mr[2]);
        for (int i = 0; i < 9; i++)
            fprintf(stderr, "  cov[%d] out %.5f ref %.5f\n", i, co[i], cr[i]);
    }
    CU_ASSERT_EQUAL(bad, 0);
    aie_frame_unref(&out);
    aie_frame_unref(&src);
    aie_frame_unref(&ref);
}

static void test_reinhard_stats(void)
{
    AieFrame *src = rgb_frame(M_SRC, A_SRC, 0), *ref = rgb_frame(M_REF, A_REF, 0);
    AieFrame *out = styled(src, ref, AIE_TRANSFER_REINHARD, 1.0);
    double mo[3], co[9], mr[3], cr[9];
    moments(out, 1, mo, co);
    moments(ref, 1, mr, cr);
    int bad = 0;
    for (int i = 0; i < 3; i++) {
        bad += fabs(mo[i] - mr[i]) > 0.02;
        bad += fabs(sqrt(co[4 * i]) - sqrt(cr[4 * i])) > 0.1 * sqrt(cr[4 * i]);
    }
    if (bad)
        for (int i = 0; i < 3; i++)
            fprintf(stderr, "\n  lab[%d] mean %.4f/%.4f sd %.4f/%.4f", i, mo[i], mr[i], sqrt(co[4 * i]), sqrt(cr[4 * i]));
    CU_ASSERT_EQUAL(bad, 0);
    aie_frame_unref(&out);
    aie_frame_unref(&src);
    aie_frame_unref(&ref);
}

static int max_diff(const AieFrame *a, const AieFrame *b)
{
    int m = 0;
    for (int p = 0; p < a->nplanes; p++)
        for (int y = 0; y < a->plane_h[p]; y++)
            for (int x = 0; x < a->plane_w[p]; x++) {
                int d = abs(a->data[p][y * a->stride[p] + x] - b->data[p][y * b->stride[p] + x]);
                m = d > m ? d : m;
            }
    return m;
}

static void test_strength0(void)
{
    AieFrame *src = rgb_frame(M_SRC, A_SRC, 0), *ref = rgb_frame(M_REF, A_REF, 0);
    for (int tr = 0; tr < 2; tr++) {
        AieFrame *out = styled(src, ref, (AieTransfer)tr, 0.0);
        CU_ASSERT(max_diff(src, out) <= 1);
        aie_frame_unref(&out);
    }
    /* YUV 4:2:0 input, limited range, in gamut */
    AieFrame *yuv = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&yuv, 98, 54, AIE_LAYOUT_YUV420, 8), 0);
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < yuv->plane_h[p]; y++)
            for (int x = 0; x < yuv->plane_w[p]; x++)
                yuv->data[p][y * yuv->stride[p] + x] =
                    (uint8_t)(p == 0 ? 60 + (int)(urand() * 130) : 113 + (int)(urand() * 30));
    yuv->color.range = 1;
    AieFrame *out = styled(yuv, ref, AIE_TRANSFER_MKL, 0.0);
    CU_ASSERT(max_diff(yuv, out) <= 1);
    aie_frame_unref(&out);
    aie_frame_unref(&yuv);
    aie_frame_unref(&src);
    aie_frame_unref(&ref);
}

/* A gray reference makes the footage gray (R = G = B within 2), without
 * failing; so does a gray-layout one; a flat reference gives a flat picture. */
static void test_gray_reference(void)
{
    AieFrame *src = rgb_frame(M_SRC, A_SRC, 0), *gray = rgb_frame(M_REF, A_REF, 1);
    for (int tr = 0; tr < 2; tr++) {
        AieFrame *out = styled(src, gray, (AieTransfer)tr, 1.0);
        int m = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int r = out->data[0][y * out->stride[0] + x], g = out->data[1][y * out->stride[1] + x],
                    b = out->data[2][y * out->stride[2] + x];
                m = abs(r - g) > m ? abs(r - g) : m;
                m = abs(b - g) > m ? abs(b - g) : m;
            }
        if (m > 2)
            fprintf(stderr, "\n  %s, gray reference: |R-G|,|B-G| up to %d\n", aie_transfer_name((AieTransfer)tr), m);
        CU_ASSERT(m <= 2);
        aie_frame_unref(&out);
    }
    AieFrame *g1 = NULL, *flat = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&g1, 64, 48, AIE_LAYOUT_GRAY, 8), 0);
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&flat, 64, 48, AIE_LAYOUT_RGB, 8), 0);
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++) {
            g1->data[0][y * g1->stride[0] + x] = (uint8_t)(16 + (x * 3 + y) % 200);
            for (int c = 0; c < 3; c++)
                flat->data[c][y * flat->stride[c] + x] = (uint8_t)(c == 0 ? 200 : 90);
        }
    g1->color.range = 1;
    flat->color.range = 2;
    AieFrame *out = styled(src, g1, AIE_TRANSFER_MKL, 1.0);
    int m = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            m = abs(out->data[0][y * out->stride[0] + x] - out->data[2][y * out->stride[2] + x]) > m
                    ? abs(out->data[0][y * out->stride[0] + x] - out->data[2][y * out->stride[2] + x])
                    : m;
    CU_ASSERT(m <= 2);
    aie_frame_unref(&out);
    out = styled(src, flat, AIE_TRANSFER_MKL, 1.0);
    CU_ASSERT(abs(out->data[0][5 * out->stride[0] + 7] - 200) <= 2);
    CU_ASSERT(abs(out->data[1][50 * out->stride[1] + 70] - 90) <= 2);
    aie_frame_unref(&out);
    aie_frame_unref(&flat);
    aie_frame_unref(&g1);
    aie_frame_unref(&gray);
    aie_frame_unref(&src);
}

/* Two shots of still frames: 2 shots found; any processing order gives the
 * same bytes; the exported LUT of shot 1, applied as a LUT, reproduces the
 * output of shot 1 within 1. */
static void test_shots_export(void)
{
    AieFrame *a = rgb_frame(M_SRC, A_SRC, 0), *b = NULL, *ref = rgb_frame(M_REF, A_REF, 0);
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&b, W, H, AIE_LAYOUT_RGB, 8), 0);
    for (int y = 0; y < H; y++) /* a different scene: bars */
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                b->data[c][y * b->stride[c] + x] = (uint8_t)((((x / 20) >> c) & 1) ? 220 : 30 + y);
    b->color.range = 2;
    enum { N = 10, CUT = 5 };
    AieFrame *clip[N], *out[2][N];
    for (int i = 0; i < N; i++)
        clip[i] = i < CUT ? a : b;
    AieStyleParams p = {.reference = ref, .transfer = AIE_TRANSFER_MKL, .strength = 0.8};
    AieStyle *s[2] = {NULL, NULL};
    for (int pass = 0; pass < 2; pass++) {
        CU_ASSERT_EQUAL_FATAL(aie_style_create(&s[pass], &p, W, H, AIE_LAYOUT_RGB, 8, aie_cpu_flags()), 0);
        CU_ASSERT_EQUAL(aie_style_shots(s[pass]), 0);
        for (int k = 0; k < N; k++) {
            int i = pass ? N - 1 - k : k; /* forwards, then backwards */
            AieFrame *prev[AIE_STYLE_HISTORY];
            int np = 0;
            while (np < AIE_STYLE_HISTORY && i - 1 - np >= 0) {
                prev[np] = clip[i - 1 - np];
                np++;
            }
            CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&out[pass][i], W, H, AIE_LAYOUT_RGB, 8), 0);
            CU_ASSERT_EQUAL(aie_style_process(s[pass], i, clip[i], prev, np, out[pass][i], NULL), 0);
        }
    }
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(max_diff(out[0][i], out[1][i]), 0);
    CU_ASSERT_EQUAL(aie_style_shots(s[0]), 2);
    CU_ASSERT_EQUAL(aie_style_shots(s[1]), 2);
    char *text = NULL;
    CU_ASSERT_EQUAL(aie_style_export_cube(s[0], 3, 33, &text), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_style_export_cube(s[0], 2, 33, &text), 0);
    free(text);
    text = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_style_export_cube(s[0], 1, 33, &text), 0);
    AieLut *lut = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(aie_lut_parse(&lut, text, strlen(text), err, sizeof(err)), 0);
    free(text);
    AieStyleParams lp = {.lut = lut};
    AieStyle *ls = NULL;
    AieFrame *o = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_style_create(&ls, &lp, W, H, AIE_LAYOUT_RGB, 8, aie_cpu_flags()), 0);
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&o, W, H, AIE_LAYOUT_RGB, 8), 0);
    CU_ASSERT_EQUAL(aie_style_apply(ls, a, o, NULL), 0);
    CU_ASSERT(max_diff(o, out[0][2]) <= 1);
    CU_ASSERT(max_diff(out[0][2], a) > 10); /* the transfer did something */
    aie_frame_unref(&o);
    aie_style_free(&ls);
    aie_lut_free(&lut);
    for (int pass = 0; pass < 2; pass++) {
        aie_style_free(&s[pass]);
        for (int i = 0; i < N; i++)
            aie_frame_unref(&out[pass][i]);
    }
    aie_frame_unref(&a);
    aie_frame_unref(&b);
    aie_frame_unref(&ref);
}

static void test_bad_params(void)
{
    AieFrame *ref = rgb_frame(M_REF, A_REF, 0);
    AieStyleParams p = {.reference = ref, .strength = 1.5};
    AieStyle *s = NULL;
    CU_ASSERT_EQUAL(aie_style_create(&s, &p, W, H, AIE_LAYOUT_RGB, 8, 0), AIE_EINVAL);
    CU_ASSERT_PTR_NULL(s);
    AieTransfer t;
    CU_ASSERT_EQUAL(aie_transfer_parse("reinhard", &t), 0);
    CU_ASSERT_EQUAL(t, AIE_TRANSFER_REINHARD);
    CU_ASSERT_EQUAL(aie_transfer_parse("pdf", &t), -1);
    char *text = NULL;
    p.strength = 1;
    p.reference = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_style_create(&s, &p, W, H, AIE_LAYOUT_RGB, 8, 0), 0);
    CU_ASSERT_EQUAL(aie_style_export_cube(s, 1, 33, &text), AIE_EINVAL); /* no reference */
    aie_style_free(&s);
    aie_frame_unref(&ref);
}

static void test_cli(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("style/cli", "ffmpeg not installed");
        return;
    }
    const char *bin = tests_bin_dir();
    char msg[4096], in[1024], ref[1024], cube[1024];
    snprintf(in, sizeof(in), "%s", tests_tmp_path("style_clip.y4m"));
    snprintf(ref, sizeof(ref), "%s", tests_tmp_path("style_ref.png"));
    snprintf(cube, sizeof(cube), "%s", tests_tmp_path("style_export.cube"));
    CU_ASSERT_EQUAL_FATAL(tests_run(msg, sizeof(msg),
                                    "ffmpeg -v error -y -f lavfi -i testsrc2=size=96x64:rate=10 -frames 4 "
                                    "-pix_fmt yuv420p '%s' && ffmpeg -v error -y -f lavfi "
                                    "-i gradients=size=64x48:c0=orange:c1=navy -frames 1 '%s'", in, ref), 0);
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --reference /nonexistent.png -i '%s' -o /dev/null",
                              bin, in), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "/nonexistent.png"));
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --reference '%s' -i '%s' -o /dev/null", bin,
                              in, in), 0); /* a video works as a reference: its first frame */
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --reference '%s' --transfer pdf -i '%s' -o /dev/null",
                              bin, ref, in), 2);
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --reference '%s' --strength 2 -i '%s' -o /dev/null",
                              bin, ref, in), 2);
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --lut x.cube --export-lut y.cube -i '%s' -o /dev/null",
                              bin, in), 2);
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --reference '%s' --shot 2 -i '%s' -o /dev/null",
                              bin, ref, in), 2);
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --reference '%s' --export-lut '%s' --shot 2 "
                              "-i '%s' -o /dev/null", bin, ref, cube, in), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "--shot 2: the clip has 1 shot"));
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --reference '%s' --export-lut '%s' "
                              "--transfer reinhard --strength 0.5 -i '%s' -o /dev/null", bin, ref, cube, in), 0);
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "grep -c '^LUT_3D_SIZE 33' '%s'", cube), 0);
    /* the same bytes for every --cpu and -j */
    const char *runs[] = {"--cpu c -j 1", "--cpu avx2 -j 2", "-j 3"};
    char h0[80] = "";
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' -q %s --reference '%s' -i '%s' -o - | sha256sum",
                                  bin, runs[i], ref, in), 0);
        if (!i)
            snprintf(h0, sizeof(h0), "%.64s", msg);
        else
            CU_ASSERT_EQUAL(strncmp(h0, msg, 64), 0);
    }
}

int test_style_register(void)
{
    CU_pSuite s = CU_add_suite("style", NULL, NULL);
    if (!s)
        return -1;
    if (!CU_add_test(s, "mkl_stats", test_mkl_stats) || !CU_add_test(s, "reinhard_stats", test_reinhard_stats) ||
        !CU_add_test(s, "strength0", test_strength0) || !CU_add_test(s, "gray_reference", test_gray_reference) ||
        !CU_add_test(s, "shots_export", test_shots_export) || !CU_add_test(s, "bad_params", test_bad_params) ||
        !CU_add_test(s, "cli", test_cli))
        return -1;
    return 0;
}
