/*
 * Weight and checkpoint files of aie's own networks (aie/nn_train.h), and
 * their graph for the inference engine.
 *
 * Layout (little-endian):
 *   0   "AIENET\x1a\n"
 *   8   u32 version (1), u32 kind (1 weights, 2 checkpoint)
 *   16  u32 scale, u32 skip, u32 layers, u32 0
 *   32  char arch[32], char desc[256] (NUL-padded)
 *   320 i64 step, f32 validation gain (dB), u32 weight count N
 *   336 layers x {u32 op, k, cout, act, from; f32 slope}
 *       N f32 weights: per convolution w[cout][cin][k][k], b[cout], and
 *       the PReLU slopes[cout] when it has them
 *   checkpoint only:
 *       u32 patch, batch, loss, val_patches, f64 lr, lr_min, i64 iters,
 *       u64 seed, i64 best step, f64 best gain, u32 M, then M f32 each of
 *       the current packed parameters, the best, Adam's m and v
 *   64 hex digits: SHA-256 of everything before them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "aie/nn_train.h"
#include "nn/graph.h"
#include "nn/nn_internal.h"
#include "nn/train_internal.h"

#define MAGIC "AIENET\x1a\n"
#define HEAD 336
#define LAYER 24
#define CKPT_HEAD 68

typedef struct Buf {
    uint8_t *d;
    size_t n, cap;
    int oom;
} Buf;

static void put(Buf *b, const void *p, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->n + n)
            c *= 2;
        uint8_t *nd = realloc(b->d, c);
        if (!nd) {
            b->oom = 1;
            return;
        }
        b->d = nd;
        b->cap = c;
    }
    memcpy(b->d + b->n, p, n);
    b->n += n;
}
static void put32(Buf *b, uint32_t v) { put(b, &v, 4); }
static void put64(Buf *b, uint64_t v) { put(b, &v, 8); }
static void putf(Buf *b, float v) { put(b, &v, 4); }
static void putd(Buf *b, double v) { put(b, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static float getf(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }
static double getd(const uint8_t *p) { double v; memcpy(&v, p, 8); return v; }

static int in_ch(const AieNntArch *a, int j) { return j ? a->l[j - 1].cout : 3; }

static int serialize(const AieNnTrainer *t, int kind, int best, const char *desc, Buf *b)
{
    const AieNntArch *a = &t->p.arch;
    char name[32] = {0}, d[AIE_NNT_DESC_SIZE] = {0};
    snprintf(name, sizeof(name), "%s", a->name);
    snprintf(d, sizeof(d), "%s", desc ? desc : "");
    put(b, MAGIC, 8);
    put32(b, AIE_NNT_VERSION);
    put32(b, (uint32_t)kind);
    put32(b, (uint32_t)a->scale);
    put32(b, (uint32_t)a->skip);
    put32(b, (uint32_t)a->n);
    put32(b, 0);
    put(b, name, 32);
    put(b, d, sizeof(d));
    put64(b, (uint64_t)t->iter);
    putf(b, t->best_iter >= 0 ? (float)t->best_gain : 0.0f);
    put32(b, (uint32_t)aie_nnt_arch_params(a));
    for (int j = 0; j < a->n; j++) {
        const AieNntLayer *l = &a->l[j];
        put32(b, (uint32_t)l->op);
        put32(b, (uint32_t)l->k);
        put32(b, (uint32_t)l->cout);
        put32(b, (uint32_t)l->act);
        put32(b, (uint32_t)l->from);
        putf(b, l->slope);
    }
    /* unpack from the chosen parameters */
    AieNnTrainer tmp = *t;
    if (best && t->best_iter >= 0)
        tmp.theta = t->best;
    for (int j = 0; j < a->n; j++) {
        const AieNntLayer *l = &a->l[j];
        if (l->op != AIE_NNT_CONV)
            continue;
        const size_t nw = (size_t)l->cout * in_ch(a, j) * l->k * l->k;
        float *w = malloc(sizeof(float) * (nw + 2 * (size_t)l->cout));
        if (!w)
            return AIE_ENOMEM;
        aie_nnt_unpack(&tmp, j, w, w + nw, w + nw + l->cout);
        put(b, w, sizeof(float) * (nw + (size_t)l->cout * (l->act == AIE_NNT_ACT_PRELU ? 2 : 1)));
        free(w);
    }
    if (kind == AIE_NNT_FILE_CHECKPOINT) {
        put32(b, (uint32_t)t->p.patch);
        put32(b, (uint32_t)t->p.batch);
        put32(b, (uint32_t)t->p.loss);
        put32(b, (uint32_t)t->p.val_patches);
        putd(b, t->p.lr);
        putd(b, t->p.lr_min);
        put64(b, (uint64_t)t->p.iters);
        put64(b, t->p.seed);
        put64(b, (uint64_t)t->best_iter);
        putd(b, t->best_gain);
        put32(b, (uint32_t)t->np);
        put(b, t->theta, sizeof(float) * t->np);
        put(b, t->best, sizeof(float) * t->np);
        put(b, t->m, sizeof(float) * t->np);
        put(b, t->v, sizeof(float) * t->np);
    }
    if (b->oom)
        return AIE_ENOMEM;
    char hex[65];
    aie_sha256_hex(b->d, b->n, hex);
    put(b, hex, 64);
    return b->oom ? AIE_ENOMEM : 0;
}

