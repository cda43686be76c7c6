/*
 * Anime4K CNN weights as @websr/websr ships them: {"name": "anime4k/cnn-2x-m",
 * "layers": {"conv2d_tf": {"type": "conv", "weights": [...], "bias": [...]},
 * ..., "pixel_shuffle": {"type": "pixel_shuffle"}}}. The file holds weights
 * only: the graph is the one websr's networks/anime4k/ files (and the GLSL
 * originals) wire for that name.
 *
 * Weights are WGSL mat4x4f (column-major, 16 floats) applied as M * v to a
 * vec4 of 4 channels: float 16 * m + 4 * col + row maps input channel col to
 * output channel row. A 3x3 layer holds 9 matrices per group of 4 input
 * channels, matrix g * 9 + (dx + 1) * 3 + (dy + 1) for the sample at offset
 * (dx, dy) (websr's kernel_offsets run x-major). The groups follow CReLU:
 * a layer reading x has groups relu(x), relu(-x); reading (x, x1) it has
 * relu(x), relu(x1), relu(-x), relu(-x1) = CReLU(concat(x, x1)); the 1x1 heads
 * reading seven stages have, per stage, the groups of that stage's CReLU.
 *
 * The first layer reads RGBA (alpha 1.0 everywhere): its alpha weights are
 * folded into the bias. All padding is replicate (GLSL clamp to edge). The
 * heads give 4 channels that depth-to-space (TensorFlow order) makes one
 * colour channel at 2x each (or one channel added to all three, cnn-2x-s);
 * the result is added to the bilinear 2x input. The restore networks add
 * their 4-channel output (RGB used) to the input at 1x.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aie/error.h"
#include "nn/graph.h"
#include "nn/nn_internal.h"

typedef struct Ctx {
    NnGraph *g;
    json_object *layers;
    const char *path;
    char *err;
    size_t errlen;
} Ctx;

static int get_floats(Ctx *c, const char *layer, const char *key, float *dst, int n)
{
    json_object *l, *a;
    if (!json_object_object_get_ex(c->layers, layer, &l) || !json_object_is_type(l, json_type_object)) {
        snprintf(c->err, c->errlen, "%s: layer '%s' is missing", c->path, layer);
        return AIE_EMODEL;
    }
    if (!json_object_object_get_ex(l, key, &a) || !json_object_is_type(a, json_type_array)) {
        snprintf(c->err, c->errlen, "%s: layer '%s' has no %s array", c->path, layer, key);
        return AIE_EMODEL;
    }
    if ((int)json_object_array_length(a) != n) {
        snprintf(c->err, c->errlen, "%s: wrong shape: layer '%s' has %d %s, %d expected", c->path, layer,
                 (int)json_object_array_length(a), key, n);
        return AIE_EMODEL;
    }
    for (int i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(a, (size_t)i);
        if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)) {
            snprintf(c->err, c->errlen, "%s: layer '%s': %s[%d] is not a number", c->path, layer, key, i);
            return AIE_EMODEL;
        }
        dst[i] = (float)json_object_get_double(v);
    }
    return 0;
}

/* A conv layer of `groups` groups of 4 input channels, k x k (3 or 1), 4
 * outputs, reading node `in` (which has 4 * groups channels, or 3 for the
 * RGB input with rgba = 1). Returns the node or a negative code. */
static int conv(Ctx *c, const char *name, int in, int groups, int k, int rgba)
{
    const int kk = k * k, nw = groups * kk * 16;
    const int cin = rgba ? 3 : 4 * groups;
    float *src = malloc(sizeof(float) * (size_t)nw), *w = malloc(sizeof(float) * 4 * (size_t)cin * (size_t)kk);
    float b[4];
    int e = AIE_ENOMEM;
    if (!src || !w)
        goto done;
    if ((e = get_floats(c, name, "weights", src, nw)) || (e = get_floats(c, name, "bias", b, 4)))
        goto done;
    for (int g = 0; g < groups; g++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const float *m = src + 16 * (g * kk + kx * k + ky);
                for (int col = 0; col < 4; col++)
                    for (int row = 0; row < 4; row++) {
                        if (rgba && col == 3) {
                            b[row] += m[4 * col + row]; /* alpha is 1.0 */
                            continue;
                        }
                        int ci = 4 * g + col;
                        w[(((size_t)row * cin + ci) * k + ky) * k + kx] = m[4 * col + row];
                    }
            }
    e = aie_nn_conv(c->g, in, 4, k, k, NN_PAD_REPLICATE, w, b, NN_ACT_NONE, 0, NULL);
    if (e >= 0)
        aie_nn_name(c->g, e, name);
done:
    free(src);
    free(w);
    return e;
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        if ((r = (x)) < 0)                                                                         \
            return r;                                                                              \
    } while (0)

