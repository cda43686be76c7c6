/*
 * CNN training (aie/nn_train.h): the forward and backward passes of a chain
 * of layers over one patch, the batch on the pool with a deterministic sum,
 * Adam with a cosine schedule, and validation.
 *
 * Tensors are the inference engine's NCHW16c (dsp/conv.h) with a border of
 * one zero pixel on every side (P + 2 squared pixels per plane), so that a
 * 3x3 "same" convolution is the engine's valid convolution of the padded
 * window. The input image has 4 lanes per block (RGB and a zero lane).
 * Parameters live in the packed layout of aie_conv_pack() (padding lanes
 * stay zero: their gradient is zero), followed by the biases and PReLU
 * slopes, padded to whole blocks.
 *
 * Backward of a convolution z = W * a + b, a' = act(z):
 *   gz = ga' * act'(z)                       (in place in ga', zero border)
 *   gb += sum gz, gslope += sum over z < 0 of ga' * z
 *   gW += gz (x) a                           (dsp/nntrain.h: the weight gradient)
 *   ga += conv(gz padded, W transposed and flipped)   (dsp/conv.h)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/util.h"
#include "aie/nn_train.h"
#include "dsp/conv.h"
#include "dsp/nntrain.h"
#include "nn/nn_internal.h"
#include "nn/train_internal.h"

#define B AIE_CONV_BLOCK

static int blocks(int c) { return (c + B - 1) / B; }

/* ---- architectures ---- */

static int in_channels_of(const AieNntArch *a, int j) { return j == 0 ? 3 : a->l[j - 1].cout; }

int aie_nnt_arch_check(const AieNntArch *a)
{
    if (a->scale < 1 || a->scale > 4 || a->n < 1 || a->n > AIE_NNT_MAX_LAYERS || a->skip < 0 ||
        a->skip > AIE_NNT_SKIP_NEAREST)
        return AIE_EINVAL;
    for (int j = 0; j < a->n; j++) {
        const AieNntLayer *l = &a->l[j];
        if (l->op == AIE_NNT_CONV) {
            if ((l->k != 1 && l->k != 3) || l->cout < 1 || l->cout > AIE_NNT_MAX_CHANNELS || l->act < 0 ||
                l->act > AIE_NNT_ACT_PRELU || !isfinite(l->slope))
                return AIE_EINVAL;
        } else if (l->op == AIE_NNT_ADD) {
            if (j < 2 || l->from < 0 || l->from >= j - 1 || a->l[l->from].cout != a->l[j - 1].cout ||
                l->cout != a->l[j - 1].cout)
                return AIE_EINVAL;
        } else {
            return AIE_EINVAL;
        }
    }
    const AieNntLayer *last = &a->l[a->n - 1];
    if (last->op != AIE_NNT_CONV || last->cout != 3 * a->scale * a->scale)
        return AIE_EINVAL;
    return 0;
}

int aie_nnt_arch_parse(AieNntArch *a, const char *name, int scale)
{
    memset(a, 0, sizeof(*a));
    int c = 0, n = 0, len = 0;
    if (!name || sscanf(name, "c%dx%d%n", &c, &n, &len) != 2 || c < 4 || c > AIE_NNT_MAX_CHANNELS || n < 1 ||
        n > 24 || scale < 2 || scale > 4)
        return AIE_EINVAL;
    const char *suf = name + len;
    int residual = 0;
    if (!strcmp(suf, "r") && n >= 2)
        residual = 1;
    else if (*suf)
        return AIE_EINVAL;
    snprintf(a->name, sizeof(a->name), "%s", name);
    a->scale = scale;
    a->skip = AIE_NNT_SKIP_BICUBIC;
    for (int j = 0; j < n; j++)
        a->l[a->n++] = (AieNntLayer){.op = AIE_NNT_CONV, .k = 3, .cout = c, .act = AIE_NNT_ACT_PRELU, .slope = 0.1f};
    if (residual)
        a->l[a->n++] = (AieNntLayer){.op = AIE_NNT_ADD, .cout = c, .from = 0};
    a->l[a->n++] = (AieNntLayer){.op = AIE_NNT_CONV, .k = 3, .cout = 3 * scale * scale, .act = AIE_NNT_ACT_NONE};
    return aie_nnt_arch_check(a);
}

double aie_nnt_arch_macs(const AieNntArch *a)
{
    double m = 0;
    for (int j = 0; j < a->n; j++)
        if (a->l[j].op == AIE_NNT_CONV)
            m += (double)in_channels_of(a, j) * a->l[j].cout * a->l[j].k * a->l[j].k;
    return m / ((double)a->scale * a->scale);
}

size_t aie_nnt_arch_params(const AieNntArch *a)
{
    size_t n = 0;
    for (int j = 0; j < a->n; j++) {
        const AieNntLayer *l = &a->l[j];
        if (l->op != AIE_NNT_CONV)
            continue;
        n += (size_t)in_channels_of(a, j) * l->cout * l->k * l->k + l->cout;
        if (l->act == AIE_NNT_ACT_PRELU)
            n += l->cout;
    }
    return n;
}

