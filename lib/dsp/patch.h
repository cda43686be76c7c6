/*
 * Patch-synthesis kernels (private to libaie; lib/look/keyframe.c is the
 * user): weighted patch distances over 8-channel guide images, one
 * propagation pass of a nearest-neighbour field (NNF) over a row, and the
 * voting of a style image along an NNF.
 *
 * Guide images hold 8 interleaved 8-bit channels per pixel; style images 4
 * (RGBA). Both are padded by AIE_PATCH_PAD pixels on every side (the caller
 * fills the border), so a patch centred on any pixel of the image lies in
 * the buffer. An NNF entry packs a source position as (y << 16) | x.
 *
 * Integer kernels: every SIMD version equals the C reference bit for bit.
 * Distances: sum over the patch and the 8 channels of w[c] (a - b)^2 with
 * 0 <= w[c] <= 64 and patch sizes up to 7, so the sum fits 31 bits.
 */
#ifndef AIE_DSP_PATCH_H
#define AIE_DSP_PATCH_H

#include <stddef.h>
#include <stdint.h>

#define AIE_PATCH_PAD 3      /* border of guide and style images, in pixels */
#define AIE_PATCH_MAX 7      /* largest (odd) patch size */
#define AIE_PATCH_WMAX 64    /* largest channel weight */
#define AIE_PATCH_NW 5       /* weight sets selectable per target pixel */

#define AIE_PATCH_X(q) ((int)((uint32_t)(q) & 0xffff))
#define AIE_PATCH_Y(q) ((int)((uint32_t)(q) >> 16))
#define AIE_PATCH_Q(x, y) ((int32_t)(((uint32_t)(y) << 16) | (uint32_t)(x)))

/* Weighted SSD of two size x size patches; a and b point at their top-left
 * pixels, strides in bytes. */
#define AIE_PATCH_DIST_FN(name) \
    uint32_t name(const uint8_t *a, ptrdiff_t as, const uint8_t *b, ptrdiff_t bs, int size, const int16_t w[8])

/* What a propagation pass reads. tgt and src point at pixel (0, 0). */
typedef struct AiePatchField {
    const uint8_t *tgt; ptrdiff_t tstride; int tw, th;   /* target guide */
    const uint8_t *src; ptrdiff_t sstride; int sw, sh;   /* source (style side) guide */
    int size;                                            /* odd, 1..AIE_PATCH_MAX */
    int16_t w[AIE_PATCH_NW][8];                          /* weight sets */
    const uint8_t *wsel;                                 /* tw x th set index per target pixel */
} AiePatchField;

/* One Jacobi propagation pass over target row y: for each x, the best of the
 * current match nnf_in[x] (cost cost_in[x]) and the neighbours' matches at
 * distance `step` shifted back by it (left, right, up, down, in that order;
 * clamped to the source; strictly better wins), written to nnf_out[x] and
 * cost_out[x]. nnf_in/cost_in point at row y of tw-wide fields (rows y-step
 * and y+step are read when inside the field). */
#define AIE_PATCH_PROP_FN(name)                                                              \
    void name(const AiePatchField *f, int y, int step, const int32_t *nnf_in, const uint32_t *cost_in, \
              int32_t *nnf_out, uint32_t *cost_out)

/* acc[4 i + c] += style pixel at (X(nnf[i]) + ox, Y(nnf[i]) + oy), channel c,
 * for i < n (style: 4 bytes a pixel, stride in bytes, pointing at (0, 0);
 * |ox|, |oy| <= AIE_PATCH_PAD). */
#define AIE_PATCH_VOTE_FN(name) \
    void name(uint16_t *acc, const uint8_t *style, ptrdiff_t stride, const int32_t *nnf, int n, int ox, int oy)

typedef AIE_PATCH_DIST_FN((*AiePatchDistFn));
typedef AIE_PATCH_PROP_FN((*AiePatchPropFn));
typedef AIE_PATCH_VOTE_FN((*AiePatchVoteFn));

typedef struct AiePatchDSP {
    AiePatchDistFn dist;
    AiePatchPropFn prop;
    AiePatchVoteFn vote;
} AiePatchDSP;

void aie_patch_dsp_init(AiePatchDSP *dsp, unsigned cpu_flags);
void aie_patch_dsp_init_avx2(AiePatchDSP *dsp);

#endif
