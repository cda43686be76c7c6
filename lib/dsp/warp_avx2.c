/* AVX2 kernels of dsp/warp.h: eight positions at a time, the taps of each
 * row by byte shuffles of one load (smooth motion) or by gathers; groups that
 * touch the plane's edge go to the C reference, so clamping stays exact. Same
 * operations in the same order as C (its fmaf() as FMA, nothing contracted
 * otherwise), so the results are bit-identical. */
#include <immintrin.h>
#include <math.h>

#include "dsp/warp.h"

static inline void taps8(__m256 f, __m256 k[4])
{
    const __m256 h = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), mh = _mm256_set1_ps(-0.5f);
    const __m256 c15 = _mm256_set1_ps(1.5f), m25 = _mm256_set1_ps(-2.5f), two = _mm256_set1_ps(2.0f);
    const __m256 m15 = _mm256_set1_ps(-1.5f);
    k[0] = _mm256_mul_ps(_mm256_fmadd_ps(_mm256_fmadd_ps(mh, f, one), f, mh), f);
    k[1] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_fmadd_ps(c15, f, m25), f), f, one);
    k[2] = _mm256_mul_ps(_mm256_fmadd_ps(_mm256_fmadd_ps(m15, f, two), f, h), f);
    k[3] = _mm256_mul_ps(_mm256_mul_ps(_mm256_fmadd_ps(h, f, mh), f), f);
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
    return _mm256_fmadd_ps(kx[3], p3, _mm256_fmadd_ps(kx[2], p2, _mm256_fmadd_ps(kx[1], p1, _mm256_mul_ps(kx[0], p0))));
}

/* The horizontal taps in Q14 as word pairs (k0, k2) and (k1, k3), and the
 * vertical ones over 16384 (aie_warp_bicubic8_c). */
static inline void q14_taps(const __m256 kx[4], __m256i *k02, __m256i *k13)
{
    const __m256 q = _mm256_set1_ps(16384.0f);
    const __m256i lo = _mm256_set1_epi32(0xffff);
    __m256i k[4];
    for (int j = 0; j < 4; j++)
        k[j] = _mm256_cvtps_epi32(_mm256_mul_ps(kx[j], q));
    *k02 = _mm256_or_si256(_mm256_and_si256(k[0], lo), _mm256_slli_epi32(k[2], 16));
    *k13 = _mm256_or_si256(_mm256_and_si256(k[1], lo), _mm256_slli_epi32(k[3], 16));
}

/* A row's integer sum from word pairs (p0, p2) and (p1, p3), as a float. */
static inline __m256 q14_row(__m256i p02, __m256i p13, __m256i k02, __m256i k13)
{
    return _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_madd_epi16(p02, k02), _mm256_madd_epi16(p13, k13)));
}

/* Eight positions at the plane's edges: every tap's column and row clamped,
 * one gather per tap; a byte is read as the top byte of the dword ending at
 * it, or (in the first three columns) the low byte of the dword starting at
 * it, so reads stay in the row (needs w >= 8). */
