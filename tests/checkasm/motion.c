/*
 * checkasm for lib/dsp/motion: float conversion and the pyramid downsample
 * (same operation order as C: bit-identical, tolerance 0), and the DIS patch
 * sums (vector lanes add in another order and use FMA: each of the four sums
 * must be within 1e-4 relative of C's, measured against the sum of the
 * magnitudes of its terms).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkasm.h"
#include "dsp/motion.h"

static int rand_n(void)
{
    switch (checkasm_rand() % 3) {
    case 0: return checkasm_rand_range(1, 7);
    case 1: return checkasm_rand_range(8, 100) | 1;
    default: return checkasm_rand_range(100, 2000);
    }
}

static void check_tofloat(const AieMotionDSP *d, int hbd)
{
    const char *name = hbd ? "tofloat16" : "tofloat8";
    void *ref = checkasm_check_func(hbd ? (void *)d->tofloat16 : (void *)d->tofloat8, name);
    if (!ref)
        return;
    for (int it = 0; it < 200; it++) {
        int n = rand_n(), off = checkasm_rand_range(0, 15);
        uint8_t *src = malloc((size_t)(n + 16) * 2);
        size_t ob = sizeof(float) * (size_t)n;
        uint8_t *b0 = malloc(ob + 2 * CHECKASM_GUARD), *b1 = malloc(ob + 2 * CHECKASM_GUARD);
        if (!src || !b0 || !b1)
            abort();
        checkasm_randomize(src, (size_t)(n + 16) * 2);
        float scale = hbd ? 255.0f / 1023.0f : 1.0f;
        checkasm_canary_fill(b0, ob + 2 * CHECKASM_GUARD);
        checkasm_canary_fill(b1, ob + 2 * CHECKASM_GUARD);
        float *d0 = (float *)(void *)(b0 + CHECKASM_GUARD), *d1 = (float *)(void *)(b1 + CHECKASM_GUARD);
        if (hbd) {
            ((AieToFloat16Fn)ref)(d0, (const uint16_t *)(void *)src + off, scale, n);
            d->tofloat16(d1, (const uint16_t *)(void *)src + off, scale, n);
        } else {
            ((AieToFloat8Fn)ref)(d0, src + off, scale, n);
            d->tofloat8(d1, src + off, scale, n);
        }
        if (memcmp(d0, d1, ob))
            checkasm_fail("n=%d: differs from C", n);
        if (!checkasm_canary_ok(b1, ob))
            checkasm_fail("n=%d: wrote outside dst", n);
        free(src);
        free(b0);
        free(b1);
    }
    checkasm_report(name);
}

static void check_down2(const AieMotionDSP *d)
{
    void *ref = checkasm_check_func((void *)d->down2, "down2");
    if (!ref)
        return;
    for (int it = 0; it < 200; it++) {
        int w = rand_n();
        ptrdiff_t stride = 2 * w + 4 + checkasm_rand_range(0, 20);
        float *buf = malloc(sizeof(float) * (size_t)stride * 5), *copy = malloc(sizeof(float) * (size_t)stride * 5);
        size_t ob = sizeof(float) * (size_t)w;
        uint8_t *b0 = malloc(ob + 2 * CHECKASM_GUARD), *b1 = malloc(ob + 2 * CHECKASM_GUARD);
        if (!buf || !copy || !b0 || !b1)
            abort();
        for (ptrdiff_t k = 0; k < stride * 5; k++)
            buf[k] = (float)(checkasm_rand() % 25600) / 100.0f;
        memcpy(copy, buf, sizeof(float) * (size_t)stride * 5);
        const float *src = buf + stride + 1; /* row 2y = 1, column 0 = 1: one sample of padding */
        checkasm_canary_fill(b0, ob + 2 * CHECKASM_GUARD);
        checkasm_canary_fill(b1, ob + 2 * CHECKASM_GUARD);
        float *d0 = (float *)(void *)(b0 + CHECKASM_GUARD), *d1 = (float *)(void *)(b1 + CHECKASM_GUARD);
        ((AieDown2Fn)ref)(d0, src, stride, w);
        d->down2(d1, src, stride, w);
        if (memcmp(d0, d1, ob))
            checkasm_fail("w=%d: differs from C", w);
        if (!checkasm_canary_ok(b1, ob))
            checkasm_fail("w=%d: wrote outside dst", w);
        if (memcmp(buf, copy, sizeof(float) * (size_t)stride * 5))
            checkasm_fail("clobbered src");
        free(buf);
        free(copy);
        free(b0);
        free(b1);
    }
    checkasm_report("down2");
}

static void check_dis_sums(const AieMotionDSP *d)
{
    void *ref = checkasm_check_func((void *)d->dis_sums, "dis_sums");
    if (!ref)
        return;
    enum { P = AIE_DIS_PATCH };
    for (int it = 0; it < 500; it++) {
        ptrdiff_t stride = P + 1 + checkasm_rand_range(0, 40);
        float *i1 = malloc(sizeof(float) * (size_t)stride * (P + 1));
        float t[P * P], gx[P * P], gy[P * P], o0[4], o1[4];
        if (!i1)
            abort();
        for (ptrdiff_t k = 0; k < stride * (P + 1); k++)
            i1[k] = (float)(checkasm_rand() % 25600) / 100.0f;
        for (int k = 0; k < P * P; k++) {
            t[k] = (float)(checkasm_rand() % 25600) / 100.0f;
            gx[k] = (float)((int)(checkasm_rand() % 20000) - 10000) / 100.0f;
            gy[k] = (float)((int)(checkasm_rand() % 20000) - 10000) / 100.0f;
        }
        float fx = (float)(checkasm_rand() % 1000) / 1000.0f, fy = (float)(checkasm_rand() % 1000) / 1000.0f;
        ((AieDisSumsFn)ref)(o0, i1, stride, fx, fy, t, gx, gy);
        d->dis_sums(o1, i1, stride, fx, fy, t, gx, gy);
        /* scale of each sum: patch of errors up to 256, gradients up to 100 */
        const double mag[4] = {64 * 256.0, 64 * 65536.0, 64 * 25600.0, 64 * 25600.0};
        for (int k = 0; k < 4; k++)
            if (fabs((double)o0[k] - (double)o1[k]) > 1e-4 * mag[k]) {
                checkasm_fail("sum %d: %g != %g", k, (double)o1[k], (double)o0[k]);
                break;
            }
        free(i1);
    }
    checkasm_report("dis_sums");
}

void checkasm_check_motion(void)
{
    AieMotionDSP d;
    aie_motion_dsp_init(&d, checkasm_cpu_flags());
    check_tofloat(&d, 0);
    check_tofloat(&d, 1);
    check_down2(&d);
    check_dis_sums(&d);
}
