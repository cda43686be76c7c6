/* RAISR internals shared by the bank, the upscaler and the trainer. */
#ifndef AIE_SR_RAISR_INTERNAL_H
#define AIE_SR_RAISR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "aie/raisr.h"
#include "dsp/raisr.h"

struct AieRaisrBank {
    AieRaisrBankInfo info;
    AieRaisrHashParams hp;
    int16_t *w;          /* kernel layout: [bucket][phase][AIE_RAISR_TAPS] */
};

/* A bank from its parameters with zero weights (info.desc etc. filled by the caller). */
int aie_raisr_bank_alloc(AieRaisrBank **out, int scale, int k, int nstrength, int ncoherence,
                         const float *strength_thr, const float *coherence_thr);

/* The strength and coherence thresholds used when a training run gives none. */
void aie_raisr_default_thresholds(int nstrength, int ncoherence, float *strength_thr, float *coherence_thr);

/* Rows of one low-resolution plane, loaded into 14-bit scale on demand, with
 * the bucket of every cell of a row. */
typedef struct RaisrRows {
    int w, h, k;
    const uint8_t *data;
    ptrdiff_t stride;
    int depth;
    const AieRaisrDSP *dsp;
    const AieRaisrHashParams *hp;
    int16_t *lr[8];
    int lr_tag[8];
    int32_t *t[3][8];
    int t_tag[8];
    uint8_t *bucket;     /* of the last prepared row */
    void *mem;
} RaisrRows;

int aie_raisr_rows_init(RaisrRows *r, const uint8_t *data, ptrdiff_t stride, int w, int h, int depth, int k,
                        const AieRaisrDSP *dsp, const AieRaisrHashParams *hp);
/* Low-resolution row y (clamped to the plane) in 14-bit scale, padded. */
const int16_t *aie_raisr_rows_lr(RaisrRows *r, int y);
/* Make r->bucket the buckets of row y and src[0..k) the rows y - k/2 .. y + k/2. */
void aie_raisr_rows_prepare(RaisrRows *r, int y, const int16_t **src);
void aie_raisr_rows_free(RaisrRows *r);

#endif
