/* The body of the propagation pass, shared by the C reference and the SIMD
 * versions: include after defining PROP_NAME and PROP_DIST (the distance
 * kernel that version uses). Private to lib/dsp/patch*.c. */
static AIE_PATCH_PROP_FN(PROP_NAME)
{
    const int r = f->size / 2, tw = f->tw;
    const int ddx[4] = {step, -step, 0, 0}, ddy[4] = {0, 0, step, -step};
    const uint8_t *trow = f->tgt + (ptrdiff_t)(y - r) * f->tstride;
    const uint8_t *wsel = f->wsel + (ptrdiff_t)y * tw;
    for (int x = 0; x < tw; x++) {
        int32_t best = nnf_in[x];
        uint32_t bc = cost_in[x];
        const int32_t cand[4] = {
            x - step >= 0 ? nnf_in[x - step] : -1,
            x + step < tw ? nnf_in[x + step] : -1,
            y - step >= 0 ? nnf_in[x - (ptrdiff_t)step * tw] : -1,
            y + step < f->th ? nnf_in[x + (ptrdiff_t)step * tw] : -1,
        };
        const uint8_t *t = trow + (ptrdiff_t)(x - r) * 8;
        for (int k = 0; k < 4; k++) {
            if (cand[k] < 0)
                continue;
            int qx = AIE_PATCH_X(cand[k]) + ddx[k], qy = AIE_PATCH_Y(cand[k]) + ddy[k];
            qx = qx < 0 ? 0 : qx >= f->sw ? f->sw - 1 : qx;
            qy = qy < 0 ? 0 : qy >= f->sh ? f->sh - 1 : qy;
            const int32_t q = AIE_PATCH_Q(qx, qy);
            if (q == best)
                continue;
            const uint32_t c = PROP_DIST(t, f->tstride, f->src + (ptrdiff_t)(qy - r) * f->sstride + (ptrdiff_t)(qx - r) * 8,
                                         f->sstride, f->size, f->w[wsel[x]]);
            if (c < bc) {
                bc = c;
                best = q;
            }
        }
        nnf_out[x] = best;
        cost_out[x] = bc;
    }
}
