/* AieStyle: LUT application to frames (see aie/look.h). */
#pragma GCC optimize("O3") /* the look's per-pixel loops vectorise; no fast-math, so the same bits */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/motion.h"
#include "dsp/lut3d.h"
#include "look/abstract.h"
#include "look/look_internal.h"

#define BAND 16 /* rows per parallel piece (even, so 4:2:0 row pairs stay whole) */

struct AieStyle {
    int w, h, depth, sx, sy, yuv, gray, rgb;
    AieLayout layout;
    AieLut *lut;
    AieLutInterp interp;
    AieLut3DDSP dsp;
    AieLut3DFn fn;
    AieLut3DTable tab;
    uint32_t *rg, *bb;
    uint16_t *lut1d;     /* [3][65536] for 1D LUTs */
    uint16_t *inmap;     /* [3][1 << depth] code -> 16-bit domain position (RGB input) */
    float dmin[3], dinv[3];
    float kr, kb, kg;
    float maxv;
    int dom;             /* the LUT's domain applies to the input (a LUT and no reference) */
    /* colour transfer */
    int has_ref;
    AieLookParams look;
    AieTransfer transfer;
    double strength, cut_thr;
    LookStats ref;
    /* per-frame source statistics and cut flags, by frame number, for export */
    pthread_mutex_t mu;
    LookStats *fst;
    unsigned char *fcut; /* 1: a cut before this frame; 2: no cut; 0: not seen */
    int64_t cap;
    /* look scratch kept between frames (under mu): no page faults per frame */
    struct { uint16_t *planes; float *fl; } scr[4];
};

static int frame_stats(AieStyle *s, const AieFrame *f, AieTransfer transfer, LookStats *st);

