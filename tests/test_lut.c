/*
 * lut: .cube parsing (good and bad files), LUT application (identity within 1
 * LSB on RGB and YUV, 1D LUTs, C == SIMD on whole frames, any thread count),
 * agreement with ffmpeg's lut3d (tetrahedral) within 1 LSB on 8-bit RGB, and
 * aie-style's command line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "aie/frame.h"
#include "aie/look.h"
#include "aie/thread.h"
#include "tests.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    *len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

static int parse_file(const char *name, AieLut **lut, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/testdata/lut/%s", tests_src_dir(), name);
    size_t len = 0;
    char *text = slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    int r = aie_lut_parse(lut, text, len, err, errlen);
    free(text);
    return r;
}

/* A size-n 3D LUT in memory: identity, or the "known" non-linear look. */
static char *make_cube(int n, int known, size_t *len)
{
    size_t cap = (size_t)n * n * n * 40 + 256, k = 0;
    char *s = malloc(cap);
    k += (size_t)snprintf(s + k, cap - k, "TITLE \"%s\"\nLUT_3D_SIZE %d\n", known ? "known" : "identity", n);
    for (int b = 0; b < n; b++)
        for (int g = 0; g < n; g++)
            for (int r = 0; r < n; r++) {
                double R = r / (n - 1.0), G = g / (n - 1.0), B = b / (n - 1.0), o[3] = {R, G, B};
                if (known) {
                    o[0] = fmin(1, 0.9 * pow(R, 0.8) + 0.1 * B);
                    o[1] = fmin(1, G * G * 0.7 + 0.3 * pow(sin(R * 3), 2));
                    o[2] = (1 - R) * 0.5 + B * 0.5;
                }
                k += (size_t)snprintf(s + k, cap - k, "%.6f %.6f %.6f\n", o[0], o[1], o[2]);
            }
    *len = k;
    return s;
}

static void test_parse_good(void)
{
    AieLut *l = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(parse_file("identity2.cube", &l, err, sizeof(err)), 0);
    AieLutInfo li;
    aie_lut_info(l, &li);
    CU_ASSERT_EQUAL(li.dims, 3);
    CU_ASSERT_EQUAL(li.size, 2);
    CU_ASSERT_STRING_EQUAL(li.title, "identity 2");
    double in[3] = {0.25, 0.5, 0.75}, out[3];
    aie_lut_eval(l, 1, in, out);
    for (int c = 0; c < 3; c++)
        CU_ASSERT(fabs(out[c] - in[c]) < 1e-9);
    aie_lut_free(&l);
    CU_ASSERT_PTR_NULL(l);
    CU_ASSERT_EQUAL_FATAL(parse_file("invert1d.cube", &l, err, sizeof(err)), 0);
    aie_lut_info(l, &li);
    CU_ASSERT_EQUAL(li.dims, 1);
    CU_ASSERT_EQUAL(li.size, 3);
    aie_lut_eval(l, 1, in, out);
    for (int c = 0; c < 3; c++)
        CU_ASSERT(fabs(out[c] - (1 - in[c])) < 1e-6);
    aie_lut_free(&l);
    /* domain, CRLF, trailing comment, input range keyword */
    const char *t = "LUT_3D_INPUT_RANGE 0 2\r\nLUT_3D_SIZE 2\r\n0 0 0\r\n2 0 0\r\n0 2 0\r\n2 2 0\r\n0 0 2\r\n"
                    "2 0 2\r\n0 2 2\r\n2 2 2 # last\r\n";
    CU_ASSERT_EQUAL_FATAL(aie_lut_parse(&l, t, strlen(t), err, sizeof(err)), 0);
    aie_lut_info(l, &li);
    CU_ASSERT_DOUBLE_EQUAL(li.domain_max[1], 2.0, 1e-12);
    aie_lut_free(&l);
    aie_lut_free(&l); /* NULL is fine */
}

static void expect_bad(const char *text, const char *needle)
{
    AieLut *l = NULL;
    char err[256] = "";
    int r = aie_lut_parse(&l, text, strlen(text), err, sizeof(err));
    CU_ASSERT_EQUAL(r, AIE_EFORMAT);
    CU_ASSERT_PTR_NULL(l);
    if (!strstr(err, needle)) {
        fprintf(stderr, "\n  expected '%s' in '%s'\n", needle, err);
        CU_FAIL("error message");
    }
}

