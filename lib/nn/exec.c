/*
 * The executor: runs a graph over an image tile by tile, tiles in parallel.
 *
 * Tiles. The output is cut into a grid of nearly equal tiles (side: the tile
 * size times the model's scale). For each tile, aie_nn_regions() works out,
 * node by node from the output back to the input, the rectangle R each node
 * must compute (its part of the tile's receptive field, clipped to the node)
 * and the extent E of its buffer (R plus the padding its same-padded
 * convolutions read past the image edges). A node computes exactly R, and
 * padding is made only at the image edges, from the node's own samples, as
 * the untiled pass does; so every output sample is computed from the same
 * inputs by the same arithmetic whatever the tile, and the tiled result
 * equals the untiled one bit for bit.
 *
 * Memory. Buffers are NCHW16c (dsp/conv.h), or NCHW4c / NCHW8c for tensors
 * of at most 4 / 8 channels that no convolution writes (the RGB images at
 * the model's scale), inside one arena per thread. The
 * plan gives every node a fixed offset: the node's largest extent over all
 * tiles, placed first-fit among the buffers alive when it runs (a buffer
 * lives from its node to its last reader), so a border tile uses the same
 * offsets as an interior one. A thread allocates its arena when it first
 * needs it and keeps it for later tiles and frames (and shrinks it after the
 * tile side was halved). The held total is counted: when an arena would take
 * it over the cap, or malloc fails, the tile fails with AIE_ENOMEM, the tile
 * side is halved and the frame runs again.
 */
#include <stdatomic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "dsp/conv.h"
#include "nn/graph.h"
#include "nn/nn_internal.h"

#define BLK NN_BLOCK
#define DEFAULT_TOTAL ((size_t)1 << 30)   /* automatic tile: scratch of all threads */
#define MIN_BUDGET ((size_t)64 << 20)      /* ... and at least this per thread */

typedef struct Scratch {
    float *buf;
    size_t bytes;
    char pad[64 - sizeof(float *) - sizeof(size_t)];
} Scratch;

struct AieNnExec {
    const AieNnModel *m;
    AieConvDSP dsp;
    atomic_int tile;
    atomic_int halvings;
    size_t cap;            /* 0: none */
    int workers;
    int check_finite;      /* scan every output tile for NaN and infinities */
    Scratch *scratch;      /* [workers] */
    atomic_size_t held, peak;
};

/* A node's buffer in a tile. */
typedef struct View {
    float *data;
    int c;
    int lanes;             /* channels per block: 16, or 4 / 8 for narrow tensors */
    int x0, y0, w, h;      /* extent E */
    ptrdiff_t row, plane;  /* floats */
} View;

static inline float *at(const View *v, int blk, int y, int x)
{
    return v->data + blk * v->plane + (ptrdiff_t)(y - v->y0) * v->row + (ptrdiff_t)(x - v->x0) * v->lanes;
}

static inline int blocks(int c) { return (c + BLK - 1) / BLK; }
static inline int vblocks(const View *v) { return (v->c + v->lanes - 1) / v->lanes; }

/* Channels per block of node k: convolutions write whole 16-lane vectors;
 * other tensors of few channels (RGB images at 2x or 4x) are packed 4 or 8
 * to a pixel, which saves most of their memory. */
static int node_lanes(const NnGraph *g, int k)
{
    const NnNode *n = &g->nodes[k];
    if (n->op == NN_CONV || n->c > 8)
        return BLK;
    return n->c > 4 ? 8 : 4;
}

/* ---- the plan of one run ---- */

typedef struct Plan {
    int tile;
    int nx, ny;
    int *sizes;            /* [2n] */
    NnIv *ex, *rx;         /* [nx][n]: extents and regions along x per tile column */
    NnIv *ey, *ry;         /* [ny][n] */
    int *xs, *ys;          /* tile edges in output pixels, [nx + 1], [ny + 1] */
    size_t *off;           /* [n] floats */
    int *lanes;            /* [n] */
    size_t arena;          /* bytes */
} Plan;

