/*
 * ncnn models: a .param text graph and a .bin of weights next to it.
 *
 * .param: "7767517", then "LAYERS BLOBS", then one line per layer:
 *   TYPE NAME NIN NOUT IN... OUT... K=V...
 * (array values are written -233KK=N,V1,...,VN). Supported layers: Input,
 * Split, Convolution (stride 1, dilation 1, padding 0 or k/2 with zeros,
 * optional fused ReLU/LeakyReLU/PReLU-less activation), PReLU, ReLU,
 * PixelShuffle (mode 0 PyTorch order, 1 TensorFlow order), Interp (nearest or
 * bilinear by an integer factor, bicubic by a ratio, align_corner 0),
 * BinaryOp (add), Concat (channels).
 *
 * .bin: for each layer in order, its weights as ncnn's ModelBin stores them:
 * convolution weights with a 4-byte tag (0x01306B47: fp16, padded to 4 bytes;
 * 0: fp32), then the bias and PReLU slopes as raw fp32.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "nn/graph.h"
#include "nn/nn_internal.h"

#define MAX_PARAMS 32

typedef struct Params {
    float v[MAX_PARAMS];
    int set[MAX_PARAMS];
    float arr[MAX_PARAMS][16]; /* small arrays (activation parameters) */
    int arrn[MAX_PARAMS];
} Params;

typedef struct Bin {
    const unsigned char *d;
    size_t len, pos;
    const char *path;
} Bin;

typedef struct Blob {
    char name[64];
    int node;
} Blob;

typedef struct Ctx {
    NnGraph *g;
    const char *path;
    char binpath[4096];
    Bin bin;
    Blob *blobs;
    int nblobs, cap;
    char *err;
    size_t errlen;
    int line;
    double up[NN_MAX_NODES]; /* per node: its size over the input's */
} Ctx;

/* Node sizes are ints, computed for inputs up to AIE_MAX_DIM: a network may
 * upscale this much at most (SRVGG models do 2 to 4). */
#define MAX_UPSCALE 16.0

/* An integer parameter; a value beyond any int (or NaN) reads as -2^30, which
 * no layer accepts. */
static int pint(const Params *p, int k, int dflt)
{
    if (!p->set[k])
        return dflt;
    return p->v[k] >= -1e9f && p->v[k] <= 1e9f ? (int)p->v[k] : -(1 << 30);
}
static float pfloat(const Params *p, int k, float dflt) { return p->set[k] ? p->v[k] : dflt; }

static int find_blob(Ctx *c, const char *name)
{
    for (int i = c->nblobs - 1; i >= 0; i--)
        if (!strcmp(c->blobs[i].name, name))
            return c->blobs[i].node;
    return -1;
}

static int add_blob(Ctx *c, const char *name, int node)
{
    if (c->nblobs == c->cap) {
        int nc = c->cap ? 2 * c->cap : 64;
        Blob *nb = realloc(c->blobs, sizeof(*nb) * (size_t)nc);
        if (!nb)
            return AIE_ENOMEM;
        c->blobs = nb;
        c->cap = nc;
    }
    snprintf(c->blobs[c->nblobs].name, sizeof(c->blobs[0].name), "%s", name);
    c->blobs[c->nblobs++].node = node;
    return 0;
}

