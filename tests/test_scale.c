/* CUnit suite "scale": lib/sr/scale.c through the public API (aie/scale.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "aie/frame.h"
#include "aie/scale.h"
#include "aie/thread.h"
#include "tests.h"

static unsigned rng_state = 12345;

static unsigned rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8;
}

static int sample(const AieFrame *f, int p, int x, int y)
{
    const uint8_t *row = f->data[p] + (ptrdiff_t)y * f->stride[p];
    if (f->depth == 8)
        return row[x];
    uint16_t v;
    memcpy(&v, row + 2 * x, 2);
    return v;
}

static void set_sample(AieFrame *f, int p, int x, int y, int v)
{
    uint8_t *row = f->data[p] + (ptrdiff_t)y * f->stride[p];
    if (f->depth == 8) {
        row[x] = (uint8_t)v;
    } else {
        uint16_t w = (uint16_t)v;
        memcpy(row + 2 * x, &w, 2);
    }
}

static AieFrame *new_frame(int w, int h, AieLayout layout, int depth)
{
    AieFrame *f = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&f, w, h, layout, depth), 0);
    return f;
}

static void fill_random(AieFrame *f)
{
    for (int p = 0; p < f->nplanes; p++)
        for (int y = 0; y < f->plane_h[p]; y++)
            for (int x = 0; x < f->plane_w[p]; x++)
                set_sample(f, p, x, y, (int)(rnd() & ((1u << f->depth) - 1)));
}

/* Scale src with params p (sizes and layout taken from the frames). */
static AieFrame *scale(const AieFrame *src, int dw, int dh, AieFilter filter, int chroma_loc,
                       AiePool *pool, unsigned cpu_flags)
{
    AieScaleParams p = {src->width, src->height, dw, dh, src->layout, src->depth, filter, chroma_loc, 0};
    AieScaler *s = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_scaler_create(&s, &p, cpu_flags), 0);
    AieFrame *dst = new_frame(dw, dh, src->layout, src->depth);
    CU_ASSERT_EQUAL(aie_scaler_scale(s, src, dst, pool), 0);
    aie_scaler_free(&s);
    CU_ASSERT_PTR_NULL(s);
    return dst;
}

static int frames_equal(const AieFrame *a, const AieFrame *b)
{
    for (int p = 0; p < a->nplanes; p++)
        for (int y = 0; y < a->plane_h[p]; y++)
            for (int x = 0; x < a->plane_w[p]; x++)
                if (sample(a, p, x, y) != sample(b, p, x, y))
                    return 0;
    return 1;
}

static void test_filter_parse(void)
{
    for (int i = 0; i < AIE_FILTER_COUNT; i++) {
        AieFilter f = AIE_FILTER_COUNT;
        const char *name = aie_filter_name((AieFilter)i);
        CU_ASSERT_EQUAL(aie_filter_parse(name, &f), 0);
        CU_ASSERT_EQUAL(f, (AieFilter)i);
    }
    AieFilter f = AIE_FILTER_BICUBIC;
    CU_ASSERT_EQUAL(aie_filter_parse("lanczos", &f), 0);
    CU_ASSERT_EQUAL(f, AIE_FILTER_LANCZOS);
    CU_ASSERT_STRING_EQUAL(aie_filter_name(AIE_FILTER_SPLINE36), "spline36");
    CU_ASSERT_EQUAL(aie_filter_parse("Lanczos", &f), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_filter_parse("sinc", &f), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_filter_parse("", &f), AIE_EINVAL);
    CU_ASSERT_EQUAL(f, AIE_FILTER_LANCZOS); /* untouched on failure */
    CU_ASSERT_STRING_EQUAL(aie_filter_name(AIE_FILTER_COUNT), "unknown");
}