static int write_file(const char *path, const Buf *b, char *err, size_t errlen)
{
    AieFsOut *o = NULL;
    int e = aie_fs_out_open(&o, path, NULL, err, errlen);
    if (e)
        return e;
    if ((e = aie_fs_write_all(aie_fs_out_fd(o), b->d, b->n))) {
        aie_errf(err, errlen, "%s: %s", path, aie_strerror(e));
        aie_fs_out_abort(&o);
        return e;
    }
    return aie_fs_out_commit(&o, err, errlen);
}

static int save(const AieNnTrainer *t, int kind, int best, const char *desc, const char *path, char *err,
                size_t errlen)
{
    Buf b = {0};
    int e = serialize(t, kind, best, desc, &b);
    if (e)
        aie_errf(err, errlen, "%s: %s", path, aie_strerror(e));
    else
        e = write_file(path, &b, err, errlen);
    free(b.d);
    return e;
}

int aie_nnt_save(const AieNnTrainer *t, const char *path, int best, const char *desc, char *err, size_t errlen)
{
    return save(t, AIE_NNT_FILE_WEIGHTS, best, desc, path, err, errlen);
}

int aie_nnt_save_checkpoint(const AieNnTrainer *t, const char *path, char *err, size_t errlen)
{
    return save(t, AIE_NNT_FILE_CHECKPOINT, 0, "checkpoint", path, err, errlen);
}

