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
 * each source row is filtered once per slice. The horizontal kernels read the
 * caller's row in place for the outputs whose windows (overread included)
 * lie inside it; only the few outputs at each end read a scratch row, in
 * which just the columns they read are copied, edges replicated. Kernels
 * never read past the caller's buffers. Periodic downscale tables (2x, 3x,
 * 4x, 1.5x) take hscale8_dn. When every vertical window starts on the same
 * parity (2x, 4x vertical downscales) only the pair rows of that parity are
 * built, each straight from its two source rows by hpair8_dn when the
 * horizontal table is periodic too. The ring holds min(taps, rows) entries
 * per slice (taps / 2 pair rows with one parity), so a huge vertical
 * downscale (thousands of taps) holds up to one plane of intermediate rows.
 */
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/scale.h"
#include "dsp/resample.h"
#include "sr/slices.h"

/* Filters of one plane geometry (luma-like or chroma). */
typedef struct Geometry {
    int sw, sh, dw, dh;   /* plane sizes */
    AieResampleFilter h, v;
    int span_lo, span_hi; /* source columns the horizontal kernel may read */
    int h_x2;             /* h is a period-2 table: use hscale8_x2 */
    int h_dn;             /* h is a periodic downscale table: use hscale8_dn */
    /* Outputs [mid0, mid1) (multiples of AIE_RESAMPLE_ALIGN) read only source
     * columns [0, sw), so the kernel reads the caller's row directly; the
     * outputs before and after read the scratch row, in which only the
     * columns they read are filled. */
    int mid0, mid1;
    int lo[2], hi[2];     /* scratch columns of the outputs before mid0 and from mid1 */
    int v_sparse;         /* 8-bit: every window starts on the same parity, so
                           * only pair rows of that parity are needed */
    int cap8, cap16;      /* ring entries per slice, 8-bit and 16-bit */
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

/* Source columns [*lo, *hi) read by the horizontal kernel for outputs
 * [i0, i1) (table entries up to round_up(i1, ALIGN) included). */
static void read_range(const AieResampleFilter *f, int i0, int i1, int *lo, int *hi)
{
    const int end = (i1 + AIE_RESAMPLE_ALIGN - 1) / AIE_RESAMPLE_ALIGN * AIE_RESAMPLE_ALIGN;
    *lo = f->pos[i0];
    *hi = f->pos[i0];
    for (int i = i0; i < end; i++) {
        if (f->pos[i] < *lo)
            *lo = f->pos[i];
        if (f->pos[i] > *hi)
            *hi = f->pos[i];
    }
    *hi += f->taps + AIE_RESAMPLE_OVERREAD;
}

/* The first run of whole ALIGN blocks of outputs that read inside [0, sw). */
static void split_row(Geometry *g)
{
    const AieResampleFilter *f = &g->h;
    const int nb = g->dw / AIE_RESAMPLE_ALIGN;
    int b0 = -1, b1 = -1;
    for (int b = 0; b < nb; b++) {
        int lo, hi;
        read_range(f, b * AIE_RESAMPLE_ALIGN, (b + 1) * AIE_RESAMPLE_ALIGN, &lo, &hi);
        const int inside = lo >= 0 && hi <= g->sw;
        if (inside && b0 < 0)
            b0 = b;
        if (!inside && b0 >= 0) {
            b1 = b;
            break;
        }
    }
    if (b0 < 0)
        b0 = b1 = 0;
    else if (b1 < 0)
        b1 = nb;
    g->mid0 = b0 * AIE_RESAMPLE_ALIGN;
    g->mid1 = b1 * AIE_RESAMPLE_ALIGN;
    g->lo[0] = g->hi[0] = g->lo[1] = g->hi[1] = 0;
    if (g->mid0 > 0)
        read_range(f, 0, g->mid0, &g->lo[0], &g->hi[0]);
    if (g->dw > g->mid1)
        read_range(f, g->mid1, g->dw, &g->lo[1], &g->hi[1]);
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
    g->h_dn = !g->h_x2 && (aie_resample_filter_periodic(&g->h, 1) >= 2 ||
                           aie_resample_filter_periodic(&g->h, 2) >= 3);
    aie_resample_filter_span(&g->h, &g->span_lo, &g->span_hi);
    if (g->span_lo > 0)
        g->span_lo = 0;
    if (g->span_hi < g->sw)
        g->span_hi = g->sw;
    split_row(g);
    g->v_sparse = 1;
    for (int y = 1; y < g->v.n; y++)
        if ((g->v.pos[y] ^ g->v.pos[0]) & 1)
            g->v_sparse = 0;
    /* 8-bit: pair rows, [a, a + taps - 2] of [-1, sh - 1] per window (or
     * taps / 2 of one parity); 16-bit: rows [a, a + taps - 1] of [0, sh - 1] */
    const int taps = g->v.taps;
    g->cap8 = g->v_sparse ? taps / 2 : taps - 1 < g->sh + 1 ? taps - 1 : g->sh + 1;
    g->cap16 = taps < g->sh ? taps : g->sh;
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

/* Source row r of plane pl. */
static const uint8_t *src_row(const Job *j, int pl, int r)
{
    return j->src->data[pl] + (ptrdiff_t)r * j->src->stride[pl];
}

/* Columns [lo, hi) of the scratch row (column 0 at in0) from source row `in`,
 * edges replicated. */
static void fill_scratch(const Geometry *g, int bps, const uint8_t *in, uint8_t *in0, int lo, int hi)
{
    const int a = lo > 0 ? lo : 0, b = hi < g->sw ? hi : g->sw;
    if (a < b)
        memcpy(in0 + (ptrdiff_t)a * bps, in + (ptrdiff_t)a * bps, (size_t)(b - a) * (size_t)bps);
    if (bps == 1) {
        if (lo < 0)
            memset(in0 + lo, in[0], (size_t)-lo);
        if (hi > g->sw)
            memset(in0 + g->sw, in[g->sw - 1], (size_t)(hi - g->sw));
    } else {
        uint16_t first, last;
        memcpy(&first, in, 2);
        memcpy(&last, in + 2 * (g->sw - 1), 2);
        uint16_t *o16 = (uint16_t *)(void *)in0;
        for (int x = lo; x < 0 && x < hi; x++)
            o16[x] = first;
        for (int x = g->sw > lo ? g->sw : lo; x < hi; x++)
            o16[x] = last;
    }
}

/* Per-slice scratch and state. */
typedef struct Slice {
    const Job *j;
    const Geometry *g;
    int pl;
    uint8_t *row;          /* scratch: two source rows with replicated edges */
    uint8_t *in0[2];       /* column 0 inside each */
    uint8_t *ring;         /* rows of the vertical window */
    size_t rstride;        /* bytes between ring rows */
    int cap;               /* ring rows */
    int *tag;              /* [cap]: entry held by each ring row */
    int sparse, par;       /* 8-bit v_sparse: entries all of parity par */
    int fused;             /* sparse with h_dn: pair rows by hpair8_dn */
    uint8_t *ibuf[2];      /* 8-bit: two horizontally filtered rows */
    int iid[2];            /* their source rows */
} Slice;

/* Outputs [i0, i1) of row `in` (column 0) into dst. */
static void hkernel(const Slice *sl, void *dst, const void *in, int i0, int i1)
{
    const AieScaler *s = sl->j->s;
    const Geometry *g = sl->g;
    const AieResampleFilter *hf = &g->h;
    const int32_t *pos = hf->pos + i0;
    const int16_t *coef = hf->coef + 2 * (ptrdiff_t)i0;
    if (s->bytes == 1) {
        AieHScale8Fn fn = g->h_x2 ? s->dsp.hscale8_x2 : g->h_dn ? s->dsp.hscale8_dn : s->dsp.hscale8;
        fn((int16_t *)dst + i0, in, pos, coef, hf->stride, hf->taps, i1 - i0);
    } else {
        s->dsp.hscale16((int32_t *)dst + i0, in, pos, coef, hf->stride, hf->taps, i1 - i0, s->p.depth);
    }
}

/* Filter source row r horizontally into dst: the outputs whose windows stay
 * inside the row straight from the source, the others from the scratch row
 * with only the columns they read filled. */
static void hfilter(const Slice *sl, int r, void *dst)
{
    const Geometry *g = sl->g;
    const int bps = sl->j->s->bytes;
    const uint8_t *in = src_row(sl->j, sl->pl, r);
    if (g->mid0 > 0) {
        fill_scratch(g, bps, in, sl->in0[0], g->lo[0], g->hi[0]);
        hkernel(sl, dst, sl->in0[0], 0, g->mid0);
    }
    if (g->mid1 > g->mid0)
        hkernel(sl, dst, in, g->mid0, g->mid1);
    if (g->dw > g->mid1) {
        fill_scratch(g, bps, in, sl->in0[0], g->lo[1], g->hi[1]);
        hkernel(sl, dst, sl->in0[0], g->mid1, g->dw);
    }
}

/* 8-bit fused: the pair row of source rows ra and rb into dst, in the same
 * pieces as hfilter. */
static void hfilter_pair(const Slice *sl, int ra, int rb, int16_t *dst)
{
    const Geometry *g = sl->g;
    const AieResampleFilter *hf = &g->h;
    const AieHPair8Fn fn = sl->j->s->dsp.hpair8_dn;
    const uint8_t *in[2] = {src_row(sl->j, sl->pl, ra), src_row(sl->j, sl->pl, rb)};
    const int i0[3] = {0, g->mid0, g->mid1}, i1[3] = {g->mid0, g->mid1, g->dw};
    for (int p = 0; p < 3; p++) {
        if (i0[p] >= i1[p])
            continue;
        const uint8_t *a = in[0], *b = in[1];
        if (p != 1) {
            for (int k = 0; k < 2; k++)
                fill_scratch(g, 1, in[k], sl->in0[k], g->lo[p / 2], g->hi[p / 2]);
            a = sl->in0[0];
            b = sl->in0[1];
        }
        fn(dst + 2 * (ptrdiff_t)i0[p], a, b, hf->pos + i0[p], hf->coef + 2 * (ptrdiff_t)i0[p],
           hf->stride, hf->taps, i1[p] - i0[p]);
    }
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
 * e in [-1, sh - 1] (rows clamped), or with sparse entries of one parity
 * in [-2, sh] (P_-2 = P_-1 and P_sh = P_sh-1); 16-bit, the filtered row e.
 * Slot (e + 1) % cap, or (e - par + 2) / 2 % cap with sparse entries, so
 * the ring holds just the entries in use; tag[] holds each slot's entry. */
static void *ring_entry(Slice *sl, int e)
{
    const int slot = sl->sparse ? ((e - sl->par + 2) >> 1) % sl->cap : (e + 1) % sl->cap;
    void *dst = sl->ring + (size_t)slot * sl->rstride;
    if (sl->tag[slot] == e)
        return dst;
    sl->tag[slot] = e;
    const int sh = sl->g->sh;
    if (sl->fused) {
        hfilter_pair(sl, clampi(e, 0, sh - 1), clampi(e + 1, 0, sh - 1), dst);
    } else if (sl->j->s->bytes == 1) {
        int ra = clampi(e, 0, sh - 1), rb = clampi(e + 1, 0, sh - 1);
        const int16_t *a = irow(sl, ra, rb);
        const int16_t *b = irow(sl, rb, ra);
        sl->j->s->dsp.pair16(dst, a, b, sl->g->dw);
    } else {
        hfilter(sl, e, dst);
    }
    return dst;
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
    Slice sl = {.j = j, .g = g, .pl = pl, .iid = {-2, -2}};
    sl.cap = bps == 1 ? g->cap8 : g->cap16;
    /* sparse: entries of parity par in [e_min, e_max] */
    sl.sparse = bps == 1 && g->v_sparse;
    sl.par = vf->pos[0] & 1;
    sl.fused = sl.sparse && g->h_dn;
    const int e_min = sl.par ? -1 : -2, e_max = ((sh - 1) & 1) == sl.par ? sh - 1 : sh;
    sl.rstride = ((size_t)g->dw * 4 + 63) & ~(size_t)63;
    const size_t rowbytes = ((size_t)(g->span_hi - g->span_lo) * (size_t)bps + 63) & ~(size_t)63;

    sl.ring = aligned_alloc(64, sl.rstride * (size_t)(sl.cap + 2));
    sl.row = aligned_alloc(64, 2 * rowbytes);
    const int16_t **ptr8 = malloc(sizeof(*ptr8) * (size_t)nent);
    const int32_t **ptr32 = malloc(sizeof(*ptr32) * (size_t)nent);
    int16_t *coef = malloc(sizeof(*coef) * (size_t)taps);
    sl.tag = malloc(sizeof(*sl.tag) * (size_t)sl.cap);
    if (!sl.ring || !sl.row || !ptr8 || !ptr32 || !coef || !sl.tag) {
        atomic_store(&j->err, AIE_ENOMEM);
        goto done;
    }
    sl.ibuf[0] = sl.ring + (size_t)sl.cap * sl.rstride;
    sl.ibuf[1] = sl.ibuf[0] + sl.rstride;
    sl.in0[0] = sl.row - (ptrdiff_t)g->span_lo * bps;
    sl.in0[1] = sl.in0[0] + rowbytes;
    for (int t = 0; t < sl.cap; t++)
        sl.tag[t] = INT_MIN;
    const int step = bps == 1 ? 2 : 1;
    for (int y = y0; y < y1; y++) {
        const int a = vf->pos[y];
        /* Entries in increasing order, so each filtered row is computed once:
         * all of [first, last] (the windows of the next rows need the rest),
         * or with sparse entries just the ones this window reads. */
        if (!sl.sparse) {
            const int first = clampi(a, e_lo, sh - 1);
            const int last = clampi(a + (nent - 1) * step, e_lo, sh - 1);
            for (int e = first; e <= last; e++)
                ring_entry(&sl, e);
        }
        for (int t = 0; t < nent; t++) {
            const int e = a + t * step;
            void *entry = ring_entry(&sl, sl.sparse ? clampi(e, e_min, e_max) : clampi(e, e_lo, sh - 1));
            ptr8[t] = entry;
            ptr32[t] = entry;
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
    free(sl.tag);
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
        if (s->p.plane_mask && !(s->p.plane_mask >> pl & 1))
            continue;
        j->ntasks = sr_add_slices(j->plane, j->y0, j->y1, j->ntasks, pl, s->geom[s->geom_of[pl]].dh, 64, per_plane,
                                  MAX_TASKS / 4);
    }
    aie_pool_parallel_for(pool, j->ntasks, slice_task, j);
    int err = atomic_load(&j->err);
    free(j);
    return err;
}
