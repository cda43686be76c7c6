/*
 * Keyframe style (aie-style --keyframe / --exemplar), through the real tool.
 *
 * The shot: a textured background panning 2 px a frame to the right and a
 * textured disc moving 3 px right and 1 px down a frame over it, 112x64 RGB,
 * written as a PNG sequence. The painting of frame k is a known per-pixel
 * mapping M of frame k (channels rotated and inverted), so the truth of frame
 * i is M(frame i). Thresholds (measured on this shot): propagated frames
 * reach 30.4 dB at worst (mean 33.2) against M(frame i) up to frame 15, so
 * the bar is 28 dB; repeating the painting gives 15.4 dB and a painting that
 * is not M of frame 0 (a swapped guide: M of frame 8 given as frame 0) gives
 * less than 20 dB at frame 4. Flicker (mean |out_i - out_i-1|) measured 11.8
 * against the truth's 12.5; the bar is 1.2 times the truth's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/frame.h"
#include "aie/io.h"
#include "tests.h"

enum { W = 112, H = 64, N = 16 };

static double tex(double x, double y, double s)
{
    return 0.5 + 0.22 * sin(x * 0.31 * s + y * 0.07) + 0.18 * sin(y * 0.23 * s - x * 0.11) +
           0.1 * sin((x + 2 * y) * 0.53 * s);
}

/* Frame i of the shot (scene 2 after `cut`: another texture, no motion). */
static AieFrame *shot_frame(int i, int cut)
{
    AieFrame *f = NULL;
    if (aie_frame_alloc(&f, W, H, AIE_LAYOUT_RGB, 8))
        return NULL;
    f->color.range = 2;
    const double cx = 30 + 3 * i, cy = 24 + i;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double r, g, b;
            if (cut >= 0 && i >= cut) {
                r = 0.9 - 0.6 * tex(y * 1.7, x * 0.5, 2.3);
                g = 0.2 + 0.3 * (x > W / 2);
                b = tex(x * 0.4, y * 2.1, 3.1);
            } else if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < 14 * 14) {
                const double u = x - cx, v = y - cy;
                r = 0.85 * tex(u * 1.3, v * 1.3, 1.7);
                g = 0.3 + 0.4 * tex(v * 2, u, 1.1);
                b = 0.2;
            } else {
                const double u = x - 2 * i;
                r = 0.3 + 0.4 * tex(u, y, 1);
                g = tex(u * 0.8 + 5, y * 1.2, 0.9);
                b = 0.6 - 0.3 * tex(y, u, 1.3);
            }
            const double c[3] = {r, g, b};
            for (int k = 0; k < 3; k++) {
                double v = c[k] * 255 + 0.5;
                f->data[k][y * f->stride[k] + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    return f;
}

/* The painting: M(r, g, b) = (255 - g, b, r / 2 + 100). */
static AieFrame *mapped(const AieFrame *s, int alpha_left)
{
    AieFrame *f = NULL;
    if (aie_frame_alloc(&f, s->width, s->height, alpha_left ? AIE_LAYOUT_RGBA : AIE_LAYOUT_RGB, 8))
        return NULL;
    f->color = s->color;
    for (int y = 0; y < s->height; y++)
        for (int x = 0; x < s->width; x++) {
            const int r = s->data[0][y * s->stride[0] + x], g = s->data[1][y * s->stride[1] + x],
                      b = s->data[2][y * s->stride[2] + x];
            f->data[0][y * f->stride[0] + x] = (uint8_t)(255 - g);
            f->data[1][y * f->stride[1] + x] = (uint8_t)b;
            f->data[2][y * f->stride[2] + x] = (uint8_t)(r / 2 + 100);
            if (alpha_left)
                f->data[3][y * f->stride[3] + x] = x < s->width / 2 ? 0 : 255;
        }
    return f;
}

static double psnr_rgb(const AieFrame *a, const AieFrame *b)
{
    double s = 0;
    for (int k = 0; k < 3; k++)
        for (int y = 0; y < a->height; y++)
            for (int x = 0; x < a->width; x++) {
                const double d = a->data[k][y * a->stride[k] + x] - b->data[k][y * b->stride[k] + x];
                s += d * d;
            }
    s /= 3.0 * a->width * a->height;
    return s > 0 ? 10 * log10(255.0 * 255.0 / s) : 99;
}

static double mad_rgb(const AieFrame *a, const AieFrame *b)
{
    double s = 0;
    for (int k = 0; k < 3; k++)
        for (int y = 0; y < a->height; y++)
            for (int x = 0; x < a->width; x++)
                s += fabs((double)a->data[k][y * a->stride[k] + x] - b->data[k][y * b->stride[k] + x]);
    return s / (3.0 * a->width * a->height);
}

/* Write the shot into <tmp>/NAME/%03d.png. */
static void write_shot(const char *name, int cut)
{
    char err[AIE_ERRBUF_SIZE];
    tests_run(NULL, 0, "mkdir -p '%s'", tests_tmp_path(name));
    for (int i = 0; i < N; i++) {
        AieFrame *f = shot_frame(i, cut);
        char p[600];
        snprintf(p, sizeof(p), "%s/%03d.png", tests_tmp_path(name), i);
        CU_ASSERT_EQUAL_FATAL(aie_image_write_png(p, f, 8, err, sizeof(err)), 0);
        aie_frame_unref(&f);
    }
}

static void write_png(const char *path, const AieFrame *f)
{
    char err[AIE_ERRBUF_SIZE];
    CU_ASSERT_EQUAL_FATAL(aie_image_write_png(path, f, 8, err, sizeof(err)), 0);
}

static AieFrame *read_out(const char *dir, int i)
{
    char p[600], err[AIE_ERRBUF_SIZE];
    snprintf(p, sizeof(p), "%s/%03d.png", dir, i + 1); /* output sequences start at 1 */
    AieFrame *f = NULL;
    if (aie_image_read_png(p, &f, err, sizeof(err)))
        return NULL;
    return f;
}

static int ready;
static char shot[512], cutshot[512], key0[600], keyswap[600];

static void setup(void)
{
    if (ready)
        return;
    ready = 1;
    write_shot("kshot", -1);
    write_shot("kcut", 8);
    snprintf(shot, sizeof(shot), "%s/%%03d.png", tests_tmp_path("kshot"));
    snprintf(cutshot, sizeof(cutshot), "%s/%%03d.png", tests_tmp_path("kcut"));
    AieFrame *f0 = shot_frame(0, -1), *f8 = shot_frame(8, -1);
    AieFrame *m0 = mapped(f0, 0), *m8 = mapped(f8, 0);
    snprintf(key0, sizeof(key0), "%s", tests_tmp_path("key0.png"));
    snprintf(keyswap, sizeof(keyswap), "%s", tests_tmp_path("keyswap.png"));
    write_png(key0, m0);
    write_png(keyswap, m8);
    aie_frame_unref(&f0);
    aie_frame_unref(&f8);
    aie_frame_unref(&m0);
    aie_frame_unref(&m8);
}

/* Propagated frames approach M(frame i), beat repeating the painting, do not
 * flicker more than the truth; a swapped painting is caught; -j agrees. */
static void test_propagate(void)
{
    setup();
    const char *bin = tests_bin_dir();
    char msg[2048];
    const char *o1 = tests_tmp_path("kout1"), *o2 = tests_tmp_path("kout2"), *o3 = tests_tmp_path("kout3");
    tests_run(NULL, 0, "mkdir -p '%s' '%s' '%s'", o1, o2, o3);
    CU_ASSERT_EQUAL_FATAL(tests_run(msg, sizeof(msg), "'%s/aie-style' -q -j1 --keyframe 0:'%s' -i '%s' -o '%s/%%03d.png'",
                                    bin, key0, shot, o1), 0);
    CU_ASSERT_EQUAL_FATAL(tests_run(msg, sizeof(msg), "'%s/aie-style' -q -j2 --keyframe 0:'%s' -i '%s' -o '%s/%%03d.png'",
                                    bin, key0, shot, o2), 0);
    CU_ASSERT_EQUAL_FATAL(tests_run(msg, sizeof(msg), "'%s/aie-style' -q --keyframe 0:'%s' -i '%s' -o '%s/%%03d.png'",
                                    bin, keyswap, shot, o3), 0);
    AieFrame *key = NULL;
    char err[AIE_ERRBUF_SIZE];
    CU_ASSERT_EQUAL_FATAL(aie_image_read_png(key0, &key, err, sizeof(err)), 0);
    double worst = 99, sum = 0, sum_rep = 0, flk = 0, flk_gt = 0;
    AieFrame *prev = NULL, *prev_gt = NULL;
    for (int i = 0; i < N; i++) {
        AieFrame *o = read_out(o1, i), *p2 = read_out(o2, i), *sw = read_out(o3, i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p2);
        CU_ASSERT_PTR_NOT_NULL_FATAL(sw);
        AieFrame *src = shot_frame(i, -1), *gt = mapped(src, 0);
        CU_ASSERT(psnr_rgb(o, p2) >= 99); /* bit-identical for -j1 and -j2 */
        const double p = psnr_rgb(o, gt);
        if (i > 0) {
            worst = p < worst ? p : worst;
            sum += p;
            sum_rep += psnr_rgb(key, gt);
            flk += mad_rgb(o, prev);
            flk_gt += mad_rgb(gt, prev_gt);
        }
        if (i == 4)
            CU_ASSERT(psnr_rgb(sw, gt) < 20);
        aie_frame_unref(&prev);
        aie_frame_unref(&prev_gt);
        prev = o;
        prev_gt = gt;
        aie_frame_unref(&p2);
        aie_frame_unref(&sw);
        aie_frame_unref(&src);
    }
    fprintf(stderr, "[keyframe: worst %.2f dB, mean %.2f dB, repeat %.2f dB, flicker %.2f vs truth %.2f] ", worst,
            sum / (N - 1), sum_rep / (N - 1), flk / (N - 1), flk_gt / (N - 1));
    CU_ASSERT(worst >= 28);
    CU_ASSERT(sum / (N - 1) >= sum_rep / (N - 1) + 10);
    CU_ASSERT(flk <= 1.2 * flk_gt);
    aie_frame_unref(&prev);
    aie_frame_unref(&prev_gt);
    aie_frame_unref(&key);
}

/* A mark painted on the disc travels with it (3 px right, 1 px down a frame). */
static void test_strokes_move(void)
{
    setup();
    AieFrame *f0 = shot_frame(0, -1), *k = mapped(f0, 0);
    for (int y = 22; y < 27; y++) /* a pure green 5x5 stroke at the disc's centre (30, 24) */
        for (int x = 28; x < 33; x++) {
            k->data[0][y * k->stride[0] + x] = 0;
            k->data[1][y * k->stride[1] + x] = 255;
            k->data[2][y * k->stride[2] + x] = 0;
        }
    const char *kp = tests_tmp_path("keystroke.png"), *o = tests_tmp_path("kstroke");
    write_png(kp, k);
    char msg[2048];
    tests_run(NULL, 0, "mkdir -p '%s'", o);
    CU_ASSERT_EQUAL_FATAL(tests_run(msg, sizeof(msg), "'%s/aie-style' -q --keyframe 0:'%s' -i '%s' -o '%s/%%03d.png'",
                                    tests_bin_dir(), kp, shot, o), 0);
    AieFrame *f = read_out(o, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    /* the stroke's centre moved to (60, 34); the old place shows no stroke */
    int g_new = f->data[1][34 * f->stride[1] + 60], r_new = f->data[0][34 * f->stride[0] + 60];
    int g_old = f->data[1][24 * f->stride[1] + 30], r_old = f->data[0][24 * f->stride[0] + 30];
    CU_ASSERT(g_new > 200 && r_new < 60);
    CU_ASSERT(!(g_old > 200 && r_old < 60));
    aie_frame_unref(&f);
    aie_frame_unref(&f0);
    aie_frame_unref(&k);
}

/* Frames after a cut are the source, unchanged, with one note. */
static void test_cut_passthrough(void)
{
    setup();
    const char *o = tests_tmp_path("kcutout");
    char msg[4096];
    tests_run(NULL, 0, "mkdir -p '%s'", o);
    CU_ASSERT_EQUAL_FATAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --no-progress --keyframe 0:'%s' -i '%s' -o '%s/%%03d.png'",
                                    tests_bin_dir(), key0, cutshot, o), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "shot 2 (from frame 8) has no keyframe: passed through unchanged"));
    CU_ASSERT_PTR_NULL(strstr(strstr(msg, "no keyframe") + 1, "no keyframe")); /* once */
    for (int i = 8; i < N; i++) {
        AieFrame *f = read_out(o, i), *s = shot_frame(i, 8);
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT(psnr_rgb(f, s) >= 99);
        aie_frame_unref(&f);
        aie_frame_unref(&s);
    }
    AieFrame *f = read_out(o, 4), *s = shot_frame(4, 8);
    CU_ASSERT(psnr_rgb(f, s) < 20); /* the first shot is styled */
    aie_frame_unref(&f);
    aie_frame_unref(&s);
    /* --shot-only leaves the second shot out */
    const char *o2 = tests_tmp_path("kcutonly");
    tests_run(NULL, 0, "mkdir -p '%s'", o2);
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' -q --shot-only --keyframe 0:'%s' -i '%s' -o '%s/%%03d.png'",
                              tests_bin_dir(), key0, cutshot, o2), 0);
    CU_ASSERT_STRING_EQUAL(tests_output("ls '%s' | wc -l", o2), "8");
}

