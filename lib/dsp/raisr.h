/*
 * RAISR kernels (private to libaie; lib/sr/raisr*.c are the users).
 *
 * Samples: the low-resolution plane is held as int16 rows in "14-bit scale"
 * (an 8-bit sample v is v << 6; depth d is v << (14 - d), or v >> (d - 14)
 * above 14 bits), each row padded with AIE_RAISR_PAD replicated samples on
 * both sides, so kernels read columns [-AIE_RAISR_PAD, w + AIE_RAISR_PAD).
 *
 * Hash (per low-resolution cell): the structure tensor of the 8-bit-scale
 * gradients g = (s[x+1] - s[x-1], s[y+1] - s[y-1]) with s = sample >> 6,
 * summed over a 5x5 binomial window ([1 4 6 4 1] both ways). Every sum is
 * an exact integer below 2^24. From (xx, xy, yy):
 *   a = xx - yy, b = 2 xy, T = xx + yy, sq = sqrt(a^2 + b^2) (float),
 *   l1 = (T + sq) / 2, l2 = max((T - sq) / 2, 0),
 *   angle    = the 15-degree sector of atan2(b, a) (= twice the gradient
 *              orientation), found by comparisons (AIE_RAISR_ANGLES = 24),
 *   strength = number of thresholds below l1 (strength_thr ascending),
 *   coherence = number of thresholds below (sqrt l1 - sqrt l2) /
 *              (sqrt l1 + sqrt l2) (0 when l1 == 0),
 *   bucket = (angle * nstrength + strength) * ncoherence + coherence.
 * All float arithmetic is written in one order with no contraction, so every
 * SIMD version gives the C reference's buckets exactly.
 *
 * Filter (per cell, per phase): out = (sum over taps of w * s + 2^13) >> 14,
 * clamped to [lo - m, hi + m] within [0, 16383], where lo and hi are the min
 * and max of the 3x3 cells around the cell and m = (hi - lo) >> 2 (the guard
 * against overshoot and ringing: a quarter of the local range of room, which
 * the benchmark photos preferred to none and to the bare range), in 14-bit
 * scale. The k x k patch of the cell at
 * column cx starts at row k/2 above and column cx - k/2 (k odd, 3..7); it is
 * laid out as 8 rows of 8 lanes (AIE_RAISR_TAPS int16, lanes past k zero in
 * the weights), so weights are int16 vectors of AIE_RAISR_TAPS per phase and
 * bucket: weight[((bucket * r * r) + phase) * AIE_RAISR_TAPS + 8 * i + j]
 * multiplies s[row i][cx - k/2 + j], phase = py * r + px for the output
 * (cy * r + py, cx * r + px). Kernels read 8 samples per patch row (columns
 * cx - k/2 .. cx - k/2 + 7): the padding covers them. Weights are Q14 with
 * |w| < 2 and a sum of |w| per phase below 8, so int32 sums cannot overflow
 * (aie_raisr_bank_* refuses other weights). Integer arithmetic only: SIMD
 * equals C exactly.
 */
#ifndef AIE_DSP_RAISR_H
#define AIE_DSP_RAISR_H

#include <stddef.h>
#include <stdint.h>

#define AIE_RAISR_PAD 8
#define AIE_RAISR_TAPS 64
#define AIE_RAISR_ANGLES 24
#define AIE_RAISR_MAX_THR 7
#define AIE_RAISR_MAX_BINS 10 /* strength x coherence: 24 angles x 10 buckets fit a byte */

typedef struct AieRaisrHashParams {
    int nstrength, ncoherence;           /* bins: 1 .. AIE_RAISR_MAX_THR + 1 */
    float strength_thr[AIE_RAISR_MAX_THR];  /* nstrength - 1, ascending */
    float coherence_thr[AIE_RAISR_MAX_THR]; /* ncoherence - 1, ascending */
} AieRaisrHashParams;

/* Horizontal part of the tensor for one row: for 0 <= x < w,
 *   xx[x] = sum over d of b[d] gx(x + d - 2)^2, xy[x] = ... gx gy, yy[x] = ... gy^2
 * with b = [1 4 6 4 1], gx(x) = (mid[x+1] >> 6) - (mid[x-1] >> 6),
 * gy(x) = (down[x] >> 6) - (up[x] >> 6). Reads columns [-3, w + 3) of mid and
 * [-2, w + 2) of up/down (padded rows). */
#define AIE_RAISR_TENSOR_FN(name)                                                          \
    void name(int32_t *xx, int32_t *xy, int32_t *yy, const int16_t *up, const int16_t *mid, \
              const int16_t *down, int w)

/* Vertical part and classification: row r of xx/xy/yy (r < 5) is the tensor
 * row at offset r - 2; bucket[x] for 0 <= x < w. */
#define AIE_RAISR_CLASSIFY_FN(name)                                                     \
    void name(uint8_t *bucket, const int32_t *const *xx, const int32_t *const *xy,       \
              const int32_t *const *yy, const AieRaisrHashParams *hp, int w)

/* Filter one row of cells: src[i] (i < k) are the low-resolution rows cy - k/2
 * + i, dst[py] (py < r) the output rows cy * r + py, written at columns
 * [0, ncell * r). Output samples in 14-bit scale, clamped (see above). */
#define AIE_RAISR_FILTER_FN(name)                                                        \
    void name(int16_t *const *dst, const int16_t *const *src, const uint8_t *bucket,     \
              const int16_t *weight, int r, int k, int ncell)

/* Back to samples: dst[x] = min((src[x] + (1 << (shift - 1))) >> shift, max)
 * (shift 0: src[x] << -shift... see pack16), 0 <= src <= 16383. */
#define AIE_RAISR_PACK8_FN(name) void name(uint8_t *dst, const int16_t *src, int w)
/* depth 9..16: depth <= 14 rounds down by 14 - depth bits, above shifts up. */
#define AIE_RAISR_PACK16_FN(name) void name(uint16_t *dst, const int16_t *src, int w, int depth)

typedef AIE_RAISR_TENSOR_FN((*AieRaisrTensorFn));
typedef AIE_RAISR_CLASSIFY_FN((*AieRaisrClassifyFn));
typedef AIE_RAISR_FILTER_FN((*AieRaisrFilterFn));
typedef AIE_RAISR_PACK8_FN((*AieRaisrPack8Fn));
typedef AIE_RAISR_PACK16_FN((*AieRaisrPack16Fn));

typedef struct AieRaisrDSP {
    AieRaisrTensorFn tensor;
    AieRaisrClassifyFn classify;
    AieRaisrFilterFn filter;
    AieRaisrPack8Fn pack8;
    AieRaisrPack16Fn pack16;
} AieRaisrDSP;

void aie_raisr_dsp_init(AieRaisrDSP *dsp, unsigned cpu_flags);

/* The C references, which the SIMD versions also use for the columns left
 * after their last whole vector. */
AIE_RAISR_TENSOR_FN(aie_raisr_tensor_c);
AIE_RAISR_PACK8_FN(aie_raisr_pack8_c);
AIE_RAISR_PACK16_FN(aie_raisr_pack16_c);
void aie_raisr_dsp_init_avx2(AieRaisrDSP *dsp);
void aie_raisr_dsp_init_avx512(AieRaisrDSP *dsp);

/* Load a row into 14-bit scale with AIE_RAISR_PAD replicated samples each side:
 * dst[-PAD .. w + PAD). Plain C (memory bound). */
void aie_raisr_load8(int16_t *dst, const uint8_t *src, int w);
void aie_raisr_load16(int16_t *dst, const uint16_t *src, int w, int depth);

#endif /* AIE_DSP_RAISR_H */
