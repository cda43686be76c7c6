/* Small arithmetic and text helpers shared by the library (lib/core/util.c). */
#ifndef AIE_UTIL_H
#define AIE_UTIL_H

#include <stdint.h>

#include "aie/frame.h"

/* Greatest common divisor of |a| and |b| (0 when both are 0). */
int64_t aie_gcd64(int64_t a, int64_t b);

/* n/d (d > 0) in lowest terms; when a term is above 10^9 both are halved
 * (rounding up) until they fit, so the result is an int rational close to n/d. */
AieRational aie_rational_reduce(int64_t n, int64_t d);

/* The value of a hexadecimal digit (0-9, a-f, A-F), -1 for anything else. */
int aie_hexval(int c);

#endif /* AIE_UTIL_H */
