/* Frame chunks (--chunks) and joining them back (--join). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "aie/io.h"
#include "aie/motion.h"
#include "batch_internal.h"

int aie_batch_chunk_ranges(int64_t first, int64_t last, int n, int overlap, int64_t *firsts,
                           int64_t *lasts)
{
    int64_t frames = last - first + 1;
    if (n < 1 || frames < 1)
        return 0;
    if (overlap) {
        /* n chunks share n - 1 edge frames: each needs two frames at least */
        if (frames < 2) {
            firsts[0] = first;
            lasts[0] = last;
            return 1;
        }
        if (n > frames - 1)
            n = (int)(frames - 1);
        for (int k = 0; k < n; k++) {
            firsts[k] = first + (frames - 1) * k / n;
            lasts[k] = first + (frames - 1) * (k + 1) / n;
        }
        return n;
    }
    if (n > frames)
        n = (int)frames;
    for (int k = 0; k < n; k++) {
        firsts[k] = first + frames * k / n;
        lasts[k] = first + frames * (k + 1) / n - 1;
    }
    return n;
}

/*
 * Scene-cut snapping: each inner chunk edge moves to the scene cut nearest to
 * it within a window of W frames either side (W = 2 s of frames, at most a
 * quarter of a chunk), so no shot is split between two chunks: an encoder
 * restarts its GOP at a chunk edge anyway, and at a cut that costs nothing.
 * The detector is aie-interp's (lib/aie/motion.h). The input is decoded once,
 * up to the last window; features are computed inside the windows only. Any
 * failure leaves the even split as it is.
 */
#define SNAP_RING 8

typedef struct Snap {
    int64_t edge, lo, hi; /* candidate cut frames c in [lo, hi]: a cut between c - 1 and c */
    int64_t best;         /* -1 none */
} Snap;

void aie_chunk_snap_edges(const char *source, int64_t *firsts, int64_t *lasts, int n, int overlap,
                          double fps)
{
    if (n < 2)
        return;
    AieReader *r = NULL;
    AieSceneFeat *ring = NULL;
    int64_t ring_idx[SNAP_RING];
    Snap *sn = calloc((size_t)n, sizeof(*sn));
    char err[AIE_ERRBUF_SIZE];
    if (!sn || !(ring = malloc(sizeof(*ring) * SNAP_RING)))
        goto done;
    int64_t len = firsts[1] - firsts[0], w = fps > 0 ? (int64_t)(2 * fps + 0.5) : 50;
    if (w > len / 4)
        w = len / 4;
    if (w < 1)
        goto done;
    int64_t end = 0;
    for (int k = 1; k < n; k++) {
        sn[k].edge = firsts[k];
        sn[k].lo = firsts[k] - w;
        sn[k].hi = firsts[k] + w;
        sn[k].best = -1;
        end = sn[k].hi + 1;
    }
    for (int i = 0; i < SNAP_RING; i++)
        ring_idx[i] = -1;
    AieReaderOpts ro = {.first = 0, .last = end, .ignore_errors = 1, .no_audio = 1};
    if (aie_reader_open(&r, source, &ro, err, sizeof(err)) != 0)
        goto done;
    for (int64_t idx = 0; idx <= end; idx++) {
        AieFrame *f = NULL;
        if (aie_reader_read(r, &f) != 0)
            break;
        /* features of the frames a window needs: c - 3 .. c + 1 */
        int need = 0;
        for (int k = 1; k < n && !need; k++)
            need = idx >= sn[k].lo - 3 && idx <= sn[k].hi + 1;
        if (need) {
            aie_scene_features(f, &ring[idx % SNAP_RING]);
            ring_idx[idx % SNAP_RING] = idx;
        }
        aie_frame_unref(&f);
        /* with frame idx in, a cut at c = idx - 1 can be judged */
        int64_t c = idx - 1;
        for (int k = 1; k < n; k++) {
            if (c < sn[k].lo || c > sn[k].hi || c < 1)
                continue;
            const AieSceneFeat *win[AIE_SCENE_WINDOW];
            for (int i = 0; i < AIE_SCENE_WINDOW; i++) {
                int64_t want = c - 3 + i;
                win[i] = want >= 0 && ring_idx[want % SNAP_RING] == want ? &ring[want % SNAP_RING] : NULL;
            }
            if (!aie_scene_cut(win, AIE_SCENE_THRESHOLD_DEFAULT))
                continue;
            int64_t dn = c > sn[k].edge ? c - sn[k].edge : sn[k].edge - c;
            int64_t db = sn[k].best > sn[k].edge ? sn[k].best - sn[k].edge : sn[k].edge - sn[k].best;
            if (sn[k].best < 0 || dn < db)
                sn[k].best = c;
        }
    }
    /* move the edges, keeping every chunk at least one frame (two with overlap) long */
    for (int k = 1; k < n; k++) {
        int64_t c = sn[k].best, min = firsts[k - 1] + 1;
        int64_t max = k + 1 < n ? firsts[k + 1] - 1 : INT64_MAX;
        if (c < 0 || c < min || c > max)
            continue;
        firsts[k] = c;
        lasts[k - 1] = overlap ? c : c - 1;
    }
done:
    aie_reader_close(&r);
    free(ring);
    free(sn);
}