static void plan_free(Plan *p)
{
    free(p->sizes);
    free(p->ex);
    free(p->rx);
    free(p->ey);
    free(p->ry);
    free(p->xs);
    free(p->ys);
    free(p->off);
    free(p->lanes);
    memset(p, 0, sizeof(*p));
}

static int split(int size, int side, int **edges)
{
    int n = (size + side - 1) / side;
    if (n < 1)
        n = 1;
    *edges = malloc(sizeof(int) * (size_t)(n + 1));
    if (!*edges)
        return -1;
    for (int i = 0; i <= n; i++)
        (*edges)[i] = (int)((long long)size * i / n);
    return n;
}

static int plan_make(Plan *p, const AieNnModel *m, int w, int h, int tile)
{
    const NnGraph *g = &m->g;
    const int n = g->n;
    memset(p, 0, sizeof(*p));
    p->tile = tile;
    int err = AIE_ENOMEM;
    int *last = NULL, *maxw = NULL;
    size_t *need = NULL;
    p->sizes = malloc(sizeof(int) * 2 * (size_t)n);
    if (!p->sizes)
        goto fail;
    if ((err = aie_nn_graph_sizes(g, w, h, p->sizes)))
        goto fail;
    err = AIE_ENOMEM;
    const int ow = p->sizes[2 * g->output], oh = p->sizes[2 * g->output + 1];
    long long side = ((long long)tile * m->scale_num + m->scale_den - 1) / m->scale_den;
    if (side < 1)
        side = 1;
    if (side > 1 << 20)
        side = 1 << 20;
    if ((p->nx = split(ow, (int)side, &p->xs)) < 0 || (p->ny = split(oh, (int)side, &p->ys)) < 0)
        goto fail;
    p->ex = malloc(sizeof(NnIv) * (size_t)n * (size_t)p->nx);
    p->rx = malloc(sizeof(NnIv) * (size_t)n * (size_t)p->nx);
    p->ey = malloc(sizeof(NnIv) * (size_t)n * (size_t)p->ny);
    p->ry = malloc(sizeof(NnIv) * (size_t)n * (size_t)p->ny);
    p->off = calloc((size_t)n, sizeof(size_t));
    p->lanes = malloc(sizeof(int) * (size_t)n);
    last = malloc(sizeof(int) * (size_t)n);
    need = calloc((size_t)n, sizeof(size_t));
    maxw = calloc((size_t)n * 2, sizeof(int));
    if (!p->ex || !p->rx || !p->ey || !p->ry || !p->off || !p->lanes || !last || !need || !maxw)
        goto fail;
    int *maxh = maxw + n;
    for (int i = 0; i < p->nx; i++) {
        aie_nn_regions(g, p->sizes, 0, p->xs[i], p->xs[i + 1], p->ex + (size_t)i * n, p->rx + (size_t)i * n);
        for (int k = 0; k < n; k++) {
            NnIv e = p->ex[(size_t)i * n + k];
            if (e.hi - e.lo > maxw[k])
                maxw[k] = e.hi - e.lo;
        }
    }
    for (int j = 0; j < p->ny; j++) {
        aie_nn_regions(g, p->sizes, 1, p->ys[j], p->ys[j + 1], p->ey + (size_t)j * n, p->ry + (size_t)j * n);
        for (int k = 0; k < n; k++) {
            NnIv e = p->ey[(size_t)j * n + k];
            if (e.hi - e.lo > maxh[k])
                maxh[k] = e.hi - e.lo;
        }
    }
    /* lifetimes: a buffer lives until its last reader has run */
    for (int k = 0; k < n; k++) {
        const int l = p->lanes[k] = node_lanes(g, k);
        need[k] = maxw[k] > 0 && maxh[k] > 0
                      ? (size_t)((g->nodes[k].c + l - 1) / l) * (size_t)l * (size_t)maxw[k] * (size_t)maxh[k]
                      : 0;
        last[k] = k;
    }
    for (int k = 0; k < n; k++)
        for (int j = 0; j < g->nodes[k].nin; j++)
            if (last[g->nodes[k].in[j]] < k)
                last[g->nodes[k].in[j]] = k;
    last[g->output] = n;
    /* first fit among the buffers alive at node k's turn */
    size_t top = 0;
    for (int k = 0; k < n; k++) {
        if (!need[k])
            continue;
        size_t cand = 0;
        for (int again = 1; again;) {
            again = 0;
            for (int i = 0; i < k; i++) {
                if (!need[i] || last[i] < k)
                    continue;
                if (cand < p->off[i] + need[i] && p->off[i] < cand + need[k]) {
                    cand = (p->off[i] + need[i] + 15) / 16 * 16; /* 64-byte aligned */
                    again = 1;
                }
            }
        }
        p->off[k] = cand;
        if (cand + need[k] > top)
            top = cand + need[k];
    }
    p->arena = top * sizeof(float) + 64;
    err = 0;
fail:
    free(last);
    free(need);
    free(maxw);
    if (err)
        plan_free(p);
    return err;
}