/* Alpha 0 on the left half: the source shows through there, exactly. A
 * keyframe in the middle of the shot (backward pass) and two keyframes
 * blended. */
static void test_alpha_and_backward(void)
{
    setup();
    AieFrame *f0 = shot_frame(0, -1), *k = mapped(f0, 1);
    const char *kp = tests_tmp_path("keyalpha.png"), *o = tests_tmp_path("kalpha");
    write_png(kp, k);
    char msg[2048];
    tests_run(NULL, 0, "mkdir -p '%s'", o);
    CU_ASSERT_EQUAL_FATAL(tests_run(msg, sizeof(msg), "'%s/aie-style' -q --keyframe 0:'%s' -i '%s' -o '%s/%%03d.png'",
                                    tests_bin_dir(), kp, shot, o), 0);
    AieFrame *f = read_out(o, 6), *s = shot_frame(6, -1), *gt = mapped(s, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    int same = 0, styled = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < 40; x++) /* the left part, away from the seam (which moves 2-3 px a frame) */
            same += f->data[0][y * f->stride[0] + x] == s->data[0][y * s->stride[0] + x];
    for (int y = 0; y < H; y++)
        for (int x = W / 2 + 20; x < W; x++)
            styled += abs(f->data[0][y * f->stride[0] + x] - gt->data[0][y * gt->stride[0] + x]) < 24;
    CU_ASSERT(same >= 40 * H * 95 / 100);
    CU_ASSERT(styled >= (W / 2 - 20) * H * 90 / 100);
    aie_frame_unref(&f);
    aie_frame_unref(&s);
    aie_frame_unref(&gt);
    aie_frame_unref(&k);
    aie_frame_unref(&f0);
    /* keyframes at 8 (backward to 0..7) and at 15 (blend over 9..14) */
    AieFrame *s8 = shot_frame(8, -1), *m8 = mapped(s8, 0), *s15 = shot_frame(15, -1), *m15 = mapped(s15, 0);
    const char *k8 = tests_tmp_path("key8.png"), *k15 = tests_tmp_path("key15.png"), *ob = tests_tmp_path("kback");
    write_png(k8, m8);
    write_png(k15, m15);
    tests_run(NULL, 0, "mkdir -p '%s'", ob);
    CU_ASSERT_EQUAL_FATAL(tests_run(msg, sizeof(msg), "'%s/aie-style' -q --keyframe 15:'%s' --keyframe 8:'%s' -i '%s' -o '%s/%%03d.png'",
                                    tests_bin_dir(), k15, k8, shot, ob), 0);
    double worst = 99;
    for (int i = 0; i < N; i++) {
        AieFrame *o1 = read_out(ob, i), *si = shot_frame(i, -1), *gi = mapped(si, 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o1);
        const double p = psnr_rgb(o1, gi);
        worst = p < worst ? p : worst;
        CU_ASSERT(p >= 28);
        aie_frame_unref(&o1);
        aie_frame_unref(&si);
        aie_frame_unref(&gi);
    }
    fprintf(stderr, "[backward and blended: worst %.2f dB] ", worst);
    aie_frame_unref(&s8);
    aie_frame_unref(&m8);
    aie_frame_unref(&s15);
    aie_frame_unref(&m15);
}