static void test_parse_bad(void)
{
    AieLut *l = NULL;
    char err[256];
    CU_ASSERT_EQUAL(parse_file("bad-malformed.cube", &l, err, sizeof(err)), AIE_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 5:"));
    CU_ASSERT_EQUAL(parse_file("bad-count.cube", &l, err, sizeof(err)), AIE_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "7 entries, a size-2 3D LUT needs 8"));
    CU_ASSERT_EQUAL(parse_file("bad-domain.cube", &l, err, sizeof(err)), AIE_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 9: value 1.5 is outside the domain"));
    CU_ASSERT_EQUAL(parse_file("bad-size.cube", &l, err, sizeof(err)), AIE_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 1: size 66 is out of range"));
    expect_bad("LUT_3D_SIZE 1\n", "line 1: size 1 is out of range");
    expect_bad("LUT_3D_SIZE 2.5\n", "line 1: expected one integer size");
    expect_bad("0 0 0\n", "line 1: table entry before");
    expect_bad("# nothing\n", "no LUT_3D_SIZE");
    expect_bad("", "no LUT_3D_SIZE");
    expect_bad("LUT_1D_SIZE 2\n0 0 0\n1 1 1\n1 1 1\n", "line 4: more than the 2 entries");
    expect_bad("LUT_1D_SIZE 2\n0 0\n1 1 1\n", "line 2: expected three numbers");
    expect_bad("LUT_1D_SIZE 2\n0 0 0 0\n1 1 1\n", "line 2: expected three numbers");
    expect_bad("LUT_1D_SIZE 2\n0 nan 0\n1 1 1\n", "line 2: expected three numbers");
    expect_bad("LUT_1D_SIZE 2\n0 -0.5 0\n1 1 1\n", "line 2: value -0.5 is outside the domain");
    expect_bad("LUT_1D_SIZE 2\nLUT_3D_SIZE 2\n", "line 2: a second LUT size");
    expect_bad("LUT_1D_SIZE 2\nFOO 1\n", "line 2: unknown keyword 'FOO'");
    expect_bad("LUT_1D_SIZE 2\n0 0 0\nTITLE \"x\"\n1 1 1\n", "line 3: keyword after the table entries");
    expect_bad("LUT_1D_SIZE 2\nDOMAIN_MIN 1 0 0\n0 0 0\n1 1 1\n", "line 3: DOMAIN_MIN 1 is not below DOMAIN_MAX 1");
    expect_bad("LUT_1D_SIZE 2\nDOMAIN_MAX 1 1\n", "line 2: expected three numbers after DOMAIN_MAX");
    expect_bad("LUT_3D_SIZE 2\n0 0 0\n1 0 0\n", "line 3: 2 entries, a size-2 3D LUT needs 8");
    CU_ASSERT_EQUAL(aie_lut_parse(NULL, "", 0, NULL, 0), AIE_EINVAL);
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1664525u + 1013904223u;
    return rnd_state >> 8;
}

static void fill(AieFrame *f, int yuv_in_gamut)
{
    const int maxv = (1 << f->depth) - 1, sc = 1 << (f->depth - 8);
    for (int p = 0; p < f->nplanes; p++)
        for (int y = 0; y < f->plane_h[p]; y++)
            for (int x = 0; x < f->plane_w[p]; x++) {
                int v = (int)(rnd() % (uint32_t)(maxv + 1));
                if (yuv_in_gamut) /* Y 60..190, chroma 128 +- 15 (8-bit units): inside the RGB cube */
                    v = p == 0 ? (60 + (int)(rnd() % 131)) * sc : (113 + (int)(rnd() % 31)) * sc;
                uint8_t *row = f->data[p] + (ptrdiff_t)y * f->stride[p];
                if (f->depth > 8)
                    ((uint16_t *)row)[x] = (uint16_t)v;
                else
                    row[x] = (uint8_t)v;
            }
}

static int max_diff(const AieFrame *a, const AieFrame *b)
{
    int m = 0;
    for (int p = 0; p < a->nplanes; p++)
        for (int y = 0; y < a->plane_h[p]; y++)
            for (int x = 0; x < a->plane_w[p]; x++) {
                const uint8_t *ra = a->data[p] + (ptrdiff_t)y * a->stride[p];
                const uint8_t *rb = b->data[p] + (ptrdiff_t)y * b->stride[p];
                int d = a->depth > 8 ? abs(((const uint16_t *)ra)[x] - ((const uint16_t *)rb)[x]) : abs(ra[x] - rb[x]);
                m = d > m ? d : m;
            }
    return m;
}

static AieLut *cube(int n, int known)
{
    size_t len;
    char *t = make_cube(n, known, &len);
    AieLut *l = NULL;
    char err[256];
    int r = aie_lut_parse(&l, t, len, err, sizeof(err));
    free(t);
    CU_ASSERT_EQUAL(r, 0);
    return l;
}

/* in -> style -> out; returns the max abs difference to in */
static int run_style(const AieLut *lut, AieLutInterp interp, AieFrame *in, AieFrame **outp, unsigned cpu,
                     AiePool *pool)
{
    AieStyleParams sp = {.lut = lut, .interp = interp};
    AieStyle *s = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_style_create(&s, &sp, in->width, in->height, in->layout, in->depth, cpu), 0);
    AieFrame *out = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&out, in->width, in->height, in->layout, in->depth), 0);
    CU_ASSERT_EQUAL(aie_style_apply(s, in, out, pool), 0);
    aie_style_free(&s);
    int d = max_diff(in, out);
    if (outp)
        *outp = out;
    else
        aie_frame_unref(&out);
    return d;
}

