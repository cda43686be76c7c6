/*
 * RAISR upscaling of frames (see aie/raisr.h): the learned planes go through
 * the kernels of lib/dsp/raisr*.c row by row in slices of low-resolution rows
 * on the pool; the other planes (chroma, alpha) through the classical scaler;
 * sizes other than scale x the input through a final lanczos pass.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/scale.h"
#include "sr/raisr_internal.h"
#include "sr/slices.h"

/* ---- rows of a low-resolution plane ---- */

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

int aie_raisr_rows_init(RaisrRows *r, const uint8_t *data, ptrdiff_t stride, int w, int h, int depth, int k,
                        const AieRaisrDSP *dsp, const AieRaisrHashParams *hp)
{
    memset(r, 0, sizeof(*r));
    r->w = w;
    r->h = h;
    r->k = k;
    r->data = data;
    r->stride = stride;
    r->depth = depth;
    r->dsp = dsp;
    r->hp = hp;
    /* int16 rows: PAD each side, rounded to 64 bytes; int32 tensor rows + 8 */
    size_t lrow = (((size_t)w + 2 * AIE_RAISR_PAD) * 2 + 63) & ~(size_t)63;
    size_t trow = (((size_t)w + 8) * 4 + 63) & ~(size_t)63;
    size_t brow = ((size_t)w + 64) & ~(size_t)63;
    r->mem = aligned_alloc(64, 8 * lrow + 24 * trow + brow);
    if (!r->mem)
        return AIE_ENOMEM;
    uint8_t *p = r->mem;
    for (int i = 0; i < 8; i++) {
        r->lr[i] = (int16_t *)(void *)(p + (size_t)i * lrow) + AIE_RAISR_PAD;
        r->lr_tag[i] = r->t_tag[i] = -1;
    }
    p += 8 * lrow;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 8; i++)
            r->t[c][i] = (int32_t *)(void *)(p + (size_t)(c * 8 + i) * trow);
    r->bucket = p + 24 * trow;
    return 0;
}

void aie_raisr_rows_free(RaisrRows *r)
{
    free(r->mem);
    r->mem = NULL;
}

const int16_t *aie_raisr_rows_lr(RaisrRows *r, int y)
{
    y = clampi(y, 0, r->h - 1);
    int slot = y & 7;
    if (r->lr_tag[slot] != y) {
        const uint8_t *s = r->data + (ptrdiff_t)y * r->stride;
        if (r->depth <= 8)
            aie_raisr_load8(r->lr[slot], s, r->w);
        else
            aie_raisr_load16(r->lr[slot], (const uint16_t *)(const void *)s, r->w, r->depth);
        r->lr_tag[slot] = y;
    }
    return r->lr[slot];
}

static void tensor_row(RaisrRows *r, int t)
{
    t = clampi(t, 0, r->h - 1);
    int slot = t & 7;
    if (r->t_tag[slot] == t)
        return;
    const int16_t *up = aie_raisr_rows_lr(r, t - 1), *mid = aie_raisr_rows_lr(r, t), *down = aie_raisr_rows_lr(r, t + 1);
    r->dsp->tensor(r->t[0][slot], r->t[1][slot], r->t[2][slot], up, mid, down, r->w);
    r->t_tag[slot] = t;
}

void aie_raisr_rows_prepare(RaisrRows *r, int y, const int16_t **src)
{
    /* the ring holds 8 rows: load in increasing order, so the window's rows
     * are the last ones touched */
    const int32_t *xx[5], *xy[5], *yy[5];
    for (int i = 0; i < 5; i++)
        tensor_row(r, y - 2 + i);
    for (int i = 0; i < 5; i++) {
        int slot = clampi(y - 2 + i, 0, r->h - 1) & 7;
        xx[i] = r->t[0][slot];
        xy[i] = r->t[1][slot];
        yy[i] = r->t[2][slot];
    }
    r->dsp->classify(r->bucket, xx, xy, yy, r->hp, r->w);
    const int h = r->k / 2;
    for (int i = 0; i < r->k; i++)
        src[i] = aie_raisr_rows_lr(r, y - h + i);
}

