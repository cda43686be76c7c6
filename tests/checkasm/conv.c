/*
 * checkasm for lib/dsp/conv: every ISA version against the C reference over
 * random shapes (1..70 input and output channels, inputs of 4, 8 or 16 lanes
 * per block, 1x1, 3x3 and 5x5 kernels, widths 1..40 so every row-tail path
 * runs, strides larger than the window),
 * every activation, with canaries around and between the output rows and the
 * input compared after each call.
 *
 * Tolerance (float kernels): |simd - c| <= 1e-5 * sum of |terms| + 1e-30
 * per output, where the terms are the bias and every product w * x of the
 * sum. Both sum in the same order; they differ only by FMA contraction (one
 * rounding per product saved), which is far inside this bound.
 *
 * --bench: the peak FMA rate of this machine, measured by the probe kernel
 * of each level (24 or 12 independent FMA chains), and the GFLOP/s of the conv
 * kernel on 3x3 64->64 and 128->128 layers (a 96 x 32 output window, as a tile
 * of the engine computes them row by row), on one thread, medians of 11 runs;
 * the fraction of peak is the median of the per-run ratios.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aie/cpu.h"
#include "checkasm.h"
#include "dsp/conv.h"

#define ITERS 120
#define B AIE_CONV_BLOCK

#define frand checkasm_frand
#define alloc_floats checkasm_floats

static void check_conv_fn(AieConvFn fn, const char *name)
{
    AieConvFn ref = (AieConvFn)checkasm_check_func((void *)fn, name);
    if (!ref)
        return;
    static const int ks[] = {1, 3, 5};
    for (int it = 0; it < ITERS; it++) {
        const int cin = checkasm_rand() % 3 ? checkasm_rand_range(1, 70) : 16 * checkasm_rand_range(1, 4);
        const int cout = checkasm_rand_range(1, 70);
        const int kh = ks[checkasm_rand() % 3], kw = checkasm_rand() % 4 ? kh : ks[checkasm_rand() % 3];
        const int ow = checkasm_rand_range(1, 40), oh = checkasm_rand_range(1, 4);
        const int L = (int[]){4, 8, 16, 16}[checkasm_rand() % 4]; /* lanes per src block */
        const int ib = (cin + L - 1) / L, ob = (cout + B - 1) / B;
        const int iw = ow + kw - 1 + checkasm_rand_range(0, 3), ih = oh + kh - 1 + checkasm_rand_range(0, 2);
        const ptrdiff_t srow = (ptrdiff_t)iw * L, splane = srow * ih + L * checkasm_rand_range(0, 2);
        const ptrdiff_t drow = (ptrdiff_t)(ow + checkasm_rand_range(0, 3)) * B;
        const ptrdiff_t dplane = drow * oh + B * checkasm_rand_range(0, 2);
        const size_t in_n = (size_t)(splane * ib), out_n = (size_t)(dplane * ob) + 2 * CHECKASM_GUARD;
        float *src = alloc_floats(in_n), *copy = alloc_floats(in_n);
        float *w = alloc_floats((size_t)cout * cin * kh * kw);
        float *wp = alloc_floats(aie_conv_packed_size(cout, cin, kh, kw));
        float *bias = alloc_floats((size_t)ob * B), *slopes = alloc_floats((size_t)ob * B);
        float *d0 = alloc_floats(out_n), *d1 = alloc_floats(out_n);
        for (size_t i = 0; i < in_n; i++)
            src[i] = frand();
        memcpy(copy, src, sizeof(float) * in_n);
        for (size_t i = 0; i < (size_t)cout * cin * kh * kw; i++)
            w[i] = frand();
        aie_conv_pack(wp, w, cout, cin, kh, kw);
        for (int i = 0; i < ob * B; i++) {
            bias[i] = i < cout ? frand() : 0.0f;
            slopes[i] = frand();
        }
        memset(d0, CHECKASM_CANARY, sizeof(float) * out_n);
        memset(d1, CHECKASM_CANARY, sizeof(float) * out_n);
        AieConvArgs a = {
            .cin = cin, .cout_blocks = ob, .kh = kh, .kw = kw, .out_w = ow, .out_h = oh,
            .src_row = srow, .src_plane = splane, .src_lanes = L, .dst_row = drow, .dst_plane = dplane,
            .act = (int)(checkasm_rand() % 4), .slope = 0.1f, .slopes = slopes,
        };
        const int g = CHECKASM_GUARD; /* guard floats before the output */
        ref(d0 + g, src, wp, bias, &a);
        fn(d1 + g, src, wp, bias, &a);
        for (int o = 0; o < ob * B; o++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    size_t at = (size_t)g + (size_t)((o / B) * dplane + y * drow + x * B + o % B);
                    double mag = fabs(bias[o]);
                    for (int i = 0; i < cin; i++)
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                                mag += fabs((double)(o < cout ? w[((size_t)(o * cin + i) * kh + ky) * kw + kx] : 0) *
                                            src[(i / L) * splane + (y + ky) * srow + (x + kx) * L + i % L]);
                    if (a.act == AIE_CONV_ACT_PRELU)
                        mag *= fmax(1.0, fabs(slopes[o]));
                    if (!(fabs((double)d0[at] - (double)d1[at]) <= 1e-5 * mag + 1e-30))
                        checkasm_fail("cin=%d (%d lanes) cout=%d k=%dx%d %dx%d act=%d: out %d (%d,%d) %.9g vs c %.9g",
                                      cin, L, cout, kh, kw, ow, oh, a.act, o, x, y, d1[at], d0[at]);
                }
        /* everything that is not an output sample keeps its canary */
        const uint8_t *c0 = (const uint8_t *)d0, *c1 = (const uint8_t *)d1;
        for (size_t i = 0; i < out_n; i++) {
            long off = (long)i - g;
            int inside = 0;
            if (off >= 0 && off < dplane * ob) {
                long r = off % dplane, y = r / drow, x = (r % drow) / B;
                inside = y < oh && x < ow;
            }
            if (!inside && (c0[4 * i] != CHECKASM_CANARY || c1[4 * i] != CHECKASM_CANARY ||
                            memcmp(c0 + 4 * i, c1 + 4 * i, 4)))
                checkasm_fail("cin=%d cout=%d k=%dx%d %dx%d: wrote outside dst", cin, cout, kh, kw, ow, oh);
        }
        if (memcmp(src, copy, sizeof(float) * in_n))
            checkasm_fail("clobbered src");
        free(src);
        free(copy);
        free(w);
        free(wp);
        free(bias);
        free(slopes);
        free(d0);
        free(d1);
    }
    checkasm_report(name);
}

