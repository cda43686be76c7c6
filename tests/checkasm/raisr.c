/*
 * checkasm for lib/dsp/raisr: the tensor rows, the classification (float
 * arithmetic in the reference's order, so buckets must match exactly), the
 * filter (integer: exact) for scales 2..4 and kernels 3..7 with random
 * weights at the range limits, and the packing to 8/16 bits. Random widths,
 * canaries around every output, inputs compared after each call.
 */
#include <stdlib.h>
#include <string.h>

#include "checkasm.h"
#include "dsp/raisr.h"

enum { MAXW = 700, PAD = AIE_RAISR_PAD };

/* a padded 14-bit row: smooth, noisy or extreme */
static void fill_row(int16_t *row, int w, int kind)
{
    int base = checkasm_rand_range(0, 16383), slope = checkasm_rand_range(-300, 300);
    for (int x = -PAD; x < w + PAD; x++) {
        int v;
        switch (kind) {
        case 0: v = base + slope * x / 8 + checkasm_rand_range(-64, 64); break;
        case 1: v = checkasm_rand_range(0, 16383); break;
        default: v = checkasm_rand() & 1 ? 16383 : 0; break;
        }
        row[x] = (int16_t)(v < 0 ? 0 : v > 16383 ? 16383 : v);
    }
}

static void check_tensor_classify(const AieRaisrDSP *d)
{
    static int16_t rows[7][MAXW + 2 * PAD], copy[7][MAXW + 2 * PAD];
    static int32_t t[2][3][5][MAXW + 16];
    void *ref = checkasm_check_func((void *)d->tensor, "raisr_tensor");
    if (ref) {
        AieRaisrTensorFn fn = (AieRaisrTensorFn)ref;
        for (int it = 0; it < 200; it++) {
            int w = checkasm_rand_range(1, MAXW), kind = checkasm_rand() % 3;
            for (int i = 0; i < 3; i++)
                fill_row(rows[i] + PAD, w, kind);
            memcpy(copy, rows, sizeof(rows));
            for (int v = 0; v < 2; v++)
                for (int c = 0; c < 3; c++)
                    for (int x = 0; x < MAXW + 16; x++)
                        t[v][c][0][x] = 0x5a5a5a5a;
            fn(t[0][0][0], t[0][1][0], t[0][2][0], rows[0] + PAD, rows[1] + PAD, rows[2] + PAD, w);
            d->tensor(t[1][0][0], t[1][1][0], t[1][2][0], rows[0] + PAD, rows[1] + PAD, rows[2] + PAD, w);
            for (int c = 0; c < 3; c++)
                if (memcmp(t[0][c][0], t[1][c][0], sizeof(int32_t) * (size_t)(MAXW + 16)))
                    checkasm_fail("w=%d kind=%d: component %d differs (or wrote past w)", w, kind, c);
            if (memcmp(rows, copy, sizeof(rows)))
                checkasm_fail("input clobbered");
        }
        checkasm_report("raisr_tensor");
    }
    ref = checkasm_check_func((void *)d->classify, "raisr_classify");
    if (ref) {
        AieRaisrClassifyFn fn = (AieRaisrClassifyFn)ref;
        static uint8_t b[2][MAXW + 2 * CHECKASM_GUARD];
        for (int it = 0; it < 200; it++) {
            int w = checkasm_rand_range(1, MAXW), kind = checkasm_rand() % 3;
            AieRaisrHashParams hp = {.nstrength = checkasm_rand_range(1, 5), .ncoherence = 1};
            hp.ncoherence = checkasm_rand_range(1, AIE_RAISR_MAX_BINS / hp.nstrength < AIE_RAISR_MAX_THR + 1
                                                       ? AIE_RAISR_MAX_BINS / hp.nstrength : AIE_RAISR_MAX_THR + 1);
            float s = (float)checkasm_rand_range(100, 20000);
            for (int i = 0; i < hp.nstrength - 1; i++)
                hp.strength_thr[i] = s *= 1.0f + (float)checkasm_rand_range(1, 300) / 100.0f;
            for (int i = 0; i < hp.ncoherence - 1; i++)
                hp.coherence_thr[i] = (float)(i + 1) / (float)hp.ncoherence;
            for (int r = 0; r < 7; r++)
                fill_row(rows[r] + PAD, w, kind);
            const int32_t *xx[5], *xy[5], *yy[5];
            for (int r = 0; r < 5; r++) {
                d->tensor(t[0][0][r], t[0][1][r], t[0][2][r], rows[r] + PAD, rows[r + 1] + PAD, rows[r + 2] + PAD, w);
                xx[r] = t[0][0][r];
                xy[r] = t[0][1][r];
                yy[r] = t[0][2][r];
            }
            memcpy(t[1], t[0], sizeof(t[0]));
            checkasm_canary_fill(b[0], (size_t)w + 2 * CHECKASM_GUARD);
            checkasm_canary_fill(b[1], (size_t)w + 2 * CHECKASM_GUARD);
            fn(b[0] + CHECKASM_GUARD, xx, xy, yy, &hp, w);
            d->classify(b[1] + CHECKASM_GUARD, xx, xy, yy, &hp, w);
            if (memcmp(b[0] + CHECKASM_GUARD, b[1] + CHECKASM_GUARD, (size_t)w))
                checkasm_fail("w=%d kind=%d bins %dx%d: buckets differ", w, kind, hp.nstrength, hp.ncoherence);
            if (!checkasm_canary_ok(b[1], (size_t)w))
                checkasm_fail("w=%d: wrote outside the row", w);
            if (memcmp(t[0], t[1], sizeof(t[0])))
                checkasm_fail("input clobbered");
        }
        checkasm_report("raisr_classify");
    }
}

