/*
 * RAISR training: least squares per (bucket, phase), streamed.
 *
 * Cells with a target outside the guard's range (the 3x3 low-resolution range
 * widened by a quarter) are left out unless fit_clamped is set: the guard
 * clamps the output there anyway, and fitting them pulls the filters into
 * overshoot elsewhere (a bank trained on a 320x240 VP9 clip lost 2 dB to the
 * built-in one with them, and gained 0.25 dB without).
 *
 * Each high-resolution image gives its luma in 14-bit scale (HR). HR,
 * optionally blurred, is downscaled with our bicubic by the bank's scale,
 * optionally given Gaussian noise, and rounded to 8 bits: the low-resolution
 * image (LR) the filters will see. Every LR cell (every `step`-th in x and y)
 * adds its k x k patch p and bucket b (computed by the same rows code and
 * kernels as the upscaler) to
 *   A_b += p p^T                 (one matrix per bucket: the patch is shared
 *                                 by the cell's scale^2 phases)
 *   c_b,ph += p * HR(phase ph of the cell)
 * in exact integer arithmetic (int64), so the result does not depend on the
 * number of threads or the order in which rows are done. Memory is fixed:
 * per worker, the sums plus a 64-cell batch per bucket.
 *
 * Solving (aie_raisr_train_finish): per phase, the global filter from all
 * buckets, ridge-regularised towards the bicubic pre-upscale; per bucket, the
 * ridge solution pulled towards that global filter, with a pull that grows as
 * the bucket's samples shrink; below min_samples, the global filter itself.
 * Cholesky in double, then Q14 rounding with the DC gain kept exactly 1.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/util.h"
#include "aie/scale.h"
#include "dsp/resample.h"
#include "sr/raisr_internal.h"

#define BATCH 64

typedef struct Acc {
    uint64_t *ata;     /* [buckets][n][n], lower triangle used */
    uint64_t *atb;     /* [buckets][rr][n] */
    int64_t *count;    /* [buckets] */
    uint16_t *buf;     /* [buckets][BATCH][n + rr]: patches then targets */
    int *fill;         /* [buckets] */
} Acc;

struct AieRaisrTrainer {
    AieRaisrTrainParams p;
    int r, k, n, rr, buckets;
    AieRaisrHashParams hp;
    AieRaisrDSP dsp;
    unsigned cpu_flags;
    int nacc;
    Acc *acc;
    int64_t samples;
};

static void acc_free(Acc *a)
{
    free(a->ata);
    free(a->atb);
    free(a->count);
    free(a->buf);
    free(a->fill);
}

void aie_raisr_train_free(AieRaisrTrainer **pt)
{
    if (!pt || !*pt)
        return;
    AieRaisrTrainer *t = *pt;
    for (int i = 0; i < t->nacc; i++)
        acc_free(&t->acc[i]);
    free(t->acc);
    free(t);
    *pt = NULL;
}

int64_t aie_raisr_train_samples(const AieRaisrTrainer *t) { return t->samples; }

