/* C references of the patch-synthesis kernels (dsp/patch.h). */
#include "aie/cpu.h"
#include "dsp/patch.h"

static AIE_PATCH_DIST_FN(dist_c)
{
    uint32_t s = 0;
    for (int y = 0; y < size; y++) {
        const uint8_t *ra = a + y * as, *rb = b + y * bs;
        for (int i = 0; i < size * 8; i++) {
            int d = ra[i] - rb[i];
            s += (uint32_t)(d * d * w[i & 7]);
        }
    }
    return s;
}

#define PROP_NAME prop_c
#define PROP_DIST dist_c
#include "dsp/patch_prop.h"

static AIE_PATCH_VOTE_FN(vote_c)
{
    for (int i = 0; i < n; i++) {
        const uint8_t *p = style + (ptrdiff_t)(AIE_PATCH_Y(nnf[i]) + oy) * stride + (ptrdiff_t)(AIE_PATCH_X(nnf[i]) + ox) * 4;
        for (int c = 0; c < 4; c++)
            acc[4 * i + c] = (uint16_t)(acc[4 * i + c] + p[c]);
    }
}

void aie_patch_dsp_init(AiePatchDSP *dsp, unsigned cpu_flags)
{
    dsp->dist = dist_c;
    dsp->prop = prop_c;
    dsp->vote = vote_c;
    if (!(cpu_flags & AIE_CPU_AVX2))
        return;
    aie_patch_dsp_init_avx2(dsp);
}
