/* checkasm for lib/dsp/ssd: exact integer sums over random rows, tiny to wide,
 * unaligned, with inputs checked after the call; worst-case values too. */
#include <stdlib.h>
#include <string.h>

#include "checkasm.h"
#include "dsp/ssd.h"

static int random_width(void)
{
    switch (checkasm_rand() % 3) {
    case 0: return checkasm_rand_range(1, 40);
    case 1: return checkasm_rand_range(41, 5000);
    default: return checkasm_rand_range(5000, 16384);
    }
}

void checkasm_check_ssd(void)
{
    AieSsdDSP c, d;
    aie_ssd_dsp_init(&c, 0);
    aie_ssd_dsp_init(&d, checkasm_cpu_flags());
    enum { MAXW = 16384 + 64 };
    static uint8_t a8[MAXW], b8[MAXW], a8c[MAXW], b8c[MAXW];
    static uint16_t a16[MAXW], b16[MAXW], a16c[MAXW], b16c[MAXW];
    AieSsd8Fn ref8 = checkasm_check_func((void *)d.ssd8, "ssd8");
    if (ref8) {
        for (int it = 0; it < 200; it++) {
            int w = random_width(), off = checkasm_rand_range(0, 31);
            checkasm_randomize(a8, sizeof(a8));
            checkasm_randomize(b8, sizeof(b8));
            if (it % 10 == 0) { /* the largest differences everywhere */
                memset(a8, 255, sizeof(a8));
                memset(b8, 0, sizeof(b8));
            }
            memcpy(a8c, a8, sizeof(a8));
            memcpy(b8c, b8, sizeof(b8));
            uint64_t r = ref8(a8 + off, b8 + off, w), n = d.ssd8(a8 + off, b8 + off, w);
            if (r != n)
                checkasm_fail("w=%d off=%d: %llu != %llu", w, off, (unsigned long long)n, (unsigned long long)r);
            if (memcmp(a8, a8c, sizeof(a8)) || memcmp(b8, b8c, sizeof(b8)))
                checkasm_fail("input clobbered");
        }
        checkasm_report("ssd8");
        if (checkasm_benchmarking()) {
            uint64_t t0 = checkasm_ticks();
            volatile uint64_t sink = 0;
            for (int i = 0; i < 200; i++)
                sink += d.ssd8(a8, b8, 3840);
            uint64_t t1 = checkasm_ticks();
            (void)sink;
            checkasm_bench_report("ssd8", (double)(t1 - t0) / 200, 3840);
        }
    } else if (checkasm_benchmarking() && !checkasm_cpu_flags()) {
        uint64_t t0 = checkasm_ticks();
        volatile uint64_t sink = 0;
        for (int i = 0; i < 200; i++)
            sink += c.ssd8(a8, b8, 3840);
        (void)sink;
        checkasm_bench_report("ssd8", (double)(checkasm_ticks() - t0) / 200, 3840);
    }
    AieSsd16Fn ref16 = checkasm_check_func((void *)d.ssd16, "ssd16");
    if (ref16) {
        for (int it = 0; it < 200; it++) {
            int w = random_width(), off = checkasm_rand_range(0, 31);
            checkasm_randomize(a16, sizeof(a16));
            checkasm_randomize(b16, sizeof(b16));
            if (it % 10 == 0) {
                for (int i = 0; i < MAXW; i++) {
                    a16[i] = 65535;
                    b16[i] = 0;
                }
            }
            memcpy(a16c, a16, sizeof(a16));
            memcpy(b16c, b16, sizeof(b16));
            uint64_t r = ref16(a16 + off, b16 + off, w), n = d.ssd16(a16 + off, b16 + off, w);
            if (r != n)
                checkasm_fail("w=%d off=%d: %llu != %llu", w, off, (unsigned long long)n, (unsigned long long)r);
            if (memcmp(a16, a16c, sizeof(a16)) || memcmp(b16, b16c, sizeof(b16)))
                checkasm_fail("input clobbered");
        }
        checkasm_report("ssd16");
    }
}