int aie_raisr_train_create(AieRaisrTrainer **out, const AieRaisrTrainParams *p, int threads,
                           unsigned cpu_flags, char *err, size_t errlen)
{
    *out = NULL;
    AieRaisrTrainParams q = *p;
    if (!q.k)
        q.k = 7;
    if (!q.nstrength)
        q.nstrength = 3;
    if (!q.ncoherence)
        q.ncoherence = 3;
    if (q.lambda <= 0)
        q.lambda = 1e-5;
    if (!q.min_samples)
        q.min_samples = 20;
    if (!q.step)
        q.step = 1;
    if (q.scale < 2 || q.scale > 4 || q.k < 3 || q.k > 7 || !(q.k & 1) || q.nstrength < 1 ||
        q.nstrength > 8 || q.ncoherence < 1 || q.ncoherence > 8 || q.nstrength * q.ncoherence > AIE_RAISR_MAX_BINS || q.step < 1 || q.blur < 0 || q.blur > 10 ||
        q.noise < 0 || q.noise > 100 || q.min_samples < 1 || threads < 1) {
        snprintf(err, errlen, "invalid training parameters (scale 2..4, kernel 3/5/7, strength x coherence bins at most 10)");
        return AIE_EINVAL;
    }
    int given = 0;
    for (int i = 0; i < 7; i++)
        given |= q.strength_thr[i] != 0 || q.coherence_thr[i] != 0;
    if (!given)
        aie_raisr_default_thresholds(q.nstrength, q.ncoherence, q.strength_thr, q.coherence_thr);
    for (int i = 1; i < q.nstrength - 1; i++)
        if (!(q.strength_thr[i] > q.strength_thr[i - 1])) {
            snprintf(err, errlen, "strength thresholds must ascend");
            return AIE_EINVAL;
        }
    for (int i = 0; i < q.ncoherence - 1; i++)
        if (!(q.coherence_thr[i] >= 0 && q.coherence_thr[i] <= 1 && (!i || q.coherence_thr[i] > q.coherence_thr[i - 1]))) {
            snprintf(err, errlen, "coherence thresholds must ascend within 0..1");
            return AIE_EINVAL;
        }
    AieRaisrTrainer *t = calloc(1, sizeof(*t));
    if (!t)
        return AIE_ENOMEM;
    t->p = q;
    t->r = q.scale;
    t->k = q.k;
    t->n = q.k * q.k;
    t->rr = q.scale * q.scale;
    t->buckets = AIE_RAISR_ANGLES * q.nstrength * q.ncoherence;
    t->hp.nstrength = q.nstrength;
    t->hp.ncoherence = q.ncoherence;
    memcpy(t->hp.strength_thr, q.strength_thr, sizeof(t->hp.strength_thr));
    memcpy(t->hp.coherence_thr, q.coherence_thr, sizeof(t->hp.coherence_thr));
    t->cpu_flags = cpu_flags;
    aie_raisr_dsp_init(&t->dsp, cpu_flags);
    t->nacc = threads;
    t->acc = calloc((size_t)threads, sizeof(Acc));
    if (!t->acc)
        goto nomem;
    const size_t nb = (size_t)t->buckets, n = (size_t)t->n, rr = (size_t)t->rr;
    for (int i = 0; i < threads; i++) {
        Acc *a = &t->acc[i];
        a->ata = calloc(nb * n * n, sizeof(uint64_t));
        a->atb = calloc(nb * rr * n, sizeof(uint64_t));
        a->count = calloc(nb, sizeof(int64_t));
        a->buf = malloc(nb * BATCH * (n + rr) * sizeof(uint16_t));
        a->fill = calloc(nb, sizeof(int));
        if (!a->ata || !a->atb || !a->count || !a->buf || !a->fill)
            goto nomem;
    }
    *out = t;
    return 0;
nomem:
    aie_raisr_train_free(&t);
    snprintf(err, errlen, "out of memory");
    return AIE_ENOMEM;
}

/* Add the batch of bucket b to its sums. */
static void flush(const AieRaisrTrainer *t, Acc *a, int b)
{
    const int n = t->n, rr = t->rr, m = a->fill[b];
    uint64_t *ata = a->ata + (size_t)b * (size_t)(n * n);
    uint64_t *atb = a->atb + (size_t)b * (size_t)(rr * n);
    const uint16_t *buf = a->buf + (size_t)b * BATCH * (size_t)(n + rr);
    for (int s = 0; s < m; s++) {
        const uint16_t *p = buf + (size_t)s * (size_t)(n + rr), *tg = p + n;
        for (int i = 0; i < n; i++) {
            const uint64_t pi = p[i];
            uint64_t *row = ata + (size_t)i * (size_t)n;
            for (int j = 0; j <= i; j++)
                row[j] += pi * p[j];
        }
        for (int ph = 0; ph < rr; ph++) {
            const uint64_t v = tg[ph];
            uint64_t *row = atb + (size_t)ph * (size_t)n;
            for (int i = 0; i < n; i++)
                row[i] += v * p[i];
        }
    }
    a->count[b] += m;
    a->fill[b] = 0;
}

