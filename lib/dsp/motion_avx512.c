/* AVX-512 (F/BW/DQ/VL) kernels of dsp/motion.h: the red-black SOR half-sweep
 * on 16 lanes, with the C reference's operations in its order (no FMA), so
 * bit-identical; it measured faster than the AVX2 version (checkasm
 * --bench). */
#include <immintrin.h>

#include "dsp/motion.h"

#define L(p, o) _mm512_loadu_ps((p) + (o))
#define ADD _mm512_add_ps
#define SUB _mm512_sub_ps
#define MUL _mm512_mul_ps

static AIE_VAR_SOR_FN(var_sor_avx512)
{
    const ptrdiff_t s = stride;
    const __m512 om = _mm512_set1_ps(omega);
    const __mmask16 colour = parity ? 0xaaaa : 0x5555;
    /* chunks of up to 64 samples: new values are stored after the chunk's
     * loads (no load waits for an overlapping masked store) */
    __m512 nu_[4], nv_[4];
    int x = 0;
    while (x < w) {
        int left = w - x, nvec = left >= 64 ? 4 : (left + 15) / 16;
        for (int k = 0; k < nvec; k++) {
            int xx = x + 16 * k;
            __m512 wl = L(sx, xx - 1), wr = L(sx, xx), wu = L(sy, xx - s), wd = L(sy, xx);
            __m512 a = L(a12, xx);
            __m512 du0 = L(du, xx), dv0 = L(dv, xx);
            __m512 nu = MUL(ADD(SUB(L(b1, xx), MUL(a, dv0)),
                                ADD(ADD(MUL(wl, L(du, xx - 1)), MUL(wr, L(du, xx + 1))),
                                    ADD(MUL(wu, L(du, xx - s)), MUL(wd, L(du, xx + s))))),
                            L(ia11, xx));
            __m512 du1 = ADD(du0, MUL(om, SUB(nu, du0)));
            __m512 nv = MUL(ADD(SUB(L(b2, xx), MUL(a, du1)),
                                ADD(ADD(MUL(wl, L(dv, xx - 1)), MUL(wr, L(dv, xx + 1))),
                                    ADD(MUL(wu, L(dv, xx - s)), MUL(wd, L(dv, xx + s))))),
                            L(ia22, xx));
            nu_[k] = du1;
            nv_[k] = ADD(dv0, MUL(om, SUB(nv, dv0)));
        }
        for (int k = 0; k < nvec; k++) {
            int xx = x + 16 * k, n = w - xx;
            __mmask16 m = colour & (n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1));
            _mm512_mask_storeu_ps(du + xx, m, nu_[k]);
            _mm512_mask_storeu_ps(dv + xx, m, nv_[k]);
        }
        x += 16 * nvec;
    }
}

void aie_motion_dsp_init_avx512(AieMotionDSP *dsp)
{
    dsp->var_sor = var_sor_avx512;
}
