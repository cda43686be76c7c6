/*
 * CUnit suite "nn_train": CNN training (lib/nn/train*.c, aie/nn_train.h).
 *
 * Gradients: every layer kind (3x3 and 1x1 convolutions with bias, no
 * activation, ReLU, LeakyReLU, PReLU and its slopes, residual add, pixel
 * shuffle at 2x and 3x, bicubic, nearest and no skip; L1 and L2 losses)
 * against central finite differences of the loss in double precision, at
 * every CPU level. Tolerance: |analytic - numeric| <= 1e-2 * max(|a|, |n|)
 * + 3e-6 for the central difference with step 1e-2, 3e-3 or 1e-3 (one
 * weight at a time; the forward passes are float, so smaller steps drown in
 * rounding), taking only the steps that change the sign of no
 * pre-activation and (L1) of no residual, i.e. cross no kink; one patch;
 * the same check must reject the analytic gradient scaled by 1.1, and the
 * gradient of one weight changed by 10%.
 *
 * Also: the weights after several steps are bit-identical on 1 and on 2
 * threads; the loss falls and the validation gain over bicubic rises on a
 * small synthetic task; a saved network loads with aie_nn_load() and the
 * inference engine gives the trainer's output; damaged, truncated and
 * wrong-kind files are refused; a resumed checkpoint continues bit for bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aie/cpu.h"
#include "aie/error.h"
#include "aie/frame.h"
#include "aie/io.h"
#include "aie/nn.h"
#include "aie/nn_train.h"
#include "aie/thread.h"
#include "nn/train_internal.h"
#include "tests.h"

static unsigned rng = 11;
static float frnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return (float)((rng >> 8) % 20001) / 10000.0f - 1.0f;
}

static AieNntParams base_params(const AieNntArch *a, int patch, int batch, unsigned flags)
{
    AieNntParams p = {.arch = *a, .patch = patch, .batch = batch, .loss = AIE_NNT_L2, .lr = 1e-3, .iters = 1000,
                      .seed = 3, .val_patches = 4, .cpu_flags = flags, .threads = 1};
    return p;
}

/* Packed index of every real parameter of t (weights, biases, slopes). */
static size_t real_params(const AieNnTrainer *t, size_t *idx, size_t max)
{
    size_t n = 0;
    for (int j = 0; j < t->p.arch.n; j++) {
        const Conv *c = &t->cv[j];
        if (t->p.arch.l[j].op != AIE_NNT_CONV)
            continue;
        const int kk = c->k * c->k;
        for (int o = 0; o < c->cout; o++) {
            for (int i = 0; i < c->cin; i++)
                for (int q = 0; q < kk && n < max; q++)
                    idx[n++] = c->w_off + (((size_t)(o / 16) * c->cin + i) * kk + q) * 16 + o % 16;
            if (n < max)
                idx[n++] = c->b_off + o;
            if (c->act == AIE_NNT_ACT_PRELU && n < max)
                idx[n++] = c->s_off + o;
        }
    }
    return n;
}

static int close_enough(double a, double n)
{
    return fabs(a - n) <= 1e-2 * fmax(fabs(a), fabs(n)) + 3e-6;
}

/* The signs of every pre-activation and (L1) of every residual of the last
 * forward pass (one patch): a finite difference is only meaningful when its
 * step crosses no kink of ReLU, LeakyReLU, PReLU or |x|. */
static size_t signs(const AieNnTrainer *t, const float *hr, unsigned char *out)
{
    const Work *w = &t->work[0];
    const int P = t->p.patch, pp = t->pp;
    const ptrdiff_t row = (ptrdiff_t)pp * 16, plane = row * pp;
    size_t n = 0;
    for (int j = 0; j < t->p.arch.n; j++) {
        const AieNntLayer *l = &t->p.arch.l[j];
        if (l->op != AIE_NNT_CONV || l->act == AIE_NNT_ACT_NONE)
            continue;
        for (int c = 0; c < l->cout; c++)
            for (int y = 1; y <= P; y++)
                for (int x = 1; x <= P; x++)
                    out[n++] = w->z[j][(c / 16) * plane + y * row + x * 16 + c % 16] < 0.0f;
    }
    if (t->p.loss == AIE_NNT_L1)
        for (size_t i = 0; i < 3 * (size_t)t->hp * t->hp; i++)
            out[n++] = w->out[i] < hr[i];
    return n;
}

