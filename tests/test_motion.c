/* motion: dense flow and frame synthesis on synthetic sequences with known
 * motion (a band-limited texture rendered analytically at each time, so the
 * true middle frame and the true flow are exact), the scene-cut detector on
 * cuts, flashes, fades and pans, and determinism across thread counts.
 *
 * Stated bounds (256x192, 8-bit unless noted):
 *   translation (6.5, -3.25) px:  mean end-point error < 0.12 px,
 *                                 middle frame >= 42 dB and >= blend + 15 dB
 *   rotation 3 degrees:           mean EPE < 0.2 px, middle frame >= 45 dB, >= blend + 15
 *   zoom 5 %:                     mean EPE < 0.25 px, middle frame >= 44 dB, >= blend + 12
 *   10-bit translation:           as 8-bit
 * (measured: EPE 0.05 / 0.10 / 0.13 px, 44.3 / 49.9 / 48.5 dB against the
 * blend's 22.6 / 29.3 / 29.6 dB). EPE is over samples at least 4
 * field samples from the edges. Set AIE_TEST_VERBOSE to print the figures. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "aie/interp.h"
#include "aie/motion.h"
#include "aie/quality.h"
#include "tests.h"

#define W 256
#define H 192

/* A smooth texture with detail at several scales (periods 9 to 60 px). */
static double texture(double x, double y)
{
    return 128 + 38 * sin(0.23 * x + 0.11 * y) + 30 * sin(0.09 * x - 0.21 * y + 1.0) +
           22 * sin(0.35 * x + 0.5) * cos(0.27 * y - 0.3) + 12 * cos(0.61 * x - 0.44 * y);
}

/* Motion model: the point at frame-0 position (x, y) is at M(t) (x, y) at
 * time t. Rendering a frame at t samples the texture at M(t)^-1 (p). */
typedef struct Motion {
    double dx, dy;  /* translation at t = 1 */
    double angle;   /* rotation at t = 1 (radians), about the centre */
    double zoom;    /* scale at t = 1 (1 = none) */
} Motion;

static void inverse_map(const Motion *m, double t, double px, double py, double *x, double *y)
{
    double cx = W / 2.0 - 0.5, cy = H / 2.0 - 0.5;
    double s = 1 + (m->zoom - 1) * t, a = m->angle * t;
    double qx = px - m->dx * t - cx, qy = py - m->dy * t - cy;
    double c = cos(-a), sn = sin(-a);
    *x = (c * qx - sn * qy) / s + cx;
    *y = (sn * qx + c * qy) / s + cy;
}

static AieFrame *render(const Motion *m, double t, int depth)
{
    AieFrame *f = NULL;
    if (aie_frame_alloc(&f, W, H, AIE_LAYOUT_YUV420, depth))
        return NULL;
    double peak = (double)((1 << depth) - 1) / 255.0;
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < f->plane_h[p]; y++)
            for (int x = 0; x < f->plane_w[p]; x++) {
                double sx = p ? 2 * x + 0.5 : x, sy = p ? 2 * y + 0.5 : y, tx, ty;
                inverse_map(m, t, sx, sy, &tx, &ty);
                double v = texture(tx + 17 * p, ty - 9 * p);
                if (p)
                    v = 128 + 0.4 * (v - 128);
                long q = lround(v * peak);
                if (depth > 8)
                    ((uint16_t *)(void *)(f->data[p] + y * f->stride[p]))[x] = (uint16_t)q;
                else
                    f->data[p][y * f->stride[p] + x] = (uint8_t)q;
            }
    f->pts = 0;
    return f;
}

