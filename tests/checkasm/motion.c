/*
 * checkasm for lib/dsp/motion: float conversion, the pyramid downsample, the
 * densification, the 2x field upsample and the variational refinement's rows
 * (smoothness, data terms, red-black SOR) use the C reference's operation
 * order: bit-identical, tolerance 0 (outputs are compared over whole buffers
 * that both calls start from, so stray writes fail too); the DIS patch sums
 * (vector lanes add in another order and use FMA: each of the four sums must
 * be within 1e-4 relative of C's, measured against the sum of the magnitudes
 * of its terms) and the patch setup (template and gradients bit-identical,
 * its seven sums within 1e-5 of the same measure).
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

static void check_down2_int(const AieMotionDSP *d, int hbd)
{
    const char *name = hbd ? "down2_16" : "down2_8";
    void *ref = checkasm_check_func(hbd ? (void *)d->down2_16 : (void *)d->down2_8, name);
    if (!ref)
        return;
    for (int it = 0; it < 200; it++) {
        int sw = rand_n(), w = (sw + 1) / 2, bps = hbd ? 2 : 1;
        uint8_t *rows = malloc((size_t)(sw * bps) * 4 + 64);
        size_t ob = sizeof(float) * (size_t)w;
        uint8_t *b0 = malloc(ob + 2 * CHECKASM_GUARD), *b1 = malloc(ob + 2 * CHECKASM_GUARD);
        if (!rows || !b0 || !b1)
            abort();
        checkasm_randomize(rows, (size_t)(sw * bps) * 4 + 64);
        if (hbd)
            for (int k = 0; k < sw * 4 + 32; k++)
                ((uint16_t *)(void *)rows)[k] &= 0x3ff;
        checkasm_canary_fill(b0, ob + 2 * CHECKASM_GUARD);
        checkasm_canary_fill(b1, ob + 2 * CHECKASM_GUARD);
        float *d0 = (float *)(void *)(b0 + CHECKASM_GUARD), *d1 = (float *)(void *)(b1 + CHECKASM_GUARD);
        float k = (hbd ? 255.0f / 1023.0f : 1.0f) / 64.0f;
        const uint8_t *r[4];
        for (int j = 0; j < 4; j++)
            r[j] = rows + (size_t)(checkasm_rand_range(0, 3) * sw * bps);
        if (hbd) {
            const uint16_t *q[4];
            for (int j = 0; j < 4; j++)
                q[j] = (const uint16_t *)(const void *)r[j];
            ((AieDown2_16Fn)ref)(d0, q[0], q[1], q[2], q[3], sw, w, k);
            d->down2_16(d1, q[0], q[1], q[2], q[3], sw, w, k);
        } else {
            ((AieDown2_8Fn)ref)(d0, r[0], r[1], r[2], r[3], sw, w, k);
            d->down2_8(d1, r[0], r[1], r[2], r[3], sw, w, k);
        }
        if (memcmp(d0, d1, ob))
            checkasm_fail("sw=%d: differs from C", sw);
        if (!checkasm_canary_ok(b1, ob))
            checkasm_fail("sw=%d: wrote outside dst", sw);
        free(rows);
        free(b0);
        free(b1);
    }
    checkasm_report(name);
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

/* A float plane of w x h with a margin of PAD samples all round, random
 * samples in [lo, hi) everywhere (margins too: the kernels' reads there must
 * be harmless, and whatever they hold is finite). */
enum { PAD = 12 };
typedef struct FPlane {
    float *buf, *p; /* p: sample (0, 0) */
    ptrdiff_t stride;
    size_t n;
} FPlane;

static FPlane fplane(int w, int h, float lo, float hi)
{
    FPlane f;
    f.stride = w + 2 * PAD + checkasm_rand_range(0, 9);
    f.n = (size_t)f.stride * (size_t)(h + 2 * PAD);
    f.buf = malloc(f.n * sizeof(float));
    if (!f.buf)
        abort();
    for (size_t k = 0; k < f.n; k++)
        f.buf[k] = lo + (hi - lo) * (float)(checkasm_rand() % 100000) / 100000.0f;
    f.p = f.buf + PAD * f.stride + PAD;
    return f;
}

