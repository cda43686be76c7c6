/*
 * checkasm for lib/dsp/nntrain: the weight-gradient kernel of every ISA
 * against the C reference over random shapes (1..40 input channels of 4, 8
 * or 16 lanes per block, 1..3 output blocks, 1x1 and 3x3 kernels, windows
 * 1..30 wide and 1..6 high, strides larger than the window), accumulating
 * into a gradient that already holds values, with canaries around it and
 * the inputs compared after each call.
 *
 * Tolerance (float sums in a different order and with FMA):
 * |simd - c| <= 2e-5 * (|initial| + sum of |terms|) + 1e-30 per entry.
 *
 * The activation kernels: the forward result and the backward gradient
 * bit for bit (one multiply each), the bias and slope sums within 1e-5 of
 * the sum of |terms| (AVX2 keeps them in a different order of additions).
 *
 * --bench: GFLOP/s of the kernel on the default network's hidden layer
 * (32 -> 32 channels, 3x3, a 48x48 patch), one thread, and the fraction of
 * the FMA peak measured by the conv module's probe at the same level; then
 * whole training steps of c32x8 (48x48 patches, batch 16, one thread):
 * patches per second and the convolution FLOPs of forward + backward
 * (2 x (forward + weight-gradient + input-gradient multiply-adds)) as a
 * fraction of that peak.
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
#include "dsp/nntrain.h"
#include "aie/nn_train.h"

#define ITERS 150
#define B AIE_CONV_BLOCK

#define frand checkasm_frand
#define alloc_floats checkasm_floats

static void check_wgrad(AieWgradFn fn)
{
    AieWgradFn ref = (AieWgradFn)checkasm_check_func((void *)fn, "wgrad");
    if (!ref)
        return;
    for (int it = 0; it < ITERS; it++) {
        const int cin = checkasm_rand_range(1, 40), ob = checkasm_rand_range(1, 3);
        const int k = checkasm_rand() % 3 ? 3 : 1;
        const int w = checkasm_rand_range(1, 30), h = checkasm_rand_range(1, 6);
        const int L = (int[]){4, 8, 16, 16}[checkasm_rand() % 4], ib = (cin + L - 1) / L;
        const ptrdiff_t srow = (ptrdiff_t)(w + k - 1 + checkasm_rand_range(0, 3)) * L;
        const ptrdiff_t splane = srow * (h + k - 1) + L * checkasm_rand_range(0, 2);
        const ptrdiff_t grow = (ptrdiff_t)(w + checkasm_rand_range(0, 3)) * B;
        const ptrdiff_t gplane = grow * h + B * checkasm_rand_range(0, 2);
        const size_t sn = (size_t)(splane * ib), gn = (size_t)(gplane * ob);
        const size_t wn = (size_t)ob * cin * k * k * B, g = CHECKASM_GUARD;
        float *src = alloc_floats(sn), *gz = alloc_floats(gn), *scopy = alloc_floats(sn), *gcopy = alloc_floats(gn);
        float *w0 = alloc_floats(wn + 2 * g), *w1 = alloc_floats(wn + 2 * g), *init = alloc_floats(wn);
        for (size_t i = 0; i < sn; i++)
            src[i] = frand();
        for (size_t i = 0; i < gn; i++)
            gz[i] = frand();
        memcpy(scopy, src, sizeof(float) * sn);
        memcpy(gcopy, gz, sizeof(float) * gn);
        memset(w0, CHECKASM_CANARY, sizeof(float) * (wn + 2 * g));
        memset(w1, CHECKASM_CANARY, sizeof(float) * (wn + 2 * g));
        for (size_t i = 0; i < wn; i++)
            init[i] = w0[g + i] = w1[g + i] = frand();
        AieWgradArgs a = {.cin = cin, .cout_blocks = ob, .k = k, .w = w, .h = h, .gz_row = grow, .gz_plane = gplane,
                          .src_row = srow, .src_plane = splane, .src_lanes = L};
        ref(w0 + g, gz, src, &a);
        fn(w1 + g, gz, src, &a);
        for (int o = 0; o < ob * B; o++)
            for (int i = 0; i < cin; i++)
                for (int t = 0; t < k * k; t++) {
                    const size_t at = (((size_t)(o / B) * cin + i) * k * k + t) * B + o % B;
                    double mag = fabs(init[at]);
                    for (int y = 0; y < h; y++)
                        for (int x = 0; x < w; x++)
                            mag += fabs((double)gz[(o / B) * gplane + y * grow + x * B + o % B] *
                                        src[(i / L) * splane + (y + t / k) * srow + (x + t % k) * L + i % L]);
                    if (!(fabs((double)w0[g + at] - (double)w1[g + at]) <= 2e-5 * mag + 1e-30))
                        checkasm_fail("cin=%d (%d lanes) blocks=%d k=%d %dx%d: o=%d i=%d tap %d: %.9g vs c %.9g", cin,
                                      L, ob, k, w, h, o, i, t, w1[g + at], w0[g + at]);
                }
        const uint8_t *c0 = (const uint8_t *)w0, *c1 = (const uint8_t *)w1;
        for (size_t i = 0; i < 4 * g; i++)
            if (c0[i] != CHECKASM_CANARY || c1[i] != CHECKASM_CANARY ||
                c0[4 * (g + wn) + i] != CHECKASM_CANARY || c1[4 * (g + wn) + i] != CHECKASM_CANARY)
                checkasm_fail("cin=%d blocks=%d k=%d %dx%d: wrote outside gw", cin, ob, k, w, h);
        if (memcmp(src, scopy, sizeof(float) * sn) || memcmp(gz, gcopy, sizeof(float) * gn))
            checkasm_fail("clobbered an input");
        free(src);
        free(gz);
        free(scopy);
        free(gcopy);
        free(w0);
        free(w1);
        free(init);
    }
    checkasm_report("wgrad");
}

/* The activations: forward bit-exact (one multiply), backward gradient
 * bit-exact and the sums within 1e-5 of the sum of |terms|. */