/* The true flow a -> b (t = 0 -> 1) on the estimator's grid, in pixels. */
static void true_flow(const Motion *m, AieFlow *f)
{
    int s = 1 << f->scale_log2;
    double cx = W / 2.0 - 0.5, cy = H / 2.0 - 0.5;
    for (int j = 0; j < f->height; j++)
        for (int i = 0; i < f->width; i++) {
            double x = (i + 0.5) * s - 0.5, y = (j + 0.5) * s - 0.5;
            double qx = x - cx, qy = y - cy, c = cos(m->angle), sn = sin(m->angle);
            double nx = m->zoom * (c * qx - sn * qy) + cx + m->dx;
            double ny = m->zoom * (sn * qx + c * qy) + cy + m->dy;
            f->u[j * f->stride + i] = (float)(nx - x);
            f->v[j * f->stride + i] = (float)(ny - y);
        }
}

/* Estimate, check the flow's end-point error and the middle frame. */
static void check_motion(const Motion *m, int depth, double max_epe, double min_psnr,
                         double min_gain)
{
    AieFrame *a = render(m, 0, depth), *b = render(m, 1, depth), *mid = render(m, 0.5, depth);
    AieFrame *out = NULL, *blend = NULL;
    AieInterp *ip = NULL;
    AiePairMotion *pm = NULL;
    AieFlow *truth = NULL;
    CU_ASSERT_FATAL(a && b && mid);
    CU_ASSERT_EQUAL_FATAL(aie_interp_create(&ip, W, H, AIE_LAYOUT_YUV420, depth, NULL, aie_cpu_flags()), 0);
    CU_ASSERT_EQUAL_FATAL(aie_interp_analyse(ip, a, b, &pm, NULL), 0);
    int fw, fh, fs;
    aie_motion_field_size(aie_interp_motion(ip), &fw, &fh, &fs);
    CU_ASSERT_EQUAL_FATAL(aie_flow_alloc(&truth, W, H, fs), 0);
    true_flow(m, truth);
    double epe = aie_flow_epe(pm->ab, truth, 4);
    CU_ASSERT(epe < max_epe);
    /* the other way: the negated motion of the point, so check it loosely
     * through the forward-backward agreement instead */
    CU_ASSERT(pm->unreliable == -1);
    CU_ASSERT(aie_pair_motion_unreliable(pm, NULL) < 0.2);
    CU_ASSERT(pm->unreliable == aie_flow_unreliable(pm->ab, pm->ba));
    CU_ASSERT_EQUAL(aie_frame_alloc(&out, W, H, AIE_LAYOUT_YUV420, depth), 0);
    CU_ASSERT_EQUAL(aie_frame_alloc(&blend, W, H, AIE_LAYOUT_YUV420, depth), 0);
    CU_ASSERT_EQUAL(aie_interp_synth(ip, pm, a, b, 0.5, out, NULL, NULL), 0);
    CU_ASSERT_EQUAL(aie_interp_synth(ip, NULL, a, b, 0.5, blend, NULL, NULL), 0);
    double p = aie_frame_psnr(mid, out, aie_cpu_flags()), pb = aie_frame_psnr(mid, blend, aie_cpu_flags());
    if (epe >= max_epe || p < min_psnr || p < pb + min_gain || getenv("AIE_TEST_VERBOSE"))
        fprintf(stderr, "\n  motion (%g, %g) rot %g zoom %g depth %d: EPE %.3f px, middle %.2f dB, blend %.2f dB\n",
                m->dx, m->dy, m->angle, m->zoom, depth, epe, p, pb);
    CU_ASSERT(p >= min_psnr);
    CU_ASSERT(p >= pb + min_gain);
    aie_flow_free(&truth);
    aie_pair_motion_free(&pm);
    aie_interp_free(&ip);
    aie_frame_unref(&a);
    aie_frame_unref(&b);
    aie_frame_unref(&mid);
    aie_frame_unref(&out);
    aie_frame_unref(&blend);
}

static void test_translate(void)
{
    Motion m = {6.5, -3.25, 0, 1};
    check_motion(&m, 8, 0.12, 42, 15);
}

static void test_rotate(void)
{
    Motion m = {0, 0, 3 * M_PI / 180, 1};
    check_motion(&m, 8, 0.2, 45, 15);
}

static void test_zoom(void)
{
    Motion m = {0, 0, 0, 1.05};
    check_motion(&m, 8, 0.25, 44, 12);
}

