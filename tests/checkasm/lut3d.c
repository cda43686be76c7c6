/*
 * checkasm for lib/dsp/lut3d: tetrahedral and trilinear kernels bit-exact with
 * C over random tables (sizes 2..65), random widths (1-7, odd, large),
 * unaligned starts, extreme inputs (0, 65535, equal fractions), with canaries
 * around the outputs and the inputs compared after each call.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checkasm.h"
#include "dsp/lut3d.h"

#define MAXW 4200
#define G (CHECKASM_GUARD / 2) /* guard in uint16 samples */

static int random_width(void)
{
    switch (checkasm_rand() % 4) {
    case 0: return checkasm_rand_range(1, 7);
    case 1: return checkasm_rand_range(8, 200) | 1;
    case 2: return checkasm_rand_range(8, 300);
    default: return checkasm_rand_range(300, 4000);
    }
}

static void check_fn(AieLut3DFn fn, AieLut3DFn ref, const char *name, uint32_t *rg, uint32_t *bt)
{
    static uint16_t src[3][MAXW], srcc[3][MAXW];
    static uint16_t out[3][MAXW + 2 * G], outr[3][MAXW + 2 * G];
    for (int it = 0; it < 300; it++) {
        int n = it < 4 ? (it == 0 ? 2 : it == 1 ? 65 : it == 2 ? 33 : 17) : checkasm_rand_range(2, 65);
        size_t nodes = (size_t)n * n * n;
        for (size_t i = 0; i < nodes; i++) {
            rg[i] = checkasm_rand();
            bt[i] = checkasm_rand() & 0xffff;
        }
        AieLut3DTable t = {n, rg, bt};
        int w = random_width(), off = checkasm_rand_range(0, 15);
        checkasm_randomize(src, sizeof(src));
        if (it % 7 == 0) /* extremes and ties */
            for (int x = 0; x < MAXW; x++) {
                uint16_t v = (uint16_t)(x % 3 == 0 ? 0 : x % 3 == 1 ? 65535 : src[0][x]);
                src[0][x] = v;
                src[1][x] = (x & 4) ? v : src[1][x];
                src[2][x] = (x & 8) ? v : src[2][x];
            }
        memcpy(srcc, src, sizeof(src));
        for (int c = 0; c < 3; c++) {
            checkasm_canary_fill((uint8_t *)out[c], sizeof(out[c]));
            checkasm_canary_fill((uint8_t *)outr[c], sizeof(outr[c]));
        }
        ref(outr[0] + G, outr[1] + G, outr[2] + G, src[0] + off, src[1] + off, src[2] + off, &t, w);
        fn(out[0] + G, out[1] + G, out[2] + G, src[0] + off, src[1] + off, src[2] + off, &t, w);
        for (int c = 0; c < 3; c++) {
            if (!checkasm_canary_ok((uint8_t *)out[c], (size_t)w * 2)) {
                checkasm_fail("n=%d w=%d: write outside the output", n, w);
                break;
            }
            if (memcmp(out[c] + G, outr[c] + G, (size_t)w * 2)) {
                int x = 0;
                while (out[c][G + x] == outr[c][G + x])
                    x++;
                checkasm_fail("n=%d w=%d off=%d channel %d x=%d: %u != %u", n, w, off, c, x, out[c][G + x],
                              outr[c][G + x]);
                break;
            }
        }
        if (memcmp(src, srcc, sizeof(src)))
            checkasm_fail("input clobbered");
    }
    if (checkasm_benchmarking()) {
        AieLut3DTable t = {33, rg, bt};
        checkasm_randomize(src, sizeof(src));
        uint64_t t0 = checkasm_ticks();
        for (int i = 0; i < 200; i++)
            fn(out[0] + G, out[1] + G, out[2] + G, src[0], src[1], src[2], &t, 1920);
        checkasm_bench_report(name, (double)(checkasm_ticks() - t0) / 200, 1920);
    }
    checkasm_report(name);
}

void checkasm_check_lut3d(void)
{
    uint32_t *rg = malloc(65 * 65 * 65 * sizeof(uint32_t)), *bt = malloc(65 * 65 * 65 * sizeof(uint32_t));
    if (!rg || !bt) {
        checkasm_fail("out of memory");
        free(rg);
        free(bt);
        return;
    }
    AieLut3DDSP d;
    aie_lut3d_dsp_init(&d, checkasm_cpu_flags());
    AieLut3DFn ref = checkasm_check_func((void *)d.tetra, "lut3d_tetra");
    if (ref)
        check_fn(d.tetra, ref, "lut3d_tetra", rg, bt);
    ref = checkasm_check_func((void *)d.trilinear, "lut3d_trilinear");
    if (ref)
        check_fn(d.trilinear, ref, "lut3d_trilinear", rg, bt);
    free(rg);
    free(bt);
}