/* Finite differences on up to `count` parameters spread over all layers:
 * returns the number of mismatches between grad (perturbed by `wrong`: 0
 * none, 1 scaled by 1.1, 2 one weight off by 10%) and the numeric one. */
static int gradcheck(AieNnTrainer *t, const float *lr, const float *hr, int n, const float *grad0, int wrong,
                     int count, int *checked)
{
    size_t np, *idx = malloc(sizeof(size_t) * 100000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(idx);
    float *th = aie_nnt_theta(t, &np);
    size_t nr = real_params(t, idx, 100000);
    unsigned char *s0 = malloc(1 << 20), *s1 = malloc(1 << 20);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s0 && s1);
    double l0;
    CU_ASSERT_EQUAL(aie_nnt_loss_grad(t, NULL, lr, hr, n, &l0, NULL), 0);
    const size_t ns = signs(t, hr, s0);
    int bad = 0, done = 0;
    size_t stride = nr / (size_t)count ? nr / (size_t)count : 1;
    for (size_t k = 0; k < nr && done < count; k += stride) {
        size_t i = idx[(k * 7919) % nr];
        double g = grad0[i];
        if (wrong == 1)
            g *= 1.1;
        if (wrong == 2 && done == 3)
            g *= 1.1;
        const float save = th[i];
        double num[3];
        int valid[3], any = 0;
        for (int q = 0; q < 3; q++) {
            const float h = q == 0 ? 1e-2f : q == 1 ? 3e-3f : 1e-3f;
            double lp, lm;
            th[i] = save + h;
            aie_nnt_theta_changed(t);
            CU_ASSERT_EQUAL(aie_nnt_loss_grad(t, NULL, lr, hr, n, &lp, NULL), 0);
            valid[q] = signs(t, hr, s1) == ns && !memcmp(s0, s1, ns);
            th[i] = save - h;
            aie_nnt_theta_changed(t);
            CU_ASSERT_EQUAL(aie_nnt_loss_grad(t, NULL, lr, hr, n, &lm, NULL), 0);
            valid[q] &= signs(t, hr, s1) == ns && !memcmp(s0, s1, ns);
            th[i] = save;
            aie_nnt_theta_changed(t);
            num[q] = (lp - lm) / ((double)(save + h) - (double)(save - h));
            any |= valid[q];
        }
        if (!any)
            continue; /* a kink within the smallest step */
        if (fabs(num[0]) < 1e-5 && fabs(num[1]) < 1e-5 && fabs(num[2]) < 1e-5 && fabs(g) < 1e-5)
            continue; /* a dead unit says nothing */
        if (!(valid[0] && close_enough(g, num[0])) && !(valid[1] && close_enough(g, num[1])) &&
            !(valid[2] && close_enough(g, num[2]))) {
            bad++;
            if (!wrong)
                fprintf(stderr, "  param %zu: analytic %.6g numeric %.6g / %.6g / %.6g\n", i, g, num[0], num[1], num[2]);
        }
        done++;
    }
    *checked = done;
    free(idx);
    free(s0);
    free(s1);
    return bad;
}