static FPlane fplane_copy(const FPlane *s)
{
    FPlane f = *s;
    f.buf = malloc(f.n * sizeof(float));
    if (!f.buf)
        abort();
    memcpy(f.buf, s->buf, f.n * sizeof(float));
    f.p = f.buf + (s->p - s->buf);
    return f;
}

/* Same contents? (compares the whole buffers: writes outside the intended
 * samples show up as differences, since both calls start from one copy) */
static int fplane_same(const FPlane *a, const FPlane *b)
{
    return !memcmp(a->buf, b->buf, a->n * sizeof(float));
}

static void check_dis_prep(const AieMotionDSP *d)
{
    void *ref = checkasm_check_func((void *)d->dis_prep, "dis_prep");
    if (!ref)
        return;
    enum { Q = AIE_DIS_PATCH };
    for (int it = 0; it < 300; it++) {
        ptrdiff_t stride = Q + 2 + checkasm_rand_range(0, 30), fs = Q + checkasm_rand_range(0, 30);
        float *i0 = malloc(sizeof(float) * (size_t)stride * (Q + 2));
        float *u = malloc(sizeof(float) * (size_t)fs * Q), *v = malloc(sizeof(float) * (size_t)fs * Q);
        float t[2][3][Q * Q], o[2][7];
        if (!i0 || !u || !v)
            abort();
        for (ptrdiff_t k = 0; k < stride * (Q + 2); k++)
            i0[k] = (float)(checkasm_rand() % 25600) / 100.0f;
        for (ptrdiff_t k = 0; k < fs * Q; k++) {
            u[k] = (float)((int)(checkasm_rand() % 4000) - 2000) / 100.0f;
            v[k] = (float)((int)(checkasm_rand() % 4000) - 2000) / 100.0f;
        }
        const float *p = i0 + stride + 1;
        ((AieDisPrepFn)ref)(t[0][0], t[0][1], t[0][2], o[0], p, stride, u, v, fs);
        d->dis_prep(t[1][0], t[1][1], t[1][2], o[1], p, stride, u, v, fs);
        if (memcmp(t[0], t[1], sizeof(t[0])))
            checkasm_fail("template or gradients differ from C");
        /* scale of each sum: 64 gradients up to 128, their products, flows up to 20 */
        const double mag[7] = {64 * 128.0, 64 * 128.0, 64 * 16384.0, 64 * 16384.0, 64 * 16384.0, 64 * 20.0, 64 * 20.0};
        for (int k = 0; k < 7; k++)
            if (fabs((double)o[0][k] - (double)o[1][k]) > 1e-5 * mag[k]) {
                checkasm_fail("sum %d: %g != %g", k, (double)o[1][k], (double)o[0][k]);
                break;
            }
        free(i0);
        free(u);
        free(v);
    }
    checkasm_report("dis_prep");
}

static void check_densify(const AieMotionDSP *d)
{
    void *ref = checkasm_check_func((void *)d->densify, "densify");
    if (!ref)
        return;
    for (int it = 0; it < 200; it++) {
        int w = checkasm_rand_range(8, 200), h = checkasm_rand_range(8, 40), n = 0;
        FPlane i0 = fplane(w, h, 0, 255), i1 = fplane(w, h, 0, 255);
        FPlane acc = fplane(w, 3, 0, 50), acc2 = fplane_copy(&acc);
        int px[64];
        float pu[64], pv[64];
        int step = checkasm_rand_range(2, 8), y = checkasm_rand_range(0, h - 1);
        for (int x0 = 0; n < 64; x0 += step) {
            px[n] = x0 + 8 <= w ? x0 : w - 8;
            /* flows that keep ix - 1 .. ix + 9 and iy .. iy + 1 inside the margins */
            pu[n] = (float)(checkasm_rand() % 2000) / 100.0f - 10.0f;
            pv[n] = (float)(checkasm_rand() % 2000) / 100.0f - 10.0f;
            float X = (float)px[n] + pu[n], Y = (float)y + pv[n];
            if (X < -PAD + 1 || X > w + PAD - 11 || Y < -PAD + 1 || Y > h + PAD - 3)
                pu[n] = pv[n] = 0.25f;
            n++;
            if (px[n - 1] == w - 8)
                break;
        }
        FPlane *o[2] = {&acc, &acc2};
        for (int k = 0; k < 2; k++)
            (k ? d->densify : (AieDensifyFn)ref)(o[k]->p, o[k]->p + o[k]->stride, o[k]->p + 2 * o[k]->stride,
                                                i0.p + y * i0.stride, i1.p, i1.stride, y, pu, pv, px, n);
        if (!fplane_same(&acc, &acc2))
            checkasm_fail("w=%d n=%d: differs from C (or wrote elsewhere)", w, n);
        free(i0.buf);
        free(i1.buf);
        free(acc.buf);
        free(acc2.buf);
    }
    checkasm_report("densify");
}