/* ---- benchmarks ----
 * Times are thread CPU time (CLOCK_THREAD_CPUTIME_ID), so time spent
 * descheduled on a shared machine does not count; the probe and the two
 * layers are measured interleaved, run after run, and each run gives its own
 * ratio to the probe, so a change of clock between runs cancels out. */

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define RUNS 11

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

typedef struct Layer {
    int c, ow, oh;
    float *src, *dst, *wp, *bias;
    AieConvArgs a;
    double flops;
} Layer;

static void layer_init(Layer *l, int c)
{
    const int k = 3, blocks = c / B;
    l->c = c;
    l->ow = 96;
    l->oh = 32;
    const ptrdiff_t srow = (ptrdiff_t)(l->ow + k - 1) * B, splane = srow * (l->oh + k - 1);
    const ptrdiff_t drow = (ptrdiff_t)l->ow * B, dplane = drow * l->oh;
    l->src = alloc_floats((size_t)(splane * blocks));
    l->dst = alloc_floats((size_t)(dplane * blocks));
    l->wp = alloc_floats(aie_conv_packed_size(c, c, k, k));
    l->bias = alloc_floats((size_t)c);
    float *w = alloc_floats((size_t)c * c * 9);
    for (ptrdiff_t i = 0; i < splane * blocks; i++)
        l->src[i] = frand();
    for (int i = 0; i < c * c * 9; i++)
        w[i] = frand() * 0.05f;
    for (int i = 0; i < c; i++)
        l->bias[i] = frand();
    aie_conv_pack(l->wp, w, c, c, k, k);
    free(w);
    l->a = (AieConvArgs){
        .cin = c, .cout_blocks = blocks, .kh = k, .kw = k, .out_w = l->ow, .out_h = l->oh,
        .src_row = srow, .src_plane = splane, .src_lanes = B, .dst_row = drow, .dst_plane = dplane,
        .act = AIE_CONV_ACT_LEAKY, .slope = 0.1f,
    };
    l->flops = 2.0 * c * c * 9 * l->ow * l->oh;
}

