/*
 * CPU feature detection and the --cpu / AIE_CPU override.
 *
 * aie_cpu_flags() detects once (cpuid + xgetbv) and caches the result; it is the
 * library's only mutable global. Callers pass the flags (possibly masked by
 * aie_cpu_mask()) to every *_dsp_init(), so any SIMD path can be forced.
 */
#ifndef AIE_CPU_H
#define AIE_CPU_H

enum {
    AIE_CPU_SSE41 = 1 << 0,
    AIE_CPU_AVX2 = 1 << 1,      /* AVX2 + FMA3 + OS support for YMM state */
    AIE_CPU_AVX512 = 1 << 2,    /* AVX-512 F, BW, DQ, VL + OS support for ZMM state */
    AIE_CPU_AVX512BF16 = 1 << 3 /* AVX512_BF16 on top of AVX512 */
};

/* Detected flags, computed once. */
unsigned aie_cpu_flags(void);

/* Parse a level name: "c", "sse4", "avx2", "avx512". Returns the mask of flags
 * allowed at that level (all flags up to and including it), or -1 if unknown. */
int aie_cpu_parse(const char *name, unsigned *mask);

/* Name of the highest level present in flags ("c", "sse4", "avx2", "avx512"). */
const char *aie_cpu_name(unsigned flags);

#endif /* AIE_CPU_H */
