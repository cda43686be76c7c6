/* Resampling: filter tables, C reference kernels and the dispatch ladder. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "dsp/resample.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- filter kernels (continuous, support [-radius, radius]) ---- */

static double sinc(double x)
{
    if (fabs(x) < 1e-9)
        return 1.0;
    x *= M_PI;
    return sin(x) / x;
}

static double filter_radius(AieFilter kind)
{
    switch (kind) {
    case AIE_FILTER_BILINEAR: return 1.0;
    case AIE_FILTER_BICUBIC: return 2.0;
    case AIE_FILTER_LANCZOS: return 3.0;
    case AIE_FILTER_SPLINE36: return 3.0;
    default: return 0.5;
    }
}

static double filter_eval(AieFilter kind, double x)
{
    x = fabs(x);
    switch (kind) {
    case AIE_FILTER_BILINEAR:
        return x < 1.0 ? 1.0 - x : 0.0;
    case AIE_FILTER_BICUBIC: {
        /* Mitchell-Netravali with B = 0, C = 0.6 */
        const double b = 0.0, c = 0.6;
        if (x < 1.0)
            return ((12 - 9 * b - 6 * c) * x * x * x + (-18 + 12 * b + 6 * c) * x * x + (6 - 2 * b)) /
                   6.0;
        if (x < 2.0)
            return ((-b - 6 * c) * x * x * x + (6 * b + 30 * c) * x * x + (-12 * b - 48 * c) * x +
                    (8 * b + 24 * c)) /
                   6.0;
        return 0.0;
    }
    case AIE_FILTER_LANCZOS:
        return x < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
    case AIE_FILTER_SPLINE36:
        if (x < 1.0)
            return ((13.0 / 11.0 * x - 453.0 / 209.0) * x - 3.0 / 209.0) * x + 1.0;
        if (x < 2.0) {
            x -= 1.0;
            return ((-6.0 / 11.0 * x + 270.0 / 209.0) * x - 156.0 / 209.0) * x;
        }
        if (x < 3.0) {
            x -= 2.0;
            return ((1.0 / 11.0 * x - 45.0 / 209.0) * x + 26.0 / 209.0) * x;
        }
        return 0.0;
    default:
        return x < 0.5 ? 1.0 : 0.0;
    }
}

static int64_t floor_div(int64_t a, int64_t b) /* b > 0 */
{
    int64_t q = a / b;
    return q * b > a ? q - 1 : q;
}

void aie_resample_filter_free(AieResampleFilter *f)
{
    if (!f)
        return;
    free(f->pos);
    free(f->coef);
    memset(f, 0, sizeof(*f));
}

void aie_resample_filter_span(const AieResampleFilter *f, int *lo, int *hi)
{
    *lo = f->pos_min;
    *hi = f->pos_max + f->taps + AIE_RESAMPLE_OVERREAD;
}

int aie_resample_filter_period2(const AieResampleFilter *f)
{
    if (f->n < 2)
        return 1; /* trivially periodic */
    if (f->pos[1] - f->pos[0] > 1 || f->pos[0] - f->pos[1] > 1)
        return 0;
    for (int i = 2; i < f->n; i++) {
        if (f->pos[i] != f->pos[i - 2] + 1)
            return 0;
        for (int m = 0; m < f->taps / 2; m++) {
            const int16_t *c = f->coef + 2 * ((size_t)m * (size_t)f->stride);
            if (c[2 * i] != c[2 * (i - 2)] || c[2 * i + 1] != c[2 * (i - 2) + 1])
                return 0;
        }
    }
    return 1;
}

int aie_resample_filter_periodic(const AieResampleFilter *f, int p)
{
    if (p < 1 || f->n < p + 1)
        return 0;
    const int q = f->pos[p] - f->pos[0];
    if (q < 1)
        return 0;
    for (int i = p; i < f->n; i++) {
        if (f->pos[i] != f->pos[i - p] + q)
            return 0;
        for (int m = 0; m < f->taps / 2; m++) {
            const int16_t *c = f->coef + 2 * ((size_t)m * (size_t)f->stride);
            if (c[2 * i] != c[2 * (i - p)] || c[2 * i + 1] != c[2 * (i - p) + 1])
                return 0;
        }
    }
    return q;
}

/* Quantise w[0..cnt) (normalised) to integers summing to exactly one; returns
 * the sum of |c|. */
