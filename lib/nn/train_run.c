/* The training loop of aie-train --net: steps, validation, checkpoints, the
 * time budget (aie/nn_train.h, aie_nnt_run). */
#include <math.h>
#include <stdio.h>

#include "aie/error.h"
#include "aie/nn_train.h"

int aie_nnt_run(AieNnTrainer *t, AiePool *pool, const AieNntRunOpts *o, char *err, size_t errlen)
{
    const AieNntParams *tp = aie_nnt_params(t);
    const double budget_us = o->budget_min * 60e6;
    const long long t_train = aie_time_us();
    const int64_t start = aie_nnt_iteration(t);
    const int ckpt = o->ckpt_every_min > 0 && o->ckpt_path;
    int64_t iters = tp->iters;
    int timed = 0, e = 0;
    long long last_ck = t_train;
    AieNntProgress pr = {.gain = NAN};
    while (aie_nnt_iteration(t) < iters) {
        const int64_t it = aie_nnt_iteration(t);
        if (o->cancel && aie_cancel_requested(o->cancel)) {
            if (ckpt && it > start && !aie_nnt_save_checkpoint(t, o->ckpt_path, err, errlen))
                aie_errf(err, errlen, "stopped at step %lld: checkpoint %s", (long long)it, o->ckpt_path);
            else
                aie_errf(err, errlen, "%s", "");
            return AIE_ECANCELLED;
        }
        const long long now = aie_time_us();
        if (budget_us > 0 && it > start) {
            /* keep room for the last validation and the save */
            const double per = (double)(now - t_train) / (double)(it - start);
            if ((double)(now - o->t0_us) + per * 2 + 2e6 >= budget_us)
                break;
            if (o->fit_schedule && it - start == 20 && !timed) {
                const double left = budget_us - (double)(now - o->t0_us);
                iters = it + (int64_t)(left / per * 0.97);
                if (iters < it + 1)
                    iters = it + 1;
                aie_nnt_set_iters(t, iters);
                timed = 1;
            }
        }
        double loss = 0;
        if ((e = aie_nnt_step(t, pool, &loss)) == AIE_ENONFINITE) {
            char cerr[AIE_ERRBUF_SIZE + 4096] = "";
            int saved = ckpt && it > start && !aie_nnt_save_checkpoint(t, o->ckpt_path, cerr, sizeof(cerr));
            aie_errf(err, errlen, "the loss or a gradient became NaN or infinite at step %lld (batch %lld); %s%s%s",
                     (long long)it + 1, (long long)it + 1,
                     saved ? "the last good weights are in the checkpoint" : "nothing written (try a lower --lr)",
                     cerr[0] ? "; " : "", cerr);
            return e;
        }
        if (e) {
            aie_errf(err, errlen, "training step: %s", aie_strerror(e));
            return e;
        }
        pr.loss_avg = it == start ? loss : 0.98 * pr.loss_avg + 0.02 * loss;
        pr.step = aie_nnt_iteration(t);
        pr.iters = iters;
        pr.validated = pr.step % o->val_steps == 0 || pr.step == iters;
        if (pr.validated) {
            double pb;
            if ((e = aie_nnt_validate(t, pool, &pr.psnr, &pb))) {
                aie_errf(err, errlen, "validation: %s", aie_strerror(e));
                return e;
            }
            pr.gain = pr.psnr - pb;
        }
        const long long now2 = aie_time_us();
        if (ckpt && (double)(now2 - last_ck) >= o->ckpt_every_min * 60e6) {
            if ((e = aie_nnt_save_checkpoint(t, o->ckpt_path, err, errlen)))
                return e;
            last_ck = now2;
        }
        const double el = (double)(now2 - t_train) / 1e6, rate = (double)(pr.step - start) / (el > 0 ? el : 1);
        pr.patches_per_s = rate * tp->batch;
        pr.eta_s = (double)(iters - pr.step) / (rate > 0 ? rate : 1);
        pr.elapsed_min = (double)(now2 - o->t0_us) / 60e6;
        if (o->progress)
            o->progress(o->opaque, &pr);
    }
    return 0;
}
