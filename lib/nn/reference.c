/*
 * The reference forward pass (for the tests): every operator of graph.h
 * written from its formula over whole planar images, with padding done by
 * index arithmetic, one output sample at a time, in double precision for the
 * convolution sums. Nothing here is shared with the executor except the
 * source-position helpers of the resamplers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "nn/graph.h"
#include "nn/nn_internal.h"

typedef struct Plane {
    int w, h, c;
    float *d; /* [c][h][w] */
} Plane;

/* Every node but the input reads computed planes (a graph invariant the
 * analyzer cannot see: it pairs the input's own plane with other ops). */
static inline float px(const Plane *p, int c, int y, int x)
{
    return p->d[((size_t)c * p->h + y) * p->w + x]; /* NOLINT(clang-analyzer-core.NullDereference,clang-analyzer-core.uninitialized.UndefReturn) */
}

/* Sample with padding: -1 index means zero. */
static int padded_index(int v, int size, NnPad mode)
{
    if (v >= 0 && v < size)
        return v;
    switch (mode) {
    case NN_PAD_REPLICATE: return v < 0 ? 0 : size - 1;
    case NN_PAD_REFLECT: return v < 0 ? -v : 2 * (size - 1) - v;
    default: return -1;
    }
}

static float act(float v, int type, float slope)
{
    if (type == NN_ACT_NONE || v >= 0.0f)
        return v;
    return type == NN_ACT_RELU ? 0.0f : v * slope;
}

int aie_nn_reference(const NnGraph *g, const AieNnImage *in, AieNnImage *out)
{
    const int n = g->n;
    int err = AIE_ENOMEM;
    int *sizes = malloc(sizeof(int) * 2 * (size_t)n);
    Plane *p = calloc((size_t)n, sizeof(*p));
    if (!sizes || !p)
        goto fail;
    if ((err = aie_nn_graph_sizes(g, in->w, in->h, sizes)))
        goto fail;
    err = AIE_ENOMEM;
    for (int k = 0; k < n; k++) {
        const NnNode *nd = &g->nodes[k];
        if (k && !nd->nin)
            continue;
        Plane *o = &p[k];
        o->w = sizes[2 * k];
        o->h = sizes[2 * k + 1];
        o->c = nd->c;
        o->d = malloc(sizeof(float) * (size_t)o->w * (size_t)o->h * (size_t)o->c);
        if (!o->d)
            goto fail;
        const Plane *a = &p[nd->nin ? nd->in[0] : k]; /* an input node has none: itself, unused */
        for (int c = 0; c < o->c; c++)
            for (int y = 0; y < o->h; y++)
                for (int x = 0; x < o->w; x++) {
                    double v = 0;
                    switch (nd->op) {
                    case NN_INPUT: v = in->data[c * in->plane + y * in->row + x]; break;
                    case NN_CONV: {
                        const int py = nd->pad == NN_PAD_VALID ? 0 : nd->kh / 2;
                        const int pxo = nd->pad == NN_PAD_VALID ? 0 : nd->kw / 2;
                        v = nd->b[c];
                        for (int i = 0; i < nd->cin; i++)
                            for (int ky = 0; ky < nd->kh; ky++)
                                for (int kx = 0; kx < nd->kw; kx++) {
                                    int sy = padded_index(y + ky - py, a->h, nd->pad);
                                    int sx = padded_index(x + kx - pxo, a->w, nd->pad);
                                    if (sy < 0 || sx < 0)
                                        continue;
                                    v += (double)nd->w[(((size_t)c * nd->cin + i) * nd->kh + ky) * nd->kw + kx] *
                                         px(a, i, sy, sx);
                                }
                        v = act((float)v, nd->act, nd->act == NN_ACT_PRELU ? nd->slopes[c] : nd->slope);
                        break;
                    }
                    case NN_ACT:
                        v = act(px(a, c, y, x), nd->act, nd->act == NN_ACT_PRELU ? nd->slopes[c] : nd->slope);
                        break;
                    case NN_CRELU:
                        v = c < a->c ? fmax(px(a, c, y, x), 0.0) : fmax(-px(a, c - a->c, y, x), 0.0);
                        break;
                    case NN_CONCAT: {
                        int cc = c, j = 0;
                        while (cc >= p[nd->in[j]].c)
                            cc -= p[nd->in[j++]].c;
                        v = px(&p[nd->in[j]], cc, y, x);
                        break;
                    }
                    case NN_ADD: {
                        const Plane *b = &p[nd->in[1]];
                        v = (double)px(a, c, y, x) + px(b, b->c == 1 ? 0 : c, y, x);
                        break;
                    }
                    case NN_SHUFFLE: {
                        const int r = nd->r, i = y % r, j = x % r;
                        int k2 = nd->mode == NN_SHUFFLE_TORCH ? c * r * r + i * r + j : (i * r + j) * o->c + c;
                        v = px(a, k2, y / r, x / r);
                        break;
                    }
                    case NN_UPSAMPLE:
                        if (nd->mode == NN_UP_NEAREST) {
                            v = px(a, c, y / nd->r, x / nd->r);
                        } else {
                            int x0, x1, y0, y1;
                            float fx, fy;
                            aie_nn_bilinear_src(x, nd->r, a->w, &x0, &x1, &fx);
                            aie_nn_bilinear_src(y, nd->r, a->h, &y0, &y1, &fy);
                            v = (1 - fy) * ((1 - fx) * px(a, c, y0, x0) + fx * px(a, c, y0, x1)) +
                                fy * ((1 - fx) * px(a, c, y1, x0) + fx * px(a, c, y1, x1));
                        }
                        break;
                    case NN_RESIZE: {
                        int ix[4], iy[4];
                        float wx[4], wy[4];
                        aie_nn_cubic_src(x, a->w, o->w, ix, wx);
                        aie_nn_cubic_src(y, a->h, o->h, iy, wy);
                        for (int i = 0; i < 4; i++)
                            for (int j = 0; j < 4; j++)
                                v += (double)wy[i] * wx[j] * px(a, c, iy[i], ix[j]);
                        break;
                    }
                    case NN_PAD: {
                        int sy = padded_index(y - nd->p, a->h, nd->pad), sx = padded_index(x - nd->p, a->w, nd->pad);
                        v = sy < 0 || sx < 0 ? 0 : px(a, c, sy, sx);
                        break;
                    }
                    }
                    o->d[((size_t)c * o->h + y) * o->w + x] = (float)v;
                }
    }
    const Plane *res = &p[g->output];
    if (out->w != res->w || out->h != res->h) {
        err = AIE_EINVAL;
        goto fail;
    }
    for (int c = 0; c < g->out_channels; c++)
        for (int y = 0; y < res->h; y++)
            for (int x = 0; x < res->w; x++)
                out->data[c * out->plane + y * out->row + x] = px(res, c, y, x);
    err = 0;
fail:
    if (p)
        for (int k = 0; k < n; k++)
            free(p[k].d);
    free(p);
    free(sizes);
    return err;
}