/* ---- parameters ---- */

/* Offsets of every convolution's packed weights, bias and slopes in theta. */
static size_t layout_params(const AieNntArch *a, Conv *cv)
{
    size_t off = 0;
    for (int j = 0; j < a->n; j++) {
        const AieNntLayer *l = &a->l[j];
        Conv *c = &cv[j];
        memset(c, 0, sizeof(*c));
        if (l->op != AIE_NNT_CONV)
            continue;
        c->cin = in_channels_of(a, j);
        c->cout = l->cout;
        c->k = l->k;
        c->act = l->act;
        c->slope = l->slope;
        c->lanes = j == 0 ? 4 : B;
        c->wn = aie_conv_packed_size(c->cout, c->cin, c->k, c->k);
        c->w_off = off;
        off += c->wn;
        c->b_off = off;
        off += (size_t)blocks(c->cout) * B;
        c->s_off = off;
        if (c->act == AIE_NNT_ACT_PRELU)
            off += (size_t)blocks(c->cout) * B;
        c->wtn = aie_conv_packed_size(c->cin, c->cout, c->k, c->k);
    }
    return off;
}

/* Packed index of w(o, i, ky, kx). */
static size_t widx(const Conv *c, int o, int i, int t)
{
    return (((size_t)(o / B) * (size_t)c->cin + (size_t)i) * (size_t)(c->k * c->k) + (size_t)t) * B + (size_t)(o % B);
}

void aie_nnt_unpack(const AieNnTrainer *t, int j, float *w, float *b, float *s)
{
    const Conv *c = &t->cv[j];
    const float *th = t->theta;
    const int kk = c->k * c->k;
    for (int o = 0; o < c->cout; o++) {
        for (int i = 0; i < c->cin; i++)
            for (int q = 0; q < kk; q++)
                w[((size_t)o * c->cin + i) * kk + q] = th[c->w_off + widx(c, o, i, q)];
        b[o] = th[c->b_off + o];
        if (s)
            s[o] = c->act == AIE_NNT_ACT_PRELU ? th[c->s_off + o] : 0.0f;
    }
}

/* He initialisation; the last convolution starts small, so the network
 * starts close to its skip. */
static void init_params(AieNnTrainer *t)
{
    uint64_t s = t->p.seed * 0x2545f4914f6cdd1dull + 1;
    const AieNntArch *a = &t->p.arch;
    memset(t->theta, 0, sizeof(float) * t->np);
    for (int j = 0; j < a->n; j++) {
        const Conv *c = &t->cv[j];
        if (a->l[j].op != AIE_NNT_CONV)
            continue;
        const double sd = sqrt(2.0 / (c->cin * c->k * c->k)) * (j == a->n - 1 ? 0.1 : 1.0);
        for (int o = 0; o < c->cout; o++)
            for (int i = 0; i < c->cin; i++)
                for (int q = 0; q < c->k * c->k; q++)
                    t->theta[c->w_off + widx(c, o, i, q)] = (float)(sd * aie_gauss(&s));
        if (c->act == AIE_NNT_ACT_PRELU)
            for (int o = 0; o < c->cout; o++)
                t->theta[c->s_off + o] = c->slope;
    }
}

/* W transposed and flipped, packed: wt(i, o, k-1-ky, k-1-kx) = w(o, i, ky, kx). */
static void pack_transposed(AieNnTrainer *t)
{
    for (int j = 0; j < t->p.arch.n; j++) {
        const Conv *c = &t->cv[j];
        if (t->p.arch.l[j].op != AIE_NNT_CONV || j == 0)
            continue;
        Conv ct = {.cin = c->cout, .cout = c->cin, .k = c->k};
        float *wt = t->wt[j];
        const int kk = c->k * c->k;
        memset(wt, 0, sizeof(float) * c->wtn);
        for (int o = 0; o < c->cout; o++)
            for (int i = 0; i < c->cin; i++)
                for (int q = 0; q < kk; q++)
                    wt[widx(&ct, i, o, kk - 1 - q)] = t->theta[c->w_off + widx(c, o, i, q)];
    }
}

/* ---- per-worker scratch ---- */

static float *falloc(size_t n)
{
    size_t bytes = (sizeof(float) * n + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p)
        memset(p, 0, bytes ? bytes : 64);
    return p;
}

static void work_free(Work *w, int n)
{
    if (!w)
        return;
    free(w->in);
    for (int j = 0; j < n; j++) {
        if (w->z[j] != w->a[j])
            free(w->z[j]);
        free(w->a[j]);
        free(w->ga[j]);
    }
    free(w->tmp);
    free(w->out);
    free(w->skip);
    free(w->ghr);
    free(w->lr);
    free(w->hr);
}

