/* RAISR kernels: C reference (see raisr.h for the arithmetic). */
#include <math.h>
#include <string.h>

#include "aie/cpu.h"
#include "dsp/raisr.h"
#include "dsp/raisr_angle.h"

AIE_RAISR_TENSOR_FN(aie_raisr_tensor_c)
{
    for (int x = 0; x < w; x++) {
        int32_t sxx = 0, sxy = 0, syy = 0;
        for (int d = 0; d < 5; d++) {
            static const int32_t b[5] = {1, 4, 6, 4, 1};
            int c = x + d - 2;
            int32_t gx = (mid[c + 1] >> 6) - (mid[c - 1] >> 6);
            int32_t gy = (down[c] >> 6) - (up[c] >> 6);
            sxx += b[d] * gx * gx;
            sxy += b[d] * gx * gy;
            syy += b[d] * gy * gy;
        }
        xx[x] = sxx;
        xy[x] = sxy;
        yy[x] = syy;
    }
}

static AIE_RAISR_CLASSIFY_FN(classify_c)
{
    for (int x = 0; x < w; x++) {
        int32_t sxx = xx[0][x] + 4 * xx[1][x] + 6 * xx[2][x] + 4 * xx[3][x] + xx[4][x];
        int32_t sxy = xy[0][x] + 4 * xy[1][x] + 6 * xy[2][x] + 4 * xy[3][x] + xy[4][x];
        int32_t syy = yy[0][x] + 4 * yy[1][x] + 6 * yy[2][x] + 4 * yy[3][x] + yy[4][x];
        float a = (float)(sxx - syy), b = (float)(2 * sxy), t = (float)(sxx + syy);
        float sq = sqrtf(a * a + b * b);
        float l1 = (t + sq) * 0.5f, l2 = (t - sq) * 0.5f;
        if (l2 < 0.0f)
            l2 = 0.0f;
        float r1 = sqrtf(l1), r2 = sqrtf(l2);
        float den = r1 + r2;
        float coh = den > 0.0f ? (r1 - r2) / den : 0.0f;
        int angle = aie_raisr_angle_bin(a, b);
        int s = 0, c = 0;
        for (int i = 0; i < hp->nstrength - 1; i++)
            s += l1 > hp->strength_thr[i];
        for (int i = 0; i < hp->ncoherence - 1; i++)
            c += coh > hp->coherence_thr[i];
        bucket[x] = (uint8_t)((angle * hp->nstrength + s) * hp->ncoherence + c);
    }
}

static AIE_RAISR_FILTER_FN(filter_c)
{
    const int h = k / 2, rr = r * r;
    for (int cx = 0; cx < ncell; cx++) {
        int lo = 32767, hi = -32768;
        for (int i = h - 1; i <= h + 1; i++)
            for (int j = -1; j <= 1; j++) {
                int v = src[i][cx + j];
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        const int m = (hi - lo) >> 2;
        lo = lo - m < 0 ? 0 : lo - m;
        hi = hi + m > 16383 ? 16383 : hi + m;
        const int16_t *wb = weight + (size_t)bucket[cx] * rr * AIE_RAISR_TAPS;
        for (int ph = 0; ph < rr; ph++) {
            const int16_t *wp = wb + ph * AIE_RAISR_TAPS;
            int32_t acc = 0;
            for (int i = 0; i < 8; i++) {
                const int16_t *s = i < k ? src[i] + cx - h : NULL;
                for (int j = 0; j < 8; j++)
                    if (s)
                        acc += wp[8 * i + j] * s[j];
            }
            int v = (acc + (1 << 13)) >> 14;
            v = v < lo ? lo : v > hi ? hi : v;
            dst[ph / r][cx * r + ph % r] = (int16_t)v;
        }
    }
}

AIE_RAISR_PACK8_FN(aie_raisr_pack8_c)
{
    for (int x = 0; x < w; x++) {
        int v = (src[x] + 32) >> 6;
        dst[x] = (uint8_t)(v > 255 ? 255 : v);
    }
}

AIE_RAISR_PACK16_FN(aie_raisr_pack16_c)
{
    const int max = (1 << depth) - 1;
    if (depth <= 14) {
        const int sh = 14 - depth, half = sh ? 1 << (sh - 1) : 0;
        for (int x = 0; x < w; x++) {
            int v = (src[x] + half) >> sh;
            dst[x] = (uint16_t)(v > max ? max : v);
        }
    } else {
        const int sh = depth - 14;
        for (int x = 0; x < w; x++)
            dst[x] = (uint16_t)(src[x] << sh);
    }
}

void aie_raisr_load8(int16_t *dst, const uint8_t *src, int w)
{
    for (int x = 0; x < w; x++)
        dst[x] = (int16_t)(src[x] << 6);
    for (int x = 1; x <= AIE_RAISR_PAD; x++) {
        dst[-x] = dst[0];
        dst[w - 1 + x] = dst[w - 1];
    }
}

void aie_raisr_load16(int16_t *dst, const uint16_t *src, int w, int depth)
{
    if (depth <= 14) {
        const int sh = 14 - depth;
        for (int x = 0; x < w; x++)
            dst[x] = (int16_t)(src[x] << sh);
    } else {
        const int sh = depth - 14;
        for (int x = 0; x < w; x++)
            dst[x] = (int16_t)(src[x] >> sh);
    }
    for (int x = 1; x <= AIE_RAISR_PAD; x++) {
        dst[-x] = dst[0];
        dst[w - 1 + x] = dst[w - 1];
    }
}

void aie_raisr_dsp_init(AieRaisrDSP *dsp, unsigned cpu_flags)
{
    dsp->tensor = aie_raisr_tensor_c;
    dsp->classify = classify_c;
    dsp->filter = filter_c;
    dsp->pack8 = aie_raisr_pack8_c;
    dsp->pack16 = aie_raisr_pack16_c;
    if (cpu_flags & AIE_CPU_AVX2)
        aie_raisr_dsp_init_avx2(dsp);
    if (cpu_flags & AIE_CPU_AVX512)
        aie_raisr_dsp_init_avx512(dsp);
}