static void test_translate_10bit(void)
{
    Motion m = {6.5, -3.25, 0, 1};
    check_motion(&m, 10, 0.12, 42, 15);
}

/* The same synthesis with 1 and 3 threads, and at several times t. */
static void test_deterministic(void)
{
    Motion m = {4.25, 2.5, 0.02, 1.02};
    AieFrame *a = render(&m, 0, 8), *b = render(&m, 1, 8), *o1 = NULL, *o2 = NULL;
    AieInterp *ip = NULL;
    AiePairMotion *p1 = NULL, *p2 = NULL;
    AiePool *pool = NULL;
    CU_ASSERT_FATAL(a && b);
    CU_ASSERT_EQUAL_FATAL(aie_interp_create(&ip, W, H, AIE_LAYOUT_YUV420, 8, NULL, aie_cpu_flags()), 0);
    CU_ASSERT_EQUAL_FATAL(aie_pool_create(&pool, 3), 0);
    CU_ASSERT_EQUAL(aie_frame_alloc(&o1, W, H, AIE_LAYOUT_YUV420, 8), 0);
    CU_ASSERT_EQUAL(aie_frame_alloc(&o2, W, H, AIE_LAYOUT_YUV420, 8), 0);
    CU_ASSERT_EQUAL(aie_interp_analyse(ip, a, b, &p1, NULL), 0);
    CU_ASSERT_EQUAL(aie_interp_analyse(ip, a, b, &p2, pool), 0);
    const double ts[] = {0.25, 0.5, 0.6, 1.4};
    for (int k = 0; k < 4; k++) {
        CU_ASSERT_EQUAL(aie_interp_synth(ip, p1, a, b, ts[k], o1, NULL, NULL), 0);
        CU_ASSERT_EQUAL(aie_interp_synth(ip, p2, a, b, ts[k], o2, NULL, pool), 0);
        for (int p = 0; p < 3; p++)
            for (int y = 0; y < o1->plane_h[p]; y++)
                CU_ASSERT_EQUAL(memcmp(o1->data[p] + y * o1->stride[p], o2->data[p] + y * o2->stride[p],
                                       (size_t)o1->plane_w[p]), 0);
    }
    /* bad times */
    CU_ASSERT_EQUAL(aie_interp_synth(ip, p1, a, b, 0, o1, NULL, NULL), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_interp_synth(ip, p1, a, b, 1, o1, NULL, NULL), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_interp_synth(ip, NULL, a, b, 1.5, o1, NULL, NULL), AIE_EINVAL);
    aie_pair_motion_free(&p1);
    aie_pair_motion_free(&p2);
    aie_pool_destroy(&pool);
    aie_interp_free(&ip);
    aie_frame_unref(&a);
    aie_frame_unref(&b);
    aie_frame_unref(&o1);
    aie_frame_unref(&o2);
}

/* ---- scene cuts ---- */

static double texture2(double x, double y)
{
    return 120 + 60 * sin(0.05 * x * x / 40 + 0.3 * y) * cos(0.17 * x) + 30 * sin(0.41 * y - 0.2 * x);
}

/* Frame n of a sequence: kind 0 the pan over texture, 1 the other texture;
 * gain and offset for flashes and fades. */
static AieFrame *scene_frame(int kind, double shift, double gain, double offset)
{
    AieFrame *f = NULL;
    if (aie_frame_alloc(&f, W, H, AIE_LAYOUT_YUV420, 8))
        return NULL;
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < f->plane_h[p]; y++)
            for (int x = 0; x < f->plane_w[p]; x++) {
                double v = p ? 128 : kind ? texture2(x + shift, y) : texture(x + shift, y);
                v = (v - 16) * gain + 16 + offset;
                f->data[p][y * f->stride[p] + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
            }
    return f;
}

