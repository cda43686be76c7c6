/* .cube LUT parser and double-precision evaluation (see aie/look.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "look/look_internal.h"

static int fail(char *err, size_t errlen, long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, long line, const char *fmt, ...)
{
    if (err && errlen) {
        int k = snprintf(err, errlen, "line %ld: ", line);
        if (k >= 0 && (size_t)k < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return AIE_EFORMAT;
}

/* Largest magnitude of a domain bound, and 1 / the narrowest domain. */
#define DOMAIN_LIMIT 1e9

/* Parse up to max doubles from s; returns the count, -1 on a bad token. */
static int numbers(const char *s, double *v, int max)
{
    int n = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            return n;
        if (n == max)
            return -1;
        char *end;
        errno = 0;
        double d = strtod(s, &end);
        if (end == s || (*end && *end != ' ' && *end != '\t') || !isfinite(d))
            return -1;
        v[n++] = d;
        s = end;
    }
}

static int keyword_is(const char *s, const char *kw, const char **rest)
{
    size_t l = strlen(kw);
    if (strncmp(s, kw, l) || (s[l] && s[l] != ' ' && s[l] != '\t'))
        return 0;
    *rest = s + l;
    return 1;
}

int aie_lut_parse(AieLut **out, const char *text, size_t len, char *err, size_t errlen)
{
    if (!out || (!text && len))
        return AIE_EINVAL;
    *out = NULL;
    if (err && errlen)
        err[0] = 0;
    AieLut *l = calloc(1, sizeof(*l));
    char *line = malloc(4096);
    int ret = 0;
    if (!l || !line) {
        ret = AIE_ENOMEM;
        goto fail;
    }
    for (int c = 0; c < 3; c++) {
        l->dmin[c] = 0;
        l->dmax[c] = 1;
    }
    long lineno = 0, expect = 0, got = 0, last_line = 0;
    size_t pos = 0;
    while (pos < len) {
        size_t e = pos;
        while (e < len && text[e] != '\n')
            e++;
        lineno++;
        size_t n = e - pos;
        if (n >= 4096) {
            ret = fail(err, errlen, lineno, "line too long");
            goto fail;
        }
        memcpy(line, text + pos, n);
        line[n] = 0;
        pos = e + 1;
        if (memchr(line, 0, n)) {
            ret = fail(err, errlen, lineno, "binary data (NUL byte)");
            goto fail;
        }
        /* strip comments, CR and surrounding blanks */
        char *s = line;
        char *hash = strchr(s, '#');
        if (hash && !(strncmp(s, "TITLE", 5) == 0 && strchr(s, '"') && strchr(s, '"') < hash))
            *hash = 0;
        size_t k = strlen(s);
        while (k && (s[k - 1] == '\r' || s[k - 1] == ' ' || s[k - 1] == '\t'))
            s[--k] = 0;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            continue;
        const char *rest;
        double v[3];
        if (isalpha((unsigned char)*s)) {
            if (got) {
                ret = fail(err, errlen, lineno, "keyword after the table entries");
                goto fail;
            }
            if (keyword_is(s, "TITLE", &rest)) {
                while (*rest == ' ' || *rest == '\t')
                    rest++;
                const char *q = rest;
                size_t tl = strlen(q);
                if (tl >= 2 && q[0] == '"' && q[tl - 1] == '"') {
                    q++;
                    tl -= 2;
                }
                if (tl >= sizeof(l->title))
                    tl = sizeof(l->title) - 1;
                memcpy(l->title, q, tl);
                l->title[tl] = 0;
            } else if (keyword_is(s, "LUT_3D_SIZE", &rest) || keyword_is(s, "LUT_1D_SIZE", &rest)) {
                int dims = s[4] == '3' ? 3 : 1;
                if (l->dims) {
                    ret = fail(err, errlen, lineno, "a second LUT size (only one 1D or one 3D table per file)");
                    goto fail;
                }
                if (numbers(rest, v, 1) != 1 || v[0] != floor(v[0])) {
                    ret = fail(err, errlen, lineno, "expected one integer size");
                    goto fail;
                }
                int maxs = dims == 3 ? AIE_LUT3D_MAX : AIE_LUT1D_MAX;
                if (v[0] < AIE_LUT3D_MIN || v[0] > maxs) {
                    ret = fail(err, errlen, lineno, "size %g is out of range (%d to %d)", v[0], AIE_LUT3D_MIN, maxs);
                    goto fail;
                }
                l->dims = dims;
                l->size = (int)v[0];
                expect = dims == 3 ? (long)l->size * l->size * l->size : l->size;
                l->data = malloc((size_t)expect * 3 * sizeof(float));
                if (!l->data) {
                    ret = AIE_ENOMEM;
                    goto fail;
                }
            } else if (keyword_is(s, "DOMAIN_MIN", &rest) || keyword_is(s, "DOMAIN_MAX", &rest)) {
                if (numbers(rest, v, 3) != 3) {
                    ret = fail(err, errlen, lineno, "expected three numbers after %.10s", s);
                    goto fail;
                }
                double *d = s[8] == 'I' ? l->dmin : l->dmax;
                for (int c = 0; c < 3; c++)
                    d[c] = v[c];
            } else if (keyword_is(s, "LUT_3D_INPUT_RANGE", &rest) || keyword_is(s, "LUT_1D_INPUT_RANGE", &rest)) {
                if (numbers(rest, v, 2) != 2) {
                    ret = fail(err, errlen, lineno, "expected two numbers (min max)");
                    goto fail;
                }
                for (int c = 0; c < 3; c++) {
                    l->dmin[c] = v[0];
                    l->dmax[c] = v[1];
                }
            } else {
                char kw[32];
                snprintf(kw, sizeof(kw), "%.*s", (int)strcspn(s, " \t"), s);
                ret = fail(err, errlen, lineno, "unknown keyword '%s'", kw);
                goto fail;
            }
            continue;
        }
        /* a table entry */
        if (!l->dims) {
            ret = fail(err, errlen, lineno, "table entry before LUT_3D_SIZE or LUT_1D_SIZE");
            goto fail;
        }
        if (got == 0) {
            for (int c = 0; c < 3; c++) {
                if (!(l->dmin[c] < l->dmax[c])) {
                    ret = fail(err, errlen, lineno, "DOMAIN_MIN %g is not below DOMAIN_MAX %g", l->dmin[c],
                               l->dmax[c]);
                    goto fail;
                }
                /* entries are floats, and styles scale by 1 / width in float */
                if (fabs(l->dmin[c]) > DOMAIN_LIMIT || fabs(l->dmax[c]) > DOMAIN_LIMIT ||
                    l->dmax[c] - l->dmin[c] < 1 / DOMAIN_LIMIT) {
                    ret = fail(err, errlen, lineno,
                               "domain [%g, %g] is out of range (bounds within +-%g, at least %g wide)",
                               l->dmin[c], l->dmax[c], DOMAIN_LIMIT, 1 / DOMAIN_LIMIT);
                    goto fail;
                }
            }
        }
        int nv = numbers(s, v, 3);
        if (nv != 3) {
            ret = fail(err, errlen, lineno, "expected three numbers (R G B), not '%.40s'", s);
            goto fail;
        }
        if (got >= expect) {
            ret = fail(err, errlen, lineno, "more than the %ld entries of a size-%d %dD LUT", expect, l->size, l->dims);
            goto fail;
        }
        for (int c = 0; c < 3; c++) {
            const double tol = 1e-6 * (l->dmax[c] - l->dmin[c]);
            if (v[c] < l->dmin[c] - tol || v[c] > l->dmax[c] + tol) {
                ret = fail(err, errlen, lineno, "value %g is outside the domain [%g, %g]", v[c], l->dmin[c],
                           l->dmax[c]);
                goto fail;
            }
            l->data[got * 3 + c] = (float)v[c];
        }
        got++;
        last_line = lineno;
    }
    if (!l->dims) {
        ret = fail(err, errlen, lineno, "no LUT_3D_SIZE or LUT_1D_SIZE");
        goto fail;
    }
    if (got != expect) {
        ret = fail(err, errlen, last_line ? last_line : lineno, "%ld entries, a size-%d %dD LUT needs %ld", got,
                   l->size, l->dims, expect);
        goto fail;
    }
    free(line);
    *out = l;
    return 0;
fail:
    free(line);
    aie_lut_free(&l);
    return ret;
}

