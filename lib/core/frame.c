#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/frame.h"

void aie_layout_chroma_shift(AieLayout layout, int *sx, int *sy)
{
    *sx = layout == AIE_LAYOUT_YUV420 || layout == AIE_LAYOUT_YUV422;
    *sy = layout == AIE_LAYOUT_YUV420;
}

int aie_layout_planes(AieLayout layout)
{
    switch (layout) {
    case AIE_LAYOUT_GRAY: return 1;
    case AIE_LAYOUT_RGBA: return 4;
    default: return 3;
    }
}

const char *aie_layout_name(AieLayout layout)
{
    static const char *const names[AIE_LAYOUT_COUNT] = {"yuv420p", "yuv422p", "yuv444p",
                                                        "gray",    "rgb",     "rgba"};
    return (unsigned)layout < AIE_LAYOUT_COUNT ? names[layout] : "unknown";
}

void aie_format_name(char *buf, size_t size, AieLayout layout, int depth)
{
    if (depth == 8)
        snprintf(buf, size, "%s", aie_layout_name(layout));
    else
        snprintf(buf, size, "%s%d", aie_layout_name(layout), depth);
}

static int check_geometry(int w, int h, AieLayout layout, int depth)
{
    if ((unsigned)layout >= AIE_LAYOUT_COUNT || depth < 8 || depth > 16 || w < 1 || h < 1)
        return AIE_EINVAL;
    if (w > AIE_MAX_DIM || h > AIE_MAX_DIM)
        return AIE_ETOOBIG;
    return 0;
}

static void fill_plane_sizes(AieFrame *f)
{
    int sx, sy;
    aie_layout_chroma_shift(f->layout, &sx, &sy);
    f->nplanes = aie_layout_planes(f->layout);
    for (int p = 0; p < f->nplanes; p++) {
        int chroma = (p == 1 || p == 2) && (f->layout <= AIE_LAYOUT_YUV444);
        f->plane_w[p] = chroma ? (f->width + (1 << sx) - 1) >> sx : f->width;
        f->plane_h[p] = chroma ? (f->height + (1 << sy) - 1) >> sy : f->height;
    }
}

static void init_props(AieFrame *f)
{
    f->pts = INT64_MIN;
    f->time_base = (AieRational){1, 25};
    f->sar = (AieRational){0, 1};
    f->color = (AieColor){0, 2, 2, 2, 0};
    atomic_init(&f->refcount_, 1);
}

/* A frame's header: geometry and default properties, no planes yet. */
static AieFrame *frame_shell(int width, int height, AieLayout layout, int depth)
{
    AieFrame *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->width = width;
    f->height = height;
    f->layout = layout;
    f->depth = depth;
    fill_plane_sizes(f);
    init_props(f);
    return f;
}

/* A frame without pixels yet; fills strides and returns the buffer size. */
static AieFrame *new_frame(int width, int height, AieLayout layout, int depth, size_t off[4],
                           size_t *size)
{
    AieFrame *f = frame_shell(width, height, layout, depth);
    if (!f)
        return NULL;
    size_t bps = (size_t)aie_depth_bytes(depth), total = 0;
    for (int p = 0; p < f->nplanes; p++) {
        /* round up and add one alignment unit of padding for SIMD over-reads */
        size_t row = ((size_t)f->plane_w[p] * bps + 2 * AIE_FRAME_ALIGN - 1) & ~(size_t)(AIE_FRAME_ALIGN - 1);
        f->stride[p] = (ptrdiff_t)row;
        off[p] = total;
        total += row * (size_t)f->plane_h[p];
    }
    total += AIE_FRAME_ALIGN;
    *size = (total + AIE_FRAME_ALIGN - 1) & ~(size_t)(AIE_FRAME_ALIGN - 1);
    return f;
}

int aie_frame_alloc(AieFrame **out, int width, int height, AieLayout layout, int depth)
{
    *out = NULL;
    int err = check_geometry(width, height, layout, depth);
    if (err)
        return err;
    size_t off[4], size;
    AieFrame *f = new_frame(width, height, layout, depth, off, &size);
    uint8_t *buf = f ? aligned_alloc(AIE_FRAME_ALIGN, size) : NULL;
    if (!buf) {
        free(f);
        return AIE_ENOMEM;
    }
    f->buf_ = buf;
    for (int p = 0; p < f->nplanes; p++)
        f->data[p] = buf + off[p];
    *out = f;
    return 0;
}

/* ---- frame pool ---- */

