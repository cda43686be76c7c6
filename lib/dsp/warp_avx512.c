/* AVX-512 (F/BW/DQ/VL) kernels of dsp/warp.h: bicubic8, the flow at t and
 * the per-pixel coordinates on 16 lanes, with the operations of the C reference in its order (its fmaf()
 * as FMA, nothing contracted otherwise), so bit-identical; positions whose taps touch the plane's edge go to the C
 * rule. Each measured faster than its AVX2 version (checkasm --bench). */
#include <immintrin.h>
#include <math.h>

#include "dsp/warp.h"

#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps

#define FMA _mm512_fmadd_ps

static inline void taps16(__m512 f, __m512 k[4])
{
    const __m512 h = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), mh = _mm512_set1_ps(-0.5f);
    const __m512 c15 = _mm512_set1_ps(1.5f), m25 = _mm512_set1_ps(-2.5f), two = _mm512_set1_ps(2.0f);
    const __m512 m15 = _mm512_set1_ps(-1.5f);
    k[0] = MUL(FMA(FMA(mh, f, one), f, mh), f);
    k[1] = FMA(MUL(FMA(c15, f, m25), f), f, one);
    k[2] = MUL(FMA(FMA(m15, f, two), f, h), f);
    k[3] = MUL(MUL(FMA(h, f, mh), f), f);
}

/* The horizontal taps in Q14 as word pairs (k0, k2) and (k1, k3)
 * (aie_warp_bicubic8_c). */
static inline void q14_taps(const __m512 kx[4], __m512i *k02, __m512i *k13)
{
    const __m512 q = _mm512_set1_ps(16384.0f);
    const __m512i lo = _mm512_set1_epi32(0xffff);
    __m512i k[4];
    for (int j = 0; j < 4; j++)
        k[j] = _mm512_cvtps_epi32(MUL(kx[j], q));
    *k02 = _mm512_or_si512(_mm512_and_si512(k[0], lo), _mm512_slli_epi32(k[2], 16));
    *k13 = _mm512_or_si512(_mm512_and_si512(k[1], lo), _mm512_slli_epi32(k[3], 16));
}

/* A row's integer sum from word pairs (p0, p2) and (p1, p3), as a float. */
static inline __m512 q14_row(__m512i p02, __m512i p13, __m512i k02, __m512i k13)
{
    return _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_madd_epi16(p02, k02), _mm512_madd_epi16(p13, k13)));
}

