/* checkasm for lib/dsp/patch: distances, propagation passes and voting equal
 * the C references bit for bit over random guides, sizes, steps, weights and
 * fields; worst-case values (255 against 0 at weight 64) included; inputs are
 * checked after the call and outputs carry canaries. */
#include <stdlib.h>
#include <string.h>

#include "checkasm.h"
#include "dsp/patch.h"

enum { MW = 97, MH = 41, PADW = MW + 2 * AIE_PATCH_PAD };

static uint8_t tg[(MH + 2 * AIE_PATCH_PAD) * PADW * 8], sg[(MH + 2 * AIE_PATCH_PAD) * PADW * 8];
static uint8_t st[(MH + 2 * AIE_PATCH_PAD) * PADW * 4];

static void fill(int worst)
{
    checkasm_randomize(tg, sizeof(tg));
    checkasm_randomize(sg, sizeof(sg));
    checkasm_randomize(st, sizeof(st));
    if (worst) {
        memset(tg, 255, sizeof(tg));
        memset(sg, 0, sizeof(sg));
        memset(st, 255, sizeof(st));
    }
}

static void rand_w(int16_t w[8], int worst)
{
    for (int c = 0; c < 8; c++)
        w[c] = (int16_t)(worst ? AIE_PATCH_WMAX : checkasm_rand_range(0, AIE_PATCH_WMAX));
}

void checkasm_check_patch(void)
{
    AiePatchDSP c, d;
    aie_patch_dsp_init(&c, 0);
    aie_patch_dsp_init(&d, checkasm_cpu_flags());
    const ptrdiff_t gs = PADW * 8, ss = PADW * 4;
    uint8_t *t0 = tg + AIE_PATCH_PAD * gs + AIE_PATCH_PAD * 8, *s0 = sg + AIE_PATCH_PAD * gs + AIE_PATCH_PAD * 8;
    static uint8_t tc[sizeof(tg)], sc[sizeof(sg)];

    AiePatchDistFn rd = checkasm_check_func((void *)d.dist, "patch_dist");
    if (rd) {
        for (int it = 0; it < 2000; it++) {
            fill(it % 50 == 0);
            int16_t w[8];
            rand_w(w, it % 50 == 0);
            const int size = checkasm_rand_range(1, AIE_PATCH_MAX);
            const int ax = checkasm_rand_range(0, MW - size), ay = checkasm_rand_range(0, MH - size);
            const int bx = checkasm_rand_range(0, MW - size), by = checkasm_rand_range(0, MH - size);
            memcpy(tc, tg, sizeof(tg));
            memcpy(sc, sg, sizeof(sg));
            uint32_t r = rd(t0 + ay * gs + ax * 8, gs, s0 + by * gs + bx * 8, gs, size, w);
            uint32_t n = d.dist(t0 + ay * gs + ax * 8, gs, s0 + by * gs + bx * 8, gs, size, w);
            if (r != n)
                checkasm_fail("size=%d: %u != %u", size, n, r);
            if (memcmp(tg, tc, sizeof(tg)) || memcmp(sg, sc, sizeof(sg)))
                checkasm_fail("input clobbered");
        }
        checkasm_report("patch_dist");
        if (checkasm_benchmarking()) {
            int16_t w[8] = {8, 8, 8, 4, 8, 8, 8, 8};
            volatile uint32_t sink = 0;
            uint64_t a = checkasm_ticks();
            for (int i = 0; i < 20000; i++)
                sink += d.dist(t0 + (i % 30) * 8, gs, s0, gs, 5, w);
            (void)sink;
            checkasm_bench_report("patch_dist", (double)(checkasm_ticks() - a) / 20000, 1);
        }
    }

    AiePatchPropFn rp = checkasm_check_func((void *)d.prop, "patch_prop");
    if (rp) {
        static int32_t nin[MW * MH], nr[MW + 16], nn[MW + 16];
        static uint32_t cin[MW * MH], cr[MW + 16], cn[MW + 16];
        static uint8_t wsel[MW * MH];
        for (int it = 0; it < 300; it++) {
            fill(it % 50 == 0);
            AiePatchField f = {.tgt = t0, .tstride = gs, .src = s0, .sstride = gs, .wsel = wsel};
            f.size = 2 * checkasm_rand_range(0, AIE_PATCH_MAX / 2) + 1;
            const int r = f.size / 2;
            f.tw = checkasm_rand_range(1, MW - 2 * (AIE_PATCH_PAD - r));
            f.th = checkasm_rand_range(1, MH);
            f.sw = checkasm_rand_range(1, MW);
            f.sh = checkasm_rand_range(1, MH);
            for (int s = 0; s < AIE_PATCH_NW; s++)
                rand_w(f.w[s], it % 50 == 0);
            for (int i = 0; i < f.tw * f.th; i++) {
                nin[i] = AIE_PATCH_Q(checkasm_rand_range(0, f.sw - 1), checkasm_rand_range(0, f.sh - 1));
                cin[i] = checkasm_rand() >> (checkasm_rand() % 8);
                wsel[i] = (uint8_t)checkasm_rand_range(0, AIE_PATCH_NW - 1);
            }
            const int y = checkasm_rand_range(0, f.th - 1), step = 1 << checkasm_rand_range(0, 3);
            for (int i = 0; i < MW + 16; i++) {
                nr[i] = nn[i] = 0x5a5a5a5a;
                cr[i] = cn[i] = 0xa5a5a5a5u;
            }
            rp(&f, y, step, nin + y * f.tw, cin + y * f.tw, nr, cr);
            d.prop(&f, y, step, nin + y * f.tw, cin + y * f.tw, nn, cn);
            if (memcmp(nr, nn, sizeof(nr)) || memcmp(cr, cn, sizeof(cr)))
                checkasm_fail("size=%d tw=%d y=%d step=%d: fields differ (or canary)", f.size, f.tw, y, step);
        }
        checkasm_report("patch_prop");
    }

    AiePatchVoteFn rv = checkasm_check_func((void *)d.vote, "patch_vote");
    if (rv) {
        static int32_t nnf[MW];
        static uint16_t ar[4 * MW + 64], an[4 * MW + 64];
        uint8_t *st0 = st + AIE_PATCH_PAD * ss + AIE_PATCH_PAD * 4;
        for (int it = 0; it < 2000; it++) {
            fill(it % 50 == 0);
            const int n = checkasm_rand_range(1, MW), ox = checkasm_rand_range(-AIE_PATCH_PAD, AIE_PATCH_PAD),
                      oy = checkasm_rand_range(-AIE_PATCH_PAD, AIE_PATCH_PAD);
            for (int i = 0; i < n; i++)
                nnf[i] = AIE_PATCH_Q(checkasm_rand_range(0, MW - 1), checkasm_rand_range(0, MH - 1));
            for (int i = 0; i < 4 * MW + 64; i++)
                ar[i] = an[i] = (uint16_t)(it % 50 == 0 ? 48 * 255 : checkasm_rand() % 4000);
            rv(ar, st0, ss, nnf, n, ox, oy);
            d.vote(an, st0, ss, nnf, n, ox, oy);
            if (memcmp(ar, an, sizeof(ar)))
                checkasm_fail("n=%d ox=%d oy=%d: sums differ (or canary)", n, ox, oy);
        }
        checkasm_report("patch_vote");
    }
}