/* ---- operators on views ---- */

/* Fill the part of v's extent outside the node (size sw x sh) from the samples
 * inside it, as `mode` pads. */
static void fill_border(View *v, int sw, int sh, NnPad mode)
{
    const int x0 = v->x0, x1 = v->x0 + v->w, y0 = v->y0, y1 = v->y0 + v->h;
    if (x0 >= 0 && y0 >= 0 && x1 <= sw && y1 <= sh)
        return;
    const int nb = vblocks(v), L = v->lanes;
    const int iy0 = y0 < 0 ? 0 : y0, iy1 = y1 > sh ? sh : y1;
    for (int b = 0; b < nb; b++) {
        /* rows inside: the columns outside */
        for (int y = iy0; y < iy1; y++)
            for (int x = x0; x < x1; x++) {
                if (x >= 0 && x < sw)
                    continue;
                float *d = at(v, b, y, x);
                if (mode == NN_PAD_ZERO) {
                    memset(d, 0, sizeof(float) * (size_t)L);
                } else {
                    int sx = mode == NN_PAD_REPLICATE ? (x < 0 ? 0 : sw - 1) : (x < 0 ? -x : 2 * (sw - 1) - x);
                    memcpy(d, at(v, b, y, sx), sizeof(float) * (size_t)L);
                }
            }
        /* rows outside: whole rows */
        for (int y = y0; y < y1; y++) {
            if (y >= 0 && y < sh)
                continue;
            float *d = at(v, b, y, x0);
            if (mode == NN_PAD_ZERO) {
                memset(d, 0, sizeof(float) * (size_t)L * (size_t)v->w);
            } else {
                int sy = mode == NN_PAD_REPLICATE ? (y < 0 ? 0 : sh - 1) : (y < 0 ? -y : 2 * (sh - 1) - y);
                memcpy(d, at(v, b, sy, x0), sizeof(float) * (size_t)L * (size_t)v->w);
            }
        }
    }
}

static inline float *chan(const View *v, int c, int y, int x) { return at(v, c / v->lanes, y, x) + c % v->lanes; }

static void op_input(View *o, const AieNnImage *in, NnIv rx, NnIv ry)
{
    for (int c = 0; c < o->c; c++)
        for (int y = ry.lo; y < ry.hi; y++) {
            const float *s = in->data + c * in->plane + y * in->row;
            float *d = chan(o, c, y, o->x0);
            for (int x = rx.lo; x < rx.hi; x++)
                d[(ptrdiff_t)(x - o->x0) * o->lanes] = s[x];
        }
}

/* Offset of channel c from a pixel's sample in block 0. */
static inline ptrdiff_t coff(const View *v, int c) { return (c / v->lanes) * v->plane + c % v->lanes; }

#define MAX_CH NN_MAX_CHANNELS