static void test_identity(void)
{
    static const struct {
        AieLayout layout;
        int depth, w, h;
    } fmts[] = {
        {AIE_LAYOUT_RGB, 8, 67, 33},     {AIE_LAYOUT_RGB, 16, 40, 9},     {AIE_LAYOUT_RGBA, 10, 17, 5},
        {AIE_LAYOUT_YUV420, 8, 65, 35},  {AIE_LAYOUT_YUV444, 10, 31, 18}, {AIE_LAYOUT_YUV422, 8, 30, 7},
        {AIE_LAYOUT_GRAY, 8, 50, 20},
    };
    AieLut *id33 = cube(33, 0), *id2 = cube(2, 0);
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        AieFrame *in = NULL;
        CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&in, fmts[i].w, fmts[i].h, fmts[i].layout, fmts[i].depth), 0);
        const int yuv = fmts[i].layout <= AIE_LAYOUT_GRAY;
        fill(in, yuv);
        in->color.range = 1;
        in->color.matrix = 1;
        int d1 = run_style(id33, AIE_INTERP_TETRAHEDRAL, in, NULL, aie_cpu_flags(), NULL);
        int d2 = run_style(id2, AIE_INTERP_TRILINEAR, in, NULL, aie_cpu_flags(), NULL);
        int d3 = run_style(NULL, AIE_INTERP_TETRAHEDRAL, in, NULL, aie_cpu_flags(), NULL);
        if (d1 > 1 || d2 > 1 || d3 > 1) {
            fprintf(stderr, "\n  %s depth %d: identity differs by %d/%d/%d\n", aie_layout_name(fmts[i].layout),
                    fmts[i].depth, d1, d2, d3);
            CU_FAIL("identity within 1 LSB");
        }
        aie_frame_unref(&in);
    }
    aie_lut_free(&id33);
    aie_lut_free(&id2);
}

static void test_1d(void)
{
    AieLut *l = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(parse_file("invert1d.cube", &l, err, sizeof(err)), 0);
    AieFrame *in = NULL, *out = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&in, 37, 11, AIE_LAYOUT_RGB, 8), 0);
    fill(in, 0);
    run_style(l, AIE_INTERP_TETRAHEDRAL, in, &out, aie_cpu_flags(), NULL);
    int bad = 0;
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < 11; y++)
            for (int x = 0; x < 37; x++)
                bad += abs(255 - in->data[p][y * in->stride[p] + x] - out->data[p][y * out->stride[p] + x]) > 1;
    CU_ASSERT_EQUAL(bad, 0);
    aie_frame_unref(&in);
    aie_frame_unref(&out);
    aie_lut_free(&l);
}