static inline __m256 bicubic8_edge(const uint8_t *src, ptrdiff_t stride, int w, int h, __m256i ix,
                                   __m256i iy, const __m256 kx[4], const __m256 ky[4])
{
    const __m256i k3 = _mm256_set1_epi32(3), m8 = _mm256_set1_epi32(0xff);
    __m256i cx[4], sh[4], cy[4];
    for (int j = 0; j < 4; j++) {
        __m256i c = _mm256_add_epi32(ix, _mm256_set1_epi32(j - 1));
        c = _mm256_min_epi32(_mm256_max_epi32(c, _mm256_setzero_si256()), _mm256_set1_epi32(w - 1));
        __m256i hi = _mm256_cmpgt_epi32(c, _mm256_set1_epi32(2));
        cx[j] = _mm256_sub_epi32(c, _mm256_and_si256(hi, k3));
        sh[j] = _mm256_and_si256(hi, _mm256_set1_epi32(24));
        __m256i r = _mm256_add_epi32(iy, _mm256_set1_epi32(j - 1));
        r = _mm256_min_epi32(_mm256_max_epi32(r, _mm256_setzero_si256()), _mm256_set1_epi32(h - 1));
        cy[j] = _mm256_mullo_epi32(r, _mm256_set1_epi32((int)stride));
    }
    __m256i k02, k13;
    q14_taps(kx, &k02, &k13);
    __m256 acc = _mm256_setzero_ps();
    for (int r = 0; r < 4; r++) {
        __m256i p[4];
        for (int j = 0; j < 4; j++) {
            __m256i v = _mm256_i32gather_epi32((const int *)(const void *)src, _mm256_add_epi32(cy[r], cx[j]), 1);
            p[j] = _mm256_and_si256(_mm256_srlv_epi32(v, sh[j]), m8);
        }
        __m256i p02 = _mm256_or_si256(p[0], _mm256_slli_epi32(p[2], 16));
        __m256i p13 = _mm256_or_si256(p[1], _mm256_slli_epi32(p[3], 16));
        acc = _mm256_fmadd_ps(ky[r], q14_row(p02, p13, k02, k13), acc);
    }
    return acc;
}

static AIE_WARP_BICUBIC8_FN(bicubic8_avx2)
{
    int i = 0;
    const __m256i zhi = _mm256_set1_epi32((int)0x80028000u), c12 = _mm256_set1_epi32(12);
    const __m256i wm15 = _mm256_set1_epi32(w - 15); /* 16 bytes from ix - 1 stay in the row */
    for (; i + 8 <= n; i += 8) {
        __m256i ix, iy;
        __m256 fx, fy;
        int inside = prep(x + i, y + i, w, h, &ix, &iy, &fx, &fy);
        if ((!inside && w < 8) || stride > (1 << 27)) {
            aie_warp_bicubic8_c(dst + i, src, stride, w, h, x + i, y + i, 8);
            continue;
        }
        __m256 kx[4], ky[4];
        taps8(fx, kx);
        taps8(fy, ky);
        for (int r = 0; r < 4; r++)
            ky[r] = _mm256_mul_ps(ky[r], _mm256_set1_ps(1.0f / 16384.0f));
        if (!inside) {
            _mm256_storeu_ps(dst + i, bicubic8_edge(src, stride, w, h, ix, iy, kx, ky));
            continue;
        }
        __m256i k02, k13;
        q14_taps(kx, &k02, &k13);
        /* common case (smooth motion): in each half, one row for the four
         * positions and columns within 13 of the first one's: 16 bytes per
         * row and half, and byte shuffles */
        __m256i ixb = _mm256_shuffle_epi32(ix, 0), iyb = _mm256_shuffle_epi32(iy, 0);
        __m256i rel = _mm256_sub_epi32(ix, ixb);
        __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi32(rel, c12), _mm256_cmpgt_epi32(_mm256_setzero_si256(), rel));
        bad = _mm256_or_si256(bad, _mm256_xor_si256(_mm256_cmpeq_epi32(iy, iyb), _mm256_set1_epi32(-1)));
        bad = _mm256_or_si256(bad, _mm256_cmpgt_epi32(ixb, wm15));
        if (_mm256_testz_si256(bad, bad)) {
            int ix0 = _mm256_extract_epi32(ix, 0), iy0 = _mm256_extract_epi32(iy, 0);
            int ix4 = _mm256_extract_epi32(ix, 4), iy4 = _mm256_extract_epi32(iy, 4);
            const uint8_t *lo = src + (iy0 - 1) * stride + ix0 - 1, *hi = src + (iy4 - 1) * stride + ix4 - 1;
            /* byte indices (rel, -, rel + 2, -) and (rel + 1, -, rel + 3, -):
             * the word pairs (p0, p2) and (p1, p3) */
            __m256i idx02 = _mm256_add_epi32(_mm256_or_si256(rel, _mm256_slli_epi32(rel, 16)), zhi);
            __m256i idx13 = _mm256_add_epi32(idx02, _mm256_set1_epi32(0x00010001));
            __m256 acc = _mm256_setzero_ps();
            for (int r = 0; r < 4; r++) {
                __m256i v = _mm256_loadu2_m128i((const __m128i *)(const void *)(hi + r * stride),
                                                (const __m128i *)(const void *)(lo + r * stride));
                acc = _mm256_fmadd_ps(ky[r], q14_row(_mm256_shuffle_epi8(v, idx02), _mm256_shuffle_epi8(v, idx13), k02, k13), acc);
            }
            _mm256_storeu_ps(dst + i, acc);
            continue;
        }
        __m256i off = _mm256_add_epi32(
            _mm256_mullo_epi32(_mm256_sub_epi32(iy, _mm256_set1_epi32(1)), _mm256_set1_epi32((int)stride)),
            _mm256_sub_epi32(ix, _mm256_set1_epi32(1)));
        __m256 acc = _mm256_setzero_ps();
        const __m256i m02 = _mm256_set1_epi32(0x00ff00ff);
        for (int r = 0; r < 4; r++) {
            /* the dword holds p0 .. p3: bytes 0, 2 and 1, 3 as word pairs */
            __m256i v = _mm256_i32gather_epi32((const int *)(const void *)src, off, 1);
            __m256i p02 = _mm256_and_si256(v, m02), p13 = _mm256_and_si256(_mm256_srli_epi32(v, 8), m02);
            acc = _mm256_fmadd_ps(ky[r], q14_row(p02, p13, k02, k13), acc);
            off = _mm256_add_epi32(off, _mm256_set1_epi32((int)stride));
        }
        _mm256_storeu_ps(dst + i, acc);
    }
    if (i < n)
        aie_warp_bicubic8_c(dst + i, src, stride, w, h, x + i, y + i, n - i);
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
            aie_warp_bicubic16_c(dst + i, src, stride, w, h, x + i, y + i, 8);
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
            acc = _mm256_fmadd_ps(ky[r], row_sum(kx, p0, p1, p2, p3), acc);
            off = _mm256_add_epi32(off, _mm256_set1_epi32((int)stride));
        }
        _mm256_storeu_ps(dst + i, acc);
    }
    if (i < n)
        aie_warp_bicubic16_c(dst + i, src, stride, w, h, x + i, y + i, n - i);
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
    if (i < n)
        aie_warp_bilinear_c(dst + i, src, stride, w, h, x + i, y + i, n - i);
}