static int work_alloc(const AieNnTrainer *t, Work *w)
{
    const AieNntArch *a = &t->p.arch;
    const size_t pp = (size_t)t->pp * t->pp, hrn = 3 * (size_t)t->hp * t->hp;
    int maxb = 1;
    memset(w, 0, sizeof(*w));
    if (!(w->in = falloc(pp * 4)))
        return AIE_ENOMEM;
    for (int j = 0; j < a->n; j++) {
        const size_t n = (size_t)blocks(a->l[j].cout) * B * pp;
        maxb = blocks(a->l[j].cout) > maxb ? blocks(a->l[j].cout) : maxb;
        if (!(w->a[j] = falloc(n)) || !(w->ga[j] = falloc(n)))
            return AIE_ENOMEM;
        if (a->l[j].op == AIE_NNT_CONV && a->l[j].act != AIE_NNT_ACT_NONE) {
            if (!(w->z[j] = falloc(n)))
                return AIE_ENOMEM;
        } else {
            w->z[j] = w->a[j];
        }
    }
    if (!(w->tmp = falloc((size_t)maxb * B * pp)) || !(w->out = falloc(hrn)) || !(w->skip = falloc(hrn)) ||
        !(w->ghr = falloc(hrn)) || !(w->lr = falloc(3 * (size_t)t->p.patch * t->p.patch)) || !(w->hr = falloc(hrn)))
        return AIE_ENOMEM;
    return 0;
}

/* ---- creation ---- */

void aie_nnt_free(AieNnTrainer **pt)
{
    AieNnTrainer *t = pt ? *pt : NULL;
    if (!t)
        return;
    if (t->work)
        for (int i = 0; i < t->nwork; i++)
            work_free(&t->work[i], t->p.arch.n);
    free(t->work);
    for (int j = 0; j < AIE_NNT_MAX_LAYERS; j++)
        free(t->wt[j]);
    free(t->theta);
    free(t->best);
    free(t->m);
    free(t->v);
    free(t->grad);
    free(t->gbuf);
    free(t->sloss);
    free(t->bad);
    free(t->zero);
    free(t->cidx);
    free(t->cwt);
    for (int i = 0; i < t->npairs; i++) {
        free(t->pairs[i].lr);
        free(t->pairs[i].hr);
    }
    free(t->pairs);
    free(t->val_lr);
    free(t->val_hr);
    free(t);
    *pt = NULL;
}

static void defaults(AieNntParams *p)
{
    if (!p->patch)
        p->patch = 48;
    if (!p->batch)
        p->batch = 16;
    if (!(p->lr > 0))
        p->lr = 1e-3;
    if (!(p->lr_min > 0))
        p->lr_min = 0.02;
    if (p->iters <= 0)
        p->iters = 100000;
    if (!p->val_patches)
        p->val_patches = 256;
    if (p->threads < 1)
        p->threads = 1;
}

/* (Re)build everything that depends on the architecture and sizes. */
static int build(AieNnTrainer *t)
{
    const AieNntParams *p = &t->p;
    t->pp = p->patch + 2;
    t->hp = p->patch * p->arch.scale;
    t->np = layout_params(&p->arch, t->cv);
    t->nwork = p->threads;
    t->theta = falloc(t->np);
    t->best = falloc(t->np);
    t->m = falloc(t->np);
    t->v = falloc(t->np);
    t->grad = falloc(t->np);
    t->gbuf = falloc(t->np * (size_t)p->batch);
    t->sloss = calloc((size_t)(p->batch > p->val_patches ? p->batch : p->val_patches), sizeof(double) * 2);
    t->bad = calloc((size_t)p->batch, sizeof(int));
    t->work = calloc((size_t)t->nwork, sizeof(Work));
    t->zero = falloc(AIE_NNT_MAX_CHANNELS + B);
    free(t->cidx);
    free(t->cwt);
    t->cidx = malloc(sizeof(int) * 4 * (size_t)t->hp);
    t->cwt = malloc(sizeof(float) * 4 * (size_t)t->hp);
    if (!t->cidx || !t->cwt)
        return AIE_ENOMEM;
    for (int u = 0; u < t->hp; u++)
        aie_nn_cubic_src(u, p->patch, t->hp, t->cidx + 4 * u, t->cwt + 4 * u);
    if (!t->zero || !t->theta || !t->best || !t->m || !t->v || !t->grad || !t->gbuf || !t->sloss || !t->work || !t->bad)
        return AIE_ENOMEM;
    for (int j = 0; j < p->arch.n; j++)
        if (p->arch.l[j].op == AIE_NNT_CONV && j > 0 && !(t->wt[j] = falloc(t->cv[j].wtn)))
            return AIE_ENOMEM;
    for (int i = 0; i < t->nwork; i++)
        if (work_alloc(t, &t->work[i]))
            return AIE_ENOMEM;
    return 0;
}

