/* Internals of CNN training shared by lib/nn/train*.c and the tests (private). */
#ifndef AIE_NN_TRAIN_INTERNAL_H
#define AIE_NN_TRAIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "aie/nn_train.h"
#include "dsp/conv.h"
#include "dsp/nntrain.h"

typedef struct Conv {
    int cin, cout, k, act, lanes;
    float slope;
    size_t w_off, b_off, s_off; /* into theta */
    size_t wn, wtn;             /* packed sizes of W and of its transpose */
} Conv;

typedef struct Work {
    float *in;                          /* the patch, 4 lanes, padded */
    float *z[AIE_NNT_MAX_LAYERS];       /* pre-activations (= a[j] without one) */
    float *a[AIE_NNT_MAX_LAYERS];       /* layer outputs, padded */
    float *ga[AIE_NNT_MAX_LAYERS];      /* their gradients */
    float *tmp;
    float *out, *skip, *ghr;            /* [3][rP][rP] */
    float *lr, *hr;                     /* the drawn patch */
} Work;

typedef struct Pair {
    int w, h, val;
    uint8_t *lr, *hr; /* planar RGB */
} Pair;

struct AieNnTrainer {
    AieNntParams p;
    AieConvDSP conv;
    AieNnTrainDSP dsp;
    Conv cv[AIE_NNT_MAX_LAYERS];
    size_t np;               /* floats of theta */
    float *theta, *best, *m, *v, *grad, *gbuf;
    float *wt[AIE_NNT_MAX_LAYERS];
    float *zero;             /* zero biases for the input gradient */
    int *cidx;               /* bicubic skip: taps and weights of output u (both axes) */
    float *cwt;
    double *sloss;
    int *bad;
    int pp, hp;              /* padded patch side, output patch side */
    Work *work;
    int nwork;
    int64_t iter;
    double best_gain;
    int64_t best_iter;
    Pair *pairs;
    int npairs, cap, ntrain, nval;
    float *val_lr, *val_hr;
    int val_ready;
};

/* Test hooks. Loss and gradient of the mean loss of n explicit patches
 * (lr [n][3][P][P], hr [n][3][rP][rP]) at the current weights, summed as a
 * step sums them; grad gets np floats (NULL: not copied). */
int aie_nnt_loss_grad(AieNnTrainer *t, AiePool *pool, const float *lr, const float *hr, int n, double *loss,
                      float *grad);
/* The packed parameters (writable: call aie_nnt_theta_changed() after). */
float *aie_nnt_theta(AieNnTrainer *t, size_t *np);
void aie_nnt_theta_changed(AieNnTrainer *t);
/* Learning rate at step it. */
double aie_nnt_lr_at(const AieNntParams *p, int64_t it);
/* Convolution j's weights unpacked: w [cout][cin][k][k], b [cout], s [cout]
 * (PReLU slopes, zero otherwise; s may be NULL). From theta. */
void aie_nnt_unpack(const AieNnTrainer *t, int j, float *w, float *b, float *s);

#endif /* AIE_NN_TRAIN_INTERNAL_H */
