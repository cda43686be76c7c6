/* 3D LUT interpolation, AVX2 (bit-exact with lut3d.c; see lut3d.h). */
#include <immintrin.h>
#include <string.h>

#include "dsp/lut3d.h"

static inline __m256i load8(const uint16_t *p)
{
    return _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
}

static inline void store8(uint16_t *p, __m256i v)
{
    __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    _mm_storeu_si128((__m128i *)p, _mm_packus_epi32(lo, hi));
}

static inline void tetra8(uint16_t *dr, uint16_t *dg, uint16_t *db, const uint16_t *sr,
                          const uint16_t *sg, const uint16_t *sb, const AieLut3DTable *t)
{
    const int n = t->n;
    const __m256i nm1 = _mm256_set1_epi32(n - 1), m16 = _mm256_set1_epi32(0xffff);
    const __m256i s_r = _mm256_set1_epi32(1), s_g = _mm256_set1_epi32(n), s_b = _mm256_set1_epi32(n * n);
    const __m256i tot = _mm256_set1_epi32(1 + n + n * n), one = _mm256_set1_epi32(65536);
    const __m256i rnd = _mm256_set1_epi32(32768);
    __m256i pr = _mm256_mullo_epi32(load8(sr), nm1), pg = _mm256_mullo_epi32(load8(sg), nm1),
            pb = _mm256_mullo_epi32(load8(sb), nm1);
    pr = _mm256_add_epi32(pr, _mm256_srli_epi32(pr, 16));
    pg = _mm256_add_epi32(pg, _mm256_srli_epi32(pg, 16));
    pb = _mm256_add_epi32(pb, _mm256_srli_epi32(pb, 16));
    const __m256i fr = _mm256_and_si256(pr, m16), fg = _mm256_and_si256(pg, m16),
                  fb = _mm256_and_si256(pb, m16);
    __m256i base = _mm256_add_epi32(_mm256_srli_epi32(pr, 16),
                                    _mm256_add_epi32(_mm256_mullo_epi32(_mm256_srli_epi32(pg, 16), s_g),
                                                     _mm256_mullo_epi32(_mm256_srli_epi32(pb, 16), s_b)));
    /* a >= b  <=>  !(b > a); all values are below 2^16, so signed compares work */
    const __m256i ones = _mm256_set1_epi32(-1);
    const __m256i m_rg = _mm256_xor_si256(_mm256_cmpgt_epi32(fg, fr), ones);
    const __m256i m_rb = _mm256_xor_si256(_mm256_cmpgt_epi32(fb, fr), ones);
    const __m256i m_gb = _mm256_xor_si256(_mm256_cmpgt_epi32(fb, fg), ones);
    const __m256i omax = _mm256_blendv_epi8(_mm256_blendv_epi8(s_b, s_g, m_gb), s_r, _mm256_and_si256(m_rg, m_rb));
    const __m256i omin = _mm256_blendv_epi8(_mm256_blendv_epi8(s_r, s_g, m_rg), s_b, _mm256_and_si256(m_gb, m_rb));
    const __m256i mx = _mm256_max_epi32(fr, _mm256_max_epi32(fg, fb));
    const __m256i mn = _mm256_min_epi32(fr, _mm256_min_epi32(fg, fb));
    const __m256i md = _mm256_sub_epi32(_mm256_add_epi32(fr, _mm256_add_epi32(fg, fb)), _mm256_add_epi32(mx, mn));
    const __m256i w0 = _mm256_sub_epi32(one, mx), w1 = _mm256_sub_epi32(mx, md), w2 = _mm256_sub_epi32(md, mn);
    const __m256i w3 = mn;
    const __m256i i1 = _mm256_add_epi32(base, omax);
    const __m256i i2 = _mm256_sub_epi32(_mm256_add_epi32(base, tot), omin);
    const __m256i i3 = _mm256_add_epi32(base, tot);
    const int *rg = (const int *)t->rg, *bt = (const int *)t->b;
    __m256i a0 = _mm256_i32gather_epi32(rg, base, 4), a1 = _mm256_i32gather_epi32(rg, i1, 4);
    __m256i a2 = _mm256_i32gather_epi32(rg, i2, 4), a3 = _mm256_i32gather_epi32(rg, i3, 4);
    __m256i b0 = _mm256_i32gather_epi32(bt, base, 4), b1 = _mm256_i32gather_epi32(bt, i1, 4);
    __m256i b2 = _mm256_i32gather_epi32(bt, i2, 4), b3 = _mm256_i32gather_epi32(bt, i3, 4);
#define DOT(x0, x1, x2, x3)                                                                           \
    _mm256_srli_epi32(                                                                                \
        _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(w0, x0), _mm256_mullo_epi32(w1, x1)), \
                                          _mm256_add_epi32(_mm256_mullo_epi32(w2, x2), _mm256_mullo_epi32(w3, x3))), \
                         rnd),                                                                        \
        16)
    __m256i r = DOT(_mm256_and_si256(a0, m16), _mm256_and_si256(a1, m16), _mm256_and_si256(a2, m16),
                    _mm256_and_si256(a3, m16));
    __m256i g = DOT(_mm256_srli_epi32(a0, 16), _mm256_srli_epi32(a1, 16), _mm256_srli_epi32(a2, 16),
                    _mm256_srli_epi32(a3, 16));
    __m256i b = DOT(b0, b1, b2, b3);
#undef DOT
    store8(dr, r);
    store8(dg, g);
    store8(db, b);
}

static AIE_LUT3D_FN(tetra_avx2)
{
    int x = 0;
    for (; x + 8 <= w; x += 8)
        tetra8(dr + x, dg + x, db + x, sr + x, sg + x, sb + x, t);
    if (x < w) {
        uint16_t in[3][8] = {{0}}, out[3][8];
        const int k = w - x;
        memcpy(in[0], sr + x, (size_t)k * 2);
        memcpy(in[1], sg + x, (size_t)k * 2);
        memcpy(in[2], sb + x, (size_t)k * 2);
        tetra8(out[0], out[1], out[2], in[0], in[1], in[2], t);
        memcpy(dr + x, out[0], (size_t)k * 2);
        memcpy(dg + x, out[1], (size_t)k * 2);
        memcpy(db + x, out[2], (size_t)k * 2);
    }
}

void aie_lut3d_dsp_init_avx2(AieLut3DDSP *dsp)
{
    dsp->tetra = tetra_avx2;
}