/* Parse and verify; *wts = the weight payload, *tail = what follows it. */
static int parse(const uint8_t *p, size_t len, AieNntFileInfo *fi, const uint8_t **wts, size_t *nw,
                 const uint8_t **tail, char *err, size_t errlen)
{
    memset(fi, 0, sizeof(*fi));
    if (len < 8 || memcmp(p, MAGIC, 8)) {
        aie_errf(err, errlen, "not an aie network file");
        return AIE_EMODEL;
    }
    if (len < HEAD + 64) {
        aie_errf(err, errlen, "truncated aie network file: %zu bytes", len);
        return AIE_EMODEL;
    }
    fi->version = (int)get32(p + 8);
    if (fi->version != AIE_NNT_VERSION) {
        aie_errf(err, errlen, "aie network file version %d (this aie reads version %d)", fi->version,
                 AIE_NNT_VERSION);
        return AIE_EMODEL;
    }
    fi->kind = (int)get32(p + 12);
    AieNntArch *a = &fi->arch;
    a->scale = (int)get32(p + 16);
    a->skip = (int)get32(p + 20);
    uint32_t n = get32(p + 24);
    memcpy(a->name, p + 32, 31);
    memcpy(fi->desc, p + 64, AIE_NNT_DESC_SIZE - 1);
    fi->iteration = (int64_t)get64(p + 320);
    fi->gain_db = getf(p + 328);
    *nw = get32(p + 332);
    if ((fi->kind != AIE_NNT_FILE_WEIGHTS && fi->kind != AIE_NNT_FILE_CHECKPOINT) || n < 1 ||
        n > AIE_NNT_MAX_LAYERS || len < HEAD + (size_t)n * LAYER + 64) {
        aie_errf(err, errlen, "corrupt aie network file: bad header");
        return AIE_EMODEL;
    }
    a->n = (int)n;
    for (uint32_t j = 0; j < n; j++) {
        const uint8_t *q = p + HEAD + j * LAYER;
        a->l[j] = (AieNntLayer){.op = (int)get32(q), .k = (int)get32(q + 4), .cout = (int)get32(q + 8),
                                .act = (int)get32(q + 12), .from = (int)get32(q + 16), .slope = getf(q + 20)};
    }
    if (aie_nnt_arch_check(a) || *nw != aie_nnt_arch_params(a)) {
        aie_errf(err, errlen, "corrupt aie network file: invalid architecture");
        return AIE_EMODEL;
    }
    size_t want = HEAD + (size_t)n * LAYER + 4 * *nw;
    *wts = p + HEAD + (size_t)n * LAYER;
    *tail = p + want;
    if (fi->kind == AIE_NNT_FILE_CHECKPOINT) {
        if (len < want + CKPT_HEAD + 64) {
            aie_errf(err, errlen, "truncated aie checkpoint: %zu bytes", len);
            return AIE_EMODEL;
        }
        want += CKPT_HEAD + 16 * (size_t)get32(p + want + CKPT_HEAD - 4);
    }
    want += 64;
    if (len != want) {
        aie_errf(err, errlen, "%s aie network file: %zu bytes, expected %zu", len < want ? "truncated" : "corrupt",
                 len, want);
        return AIE_EMODEL;
    }
    char hex[65];
    aie_sha256_hex(p, len - 64, hex);
    if (memcmp(hex, p + len - 64, 64)) {
        aie_errf(err, errlen, "corrupt aie network file: checksum mismatch");
        return AIE_EMODEL;
    }
    for (size_t i = 0; i < *nw; i++)
        if (!isfinite(getf(*wts + 4 * i))) {
            aie_errf(err, errlen, "corrupt aie network file: weight %zu is not finite", i);
            return AIE_EMODEL;
        }
    return 0;
}

int aie_nnt_file_info(const void *data, size_t len, AieNntFileInfo *info, char *err, size_t errlen)
{
    const uint8_t *w, *tail;
    size_t nw;
    return parse(data, len, info, &w, &nw, &tail, err, errlen);
}

int aie_nn_load_aienn(NnGraph *g, const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    AieNntFileInfo fi;
    const uint8_t *w, *tail;
    size_t nw;
    char why[256];
    int e = parse(data, len, &fi, &w, &nw, &tail, why, sizeof(why));
    if (e) {
        aie_errf(err, errlen, "%s: %s", path, why);
        return e;
    }
    const AieNntArch *a = &fi.arch;
    float *buf = malloc(4 * (nw ? nw : 1));
    if (!buf)
        return AIE_ENOMEM;
    memcpy(buf, w, 4 * nw);
    int outs[AIE_NNT_MAX_LAYERS];
    int prev = 0;
    size_t off = 0;
    if ((e = aie_nn_graph_init(g, 3)) < 0)
        goto fail;
    for (int j = 0; j < a->n && e >= 0; j++) {
        const AieNntLayer *l = &a->l[j];
        if (l->op == AIE_NNT_CONV) {
            const size_t n = (size_t)l->cout * in_ch(a, j) * l->k * l->k;
            const float *ww = buf + off, *bb = ww + n, *ss = l->act == AIE_NNT_ACT_PRELU ? bb + l->cout : NULL;
            off += n + (size_t)l->cout * (ss ? 2 : 1);
            e = aie_nn_conv(g, prev, l->cout, l->k, l->k, NN_PAD_ZERO, ww, bb, l->act, l->slope, ss);
        } else {
            e = aie_nn_add(g, prev, outs[l->from]);
        }
        prev = outs[j] = e;
    }
    if (e >= 0)
        e = aie_nn_shuffle(g, prev, a->scale, NN_SHUFFLE_TORCH);
    if (e >= 0 && a->skip != AIE_NNT_SKIP_NONE) {
        int sh = e, sk = a->skip == AIE_NNT_SKIP_BICUBIC ? aie_nn_resize(g, 0, a->scale, 1)
                                                          : aie_nn_upsample(g, 0, a->scale, NN_UP_NEAREST);
        e = sk < 0 ? sk : aie_nn_add(g, sh, sk);
    }
    if (e >= 0)
        e = aie_nn_graph_finish(g, e, 3);
    if (e >= 0) {
        snprintf(g->name, sizeof(g->name), "%s", a->name);
        snprintf(g->format, sizeof(g->format), "aie-net");
        e = 0;
    }
fail:
    free(buf);
    if (e)
        aie_errf(err, errlen, "%s: %s", path, e == AIE_ENOMEM ? aie_strerror(e) : "the network cannot be built");
    return e;
}