typedef struct AddJob {
    AieRaisrTrainer *t;
    const uint8_t *lr;      /* LR plane, 8-bit */
    ptrdiff_t lstride;
    int lw, lh;
    const uint16_t *hr;     /* HR luma, 14-bit scale, lw * r x lh * r */
    ptrdiff_t hstride;      /* in samples */
    int nband;
    _Atomic int err;
    _Atomic long long cells;
} AddJob;

static void add_band(void *ctx, int index, int worker)
{
    AddJob *j = ctx;
    AieRaisrTrainer *t = j->t;
    Acc *a = &t->acc[worker];
    const int step = t->p.step, r = t->r, k = t->k, h = k / 2, n = t->n, rr = t->rr;
    /* bands on multiples of step so the sampled rows do not depend on banding */
    int rows = (j->lh + step - 1) / step;
    int y0 = (int)((int64_t)rows * index / j->nband) * step, y1 = (int)((int64_t)rows * (index + 1) / j->nband) * step;
    if (y1 > j->lh)
        y1 = j->lh;
    RaisrRows rw;
    if (aie_raisr_rows_init(&rw, j->lr, j->lstride, j->lw, j->lh, 8, k, &t->dsp, &t->hp)) {
        atomic_store(&j->err, AIE_ENOMEM);
        return;
    }
    const int16_t *src[8];
    long long cells = 0;
    for (int y = y0; y < y1; y += step) {
        aie_raisr_rows_prepare(&rw, y, src);
        for (int cx = 0; cx < j->lw; cx += step) {
            int b = rw.bucket[cx];
            if (!t->p.fit_clamped) { /* targets the guard would clamp: left out */
                int lo = 32767, hi = -32768;
                for (int i = h - 1; i <= h + 1; i++)
                    for (int q = -1; q <= 1; q++) {
                        int v = src[i][cx + q];
                        lo = v < lo ? v : lo;
                        hi = v > hi ? v : hi;
                    }
                int m = (hi - lo) >> 2, out = 0;
                lo -= m;
                hi += m;
                for (int py = 0; py < r; py++)
                    for (int px = 0; px < r; px++) {
                        int tv = j->hr[(ptrdiff_t)(y * r + py) * j->hstride + cx * r + px];
                        out |= tv < lo || tv > hi;
                    }
                if (out)
                    continue;
            }
            uint16_t *p = a->buf + ((size_t)b * BATCH + (size_t)a->fill[b]) * (size_t)(n + rr);
            for (int i = 0; i < k; i++)
                for (int q = 0; q < k; q++)
                    p[i * k + q] = (uint16_t)src[i][cx - h + q];
            for (int py = 0; py < r; py++)
                for (int px = 0; px < r; px++)
                    p[n + py * r + px] = j->hr[(ptrdiff_t)(y * r + py) * j->hstride + cx * r + px];
            if (++a->fill[b] == BATCH)
                flush(t, a, b);
            cells++;
        }
    }
    aie_raisr_rows_free(&rw);
    atomic_fetch_add(&j->cells, cells);
}

static int add_lr(AieRaisrTrainer *t, const uint8_t *lr, ptrdiff_t lstride, int lw, int lh, const uint16_t *hr,
                  ptrdiff_t hstride, AiePool *pool)
{
    if (pool && aie_pool_threads(pool) + 1 > t->nacc)
        return AIE_EINVAL;
    AddJob j = {.t = t, .lr = lr, .lstride = lstride, .lw = lw, .lh = lh, .hr = hr, .hstride = hstride};
    atomic_init(&j.err, 0);
    atomic_init(&j.cells, 0);
    j.nband = pool ? 4 * aie_pool_threads(pool) : 1;
    if (j.nband > lh)
        j.nband = lh;
    aie_pool_parallel_for(pool, j.nband, add_band, &j);
    t->samples += atomic_load(&j.cells);
    return atomic_load(&j.err);
}

