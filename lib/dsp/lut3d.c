/* 3D LUT interpolation: C reference and dispatch (see lut3d.h). */
#include "dsp/lut3d.h"

#include "aie/cpu.h"

/* A 16-bit value's position on an n-point grid axis, 16.16 fixed point. */
static inline uint32_t grid_pos(uint32_t v, int n)
{
    uint32_t p = v * (uint32_t)(n - 1);
    return p + (p >> 16);
}

static AIE_LUT3D_FN(tetra_c)
{
    const int n = t->n;
    const uint32_t sr_ = 1, sg_ = (uint32_t)n, sb_ = (uint32_t)(n * n), tot = sr_ + sg_ + sb_;
    for (int x = 0; x < w; x++) {
        uint32_t pr = grid_pos(sr[x], n), pg = grid_pos(sg[x], n), pb = grid_pos(sb[x], n);
        const uint32_t fr = pr & 0xffff, fg = pg & 0xffff, fb = pb & 0xffff;
        const uint32_t base = (pr >> 16) * sr_ + (pg >> 16) * sg_ + (pb >> 16) * sb_;
        const int m_rg = fr >= fg, m_rb = fr >= fb, m_gb = fg >= fb;
        const uint32_t omax = (m_rg && m_rb) ? sr_ : m_gb ? sg_ : sb_;
        const uint32_t omin = (m_gb && m_rb) ? sb_ : m_rg ? sg_ : sr_;
        uint32_t mx = fr > fg ? fr : fg, mn = fr < fg ? fr : fg;
        mx = mx > fb ? mx : fb;
        mn = mn < fb ? mn : fb;
        const uint32_t md = fr + fg + fb - mx - mn;
        const uint32_t w0 = 65536 - mx, w1 = mx - md, w2 = md - mn, w3 = mn;
        const uint32_t i0 = base, i1 = base + omax, i2 = base + tot - omin, i3 = base + tot;
        const uint32_t a0 = t->rg[i0], a1 = t->rg[i1], a2 = t->rg[i2], a3 = t->rg[i3];
        dr[x] = (uint16_t)((w0 * (a0 & 0xffff) + w1 * (a1 & 0xffff) + w2 * (a2 & 0xffff) +
                            w3 * (a3 & 0xffff) + 32768) >> 16);
        dg[x] = (uint16_t)((w0 * (a0 >> 16) + w1 * (a1 >> 16) + w2 * (a2 >> 16) + w3 * (a3 >> 16) +
                            32768) >> 16);
        db[x] = (uint16_t)((w0 * t->b[i0] + w1 * t->b[i1] + w2 * t->b[i2] + w3 * t->b[i3] + 32768) >> 16);
    }
}

static inline uint32_t lerp16(uint32_t a, uint32_t b, uint32_t f)
{
    return (a * (65536 - f) + b * f + 32768) >> 16;
}

static inline uint32_t tri1(uint32_t c000, uint32_t c100, uint32_t c010, uint32_t c110, uint32_t c001,
                            uint32_t c101, uint32_t c011, uint32_t c111, uint32_t fr, uint32_t fg,
                            uint32_t fb)
{
    uint32_t c00 = lerp16(c000, c100, fr), c10 = lerp16(c010, c110, fr);
    uint32_t c01 = lerp16(c001, c101, fr), c11 = lerp16(c011, c111, fr);
    return lerp16(lerp16(c00, c10, fg), lerp16(c01, c11, fg), fb);
}

static AIE_LUT3D_FN(trilinear_c)
{
    const int n = t->n;
    const uint32_t sg_ = (uint32_t)n, sb_ = (uint32_t)(n * n);
    for (int x = 0; x < w; x++) {
        uint32_t pr = grid_pos(sr[x], n), pg = grid_pos(sg[x], n), pb = grid_pos(sb[x], n);
        const uint32_t fr = pr & 0xffff, fg = pg & 0xffff, fb = pb & 0xffff;
        const uint32_t i = (pr >> 16) + (pg >> 16) * sg_ + (pb >> 16) * sb_;
        const uint32_t k[8] = {i, i + 1, i + sg_, i + sg_ + 1, i + sb_, i + sb_ + 1, i + sb_ + sg_,
                               i + sb_ + sg_ + 1};
        uint32_t rg[8], bb[8];
        for (int j = 0; j < 8; j++) {
            rg[j] = t->rg[k[j]];
            bb[j] = t->b[k[j]];
        }
#define CH(e) tri1(e(0), e(1), e(2), e(3), e(4), e(5), e(6), e(7), fr, fg, fb)
#define ER(j) (rg[j] & 0xffff)
#define EG(j) (rg[j] >> 16)
#define EB(j) (bb[j])
        dr[x] = (uint16_t)CH(ER);
        dg[x] = (uint16_t)CH(EG);
        db[x] = (uint16_t)CH(EB);
#undef CH
#undef ER
#undef EG
#undef EB
    }
}

void aie_lut3d_dsp_init(AieLut3DDSP *dsp, unsigned cpu_flags)
{
    dsp->tetra = tetra_c;
    dsp->trilinear = trilinear_c;
    if (!(cpu_flags & AIE_CPU_AVX2))
        return;
    aie_lut3d_dsp_init_avx2(dsp);
}