static void test_bad_params(void)
{
    const AieScaleParams ok = {64, 48, 128, 96, AIE_LAYOUT_YUV420, 8, AIE_FILTER_LANCZOS, 0, 0};
    AieScaler *s = (AieScaler *)&s; /* must be reset to NULL on failure */
    AieScaleParams p = ok;
    p.src_w = 0;
    CU_ASSERT_EQUAL(aie_scaler_create(&s, &p, 0), AIE_EINVAL);
    CU_ASSERT_PTR_NULL(s);
    p = ok;
    p.dst_h = -3;
    CU_ASSERT_EQUAL(aie_scaler_create(&s, &p, 0), AIE_EINVAL);
    p = ok;
    p.dst_w = AIE_MAX_DIM + 1;
    CU_ASSERT_EQUAL(aie_scaler_create(&s, &p, 0), AIE_ETOOBIG);
    p = ok;
    p.src_h = 100000;
    CU_ASSERT_EQUAL(aie_scaler_create(&s, &p, 0), AIE_ETOOBIG);
    p = ok;
    p.depth = 7;
    CU_ASSERT_EQUAL(aie_scaler_create(&s, &p, 0), AIE_EINVAL);
    p.depth = 17;
    CU_ASSERT_EQUAL(aie_scaler_create(&s, &p, 0), AIE_EINVAL);
    p = ok;
    p.filter = AIE_FILTER_COUNT;
    CU_ASSERT_EQUAL(aie_scaler_create(&s, &p, 0), AIE_EINVAL);
    p = ok;
    p.layout = AIE_LAYOUT_COUNT;
    CU_ASSERT_EQUAL(aie_scaler_create(&s, &p, 0), AIE_EINVAL);
    p = ok;
    p.chroma_loc = 7;
    CU_ASSERT_EQUAL(aie_scaler_create(&s, &p, 0), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_scaler_create(&s, NULL, 0), AIE_EINVAL);

    /* the largest size is accepted; frames that do not match are refused */
    p = ok;
    p.dst_w = AIE_MAX_DIM;
    p.dst_h = 2;
    CU_ASSERT_EQUAL_FATAL(aie_scaler_create(&s, &p, aie_cpu_flags()), 0);
    AieFrame *src = new_frame(64, 48, AIE_LAYOUT_YUV420, 8);
    AieFrame *wrong = new_frame(64, 48, AIE_LAYOUT_YUV420, 8);
    AieFrame *deep = new_frame(AIE_MAX_DIM, 2, AIE_LAYOUT_YUV420, 10);
    AieFrame *dst = new_frame(AIE_MAX_DIM, 2, AIE_LAYOUT_YUV420, 8);
    fill_random(src);
    CU_ASSERT_EQUAL(aie_scaler_scale(s, src, wrong, NULL), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_scaler_scale(s, src, deep, NULL), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_scaler_scale(s, dst, dst, NULL), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_scaler_scale(s, src, dst, NULL), 0);
    aie_scaler_free(&s);
    aie_scaler_free(&s); /* accepts NULL */
    aie_frame_unref(&src);
    aie_frame_unref(&wrong);
    aie_frame_unref(&deep);
    aie_frame_unref(&dst);
}

/* A constant plane stays exactly constant: every filter, depth, layout and
 * ratio, including 1x1 frames and large downscales. */
static void test_constant(void)
{
    static const int sizes[][4] = {
        {64, 48, 128, 96}, {37, 23, 101, 9}, {1, 1, 7, 5}, {300, 40, 3, 2}, {17, 1, 1, 17},
        {90, 60, 61, 41},
    };
    static const int depths[] = {8, 10, 12, 16};
    static const AieLayout layouts[] = {AIE_LAYOUT_YUV420, AIE_LAYOUT_YUV422, AIE_LAYOUT_RGBA};
    for (int f = 0; f < AIE_FILTER_COUNT; f++)
        for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++)
            for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
                const int depth = depths[d], maxv = (1 << depth) - 1;
                AieLayout layout = layouts[(f + d + z) % 3];
                AieFrame *src = new_frame(sizes[z][0], sizes[z][1], layout, depth);
                const int val[4] = {maxv, 0, maxv / 3, maxv - 1};
                for (int p = 0; p < src->nplanes; p++)
                    for (int y = 0; y < src->plane_h[p]; y++)
                        for (int x = 0; x < src->plane_w[p]; x++)
                            set_sample(src, p, x, y, val[p]);
                AieFrame *dst = scale(src, sizes[z][2], sizes[z][3], (AieFilter)f, 2, NULL,
                                      aie_cpu_flags());
                int bad = 0;
                for (int p = 0; p < dst->nplanes; p++)
                    for (int y = 0; y < dst->plane_h[p]; y++)
                        for (int x = 0; x < dst->plane_w[p]; x++)
                            bad += sample(dst, p, x, y) != val[p];
                CU_ASSERT_EQUAL(bad, 0);
                aie_frame_unref(&src);
                aie_frame_unref(&dst);
            }
}

