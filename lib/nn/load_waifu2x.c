/*
 * waifu2x vgg_7 JSON (waifu2x-converter-cpp's models_rgb): an array of
 * layers {"class_name": "nn.SpatialConvolutionMM", "nInputPlane", "nOutputPlane",
 * "kW", "kH", "dW", "dH", "padW", "padH", "weight": [out][in][kH][kW],
 * "bias": [out]}, the first with "model_config" {"arch_name", "scale_factor",
 * "channels", "offset"}. LeakyReLU 0.1 follows every layer but the last.
 *
 * The graph: for an N x model (file name "scaleN.0x..."), a nearest N x
 * upscale; then replicate padding of the receptive field (waifu2x pads the
 * image by "offset" = 7 pixels with replicate); then the convolutions, valid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aie/error.h"
#include "nn/graph.h"
#include "nn/nn_internal.h"

static int get_int(json_object *o, const char *key, int dflt, int *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v)) {
        if (dflt == -1)
            return -1;
        *out = dflt;
        return 0;
    }
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
        return -1;
    double d = json_object_get_double(v);
    if (d < -1e6 || d > 1e6 || d != (int)d)
        return -1;
    *out = (int)d;
    return 0;
}

static int is_number(json_object *v)
{
    return json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int);
}

/* N from "scaleN.0x" / "scaleNx" in the file's base name; 1 otherwise. */
static int scale_from_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *s = strstr(base, "scale");
    if (!s)
        return 1;
    s += 5;
    int n = 0;
    while (*s >= '0' && *s <= '9')
        n = n * 10 + (*s++ - '0');
    if (*s == '.')
        for (s++; *s == '0'; s++)
            ;
    return *s == 'x' && n >= 1 && n <= 8 ? n : 1;
}

static int bad_weights(const char *path, int layer, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: layer %d: wrong shape: the weights are not [nOutputPlane][nInputPlane][kH][kW] "
             "numbers", path, layer + 1);
    return AIE_EMODEL;
}

static int nomem(const char *path, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", path, aie_strerror(AIE_ENOMEM));
    return AIE_ENOMEM;
}

