/*
 * CUnit suite "nn": the inference engine (lib/nn) through its builder and
 * executor: hand-computed tiny models (one per file format), pixel shuffle
 * in both channel orders, every operator against the naive reference at
 * every CPU level, tiled == untiled for several tile sizes, the memory cap,
 * and bad model files.
 *
 * Tolerance against the reference (aie_nn_reference sums convolutions in
 * double): 1e-5 relative to the largest output magnitude, plus 1e-6, since
 * the engine sums in float. The tiled and untiled runs of one CPU level are
 * compared bit for bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "aie/nn.h"
#include "nn/graph.h"
#include "tests.h"

static unsigned rng = 7;
static float frnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return (float)((rng >> 8) % 20001) / 10000.0f - 1.0f;
}

static AieNnImage image(int w, int h, int c)
{
    AieNnImage im = {w, h, c, calloc((size_t)w * h * c, sizeof(float)), w, (ptrdiff_t)w * h};
    CU_ASSERT_PTR_NOT_NULL_FATAL(im.data);
    return im;
}

static float *px(const AieNnImage *im, int c, int x, int y) { return &im->data[c * im->plane + y * im->row + x]; }

static void fill(AieNnImage *im, int smooth)
{
    for (int c = 0; c < im->c; c++)
        for (int y = 0; y < im->h; y++)
            for (int x = 0; x < im->w; x++)
                *px(im, c, x, y) = smooth ? 0.5f + 0.4f * sinf(0.37f * x + c) * cosf(0.23f * y) : 0.5f + 0.5f * frnd();
}

static const char *path(const char *name)
{
    static char b[8][512];
    static int k;
    char *p = b[k++ & 7];
    snprintf(p, sizeof(b[0]), "%s/testdata/nn/%s", tests_src_dir(), name);
    return p;
}

static AieNnModel *load(const char *name)
{
    char err[AIE_ERRBUF_SIZE];
    AieNnModel *m = NULL;
    int e = aie_nn_load(&m, path(name), err, sizeof(err));
    if (e)
        fprintf(stderr, "\n  load %s: %s\n", name, err);
    CU_ASSERT_EQUAL_FATAL(e, 0);
    return m;
}

/* Run m on in at cpu level `flags` with tile `tile` (0 = one tile). */
static int run(const AieNnModel *m, const AieNnImage *in, AieNnImage *out, unsigned flags, int tile, size_t cap)
{
    AieNnOpts o = {.tile = tile ? tile : 4096, .max_mem = cap, .cpu_flags = flags, .threads = 1};
    AieNnExec *e = NULL;
    int err = aie_nn_exec_create(&e, m, &o);
    if (!err)
        err = aie_nn_exec_run(e, in, out, NULL, NULL);
    aie_nn_exec_free(&e);
    return err;
}

static AieNnImage out_for(const AieNnModel *m, const AieNnImage *in)
{
    const NnGraph *g = aie_nn_model_graph(m);
    int *sizes = malloc(sizeof(int) * 2 * (size_t)g->n);
    CU_ASSERT_EQUAL_FATAL(aie_nn_graph_sizes(g, in->w, in->h, sizes), 0);
    AieNnImage im = image(sizes[2 * g->output], sizes[2 * g->output + 1], g->out_channels);
    free(sizes);
    return im;
}

/* ---- hand-computed tiny models ---- */

/* waifu2x JSON: nearest 2x, replicate pad 1, layer 1 a horizontal [.25 .5 .25]
 * blur per channel with bias -0.5 and LeakyReLU 0.1, layer 2 identity + 0.5. */
static void test_tiny_waifu2x(void)
{
    AieNnModel *m = load("tiny_scale2.0x_model.json");
    AieNnImage in = image(3, 2, 3);
    fill(&in, 0);
    AieNnImage out = out_for(m, &in);
    CU_ASSERT_EQUAL(out.w, 6);
    CU_ASSERT_EQUAL(out.h, 4);
    CU_ASSERT_EQUAL(run(m, &in, &out, aie_cpu_flags(), 0, 0), 0);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 6; x++) {
                int xl = x ? x - 1 : 0, xr = x < 5 ? x + 1 : 5; /* replicate on the 2x image */
                float b = 0.25f * *px(&in, c, xl / 2, y / 2) + 0.5f * *px(&in, c, x / 2, y / 2) +
                          0.25f * *px(&in, c, xr / 2, y / 2) - 0.5f;
                float want = (b < 0 ? 0.1f * b : b) + 0.5f;
                CU_ASSERT_DOUBLE_EQUAL(*px(&out, c, x, y), want, 1e-6);
            }
    free(in.data);
    free(out.data);
    aie_nn_free(&m);
}

