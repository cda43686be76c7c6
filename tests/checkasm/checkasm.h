/*
 * checkasm: tests every SIMD kernel against its C reference (dav1d style).
 *
 * The driver runs each module's test once per CPU level (c, sse4, avx2, avx512,
 * as far as the machine goes). Inside a test, checkasm_check_func(new, "name")
 * returns the C reference when `new` has not been tested at a lower level, and
 * NULL otherwise, so every distinct pointer is tested exactly once.
 */
#ifndef AIE_CHECKASM_H
#define AIE_CHECKASM_H

#include <stddef.h>
#include <stdint.h>

/* Returns the C reference of `name` if fn is new at this level, else NULL. At
 * the C level it records fn as the reference and returns NULL. */
void *checkasm_check_func(void *fn, const char *name);

/* Record a failure of the function last returned by checkasm_check_func(). */
void checkasm_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Marks the end of the checks of one function; prints its result. */
void checkasm_report(const char *name);

/* Current CPU flags (masked to the level under test). */
unsigned checkasm_cpu_flags(void);

/* Deterministic random numbers from the --seed. */
uint32_t checkasm_rand(void);
static inline int checkasm_rand_range(int lo, int hi) /* inclusive */
{
    return lo + (int)(checkasm_rand() % (uint32_t)(hi - lo + 1));
}
void checkasm_randomize(void *buf, size_t bytes);
/* A random float in [-1, 1] in steps of 1e-4; n floats on the heap (aborts
 * without memory; at least one). */
float checkasm_frand(void);
float *checkasm_floats(size_t n);

/* Nonzero when --bench was given. */
int checkasm_benchmarking(void);

/* Record a benchmark measurement: ticks per call for `name` at this level and the
 * number of output pixels per call, to print cycles per pixel and the speed-up. */
void checkasm_bench_report(const char *name, double ticks_per_call, double pixels_per_call);

/* Read the time stamp counter. */
uint64_t checkasm_ticks(void);

/* Canary helpers: a buffer with 64 guard bytes on each side. */
#define CHECKASM_GUARD 64
#define CHECKASM_CANARY 0xa5
void checkasm_canary_fill(uint8_t *buf, size_t bytes_with_guards);
int checkasm_canary_ok(const uint8_t *buf, size_t payload_bytes);

/* Module tests, one per tests/checkasm/<module>.c; weak, so a module whose
 * file is not there yet is skipped. */
#define CHECKASM_MODULES(X) X(resample) X(ssd) X(motion) X(blend) X(warp) X(conv) X(lut3d) X(look) X(raisr) X(patch) X(nntrain)
#define CHECKASM_DECLARE(name) void checkasm_check_##name(void) __attribute__((weak));
CHECKASM_MODULES(CHECKASM_DECLARE)
#undef CHECKASM_DECLARE

#endif