static void check_arch(const AieNntArch *a, int loss, unsigned flags)
{
    const int P = 8, n = 1, r = a->scale;
    AieNntParams p = base_params(a, P, n, flags);
    p.loss = loss;
    AieNnTrainer *t = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(aie_nnt_create(&t, &p, err, sizeof(err)), 0);
    /* move the last layer away from its small start so every layer gets a sizeable gradient */
    size_t np;
    float *th = aie_nnt_theta(t, &np);
    for (size_t i = 0; i < np; i++)
        th[i] *= 1.0f + 0.3f * frnd();
    const Conv *last = &t->cv[a->n - 1];
    for (size_t i = 0; i < last->wn; i++)
        th[last->w_off + i] *= 5.0f;
    for (int j = 0; j < a->n; j++) /* biases off zero, so ReLU kinks sit elsewhere */
        if (a->l[j].op == AIE_NNT_CONV)
            for (int o = 0; o < t->cv[j].cout; o++)
                th[t->cv[j].b_off + o] = 0.05f * frnd();
    aie_nnt_theta_changed(t);
    const size_t ln = 3 * (size_t)P * P, hn = ln * r * r;
    float *lr = malloc(sizeof(float) * ln * n), *hr = malloc(sizeof(float) * hn * n), *g = malloc(sizeof(float) * np);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lr && hr && g);
    for (size_t i = 0; i < ln * n; i++)
        lr[i] = 0.5f + 0.5f * frnd();
    for (size_t i = 0; i < hn * n; i++)
        hr[i] = 0.5f + 0.5f * frnd();
    double loss0;
    CU_ASSERT_EQUAL(aie_nnt_loss_grad(t, NULL, lr, hr, n, &loss0, g), 0);
    int checked = 0, c1 = 0, c2 = 0;
    int bad = gradcheck(t, lr, hr, n, g, 0, 60, &checked);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(checked >= 30);
    /* the check has teeth */
    CU_ASSERT(gradcheck(t, lr, hr, n, g, 1, 20, &c1) >= c1 * 3 / 4);
    CU_ASSERT(gradcheck(t, lr, hr, n, g, 2, 6, &c2) >= 1);
    if (bad)
        fprintf(stderr, "  arch %s loss %d flags %x: %d of %d gradients off\n", a->name, loss, flags, bad, checked);
    free(lr);
    free(hr);
    free(g);
    aie_nnt_free(&t);
}

static AieNntArch arch_mix(int scale, int skip, int act0, int act1)
{
    AieNntArch a = {.scale = scale, .skip = skip};
    snprintf(a.name, sizeof(a.name), "test");
    a.l[a.n++] = (AieNntLayer){.op = AIE_NNT_CONV, .k = 3, .cout = 6, .act = act0, .slope = 0.2f};
    a.l[a.n++] = (AieNntLayer){.op = AIE_NNT_CONV, .k = 1, .cout = 6, .act = act1, .slope = 0.15f};
    a.l[a.n++] = (AieNntLayer){.op = AIE_NNT_CONV, .k = 3, .cout = 6, .act = AIE_NNT_ACT_PRELU, .slope = 0.25f};
    a.l[a.n++] = (AieNntLayer){.op = AIE_NNT_ADD, .cout = 6, .from = 0};
    a.l[a.n++] = (AieNntLayer){.op = AIE_NNT_CONV, .k = 3, .cout = 3 * scale * scale, .act = AIE_NNT_ACT_NONE};
    CU_ASSERT_EQUAL(aie_nnt_arch_check(&a), 0);
    return a;
}

static void test_gradients(void)
{
    const unsigned all = aie_cpu_flags();
    const unsigned levels[] = {0, AIE_CPU_AVX2 & all, all};
    for (int lv = 0; lv < 3; lv++) {
        if (lv && levels[lv] == levels[lv - 1])
            continue;
        const unsigned f = levels[lv];
        AieNntArch a = arch_mix(2, AIE_NNT_SKIP_BICUBIC, AIE_NNT_ACT_PRELU, AIE_NNT_ACT_RELU);
        check_arch(&a, AIE_NNT_L2, f);
        a = arch_mix(2, AIE_NNT_SKIP_NEAREST, AIE_NNT_ACT_LEAKY, AIE_NNT_ACT_NONE);
        check_arch(&a, AIE_NNT_L1, f);
        a = arch_mix(3, AIE_NNT_SKIP_NONE, AIE_NNT_ACT_RELU, AIE_NNT_ACT_LEAKY);
        check_arch(&a, AIE_NNT_L2, f);
        /* a named one, wider than one channel block */
        CU_ASSERT_EQUAL(aie_nnt_arch_parse(&a, "c20x2r", 2), 0);
        check_arch(&a, AIE_NNT_L2, f);
    }
}

