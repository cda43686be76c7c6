/* SHA-256 through libavutil (lib/io is the only libav user). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/mem.h>
#include <libavutil/sha.h>

#include "io_internal.h"

static void to_hex(const uint8_t d[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = 0;
}

void aie_io_hash_buffer(const void *data, size_t len, char hex[65])
{
    struct AVSHA *sha = av_sha_alloc();
    uint8_t d[32] = {0};
    if (sha) {
        av_sha_init(sha, 256);
        const uint8_t *p = data;
        while (len) { /* av_sha_update takes an unsigned int length */
            unsigned n = len > (1u << 30) ? 1u << 30 : (unsigned)len;
            av_sha_update(sha, p, n);
            p += n;
            len -= n;
        }
        av_sha_final(sha, d);
        av_free(sha);
    }
    to_hex(d, hex);
}

int aie_io_hash_file(const char *path, char hex[65], char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        io_errf(err, errlen, "%s: %s", path, strerror(e));
        return aie_error_from_errno(e);
    }
    struct AVSHA *sha = av_sha_alloc();
    static const size_t bufsize = 1 << 20;
    uint8_t *buf = av_malloc(bufsize);
    int ret = 0;
    if (!sha || !buf) {
        ret = AIE_ENOMEM;
        goto done;
    }
    av_sha_init(sha, 256);
    size_t n;
    while ((n = fread(buf, 1, bufsize, f)) > 0)
        av_sha_update(sha, buf, (unsigned)n);
    if (ferror(f)) {
        io_errf(err, errlen, "%s: read error", path);
        ret = AIE_EIO;
        goto done;
    }
    uint8_t d[32];
    av_sha_final(sha, d);
    to_hex(d, hex);
done:
    av_free(buf);
    av_free(sha);
    fclose(f);
    return ret;
}