/* ncnn: out(c, 2y+i, 2x+j) = in(c, x, y) * (1 + (s + 1) / 8) + s / 16, s = 2i + j:
 * a 1x1 conv with fp16 weights to 12 channels, PixelShuffle (PyTorch order),
 * plus the nearest 2x input (Interp, BinaryOp). */
static void test_tiny_ncnn(void)
{
    AieNnModel *m = load("tiny-x2.param");
    AieNnImage in = image(4, 3, 3);
    fill(&in, 0);
    AieNnImage out = out_for(m, &in);
    CU_ASSERT_EQUAL(run(m, &in, &out, aie_cpu_flags(), 0, 0), 0);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < out.h; y++)
            for (int x = 0; x < out.w; x++) {
                int s = (y % 2) * 2 + x % 2;
                float v = *px(&in, c, x / 2, y / 2);
                CU_ASSERT_DOUBLE_EQUAL(*px(&out, c, x, y), v * (1.0f + 0.125f * (s + 1)) + 0.0625f * s, 1e-6);
            }
    AieNnInfo info;
    aie_nn_info(m, &info);
    CU_ASSERT_STRING_EQUAL(info.format, "ncnn");
    CU_ASSERT_EQUAL(info.layers, 1);
    CU_ASSERT_DOUBLE_EQUAL(info.flops_per_pixel, 72.0, 1e-9);
    free(in.data);
    free(out.data);
    aie_nn_free(&m);
}

/* Anime4K S with zero weights and last biases b: the depth-to-space of the
 * biases (TensorFlow order: sub-pixel (i, j) gets b[2i + j]) added to every
 * channel of the bilinear 2x input; a constant input stays constant under
 * bilinear. */
static void test_tiny_anime4k(void)
{
    AieNnModel *m = load("tiny-a4k-s.json");
    AieNnImage in = image(5, 3, 3);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 15; i++)
            in.data[c * 15 + i] = 0.25f * (float)(c + 1);
    AieNnImage out = out_for(m, &in);
    CU_ASSERT_EQUAL(run(m, &in, &out, aie_cpu_flags(), 0, 0), 0);
    const float b[4] = {0.01f, 0.02f, 0.03f, 0.04f};
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < out.h; y++)
            for (int x = 0; x < out.w; x++)
                CU_ASSERT_DOUBLE_EQUAL(*px(&out, c, x, y), 0.25f * (float)(c + 1) + b[(y % 2) * 2 + x % 2], 1e-6);
    free(in.data);
    free(out.data);
    aie_nn_free(&m);
}

/* A graph by hand: 3x2 one-channel image [[1 2 3] [4 5 6]], 3x3 conv of ones
 * with zero padding and bias 0.5, then a 1x1 conv by -1 with LeakyReLU 0.1. */
static void test_tiny_graph(void)
{
    NnGraph g;
    CU_ASSERT_EQUAL_FATAL(aie_nn_graph_init(&g, 1), 0);
    float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, b = 0.5f, neg = -1.0f, zero = 0.0f;
    int a = aie_nn_conv(&g, 0, 1, 3, 3, NN_PAD_ZERO, ones, &b, NN_ACT_NONE, 0, NULL);
    int n = aie_nn_conv(&g, a, 1, 1, 1, NN_PAD_ZERO, &neg, &zero, NN_ACT_LEAKY, 0.1f, NULL);
    CU_ASSERT_FATAL(a > 0 && n > 0);
    CU_ASSERT_EQUAL_FATAL(aie_nn_graph_finish(&g, n, 1), 0);
    AieNnModel *m = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_nn_model_from_graph(&m, &g), 0);
    AieNnImage in = image(3, 2, 1), out = image(3, 2, 1);
    for (int i = 0; i < 6; i++)
        in.data[i] = (float)(i + 1);
    const float want[6] = {-1.25f, -2.15f, -1.65f, -1.25f, -2.15f, -1.65f};
    for (int level = 0; level < 2; level++) {
        CU_ASSERT_EQUAL(run(m, &in, &out, level ? aie_cpu_flags() : 0, 0, 0), 0);
        for (int i = 0; i < 6; i++)
            CU_ASSERT_DOUBLE_EQUAL(out.data[i], want[i], 1e-6);
    }
    free(in.data);
    free(out.data);
    aie_nn_free(&m);
}