/* Bad keyframes: one line, exit 2 (usage) or 1 (runtime), no output. */
static void test_errors(void)
{
    setup();
    const char *bin = tests_bin_dir(), *out = tests_tmp_path("kerr.y4m");
    char msg[2048];
    const char *pre[] = {"x:", "-1:", "3", "1:", "+2:"};
    for (size_t i = 0; i < sizeof(pre) / sizeof(*pre); i++) {
        char arg[800];
        snprintf(arg, sizeof(arg), "%s%s", pre[i], i == 3 ? "" : key0);
        CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --keyframe '%s' -i '%s' -o '%s'", bin, arg, shot, out), 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(msg, "--keyframe"));
    }
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --keyframe 2:'%s' --keyframe 2:'%s' -i '%s' -o '%s'", bin,
                              key0, key0, shot, out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "given twice"));
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --keyframe 16:'%s' -i '%s' -o '%s'", bin, key0, shot, out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "16"));
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --keyframe 0:/nonexistent.png -i '%s' -o '%s'", bin, shot, out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "/nonexistent.png"));
    const char *bad = tests_tmp_path("corrupt.png");
    tests_run(NULL, 0, "head -c 300 '%s' > '%s'", key0, bad);
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --keyframe 0:'%s' -i '%s' -o '%s'", bin, bad, shot, out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "corrupt.png"));
    /* aspect: 112x64 video, 100x64 painting (off by 12 px); 56x32 is fine */
    AieFrame *f = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&f, 100, 64, AIE_LAYOUT_RGB, 8), 0);
    memset(f->data[0], 128, (size_t)f->stride[0] * 64);
    memset(f->data[1], 128, (size_t)f->stride[1] * 64);
    memset(f->data[2], 128, (size_t)f->stride[2] * 64);
    const char *asp = tests_tmp_path("aspect.png");
    write_png(asp, f);
    aie_frame_unref(&f);
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --keyframe 0:'%s' -i '%s' -o '%s'", bin, asp, shot, out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "aspect"));
    CU_ASSERT_EQUAL(tests_run(NULL, 0, "test -e '%s'", out), 1); /* no output after any of them */
    CU_ASSERT_EQUAL(tests_run(msg, sizeof(msg), "'%s/aie-style' --keyframe 0:'%s' --exemplar '%s' -i '%s' -o '%s'", bin,
                              key0, key0, shot, out), 2);
}