static char *chunk_name(const char *out, int k, int n)
{
    const char *slash = strrchr(out, '/');
    const char *base = slash ? slash + 1 : out;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        dot = base + strlen(base);
    int width = snprintf(NULL, 0, "%d", n);
    Buf b = {0};
    aie_buf_add(&b, out, (size_t)(dot - out));
    aie_buf_printf(&b, ".chunk-%0*d-of-%d%s", width, k, n, dot);
    return aie_buf_take(&b);
}

/* argv with the output replaced and the chunk options after the tool name. */
static char **chunk_argv(char *const *argv, const char *newout, int64_t a, int64_t b, int no_audio)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    char **v = calloc((size_t)argc + 5, sizeof(*v));
    char range[64];
    int n = 0;
    if (!v)
        return NULL;
    if (b < 0)
        snprintf(range, sizeof(range), "%lld-", (long long)a);
    else
        snprintf(range, sizeof(range), "%lld-%lld", (long long)a, (long long)b);
    /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): chunks are aie-tool jobs, argv[0] is set */
    if (!(v[n++] = strdup(argv[0])) || !(v[n++] = strdup("--frames")) || !(v[n++] = strdup(range)))
        goto fail;
    if (no_audio && !(v[n++] = strdup("--no-audio")))
        goto fail;
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        Buf nb = {0};
        if (!strcmp(w, "-o") || !strcmp(w, "--output")) {
            if (!(v[n++] = strdup(w)))
                goto fail;
            if (argv[i + 1]) {
                i++;
                if (!(v[n++] = strdup(newout)))
                    goto fail;
            }
            continue;
        }
        if (!strncmp(w, "--output=", 9)) {
            aie_buf_puts(&nb, "--output=");
            aie_buf_puts(&nb, newout);
        } else if (w[0] == '-' && w[1] == 'o' && w[2]) {
            aie_buf_puts(&nb, "-o");
            aie_buf_puts(&nb, newout);
        } else {
            aie_buf_puts(&nb, w);
        }
        if (!(v[n++] = aie_buf_take(&nb)))
            goto fail;
    }
    v[n] = NULL;
    return v;
fail:
    aie_batch_words_free(&v);
    return NULL;
}

static int chunkable(const AieBatchJob *j, const char **why)
{
    *why = NULL;
    if (!aie_job_is_aie_tool(j->argv))
        return 0;
    if (!j->simple)
        *why = "shell syntax";
    else if (j->ninputs != 1 || j->noutputs != 1)
        *why = "not one input and one output";
    else if (j->has_frames)
        *why = "it has its own --frames";
    else if (!strcmp(j->inputs[0], "-") || !aie_path_is_regular_output(j->outputs[0]))
        *why = "a pipe";
    else if (aie_path_is_pattern(j->outputs[0]) || aie_path_is_pattern(j->inputs[0]))
        *why = "a PNG sequence";
    else {
        const char *dot = strrchr(j->outputs[0], '.');
        if (dot && !strcasecmp(dot, ".png"))
            *why = "an image output";
    }
    return *why == NULL;
}