/* Nearest 2x duplicates every sample into a 2x2 block. */
static void test_nearest_2x(void)
{
    for (int depth = 8; depth <= 16; depth += 8) {
        AieFrame *src = new_frame(37, 23, AIE_LAYOUT_YUV444, depth);
        fill_random(src);
        AieFrame *dst = scale(src, 74, 46, AIE_FILTER_NEAREST, 0, NULL, aie_cpu_flags());
        int bad = 0;
        for (int p = 0; p < 3; p++)
            for (int y = 0; y < 46; y++)
                for (int x = 0; x < 74; x++)
                    bad += sample(dst, p, x, y) != sample(src, p, x / 2, y / 2);
        CU_ASSERT_EQUAL(bad, 0);
        aie_frame_unref(&src);
        aie_frame_unref(&dst);
    }
}

/* Same size in and out is an exact copy (interpolating filters only see
 * integer phases, and the fixed point round-trips every sample). */
static void test_identity(void)
{
    for (int f = 0; f < AIE_FILTER_COUNT; f++)
        for (int depth = 8; depth <= 16; depth += 2) {
            AieFrame *src = new_frame(53, 31, AIE_LAYOUT_YUV420, depth);
            fill_random(src);
            AieFrame *dst = scale(src, 53, 31, (AieFilter)f, f % 4, NULL, aie_cpu_flags());
            CU_ASSERT(frames_equal(src, dst));
            aie_frame_unref(&src);
            aie_frame_unref(&dst);
        }
}

/* Low-frequency test image: periods of 16 to 40 samples. */
static double smooth(double x, double y)
{
    return 128.0 + 60.0 * sin(2.0 * M_PI * x / 24.0 + 0.3) * cos(2.0 * M_PI * y / 19.0) +
           30.0 * sin(2.0 * M_PI * (x + y) / 37.0);
}

static double psnr8(const AieFrame *a, const AieFrame *b)
{
    double se = 0.0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++) {
            double d = sample(a, 0, x, y) - sample(b, 0, x, y);
            se += d * d;
        }
    double mse = se / ((double)a->width * a->height);
    return mse > 0 ? 10.0 * log10(255.0 * 255.0 / mse) : 99.0;
}

/* A smooth image scaled up by 2x and 1.5x, then back down, stays close to the
 * original; the upscale itself stays close to the analytic image at the
 * output sample positions (x_src = (x + 1/2) * w / uw - 1/2), 4-sample border
 * excluded. Stated bounds (measured here: round trip 60-68 dB, bilinear 47 dB;
 * upscale 55-56 dB, bilinear 52 dB; 8-bit rounding alone caps it near 59 dB):
 *   round trip:  lanczos, spline36, bicubic >= 56 dB; bilinear >= 44 dB
 *   upscale:     lanczos, spline36, bicubic >= 50 dB; bilinear >= 48 dB */
static void test_smooth_psnr(void)
{
    static const struct { AieFilter f; double trip_db, up_db; } cases[] = {
        {AIE_FILTER_LANCZOS, 56.0, 50.0}, {AIE_FILTER_SPLINE36, 56.0, 50.0},
        {AIE_FILTER_BICUBIC, 56.0, 50.0}, {AIE_FILTER_BILINEAR, 44.0, 48.0},
    };
    const int w = 160, h = 120;
    AieFrame *src = new_frame(w, h, AIE_LAYOUT_GRAY, 8);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            set_sample(src, 0, x, y, (int)lrint(smooth(x, y)));
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
        for (int r = 0; r < 2; r++) {
            int uw = r ? w * 3 / 2 : w * 2, uh = r ? h * 3 / 2 : h * 2;
            AieFrame *up = scale(src, uw, uh, cases[c].f, 0, NULL, aie_cpu_flags());
            AieFrame *back = scale(up, w, h, cases[c].f, 0, NULL, aie_cpu_flags());
            double trip = psnr8(src, back), se = 0.0;
            int n = 0;
            for (int y = 4; y < uh - 4; y++)
                for (int x = 4; x < uw - 4; x++) {
                    double d = sample(up, 0, x, y) -
                               smooth((x + 0.5) * w / uw - 0.5, (y + 0.5) * h / uh - 0.5);
                    se += d * d;
                    n++;
                }
            double updb = 10.0 * log10(255.0 * 255.0 * n / se);
            if (trip < cases[c].trip_db || updb < cases[c].up_db)
                fprintf(stderr, "\n%s %s: round trip %.2f dB (>= %.0f), upscale %.2f dB (>= %.0f)\n",
                        aie_filter_name(cases[c].f), r ? "1.5x" : "2x", trip, cases[c].trip_db,
                        updb, cases[c].up_db);
            CU_ASSERT(trip >= cases[c].trip_db);
            CU_ASSERT(updb >= cases[c].up_db);
            aie_frame_unref(&up);
            aie_frame_unref(&back);
        }
    aie_frame_unref(&src);
}