/* ---- the upscaler ---- */

#define MAX_TASKS 256

struct AieRaisrUpscaler {
    AieRaisrParams p;
    const AieRaisrBank *bank;
    int r;
    int mid_w, mid_h;        /* src * r */
    unsigned learned;        /* planes through the filters */
    AieRaisrDSP dsp;
    AieScaler *rest;         /* the other planes, src -> mid */
    AieScaler *post;         /* mid -> dst, NULL when dst is mid */
    AieFramePool *mids;      /* intermediate frames when post is set */
};

void aie_raisr_free(AieRaisrUpscaler **pu)
{
    if (!pu || !*pu)
        return;
    aie_scaler_free(&(*pu)->rest);
    aie_scaler_free(&(*pu)->post);
    aie_frame_pool_free(&(*pu)->mids);
    free(*pu);
    *pu = NULL;
}

int aie_raisr_create(AieRaisrUpscaler **out, const AieRaisrBank *bank, const AieRaisrParams *p,
                     unsigned cpu_flags)
{
    *out = NULL;
    if (!bank || p->src_w < 1 || p->src_h < 1 || p->dst_w < 1 || p->dst_h < 1 ||
        p->layout < 0 || p->layout >= AIE_LAYOUT_COUNT || p->depth < 8 || p->depth > 16)
        return AIE_EINVAL;
    const int r = bank->info.scale;
    if ((int64_t)p->src_w * r > AIE_MAX_DIM || (int64_t)p->src_h * r > AIE_MAX_DIM)
        return AIE_ETOOBIG;
    AieRaisrUpscaler *u = calloc(1, sizeof(*u));
    if (!u)
        return AIE_ENOMEM;
    u->p = *p;
    u->bank = bank;
    u->r = r;
    u->mid_w = p->src_w * r;
    u->mid_h = p->src_h * r;
    aie_raisr_dsp_init(&u->dsp, cpu_flags);
    int np = aie_layout_planes(p->layout);
    if (p->layout == AIE_LAYOUT_RGB || p->layout == AIE_LAYOUT_RGBA)
        u->learned = 7;
    else
        u->learned = 1; /* luma or gray */
    unsigned all = (1u << np) - 1, rest = all & ~u->learned;
    int e = 0;
    if (rest) {
        AieScaleParams sp = {
            .src_w = p->src_w, .src_h = p->src_h, .dst_w = u->mid_w, .dst_h = u->mid_h,
            .layout = p->layout, .depth = p->depth, .filter = AIE_FILTER_LANCZOS,
            .chroma_loc = p->chroma_loc, .plane_mask = rest,
        };
        e = aie_scaler_create(&u->rest, &sp, cpu_flags);
    }
    if (!e && (u->mid_w != p->dst_w || u->mid_h != p->dst_h)) {
        AieScaleParams sp = {
            .src_w = u->mid_w, .src_h = u->mid_h, .dst_w = p->dst_w, .dst_h = p->dst_h,
            .layout = p->layout, .depth = p->depth, .filter = AIE_FILTER_LANCZOS,
            .chroma_loc = p->chroma_loc,
        };
        e = aie_scaler_create(&u->post, &sp, cpu_flags);
        if (!e)
            e = aie_frame_pool_create(&u->mids, u->mid_w, u->mid_h, p->layout, p->depth);
    }
    if (e) {
        aie_raisr_free(&u);
        return e;
    }
    *out = u;
    return 0;
}

typedef struct Job {
    const AieRaisrUpscaler *u;
    const AieFrame *src;
    AieFrame *dst;
    int ntasks;
    unsigned char plane[MAX_TASKS];
    int y0[MAX_TASKS], y1[MAX_TASKS];
    _Atomic int err;
} Job;