static int64_t quantise(const double *w, int cnt, int32_t *c, int one)
{
    double sum = 0.0;
    for (int k = 0; k < cnt; k++)
        sum += w[k];
    int32_t total = 0;
    int big = 0;
    for (int k = 0; k < cnt; k++) {
        c[k] = (int32_t)lrint(w[k] / sum * one);
        total += c[k];
        if (c[k] > c[big])
            big = k;
    }
    c[big] += one - total; /* NOLINT(clang-analyzer-core.uninitialized.Assign): cnt >= 1 (kmax >= kmin) */
    int64_t l1 = 0;
    for (int k = 0; k < cnt; k++)
        l1 += c[k] < 0 ? -c[k] : c[k];
    return l1;
}

int aie_resample_filter_init(AieResampleFilter *f, AieFilter kind, int n_src, int n_out,
                             int64_t x0, int64_t step, int64_t den, int bits)
{
    memset(f, 0, sizeof(*f));
    if ((unsigned)kind >= AIE_FILTER_COUNT || n_src < 1 || n_out < 1 || step <= 0 || den <= 0 ||
        bits < 1 || bits > 14)
        return AIE_EINVAL;
    const int one = 1 << bits;
    double scale = (double)step / (double)den;
    if (scale < 1.0 || kind == AIE_FILTER_NEAREST)
        scale = 1.0;
    const double radius = filter_radius(kind) * scale;
    const int maxcnt = (int)ceil(2.0 * radius) + 3;
    int err = AIE_ENOMEM;
    double *w = malloc(sizeof(*w) * (size_t)maxcnt);
    int32_t *qc = malloc(sizeof(*qc) * (size_t)maxcnt * (size_t)n_out);
    int32_t *first = malloc(sizeof(*first) * (size_t)n_out * 2);
    if (!w || !qc || !first)
        goto fail;
    int32_t *cnt = first + n_out;

    /* pass 1: quantised, trimmed windows */
    int taps = 1;
    for (int i = 0; i < n_out; i++) {
        int64_t num = x0 + (int64_t)i * step;
        int32_t *c = qc + (size_t)i * (size_t)maxcnt;
        if (kind == AIE_FILTER_NEAREST) {
            first[i] = (int32_t)floor_div(num + den / 2, den);
            cnt[i] = 1;
            c[0] = one;
            continue;
        }
        int64_t xi = floor_div(num, den);
        double frac = (double)(num - xi * den) / (double)den;
        int kmin = (int)floor(frac - radius), kmax = (int)ceil(frac + radius);
        int m = kmax - kmin + 1;
        for (int k = 0; k < m; k++)
            w[k] = filter_eval(kind, (kmin + k - frac) / scale);
        if (quantise(w, m, c, one) > 2 * (int64_t)one) {
            err = AIE_EINVAL;
            goto fail;
        }
        int lo = 0, hi = m - 1;
        while (lo < hi && !c[lo])
            lo++;
        while (hi > lo && !c[hi])
            hi--;
        if (lo)
            memmove(c, c + lo, sizeof(*c) * (size_t)(hi - lo + 1));
        first[i] = (int32_t)(xi + kmin + lo);
        cnt[i] = hi - lo + 1;
        if (cnt[i] > taps)
            taps = cnt[i];
    }
    taps = (taps + 1) & ~1;

    /* pass 2: pair-planar table */
    f->n = n_out;
    f->taps = taps;
    f->stride = (n_out + AIE_RESAMPLE_ALIGN - 1) / AIE_RESAMPLE_ALIGN * AIE_RESAMPLE_ALIGN;
    f->pos = malloc(sizeof(*f->pos) * (size_t)f->stride);
    f->coef = calloc((size_t)taps * (size_t)f->stride, sizeof(*f->coef));
    if (!f->pos || !f->coef)
        goto fail;
    f->pos_min = f->pos_max = first[0];
    for (int i = 0; i < f->stride; i++) {
        int src_i = i < n_out ? i : n_out - 1;
        f->pos[i] = first[src_i];
        if (f->pos[i] < f->pos_min)
            f->pos_min = f->pos[i];
        if (f->pos[i] > f->pos_max)
            f->pos_max = f->pos[i];
        if (i >= n_out)
            continue;
        const int32_t *c = qc + (size_t)i * (size_t)maxcnt;
        for (int k = 0; k < cnt[i]; k++)
            f->coef[2 * ((size_t)(k >> 1) * (size_t)f->stride + (size_t)i) + (k & 1)] = (int16_t)c[k];
    }
    err = 0;
fail:
    free(w);
    free(qc);
    free(first);
    if (err)
        aie_resample_filter_free(f);
    return err;
}