/* ---- pixel shuffle in both orders ---- */

static void test_shuffle_orders(void)
{
    for (int order = 0; order < 2; order++) {
        const int C = 3, r = 2;
        NnGraph g;
        CU_ASSERT_EQUAL_FATAL(aie_nn_graph_init(&g, C * r * r), 0);
        int s = aie_nn_shuffle(&g, 0, r, order ? NN_SHUFFLE_TF : NN_SHUFFLE_TORCH);
        CU_ASSERT_EQUAL_FATAL(aie_nn_graph_finish(&g, s, C), 0);
        AieNnModel *m = NULL;
        CU_ASSERT_EQUAL_FATAL(aie_nn_model_from_graph(&m, &g), 0);
        AieNnImage in = image(2, 1, C * r * r), out = image(4, 2, C);
        for (int k = 0; k < C * r * r; k++)
            for (int x = 0; x < 2; x++)
                *px(&in, k, x, 0) = (float)(100 * x + k);
        CU_ASSERT_EQUAL(run(m, &in, &out, aie_cpu_flags(), 0, 0), 0);
        for (int c = 0; c < C; c++)
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 4; x++) {
                    int i = y % r, j = x % r;
                    /* ncnn/PyTorch: c*r*r + i*r + j; TensorFlow depth_to_space: (i*r + j)*C + c */
                    int k = order ? (i * r + j) * C + c : c * r * r + i * r + j;
                    CU_ASSERT_EQUAL((int)*px(&out, c, x, y), 100 * (x / r) + k);
                }
        free(in.data);
        free(out.data);
        aie_nn_free(&m);
    }
}

/* ---- every operator against the reference ---- */

static void random_floats(float *p, int n, float scale)
{
    for (int i = 0; i < n; i++)
        p[i] = scale * frnd();
}

/* conv node with random weights */
static int rconv(NnGraph *g, int in, int cout, int k, NnPad pad, int act)
{
    int cin = g->nodes[in].c;
    float *w = malloc(sizeof(float) * (size_t)(cout * cin * k * k)), *b = malloc(sizeof(float) * (size_t)cout);
    float *sl = malloc(sizeof(float) * (size_t)cout);
    random_floats(w, cout * cin * k * k, 1.0f / sqrtf((float)(cin * k * k)));
    random_floats(b, cout, 0.1f);
    random_floats(sl, cout, 0.5f);
    int n = aie_nn_conv(g, in, cout, k, k, pad, w, b, act, 0.1f, sl);
    free(w);
    free(b);
    free(sl);
    return n;
}

/* Compare the executor at every CPU level and several tiles with the
 * reference; tiles of one level must agree bit for bit. */