/* 4:2:0 chroma siting. Chroma is a ramp 16 + 8 * c (c = chroma column, or
 * row); bilinear reproduces ramps exactly away from the edges, so after 2x
 * the output chroma sample i must hold the ramp at the source chroma position
 * it maps to:
 *   co-sited (left, top):  x = i/2 - 1/8  ->  15 + 4i
 *   centred:               x = i/2 - 1/4  ->  14 + 4i */
static void test_chroma_siting(void)
{
    static const struct { int loc, h_expect0, v_expect0; } cases[] = {
        {0, 15, 14}, /* unspecified: left, vertically centred (MPEG-2) */
        {1, 15, 14}, /* left */
        {2, 14, 14}, /* center */
        {3, 15, 15}, /* topleft */
    };
    for (int depth = 8; depth <= 10; depth += 2)
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
            AieFrame *src = new_frame(48, 48, AIE_LAYOUT_YUV420, depth);
            const int k = 1 << (depth - 8);
            for (int y = 0; y < 24; y++)
                for (int x = 0; x < 24; x++) {
                    set_sample(src, 1, x, y, (16 + 8 * x) * k); /* U: horizontal ramp */
                    set_sample(src, 2, x, y, (16 + 8 * y) * k); /* V: vertical ramp */
                }
            for (int y = 0; y < 48; y++)
                for (int x = 0; x < 48; x++)
                    set_sample(src, 0, x, y, (16 + 2 * x) * k); /* Y: ramp, centre-aligned */
            AieFrame *dst = scale(src, 96, 96, AIE_FILTER_BILINEAR, cases[c].loc, NULL,
                                  aie_cpu_flags());
            int bad_u = 0, bad_v = 0, bad_y = 0;
            for (int i = 2; i < 46; i++) {
                bad_u += sample(dst, 1, i, 20) != (cases[c].h_expect0 + 4 * i) * k;
                bad_v += sample(dst, 2, 20, i) != (cases[c].v_expect0 + 4 * i) * k;
            }
            for (int i = 2; i < 94; i++) /* luma x = i/2 - 1/4 -> 15.5 + i */
                bad_y += abs(2 * sample(dst, 0, i, 40) - (31 + 2 * i) * k) > k;
            CU_ASSERT_EQUAL(bad_u, 0);
            CU_ASSERT_EQUAL(bad_v, 0);
            CU_ASSERT_EQUAL(bad_y, 0);
            if (bad_u || bad_v)
                fprintf(stderr, "\nchroma_loc %d depth %d: U[20] = %d (want %d), V[20] = %d (want %d)\n",
                        cases[c].loc, depth, sample(dst, 1, 20, 20), (cases[c].h_expect0 + 80) * k,
                        sample(dst, 2, 20, 20), (cases[c].v_expect0 + 80) * k);
            aie_frame_unref(&src);
            aie_frame_unref(&dst);
        }
}

/* Slices on a pool give the same bytes as one thread, and every --cpu level
 * gives the same bytes as C. */
