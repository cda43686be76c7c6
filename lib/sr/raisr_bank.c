/*
 * RAISR filter-bank files.
 *
 * Version 1, all integers little-endian:
 *   0    8  magic "AIERAISR"
 *   8    4  version (1)
 *   12   4  scale (2, 3, 4)
 *   16   4  k (3, 5, 7)
 *   20   4  angle bins (24)
 *   24   4  strength bins (1..8)
 *   28   4  coherence bins (1..8)
 *   32  28  strength thresholds, 7 x float32 (unused ones 0)
 *   60  28  coherence thresholds, 7 x float32
 *   88   8  training samples (int64)
 *   96   8  buckets that fell back to the per-phase filter (int64)
 *   104 256 description, NUL-padded
 *   360     weights: buckets x scale^2 phases x k x k int16 (Q14), bucket
 *           major, then phase (py * scale + px), then row, then column
 *   end  64 SHA-256 of everything before, lowercase hex
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "sr/raisr_internal.h"

#define HEADER_SIZE 360
#define TRAILER_SIZE 64
#define MAX_FILE (64u << 20)

void aie_raisr_default_thresholds(int nstrength, int ncoherence, float *strength_thr, float *coherence_thr)
{
    /* 3 bins: set by hand (8-bit slopes of about 2.4 and 7.6 levels per
     * pixel); a third and three times these, and coherence edges 0.15/0.35,
     * scored within 0.02 dB of them on the benchmark photos. Other bin counts:
     * geometric spacing over about the same range. l1 is in units of (8-bit
     * central difference)^2 x 256 (the binomial window's weight). */
    static const float s3[2] = {6000.0f, 60000.0f};
    static const float c3[2] = {0.25f, 0.5f};
    for (int i = 0; i < nstrength - 1; i++)
        strength_thr[i] = nstrength == 3 ? s3[i] : 2000.0f * powf(100.0f, (float)(i + 1) / (float)nstrength);
    for (int i = 0; i < ncoherence - 1; i++)
        coherence_thr[i] = ncoherence == 3 ? c3[i] : (float)(i + 1) / (float)ncoherence;
}

int aie_raisr_bank_alloc(AieRaisrBank **out, int scale, int k, int nstrength, int ncoherence,
                         const float *strength_thr, const float *coherence_thr)
{
    *out = NULL;
    if (scale < 2 || scale > 4 || k < 3 || k > 7 || !(k & 1) || nstrength < 1 ||
        nstrength > AIE_RAISR_MAX_THR + 1 || ncoherence < 1 || ncoherence > AIE_RAISR_MAX_THR + 1 ||
        nstrength * ncoherence > AIE_RAISR_MAX_BINS)
        return AIE_EINVAL;
    AieRaisrBank *b = calloc(1, sizeof(*b));
    if (!b)
        return AIE_ENOMEM;
    b->info.version = AIE_RAISR_BANK_VERSION;
    b->info.scale = scale;
    b->info.k = k;
    b->info.nangle = AIE_RAISR_ANGLES;
    b->info.nstrength = nstrength;
    b->info.ncoherence = ncoherence;
    b->info.buckets = AIE_RAISR_ANGLES * nstrength * ncoherence;
    b->hp.nstrength = nstrength;
    b->hp.ncoherence = ncoherence;
    for (int i = 0; i < nstrength - 1; i++)
        b->info.strength_thr[i] = b->hp.strength_thr[i] = strength_thr[i];
    for (int i = 0; i < ncoherence - 1; i++)
        b->info.coherence_thr[i] = b->hp.coherence_thr[i] = coherence_thr[i];
    size_t n = (size_t)b->info.buckets * (size_t)(scale * scale) * AIE_RAISR_TAPS;
    b->w = aligned_alloc(64, n * sizeof(int16_t));
    if (!b->w) {
        free(b);
        return AIE_ENOMEM;
    }
    memset(b->w, 0, n * sizeof(int16_t));
    *out = b;
    return 0;
}

void aie_raisr_bank_free(AieRaisrBank **pb)
{
    if (!pb || !*pb)
        return;
    free((*pb)->w);
    free(*pb);
    *pb = NULL;
}

static size_t weights_count(const AieRaisrBankInfo *i)
{
    return (size_t)i->buckets * (size_t)(i->scale * i->scale) * (size_t)(i->k * i->k);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }
