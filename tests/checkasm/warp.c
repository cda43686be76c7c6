/*
 * checkasm for lib/dsp/warp: bicubic (8- and 16-bit) and bilinear sampling
 * against the C reference at random positions inside, near and outside the
 * plane (clamping), random sizes and strides, canaries around dst, inputs
 * compared after each call. The AVX2 versions use the reference's operation
 * order, so the results must be bit-identical; the stated tolerance for these
 * float kernels is 0 (any difference fails).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkasm.h"
#include "dsp/warp.h"

static float rand_pos(int n)
{
    switch (checkasm_rand() % 4) {
    case 0: return (float)checkasm_rand_range(-40, n + 40) + (float)(checkasm_rand() % 1000) / 1000.0f;
    case 1: return (float)checkasm_rand_range(0, 3) + (float)(checkasm_rand() % 1000) / 1000.0f;
    default: return (float)checkasm_rand_range(0, n > 1 ? n - 1 : 0) + (float)(checkasm_rand() % 1000) / 1000.0f;
    }
}

static void check_bicubic(const AieWarpDSP *d, int hbd)
{
    const char *name = hbd ? "warp_bicubic16" : "warp_bicubic8";
    void *fn = hbd ? (void *)d->bicubic16 : (void *)d->bicubic8;
    void *ref = checkasm_check_func(fn, name);
    if (!ref)
        return;
    for (int it = 0; it < 300; it++) {
        int w = checkasm_rand_range(1, 200), h = checkasm_rand_range(1, 60);
        int bps = hbd ? 2 : 1, depth = hbd ? (int[]){10, 12, 16}[checkasm_rand() % 3] : 8;
        ptrdiff_t stride = (ptrdiff_t)w * bps + bps * checkasm_rand_range(0, 40);
        size_t bytes = (size_t)stride * (size_t)h;
        uint8_t *src = malloc(bytes + 64), *copy = malloc(bytes + 64);
        int n = checkasm_rand_range(1, 300);
        float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
        size_t ob = sizeof(float) * (size_t)n;
        uint8_t *b0 = malloc(ob + 2 * CHECKASM_GUARD), *b1 = malloc(ob + 2 * CHECKASM_GUARD);
        if (!src || !copy || !x || !y || !b0 || !b1)
            abort();
        checkasm_randomize(src, bytes + 64);
        if (hbd)
            for (size_t k = 0; k < (bytes + 64) / 2; k++)
                ((uint16_t *)(void *)src)[k] &= (uint16_t)((1u << depth) - 1);
        memcpy(copy, src, bytes + 64);
        for (int i = 0; i < n; i++) {
            x[i] = rand_pos(w);
            y[i] = rand_pos(h);
        }
        checkasm_canary_fill(b0, ob + 2 * CHECKASM_GUARD);
        checkasm_canary_fill(b1, ob + 2 * CHECKASM_GUARD);
        float *d0 = (float *)(void *)(b0 + CHECKASM_GUARD), *d1 = (float *)(void *)(b1 + CHECKASM_GUARD);
        if (hbd) {
            ((AieWarpBicubic16Fn)ref)(d0, (const uint16_t *)(void *)src, stride, w, h, x, y, n);
            d->bicubic16(d1, (const uint16_t *)(void *)src, stride, w, h, x, y, n);
        } else {
            ((AieWarpBicubic8Fn)ref)(d0, src, stride, w, h, x, y, n);
            d->bicubic8(d1, src, stride, w, h, x, y, n);
        }
        for (int i = 0; i < n; i++)
            if (memcmp(&d0[i], &d1[i], sizeof(float))) {
                checkasm_fail("%dx%d n=%d: sample %d at (%g, %g): %.6f != %.6f", w, h, n, i,
                              (double)x[i], (double)y[i], (double)d1[i], (double)d0[i]);
                break;
            }
        if (!checkasm_canary_ok(b1, ob))
            checkasm_fail("%dx%d n=%d: wrote outside dst", w, h, n);
        if (memcmp(src, copy, bytes + 64))
            checkasm_fail("clobbered src");
        free(src);
        free(copy);
        free(x);
        free(y);
        free(b0);
        free(b1);
    }
    checkasm_report(name);
}

static void check_bilinear(const AieWarpDSP *d)
{
    void *ref = checkasm_check_func((void *)d->bilinear, "warp_bilinear");
    if (!ref)
        return;
    for (int it = 0; it < 300; it++) {
        int w = checkasm_rand_range(1, 200), h = checkasm_rand_range(1, 60);
        ptrdiff_t stride = w + checkasm_rand_range(0, 20);
        size_t cnt = (size_t)stride * (size_t)h;
        float *src = malloc(cnt * sizeof(float));
        int n = checkasm_rand_range(1, 300);
        float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
        size_t ob = sizeof(float) * (size_t)n;
        uint8_t *b0 = malloc(ob + 2 * CHECKASM_GUARD), *b1 = malloc(ob + 2 * CHECKASM_GUARD);
        if (!src || !x || !y || !b0 || !b1)
            abort();
        for (size_t k = 0; k < cnt; k++)
            src[k] = (float)(checkasm_rand() % 25600) / 100.0f;
        for (int i = 0; i < n; i++) {
            x[i] = rand_pos(w);
            y[i] = rand_pos(h);
        }
        checkasm_canary_fill(b0, ob + 2 * CHECKASM_GUARD);
        checkasm_canary_fill(b1, ob + 2 * CHECKASM_GUARD);
        float *d0 = (float *)(void *)(b0 + CHECKASM_GUARD), *d1 = (float *)(void *)(b1 + CHECKASM_GUARD);
        ((AieWarpBilinearFn)ref)(d0, src, stride, w, h, x, y, n);
        d->bilinear(d1, src, stride, w, h, x, y, n);
        if (memcmp(d0, d1, ob))
            checkasm_fail("%dx%d n=%d: differs from C", w, h, n);
        if (!checkasm_canary_ok(b1, ob))
            checkasm_fail("%dx%d n=%d: wrote outside dst", w, h, n);
        free(src);
        free(x);
        free(y);
        free(b0);
        free(b1);
    }
    checkasm_report("warp_bilinear");
}

static void bench(const AieWarpDSP *d)
{
    enum { W = 1280, H = 720, N = 1280 };
    static void *done[2];
    uint8_t *src = malloc((size_t)W * H);
    float x[N], y[N], out[N];
    if (!src)
        abort();
    checkasm_randomize(src, (size_t)W * H);
    for (int i = 0; i < N; i++) {
        x[i] = (float)i + 0.37f + (float)(i % 7);
        y[i] = 300.6f + (float)(i % 5);
    }
    if (done[0] != (void *)d->bicubic8) {
        done[0] = (void *)d->bicubic8;
        uint64_t best = UINT64_MAX;
        for (int r = 0; r < 20; r++) {
            uint64_t t0 = checkasm_ticks();
            d->bicubic8(out, src, W, W, H, x, y, N);
            uint64_t t = checkasm_ticks() - t0;
            best = t < best ? t : best;
        }
        checkasm_bench_report("warp_bicubic8", (double)best, N);
    }
    free(src);
}

void checkasm_check_warp(void)
{
    AieWarpDSP d;
    aie_warp_dsp_init(&d, checkasm_cpu_flags());
    check_bicubic(&d, 0);
    check_bicubic(&d, 1);
    check_bilinear(&d);
    if (checkasm_benchmarking())
        bench(&d);
}