int aie_raisr_train_add_pair(AieRaisrTrainer *t, const AieFrame *lr, const AieFrame *hr, AiePool *pool)
{
    if (!lr || !hr || lr->layout != AIE_LAYOUT_GRAY || lr->depth != 8 || hr->layout != AIE_LAYOUT_GRAY ||
        hr->depth != 14 || hr->width != lr->width * t->r || hr->height != lr->height * t->r ||
        lr->width < t->k + 2 || lr->height < t->k + 2)
        return AIE_EINVAL;
    return add_lr(t, lr->data[0], lr->stride[0], lr->width, lr->height, (const uint16_t *)(const void *)hr->data[0],
                  hr->stride[0] / 2, pool);
}

/* Separable Gaussian blur of a 14-bit plane in place (float rows). */
static int blur_plane(uint16_t *pl, int w, int h, double sigma)
{
    int rad = (int)ceil(3 * sigma);
    if (rad < 1)
        return 0;
    float *kern = calloc(2 * (size_t)rad + 1, sizeof(float));
    int m = w > h ? w : h;
    float *tmp = calloc((size_t)m * 2, sizeof(float));
    float *col = NULL;
    if (!kern || !tmp) {
        free(kern);
        free(tmp);
        return AIE_ENOMEM;
    }
    double s = 0;
    for (int i = -rad; i <= rad; i++)
        s += exp(-(double)i * i / (2 * sigma * sigma));
    for (int i = -rad; i <= rad; i++)
        kern[i + rad] = (float)(exp(-(double)i * i / (2 * sigma * sigma)) / s);
    col = tmp + m;
    for (int y = 0; y < h; y++) {
        uint16_t *row = pl + (size_t)y * (size_t)w;
        for (int x = 0; x < w; x++)
            tmp[x] = row[x];
        for (int x = 0; x < w; x++) {
            float v = 0;
            for (int i = -rad; i <= rad; i++) {
                int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;
                v += kern[i + rad] * tmp[xx];
            }
            row[x] = (uint16_t)(v + 0.5f);
        }
    }
    for (int x = 0; x < w; x++) {
        for (int y = 0; y < h; y++)
            tmp[y] = pl[(size_t)y * (size_t)w + (size_t)x];
        for (int y = 0; y < h; y++) {
            float v = 0;
            for (int i = -rad; i <= rad; i++) {
                int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;
                v += kern[i + rad] * tmp[yy];
            }
            col[y] = v;
        }
        for (int y = 0; y < h; y++)
            pl[(size_t)y * (size_t)w + (size_t)x] = (uint16_t)(col[y] + 0.5f);
    }
    free(kern);
    free(tmp);
    return 0;
}