/* ---- C reference kernels ---- */

/* I of output i (8-bit). */
static inline int16_t h8_output(const uint8_t *src, const int32_t *pos, const int16_t *coef,
                                ptrdiff_t stride, int taps, int i)
{
    const uint8_t *s = src + pos[i];
    int32_t acc = 1 << 7;
    for (int m = 0; m < taps / 2; m++) {
        const int16_t *c = coef + 2 * ((ptrdiff_t)m * stride + i);
        acc += c[0] * s[2 * m] + c[1] * s[2 * m + 1];
    }
    acc >>= 8;
    return (int16_t)(acc < INT16_MIN ? INT16_MIN : acc > INT16_MAX ? INT16_MAX : acc);
}

static AIE_HSCALE8_FN(hscale8_c)
{
    for (int i = 0; i < w; i++)
        dst[i] = h8_output(src, pos, coef, stride, taps, i);
}

static AIE_HPAIR8_FN(hpair8_c)
{
    for (int i = 0; i < w; i++) {
        dst[2 * i] = h8_output(src_a, pos, coef, stride, taps, i);
        dst[2 * i + 1] = h8_output(src_b, pos, coef, stride, taps, i);
    }
}

static AIE_HSCALE16_FN(hscale16_c)
{
    const int sh = depth - 2;
    for (int i = 0; i < w; i++) {
        const uint16_t *s = src + pos[i];
        int32_t acc = 1 << (sh - 1);
        for (int m = 0; m < taps / 2; m++) {
            const int16_t *c = coef + 2 * ((ptrdiff_t)m * stride + i);
            acc += c[0] * s[2 * m] + c[1] * s[2 * m + 1];
        }
        dst[i] = acc >> sh;
    }
}

static AIE_PAIR16_FN(pair16_c)
{
    for (int x = 0; x < w; x++) {
        dst[2 * x] = a[x];
        dst[2 * x + 1] = b[x];
    }
}

static AIE_VSCALE8_FN(vscale8_c)
{
    for (int x = 0; x < w; x++) {
        int32_t acc = 1 << (AIE_RESAMPLE_VBITS8 + 5);
        for (int m = 0; m < taps / 2; m++)
            acc += coef[2 * m] * src[m][2 * x] + coef[2 * m + 1] * src[m][2 * x + 1];
        acc >>= AIE_RESAMPLE_VBITS8 + 6;
        dst[x] = (uint8_t)(acc < 0 ? 0 : acc > 255 ? 255 : acc);
    }
}

static AIE_VSCALE16_FN(vscale16_c)
{
    const int sh = AIE_RESAMPLE_VBITS16 + 16 - depth;
    const int32_t maxv = (1 << depth) - 1;
    for (int x = 0; x < w; x++) {
        int32_t acc = 1 << (sh - 1);
        for (int k = 0; k < taps; k++)
            acc += coef[k] * src[k][x];
        acc >>= sh;
        dst[x] = (uint16_t)(acc < 0 ? 0 : acc > maxv ? maxv : acc);
    }
}

void aie_resample_dsp_init(AieResampleDSP *dsp, unsigned cpu_flags)
{
    dsp->hscale8 = hscale8_c;
    dsp->hscale8_x2 = hscale8_c;
    dsp->hscale8_dn = hscale8_c;
    dsp->hpair8_dn = hpair8_c;
    dsp->hscale16 = hscale16_c;
    dsp->pair16 = pair16_c;
    dsp->vscale8 = vscale8_c;
    dsp->vscale16 = vscale16_c;
#if defined(__x86_64__) || defined(__i386__)
    if (!(cpu_flags & AIE_CPU_AVX2))
        return;
    aie_resample_dsp_init_avx2(dsp);
    if (!(cpu_flags & AIE_CPU_AVX512))
        return;
    aie_resample_dsp_init_avx512(dsp);
#else
    (void)cpu_flags;
#endif
}

static const char *const filter_names[AIE_FILTER_COUNT] = {
    "nearest", "bilinear", "bicubic", "lanczos", "spline36",
};

int aie_filter_parse(const char *name, AieFilter *out)
{
    for (int i = 0; name && i < AIE_FILTER_COUNT; i++)
        if (!strcmp(name, filter_names[i])) {
            *out = (AieFilter)i;
            return 0;
        }
    return AIE_EINVAL;
}

const char *aie_filter_name(AieFilter f)
{
    return (unsigned)f < AIE_FILTER_COUNT ? filter_names[f] : "unknown";
}