static AIE_WARP_BICUBIC8_FN(bicubic8_avx512)
{
    const __m512i zhi = _mm512_set1_epi32((int)0x80028000u);
    const __m512i one = _mm512_set1_epi32(1), k3 = _mm512_set1_epi32(3);
    int i = 0;
    for (; i + 16 <= n && stride <= (1 << 27); i += 16) {
        __m512 px = _mm512_loadu_ps(x + i), py = _mm512_loadu_ps(y + i);
        px = _mm512_min_ps(_mm512_max_ps(px, _mm512_setzero_ps()), _mm512_set1_ps((float)(w - 1)));
        py = _mm512_min_ps(_mm512_max_ps(py, _mm512_setzero_ps()), _mm512_set1_ps((float)(h - 1)));
        __m512i ix = _mm512_cvttps_epi32(px), iy = _mm512_cvttps_epi32(py);
        __m512 fx = SUB(px, _mm512_cvtepi32_ps(ix)), fy = SUB(py, _mm512_cvtepi32_ps(iy));
        /* the fast path: taps inside the plane, and in each group of four
         * one row and columns within 13 of the group's first */
        __m512i ixb = _mm512_shuffle_epi32(ix, _MM_PERM_AAAA), iyb = _mm512_shuffle_epi32(iy, _MM_PERM_AAAA);
        __m512i rel = _mm512_sub_epi32(ix, ixb);
        __mmask16 inside = _mm512_cmpge_epi32_mask(ix, one) & _mm512_cmpge_epi32_mask(iy, one) &
                           _mm512_cmple_epi32_mask(iy, _mm512_set1_epi32(h - 3)) &
                           _mm512_cmple_epi32_mask(ix, _mm512_sub_epi32(_mm512_set1_epi32(w), k3));
        __m512 kx[4], ky[4];
        taps16(fx, kx);
        taps16(fy, ky);
        for (int r = 0; r < 4; r++)
            ky[r] = MUL(ky[r], _mm512_set1_ps(1.0f / 16384.0f));
        __m512i k02, k13;
        q14_taps(kx, &k02, &k13);
        if (inside != 0xffff && w >= 8) {
            /* at the edges: every tap's column and row clamped to the plane,
             * one gather per tap; a byte is read as the top byte of the
             * dword ending at it, or (in the first three columns) the low
             * byte of the dword starting at it, so reads stay in the row */
            __m512i cx[4], sh[4], cy[4];
            for (int j = 0; j < 4; j++) {
                __m512i c = _mm512_add_epi32(ix, _mm512_set1_epi32(j - 1));
                c = _mm512_min_epi32(_mm512_max_epi32(c, _mm512_setzero_si512()), _mm512_set1_epi32(w - 1));
                __mmask16 hi = _mm512_cmpge_epi32_mask(c, k3);
                cx[j] = _mm512_mask_sub_epi32(c, hi, c, k3);
                sh[j] = _mm512_maskz_mov_epi32(hi, _mm512_set1_epi32(24));
                __m512i r = _mm512_add_epi32(iy, _mm512_set1_epi32(j - 1));
                r = _mm512_min_epi32(_mm512_max_epi32(r, _mm512_setzero_si512()), _mm512_set1_epi32(h - 1));
                cy[j] = _mm512_mullo_epi32(r, _mm512_set1_epi32((int)stride));
            }
            const __m512i m8 = _mm512_set1_epi32(0xff);
            __m512 acc = _mm512_setzero_ps();
            for (int r = 0; r < 4; r++) {
                __m512i p[4];
                for (int j = 0; j < 4; j++) {
                    __m512i v = _mm512_i32gather_epi32(_mm512_add_epi32(cy[r], cx[j]), (const void *)src, 1);
                    p[j] = _mm512_and_si512(_mm512_srlv_epi32(v, sh[j]), m8);
                }
                __m512i p02 = _mm512_or_si512(p[0], _mm512_slli_epi32(p[2], 16));
                __m512i p13 = _mm512_or_si512(p[1], _mm512_slli_epi32(p[3], 16));
                acc = FMA(ky[r], q14_row(p02, p13, k02, k13), acc);
            }
            _mm512_storeu_ps(dst + i, acc);
            continue;
        }
        if (!inside) {
            aie_warp_bicubic8_c(dst + i, src, stride, w, h, x + i, y + i, 16);
            continue;
        }
        __mmask16 fast = _mm512_cmple_epu32_mask(rel, _mm512_set1_epi32(12)) &
                         _mm512_cmpeq_epi32_mask(iy, iyb) &
                         _mm512_cmple_epi32_mask(ixb, _mm512_set1_epi32(w - 15));
        if ((fast & inside) != 0xffff) {
            /* gathers of the four taps of each row, for the positions whose
             * taps are inside the plane; the C rule for the others */
            __m512i off = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_sub_epi32(iy, one), _mm512_set1_epi32((int)stride)),
                                           _mm512_sub_epi32(ix, one));
            off = _mm512_maskz_mov_epi32(inside, off);
            __m512 acc = _mm512_setzero_ps();
            const __m512i m02 = _mm512_set1_epi32(0x00ff00ff);
            for (int r = 0; r < 4; r++) {
                /* the dword holds p0 .. p3: bytes 0, 2 and 1, 3 as word pairs */
                __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), inside, off, (const void *)src, 1);
                __m512i p02 = _mm512_and_si512(v, m02), p13 = _mm512_and_si512(_mm512_srli_epi32(v, 8), m02);
                acc = FMA(ky[r], q14_row(p02, p13, k02, k13), acc);
                off = _mm512_add_epi32(off, _mm512_set1_epi32((int)stride));
            }
            _mm512_storeu_ps(dst + i, acc);
            for (int l = 0; l < 16; l++)
                if (!((inside >> l) & 1))
                    aie_warp_bicubic8_c(dst + i + l, src, stride, w, h, x + i + l, y + i + l, 1);
            continue;
        }
        int bx[16], by[16];
        _mm512_storeu_si512(bx, ix);
        _mm512_storeu_si512(by, iy);
        const uint8_t *b0 = src + (by[0] - 1) * stride + bx[0] - 1;
        const uint8_t *b1 = src + (by[4] - 1) * stride + bx[4] - 1;
        const uint8_t *b2 = src + (by[8] - 1) * stride + bx[8] - 1;
        const uint8_t *b3 = src + (by[12] - 1) * stride + bx[12] - 1;
        /* byte indices (rel, -, rel + 2, -) and (rel + 1, -, rel + 3, -): the
         * word pairs (p0, p2) and (p1, p3) */
        __m512i idx02 = _mm512_add_epi32(_mm512_or_si512(rel, _mm512_slli_epi32(rel, 16)), zhi);
        __m512i idx13 = _mm512_add_epi32(idx02, _mm512_set1_epi32(0x00010001));
        __m512 acc = _mm512_setzero_ps();
        for (int r = 0; r < 4; r++) {
            ptrdiff_t o = r * stride;
            __m512i v = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(const void *)(b0 + o)));
            v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(const void *)(b1 + o)), 1);
            v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(const void *)(b2 + o)), 2);
            v = _mm512_inserti32x4(v, _mm_loadu_si128((const __m128i *)(const void *)(b3 + o)), 3);
            acc = FMA(ky[r], q14_row(_mm512_shuffle_epi8(v, idx02), _mm512_shuffle_epi8(v, idx13), k02, k13), acc);
        }
        _mm512_storeu_ps(dst + i, acc);
    }
    if (i < n)
        aie_warp_bicubic8_c(dst + i, src, stride, w, h, x + i, y + i, n - i);
}

