/* Network graphs: builders, shape rules, the model object. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/util.h"
#include "dsp/conv.h"
#include "nn/graph.h"
#include "nn/nn_internal.h"

int aie_nn_graph_init(NnGraph *g, int in_channels)
{
    memset(g, 0, sizeof(*g));
    if (in_channels < 1 || in_channels > NN_MAX_CHANNELS)
        return AIE_EINVAL;
    g->cap = 16;
    g->nodes = calloc((size_t)g->cap, sizeof(*g->nodes));
    if (!g->nodes)
        return AIE_ENOMEM;
    g->n = 1;
    g->nodes[0].op = NN_INPUT;
    g->nodes[0].c = in_channels;
    strcpy(g->nodes[0].name, "input");
    g->output = -1;
    strcpy(g->format, "graph");
    return 0;
}

static void node_clear(NnNode *n)
{
    free(n->w);
    free(n->b);
    free(n->wpack);
    free(n->bpack);
    free(n->slopes);
}

void aie_nn_graph_clear(NnGraph *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n; i++)
        node_clear(&g->nodes[i]);
    free(g->nodes);
    memset(g, 0, sizeof(*g));
}

/* A new node reading `in[0..nin)`; NULL when an input does not exist. */
static NnNode *add_node(NnGraph *g, NnOp op, const int *in, int nin, int *index)
{
    if (nin > NN_MAX_INPUTS || nin < 1)
        return NULL;
    for (int i = 0; i < nin; i++)
        if (in[i] < 0 || in[i] >= g->n)
            return NULL;
    if (g->n >= NN_MAX_NODES)
        return NULL;
    if (g->n == g->cap) {
        NnNode *nn = realloc(g->nodes, sizeof(*nn) * (size_t)g->cap * 2);
        if (!nn)
            return NULL;
        memset(nn + g->cap, 0, sizeof(*nn) * (size_t)g->cap);
        g->nodes = nn;
        g->cap *= 2;
    }
    NnNode *n = &g->nodes[g->n];
    memset(n, 0, sizeof(*n));
    n->op = op;
    n->nin = nin;
    memcpy(n->in, in, sizeof(*in) * (size_t)nin);
    *index = g->n++;
    return n;
}

static float *copy_floats(const float *src, size_t n, size_t alloc)
{
    float *d = calloc(alloc ? alloc : 1, sizeof(*d));
    if (d && src)
        memcpy(d, src, sizeof(*d) * n);
    return d;
}

static size_t padded(int c) { return (size_t)(c + NN_BLOCK - 1) / NN_BLOCK * NN_BLOCK; }

int aie_nn_conv(NnGraph *g, int in, int cout, int kh, int kw, NnPad pad, const float *w,
                const float *b, int act, float slope, const float *slopes)
{
    if (in < 0 || in >= g->n || cout < 1 || cout > NN_MAX_CHANNELS || kh < 1 || kh > 7 || kw < 1 || kw > 7 ||
        (pad != NN_PAD_VALID && (!(kh & 1) || !(kw & 1))) || act < 0 || act > NN_ACT_PRELU || !w ||
        (act == NN_ACT_PRELU && !slopes))
        return AIE_EINVAL;
    int cin = g->nodes[in].c, idx;
    NnNode *n = add_node(g, NN_CONV, &in, 1, &idx);
    if (!n)
        return AIE_ENOMEM;
    n->c = cout;
    n->cin = cin;
    n->kh = kh;
    n->kw = kw;
    n->pad = pad;
    n->act = act;
    n->slope = slope;
    size_t nw = (size_t)cout * (size_t)cin * (size_t)kh * (size_t)kw;
    n->w = copy_floats(w, nw, nw);
    n->b = copy_floats(b, b ? (size_t)cout : 0, (size_t)cout);
    if (act == NN_ACT_PRELU)
        n->slopes = copy_floats(slopes, (size_t)cout, padded(cout));
    if (!n->w || !n->b || (act == NN_ACT_PRELU && !n->slopes))
        return AIE_ENOMEM; /* the node stays; aie_nn_graph_clear() frees it */
    return idx;
}

int aie_nn_act(NnGraph *g, int in, int act, float slope, const float *slopes)
{
    if (in < 0 || in >= g->n || act < NN_ACT_RELU || act > NN_ACT_PRELU || (act == NN_ACT_PRELU && !slopes))
        return AIE_EINVAL;
    int idx, c = g->nodes[in].c;
    NnNode *n = add_node(g, NN_ACT, &in, 1, &idx);
    if (!n)
        return AIE_ENOMEM;
    n->c = c;
    n->act = act;
    n->slope = slope;
    if (act == NN_ACT_PRELU && !(n->slopes = copy_floats(slopes, (size_t)c, padded(c))))
        return AIE_ENOMEM;
    return idx;
}

