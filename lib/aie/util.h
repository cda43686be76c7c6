/* Small arithmetic and text helpers shared by the library (lib/core/util.c). */
#ifndef AIE_UTIL_H
#define AIE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "aie/frame.h"

/* Greatest common divisor of |a| and |b| (0 when both are 0). */
int64_t aie_gcd64(int64_t a, int64_t b);

/* n/d (d > 0) in lowest terms; when a term is above 10^9 both are halved
 * (rounding up) until they fit, so the result is an int rational close to n/d. */
AieRational aie_rational_reduce(int64_t n, int64_t d);

/* The value of a hexadecimal digit (0-9, a-f, A-F), -1 for anything else. */
int aie_hexval(int c);

/* splitmix64: the next 64 random bits of state *s; aie_unif: uniform in
 * [0, 1) from 53 of them; aie_gauss: standard normal (Box-Muller, two draws).
 * Deterministic: the training noise and weights follow from a seed. */
uint64_t aie_splitmix64(uint64_t *s);
double aie_unif(uint64_t *s);
double aie_gauss(uint64_t *s);

/* 2*nbytes lowercase hex digits of random bytes (getrandom, else the time and
 * pid) and a NUL into out: run ids, batch ids. nbytes <= 64. */
void aie_random_hex(char *out, int nbytes);

/* p made absolute against the working directory (malloc'd; a copy of p when
 * it is absolute or the directory is unknown; NULL without memory). */
char *aie_path_absolute(const char *p);

/* A "Key: N kB" field of /proc/self/status (VmPeak, VmHWM, ...) in bytes, 0
 * if unknown. */
unsigned long long aie_proc_status_bytes(const char *key);

/* When a failure looks like memory running out under a finite address-space
 * limit (ulimit -v: err is AIE_ENOMEM or the process's peak came within 15 %
 * of the limit), append to msg the peak, the limit and what needs less: hints
 * is the ", "-separated list of the tool's levers ("" for none). Returns 1
 * when it appended, 0 otherwise. */
int aie_explain_memory(int err, const char *hints, char *msg, size_t msglen);

#endif /* AIE_UTIL_H */