/* Clamped bilinear taps of 16 positions (the rule of bilinear_c). */
typedef struct BlTaps {
    __m512i i00, i01, i10, i11;
    __m512 fx, fy;
} BlTaps;

static inline BlTaps bl_taps(__m512 x, __m512 y, int w, int h, ptrdiff_t stride)
{
    BlTaps b;
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_setzero_ps()), _mm512_set1_ps((float)(w - 1)));
    y = _mm512_min_ps(_mm512_max_ps(y, _mm512_setzero_ps()), _mm512_set1_ps((float)(h - 1)));
    __m512i ix = _mm512_cvttps_epi32(x), iy = _mm512_cvttps_epi32(y);
    b.fx = SUB(x, _mm512_cvtepi32_ps(ix));
    b.fy = SUB(y, _mm512_cvtepi32_ps(iy));
    __m512i one = _mm512_set1_epi32(1), st = _mm512_set1_epi32((int)stride);
    __m512i ix1 = _mm512_min_epi32(_mm512_add_epi32(ix, one), _mm512_set1_epi32(w - 1));
    __m512i iy1 = _mm512_min_epi32(_mm512_add_epi32(iy, one), _mm512_set1_epi32(h - 1));
    __m512i r0 = _mm512_mullo_epi32(iy, st), r1 = _mm512_mullo_epi32(iy1, st);
    b.i00 = _mm512_add_epi32(r0, ix);
    b.i01 = _mm512_add_epi32(r0, ix1);
    b.i10 = _mm512_add_epi32(r1, ix);
    b.i11 = _mm512_add_epi32(r1, ix1);
    return b;
}

static inline __m512 bl_get(const float *p, const BlTaps *b)
{
    __m512 a0 = _mm512_i32gather_ps(b->i00, p, 4), a1 = _mm512_i32gather_ps(b->i01, p, 4);
    __m512 b0 = _mm512_i32gather_ps(b->i10, p, 4), b1 = _mm512_i32gather_ps(b->i11, p, 4);
    __m512 ra = ADD(a0, MUL(b->fx, SUB(a1, a0)));
    __m512 rb = ADD(b0, MUL(b->fx, SUB(b1, b0)));
    return ADD(ra, MUL(b->fy, SUB(rb, ra)));
}

static inline __mmask16 outside(__m512 x, __m512 y, __m512 lo, __m512 hx, __m512 hy)
{
    return _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ) | _mm512_cmp_ps_mask(y, lo, _CMP_LT_OQ) |
           _mm512_cmp_ps_mask(x, hx, _CMP_GT_OQ) | _mm512_cmp_ps_mask(y, hy, _CMP_GT_OQ);
}