int aie_nn_crelu(NnGraph *g, int in)
{
    if (in < 0 || in >= g->n)
        return AIE_EINVAL;
    int idx, c = g->nodes[in].c;
    if (2 * c > NN_MAX_CHANNELS)
        return AIE_EINVAL;
    NnNode *n = add_node(g, NN_CRELU, &in, 1, &idx);
    if (!n)
        return AIE_ENOMEM;
    n->c = 2 * c;
    return idx;
}

int aie_nn_concat(NnGraph *g, const int *in, int nin)
{
    if (nin < 1 || nin > NN_MAX_INPUTS)
        return AIE_EINVAL;
    int c = 0;
    for (int i = 0; i < nin; i++) {
        if (in[i] < 0 || in[i] >= g->n)
            return AIE_EINVAL;
        c += g->nodes[in[i]].c;
    }
    if (c > NN_MAX_CHANNELS)
        return AIE_EINVAL;
    int idx;
    NnNode *n = add_node(g, NN_CONCAT, in, nin, &idx);
    if (!n)
        return AIE_ENOMEM;
    n->c = c;
    return idx;
}

int aie_nn_add(NnGraph *g, int a, int b)
{
    if (a < 0 || a >= g->n || b < 0 || b >= g->n)
        return AIE_EINVAL;
    int ca = g->nodes[a].c, cb = g->nodes[b].c;
    if (cb != 1 && cb < ca)
        return AIE_EINVAL;
    int in[2] = {a, b}, idx;
    NnNode *n = add_node(g, NN_ADD, in, 2, &idx);
    if (!n)
        return AIE_ENOMEM;
    n->c = ca;
    return idx;
}

int aie_nn_shuffle(NnGraph *g, int in, int r, int order)
{
    if (in < 0 || in >= g->n || r < 1 || r > 8 || g->nodes[in].c % (r * r) ||
        (order != NN_SHUFFLE_TORCH && order != NN_SHUFFLE_TF))
        return AIE_EINVAL;
    int idx, c = g->nodes[in].c / (r * r);
    NnNode *n = add_node(g, NN_SHUFFLE, &in, 1, &idx);
    if (!n)
        return AIE_ENOMEM;
    n->c = c;
    n->r = r;
    n->mode = order;
    return idx;
}

int aie_nn_upsample(NnGraph *g, int in, int r, int mode)
{
    if (in < 0 || in >= g->n || r < 1 || r > 8 || (mode != NN_UP_NEAREST && mode != NN_UP_BILINEAR))
        return AIE_EINVAL;
    int idx, c = g->nodes[in].c;
    NnNode *n = add_node(g, NN_UPSAMPLE, &in, 1, &idx);
    if (!n)
        return AIE_ENOMEM;
    n->c = c;
    n->r = r;
    n->mode = mode;
    return idx;
}

int aie_nn_resize(NnGraph *g, int in, int num, int den)
{
    if (in < 0 || in >= g->n || num < 1 || den < 1 || num > 64 || den > 64)
        return AIE_EINVAL;
    int idx, c = g->nodes[in].c;
    NnNode *n = add_node(g, NN_RESIZE, &in, 1, &idx);
    if (!n)
        return AIE_ENOMEM;
    n->c = c;
    n->num = num;
    n->den = den;
    return idx;
}

int aie_nn_pad(NnGraph *g, int in, int p, NnPad mode)
{
    if (in < 0 || in >= g->n || p < 0 || p > 64 || mode == NN_PAD_VALID)
        return AIE_EINVAL;
    int idx, c = g->nodes[in].c;
    NnNode *n = add_node(g, NN_PAD, &in, 1, &idx);
    if (!n)
        return AIE_ENOMEM;
    n->c = c;
    n->p = p;
    n->pad = mode;
    return idx;
}

void aie_nn_name(NnGraph *g, int node, const char *name)
{
    if (node >= 0 && node < g->n)
        snprintf(g->nodes[node].name, sizeof(g->nodes[node].name), "%s", name);
}

static int consumers(const NnGraph *g, int node)
{
    int k = 0;
    for (int i = 0; i < g->n; i++)
        for (int j = 0; j < g->nodes[i].nin; j++)
            k += g->nodes[i].in[j] == node;
    return k + (g->output == node);
}