typedef struct ProbeCtx {
    AieBatchList *l;
    const AieBatchExec *ex;
    int *todo;
    AieBatchProbe *probes;
    int n, snap;
    int64_t *firsts, *lasts; /* n per job */
    int *made;
} ProbeCtx;

/* The dry run, the even split and the snapping of one job (in a pool thread). */
static void probe_one(void *ctx, int index, int worker)
{
    (void)worker;
    ProbeCtx *c = ctx;
    AieBatchJob *j = &c->l->jobs[c->todo[index]];
    AieBatchProbe *p = &c->probes[index];
    int64_t *a = c->firsts + (size_t)index * c->n, *b = c->lasts + (size_t)index * c->n;
    int overlap = !strcmp(aie_job_tool_name(j->argv), "aie-interp");
    c->made[index] = 0;
    if (aie_batch_probe(c->ex, j->argv, p) != 0 || !p->ok)
        return;
    if (p->frames < 0) {
        /* the tool's dry run has no input facts: ask the reader */
        AieReader *r = NULL;
        char err[AIE_ERRBUF_SIZE];
        AieReaderOpts ro = {.last = -1, .no_audio = 1};
        if (aie_reader_open(&r, j->inputs[0], &ro, err, sizeof(err)) == 0) {
            const AieVideoInfo *vi = aie_reader_info(r);
            if (vi->fps.num > 0 && vi->fps.den > 0)
                p->fps = (double)vi->fps.num / vi->fps.den;
            if (vi->nb_frames > 0)
                p->frames = vi->still ? 1 : vi->nb_frames;
            else if (vi->duration_us > 0 && p->fps > 0) {
                p->frames = (int64_t)(vi->duration_us / 1e6 * p->fps + 1e-6);
                p->frames_estimated = 1;
            }
        }
        aie_reader_close(&r);
    }
    if (p->frames <= 1)
        return;
    int made = aie_batch_chunk_ranges(0, p->frames - 1, c->n, overlap, a, b);
    if (made > 1 && c->snap)
        aie_chunk_snap_edges(j->inputs[0], a, b, made, overlap, p->fps);
    if (made > 1)
        b[made - 1] = -1; /* to the end, whatever the count was */
    c->made[index] = made;
}

