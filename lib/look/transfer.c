/*
 * Colour transfer maths: statistics, the Monge-Kantorovich linear map (Pitie &
 * Kokaram 2007) and Reinhard et al. (2001) in l-alpha-beta.
 */
#include <math.h>
#include <string.h>

#include "aie/error.h"
#include "look/look_internal.h"

#define VAR_FLOOR 1e-5 /* variance floor (R'G'B' 0..1 units): flat sources stay finite */

int aie_transfer_parse(const char *name, AieTransfer *out)
{
    if (!strcmp(name, "mkl"))
        *out = AIE_TRANSFER_MKL;
    else if (!strcmp(name, "reinhard"))
        *out = AIE_TRANSFER_REINHARD;
    else
        return -1;
    return 0;
}

const char *aie_transfer_name(AieTransfer t)
{
    return t == AIE_TRANSFER_REINHARD ? "reinhard" : "mkl";
}

/* Reinhard's RGB -> LMS, log10, -> l-alpha-beta and back. */
static const double LMS[9] = {0.3811, 0.5783, 0.0402, 0.1967, 0.7244, 0.0782, 0.0241, 0.1288, 0.8444};
static const double LMS_INV[9] = {4.4679, -3.5873, 0.1193, -1.2186, 2.3809, -0.1624, 0.0497, -0.2439, 1.2045};

static void to_lab(const double rgb[3], double v[3])
{
    double lms[3];
    for (int i = 0; i < 3; i++) {
        double t = LMS[3 * i] * rgb[0] + LMS[3 * i + 1] * rgb[1] + LMS[3 * i + 2] * rgb[2];
        lms[i] = log10(t > 1e-4 ? t : 1e-4);
    }
    v[0] = (lms[0] + lms[1] + lms[2]) / sqrt(3.0);
    v[1] = (lms[0] + lms[1] - 2 * lms[2]) / sqrt(6.0);
    v[2] = (lms[0] - lms[1]) / sqrt(2.0);
}

static void from_lab(const double v[3], double rgb[3])
{
    double lms[3];
    lms[0] = v[0] / sqrt(3.0) + v[1] / sqrt(6.0) + v[2] / sqrt(2.0);
    lms[1] = v[0] / sqrt(3.0) + v[1] / sqrt(6.0) - v[2] / sqrt(2.0);
    lms[2] = v[0] / sqrt(3.0) - 2 * v[1] / sqrt(6.0);
    for (int i = 0; i < 3; i++)
        lms[i] = pow(10.0, lms[i]);
    for (int i = 0; i < 3; i++)
        rgb[i] = LMS_INV[3 * i] * lms[0] + LMS_INV[3 * i + 1] * lms[1] + LMS_INV[3 * i + 2] * lms[2];
}

void aie_look_stats_point(AieTransfer transfer, const double rgb[3], double v[3])
{
    if (transfer == AIE_TRANSFER_REINHARD)
        to_lab(rgb, v);
    else
        memcpy(v, rgb, 3 * sizeof(double));
}

void aie_look_stats_add(LookStats *st, const double v[3])
{
    st->n += 1;
    for (int i = 0; i < 3; i++)
        st->s[i] += v[i];
    st->ss[0] += v[0] * v[0];
    st->ss[1] += v[0] * v[1];
    st->ss[2] += v[0] * v[2];
    st->ss[3] += v[1] * v[1];
    st->ss[4] += v[1] * v[2];
    st->ss[5] += v[2] * v[2];
}

void aie_look_stats_merge(LookStats *a, const LookStats *b)
{
    a->n += b->n;
    for (int i = 0; i < 3; i++)
        a->s[i] += b->s[i];
    for (int i = 0; i < 6; i++)
        a->ss[i] += b->ss[i];
}