int aie_nn_graph_finish(NnGraph *g, int output, int out_channels)
{
    if (output < 0 || output >= g->n || out_channels < 1 || out_channels > g->nodes[output].c)
        return AIE_EINVAL;
    g->output = output;
    g->out_channels = out_channels;
    /* fuse ACT into the CONV before it when nothing else reads the CONV */
    for (int i = 1; i < g->n; i++) {
        NnNode *a = &g->nodes[i];
        if (a->op != NN_ACT)
            continue;
        NnNode *cv = &g->nodes[a->in[0]];
        if (cv->op != NN_CONV || cv->act != NN_ACT_NONE || consumers(g, a->in[0]) != 1)
            continue;
        cv->act = a->act;
        cv->slope = a->slope;
        cv->slopes = a->slopes;
        a->slopes = NULL;
        const int from = i, to = a->in[0];
        for (int k = 0; k < g->n; k++)
            for (int j = 0; j < g->nodes[k].nin; j++)
                if (g->nodes[k].in[j] == from)
                    g->nodes[k].in[j] = to;
        if (g->output == from)
            g->output = to;
        a->nin = 0; /* dead: nothing reads it */
    }
    for (int i = 1; i < g->n; i++) {
        NnNode *n = &g->nodes[i];
        if (n->op != NN_CONV || n->wpack)
            continue;
        n->wpack = malloc(sizeof(float) * aie_conv_packed_size(n->c, n->cin, n->kh, n->kw));
        n->bpack = calloc(padded(n->c), sizeof(float));
        if (!n->wpack || !n->bpack)
            return AIE_ENOMEM;
        aie_conv_pack(n->wpack, n->w, n->c, n->cin, n->kh, n->kw);
        memcpy(n->bpack, n->b, sizeof(float) * (size_t)n->c);
    }
    return 0;
}

/* ---- sizes and receptive fields ---- */

int aie_nn_node_size(const NnGraph *g, int k, const int *sizes, int axis)
{
    const NnNode *n = &g->nodes[k];
    if (n->op == NN_INPUT)
        return sizes[axis];
    if (n->nin == 0)
        return 0;
    const int s = sizes[2 * n->in[0] + axis];
    switch (n->op) {
    case NN_CONV:
        return n->pad == NN_PAD_VALID ? s - ((axis ? n->kh : n->kw) - 1) : s;
    case NN_SHUFFLE:
    case NN_UPSAMPLE:
        return s * n->r;
    case NN_RESIZE:
        return (int)((long long)s * n->num / n->den);
    case NN_PAD:
        return s + 2 * n->p;
    default:
        return s;
    }
}

int aie_nn_graph_sizes(const NnGraph *g, int w, int h, int *sizes)
{
    sizes[0] = w;
    sizes[1] = h;
    if (w < 1 || h < 1)
        return AIE_EINVAL;
    for (int k = 1; k < g->n; k++) {
        const NnNode *n = &g->nodes[k];
        sizes[2 * k] = aie_nn_node_size(g, k, sizes, 0);
        sizes[2 * k + 1] = aie_nn_node_size(g, k, sizes, 1);
        if (n->nin == 0)
            continue; /* dead */
        if (sizes[2 * k] < 1 || sizes[2 * k + 1] < 1)
            return AIE_EINVAL;
        for (int j = 1; j < n->nin; j++)
            if (sizes[2 * n->in[j]] != sizes[2 * n->in[0]] || sizes[2 * n->in[j] + 1] != sizes[2 * n->in[0] + 1])
                return AIE_EINVAL;
        if (n->op == NN_PAD && n->pad == NN_PAD_REFLECT &&
            (n->p >= sizes[2 * n->in[0]] || n->p >= sizes[2 * n->in[0] + 1]))
            return AIE_EINVAL;
        if (n->op == NN_CONV && n->pad == NN_PAD_REFLECT &&
            (n->kw / 2 >= sizes[2 * n->in[0]] || n->kh / 2 >= sizes[2 * n->in[0] + 1]))
            return AIE_EINVAL;
    }
    return 0;
}

/* Bilinear / bicubic source positions, shared by the executor, the need
 * computation and the reference, so they agree exactly. */
void aie_nn_bilinear_src(int u, int r, int size, int *i0, int *i1, float *f)
{
    float s = ((float)u + 0.5f) / (float)r - 0.5f;
    int fl = (int)floorf(s);
    *f = s - (float)fl;
    *i0 = fl < 0 ? 0 : fl > size - 1 ? size - 1 : fl;
    *i1 = fl + 1 < 0 ? 0 : fl + 1 > size - 1 ? size - 1 : fl + 1;
}

