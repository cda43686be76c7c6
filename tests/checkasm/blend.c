/*
 * checkasm for lib/dsp/blend: the motion-compensated blend (float, same
 * operation order as C: bit-identical, tolerance 0) and the plain integer
 * blends (bit-exact), over random widths (1-7, odd, long), unaligned rows,
 * weights including 0 and the maximum, canaries around dst.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkasm.h"
#include "dsp/blend.h"

static int rand_n(void)
{
    switch (checkasm_rand() % 3) {
    case 0: return checkasm_rand_range(1, 7);
    case 1: return checkasm_rand_range(8, 100) | 1;
    default: return checkasm_rand_range(100, 3000);
    }
}

static float rand_unit(void) { return (float)(checkasm_rand() % 10001) / 10000.0f; }

static void check_mc(const AieBlendDSP *d, int hbd)
{
    const char *name = hbd ? "blend_mc16" : "blend_mc8";
    void *ref = checkasm_check_func(hbd ? (void *)d->mc16 : (void *)d->mc8, name);
    if (!ref)
        return;
    for (int it = 0; it < 300; it++) {
        int n = rand_n(), bps = hbd ? 2 : 1, off = checkasm_rand_range(0, 15);
        int depth = hbd ? (int[]){10, 12, 16}[checkasm_rand() % 3] : 8, maxv = (1 << depth) - 1;
        float *ca = malloc(sizeof(float) * (size_t)(n + 16)), *cb = malloc(sizeof(float) * (size_t)(n + 16));
        float *wa = malloc(sizeof(float) * (size_t)(n + 16)), *r = malloc(sizeof(float) * (size_t)(n + 16));
        uint8_t *pa = malloc((size_t)(n + 16) * 2), *pb = malloc((size_t)(n + 16) * 2);
        size_t ob = (size_t)n * (size_t)bps;
        uint8_t *b0 = malloc(ob + 2 * CHECKASM_GUARD), *b1 = malloc(ob + 2 * CHECKASM_GUARD);
        if (!ca || !cb || !wa || !r || !pa || !pb || !b0 || !b1)
            abort();
        for (int i = 0; i < n + 16; i++) {
            /* warped samples overshoot a little (bicubic) */
            ca[i] = rand_unit() * (float)maxv * 1.1f - 0.05f * (float)maxv;
            cb[i] = rand_unit() * (float)maxv * 1.1f - 0.05f * (float)maxv;
            wa[i] = checkasm_rand() % 8 ? rand_unit() : (float)(checkasm_rand() % 2);
            r[i] = checkasm_rand() % 8 ? rand_unit() : (float)(checkasm_rand() % 2);
        }
        checkasm_randomize(pa, (size_t)(n + 16) * 2);
        checkasm_randomize(pb, (size_t)(n + 16) * 2);
        if (hbd)
            for (int i = 0; i < n + 16; i++) {
                ((uint16_t *)(void *)pa)[i] &= (uint16_t)maxv;
                ((uint16_t *)(void *)pb)[i] &= (uint16_t)maxv;
            }
        float t = rand_unit();
        checkasm_canary_fill(b0, ob + 2 * CHECKASM_GUARD);
        checkasm_canary_fill(b1, ob + 2 * CHECKASM_GUARD);
        uint8_t *d0 = b0 + CHECKASM_GUARD, *d1 = b1 + CHECKASM_GUARD;
        if (hbd) {
            const uint16_t *a16 = (const uint16_t *)(void *)pa + off, *b16 = (const uint16_t *)(void *)pb + off;
            ((AieBlendMc16Fn)ref)((uint16_t *)(void *)d0, ca + off, cb + off, wa + off, r + off, a16, b16, t, maxv, n);
            d->mc16((uint16_t *)(void *)d1, ca + off, cb + off, wa + off, r + off, a16, b16, t, maxv, n);
        } else {
            ((AieBlendMc8Fn)ref)(d0, ca + off, cb + off, wa + off, r + off, pa + off, pb + off, t, n);
            d->mc8(d1, ca + off, cb + off, wa + off, r + off, pa + off, pb + off, t, n);
        }
        if (memcmp(d0, d1, ob))
            checkasm_fail("n=%d depth=%d: differs from C", n, depth);
        if (!checkasm_canary_ok(b1, ob))
            checkasm_fail("n=%d: wrote outside dst", n);
        free(ca);
        free(cb);
        free(wa);
        free(r);
        free(pa);
        free(pb);
        free(b0);
        free(b1);
    }
    checkasm_report(name);
}