int aie_batch_chunk(AieBatchList *l, int n, int join, int snap, const AieBatchExec *ex,
                    int threads, void (*warn)(void *opaque, const char *msg), void *opaque,
                    char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    int e = 0, ntodo = 0, nn = 0, ncap = 0;
    int *todo = calloc((size_t)l->n + 1, sizeof(*todo));
    int *probe_of = calloc((size_t)l->n + 1, sizeof(*probe_of));
    AieBatchProbe *probes = NULL;
    AieBatchJob *nj = NULL;
    AiePool *pool = NULL;
    int64_t *firsts = calloc((size_t)n, sizeof(*firsts)), *lasts = calloc((size_t)n, sizeof(*lasts));
    int64_t *pfirsts = NULL, *plasts = NULL;
    int *pmade = NULL;
    char msg[1024];
    if (!todo || !probe_of || !firsts || !lasts) {
        e = AIE_ENOMEM;
        goto fail;
    }
    for (int i = 0; i < l->n; i++) {
        const char *why;
        probe_of[i] = -1;
        if (chunkable(&l->jobs[i], &why)) {
            probe_of[i] = ntodo;
            todo[ntodo++] = i;
        } else if (why && warn) {
            snprintf(msg, sizeof(msg), "job %d: not chunked (%s)", l->jobs[i].seq, why);
            warn(opaque, msg);
        }
    }
    if (!(probes = calloc((size_t)ntodo + 1, sizeof(*probes)))) {
        e = AIE_ENOMEM;
        goto fail;
    }
    if (ntodo > 1 && threads > 1 && (e = aie_pool_create(&pool, threads < ntodo ? threads : ntodo)))
        goto fail;
    if (!(pfirsts = calloc((size_t)ntodo * (size_t)n + 1, sizeof(*pfirsts))) ||
        !(plasts = calloc((size_t)ntodo * (size_t)n + 1, sizeof(*plasts))) ||
        !(pmade = calloc((size_t)ntodo + 1, sizeof(*pmade)))) {
        e = AIE_ENOMEM;
        goto fail;
    }
    ProbeCtx pc = {l, ex, todo, probes, n, snap, pfirsts, plasts, pmade};
    aie_pool_parallel_for(pool, ntodo, probe_one, &pc);
    aie_pool_destroy(&pool);

    for (int i = 0; i < l->n; i++) {
        AieBatchJob *j = &l->jobs[i];
        AieBatchProbe *p = probe_of[i] >= 0 ? &probes[probe_of[i]] : NULL;
        int overlap = !strcmp(aie_job_tool_name(j->argv), "aie-interp");
        int made = p ? pmade[probe_of[i]] : 0;
        if (p && !p->ok && warn) {
            snprintf(msg, sizeof(msg), "job %d: not chunked (%s)", j->seq, p->error[0] ? p->error : "dry run failed");
            warn(opaque, msg);
        } else if (p && p->frames < 0 && warn) {
            snprintf(msg, sizeof(msg), "job %d: not chunked (the frame count of %s is unknown)", j->seq, j->inputs[0]);
            warn(opaque, msg);
        }
        if (made > 1) {
            memcpy(firsts, pfirsts + (size_t)probe_of[i] * n, (size_t)made * sizeof(*firsts));
            memcpy(lasts, plasts + (size_t)probe_of[i] * n, (size_t)made * sizeof(*lasts));
        }
        if (nn + (made > 1 ? made : 1) > ncap) {
            int nc = ncap ? ncap * 2 : 64;
            while (nc < nn + made + 1)
                nc *= 2;
            AieBatchJob *q = realloc(nj, (size_t)nc * sizeof(*q));
            if (!q) {
                e = AIE_ENOMEM;
                goto fail;
            }
            nj = q;
            ncap = nc;
        }
        if (made <= 1) {
            nj[nn++] = *j; /* moved */
            memset(j, 0, sizeof(*j));
            continue;
        }
        int g = -1;
        if (join) {
            if (l->ngroups == l->gcap) {
                int gc = l->gcap ? l->gcap * 2 : 16;
                AieBatchGroup *q = realloc(l->groups, (size_t)gc * sizeof(*q));
                if (!q) {
                    e = AIE_ENOMEM;
                    goto fail;
                }
                l->groups = q;
                l->gcap = gc;
            }
            g = l->ngroups;
            AieBatchGroup *gr = &l->groups[g];
            memset(gr, 0, sizeof(*gr));
            gr->output = strdup(j->outputs[0]);
            gr->source = strdup(j->inputs[0]);
            gr->no_audio = j->no_audio;
            gr->overlap = overlap;
            gr->first = nn;
            gr->n = made;
            l->ngroups++;
            if (!gr->output || !gr->source) {
                e = AIE_ENOMEM;
                goto fail;
            }
        }
        for (int k = 0; k < made; k++) {
            AieBatchJob *c = &nj[nn];
            memset(c, 0, sizeof(*c));
            char *name = chunk_name(j->outputs[0], k + 1, made);
            c->argv = name ? chunk_argv(j->argv, name, firsts[k], lasts[k], join && !j->no_audio) : NULL;
            free(name);
            if (!c->argv || !(c->cmd = aie_words_join(c->argv))) {
                aie_job_free(c);
                e = AIE_ENOMEM;
                goto fail;
            }
            nn++;
            while (c->argv[c->argc])
                c->argc++;
            c->line = j->line;
            c->simple = 1;
            c->chunk = k + 1;
            c->nchunks = made;
            c->first = firsts[k];
            c->last = lasts[k];
            c->group = g;
            if ((e = aie_job_declared(c)))
                goto fail;
        }
        aie_job_free(j);
    }
    for (int i = 0; i < nn; i++)
        nj[i].seq = i + 1;
    free(l->jobs);
    l->jobs = nj;
    l->n = l->cap = nn;
    if (!nn)
        l->jobs = NULL;
    nj = NULL;
    nn = 0;
fail:
    if (nj) {
        /* jobs moved so far go back where they were is not possible: free */
        for (int i = 0; i < nn; i++)
            aie_job_free(&nj[i]);
        free(nj);
    }
    for (int i = 0; probes && i < ntodo; i++)
        aie_batch_probe_clear(&probes[i]);
    free(probes);
    free(todo);
    free(probe_of);
    free(firsts);
    free(lasts);
    free(pfirsts);
    free(plasts);
    free(pmade);
    aie_pool_destroy(&pool);
    return e;
}

