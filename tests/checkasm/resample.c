/*
 * checkasm for lib/dsp/resample: every kernel bit-exact with C over real filter
 * tables (all filters, random ratios up and down; the restricted kernels on
 * the tables they take: 2x upscales, periodic downscales), random sizes and
 * offsets, calls that start inside a table, with canaries around the outputs
 * and the inputs compared after each call; then whole frames through
 * aie_scaler_scale() against the C-only scaler.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "aie/frame.h"
#include "aie/scale.h"
#include "checkasm.h"
#include "dsp/resample.h"

#define ITERS 300

/* Output counts: tiny, odd, not a multiple of any vector width, large. */
static int random_count(void)
{
    switch (checkasm_rand() % 4) {
    case 0: return checkasm_rand_range(1, 7);
    case 1: return checkasm_rand_range(4, 100) | 1;
    case 2: return checkasm_rand_range(8, 300);
    default: return checkasm_rand_range(300, 4000);
    }
}

/* A real table: random filter, random ratio (up to 8x up, 6x down), random
 * chroma-style offset. */
static int random_filter(AieResampleFilter *f, int n_out, int bits)
{
    AieFilter kind = (AieFilter)checkasm_rand_range(0, AIE_FILTER_COUNT - 1);
    int s;
    switch (checkasm_rand() % 3) {
    case 0: s = checkasm_rand_range(1, n_out); break;                     /* up */
    case 1: s = checkasm_rand_range(n_out, 6 * n_out); break;             /* down */
    default: s = n_out + checkasm_rand_range(-n_out / 4, n_out / 4); break; /* near 1 */
    }
    if (s < 1)
        s = 1;
    if (s > AIE_MAX_DIM)
        s = AIE_MAX_DIM;
    int q = 2 * checkasm_rand_range(0, 2), fct = checkasm_rand_range(1, 2);
    int64_t d = (int64_t)n_out * fct; /* n_out outputs of a plane subsampled by fct */
    int64_t sl = (int64_t)s * fct;
    return aie_resample_filter_init(f, kind, s, n_out, (q + 2) * (sl - d), 4 * fct * sl,
                                    4 * fct * d, bits);
}

/* A buffer with canaries: returns the payload start (offset by `shift` bytes). */
static uint8_t *guarded(uint8_t **base, size_t payload, int shift)
{
    *base = malloc(payload + 2 * CHECKASM_GUARD + 64);
    if (!*base)
        abort();
    checkasm_canary_fill(*base + shift, payload + 2 * CHECKASM_GUARD);
    return *base + shift + CHECKASM_GUARD;
}

/* A 2x upscale table (period 2) of a luma plane or of a chroma plane with any
 * siting, as the scaler builds them. */
static int random_x2_filter(AieResampleFilter *f, int n_out)
{
    AieFilter kind = (AieFilter)checkasm_rand_range(0, AIE_FILTER_COUNT - 1);
    int s = (n_out + 1) / 2, fct = checkasm_rand_range(1, 2);
    int q = fct == 1 ? 0 : 2 * checkasm_rand_range(0, 2);
    int64_t d = 2 * (int64_t)s * fct, sl = (int64_t)s * fct;
    int err = aie_resample_filter_init(f, kind, s, n_out, (q + 2) * (sl - d), 4 * fct * sl,
                                       4 * fct * d, AIE_RESAMPLE_HBITS);
    if (!err && !aie_resample_filter_period2(f)) {
        aie_resample_filter_free(f);
        err = AIE_EINVAL;
    }
    return err;
}

/* A periodic downscale table, as the scaler builds them for integer factors
 * 2..6 (period 1) and 3/2, 5/2 (period 2); 5, 6 and 5/2 take the fallback.
 * Luma or chroma siting. */