int aie_nnt_resume(AieNnTrainer *t, const char *path, int arch_must_match, char *err, size_t errlen)
{
    char *data = NULL, why[512];
    size_t len = 0;
    int e = aie_nn_read_file(path, &data, &len, err, errlen);
    if (e)
        return e == AIE_EMODEL ? AIE_EMODEL : e;
    AieNntFileInfo fi;
    const uint8_t *w, *tail;
    size_t nw;
    const uint8_t *p = (const uint8_t *)data;
    if ((e = parse(p, len, &fi, &w, &nw, &tail, why, sizeof(why)))) {
        aie_errf(err, errlen, "%s: %s", path, why);
        goto done;
    }
    e = AIE_EMODEL;
    if (fi.kind != AIE_NNT_FILE_CHECKPOINT) {
        aie_errf(err, errlen, "%s: not a checkpoint (a weight file: give it as --init, or resume from a checkpoint)",
                 path);
        goto done;
    }
    if (arch_must_match && (strcmp(fi.arch.name, t->p.arch.name) || fi.arch.scale != t->p.arch.scale)) {
        aie_errf(err, errlen, "%s: a checkpoint of %s at %dx, not of %s at %dx", path, fi.arch.name, fi.arch.scale,
                 t->p.arch.name, t->p.arch.scale);
        goto done;
    }
    AieNntParams np = t->p;
    np.arch = fi.arch;
    np.patch = (int)get32(tail);
    np.batch = (int)get32(tail + 4);
    np.loss = (int)get32(tail + 8);
    np.val_patches = (int)get32(tail + 12);
    np.lr = getd(tail + 16);
    np.lr_min = getd(tail + 24);
    np.iters = (int64_t)get64(tail + 32);
    np.seed = get64(tail + 40);
    AieNnTrainer *nt = NULL;
    if ((e = aie_nnt_create(&nt, &np, why, sizeof(why)))) {
        aie_errf(err, errlen, "%s: corrupt checkpoint: %s", path, why);
        e = e == AIE_ENOMEM ? e : AIE_EMODEL;
        goto done;
    }
    if (get32(tail + CKPT_HEAD - 4) != nt->np) {
        aie_errf(err, errlen, "%s: corrupt checkpoint: parameter count", path);
        aie_nnt_free(&nt);
        e = AIE_EMODEL;
        goto done;
    }
    const uint8_t *st = tail + CKPT_HEAD;
    memcpy(nt->theta, st, 4 * nt->np);
    memcpy(nt->best, st + 4 * nt->np, 4 * nt->np);
    memcpy(nt->m, st + 8 * nt->np, 4 * nt->np);
    memcpy(nt->v, st + 12 * nt->np, 4 * nt->np);
    nt->iter = fi.iteration;
    nt->best_iter = (int64_t)get64(tail + 48);
    nt->best_gain = getd(tail + 56);
    aie_nnt_theta_changed(nt);
    /* move the data pairs over */
    nt->pairs = t->pairs;
    nt->npairs = t->npairs;
    nt->cap = t->cap;
    nt->ntrain = t->ntrain;
    nt->nval = t->nval;
    t->pairs = NULL;
    t->npairs = t->cap = 0;
    /* swap contents: t becomes the resumed trainer */
    AieNnTrainer old = *t;
    *t = *nt;
    *nt = old;
    aie_nnt_free(&nt);
    e = 0;
done:
    free(data);
    return e;
}