static void check_mix(const AieBlendDSP *d, int hbd)
{
    const char *name = hbd ? "blend_mix16" : "blend_mix8";
    void *ref = checkasm_check_func(hbd ? (void *)d->mix16 : (void *)d->mix8, name);
    if (!ref)
        return;
    for (int it = 0; it < 300; it++) {
        int n = rand_n(), bps = hbd ? 2 : 1, off = checkasm_rand_range(0, 15);
        int wmax = hbd ? 32768 : 256;
        int wt = checkasm_rand() % 5 == 0 ? (int)(checkasm_rand() % 2) * wmax : checkasm_rand_range(0, wmax);
        uint8_t *pa = malloc((size_t)(n + 16) * 2), *pb = malloc((size_t)(n + 16) * 2);
        size_t ob = (size_t)n * (size_t)bps;
        uint8_t *b0 = malloc(ob + 2 * CHECKASM_GUARD), *b1 = malloc(ob + 2 * CHECKASM_GUARD);
        if (!pa || !pb || !b0 || !b1)
            abort();
        checkasm_randomize(pa, (size_t)(n + 16) * 2);
        checkasm_randomize(pb, (size_t)(n + 16) * 2);
        if (it % 10 == 0) {
            memset(pa, 0xff, (size_t)(n + 16) * 2);
            memset(pb, 0xff, (size_t)(n + 16) * 2);
        }
        checkasm_canary_fill(b0, ob + 2 * CHECKASM_GUARD);
        checkasm_canary_fill(b1, ob + 2 * CHECKASM_GUARD);
        uint8_t *d0 = b0 + CHECKASM_GUARD, *d1 = b1 + CHECKASM_GUARD;
        if (hbd) {
            const uint16_t *a16 = (const uint16_t *)(void *)pa + off, *b16 = (const uint16_t *)(void *)pb + off;
            ((AieBlendMix16Fn)ref)((uint16_t *)(void *)d0, a16, b16, wt, n);
            d->mix16((uint16_t *)(void *)d1, a16, b16, wt, n);
        } else {
            ((AieBlendMix8Fn)ref)(d0, pa + off, pb + off, wt, n);
            d->mix8(d1, pa + off, pb + off, wt, n);
        }
        if (memcmp(d0, d1, ob))
            checkasm_fail("n=%d wt=%d: differs from C", n, wt);
        if (!checkasm_canary_ok(b1, ob))
            checkasm_fail("n=%d: wrote outside dst", n);
        free(pa);
        free(pb);
        free(b0);
        free(b1);
    }
    checkasm_report(name);
}

static void bench(const AieBlendDSP *d)
{
    enum { N = 1280 };
    static void *done;
    if (done == (void *)d->mc8)
        return;
    done = (void *)d->mc8;
    static float ca[N], cb[N], wa[N], r[N];
    static uint8_t pa[N], pb[N], o[N];
    for (int i = 0; i < N; i++) {
        ca[i] = (float)(i % 251);
        cb[i] = (float)(i % 241);
        wa[i] = rand_unit();
        r[i] = rand_unit();
        pa[i] = (uint8_t)(i * 7);
        pb[i] = (uint8_t)(i * 11);
    }
    uint64_t best = UINT64_MAX;
    for (int k = 0; k < 20; k++) {
        uint64_t t0 = checkasm_ticks();
        d->mc8(o, ca, cb, wa, r, pa, pb, 0.5f, N);
        uint64_t t = checkasm_ticks() - t0;
        best = t < best ? t : best;
    }
    checkasm_bench_report("blend_mc8", (double)best, N);
}

void checkasm_check_blend(void)
{
    AieBlendDSP d;
    aie_blend_dsp_init(&d, checkasm_cpu_flags());
    check_mc(&d, 0);
    check_mc(&d, 1);
    check_mix(&d, 0);
    check_mix(&d, 1);
    if (checkasm_benchmarking())
        bench(&d);
}
