/* checkasm driver: --seed N, --bench, --test NAME. Prints its seed. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "aie/cpu.h"
#include "checkasm.h"

typedef struct Func {
    char name[64];
    void *ref, *last;
    double ref_ticks;
} Func;

static struct {
    Func funcs[256];
    int nfuncs;
    Func *cur;
    unsigned cpu_flags;
    const char *level;
    uint64_t rng;
    int bench, failed_here, fails, tested;
} state;

uint32_t checkasm_rand(void)
{
    /* xorshift64* */
    state.rng ^= state.rng >> 12;
    state.rng ^= state.rng << 25;
    state.rng ^= state.rng >> 27;
    return (uint32_t)((state.rng * 2685821657736338717ULL) >> 32);
}

float checkasm_frand(void) { return (float)((int)(checkasm_rand() % 20001) - 10000) / 10000.0f; }

float *checkasm_floats(size_t n)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    if (!p)
        abort();
    return p;
}

void checkasm_randomize(void *buf, size_t n)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)checkasm_rand();
}

unsigned checkasm_cpu_flags(void) { return state.cpu_flags; }
int checkasm_benchmarking(void) { return state.bench; }
uint64_t checkasm_ticks(void) { return __rdtsc(); }

void checkasm_canary_fill(uint8_t *buf, size_t n) { memset(buf, CHECKASM_CANARY, n); }

int checkasm_canary_ok(const uint8_t *buf, size_t payload)
{
    for (size_t i = 0; i < CHECKASM_GUARD; i++)
        if (buf[i] != CHECKASM_CANARY || buf[CHECKASM_GUARD + payload + i] != CHECKASM_CANARY)
            return 0;
    return 1;
}

void *checkasm_check_func(void *fn, const char *name)
{
    Func *f = NULL;
    for (int i = 0; i < state.nfuncs; i++)
        if (!strcmp(state.funcs[i].name, name))
            f = &state.funcs[i];
    if (!f) {
        if (state.nfuncs == (int)(sizeof(state.funcs) / sizeof(state.funcs[0])))
            abort();
        f = &state.funcs[state.nfuncs++];
        snprintf(f->name, sizeof(f->name), "%s", name);
        f->ref = f->last = fn;
        state.cur = f;
        return NULL; /* the C level: nothing to compare against */
    }
    if (f->last == fn)
        return NULL;
    f->last = fn;
    state.cur = f;
    state.failed_here = 0;
    state.tested++;
    return f->ref;
}

void checkasm_fail(const char *fmt, ...)
{
    if (!state.failed_here) {
        va_list ap;
        fprintf(stderr, "FAIL %s %s: ", state.level, state.cur ? state.cur->name : "?");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    state.failed_here = 1;
}

void checkasm_report(const char *name)
{
    if (state.failed_here)
        state.fails++;
    printf(" %-8s %-28s %s\n", state.level, name, state.failed_here ? "FAILED" : "ok");
    state.failed_here = 0;
}

void checkasm_bench_report(const char *name, double ticks, double pixels)
{
    Func *f = NULL;
    for (int i = 0; i < state.nfuncs; i++)
        if (!strcmp(state.funcs[i].name, name))
            f = &state.funcs[i];
    if (!f)
        return;
    if (!strcmp(state.level, "c"))
        f->ref_ticks = ticks;
    printf("   bench %-8s %-28s %8.3f cycles/px  x%.2f vs c\n", state.level, name,
           ticks / pixels, f->ref_ticks > 0 ? f->ref_ticks / ticks : 1.0);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
#define CHECKASM_ENTRY(name) {#name, checkasm_check_##name},
    CHECKASM_MODULES(CHECKASM_ENTRY)
#undef CHECKASM_ENTRY
};

int main(int argc, char **argv)
{
    uint64_t seed = (uint64_t)time(NULL);
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--bench"))
            state.bench = 1;
        else if (!strncmp(argv[i], "--seed=", 7))
            seed = strtoull(argv[i] + 7, NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strncmp(argv[i], "--test=", 7))
            only = argv[i] + 7;
        else {
            fprintf(stderr, "usage: checkasm [--seed N] [--bench] [--test=NAME]\n");
            return 2;
        }
    }
    printf("checkasm: seed %" PRIu64 "  cpu %s\n", seed, aie_cpu_name(aie_cpu_flags()));
    static const char *const levels[] = {"c", "sse4", "avx2", "avx512"};
    unsigned have = aie_cpu_flags();
    for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++) {
        unsigned mask;
        aie_cpu_parse(levels[l], &mask);
        if (l > 0 && !(have & (1u << (l - 1))))
            break;
        state.level = levels[l];
        state.cpu_flags = have & mask;
        for (size_t t = 0; t < sizeof(tests) / sizeof(tests[0]); t++) {
            if (!tests[t].fn || (only && strcmp(only, tests[t].name)))
                continue;
            state.rng = seed * 0x9E3779B97F4A7C15ULL + t + 1;
            tests[t].fn();
        }
    }
    printf("checkasm: %d SIMD functions tested, %d failed (seed %" PRIu64 ")\n", state.tested,
           state.fails, seed);
    return state.fails ? 1 : 0;
}