static int random_dn_filter(AieResampleFilter *f, int n_out)
{
    static const int ratio[][2] = {{2, 1}, {3, 1}, {4, 1}, {5, 1}, {6, 1}, {3, 2}, {3, 2}, {5, 2}};
    AieFilter kind = (AieFilter)checkasm_rand_range(0, AIE_FILTER_COUNT - 1);
    int fct = checkasm_rand_range(1, 2), r = checkasm_rand_range(0, 7);
    int q = fct == 1 ? 0 : 2 * checkasm_rand_range(0, 2);
    const int num = ratio[r][0], den = ratio[r][1];
    if (n_out > AIE_MAX_DIM * den / num)
        n_out = AIE_MAX_DIM * den / num;
    n_out = (n_out + den - 1) / den * den;
    int s = n_out / den * num;
    int64_t d = (int64_t)n_out * fct, sl = (int64_t)s * fct;
    int err = aie_resample_filter_init(f, kind, s, n_out, (q + 2) * (sl - d), 4 * fct * sl,
                                       4 * fct * d, AIE_RESAMPLE_HBITS);
    if (!err && n_out > den && aie_resample_filter_periodic(f, den) != num) {
        aie_resample_filter_free(f);
        err = AIE_EINVAL;
    }
    return err;
}

/* kind 0: hscale8, 1: hscale16, 2: hscale8_x2, 3: hscale8_dn. A quarter of
 * the calls start at an output i0 that is a multiple of AIE_RESAMPLE_ALIGN,
 * as the scaler does for the part of a row it reads from the caller's row. */
static void check_hscale(const AieResampleDSP *dsp, int kind)
{
    static const char *const names[4] = {"hscale8", "hscale16", "hscale8_x2", "hscale8_dn"};
    const char *name = names[kind];
    void *fn = kind == 1   ? (void *)dsp->hscale16
               : kind == 2 ? (void *)dsp->hscale8_x2
               : kind == 3 ? (void *)dsp->hscale8_dn
                           : (void *)dsp->hscale8;
    void *ref = checkasm_check_func(fn, name);
    if (!ref)
        return;
    const int hbd = kind == 1;
    const int bps = hbd ? 2 : 1, obytes = hbd ? 4 : 2;
    for (int it = 0; it < ITERS; it++) {
        AieResampleFilter f;
        int n = random_count();
        int err = kind == 2   ? random_x2_filter(&f, n)
                  : kind == 3 ? random_dn_filter(&f, n)
                              : random_filter(&f, n, AIE_RESAMPLE_HBITS);
        if (err) {
            checkasm_fail("filter table");
            break;
        }
        int depth = hbd ? (int[]){9, 10, 12, 16}[checkasm_rand() % 4] : 8;
        int lo, hi;
        aie_resample_filter_span(&f, &lo, &hi);
        size_t in_n = (size_t)(hi - lo);
        uint8_t *inbuf = malloc(in_n * (size_t)bps + 64), *incopy = malloc(in_n * (size_t)bps);
        if (!inbuf || !incopy)
            abort();
        uint8_t *in = inbuf + bps * checkasm_rand_range(0, 31); /* unaligned source */
        checkasm_randomize(in, in_n * (size_t)bps);
        if (hbd)
            for (size_t k = 0; k < in_n; k++)
                ((uint16_t *)(void *)in)[k] &= (uint16_t)((1u << depth) - 1);
        memcpy(incopy, in, in_n * (size_t)bps);
        int i0 = checkasm_rand() % 4 ? 0 : AIE_RESAMPLE_ALIGN * checkasm_rand_range(0, (f.n - 1) / AIE_RESAMPLE_ALIGN);
        int w = checkasm_rand() % 4 ? f.n - i0 : checkasm_rand_range(1, f.n - i0);
        const int32_t *pos = f.pos + i0;
        const int16_t *coef = f.coef + 2 * i0;
        int shift = obytes * checkasm_rand_range(0, 15); /* unaligned dst */
        uint8_t *b0, *b1;
        uint8_t *d0 = guarded(&b0, (size_t)w * (size_t)obytes, shift);
        uint8_t *d1 = guarded(&b1, (size_t)w * (size_t)obytes, shift);
        if (hbd) {
            const uint16_t *s16 = (const uint16_t *)(void *)in - lo;
            ((AieHScale16Fn)ref)((int32_t *)(void *)d0, s16, pos, coef, f.stride, f.taps, w, depth);
            ((AieHScale16Fn)fn)((int32_t *)(void *)d1, s16, pos, coef, f.stride, f.taps, w, depth);
        } else {
            const uint8_t *s8 = in - lo;
            ((AieHScale8Fn)ref)((int16_t *)(void *)d0, s8, pos, coef, f.stride, f.taps, w);
            ((AieHScale8Fn)fn)((int16_t *)(void *)d1, s8, pos, coef, f.stride, f.taps, w);
        }
        if (memcmp(d0, d1, (size_t)w * (size_t)obytes)) {
            int x = 0;
            while (!memcmp(d0 + x * obytes, d1 + x * obytes, (size_t)obytes))
                x++;
            checkasm_fail("n=%d i0=%d w=%d taps=%d depth=%d: first mismatch at %d", f.n, i0, w,
                          f.taps, depth, x);
        }
        if (!checkasm_canary_ok(b1 + shift, (size_t)w * (size_t)obytes))
            checkasm_fail("w=%d taps=%d: wrote outside dst", w, f.taps);
        if (memcmp(in, incopy, in_n * (size_t)bps))
            checkasm_fail("w=%d taps=%d: clobbered src", w, f.taps);
        free(b0);
        free(b1);
        free(inbuf);
        free(incopy);
        aie_resample_filter_free(&f);
    }
    checkasm_report(name);
}