static void check_up2(const AieMotionDSP *d)
{
    void *ref = checkasm_check_func((void *)d->up2, "up2");
    if (!ref)
        return;
    for (int it = 0; it < 200; it++) {
        int w = rand_n() + 1, sw = (w + 1) / 2;
        FPlane src = fplane(sw, 2, -20, 20), o0 = fplane(w, 1, 0, 1), o1 = fplane_copy(&o0);
        ((AieUp2Fn)ref)(o0.p, src.p, src.p + src.stride, w);
        d->up2(o1.p, src.p, src.p + src.stride, w);
        if (!fplane_same(&o0, &o1))
            checkasm_fail("w=%d: differs from C (or wrote elsewhere)", w);
        free(src.buf);
        free(o0.buf);
        free(o1.buf);
    }
    checkasm_report("up2");
}

static const float var_k[5] = {2.5f, 5.0f, 10.0f, 1e-6f, 1.0f};

static void check_var(const AieMotionDSP *d)
{
    void *rs = checkasm_check_func((void *)d->var_smooth, "var_smooth");
    if (rs) {
        for (int it = 0; it < 200; it++) {
            int w = rand_n(), last = it & 1;
            FPlane u = fplane(w, 2, -8, 8), v = fplane(w, 2, -8, 8);
            FPlane o0 = fplane(w, 2, 0, 1), o1 = fplane_copy(&o0);
            FPlane *o[2] = {&o0, &o1};
            for (int k = 0; k < 2; k++)
                (k ? d->var_smooth : (AieVarSmoothFn)rs)(o[k]->p, o[k]->p + o[k]->stride, u.p, v.p,
                                                        u.p + u.stride, v.p + v.stride, w, last, var_k);
            if (!fplane_same(&o0, &o1))
                checkasm_fail("w=%d: differs from C (or wrote elsewhere)", w);
            free(u.buf);
            free(v.buf);
            free(o0.buf);
            free(o1.buf);
        }
        checkasm_report("var_smooth");
    }
    void *rp = checkasm_check_func((void *)d->var_prepare, "var_prepare");
    if (rp) {
        for (int it = 0; it < 200; it++) {
            int w = rand_n();
            FPlane i0 = fplane(w, 3, 0, 255), iw = fplane(w, 3, 0, 255), u = fplane(w, 3, -8, 8);
            FPlane v = fplane(w, 3, -8, 8), sx = fplane(w, 3, 0, 10), sy = fplane(w, 3, 0, 10);
            /* five output planes in one buffer: rows 0, 2, 4, 6, 8 */
            FPlane o0 = fplane(w, 10, 0, 1), o1 = fplane_copy(&o0);
            FPlane *o[2] = {&o0, &o1};
            const ptrdiff_t s = i0.stride;
            /* the kernel takes one stride for its inputs: use planes of one stride */
            if (iw.stride != s || u.stride != s || v.stride != s || sx.stride != s || sy.stride != s) {
                free(iw.buf);
                free(u.buf);
                free(v.buf);
                free(sx.buf);
                free(sy.buf);
                iw = fplane_copy(&i0);
                u = fplane_copy(&i0);
                v = fplane_copy(&i0);
                sx = fplane_copy(&i0);
                sy = fplane_copy(&i0);
                for (size_t k = 0; k < i0.n; k++) {
                    iw.buf[k] = (float)(checkasm_rand() % 25600) / 100.0f;
                    u.buf[k] = (float)((int)(checkasm_rand() % 1600) - 800) / 100.0f;
                    v.buf[k] = (float)((int)(checkasm_rand() % 1600) - 800) / 100.0f;
                    sx.buf[k] = (float)(checkasm_rand() % 1000) / 100.0f;
                    sy.buf[k] = (float)(checkasm_rand() % 1000) / 100.0f;
                }
            }
            const ptrdiff_t r = s; /* row 1 of the 3-row inputs */
            for (int k = 0; k < 2; k++) {
                FPlane *q = o[k];
                (k ? d->var_prepare : (AieVarPrepareFn)rp)(q->p, q->p + 2 * q->stride, q->p + 4 * q->stride,
                                                          q->p + 6 * q->stride, q->p + 8 * q->stride, i0.p + r,
                                                          iw.p + r, u.p + r, v.p + r, sx.p + r, sy.p + r, s, w,
                                                          var_k);
            }
            if (!fplane_same(&o0, &o1))
                checkasm_fail("w=%d: differs from C (or wrote elsewhere)", w);
            FPlane *all[] = {&i0, &iw, &u, &v, &sx, &sy, &o0, &o1};
            for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
                free(all[k]->buf);
        }
        checkasm_report("var_prepare");
    }
    void *rr = checkasm_check_func((void *)d->var_sor, "var_sor");
    if (rr) {
        for (int it = 0; it < 300; it++) {
            int w = rand_n(), parity = it & 1;
            /* one buffer of 11 rows: du, dv (3 rows each, row 1 updated) and
             * a12, b1, b2, ia11, ia22, sx, sy around them */
            FPlane a = fplane(w, 24, 0, 1);
            const ptrdiff_t s = a.stride;
            for (size_t k = 0; k < a.n; k++)
                a.buf[k] = (float)((int)(checkasm_rand() % 2000) - 1000) / 1000.0f;
            for (int y = 12; y < 24; y++) /* ia11, ia22 and weights positive */
                for (int x = -PAD; x < w + PAD; x++)
                    a.p[y * s + x] = (float)(checkasm_rand() % 1000) / 1000.0f + 0.01f;
            FPlane b = fplane_copy(&a);
            FPlane *o[2] = {&a, &b};
            for (int k = 0; k < 2; k++) {
                float *p = o[k]->p;
                (k ? d->var_sor : (AieVarSorFn)rr)(p + 1 * s, p + 5 * s, p + 8 * s, p + 9 * s, p + 10 * s,
                                                  p + 13 * s, p + 15 * s, p + 18 * s, p + 21 * s, s, w,
                                                  parity, 1.6f);
            }
            if (!fplane_same(&a, &b))
                checkasm_fail("w=%d parity %d: differs from C (or wrote elsewhere)", w, parity);
            free(a.buf);
            free(b.buf);
        }
        checkasm_report("var_sor");
    }
}

