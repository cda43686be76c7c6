/* aie_preview_run: sample a clip, run the job's stage (or several) on the
 * samples, write the pictures, preview.json and index.html (aie/preview.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "aie/look.h"
#include "aie/motion.h"
#include "aie/preview.h"
#include "aie/util.h"
#include "aie/quality.h"
#include "aie/scale.h"
#include "preview_internal.h"

/* ---- notes and small helpers ---- */

static void note(const AiePreviewParams *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const AiePreviewParams *p, const char *fmt, ...)
{
    if (!p->note)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    p->note(p->note_opaque, buf);
}

static double fps_of(const AieVideoInfo *vi)
{
    return vi->fps.num > 0 && vi->fps.den > 0 ? (double)vi->fps.num / vi->fps.den : 25.0;
}

static double frame_time(const AieFrame *f)
{
    if (f->pts == INT64_MIN || f->time_base.den <= 0)
        return 0;
    return (double)f->pts * f->time_base.num / f->time_base.den;
}

static size_t frame_bytes(int w, int h, AieLayout layout, int depth)
{
    int sx = 0, sy = 0;
    aie_layout_chroma_shift(layout, &sx, &sy);
    size_t luma = (size_t)w * h * (size_t)aie_depth_bytes(depth);
    int np = aie_layout_planes(layout);
    if (layout == AIE_LAYOUT_RGB || layout == AIE_LAYOUT_RGBA || layout == AIE_LAYOUT_GRAY)
        return luma * (size_t)np;
    return luma + 2 * (luma >> (sx + sy));
}

/* CPU time of the process (every thread), in microseconds. */
static long long cpu_us(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru))
        return 0;
    return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* ---- sampling ---- */

static void sample_clear(PvSample *s)
{
    for (int i = 0; i < s->nwin; i++)
        aie_frame_unref(&s->win[i]);
    s->nwin = 0;
}

/* Pick n of the c positions (in time order, with their shot numbers): one in
 * the middle of each shot (the longest shots when there are more shots than
 * n), then the positions farthest from those chosen. out gets the positions
 * in time order; returns how many. */