/* Clamped bilinear taps of eight positions (the rule of bilinear_c). */
typedef struct BlTaps {
    __m256i i00, i01, i10, i11;
    __m256 fx, fy;
} BlTaps;

static inline BlTaps bl_taps(__m256 x, __m256 y, int w, int h, ptrdiff_t stride)
{
    BlTaps b;
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_setzero_ps()), _mm256_set1_ps((float)(w - 1)));
    y = _mm256_min_ps(_mm256_max_ps(y, _mm256_setzero_ps()), _mm256_set1_ps((float)(h - 1)));
    __m256i ix = _mm256_cvttps_epi32(x), iy = _mm256_cvttps_epi32(y);
    b.fx = _mm256_sub_ps(x, _mm256_cvtepi32_ps(ix));
    b.fy = _mm256_sub_ps(y, _mm256_cvtepi32_ps(iy));
    __m256i one = _mm256_set1_epi32(1), st = _mm256_set1_epi32((int)stride);
    __m256i ix1 = _mm256_min_epi32(_mm256_add_epi32(ix, one), _mm256_set1_epi32(w - 1));
    __m256i iy1 = _mm256_min_epi32(_mm256_add_epi32(iy, one), _mm256_set1_epi32(h - 1));
    __m256i r0 = _mm256_mullo_epi32(iy, st), r1 = _mm256_mullo_epi32(iy1, st);
    b.i00 = _mm256_add_epi32(r0, ix);
    b.i01 = _mm256_add_epi32(r0, ix1);
    b.i10 = _mm256_add_epi32(r1, ix);
    b.i11 = _mm256_add_epi32(r1, ix1);
    return b;
}