/* hpair8_dn: two source rows (each with its own unaligned start) into one
 * pair row, on periodic downscale tables. */
static void check_hpair(const AieResampleDSP *dsp)
{
    void *ref = checkasm_check_func((void *)dsp->hpair8_dn, "hpair8_dn");
    if (!ref)
        return;
    for (int it = 0; it < ITERS; it++) {
        AieResampleFilter f;
        int n = random_count();
        if (random_dn_filter(&f, n)) {
            checkasm_fail("filter table");
            break;
        }
        int lo, hi;
        aie_resample_filter_span(&f, &lo, &hi);
        size_t in_n = (size_t)(hi - lo);
        uint8_t *inbuf[2], *in[2], *incopy[2];
        for (int k = 0; k < 2; k++) {
            inbuf[k] = malloc(in_n + 64);
            incopy[k] = malloc(in_n);
            if (!inbuf[k] || !incopy[k])
                abort();
            in[k] = inbuf[k] + checkasm_rand_range(0, 31);
            checkasm_randomize(in[k], in_n);
            memcpy(incopy[k], in[k], in_n);
        }
        int i0 = checkasm_rand() % 4 ? 0 : AIE_RESAMPLE_ALIGN * checkasm_rand_range(0, (f.n - 1) / AIE_RESAMPLE_ALIGN);
        int w = checkasm_rand() % 4 ? f.n - i0 : checkasm_rand_range(1, f.n - i0);
        size_t bytes = (size_t)w * 4;
        int shift = 2 * checkasm_rand_range(0, 31);
        uint8_t *b0, *b1;
        uint8_t *d0 = guarded(&b0, bytes, shift), *d1 = guarded(&b1, bytes, shift);
        ((AieHPair8Fn)ref)((int16_t *)(void *)d0, in[0] - lo, in[1] - lo, f.pos + i0, f.coef + 2 * i0,
                           f.stride, f.taps, w);
        dsp->hpair8_dn((int16_t *)(void *)d1, in[0] - lo, in[1] - lo, f.pos + i0, f.coef + 2 * i0,
                       f.stride, f.taps, w);
        if (memcmp(d0, d1, bytes)) {
            int x = 0;
            while (!memcmp(d0 + 2 * x, d1 + 2 * x, 2))
                x++;
            checkasm_fail("n=%d i0=%d w=%d taps=%d: first mismatch at word %d", f.n, i0, w, f.taps, x);
        }
        if (!checkasm_canary_ok(b1 + shift, bytes))
            checkasm_fail("w=%d taps=%d: wrote outside dst", w, f.taps);
        for (int k = 0; k < 2; k++) {
            if (memcmp(in[k], incopy[k], in_n))
                checkasm_fail("w=%d taps=%d: clobbered src %d", w, f.taps, k);
            free(inbuf[k]);
            free(incopy[k]);
        }
        free(b0);
        free(b1);
        aie_resample_filter_free(&f);
    }
    checkasm_report("hpair8_dn");
}