static void op_act(View *o, const View *a, const NnNode *n, NnIv rx, NnIv ry)
{
    for (int c = 0; c < o->c; c++) {
        const float s = n->act == NN_ACT_PRELU ? n->slopes[c] : n->act == NN_ACT_LEAKY ? n->slope : 0.0f;
        for (int y = ry.lo; y < ry.hi; y++) {
            const float *src = chan(a, c, y, rx.lo);
            float *d = chan(o, c, y, rx.lo);
            for (int x = 0; x < rx.hi - rx.lo; x++) {
                float v = src[x * a->lanes];
                d[x * o->lanes] = v < 0.0f ? v * s : v;
            }
        }
    }
}

/* [relu(x), relu(-x)] */
static void op_crelu(View *o, const View *a, NnIv rx, NnIv ry)
{
    const int C = a->c, w = rx.hi - rx.lo;
    if (C % BLK == 0 && a->lanes == BLK && o->lanes == BLK) { /* whole blocks: rows are contiguous */
        for (int b = 0; b < C / BLK; b++)
            for (int y = ry.lo; y < ry.hi; y++) {
                const float *s = at(a, b, y, rx.lo);
                float *dp = at(o, b, y, rx.lo), *dn = at(o, b + C / BLK, y, rx.lo);
                for (int i = 0; i < w * BLK; i++) {
                    float v = s[i];
                    dp[i] = v > 0.0f ? v : 0.0f;
                    dn[i] = v < 0.0f ? -v : 0.0f;
                }
            }
        return;
    }
    ptrdiff_t io[MAX_CH], op[MAX_CH], on[MAX_CH];
    for (int c = 0; c < C; c++) {
        io[c] = coff(a, c);
        op[c] = coff(o, c);
        on[c] = coff(o, c + C);
    }
    for (int y = ry.lo; y < ry.hi; y++) {
        const float *s = at(a, 0, y, rx.lo);
        float *d = at(o, 0, y, rx.lo);
        for (int x = 0; x < w; x++, s += a->lanes, d += o->lanes)
            for (int c = 0; c < C; c++) {
                float v = s[io[c]];
                d[op[c]] = v > 0.0f ? v : 0.0f;
                d[on[c]] = v < 0.0f ? -v : 0.0f;
            }
    }
}

static void op_concat(View *o, View *const *ins, int nin, NnIv rx, NnIv ry)
{
    int base = 0;
    for (int i = 0; i < nin; i++) {
        const View *a = ins[i];
        if (a->lanes == o->lanes && base % o->lanes == 0) {
            /* block aligned: whole rows of blocks (lanes past a->c are
             * overwritten by the next input, or are padding) */
            for (int b = 0; b < vblocks(a); b++)
                for (int y = ry.lo; y < ry.hi; y++)
                    memcpy(at(o, base / o->lanes + b, y, rx.lo), at(a, b, y, rx.lo),
                           sizeof(float) * (size_t)o->lanes * (size_t)(rx.hi - rx.lo));
            base += a->c;
            continue;
        }
        ptrdiff_t io[MAX_CH] = {0}, oo[MAX_CH] = {0}; /* only [0, a->c) is used */
        for (int c = 0; c < a->c; c++) {
            io[c] = coff(a, c);
            oo[c] = coff(o, base + c);
        }
        for (int y = ry.lo; y < ry.hi; y++) {
            const float *s = at(a, 0, y, rx.lo);
            float *d = at(o, 0, y, rx.lo);
            for (int x = 0; x < rx.hi - rx.lo; x++, s += a->lanes, d += o->lanes)
                for (int c = 0; c < a->c; c++)
                    d[oo[c]] = s[io[c]];
        }
        base += a->c;
    }
}

static void op_add(View *o, const View *a, const View *b, NnIv rx, NnIv ry)
{
    const int C = o->c;
    ptrdiff_t ao[MAX_CH], bo[MAX_CH], oo[MAX_CH];
    for (int c = 0; c < C; c++) {
        ao[c] = coff(a, c);
        bo[c] = coff(b, b->c == 1 ? 0 : c);
        oo[c] = coff(o, c);
    }
    for (int y = ry.lo; y < ry.hi; y++) {
        const float *sa = at(a, 0, y, rx.lo), *sb = at(b, 0, y, rx.lo);
        float *d = at(o, 0, y, rx.lo);
        for (int x = 0; x < rx.hi - rx.lo; x++, sa += a->lanes, sb += b->lanes, d += o->lanes)
            for (int c = 0; c < C; c++)
                d[oo[c]] = sa[ao[c]] + sb[bo[c]];
    }
}

