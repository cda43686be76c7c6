/* Model loading: read the file, tell the format, hand it to its loader. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "aie/nn.h"
#include "nn/graph.h"
#include "nn/nn_internal.h"

int aie_nn_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
    *text = NULL;
    *len = 0;
    int e = 0;
    char *buf = NULL;
    FILE *f = NULL;
    if ((e = aie_fs_open_regular(path, &f, err, errlen))) {
        if (e == AIE_EINVAL) /* not a regular file: the helper's text names the kind */
            e = AIE_EMODEL;
        else if (err && errlen) /* the loaders' messages use the library's error table */
            snprintf(err, errlen, "%s: %s", path, aie_strerror(e));
        goto fail;
    }
    struct stat st;
    if (fstat(fileno(f), &st)) {
        e = aie_error_from_errno(errno);
        snprintf(err, errlen, "%s: %s", path, aie_strerror(e));
        goto fail;
    }
    size_t n = (size_t)st.st_size;
    buf = malloc(n + 1);
    if (!buf) {
        e = AIE_ENOMEM;
        snprintf(err, errlen, "%s: %s", path, aie_strerror(e));
        goto fail;
    }
    if (n && fread(buf, 1, n, f) != n) {
        e = AIE_EIO;
        snprintf(err, errlen, "%s: read error", path);
        goto fail;
    }
    buf[n] = 0;
    fclose(f);
    *text = buf;
    *len = n;
    return 0;
fail:
    if (f)
        fclose(f);
    free(buf);
    return e;
}

int aie_nn_json_parse(const char *path, const char *text, size_t len, json_object **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    json_tokener *tok = json_tokener_new_ex(64);
    if (!tok) {
        snprintf(err, errlen, "%s: %s", path, aie_strerror(AIE_ENOMEM));
        return AIE_ENOMEM;
    }
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    int e = 0;
    if (!o || je != json_tokener_success) {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < end && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        snprintf(err, errlen, "%s: malformed JSON at line %zu, column %zu: %s", path, line, col,
                 je == json_tokener_continue ? "unexpected end of file" : json_tokener_error_desc(je));
        json_object_put(o);
        e = AIE_EMODEL;
    } else {
        while (end < len && (text[end] == ' ' || text[end] == '\n' || text[end] == '\r' || text[end] == '\t'))
            end++;
        if (end < len) {
            snprintf(err, errlen, "%s: malformed JSON: extra data after the top-level value", path);
            json_object_put(o);
            e = AIE_EMODEL;
        } else {
            *out = o;
        }
    }
    json_tokener_free(tok);
    return e;
}