static AIE_FLOW_T_FN(flow_t_avx512)
{
    const int W = a->fw, H = a->fh;
    const ptrdiff_t fs = a->fstride, ls = a->lstride;
    const __m512 t = _mm512_set1_ps(a->t), t1 = _mm512_set1_ps(1.0f - a->t), is = _mm512_set1_ps(a->is);
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f), sign = _mm512_set1_ps(-0.0f);
    const __m512 quarter = _mm512_set1_ps(0.25f), tau2 = _mm512_set1_ps(a->tau2);
    const __m512 lo = _mm512_set1_ps(-0.5f), hx = _mm512_set1_ps((float)W - 0.5f), hy = _mm512_set1_ps((float)H - 0.5f);
    const __m512 py = _mm512_set1_ps((float)y), rel_lo = _mm512_set1_ps(a->rel_lo);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int x = 0; x < W; x += 16) {
        const __m512 px = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_set1_epi32(x), lane));
        __m512 ua = _mm512_setzero_ps(), va = ua, ub = ua, vb = ua, qx = px, qy = py;
        for (int k = 0; k < a->iters && !a->extrapolate; k++) {
            BlTaps b = bl_taps(qx, qy, W, H, fs);
            ua = MUL(bl_get(a->fu, &b), is);
            va = MUL(bl_get(a->fv, &b), is);
            qx = SUB(px, MUL(t, ua));
            qy = SUB(py, MUL(t, va));
        }
        qx = px;
        qy = py;
        for (int k = 0; k < a->iters; k++) {
            BlTaps b = bl_taps(qx, qy, W, H, fs);
            ub = _mm512_xor_ps(sign, MUL(bl_get(a->gu, &b), is));
            vb = _mm512_xor_ps(sign, MUL(bl_get(a->gv, &b), is));
            qx = ADD(px, MUL(t1, ub));
            qy = ADD(py, MUL(t1, vb));
        }
        __m512 mu, mv;
        if (a->extrapolate) {
            mu = ub;
            mv = vb;
        } else {
            __m512 du = SUB(ua, ub), dv = SUB(va, vb);
            __m512 dd = ADD(MUL(du, du), MUL(dv, dv));
            __mmask16 agree = _mm512_cmp_ps_mask(dd, quarter, _CMP_LT_OQ);
            mu = MUL(half, ADD(ua, ub));
            mv = MUL(half, ADD(va, vb));
            if (agree != 0xffff) {
                BlTaps b0 = bl_taps(SUB(px, MUL(t, ua)), SUB(py, MUL(t, va)), W, H, ls);
                BlTaps b1 = bl_taps(ADD(px, MUL(t1, ua)), ADD(py, MUL(t1, va)), W, H, ls);
                __m512 ea = _mm512_abs_ps(SUB(bl_get(a->la, &b0), bl_get(a->lb, &b1)));
                b0 = bl_taps(SUB(px, MUL(t, ub)), SUB(py, MUL(t, vb)), W, H, ls);
                b1 = bl_taps(ADD(px, MUL(t1, ub)), ADD(py, MUL(t1, vb)), W, H, ls);
                __m512 eb = _mm512_abs_ps(SUB(bl_get(a->la, &b0), bl_get(a->lb, &b1)));
                __mmask16 pick_a = _mm512_cmp_ps_mask(ea, eb, _CMP_LE_OQ);
                __m512 cu = _mm512_mask_blend_ps(pick_a, ub, ua), cv = _mm512_mask_blend_ps(pick_a, vb, va);
                mu = _mm512_mask_blend_ps(agree, cu, mu);
                mv = _mm512_mask_blend_ps(agree, cv, mv);
            }
        }
        __m512 ax = SUB(px, MUL(t, mu)), ay = SUB(py, MUL(t, mv));
        __m512 bx = ADD(px, MUL(t1, mu)), by = ADD(py, MUL(t1, mv));
        BlTaps b = bl_taps(ax, ay, W, H, fs);
        __m512 fu = SUB(MUL(bl_get(a->fu, &b), is), mu);
        __m512 fv = SUB(MUL(bl_get(a->fv, &b), is), mv);
        __m512 da = ADD(MUL(fu, fu), MUL(fv, fv));
        b = bl_taps(bx, by, W, H, fs);
        __m512 gu = ADD(MUL(bl_get(a->gu, &b), is), mu);
        __m512 gv = ADD(MUL(bl_get(a->gv, &b), is), mv);
        __m512 db = ADD(MUL(gu, gu), MUL(gv, gv));
        __m512 vis_a = _mm512_div_ps(one, ADD(one, _mm512_div_ps(da, tau2)));
        __m512 vis_b = _mm512_div_ps(one, ADD(one, _mm512_div_ps(db, tau2)));
        vis_a = _mm512_maskz_mov_ps((__mmask16)~outside(ax, ay, lo, hx, hy), vis_a);
        vis_b = _mm512_maskz_mov_ps((__mmask16)~outside(bx, by, lo, hx, hy), vis_b);
        if (a->extrapolate) {
            vis_a = _mm512_setzero_ps();
            vis_b = one;
        }
        __m512 wa = MUL(t1, vis_a), wb = MUL(t, vis_b);
        __m512 sw = ADD(wa, wb);
        __m512 sh = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(sw, _mm512_set1_ps(1e-4f), _CMP_GT_OQ), t1,
                                         _mm512_div_ps(wa, sw));
        __m512 best = _mm512_max_ps(vis_a, vis_b);
        __m512 rl = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(best, rel_lo, _CMP_GE_OQ), _mm512_div_ps(best, rel_lo), one);
        __mmask16 m = W - x >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (W - x)) - 1);
        _mm512_mask_storeu_ps(u + x, m, mu);
        _mm512_mask_storeu_ps(v + x, m, mv);
        _mm512_mask_storeu_ps(share + x, m, sh);
        _mm512_mask_storeu_ps(rel + x, m, rl);
    }
}

