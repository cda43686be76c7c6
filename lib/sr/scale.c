/*
 * Classical frame scaler: per-plane separable filtering over lib/dsp/resample.
 *
 * Geometry (here): output sample i of a plane is centred on source coordinate
 *   x_i = ((f*i + o + 1/2) * S / D - 1/2 - o) / f
 * where S, D are the luma sizes, f the plane's subsampling factor (1 or 2)
 * and o the chroma offset in luma samples (0 co-sited with even luma samples,
 * 1/2 centred, 1 co-sited with odd ones). For luma/RGB (f = 1, o = 0) this is
 * the centre-aligned mapping of swscale. The coordinates are exact rationals,
 * so periodic ratios give periodic tables (2x picks hscale8_x2). The filter
 * shapes and their fixed-point tables are built by aie_resample_filter_init()
 * in lib/dsp/resample.c, next to the kernels that define their layout (and so
 * checkasm can test the kernels on real tables).
 *
 * Passes: every output row of a slice is a vertical filter over horizontally
 * filtered source rows kept in a ring (8-bit: pair rows, see resample.h), so
 * each source row is filtered once per slice. Source rows are first copied
 * into a scratch row with replicated edges; the kernels read only that
 * scratch, never past the caller's buffers. The ring holds min(taps, rows)
 * entries per slice, so a huge vertical downscale (thousands of taps) holds up
 * to one plane of intermediate rows.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/scale.h"
#include "dsp/resample.h"

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

/* Filters of one plane geometry (luma-like or chroma). */
typedef struct Geometry {
    int sw, sh, dw, dh;   /* plane sizes */
    AieResampleFilter h, v;
    int span_lo, span_hi; /* source columns the horizontal kernel may read */
    int h_x2;             /* h is a period-2 table: use hscale8_x2 */
} Geometry;

struct AieScaler {
    AieScaleParams p;
    AieResampleDSP dsp;
    int nplanes;
    int bytes;            /* 1 or 2 per sample */
    int geom_of[4];       /* plane -> geom index */
    Geometry geom[2];
};

static void geometry_free(Geometry *g)
{
    aie_resample_filter_free(&g->h);
    aie_resample_filter_free(&g->v);
}

/* f: subsampling factor, q: chroma offset in quarter luma samples. */
static int axis_filter(AieResampleFilter *out, AieFilter kind, int s, int d, int f, int q, int bits)
{
    int n_src = (s + f - 1) / f, n_out = (d + f - 1) / f;
    return aie_resample_filter_init(out, kind, n_src, n_out, (int64_t)(q + 2) * (s - d),
                                    (int64_t)4 * f * s, (int64_t)4 * f * d, bits);
}

static int geometry_init(Geometry *g, const AieScaleParams *p, int fx, int qx, int fy, int qy)
{
    int vbits = p->depth > 8 ? AIE_RESAMPLE_VBITS16 : AIE_RESAMPLE_VBITS8;
    g->sw = (p->src_w + fx - 1) / fx;
    g->sh = (p->src_h + fy - 1) / fy;
    g->dw = (p->dst_w + fx - 1) / fx;
    g->dh = (p->dst_h + fy - 1) / fy;
    int err = axis_filter(&g->h, p->filter, p->src_w, p->dst_w, fx, qx, AIE_RESAMPLE_HBITS);
    if (!err)
        err = axis_filter(&g->v, p->filter, p->src_h, p->dst_h, fy, qy, vbits);
    if (err)
        return err;
    g->h_x2 = aie_resample_filter_period2(&g->h);
    aie_resample_filter_span(&g->h, &g->span_lo, &g->span_hi);
    if (g->span_lo > 0)
        g->span_lo = 0;
    if (g->span_hi < g->sw)
        g->span_hi = g->sw;
    return 0;
}