void aie_nn_cubic_src(int u, int in_size, int out_size, int idx[4], float wt[4])
{
    const double scale = (double)in_size / out_size;
    float fx = (float)((u + 0.5) * scale - 0.5);
    int sx = (int)floorf(fx);
    fx -= (float)sx;
    const float A = -0.75f;
    float fx0 = fx + 1, fx1 = fx, fx2 = 1 - fx;
    wt[0] = A * fx0 * fx0 * fx0 - 5 * A * fx0 * fx0 + 8 * A * fx0 - 4 * A;
    wt[1] = (A + 2) * fx1 * fx1 * fx1 - (A + 3) * fx1 * fx1 + 1;
    wt[2] = (A + 2) * fx2 * fx2 * fx2 - (A + 3) * fx2 * fx2 + 1;
    wt[3] = 1.f - wt[0] - wt[1] - wt[2];
    for (int k = 0; k < 4; k++) {
        int v = sx - 1 + k;
        idx[k] = v < 0 ? 0 : v > in_size - 1 ? in_size - 1 : v;
    }
}

int aie_nn_pad_src(int u, int p, int size, NnPad mode)
{
    int v = u - p;
    if (v >= 0 && v < size)
        return v;
    switch (mode) {
    case NN_PAD_REPLICATE: return v < 0 ? 0 : size - 1;
    case NN_PAD_REFLECT: return v < 0 ? -v : 2 * (size - 1) - v;
    default: return -1; /* zero */
    }
}

void aie_nn_need(const NnGraph *g, int k, int j, const int *sizes, int axis, int a, int b, int *lo,
                 int *hi)
{
    const NnNode *n = &g->nodes[k];
    const int in = n->in[j], s_in = sizes[2 * in + axis], s_out = sizes[2 * k + axis];
    switch (n->op) {
    case NN_CONV: {
        int kk = axis ? n->kh : n->kw;
        if (n->pad == NN_PAD_VALID) {
            *lo = a;
            *hi = b + kk - 1;
        } else {
            *lo = a - kk / 2;
            *hi = b + kk / 2;
        }
        return;
    }
    case NN_SHUFFLE:
    case NN_UPSAMPLE:
        if (n->op == NN_UPSAMPLE && n->mode == NN_UP_BILINEAR) {
            int i0, i1;
            float f;
            aie_nn_bilinear_src(a, n->r, s_in, &i0, &i1, &f);
            *lo = i0;
            aie_nn_bilinear_src(b - 1, n->r, s_in, &i0, &i1, &f);
            *hi = i1 + 1;
        } else {
            *lo = a / n->r;
            *hi = (b - 1) / n->r + 1;
        }
        return;
    case NN_RESIZE: {
        int idx[4];
        float w[4];
        aie_nn_cubic_src(a, s_in, s_out, idx, w);
        *lo = idx[0];
        aie_nn_cubic_src(b - 1, s_in, s_out, idx, w);
        *hi = idx[3] + 1;
        return;
    }
    case NN_PAD: {
        int l = s_in, h = -1;
        for (int u = a; u < b; u++) {
            int v = aie_nn_pad_src(u, n->p, s_in, n->pad);
            if (v < 0)
                continue;
            if (v < l)
                l = v;
            if (v > h)
                h = v;
        }
        if (h < 0) { /* all zeros: read one sample anyway, so the region is not empty */
            l = 0;
            h = 0;
        }
        *lo = l;
        *hi = h + 1;
        return;
    }
    default:
        *lo = a;
        *hi = b;
        return;
    }
}

void aie_nn_regions(const NnGraph *g, const int *sizes, int axis, int a, int b, NnIv *E, NnIv *R)
{
    for (int k = 0; k < g->n; k++) {
        E[k].lo = R[k].lo = 0;
        E[k].hi = R[k].hi = 0;
    }
    E[g->output].lo = a;
    E[g->output].hi = b;
    for (int k = g->n - 1; k >= 0; k--) {
        if (E[k].lo >= E[k].hi)
            continue;
        /* aie_nn_graph_sizes() filled sizes[] for all g->n nodes */
        const int size = sizes[2 * k + axis]; /* NOLINT(clang-analyzer-core.uninitialized.Assign) */
        R[k].lo = E[k].lo < 0 ? 0 : E[k].lo;
        R[k].hi = E[k].hi > size ? size : E[k].hi;
        if (R[k].lo >= R[k].hi)
            continue;
        const NnNode *n = &g->nodes[k];
        for (int j = 0; j < n->nin; j++) {
            int lo, hi, in = n->in[j];
            aie_nn_need(g, k, j, sizes, axis, R[k].lo, R[k].hi, &lo, &hi);
            if (E[in].lo >= E[in].hi) {
                E[in].lo = lo;
                E[in].hi = hi;
            } else {
                if (lo < E[in].lo)
                    E[in].lo = lo;
                if (hi > E[in].hi)
                    E[in].hi = hi;
            }
        }
    }
}

