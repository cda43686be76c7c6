/*
 * Classical resampling of whole frames (separable filters, per-plane, chroma
 * siting aware). Kernels live in lib/dsp/resample*.c; this is the front-end.
 */
#ifndef AIE_SCALE_H
#define AIE_SCALE_H

#include "aie/filter.h"
#include "aie/frame.h"
#include "aie/thread.h"

typedef struct AieScaleParams {
    int src_w, src_h;    /* full-resolution (luma) sizes */
    int dst_w, dst_h;
    AieLayout layout;    /* same layout and depth in and out */
    int depth;
    AieFilter filter;
    int chroma_loc;      /* AieColor.chroma_loc of the source; 0 = unspecified (left for 4:2:0/4:2:2) */
    unsigned plane_mask; /* planes to scale (bit p = plane p); 0 = all. The others are left as they are */
} AieScaleParams;

typedef struct AieScaler AieScaler;

/* Build filters for p. cpu_flags picks the kernels (aie_cpu_flags() masked by
 * --cpu). The scaler is immutable after creation and may be shared by threads;
 * per-call scratch is allocated by aie_scaler_scale(). */
int aie_scaler_create(AieScaler **out, const AieScaleParams *p, unsigned cpu_flags);

/* Scale src into dst (allocated by the caller with the dst size, layout and
 * depth). Runs slices on pool when pool is not NULL. Does not copy metadata. */
int aie_scaler_scale(const AieScaler *s, const AieFrame *src, AieFrame *dst, AiePool *pool);

void aie_scaler_free(AieScaler **s);

#endif /* AIE_SCALE_H */