int aie_scaler_create(AieScaler **out, const AieScaleParams *p, unsigned cpu_flags)
{
    *out = NULL;
    if (!p || (unsigned)p->layout >= AIE_LAYOUT_COUNT || p->depth < 8 || p->depth > 16 ||
        (unsigned)p->filter >= AIE_FILTER_COUNT || p->chroma_loc < 0 || p->chroma_loc > 6 ||
        p->src_w < 1 || p->src_h < 1 || p->dst_w < 1 || p->dst_h < 1)
        return AIE_EINVAL;
    if (p->src_w > AIE_MAX_DIM || p->src_h > AIE_MAX_DIM || p->dst_w > AIE_MAX_DIM ||
        p->dst_h > AIE_MAX_DIM)
        return AIE_ETOOBIG;
    AieScaler *s = calloc(1, sizeof(*s));
    if (!s)
        return AIE_ENOMEM;
    s->p = *p;
    s->nplanes = aie_layout_planes(p->layout);
    s->bytes = aie_depth_bytes(p->depth);
    aie_resample_dsp_init(&s->dsp, cpu_flags);

    int err = geometry_init(&s->geom[0], p, 1, 0, 1, 0);
    if (err)
        goto fail;
    int sx, sy;
    aie_layout_chroma_shift(p->layout, &sx, &sy);
    if (sx || sy) {
        /* AVChromaLocation: 1 left, 2 center, 3 topleft, 4 top, 5 bottomleft,
         * 6 bottom; 0 (unspecified) is left, as MPEG-2 and later. */
        int loc = p->chroma_loc;
        int qx = sx && (loc == 2 || loc == 4 || loc == 6) ? 2 : 0;
        int qy = !sy ? 0 : (loc == 3 || loc == 4) ? 0 : (loc == 5 || loc == 6) ? 4 : 2;
        err = geometry_init(&s->geom[1], p, 1 << sx, qx, 1 << sy, qy);
        if (err)
            goto fail;
        s->geom_of[1] = s->geom_of[2] = 1;
    }
    *out = s;
    return 0;
fail:
    aie_scaler_free(&s);
    return err;
}

void aie_scaler_free(AieScaler **ps)
{
    AieScaler *s = ps ? *ps : NULL;
    if (!s)
        return;
    *ps = NULL;
    geometry_free(&s->geom[0]);
    geometry_free(&s->geom[1]);
    free(s);
}

/* ---- per-call work ---- */

#define MAX_TASKS 256

typedef struct Job {
    const AieScaler *s;
    const AieFrame *src;
    AieFrame *dst;
    int ntasks;
    unsigned char plane[MAX_TASKS];
    int y0[MAX_TASKS], y1[MAX_TASKS];
    atomic_int err;
} Job;

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Copy source row r of plane pl into row[span_lo .. span_hi) with replicated edges. */
static void load_row(const Job *j, const Geometry *g, int pl, int r, uint8_t *row)
{
    const int bps = j->s->bytes;
    const uint8_t *in = j->src->data[pl] + (ptrdiff_t)r * j->src->stride[pl];
    uint8_t *o = row - (ptrdiff_t)g->span_lo * bps;
    memcpy(o, in, (size_t)g->sw * (size_t)bps);
    if (bps == 1) {
        memset(row, in[0], (size_t)-g->span_lo);
        memset(o + g->sw, in[g->sw - 1], (size_t)(g->span_hi - g->sw));
    } else {
        uint16_t first, last;
        memcpy(&first, in, 2);
        memcpy(&last, in + 2 * (g->sw - 1), 2);
        uint16_t *o16 = (uint16_t *)(void *)o;
        for (int x = g->span_lo; x < 0; x++)
            o16[x] = first;
        for (int x = g->sw; x < g->span_hi; x++)
            o16[x] = last;
    }
}