/* Whole frames: every CPU level and thread count give the same bytes. */
static void test_cpu_threads(void)
{
    AieLut *k = cube(17, 1);
    AieFrame *in = NULL, *ref = NULL, *o = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&in, 203, 77, AIE_LAYOUT_YUV420, 8), 0);
    fill(in, 0);
    AiePool *pool = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_pool_create(&pool, 3), 0);
    for (int interp = 0; interp < 2; interp++) {
        run_style(k, (AieLutInterp)interp, in, &ref, 0, NULL);
        const char *levels[] = {"sse4", "avx2", "avx512"};
        for (int i = 0; i < 3; i++) {
            unsigned mask;
            CU_ASSERT_EQUAL(aie_cpu_parse(levels[i], &mask), 0);
            run_style(k, (AieLutInterp)interp, in, &o, aie_cpu_flags() & mask, pool);
            CU_ASSERT_EQUAL(max_diff(ref, o), 0);
            aie_frame_unref(&o);
        }
        aie_frame_unref(&ref);
    }
    aie_pool_destroy(&pool);
    aie_frame_unref(&in);
    aie_lut_free(&k);
}

static int write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fwrite(text, 1, len, f);
    return fclose(f);
}

static int read_raw(const char *path, unsigned char *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    *len = fread(buf, 1, cap, f);
    fclose(f);
    return 0;
}

/* aie-style --lut K vs ffmpeg -vf lut3d=K:interp=tetrahedral, 8-bit RGB PNG */
static void test_ffmpeg(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("lut/ffmpeg", "ffmpeg not installed");
        return;
    }
    const char *bin = tests_bin_dir();
    size_t len;
    char *t = make_cube(17, 1, &len);
    char cubep[1024], in[1024], out[1024], ref[1024], ra[1024], rb[1024];
    snprintf(cubep, sizeof(cubep), "%s", tests_tmp_path("known17.cube"));
    snprintf(in, sizeof(in), "%s", tests_tmp_path("lut_in.png"));
    snprintf(out, sizeof(out), "%s", tests_tmp_path("lut_aie.png"));
    snprintf(ref, sizeof(ref), "%s", tests_tmp_path("lut_ff.png"));
    snprintf(ra, sizeof(ra), "%s", tests_tmp_path("lut_aie.rgb"));
    snprintf(rb, sizeof(rb), "%s", tests_tmp_path("lut_ff.rgb"));
    CU_ASSERT_EQUAL_FATAL(write_file(cubep, t, len), 0);
    free(t);
    char msg[4096];
    /* a gradient sweep plus noise: every cell and tetrahedron of the LUT */
    CU_ASSERT_EQUAL_FATAL(tests_run(msg, sizeof(msg),
                                    "ffmpeg -v error -y -f lavfi -i 'testsrc2=size=160x120,noise=alls=40:allf=u' "
                                    "-frames 1 -pix_fmt rgb24 '%s'", in), 0);
    int r = tests_run(msg, sizeof(msg), "'%s/aie-style' -q --lut '%s' -i '%s' -o '%s'", bin, cubep, in, out);
    CU_ASSERT_EQUAL(r, 0);
    if (r)
        fprintf(stderr, "\n%s\n", msg);
    CU_ASSERT_EQUAL_FATAL(tests_run(msg, sizeof(msg),
                                    "ffmpeg -v error -y -i '%s' -vf lut3d=file='%s':interp=tetrahedral "
                                    "-pix_fmt rgb24 '%s' && ffmpeg -v error -y -i '%s' -f rawvideo -pix_fmt rgb24 '%s'"
                                    " && ffmpeg -v error -y -i '%s' -f rawvideo -pix_fmt rgb24 '%s'",
                                    in, cubep, ref, out, ra, ref, rb), 0);
    static unsigned char a[160 * 120 * 3 + 1], b[160 * 120 * 3 + 1];
    size_t la = 0, lb = 0;
    CU_ASSERT_EQUAL_FATAL(read_raw(ra, a, sizeof(a), &la), 0);
    CU_ASSERT_EQUAL_FATAL(read_raw(rb, b, sizeof(b), &lb), 0);
    CU_ASSERT_EQUAL(la, 160 * 120 * 3);
    CU_ASSERT_EQUAL(lb, la);
    int m = 0;
    for (size_t i = 0; i < la && i < lb; i++)
        m = abs(a[i] - b[i]) > m ? abs(a[i] - b[i]) : m;
    if (m > 1)
        fprintf(stderr, "\n  aie-style vs ffmpeg lut3d: max abs difference %d\n", m);
    CU_ASSERT(m <= 1);
}