struct AieFramePool {
    pthread_mutex_t lock;
    atomic_int refs; /* the owner's reference + one per frame out of the pool */
    int width, height, depth;
    AieLayout layout;
    uint8_t **free_bufs;
    int nfree, cap;
};

int aie_frame_pool_create(AieFramePool **out, int width, int height, AieLayout layout, int depth)
{
    *out = NULL;
    int err = check_geometry(width, height, layout, depth);
    if (err)
        return err;
    AieFramePool *p = calloc(1, sizeof(*p));
    if (!p)
        return AIE_ENOMEM;
    pthread_mutex_init(&p->lock, NULL);
    atomic_init(&p->refs, 1);
    p->width = width;
    p->height = height;
    p->layout = layout;
    p->depth = depth;
    *out = p;
    return 0;
}

static void pool_unref(AieFramePool *p)
{
    if (atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    for (int i = 0; i < p->nfree; i++)
        free(p->free_bufs[i]);
    free(p->free_bufs);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* Keep the buffer for the next frame (or free it when the list cannot grow). */
static void pool_put(AieFramePool *p, uint8_t *buf)
{
    pthread_mutex_lock(&p->lock);
    if (p->nfree == p->cap) {
        int cap = p->cap ? 2 * p->cap : 8;
        uint8_t **nb = realloc(p->free_bufs, (size_t)cap * sizeof(*nb));
        if (nb) {
            p->free_bufs = nb;
            p->cap = cap;
        }
    }
    if (p->nfree < p->cap) {
        p->free_bufs[p->nfree++] = buf;
        buf = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    free(buf);
    pool_unref(p);
}

int aie_frame_pool_get(AieFramePool *p, AieFrame **out)
{
    *out = NULL;
    size_t off[4], size;
    AieFrame *f = new_frame(p->width, p->height, p->layout, p->depth, off, &size);
    if (!f)
        return AIE_ENOMEM;
    uint8_t *buf = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->nfree)
        buf = p->free_bufs[--p->nfree];
    pthread_mutex_unlock(&p->lock);
    if (!buf && !(buf = aligned_alloc(AIE_FRAME_ALIGN, size))) {
        free(f);
        return AIE_ENOMEM;
    }
    atomic_fetch_add(&p->refs, 1);
    f->pool_ = p;
    f->buf_ = buf;
    for (int i = 0; i < f->nplanes; i++)
        f->data[i] = buf + off[i];
    *out = f;
    return 0;
}

void aie_frame_pool_free(AieFramePool **pp)
{
    AieFramePool *p = pp ? *pp : NULL;
    if (!p)
        return;
    *pp = NULL;
    pool_unref(p);
}

int aie_frame_wrap(AieFrame **out, int width, int height, AieLayout layout, int depth,
                   uint8_t *const data[4], const ptrdiff_t stride[4], void (*free_cb)(void *),
                   void *opaque)
{
    *out = NULL;
    int err = check_geometry(width, height, layout, depth);
    if (err)
        return err;
    AieFrame *f = frame_shell(width, height, layout, depth);
    if (!f)
        return AIE_ENOMEM;
    for (int p = 0; p < f->nplanes; p++) {
        f->data[p] = data[p];
        f->stride[p] = stride[p];
    }
    f->free_cb_ = free_cb;
    f->free_opaque_ = opaque;
    *out = f;
    return 0;
}

AieFrame *aie_frame_ref(AieFrame *f)
{
    if (f)
        atomic_fetch_add_explicit(&f->refcount_, 1, memory_order_relaxed);
    return f;
}

void aie_frame_unref(AieFrame **pf)
{
    AieFrame *f = pf ? *pf : NULL;
    if (!f)
        return;
    *pf = NULL;
    if (atomic_fetch_sub_explicit(&f->refcount_, 1, memory_order_acq_rel) != 1)
        return;
    if (f->aux && f->aux_free)
        f->aux_free(f->aux);
    if (f->free_cb_)
        f->free_cb_(f->free_opaque_);
    if (f->pool_)
        pool_put(f->pool_, f->buf_);
    else
        free(f->buf_);
    free(f);
}

void aie_frame_copy_props(AieFrame *dst, AieFrame *src)
{
    dst->pts = src->pts;
    dst->duration = src->duration;
    dst->time_base = src->time_base;
    dst->sar = src->sar;
    dst->color = src->color;
    dst->index = src->index;
    dst->interlaced = src->interlaced;
    if (dst->aux && dst->aux_free)
        dst->aux_free(dst->aux);
    dst->aux = src->aux;
    dst->aux_free = src->aux_free;
    src->aux = NULL;
    src->aux_free = NULL;
}