static void op_shuffle(View *o, const View *a, const NnNode *n, NnIv rx, NnIv ry)
{
    const int r = n->r, C = o->c;
    if (C * r * r > MAX_CH)
        return;
    /* source offsets of every (i, j, c) */
    static _Thread_local ptrdiff_t so[MAX_CH];
    ptrdiff_t oo[MAX_CH];
    for (int c = 0; c < C; c++) {
        oo[c] = coff(o, c);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++) {
                const int k = n->mode == NN_SHUFFLE_TORCH ? c * r * r + i * r + j : (i * r + j) * C + c;
                so[(i * r + j) * C + c] = coff(a, k);
            }
    }
    for (int y = ry.lo; y < ry.hi; y++) {
        const int i = y % r;
        float *d = at(o, 0, y, rx.lo);
        for (int x = rx.lo; x < rx.hi; x++, d += o->lanes) {
            const float *s = at(a, 0, y / r, x / r);
            const ptrdiff_t *m = so + (i * r + x % r) * C;
            for (int c = 0; c < C; c++)
                d[oo[c]] = s[m[c]];
        }
    }
}

static void op_upsample(View *o, const View *a, const NnNode *n, int sw, int sh, NnIv rx, NnIv ry)
{
    const int r = n->r, C = o->c, w = rx.hi - rx.lo;
    ptrdiff_t io[MAX_CH], oo[MAX_CH];
    for (int c = 0; c < C; c++) {
        io[c] = coff(a, c);
        oo[c] = coff(o, c);
    }
    for (int y = ry.lo; y < ry.hi; y++) {
        float *d = at(o, 0, y, rx.lo);
        if (n->mode == NN_UP_NEAREST) {
            for (int x = rx.lo; x < rx.hi; x++, d += o->lanes) {
                const float *s = at(a, 0, y / r, x / r);
                for (int c = 0; c < C; c++)
                    d[oo[c]] = s[io[c]];
            }
            continue;
        }
        int y0, y1;
        float fy;
        aie_nn_bilinear_src(y, r, sh, &y0, &y1, &fy);
        for (int x = 0; x < w; x++, d += o->lanes) {
            int x0, x1;
            float fx;
            aie_nn_bilinear_src(rx.lo + x, r, sw, &x0, &x1, &fx);
            const float *p00 = at(a, 0, y0, x0), *p01 = at(a, 0, y0, x1);
            const float *p10 = at(a, 0, y1, x0), *p11 = at(a, 0, y1, x1);
            for (int c = 0; c < C; c++) {
                const ptrdiff_t k = io[c];
                float t = p00[k] + fx * (p01[k] - p00[k]);
                float b = p10[k] + fx * (p11[k] - p10[k]);
                d[oo[c]] = t + fy * (b - t);
            }
        }
    }
}

static void op_resize(View *o, const View *a, int sw, int sh, int dw, int dh, NnIv rx, NnIv ry)
{
    for (int y = ry.lo; y < ry.hi; y++) {
        int iy[4];
        float wy[4];
        aie_nn_cubic_src(y, sh, dh, iy, wy);
        for (int x = rx.lo; x < rx.hi; x++) {
            int ix[4];
            float wx[4];
            aie_nn_cubic_src(x, sw, dw, ix, wx);
            for (int c = 0; c < o->c; c++) {
                float acc = 0.0f;
                for (int i = 0; i < 4; i++) {
                    float rowv = 0.0f;
                    for (int j = 0; j < 4; j++)
                        rowv += wx[j] * *chan(a, c, iy[i], ix[j]);
                    acc += wy[i] * rowv;
                }
                *chan(o, c, y, x) = acc;
            }
        }
    }
}