/* ---- y4m: joined here by concatenation (no container to remux) ---- */

/* Bytes of one frame's pictures from a y4m header line, 0 when unknown. */
static int64_t y4m_frame_bytes(const char *hdr)
{
    long w = 0, h = 0;
    const char *c = "420jpeg";
    char cs[32] = "";
    for (const char *p = hdr; (p = strchr(p, ' ')); ) {
        p++;
        if (*p == 'W')
            w = strtol(p + 1, NULL, 10);
        else if (*p == 'H')
            h = strtol(p + 1, NULL, 10);
        else if (*p == 'C') {
            size_t n = strcspn(p + 1, " \n");
            snprintf(cs, sizeof(cs), "%.*s", (int)(n < sizeof(cs) ? n : sizeof(cs) - 1), p + 1);
            c = cs;
        }
    }
    if (w <= 0 || h <= 0)
        return 0;
    int64_t luma = (int64_t)w * h, cw = (w + 1) / 2, ch = (h + 1) / 2, total;
    if (!strncmp(c, "420", 3))
        total = luma + 2 * cw * ch;
    else if (!strncmp(c, "422", 3))
        total = luma + 2 * cw * h;
    else if (!strncmp(c, "444alpha", 8))
        total = 4 * luma;
    else if (!strncmp(c, "444", 3))
        total = 3 * luma;
    else if (!strncmp(c, "mono", 4))
        total = luma;
    else
        return 0;
    const char *pp = strchr(c, 'p');
    if (pp && strtol(pp + 1, NULL, 10) > 8)
        total *= 2;
    else if (!strcmp(c, "mono16"))
        total *= 2;
    return total;
}

/* With overlap, chunk k (but the last) covers source frames up to the next
 * chunk's first, which the next chunk covers again: its output frames from
 * that source frame's time on are dropped. A chunk of S source frames that
 * gave M output frames has M / S of them per source frame (aie-interp holds
 * the last frame to keep the duration), so the last round(M / S) go. */