/* CReLU(concat(a, b)) (b < 0: of a alone) */
static int crelu2(NnGraph *g, int a, int b)
{
    int r, in[2] = {a, b};
    if (b >= 0)
        TRY(a = aie_nn_concat(g, in, 2));
    return aie_nn_crelu(g, a);
}

/* Upscaling networks end in heads of 4 channels; restore networks in one
 * 4-channel residual at 1x. */
static int finish(Ctx *c, const int *heads, int nheads, int upscale)
{
    NnGraph *g = c->g;
    int r, out;
    if (upscale) {
        int d[3] = {0}; /* nheads is 1 or 3 */
        for (int i = 0; i < nheads; i++)
            TRY(d[i] = aie_nn_shuffle(g, heads[i], 2, NN_SHUFFLE_TF));
        int res = d[0];
        if (nheads > 1)
            TRY(res = aie_nn_concat(g, d, nheads));
        int base;
        TRY(base = aie_nn_upsample(g, 0, 2, NN_UP_BILINEAR));
        TRY(out = aie_nn_add(g, base, res));
    } else {
        TRY(out = aie_nn_add(g, 0, heads[0]));
    }
    return aie_nn_graph_finish(g, out, 3);
}

static int build(Ctx *c, const char *net)
{
    NnGraph *g = c->g;
    int r;
    char nm[32], nm1[32];
    const int up = !strncmp(net, "cnn-2x-", 7);
    const char size = net[strlen(net) - 1];
    if (size == 's') {
        /* conv, 3 x (CReLU, conv), one head */
        int x;
        TRY(x = conv(c, "conv2d_tf", 0, 1, 3, 1));
        const char *names[3] = {"conv2d_1_tf", "conv2d_2_tf", up ? "conv2d_last_tf" : "conv2d_out_tf"};
        for (int i = 0; i < 3; i++) {
            int cr;
            TRY(cr = aie_nn_crelu(g, x));
            TRY(x = conv(c, names[i], cr, 2, 3, 0));
        }
        return finish(c, &x, 1, up);
    }
    if (size == 'm') {
        /* conv, 6 x (CReLU, conv), then 1x1 heads over CReLU of all 7 stages */
        int st[7], cr[7];
        TRY(st[0] = conv(c, "conv2d_tf", 0, 1, 3, 1));
        TRY(cr[0] = aie_nn_crelu(g, st[0]));
        for (int i = 1; i < 7; i++) {
            snprintf(nm, sizeof(nm), "conv2d_%d_tf", i);
            TRY(st[i] = conv(c, nm, cr[i - 1], 2, 3, 0));
            TRY(cr[i] = aie_nn_crelu(g, st[i]));
        }
        int all, heads[3];
        TRY(all = aie_nn_concat(g, cr, 7));
        if (!up) {
            TRY(heads[0] = conv(c, "conv2d_out_tf", all, 14, 1, 0));
            return finish(c, heads, 1, 0);
        }
        static const char *const hn[3] = {"conv2d_7_tf", "conv2d_7_tf1", "conv2d_7_tf2"};
        for (int h = 0; h < 3; h++)
            TRY(heads[h] = conv(c, hn[h], all, 14, 1, 0));
        return finish(c, heads, 3, 1);
    }
    if (size == 'l') {
        /* two parallel stems; each stage reads CReLU of both */
        const int stages = up ? 7 : 4;
        int s0[7], s1[7], cr[7];
        TRY(s0[0] = conv(c, "conv2d_tf", 0, 1, 3, 1));
        TRY(s1[0] = conv(c, "conv2d_tf1", 0, 1, 3, 1));
        TRY(cr[0] = crelu2(g, s0[0], s1[0]));
        for (int i = 1; i < stages; i++) {
            snprintf(nm, sizeof(nm), "conv2d_%d_tf", i);
            snprintf(nm1, sizeof(nm1), "conv2d_%d_tf1", i);
            TRY(s0[i] = conv(c, nm, cr[i - 1], 4, 3, 0));
            TRY(s1[i] = conv(c, nm1, cr[i - 1], 4, 3, 0));
            TRY(cr[i] = crelu2(g, s0[i], s1[i]));
        }
        int heads[3];
        if (!up) {
            TRY(heads[0] = conv(c, "conv2d_out_tf", cr[stages - 1], 4, 3, 0));
            return finish(c, heads, 1, 0);
        }
        int all;
        TRY(all = aie_nn_concat(g, cr, 7));
        static const char *const hn[3] = {"conv2d_last_tf", "conv2d_last_tf1", "conv2d_last_tf2"};
        for (int h = 0; h < 3; h++)
            TRY(heads[h] = conv(c, hn[h], all, 28, 1, 0));
        return finish(c, heads, 3, 1);
    }
    return AIE_EINVAL;
}