/* Run the detector over a sequence; cuts[i] = cut between frames i and i+1. */
static void detect(AieFrame **seq, int n, int *cuts)
{
    AieSceneFeat *feat = calloc((size_t)n, sizeof(*feat));
    CU_ASSERT_FATAL(feat != NULL);
    for (int i = 0; i < n; i++)
        aie_scene_features(seq[i], &feat[i]);
    for (int i = 0; i + 1 < n; i++) {
        const AieSceneFeat *w[AIE_SCENE_WINDOW];
        for (int k = 0; k < AIE_SCENE_WINDOW; k++) {
            int j = i - 2 + k;
            w[k] = j >= 0 && j < n ? &feat[j] : NULL;
        }
        cuts[i] = aie_scene_cut(w, AIE_SCENE_THRESHOLD_DEFAULT);
    }
    free(feat);
}

static void test_scene(void)
{
    enum { N = 24 };
    AieFrame *seq[N];
    int cuts[N];
    /* a fast pan (6 px/frame) with a cut at 12 */
    for (int i = 0; i < N; i++)
        seq[i] = scene_frame(i >= 12, 6.0 * i, 1, 0);
    detect(seq, N, cuts);
    for (int i = 0; i + 1 < N; i++)
        CU_ASSERT_EQUAL(cuts[i], i == 11);
    for (int i = 0; i < N; i++)
        aie_frame_unref(&seq[i]);
    /* flashes: one bright frame at 6, one washed-out frame at 15 */
    for (int i = 0; i < N; i++)
        seq[i] = scene_frame(0, 2.0 * i, i == 15 ? 0.4 : 1, i == 6 ? 90 : i == 15 ? 120 : 0);
    detect(seq, N, cuts);
    for (int i = 0; i + 1 < N; i++)
        CU_ASSERT_EQUAL(cuts[i], 0);
    for (int i = 0; i < N; i++)
        aie_frame_unref(&seq[i]);
    /* a fade to black and in again on the other texture, 8 frames each way */
    for (int i = 0; i < N; i++) {
        double g = i < 8 ? 1 : i < 16 ? (15 - i) / 8.0 : (i - 16) / 7.0;
        seq[i] = scene_frame(i >= 16, 2.0 * i, i < 8 ? 1 : g, 0);
    }
    detect(seq, N, cuts);
    for (int i = 0; i + 1 < N; i++)
        CU_ASSERT_EQUAL(cuts[i], 0);
    for (int i = 0; i < N; i++)
        aie_frame_unref(&seq[i]);
    /* a hard cut on a slow pan is found */
    for (int i = 0; i < N; i++)
        seq[i] = scene_frame(i >= 12, 2.0 * i, 1, 0);
    detect(seq, N, cuts);
    CU_ASSERT_EQUAL(cuts[11], 1);
    for (int i = 0; i < N; i++)
        aie_frame_unref(&seq[i]);
}

static void test_paint(void)
{
    AieFlow *f = NULL;
    AieFrame *rgb = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_flow_alloc(&f, 64, 32, 2), 0);
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&rgb, f->width, f->height, AIE_LAYOUT_RGB, 8), 0);
    f->u[0] = 8; /* moving right: red; everything else still: white */
    CU_ASSERT_EQUAL(aie_flow_paint(f, rgb, 8), 0);
    CU_ASSERT(rgb->data[0][0] > 200 && rgb->data[1][0] < 60 && rgb->data[2][0] < 60);
    CU_ASSERT(rgb->data[0][1] == 255 && rgb->data[1][1] == 255 && rgb->data[2][1] == 255);
    aie_frame_unref(&rgb);
    aie_flow_free(&f);
}

/* The frame-rate stage outside a pipeline (aie_stage_process): 4 frames at
 * 25 fps doubled give 8 frames with pts 0..7 in 1/50; even outputs show the
 * inputs' pixels, odd ones lie between; a rate above 1000 fps is refused
 * with a message. */
