/* AVX2 kernels of dsp/warp.h: eight positions at a time with gathers of the
 * four taps of each row; groups that touch the plane's edge go to the C
 * reference, so clamping stays exact. Same operation order as C (no FMA), so
 * the results are bit-identical. */
#include <immintrin.h>

#include "dsp/warp.h"

/* The C reference, for the groups at the edges (a copy: it is static in
 * warp.c, and this file is compiled with AVX2 flags, which is harmless for
 * plain scalar code). */
static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }
static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }
static inline void cubic_taps(float f, float k[4])
{
    k[0] = ((-0.5f * f + 1.0f) * f - 0.5f) * f;
    k[1] = (1.5f * f - 2.5f) * f * f + 1.0f;
    k[2] = ((-1.5f * f + 2.0f) * f + 0.5f) * f;
    k[3] = (0.5f * f - 0.5f) * f * f;
}
#define BICUBIC_BODY(T)                                                                        \
    for (int i = 0; i < n; i++) {                                                              \
        float px = clampf(x[i], 0.0f, (float)(w - 1)), py = clampf(y[i], 0.0f, (float)(h - 1)); \
        int ix = (int)px, iy = (int)py;                                                        \
        float kx[4], ky[4];                                                                    \
        cubic_taps(px - (float)ix, kx);                                                        \
        cubic_taps(py - (float)iy, ky);                                                        \
        int cx[4];                                                                             \
        for (int j = 0; j < 4; j++)                                                            \
            cx[j] = clampi(ix - 1 + j, 0, w - 1);                                              \
        float acc = 0.0f;                                                                      \
        for (int r = 0; r < 4; r++) {                                                          \
            const T *row = (const T *)(const void *)((const uint8_t *)src +                    \
                                                     clampi(iy - 1 + r, 0, h - 1) * stride);   \
            float s = ((kx[0] * (float)row[cx[0]] + kx[1] * (float)row[cx[1]]) +               \
                       (kx[2] * (float)row[cx[2]] + kx[3] * (float)row[cx[3]]));               \
            acc += ky[r] * s;                                                                  \
        }                                                                                      \
        dst[i] = acc;                                                                          \
    }
static void warp_ref8(float *dst, const uint8_t *src, ptrdiff_t stride, int w, int h,
                      const float *x, const float *y, int n)
{
    BICUBIC_BODY(uint8_t)
}
static void warp_ref16(float *dst, const uint16_t *src, ptrdiff_t stride, int w, int h,
                       const float *x, const float *y, int n)
{
    BICUBIC_BODY(uint16_t)
}

static inline void taps8(__m256 f, __m256 k[4])
{
    const __m256 h = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 c15 = _mm256_set1_ps(1.5f), c25 = _mm256_set1_ps(2.5f), two = _mm256_set1_ps(2.0f);
    const __m256 mh = _mm256_set1_ps(-0.5f), m15 = _mm256_set1_ps(-1.5f);
    k[0] = _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(mh, f), one), f), h), f);
    k[1] = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(c15, f), c25), f), f), one);
    k[2] = _mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_add_ps(_mm256_mul_ps(m15, f), two), f), h), f);
    k[3] = _mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(h, f), h), f), f);
}

/* Clamp positions, split into integer and fraction; returns nonzero when all
 * eight have their 4x4 taps inside the plane. */
static inline int prep(const float *x, const float *y, int w, int h, __m256i *ix, __m256i *iy,
                       __m256 *fx, __m256 *fy)
{
    __m256 px = _mm256_loadu_ps(x), py = _mm256_loadu_ps(y);
    px = _mm256_min_ps(_mm256_max_ps(px, _mm256_setzero_ps()), _mm256_set1_ps((float)(w - 1)));
    py = _mm256_min_ps(_mm256_max_ps(py, _mm256_setzero_ps()), _mm256_set1_ps((float)(h - 1)));
    *ix = _mm256_cvttps_epi32(px);
    *iy = _mm256_cvttps_epi32(py);
    *fx = _mm256_sub_ps(px, _mm256_cvtepi32_ps(*ix));
    *fy = _mm256_sub_ps(py, _mm256_cvtepi32_ps(*iy));
    __m256i lo = _mm256_set1_epi32(1);
    __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi32(lo, *ix), _mm256_cmpgt_epi32(lo, *iy));
    bad = _mm256_or_si256(bad, _mm256_cmpgt_epi32(*ix, _mm256_set1_epi32(w - 3)));
    bad = _mm256_or_si256(bad, _mm256_cmpgt_epi32(*iy, _mm256_set1_epi32(h - 3)));
    return _mm256_testz_si256(bad, bad);
}