int aie_nn_load_anime4k(NnGraph *g, const char *path, const char *text, size_t len, char *err,
                        size_t errlen)
{
    json_object *root = NULL, *v;
    int e = aie_nn_json_parse(path, text, len, &root, err, errlen);
    if (e)
        return e;
    e = AIE_EMODEL;
    Ctx c = {.g = g, .path = path, .err = err, .errlen = errlen};
    const char *name = json_object_object_get_ex(root, "name", &v) ? json_object_get_string(v) : NULL;
    if (!json_object_is_type(root, json_type_object) || !name ||
        !json_object_object_get_ex(root, "layers", &c.layers) || !json_object_is_type(c.layers, json_type_object)) {
        snprintf(err, errlen, "%s: expected an object with \"name\" and \"layers\" (Anime4K weights)", path);
        goto fail;
    }
    static const char *const nets[] = {"cnn-2x-s", "cnn-2x-m", "cnn-2x-l",
                                       "cnn-restore-s", "cnn-restore-m", "cnn-restore-l"};
    const char *net = NULL;
    if (!strncmp(name, "anime4k/", 8))
        for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
            if (!strcmp(name + 8, nets[i]))
                net = nets[i];
    if (!net) {
        snprintf(err, errlen, "%s: unknown network '%s' (anime4k/cnn-2x-s/m/l, anime4k/cnn-restore-s/m/l)", path,
                 name);
        goto fail;
    }
    json_object_object_foreach(c.layers, key, l) {
        json_object *t;
        const char *type = json_object_is_type(l, json_type_object) && json_object_object_get_ex(l, "type", &t)
                               ? json_object_get_string(t) : NULL;
        if (!type) {
            snprintf(err, errlen, "%s: layer '%s' has no type", path, key);
            goto fail;
        }
        if (strcmp(type, "conv") && strcmp(type, "pixel_shuffle")) {
            snprintf(err, errlen, "%s: layer '%s': unknown layer type '%s'", path, key, type);
            goto fail;
        }
    }
    if ((e = aie_nn_graph_init(g, 3)))
        goto fail;
    snprintf(g->name, sizeof(g->name), "%s", name);
    strcpy(g->format, "anime4k-json");
    err[0] = 0;
    e = build(&c, net);
    if (e < 0) {
        if (!err[0])
            snprintf(err, errlen, "%s: %s", path, e == AIE_ENOMEM ? aie_strerror(e) : "wrong shape");
        aie_nn_graph_clear(g);
        e = e == AIE_ENOMEM ? e : AIE_EMODEL;
        goto fail;
    }
    e = 0;
fail:
    json_object_put(root);
    return e;
}