static void test_arch_names(void)
{
    AieNntArch a;
    CU_ASSERT_EQUAL(aie_nnt_arch_parse(&a, "c32x8", 2), 0);
    CU_ASSERT_EQUAL(a.n, 9);
    /* 3*32*9 + 7*32*32*9 + 32*12*9 = 68832 per input pixel, /4 per output pixel */
    CU_ASSERT_DOUBLE_EQUAL(aie_nnt_arch_macs(&a), 68832.0 / 4, 1e-9);
    CU_ASSERT_EQUAL(aie_nnt_arch_parse(&a, "c16x4", 3), 0);
    CU_ASSERT_EQUAL(a.l[a.n - 1].cout, 27);
    CU_ASSERT_EQUAL(aie_nnt_arch_parse(&a, "c32x8r", 2), 0);
    CU_ASSERT_EQUAL(a.l[8].op, AIE_NNT_ADD);
    CU_ASSERT_EQUAL(aie_nnt_arch_parse(&a, "c32", 2), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_nnt_arch_parse(&a, "c32x8q", 2), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_nnt_arch_parse(&a, "c2x8", 2), AIE_EINVAL);
    CU_ASSERT_EQUAL(aie_nnt_arch_parse(&a, "c32x8", 5), AIE_EINVAL);
}

/* A synthetic pair: smooth waves with edges; lr is the 2x box average of hr. */
static void synth(uint8_t *lr, uint8_t *hr, int lw, int lh, int seed)
{
    const int W = lw * 2, H = lh * 2;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double v = 0.5 + 0.3 * sin(0.21 * x + 0.7 * c + seed) * cos(0.17 * y + seed) +
                           ((x + 2 * y + 5 * seed) % 23 < 9 ? 0.15 : -0.15);
                hr[((size_t)c * H + y) * W + x] = (uint8_t)(v < 0 ? 0 : v > 1 ? 255 : v * 255 + 0.5);
            }
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < lh; y++)
            for (int x = 0; x < lw; x++) {
                int s = 0;
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++)
                        s += hr[((size_t)c * H + 2 * y + i) * W + 2 * x + j];
                lr[((size_t)c * lh + y) * lw + x] = (uint8_t)((s + 2) / 4);
            }
}

static AieNnTrainer *synth_trainer(const char *arch, int threads, int batch)
{
    AieNntArch a;
    CU_ASSERT_EQUAL_FATAL(aie_nnt_arch_parse(&a, arch, 2), 0);
    AieNntParams p = base_params(&a, 16, batch, aie_cpu_flags());
    p.threads = threads;
    p.lr = 2e-3;
    p.iters = 300;
    AieNnTrainer *t = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(aie_nnt_create(&t, &p, err, sizeof(err)), 0);
    const int lw = 40, lh = 36;
    uint8_t *lr = malloc(3 * lw * lh), *hr = malloc(12 * lw * lh);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lr && hr);
    for (int i = 0; i < 4; i++) {
        synth(lr, hr, lw, lh, i);
        CU_ASSERT_EQUAL(aie_nnt_add_pair(t, lr, lw, lh, hr, i == 3), 0);
    }
    CU_ASSERT_EQUAL(aie_nnt_add_pair(t, lr, 15, 40, hr, 0), AIE_EINVAL); /* smaller than a patch */
    free(lr);
    free(hr);
    return t;
}