static void putf(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put32(p, v);
}
static float getf(const uint8_t *p)
{
    uint32_t v = get32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

int aie_raisr_bank_weight(const AieRaisrBank *b, int bucket, int phase, int i, int j)
{
    return b->w[((size_t)bucket * (size_t)(b->info.scale * b->info.scale) + (size_t)phase) * AIE_RAISR_TAPS +
                (size_t)(8 * i + j)];
}

void aie_raisr_bank_info(const AieRaisrBank *b, AieRaisrBankInfo *info)
{
    *info = b->info;
    info->file_size = HEADER_SIZE + weights_count(&b->info) * 2 + TRAILER_SIZE;
}

int aie_raisr_bank_serialize(const AieRaisrBank *b, uint8_t **data, size_t *size)
{
    const AieRaisrBankInfo *in = &b->info;
    size_t n = weights_count(in), total = HEADER_SIZE + 2 * n + TRAILER_SIZE;
    uint8_t *p = calloc(1, total);
    if (!p)
        return AIE_ENOMEM;
    memcpy(p, "AIERAISR", 8); /* NOLINT(bugprone-not-null-terminated-result): 8 magic bytes, not a string */
    put32(p + 8, AIE_RAISR_BANK_VERSION);
    put32(p + 12, (uint32_t)in->scale);
    put32(p + 16, (uint32_t)in->k);
    put32(p + 20, (uint32_t)in->nangle);
    put32(p + 24, (uint32_t)in->nstrength);
    put32(p + 28, (uint32_t)in->ncoherence);
    for (int i = 0; i < 7; i++) {
        putf(p + 32 + 4 * i, i < in->nstrength - 1 ? in->strength_thr[i] : 0.0f);
        putf(p + 60 + 4 * i, i < in->ncoherence - 1 ? in->coherence_thr[i] : 0.0f);
    }
    put64(p + 88, (uint64_t)in->samples);
    put64(p + 96, (uint64_t)in->fallback);
    memcpy(p + 104, in->desc, strnlen(in->desc, AIE_RAISR_DESC_SIZE - 1));
    uint8_t *q = p + HEADER_SIZE;
    const int rr = in->scale * in->scale, k = in->k;
    for (int bk = 0; bk < in->buckets; bk++)
        for (int ph = 0; ph < rr; ph++)
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++) {
                    uint16_t v = (uint16_t)aie_raisr_bank_weight(b, bk, ph, i, j);
                    *q++ = (uint8_t)v;
                    *q++ = (uint8_t)(v >> 8);
                }
    char hex[65];
    aie_sha256_hex(p, HEADER_SIZE + 2 * n, hex);
    memcpy(p + HEADER_SIZE + 2 * n, hex, 64);
    *data = p;
    *size = total;
    return 0;
}

int aie_raisr_bank_parse(AieRaisrBank **out, const void *data, size_t size, char *err, size_t errlen)
{
    *out = NULL;
    const uint8_t *p = data;
    if (size < HEADER_SIZE + TRAILER_SIZE || memcmp(p, "AIERAISR", 8)) {
        aie_errf(err, errlen, size >= 8 && !memcmp(p, "AIERAISR", 8) ? "truncated filter bank (%zu bytes)"
                                                               : "not an aie filter bank (%zu bytes)", size);
        return AIE_EINVAL;
    }
    uint32_t version = get32(p + 8);
    if (version != AIE_RAISR_BANK_VERSION) {
        aie_errf(err, errlen, "filter bank version %u; this aie reads version %d", version, AIE_RAISR_BANK_VERSION);
        return AIE_EINVAL;
    }
    uint32_t scale = get32(p + 12), k = get32(p + 16), na = get32(p + 20), ns = get32(p + 24), nc = get32(p + 28);
    if (scale < 2 || scale > 4 || k < 3 || k > 7 || !(k & 1) || na != AIE_RAISR_ANGLES || ns < 1 ||
        ns > AIE_RAISR_MAX_THR + 1 || nc < 1 || nc > AIE_RAISR_MAX_THR + 1 || ns * nc > AIE_RAISR_MAX_BINS) {
        aie_errf(err, errlen, "corrupt filter bank header (scale %u, kernel %u, bins %u x %u x %u)", scale, k, na, ns, nc);
        return AIE_EINVAL;
    }
    float st[7], ct[7];
    for (int i = 0; i < 7; i++) {
        st[i] = getf(p + 32 + 4 * i);
        ct[i] = getf(p + 60 + 4 * i);
    }
    for (uint32_t i = 0; i + 1 < ns; i++)
        if (!isfinite(st[i]) || st[i] < 0 || (i && !(st[i] > st[i - 1]))) {
            aie_errf(err, errlen, "corrupt filter bank: strength thresholds are not ascending");
            return AIE_EINVAL;
        }
    for (uint32_t i = 0; i + 1 < nc; i++)
        if (!isfinite(ct[i]) || ct[i] < 0 || ct[i] > 1 || (i && !(ct[i] > ct[i - 1]))) {
            aie_errf(err, errlen, "corrupt filter bank: coherence thresholds are not ascending in 0..1");
            return AIE_EINVAL;
        }
    AieRaisrBankInfo tmp = {.scale = (int)scale, .k = (int)k, .buckets = (int)(na * ns * nc)};
    size_t n = weights_count(&tmp), want = HEADER_SIZE + 2 * n + TRAILER_SIZE;
    if (size != want) {
        aie_errf(err, errlen, "%s filter bank: %zu bytes, expected %zu", size < want ? "truncated" : "corrupt", size, want);
        return AIE_EINVAL;
    }
    char hex[65];
    aie_sha256_hex(p, HEADER_SIZE + 2 * n, hex);
    if (memcmp(hex, p + HEADER_SIZE + 2 * n, 64)) {
        aie_errf(err, errlen, "corrupt filter bank: checksum mismatch");
        return AIE_EINVAL;
    }
    AieRaisrBank *b;
    int e = aie_raisr_bank_alloc(&b, (int)scale, (int)k, (int)ns, (int)nc, st, ct);
    if (e)
        return e;
    b->info.samples = (int64_t)get64(p + 88);
    b->info.fallback = (int64_t)get64(p + 96);
    memcpy(b->info.desc, p + 104, AIE_RAISR_DESC_SIZE - 1);
    b->info.desc[AIE_RAISR_DESC_SIZE - 1] = 0;
    for (char *c = b->info.desc; *c; c++) /* printable in listings */
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = ' ';
    const uint8_t *q = p + HEADER_SIZE;
    const int rr = (int)(scale * scale);
    for (int bk = 0; bk < b->info.buckets; bk++)
        for (int ph = 0; ph < rr; ph++) {
            int16_t *w = b->w + ((size_t)bk * (size_t)rr + (size_t)ph) * AIE_RAISR_TAPS;
            int sum_abs = 0;
            for (uint32_t i = 0; i < k; i++)
                for (uint32_t j = 0; j < k; j++, q += 2) {
                    int16_t v = (int16_t)(uint16_t)(q[0] | q[1] << 8);
                    if (v == INT16_MIN) {
                        sum_abs = 1 << 30;
                        break;
                    }
                    w[8 * i + j] = v;
                    sum_abs += v < 0 ? -v : v;
                }
            if (sum_abs >= 8 << 14) {
                aie_errf(err, errlen, "corrupt filter bank: weights of bucket %d phase %d out of range", bk, ph);
                aie_raisr_bank_free(&b);
                return AIE_EINVAL;
            }
        }
    *out = b;
    return 0;
}