static void check_pair16(const AieResampleDSP *dsp)
{
    void *ref = checkasm_check_func((void *)dsp->pair16, "pair16");
    if (!ref)
        return;
    for (int it = 0; it < ITERS; it++) {
        int w = random_count();
        size_t bytes = (size_t)w * 2;
        uint8_t *ba, *bb, *b0, *b1;
        int16_t *a = (int16_t *)(void *)guarded(&ba, bytes, 2 * checkasm_rand_range(0, 31));
        int16_t *b = (int16_t *)(void *)guarded(&bb, bytes, 2 * checkasm_rand_range(0, 31));
        checkasm_randomize(a, bytes);
        checkasm_randomize(b, bytes);
        int shift = 2 * checkasm_rand_range(0, 31);
        uint8_t *d0 = guarded(&b0, 2 * bytes, shift), *d1 = guarded(&b1, 2 * bytes, shift);
        ((AiePair16Fn)ref)((int16_t *)(void *)d0, a, b, w);
        dsp->pair16((int16_t *)(void *)d1, a, b, w);
        if (memcmp(d0, d1, 2 * bytes))
            checkasm_fail("w=%d: output differs", w);
        if (!checkasm_canary_ok(b1 + shift, 2 * bytes))
            checkasm_fail("w=%d: wrote outside dst", w);
        free(ba);
        free(bb);
        free(b0);
        free(b1);
    }
    checkasm_report("pair16");
}

/* vscale8 reads taps / 2 pair rows of 2w words, vscale16 taps rows of w int32. */
static void check_vscale(const AieResampleDSP *dsp, int hbd)
{
    const char *name = hbd ? "vscale16" : "vscale8";
    void *fn = hbd ? (void *)dsp->vscale16 : (void *)dsp->vscale8;
    void *ref = checkasm_check_func(fn, name);
    if (!ref)
        return;
    const int obytes = hbd ? 2 : 1;
    for (int it = 0; it < ITERS; it++) {
        AieResampleFilter f;
        if (random_filter(&f, checkasm_rand_range(1, 64),
                          hbd ? AIE_RESAMPLE_VBITS16 : AIE_RESAMPLE_VBITS8)) {
            checkasm_fail("filter table");
            break;
        }
        int y = checkasm_rand_range(0, f.n - 1);
        int taps = f.taps;
        int16_t *coef = malloc(sizeof(*coef) * (size_t)f.taps);
        if (!coef)
            abort();
        for (int k = 0; k < f.taps; k++)
            coef[k] = f.coef[2 * ((size_t)(k >> 1) * (size_t)f.stride + (size_t)y) + (k & 1)];
        if (hbd && checkasm_rand() % 4 == 0) { /* odd counts too */
            taps--;
            coef[taps - 1] = (int16_t)(coef[taps - 1] + coef[taps]);
        }
        int depth = hbd ? (int[]){9, 10, 12, 16}[checkasm_rand() % 4] : 8;
        int w = random_count();
        int nrows = hbd ? taps : taps / 2;
        size_t rowbytes = (size_t)w * 4; /* w int32 or 2w int16 */
        uint8_t **rows = malloc(sizeof(*rows) * (size_t)nrows);
        uint8_t **copies = malloc(sizeof(*copies) * (size_t)nrows);
        const void **ptrs = malloc(sizeof(*ptrs) * (size_t)nrows);
        const int16_t **p16 = malloc(sizeof(*p16) * (size_t)nrows);
        const int32_t **p32 = malloc(sizeof(*p32) * (size_t)nrows);
        if (!rows || !copies || !ptrs || !p16 || !p32)
            abort();
        for (int k = 0; k < nrows; k++) {
            uint8_t *r = guarded(&rows[k], rowbytes, 4 * checkasm_rand_range(0, 15));
            checkasm_randomize(r, rowbytes); /* any int16 is valid for vscale8 */
            if (hbd) /* intermediate range of the 16-bit path: |I| < 2^17 */
                for (int x = 0; x < w; x++)
                    ((int32_t *)(void *)r)[x] = (int32_t)(checkasm_rand() % (1u << 18)) - (1 << 17) + 1;
            ptrs[k] = r;
            if (k && checkasm_rand() % 4 == 0) /* repeated rows, as at the frame edges */
                ptrs[k] = ptrs[k - 1];
            p16[k] = ptrs[k];
            p32[k] = ptrs[k];
            copies[k] = malloc(rowbytes);
            if (!copies[k])
                abort();
            memcpy(copies[k], ptrs[k], rowbytes);
        }
        int shift = obytes * checkasm_rand_range(0, 31);
        uint8_t *b0, *b1;
        uint8_t *d0 = guarded(&b0, (size_t)w * (size_t)obytes, shift);
        uint8_t *d1 = guarded(&b1, (size_t)w * (size_t)obytes, shift);
        if (hbd) {
            ((AieVScale16Fn)ref)((uint16_t *)(void *)d0, p32, coef, taps, w, depth);
            ((AieVScale16Fn)fn)((uint16_t *)(void *)d1, p32, coef, taps, w, depth);
        } else {
            ((AieVScale8Fn)ref)(d0, p16, coef, taps, w);
            ((AieVScale8Fn)fn)(d1, p16, coef, taps, w);
        }
        if (memcmp(d0, d1, (size_t)w * (size_t)obytes)) {
            int x = 0;
            while (!memcmp(d0 + x * obytes, d1 + x * obytes, (size_t)obytes))
                x++;
            checkasm_fail("w=%d taps=%d depth=%d: first mismatch at %d", w, taps, depth, x);
        }
        if (!checkasm_canary_ok(b1 + shift, (size_t)w * (size_t)obytes))
            checkasm_fail("w=%d taps=%d: wrote outside dst", w, taps);
        for (int k = 0; k < nrows; k++)
            if (memcmp(ptrs[k], copies[k], rowbytes))
                checkasm_fail("w=%d taps=%d: clobbered src row %d", w, taps, k);
        for (int k = 0; k < nrows; k++) {
            free(rows[k]);
            free(copies[k]);
        }
        free(rows);
        free(copies);
        free(ptrs);
        free(p16);
        free(p32);
        free(b0);
        free(b1);
        free(coef);
        aie_resample_filter_free(&f);
    }
    checkasm_report(name);
}

