/* Private state of lib/look. */
#ifndef AIE_LOOK_INTERNAL_H
#define AIE_LOOK_INTERNAL_H

#include "aie/look.h"

struct AieLut {
    int dims, size;
    double dmin[3], dmax[3];
    char title[256];
    float *data; /* dims 3: size^3 x RGB, red fastest; dims 1: size x RGB */
};

/* Deep copy (the style keeps its own). */
int aie_look_lut_clone(AieLut **out, const AieLut *lut);

/* Colour statistics: raw sums over n samples of a 3-vector (R'G'B' for MKL,
 * lαβ for Reinhard): s = sum x, ss = sum x x^T (xx, xy, xz, yy, yz, zz). */
typedef struct LookStats {
    double n, s[3], ss[6];
} LookStats;

/* The 3-vector the statistics of `transfer` are taken on, from R'G'B' 0..1. */
void aie_look_stats_point(AieTransfer transfer, const double rgb[3], double v[3]);
void aie_look_stats_add(LookStats *st, const double v[3]);
void aie_look_stats_merge(LookStats *a, const LookStats *b);
/* Mean and covariance of the sums; returns 0, or -1 when n == 0. */
int aie_look_stats_moments(const LookStats *st, double mean[3], double cov[9]);

/* A colour transform from source statistics to reference statistics. */
typedef struct LookXform {
    AieTransfer transfer;
    double strength;
    double T[9];           /* mkl: out = T (x - ms) + mr */
    double ms[3], mr[3];
    double k[3];           /* reinhard: per-channel sd ratio in lαβ */
} LookXform;

int aie_look_xform_build(LookXform *x, AieTransfer transfer, double strength, const LookStats *src,
                         const LookStats *ref);
/* R'G'B' 0..1 in, R'G'B' clipped to 0..1 out. */
void aie_look_xform_apply(const LookXform *x, const double in[3], double out[3]);

#endif
