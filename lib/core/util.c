/* Small helpers (aie/util.h). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/thread.h"
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

void aie_random_hex(char *out, int nbytes)
{
    unsigned char r[64];
    if (nbytes > 64)
        nbytes = 64;
    if (getrandom(r, (size_t)nbytes, 0) != (ssize_t)nbytes) {
        /* the time and pid through an LCG: unique enough for an id */
        unsigned long long x = (unsigned long long)aie_time_us() ^ ((unsigned long long)getpid() << 32) ^
                               (unsigned long long)time(NULL);
        for (int i = 0; i < nbytes; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
            r[i] = (unsigned char)(x >> 56);
    }
    for (int i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    out[2 * nbytes] = 0;
}

char *aie_path_absolute(const char *p)
{
    char cwd[PATH_MAX];
    if (p[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return strdup(p);
    size_t n = strlen(cwd) + strlen(p) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", cwd, p);
    return s;
}

unsigned long long aie_proc_status_bytes(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kib = 0;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, n) && line[n] == ':' && sscanf(line + n + 1, "%llu", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib << 10;
}

/* x264 reports a failed malloc as "Generic error in an external library":
 * near the limit, the name is memory whatever the library called it. */
int aie_explain_memory(int err, const char *hints, char *msg, size_t msglen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    unsigned long long peak = aie_proc_status_bytes("VmPeak"), lim = rl.rlim_cur;
    if (err != AIE_ENOMEM && peak < lim / 100 * 85)
        return 0;
    size_t at = strlen(msg);
    if (at >= msglen)
        return 0;
    snprintf(msg + at, msglen - at,
             " (%sthe run reached %llu MiB of its %llu MiB address-space limit, ulimit -v %llu: "
             "raise the limit%s%s)",
             err == AIE_ENOMEM ? "" : "memory ran out: ", peak >> 20, lim >> 20, lim >> 10,
             hints && hints[0] ? "; needing less: " : "", hints ? hints : "");
    return 1;
}

uint64_t aie_splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double aie_unif(uint64_t *s) { return (double)(aie_splitmix64(s) >> 11) / 9007199254740992.0; }

double aie_gauss(uint64_t *s)
{
    double u1 = ((double)(aie_splitmix64(s) >> 11) + 1.0) / 9007199254740993.0, u2 = aie_unif(s);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
