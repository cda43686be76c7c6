/* AVX2 kernels of dsp/motion.h. All but dis_sums use the C reference's
 * operation order without FMA, so they are bit-identical; dis_sums adds in
 * vector lanes (a different order: within 1e-5 relative, see checkasm). The
 * SOR half-sweep computes every lane and stores the lanes of its colour with
 * a masked store. */
#include <immintrin.h>
#include <math.h>

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

/* vertical sums (r0 + r3) + 3 (r1 + r2) of 16 columns from c, in 16 bits */
static inline __m256i vsum16(const uint8_t *r0, const uint8_t *r1, const uint8_t *r2,
                             const uint8_t *r3, int c)
{
#define LD(r) _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)((r) + c)))
    __m256i a = _mm256_add_epi16(LD(r0), LD(r3)), b = _mm256_add_epi16(LD(r1), LD(r2));
#undef LD
    return _mm256_add_epi16(a, _mm256_add_epi16(b, _mm256_add_epi16(b, b)));
}

static AIE_DOWN2_8_FN(down2_8_avx2)
{
    const __m256 vk = _mm256_set1_ps(k);
    const __m256i lo16 = _mm256_set1_epi32(0xffff);
    int x = 0;
    if (w > 0) { /* output 0 reads column -1: the C rule */
        float v[4];
        for (int j = 0; j < 4; j++) {
            int c = j - 1 < 0 ? 0 : j - 1 > sw - 1 ? sw - 1 : j - 1;
            v[j] = ((float)r0[c] + (float)r3[c]) + 3.0f * ((float)r1[c] + (float)r2[c]);
        }
        dst[0] = ((v[0] + v[3]) + 3.0f * (v[1] + v[2])) * k;
        x = 1;
    }
    /* outputs x .. x + 7 read columns 2x - 1 .. 2x + 16 (16 bytes from 2x - 1
     * and from 2x + 1) */
    for (; x + 8 <= w && 2 * x + 17 <= sw; x += 8) {
        __m256i w0 = vsum16(r0, r1, r2, r3, 2 * x - 1), w1 = vsum16(r0, r1, r2, r3, 2 * x + 1);
        __m256i a = _mm256_and_si256(w0, lo16), b = _mm256_srli_epi32(w0, 16);
        __m256i c = _mm256_and_si256(w1, lo16), d = _mm256_srli_epi32(w1, 16);
        __m256i bc = _mm256_add_epi32(b, c);
        __m256i s = _mm256_add_epi32(_mm256_add_epi32(a, d), _mm256_add_epi32(bc, _mm256_add_epi32(bc, bc)));
        _mm256_storeu_ps(dst + x, _mm256_mul_ps(_mm256_cvtepi32_ps(s), vk));
    }
    for (; x < w; x++) {
        float v[4];
        for (int j = 0; j < 4; j++) {
            int c = 2 * x - 1 + j;
            c = c < 0 ? 0 : c > sw - 1 ? sw - 1 : c;
            v[j] = ((float)r0[c] + (float)r3[c]) + 3.0f * ((float)r1[c] + (float)r2[c]);
        }
        dst[x] = ((v[0] + v[3]) + 3.0f * (v[1] + v[2])) * k;
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

static AIE_DIS_PREP_FN(dis_prep_avx2)
{
    const __m256 h = _mm256_set1_ps(0.5f);
    __m256 sgx = _mm256_setzero_ps(), sgy = sgx, hxx = sgx, hxy = sgx, hyy = sgx, su = sgx, sv = sgx;
    for (int y = 0; y < AIE_DIS_PATCH; y++) {
        const float *r = i0 + y * stride;
        __m256 dx = _mm256_mul_ps(h, _mm256_sub_ps(_mm256_loadu_ps(r + 1), _mm256_loadu_ps(r - 1)));
        __m256 dy = _mm256_mul_ps(h, _mm256_sub_ps(_mm256_loadu_ps(r + stride), _mm256_loadu_ps(r - stride)));
        _mm256_storeu_ps(tmpl + y * AIE_DIS_PATCH, _mm256_loadu_ps(r));
        _mm256_storeu_ps(gx + y * AIE_DIS_PATCH, dx);
        _mm256_storeu_ps(gy + y * AIE_DIS_PATCH, dy);
        sgx = _mm256_add_ps(sgx, dx);
        sgy = _mm256_add_ps(sgy, dy);
        hxx = _mm256_fmadd_ps(dx, dx, hxx);
        hxy = _mm256_fmadd_ps(dx, dy, hxy);
        hyy = _mm256_fmadd_ps(dy, dy, hyy);
        su = _mm256_add_ps(su, _mm256_loadu_ps(u + y * fstride));
        sv = _mm256_add_ps(sv, _mm256_loadu_ps(v + y * fstride));
    }
    out[0] = hsum(sgx);
    out[1] = hsum(sgy);
    out[2] = hsum(hxx);
    out[3] = hsum(hxy);
    out[4] = hsum(hyy);
    out[5] = hsum(su);
    out[6] = hsum(sv);
}

static AIE_DENSIFY_FN(densify_avx2)
{
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    for (int i = 0; i < n; i++) {
        float X = (float)px[i] + pu[i], Y = (float)y + pv[i];
        float fx0 = floorf(X), fy0 = floorf(Y);
        int ix = (int)fx0, iy = (int)fy0;
        float fx = X - fx0, fy = Y - fy0;
        const __m256 w00 = _mm256_set1_ps((1 - fx) * (1 - fy)), w01 = _mm256_set1_ps(fx * (1 - fy));
        const __m256 w10 = _mm256_set1_ps((1 - fx) * fy), w11 = _mm256_set1_ps(fx * fy);
        const float *a = i1 + iy * stride + ix, *b = a + stride;
        __m256 sm = _mm256_add_ps(
            _mm256_add_ps(_mm256_mul_ps(w00, _mm256_loadu_ps(a)), _mm256_mul_ps(w01, _mm256_loadu_ps(a + 1))),
            _mm256_add_ps(_mm256_mul_ps(w10, _mm256_loadu_ps(b)), _mm256_mul_ps(w11, _mm256_loadu_ps(b + 1))));
        __m256 d = _mm256_andnot_ps(sign, _mm256_sub_ps(sm, _mm256_loadu_ps(i0 + px[i])));
        /* C: d > 1 ? d : 1 (d is never NaN) */
        __m256 wt = _mm256_div_ps(one, _mm256_max_ps(d, one));
        float *ou = su + px[i], *ov = sv + px[i], *ow = sw + px[i];
        _mm256_storeu_ps(ou, _mm256_add_ps(_mm256_loadu_ps(ou), _mm256_mul_ps(wt, _mm256_set1_ps(pu[i]))));
        _mm256_storeu_ps(ov, _mm256_add_ps(_mm256_loadu_ps(ov), _mm256_mul_ps(wt, _mm256_set1_ps(pv[i]))));
        _mm256_storeu_ps(ow, _mm256_add_ps(_mm256_loadu_ps(ow), wt));
    }
}

static AIE_UP2_FN(up2_avx2)
{
    const __m256 c75 = _mm256_set1_ps(0.75f), c25 = _mm256_set1_ps(0.25f);
    const __m256 c15 = _mm256_set1_ps(1.5f), c05 = _mm256_set1_ps(0.5f);
    int x = 0;
    for (; x + 16 <= w; x += 16) {
        int k = x >> 1;
#define MIX(o) _mm256_add_ps(_mm256_mul_ps(c75, _mm256_loadu_ps(near + k + (o))), \
                             _mm256_mul_ps(c25, _mm256_loadu_ps(far + k + (o))))
        __m256 m = MIX(0), ml = MIX(-1), mr = MIX(1);
#undef MIX
        __m256 ev = _mm256_add_ps(_mm256_mul_ps(c05, ml), _mm256_mul_ps(c15, m));
        __m256 od = _mm256_add_ps(_mm256_mul_ps(c15, m), _mm256_mul_ps(c05, mr));
        __m256 lo = _mm256_unpacklo_ps(ev, od), hi = _mm256_unpackhi_ps(ev, od);
        _mm256_storeu_ps(dst + x, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(dst + x + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    }
    if (x < w) /* x is even: the C rule on the rest */
        aie_motion_up2_c(dst + x, near + x / 2, far + x / 2, w - x);
}

static AIE_VAR_SMOOTH_FN(var_smooth_avx2)
{
    const __m256 k2 = _mm256_set1_ps(k[2]), k3 = _mm256_set1_ps(k[3]);
    const __m256 sy_mask = last ? _mm256_setzero_ps() : _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    int x = 0;
    for (; x + 8 < w; x += 8) { /* x + 8 < w: the right neighbour exists for all lanes */
        __m256 u0 = _mm256_loadu_ps(u + x), v0 = _mm256_loadu_ps(v + x);
        __m256 ux = _mm256_sub_ps(_mm256_loadu_ps(u + x + 1), u0);
        __m256 vx = _mm256_sub_ps(_mm256_loadu_ps(v + x + 1), v0);
        __m256 uy = _mm256_sub_ps(_mm256_loadu_ps(ud + x), u0);
        __m256 vy = _mm256_sub_ps(_mm256_loadu_ps(vd + x), v0);
        __m256 g = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(ux, ux), _mm256_mul_ps(vx, vx)),
                                 _mm256_add_ps(_mm256_mul_ps(uy, uy), _mm256_mul_ps(vy, vy)));
        __m256 wt = _mm256_div_ps(k2, _mm256_sqrt_ps(_mm256_add_ps(g, k3)));
        _mm256_storeu_ps(sx + x, wt);
        _mm256_storeu_ps(sy + x, _mm256_and_ps(wt, sy_mask));
    }
    if (x < w)
        aie_motion_var_smooth_c(sx + x, sy + x, u + x, v + x, ud + x, vd + x, w - x, last, k);
}

#define L(p, o) _mm256_loadu_ps((p) + (o))
#define ADD _mm256_add_ps
#define SUB _mm256_sub_ps
#define MUL _mm256_mul_ps
#define DIV _mm256_div_ps

static AIE_VAR_PREPARE_FN(var_prepare_avx2)
{
    const ptrdiff_t s = stride;
    const __m256 h = _mm256_set1_ps(0.5f), q4 = _mm256_set1_ps(0.25f), two = _mm256_set1_ps(2.0f);
    const __m256 k0 = _mm256_set1_ps(k[0]), k1 = _mm256_set1_ps(k[1]), k3 = _mm256_set1_ps(k[3]);
    const __m256 k4 = _mm256_set1_ps(k[4]), one = _mm256_set1_ps(1.0f), tiny = _mm256_set1_ps(1e-9f);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    int x = 0;
    for (; x + 8 <= w; x += 8) {
        const float *r = i0 + x, *q = iw + x;
        __m256 i0x = MUL(h, SUB(L(r, 1), L(r, -1))), i0y = MUL(h, SUB(L(r, s), L(r, -s)));
        __m256 i1x = MUL(h, SUB(L(q, 1), L(q, -1))), i1y = MUL(h, SUB(L(q, s), L(q, -s)));
        __m256 q0 = L(q, 0);
        __m256 ixx = SUB(ADD(L(q, 1), L(q, -1)), MUL(two, q0));
        __m256 iyy = SUB(ADD(L(q, s), L(q, -s)), MUL(two, q0));
        __m256 ixy = MUL(q4, SUB(SUB(L(q, s + 1), L(q, s - 1)), SUB(L(q, -s + 1), L(q, -s - 1))));
        __m256 ix = MUL(h, ADD(i1x, i0x)), iy = MUL(h, ADD(i1y, i0y));
        __m256 iz = SUB(q0, L(r, 0));
        __m256 ixz = SUB(i1x, i0x), iyz = SUB(i1y, i0y);
        __m256 pb = DIV(k0, _mm256_sqrt_ps(ADD(MUL(iz, iz), k3)));
        __m256 pg = DIV(k1, _mm256_sqrt_ps(ADD(ADD(MUL(ixz, ixz), MUL(iyz, iyz)), k3)));
        pb = DIV(pb, ADD(ADD(MUL(ix, ix), MUL(iy, iy)), k4));
        pg = DIV(pg, ADD(ADD(ADD(MUL(ixx, ixx), MUL(ixy, ixy)), MUL(iyy, iyy)), k4));
        __m256 a11 = ADD(MUL(pb, MUL(ix, ix)), MUL(pg, ADD(MUL(ixx, ixx), MUL(ixy, ixy))));
        __m256 a12v = ADD(MUL(pb, MUL(ix, iy)), MUL(pg, ADD(MUL(ixx, ixy), MUL(ixy, iyy))));
        __m256 a22 = ADD(MUL(pb, MUL(iy, iy)), MUL(pg, ADD(MUL(ixy, ixy), MUL(iyy, iyy))));
        __m256 b1v = _mm256_xor_ps(sign, ADD(MUL(pb, MUL(ix, iz)), MUL(pg, ADD(MUL(ixx, ixz), MUL(ixy, iyz)))));
        __m256 b2v = _mm256_xor_ps(sign, ADD(MUL(pb, MUL(iy, iz)), MUL(pg, ADD(MUL(ixy, ixz), MUL(iyy, iyz)))));
        __m256 wl = L(sx, x - 1), wr = L(sx, x), wu = L(sy, x - s), wd = L(sy, x);
        __m256 sw = ADD(ADD(wl, wr), ADD(wu, wd));
        __m256 u0 = L(u, x), v0 = L(v, x);
        __m256 cu = ADD(ADD(MUL(wl, SUB(L(u, x - 1), u0)), MUL(wr, SUB(L(u, x + 1), u0))),
                        ADD(MUL(wu, SUB(L(u, x - s), u0)), MUL(wd, SUB(L(u, x + s), u0))));
        __m256 cv = ADD(ADD(MUL(wl, SUB(L(v, x - 1), v0)), MUL(wr, SUB(L(v, x + 1), v0))),
                        ADD(MUL(wu, SUB(L(v, x - s), v0)), MUL(wd, SUB(L(v, x + s), v0))));
        _mm256_storeu_ps(a12 + x, a12v);
        _mm256_storeu_ps(b1 + x, ADD(b1v, cu));
        _mm256_storeu_ps(b2 + x, ADD(b2v, cv));
        _mm256_storeu_ps(ia11 + x, DIV(one, ADD(ADD(a11, sw), tiny)));
        _mm256_storeu_ps(ia22 + x, DIV(one, ADD(ADD(a22, sw), tiny)));
    }
    if (x < w)
        aie_motion_var_prepare_c(a12 + x, b1 + x, b2 + x, ia11 + x, ia22 + x, i0 + x, iw + x, u + x, v + x, sx + x,
                                 sy + x, stride, w - x, k);
}

#define SOR_VEC(x, du1, dv1)                                                                    \
    do {                                                                                        \
        __m256 wl = L(sx, (x) - 1), wr = L(sx, x), wu = L(sy, (x) - s), wd = L(sy, x);          \
        __m256 a = L(a12, x);                                                                   \
        __m256 du0 = L(du, x), dv0 = L(dv, x);                                                  \
        __m256 nu = MUL(ADD(SUB(L(b1, x), MUL(a, dv0)),                                         \
                            ADD(ADD(MUL(wl, L(du, (x) - 1)), MUL(wr, L(du, (x) + 1))),          \
                                ADD(MUL(wu, L(du, (x) - s)), MUL(wd, L(du, (x) + s))))),        \
                        L(ia11, x));                                                            \
        (du1) = ADD(du0, MUL(om, SUB(nu, du0)));                                                \
        __m256 nv = MUL(ADD(SUB(L(b2, x), MUL(a, du1)),                                         \
                            ADD(ADD(MUL(wl, L(dv, (x) - 1)), MUL(wr, L(dv, (x) + 1))),          \
                                ADD(MUL(wu, L(dv, (x) - s)), MUL(wd, L(dv, (x) + s))))),        \
                        L(ia22, x));                                                            \
        (dv1) = ADD(dv0, MUL(om, SUB(nv, dv0)));                                                \
    } while (0)

static AIE_VAR_SOR_FN(var_sor_avx2)
{
    const ptrdiff_t s = stride;
    const __m256 om = _mm256_set1_ps(omega);
    /* lanes x0 + 2j + parity are updated */
    const __m256i mask = parity ? _mm256_setr_epi32(0, -1, 0, -1, 0, -1, 0, -1)
                                : _mm256_setr_epi32(-1, 0, -1, 0, -1, 0, -1, 0);
    /* chunks of up to 64 samples: the new values are kept aside and
     * stored after the chunk's loads, so no load waits for an overlapping
     * masked store */
    __m256 nu_[8], nv_[8];
    int x = 0;
    for (; x + 8 <= w;) {
        int nvec = (w - x) / 8 < 8 ? (w - x) / 8 : 8;
        for (int k = 0; k < nvec; k++) {
            int xx = x + 8 * k;
            __m256 du1, dv1;
            SOR_VEC(xx, du1, dv1);
            nu_[k] = du1;
            nv_[k] = dv1;
        }
        for (int k = 0; k < nvec; k++) {
            _mm256_maskstore_ps(du + x + 8 * k, mask, nu_[k]);
            _mm256_maskstore_ps(dv + x + 8 * k, mask, nv_[k]);
        }
        x += 8 * nvec;
    }
    if (x < w) /* x is a multiple of 8: the parity carries over */
        aie_motion_var_sor_c(du + x, dv + x, a12 + x, b1 + x, b2 + x, ia11 + x, ia22 + x, sx + x, sy + x, stride, w - x,
                             parity, omega);
}

#undef L
#undef ADD
#undef SUB
#undef MUL
#undef DIV

void aie_motion_dsp_init_avx2(AieMotionDSP *dsp)
{
    dsp->dis_prep = dis_prep_avx2;
    dsp->densify = densify_avx2;
    dsp->up2 = up2_avx2;
    dsp->var_smooth = var_smooth_avx2;
    dsp->var_prepare = var_prepare_avx2;
    dsp->var_sor = var_sor_avx2;
    dsp->tofloat8 = tofloat8_avx2;
    dsp->tofloat16 = tofloat16_avx2;
    dsp->down2 = down2_avx2;
    dsp->down2_8 = down2_8_avx2;
    dsp->dis_sums = dis_sums_avx2;
}