static void check_graph(NnGraph *g, int out, int oc, int w, int h, const char *what)
{
    CU_ASSERT_EQUAL_FATAL(aie_nn_graph_finish(g, out, oc), 0);
    AieNnModel *m = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_nn_model_from_graph(&m, g), 0);
    AieNnImage in = image(w, h, aie_nn_model_graph(m)->nodes[0].c);
    fill(&in, 0);
    AieNnImage ref = out_for(m, &in);
    ref.c = oc;
    AieNnImage got = ref, tiled = ref;
    got.data = malloc(sizeof(float) * (size_t)ref.plane * (size_t)oc);
    tiled.data = malloc(sizeof(float) * (size_t)ref.plane * (size_t)oc);
    CU_ASSERT_EQUAL_FATAL(aie_nn_reference(aie_nn_model_graph(m), &in, &ref), 0);
    double mag = 0;
    for (ptrdiff_t i = 0; i < ref.plane * oc; i++)
        mag = fmax(mag, fabs(ref.data[i]));
    static const unsigned levels[] = {0, AIE_CPU_SSE41 | AIE_CPU_AVX2, ~0u};
    static const int tiles[] = {16, 7, 23, 1};
    for (int l = 0; l < 3; l++) {
        const unsigned flags = aie_cpu_flags() & levels[l];
        CU_ASSERT_EQUAL(run(m, &in, &got, flags, 0, 0), 0);
        double worst = 0;
        for (ptrdiff_t i = 0; i < ref.plane * oc; i++)
            worst = fmax(worst, fabs(got.data[i] - ref.data[i]));
        if (!(worst <= 1e-5 * mag + 1e-6))
            fprintf(stderr, "\n  %s (cpu %s): differs from the reference by %g (max |out| %g)\n", what,
                    aie_cpu_name(flags), worst, mag);
        CU_ASSERT(worst <= 1e-5 * mag + 1e-6);
        for (int t = 0; t < 4; t++) {
            CU_ASSERT_EQUAL(run(m, &in, &tiled, flags, tiles[t], 0), 0);
            int same = !memcmp(tiled.data, got.data, sizeof(float) * (size_t)ref.plane * (size_t)oc);
            if (!same)
                fprintf(stderr, "\n  %s (cpu %s): tile %d differs from one tile\n", what, aie_cpu_name(flags),
                        tiles[t]);
            CU_ASSERT(same);
        }
    }
    free(in.data);
    free(ref.data);
    free(got.data);
    free(tiled.data);
    aie_nn_free(&m);
}

static void test_op_conv(void)
{
    static const int ks[] = {1, 3, 5};
    for (int k = 0; k < 3; k++)
        for (int pad = NN_PAD_ZERO; pad <= NN_PAD_VALID; pad++)
            for (int act = 0; act <= NN_ACT_PRELU; act++) {
                NnGraph g;
                aie_nn_graph_init(&g, 3 + (act & 1) * 17);
                int a = rconv(&g, 0, 5 + 13 * (act == 2), ks[k], (NnPad)pad, act);
                int b = rconv(&g, a, 3, 3, NN_PAD_REPLICATE, NN_ACT_NONE);
                char what[64];
                snprintf(what, sizeof(what), "conv %dx%d pad %d act %d", ks[k], ks[k], pad, act);
                check_graph(&g, b, 3, 19, 11, what);
            }
}

static void test_op_act(void)
{
    for (int act = NN_ACT_RELU; act <= NN_ACT_PRELU; act++) {
        NnGraph g;
        aie_nn_graph_init(&g, 3);
        int a = rconv(&g, 0, 20, 3, NN_PAD_ZERO, NN_ACT_NONE);
        float sl[20];
        random_floats(sl, 20, 0.5f);
        int b = aie_nn_act(&g, a, act, 0.2f, sl);
        int c = aie_nn_concat(&g, (int[]){a, b}, 2); /* a has two readers: the act is not fused */
        int d = rconv(&g, c, 3, 1, NN_PAD_ZERO, NN_ACT_NONE);
        check_graph(&g, d, 3, 13, 9, "act");
    }
}

static void test_op_crelu_concat_add(void)
{
    NnGraph g;
    aie_nn_graph_init(&g, 3);
    int a = rconv(&g, 0, 4, 3, NN_PAD_REPLICATE, NN_ACT_NONE);
    int b = rconv(&g, 0, 4, 3, NN_PAD_REFLECT, NN_ACT_NONE);
    int ab = aie_nn_concat(&g, (int[]){a, b}, 2);
    int cr = aie_nn_crelu(&g, ab);
    int big = rconv(&g, cr, 16, 3, NN_PAD_ZERO, NN_ACT_NONE);
    int cr2 = aie_nn_crelu(&g, big);
    int cat = aie_nn_concat(&g, (int[]){cr, cr2, a}, 3); /* aligned and unaligned parts */
    int h = rconv(&g, cat, 3, 1, NN_PAD_ZERO, NN_ACT_NONE);
    int one = rconv(&g, cat, 1, 1, NN_PAD_ZERO, NN_ACT_NONE);
    int s = aie_nn_add(&g, h, one);  /* broadcast of one channel */
    int t = aie_nn_add(&g, s, 0);    /* plain */
    check_graph(&g, t, 3, 21, 14, "crelu/concat/add");
}

