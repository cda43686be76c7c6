/*
 * Separable resampling kernels (private to libaie; lib/sr/scale.c is the user).
 *
 * A frame plane is scaled in two passes: every source row is filtered
 * horizontally into an intermediate row, then each output row is a vertical
 * filter over intermediate rows. All arithmetic is integer, so every SIMD
 * version is bit-exact with the C reference.
 *
 * Fixed point
 *   Coefficients are int16. The taps of one output sum to exactly
 *   1 << AIE_RESAMPLE_HBITS (horizontal, every depth), 1 << AIE_RESAMPLE_VBITS8
 *   (vertical, 8-bit) or 1 << AIE_RESAMPLE_VBITS16 (vertical, 9..16-bit); the
 *   rounding error is folded into the largest tap. The sum of |coef| of one
 *   output never exceeds twice that (2.0; measured worst cases over random
 *   ratios: bicubic 1.33, spline36 1.48, lanczos 1.56), and
 *   aie_resample_filter_init() refuses a table that would.
 *
 *   8-bit:  h: u8 -> int16 I = sat16((sum c*p + (1 << 7)) >> 8), i.e. the
 *              sample in units of 1/64 (6 fractional bits).
 *           v: int16 -> u8 out = clip8((sum c*I + (1 << 19)) >> 20), exact
 *              int32 sums: |sum c*I| <= 32767 * 2^15 < 2^31 for any int16 I.
 *              The rows come as pair rows (rows 2m and 2m + 1 interleaved
 *              word by word, built once per row pair by pair16), so the
 *              kernel is one pmaddwd per pair of taps with no shuffles.
 *   16-bit (samples <= (1 << depth) - 1, depth 9..16, right aligned):
 *           h: u16 -> int32 I = (sum c*p + (1 << (depth - 3))) >> (depth - 2),
 *              the sample in units of 2^-(16 - depth), so a 16-bit-scaled
 *              value; |sum c*p| <= 65535 * 2^15 < 2^31, |I| < 2^17.
 *           v: int32 -> u16 out = clip((sum c*I + (1 << (s - 1))) >> s, 0,
 *              (1 << depth) - 1), s = AIE_RESAMPLE_VBITS16 + 16 - depth;
 *              |sum c*I| < 2^17 * 2^13 = 2^30.
 *   Constant input stays exactly constant and an identity filter is exact.
 *
 * Filter tables (AieResampleFilter)
 *   Output i reads source samples pos[i] .. pos[i] + taps - 1. Coefficients
 *   are stored as pairs, pair-planar: taps 2m and 2m + 1 of output i are
 *   coef[2 * (m * stride + i)] and coef[2 * (m * stride + i) + 1], so a vector
 *   of outputs loads the pairs of one m contiguously. stride is a multiple of
 *   AIE_RESAMPLE_ALIGN; entries n .. stride - 1 repeat pos[n - 1] with zero
 *   coefficients, so kernels may compute whole vectors past w and store only w.
 *
 * Memory contract of the kernels
 *   - Kernels never allocate (beyond a few KB of stack), never write outside
 *     dst[0 .. w - 1] (hpair8: dst[0 .. 2w - 1]) and never write their inputs.
 *   - Horizontal kernels (hpair8: each of its two rows) read src[pos[i] + k]
 *     for 0 <= k < taps + AIE_RESAMPLE_OVERREAD and i < round_up(w,
 *     AIE_RESAMPLE_ALIGN); pos may be negative. They may be called for the
 *     outputs i0 .. i0 + w - 1 of a table, i0 a multiple of
 *     AIE_RESAMPLE_ALIGN, with pos + i0 and coef + 2 * i0 (same stride). The
 *     caller passes a row that covers the range read: its own row where the
 *     range lies inside it, else a scratch row with replicated edges
 *     (aie_resample_filter_span() bounds the range of a whole table).
 *   - Vertical kernels read src[k][0 .. w - 1] only (src[m][0 .. 2w - 1]
 *     for the pair rows of vscale8).
 */
#ifndef AIE_DSP_RESAMPLE_H
#define AIE_DSP_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "aie/filter.h"

#define AIE_RESAMPLE_HBITS 14
#define AIE_RESAMPLE_VBITS8 14
#define AIE_RESAMPLE_VBITS16 12
#define AIE_RESAMPLE_ALIGN 64    /* table stride granularity, in outputs */
#define AIE_RESAMPLE_OVERREAD 64 /* source samples a kernel may read past a window */

/* dst[i] = I of output i (8-bit path). */
#define AIE_HSCALE8_FN(name)                                                                  \
    void name(int16_t *dst, const uint8_t *src, const int32_t *pos, const int16_t *coef,      \
              ptrdiff_t stride, int taps, int w)
/* dst[i] = I of output i (16-bit path), src samples <= (1 << depth) - 1. */
#define AIE_HSCALE16_FN(name)                                                                 \
    void name(int32_t *dst, const uint16_t *src, const int32_t *pos, const int16_t *coef,     \
              ptrdiff_t stride, int taps, int w, int depth)