static void run_slice(Job *j, int pl, int y0, int y1)
{
    const AieRaisrUpscaler *u = j->u;
    const AieRaisrBank *b = u->bank;
    const int r = u->r, w = j->src->plane_w[pl], h = j->src->plane_h[pl], ow = w * r;
    const int depth = j->src->depth;
    RaisrRows rows;
    if (aie_raisr_rows_init(&rows, j->src->data[pl], j->src->stride[pl], w, h, depth, b->info.k, &u->dsp, &b->hp)) {
        atomic_store(&j->err, AIE_ENOMEM);
        return;
    }
    size_t orow = (((size_t)ow + 32) * 2 + 63) & ~(size_t)63;
    int16_t *obuf = aligned_alloc(64, orow * (size_t)r);
    if (!obuf) {
        aie_raisr_rows_free(&rows);
        atomic_store(&j->err, AIE_ENOMEM);
        return;
    }
    int16_t *o[4];
    for (int i = 0; i < r; i++)
        o[i] = (int16_t *)(void *)((uint8_t *)obuf + orow * (size_t)i);
    const int16_t *src[8];
    for (int y = y0; y < y1; y++) {
        aie_raisr_rows_prepare(&rows, y, src);
        u->dsp.filter(o, src, rows.bucket, b->w, r, b->info.k, w);
        for (int i = 0; i < r; i++) {
            uint8_t *d = j->dst->data[pl] + (ptrdiff_t)(y * r + i) * j->dst->stride[pl];
            if (depth <= 8)
                u->dsp.pack8(d, o[i], ow);
            else
                u->dsp.pack16((uint16_t *)(void *)d, o[i], ow, depth);
        }
    }
    free(obuf);
    aie_raisr_rows_free(&rows);
}

static void slice_task(void *ctx, int index, int worker)
{
    (void)worker;
    Job *j = ctx;
    if (atomic_load(&j->err))
        return;
    run_slice(j, j->plane[index], j->y0[index], j->y1[index]);
}

static int learned_pass(const AieRaisrUpscaler *u, const AieFrame *src, AieFrame *mid, AiePool *pool)
{
    Job *j = malloc(sizeof(*j));
    if (!j)
        return AIE_ENOMEM;
    j->u = u;
    j->src = src;
    j->dst = mid;
    j->ntasks = 0;
    atomic_init(&j->err, 0);
    /* slices of at least 16 low-resolution rows, about 4 per thread per plane */
    const int per_plane = pool ? 4 * aie_pool_threads(pool) : 1;
    for (int pl = 0; pl < src->nplanes; pl++) {
        if (!(u->learned >> pl & 1))
            continue;
        j->ntasks = sr_add_slices(j->plane, j->y0, j->y1, j->ntasks, pl, src->plane_h[pl], 16, per_plane,
                                  MAX_TASKS / 4);
    }
    aie_pool_parallel_for(pool, j->ntasks, slice_task, j);
    int err = atomic_load(&j->err);
    free(j);
    return err;
}

int aie_raisr_upscale(const AieRaisrUpscaler *u, const AieFrame *src, AieFrame *dst, AiePool *pool)
{
    const AieRaisrParams *p = &u->p;
    if (!src || !dst || src->width != p->src_w || src->height != p->src_h || src->layout != p->layout ||
        src->depth != p->depth || dst->width != p->dst_w || dst->height != p->dst_h ||
        dst->layout != p->layout || dst->depth != p->depth)
        return AIE_EINVAL;
    AieFrame *mid = dst;
    int e;
    if (u->post && (e = aie_frame_pool_get(u->mids, &mid)))
        return e;
    e = 0;
    if (u->rest)
        e = aie_scaler_scale(u->rest, src, mid, pool);
    if (!e && u->learned)
        e = learned_pass(u, src, mid, pool);
    if (!e && u->post)
        e = aie_scaler_scale(u->post, mid, dst, pool);
    if (mid != dst)
        aie_frame_unref(&mid);
    return e;
}
