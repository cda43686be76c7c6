/* Private to lib/motion: float planes, pyramids and the estimator's scratch. */
#ifndef AIE_MOTION_INTERNAL_H
#define AIE_MOTION_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include "aie/motion.h"
#include "dsp/blend.h"
#include "dsp/motion.h"
#include "dsp/warp.h"

#define MOTION_MAX_LEVELS 12
#define PLANE_PAD 32 /* replicated samples around every float plane */

/* A float plane with PLANE_PAD replicated samples on each side. */
typedef struct Plane {
    float *buf;
    float *data; /* sample (0, 0) */
    int w, h;
    ptrdiff_t stride; /* floats */
} Plane;

int aie_plane_alloc(Plane *p, int w, int h);
void aie_plane_free(Plane *p);
/* Fill the padding by replicating the edge samples. */
void aie_plane_pad(Plane *p);

/* Bilinear sample with clamping to the plane (no padding needed). */
static inline float plane_bilinear(const Plane *p, float x, float y)
{
    float mx = (float)(p->w - 1), my = (float)(p->h - 1);
    x = x < 0 ? 0 : x > mx ? mx : x;
    y = y < 0 ? 0 : y > my ? my : y;
    int ix = (int)x, iy = (int)y;
    float fx = x - (float)ix, fy = y - (float)iy;
    int ix1 = ix + 1 < p->w ? ix + 1 : ix, iy1 = iy + 1 < p->h ? iy + 1 : iy;
    const float *r0 = p->data + iy * p->stride, *r1 = p->data + iy1 * p->stride;
    float a = r0[ix] + fx * (r0[ix1] - r0[ix]);
    float b = r1[ix] + fx * (r1[ix1] - r1[ix]);
    return a + fy * (b - a);
}

/* Scratch of one estimate() call. */
typedef struct MotionWork {
    struct MotionWork *next;
    Plane pa[MOTION_MAX_LEVELS], pb[MOTION_MAX_LEVELS];
    Plane u, v, u2, v2;            /* dense flow at the current level, and the coarser one */
    /* variational refinement */
    Plane du, dv, iw, a11, a12, a22, b1, b2, sx, sy;
    /* patches */
    float *pu, *pv;                /* per patch flow */
    int *col_lo, *col_hi, *row_lo, *row_hi;
} MotionWork;

struct AieMotion {
    int width, height;
    int levels;              /* pyramid levels 0 .. levels - 1 */
    int finest;              /* output level */
    int lw[MOTION_MAX_LEVELS], lh[MOTION_MAX_LEVELS];
    AieMotionParams p;
    AieMotionDSP dsp;
    AieWarpDSP warp;
    pthread_mutex_t lock;
    MotionWork *free_work;
};

/* Luma (or G) plane of a frame as floats in 0..255 into p (p->w, p->h are
 * the frame's). */
void aie_motion_load_luma(const AieMotion *m, const AieFrame *f, Plane *p);

/* aie_motion_estimate(), and copies of the luma planes of a and b at the
 * field's level into la, lb (allocated at that size; either may be NULL). */
int aie_motion_estimate_keep(AieMotion *m, const AieFrame *a, const AieFrame *b, AieFlow *ab,
                             AieFlow *ba, Plane *la, Plane *lb, AiePool *pool);

/* aie_flow_unreliable() with the rows split over the pool. */
double aie_motion_unreliable(const AieFlow *ab, const AieFlow *ba, AiePool *pool);

#endif