static AIE_WARP_COORDS_FN(coords_avx512)
{
    const __m512 vt = _mm512_set1_ps(t), vt1 = _mm512_set1_ps(1.0f - t), vy = _mm512_set1_ps(y);
    const __m512 vkx = _mm512_set1_ps(kx), vky = _mm512_set1_ps(ky);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    int i = 0;
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512i j = _mm512_maskz_loadu_epi32(m, xi + i);
        __m512 f = _mm512_maskz_loadu_ps(m, xw + i);
        int last = i + 15 < n ? i + 15 : n - 1, j0 = xi[i];
        __m512 c[4];
        if (xi[last] - j0 <= 15 && xi[last] >= j0) {
            /* the columns lie within g[j0 .. j0 + 16]: permutes */
            __m512i rel = _mm512_maskz_sub_epi32(m, j, _mm512_set1_epi32(j0));
            for (int k = 0; k < 4; k++) {
                __m512 p0 = _mm512_permutexvar_ps(rel, _mm512_loadu_ps(g[k] + j0));
                __m512 p1 = _mm512_permutexvar_ps(rel, _mm512_loadu_ps(g[k] + j0 + 1));
                c[k] = ADD(p0, MUL(f, SUB(p1, p0)));
            }
        } else {
            __m512i j1 = _mm512_add_epi32(j, _mm512_set1_epi32(1));
            for (int k = 0; k < 4; k++) {
                __m512 p0 = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, j, g[k], 4);
                __m512 p1 = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, j1, g[k], 4);
                c[k] = ADD(p0, MUL(f, SUB(p1, p0)));
            }
        }
        __m512 mu = MUL(c[0], vkx), mv = MUL(c[1], vky);
        __m512 px = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_set1_epi32(x0 + i), lane));
        _mm512_mask_storeu_ps(xa + i, m, SUB(px, MUL(vt, mu)));
        _mm512_mask_storeu_ps(ya + i, m, SUB(vy, MUL(vt, mv)));
        _mm512_mask_storeu_ps(xb + i, m, ADD(px, MUL(vt1, mu)));
        _mm512_mask_storeu_ps(yb + i, m, ADD(vy, MUL(vt1, mv)));
        _mm512_mask_storeu_ps(wa + i, m, c[2]);
        _mm512_mask_storeu_ps(r + i, m, c[3]);
    }
}

void aie_warp_dsp_init_avx512(AieWarpDSP *dsp)
{
    dsp->flow_t = flow_t_avx512;
    dsp->coords = coords_avx512;
    dsp->bicubic8 = bicubic8_avx512;
}
