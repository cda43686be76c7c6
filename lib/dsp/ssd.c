#include "aie/cpu.h"
#include "dsp/ssd.h"

static AIE_SSD8_FN(ssd8_c)
{
    uint64_t s = 0;
    for (int x = 0; x < w; x++) {
        int d = a[x] - b[x];
        s += (uint64_t)(d * d);
    }
    return s;
}

static AIE_SSD16_FN(ssd16_c)
{
    uint64_t s = 0;
    for (int x = 0; x < w; x++) {
        int64_t d = (int64_t)a[x] - b[x];
        s += (uint64_t)(d * d);
    }
    return s;
}

void aie_ssd_dsp_init(AieSsdDSP *dsp, unsigned cpu_flags)
{
    dsp->ssd8 = ssd8_c;
    dsp->ssd16 = ssd16_c;
    if (!(cpu_flags & AIE_CPU_AVX2))
        return;
    aie_ssd_dsp_init_avx2(dsp);
}