static void test_threads_and_cpu(void)
{
    AiePool *pool = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_pool_create(&pool, 3), 0);
    static const struct { int sw, sh, dw, dh; AieFilter f; int depth; AieLayout l; } cases[] = {
        {640, 360, 1280, 720, AIE_FILTER_LANCZOS, 8, AIE_LAYOUT_YUV420},
        {333, 211, 517, 411, AIE_FILTER_BICUBIC, 10, AIE_LAYOUT_YUV422},
        {500, 400, 173, 131, AIE_FILTER_SPLINE36, 8, AIE_LAYOUT_RGBA},
        {320, 300, 640, 600, AIE_FILTER_LANCZOS, 16, AIE_LAYOUT_YUV420},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        AieFrame *src = new_frame(cases[c].sw, cases[c].sh, cases[c].l, cases[c].depth);
        fill_random(src);
        AieFrame *ref = scale(src, cases[c].dw, cases[c].dh, cases[c].f, 1, NULL, 0);
        AieFrame *mt = scale(src, cases[c].dw, cases[c].dh, cases[c].f, 1, pool, aie_cpu_flags());
        AieFrame *st = scale(src, cases[c].dw, cases[c].dh, cases[c].f, 1, NULL, aie_cpu_flags());
        CU_ASSERT(frames_equal(ref, mt));
        CU_ASSERT(frames_equal(ref, st));
        aie_frame_unref(&src);
        aie_frame_unref(&ref);
        aie_frame_unref(&mt);
        aie_frame_unref(&st);
    }
    aie_pool_destroy(&pool);
}

/* Downscales by the ratios with dedicated kernels (2x, 3x, 4x: period 1;
 * 1.5x: period 2; 2.5x: period 2 taking the fallback) and others, wide
 * enough that rows split into edges read from the scratch row and a middle
 * read in place, odd sizes included: every --cpu level and a pool give the
 * bytes of C. */
static void test_downscale_paths(void)
{
    AiePool *pool = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_pool_create(&pool, 3), 0);
    static const struct { int sw, sh, dw, dh; AieLayout l; int depth; } cases[] = {
        {960, 540, 480, 270, AIE_LAYOUT_GRAY, 8},    {960, 540, 320, 180, AIE_LAYOUT_YUV420, 8},
        {960, 544, 240, 136, AIE_LAYOUT_GRAY, 8},    {960, 540, 640, 360, AIE_LAYOUT_YUV420, 8},
        {960, 540, 384, 216, AIE_LAYOUT_GRAY, 8},    {1920, 96, 1024, 51, AIE_LAYOUT_GRAY, 8},
        {1001, 77, 500, 38, AIE_LAYOUT_YUV444, 8},   {999, 75, 333, 25, AIE_LAYOUT_YUV420, 8},
        {966, 64, 644, 43, AIE_LAYOUT_RGBA, 8},      {960, 540, 480, 270, AIE_LAYOUT_YUV420, 10},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
        for (int f = AIE_FILTER_BILINEAR; f < AIE_FILTER_COUNT; f++) {
            AieFrame *src = new_frame(cases[c].sw, cases[c].sh, cases[c].l, cases[c].depth);
            fill_random(src);
            const int loc = (int)(c + (size_t)f) % 7;
            AieFrame *ref = scale(src, cases[c].dw, cases[c].dh, (AieFilter)f, loc, NULL, 0);
            AieFrame *st = scale(src, cases[c].dw, cases[c].dh, (AieFilter)f, loc, NULL, aie_cpu_flags());
            AieFrame *mt = scale(src, cases[c].dw, cases[c].dh, (AieFilter)f, loc, pool, aie_cpu_flags());
            const int ok = frames_equal(ref, st) && frames_equal(ref, mt);
            if (!ok)
                fprintf(stderr, "\n%dx%d -> %dx%d %s %s depth %d differs from C\n", cases[c].sw,
                        cases[c].sh, cases[c].dw, cases[c].dh, aie_layout_name(cases[c].l),
                        aie_filter_name((AieFilter)f), cases[c].depth);
            CU_ASSERT(ok);
            aie_frame_unref(&src);
            aie_frame_unref(&ref);
            aie_frame_unref(&st);
            aie_frame_unref(&mt);
        }
    aie_pool_destroy(&pool);
}

int test_scale_register(void)
{
    CU_pSuite s = CU_add_suite("scale", NULL, NULL);
    if (!s)
        return -1;
    if (!CU_add_test(s, "filter_parse", test_filter_parse) ||
        !CU_add_test(s, "bad_params", test_bad_params) ||
        !CU_add_test(s, "constant", test_constant) ||
        !CU_add_test(s, "nearest_2x", test_nearest_2x) ||
        !CU_add_test(s, "identity", test_identity) ||
        !CU_add_test(s, "smooth_psnr", test_smooth_psnr) ||
        !CU_add_test(s, "chroma_siting", test_chroma_siting) ||
        !CU_add_test(s, "threads_and_cpu", test_threads_and_cpu) ||
        !CU_add_test(s, "downscale_paths", test_downscale_paths))
        return -1;
    return 0;
}