int aie_raisr_bank_load(AieRaisrBank **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = NULL;
    int oe = aie_fs_open_regular(path, &f, err, errlen);
    if (oe)
        return oe;
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)MAX_FILE) {
        aie_errf(err, errlen, "%s: not a filter bank (%s)", path,
            S_ISDIR(st.st_mode) ? "a directory" : "not a regular file of at most 64 MiB");
        fclose(f);
        return AIE_EINVAL;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        fclose(f);
        return AIE_ENOMEM;
    }
    size_t got = fread(buf, 1, size, f);
    int rerr = ferror(f);
    fclose(f);
    if (rerr || got != size) {
        aie_errf(err, errlen, "%s: read error", path);
        free(buf);
        return AIE_EIO;
    }
    char why[256];
    int e = aie_raisr_bank_parse(out, buf, size, why, sizeof(why));
    free(buf);
    if (e)
        aie_errf(err, errlen, "%s: %s", path, e == AIE_ENOMEM ? "out of memory" : why);
    return e;
}

int aie_raisr_bank_save(const AieRaisrBank *b, const char *path, char *err, size_t errlen)
{
    uint8_t *data;
    size_t size;
    int e = aie_raisr_bank_serialize(b, &data, &size);
    if (e) {
        aie_errf(err, errlen, "%s: out of memory", path);
        return e;
    }
    AieOutFile *of;
    FILE *fp;
    if ((e = aie_outfile_open(&of, path, NULL, 0, 0, &fp, err, errlen))) {
        free(data);
        return e;
    }
    if (fwrite(data, 1, size, fp) != size) {
        int en = errno;
        aie_errf(err, errlen, "%s: %s", path, strerror(en));
        aie_outfile_abort(&of);
        free(data);
        return aie_error_from_errno(en);
    }
    free(data);
    return aie_outfile_commit(&of, err, errlen);
}

/* The built-in banks (raisr_builtin.c embeds the committed files). */
extern const uint8_t aie_raisr_builtin_x2[], aie_raisr_builtin_x3[], aie_raisr_builtin_x4[];
extern const uint64_t aie_raisr_builtin_x2_size, aie_raisr_builtin_x3_size, aie_raisr_builtin_x4_size;

int aie_raisr_bank_builtin(AieRaisrBank **out, int scale)
{
    *out = NULL;
    const uint8_t *data = scale == 2 ? aie_raisr_builtin_x2 : scale == 3 ? aie_raisr_builtin_x3
                        : scale == 4 ? aie_raisr_builtin_x4 : NULL;
    uint64_t size = scale == 2 ? aie_raisr_builtin_x2_size : scale == 3 ? aie_raisr_builtin_x3_size
                  : scale == 4 ? aie_raisr_builtin_x4_size : 0;
    if (!data || !size)
        return AIE_ENOENT;
    char err[256];
    return aie_raisr_bank_parse(out, data, (size_t)size, err, sizeof(err)) == 0 ? 0 : AIE_EMODEL;
}