/* Per-slice scratch and state. */
typedef struct Slice {
    const Job *j;
    const Geometry *g;
    int pl;
    uint8_t *row;          /* source row with replicated edges */
    const void *in0;       /* column 0 inside row */
    uint8_t *ring;         /* rows of the vertical window */
    size_t rstride;        /* bytes between ring rows */
    int cap;               /* ring rows */
    uint8_t *ibuf[2];      /* 8-bit: two horizontally filtered rows */
    int iid[2];            /* their source rows */
} Slice;

/* Filter source row r horizontally into dst. */
static void hfilter(const Slice *sl, int r, void *dst)
{
    const AieScaler *s = sl->j->s;
    const AieResampleFilter *hf = &sl->g->h;
    load_row(sl->j, sl->g, sl->pl, r, sl->row);
    if (s->bytes == 1)
        (sl->g->h_x2 ? s->dsp.hscale8_x2 : s->dsp.hscale8)(dst, sl->in0, hf->pos, hf->coef,
                                                            hf->stride, hf->taps, sl->g->dw);
    else
        s->dsp.hscale16(dst, sl->in0, hf->pos, hf->coef, hf->stride, hf->taps, sl->g->dw,
                        s->p.depth);
}

/* 8-bit: the filtered row r, computing it into the buffer not holding `keep`. */
static const int16_t *irow(Slice *sl, int r, int keep)
{
    for (int b = 0; b < 2; b++)
        if (sl->iid[b] == r)
            return (const int16_t *)(void *)sl->ibuf[b];
    int b = sl->iid[0] == keep;
    hfilter(sl, r, sl->ibuf[b]);
    sl->iid[b] = r;
    return (const int16_t *)(void *)sl->ibuf[b];
}

/* Ring entry e of the window: 8-bit, the pair row P_e = (I_e, I_e+1) with
 * e in [-1, sh - 1] (rows clamped); 16-bit, the filtered row e. */
static void ring_fill(Slice *sl, int e)
{
    const int sh = sl->g->sh;
    void *dst = sl->ring + (size_t)((e + 1) % sl->cap) * sl->rstride;
    if (sl->j->s->bytes == 1) {
        int ra = clampi(e, 0, sh - 1), rb = clampi(e + 1, 0, sh - 1);
        const int16_t *a = irow(sl, ra, rb);
        const int16_t *b = irow(sl, rb, ra);
        sl->j->s->dsp.pair16(dst, a, b, sl->g->dw);
    } else {
        hfilter(sl, e, dst);
    }
}

