/*
 * 3D LUT interpolation kernels (private to libaie; lib/look/style.c is the user).
 *
 * Samples are 16-bit RGB planes (0..65535 spans the LUT's input domain). The
 * table has n^3 nodes (2 <= n <= 65), node (r, g, b) at index r + g*n + b*n*n
 * (red fastest, as in .cube files); rg[i] = R | G << 16 and b[i] = B hold its
 * output as 16-bit values.
 *
 * Fixed point (every ISA version is bit-exact with C):
 *   p = x * (n - 1); pos = p + (p >> 16)   (= x * (n - 1) / 65535 in 16.16)
 *   i = pos >> 16 (never above n - 2), f = pos & 0xffff.
 *   tetrahedral: with the fractions sorted mx >= md >= mn, the weights
 *     65536 - mx, mx - md, md - mn, mn of the nodes 000, the axis of mx, the
 *     axes of mx and md, 111; out = (sum w * node + 32768) >> 16, exact in
 *     uint32 (the weights sum to 65536).
 *   trilinear: three rounded lerps, along r, then g, then b:
 *     lerp(a, b, f) = (a * (65536 - f) + b * f + 32768) >> 16.
 *
 * Kernels never allocate, read src[0 .. w - 1] and write dst[0 .. w - 1];
 * dst may not alias src.
 */
#ifndef AIE_DSP_LUT3D_H
#define AIE_DSP_LUT3D_H

#include <stddef.h>
#include <stdint.h>

typedef struct AieLut3DTable {
    int n;
    const uint32_t *rg; /* [n^3] R | G << 16 */
    const uint32_t *b;  /* [n^3] B */
} AieLut3DTable;

#define AIE_LUT3D_FN(name)                                                                    \
    void name(uint16_t *dr, uint16_t *dg, uint16_t *db, const uint16_t *sr, const uint16_t *sg, \
              const uint16_t *sb, const AieLut3DTable *t, int w)

typedef AIE_LUT3D_FN((*AieLut3DFn));

typedef struct AieLut3DDSP {
    AieLut3DFn tetra;
    AieLut3DFn trilinear;
} AieLut3DDSP;

void aie_lut3d_dsp_init(AieLut3DDSP *dsp, unsigned cpu_flags);
void aie_lut3d_dsp_init_avx2(AieLut3DDSP *dsp);

#endif /* AIE_DSP_LUT3D_H */