int aie_nnt_create(AieNnTrainer **out, const AieNntParams *p, char *err, size_t errlen)
{
    *out = NULL;
    AieNnTrainer *t = calloc(1, sizeof(*t));
    if (!t)
        return AIE_ENOMEM;
    t->p = *p;
    defaults(&t->p);
    if (aie_nnt_arch_check(&t->p.arch) || t->p.patch < 4 || t->p.patch > 512 || t->p.batch < 1 ||
        t->p.batch > 1024 || t->p.val_patches < 1 || t->p.val_patches > 4096 || (t->p.loss != AIE_NNT_L1 && t->p.loss != AIE_NNT_L2)) {
        aie_errf(err, errlen, "invalid training parameters");
        free(t);
        return AIE_EINVAL;
    }
    aie_conv_dsp_init(&t->conv, t->p.cpu_flags);
    aie_nntrain_dsp_init(&t->dsp, t->p.cpu_flags);
    t->best_gain = -1e9;
    t->best_iter = -1;
    int e = build(t);
    if (e) {
        aie_errf(err, errlen, "%s", aie_strerror(e));
        aie_nnt_free(&t);
        return e;
    }
    init_params(t);
    memcpy(t->best, t->theta, sizeof(float) * t->np);
    pack_transposed(t);
    *out = t;
    return 0;
}

const AieNntParams *aie_nnt_params(const AieNnTrainer *t) { return &t->p; }
int64_t aie_nnt_iteration(const AieNnTrainer *t) { return t->iter; }
void aie_nnt_set_iters(AieNnTrainer *t, int64_t iters) { t->p.iters = iters > 0 ? iters : 1; }
double aie_nnt_best_gain(const AieNnTrainer *t, int64_t *iter)
{
    if (iter)
        *iter = t->best_iter;
    return t->best_gain;
}

int aie_nnt_add_pair(AieNnTrainer *t, const uint8_t *lr, int lw, int lh, const uint8_t *hr, int validation)
{
    const int r = t->p.arch.scale;
    if (lw < t->p.patch || lh < t->p.patch)
        return AIE_EINVAL;
    if (t->npairs == t->cap) {
        int c = t->cap ? 2 * t->cap : 16;
        Pair *np = realloc(t->pairs, sizeof(*np) * (size_t)c);
        if (!np)
            return AIE_ENOMEM;
        t->pairs = np;
        t->cap = c;
    }
    Pair *q = &t->pairs[t->npairs];
    const size_t ln = 3 * (size_t)lw * lh, hn = ln * (size_t)r * r;
    q->w = lw;
    q->h = lh;
    q->val = !!validation;
    q->lr = malloc(ln);
    q->hr = malloc(hn);
    if (!q->lr || !q->hr) {
        free(q->lr);
        free(q->hr);
        return AIE_ENOMEM;
    }
    memcpy(q->lr, lr, ln);
    memcpy(q->hr, hr, hn);
    t->npairs++;
    if (q->val)
        t->nval++;
    else
        t->ntrain++;
    t->val_ready = 0;
    return 0;
}

int aie_nnt_set_val_patches(AieNnTrainer *t, int n)
{
    if (n < 1 || n > 4096)
        return AIE_EINVAL;
    if (n == t->p.val_patches)
        return 0;
    const int need = t->p.batch > n ? t->p.batch : n;
    double *sl = calloc((size_t)need, sizeof(double) * 2);
    if (!sl)
        return AIE_ENOMEM;
    free(t->sloss);
    t->sloss = sl;
    t->p.val_patches = n;
    t->val_ready = 0;
    /* gains on another set do not compare */
    t->best_gain = -1e9;
    t->best_iter = -1;
    memcpy(t->best, t->theta, sizeof(float) * t->np);
    return 0;
}

int aie_nnt_hold_out(AieNnTrainer *t, int i)
{
    if (i < 0 || i >= t->npairs)
        return AIE_EINVAL;
    if (!t->pairs[i].val) {
        t->pairs[i].val = 1;
        t->ntrain--;
        t->nval++;
        t->val_ready = 0;
    }
    return 0;
}

void aie_nnt_pairs(const AieNnTrainer *t, int *train, int *val)
{
    *train = t->ntrain;
    *val = t->nval;
}

/* ---- patches ---- */

/* Patch of pair q at (x0, y0) (low resolution) under dihedral transform d
 * (bit 0: transpose, 1: flip rows, 2: flip columns) into lr [3][P][P] and
 * hr [3][rP][rP], 0..1. */
static void cut(const AieNnTrainer *t, const Pair *q, int x0, int y0, int d, float *lr, float *hr)
{
    const int P = t->p.patch, r = t->p.arch.scale;
    for (int pass = 0; pass < 2; pass++) {
        const int n = pass ? P * r : P, W = pass ? q->w * r : q->w, H = pass ? q->h * r : q->h;
        const int ox = pass ? x0 * r : x0, oy = pass ? y0 * r : y0;
        const uint8_t *src = pass ? q->hr : q->lr;
        float *dst = pass ? hr : lr;
        for (int c = 0; c < 3; c++)
            for (int u = 0; u < n; u++)
                for (int v = 0; v < n; v++) {
                    int a = d & 1 ? v : u, b = d & 1 ? u : v;
                    if (d & 2)
                        a = n - 1 - a;
                    if (d & 4)
                        b = n - 1 - b;
                    dst[((size_t)c * n + u) * n + v] =
                        src[((size_t)c * H + oy + a) * W + ox + b] * (1.0f / 255.0f);
                }
    }
}