static void test_cli(void)
{
    const char *bin = tests_bin_dir(), *src = tests_src_dir();
    char msg[4096], in[1024];
    if (!tests_have_ffmpeg()) {
        tests_skip("lut/cli", "ffmpeg not installed");
        return;
    }
    snprintf(in, sizeof(in), "%s", tests_tmp_path("lut_clip.y4m"));
    CU_ASSERT_EQUAL_FATAL(tests_run(msg, sizeof(msg),
                                    "ffmpeg -v error -y -f lavfi -i testsrc2=size=64x48:rate=10 -frames 6 "
                                    "-pix_fmt yuv420p '%s'", in), 0);
    /* usage errors: exit 2 */
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' -i '%s' -o /dev/null", bin, in), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "nothing to do"));
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --lut x.cube --interp cubic -i '%s' -o /dev/null",
                              bin, in), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "unknown interpolation"));
    /* bad LUTs: exit 1, the message names the file and the line */
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --lut '%s/testdata/lut/bad-malformed.cube' "
                              "-i '%s' -o /dev/null", bin, src, in), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "bad-malformed.cube: line 5: expected three numbers"));
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --lut '%s/testdata/lut/bad-domain.cube' "
                              "-i '%s' -o /dev/null", bin, src, in), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "line 9: value 1.5 is outside the domain"));
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --lut /nonexistent.cube -i '%s' -o /dev/null",
                              bin, in), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "/nonexistent.cube: No such file"));
    /* dry run */
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --dry-run --json --lut '%s/testdata/lut/identity2.cube'"
                              " --interp trilinear -i '%s' -o out.mkv", bin, src, in), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "trilinear"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "\"lut_size\": 2"));
    /* same output for every --cpu and -j; flicker_index in the metrics */
    size_t len;
    char *t = make_cube(17, 1, &len);
    char cubep[1024];
    snprintf(cubep, sizeof(cubep), "%s", tests_tmp_path("cli17.cube"));
    CU_ASSERT_EQUAL_FATAL(write_file(cubep, t, len), 0);
    free(t);
    const char *runs[] = {"--cpu c -j 1", "--cpu avx2 -j 3", "-j 2"};
    char hash0[128] = "";
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' -q %s --lut '%s' -i '%s' -o - "
                                  "--metrics '%s' --quality-every 1 | sha256sum", bin, runs[i], cubep, in,
                                  tests_tmp_path("lut_metrics.jsonl")), 0);
        if (i == 0)
            snprintf(hash0, sizeof(hash0), "%.64s", msg);
        else
            CU_ASSERT_EQUAL(strncmp(hash0, msg, 64), 0);
    }
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "grep -c '\"flicker_index\"' '%s'", tests_tmp_path("lut_metrics.jsonl")), 0);
}

int test_lut_register(void)
{
    CU_pSuite s = CU_add_suite("lut", NULL, NULL);
    if (!s)
        return -1;
    if (!CU_add_test(s, "parse_good", test_parse_good) || !CU_add_test(s, "parse_bad", test_parse_bad) ||
        !CU_add_test(s, "identity", test_identity) || !CU_add_test(s, "lut1d", test_1d) ||
        !CU_add_test(s, "cpu_threads", test_cpu_threads) || !CU_add_test(s, "ffmpeg_lut3d", test_ffmpeg) ||
        !CU_add_test(s, "cli", test_cli))
        return -1;
    return 0;
}