static void op_pad(View *o, const View *a, const NnNode *n, int sw, int sh, NnIv rx, NnIv ry)
{
    for (int c = 0; c < o->c; c++)
        for (int y = ry.lo; y < ry.hi; y++) {
            int sy = aie_nn_pad_src(y, n->p, sh, n->pad);
            for (int x = rx.lo; x < rx.hi; x++) {
                int sx = aie_nn_pad_src(x, n->p, sw, n->pad);
                *chan(o, c, y, x) = sx < 0 || sy < 0 ? 0.0f : *chan(a, c, sy, sx);
            }
        }
}

static void op_conv(const AieConvDSP *dsp, View *o, View *a, const NnNode *n, int sw, int sh, NnIv rx,
                    NnIv ry)
{
    int px = 0, py = 0;
    if (n->pad != NN_PAD_VALID) {
        fill_border(a, sw, sh, n->pad);
        px = n->kw / 2;
        py = n->kh / 2;
    }
    AieConvArgs args = {
        .cin = n->cin, .cout_blocks = blocks(n->c), .kh = n->kh, .kw = n->kw,
        .out_w = rx.hi - rx.lo, .out_h = ry.hi - ry.lo,
        .src_row = a->row, .src_plane = a->plane, .src_lanes = a->lanes, .dst_row = o->row,
        .dst_plane = o->plane, .act = n->act, .slope = n->slope, .slopes = n->slopes,
    };
    dsp->conv(at(o, 0, ry.lo, rx.lo), at(a, 0, ry.lo - py, rx.lo - px), n->wpack, n->bpack, &args);
}

/* Run tile (tx, ty) on arena buf. */
/* Returns 0, or AIE_ENONFINITE when checking and the tile's output holds a
 * NaN or an infinity. */
static int run_tile(const AieNnExec *e, const Plan *p, int tx, int ty, float *buf, const AieNnImage *in,
                    AieNnImage *out)
{
    const NnGraph *g = &e->m->g;
    const int n = g->n;
    View v[NN_MAX_NODES];
    const NnIv *EX = p->ex + (size_t)tx * n, *RX = p->rx + (size_t)tx * n;
    const NnIv *EY = p->ey + (size_t)ty * n, *RY = p->ry + (size_t)ty * n;
    for (int k = 0; k < n; k++) {
        const NnNode *nd = &g->nodes[k];
        v[k] = (View){.data = buf + p->off[k], .c = nd->c, .lanes = p->lanes[k], .x0 = EX[k].lo,
                      .y0 = EY[k].lo, .w = EX[k].hi - EX[k].lo, .h = EY[k].hi - EY[k].lo};
        if (v[k].w <= 0 || v[k].h <= 0 || RX[k].lo >= RX[k].hi || RY[k].lo >= RY[k].hi)
            continue;
        v[k].row = (ptrdiff_t)v[k].w * v[k].lanes;
        v[k].plane = v[k].row * v[k].h;
        const int sw = nd->nin ? p->sizes[2 * nd->in[0]] : 0, sh = nd->nin ? p->sizes[2 * nd->in[0] + 1] : 0;
        View *a = &v[nd->nin ? nd->in[0] : k]; /* an input node has none: itself, unused */
        switch (nd->op) {
        case NN_INPUT: op_input(&v[k], in, RX[k], RY[k]); break;
        case NN_CONV: op_conv(&e->dsp, &v[k], a, nd, sw, sh, RX[k], RY[k]); break;
        case NN_ACT: op_act(&v[k], a, nd, RX[k], RY[k]); break;
        case NN_CRELU: op_crelu(&v[k], a, RX[k], RY[k]); break;
        case NN_CONCAT: {
            View *ins[NN_MAX_INPUTS];
            for (int j = 0; j < nd->nin; j++)
                ins[j] = &v[nd->in[j]];
            op_concat(&v[k], ins, nd->nin, RX[k], RY[k]);
            break;
        }
        case NN_ADD: op_add(&v[k], a, &v[nd->in[1]], RX[k], RY[k]); break;
        case NN_SHUFFLE: op_shuffle(&v[k], a, nd, RX[k], RY[k]); break;
        case NN_UPSAMPLE: op_upsample(&v[k], a, nd, sw, sh, RX[k], RY[k]); break;
        case NN_RESIZE:
            op_resize(&v[k], a, sw, sh, p->sizes[2 * k], p->sizes[2 * k + 1], RX[k], RY[k]);
            break;
        case NN_PAD: op_pad(&v[k], a, nd, sw, sh, RX[k], RY[k]); break;
        }
    }
    /* the tile's part of the output */
    const View *o = &v[g->output];
    for (int c = 0; c < g->out_channels; c++)
        for (int y = p->ys[ty]; y < p->ys[ty + 1]; y++) {
            float *d = out->data + c * out->plane + y * out->row;
            for (int x = p->xs[tx]; x < p->xs[tx + 1]; x++)
                d[x] = *chan(o, c, y, x);
        }
    if (!e->check_finite)
        return 0;
    for (int c = 0; c < g->out_channels; c++)
        for (int y = p->ys[ty]; y < p->ys[ty + 1]; y++) {
            const float *d = out->data + c * out->plane + y * out->row;
            for (int x = p->xs[tx]; x < p->xs[tx + 1]; x++)
                if (!isfinite(d[x]))
                    return AIE_ENONFINITE;
        }
    return 0;
}