float aie_nn_half(unsigned short h)
{
    unsigned sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    union {
        unsigned u;
        float f;
    } v;
    if (exp == 0) {
        if (!mant) {
            v.u = sign << 31;
            return v.f;
        }
        /* subnormal: normalise */
        int e = -1;
        do {
            e++;
            mant <<= 1;
        } while (!(mant & 0x400));
        mant &= 0x3ff;
        v.u = (sign << 31) | ((unsigned)(127 - 15 - e) << 23) | (mant << 13);
        return v.f;
    }
    if (exp == 31)
        v.u = (sign << 31) | 0x7f800000u | (mant << 13);
    else
        v.u = (sign << 31) | ((exp - 15 + 127) << 23) | (mant << 13);
    return v.f;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Index of the first non-finite value of v[0..n), or -1. */
static long first_nonfinite(const float *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (!isfinite(v[i]))
            return (long)i;
    return -1;
}

/* One NaN or infinity in the weights turns whole tiles of the output into
 * NaN (black or speckled pictures): refuse the model, naming the layer. */
static int check_finite(const NnGraph *g, const char *path, char *err, size_t errlen)
{
    for (int k = 1; k < g->n; k++) {
        const NnNode *n = &g->nodes[k];
        const char *what = NULL;
        long at = -1;
        float v = 0;
        if (n->op == NN_CONV && (at = first_nonfinite(n->w, (size_t)n->c * n->cin * n->kh * n->kw)) >= 0) {
            what = "weight";
            v = n->w[at];
        } else if (n->op == NN_CONV && (at = first_nonfinite(n->b, (size_t)n->c)) >= 0) {
            what = "bias";
            v = n->b[at];
        } else if ((n->op == NN_CONV || n->op == NN_ACT) && n->act == NN_ACT_PRELU &&
                   (at = first_nonfinite(n->slopes, (size_t)n->c)) >= 0) {
            what = "PReLU slope";
            v = n->slopes[at];
        } else if ((n->op == NN_CONV || n->op == NN_ACT) && n->act == NN_ACT_LEAKY && !isfinite(n->slope)) {
            what = "LeakyReLU slope";
            at = 0;
            v = n->slope;
        }
        if (what) {
            char where[64];
            if (n->name[0])
                snprintf(where, sizeof(where), "%s", n->name);
            else
                snprintf(where, sizeof(where), "node %d", k);
            snprintf(err, errlen, "%s: %s: %s %ld is %s", path, where, what, at, isnan(v) ? "NaN" : "infinite");
            return AIE_EMODEL;
        }
    }
    return 0;
}

/* text[len] is a NUL; bin NULL: an ncnn model's weights are read from the
 * .bin next to path. */
static int load_text(AieNnModel **out, const char *path, const char *text, size_t len, const void *bin,
                     size_t binlen, char *err, size_t errlen)
{
    NnGraph g = {0};
    int e;
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    if (len >= 6 && !memcmp(text, "AIENET", 6)) {
        e = aie_nn_load_aienn(&g, path, text, len, err, errlen);
    } else if (ends_with(path, ".bin")) {
        e = AIE_EMODEL;
        snprintf(err, errlen, "%s: an ncnn weight file: give the .param next to it", path);
    } else if (ends_with(path, ".param") || !strncmp(p, "7767517", 7)) {
        e = aie_nn_load_ncnn(&g, path, text, len, bin, binlen, err, errlen);
    } else if (*p == '[') {
        e = aie_nn_load_waifu2x(&g, path, text, len, err, errlen);
    } else if (*p == '{') {
        e = aie_nn_load_anime4k(&g, path, text, len, err, errlen);
    } else {
        e = AIE_EMODEL;
        snprintf(err, errlen, "%s: not a model file (expected waifu2x JSON, Anime4K JSON or an ncnn .param)",
                 path);
    }
    if (!e)
        e = check_finite(&g, path, err, errlen);
    if (!e && (e = aie_nn_model_from_graph(out, &g)))
        snprintf(err, errlen, "%s: %s", path, e == AIE_ENOMEM ? aie_strerror(e) : "the network has no valid shape");
    if (e && e != AIE_ENOMEM && e != AIE_ENOENT && e != AIE_EACCES && e != AIE_EIO)
        e = AIE_EMODEL;
    aie_nn_graph_clear(&g);
    return e;
}

int aie_nn_load(AieNnModel **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    int e = aie_nn_read_file(path, &text, &len, err, errlen);
    if (e)
        return e;
    e = load_text(out, path, text, len, NULL, 0, err, errlen);
    free(text);
    return e;
}

int aie_nn_load_mem(AieNnModel **out, const char *name, const void *data, size_t len, const void *bin,
                    size_t binlen, char *err, size_t errlen)
{
    *out = NULL;
    if (!name || (!data && len) || (!bin && binlen))
        return AIE_EINVAL;
    char *text = malloc(len + 1);
    if (!text) {
        snprintf(err, errlen, "%s: %s", name, aie_strerror(AIE_ENOMEM));
        return AIE_ENOMEM;
    }
    if (len)
        memcpy(text, data, len);
    text[len] = 0;
    int e = load_text(out, name, text, len, bin ? bin : "", binlen, err, errlen);
    free(text);
    return e;
}