static void test_op_resamplers(void)
{
    for (int r = 2; r <= 3; r++) {
        NnGraph g;
        aie_nn_graph_init(&g, 3);
        int a = rconv(&g, 0, 3 * r * r, 3, NN_PAD_ZERO, NN_ACT_RELU);
        int s0 = aie_nn_shuffle(&g, a, r, NN_SHUFFLE_TORCH), s1 = aie_nn_shuffle(&g, a, r, NN_SHUFFLE_TF);
        int un = aie_nn_upsample(&g, 0, r, NN_UP_NEAREST), ub = aie_nn_upsample(&g, 0, r, NN_UP_BILINEAR);
        int x = aie_nn_add(&g, s0, s1), y = aie_nn_add(&g, un, ub), z = aie_nn_add(&g, x, y);
        int q = rconv(&g, z, 3, 3, NN_PAD_REPLICATE, NN_ACT_NONE);
        check_graph(&g, q, 3, 11, 7, "shuffle/upsample");
    }
    static const int ratios[][2] = {{1, 2}, {3, 4}, {3, 2}};
    for (int i = 0; i < 3; i++) {
        NnGraph g;
        aie_nn_graph_init(&g, 3);
        int a = rconv(&g, 0, 3, 3, NN_PAD_ZERO, NN_ACT_NONE);
        int u = aie_nn_upsample(&g, a, 4, NN_UP_NEAREST);
        int rz = aie_nn_resize(&g, u, ratios[i][0], ratios[i][1]);
        check_graph(&g, rz, 3, 13, 10, "resize");
    }
    for (int mode = NN_PAD_ZERO; mode <= NN_PAD_REFLECT; mode++) {
        NnGraph g;
        aie_nn_graph_init(&g, 3);
        int p = aie_nn_pad(&g, 0, 3, (NnPad)mode);
        int a = rconv(&g, p, 8, 3, NN_PAD_VALID, NN_ACT_LEAKY);
        int b = rconv(&g, a, 3, 5, NN_PAD_VALID, NN_ACT_NONE);
        check_graph(&g, b, 3, 12, 9, "pad");
    }
}

/* A realistic stack (SRVGGNetCompact-like with a bicubic tail, plus an
 * Anime4K-like branch): tiled == untiled for several tile sizes. */
static void test_tiled_equals_untiled(void)
{
    NnGraph g;
    aie_nn_graph_init(&g, 3);
    int x = rconv(&g, 0, 32, 3, NN_PAD_ZERO, NN_ACT_PRELU);
    for (int i = 0; i < 3; i++)
        x = rconv(&g, x, 32, 3, NN_PAD_ZERO, NN_ACT_PRELU);
    x = rconv(&g, x, 48, 3, NN_PAD_ZERO, NN_ACT_NONE);
    int s = aie_nn_shuffle(&g, x, 4, NN_SHUFFLE_TORCH);
    int up = aie_nn_upsample(&g, 0, 4, NN_UP_NEAREST);
    int sum = aie_nn_add(&g, s, up);
    int half = aie_nn_resize(&g, sum, 1, 2);
    int c = rconv(&g, 0, 4, 3, NN_PAD_REPLICATE, NN_ACT_NONE);
    int cr = aie_nn_crelu(&g, c);
    int d = rconv(&g, cr, 4, 3, NN_PAD_REPLICATE, NN_ACT_NONE);
    int d2s = aie_nn_shuffle(&g, d, 2, NN_SHUFFLE_TF);
    int out = aie_nn_add(&g, half, d2s);
    CU_ASSERT_EQUAL_FATAL(aie_nn_graph_finish(&g, out, 3), 0);
    AieNnModel *m = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_nn_model_from_graph(&m, &g), 0);
    AieNnImage in = image(45, 29, 3);
    fill(&in, 1);
    AieNnImage one = out_for(m, &in), t = out_for(m, &in);
    const size_t bytes = sizeof(float) * 3 * (size_t)one.plane;
    static const int tiles[] = {16, 17, 24, 31, 64};
    for (int l = 0; l < 2; l++) {
        unsigned flags = l ? aie_cpu_flags() : 0;
        CU_ASSERT_EQUAL(run(m, &in, &one, flags, 0, 0), 0);
        for (int k = 0; k < 5; k++) {
            memset(t.data, 0, bytes);
            CU_ASSERT_EQUAL(run(m, &in, &t, flags, tiles[k], 0), 0);
            CU_ASSERT(!memcmp(one.data, t.data, bytes));
        }
        /* threads: tiles on a pool */
        AiePool *pool = NULL;
        CU_ASSERT_EQUAL_FATAL(aie_pool_create(&pool, 3), 0);
        AieNnOpts o = {.tile = 16, .cpu_flags = flags, .threads = 4};
        AieNnExec *e = NULL;
        CU_ASSERT_EQUAL_FATAL(aie_nn_exec_create(&e, m, &o), 0);
        memset(t.data, 0, bytes);
        CU_ASSERT_EQUAL(aie_nn_exec_run(e, &in, &t, pool, NULL), 0);
        CU_ASSERT(!memcmp(one.data, t.data, bytes));
        aie_nn_exec_free(&e);
        aie_pool_destroy(&pool);
    }
    free(in.data);
    free(one.data);
    free(t.data);
    aie_nn_free(&m);
}