/* ---- benchmarks ----
 * The first six: rows of 1920 -> 3840 lanczos, as in 1080p -> 2160p (vscale8
 * and vscale16 with the 8 taps of one output row). Then lanczos downscales of
 * 3840 columns, as in 2160p -> 1080p (2x), 1440p (1.5x), 720p (3x) and 540p
 * (4x), one ratio without a period for hscale8, and the vertical 12 taps of
 * the 2x one. */

typedef struct BenchCase {
    const char *name;
    int kernel; /* 0 hscale8, 1 hscale8_x2, 2 hscale16, 3 pair16, 4 vscale8, 5 vscale16,
                 * 6 hscale8_dn, 7 hpair8_dn (pixels: outputs of both rows) */
    int sw, dw; /* the table: sw -> dw lanczos, centre-aligned */
} BenchCase;

static const BenchCase bench_cases[] = {
    {"hscale8", 0, 1920, 3840},           {"hscale8_x2", 1, 1920, 3840},
    {"hscale16", 2, 1920, 3840},          {"pair16", 3, 1920, 3840},
    {"vscale8", 4, 1920, 3840},           {"vscale16", 5, 1920, 3840},
    {"hscale8_dn", 6, 3840, 1920},        {"hscale8_dn 1.5x", 6, 3840, 2560},
    {"hscale8_dn 3x", 6, 3840, 1280},     {"hscale8_dn 4x", 6, 3840, 960},
    {"hpair8_dn", 7, 3840, 1920},         {"hscale8 1.875x down", 0, 3840, 2048},
    {"vscale8 12 taps", 4, 3840, 1920},
};
enum { NBENCH = sizeof(bench_cases) / sizeof(bench_cases[0]) };
static void *benched[NBENCH];

static void *bench_fn(const AieResampleDSP *dsp, int kernel)
{
    switch (kernel) {
    case 0: return (void *)dsp->hscale8;
    case 1: return (void *)dsp->hscale8_x2;
    case 2: return (void *)dsp->hscale16;
    case 3: return (void *)dsp->pair16;
    case 4: return (void *)dsp->vscale8;
    case 5: return (void *)dsp->vscale16;
    case 6: return (void *)dsp->hscale8_dn;
    default: return (void *)dsp->hpair8_dn;
    }
}