/* Training sample s of step it: a pair, a position, a transform. */
static void draw(const AieNnTrainer *t, int64_t it, int s, float *lr, float *hr)
{
    uint64_t st = t->p.seed ^ ((uint64_t)it * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)(s + 1) * 0xd1b54a32d192ed03ull);
    aie_splitmix64(&st);
    int k = (int)(aie_unif(&st) * t->ntrain), seen = -1, qi = 0;
    for (qi = 0; qi < t->npairs; qi++)
        if (!t->pairs[qi].val && ++seen == k)
            break;
    const Pair *q = &t->pairs[qi];
    const int P = t->p.patch;
    int x0 = (int)(aie_unif(&st) * (q->w - P + 1)), y0 = (int)(aie_unif(&st) * (q->h - P + 1));
    int d = (int)(aie_splitmix64(&st) & 7);
    cut(t, q, x0, y0, d, lr, hr);
}

/* ---- one patch, forward and backward ---- */

static void skip_up(const AieNnTrainer *t, Work *w, const float *lr, float *skip)
{
    const int P = t->p.patch, r = t->p.arch.scale, H = P * r;
    if (t->p.arch.skip == AIE_NNT_SKIP_NONE) {
        memset(skip, 0, sizeof(float) * 3 * H * H);
        return;
    }
    for (int c = 0; c < 3; c++) {
        const float *pl = lr + (size_t)c * P * P;
        float *o = skip + (size_t)c * H * H;
        if (t->p.arch.skip == AIE_NNT_SKIP_NEAREST) {
            for (int y = 0; y < H; y++)
                for (int x = 0; x < H; x++)
                    o[y * H + x] = pl[(y / r) * P + x / r];
            continue;
        }
        /* across into tmp [P][H], then down (the weights are the same on both axes) */
        float *tmp = w->tmp;
        for (int y = 0; y < P; y++)
            for (int x = 0; x < H; x++) {
                const int *ix = t->cidx + 4 * x;
                const float *wx = t->cwt + 4 * x;
                const float *s0 = pl + y * P;
                tmp[y * H + x] = wx[0] * s0[ix[0]] + wx[1] * s0[ix[1]] + wx[2] * s0[ix[2]] + wx[3] * s0[ix[3]];
            }
        for (int y = 0; y < H; y++) {
            const int *iy = t->cidx + 4 * y;
            const float *wy = t->cwt + 4 * y;
            const float *r0 = tmp + iy[0] * H, *r1 = tmp + iy[1] * H, *r2 = tmp + iy[2] * H, *r3 = tmp + iy[3] * H;
            for (int x = 0; x < H; x++)
                o[y * H + x] = wy[0] * r0[x] + wy[1] * r1[x] + wy[2] * r2[x] + wy[3] * r3[x];
        }
    }
}

/* The factor of negative inputs of convolution c's activation, lanes of block b. */
static void neg_slopes(const AieNnTrainer *t, const Conv *c, int b, float *sl)
{
    for (int q = 0; q < B; q++)
        sl[q] = c->act == AIE_NNT_ACT_PRELU ? t->theta[c->s_off + b * B + q]
              : c->act == AIE_NNT_ACT_LEAKY ? c->slope
              : c->act == AIE_NNT_ACT_RELU  ? 0.0f : 1.0f;
}

/* Forward: w->out = network(lr) for lr [3][P][P]. */
static void forward(const AieNnTrainer *t, Work *w, const float *lr)
{
    const AieNntArch *a = &t->p.arch;
    const int P = t->p.patch, pp = t->pp;
    const ptrdiff_t row = (ptrdiff_t)pp * B, plane = row * pp, row4 = (ptrdiff_t)pp * 4;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < P; y++)
            for (int x = 0; x < P; x++)
                w->in[(y + 1) * row4 + (x + 1) * 4 + c] = lr[((size_t)c * P + y) * P + x];
    for (int j = 0; j < a->n; j++) {
        const AieNntLayer *l = &a->l[j];
        const int nb = blocks(l->cout);
        if (l->op == AIE_NNT_CONV) {
            const Conv *c = &t->cv[j];
            const float *src = j ? w->a[j - 1] : w->in;
            const ptrdiff_t srow = j ? row : row4, spl = j ? plane : row4 * pp;
            const int off = c->k == 3 ? 0 : 1;
            AieConvArgs ca = {.cin = c->cin, .cout_blocks = nb, .kh = c->k, .kw = c->k, .out_w = P, .out_h = P,
                              .src_row = srow, .src_plane = spl, .src_lanes = c->lanes, .dst_row = row,
                              .dst_plane = plane, .act = AIE_CONV_ACT_NONE};
            t->conv.conv(w->z[j] + row + B, src + off * (srow + c->lanes), t->theta + c->w_off,
                         t->theta + c->b_off, &ca);
            if (c->act != AIE_NNT_ACT_NONE)
                for (int b = 0; b < nb; b++) {
                    float sl[B];
                    neg_slopes(t, c, b, sl);
                    for (int y = 1; y <= P; y++) {
                        const float *z = w->z[j] + b * plane + y * row + B;
                        float *o = w->a[j] + b * plane + y * row + B;
                        t->dsp.act_fwd(o, z, sl, P);
                    }
                }
        } else {
            for (int b = 0; b < nb; b++)
                for (int y = 1; y <= P; y++) {
                    const float *p0 = w->a[j - 1] + b * plane + y * row + B, *p1 = w->a[l->from] + b * plane + y * row + B;
                    float *o = w->a[j] + b * plane + y * row + B;
                    for (int x = 0; x < P * B; x++)
                        o[x] = p0[x] + p1[x];
                }
        }
    }
    /* pixel shuffle + skip */
    const int r = a->scale, H = P * r;
    const float *last = w->a[a->n - 1];
    for (int c = 0; c < 3; c++)
        for (int Y = 0; Y < H; Y++)
            for (int X = 0; X < H; X++) {
                const int ch = c * r * r + (Y % r) * r + X % r;
                const size_t o = ((size_t)c * H + Y) * H + X;
                w->out[o] = last[(ch / B) * plane + (Y / r + 1) * row + (X / r + 1) * B + ch % B] + w->skip[o];
            }
}