void aie_lut_info(const AieLut *lut, AieLutInfo *info)
{
    memset(info, 0, sizeof(*info));
    if (!lut)
        return;
    info->dims = lut->dims;
    info->size = lut->size;
    for (int c = 0; c < 3; c++) {
        info->domain_min[c] = lut->dmin[c];
        info->domain_max[c] = lut->dmax[c];
    }
    info->title = lut->title;
}

void aie_lut_free(AieLut **lut)
{
    if (!lut || !*lut)
        return;
    free((*lut)->data);
    free(*lut);
    *lut = NULL;
}

int aie_look_lut_clone(AieLut **out, const AieLut *lut)
{
    size_t n = lut->dims == 3 ? (size_t)lut->size * lut->size * lut->size : (size_t)lut->size;
    AieLut *l = malloc(sizeof(*l));
    if (!l)
        return AIE_ENOMEM;
    *l = *lut;
    l->data = malloc(n * 3 * sizeof(float));
    if (!l->data) {
        free(l);
        return AIE_ENOMEM;
    }
    memcpy(l->data, lut->data, n * 3 * sizeof(float));
    *out = l;
    return 0;
}

void aie_lut_eval(const AieLut *lut, int tetrahedral, const double in[3], double out[3])
{
    const int n = lut->size;
    double f[3];
    int i[3];
    for (int c = 0; c < 3; c++) {
        double u = (in[c] - lut->dmin[c]) / (lut->dmax[c] - lut->dmin[c]);
        u = u < 0 ? 0 : u > 1 ? 1 : u;
        double p = u * (n - 1);
        i[c] = (int)p;
        if (i[c] > n - 2)
            i[c] = n - 2;
        f[c] = p - i[c];
    }
    if (lut->dims == 1) {
        for (int c = 0; c < 3; c++)
            out[c] = lut->data[i[c] * 3 + c] * (1 - f[c]) + lut->data[(i[c] + 1) * 3 + c] * f[c];
        return;
    }
    const int sg = n, sb = n * n, base = i[0] + i[1] * sg + i[2] * sb;
#define N(o, c) ((double)lut->data[(size_t)(base + (o)) * 3 + (c)])
    for (int c = 0; c < 3; c++) {
        if (tetrahedral) {
            const double fr = f[0], fg = f[1], fb = f[2];
            const int m_rg = fr >= fg, m_rb = fr >= fb, m_gb = fg >= fb;
            const int omax = (m_rg && m_rb) ? 1 : m_gb ? sg : sb;
            const int omin = (m_gb && m_rb) ? sb : m_rg ? sg : 1;
            double mx = fmax(fr, fmax(fg, fb)), mn = fmin(fr, fmin(fg, fb)), md = fr + fg + fb - mx - mn;
            const int tot = 1 + sg + sb;
            out[c] = (1 - mx) * N(0, c) + (mx - md) * N(omax, c) + (md - mn) * N(tot - omin, c) + mn * N(tot, c);
        } else {
            double c00 = N(0, c) * (1 - f[0]) + N(1, c) * f[0];
            double c10 = N(sg, c) * (1 - f[0]) + N(sg + 1, c) * f[0];
            double c01 = N(sb, c) * (1 - f[0]) + N(sb + 1, c) * f[0];
            double c11 = N(sb + sg, c) * (1 - f[0]) + N(sb + sg + 1, c) * f[0];
            double a = c00 * (1 - f[1]) + c10 * f[1], b = c01 * (1 - f[1]) + c11 * f[1];
            out[c] = a * (1 - f[2]) + b * f[2];
        }
    }
#undef N
}