static void bench_case(const AieResampleDSP *dsp, const BenchCase *bc)
{
    enum { RUNS = 10, CALLS = 64, MAXW = 3840 };
    const int sw = bc->sw, dw = bc->dw;
    AieResampleFilter f, f12;
    if (aie_resample_filter_init(&f, AIE_FILTER_LANCZOS, sw, dw, 2 * (sw - dw), 4 * sw, 4 * dw,
                                 AIE_RESAMPLE_HBITS) ||
        aie_resample_filter_init(&f12, AIE_FILTER_LANCZOS, sw, dw, 2 * (sw - dw), 4 * sw, 4 * dw,
                                 AIE_RESAMPLE_VBITS16))
        abort();
    int lo, hi;
    aie_resample_filter_span(&f, &lo, &hi);
    uint8_t *in = malloc((size_t)(hi - lo) * 2);
    uint8_t *out = malloc(MAXW * 4);
    int32_t *mid = malloc(MAXW * 4);
    const int nrows = f.taps; /* pair rows for vscale8, rows for vscale16 */
    int16_t **rows = malloc(sizeof(*rows) * (size_t)nrows);
    int32_t **rows32 = malloc(sizeof(*rows32) * (size_t)nrows);
    int16_t *vc = malloc(sizeof(*vc) * (size_t)f.taps), *vc12 = malloc(sizeof(*vc12) * (size_t)f.taps);
    if (!in || !out || !mid || !rows || !rows32 || !vc || !vc12)
        abort();
    for (int k = 0; k < nrows; k++) {
        rows[k] = malloc(MAXW * 4); /* pair rows: 2 x dw words */
        rows32[k] = malloc(MAXW * 4);
        if (!rows[k] || !rows32[k])
            abort();
        for (int x = 0; x < 2 * dw; x++)
            rows[k][x] = (int16_t)(checkasm_rand() % (255 * 64));
        for (int x = 0; x < dw; x++)
            rows32[k][x] = (int32_t)(checkasm_rand() % 65536);
    }
    checkasm_randomize(in, (size_t)(hi - lo) * 2);
    for (int k = 0; k < hi - lo; k++)
        ((uint16_t *)(void *)in)[k] &= 0x3ff;
    const uint8_t *in8 = in - lo;
    const uint16_t *in16 = (const uint16_t *)(void *)in - lo;
    /* vertical taps of output row 1 of the same table */
    for (int k = 0; k < f.taps; k++) {
        vc[k] = f.coef[2 * ((size_t)(k >> 1) * (size_t)f.stride + 1) + (k & 1)];
        vc12[k] = f12.coef[2 * ((size_t)(k >> 1) * (size_t)f12.stride + 1) + (k & 1)];
    }
    const int16_t *const *pr = (const int16_t *const *)rows;
    const int32_t *const *pr32 = (const int32_t *const *)rows32;
    double best = 1e300;
    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = checkasm_ticks();
        for (int c = 0; c < CALLS; c++) {
            switch (bc->kernel) {
            case 0: dsp->hscale8((int16_t *)(void *)out, in8, f.pos, f.coef, f.stride, f.taps, dw); break;
            case 1: dsp->hscale8_x2((int16_t *)(void *)out, in8, f.pos, f.coef, f.stride, f.taps, dw); break;
            case 2: dsp->hscale16(mid, in16, f.pos, f.coef, f.stride, f.taps, dw, 10); break;
            case 3: dsp->pair16((int16_t *)(void *)out, rows[0], rows[1], dw); break;
            case 4: dsp->vscale8(out, pr, vc, f.taps, dw); break;
            case 5: dsp->vscale16((uint16_t *)(void *)out, pr32, vc12, f.taps, dw, 10); break;
            case 6: dsp->hscale8_dn((int16_t *)(void *)out, in8, f.pos, f.coef, f.stride, f.taps, dw); break;
            default: dsp->hpair8_dn((int16_t *)(void *)out, in8, in8 + 1, f.pos, f.coef, f.stride, f.taps, dw); break;
            }
        }
        double ticks = (double)(checkasm_ticks() - t0) / CALLS;
        if (ticks < best)
            best = ticks;
    }
    checkasm_bench_report(bc->name, best, bc->kernel == 7 ? 2 * dw : dw);
    for (int k = 0; k < nrows; k++) {
        free(rows[k]);
        free(rows32[k]);
    }
    free(rows);
    free(rows32);
    free(vc);
    free(vc12);
    free(in);
    free(out);
    free(mid);
    aie_resample_filter_free(&f);
    aie_resample_filter_free(&f12);
}