static void check_filter(const AieRaisrDSP *d)
{
    void *ref = checkasm_check_func((void *)d->filter, "raisr_filter");
    if (!ref && !(checkasm_benchmarking() && !checkasm_cpu_flags()))
        return;
    AieRaisrFilterFn fn = (AieRaisrFilterFn)ref;
    enum { NB = 24 };
    static int16_t rows[7][MAXW + 2 * PAD];
    static int16_t weight[NB * 16 * AIE_RAISR_TAPS], wcopy[NB * 16 * AIE_RAISR_TAPS];
    static uint8_t bucket[MAXW];
    static uint8_t o[2][4][(MAXW * 4 + 2 * 32) * 2 + 2 * CHECKASM_GUARD];
    for (int it = 0; ref && it < 300; it++) {
        int r = checkasm_rand_range(2, 4), k = 3 + 2 * checkasm_rand_range(0, 2);
        int ncell = checkasm_rand_range(1, MAXW), kind = checkasm_rand() % 3;
        for (int i = 0; i < k; i++)
            fill_row(rows[i] + PAD, ncell, kind);
        /* weights: |w| < 2 and sum |w| < 8, some filters at those limits */
        memset(weight, 0, sizeof(weight));
        for (int f = 0; f < NB * r * r; f++) {
            int16_t *w = weight + f * AIE_RAISR_TAPS;
            int lim = checkasm_rand() % 4 == 0 ? 32767 : 4000, budget = (8 << 14) - 1;
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) {
                    int v = checkasm_rand_range(-lim, lim);
                    int a = v < 0 ? -v : v;
                    if (a > budget)
                        v = v < 0 ? -budget : budget, a = budget;
                    budget -= a;
                    w[8 * i + j] = (int16_t)v;
                }
        }
        for (int x = 0; x < ncell; x++)
            bucket[x] = (uint8_t)checkasm_rand_range(0, NB - 1);
        memcpy(wcopy, weight, sizeof(weight));
        const int16_t *src[7];
        for (int i = 0; i < k; i++)
            src[i] = rows[i] + PAD;
        int16_t *dst[2][4];
        size_t bytes = (size_t)(ncell * r) * 2;
        for (int v = 0; v < 2; v++)
            for (int py = 0; py < r; py++) {
                checkasm_canary_fill(o[v][py], bytes + 2 * CHECKASM_GUARD);
                dst[v][py] = (int16_t *)(void *)(o[v][py] + CHECKASM_GUARD);
            }
        fn(dst[0], src, bucket, weight, r, k, ncell);
        d->filter(dst[1], src, bucket, weight, r, k, ncell);
        for (int py = 0; py < r; py++) {
            if (memcmp(dst[0][py], dst[1][py], bytes))
                checkasm_fail("r=%d k=%d cells=%d kind=%d: row %d differs", r, k, ncell, kind, py);
            if (!checkasm_canary_ok(o[1][py], bytes))
                checkasm_fail("r=%d cells=%d: wrote outside row %d", r, ncell, py);
        }
        if (memcmp(weight, wcopy, sizeof(weight)))
            checkasm_fail("weights clobbered");
    }
    if (ref)
        checkasm_report("raisr_filter");
    if (checkasm_benchmarking()) {
        /* one 1920-cell row of a 2x upscale (3840 x 2 output pixels) */
        const int r = 2, k = 7, ncell = 640;
        for (int i = 0; i < k; i++)
            fill_row(rows[i] + PAD, ncell, 0);
        for (int x = 0; x < ncell; x++)
            bucket[x] = (uint8_t)(x % NB);
        const int16_t *src[7];
        int16_t *dst[4];
        for (int i = 0; i < k; i++)
            src[i] = rows[i] + PAD;
        for (int py = 0; py < r; py++)
            dst[py] = (int16_t *)(void *)(o[0][py] + CHECKASM_GUARD);
        uint64_t t0 = checkasm_ticks();
        for (int n = 0; n < 200; n++)
            d->filter(dst, src, bucket, weight, r, k, ncell);
        checkasm_bench_report("raisr_filter", (double)(checkasm_ticks() - t0) / 200, ncell * r * r);
    }
}