static void test_threads_identical(void)
{
    AiePool *pool = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_pool_create(&pool, 2), 0);
    AieNnTrainer *t1 = synth_trainer("c8x2r", 1, 5), *t2 = synth_trainer("c8x2r", 3, 5);
    for (int i = 0; i < 6; i++) {
        double l1, l2;
        CU_ASSERT_EQUAL(aie_nnt_step(t1, NULL, &l1), 0);
        CU_ASSERT_EQUAL(aie_nnt_step(t2, pool, &l2), 0);
        CU_ASSERT(l1 == l2);
    }
    size_t n1, n2;
    const float *a = aie_nnt_theta(t1, &n1), *b = aie_nnt_theta(t2, &n2);
    CU_ASSERT_EQUAL(n1, n2);
    CU_ASSERT(!memcmp(a, b, sizeof(float) * n1));
    aie_nnt_free(&t1);
    aie_nnt_free(&t2);
    aie_pool_destroy(&pool);
}

static void test_learns(void)
{
    AiePool *pool = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_pool_create(&pool, 1), 0);
    AieNnTrainer *t = synth_trainer("c8x2", 2, 8);
    double pn, pb, l0 = 0, l1 = 0, loss;
    CU_ASSERT_EQUAL(aie_nnt_validate(t, pool, &pn, &pb), 0);
    const double g0 = pn - pb;
    for (int i = 0; i < 300; i++) {
        CU_ASSERT_EQUAL_FATAL(aie_nnt_step(t, pool, &loss), 0);
        if (i < 20)
            l0 += loss;
        if (i >= 280)
            l1 += loss;
    }
    CU_ASSERT_EQUAL(aie_nnt_validate(t, pool, &pn, &pb), 0);
    CU_ASSERT(l1 < 0.8 * l0);
    CU_ASSERT(pn - pb > g0 + 0.5);
    CU_ASSERT(pn - pb > 0.5);
    if (!(l1 < 0.8 * l0) || !(pn - pb > 0.5))
        fprintf(stderr, "  loss %.3g -> %.3g, gain %.2f -> %.2f dB\n", l0 / 20, l1 / 20, g0, pn - pb);
    aie_nnt_free(&t);
    aie_pool_destroy(&pool);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(*len + 1);
    CU_ASSERT_FATAL(d && fread(d, 1, *len, f) == *len);
    fclose(f);
    return d;
}

static void write_all(const char *path, const void *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT(fwrite(d, 1, n, f) == n);
    fclose(f);
}