static void bench_kernels(const AieResampleDSP *dsp)
{
    for (int t = 0; t < NBENCH; t++) {
        void *fn = bench_fn(dsp, bench_cases[t].kernel);
        if (fn == benched[t])
            continue;
        /* the extra cases of a kernel report under their own names, which the
         * C level registers */
        if (!checkasm_cpu_flags())
            checkasm_check_func(fn, bench_cases[t].name);
        benched[t] = fn;
        bench_case(dsp, &bench_cases[t]);
    }
}

/* ---- frames: aie_scaler_scale() with these flags equals the C-only scaler ---- */

static void random_frame(AieFrame *f)
{
    for (int p = 0; p < f->nplanes; p++)
        for (int y = 0; y < f->plane_h[p]; y++) {
            uint8_t *row = f->data[p] + (ptrdiff_t)y * f->stride[p];
            checkasm_randomize(row, (size_t)f->plane_w[p] * (size_t)aie_depth_bytes(f->depth));
            if (f->depth > 8)
                for (int x = 0; x < f->plane_w[p]; x++)
                    ((uint16_t *)(void *)row)[x] &= (uint16_t)((1u << f->depth) - 1);
        }
}

static int frames_equal(const AieFrame *a, const AieFrame *b)
{
    for (int p = 0; p < a->nplanes; p++)
        for (int y = 0; y < a->plane_h[p]; y++)
            if (memcmp(a->data[p] + (ptrdiff_t)y * a->stride[p], b->data[p] + (ptrdiff_t)y * b->stride[p],
                       (size_t)a->plane_w[p] * (size_t)aie_depth_bytes(a->depth)))
                return 0;
    return 1;
}

/* A frame over caller memory: rows exactly as long as stride says, strides
 * larger than the width by a random amount, planes starting unaligned, and
 * canary bytes in every row gap and after the last row. */
typedef struct Wrapped {
    AieFrame *f;
    uint8_t *buf[4];
    size_t size[4];
} Wrapped;

static void wrapped_free(Wrapped *w)
{
    aie_frame_unref(&w->f);
    for (int p = 0; p < 4; p++)
        free(w->buf[p]);
}

static int wrapped_alloc(Wrapped *w, int width, int height, AieLayout layout, int depth)
{
    memset(w, 0, sizeof(*w));
    int sx, sy, bps = aie_depth_bytes(depth);
    aie_layout_chroma_shift(layout, &sx, &sy);
    uint8_t *data[4] = {0};
    ptrdiff_t stride[4] = {0};
    for (int p = 0; p < aie_layout_planes(layout); p++) {
        int chroma = (p == 1 || p == 2) && layout <= AIE_LAYOUT_YUV444;
        int pw = chroma ? (width + (1 << sx) - 1) >> sx : width;
        int ph = chroma ? (height + (1 << sy) - 1) >> sy : height;
        stride[p] = (ptrdiff_t)pw * bps + bps * checkasm_rand_range(0, 9);
        w->size[p] = (size_t)stride[p] * (size_t)ph + CHECKASM_GUARD;
        w->buf[p] = malloc(w->size[p] + 64);
        if (!w->buf[p])
            return AIE_ENOMEM;
        data[p] = w->buf[p] + bps * checkasm_rand_range(0, 31);
        memset(data[p], CHECKASM_CANARY, w->size[p]);
    }
    return aie_frame_wrap(&w->f, width, height, layout, depth, data, stride, NULL, NULL);
}

/* Nonzero when every byte outside the samples of w (row gaps, tail) is intact. */
static int wrapped_canaries_ok(const Wrapped *w)
{
    const AieFrame *f = w->f;
    const size_t row = (size_t)aie_depth_bytes(f->depth);
    for (int p = 0; p < f->nplanes; p++) {
        size_t used = (size_t)f->plane_w[p] * row, total = (size_t)f->stride[p] * (size_t)f->plane_h[p];
        for (size_t o = 0; o < total + CHECKASM_GUARD; o++)
            if ((o >= total || o % (size_t)f->stride[p] >= used) && f->data[p][o] != CHECKASM_CANARY)
                return 0;
    }
    return 1;
}