static void run_slice(Job *j, int pl, int y0, int y1)
{
    const AieScaler *s = j->s;
    const Geometry *g = &s->geom[s->geom_of[pl]];
    const AieResampleFilter *vf = &g->v;
    const int bps = s->bytes, taps = vf->taps, sh = g->sh;
    /* 8-bit entries are pair rows of 2 x int16; 16-bit entries int32 rows.
     * Entries of one window: [a, a + taps - 2] in pairs, [a, a + taps - 1] in rows. */
    const int e_lo = bps == 1 ? -1 : 0, nent = bps == 1 ? taps / 2 : taps;
    const int span = bps == 1 ? taps - 1 : taps, ecount = bps == 1 ? sh + 1 : sh;
    Slice sl = {.j = j, .g = g, .pl = pl, .iid = {-2, -2}};
    sl.cap = span < ecount ? span : ecount;
    sl.rstride = ((size_t)g->dw * 4 + 63) & ~(size_t)63;
    const size_t rowbytes = ((size_t)(g->span_hi - g->span_lo) * (size_t)bps + 63) & ~(size_t)63;

    sl.ring = aligned_alloc(64, sl.rstride * (size_t)(sl.cap + 2));
    sl.row = aligned_alloc(64, rowbytes);
    const int16_t **ptr8 = malloc(sizeof(*ptr8) * (size_t)nent);
    const int32_t **ptr32 = malloc(sizeof(*ptr32) * (size_t)nent);
    int16_t *coef = malloc(sizeof(*coef) * (size_t)taps);
    if (!sl.ring || !sl.row || !ptr8 || !ptr32 || !coef) {
        atomic_store(&j->err, AIE_ENOMEM);
        goto done;
    }
    sl.ibuf[0] = sl.ring + (size_t)sl.cap * sl.rstride;
    sl.ibuf[1] = sl.ibuf[0] + sl.rstride;
    sl.in0 = sl.row - (ptrdiff_t)g->span_lo * bps;
    const int step = bps == 1 ? 2 : 1;
    int lo = 0, hi = 0; /* entries [lo, hi) are in the ring */
    for (int y = y0; y < y1; y++) {
        const int a = vf->pos[y];
        const int first = clampi(a, e_lo, sh - 1);
        const int last = clampi(a + (nent - 1) * step, e_lo, sh - 1);
        if (first < lo || first > hi)
            lo = hi = first;
        for (; hi <= last; hi++)
            ring_fill(&sl, hi);
        if (lo < hi - sl.cap)
            lo = hi - sl.cap;
        for (int k = 0; k < nent; k++) {
            int e = clampi(a + k * step, e_lo, sh - 1);
            void *entry = sl.ring + (size_t)((e + 1) % sl.cap) * sl.rstride;
            ptr8[k] = entry;
            ptr32[k] = entry;
        }
        for (int k = 0; k < taps; k++)
            coef[k] = vf->coef[2 * ((size_t)(k >> 1) * (size_t)vf->stride + (size_t)y) + (k & 1)];
        uint8_t *o = j->dst->data[pl] + (ptrdiff_t)y * j->dst->stride[pl];
        if (bps == 1)
            s->dsp.vscale8(o, ptr8, coef, taps, g->dw);
        else
            s->dsp.vscale16((uint16_t *)(void *)o, ptr32, coef, taps, g->dw, s->p.depth);
    }
done:
    free(sl.ring);
    free(sl.row);
    free(ptr8);
    free(ptr32);
    free(coef);
}

static void slice_task(void *ctx, int index, int worker)
{
    (void)worker;
    Job *j = ctx;
    if (atomic_load(&j->err))
        return;
    run_slice(j, j->plane[index], j->y0[index], j->y1[index]);
}

static int frame_matches(const AieFrame *f, int w, int h, const AieScaleParams *p)
{
    return f && f->width == w && f->height == h && f->layout == p->layout &&
           f->depth == p->depth && f->nplanes == aie_layout_planes(p->layout);
}

int aie_scaler_scale(const AieScaler *s, const AieFrame *src, AieFrame *dst, AiePool *pool)
{
    if (!s || !frame_matches(src, s->p.src_w, s->p.src_h, &s->p) ||
        !frame_matches(dst, s->p.dst_w, s->p.dst_h, &s->p))
        return AIE_EINVAL;
    Job *j = malloc(sizeof(*j));
    if (!j)
        return AIE_ENOMEM;
    j->s = s;
    j->src = src;
    j->dst = dst;
    j->ntasks = 0;
    atomic_init(&j->err, 0);
    /* Slices of at least 64 rows, about 3 per thread per plane: enough to
     * balance, few enough that the rows re-filtered at slice starts stay cheap. */
    const int per_plane = pool ? 3 * aie_pool_threads(pool) : 1;
    for (int pl = 0; pl < s->nplanes; pl++) {
        int dh = s->geom[s->geom_of[pl]].dh;
        int n = dh / 64;
        n = n < 1 ? 1 : n > per_plane ? per_plane : n;
        if (n > MAX_TASKS / 4)
            n = MAX_TASKS / 4;
        for (int i = 0; i < n; i++) {
            j->plane[j->ntasks] = (unsigned char)pl;
            j->y0[j->ntasks] = (int)((int64_t)dh * i / n);
            j->y1[j->ntasks] = (int)((int64_t)dh * (i + 1) / n);
            j->ntasks++;
        }
    }
    aie_pool_parallel_for(pool, j->ntasks, slice_task, j);
    int err = atomic_load(&j->err);
    free(j);
    return err;
}