int aie_lut_interp_parse(const char *name, AieLutInterp *out)
{
    if (!strcmp(name, "tetrahedral"))
        *out = AIE_INTERP_TETRAHEDRAL;
    else if (!strcmp(name, "trilinear"))
        *out = AIE_INTERP_TRILINEAR;
    else
        return -1;
    return 0;
}

const char *aie_lut_interp_name(AieLutInterp interp)
{
    return interp == AIE_INTERP_TRILINEAR ? "trilinear" : "tetrahedral";
}

#define LUT_FILE_MAX (64 << 20)

/* aie_lut_load(): the file read whole, then aie_lut_parse(). */
int aie_lut_load(AieLut **out, const char *path, char *msg, size_t n)
{
    *out = NULL;
    FILE *f = NULL;
    int oe = aie_fs_open_regular(path, &f, msg, n);
    if (oe)
        return oe;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int err = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            char *nb = cap <= LUT_FILE_MAX ? realloc(buf, cap) : NULL;
            if (!nb) {
                snprintf(msg, n, "%s: file too large for a LUT", path);
                err = AIE_ETOOBIG;
                goto done;
            }
            buf = nb;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (ferror(f) && errno == EINTR) { /* a signal while a pipe was empty: go on */
            clearerr(f);
            continue;
        }
        if (k == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(msg, n, "%s: read error: %s", path, strerror(errno));
        err = AIE_EIO;
        goto done;
    }
    char why[256];
    if ((err = aie_lut_parse(out, buf, len, why, sizeof(why))))
        snprintf(msg, n, "%.200s: %s", path, why[0] ? why : aie_strerror(err));
done:
    free(buf);
    fclose(f);
    return err;
}