int aie_look_stats_moments(const LookStats *st, double mean[3], double cov[9])
{
    if (st->n <= 0)
        return -1;
    for (int i = 0; i < 3; i++)
        mean[i] = st->s[i] / st->n;
    static const int idx[3][3] = {{0, 1, 2}, {1, 3, 4}, {2, 4, 5}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            cov[3 * i + j] = st->ss[idx[i][j]] / st->n - mean[i] * mean[j];
    return 0;
}

/* Eigen-decomposition of a symmetric 3x3 matrix (cyclic Jacobi): a = V diag(e) V^T. */
static void eigen3(const double a_in[9], double e[3], double V[9])
{
    double a[9];
    memcpy(a, a_in, sizeof(a));
    for (int i = 0; i < 9; i++)
        V[i] = i % 4 == 0;
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = fabs(a[1]) + fabs(a[2]) + fabs(a[5]);
        if (off < 1e-30)
            break;
        for (int p = 0; p < 2; p++)
            for (int q = p + 1; q < 3; q++) {
                double apq = a[3 * p + q];
                if (fabs(apq) < 1e-300)
                    continue;
                double th = (a[3 * q + q] - a[3 * p + p]) / (2 * apq);
                double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < 3; k++) { /* a = J^T a J */
                    double akp = a[3 * k + p], akq = a[3 * k + q];
                    a[3 * k + p] = c * akp - s * akq;
                    a[3 * k + q] = s * akp + c * akq;
                }
                for (int k = 0; k < 3; k++) {
                    double apk = a[3 * p + k], aqk = a[3 * q + k];
                    a[3 * p + k] = c * apk - s * aqk;
                    a[3 * q + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < 3; k++) {
                    double vkp = V[3 * k + p], vkq = V[3 * k + q];
                    V[3 * k + p] = c * vkp - s * vkq;
                    V[3 * k + q] = s * vkp + c * vkq;
                }
            }
    }
    for (int i = 0; i < 3; i++)
        e[i] = a[4 * i];
}

/* V diag(f(e)) V^T */
static void sym_fn(const double a[9], double (*f)(double), double out[9])
{
    double e[3], V[9];
    eigen3(a, e, V);
    for (int i = 0; i < 3; i++)
        e[i] = f(e[i]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++)
                s += V[3 * i + k] * e[k] * V[3 * j + k];
            out[3 * i + j] = s;
        }
}

static double f_sqrt(double x) { return sqrt(x > 0 ? x : 0); }
static double f_isqrt(double x) { return 1 / sqrt(x > VAR_FLOOR ? x : VAR_FLOOR); }
static double f_sqrt_floor(double x) { return sqrt(x > VAR_FLOOR ? x : VAR_FLOOR); }

static void mul3(const double a[9], const double b[9], double out[9])
{
    double t[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            t[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
    memcpy(out, t, sizeof(t));
}

int aie_look_xform_build(LookXform *x, AieTransfer transfer, double strength, const LookStats *src,
                         const LookStats *ref)
{
    double cs[9], cr[9];
    memset(x, 0, sizeof(*x));
    x->transfer = transfer;
    x->strength = strength;
    if (aie_look_stats_moments(src, x->ms, cs) || aie_look_stats_moments(ref, x->mr, cr))
        return AIE_EINVAL;
    if (transfer == AIE_TRANSFER_REINHARD) {
        for (int i = 0; i < 3; i++) {
            double vs = cs[4 * i], vr = cr[4 * i];
            x->k[i] = sqrt(vr > 0 ? vr : 0) / sqrt(vs > VAR_FLOOR ? vs : VAR_FLOOR);
        }
        return 0;
    }
    /* T = A^-1/2 (A^1/2 B A^1/2)^1/2 A^-1/2, A = cov(src) (floored), B = cov(ref) */
    double a_h[9], a_ih[9], m[9], m_h[9];
    sym_fn(cs, f_sqrt_floor, a_h);
    sym_fn(cs, f_isqrt, a_ih);
    mul3(a_h, cr, m);
    mul3(m, a_h, m);
    for (int i = 0; i < 3; i++) /* symmetrise against rounding */
        for (int j = i + 1; j < 3; j++)
            m[3 * i + j] = m[3 * j + i] = 0.5 * (m[3 * i + j] + m[3 * j + i]);
    sym_fn(m, f_sqrt, m_h);
    mul3(a_ih, m_h, x->T);
    mul3(x->T, a_ih, x->T);
    return 0;
}

void aie_look_xform_apply(const LookXform *x, const double in[3], double out[3])
{
    double v[3];
    if (x->transfer == AIE_TRANSFER_REINHARD) {
        double lab[3];
        to_lab(in, lab);
        for (int i = 0; i < 3; i++)
            lab[i] = (lab[i] - x->ms[i]) * x->k[i] + x->mr[i];
        from_lab(lab, v);
    } else {
        double d[3] = {in[0] - x->ms[0], in[1] - x->ms[1], in[2] - x->ms[2]};
        for (int i = 0; i < 3; i++)
            v[i] = x->T[3 * i] * d[0] + x->T[3 * i + 1] * d[1] + x->T[3 * i + 2] * d[2] + x->mr[i];
    }
    for (int i = 0; i < 3; i++) {
        double o = in[i] + x->strength * (v[i] - in[i]);
        out[i] = o < 0 ? 0 : o > 1 ? 1 : o;
    }
}