static void check_act(const AieNnTrainDSP *dsp)
{
    AieActFwdFn rf = (AieActFwdFn)checkasm_check_func((void *)dsp->act_fwd, "act_fwd");
    AieActBwdFn rb = (AieActBwdFn)checkasm_check_func((void *)dsp->act_bwd, "act_bwd");
    for (int it = 0; it < ITERS; it++) {
        const int n = checkasm_rand_range(1, 70);
        const size_t m = (size_t)n * B, g = CHECKASM_GUARD;
        float *z = alloc_floats(m), *zc = alloc_floats(m), *g0 = alloc_floats(m + 2 * g), *g1 = alloc_floats(m + 2 * g);
        float sl[B], ab0[B], ab1[B], as0[B], as1[B], mb[B] = {0}, ms[B] = {0};
        for (int q = 0; q < B; q++) {
            sl[q] = (float[]){0.0f, 0.1f, 1.0f, 0.25f}[checkasm_rand() % 4] * (checkasm_rand() % 2 ? 1.0f : frand());
            ab0[q] = ab1[q] = frand();
            as0[q] = as1[q] = frand();
        }
        for (size_t i = 0; i < m; i++)
            z[i] = checkasm_rand() % 17 ? frand() : 0.0f;
        memcpy(zc, z, sizeof(float) * m);
        memset(g0, CHECKASM_CANARY, sizeof(float) * (m + 2 * g));
        memset(g1, CHECKASM_CANARY, sizeof(float) * (m + 2 * g));
        if (rf) {
            rf(g0 + g, z, sl, n);
            dsp->act_fwd(g1 + g, z, sl, n);
            if (memcmp(g0, g1, sizeof(float) * (m + 2 * g)))
                checkasm_fail("act_fwd: %d pixels differ (or wrote outside)", n);
        }
        if (rb) {
            for (size_t i = 0; i < m; i++)
                g0[g + i] = g1[g + i] = frand();
            for (size_t i = 0; i < m; i++) {
                mb[i % B] += fabsf(g0[g + i]);
                ms[i % B] += fabsf(g0[g + i] * z[i]);
            }
            rb(g0 + g, z, sl, ab0, as0, n);
            dsp->act_bwd(g1 + g, z, sl, ab1, as1, n);
            if (memcmp(g0, g1, sizeof(float) * (m + 2 * g)))
                checkasm_fail("act_bwd: %d pixels: gradient differs (or wrote outside)", n);
            for (int q = 0; q < B; q++)
                if (!(fabsf(ab0[q] - ab1[q]) <= 1e-5f * (mb[q] * fmaxf(1.0f, fabsf(sl[q])) + 1.0f)) ||
                    !(fabsf(as0[q] - as1[q]) <= 1e-5f * (ms[q] + 1.0f)))
                    checkasm_fail("act_bwd: %d pixels: lane %d sums %.9g %.9g vs c %.9g %.9g", n, q, ab1[q], as1[q],
                                  ab0[q], as0[q]);
        }
        if (memcmp(z, zc, sizeof(float) * m))
            checkasm_fail("clobbered z");
        free(z);
        free(zc);
        free(g0);
        free(g1);
    }
    if (rf)
        checkasm_report("act_fwd");
    if (rb)
        checkasm_report("act_bwd");
}

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