/* --max-mem: a cap below one tile's scratch halves the tile (and the result
 * does not change); a cap below the smallest tile fails with AIE_ENOMEM. */
static void test_memory_cap(void)
{
    NnGraph g;
    aie_nn_graph_init(&g, 3);
    int x = rconv(&g, 0, 64, 3, NN_PAD_ZERO, NN_ACT_RELU);
    x = rconv(&g, x, 64, 3, NN_PAD_ZERO, NN_ACT_RELU);
    x = rconv(&g, x, 3, 3, NN_PAD_ZERO, NN_ACT_NONE);
    CU_ASSERT_EQUAL_FATAL(aie_nn_graph_finish(&g, x, 3), 0);
    AieNnModel *m = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_nn_model_from_graph(&m, &g), 0);
    AieNnImage in = image(200, 150, 3), a = image(200, 150, 3), b = image(200, 150, 3);
    fill(&in, 1);
    CU_ASSERT_EQUAL(run(m, &in, &a, aie_cpu_flags(), 256, 0), 0);
    AieNnOpts o = {.tile = 256, .max_mem = 3u << 20, .cpu_flags = aie_cpu_flags(), .threads = 1};
    AieNnExec *e = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_nn_exec_create(&e, m, &o), 0);
    CU_ASSERT_EQUAL(aie_nn_exec_run(e, &in, &b, NULL, NULL), 0);
    CU_ASSERT(aie_nn_exec_tile(e) < 256);
    CU_ASSERT(aie_nn_exec_halvings(e) >= 1);
    CU_ASSERT(aie_nn_exec_peak_mem(e) <= (3u << 20));
    CU_ASSERT(!memcmp(a.data, b.data, sizeof(float) * 3 * (size_t)a.plane));
    aie_nn_exec_free(&e);
    o.max_mem = 1000;
    CU_ASSERT_EQUAL_FATAL(aie_nn_exec_create(&e, m, &o), 0);
    CU_ASSERT_EQUAL(aie_nn_exec_run(e, &in, &b, NULL, NULL), AIE_ENOMEM);
    aie_nn_exec_free(&e);
    free(in.data);
    free(a.data);
    free(b.data);
    aie_nn_free(&m);
}

/* ---- bad model files ---- */

static void expect_bad(const char *file, int code, const char *words)
{
    char err[AIE_ERRBUF_SIZE] = "";
    AieNnModel *m = NULL;
    const char *p = file[0] == '/' ? file : path(file);
    int e = aie_nn_load(&m, p, err, sizeof(err));
    if (e != code || !strstr(err, p) || !strstr(err, words))
        fprintf(stderr, "\n  %s: got %d '%s', want %d and '%s'\n", file, e, err, code, words);
    CU_ASSERT_EQUAL(e, code);
    CU_ASSERT_PTR_NULL(m);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, p));  /* names the file */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, words)); /* and the problem */
}