static inline __m256 bl_get(const float *p, const BlTaps *b)
{
    __m256 a0 = _mm256_i32gather_ps(p, b->i00, 4), a1 = _mm256_i32gather_ps(p, b->i01, 4);
    __m256 b0 = _mm256_i32gather_ps(p, b->i10, 4), b1 = _mm256_i32gather_ps(p, b->i11, 4);
    __m256 ra = _mm256_add_ps(a0, _mm256_mul_ps(b->fx, _mm256_sub_ps(a1, a0)));
    __m256 rb = _mm256_add_ps(b0, _mm256_mul_ps(b->fx, _mm256_sub_ps(b1, b0)));
    return _mm256_add_ps(ra, _mm256_mul_ps(b->fy, _mm256_sub_ps(rb, ra)));
}

static AIE_FLOW_T_FN(flow_t_avx2)
{
    const int W = a->fw, H = a->fh;
    const ptrdiff_t fs = a->fstride, ls = a->lstride;
    const __m256 t = _mm256_set1_ps(a->t), t1 = _mm256_set1_ps(1.0f - a->t), is = _mm256_set1_ps(a->is);
    const __m256 sign = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 quarter = _mm256_set1_ps(0.25f), tau2 = _mm256_set1_ps(a->tau2);
    const __m256 lo = _mm256_set1_ps(-0.5f), hx = _mm256_set1_ps((float)W - 0.5f), hy = _mm256_set1_ps((float)H - 0.5f);
    const __m256 py = _mm256_set1_ps((float)y), rel_lo = _mm256_set1_ps(a->rel_lo);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int x = 0; x < W; x += 8) {
        const __m256 px = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_set1_epi32(x), lane));
        __m256 ua = _mm256_setzero_ps(), va = ua, ub = ua, vb = ua, qx = px, qy = py;
        for (int k = 0; k < a->iters && !a->extrapolate; k++) {
            BlTaps b = bl_taps(qx, qy, W, H, fs);
            ua = _mm256_mul_ps(bl_get(a->fu, &b), is);
            va = _mm256_mul_ps(bl_get(a->fv, &b), is);
            qx = _mm256_sub_ps(px, _mm256_mul_ps(t, ua));
            qy = _mm256_sub_ps(py, _mm256_mul_ps(t, va));
        }
        qx = px;
        qy = py;
        for (int k = 0; k < a->iters; k++) {
            BlTaps b = bl_taps(qx, qy, W, H, fs);
            ub = _mm256_xor_ps(sign, _mm256_mul_ps(bl_get(a->gu, &b), is));
            vb = _mm256_xor_ps(sign, _mm256_mul_ps(bl_get(a->gv, &b), is));
            qx = _mm256_add_ps(px, _mm256_mul_ps(t1, ub));
            qy = _mm256_add_ps(py, _mm256_mul_ps(t1, vb));
        }
        __m256 mu, mv;
        if (a->extrapolate) {
            mu = ub;
            mv = vb;
        } else {
            __m256 du = _mm256_sub_ps(ua, ub), dv = _mm256_sub_ps(va, vb);
            __m256 dd = _mm256_add_ps(_mm256_mul_ps(du, du), _mm256_mul_ps(dv, dv));
            __m256 agree = _mm256_cmp_ps(dd, quarter, _CMP_LT_OQ);
            mu = _mm256_mul_ps(half, _mm256_add_ps(ua, ub));
            mv = _mm256_mul_ps(half, _mm256_add_ps(va, vb));
            if (_mm256_movemask_ps(agree) != 0xff) {
                BlTaps b0 = bl_taps(_mm256_sub_ps(px, _mm256_mul_ps(t, ua)), _mm256_sub_ps(py, _mm256_mul_ps(t, va)), W, H, ls);
                BlTaps b1 = bl_taps(_mm256_add_ps(px, _mm256_mul_ps(t1, ua)), _mm256_add_ps(py, _mm256_mul_ps(t1, va)), W, H, ls);
                __m256 ea = _mm256_andnot_ps(sign, _mm256_sub_ps(bl_get(a->la, &b0), bl_get(a->lb, &b1)));
                b0 = bl_taps(_mm256_sub_ps(px, _mm256_mul_ps(t, ub)), _mm256_sub_ps(py, _mm256_mul_ps(t, vb)), W, H, ls);
                b1 = bl_taps(_mm256_add_ps(px, _mm256_mul_ps(t1, ub)), _mm256_add_ps(py, _mm256_mul_ps(t1, vb)), W, H, ls);
                __m256 eb = _mm256_andnot_ps(sign, _mm256_sub_ps(bl_get(a->la, &b0), bl_get(a->lb, &b1)));
                __m256 pick_a = _mm256_cmp_ps(ea, eb, _CMP_LE_OQ);
                __m256 cu = _mm256_blendv_ps(ub, ua, pick_a), cv = _mm256_blendv_ps(vb, va, pick_a);
                mu = _mm256_blendv_ps(cu, mu, agree);
                mv = _mm256_blendv_ps(cv, mv, agree);
            }
        }
        __m256 ax = _mm256_sub_ps(px, _mm256_mul_ps(t, mu)), ay = _mm256_sub_ps(py, _mm256_mul_ps(t, mv));
        __m256 bx = _mm256_add_ps(px, _mm256_mul_ps(t1, mu)), by = _mm256_add_ps(py, _mm256_mul_ps(t1, mv));
        BlTaps b = bl_taps(ax, ay, W, H, fs);
        __m256 fu = _mm256_sub_ps(_mm256_mul_ps(bl_get(a->fu, &b), is), mu);
        __m256 fv = _mm256_sub_ps(_mm256_mul_ps(bl_get(a->fv, &b), is), mv);
        __m256 da = _mm256_add_ps(_mm256_mul_ps(fu, fu), _mm256_mul_ps(fv, fv));
        b = bl_taps(bx, by, W, H, fs);
        __m256 gu = _mm256_add_ps(_mm256_mul_ps(bl_get(a->gu, &b), is), mu);
        __m256 gv = _mm256_add_ps(_mm256_mul_ps(bl_get(a->gv, &b), is), mv);
        __m256 db = _mm256_add_ps(_mm256_mul_ps(gu, gu), _mm256_mul_ps(gv, gv));
        __m256 vis_a = _mm256_div_ps(one, _mm256_add_ps(one, _mm256_div_ps(da, tau2)));
        __m256 vis_b = _mm256_div_ps(one, _mm256_add_ps(one, _mm256_div_ps(db, tau2)));
        __m256 out_a = _mm256_or_ps(_mm256_or_ps(_mm256_cmp_ps(ax, lo, _CMP_LT_OQ), _mm256_cmp_ps(ay, lo, _CMP_LT_OQ)),
                                    _mm256_or_ps(_mm256_cmp_ps(ax, hx, _CMP_GT_OQ), _mm256_cmp_ps(ay, hy, _CMP_GT_OQ)));
        __m256 out_b = _mm256_or_ps(_mm256_or_ps(_mm256_cmp_ps(bx, lo, _CMP_LT_OQ), _mm256_cmp_ps(by, lo, _CMP_LT_OQ)),
                                    _mm256_or_ps(_mm256_cmp_ps(bx, hx, _CMP_GT_OQ), _mm256_cmp_ps(by, hy, _CMP_GT_OQ)));
        vis_a = _mm256_andnot_ps(out_a, vis_a);
        vis_b = _mm256_andnot_ps(out_b, vis_b);
        if (a->extrapolate) {
            vis_a = _mm256_setzero_ps();
            vis_b = one;
        }
        __m256 wa = _mm256_mul_ps(t1, vis_a), wb = _mm256_mul_ps(t, vis_b);
        __m256 sw = _mm256_add_ps(wa, wb);
        __m256 sh = _mm256_blendv_ps(t1, _mm256_div_ps(wa, sw), _mm256_cmp_ps(sw, _mm256_set1_ps(1e-4f), _CMP_GT_OQ));
        __m256 best = _mm256_max_ps(vis_a, vis_b);
        __m256 rl = _mm256_blendv_ps(_mm256_div_ps(best, rel_lo), one, _mm256_cmp_ps(best, rel_lo, _CMP_GE_OQ));
        if (x + 8 <= W) {
            _mm256_storeu_ps(u + x, mu);
            _mm256_storeu_ps(v + x, mv);
            _mm256_storeu_ps(share + x, sh);
            _mm256_storeu_ps(rel + x, rl);
        } else {
            __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(W - x), lane);
            _mm256_maskstore_ps(u + x, m, mu);
            _mm256_maskstore_ps(v + x, m, mv);
            _mm256_maskstore_ps(share + x, m, sh);
            _mm256_maskstore_ps(rel + x, m, rl);
        }
    }
}