static void bench_wgrad(const AieNnTrainDSP *dsp)
{
    static void *benched;
    if ((void *)dsp->wgrad == benched)
        return;
    benched = (void *)dsp->wgrad;
    const char *lvl = aie_cpu_name(checkasm_cpu_flags());
    enum { C = 32, P = 48, RUNS = 9 };
    const ptrdiff_t row = (ptrdiff_t)(P + 2) * B, plane = row * (P + 2);
    float *src = alloc_floats((size_t)plane * 2), *gz = alloc_floats((size_t)plane * 2);
    float *gw = alloc_floats(aie_conv_packed_size(C, C, 3, 3));
    for (ptrdiff_t i = 0; i < plane * 2; i++) {
        src[i] = frand();
        gz[i] = frand();
    }
    memset(gw, 0, sizeof(float) * aie_conv_packed_size(C, C, 3, 3));
    AieWgradArgs a = {.cin = C, .cout_blocks = C / B, .k = 3, .w = P, .h = P, .gz_row = row, .gz_plane = plane,
                      .src_row = row, .src_plane = plane, .src_lanes = B};
    const double flops = 2.0 * C * C * 9 * P * P;
    AieConvDSP cd;
    aie_conv_dsp_init(&cd, checkasm_cpu_flags());
    double g[RUNS], frac[RUNS];
    const int calls = cd.fma_probe ? 40 : 3;
    for (int r = 0; r < RUNS; r++) {
        double peak = 0;
        if (cd.fma_probe) {
            static volatile float sink;
            double t0 = cpu_s();
            sink += cd.fma_probe(2000000);
            peak = (double)cd.fma_flops * 2000000.0 / (cpu_s() - t0) * 1e-9;
        }
        double t0 = cpu_s();
        for (int i = 0; i < calls; i++)
            dsp->wgrad(gw, gz + row + B, src, &a);
        g[r] = flops * calls / (cpu_s() - t0) * 1e-9;
        frac[r] = peak > 0 ? g[r] / peak : 0;
    }
    qsort(g, RUNS, sizeof(double), cmp_double);
    qsort(frac, RUNS, sizeof(double), cmp_double);
    printf("   bench %-8s wgrad 3x3 32->32 48x48          %8.1f GFLOP/s", lvl, g[RUNS / 2]);
    if (cd.fma_probe)
        printf("  %5.1f%% of peak", 100.0 * frac[RUNS / 2]);
    printf("\n");
    free(src);
    free(gz);
    free(gw);
}

static void bench_step(void)
{
    static unsigned benched = ~0u;
    if (checkasm_cpu_flags() == benched)
        return;
    benched = checkasm_cpu_flags();
    const char *lvl = aie_cpu_name(checkasm_cpu_flags());
    AieNntParams p = {.patch = 48, .batch = 16, .loss = AIE_NNT_L2, .seed = 1, .cpu_flags = checkasm_cpu_flags(),
                      .threads = 1};
    if (aie_nnt_arch_parse(&p.arch, "c32x8", 2))
        return;
    AieNnTrainer *t = NULL;
    char err[256];
    if (aie_nnt_create(&t, &p, err, sizeof(err)))
        return;
    const int lw = 256, lh = 256;
    uint8_t *lr = malloc(3 * lw * lh), *hr = malloc(12 * lw * lh);
    if (!lr || !hr)
        abort();
    for (int i = 0; i < 3 * lw * lh; i++)
        lr[i] = (uint8_t)(checkasm_rand() & 255);
    for (int i = 0; i < 12 * lw * lh; i++)
        hr[i] = (uint8_t)(checkasm_rand() & 255);
    aie_nnt_add_pair(t, lr, lw, lh, hr, 0);
    /* multiply-adds per patch: forward, weight gradient, input gradient (not of the first layer) */
    double fwd = 0, first = 0;
    for (int j = 0; j < p.arch.n; j++) {
        const int cin = j ? p.arch.l[j - 1].cout : 3;
        const double m = (double)cin * p.arch.l[j].cout * 9 * 48 * 48;
        fwd += m;
        if (!j)
            first = m;
    }
    const double flops = 2.0 * (fwd + fwd + fwd - first);
    AieConvDSP cd;
    aie_conv_dsp_init(&cd, checkasm_cpu_flags());
    double loss, peak = 0;
    aie_nnt_step(t, NULL, &loss); /* warm up */
    enum { STEPS = 6 };
    double t0 = cpu_s();
    for (int i = 0; i < STEPS; i++)
        aie_nnt_step(t, NULL, &loss);
    const double sec = cpu_s() - t0, rate = STEPS * 16 / sec;
    if (cd.fma_probe) {
        static volatile float sink;
        double t1 = cpu_s();
        sink += cd.fma_probe(4000000);
        peak = (double)cd.fma_flops * 4000000.0 / (cpu_s() - t1) * 1e-9;
    }
    printf("   bench %-8s train step c32x8 48x48 x16       %8.1f patches/s  %6.1f GFLOP/s", lvl, rate,
           rate * flops * 1e-9);
    if (peak > 0)
        printf("  %5.1f%% of peak (%.1f GFLOP/s)", 100.0 * rate * flops * 1e-9 / peak, peak);
    printf("\n");
    free(lr);
    free(hr);
    aie_nnt_free(&t);
}

void checkasm_check_nntrain(void)
{
    AieNnTrainDSP dsp;
    aie_nntrain_dsp_init(&dsp, checkasm_cpu_flags());
    check_wgrad(dsp.wgrad);
    check_act(&dsp);
    if (checkasm_benchmarking()) {
        bench_wgrad(&dsp);
        bench_step();
    }
}