static int join_y4m(const char *const *chunks, const int64_t *src_frames, int n, int overlap,
                    const char *output, char *err, size_t errlen)
{
    char hdr0[512] = "";
    FILE *out = NULL, *in = NULL;
    AieOutFile *of = NULL;
    char *buf = NULL;
    int e = aie_outfile_open(&of, output, chunks, n, 0, &out, err, errlen);
    if (e)
        return e;
    for (int k = 0; k < n; k++) {
        char hdr[512], line[256];
        if (!(in = fopen(chunks[k], "rbe")) || !fgets(hdr, sizeof(hdr), in) ||
            strncmp(hdr, "YUV4MPEG2 ", 10)) {
            aie_errf(err, errlen, "%s: not a y4m file", chunks[k]);
            e = AIE_EFORMAT;
            goto fail;
        }
        int64_t fb = y4m_frame_bytes(hdr);
        if (!fb || (k && strcmp(hdr, hdr0))) {
            aie_errf(err, errlen, "%s: %s", chunks[k], fb ? "its y4m header differs from the first chunk's"
                                                         : "unknown y4m colour space");
            e = AIE_EFORMAT;
            goto fail;
        }
        if (!k) {
            snprintf(hdr0, sizeof(hdr0), "%s", hdr);
            fputs(hdr, out);
        }
        if (!buf && !(buf = malloc((size_t)fb))) {
            e = AIE_ENOMEM;
            goto fail;
        }
        /* frames: "FRAME[ params]\n" then the pictures */
        int64_t keep = INT64_MAX;
        if (overlap && k + 1 < n) {
            struct stat st;
            long body = ftell(in);
            if (fstat(fileno(in), &st) != 0 || body < 0 || src_frames[k] < 2) {
                aie_errf(err, errlen, "%s: cannot size the chunk", chunks[k]);
                e = AIE_EIO;
                goto fail;
            }
            /* every FRAME line of aie's writers is "FRAME\n" */
            int64_t m = (st.st_size - body) / (fb + 6);
            int64_t per = (m + src_frames[k] / 2) / src_frames[k];
            keep = m - (per > 0 ? per : 1);
        }
        for (int64_t i = 0; fgets(line, sizeof(line), in); i++) {
            if (strncmp(line, "FRAME", 5) || fread(buf, 1, (size_t)fb, in) != (size_t)fb) {
                aie_errf(err, errlen, "%s: truncated y4m frame", chunks[k]);
                e = AIE_ETRUNC;
                goto fail;
            }
            if (i >= keep)
                break;
            fputs(line, out);
            fwrite(buf, 1, (size_t)fb, out);
        }
        fclose(in);
        in = NULL;
    }
    free(buf);
    return aie_outfile_commit(&of, err, errlen);
fail:
    if (in)
        fclose(in);
    aie_outfile_abort(&of);
    free(buf);
    return e;
}

int aie_batch_join(const AieBatchList *l, int g, int *joined, char *err, size_t errlen)
{
    const AieBatchGroup *gr = &l->groups[g];
    size_t n = gr->n > 0 ? (size_t)gr->n : 1;
    const char **chunks = calloc(n, sizeof(*chunks));
    int64_t *src = calloc(n, sizeof(*src)); /* source frames of each chunk */
    int e = 0, lock = -1;
    *joined = 0;
    if (!chunks || !src) {
        e = AIE_ENOMEM;
        goto done;
    }
    for (int k = 0; k < gr->n; k++) {
        const AieBatchJob *c = &l->jobs[gr->first + k];
        chunks[k] = c->outputs[0];
        src[k] = c->last >= 0 ? c->last - c->first + 1 : 0;
    }
    /* concurrent finishers (make -j, Slurm tasks) serialise on the source */
    lock = open(gr->source, O_RDONLY | O_CLOEXEC);
    if (lock >= 0)
        while (flock(lock, LOCK_EX) < 0 && errno == EINTR)
            ;
    for (int k = 0; k < gr->n; k++)
        if (access(chunks[k], F_OK) != 0)
            goto done; /* not complete, or joined already */
    const char *dot = strrchr(gr->output, '.');
    if (dot && !strcasecmp(dot, ".y4m"))
        e = join_y4m(chunks, src, gr->n, gr->overlap, gr->output, err, errlen);
    else
        e = aie_io_join(chunks, gr->n, gr->no_audio ? NULL : gr->source, gr->no_audio,
                        gr->overlap ? src : NULL, gr->output, err, errlen);
    if (e)
        goto done;
    for (int k = 0; k < gr->n; k++)
        unlink(chunks[k]);
    *joined = 1;
done:
    if (lock >= 0)
        close(lock);
    free(chunks);
    free(src);
    return e;
}
