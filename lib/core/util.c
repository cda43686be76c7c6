/* Small helpers (aie/util.h). */
#include "aie/util.h"

int64_t aie_gcd64(int64_t a, int64_t b)
{
    a = a < 0 ? -a : a;
    b = b < 0 ? -b : b;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

AieRational aie_rational_reduce(int64_t n, int64_t d)
{
    int64_t a = aie_gcd64(n, d);
    if (a > 1) {
        n /= a;
        d /= a;
    }
    while (n > 1000000000 || d > 1000000000) {
        n = (n + 1) / 2;
        d = (d + 1) / 2;
    }
    return (AieRational){(int)n, (int)d};
}

int aie_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
