/* C references of the motion-estimation kernels (dsp/motion.h). */
#include <math.h>

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

#define DOWN2_INT_BODY                                                                         \
    for (int x = 0; x < w; x++) {                                                              \
        float v[4];                                                                            \
        for (int j = 0; j < 4; j++) {                                                          \
            int c = 2 * x - 1 + j;                                                             \
            c = c < 0 ? 0 : c > sw - 1 ? sw - 1 : c;                                           \
            v[j] = ((float)r0[c] + (float)r3[c]) + 3.0f * ((float)r1[c] + (float)r2[c]);       \
        }                                                                                      \
        dst[x] = ((v[0] + v[3]) + 3.0f * (v[1] + v[2])) * k;                                   \
    }

static AIE_DOWN2_8_FN(down2_8_c) { DOWN2_INT_BODY }
static AIE_DOWN2_16_FN(down2_16_c) { DOWN2_INT_BODY }

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

static AIE_DIS_PREP_FN(dis_prep_c)
{
    float sgx = 0, sgy = 0, hxx = 0, hxy = 0, hyy = 0, su = 0, sv = 0;
    for (int y = 0; y < AIE_DIS_PATCH; y++) {
        const float *r = i0 + y * stride, *ru = u + y * fstride, *rv = v + y * fstride;
        for (int x = 0; x < AIE_DIS_PATCH; x++) {
            float dx = 0.5f * (r[x + 1] - r[x - 1]);
            float dy = 0.5f * (r[x + stride] - r[x - stride]);
            tmpl[y * AIE_DIS_PATCH + x] = r[x];
            gx[y * AIE_DIS_PATCH + x] = dx;
            gy[y * AIE_DIS_PATCH + x] = dy;
            sgx += dx;
            sgy += dy;
            hxx += dx * dx;
            hxy += dx * dy;
            hyy += dy * dy;
            su += ru[x];
            sv += rv[x];
        }
    }
    out[0] = sgx;
    out[1] = sgy;
    out[2] = hxx;
    out[3] = hxy;
    out[4] = hyy;
    out[5] = su;
    out[6] = sv;
}

static AIE_DENSIFY_FN(densify_c)
{
    for (int i = 0; i < n; i++) {
        float X = (float)px[i] + pu[i], Y = (float)y + pv[i];
        float fx0 = floorf(X), fy0 = floorf(Y);
        int ix = (int)fx0, iy = (int)fy0;
        float fx = X - fx0, fy = Y - fy0;
        const float w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
        const float *a = i1 + iy * stride + ix, *b = a + stride, *r = i0 + px[i];
        float *ou = su + px[i], *ov = sv + px[i], *ow = sw + px[i];
        for (int k = 0; k < AIE_DIS_PATCH; k++) {
            float s = (w00 * a[k] + w01 * a[k + 1]) + (w10 * b[k] + w11 * b[k + 1]);
            float d = fabsf(s - r[k]);
            float wt = 1.0f / (d > 1.0f ? d : 1.0f);
            ou[k] += wt * pu[i];
            ov[k] += wt * pv[i];
            ow[k] += wt;
        }
    }
}

AIE_UP2_FN(aie_motion_up2_c)
{
    for (int x = 0; x < w; x++) {
        int k = x >> 1, o = x & 1 ? 1 : -1;
        float m0 = 0.75f * near[k] + 0.25f * far[k];
        float m1 = 0.75f * near[k + o] + 0.25f * far[k + o];
        dst[x] = x & 1 ? 1.5f * m0 + 0.5f * m1 : 0.5f * m1 + 1.5f * m0;
    }
}

AIE_VAR_SMOOTH_FN(aie_motion_var_smooth_c)
{
    for (int x = 0; x < w; x++) {
        float ux = 0, vx = 0;
        if (x + 1 < w) {
            ux = u[x + 1] - u[x];
            vx = v[x + 1] - v[x];
        }
        float uy = ud[x] - u[x], vy = vd[x] - v[x];
        float wt = k[2] / sqrtf(((ux * ux + vx * vx) + (uy * uy + vy * vy)) + k[3]);
        sx[x] = x + 1 < w ? wt : 0.0f;
        sy[x] = last ? 0.0f : wt;
    }
}