static AIE_WARP_COORDS_FN(coords_avx2)
{
    const __m256 vt = _mm256_set1_ps(t), vt1 = _mm256_set1_ps(1.0f - t), vy = _mm256_set1_ps(y);
    const __m256 vkx = _mm256_set1_ps(kx), vky = _mm256_set1_ps(ky);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i j = _mm256_loadu_si256((const __m256i *)(const void *)(xi + i));
        __m256 f = _mm256_loadu_ps(xw + i);
        __m256 c[4];
        int j0 = xi[i];
        if (xi[i + 7] - j0 <= 7 && xi[i + 7] >= j0) {
            /* the eight columns lie within g[j0 .. j0 + 8]: permutes */
            __m256i rel = _mm256_sub_epi32(j, _mm256_set1_epi32(j0));
            for (int k = 0; k < 4; k++) {
                __m256 p0 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(g[k] + j0), rel);
                __m256 p1 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(g[k] + j0 + 1), rel);
                c[k] = _mm256_add_ps(p0, _mm256_mul_ps(f, _mm256_sub_ps(p1, p0)));
            }
        } else {
            __m256i j1 = _mm256_add_epi32(j, _mm256_set1_epi32(1));
            for (int k = 0; k < 4; k++) {
                __m256 p0 = _mm256_i32gather_ps(g[k], j, 4), p1 = _mm256_i32gather_ps(g[k], j1, 4);
                c[k] = _mm256_add_ps(p0, _mm256_mul_ps(f, _mm256_sub_ps(p1, p0)));
            }
        }
        __m256 mu = _mm256_mul_ps(c[0], vkx), mv = _mm256_mul_ps(c[1], vky);
        __m256 px = _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_set1_epi32(x0 + i), lane));
        _mm256_storeu_ps(xa + i, _mm256_sub_ps(px, _mm256_mul_ps(vt, mu)));
        _mm256_storeu_ps(ya + i, _mm256_sub_ps(vy, _mm256_mul_ps(vt, mv)));
        _mm256_storeu_ps(xb + i, _mm256_add_ps(px, _mm256_mul_ps(vt1, mu)));
        _mm256_storeu_ps(yb + i, _mm256_add_ps(vy, _mm256_mul_ps(vt1, mv)));
        _mm256_storeu_ps(wa + i, c[2]);
        _mm256_storeu_ps(r + i, c[3]);
    }
    if (i < n)
        aie_warp_coords_c(xa + i, ya + i, xb + i, yb + i, wa + i, r + i, g, xi + i, xw + i, x0 + i, y, kx, ky, t, n - i);
}

static AIE_LERP_FN(lerp_avx2)
{
    const __m256 vf = _mm256_set1_ps(f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_loadu_ps(r0 + i);
        _mm256_storeu_ps(dst + i, _mm256_add_ps(a, _mm256_mul_ps(vf, _mm256_sub_ps(_mm256_loadu_ps(r1 + i), a))));
    }
    for (; i < n; i++)
        dst[i] = r0[i] + f * (r1[i] - r0[i]);
}

void aie_warp_dsp_init_avx2(AieWarpDSP *dsp)
{
    dsp->lerp = lerp_avx2;
    dsp->coords = coords_avx2;
    dsp->flow_t = flow_t_avx2;
    dsp->bicubic8 = bicubic8_avx2;
    dsp->bicubic16 = bicubic16_avx2;
    dsp->bilinear = bilinear_avx2;
}