/* The saved network run by the inference engine equals the trainer's forward pass. */
static void test_file_roundtrip(void)
{
    AieNnTrainer *t = synth_trainer("c20x2r", 1, 2);
    double loss;
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(aie_nnt_step(t, NULL, &loss), 0);
    const char *path = tests_tmp_path("net.aienn");
    char err[512];
    CU_ASSERT_EQUAL_FATAL(aie_nnt_save(t, path, 0, "test", err, sizeof(err)), 0);
    AieNnModel *m = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_nn_load(&m, path, err, sizeof(err)), 0);
    AieNnInfo info;
    aie_nn_info(m, &info);
    CU_ASSERT_STRING_EQUAL(info.name, "c20x2r");
    CU_ASSERT_STRING_EQUAL(info.format, "aie-net");
    CU_ASSERT_EQUAL(info.scale_num, 2);
    CU_ASSERT_EQUAL(info.scale_den, 1);
    /* one patch through both */
    const int P = 16, H = 32;
    float *lr = malloc(sizeof(float) * 3 * P * P), *hr = calloc(3 * H * H, sizeof(float));
    for (int i = 0; i < 3 * P * P; i++)
        lr[i] = 0.5f + 0.5f * frnd();
    CU_ASSERT_EQUAL(aie_nnt_loss_grad(t, NULL, lr, hr, 1, &loss, NULL), 0);
    Work *w = &t->work[0];
    AieNnImage in = {P, P, 3, lr, P, P * P}, out = {H, H, 3, malloc(sizeof(float) * 3 * H * H), H, H * H};
    AieNnExec *ex = NULL;
    AieNnOpts o = {.cpu_flags = aie_cpu_flags(), .threads = 1};
    CU_ASSERT_EQUAL_FATAL(aie_nn_exec_create(&ex, m, &o), 0);
    CU_ASSERT_EQUAL(aie_nn_exec_run(ex, &in, &out, NULL, NULL), 0);
    double maxd = 0;
    for (int i = 0; i < 3 * H * H; i++)
        maxd = fmax(maxd, fabs(out.data[i] - w->out[i]));
    CU_ASSERT(maxd < 1e-4);
    if (maxd >= 1e-4)
        fprintf(stderr, "  engine vs trainer: max difference %g\n", maxd);
    aie_nn_exec_free(&ex);
    aie_nn_free(&m);
    free(out.data);
    free(lr);
    free(hr);

    /* damaged files */
    size_t len;
    uint8_t *d = read_all(path, &len);
    const char *bad = tests_tmp_path("bad.aienn");
    d[len - 100] ^= 1;
    write_all(bad, d, len);
    CU_ASSERT_EQUAL(aie_nn_load(&m, bad, err, sizeof(err)), AIE_EMODEL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "checksum"));
    d[len - 100] ^= 1;
    write_all(bad, d, len - 100);
    CU_ASSERT_EQUAL(aie_nn_load(&m, bad, err, sizeof(err)), AIE_EMODEL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated"));
    write_all(bad, d, 200);
    CU_ASSERT_EQUAL(aie_nn_load(&m, bad, err, sizeof(err)), AIE_EMODEL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated"));
    d[8] = 9; /* version */
    write_all(bad, d, len);
    CU_ASSERT_EQUAL(aie_nn_load(&m, bad, err, sizeof(err)), AIE_EMODEL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "version"));
    free(d);
    /* a weight file is not a checkpoint */
    CU_ASSERT_EQUAL(aie_nnt_resume(t, path, 0, err, sizeof(err)), AIE_EMODEL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a checkpoint"));
    aie_nnt_free(&t);
}

static void test_resume(void)
{
    AieNnTrainer *a = synth_trainer("c8x2", 1, 3), *b = synth_trainer("c8x2", 1, 3);
    double loss, pn, pb;
    char err[512];
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(aie_nnt_step(a, NULL, &loss), 0);
    CU_ASSERT_EQUAL(aie_nnt_validate(a, NULL, &pn, &pb), 0);
    const char *ck = tests_tmp_path("ck.aienn");
    CU_ASSERT_EQUAL_FATAL(aie_nnt_save_checkpoint(a, ck, err, sizeof(err)), 0);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(aie_nnt_step(a, NULL, &loss), 0);
    CU_ASSERT_EQUAL_FATAL(aie_nnt_resume(b, ck, 1, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(aie_nnt_iteration(b), 4);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(aie_nnt_step(b, NULL, &loss), 0);
    size_t n1, n2;
    const float *x = aie_nnt_theta(a, &n1), *y = aie_nnt_theta(b, &n2);
    CU_ASSERT_FATAL(n1 == n2);
    CU_ASSERT(!memcmp(x, y, sizeof(float) * n1));
    /* another architecture */
    AieNnTrainer *c = synth_trainer("c8x3", 1, 3);
    CU_ASSERT_EQUAL(aie_nnt_resume(c, ck, 1, err, sizeof(err)), AIE_EMODEL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "c8x2"));
    /* the checkpoint also loads as a model */
    AieNnModel *m = NULL;
    CU_ASSERT_EQUAL(aie_nn_load(&m, ck, err, sizeof(err)), 0);
    aie_nn_free(&m);
    aie_nnt_free(&a);
    aie_nnt_free(&b);
    aie_nnt_free(&c);
}

/* ---- the tool ---- */

static void write_png(const char *path, int w, int h, int seed)
{
    AieFrame *f = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&f, w, h, AIE_LAYOUT_RGB, 8), 0);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double v = 0.5 + 0.3 * sin(0.11 * x + 0.7 * c + seed) * cos(0.09 * y + seed) +
                           ((x + 2 * y + 5 * seed) % 31 < 12 ? 0.15 : -0.15);
                f->data[c][(ptrdiff_t)y * f->stride[c] + x] = (uint8_t)(v < 0 ? 0 : v > 1 ? 255 : v * 255 + 0.5);
            }
    char err[512];
    CU_ASSERT_EQUAL(aie_image_write_png(path, f, 8, err, sizeof(err)), 0);
    aie_frame_unref(&f);
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_cli(void)
{
    char bin[1024], dir[1024], out[4096];
    CU_ASSERT_EQUAL_FATAL(tests_suite_dirs("nn_train", bin, sizeof(bin), dir, sizeof(dir)), 0);
    const char *in = tests_path(dir, "in"), *empty = tests_path(dir, "empty"), *tiny = tests_path(dir, "tiny");
    CU_ASSERT_EQUAL(tests_sh(dir, NULL, 0, "mkdir -p in empty tiny"), 0);
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof(name), "in/p%d.png", i);
        write_png(tests_path(dir, name), 160, 128, i);
    }
    write_png(tests_path(dir, "tiny/t0.png"), 40, 40, 0);
    write_png(tests_path(dir, "tiny/t1.png"), 40, 40, 1);
    const char *net = "--net c8x2 -s 2 --patch 24 --batch 4 --val-steps 10 --no-progress";
    /* a run, then the tool upscales with it */
    int rc = tests_sh(dir, out, sizeof(out), "%s/aie-train %s --iters 30 -o n.aienn %s", bin, net, in);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "c8x2 2x network, 30 steps"));
    CU_ASSERT(tests_exists(tests_path(dir, "n.aienn")));
    CU_ASSERT(tests_exists(tests_path(dir, "n.aienn.ckpt")));
    CU_ASSERT_EQUAL(tests_sh(dir, out, sizeof(out), "%s/aie-upscale -q -s 2 --model n.aienn -i in/p0.png -o up.png", bin), 0);
    CU_ASSERT_EQUAL(atoi(tests_output("ffprobe -v error -show_entries stream=width -of csv=p=0 %s/up.png", dir)), 320);
    /* the same seed gives the same bytes on another thread count */
    CU_ASSERT_EQUAL(tests_sh(dir, out, sizeof(out), "%s/aie-train %s -j 1 --iters 30 -o n1.aienn %s", bin, net, in), 0);
    CU_ASSERT_EQUAL(tests_sh(dir, NULL, 0, "cmp -s n.aienn n1.aienn"), 0);
    /* resume: 30 + 10 steps from the checkpoint */
    rc = tests_sh(dir, out, sizeof(out), "%s/aie-train -s 2 --no-progress --resume n.aienn.ckpt --iters 40 -o r.aienn "
                  "--checkpoint r.ckpt %s", bin, in);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "40 steps"));

    /* a video: every Nth frame (YUV 4:2:0 converted to RGB), with blur and noise */
    if (tests_have_ffmpeg()) {
        CU_ASSERT_EQUAL(tests_sh(dir, NULL, 0, "ffmpeg -v error -f lavfi -i testsrc2=s=160x128:r=10 -frames:v 6 "
                                 "-pix_fmt yuv420p clip.y4m"), 0);
        rc = tests_sh(dir, out, sizeof(out), "%s/aie-train %s --every 2 --blur 0.5 --noise 2 --iters 5 -v -o v.aienn "
                      "clip.y4m", bin, net);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "clip.y4m: 3 frames"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "2 training and 1 validation"));
    } else {
        tests_skip("nn_train/cli video", "no ffmpeg");
    }

    /* a time budget stops cleanly with the best weights, long before the schedule's end */
    long long t0 = aie_time_us();
    rc = tests_sh(dir, out, sizeof(out), "%s/aie-train %s --iters 1000000 --time-budget 0.05 -o b.aienn %s", bin, net,
                  in);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(tests_exists(tests_path(dir, "b.aienn")));
    CU_ASSERT_PTR_NULL(strstr(out, "1000000 steps"));
    CU_ASSERT((aie_time_us() - t0) / 1e6 < 30);

    /* bad input: one line, exit 1, no output */
    struct {
        const char *cmd, *want;
    } bad[] = {
        {"@B/aie-train @N --iters 5 -o x.aienn empty", "no images"},
        {"@B/aie-train @N --patch 32 --iters 5 -o x.aienn tiny", "smaller than one 64x64 training patch"},
        {"@B/aie-train @N --iters 5 -o x.aienn in/p0.png", "at least 2"},
        {"@B/aie-train @N --iters 5 --resume n.aienn -o x.aienn in", "not a checkpoint"},
        {"@B/aie-train --net c16x4 -s 2 --patch 24 --no-progress --iters 5 --resume n.aienn.ckpt -o x.aienn in",
         "a checkpoint of c8x2"},
        {"@B/aie-train @N --lr 1e12 --iters 50 -o x.aienn in", "NaN or infinite at step"},
        {"@B/aie-train @N --iters 5 --resume bad.ckpt -o x.aienn in", "checksum"},
        {"@B/aie-train @N --iters 5 --resume short.ckpt -o x.aienn in", "truncated"},
        {"@B/aie-upscale -s 2 --model ./bad.ckpt -i in/p0.png -o x.png", "checksum"},
        {"@B/aie-upscale -s 2 --model ./short.ckpt -i in/p0.png -o x.png", "truncated"},
    };
    CU_ASSERT_EQUAL(tests_sh(dir, NULL, 0, "cp n.aienn.ckpt bad.ckpt && printf 'z' | dd of=bad.ckpt bs=1 seek=3000 "
                             "conv=notrunc 2>/dev/null && head -c 2000 n.aienn.ckpt > short.ckpt"), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char cmd[2048] = "";
        for (const char *q = bad[i].cmd; *q; q++) {
            const char *rep = q[0] == '@' && q[1] == 'B' ? bin : q[0] == '@' && q[1] == 'N' ? net : NULL;
            size_t l = strlen(cmd);
            if (rep) {
                snprintf(cmd + l, sizeof(cmd) - l, "%s", rep);
                q++;
            } else if (l + 1 < sizeof(cmd)) {
                cmd[l] = *q;
                cmd[l + 1] = 0;
            }
        }
        rc = tests_sh(dir, out, sizeof(out), "%s", cmd);
        CU_ASSERT_EQUAL(rc, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, bad[i].want));
        CU_ASSERT_EQUAL(lines(out), 1);
        CU_ASSERT(!tests_exists(tests_path(dir, "x.aienn")) && !tests_exists(tests_path(dir, "x.png")));
        if (rc != 1 || !strstr(out, bad[i].want) || lines(out) != 1)
            fprintf(stderr, "  case %zu: rc %d: %s\n", i, rc, out);
    }
    /* options of --net without it */
    CU_ASSERT_EQUAL(tests_sh(dir, out, sizeof(out), "%s/aie-train -s 2 --iters 5 -o x.bank in", bin), 2);
    (void)empty;
    (void)tiny;
}

int test_nn_train_register(void)
{
    CU_pSuite s = CU_add_suite("nn_train", NULL, NULL);
    if (!s || !CU_add_test(s, "architecture names and MACs", test_arch_names) ||
        !CU_add_test(s, "gradients vs finite differences", test_gradients) ||
        !CU_add_test(s, "same weights on 1 and 2 threads", test_threads_identical) ||
        !CU_add_test(s, "learns a synthetic task", test_learns) ||
        !CU_add_test(s, "saved network runs in the engine; damaged files", test_file_roundtrip) ||
        !CU_add_test(s, "checkpoint resume", test_resume) || !CU_add_test(s, "aie-train --net", test_cli))
        return -1;
    return 0;
}
