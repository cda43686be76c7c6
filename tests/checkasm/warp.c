/*
 * checkasm for lib/dsp/warp: bicubic (8- and 16-bit) and bilinear sampling
 * against the C reference at random positions inside, near and outside the
 * plane (clamping) and along rows of smooth motion (the SIMD fast paths),
 * random sizes and strides, canaries around dst, inputs compared after each
 * call; the flow at t on smooth and noisy fields (both branches of the
 * candidates' arbitration, extrapolation) and the per-pixel coordinates (grid
 * coarser and finer than the plane). The SIMD versions use the reference's
 * operation order, so the results must be bit-identical; the stated tolerance
 * for these float kernels is 0 (any difference fails).
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
        if (it & 1) {
            /* smooth motion (the kernels' common case): a row of positions
             * with a slowly varying displacement, sometimes near the edges */
            float x0 = rand_pos(w), y0 = rand_pos(h);
            float sx = 1.0f + (float)((int)(checkasm_rand() % 200) - 100) / 1000.0f;
            float sy = (float)((int)(checkasm_rand() % 200) - 100) / 2000.0f;
            for (int i = 0; i < n; i++) {
                x[i] = x0 + sx * (float)i;
                y[i] = y0 + sy * (float)i;
            }
        } else {
            for (int i = 0; i < n; i++) {
                x[i] = rand_pos(w);
                y[i] = rand_pos(h);
            }
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

static float *rand_floats(size_t n, float lo, float hi)
{
    float *f = malloc(n * sizeof(float));
    if (!f)
        abort();
    for (size_t k = 0; k < n; k++)
        f[k] = lo + (hi - lo) * (float)(checkasm_rand() % 100000) / 100000.0f;
    return f;
}

static void check_flow_t(const AieWarpDSP *d)
{
    void *ref = checkasm_check_func((void *)d->flow_t, "flow_t");
    if (!ref)
        return;
    for (int it = 0; it < 200; it++) {
        int fw = checkasm_rand_range(1, 90), fh = checkasm_rand_range(1, 30);
        ptrdiff_t fs = fw + checkasm_rand_range(0, 9), ls = fw + checkasm_rand_range(0, 9);
        /* smooth fields mostly (the candidates agree), noisy ones sometimes */
        float amp = it % 3 ? 6.0f : 30.0f;
        size_t nf = (size_t)fs * (size_t)fh, nl = (size_t)ls * (size_t)fh;
        float *f[4], *la = rand_floats(nl, 0, 255), *lb = rand_floats(nl, 0, 255);
        for (int k = 0; k < 4; k++) {
            f[k] = rand_floats(nf, -amp, amp);
            if (it % 3)
                for (size_t q = 1; q < nf; q++)
                    f[k][q] = 0.8f * f[k][q - 1] + 0.2f * f[k][q];
            if (it % 5 == 4) /* still: exact zeros (signs of zero must match too) */
                memset(f[k], 0, nf * sizeof(float));
        }
        AieFlowTArgs a = {.fu = f[0], .fv = f[1], .gu = f[2], .gv = f[3], .fstride = fs, .fw = fw,
                          .fh = fh, .la = la, .lb = lb, .lstride = ls,
                          .t = (float)checkasm_rand_range(1, 99) / 100.0f, .is = 0.25f,
                          .tau2 = 8.0f, .rel_lo = 0.15f, .iters = checkasm_rand_range(1, 3),
                          .extrapolate = it % 7 == 0};
        if (a.extrapolate)
            a.t += 1.0f;
        int y = checkasm_rand_range(0, fh - 1);
        size_t ob = sizeof(float) * (size_t)fw;
        uint8_t *o0[4], *o1[4];
        float *p0[4], *p1[4];
        for (int k = 0; k < 4; k++) {
            o0[k] = malloc(ob + 2 * CHECKASM_GUARD);
            o1[k] = malloc(ob + 2 * CHECKASM_GUARD);
            if (!o0[k] || !o1[k])
                abort();
            checkasm_canary_fill(o0[k], ob + 2 * CHECKASM_GUARD);
            checkasm_canary_fill(o1[k], ob + 2 * CHECKASM_GUARD);
            p0[k] = (float *)(void *)(o0[k] + CHECKASM_GUARD);
            p1[k] = (float *)(void *)(o1[k] + CHECKASM_GUARD);
        }
        ((AieFlowTFn)ref)(p0[0], p0[1], p0[2], p0[3], &a, y);
        d->flow_t(p1[0], p1[1], p1[2], p1[3], &a, y);
        for (int k = 0; k < 4; k++) {
            if (memcmp(p0[k], p1[k], ob))
                checkasm_fail("%dx%d y=%d t=%g: output %d differs from C", fw, fh, y, (double)a.t, k);
            if (!checkasm_canary_ok(o1[k], ob))
                checkasm_fail("%dx%d: wrote outside output %d", fw, fh, k);
            free(o0[k]);
            free(o1[k]);
        }
        for (int k = 0; k < 4; k++)
            free(f[k]);
        free(la);
        free(lb);
    }
    checkasm_report("flow_t");
}

static void check_coords(const AieWarpDSP *d)
{
    void *ref = checkasm_check_func((void *)d->coords, "warp_coords");
    if (!ref)
        return;
    for (int it = 0; it < 200; it++) {
        int n = checkasm_rand_range(1, 300), step = checkasm_rand_range(0, 3); /* 0: grid finer */
        int *xi = malloc(sizeof(int) * (size_t)n);
        float *xw = malloc(sizeof(float) * (size_t)n);
        if (!xi || !xw)
            abort();
        int gn = 0;
        for (int i = 0; i < n; i++) {
            xi[i] = step ? i / (1 << (step - 1)) : 2 * i;
            xw[i] = (float)(checkasm_rand() % 1000) / 1000.0f;
            gn = xi[i] + 17 > gn ? xi[i] + 17 : gn; /* the kernel's reads, see warp.h */
        }
        float *g[4];
        for (int k = 0; k < 4; k++)
            g[k] = rand_floats((size_t)gn, -20, 20);
        float *o0 = malloc(sizeof(float) * 6 * (size_t)n), *o1 = malloc(sizeof(float) * 6 * (size_t)n);
        if (!o0 || !o1)
            abort();
        float t = (float)checkasm_rand_range(1, 99) / 100.0f, y = (float)checkasm_rand_range(0, 500);
        int x0 = checkasm_rand_range(0, 1000);
        const float *const gg[4] = {g[0], g[1], g[2], g[3]};
        float *o[2] = {o0, o1};
        for (int k = 0; k < 2; k++)
            (k ? d->coords : (AieWarpCoordsFn)ref)(o[k], o[k] + n, o[k] + 2 * n, o[k] + 3 * n, o[k] + 4 * n,
                                                  o[k] + 5 * n, gg, xi, xw, x0, y, 2.0f, 0.5f, t, n);
        if (memcmp(o0, o1, sizeof(float) * 6 * (size_t)n))
            checkasm_fail("n=%d step %d: differs from C", n, step);
        for (int k = 0; k < 4; k++)
            free(g[k]);
        free(xi);
        free(xw);
        free(o0);
        free(o1);
    }
    checkasm_report("warp_coords");
}

static void check_lerp(const AieWarpDSP *d)
{
    void *ref = checkasm_check_func((void *)d->lerp, "warp_lerp");
    if (!ref)
        return;
    for (int it = 0; it < 200; it++) {
        int n = checkasm_rand_range(1, 300);
        float *r0 = rand_floats((size_t)n, -50, 50), *r1 = rand_floats((size_t)n, -50, 50);
        size_t ob = sizeof(float) * (size_t)n;
        uint8_t *b0 = malloc(ob + 2 * CHECKASM_GUARD), *b1 = malloc(ob + 2 * CHECKASM_GUARD);
        if (!b0 || !b1)
            abort();
        checkasm_canary_fill(b0, ob + 2 * CHECKASM_GUARD);
        checkasm_canary_fill(b1, ob + 2 * CHECKASM_GUARD);
        float *d0 = (float *)(void *)(b0 + CHECKASM_GUARD), *d1 = (float *)(void *)(b1 + CHECKASM_GUARD);
        float f = (float)(checkasm_rand() % 1000) / 1000.0f;
        ((AieLerpFn)ref)(d0, r0, r1, f, n);
        d->lerp(d1, r0, r1, f, n);
        if (memcmp(d0, d1, ob))
            checkasm_fail("n=%d: differs from C", n);
        if (!checkasm_canary_ok(b1, ob))
            checkasm_fail("n=%d: wrote outside dst", n);
        free(r0);
        free(r1);
        free(b0);
        free(b1);
    }
    checkasm_report("warp_lerp");
}

static void bench(const AieWarpDSP *d)
{
    enum { W = 1280, H = 720, N = 1280 };
    static void *done[3];
    uint8_t *src = malloc((size_t)W * H);
    float x[N], y[N], out[N];
    if (!src)
        abort();
    checkasm_randomize(src, (size_t)W * H);
    /* smooth motion, as in real use: a displacement that drifts slowly */
    for (int i = 0; i < N; i++) {
        x[i] = (float)i * 0.99f + 3.37f;
        y[i] = 300.6f + (float)i * 0.004f;
    }
    if (done[1] != (void *)d->flow_t) {
        /* the flow at t on a smooth 320 x 180 field, one row */
        enum { FW = 320, FH = 180 };
        done[1] = (void *)d->flow_t;
        float *f = malloc(sizeof(float) * FW * FH * 6), o[4][FW];
        if (!f)
            abort();
        for (int k = 0; k < FW * FH * 6; k++)
            f[k] = k >= FW * FH * 4 ? (float)(k % 251) : 3.0f + 0.001f * (float)(k % 997);
        AieFlowTArgs a = {.fu = f, .fv = f + FW * FH, .gu = f + 2 * FW * FH, .gv = f + 3 * FW * FH,
                          .fstride = FW, .fw = FW, .fh = FH, .la = f + 4 * FW * FH, .lb = f + 5 * FW * FH,
                          .lstride = FW, .t = 0.5f, .is = 0.25f, .tau2 = 8.0f, .rel_lo = 0.15f, .iters = 2};
        uint64_t best = UINT64_MAX;
        for (int r = 0; r < 20; r++) {
            uint64_t t0 = checkasm_ticks();
            d->flow_t(o[0], o[1], o[2], o[3], &a, 90);
            uint64_t t = checkasm_ticks() - t0;
            best = t < best ? t : best;
        }
        checkasm_bench_report("flow_t", (double)best, FW);
        free(f);
    }
    if (done[2] != (void *)d->coords) {
        /* one luma row of 1280 from a grid 4 times coarser */
        enum { N2 = 1280 };
        done[2] = (void *)d->coords;
        static int xi[N2];
        static float xw[N2], g[4][N2 / 4 + 32], o[6][N2];
        for (int i = 0; i < N2; i++) {
            float gx = ((float)i + 0.5f) / 4.0f - 0.5f;
            gx = gx < 0 ? 0 : gx;
            xi[i] = (int)gx;
            xw[i] = gx - (float)xi[i];
        }
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < N2 / 4 + 32; i++)
                g[k][i] = (float)((i * 7 + k) % 13);
        const float *const gg[4] = {g[0], g[1], g[2], g[3]};
        uint64_t best = UINT64_MAX;
        for (int r = 0; r < 20; r++) {
            uint64_t t0 = checkasm_ticks();
            d->coords(o[0], o[1], o[2], o[3], o[4], o[5], gg, xi, xw, 0, 100.0f, 4.0f, 4.0f, 0.5f, N2);
            uint64_t t = checkasm_ticks() - t0;
            best = t < best ? t : best;
        }
        checkasm_bench_report("warp_coords", (double)best, N2);
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
    check_flow_t(&d);
    check_coords(&d);
    check_lerp(&d);
    if (checkasm_benchmarking())
        bench(&d);
}