static void copy_frame(AieFrame *dst, const AieFrame *src)
{
    for (int p = 0; p < src->nplanes; p++)
        for (int y = 0; y < src->plane_h[p]; y++)
            memcpy(dst->data[p] + (ptrdiff_t)y * dst->stride[p], src->data[p] + (ptrdiff_t)y * src->stride[p],
                   (size_t)src->plane_w[p] * (size_t)aie_depth_bytes(src->depth));
}

static void check_frames(void)
{
    unsigned flags = checkasm_cpu_flags();
    if (!checkasm_check_func((void *)(uintptr_t)(1 + flags), "scale_frame"))
        return;
    static const AieLayout layouts[] = {AIE_LAYOUT_YUV420, AIE_LAYOUT_YUV422, AIE_LAYOUT_YUV444,
                                        AIE_LAYOUT_GRAY, AIE_LAYOUT_RGBA};
    for (int it = 0; it < 40; it++) {
        AieScaleParams p = {
            .src_w = checkasm_rand_range(1, 300),
            .src_h = checkasm_rand_range(1, 120),
            .layout = layouts[it % 5],
            .depth = it & 1 ? (int[]){10, 12, 16}[checkasm_rand() % 3] : 8,
            .filter = (AieFilter)checkasm_rand_range(0, AIE_FILTER_COUNT - 1),
            .chroma_loc = checkasm_rand_range(0, 6),
        };
        if (it % 4 == 0) { /* exact 2x, as 1080p -> 2160p */
            p.dst_w = 2 * p.src_w;
            p.dst_h = 2 * p.src_h;
        } else {
            p.dst_w = checkasm_rand_range(1, 300);
            p.dst_h = checkasm_rand_range(1, 120);
        }
        AieScaler *s0 = NULL, *s1 = NULL;
        AieFrame *src = NULL, *d0 = NULL;
        Wrapped wsrc = {0}, wdst = {0};
        int err = aie_scaler_create(&s0, &p, 0);
        if (!err)
            err = aie_scaler_create(&s1, &p, flags);
        if (!err)
            err = aie_frame_alloc(&src, p.src_w, p.src_h, p.layout, p.depth);
        if (!err)
            err = aie_frame_alloc(&d0, p.dst_w, p.dst_h, p.layout, p.depth);
        if (!err)
            err = wrapped_alloc(&wsrc, p.src_w, p.src_h, p.layout, p.depth);
        if (!err)
            err = wrapped_alloc(&wdst, p.dst_w, p.dst_h, p.layout, p.depth);
        if (!err) {
            random_frame(src);
            copy_frame(wsrc.f, src);
            err = aie_scaler_scale(s0, src, d0, NULL);
        }
        if (!err)
            err = aie_scaler_scale(s1, wsrc.f, wdst.f, NULL);
        if (err)
            checkasm_fail("%dx%d -> %dx%d: %s", p.src_w, p.src_h, p.dst_w, p.dst_h, aie_strerror(err));
        else if (!frames_equal(d0, wdst.f))
            checkasm_fail("%s %dx%d -> %dx%d %s depth %d loc %d differs from C",
                          aie_layout_name(p.layout), p.src_w, p.src_h, p.dst_w, p.dst_h,
                          aie_filter_name(p.filter), p.depth, p.chroma_loc);
        else if (!wrapped_canaries_ok(&wdst))
            checkasm_fail("%dx%d -> %dx%d: wrote outside the planes", p.src_w, p.src_h, p.dst_w, p.dst_h);
        else if (!frames_equal(src, wsrc.f))
            checkasm_fail("%dx%d -> %dx%d: clobbered the source", p.src_w, p.src_h, p.dst_w, p.dst_h);
        aie_frame_unref(&src);
        aie_frame_unref(&d0);
        wrapped_free(&wsrc);
        wrapped_free(&wdst);
        aie_scaler_free(&s0);
        aie_scaler_free(&s1);
    }
    checkasm_report("scale_frame");
}

void checkasm_check_resample(void)
{
    AieResampleDSP dsp;
    aie_resample_dsp_init(&dsp, checkasm_cpu_flags());
    check_hscale(&dsp, 0);
    check_hscale(&dsp, 1);
    check_hscale(&dsp, 2);
    check_hscale(&dsp, 3);
    check_hpair(&dsp);
    check_pair16(&dsp);
    check_vscale(&dsp, 0);
    check_vscale(&dsp, 1);
    check_frames();
    if (checkasm_benchmarking())
        bench_kernels(&dsp);
}
