#include <math.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "aie/quality.h"
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

double aie_frame_psnr(const AieFrame *a, const AieFrame *b, unsigned cpu_flags)
{
    if (a->width != b->width || a->height != b->height || a->layout != b->layout ||
        a->depth != b->depth)
        return NAN;
    AieSsdDSP dsp;
    aie_ssd_dsp_init(&dsp, cpu_flags);
    /* luma for YUV and gray; the mean of R, G and B for RGB(A) */
    int planes = a->layout == AIE_LAYOUT_RGB || a->layout == AIE_LAYOUT_RGBA ? 3 : 1;
    double sum = 0, n = 0;
    for (int p = 0; p < planes; p++) {
        for (int y = 0; y < a->plane_h[p]; y++) {
            const uint8_t *ra = a->data[p] + y * a->stride[p], *rb = b->data[p] + y * b->stride[p];
            sum += (double)(a->depth > 8 ? dsp.ssd16((const uint16_t *)ra, (const uint16_t *)rb, a->plane_w[p])
                                         : dsp.ssd8(ra, rb, a->plane_w[p]));
        }
        n += (double)a->plane_w[p] * a->plane_h[p];
    }
    double peak = (double)((1 << a->depth) - 1);
    double mse = sum / n;
    return mse > 0 ? 10.0 * log10(peak * peak / mse) : INFINITY;
}
