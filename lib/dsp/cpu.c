#include <stdatomic.h>
#include <string.h>

#include "aie/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void)
{
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static unsigned detect(void)
{
    unsigned a, b, c, d, flags = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    int sse41 = (c >> 19) & 1, fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (sse41)
        flags |= AIE_CPU_SSE41;
    if (!osxsave || !avx)
        return flags;
    unsigned long long xcr0 = read_xcr0();
    int ymm_ok = (xcr0 & 0x6) == 0x6;
    int zmm_ok = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_max(0, NULL) < 7)
        return flags;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1;
    int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1,
        avx512vl = (b >> 31) & 1;
    if (ymm_ok && avx2 && fma)
        flags |= AIE_CPU_AVX2;
    if ((flags & AIE_CPU_AVX2) && zmm_ok && avx512f && avx512dq && avx512bw && avx512vl) {
        flags |= AIE_CPU_AVX512;
        __cpuid_count(7, 1, a, b, c, d);
        if ((a >> 5) & 1)
            flags |= AIE_CPU_AVX512BF16;
    }
    return flags;
}
#else
static unsigned detect(void) { return 0; }
#endif

unsigned aie_cpu_flags(void)
{
    /* The one-time detection cache: racing first calls compute the same value. */
    static atomic_uint cache;
    unsigned v = atomic_load_explicit(&cache, memory_order_relaxed);
    if (!(v & 0x80000000u)) {
        v = detect() | 0x80000000u;
        atomic_store_explicit(&cache, v, memory_order_relaxed);
    }
    return v & ~0x80000000u;
}

int aie_cpu_parse(const char *name, unsigned *mask)
{
    static const struct { const char *name; unsigned mask; } levels[] = {
        {"c", 0},
        {"sse4", AIE_CPU_SSE41},
        {"avx2", AIE_CPU_SSE41 | AIE_CPU_AVX2},
        {"avx512", AIE_CPU_SSE41 | AIE_CPU_AVX2 | AIE_CPU_AVX512 | AIE_CPU_AVX512BF16},
    };
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (!strcmp(name, levels[i].name)) {
            *mask = levels[i].mask;
            return 0;
        }
    return -1;
}

const char *aie_cpu_name(unsigned flags)
{
    if (flags & AIE_CPU_AVX512)
        return "avx512";
    if (flags & AIE_CPU_AVX2)
        return "avx2";
    if (flags & AIE_CPU_SSE41)
        return "sse4";
    return "c";
}
