/*
 * Planar video frames.
 *
 * A frame holds 1 to 4 planes. Samples are 8-bit (depth 8) or 16-bit little
 * endian words holding `depth` significant bits (10, 12 or 16), right aligned.
 * Plane order: YUV layouts Y, U, V; GRAY one plane; RGB R, G, B; RGBA R, G, B, A.
 *
 * Colour metadata uses the code points of ITU-T H.273 (the same numbers FFmpeg
 * uses), so no FFmpeg header is needed to read it.
 *
 * Ownership: aie_frame_alloc() returns a frame with refcount 1;
 * aie_frame_ref() adds a reference and aie_frame_unref() drops one and frees the
 * frame (and NULLs the pointer) when the last reference goes.
 */
#ifndef AIE_FRAME_H
#define AIE_FRAME_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

typedef enum AieLayout {
    AIE_LAYOUT_YUV420 = 0,
    AIE_LAYOUT_YUV422,
    AIE_LAYOUT_YUV444,
    AIE_LAYOUT_GRAY,
    AIE_LAYOUT_RGB,
    AIE_LAYOUT_RGBA,
    AIE_LAYOUT_COUNT
} AieLayout;

typedef struct AieRational {
    int num, den;
} AieRational;

/* H.273 code points; 2 means unspecified for primaries/transfer/matrix. */
typedef struct AieColor {
    int range;      /* 0 unspecified, 1 limited (tv), 2 full (pc) */
    int primaries;  /* 1 BT.709, 9 BT.2020, ... */
    int transfer;   /* 1 BT.709, 16 PQ, 18 HLG, ... */
    int matrix;     /* 0 RGB/GBR, 1 BT.709, 5/6 BT.601, 9 BT.2020 NCL, ... */
    int chroma_loc; /* FFmpeg AVChromaLocation: 0 unspecified, 1 left, 2 center, 3 topleft, ... */
} AieColor;

/* Upper bound on either dimension of any frame aie creates or accepts. */
#define AIE_MAX_DIM 16384

/* Rows are aligned to and padded by at least this many bytes. */
#define AIE_FRAME_ALIGN 64

typedef struct AieFrame {
    int width, height;      /* luma / full-resolution size */
    AieLayout layout;
    int depth;              /* 8, 10, 12 or 16 significant bits */
    int nplanes;
    uint8_t *data[4];
    ptrdiff_t stride[4];    /* bytes between rows */
    int plane_w[4], plane_h[4];

    int64_t pts;            /* in time_base units; INT64_MIN when unknown */
    int64_t duration;       /* in time_base units; 0 when unknown */
    AieRational time_base;
    AieRational sar;        /* 0/1 when unknown */
    AieColor color;
    int64_t index;          /* 0-based output frame number */
    int interlaced;

    /* Packets of other streams (audio, subtitles, data) that travel with this
     * frame to the writer, so stream copy stays bounded and in order. Owned by
     * lib/io; moved between frames with aie_frame_copy_props(). */
    void *aux;
    void (*aux_free)(void *aux); /* runs when the frame is freed */

    /* private */
    atomic_int refcount_;
    struct AieFramePool *pool_;
    void *buf_;
    void (*free_cb_)(void *opaque);
    void *free_opaque_;
} AieFrame;

/* Allocate a frame with 64-byte aligned, padded rows. depth 8 stores bytes,
 * depth 9..16 stores 16-bit words. Returns AIE_EINVAL or AIE_ETOOBIG for bad
 * sizes. */
int aie_frame_alloc(AieFrame **out, int width, int height, AieLayout layout, int depth);

/* Wrap external planes: free_cb(opaque) runs when the last reference goes. */
int aie_frame_wrap(AieFrame **out, int width, int height, AieLayout layout, int depth,
                   uint8_t *const data[4], const ptrdiff_t stride[4],
                   void (*free_cb)(void *), void *opaque);

/* A pool of frame buffers of one geometry, so a stream of frames does not pay
 * for fresh pages (page faults, zeroing) on every frame. Frames from the pool
 * return their buffer to it on the last unref; the pool may be freed while its
 * frames are alive (it goes when the last one does). Thread-safe. */
typedef struct AieFramePool AieFramePool;
int aie_frame_pool_create(AieFramePool **out, int width, int height, AieLayout layout, int depth);
int aie_frame_pool_get(AieFramePool *pool, AieFrame **out);
void aie_frame_pool_free(AieFramePool **pool);

AieFrame *aie_frame_ref(AieFrame *f);
void aie_frame_unref(AieFrame **f);

/* Copy timing and colour metadata from src to dst and move src's aux packets to
 * dst (src keeps none afterwards). */
void aie_frame_copy_props(AieFrame *dst, AieFrame *src);

/* Bytes per sample (1 or 2) for a depth. */
static inline int aie_depth_bytes(int depth) { return depth > 8 ? 2 : 1; }

/* Chroma subsampling shifts of a layout (0 for non-YUV layouts). */
void aie_layout_chroma_shift(AieLayout layout, int *shift_x, int *shift_y);

/* Number of planes of a layout. */
int aie_layout_planes(AieLayout layout);

/* "yuv420p", "yuv420p10", "rgb", "rgba16", ... for messages and metrics. */
const char *aie_layout_name(AieLayout layout);
void aie_format_name(char *buf, size_t size, AieLayout layout, int depth);

#endif /* AIE_FRAME_H */
