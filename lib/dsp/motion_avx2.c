/* AVX2 kernels of dsp/motion.h. The conversions and the downsample use the
 * C reference's operation order, so they are bit-identical; dis_sums adds in
 * vector lanes (a different order: within 1e-5 relative, see checkasm). */
#include <immintrin.h>

#include "dsp/motion.h"

static AIE_TOFLOAT8_FN(tofloat8_avx2)
{
    const __m256 s = _mm256_set1_ps(scale);
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(src + x)));
        _mm256_storeu_ps(dst + x, _mm256_mul_ps(_mm256_cvtepi32_ps(v), s));
    }
    for (; x < w; x++)
        dst[x] = (float)src[x] * scale;
}

static AIE_TOFLOAT16_FN(tofloat16_avx2)
{
    const __m256 s = _mm256_set1_ps(scale);
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(src + x)));
        _mm256_storeu_ps(dst + x, _mm256_mul_ps(_mm256_cvtepi32_ps(v), s));
    }
    for (; x < w; x++)
        dst[x] = (float)src[x] * scale;
}

static AIE_DOWN2_FN(down2_avx2)
{
    const float *r0 = src - stride, *r1 = src, *r2 = src + stride, *r3 = src + 2 * stride;
    const __m256 three = _mm256_set1_ps(3.0f), k = _mm256_set1_ps(1.0f / 64.0f);
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        /* vertical sums at columns 2x - 1 .. 2x + 16 */
        __m256 v[3];
        for (int b = 0; b < 3; b++) {
            int c = 2 * x - 1 + 8 * b;
            v[b] = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(r0 + c), _mm256_loadu_ps(r3 + c)),
                                 _mm256_mul_ps(three, _mm256_add_ps(_mm256_loadu_ps(r1 + c),
                                                                    _mm256_loadu_ps(r2 + c))));
        }
        /* output j needs vertical sums at 2j - 1 + {0, 1, 2, 3}: split the
         * 16 sums from 2x - 1 into even and odd positions */
        float tmp[24];
        _mm256_storeu_ps(tmp, v[0]);
        _mm256_storeu_ps(tmp + 8, v[1]);
        _mm256_storeu_ps(tmp + 16, v[2]);
        __m256 a = _mm256_permutevar8x32_ps(_mm256_loadu_ps(tmp), even);      /* 0 2 4 6 | 1 3 5 7 */
        __m256 b = _mm256_permutevar8x32_ps(_mm256_loadu_ps(tmp + 8), even);  /* 8 10 12 14 | 9 11 13 15 */
        __m256 e0 = _mm256_permute2f128_ps(a, b, 0x20); /* tmp[0, 2, .., 14]: v0 of outputs */
        __m256 o1 = _mm256_permute2f128_ps(a, b, 0x31); /* tmp[1, 3, .., 15]: v1 */
        __m256 c = _mm256_permutevar8x32_ps(_mm256_loadu_ps(tmp + 2), even);
        __m256 d = _mm256_permutevar8x32_ps(_mm256_loadu_ps(tmp + 10), even);
        __m256 e2 = _mm256_permute2f128_ps(c, d, 0x20); /* tmp[2, 4, .., 16]: v2 */
        __m256 o3 = _mm256_permute2f128_ps(c, d, 0x31); /* tmp[3, 5, .., 17]: v3 */
        __m256 s = _mm256_add_ps(_mm256_add_ps(e0, o3), _mm256_mul_ps(three, _mm256_add_ps(o1, e2)));
        _mm256_storeu_ps(dst + x, _mm256_mul_ps(s, k));
    }
    for (; x < w; x++) {
        int c = 2 * x;
        float v[4];
        for (int j = 0; j < 4; j++) {
            int q = c - 1 + j;
            v[j] = (r0[q] + r3[q]) + 3.0f * (r1[q] + r2[q]);
        }
        dst[x] = ((v[0] + v[3]) + 3.0f * (v[1] + v[2])) * (1.0f / 64.0f);
    }
}

static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

static AIE_DIS_SUMS_FN(dis_sums_avx2)
{
    const __m256 w00 = _mm256_set1_ps((1 - fx) * (1 - fy)), w01 = _mm256_set1_ps(fx * (1 - fy));
    const __m256 w10 = _mm256_set1_ps((1 - fx) * fy), w11 = _mm256_set1_ps(fx * fy);
    __m256 se = _mm256_setzero_ps(), see = se, sgx = se, sgy = se;
    __m256 a0 = _mm256_loadu_ps(i1), a1 = _mm256_loadu_ps(i1 + 1);
    for (int y = 0; y < AIE_DIS_PATCH; y++) {
        const float *b = i1 + (y + 1) * stride;
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 1);
        __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(w00, a0), _mm256_mul_ps(w01, a1)),
                                 _mm256_add_ps(_mm256_mul_ps(w10, b0), _mm256_mul_ps(w11, b1)));
        __m256 e = _mm256_sub_ps(s, _mm256_loadu_ps(tmpl + y * AIE_DIS_PATCH));
        se = _mm256_add_ps(se, e);
        see = _mm256_fmadd_ps(e, e, see);
        sgx = _mm256_fmadd_ps(_mm256_loadu_ps(gx + y * AIE_DIS_PATCH), e, sgx);
        sgy = _mm256_fmadd_ps(_mm256_loadu_ps(gy + y * AIE_DIS_PATCH), e, sgy);
        a0 = b0;
        a1 = b1;
    }
    out[0] = hsum(se);
    out[1] = hsum(see);
    out[2] = hsum(sgx);
    out[3] = hsum(sgy);
}

void aie_motion_dsp_init_avx2(AieMotionDSP *dsp)
{
    dsp->tofloat8 = tofloat8_avx2;
    dsp->tofloat16 = tofloat16_avx2;
    dsp->down2 = down2_avx2;
    dsp->dis_sums = dis_sums_avx2;
}