static void layer_free(Layer *l)
{
    free(l->src);
    free(l->dst);
    free(l->wp);
    free(l->bias);
}

/* GFLOP/s of about `gflop` GFLOP of calls */
static double layer_run(const AieConvDSP *dsp, Layer *l, double gflop)
{
    int calls = (int)(gflop * 1e9 / l->flops) + 1;
    double t0 = cpu_s();
    for (int i = 0; i < calls; i++)
        dsp->conv(l->dst, l->src, l->wp, l->bias, &l->a);
    return l->flops * calls / (cpu_s() - t0) * 1e-9;
}

static double probe_run(const AieConvDSP *dsp, long n)
{
    static volatile float sink;
    double t0 = cpu_s();
    sink += dsp->fma_probe(n);
    return (double)dsp->fma_flops * (double)n / (cpu_s() - t0) * 1e-9;
}

static void bench_conv(const AieConvDSP *dsp)
{
    static void *benched;
    if ((void *)dsp->conv == benched)
        return;
    benched = (void *)dsp->conv;
    const char *lvl = aie_cpu_name(checkasm_cpu_flags());
    Layer l[2];
    layer_init(&l[0], 64);
    layer_init(&l[1], 128);
    if (!dsp->fma_probe) { /* the C reference: one short run each, no peak */
        for (int i = 0; i < 2; i++)
            printf("   bench %-8s conv3x3 %3d->%-3d               %8.2f GFLOP/s\n", lvl, l[i].c, l[i].c,
                   layer_run(dsp, &l[i], 0.05));
    } else {
        double peak[RUNS], g[2][RUNS], frac[2][RUNS];
        const long n = 2000000; /* ~0.1 s */
        probe_run(dsp, n / 4);  /* warm up (and let the clock settle) */
        layer_run(dsp, &l[1], 1.0);
        for (int r = 0; r < RUNS; r++) {
            peak[r] = probe_run(dsp, n);
            for (int i = 0; i < 2; i++) {
                g[i][r] = layer_run(dsp, &l[i], 6.0);
                frac[i][r] = g[i][r] / peak[r];
            }
        }
        printf("   bench %-8s fma peak (probe)              %8.1f GFLOP/s  (1 thread, median of %d)\n", lvl,
               median(peak, RUNS), RUNS);
        for (int i = 0; i < 2; i++) {
            double gm = median(g[i], RUNS), fm = median(frac[i], RUNS);
            printf("   bench %-8s conv3x3 %3d->%-3d               %8.1f GFLOP/s  %5.1f%% of peak\n", lvl, l[i].c,
                   l[i].c, gm, 100.0 * fm);
        }
    }
    layer_free(&l[0]);
    layer_free(&l[1]);
}

void checkasm_check_conv(void)
{
    AieConvDSP dsp;
    aie_conv_dsp_init(&dsp, checkasm_cpu_flags());
    check_conv_fn(dsp.conv, "conv");
    if (checkasm_benchmarking())
        bench_conv(&dsp);
}