/* dst[2i] = I of output i of row src_a, dst[2i + 1] = that of row src_b: the
 * pair row (see pair16) of two horizontally filtered rows, 8-bit. */
#define AIE_HPAIR8_FN(name)                                                                   \
    void name(int16_t *dst, const uint8_t *src_a, const uint8_t *src_b, const int32_t *pos,   \
              const int16_t *coef, ptrdiff_t stride, int taps, int w)
/* dst[2x] = a[x], dst[2x + 1] = b[x]: the pair row of rows a and b. */
#define AIE_PAIR16_FN(name) void name(int16_t *dst, const int16_t *a, const int16_t *b, int w)
/* dst[x] = sum over m < taps / 2 of coef[2m] * src[m][2x] + coef[2m + 1] *
 * src[m][2x + 1], rounded and clipped; taps is even. */
#define AIE_VSCALE8_FN(name)                                                                  \
    void name(uint8_t *dst, const int16_t *const *src, const int16_t *coef, int taps, int w)
/* dst[x] = sum over k < taps of coef[k] * src[k][x], rounded and clipped. */
#define AIE_VSCALE16_FN(name)                                                                 \
    void name(uint16_t *dst, const int32_t *const *src, const int16_t *coef, int taps, int w, \
              int depth)

typedef AIE_HSCALE8_FN((*AieHScale8Fn));
typedef AIE_HSCALE16_FN((*AieHScale16Fn));
typedef AIE_HPAIR8_FN((*AieHPair8Fn));
typedef AIE_PAIR16_FN((*AiePair16Fn));
typedef AIE_VSCALE8_FN((*AieVScale8Fn));
typedef AIE_VSCALE16_FN((*AieVScale16Fn));

typedef struct AieResampleDSP {
    AieHScale8Fn hscale8;
    /* hscale8 restricted to period-2 tables (2x upscales): pos[i + 2] ==
     * pos[i] + 1, output i + 2 has the coefficients of output i, and
     * |pos[1] - pos[0]| <= 1 (aie_resample_filter_period2()). */
    AieHScale8Fn hscale8_x2;
    /* hscale8 restricted to periodic downscale tables: period 1 with q >= 2
     * (integer factors) or period 2 with q >= 3 (1.5x, 2.5x, ...), where
     * period p means pos[i + p] == pos[i] + q and output i + p has the
     * coefficients of output i (aie_resample_filter_periodic()). */
    AieHScale8Fn hscale8_dn;
    /* hscale8_dn of two rows into their pair row: the 8-bit vertical windows
     * that read pair rows of one parity only take each filtered row once. */
    AieHPair8Fn hpair8_dn;
    AieHScale16Fn hscale16;
    AiePair16Fn pair16;
    AieVScale8Fn vscale8;
    AieVScale16Fn vscale16;
} AieResampleDSP;

/* C versions first, then the best ISA versions that cpu_flags allow. */
void aie_resample_dsp_init(AieResampleDSP *dsp, unsigned cpu_flags);
void aie_resample_dsp_init_avx2(AieResampleDSP *dsp);
void aie_resample_dsp_init_avx512(AieResampleDSP *dsp);

typedef struct AieResampleFilter {
    int n;          /* outputs */
    int taps;       /* even, >= 2 */
    int stride;     /* multiple of AIE_RESAMPLE_ALIGN, >= n */
    int pos_min;    /* smallest pos[i] (may be negative) */
    int pos_max;    /* largest pos[i] */
    int32_t *pos;   /* [stride] */
    int16_t *coef;  /* [taps / 2][stride][2] */
} AieResampleFilter;

/* Build the table of `kind` for n_out outputs over n_src source samples.
 * Output i is centred on source coordinate (x0 + i * step) / den (exact
 * rational, sample centres at integers); the kernel is widened by step / den
 * when that exceeds 1 (downscaling). Coefficients sum to 1 << bits. Returns 0,
 * AIE_EINVAL or AIE_ENOMEM. Free with aie_resample_filter_free(). */
int aie_resample_filter_init(AieResampleFilter *f, AieFilter kind, int n_src, int n_out,
                             int64_t x0, int64_t step, int64_t den, int bits);
void aie_resample_filter_free(AieResampleFilter *f);

/* Nonzero when f meets the period-2 precondition of hscale8_x2. */
int aie_resample_filter_period2(const AieResampleFilter *f);

/* q >= 1 when pos[i + p] == pos[i] + q and output i + p has the coefficients
 * of output i for every i, else 0 (also for tables of fewer than p + 1
 * outputs). */
int aie_resample_filter_periodic(const AieResampleFilter *f, int p);

/* Source index range [*lo, *hi) a horizontal kernel may read for this table,
 * overread included. */
void aie_resample_filter_span(const AieResampleFilter *f, int *lo, int *hi);

#endif /* AIE_DSP_RESAMPLE_H */