/* --exemplar: a picture not from the shot; stable over time. */
static void test_exemplar(void)
{
    setup();
    const char *o = tests_tmp_path("kex");
    char msg[2048];
    tests_run(NULL, 0, "mkdir -p '%s'", o);
    CU_ASSERT_EQUAL_FATAL(tests_run(msg, sizeof(msg), "'%s/aie-style' -q --exemplar '%s' -i '%s' -o '%s/%%03d.png'",
                                    tests_bin_dir(), key0, cutshot, o), 0);
    AieFrame *a = read_out(o, 3), *b = read_out(o, 4), *s = shot_frame(3, 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT(psnr_rgb(a, s) < 20); /* restyled */
    aie_frame_unref(&a);
    aie_frame_unref(&b);
    aie_frame_unref(&s);
}

int test_keyframe_register(void)
{
    CU_pSuite s = CU_add_suite("keyframe", NULL, NULL);
    if (!s || !CU_add_test(s, "propagate", test_propagate) || !CU_add_test(s, "strokes_move", test_strokes_move) ||
        !CU_add_test(s, "cut_passthrough", test_cut_passthrough) ||
        !CU_add_test(s, "alpha_and_backward", test_alpha_and_backward) || !CU_add_test(s, "errors", test_errors) ||
        !CU_add_test(s, "exemplar", test_exemplar))
        return -1;
    return 0;
}