AIE_VAR_PREPARE_FN(aie_motion_var_prepare_c)
{
    const ptrdiff_t s = stride;
    for (int x = 0; x < w; x++) {
        const float *r = i0 + x, *q = iw + x;
        float i0x = 0.5f * (r[1] - r[-1]), i0y = 0.5f * (r[s] - r[-s]);
        float i1x = 0.5f * (q[1] - q[-1]), i1y = 0.5f * (q[s] - q[-s]);
        float ixx = (q[1] + q[-1]) - 2.0f * q[0];
        float iyy = (q[s] + q[-s]) - 2.0f * q[0];
        float ixy = 0.25f * ((q[s + 1] - q[s - 1]) - (q[-s + 1] - q[-s - 1]));
        float ix = 0.5f * (i1x + i0x), iy = 0.5f * (i1y + i0y);
        float iz = q[0] - r[0];
        float ixz = i1x - i0x, iyz = i1y - i0y;
        float pb = k[0] / sqrtf(iz * iz + k[3]);
        float pg = k[1] / sqrtf((ixz * ixz + iyz * iyz) + k[3]);
        pb = pb / ((ix * ix + iy * iy) + k[4]);
        pg = pg / (((ixx * ixx + ixy * ixy) + iyy * iyy) + k[4]);
        float a11 = pb * (ix * ix) + pg * (ixx * ixx + ixy * ixy);
        float a12v = pb * (ix * iy) + pg * (ixx * ixy + ixy * iyy);
        float a22 = pb * (iy * iy) + pg * (ixy * ixy + iyy * iyy);
        float b1v = -(pb * (ix * iz) + pg * (ixx * ixz + ixy * iyz));
        float b2v = -(pb * (iy * iz) + pg * (ixy * ixz + iyy * iyz));
        /* smoothness toward the neighbours' flow (du, dv start at 0) */
        float wl = sx[x - 1], wr = sx[x], wu = sy[x - s], wd = sy[x];
        float sw = (wl + wr) + (wu + wd);
        float u0 = u[x], v0 = v[x];
        float cu = (wl * (u[x - 1] - u0) + wr * (u[x + 1] - u0)) +
                   (wu * (u[x - s] - u0) + wd * (u[x + s] - u0));
        float cv = (wl * (v[x - 1] - v0) + wr * (v[x + 1] - v0)) +
                   (wu * (v[x - s] - v0) + wd * (v[x + s] - v0));
        a12[x] = a12v;
        b1[x] = b1v + cu;
        b2[x] = b2v + cv;
        ia11[x] = 1.0f / ((a11 + sw) + 1e-9f);
        ia22[x] = 1.0f / ((a22 + sw) + 1e-9f);
    }
}

AIE_VAR_SOR_FN(aie_motion_var_sor_c)
{
    const ptrdiff_t s = stride;
    for (int x = parity; x < w; x += 2) {
        float wl = sx[x - 1], wr = sx[x], wu = sy[x - s], wd = sy[x];
        float nu = (b1[x] - a12[x] * dv[x] +
                    ((wl * du[x - 1] + wr * du[x + 1]) + (wu * du[x - s] + wd * du[x + s]))) *
                   ia11[x];
        du[x] = du[x] + omega * (nu - du[x]);
        float nv = (b2[x] - a12[x] * du[x] +
                    ((wl * dv[x - 1] + wr * dv[x + 1]) + (wu * dv[x - s] + wd * dv[x + s]))) *
                   ia22[x];
        dv[x] = dv[x] + omega * (nv - dv[x]);
    }
}

void aie_motion_dsp_init(AieMotionDSP *dsp, unsigned cpu_flags)
{
    dsp->tofloat8 = tofloat8_c;
    dsp->tofloat16 = tofloat16_c;
    dsp->down2 = down2_c;
    dsp->down2_8 = down2_8_c;
    dsp->down2_16 = down2_16_c;
    dsp->dis_sums = dis_sums_c;
    dsp->dis_prep = dis_prep_c;
    dsp->densify = densify_c;
    dsp->up2 = aie_motion_up2_c;
    dsp->var_smooth = aie_motion_var_smooth_c;
    dsp->var_prepare = aie_motion_var_prepare_c;
    dsp->var_sor = aie_motion_var_sor_c;
#if defined(__x86_64__) || defined(__i386__)
    if (!(cpu_flags & AIE_CPU_AVX2))
        return;
    aie_motion_dsp_init_avx2(dsp);
    if (!(cpu_flags & AIE_CPU_AVX512))
        return;
    aie_motion_dsp_init_avx512(dsp);
#else
    (void)cpu_flags;
#endif
}