static void test_interp_stage(void)
{
    enum { IW = 48, IH = 32, IN = 4 };
    AieVideoInfo vi = {.width = IW, .height = IH, .layout = AIE_LAYOUT_GRAY, .depth = 8, .fps = {25, 1},
                       .time_base = {1, 25}, .nb_frames = IN};
    AieInterpParams p = {.factor = {2, 1}, .cpu_flags = aie_cpu_flags(), .name = "test"};
    AieStage *st = NULL;
    char err[AIE_ERRBUF_SIZE] = "";
    CU_ASSERT_EQUAL_FATAL(aie_interp_stage_open(&st, &p, &vi, err, sizeof(err)), 0);
    CU_ASSERT(st->out.fps.num == 50 && st->out.fps.den == 1);
    CU_ASSERT_EQUAL(st->out.nb_frames, 2 * IN);
    CU_ASSERT(st->history == 4 && st->flush_job && st->count_output && !st->drop_streams);
    AieFrame *in[IN] = {0};
    for (int i = 0; i < IN; i++) {
        CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&in[i], IW, IH, AIE_LAYOUT_GRAY, 8), 0);
        for (int y = 0; y < IH; y++)
            for (int x = 0; x < IW; x++)
                in[i]->data[0][y * in[i]->stride[0] + x] = (uint8_t)(((x + 2 * i) / 4 + y / 4) % 2 ? 200 : 40);
        in[i]->pts = in[i]->index = i;
        in[i]->duration = 1;
        in[i]->time_base = (AieRational){1, 25};
    }
    int64_t got = 0, bad_pts = 0, bad_copy = 0;
    for (int j = 0; j <= IN; j++) {
        AieJob job = {.seq = j, .in = j < IN ? in[j] : NULL};
        for (int k = 0; k < AIE_PIPE_MAX_HISTORY; k++)
            job.prev[k] = j - 1 - k >= 0 ? in[j - 1 - k] : NULL;
        CU_ASSERT_EQUAL(aie_stage_process(st, &job, NULL), 0);
        for (int o = 0; o < job.nout; o++, got++) {
            AieFrame *f = job.out[o];
            bad_pts += f->pts != got || f->time_base.num != 1 || f->time_base.den != 50;
            if (got % 2 == 0)
                for (int y = 0; y < IH; y++)
                    bad_copy += memcmp(f->data[0] + y * f->stride[0], in[got / 2]->data[0] + y * in[got / 2]->stride[0],
                                       IW) != 0;
        }
        aie_job_clear(&job);
    }
    CU_ASSERT_EQUAL(got, 2 * IN);
    CU_ASSERT_EQUAL(bad_pts, 0);
    CU_ASSERT_EQUAL(bad_copy, 0);
    AieInterpInfo info;
    CU_ASSERT_EQUAL(aie_interp_stage_info(st, &info), 0);
    CU_ASSERT_EQUAL(info.cuts, 0);
    CU_ASSERT_EQUAL(info.single, 0);
    char *q = NULL;
    CU_ASSERT_EQUAL(st->ops->quality_json(st->self, &q), 0);
    CU_ASSERT(q && !strcmp(q, "{\"cuts\":0}"));
    free(q);
    aie_stage_free(&st);
    for (int i = 0; i < IN; i++)
        aie_frame_unref(&in[i]);
    p = (AieInterpParams){.fps = {2000, 1}};
    CU_ASSERT_EQUAL(aie_interp_stage_open(&st, &p, &vi, err, sizeof(err)), AIE_EINVAL);
    CU_ASSERT(st == NULL && strstr(err, "above 1000") != NULL);
}

int test_motion_register(void)
{
    CU_pSuite s = CU_add_suite("motion", NULL, NULL);
    if (!s || !CU_add_test(s, "translate", test_translate) || !CU_add_test(s, "rotate", test_rotate) ||
        !CU_add_test(s, "zoom", test_zoom) || !CU_add_test(s, "translate_10bit", test_translate_10bit) ||
        !CU_add_test(s, "deterministic", test_deterministic) || !CU_add_test(s, "scene", test_scene) ||
        !CU_add_test(s, "paint", test_paint) || !CU_add_test(s, "interp_stage", test_interp_stage))
        return -1;
    return 0;
}