static uint16_t u16_of(double v)
{
    v = v * 65535.0 + 0.5;
    return (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
}

static void matrix_coefs(int matrix, int height, float *kr, float *kb)
{
    switch (matrix) {
    case 5: case 6: *kr = 0.299f; *kb = 0.114f; break;
    case 9: case 10: *kr = 0.2627f; *kb = 0.0593f; break;
    case 1: *kr = 0.2126f; *kb = 0.0722f; break;
    default:
        if (height > 576) {
            *kr = 0.2126f;
            *kb = 0.0722f;
        } else {
            *kr = 0.299f;
            *kb = 0.114f;
        }
    }
}

int aie_style_create(AieStyle **out, const AieStyleParams *p, int width, int height, AieLayout layout,
                     int depth, unsigned cpu_flags)
{
    if (!out || !p || width < 1 || height < 1 || width > AIE_MAX_DIM || height > AIE_MAX_DIM ||
        (unsigned)layout >= AIE_LAYOUT_COUNT || depth < 8 || depth > 16)
        return AIE_EINVAL;
    *out = NULL;
    AieStyle *s = calloc(1, sizeof(*s));
    if (!s)
        return AIE_ENOMEM;
    int err = AIE_ENOMEM;
    s->w = width;
    s->h = height;
    s->layout = layout;
    s->depth = depth;
    aie_layout_chroma_shift(layout, &s->sx, &s->sy);
    s->yuv = layout <= AIE_LAYOUT_YUV444;
    s->gray = layout == AIE_LAYOUT_GRAY;
    s->rgb = layout == AIE_LAYOUT_RGB || layout == AIE_LAYOUT_RGBA;
    s->interp = p->interp;
    s->maxv = (float)((1 << depth) - 1);
    pthread_mutex_init(&s->mu, NULL);
    s->dom = p->lut && !p->reference;
    aie_lut3d_dsp_init(&s->dsp, cpu_flags);
    s->fn = p->interp == AIE_INTERP_TRILINEAR ? s->dsp.trilinear : s->dsp.tetra;
    if (p->lut) {
        if ((err = aie_look_lut_clone(&s->lut, p->lut)))
            goto fail;
        err = AIE_ENOMEM;
        const AieLut *l = s->lut;
        for (int c = 0; c < 3; c++) {
            s->dmin[c] = (float)l->dmin[c];
            s->dinv[c] = (float)(1.0 / (l->dmax[c] - l->dmin[c]));
        }
        if (l->dims == 3) {
            size_t n = (size_t)l->size * l->size * l->size;
            s->rg = malloc(n * sizeof(uint32_t));
            s->bb = malloc(n * sizeof(uint32_t));
            if (!s->rg || !s->bb)
                goto fail;
            for (size_t i = 0; i < n; i++) {
                s->rg[i] = u16_of(l->data[3 * i]) | (uint32_t)u16_of(l->data[3 * i + 1]) << 16;
                s->bb[i] = u16_of(l->data[3 * i + 2]);
            }
            s->tab.n = l->size;
            s->tab.rg = s->rg;
            s->tab.b = s->bb;
        } else {
            if (!(s->lut1d = malloc(3 * 65536 * sizeof(uint16_t))))
                goto fail;
            for (int c = 0; c < 3; c++)
                for (int x = 0; x < 65536; x++) {
                    double pos = x / 65535.0 * (l->size - 1);
                    int i = (int)pos;
                    if (i > l->size - 2)
                        i = l->size - 2;
                    double f = pos - i;
                    s->lut1d[c * 65536 + x] =
                        u16_of(l->data[i * 3 + c] * (1 - f) + l->data[(i + 1) * 3 + c] * f);
                }
        }
    }
    if (s->rgb) {
        const int codes = 1 << depth;
        if (!(s->inmap = malloc(3 * (size_t)codes * sizeof(uint16_t))))
            goto fail;
        for (int c = 0; c < 3; c++)
            for (int x = 0; x < codes; x++) {
                double v = x / (double)s->maxv;
                if (s->dom)
                    v = (v - s->lut->dmin[c]) / (s->lut->dmax[c] - s->lut->dmin[c]);
                s->inmap[c * codes + x] = u16_of(v);
            }
    }
    s->look = p->look;
    if (s->look.look != AIE_LOOK_NONE &&
        (s->look.levels < 2 || s->look.levels > 32 || s->look.iterations < 1 || s->look.iterations > 8 ||
         !(s->look.sigma_s >= 0.5 && s->look.sigma_s <= 16) || !(s->look.sigma_r > 0 && s->look.sigma_r <= 1) ||
         !(s->look.edge >= 0 && s->look.edge <= 1) || !(s->look.damping >= 0 && s->look.damping <= 1))) {
        err = AIE_EINVAL;
        goto fail;
    }
    s->cut_thr = p->cut_threshold > 0 ? p->cut_threshold : AIE_SCENE_THRESHOLD_DEFAULT;
    if (p->reference) {
        const AieFrame *r = p->reference;
        if (!(p->strength >= 0 && p->strength <= 1)) {
            err = AIE_EINVAL;
            goto fail;
        }
        s->has_ref = 1;
        s->transfer = p->transfer;
        s->strength = p->strength;
        AieStyleParams rp = {0};
        AieStyle *rs = NULL;
        if ((err = aie_style_create(&rs, &rp, r->width, r->height, r->layout, r->depth, 0)))
            goto fail;
        err = frame_stats(rs, r, s->transfer, &s->ref);
        aie_style_free(&rs);
        if (err)
            goto fail;
    }
    *out = s;
    return 0;
fail:
    aie_style_free(&s);
    return err;
}

void aie_style_free(AieStyle **sp)
{
    if (!sp || !*sp)
        return;
    AieStyle *s = *sp;
    aie_lut_free(&s->lut);
    pthread_mutex_destroy(&s->mu);
    free(s->fst);
    free(s->fcut);
    free(s->rg);
    free(s->bb);
    free(s->lut1d);
    free(s->inmap);
    for (int i = 0; i < 4; i++) {
        free(s->scr[i].planes);
        free(s->scr[i].fl);
    }
    free(s);
    *sp = NULL;
}

typedef struct Task {
    AieStyle *s;
    const AieFrame *in;
    AieFrame *out;
    float kr, kb, kg, yoff, yscale, coff, cscale;
    /* Y'CbCr -> 16-bit domain positions, per input code (7 x codes): R = yr[Y] +
     * vr[V], G = yg[Y] + ug[U] + vg[V], B = yb[Y] + ub[U], rounding included */
    float *tab;
    const AieLut3DTable *t3; /* the 3D table of this frame (NULL: none) */
    uint16_t *grade_to[3];   /* set: write the graded R'G'B' planes (w x h) here, no output */
    const uint16_t *rgb_from[3]; /* set: take R'G'B' from these planes instead of the input */
    atomic_int err;
} Task;

static inline uint16_t clamp16(float v)
{
    return (uint16_t)(v < 0 ? 0 : v > 65535.0f ? 65535.0f : v);
}

/* Row y of the input as 16-bit RGB in the LUT's domain. */
static void to_rgb16(const Task *t, int y, uint16_t *r, uint16_t *g, uint16_t *b)
{
    const AieStyle *s = t->s;
    const AieFrame *in = t->in;
    const int w = s->w, codes = 1 << s->depth, m = codes - 1;
    if (s->rgb) {
        for (int c = 0; c < 3; c++) {
            uint16_t *d = c == 0 ? r : c == 1 ? g : b;
            const uint16_t *map = s->inmap + (size_t)c * codes;
            const uint8_t *row = in->data[c] + (ptrdiff_t)y * in->stride[c];
            if (s->depth > 8)
                for (int x = 0; x < w; x++)
                    d[x] = map[((const uint16_t *)row)[x] & m];
            else
                for (int x = 0; x < w; x++)
                    d[x] = map[row[x]];
        }
        return;
    }
    const float *yr = t->tab, *yg = yr + codes, *yb = yg + codes, *vr = yb + codes, *ug = vr + codes,
                *vg = ug + codes, *ub = vg + codes;
    const uint8_t *py = in->data[0] + (ptrdiff_t)y * in->stride[0];
    if (s->gray) {
        for (int x = 0; x < w; x++) {
            const int Y = s->depth > 8 ? ((const uint16_t *)py)[x] & m : py[x];
            r[x] = clamp16(yr[Y]);
            g[x] = clamp16(yg[Y]);
            b[x] = clamp16(yb[Y]);
        }
        return;
    }
    const int cy = y >> s->sy, sx = s->sx;
    const uint8_t *pu = in->data[1] + (ptrdiff_t)cy * in->stride[1], *pv = in->data[2] + (ptrdiff_t)cy * in->stride[2];
    if (s->depth > 8) {
        const uint16_t *qy = (const uint16_t *)py, *qu = (const uint16_t *)pu, *qv = (const uint16_t *)pv;
        for (int x = 0; x < w; x++) {
            const int Y = qy[x] & m, U = qu[x >> sx] & m, V = qv[x >> sx] & m;
            r[x] = clamp16(yr[Y] + vr[V]);
            g[x] = clamp16(yg[Y] + ug[U] + vg[V]);
            b[x] = clamp16(yb[Y] + ub[U]);
        }
    } else {
        for (int x = 0; x < w; x++) {
            const int Y = py[x], U = pu[x >> sx], V = pv[x >> sx];
            r[x] = clamp16(yr[Y] + vr[V]);
            g[x] = clamp16(yg[Y] + ug[U] + vg[V]);
            b[x] = clamp16(yb[Y] + ub[U]);
        }
    }
}

/* Quantise a row of float samples (already offset, +0.5 included) to depth. */
static void store_row(uint8_t *row, const float *v, int w, int depth, float maxv)
{
    if (depth > 8) {
        uint16_t *q = (uint16_t *)row;
        for (int x = 0; x < w; x++)
            q[x] = (uint16_t)(v[x] < 0 ? 0 : v[x] > maxv ? maxv : v[x]);
    } else {
        for (int x = 0; x < w; x++)
            row[x] = (uint8_t)(v[x] < 0 ? 0 : v[x] > 255.0f ? 255.0f : v[x]);
    }
}

static void band(void *ctx, int index, int worker)
{
    (void)worker;
    Task *t = ctx;
    const AieStyle *s = t->s;
    const int w = s->w, cw = s->yuv ? t->out->plane_w[1] : 0;
    const int y0 = index * BAND, y1 = y0 + BAND < s->h ? y0 + BAND : s->h;
    uint16_t *buf = malloc((size_t)w * 6 * sizeof(uint16_t));
    float *acc = malloc(((size_t)cw * 2 + (size_t)w * 3 + 1) * sizeof(float));
    if (!buf || !acc) {
        atomic_store(&t->err, AIE_ENOMEM);
        goto done;
    }
    uint16_t *ir = buf, *ig = buf + w, *ib = buf + 2 * w, *orr = buf + 3 * w, *og = buf + 4 * w, *ob = buf + 5 * w;
    const float maxv = s->maxv;
    const int gh = 1 << s->sy;
    float *fy = acc + 2 * cw, *fcb = fy + w, *fcr = fcb + w;
    for (int y = y0; y < y1; y += gh) {
        if (cw)
            memset(acc, 0, (size_t)cw * 2 * sizeof(float));
        int rows = 0;
        for (int yy = y; yy < y + gh && yy < y1; yy++, rows++) {
            if (t->rgb_from[0]) {
                for (int c = 0; c < 3; c++)
                    memcpy(c == 0 ? orr : c == 1 ? og : ob, t->rgb_from[c] + (size_t)yy * w, (size_t)w * 2);
                goto output;
            }
            to_rgb16(t, yy, ir, ig, ib);
            if (t->t3) {
                s->fn(orr, og, ob, ir, ig, ib, t->t3, w);
            } else if (s->lut1d) {
                for (int x = 0; x < w; x++) {
                    orr[x] = s->lut1d[ir[x]];
                    og[x] = s->lut1d[65536 + ig[x]];
                    ob[x] = s->lut1d[2 * 65536 + ib[x]];
                }
            } else {
                memcpy(orr, ir, (size_t)w * 2);
                memcpy(og, ig, (size_t)w * 2);
                memcpy(ob, ib, (size_t)w * 2);
            }
            if (t->grade_to[0]) {
                for (int c = 0; c < 3; c++)
                    memcpy(t->grade_to[c] + (size_t)yy * w, c == 0 ? orr : c == 1 ? og : ob, (size_t)w * 2);
                continue;
            }
        output:
            if (s->rgb) {
                for (int c = 0; c < 3; c++) {
                    const uint16_t *sr = c == 0 ? orr : c == 1 ? og : ob;
                    uint8_t *row = t->out->data[c] + (ptrdiff_t)yy * t->out->stride[c];
                    if (s->depth > 8) {
                        const uint32_t m = (1u << s->depth) - 1;
                        for (int x = 0; x < w; x++)
                            ((uint16_t *)row)[x] = (uint16_t)((sr[x] * m + 32767) / 65535);
                    } else {
                        for (int x = 0; x < w; x++)
                            row[x] = (uint8_t)((sr[x] * 255u + 32767) / 65535);
                    }
                }
                if (s->layout == AIE_LAYOUT_RGBA) {
                    const size_t bytes = (size_t)w * (s->depth > 8 ? 2 : 1);
                    memcpy(t->out->data[3] + (ptrdiff_t)yy * t->out->stride[3],
                           t->in->data[3] + (ptrdiff_t)yy * t->in->stride[3], bytes);
                }
                continue;
            }
            {
                /* Y' and the colour differences, in output code units */
                const float ky = t->yscale / 65535.0f, kr = t->kr * ky, kg = t->kg * ky, kb = t->kb * ky;
                const float yo = t->yoff + 0.5f;
                const float kcb = t->cscale / (2 * (1 - t->kb) * t->yscale), kcr = t->cscale / (2 * (1 - t->kr) * t->yscale);
                for (int x = 0; x < w; x++) {
                    const float Y = kr * orr[x] + kg * og[x] + kb * ob[x];
                    fy[x] = Y + yo;
                    fcb[x] = (ob[x] * ky - Y) * kcb;
                    fcr[x] = (orr[x] * ky - Y) * kcr;
                }
                store_row(t->out->data[0] + (ptrdiff_t)yy * t->out->stride[0], fy, w, s->depth, maxv);
                if (cw) {
                    if (s->sx) {
                        for (int cx = 0; cx < w / 2; cx++) {
                            acc[2 * cx] += fcb[2 * cx] + fcb[2 * cx + 1];
                            acc[2 * cx + 1] += fcr[2 * cx] + fcr[2 * cx + 1];
                        }
                        if (w & 1) {
                            acc[2 * (cw - 1)] += fcb[w - 1];
                            acc[2 * (cw - 1) + 1] += fcr[w - 1];
                        }
                    } else {
                        for (int x = 0; x < w; x++) {
                            acc[2 * x] += fcb[x];
                            acc[2 * x + 1] += fcr[x];
                        }
                    }
                }
            }
        }
        if (cw && !t->grade_to[0]) {
            const float norm = 1.0f / (float)(rows << s->sx);
            const int cy = y >> s->sy, lastw = w - ((cw - 1) << s->sx);
            for (int cx = 0; cx < cw; cx++) {
                float k = cx == cw - 1 && lastw < (1 << s->sx) ? 1.0f / (float)(rows * lastw) : norm;
                fcb[cx] = acc[2 * cx] * k + t->coff + 0.5f;
                fcr[cx] = acc[2 * cx + 1] * k + t->coff + 0.5f;
            }
            store_row(t->out->data[1] + (ptrdiff_t)cy * t->out->stride[1], fcb, cw, s->depth, maxv);
            store_row(t->out->data[2] + (ptrdiff_t)cy * t->out->stride[2], fcr, cw, s->depth, maxv);
        }
    }
done:
    free(buf);
    free(acc);
}

static int frame_ok(const AieStyle *s, const AieFrame *f)
{
    return f && f->width == s->w && f->height == s->h && f->layout == s->layout && f->depth == s->depth;
}

/* Conversion state for frame `in` (its matrix and range); free with task_end(). */
static int task_init(Task *t, AieStyle *s, const AieFrame *in)
{
    memset(t, 0, sizeof(*t));
    t->s = s;
    t->in = in;
    t->t3 = s->rg ? &s->tab : NULL;
    atomic_init(&t->err, 0);
    matrix_coefs(in->color.matrix, s->h, &t->kr, &t->kb);
    t->kg = 1 - t->kr - t->kb;
    const float sc = (float)(1 << (s->depth - 8));
    if (in->color.range == 2) {
        t->yoff = 0;
        t->yscale = s->maxv;
        t->coff = (float)(1 << (s->depth - 1));
        t->cscale = s->maxv;
    } else {
        t->yoff = 16 * sc;
        t->yscale = 219 * sc;
        t->coff = 128 * sc;
        t->cscale = 224 * sc;
    }
    if (!s->rgb) {
        const int codes = 1 << s->depth;
        if (!(t->tab = malloc(7 * (size_t)codes * sizeof(float))))
            return AIE_ENOMEM;
        float *yr = t->tab, *yg = yr + codes, *yb = yg + codes, *vr = yb + codes, *ug = vr + codes,
              *vg = ug + codes, *ub = vg + codes;
        float a[3], o[3];
        for (int c = 0; c < 3; c++) {
            a[c] = 65535.0f * (s->dom ? s->dinv[c] : 1.0f);
            o[c] = s->dom ? -s->dmin[c] * a[c] : 0.0f;
        }
        for (int i = 0; i < codes; i++) {
            const float Y = (i - t->yoff) / t->yscale, C = (i - t->coff) / t->cscale;
            yr[i] = Y * a[0] + o[0] + 0.5f;
            yg[i] = Y * a[1] + o[1] + 0.5f;
            yb[i] = Y * a[2] + o[2] + 0.5f;
            vr[i] = 2 * (1 - t->kr) * C * a[0];
            ub[i] = 2 * (1 - t->kb) * C * a[2];
            ug[i] = -2 * (1 - t->kb) * t->kb / t->kg * C * a[1];
            vg[i] = -2 * (1 - t->kr) * t->kr / t->kg * C * a[1];
        }
    }
    return 0;
}

static void task_end(Task *t)
{
    free(t->tab);
    t->tab = NULL;
}

static int run(Task *t, AieFrame *out, AiePool *pool)
{
    t->out = out;
    aie_pool_parallel_for(pool, (t->s->h + BAND - 1) / BAND, band, t);
    return atomic_load(&t->err);
}

int aie_style_apply(AieStyle *s, const AieFrame *in, AieFrame *out, AiePool *pool)
{
    if (!s || in == out || !frame_ok(s, in) || !frame_ok(s, out) || s->has_ref || s->look.look != AIE_LOOK_NONE)
        return AIE_EINVAL;
    Task t;
    int err = task_init(&t, s, in);
    if (!err)
        err = run(&t, out, pool);
    task_end(&t);
    return err;
}

/* Statistics of a frame for `transfer`, on about 64k pixels of a regular grid. */
static int frame_stats(AieStyle *s, const AieFrame *f, AieTransfer transfer, LookStats *st)
{
    memset(st, 0, sizeof(*st));
    Task t;
    int err = task_init(&t, s, f);
    uint16_t *buf = err ? NULL : malloc((size_t)s->w * 3 * sizeof(uint16_t));
    if (!err && !buf)
        err = AIE_ENOMEM;
    if (!err) {
        int step = (int)sqrt((double)s->w * s->h / 65536.0);
        step = step < 1 ? 1 : step;
        for (int y = step / 2; y < s->h; y += step) {
            to_rgb16(&t, y, buf, buf + s->w, buf + 2 * s->w);
            for (int x = step / 2; x < s->w; x += step) {
                /* to_rgb16() wrote all s->w samples of each row */
                /* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
                double rgb[3] = {buf[x] / 65535.0, buf[s->w + x] / 65535.0, buf[2 * s->w + x] / 65535.0}, v[3];
                aie_look_stats_point(transfer, rgb, v);
                aie_look_stats_add(st, v);
            }
        }
    }
    free(buf);
    task_end(&t);
    return err;
}

/* The 3D table of the transfer x (NULL: none) followed by the LUT, n points. */
static void build_table(const AieStyle *s, const LookXform *x, int with_lut, int n, uint32_t *rg, uint32_t *bb,
                        double *dbl)
{
    size_t i = 0;
    for (int b = 0; b < n; b++)
        for (int g = 0; g < n; g++)
            for (int r = 0; r < n; r++, i++) {
                double v[3] = {r / (n - 1.0), g / (n - 1.0), b / (n - 1.0)};
                if (x)
                    aie_look_xform_apply(x, v, v);
                if (with_lut && s->lut) {
                    double u[3], o[3];
                    for (int c = 0; c < 3; c++)
                        u[c] = s->lut->dmin[c] + v[c] * (s->lut->dmax[c] - s->lut->dmin[c]);
                    aie_lut_eval(s->lut, s->interp == AIE_INTERP_TETRAHEDRAL, u, o);
                    memcpy(v, o, sizeof(v));
                }
                if (rg) {
                    rg[i] = u16_of(v[0]) | (uint32_t)u16_of(v[1]) << 16;
                    bb[i] = u16_of(v[2]);
                }
                if (dbl)
                    memcpy(dbl + 3 * i, v, sizeof(v));
            }
}

static int record(AieStyle *s, int64_t seq, const LookStats *st, int cut)
{
    pthread_mutex_lock(&s->mu);
    if (seq >= s->cap) {
        int64_t cap = s->cap ? s->cap : 256;
        while (cap <= seq)
            cap *= 2;
        LookStats *nf = realloc(s->fst, (size_t)cap * sizeof(*nf));
        if (nf)
            s->fst = nf;
        unsigned char *nc = nf ? realloc(s->fcut, (size_t)cap) : NULL;
        if (nc) {
            memset(nc + s->cap, 0, (size_t)(cap - s->cap));
            s->fcut = nc;
            s->cap = cap;
        }
    }
    int ok = seq < s->cap;
    if (ok) {
        s->fst[seq] = *st;
        s->fcut[seq] = cut ? 1 : 2;
    }
    pthread_mutex_unlock(&s->mu);
    return ok ? 0 : AIE_ENOMEM; /* a lost record would make the shot's export wrong */
}

#define XFORM_N 33

/* Damping: still pixels (luma within about 8/255 of the current frame) mix in
 * the previous frames with weights damping, damping^2, each times
 * 1 / (1 + t + t^2 / 2), t = (luma change / DAMP_SIGMA)^2 (about exp(-t)). */
#define DAMP_SIGMA 0.03f

/* Row bands of the damping and of the float -> 16-bit conversion (per pixel,
 * so the result does not depend on the split). */
#define DAMP_ROWS 16
typedef struct DampJob {
    uint16_t *planes;
    float *rgb[3];
    size_t n;
    int w, h, nd;
    float damp;
} DampJob;

/* nd is a constant at each call (1, 2 or 3), so the k loop unrolls and the
 * pixel loop vectorises; the operations per pixel are those of the scalar loop. */
static inline void damp_span(const uint16_t *restrict planes, float *restrict r_out, float *restrict g_out,
                             float *restrict b_out, size_t n, size_t i0, size_t i1, const int nd, float damp)
{
    const float inv = 1.0f / 65535.0f;
    for (size_t i = i0; i < i1; i++) {
        const float r0 = planes[i] * inv, g0 = planes[n + i] * inv, b0 = planes[2 * n + i] * inv;
        const float l0 = 0.2126f * r0 + 0.7152f * g0 + 0.0722f * b0;
        float sw = 1, sr = r0, sg = g0, sb = b0, wk = 1;
        for (int k = 1; k < nd; k++) {
            const uint16_t *pk = planes + n * (size_t)(3 * k);
            const float r = pk[i] * inv, g = pk[n + i] * inv, b = pk[2 * n + i] * inv;
            const float d = (0.2126f * r + 0.7152f * g + 0.0722f * b - l0) / DAMP_SIGMA;
            wk *= damp;
            const float t = d * d; /* exp(-t), as 1 / (1 + t + t^2/2) */
            const float w = wk / (1.0f + t * (1.0f + 0.5f * t));
            sw += w;
            sr += w * r;
            sg += w * g;
            sb += w * b;
        }
        r_out[i] = sr / sw;
        g_out[i] = sg / sw;
        b_out[i] = sb / sw;
    }
}

static void damp_rows(void *ctx, int index, int worker)
{
    (void)worker;
    const DampJob *j = ctx;
    const int y1 = (index + 1) * DAMP_ROWS < j->h ? (index + 1) * DAMP_ROWS : j->h;
    const size_t i0 = (size_t)index * DAMP_ROWS * j->w, i1 = (size_t)y1 * j->w;
    if (j->nd >= 3)
        damp_span(j->planes, j->rgb[0], j->rgb[1], j->rgb[2], j->n, i0, i1, 3, j->damp);
    else if (j->nd == 2)
        damp_span(j->planes, j->rgb[0], j->rgb[1], j->rgb[2], j->n, i0, i1, 2, j->damp);
    else
        damp_span(j->planes, j->rgb[0], j->rgb[1], j->rgb[2], j->n, i0, i1, 1, j->damp);
}

static void to_u16_rows(void *ctx, int index, int worker)
{
    (void)worker;
    const DampJob *j = ctx;
    const int y1 = (index + 1) * DAMP_ROWS < j->h ? (index + 1) * DAMP_ROWS : j->h;
    const size_t i0 = (size_t)index * DAMP_ROWS * j->w, i1 = (size_t)y1 * j->w;
    for (int c = 0; c < 3; c++) {
        uint16_t *restrict d = j->planes + c * j->n;
        const float *restrict src = j->rgb[c];
        for (size_t i = i0; i < i1; i++) {
            const float v = src[i] * 65535.0f + 0.5f, cl = v < 0 ? 0 : v > 65535.0f ? 65535.0f : v;
            d[i] = (uint16_t)(int32_t)cl; /* cl in [0, 65535]: the same truncation */
        }
    }
}

/* The look: grade the frame (and up to 2 before it, with this frame's table),
 * damp, abstract, then convert to the output format. */
static int look_frame(AieStyle *s, const AieLut3DTable *t3, const AieFrame *const *f, int nf, AieFrame *out,
                      AiePool *pool)
{
    const size_t n = (size_t)s->w * s->h;
    const int nd = nf < 3 ? nf : 3;
    uint16_t *planes = NULL;
    float *fl = NULL;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < 4 && !planes; i++)
        if (s->scr[i].planes) {
            planes = s->scr[i].planes;
            fl = s->scr[i].fl;
            s->scr[i].planes = NULL;
            s->scr[i].fl = NULL;
        }
    pthread_mutex_unlock(&s->mu);
    if (!planes) { /* room for 3 frames whatever nd, so any entry fits; floats:
                    * 3 planes of RGB and 6 of aie_look_abstract's scratch */
        planes = malloc(n * 9 * sizeof(uint16_t));
        fl = malloc(n * 9 * sizeof(float));
    }
    int err = 0;
    if (!planes || !fl) {
        err = AIE_ENOMEM;
        goto done;
    }
    for (int k = 0; k < nd && !err; k++) {
        Task t;
        if (!(err = task_init(&t, s, f[k]))) {
            t.t3 = t3;
            for (int c = 0; c < 3; c++)
                t.grade_to[c] = planes + n * (size_t)(3 * k + c);
            err = run(&t, out, pool);
        }
        task_end(&t);
    }
    if (err)
        goto done;
    float *rgb[3] = {fl, fl + n, fl + 2 * n};
    DampJob dj = {.planes = planes, .rgb = {rgb[0], rgb[1], rgb[2]}, .n = n, .w = s->w, .h = s->h, .nd = nd,
                  .damp = (float)s->look.damping};
    aie_pool_parallel_for(pool, (s->h + DAMP_ROWS - 1) / DAMP_ROWS, damp_rows, &dj);
    if ((err = aie_look_abstract(&s->look, rgb, s->w, s->h, fl + 3 * n, pool)))
        goto done;
    aie_pool_parallel_for(pool, (s->h + DAMP_ROWS - 1) / DAMP_ROWS, to_u16_rows, &dj);
    Task t;
    if (!(err = task_init(&t, s, f[0]))) {
        for (int c = 0; c < 3; c++)
            t.rgb_from[c] = planes + c * n;
        err = run(&t, out, pool);
    }
    task_end(&t);
done:
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < 4 && planes && fl; i++)
        if (!s->scr[i].planes) {
            s->scr[i].planes = planes;
            s->scr[i].fl = fl;
            planes = NULL;
            fl = NULL;
        }
    pthread_mutex_unlock(&s->mu);
    free(planes);
    free(fl);
    return err;
}

int aie_style_process(AieStyle *s, int64_t seq, const AieFrame *in, AieFrame *const *prev, int nprev,
                      AieFrame *out, AiePool *pool)
{
    if (!s || seq < 0 || nprev < 0 || (nprev && !prev))
        return AIE_EINVAL;
    if (!s->has_ref && s->look.look == AIE_LOOK_NONE)
        return aie_style_apply(s, in, out, pool);
    if (in == out || !frame_ok(s, in) || !frame_ok(s, out))
        return AIE_EINVAL;
    if (nprev > AIE_STYLE_HISTORY)
        nprev = AIE_STYLE_HISTORY;
    int n = 0;
    while (n < nprev && frame_ok(s, prev[n]))
        n++;
    /* frames newest first: f[0] = in, f[k] = prev[k - 1] */
    const AieFrame *f[AIE_STYLE_HISTORY + 1];
    f[0] = in;
    for (int k = 0; k < n; k++)
        f[k + 1] = prev[k];
    AieSceneFeat *feat = malloc((size_t)(n + 1) * sizeof(*feat));
    uint32_t *rg = malloc(2 * (size_t)XFORM_N * XFORM_N * XFORM_N * sizeof(uint32_t));
    int err = 0;
    if (!feat || !rg) {
        err = AIE_ENOMEM;
        goto done;
    }
    const AieLut3DTable *t3 = s->rg ? &s->tab : NULL;
    AieLut3DTable tab = {XFORM_N, rg, rg + XFORM_N * XFORM_N * XFORM_N};
    for (int k = 0; k <= n; k++)
        aie_scene_features(f[k], &feat[k]);
    /* the frames of this shot: back from `in` until a cut */
    int keep = 1, own_cut = 0;
    for (int k = 1; k <= n; k++) {
        /* cut between f[k] and f[k - 1]? window: f[k + 2], f[k + 1], f[k], f[k - 1], f[k - 2] */
        const AieSceneFeat *win[AIE_SCENE_WINDOW] = {
            k + 2 <= n ? &feat[k + 2] : NULL, k + 1 <= n ? &feat[k + 1] : NULL, &feat[k], &feat[k - 1],
            k >= 2 ? &feat[k - 2] : NULL,
        };
        int cut = aie_scene_cut(win, s->cut_thr);
        if (k == 1)
            own_cut = cut;
        if (cut)
            break;
        keep = k + 1;
    }
    if (seq == 0)
        own_cut = 1;
    if (s->has_ref) {
        LookStats src = {0}, own = {0};
        for (int k = 0; k < keep; k++) {
            LookStats st;
            if ((err = frame_stats(s, f[k], s->transfer, &st)))
                goto done;
            if (k == 0)
                own = st;
            aie_look_stats_merge(&src, &st);
        }
        if ((err = record(s, seq, &own, own_cut)))
            goto done;
        LookXform x;
        if ((err = aie_look_xform_build(&x, s->transfer, s->strength, &src, &s->ref)))
            goto done;
        build_table(s, &x, 1, XFORM_N, rg, rg + XFORM_N * XFORM_N * XFORM_N, NULL);
        t3 = &tab;
    }
    if (s->look.look != AIE_LOOK_NONE) {
        err = look_frame(s, t3, f, keep, out, pool); /* damping stays within the shot */
    } else {
        Task t;
        if (!(err = task_init(&t, s, in))) {
            t.t3 = t3;
            err = run(&t, out, pool);
        }
        task_end(&t);
    }
done:
    free(feat);
    free(rg);
    return err;
}

int aie_style_shots(const AieStyle *s)
{
    if (!s)
        return 0;
    int shots = 0;
    pthread_mutex_lock((pthread_mutex_t *)&s->mu);
    for (int64_t i = 0; i < s->cap; i++)
        shots += s->fcut[i] == 1;
    pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
    return shots;
}

int aie_style_export_cube(const AieStyle *s, int shot, int size, char **text)
{
    if (!s || !text || !s->has_ref || shot < 1 || size < AIE_LUT3D_MIN || size > AIE_LUT3D_MAX)
        return AIE_EINVAL;
    *text = NULL;
    LookStats src = {0};
    int cur = 0;
    pthread_mutex_lock((pthread_mutex_t *)&s->mu);
    for (int64_t i = 0; i < s->cap && s->fcut[i]; i++) {
        cur += s->fcut[i] == 1;
        if (cur == shot)
            aie_look_stats_merge(&src, &s->fst[i]);
        else if (cur > shot)
            break;
    }
    pthread_mutex_unlock((pthread_mutex_t *)&s->mu);
    if (src.n <= 0)
        return AIE_EINVAL;
    LookXform x;
    int err = aie_look_xform_build(&x, s->transfer, s->strength, &src, &s->ref);
    if (err)
        return err;
    const size_t nodes = (size_t)size * size * size, cap = nodes * 30 + 512;
    double *v = malloc(nodes * 3 * sizeof(double));
    char *out = malloc(cap);
    if (!v || !out) {
        free(v);
        free(out);
        return AIE_ENOMEM;
    }
    build_table(s, &x, 0, size, NULL, NULL, v);
    size_t k = (size_t)snprintf(out, cap,
                                "# aie-style colour transfer (%s, strength %.3f), shot %d\n"
                                "TITLE \"aie-style %s shot %d\"\nLUT_3D_SIZE %d\n"
                                "DOMAIN_MIN 0.0 0.0 0.0\nDOMAIN_MAX 1.0 1.0 1.0\n",
                                aie_transfer_name(s->transfer), s->strength, shot, aie_transfer_name(s->transfer),
                                shot, size);
    for (size_t i = 0; i < nodes && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%.6f %.6f %.6f\n", v[3 * i], v[3 * i + 1], v[3 * i + 2]);
    free(v);
    *text = out;
    return 0;
}

static double plane_mad(const AieFrame *a, const AieFrame *b)
{
    double sum = 0;
    const int w = a->plane_w[0], h = a->plane_h[0];
    for (int y = 0; y < h; y++) {
        const uint8_t *ra = a->data[0] + (ptrdiff_t)y * a->stride[0], *rb = b->data[0] + (ptrdiff_t)y * b->stride[0];
        long long s = 0;
        if (a->depth > 8)
            for (int x = 0; x < w; x++)
                s += abs((int)((const uint16_t *)ra)[x] - (int)((const uint16_t *)rb)[x]);
        else
            for (int x = 0; x < w; x++)
                s += abs((int)ra[x] - (int)rb[x]);
        sum += (double)s;
    }
    return sum / ((double)w * h);
}

static int same_format(const AieFrame *a, const AieFrame *b)
{
    return a && b && a->width == b->width && a->height == b->height && a->layout == b->layout &&
           a->depth == b->depth;
}

double aie_style_flicker(const AieFrame *in_prev, const AieFrame *in, const AieFrame *out_prev,
                         const AieFrame *out)
{
    if (!same_format(in_prev, in) || !same_format(in, out_prev) || !same_format(in, out))
        return NAN;
    double din = plane_mad(in_prev, in);
    if (din <= 0)
        return NAN;
    return plane_mad(out_prev, out) / din;
}