/* ---- scratch and the cap ---- */

static void note_peak(AieNnExec *e, size_t held)
{
    size_t pk = atomic_load(&e->peak);
    while (held > pk && !atomic_compare_exchange_weak(&e->peak, &pk, held))
        ;
}

/* The arena of worker w, at least `bytes` (shrunk when much larger). */
static float *arena(AieNnExec *e, int w, size_t bytes)
{
    Scratch *s = &e->scratch[w];
    if (s->buf && s->bytes >= bytes && s->bytes <= 2 * bytes)
        return s->buf;
    if (s->buf) {
        free(s->buf);
        atomic_fetch_sub(&e->held, s->bytes);
        s->buf = NULL;
        s->bytes = 0;
    }
    size_t held = atomic_load(&e->held);
    do {
        if (e->cap && held + bytes > e->cap)
            return NULL;
    } while (!atomic_compare_exchange_weak(&e->held, &held, held + bytes));
    size_t sz = (bytes + 63) / 64 * 64;
    s->buf = aligned_alloc(64, sz);
    if (!s->buf) {
        atomic_fetch_sub(&e->held, bytes);
        return NULL;
    }
    s->bytes = bytes;
    note_peak(e, held + bytes);
    return s->buf;
}

typedef struct RunCtx {
    AieNnExec *e;
    const Plan *p;
    const AieNnImage *in;
    AieNnImage *out;
    AieCancel *cancel;
    atomic_int err;
} RunCtx;

static void tile_task(void *opaque, int index, int worker)
{
    RunCtx *r = opaque;
    if (atomic_load(&r->err))
        return;
    if (aie_cancel_requested(r->cancel)) {
        atomic_store(&r->err, AIE_ECANCELLED);
        return;
    }
    if (worker < 0 || worker >= r->e->workers) {
        atomic_store(&r->err, AIE_EINVAL);
        return;
    }
    float *buf = arena(r->e, worker, r->p->arena);
    if (!buf) {
        atomic_store(&r->err, AIE_ENOMEM);
        return;
    }
    int err = run_tile(r->e, r->p, index % r->p->nx, index / r->p->nx, buf, r->in, r->out);
    if (err)
        atomic_store(&r->err, err);
}

/* Halve the shared tile side (unless another run already went below t). */
static int halve(AieNnExec *e, int t)
{
    int cur = atomic_load(&e->tile);
    while (cur >= t) {
        int nt = t / 2;
        if (nt < AIE_NN_MIN_TILE)
            return AIE_ENOMEM;
        if (atomic_compare_exchange_weak(&e->tile, &cur, nt)) {
            atomic_fetch_add(&e->halvings, 1);
            /* give memory back: arenas are reallocated at the new size */
            return 0;
        }
    }
    return 0;
}