int aie_nn_load_waifu2x(NnGraph *g, const char *path, const char *text, size_t len, char *err,
                        size_t errlen)
{
    json_object *root = NULL;
    float *w = NULL, *b = NULL;
    int e = aie_nn_json_parse(path, text, len, &root, err, errlen);
    if (e)
        return e;
    e = AIE_EMODEL;
    if (!json_object_is_type(root, json_type_array) || json_object_array_length(root) == 0) {
        snprintf(err, errlen, "%s: expected a non-empty array of waifu2x layers", path);
        goto fail;
    }
    const int nl = (int)json_object_array_length(root);
    if (nl > 64) {
        snprintf(err, errlen, "%s: %d layers is more than a waifu2x model has", path, nl);
        goto fail;
    }
    /* first pass: shapes */
    int pad = 0, prev_out = 3;
    double weights = 0;
    const char *arch = "vgg_7";
    for (int i = 0; i < nl; i++) {
        json_object *l = json_object_array_get_idx(root, (size_t)i), *v;
        if (!json_object_is_type(l, json_type_object)) {
            snprintf(err, errlen, "%s: layer %d: not a JSON object", path, i + 1);
            goto fail;
        }
        const char *cls = json_object_object_get_ex(l, "class_name", &v) ? json_object_get_string(v) : NULL;
        if (!cls) {
            snprintf(err, errlen, "%s: layer %d: no class_name", path, i + 1);
            goto fail;
        }
        if (strcmp(cls, "nn.SpatialConvolutionMM") && strcmp(cls, "nn.SpatialConvolution")) {
            snprintf(err, errlen, "%s: layer %d: unknown layer type '%s'", path, i + 1, cls);
            goto fail;
        }
        if (i == 0 && json_object_object_get_ex(l, "model_config", &v)) {
            json_object *a;
            if (json_object_object_get_ex(v, "arch_name", &a) && json_object_get_string(a))
                arch = json_object_get_string(a);
        }
        int nin, nout, kw, kh, dw, dh, pw, ph;
        if (get_int(l, "nInputPlane", -1, &nin) || get_int(l, "nOutputPlane", -1, &nout) ||
            get_int(l, "kW", -1, &kw) || get_int(l, "kH", -1, &kh) || get_int(l, "dW", 1, &dw) ||
            get_int(l, "dH", 1, &dh) || get_int(l, "padW", 0, &pw) || get_int(l, "padH", 0, &ph)) {
            snprintf(err, errlen, "%s: layer %d: missing or bad nInputPlane/nOutputPlane/kW/kH", path, i + 1);
            goto fail;
        }
        if (nin < 1 || nin > NN_MAX_CHANNELS || nout < 1 || nout > NN_MAX_CHANNELS || kw < 1 || kw > 7 || kh < 1 ||
            kh > 7) {
            snprintf(err, errlen, "%s: layer %d: wrong shape %d -> %d, %dx%d", path, i + 1, nin, nout, kw, kh);
            goto fail;
        }
        if (dw != 1 || dh != 1 || pw || ph) {
            snprintf(err, errlen, "%s: layer %d: stride %dx%d / padding %dx%d: only stride 1 without padding "
                     "(valid) is supported", path, i + 1, dw, dh, pw, ph);
            goto fail;
        }
        if (nin != prev_out) {
            snprintf(err, errlen, "%s: layer %d: wrong shape: %d input planes, but the %s gives %d", path,
                     i + 1, nin, i ? "layer before" : "RGB input", prev_out);
            goto fail;
        }
        prev_out = nout;
        weights += (double)nout * nin * kw * kh;
        pad += (kw - 1) / 2 > (kh - 1) / 2 ? (kw - 1) / 2 : (kh - 1) / 2;
        if (kw != kh) {
            snprintf(err, errlen, "%s: layer %d: %dx%d kernels are not supported", path, i + 1, kw, kh);
            goto fail;
        }
    }
    if (prev_out != 3) {
        snprintf(err, errlen, "%s: wrong shape: the last layer gives %d planes, not RGB (3)", path, prev_out);
        goto fail;
    }
    /* each weight takes two bytes of JSON at least: refuse before allocating */
    if (2 * weights > (double)len) {
        snprintf(err, errlen, "%s: wrong shape: the layers have %.0f weights, more than the file can hold", path,
                 weights);
        goto fail;
    }
    if ((e = aie_nn_graph_init(g, 3)))
        goto fail;
    e = AIE_EMODEL;
    snprintf(g->name, sizeof(g->name), "%s", arch);
    strcpy(g->format, "waifu2x-json");
    const int scale = scale_from_name(path);
    int node = 0;
    if ((scale > 1 && (node = aie_nn_upsample(g, node, scale, NN_UP_NEAREST)) < 0) ||
        (node = aie_nn_pad(g, node, pad, NN_PAD_REPLICATE)) < 0) {
        if (node == AIE_ENOMEM)
            e = nomem(path, err, errlen);
        else
            snprintf(err, errlen, "%s: wrong shape: the layers need %d pixels of padding, more than aie supports",
                     path, pad);
        goto fail;
    }
    for (int i = 0; i < nl; i++) {
        json_object *l = json_object_array_get_idx(root, (size_t)i), *wj, *bj;
        int nin = 0, nout = 0, k = 0; /* checked by the first pass, and again here */
        if (get_int(l, "nInputPlane", -1, &nin) || get_int(l, "nOutputPlane", -1, &nout) ||
            get_int(l, "kW", -1, &k) || nin < 1 || nout < 1 || k < 1) {
            snprintf(err, errlen, "%s: layer %d: missing or bad nInputPlane/nOutputPlane/kW", path, i + 1);
            goto fail;
        }
        if (!json_object_object_get_ex(l, "weight", &wj) || !json_object_is_type(wj, json_type_array) ||
            !json_object_object_get_ex(l, "bias", &bj) || !json_object_is_type(bj, json_type_array)) {
            snprintf(err, errlen, "%s: layer %d: no weight or bias array", path, i + 1);
            goto fail;
        }
        if ((int)json_object_array_length(wj) != nout || (int)json_object_array_length(bj) != nout) {
            snprintf(err, errlen, "%s: layer %d: wrong shape: %d weight rows and %d biases for %d output planes",
                     path, i + 1, (int)json_object_array_length(wj), (int)json_object_array_length(bj), nout);
            goto fail;
        }
        free(w);
        free(b);
        w = malloc(sizeof(float) * (size_t)nout * (size_t)nin * (size_t)(k * k));
        b = malloc(sizeof(float) * (size_t)nout);
        if (!w || !b) {
            e = nomem(path, err, errlen);
            goto fail;
        }
        for (int o = 0; o < nout; o++) {
            json_object *bo = json_object_array_get_idx(bj, (size_t)o);
            json_object *wo = json_object_array_get_idx(wj, (size_t)o);
            if (!is_number(bo) || !json_object_is_type(wo, json_type_array) ||
                (int)json_object_array_length(wo) != nin) {
                e = bad_weights(path, i, err, errlen);
                goto fail;
            }
            b[o] = (float)json_object_get_double(bo);
            for (int c = 0; c < nin; c++) {
                json_object *wc = json_object_array_get_idx(wo, (size_t)c);
                if (!json_object_is_type(wc, json_type_array) || (int)json_object_array_length(wc) != k) {
                    e = bad_weights(path, i, err, errlen);
                    goto fail;
                }
                for (int y = 0; y < k; y++) {
                    json_object *wy = json_object_array_get_idx(wc, (size_t)y);
                    if (!json_object_is_type(wy, json_type_array) || (int)json_object_array_length(wy) != k) {
                        e = bad_weights(path, i, err, errlen);
                        goto fail;
                    }
                    for (int x = 0; x < k; x++) {
                        json_object *v = json_object_array_get_idx(wy, (size_t)x);
                        if (!is_number(v)) {
                            e = bad_weights(path, i, err, errlen);
                            goto fail;
                        }
                        w[(((size_t)o * nin + c) * k + y) * k + x] = (float)json_object_get_double(v);
                    }
                }
            }
        }
        int act = i + 1 < nl ? NN_ACT_LEAKY : NN_ACT_NONE;
        if ((node = aie_nn_conv(g, node, nout, k, k, NN_PAD_VALID, w, b, act, 0.1f, NULL)) < 0) {
            if (node == AIE_ENOMEM)
                e = nomem(path, err, errlen);
            else
                snprintf(err, errlen, "%s: layer %d: wrong shape", path, i + 1);
            goto fail;
        }
        char nm[32];
        snprintf(nm, sizeof(nm), "layer %d", i + 1);
        aie_nn_name(g, node, nm);
    }
    if ((e = aie_nn_graph_finish(g, node, 3))) {
        snprintf(err, errlen, "%s: %s", path, aie_strerror(e));
        goto fail;
    }
    e = 0;
fail:
    if (e)
        aie_nn_graph_clear(g);
    free(w);
    free(b);
    json_object_put(root);
    return e;
}