int aie_nn_context(const NnGraph *g, const int *sizes)
{
    NnIv *E = malloc(sizeof(*E) * 2 * (size_t)g->n);
    if (!E)
        return -1; /* out of memory */
    int ctx = 0;
    for (int axis = 0; axis < 2; axis++) {
        int s = sizes[2 * g->output + axis], in = sizes[axis];
        aie_nn_regions(g, sizes, axis, s / 2, s / 2 + 1, E, E + g->n);
        int mid = (int)((long long)(s / 2) * in / s);
        int c = mid - E[0].lo > E[0].hi - 1 - mid ? mid - E[0].lo : E[0].hi - 1 - mid;
        if (c > ctx)
            ctx = c;
    }
    free(E);
    return ctx;
}

double aie_nn_graph_flops(const NnGraph *g)
{
    /* on a large input, exact per-node sizes divided by the input area */
    const int W = 1024, H = 1024;
    int *sizes = malloc(sizeof(int) * 2 * (size_t)g->n);
    if (!sizes)
        return -1; /* out of memory */
    double f = 0;
    if (aie_nn_graph_sizes(g, W, H, sizes) == 0)
        for (int k = 1; k < g->n; k++) {
            const NnNode *n = &g->nodes[k];
            if (n->op == NN_CONV && n->nin)
                f += 2.0 * n->c * n->cin * n->kh * n->kw * (double)sizes[2 * k] * sizes[2 * k + 1];
        }
    free(sizes);
    return f / ((double)W * H);
}

/* ---- the model object ---- */

int aie_nn_model_from_graph(AieNnModel **out, NnGraph *g)
{
    *out = NULL;
    if (g->output < 0 || g->output >= g->n)
        return AIE_EINVAL;
    AieNnModel *m = calloc(1, sizeof(*m));
    if (!m)
        return AIE_ENOMEM;
    m->g = *g;
    memset(g, 0, sizeof(*g));
    /* scale: output size over input size, from a large input */
    int *sizes = malloc(sizeof(int) * 2 * (size_t)m->g.n);
    if (!sizes || aie_nn_graph_sizes(&m->g, 720, 720, sizes)) {
        free(sizes);
        aie_nn_free(&m);
        return sizes ? AIE_EINVAL : AIE_ENOMEM;
    }
    int ow = sizes[2 * m->g.output];
    int a = (int)aie_gcd64(ow, 720);
    m->scale_num = ow / a;
    m->scale_den = 720 / a;
    /* context: what one output pixel in the middle needs of the input */
    m->context = aie_nn_context(&m->g, sizes);
    free(sizes);
    if (m->context < 0) {
        aie_nn_free(&m);
        return AIE_ENOMEM;
    }
    m->flops = aie_nn_graph_flops(&m->g);
    if (m->flops < 0) {
        aie_nn_free(&m);
        return AIE_ENOMEM;
    }
    for (int k = 0; k < m->g.n; k++)
        m->layers += m->g.nodes[k].op == NN_CONV && m->g.nodes[k].nin;
    *out = m;
    return 0;
}

const NnGraph *aie_nn_model_graph(const AieNnModel *m) { return &m->g; }

void aie_nn_free(AieNnModel **m)
{
    if (!m || !*m)
        return;
    aie_nn_graph_clear(&(*m)->g);
    free(*m);
    *m = NULL;
}

void aie_nn_info(const AieNnModel *m, AieNnInfo *info)
{
    memset(info, 0, sizeof(*info));
    info->name = m->g.name;
    info->format = m->g.format;
    info->in_channels = m->g.nodes[0].c;
    info->out_channels = m->g.out_channels;
    info->scale_num = m->scale_num;
    info->scale_den = m->scale_den;
    info->layers = m->layers;
    info->flops_per_pixel = m->flops;
    info->context = m->context;
}