int aie_nn_exec_run(AieNnExec *e, const AieNnImage *in, AieNnImage *out, AiePool *pool,
                    AieCancel *cancel)
{
    const NnGraph *g = &e->m->g;
    if (!in || !out || in->c < g->nodes[0].c || out->c < g->out_channels)
        return AIE_EINVAL;
    if (pool && aie_pool_threads(pool) + 1 > e->workers)
        return AIE_EINVAL;
    for (;;) {
        const int t = atomic_load(&e->tile);
        Plan p;
        int err = plan_make(&p, e->m, in->w, in->h, t);
        if (err)
            return err;
        if (p.sizes[2 * g->output] != out->w || p.sizes[2 * g->output + 1] != out->h) {
            plan_free(&p);
            return AIE_EINVAL;
        }
        if (e->cap && p.arena > e->cap) { /* not even one tile fits */
            plan_free(&p);
            if ((err = halve(e, t)))
                return err;
            continue;
        }
        RunCtx r = {.e = e, .p = &p, .in = in, .out = out, .cancel = cancel};
        atomic_init(&r.err, 0);
        aie_pool_parallel_for(pool, p.nx * p.ny, tile_task, &r);
        plan_free(&p);
        err = atomic_load(&r.err);
        if (err != AIE_ENOMEM)
            return err;
        if ((err = halve(e, t)))
            return err;
    }
}

/* ---- creation ---- */

int aie_nn_exec_create(AieNnExec **out, const AieNnModel *m, const AieNnOpts *o)
{
    *out = NULL;
    if (!m || !o || o->threads < 1 || o->tile < 0)
        return AIE_EINVAL;
    AieNnExec *e = calloc(1, sizeof(*e));
    if (!e)
        return AIE_ENOMEM;
    e->m = m;
    e->workers = o->threads;
    e->cap = o->max_mem;
#ifdef AIE_DEBUG
    e->check_finite = 1; /* debug builds (make asan, ubsan) always check */
#else
    e->check_finite = o->check_finite;
#endif
    e->scratch = calloc((size_t)e->workers, sizeof(*e->scratch));
    if (!e->scratch) {
        free(e);
        return AIE_ENOMEM;
    }
    aie_conv_dsp_init(&e->dsp, o->cpu_flags);
    int tile = o->tile;
    if (!tile) {
        /* the largest power of two up to 512 whose scratch fits the budget
         * of one thread (measured on a tile in the middle of a large image) */
        size_t budget = e->cap ? e->cap / (size_t)e->workers : DEFAULT_TOTAL / (size_t)e->workers;
        if (!e->cap && budget < MIN_BUDGET)
            budget = MIN_BUDGET;
        for (tile = 512; tile > AIE_NN_MIN_TILE; tile /= 2) {
            Plan p;
            int side = 3 * tile;
            if (plan_make(&p, m, side, side, tile) == 0) {
                size_t a = p.arena;
                plan_free(&p);
                if (a <= budget)
                    break;
            }
        }
    }
    atomic_init(&e->tile, tile);
    atomic_init(&e->halvings, 0);
    atomic_init(&e->held, 0);
    atomic_init(&e->peak, 0);
    *out = e;
    return 0;
}

int aie_nn_exec_tile(const AieNnExec *e) { return atomic_load(&((AieNnExec *)e)->tile); }
int aie_nn_exec_halvings(const AieNnExec *e) { return atomic_load(&((AieNnExec *)e)->halvings); }
size_t aie_nn_exec_peak_mem(const AieNnExec *e) { return atomic_load(&((AieNnExec *)e)->peak); }

void aie_nn_exec_free(AieNnExec **e)
{
    if (!e || !*e)
        return;
    for (int i = 0; i < (*e)->workers; i++)
        free((*e)->scratch[i].buf);
    free((*e)->scratch);
    free(*e);
    *e = NULL;
}