static void test_bad_models(void)
{
    expect_bad("missing_model.json", AIE_ENOENT, "no such file");
    expect_bad("bad/malformed_model.json", AIE_EMODEL, "malformed JSON at line 1");
    expect_bad("bad/wrong-shape_model.json", AIE_EMODEL, "wrong shape");
    expect_bad("bad/wrong-shape-a4k.json", AIE_EMODEL, "wrong shape");
    expect_bad("bad/wrong-shape.param", AIE_EMODEL, "wrong shape");
    expect_bad("bad/unknown-layer_model.json", AIE_EMODEL, "unknown layer type 'nn.SpatialFullConvolution'");
    expect_bad("bad/unknown-layer-a4k.json", AIE_EMODEL, "unknown layer type 'dense'");
    expect_bad("bad/unknown-layer.param", AIE_EMODEL, "unknown layer type 'Deconvolution'");
    /* truncated weights: the message names the .bin */
    char err[AIE_ERRBUF_SIZE] = "";
    AieNnModel *m = NULL;
    CU_ASSERT_EQUAL(aie_nn_load(&m, path("bad/truncated.param"), err, sizeof(err)), AIE_EMODEL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad/truncated.bin"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated weights"));
    /* a .param without its .bin, an empty file, a directory, not a model */
    const char *tmp = tests_tmp_path("lonely.param");
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "cp %s %s && : > %s && echo hello > %s", path("tiny-x2.param"), tmp,
             tests_tmp_path("empty.json"), tests_tmp_path("hello.txt"));
    CU_ASSERT_EQUAL(system(cmd), 0);
    CU_ASSERT_EQUAL(aie_nn_load(&m, tmp, err, sizeof(err)), AIE_ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "lonely.bin"));
    expect_bad(tests_tmp_path("empty.json"), AIE_EMODEL, "not a model file");
    expect_bad(tests_tmp_path("hello.txt"), AIE_EMODEL, "not a model file");
    CU_ASSERT_EQUAL(aie_nn_load(&m, tests_tmp_dir(), err, sizeof(err)), AIE_EMODEL);
    /* every truncation of a good model fails cleanly (or, cut after the last
     * layer, loads) */
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen(path("tiny_scale2.0x_model.json"), "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    text = malloc(4096);
    len = fread(text, 1, 4096, f);
    fclose(f);
    for (size_t cut = 0; cut < len; cut += 7) {
        FILE *o = fopen(tests_tmp_path("cut_model.json"), "wb");
        fwrite(text, 1, cut, o);
        fclose(o);
        CU_ASSERT_EQUAL(aie_nn_load(&m, tests_tmp_path("cut_model.json"), err, sizeof(err)), AIE_EMODEL);
    }
    free(text);
}

int test_nn_register(void)
{
    CU_pSuite s = CU_add_suite("nn", NULL, NULL);
    if (!s || !CU_add_test(s, "tiny waifu2x JSON by hand", test_tiny_waifu2x) ||
        !CU_add_test(s, "tiny ncnn fp16 by hand", test_tiny_ncnn) ||
        !CU_add_test(s, "tiny Anime4K by hand", test_tiny_anime4k) ||
        !CU_add_test(s, "tiny graph by hand", test_tiny_graph) ||
        !CU_add_test(s, "pixel shuffle orders", test_shuffle_orders) ||
        !CU_add_test(s, "conv vs reference", test_op_conv) ||
        !CU_add_test(s, "activations vs reference", test_op_act) ||
        !CU_add_test(s, "crelu, concat, add vs reference", test_op_crelu_concat_add) ||
        !CU_add_test(s, "shuffle, upsample, resize, pad vs reference", test_op_resamplers) ||
        !CU_add_test(s, "tiled equals untiled", test_tiled_equals_untiled) ||
        !CU_add_test(s, "memory cap halves the tile", test_memory_cap) ||
        !CU_add_test(s, "bad model files", test_bad_models))
        return -1;
    return 0;
}