static inline __m256 row_sum(const __m256 kx[4], __m256 p0, __m256 p1, __m256 p2, __m256 p3)
{
    return _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(kx[0], p0), _mm256_mul_ps(kx[1], p1)),
                         _mm256_add_ps(_mm256_mul_ps(kx[2], p2), _mm256_mul_ps(kx[3], p3)));
}

static AIE_WARP_BICUBIC8_FN(bicubic8_avx2)
{
    int i = 0;
    const __m256i m8 = _mm256_set1_epi32(0xff);
    for (; i + 8 <= n; i += 8) {
        __m256i ix, iy;
        __m256 fx, fy;
        if (!prep(x + i, y + i, w, h, &ix, &iy, &fx, &fy) || stride > (1 << 27)) {
            warp_ref8(dst + i, src, stride, w, h, x + i, y + i, 8);
            continue;
        }
        __m256 kx[4], ky[4];
        taps8(fx, kx);
        taps8(fy, ky);
        __m256i off = _mm256_add_epi32(
            _mm256_mullo_epi32(_mm256_sub_epi32(iy, _mm256_set1_epi32(1)), _mm256_set1_epi32((int)stride)),
            _mm256_sub_epi32(ix, _mm256_set1_epi32(1)));
        __m256 acc = _mm256_setzero_ps();
        for (int r = 0; r < 4; r++) {
            __m256i v = _mm256_i32gather_epi32((const int *)(const void *)src, off, 1);
            __m256 p0 = _mm256_cvtepi32_ps(_mm256_and_si256(v, m8));
            __m256 p1 = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(v, 8), m8));
            __m256 p2 = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(v, 16), m8));
            __m256 p3 = _mm256_cvtepi32_ps(_mm256_srli_epi32(v, 24));
            acc = _mm256_add_ps(acc, _mm256_mul_ps(ky[r], row_sum(kx, p0, p1, p2, p3)));
            off = _mm256_add_epi32(off, _mm256_set1_epi32((int)stride));
        }
        _mm256_storeu_ps(dst + i, acc);
    }
    if (i < n)
        warp_ref8(dst + i, src, stride, w, h, x + i, y + i, n - i);
}

static AIE_WARP_BICUBIC16_FN(bicubic16_avx2)
{
    int i = 0;
    const __m256i m16 = _mm256_set1_epi32(0xffff);
    const __m256i fix = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    for (; i + 8 <= n; i += 8) {
        __m256i ix, iy;
        __m256 fx, fy;
        if (!prep(x + i, y + i, w, h, &ix, &iy, &fx, &fy) || stride > (1 << 26)) {
            warp_ref16(dst + i, src, stride, w, h, x + i, y + i, 8);
            continue;
        }
        __m256 kx[4], ky[4];
        taps8(fx, kx);
        taps8(fy, ky);
        /* byte offsets of tap (x - 1, y - 1) */
        __m256i off = _mm256_add_epi32(
            _mm256_mullo_epi32(_mm256_sub_epi32(iy, _mm256_set1_epi32(1)), _mm256_set1_epi32((int)stride)),
            _mm256_slli_epi32(_mm256_sub_epi32(ix, _mm256_set1_epi32(1)), 1));
        __m256 acc = _mm256_setzero_ps();
        for (int r = 0; r < 4; r++) {
            __m256i a = _mm256_i32gather_epi64((const long long *)(const void *)src,
                                               _mm256_castsi256_si128(off), 1);
            __m256i b = _mm256_i32gather_epi64((const long long *)(const void *)src,
                                               _mm256_extracti128_si256(off, 1), 1);
            /* dwords: a = [p0 t01, p0 t23, p1 t01, p1 t23, ...] */
            __m256 ev = _mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), 0x88);
            __m256 od = _mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), 0xdd);
            __m256i e = _mm256_permutevar8x32_epi32(_mm256_castps_si256(ev), fix);
            __m256i o = _mm256_permutevar8x32_epi32(_mm256_castps_si256(od), fix);
            __m256 p0 = _mm256_cvtepi32_ps(_mm256_and_si256(e, m16));
            __m256 p1 = _mm256_cvtepi32_ps(_mm256_srli_epi32(e, 16));
            __m256 p2 = _mm256_cvtepi32_ps(_mm256_and_si256(o, m16));
            __m256 p3 = _mm256_cvtepi32_ps(_mm256_srli_epi32(o, 16));
            acc = _mm256_add_ps(acc, _mm256_mul_ps(ky[r], row_sum(kx, p0, p1, p2, p3)));
            off = _mm256_add_epi32(off, _mm256_set1_epi32((int)stride));
        }
        _mm256_storeu_ps(dst + i, acc);
    }
    if (i < n)
        warp_ref16(dst + i, src, stride, w, h, x + i, y + i, n - i);
}