/* Loss of w->out against hr, and its gradient (scaled by gscale) in w->ghr. */
static double loss_of(const AieNnTrainer *t, Work *w, const float *hr, double gscale)
{
    const size_t n = 3 * (size_t)t->hp * t->hp;
    double l = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = (double)w->out[i] - hr[i];
        if (t->p.loss == AIE_NNT_L1) {
            l += fabs(d);
            w->ghr[i] = (float)(d > 0 ? gscale : d < 0 ? -gscale : 0.0);
        } else {
            l += d * d;
            w->ghr[i] = (float)(2.0 * d * gscale);
        }
    }
    return l;
}

/* Backward: accumulate the gradient of the loss whose output gradient is
 * w->ghr into g (np floats, packed like theta). */
static void backward(const AieNnTrainer *t, Work *w, float *g)
{
    const AieNntArch *a = &t->p.arch;
    const int P = t->p.patch, pp = t->pp, r = a->scale, H = P * r;
    const ptrdiff_t row = (ptrdiff_t)pp * B, plane = row * pp, row4 = (ptrdiff_t)pp * 4;
    int have[AIE_NNT_MAX_LAYERS] = {0};
    /* inverse pixel shuffle into ga[last] */
    {
        float *gl = w->ga[a->n - 1];
        const int nb = blocks(a->l[a->n - 1].cout);
        for (int b = 0; b < nb; b++)
            for (int y = 1; y <= P; y++)
                memset(gl + b * plane + y * row + B, 0, sizeof(float) * (size_t)P * B);
        for (int c = 0; c < 3; c++)
            for (int Y = 0; Y < H; Y++)
                for (int X = 0; X < H; X++) {
                    const int ch = c * r * r + (Y % r) * r + X % r;
                    gl[(ch / B) * plane + (Y / r + 1) * row + (X / r + 1) * B + ch % B] = w->ghr[((size_t)c * H + Y) * H + X];
                }
        have[a->n - 1] = 1;
    }
    for (int j = a->n - 1; j >= 0; j--) {
        const AieNntLayer *l = &a->l[j];
        const int nb = blocks(l->cout);
        float *ga = w->ga[j];
        if (!have[j])
            for (int b = 0; b < nb; b++)
                for (int y = 1; y <= P; y++)
                    memset(ga + b * plane + y * row + B, 0, sizeof(float) * (size_t)P * B);
        if (l->op == AIE_NNT_ADD) {
            const int tg[2] = {j - 1, l->from};
            for (int q = 0; q < 2; q++) {
                float *d = w->ga[tg[q]];
                for (int b = 0; b < nb; b++)
                    for (int y = 1; y <= P; y++) {
                        float *o = d + b * plane + y * row + B;
                        const float *s = ga + b * plane + y * row + B;
                        if (have[tg[q]])
                            for (int x = 0; x < P * B; x++)
                                o[x] += s[x];
                        else
                            memcpy(o, s, sizeof(float) * (size_t)P * B);
                    }
                have[tg[q]] = 1;
            }
            continue;
        }
        const Conv *c = &t->cv[j];
        /* gz in place; bias and slope gradients */
        float *gb = g + c->b_off, *gs = g + c->s_off;
        for (int b = 0; b < nb; b++) {
            float sl[B], ab[B] = {0}, as[B] = {0};
            neg_slopes(t, c, b, sl);
            for (int y = 1; y <= P; y++)
                t->dsp.act_bwd(ga + b * plane + y * row + B, w->z[j] + b * plane + y * row + B, sl, ab, as, P);
            for (int q = 0; q < B; q++) {
                gb[b * B + q] += ab[q];
                if (c->act == AIE_NNT_ACT_PRELU)
                    gs[b * B + q] += as[q];
            }
        }
        /* weight gradient */
        const float *src = j ? w->a[j - 1] : w->in;
        const ptrdiff_t srow = j ? row : row4, spl = j ? plane : row4 * pp;
        const int off = c->k == 3 ? 0 : 1;
        AieWgradArgs wa = {.cin = c->cin, .cout_blocks = nb, .k = c->k, .w = P, .h = P, .gz_row = row,
                           .gz_plane = plane, .src_row = srow, .src_plane = spl, .src_lanes = c->lanes};
        t->dsp.wgrad(g + c->w_off, ga + row + B, src + off * (srow + c->lanes), &wa);
        if (j == 0)
            continue;
        /* input gradient */
        const int tb = blocks(c->cin);
        float *dst = have[j - 1] ? w->tmp : w->ga[j - 1];
        AieConvArgs ca = {.cin = c->cout, .cout_blocks = tb, .kh = c->k, .kw = c->k, .out_w = P, .out_h = P,
                          .src_row = row, .src_plane = plane, .src_lanes = B, .dst_row = row, .dst_plane = plane,
                          .act = AIE_CONV_ACT_NONE};
        t->conv.conv(dst + row + B, ga + off * (row + B), t->wt[j], t->zero, &ca);
        if (have[j - 1])
            for (int b = 0; b < tb; b++)
                for (int y = 1; y <= P; y++) {
                    float *o = w->ga[j - 1] + b * plane + y * row + B;
                    const float *s = w->tmp + b * plane + y * row + B;
                    for (int x = 0; x < P * B; x++)
                        o[x] += s[x];
                }
        have[j - 1] = 1;
    }
}