static void bench(const AieMotionDSP *d)
{
    enum { W = 320, H = 40 };
    static void *done;
    if (done == (void *)d->var_sor)
        return;
    done = (void *)d->var_sor;
    FPlane a = fplane(W, H, 0.01f, 1);
    const ptrdiff_t s = a.stride;
    uint64_t best = UINT64_MAX;
    for (int r = 0; r < 20; r++) {
        uint64_t t0 = checkasm_ticks();
        for (int y = 4; y < 8; y++)
            d->var_sor(a.p + y * s, a.p + (y + 4) * s, a.p + 12 * s, a.p + 14 * s, a.p + 16 * s,
                       a.p + 18 * s, a.p + 20 * s, a.p + (y + 22) * s, a.p + (y + 30) * s, s, W, y & 1,
                       1.6f);
        uint64_t t = checkasm_ticks() - t0;
        best = t < best ? t : best;
    }
    checkasm_bench_report("var_sor", (double)best, 4.0 * W / 2);
    free(a.buf);
}

void checkasm_check_motion(void)
{
    AieMotionDSP d;
    aie_motion_dsp_init(&d, checkasm_cpu_flags());
    check_tofloat(&d, 0);
    check_tofloat(&d, 1);
    check_down2(&d);
    check_down2_int(&d, 0);
    check_down2_int(&d, 1);
    check_dis_sums(&d);
    check_dis_prep(&d);
    check_densify(&d);
    check_up2(&d);
    check_var(&d);
    if (checkasm_benchmarking())
        bench(&d);
}