int aie_preview_choose(const int *shot, int c, int n, int *out)
{
    if (c <= n) {
        for (int i = 0; i < c; i++)
            out[i] = i;
        return c;
    }
    int starts[AIE_PREVIEW_MAX_SAMPLES * 8], lens[AIE_PREVIEW_MAX_SAMPLES * 8], nr = 0;
    int *taken = calloc((size_t)c, sizeof(*taken));
    if (!taken)
        return 0;
    for (int i = 0; i < c; i++) {
        if (i == 0 || shot[i] != shot[i - 1]) {
            if (nr == (int)(sizeof(starts) / sizeof(starts[0])))
                break;
            starts[nr] = i;
            lens[nr++] = 0;
        }
        lens[nr - 1]++;
    }
    int k = 0;
    /* runs by length, longest first (earlier first among equals) */
    int order[AIE_PREVIEW_MAX_SAMPLES * 8];
    for (int i = 0; i < nr; i++)
        order[i] = i;
    for (int i = 1; i < nr; i++)
        for (int j = i; j > 0 && lens[order[j]] > lens[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < nr && k < n; i++) {
        int pos = starts[order[i]] + lens[order[i]] / 2;
        taken[pos] = 1;
        out[k++] = pos;
    }
    while (k < n) {
        int best = -1, bestd = -1;
        for (int i = 0; i < c; i++) {
            if (taken[i])
                continue;
            int d = c;
            for (int j = 0; j < k; j++) {
                int dd = abs(i - out[j]);
                d = dd < d ? dd : d;
            }
            if (d > bestd) {
                bestd = d;
                best = i;
            }
        }
        if (best < 0)
            break;
        taken[best] = 1;
        out[k++] = best;
    }
    free(taken);
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && out[j] < out[j - 1]; j--) {
            int t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return k;
}

/* Truncate a window at the first cut the detector finds in it (the sample
 * stays within its shot). */
static void window_cut(PvSample *s, double threshold)
{
    if (s->nwin < 2)
        return;
    AieSceneFeat *f = malloc(sizeof(*f) * (size_t)s->nwin);
    if (!f)
        return;
    for (int i = 0; i < s->nwin; i++)
        aie_scene_features(s->win[i], &f[i]);
    for (int i = 0; i + 1 < s->nwin; i++) {
        const AieSceneFeat *w[AIE_SCENE_WINDOW] = {i >= 2 ? &f[i - 2] : NULL, i >= 1 ? &f[i - 1] : NULL, &f[i],
                                                   &f[i + 1], i + 2 < s->nwin ? &f[i + 2] : NULL};
        if (aie_scene_cut(w, threshold)) {
            for (int j = i + 1; j < s->nwin; j++)
                aie_frame_unref(&s->win[j]);
            s->nwin = i + 1;
            s->cut_in_window = 1;
            break;
        }
    }
    free(f);
}

/* Seekable input: candidates at evenly spaced times (one keyframe decoded
 * each), shots told apart by the scene detector between neighbouring
 * candidates, then a window decoded after each chosen keyframe. */
static int sample_seek(PvRun *r, AieReader *rd, double t0, double duration_s)
{
    int m = r->want * 4;
    if (m > AIE_PREVIEW_MAX_SAMPLES * 4)
        m = AIE_PREVIEW_MAX_SAMPLES * 4;
    AieSceneFeat *feat = calloc((size_t)m, sizeof(*feat));
    double *ct = calloc((size_t)m, sizeof(*ct));
    int64_t *cidx = calloc((size_t)m, sizeof(*cidx));
    int *shot = calloc((size_t)m, sizeof(*shot)), *pick = calloc((size_t)m, sizeof(*pick));
    int err = 0, c = 0;
    if (!feat || !ct || !cidx || !shot || !pick) {
        err = AIE_ENOMEM;
        goto done;
    }
    for (int i = 0; i < m; i++) {
        double t = t0 + (i + 0.5) * duration_s / m;
        AieFrame *f = NULL;
        if ((err = aie_reader_seek(rd, (int64_t)(t * 1e6))))
            goto done;
        if ((err = aie_reader_read(rd, &f)) == AIE_EOF) {
            err = 0;
            continue;
        }
        if (err)
            goto done;
        if (c > 0 && f->index <= cidx[c - 1]) { /* the same keyframe as the last candidate */
            aie_frame_unref(&f);
            continue;
        }
        aie_scene_features(f, &feat[c]);
        ct[c] = frame_time(f);
        cidx[c] = f->index;
        shot[c] = c == 0 ? 1 : shot[c - 1] + (aie_scene_diff(&feat[c - 1], &feat[c]) > r->threshold);
        c++;
        aie_frame_unref(&f);
    }
    if (c == 0) {
        err = AIE_EEMPTY;
        goto done;
    }
    int k = aie_preview_choose(shot, c, r->want, pick);
    for (int i = 0; i < k; i++) {
        PvSample *s = &r->s[r->ns++];
        s->shot = shot[pick[i]];
        s->t_seek = ct[pick[i]];
        s->t = ct[pick[i]];
        s->index = cidx[pick[i]];
    }
    r->shots = shot[c - 1];
done:
    free(feat);
    free(ct);
    free(cidx);
    free(shot);
    free(pick);
    return err;
}

/* Seek mode: decode the window of a chosen sample (its keyframe and the
 * frames after it, up to a scene cut). */
static int load_window(PvRun *r, AieReader *rd, PvSample *s)
{
    int err = aie_reader_seek(rd, (int64_t)(s->t_seek * 1e6));
    if (err)
        return err;
    while (s->nwin < PV_WINDOW) {
        long long t0 = aie_time_us(), c0 = cpu_us();
        AieFrame *f = NULL;
        err = aie_reader_read(rd, &f);
        if (err == AIE_EOF)
            break;
        if (err)
            return err;
        if (s->nwin > 0) { /* decoding on from the keyframe: the cost of a frame */
            r->decode_us += aie_time_us() - t0;
            r->decode_cpu_us += cpu_us() - c0;
            r->decoded++;
        }
        s->win[s->nwin++] = f;
    }
    if (!s->nwin)
        return AIE_EEMPTY;
    s->index = s->win[0]->index;
    s->t = frame_time(s->win[0]);
    window_cut(s, r->threshold);
    return 0;
}

/* Sequential input (a pipe, or an input too short to seek around): read up
 * to `limit` frames, find the cuts, and choose among them. */
static int sample_sequential(PvRun *r, AieReader *rd, int64_t limit)
{
    int cap = 256, n = 0, err = 0;
    AieFrame **all = calloc((size_t)cap, sizeof(*all));
    AieSceneFeat *feat = NULL;
    int *shot = NULL, *pick = NULL;
    if (!all)
        return AIE_ENOMEM;
    long long t_read = aie_time_us(), c_read = cpu_us();
    while (n < limit) {
        AieFrame *f = NULL;
        err = aie_reader_read(rd, &f);
        if (err == AIE_EOF) {
            err = 0;
            r->input_ended = 1;
            break;
        }
        if (err)
            goto done;
        if (n == cap) {
            AieFrame **g = realloc(all, sizeof(*all) * (size_t)cap * 2);
            if (!g) {
                aie_frame_unref(&f);
                err = AIE_ENOMEM;
                goto done;
            }
            all = g;
            cap *= 2;
        }
        all[n++] = f;
    }
    if (n > 1) {
        r->decode_us += aie_time_us() - t_read;
        r->decode_cpu_us += cpu_us() - c_read;
        r->decoded += n;
    }
    r->seq_frames = n;
    if (n == 0) {
        err = AIE_EEMPTY;
        goto done;
    }
    feat = malloc(sizeof(*feat) * (size_t)n);
    shot = calloc((size_t)n, sizeof(*shot));
    pick = calloc((size_t)n, sizeof(*pick));
    if (!feat || !shot || !pick) {
        err = AIE_ENOMEM;
        goto done;
    }
    for (int i = 0; i < n; i++)
        aie_scene_features(all[i], &feat[i]);
    shot[0] = 1;
    for (int i = 0; i + 1 < n; i++) {
        const AieSceneFeat *w[AIE_SCENE_WINDOW] = {i >= 2 ? &feat[i - 2] : NULL, i >= 1 ? &feat[i - 1] : NULL,
                                                   &feat[i], &feat[i + 1], i + 2 < n ? &feat[i + 2] : NULL};
        shot[i + 1] = shot[i] + (aie_scene_cut(w, r->threshold) != 0);
    }
    r->shots = shot[n - 1];
    int k = aie_preview_choose(shot, n, r->want, pick);
    for (int i = 0; i < k; i++) {
        PvSample *s = &r->s[r->ns++];
        int at = pick[i];
        s->shot = shot[at];
        s->index = all[at]->index + r->seq_offset;
        s->t = frame_time(all[at]) + r->seq_offset / fps_of(&r->vi);
        for (int j = at; j < n && s->nwin < PV_WINDOW && shot[j] == shot[at]; j++)
            s->win[s->nwin++] = aie_frame_ref(all[j]);
        s->cut_in_window = at + s->nwin < n && shot[at + s->nwin] != shot[at] && s->nwin < PV_WINDOW;
    }
done:
    for (int i = 0; i < n; i++)
        aie_frame_unref(&all[i]);
    free(all);
    free(feat);
    free(shot);
    free(pick);
    return err;
}

/* ---- running the stages ---- */

#define PV_MAX_OUT (PV_WINDOW * 16 + 16)

typedef struct PvOuts {
    AieFrame *f[PV_MAX_OUT];
    int n;
} PvOuts;

/* Run one method's stage over a sample's window: a clip of its own (reset
 * first), the flush job at the end. */
static int run_window(PvRun *r, PvMethod *m, PvSample *s, PvResult *res, int nframes, PvOuts *outs)
{
    AieStage *st = m->stage;
    int err = aie_stage_reset(st);
    if (err)
        return err;
    long long t0 = aie_time_us(), c0 = cpu_us();
    int jobs = nframes + (st->flush_job ? 1 : 0);
    for (int j = 0; j < jobs && !err; j++) {
        AieJob job = {.seq = j, .in = j < nframes ? s->win[j] : NULL};
        for (int h = 0; h < st->history && h < AIE_PIPE_MAX_HISTORY; h++) {
            int at = j - 1 - h;
            job.prev[h] = at >= 0 && at < nframes ? s->win[at] : NULL;
        }
        if (aie_cancel_requested(r->p->cancel))
            return AIE_ECANCELLED;
        err = aie_stage_process(st, &job, r->pool);
        for (int o = 0; o < job.nout; o++)
            if (!err && outs->n < PV_MAX_OUT) {
                outs->f[outs->n++] = job.out[o];
                job.out[o] = NULL;
            }
        aie_job_clear(&job);
        free(job.out);
    }
    res->ms = (double)(aie_time_us() - t0) / 1000.0;
    m->process_cpu_us += cpu_us() - c0;
    res->frames_in = nframes;
    res->nout = outs->n;
    return err;
}

/* The output frame shown for a sample: the first output (upscale, style);
 * for a frame-rate change the one nearest the middle of the first pair. */
static int shown_output(const PvRun *r, const PvSample *s, const PvOuts *o)
{
    if (r->p->measure != AIE_PREVIEW_MOTION || s->nwin < 2 || o->n < 2)
        return 0;
    double t0 = frame_time(s->win[0]), t1 = frame_time(s->win[1]), mid = (t0 + t1) / 2, o0 = frame_time(o->f[0]);
    /* the stage may count its output times from its first frame */
    double shift = fabs(o0 - t0) < fabs(o0) ? 0 : t0;
    int best = 0;
    double bd = INFINITY;
    for (int i = 0; i < o->n; i++) {
        double d = fabs(frame_time(o->f[i]) + shift - mid);
        if (d < bd) {
            bd = d;
            best = i;
        }
    }
    return best;
}

static double measure(PvRun *r, PvMethod *m, const PvSample *s, const PvResult *res)
{
    const AiePreviewParams *p = r->p;
    const AieFrame *shown = res->shown;
    switch (p->measure) {
    case AIE_PREVIEW_ROUNDTRIP: {
        const AieFrame *in = s->win[0];
        if (!shown || shown->layout != in->layout || shown->depth != in->depth)
            return NAN;
        if (!m->down) {
            AieScaleParams sp = {.src_w = shown->width, .src_h = shown->height, .dst_w = in->width,
                                 .dst_h = in->height, .layout = in->layout, .depth = in->depth,
                                 .filter = AIE_FILTER_LANCZOS, .chroma_loc = in->color.chroma_loc};
            if (aie_scaler_create(&m->down, &sp, p->cpu_flags))
                return NAN;
        }
        AieFrame *back = NULL;
        double v = NAN;
        if (aie_frame_alloc(&back, in->width, in->height, in->layout, in->depth) == 0 &&
            aie_scaler_scale(m->down, shown, back, r->pool) == 0)
            v = aie_frame_psnr(in, back, p->cpu_flags);
        aie_frame_unref(&back);
        return v;
    }
    case AIE_PREVIEW_FLICKER:
        if (s->nwin < 2 || !res->shown || !res->second)
            return NAN;
        return aie_style_flicker(s->win[0], s->win[1], res->shown, res->second);
    case AIE_PREVIEW_MOTION: {
        if (s->nwin < 2)
            return NAN;
        const AieFrame *a = s->win[0], *b = s->win[1];
        if (!r->motion) {
            AieMotionParams mp;
            aie_motion_params_default(&mp);
            if (aie_motion_create(&r->motion, a->width, a->height, &mp, p->cpu_flags))
                return NAN;
        }
        int fw, fh, sl;
        aie_motion_field_size(r->motion, &fw, &fh, &sl);
        AieFlow *ab = NULL, *ba = NULL;
        double v = NAN;
        if (aie_flow_alloc(&ab, a->width, a->height, sl) == 0 && aie_flow_alloc(&ba, a->width, a->height, sl) == 0 &&
            aie_motion_estimate(r->motion, a, b, ab, ba, r->pool) == 0)
            v = 1.0 - aie_flow_unreliable(ab, ba);
        aie_flow_free(&ab);
        aie_flow_free(&ba);
        return v;
    }
    }
    return NAN;
}

/* Encode a window's outputs with the job's encoder, for the size estimate
 * (one file per method, the samples back to back). A failure leaves no
 * estimate but the preview stands; a full disk or a cancel stops it. */
static int encode_outputs(PvRun *r, PvMethod *m, int mi, const PvOuts *o)
{
    const AiePreviewParams *p = r->p;
    if (r->est_kind == PV_EST_RAW) {
        m->est_bytes += (int64_t)frame_bytes(m->stage->out.width, m->stage->out.height, m->stage->out.layout,
                                             p->writer.depth ? p->writer.depth : m->stage->out.depth) * o->n;
        m->est_frames += o->n;
        return 0;
    }
    if (r->est_kind != PV_EST_VIDEO || r->est_error[0])
        return 0;
    long long t0 = aie_time_us(), c0 = cpu_us();
    int err = 0;
    AieVideoInfo vi = m->stage->out;
    AieRational fr = vi.fps.num > 0 && vi.fps.den > 0 ? vi.fps : (AieRational){25, 1};
    vi.time_base = (AieRational){fr.den, fr.num};
    vi.audio_streams = vi.other_streams = 0;
    if (!m->est) {
        snprintf(m->est_path, sizeof(m->est_path), "%s/estimate-%d%s", r->tmp, mi, r->est_ext);
        AieWriterOpts wo = p->writer;
        wo.no_audio = 1;
        wo.no_clobber = 0;
        wo.finishing = NULL;
        wo.cancel = p->cancel;
        char why[AIE_ERRBUF_SIZE];
        if ((err = aie_writer_open(&m->est, m->est_path, &vi, NULL, &wo, why, sizeof(why)))) {
            snprintf(r->est_error, sizeof(r->est_error), "%s", why);
            return err == AIE_ENOSPC ? err : 0;
        }
    }
    for (int i = 0; i < o->n && !err; i++) {
        AieFrame *f = o->f[i];
        f->pts = m->est_frames;
        f->time_base = vi.time_base;
        f->duration = 1;
        err = aie_writer_write(m->est, f);
        m->est_frames++;
    }
    m->encode_us += (double)(aie_time_us() - t0);
    m->encode_cpu_us += cpu_us() - c0;
    if (err) {
        snprintf(r->est_error, sizeof(r->est_error), "%s",
                 aie_writer_error(m->est)[0] ? aie_writer_error(m->est) : aie_strerror(err));
        aie_writer_close(&m->est);
        return err == AIE_ENOSPC || err == AIE_ECANCELLED ? err : 0;
    }
    return 0;
}

static int finish_estimate(PvRun *r, PvMethod *m)
{
    if (!m->est)
        return 0;
    long long t0 = aie_time_us(), c0 = cpu_us();
    int err = aie_writer_finish(m->est);
    m->encode_us += (double)(aie_time_us() - t0);
    m->encode_cpu_us += cpu_us() - c0;
    if (err)
        snprintf(r->est_error, sizeof(r->est_error), "%s",
                 aie_writer_error(m->est)[0] ? aie_writer_error(m->est) : aie_strerror(err));
    aie_writer_close(&m->est);
    struct stat st;
    if (!err && stat(m->est_path, &st) == 0)
        m->est_bytes = st.st_size;
    unlink(m->est_path);
    return err == AIE_ENOSPC || err == AIE_ECANCELLED ? err : 0;
}

/* ---- the directory ---- */

static int dir_state(const char *dir, int *exists, int *empty, int *has_json)
{
    struct stat st;
    *exists = *empty = *has_json = 0;
    if (stat(dir, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    *exists = 1;
    char path[4200];
    snprintf(path, sizeof(path), "%s/preview.json", dir);
    *has_json = stat(path, &st) == 0;
    *empty = aie_preview_dir_empty(dir);
    return 0;
}

int aie_preview_check_dir(const char *dir, int force, char *err, size_t errlen)
{
    int exists, empty, has_json;
    int e = dir_state(dir, &exists, &empty, &has_json);
    if (e == -ENOTDIR) {
        aie_errf(err, errlen, "--preview %s: exists and is not a directory", dir);
        return AIE_EEXIST;
    }
    if (e) {
        aie_errf(err, errlen, "--preview %s: %s", dir, strerror(-e));
        return aie_error_from_errno(-e);
    }
    if (exists && !empty && !force) {
        aie_errf(err, errlen, "--preview %s: the directory exists and is not empty (--force replaces an earlier preview)",
                 dir);
        return AIE_EEXIST;
    }
    if (exists && !empty && !has_json) {
        aie_errf(err, errlen, "--preview %s: the directory holds no preview.json; --force replaces only an earlier "
                 "preview", dir);
        return AIE_EEXIST;
    }
    return 0;
}

int aie_preview_make_temp_dir(PvRun *r, const char *dir, char *err, size_t errlen)
{
    char parent[4096];
    const char *base;
    char clean[4096];
    snprintf(clean, sizeof(clean), "%s", dir);
    size_t l = strlen(clean);
    while (l > 1 && clean[l - 1] == '/')
        clean[--l] = 0;
    aie_fs_split_path(clean, parent, sizeof(parent), &base);
    snprintf(r->tmp, sizeof(r->tmp), "%s/.%s.aie-%ld.XXXXXX", parent, base, (long)getpid());
    if (!mkdtemp(r->tmp)) {
        int e = errno;
        aie_errf(err, errlen, "--preview %s: cannot write in %s: %s", dir, parent, strerror(e));
        r->tmp[0] = 0;
        return aie_error_from_errno(e);
    }
    chmod(r->tmp, 0777 & ~aie_preview_umask());
    snprintf(r->final, sizeof(r->final), "%s", clean);
    return 0;
}

/* Rename the finished temporary directory into place. */
int aie_preview_commit_dir(PvRun *r, char *err, size_t errlen)
{
    int exists, empty, has_json;
    if (dir_state(r->final, &exists, &empty, &has_json) == 0 && exists) {
        if (!empty && !has_json) { /* appeared meanwhile */
            aie_errf(err, errlen, "--preview %s: the directory holds no preview.json; --force replaces only an "
                     "earlier preview", r->final);
            return AIE_EEXIST;
        }
        char old[4300];
        snprintf(old, sizeof(old), "%s.old", r->tmp);
        if (rename(r->final, old) != 0) {
            int e = errno;
            aie_errf(err, errlen, "--preview %s: cannot replace it: %s", r->final, strerror(e));
            return aie_error_from_errno(e);
        }
        if (rename(r->tmp, r->final) != 0) {
            int e = errno;
            rename(old, r->final);
            aie_errf(err, errlen, "--preview %s: %s", r->final, strerror(e));
            return aie_error_from_errno(e);
        }
        aie_preview_rmtree(old);
        r->tmp[0] = 0;
        return 0;
    }
    if (rename(r->tmp, r->final) != 0) {
        int e = errno;
        aie_errf(err, errlen, "--preview %s: %s", r->final, strerror(e));
        return aie_error_from_errno(e);
    }
    r->tmp[0] = 0;
    return 0;
}

/* ---- the run ---- */

static void free_run(PvRun *r)
{
    for (int i = 0; i < r->ns; i++) {
        for (int mi = 0; mi < r->nm; mi++) {
            aie_frame_unref(&r->s[i].res[mi].shown);
            aie_frame_unref(&r->s[i].res[mi].second);
        }
        sample_clear(&r->s[i]);
    }
    for (int mi = 0; mi < r->nm; mi++) {
        aie_writer_close(&r->m[mi].est);
        aie_stage_free(&r->m[mi].stage);
        aie_scaler_free(&r->m[mi].down);
    }
    aie_motion_free(&r->motion);
    aie_pool_destroy(&r->pool);
    if (r->tmp[0])
        aie_preview_rmtree(r->tmp);
}

static void plan_estimate(PvRun *r)
{
    const char *out = r->p->output;
    r->est_kind = PV_EST_VIDEO;
    snprintf(r->est_ext, sizeof(r->est_ext), ".mkv");
    if (!out || !*out) {
        snprintf(r->est_note, sizeof(r->est_note), "no -o: the size is estimated for .mkv with its default encoder");
        return;
    }
    AieOutputPlan plan;
    AieWriterOpts wo = r->p->writer;
    if (!strcmp(out, "-") || aie_writer_plan(out, &wo, &plan) != 0) {
        r->est_kind = PV_EST_RAW;
        return;
    }
    if (!strcmp(plan.kind, "y4m")) {
        r->est_kind = PV_EST_RAW;
    } else if (!strcmp(plan.kind, "png") || !strcmp(plan.kind, "png-sequence")) {
        r->est_kind = PV_EST_PNG;
    } else {
        const char *dot = strrchr(out, '.');
        snprintf(r->est_ext, sizeof(r->est_ext), "%s", dot && !strchr(dot, '/') ? dot : ".mkv");
    }
}

int aie_preview_run(const AiePreviewParams *p, char *err, size_t errlen)
{
    PvRun *r = calloc(1, sizeof(*r));
    if (!r)
        return AIE_ENOMEM;
    r->p = p;
    r->t_start = aie_time_us();
    r->want = p->samples > 0 ? p->samples : AIE_PREVIEW_DEFAULT_SAMPLES;
    if (r->want > AIE_PREVIEW_MAX_SAMPLES)
        r->want = AIE_PREVIEW_MAX_SAMPLES;
    r->threshold = AIE_SCENE_THRESHOLD_DEFAULT;
    r->nm = p->nmethods > 0 ? p->nmethods : 1;
    if (r->nm > AIE_PREVIEW_MAX_METHODS)
        r->nm = AIE_PREVIEW_MAX_METHODS;
    int e = aie_preview_check_dir(p->dir, p->force, err, errlen);
    AieReader *rd = NULL;
    if (e)
        goto out;
    if ((e = aie_preview_make_temp_dir(r, p->dir, err, errlen)))
        goto out;
    plan_estimate(r);

    /* the input: the whole clip, without its other streams */
    AieReaderOpts ro = p->reader;
    ro.first = 0;
    ro.last = -1;
    ro.no_audio = 1;
    ro.cancel = p->cancel;
    if ((e = aie_reader_open(&rd, p->input, &ro, err, errlen)))
        goto out;
    r->vi = *aie_reader_info(rd);
    const AieVideoInfo *vi = &r->vi;
    double fps = fps_of(vi);
    int64_t total = vi->nb_frames > 0 ? vi->nb_frames
                  : vi->duration_us > 0 ? (int64_t)llround((double)vi->duration_us / 1e6 * fps) : -1;
    r->total = total;
    if (p->reader.first > 0 || p->reader.last >= 0) {
        int64_t last = p->reader.last >= 0 && (total < 0 || p->reader.last < total) ? p->reader.last : total - 1;
        r->job_frames = total < 0 && p->reader.last < 0 ? -1 : last - p->reader.first + 1;
    } else {
        r->job_frames = total;
    }
    double duration = total > 0 ? (double)total / fps : vi->duration_us / 1e6;
    size_t fb = frame_bytes(vi->width, vi->height, vi->layout, vi->depth);
    int64_t mem_cap = (int64_t)((512u << 20) / (fb ? fb : 1));
    if (mem_cap < 2)
        mem_cap = 2;
    const int seekable = aie_reader_seekable(rd) && total > 0 && !vi->still;
    if (seekable && (r->job_frames > 0 ? r->job_frames : total) > (int64_t)r->want * PV_WINDOW * 2) {
        snprintf(r->mode, sizeof(r->mode), "seek");
        /* a --frames range: the samples come from within it */
        double t0 = p->reader.first > 0 ? (double)p->reader.first / fps : 0, span = duration - t0;
        if (r->job_frames > 0 && r->job_frames < total)
            span = (double)r->job_frames / fps;
        e = sample_seek(r, rd, t0, span > 0 ? span : duration);
        if (!e && r->ns < r->want && total <= mem_cap) {
            /* fewer keyframes than samples in a short clip: read it whole */
            r->ns = 0;
            e = AIE_EUNSUP;
        }
        if (e == AIE_EUNSUP || e == AIE_EIO) {
            /* a container that cannot seek after all: read from the start */
            for (int i = 0; i < r->ns; i++)
                sample_clear(&r->s[i]);
            r->ns = 0;
            aie_reader_close(&rd);
            if ((e = aie_reader_open(&rd, p->input, &ro, err, errlen)))
                goto out;
            goto sequential;
        }
    } else {
    sequential:;
        if (p->reader.first > 0 || p->reader.last >= 0) { /* the --frames range, read by the reader */
            AieReaderOpts rr = ro;
            rr.first = p->reader.first;
            rr.last = p->reader.last;
            aie_reader_close(&rd);
            if ((e = aie_reader_open(&rd, p->input, &rr, err, errlen)))
                goto out;
            r->seq_offset = p->reader.first; /* the reader counts from the range's start */
        }
        int64_t limit = seekable ? (r->job_frames > 0 ? r->job_frames : total)
                                 : (int64_t)llround((p->pipe_seconds > 0 ? p->pipe_seconds : 10) * fps);
        if (limit > mem_cap)
            limit = mem_cap;
        snprintf(r->mode, sizeof(r->mode), seekable ? "all" : "first-seconds");
        e = sample_sequential(r, rd, limit);
        if (!e && !seekable && !vi->still && !r->input_ended) {
            snprintf(r->sampling_note, sizeof(r->sampling_note),
                     "%s cannot seek (a pipe or a stream): sampled from its first %.1f s (%d frames)", p->input,
                     r->seq_frames / fps, r->seq_frames);
            note(p, "%s", r->sampling_note);
        } else if (!e && !seekable && !vi->still && r->input_ended && total < 0) {
            r->job_frames = r->total = r->seq_frames;
            snprintf(r->sampling_note, sizeof(r->sampling_note),
                     "%s cannot seek (a pipe): read whole (%d frames)", p->input, r->seq_frames);
            note(p, "%s", r->sampling_note);
        }
        if (!e && r->input_ended && r->seq_frames > 0) {
            if (r->total < 0 || r->total != r->seq_frames)
                r->total = r->seq_frames;
            if (r->job_frames < 0)
                r->job_frames = r->seq_frames;
        }
    }
    if (e) {
        if (!err[0] || e == AIE_EEMPTY)
            aie_errf(err, errlen, "%s: %s", p->input,
                     aie_reader_error(rd)[0] ? aie_reader_error(rd) : aie_strerror(e));
        goto out;
    }
    if (r->ns < r->want && r->ns > 0 && !r->sampling_note[0]) {
        snprintf(r->sampling_note, sizeof(r->sampling_note),
                 "%s has %lld frame%s, fewer than the %d samples asked: all %d used", p->input,
                 (long long)(r->total > 0 ? r->total : r->ns), r->total == 1 ? "" : "s", r->want, r->ns);
        note(p, "%s", r->sampling_note);
    } else if (r->ns < r->want && r->ns > 0) {
        size_t l = strlen(r->sampling_note);
        snprintf(r->sampling_note + l, sizeof(r->sampling_note) - l, "; %d sample%s", r->ns, r->ns == 1 ? "" : "s");
    }

    /* the stages, one per method */
    int threads = p->threads > 0 ? p->threads : aie_cpu_count();
    if ((e = aie_pool_create(&r->pool, threads))) {
        aie_errf(err, errlen, "cannot start %d threads: %s", threads, aie_strerror(e));
        goto out;
    }
    for (int mi = 0; mi < r->nm; mi++) {
        PvMethod *m = &r->m[mi];
        snprintf(m->name, sizeof(m->name), "%s",
                 p->nmethods > 0 ? p->methods[mi] : p->job_method ? p->job_method : "job");
        char why[AIE_ERRBUF_SIZE] = "";
        if ((e = p->open(p->opaque, mi, vi, r->pool, &m->stage, why, sizeof(why)))) {
            aie_errf(err, errlen, "%s", why[0] ? why : aie_strerror(e));
            goto out;
        }
        if (m->stage->method[0] && p->nmethods == 0)
            snprintf(m->name, sizeof(m->name), "%s", m->stage->method);
    }
    PvOuts *outs = calloc(1, sizeof(*outs));
    if (!outs) {
        e = AIE_ENOMEM;
        goto out;
    }
    for (int i = 0; i < r->ns && !e; i++) {
        PvSample *s = &r->s[i];
        char path[4300], why[AIE_ERRBUF_SIZE];
        if (!s->nwin && (e = load_window(r, rd, s))) {
            aie_errf(err, errlen, "%s: %s", p->input, aie_reader_error(rd)[0] ? aie_reader_error(rd) : aie_strerror(e));
            break;
        }
        snprintf(path, sizeof(path), "%s/s%02d-input.png", r->tmp, i + 1);
        if ((e = aie_image_write_png(path, s->win[0], 8, why, sizeof(why)))) {
            aie_errf(err, errlen, "--preview %s: %s", p->dir, why);
            break;
        }
        for (int mi = 0; mi < r->nm && !e; mi++) {
            PvMethod *m = &r->m[mi];
            PvResult *res = &s->res[mi];
            /* frames per window: about 12, fewer when a method is slow (a
             * preview should take well under a minute) */
            int n = s->nwin;
            if (m->frames_done >= 2 && m->ms_done > 0) {
                double per = m->ms_done / m->frames_done;
                int afford = (int)(PV_BUDGET_MS / r->nm / (per * (r->ns - i)));
                int need = p->measure == AIE_PREVIEW_ROUNDTRIP ? 1 : 2;
                n = afford < need ? need : afford < n ? afford : n;
                n = n > s->nwin ? s->nwin : n;
            } else if (n > 2) {
                n = 2; /* the first sample measures the cost */
            }
            outs->n = 0;
            if ((e = run_window(r, m, s, res, n, outs))) {
                aie_errf(err, errlen, "%s: %s on the sample at %.2f s: %s", p->input, m->name, s->t,
                         aie_strerror(e));
            } else if (outs->n) {
                int k = shown_output(r, s, outs);
                res->shown = aie_frame_ref(outs->f[k]);
                res->second = k + 1 < outs->n ? aie_frame_ref(outs->f[k + 1]) : NULL;
                res->value = measure(r, m, s, res);
                snprintf(path, sizeof(path), "%s/s%02d-%s.png", r->tmp, i + 1, aie_preview_file_name(m->name));
                if ((e = aie_image_write_png(path, res->shown, 8, why, sizeof(why)))) {
                    aie_errf(err, errlen, "--preview %s: %s", p->dir, why);
                } else {
                    struct stat st;
                    res->png_bytes = stat(path, &st) == 0 ? st.st_size : 0;
                    if (r->est_kind == PV_EST_PNG) {
                        m->est_bytes += res->png_bytes;
                        m->est_frames++;
                    }
                    if ((e = encode_outputs(r, m, mi, outs)))
                        aie_errf(err, errlen, "--preview %s: the size estimate: %s", p->dir, r->est_error);
                }
            } else {
                res->value = NAN;
            }
            m->frames_done += res->frames_in;
            m->out_done += outs->n;
            m->ms_done += res->ms;
            for (int o = 0; o < outs->n; o++)
                aie_frame_unref(&outs->f[o]);
            outs->n = 0;
        }
        /* keep the pair the page and the numbers need */
        for (int w = 2; w < s->nwin; w++)
            aie_frame_unref(&s->win[w]);
        if (s->nwin > 2)
            s->nwin = 2;
    }
    free(outs);
    if (e)
        goto out;
    aie_reader_close(&rd);
    for (int mi = 0; mi < r->nm; mi++)
        if ((e = finish_estimate(r, &r->m[mi]))) {
            aie_errf(err, errlen, "--preview %s: the size estimate: %s", p->dir, r->est_error);
            goto out;
        }
    r->decode_ms = r->decoded ? (double)r->decode_us / 1000.0 / (double)r->decoded : 0;
    r->decode_cpu_ms = r->decoded ? (double)r->decode_cpu_us / 1000.0 / (double)r->decoded : 0;
    r->peak_rss = aie_proc_status_bytes("VmHWM");
    r->elapsed_s = (double)(aie_time_us() - r->t_start) / 1e6;
    if ((e = aie_preview_write_json(r, err, errlen)) || (e = aie_preview_write_html(r, err, errlen)))
        goto out;
    if ((e = aie_preview_commit_dir(r, err, errlen)))
        goto out;
    note(p, "preview of %d sample%s in %s/index.html (%.1f s)", r->ns, r->ns == 1 ? "" : "s", r->final,
         (double)(aie_time_us() - r->t_start) / 1e6);
    if (r->recommend[0])
        note(p, "%s", r->recommend);
out:
    if (e == AIE_ECANCELLED)
        aie_errf(err, errlen, "cancelled");
    aie_reader_close(&rd);
    free_run(r);
    free(r);
    return e;
}