/* ---- batches ---- */

typedef struct Job {
    AieNnTrainer *t;
    const float *lr, *hr; /* explicit patches (tests), else drawn */
    double gscale;
} Job;

static int finite_all(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

static void sample_task(void *ctx, int s, int worker)
{
    Job *j = ctx;
    AieNnTrainer *t = j->t;
    Work *w = &t->work[worker];
    const size_t ln = 3 * (size_t)t->p.patch * t->p.patch, hn = 3 * (size_t)t->hp * t->hp;
    const float *lr = j->lr ? j->lr + ln * (size_t)s : w->lr, *hr = j->hr ? j->hr + hn * (size_t)s : w->hr;
    if (!j->lr)
        draw(t, t->iter, s, w->lr, w->hr);
    float *g = t->gbuf + t->np * (size_t)s;
    memset(g, 0, sizeof(float) * t->np);
    skip_up(t, w, lr, w->skip);
    forward(t, w, lr);
    t->sloss[s] = loss_of(t, w, hr, j->gscale);
    backward(t, w, g);
    t->bad[s] = !isfinite(t->sloss[s]) || !finite_all(g, t->np);
}

typedef struct Red {
    AieNnTrainer *t;
    int n;
} Red;

#define RED_CHUNK 4096

static void reduce_task(void *ctx, int ci, int worker)
{
    (void)worker;
    Red *r = ctx;
    AieNnTrainer *t = r->t;
    size_t lo = (size_t)ci * RED_CHUNK, hi = lo + RED_CHUNK < t->np ? lo + RED_CHUNK : t->np;
    for (size_t i = lo; i < hi; i++) {
        float acc = 0.0f;
        for (int s = 0; s < r->n; s++)
            acc += t->gbuf[t->np * (size_t)s + i];
        t->grad[i] = acc;
    }
}

/* Loss and gradient (in t->grad) of n patches; 0 or AIE_ENONFINITE. */
static int batch(AieNnTrainer *t, AiePool *pool, const float *lr, const float *hr, int n, double *loss)
{
    const double count = (double)n * 3 * t->hp * t->hp;
    Job j = {.t = t, .lr = lr, .hr = hr, .gscale = 1.0 / count};
    aie_pool_parallel_for(pool, n, sample_task, &j);
    Red r = {.t = t, .n = n};
    aie_pool_parallel_for(pool, (int)((t->np + RED_CHUNK - 1) / RED_CHUNK), reduce_task, &r);
    double l = 0;
    int bad = 0;
    for (int s = 0; s < n; s++) {
        l += t->sloss[s];
        bad |= t->bad[s];
    }
    *loss = l / count;
    return bad || !isfinite(*loss) ? AIE_ENONFINITE : 0;
}

int aie_nnt_loss_grad(AieNnTrainer *t, AiePool *pool, const float *lr, const float *hr, int n, double *loss,
                      float *grad)
{
    if (n < 1 || n > t->p.batch)
        return AIE_EINVAL;
    int e = batch(t, pool, lr, hr, n, loss);
    if (grad)
        memcpy(grad, t->grad, sizeof(float) * t->np);
    return e;
}

float *aie_nnt_theta(AieNnTrainer *t, size_t *np)
{
    *np = t->np;
    return t->theta;
}

void aie_nnt_theta_changed(AieNnTrainer *t) { pack_transposed(t); }

double aie_nnt_lr_at(const AieNntParams *p, int64_t it)
{
    const double f = it >= p->iters ? 1.0 : (double)it / (double)p->iters;
    const double lo = p->lr * p->lr_min;
    return lo + 0.5 * (p->lr - lo) * (1.0 + cos(M_PI * f));
}

int aie_nnt_step(AieNnTrainer *t, AiePool *pool, double *loss)
{
    if (!t->ntrain)
        return AIE_EINVAL;
    int e = batch(t, pool, NULL, NULL, t->p.batch, loss);
    if (e)
        return e;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const int64_t n = t->iter + 1;
    const double lr = aie_nnt_lr_at(&t->p, t->iter);
    const double c1 = 1.0 - pow(b1, (double)n), c2 = 1.0 - pow(b2, (double)n);
    for (size_t i = 0; i < t->np; i++) {
        const double g = t->grad[i];
        const double m = b1 * t->m[i] + (1 - b1) * g, v = b2 * t->v[i] + (1 - b2) * g * g;
        t->m[i] = (float)m;
        t->v[i] = (float)v;
        t->theta[i] = (float)(t->theta[i] - lr * (m / c1) / (sqrt(v / c2) + eps));
    }
    pack_transposed(t);
    t->iter++;
    return 0;
}

/* ---- validation ---- */

static int val_prepare(AieNnTrainer *t)
{
    const int n = t->p.val_patches, P = t->p.patch;
    const size_t ln = 3 * (size_t)P * P, hn = 3 * (size_t)t->hp * t->hp;
    free(t->val_lr);
    free(t->val_hr);
    t->val_lr = falloc(ln * (size_t)n);
    t->val_hr = falloc(hn * (size_t)n);
    if (!t->val_lr || !t->val_hr)
        return AIE_ENOMEM;
    uint64_t st = t->p.seed ^ 0x5bd1e9955bd1e995ull;
    for (int v = 0; v < n; v++) {
        int k = v % t->nval, seen = -1, qi;
        for (qi = 0; qi < t->npairs; qi++)
            if (t->pairs[qi].val && ++seen == k)
                break;
        const Pair *q = &t->pairs[qi];
        int x0 = (int)(aie_unif(&st) * (q->w - P + 1)), y0 = (int)(aie_unif(&st) * (q->h - P + 1));
        cut(t, q, x0, y0, 0, t->val_lr + ln * (size_t)v, t->val_hr + hn * (size_t)v);
    }
    t->val_ready = 1;
    return 0;
}

static void val_task(void *ctx, int s, int worker)
{
    AieNnTrainer *t = ctx;
    Work *w = &t->work[worker];
    const size_t ln = 3 * (size_t)t->p.patch * t->p.patch, hn = (size_t)t->hp * t->hp;
    const float *lr = t->val_lr + ln * (size_t)s, *hr = t->val_hr + 3 * hn * (size_t)s;
    skip_up(t, w, lr, w->skip);
    forward(t, w, lr);
    double en = 0, eb = 0;
    for (size_t i = 0; i < hn; i++) {
        double yn = 0, yb = 0, yt = 0;
        static const double k[3] = {0.299, 0.587, 0.114};
        for (int c = 0; c < 3; c++) {
            float o = w->out[c * hn + i], b = w->skip[c * hn + i];
            o = o < 0 ? 0 : o > 1 ? 1 : o;
            b = b < 0 ? 0 : b > 1 ? 1 : b;
            yn += k[c] * o;
            yb += k[c] * b;
            yt += k[c] * hr[c * hn + i];
        }
        /* 8-bit luma scale, as the evaluation measures it */
        yn = floor(yn * 255 + 0.5);
        yb = floor(yb * 255 + 0.5);
        yt = floor(yt * 255 + 0.5);
        en += (yn - yt) * (yn - yt);
        eb += (yb - yt) * (yb - yt);
    }
    t->sloss[2 * s] = en;
    t->sloss[2 * s + 1] = eb;
}

int aie_nnt_validate(AieNnTrainer *t, AiePool *pool, double *psnr_net, double *psnr_base)
{
    if (!t->nval)
        return AIE_EINVAL;
    int e;
    if (!t->val_ready && (e = val_prepare(t)))
        return e;
    aie_pool_parallel_for(pool, t->p.val_patches, val_task, t);
    double en = 0, eb = 0;
    for (int s = 0; s < t->p.val_patches; s++) {
        en += t->sloss[2 * s];
        eb += t->sloss[2 * s + 1];
    }
    const double n = (double)t->p.val_patches * t->hp * t->hp;
    *psnr_net = 10 * log10(255.0 * 255.0 / (en / n > 1e-10 ? en / n : 1e-10));
    *psnr_base = 10 * log10(255.0 * 255.0 / (eb / n > 1e-10 ? eb / n : 1e-10));
    if (!isfinite(*psnr_net))
        return AIE_ENONFINITE;
    const double gain = *psnr_net - *psnr_base;
    if (gain > t->best_gain) {
        t->best_gain = gain;
        t->best_iter = t->iter;
        memcpy(t->best, t->theta, sizeof(float) * t->np);
    }
    return 0;
}