int aie_raisr_train_add(AieRaisrTrainer *t, const AieFrame *hr, int64_t index, AiePool *pool)
{
    const int r = t->r;
    const int W = hr->width / r * r, H = hr->height / r * r, lw = W / r, lh = H / r;
    if (lw < t->k + 2 || lh < t->k + 2)
        return AIE_EINVAL;
    int e = 0;
    AieFrame *Y = NULL, *L = NULL, *L8 = NULL;
    AieScaler *down = NULL;
    uint16_t *target = NULL;
    if ((e = aie_frame_alloc(&Y, W, H, AIE_LAYOUT_GRAY, 14)) || (e = aie_frame_alloc(&L, lw, lh, AIE_LAYOUT_GRAY, 14)) ||
        (e = aie_frame_alloc(&L8, lw, lh, AIE_LAYOUT_GRAY, 8)))
        goto done;
    /* luma in 14-bit scale */
    const int d = hr->depth;
    const double unit = ldexp(1.0, 14 - d);
    for (int y = 0; y < H; y++) {
        uint16_t *o = (uint16_t *)(void *)(Y->data[0] + (ptrdiff_t)y * Y->stride[0]);
        if (hr->layout == AIE_LAYOUT_RGB || hr->layout == AIE_LAYOUT_RGBA) {
            for (int x = 0; x < W; x++) {
                double c[3];
                for (int p = 0; p < 3; p++) {
                    const uint8_t *row = hr->data[p] + (ptrdiff_t)y * hr->stride[p];
                    c[p] = d > 8 ? ((const uint16_t *)(const void *)row)[x] : row[x];
                }
                double v = (0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]) * unit + 0.5;
                o[x] = (uint16_t)(v > 16383 ? 16383 : v);
            }
        } else {
            const uint8_t *row = hr->data[0] + (ptrdiff_t)y * hr->stride[0];
            for (int x = 0; x < W; x++) {
                int v = d > 8 ? ((const uint16_t *)(const void *)row)[x] : row[x];
                o[x] = (uint16_t)(d <= 14 ? v << (14 - d) : v >> (d - 14));
            }
        }
    }
    /* the target keeps the sharp luma; the degradation may blur a copy */
    target = malloc(sizeof(uint16_t) * (size_t)W * (size_t)H);
    if (!target) {
        e = AIE_ENOMEM;
        goto done;
    }
    for (int y = 0; y < H; y++)
        memcpy(target + (size_t)y * (size_t)W, Y->data[0] + (ptrdiff_t)y * Y->stride[0], sizeof(uint16_t) * (size_t)W);
    if (t->p.blur > 0) {
        /* blur the copy in Y (contiguous rows required: stride may differ) */
        uint16_t *tmp = malloc(sizeof(uint16_t) * (size_t)W * (size_t)H);
        if (!tmp) {
            e = AIE_ENOMEM;
            goto done;
        }
        memcpy(tmp, target, sizeof(uint16_t) * (size_t)W * (size_t)H);
        e = blur_plane(tmp, W, H, t->p.blur);
        for (int y = 0; !e && y < H; y++)
            memcpy(Y->data[0] + (ptrdiff_t)y * Y->stride[0], tmp + (size_t)y * (size_t)W, sizeof(uint16_t) * (size_t)W);
        free(tmp);
        if (e)
            goto done;
    }
    AieScaleParams sp = {.src_w = W, .src_h = H, .dst_w = lw, .dst_h = lh, .layout = AIE_LAYOUT_GRAY,
                         .depth = 14, .filter = AIE_FILTER_BICUBIC};
    if ((e = aie_scaler_create(&down, &sp, t->cpu_flags)) || (e = aie_scaler_scale(down, Y, L, pool)))
        goto done;
    /* noise, then 8 bits */
    uint64_t seed = t->p.seed ^ ((uint64_t)index * 0xd1b54a32d192ed03ull);
    for (int y = 0; y < lh; y++) {
        const uint16_t *s = (const uint16_t *)(const void *)(L->data[0] + (ptrdiff_t)y * L->stride[0]);
        uint8_t *o = L8->data[0] + (ptrdiff_t)y * L8->stride[0];
        for (int x = 0; x < lw; x++) {
            double v = s[x] / 64.0;
            if (t->p.noise > 0)
                v += t->p.noise * aie_gauss(&seed);
            v = floor(v + 0.5);
            o[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    e = add_lr(t, L8->data[0], L8->stride[0], lw, lh, target, W, pool);
done:
    free(target);
    aie_scaler_free(&down);
    aie_frame_unref(&Y);
    aie_frame_unref(&L);
    aie_frame_unref(&L8);
    return e;
}

/* The 8 flips and transposes of every sample (the dihedral group of the
 * square), added to the sums at the end: transform T maps tap (i, j) to
 * tap[T], phase ph to phase[T] and the angle bin by angle[T] (a transpose
 * negates a = xx - yy, a flip negates b = 2 xy). Exactly what adding the
 * transformed samples would give, at no cost per sample. */
static int symmetrize(AieRaisrTrainer *t, Acc *a)
{
    const int n = t->n, rr = t->rr, nb = t->buckets, k = t->k, r = t->r, ns = t->p.nstrength * t->p.ncoherence;
    uint64_t *ata = calloc((size_t)nb * (size_t)(n * n), sizeof(uint64_t));
    uint64_t *atb = calloc((size_t)nb * (size_t)(rr * n), sizeof(uint64_t));
    int64_t *count = calloc((size_t)nb, sizeof(int64_t));
    if (!ata || !atb || !count) {
        free(ata);
        free(atb);
        free(count);
        return AIE_ENOMEM;
    }
    int tap[64] = {0}, phase[16] = {0};
    for (int T = 0; T < 8; T++) {
        const int tr = T & 1, fx = T >> 1 & 1, fy = T >> 2 & 1;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                int ii = tr ? j : i, jj = tr ? i : j;
                if (fx)
                    jj = k - 1 - jj;
                if (fy)
                    ii = k - 1 - ii;
                tap[i * k + j] = ii * k + jj;
            }
        for (int py = 0; py < r; py++)
            for (int px = 0; px < r; px++) {
                int qy = tr ? px : py, qx = tr ? py : px;
                if (fx)
                    qx = r - 1 - qx;
                if (fy)
                    qy = r - 1 - qy;
                phase[py * r + px] = qy * r + qx;
            }
        for (int b = 0; b < nb; b++) {
            int ang = b / ns, rest = b % ns;
            if (tr)
                ang = (35 - ang) % 24;
            if (fx ^ fy)
                ang = 23 - ang;
            const int b2 = ang * ns + rest;
            const uint64_t *sa = a->ata + (size_t)b * (size_t)(n * n);
            uint64_t *da = ata + (size_t)b2 * (size_t)(n * n);
            for (int i = 0; i < n; i++)
                for (int j = 0; j <= i; j++) {
                    int ti = tap[i], tj = tap[j];
                    if (ti < tj) {
                        int x = ti;
                        ti = tj;
                        tj = x;
                    }
                    da[ti * n + tj] += sa[i * n + j];
                }
            for (int ph = 0; ph < rr; ph++) {
                const uint64_t *sb = a->atb + ((size_t)b * (size_t)rr + (size_t)ph) * (size_t)n;
                uint64_t *db = atb + ((size_t)b2 * (size_t)rr + (size_t)phase[ph]) * (size_t)n;
                for (int i = 0; i < n; i++)
                    db[tap[i]] += sb[i];
            }
            count[b2] += a->count[b];
        }
    }
    free(a->ata);
    free(a->atb);
    free(a->count);
    a->ata = ata;
    a->atb = atb;
    a->count = count;
    return 0;
}

/* Solve (M + lambda I) w = v + lambda w0 by Cholesky (M symmetric, lower
 * triangle given) with sum(w) = 1. 0, or -1 when not positive definite. */
static int ridge_solve(const double *M, const double *v, const double *w0, double lambda, int n, double *w,
                       double *Lw)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            double s = M[i * n + j] + (i == j ? lambda : 0);
            for (int q = 0; q < j; q++)
                s -= Lw[i * n + q] * Lw[j * n + q];
            if (i == j) {
                if (!(s > 0))
                    return -1;
                Lw[i * n + i] = sqrt(s);
            } else {
                Lw[i * n + j] = s / Lw[j * n + j];
            }
        }
    for (int i = 0; i < n; i++) { /* L y = b */
        double s = v[i] + lambda * w0[i];
        for (int q = 0; q < i; q++)
            s -= Lw[i * n + q] * w[q];
        w[i] = s / Lw[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) { /* L^T w = y */
        double s = w[i];
        for (int q = i + 1; q < n; q++)
            s -= Lw[q * n + i] * w[q];
        w[i] = s / Lw[i * n + i];
    }
    /* The DC gain held at exactly 1 (flat areas stay flat): the minimum
     * under the constraint sum(w) = 1 is w + z (1 - sum(w)) / sum(z) with
     * (M + lambda I) z = 1. Rounding the gain afterwards instead would move
     * every output by (1 - sum(w)) times its mean level. */
    double z[64], sw = 0, sz = 0;
    for (int i = 0; i < n; i++) {
        double s = 1.0;
        for (int q = 0; q < i; q++)
            s -= Lw[i * n + q] * z[q];
        z[i] = s / Lw[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = z[i];
        for (int q = i + 1; q < n; q++)
            s -= Lw[q * n + i] * z[q];
        z[i] = s / Lw[i * n + i];
    }
    for (int i = 0; i < n; i++) {
        sw += w[i];
        sz += z[i];
    }
    if (!(sz > 0))
        return -1;
    for (int i = 0; i < n; i++)
        w[i] += z[i] * (1.0 - sw) / sz;
    return 0;
}

/* The scale of the ridge: the energy of the patches without their mean,
 * trace(M) - 1'M1 / n (M given by its lower triangle). The plain trace is
 * dominated by the mean level (a sample is about 8000 in 14-bit scale, its
 * detail a few hundred), and a ridge on that scale flattens every filter
 * towards its prior. */
static double detail_trace(const double *M, int n)
{
    double tr = 0, all = 0;
    for (int i = 0; i < n; i++) {
        tr += M[i * n + i];
        for (int j = 0; j <= i; j++)
            all += (i == j ? 1.0 : 2.0) * M[i * n + j];
    }
    double d = tr - all / n;
    return d > tr * 1e-9 ? d : tr * 1e-9;
}

/* Q14 taps with the DC gain exactly 1; -1 when out of the kernel's range. */
static int quantize(const double *w, int n, int16_t *q)
{
    int sum = 0, big = 0, sum_abs = 0;
    for (int i = 0; i < n; i++) {
        double v = floor(w[i] * 16384.0 + 0.5);
        if (!(v > -32768 && v < 32768))
            return -1;
        q[i] = (int16_t)v;
        sum += q[i];
        if (abs(q[i]) > abs(q[big]))
            big = i;
    }
    int fixed = q[big] + (16384 - sum);
    if (fixed <= -32768 || fixed >= 32768)
        return -1;
    q[big] = (int16_t)fixed;
    for (int i = 0; i < n; i++)
        sum_abs += abs(q[i]);
    return sum_abs < (8 << 14) ? 0 : -1;
}

/* The bicubic pre-upscale of phase (py, px) as a k x k kernel (sum 1; the
 * taps outside a small kernel dropped and the rest renormalised). */
static int bicubic_prior(int r, int k, double *w0 /* [rr][k*k] */)
{
    AieResampleFilter f;
    const int ns = 64, nd = 64 * r, c = 32, h = k / 2;
    int e = aie_resample_filter_init(&f, AIE_FILTER_BICUBIC, ns, nd, (int64_t)2 * (ns - nd), (int64_t)4 * ns,
                                     (int64_t)4 * nd, 14);
    if (e)
        return e;
    double t1[4][8] = {{0}};
    for (int ph = 0; ph < r; ph++) {
        int i = c * r + ph;
        for (int tap = 0; tap < f.taps; tap++) {
            int j = f.pos[i] + tap - c + h;
            double cf = f.coef[2 * ((size_t)(tap >> 1) * (size_t)f.stride + (size_t)i) + (size_t)(tap & 1)] / 16384.0;
            if (cf != 0 && j >= 0 && j < k) /* small kernels: the taps that fit */
                t1[ph][j] += cf;
        }
        double sum = 0;
        for (int j = 0; j < k; j++)
            sum += t1[ph][j];
        for (int j = 0; j < k && sum != 0; j++)
            t1[ph][j] /= sum;
    }
    aie_resample_filter_free(&f);
    for (int py = 0; py < r; py++)
        for (int px = 0; px < r; px++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                    w0[(py * r + px) * k * k + i * k + j] = t1[py][i] * t1[px][j];
    return 0;
}

int aie_raisr_train_finish(AieRaisrTrainer *t, AieRaisrBank **out, char *err, size_t errlen)
{
    *out = NULL;
    const int n = t->n, rr = t->rr, nb = t->buckets, k = t->k;
    /* merge every worker into acc[0] */
    for (int i = 0; i < t->nacc; i++)
        for (int b = 0; b < nb; b++)
            if (t->acc[i].fill[b])
                flush(t, &t->acc[i], b);
    Acc *a = &t->acc[0];
    for (int i = 1; i < t->nacc; i++) {
        Acc *o = &t->acc[i];
        for (size_t q = 0; q < (size_t)nb * (size_t)(n * n); q++)
            a->ata[q] += o->ata[q];
        for (size_t q = 0; q < (size_t)nb * (size_t)(rr * n); q++)
            a->atb[q] += o->atb[q];
        for (int b = 0; b < nb; b++)
            a->count[b] += o->count[b];
    }
    if (t->samples == 0) {
        snprintf(err, errlen, "no training samples");
        return AIE_EINVAL;
    }
    if (!t->p.no_symmetry && symmetrize(t, a)) {
        snprintf(err, errlen, "out of memory");
        return AIE_ENOMEM;
    }
    AieRaisrBank *bank;
    int e = aie_raisr_bank_alloc(&bank, t->r, k, t->p.nstrength, t->p.ncoherence, t->p.strength_thr, t->p.coherence_thr);
    if (e) {
        snprintf(err, errlen, "out of memory");
        return e;
    }
    double *M = calloc((size_t)n * (size_t)n, sizeof(double)), *L = calloc((size_t)n * (size_t)n, sizeof(double));
    double *v = calloc((size_t)n, sizeof(double)), *w = calloc((size_t)n, sizeof(double));
    double *w0 = calloc((size_t)rr * (size_t)n, sizeof(double)), *wg = calloc((size_t)rr * (size_t)n, sizeof(double));
    int16_t q[64] = {0};
    if (!M || !L || !v || !w || !w0 || !wg) {
        e = AIE_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if ((e = bicubic_prior(t->r, k, w0))) {
        snprintf(err, errlen, "cannot build the bicubic prior");
        goto done;
    }
    /* the global filter of each phase */
    int64_t N = 0;
    for (int b = 0; b < nb; b++)
        N += a->count[b];
    double tr = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            double s = 0;
            for (int b = 0; b < nb; b++)
                s += (double)a->ata[(size_t)b * (size_t)(n * n) + (size_t)(i * n + j)];
            M[i * n + j] = s / (double)N;
        }
    tr = detail_trace(M, n);
    for (int ph = 0; ph < rr; ph++) {
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int b = 0; b < nb; b++)
                s += (double)a->atb[((size_t)b * (size_t)rr + (size_t)ph) * (size_t)n + (size_t)i];
            v[i] = s / (double)N;
        }
        if (ridge_solve(M, v, w0 + ph * n, t->p.lambda * tr / n, n, wg + ph * n, L))
            memcpy(wg + ph * n, w0 + ph * n, sizeof(double) * (size_t)n);
    }
    int64_t fallback = 0;
    for (int b = 0; b < nb; b++) {
        const int64_t cnt = a->count[b];
        const int use_global = cnt < t->p.min_samples;
        double lam = 0;
        if (!use_global) {
            double trb = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j <= i; j++)
                    M[i * n + j] = (double)a->ata[(size_t)b * (size_t)(n * n) + (size_t)(i * n + j)] / (double)cnt;
            trb = detail_trace(M, n);
            lam = trb / n * (t->p.lambda + (double)t->p.min_samples / (double)cnt);
        } else {
            fallback++;
        }
        for (int ph = 0; ph < rr; ph++) {
            const double *src = wg + ph * n;
            if (!use_global) {
                for (int i = 0; i < n; i++)
                    v[i] = (double)a->atb[((size_t)b * (size_t)rr + (size_t)ph) * (size_t)n + (size_t)i] / (double)cnt;
                if (ridge_solve(M, v, wg + ph * n, lam, n, w, L) == 0)
                    src = w;
            }
            if (quantize(src, n, q) && quantize(wg + ph * n, n, q) && quantize(w0 + ph * n, n, q)) {
                e = AIE_EINVAL;
                snprintf(err, errlen, "filter weights out of range");
                goto done;
            }
            int16_t *dst = bank->w + ((size_t)b * (size_t)rr + (size_t)ph) * AIE_RAISR_TAPS;
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                    dst[8 * i + j] = q[i * k + j];
        }
    }
    bank->info.samples = t->samples;
    bank->info.fallback = fallback;
    memcpy(bank->info.desc, t->p.desc, sizeof(bank->info.desc));
    bank->info.desc[AIE_RAISR_DESC_SIZE - 1] = 0;
done:
    free(M);
    free(L);
    free(v);
    free(w);
    free(w0);
    free(wg);
    if (e)
        aie_raisr_bank_free(&bank);
    else
        *out = bank;
    return e;
}
