/* C references of the motion-estimation kernels (dsp/motion.h). */
#include "aie/cpu.h"
#include "dsp/motion.h"

static AIE_TOFLOAT8_FN(tofloat8_c)
{
    for (int x = 0; x < w; x++)
        dst[x] = (float)src[x] * scale;
}

static AIE_TOFLOAT16_FN(tofloat16_c)
{
    for (int x = 0; x < w; x++)
        dst[x] = (float)src[x] * scale;
}

static AIE_DOWN2_FN(down2_c)
{
    const float *r0 = src - stride, *r1 = src, *r2 = src + stride, *r3 = src + 2 * stride;
    for (int x = 0; x < w; x++) {
        int c = 2 * x;
        float v[4];
        for (int j = 0; j < 4; j++) {
            int k = c - 1 + j;
            v[j] = (r0[k] + r3[k]) + 3.0f * (r1[k] + r2[k]);
        }
        dst[x] = ((v[0] + v[3]) + 3.0f * (v[1] + v[2])) * (1.0f / 64.0f);
    }
}

static AIE_DIS_SUMS_FN(dis_sums_c)
{
    const float w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
    float se = 0, see = 0, sgx = 0, sgy = 0;
    for (int y = 0; y < AIE_DIS_PATCH; y++) {
        const float *a = i1 + y * stride, *b = a + stride;
        for (int x = 0; x < AIE_DIS_PATCH; x++) {
            float s = (w00 * a[x] + w01 * a[x + 1]) + (w10 * b[x] + w11 * b[x + 1]);
            float e = s - tmpl[y * AIE_DIS_PATCH + x];
            se += e;
            see += e * e;
            sgx += gx[y * AIE_DIS_PATCH + x] * e;
            sgy += gy[y * AIE_DIS_PATCH + x] * e;
        }
    }
    out[0] = se;
    out[1] = see;
    out[2] = sgx;
    out[3] = sgy;
}

void aie_motion_dsp_init(AieMotionDSP *dsp, unsigned cpu_flags)
{
    dsp->tofloat8 = tofloat8_c;
    dsp->tofloat16 = tofloat16_c;
    dsp->down2 = down2_c;
    dsp->dis_sums = dis_sums_c;
    if (!(cpu_flags & AIE_CPU_AVX2))
        return;
    aie_motion_dsp_init_avx2(dsp);
}