static AIE_WARP_BILINEAR_FN(bilinear_avx2)
{
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 px = _mm256_loadu_ps(x + i), py = _mm256_loadu_ps(y + i);
        px = _mm256_min_ps(_mm256_max_ps(px, _mm256_setzero_ps()), _mm256_set1_ps((float)(w - 1)));
        py = _mm256_min_ps(_mm256_max_ps(py, _mm256_setzero_ps()), _mm256_set1_ps((float)(h - 1)));
        __m256i ix = _mm256_cvttps_epi32(px), iy = _mm256_cvttps_epi32(py);
        __m256 fx = _mm256_sub_ps(px, _mm256_cvtepi32_ps(ix)), fy = _mm256_sub_ps(py, _mm256_cvtepi32_ps(iy));
        /* the right/lower neighbour, clamped */
        __m256i one = _mm256_set1_epi32(1);
        __m256i ix1 = _mm256_min_epi32(_mm256_add_epi32(ix, one), _mm256_set1_epi32(w - 1));
        __m256i iy1 = _mm256_min_epi32(_mm256_add_epi32(iy, one), _mm256_set1_epi32(h - 1));
        __m256i st = _mm256_set1_epi32((int)stride);
        __m256i r0 = _mm256_mullo_epi32(iy, st), r1 = _mm256_mullo_epi32(iy1, st);
        __m256 a0 = _mm256_i32gather_ps(src, _mm256_add_epi32(r0, ix), 4);
        __m256 a1 = _mm256_i32gather_ps(src, _mm256_add_epi32(r0, ix1), 4);
        __m256 b0 = _mm256_i32gather_ps(src, _mm256_add_epi32(r1, ix), 4);
        __m256 b1 = _mm256_i32gather_ps(src, _mm256_add_epi32(r1, ix1), 4);
        __m256 a = _mm256_add_ps(a0, _mm256_mul_ps(fx, _mm256_sub_ps(a1, a0)));
        __m256 b = _mm256_add_ps(b0, _mm256_mul_ps(fx, _mm256_sub_ps(b1, b0)));
        _mm256_storeu_ps(dst + i, _mm256_add_ps(a, _mm256_mul_ps(fy, _mm256_sub_ps(b, a))));
    }
    for (; i < n; i++) {
        float px = clampf(x[i], 0.0f, (float)(w - 1)), py = clampf(y[i], 0.0f, (float)(h - 1));
        int ix = (int)px, iy = (int)py;
        float fx = px - (float)ix, fy = py - (float)iy;
        int ix1 = ix + 1 < w ? ix + 1 : ix, iy1 = iy + 1 < h ? iy + 1 : iy;
        const float *q0 = src + iy * stride, *q1 = src + iy1 * stride;
        float a = q0[ix] + fx * (q0[ix1] - q0[ix]);
        float b = q1[ix] + fx * (q1[ix1] - q1[ix]);
        dst[i] = a + fy * (b - a);
    }
}

void aie_warp_dsp_init_avx2(AieWarpDSP *dsp)
{
    dsp->bicubic8 = bicubic8_avx2;
    dsp->bicubic16 = bicubic16_avx2;
    dsp->bilinear = bilinear_avx2;
}