static void check_pack(const AieRaisrDSP *d)
{
    static int16_t src[MAXW * 4], copy[MAXW * 4];
    static uint8_t o[2][MAXW * 8 + 2 * CHECKASM_GUARD];
    for (int hbd = 0; hbd < 2; hbd++) {
        const char *name = hbd ? "raisr_pack16" : "raisr_pack8";
        void *ref = checkasm_check_func(hbd ? (void *)d->pack16 : (void *)d->pack8, name);
        if (!ref)
            continue;
        for (int it = 0; it < 200; it++) {
            int w = checkasm_rand_range(1, MAXW * 4), depth = hbd ? checkasm_rand_range(9, 16) : 8;
            for (int x = 0; x < w; x++)
                src[x] = (int16_t)(it % 5 == 0 ? (x & 1) * 16383 : checkasm_rand_range(0, 16383));
            memcpy(copy, src, sizeof(src));
            size_t bytes = (size_t)w * (hbd ? 2 : 1);
            checkasm_canary_fill(o[0], bytes + 2 * CHECKASM_GUARD);
            checkasm_canary_fill(o[1], bytes + 2 * CHECKASM_GUARD);
            if (hbd) {
                ((AieRaisrPack16Fn)ref)((uint16_t *)(void *)(o[0] + CHECKASM_GUARD), src, w, depth);
                d->pack16((uint16_t *)(void *)(o[1] + CHECKASM_GUARD), src, w, depth);
            } else {
                ((AieRaisrPack8Fn)ref)(o[0] + CHECKASM_GUARD, src, w);
                d->pack8(o[1] + CHECKASM_GUARD, src, w);
            }
            if (memcmp(o[0] + CHECKASM_GUARD, o[1] + CHECKASM_GUARD, bytes))
                checkasm_fail("w=%d depth=%d: samples differ", w, depth);
            if (!checkasm_canary_ok(o[1], bytes))
                checkasm_fail("w=%d: wrote outside the row", w);
            if (memcmp(src, copy, sizeof(src)))
                checkasm_fail("input clobbered");
        }
        checkasm_report(name);
    }
}

void checkasm_check_raisr(void)
{
    AieRaisrDSP d;
    aie_raisr_dsp_init(&d, checkasm_cpu_flags());
    check_tensor_classify(&d);
    check_filter(&d);
    check_pack(&d);
}