static int fail_line(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_line(Ctx *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s:%d: %s", c->path, c->line, msg);
    return AIE_EMODEL;
}

static int need_bytes(Ctx *c, const char *layer, size_t n)
{
    if (c->bin.len - c->bin.pos >= n)
        return 0;
    snprintf(c->err, c->errlen, "%s: truncated weights: layer %s needs %zu bytes at offset %zu, the file has %zu",
             c->binpath, layer, n, c->bin.pos, c->bin.len);
    return AIE_EMODEL;
}

/* Raw fp32 (bias, slopes). */
static int read_raw(Ctx *c, const char *layer, float *dst, size_t n)
{
    int e = need_bytes(c, layer, 4 * n);
    if (e)
        return e;
    memcpy(dst, c->bin.d + c->bin.pos, 4 * n);
    c->bin.pos += 4 * n;
    return 0;
}

/* Tagged weights (ModelBin type 0). */
static int read_tagged(Ctx *c, const char *layer, float *dst, size_t n)
{
    int e = need_bytes(c, layer, 4);
    if (e)
        return e;
    const unsigned char *t = c->bin.d + c->bin.pos;
    unsigned tag = (unsigned)t[0] | (unsigned)t[1] << 8 | (unsigned)t[2] << 16 | (unsigned)t[3] << 24;
    c->bin.pos += 4;
    if (tag == 0x01306B47u) { /* fp16 */
        size_t bytes = (2 * n + 3) & ~(size_t)3;
        if ((e = need_bytes(c, layer, bytes)))
            return e;
        const unsigned char *h = c->bin.d + c->bin.pos;
        for (size_t i = 0; i < n; i++)
            dst[i] = aie_nn_half((unsigned short)(h[2 * i] | h[2 * i + 1] << 8));
        c->bin.pos += bytes;
        return 0;
    }
    if (tag == 0)
        return read_raw(c, layer, dst, n);
    snprintf(c->err, c->errlen, "%s: layer %s: weight storage tag 0x%08x (int8 or quantised) is not supported",
             c->binpath, layer, tag);
    return AIE_EMODEL;
}

/* Parse "K=V" tokens from s. */
static int parse_params(Ctx *c, char *s, Params *p)
{
    memset(p, 0, sizeof(*p));
    char *save = NULL;
    for (char *tok = strtok_r(s, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return fail_line(c, "bad parameter '%s'", tok);
        *eq = 0;
        char *end;
        long k = strtol(tok, &end, 10);
        if (*end)
            return fail_line(c, "bad parameter key '%s'", tok);
        if (k <= -23300) { /* array: -23300 - id = n,v... */
            k = -(k + 23300);
            if (k >= MAX_PARAMS)
                return fail_line(c, "parameter id out of range in '%s'", tok);
            char *q = eq + 1;
            long n = strtol(q, &end, 10);
            if (n < 0 || n > 16)
                return fail_line(c, "array parameter too long: '%s'", eq + 1);
            p->arrn[k] = (int)n;
            for (int i = 0; i < n; i++) {
                if (*end != ',')
                    return fail_line(c, "bad array parameter '%s'", eq + 1);
                p->arr[k][i] = strtof(end + 1, &end);
            }
            p->set[k] = 1;
            continue;
        }
        if (k < 0 || k >= MAX_PARAMS)
            return fail_line(c, "parameter id out of range in '%s'", tok);
        p->v[k] = strtof(eq + 1, &end);
        if (*end)
            return fail_line(c, "bad parameter value '%s'", eq + 1);
        p->set[k] = 1;
    }
    return 0;
}

/* p/q close to x (a scale factor such as 0.5 or 0.75). */
static int ratio(float x, int *num, int *den)
{
    if (!(x > 0.0f && x <= 64.0f)) /* NaN too */
        return -1;
    for (int d = 1; d <= 16; d++) {
        float n = x * (float)d;
        int ni = (int)(n + 0.5f);
        if (ni >= 1 && ni <= 64 && n - (float)ni < 1e-4f && (float)ni - n < 1e-4f) {
            *num = ni;
            *den = d;
            return 0;
        }
    }
    return -1;
}

static int layer(Ctx *c, const char *type, const char *name, int nin, char **ins, int nout, char **outs, Params *p)
{
    NnGraph *g = c->g;
    int in[NN_MAX_INPUTS], node = -1, e;
    if (nin > NN_MAX_INPUTS)
        return fail_line(c, "too many inputs of layer %s", name);
    for (int i = 0; i < nin; i++)
        if ((in[i] = find_blob(c, ins[i])) < 0)
            return fail_line(c, "unknown blob '%s'", ins[i]);
    if (!strcmp(type, "Input")) {
        if (nin != 0 || nout != 1)
            return fail_line(c, "Input %s must have one output", name);
        int ch = pint(p, 2, 3);
        if (ch != 3)
            return fail_line(c, "wrong shape: the input has %d channels, RGB (3) expected", ch);
        return add_blob(c, outs[0], 0);
    }
    if (!strcmp(type, "Split")) {
        if (nin != 1)
            return fail_line(c, "Split %s must have one input", name);
        for (int i = 0; i < nout; i++)
            if ((e = add_blob(c, outs[i], in[0])))
                return e;
        return 0;
    }
    if (nout != 1)
        return fail_line(c, "layer %s must have one output", name);
    if (nin < 1) /* every layer below reads in[0] */
        return fail_line(c, "layer %s has no input", name);
    if (g->n >= NN_MAX_NODES) /* else the builders fail as if out of memory */
        return fail_line(c, "more than %d layers", NN_MAX_NODES - 1);
    if (!strcmp(type, "Convolution")) {
        if (nin != 1)
            return fail_line(c, "Convolution %s must have one input", name);
        int cout = pint(p, 0, 0), kw = pint(p, 1, 0), kh = pint(p, 11, kw);
        int dil = pint(p, 2, 1), stride = pint(p, 3, 1), pad = pint(p, 4, 0), bias = pint(p, 5, 0);
        int wsize = pint(p, 6, 0), act = pint(p, 9, 0), int8 = pint(p, 8, 0);
        int cin = g->nodes[in[0]].c;
        if (cout < 1 || cout > 4096 || kw < 1 || kw > 7 || kh < 1 || kh > 7)
            return fail_line(c, "wrong shape in Convolution %s", name);
        if (dil != 1 || stride != 1 || int8 || pint(p, 3 + 10, stride) != 1 || pint(p, 2 + 10, dil) != 1)
            return fail_line(c, "Convolution %s: only stride 1, dilation 1, float weights are supported", name);
        NnPad mode;
        if (pad == 0 && pint(p, 14, 0) == 0)
            mode = NN_PAD_VALID;
        else if ((pad == -233 || pad == -234 || (pad == kw / 2 && pint(p, 14, pad) == kh / 2)) &&
                 (kw & 1) && (kh & 1) && pfloat(p, 18, 0.0f) == 0.0f)
            mode = NN_PAD_ZERO;
        else
            return fail_line(c, "Convolution %s: only no padding or k/2 zero padding is supported", name);
        if ((long long)wsize != (long long)cout * cin * kh * kw)
            return fail_line(c, "wrong shape: Convolution %s has %d weights, %d x %d x %d x %d expected", name,
                             wsize, cout, cin, kh, kw);
        if (act < 0 || act > 2)
            return fail_line(c, "Convolution %s: activation type not supported", name);
        /* the weights must be there (fp16 at least) before they get memory */
        if ((e = need_bytes(c, name, 4 + 2 * (size_t)wsize)))
            return e;
        float *w = malloc(sizeof(float) * (size_t)wsize), *b = calloc((size_t)cout, sizeof(float));
        if (!w || !b) {
            free(w);
            free(b);
            return AIE_ENOMEM;
        }
        e = read_tagged(c, name, w, (size_t)wsize);
        if (!e && bias)
            e = read_raw(c, name, b, (size_t)cout);
        if (!e) {
            float slope = act == 2 ? (p->arrn[10] > 0 ? p->arr[10][0] : 0.0f) : 0.0f;
            node = aie_nn_conv(g, in[0], cout, kh, kw, mode, w, b, act, slope, NULL);
        }
        free(w);
        free(b);
        if (e)
            return e;
    } else if (!strcmp(type, "PReLU")) {
        int n = pint(p, 0, 1), ch = g->nodes[in[0]].c;
        if (n != 1 && n != ch)
            return fail_line(c, "wrong shape: PReLU %s has %d slopes for %d channels", name, n, ch);
        float *s = malloc(sizeof(float) * (size_t)ch);
        if (!s)
            return AIE_ENOMEM;
        e = read_raw(c, name, s, (size_t)n);
        for (int i = n; !e && i < ch; i++)
            s[i] = s[0];
        if (!e)
            node = aie_nn_act(g, in[0], NN_ACT_PRELU, 0, s);
        free(s);
        if (e)
            return e;
    } else if (!strcmp(type, "ReLU")) {
        float slope = pfloat(p, 0, 0.0f);
        node = aie_nn_act(g, in[0], slope != 0.0f ? NN_ACT_LEAKY : NN_ACT_RELU, slope, NULL);
    } else if (!strcmp(type, "PixelShuffle")) {
        int r = pint(p, 0, 1), mode = pint(p, 1, 0);
        if (mode != 0 && mode != 1)
            return fail_line(c, "PixelShuffle %s: unknown mode", name);
        node = aie_nn_shuffle(g, in[0], r, mode ? NN_SHUFFLE_TF : NN_SHUFFLE_TORCH);
        if (node == AIE_EINVAL)
            return fail_line(c, "wrong shape: PixelShuffle %s does not divide the channels", name);
    } else if (!strcmp(type, "Interp")) {
        int type_ = pint(p, 0, 0);
        float hs = pfloat(p, 1, 1.0f), ws = pfloat(p, 2, 1.0f);
        if (pint(p, 3, 0) || pint(p, 4, 0) || pint(p, 6, 0) || hs != ws)
            return fail_line(c, "Interp %s: only equal scale factors without align_corner are supported", name);
        int num, den;
        if (ratio(ws, &num, &den))
            return fail_line(c, "Interp %s: unsupported scale factor", name);
        if ((type_ == 1 || type_ == 2) && den == 1)
            node = aie_nn_upsample(g, in[0], num, type_ == 1 ? NN_UP_NEAREST : NN_UP_BILINEAR);
        else if (type_ == 3)
            node = aie_nn_resize(g, in[0], num, den);
        else
            return fail_line(c, "Interp %s: unsupported type or factor", name);
    } else if (!strcmp(type, "BinaryOp")) {
        if (nin != 2 || pint(p, 0, 0) != 0 || pint(p, 1, 0) != 0)
            return fail_line(c, "BinaryOp %s: only the addition of two blobs is supported", name);
        if (g->nodes[in[0]].c != g->nodes[in[1]].c)
            return fail_line(c, "wrong shape: BinaryOp %s adds blobs of different channel counts", name);
        node = aie_nn_add(g, in[0], in[1]);
    } else if (!strcmp(type, "Concat")) {
        if (pint(p, 0, 0) != 0)
            return fail_line(c, "Concat %s: only the channel axis is supported", name);
        node = aie_nn_concat(g, in, nin);
    } else {
        return fail_line(c, "unknown layer type '%s'", type);
    }
    if (node == AIE_ENOMEM)
        return AIE_ENOMEM;
    if (node < 0)
        return fail_line(c, "wrong shape at layer %s", name);
    const NnNode *nd = &g->nodes[node];
    double up = 0;
    for (int i = 0; i < nd->nin; i++)
        up = c->up[nd->in[i]] > up ? c->up[nd->in[i]] : up;
    up *= nd->op == NN_SHUFFLE || nd->op == NN_UPSAMPLE ? nd->r : nd->op == NN_RESIZE ? (double)nd->num / nd->den : 1;
    if (up > MAX_UPSCALE)
        return fail_line(c, "layer %s: the network would upscale more than %g times", name, MAX_UPSCALE);
    c->up[node] = up;
    aie_nn_name(g, node, name);
    return add_blob(c, outs[0], node);
}

int aie_nn_load_ncnn(NnGraph *g, const char *path, const char *text, size_t len, const void *bin,
                     size_t binlen, char *err, size_t errlen)
{
    Ctx c = {.g = g, .path = path, .err = err, .errlen = errlen, .up = {1}};
    char *copy = NULL, *bintext = NULL;
    int e;
    (void)len;
    /* the .bin: same name, .bin for .param */
    size_t pl = strlen(path);
    if (pl >= sizeof(c.binpath) - 8) {
        snprintf(err, errlen, "%s: path too long", path);
        return AIE_EMODEL;
    }
    memcpy(c.binpath, path, pl + 1);
    if (pl > 6 && !strcmp(path + pl - 6, ".param"))
        strcpy(c.binpath + pl - 6, ".bin");
    else
        strcat(c.binpath, ".bin");
    if (!bin) { /* not given: the file next to the .param */
        if ((e = aie_nn_read_file(c.binpath, &bintext, &binlen, err, errlen)))
            goto fail;
        bin = bintext;
    }
    c.bin = (Bin){(const unsigned char *)bin, binlen, 0, c.binpath};
    copy = strdup(text);
    if (!copy) {
        e = AIE_ENOMEM;
        goto fail;
    }
    if ((e = aie_nn_graph_init(g, 3)))
        goto fail;
    strcpy(g->format, "ncnn");
    char *save = NULL;
    int nlayers = -1, last = -1;
    c.line = 0;
    for (char *ln = strtok_r(copy, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        c.line++;
        while (*ln == ' ' || *ln == '\t' || *ln == '\r')
            ln++;
        if (!*ln)
            continue;
        if (c.line == 1) {
            if (strncmp(ln, "7767517", 7)) {
                snprintf(err, errlen, "%s: not an ncnn .param file (no 7767517 magic)", path);
                e = AIE_EMODEL;
                goto fail;
            }
            continue;
        }
        if (nlayers < 0) {
            int nb;
            /* NOLINTNEXTLINE(cert-err34-c): the widths keep the numbers in range */
            if (sscanf(ln, "%9d %9d", &nlayers, &nb) != 2 || nlayers < 1 || nlayers > 10000) {
                e = fail_line(&c, "expected the layer and blob counts");
                goto fail;
            }
            continue;
        }
        char *tokens[2 * NN_MAX_INPUTS + 8];
        char *ts = NULL, *rest = ln;
        int nt = 0, nin = 0, nout = 0;
        /* TYPE NAME NIN NOUT then the blob names */
        while (nt < 4) {
            char *t = strtok_r(nt ? NULL : rest, " \t\r", &ts);
            if (!t)
                break;
            tokens[nt++] = t;
        }
        /* NOLINTNEXTLINE(cert-err34-c): the widths keep the numbers in range */
        if (nt < 4 || sscanf(tokens[2], "%9d", &nin) != 1 || sscanf(tokens[3], "%9d", &nout) != 1 || nin < 0 ||
            nout < 1 || nin + nout > 2 * NN_MAX_INPUTS) {
            e = fail_line(&c, "malformed layer line");
            goto fail;
        }
        for (int i = 0; i < nin + nout; i++) {
            char *t = strtok_r(NULL, " \t\r", &ts);
            if (!t) {
                e = fail_line(&c, "missing blob names");
                goto fail;
            }
            tokens[4 + i] = t;
        }
        Params p;
        if ((e = parse_params(&c, ts ? ts : (char *)"", &p)))
            goto fail;
        if ((e = layer(&c, tokens[0], tokens[1], nin, tokens + 4, nout, tokens + 4 + nin, &p))) {
            if (e == AIE_ENOMEM)
                snprintf(err, errlen, "%s: %s", path, aie_strerror(e));
            goto fail;
        }
        last = c.blobs[c.nblobs - 1].node;
    }
    if (last < 1) {
        snprintf(err, errlen, "%s: no layers", path);
        e = AIE_EMODEL;
        goto fail;
    }
    if (c.bin.pos != c.bin.len) {
        snprintf(err, errlen, "%s: wrong shape: %zu bytes left over after the last layer's weights",
                 c.binpath, c.bin.len - c.bin.pos);
        e = AIE_EMODEL;
        goto fail;
    }
    if (g->nodes[last].c != 3) {
        snprintf(err, errlen, "%s: wrong shape: the output has %d channels, not RGB (3)", path, g->nodes[last].c);
        e = AIE_EMODEL;
        goto fail;
    }
    /* the network's name: the file's base name */
    const char *base = strrchr(path, '/');
    snprintf(g->name, sizeof(g->name), "%s", base ? base + 1 : path);
    char *dot = strrchr(g->name, '.');
    if (dot)
        *dot = 0;
    if ((e = aie_nn_graph_finish(g, last, 3))) {
        snprintf(err, errlen, "%s: %s", path, aie_strerror(e));
        goto fail;
    }
    e = 0;
fail:
    if (e)
        aie_nn_graph_clear(g);
    free(c.blobs);
    free(copy);
    free(bintext);
    return e;
}
