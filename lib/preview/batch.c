/* aie_preview_batch: the previews of a batch's first jobs, one page with a
 * section per job and the totals estimated for the whole batch. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aie/error.h"
#include "preview_internal.h"

typedef struct BJob {
    int rc;
    char error[AIE_ERRBUF_SIZE];
    json_object *j;          /* its preview.json, NULL when it failed */
    const char *method;      /* the recommended (or only) method */
    double wall_s, bytes, frames, mem;
    const char *in_png, *out_png;
} BJob;

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static double num(json_object *o)
{
    return o && !json_object_is_type(o, json_type_null) ? json_object_get_double(o) : NAN;
}

/* The numbers of the recommended method of one job's preview. */
static void summarise(BJob *b)
{
    b->wall_s = b->bytes = b->frames = b->mem = NAN;
    json_object *rec = get(get(b->j, "recommendation"), "method"), *methods = get(b->j, "methods");
    const char *want = rec ? json_object_get_string(rec) : NULL;
    json_object *m = NULL;
    for (size_t i = 0; methods && i < json_object_array_length(methods); i++) {
        json_object *x = json_object_array_get_idx(methods, i);
        if (!m || (want && !strcmp(json_object_get_string(get(x, "name")), want)))
            m = x;
    }
    if (!m)
        return;
    b->method = json_object_get_string(get(m, "name"));
    json_object *e = get(m, "estimate");
    b->wall_s = num(get(e, "wall_s"));
    b->bytes = num(get(e, "output_bytes"));
    b->frames = num(get(e, "frames_in"));
    b->mem = num(get(e, "peak_memory_mib"));
    json_object *s = json_object_array_get_idx(get(b->j, "samples"), 0);
    b->in_png = s ? json_object_get_string(get(s, "input")) : NULL;
    b->out_png = s ? json_object_get_string(get(get(get(s, "methods"), b->method), "image")) : NULL;
}

static void html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

static void human_bytes(char *buf, size_t n, double b)
{
    static const char *const u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    if (!isfinite(b)) {
        snprintf(buf, n, "-");
        return;
    }
    while (b >= 1000 && i < 4) {
        b /= 1000;
        i++;
    }
    snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

static void human_time(char *buf, size_t n, double s)
{
    if (!isfinite(s)) {
        snprintf(buf, n, "-");
        return;
    }
    long t = lround(s);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

typedef struct Totals {
    double wall_s, bytes, frames;
    int known;         /* jobs with an estimate */
    double scale;      /* njobs / known: the extrapolation to the whole batch */
} Totals;

static int write_batch(const PvRun *r, const AiePreviewBatchParams *p, const BJob *b, const Totals *t, char *err,
                       size_t errlen)
{
    char path[4400];
    snprintf(path, sizeof(path), "%s/preview.json", r->tmp);
    FILE *f = fopen(path, "w");
    if (!f)
        goto fail;
    json_object *o = json_object_new_object(), *jobs = json_object_new_array();
    json_object_object_add(o, "format", json_object_new_string("aie-preview-batch"));
    json_object_object_add(o, "version", json_object_new_int(1));
    json_object_object_add(o, "jobs_total", json_object_new_int(p->njobs));
    json_object_object_add(o, "jobs_previewed", json_object_new_int(p->npreview));
    for (int k = 0; k < p->npreview; k++) {
        json_object *x = json_object_new_object();
        char dir[16];
        snprintf(dir, sizeof(dir), "job%02d", k + 1);
        json_object_object_add(x, "n", json_object_new_int(k + 1));
        json_object_object_add(x, "command", json_object_new_string(p->cmds[k]));
        json_object_object_add(x, "dir", b[k].j ? json_object_new_string(dir) : NULL);
        json_object_object_add(x, "ok", json_object_new_boolean(b[k].j != NULL));
        json_object_object_add(x, "error", b[k].j ? NULL : json_object_new_string(b[k].error));
        json_object_object_add(x, "method", b[k].method ? json_object_new_string(b[k].method) : NULL);
        json_object_object_add(x, "wall_s", isfinite(b[k].wall_s) ? json_object_new_double(round(b[k].wall_s * 10) / 10) : NULL);
        json_object_object_add(x, "output_bytes", isfinite(b[k].bytes) ? json_object_new_double(b[k].bytes) : NULL);
        json_object_object_add(x, "frames", isfinite(b[k].frames) ? json_object_new_double(b[k].frames) : NULL);
        json_object_array_add(jobs, x);
    }
    json_object_object_add(o, "jobs", jobs);
    json_object *tot = json_object_new_object();
    json_object_object_add(tot, "jobs_estimated", json_object_new_int(t->known));
    json_object_object_add(tot, "previewed_wall_s", json_object_new_double(t->wall_s));
    json_object_object_add(tot, "previewed_output_bytes", json_object_new_double(t->bytes));
    json_object_object_add(tot, "batch_wall_s", t->known ? json_object_new_double(t->wall_s * t->scale) : NULL);
    json_object_object_add(tot, "batch_output_bytes", t->known ? json_object_new_double(t->bytes * t->scale) : NULL);
    json_object_object_add(o, "totals", tot);
    fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE), f);
    fputc('\n', f);
    json_object_put(o);
    if (ferror(f) | (fclose(f) != 0))
        goto fail;

    snprintf(path, sizeof(path), "%s/index.html", r->tmp);
    if (!(f = fopen(path, "w")))
        goto fail;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>aie batch preview</title>\n"
          "<style>\nbody{font:14px/1.4 system-ui,sans-serif;margin:0;padding:16px 24px;background:#16181c;"
          "color:#e6e6e6}\nh1{font-size:20px}h2{font-size:16px;margin:0 0 6px}a{color:#8cf}\n"
          "table{border-collapse:collapse;margin:6px 0 12px}td,th{padding:3px 10px;border-bottom:1px solid #333;"
          "text-align:right}th{color:#9aa;white-space:nowrap}td:first-child,th:first-child{text-align:left}\n"
          "code{background:#222;padding:1px 4px;word-break:break-all}.job{margin:18px 0;padding-top:10px;"
          "border-top:1px solid #333}.err{color:#f88}.tot{background:#223a2a;border-left:4px solid #4c9;"
          "padding:8px 12px}\nimg{height:160px;image-rendering:pixelated;margin-right:6px;border:1px solid #444}\n"
          "</style>\n</head>\n<body>\n<h1>Batch preview</h1>\n", f);
    char tw[32], tb[32], pw[32], pb[32];
    human_time(pw, sizeof(pw), t->wall_s);
    human_bytes(pb, sizeof(pb), t->bytes);
    human_time(tw, sizeof(tw), t->known ? t->wall_s * t->scale : NAN);
    human_bytes(tb, sizeof(tb), t->known ? t->bytes * t->scale : NAN);
    fprintf(f, "<div class=\"tot\" id=\"totals\">%d of %d jobs previewed (%d with an estimate): %s and %s for "
               "these; the whole batch, at their mean: <b>%s</b> and <b>%s</b> (one job at a time)</div>\n",
            p->npreview, p->njobs, t->known, pw, pb, tw, tb);
    for (int k = 0; k < p->npreview; k++) {
        fprintf(f, "<div class=\"job\" id=\"job%d\">\n<h2>Job %d</h2>\n<code>", k + 1, k + 1);
        html_text(f, p->cmds[k]);
        fputs("</code>\n", f);
        if (!b[k].j) {
            fputs("<p class=\"err\">no preview: ", f);
            html_text(f, b[k].error);
            fputs("</p>\n</div>\n", f);
            continue;
        }
        char w[32], by[32];
        human_time(w, sizeof(w), b[k].wall_s);
        human_bytes(by, sizeof(by), b[k].bytes);
        fprintf(f, "<table><tr><th>method</th><th>frames</th><th>predicted time</th><th>predicted size</th>"
                   "<th>peak memory</th></tr><tr><td>");
        html_text(f, b[k].method);
        fprintf(f, "</td><td>%.0f</td><td>%s</td><td>%s</td><td>%.0f MiB</td></tr></table>\n", b[k].frames, w, by,
                b[k].mem);
        const char *rt = json_object_get_string(get(get(b[k].j, "recommendation"), "text"));
        if (rt) {
            fputs("<p>", f);
            html_text(f, rt);
            fputs("</p>\n", f);
        }
        if (b[k].in_png && b[k].out_png) {
            fprintf(f, "<a href=\"job%02d/index.html\"><img src=\"job%02d/", k + 1, k + 1);
            html_text(f, b[k].in_png);
            fprintf(f, "\" alt=\"input\"><img src=\"job%02d/", k + 1);
            html_text(f, b[k].out_png);
            fputs("\" alt=\"output\"></a>\n", f);
        }
        fprintf(f, "<p><a href=\"job%02d/index.html\">the job's preview: every sample, the wipe slider</a></p>\n"
                   "</div>\n", k + 1);
    }
    fputs("</body>\n</html>\n", f);
    if (ferror(f) | (fclose(f) != 0))
        goto fail;
    return 0;
fail:;
    int e = errno;
    aie_errf(err, errlen, "--preview %s: %s", p->dir, strerror(e));
    return aie_error_from_errno(e);
}

int aie_preview_batch(const AiePreviewBatchParams *p, int *failed, char *err, size_t errlen)
{
    *failed = 0;
    PvRun *r = calloc(1, sizeof(*r));
    BJob *b = calloc((size_t)(p->npreview > 0 ? p->npreview : 1), sizeof(*b));
    int e = r && b ? 0 : AIE_ENOMEM;
    if (!e)
        e = aie_preview_check_dir(p->dir, p->force, err, errlen);
    if (!e)
        e = aie_preview_make_temp_dir(r, p->dir, err, errlen);
    Totals t = {0};
    for (int k = 0; !e && k < p->npreview; k++) {
        if (aie_cancel_requested(p->cancel)) {
            e = AIE_ECANCELLED;
            break;
        }
        char dir[4300];
        snprintf(dir, sizeof(dir), "%s/job%02d", r->tmp, k + 1);
        b[k].rc = p->run(p->opaque, k, dir, b[k].error, sizeof(b[k].error));
        if (!b[k].rc) {
            char jp[4400];
            snprintf(jp, sizeof(jp), "%s/preview.json", dir);
            b[k].j = json_object_from_file(jp);
            if (!b[k].j)
                snprintf(b[k].error, sizeof(b[k].error), "its preview.json cannot be read");
        }
        if (!b[k].j) {
            ++*failed;
            if (p->note) {
                char line[AIE_ERRBUF_SIZE + 64];
                snprintf(line, sizeof(line), "job %d: no preview: %s", k + 1, b[k].error);
                p->note(p->note_opaque, line);
            }
            continue;
        }
        summarise(&b[k]);
        if (isfinite(b[k].wall_s) && isfinite(b[k].bytes)) {
            t.wall_s += b[k].wall_s;
            t.bytes += b[k].bytes;
            t.known++;
        }
    }
    t.scale = t.known ? (double)p->njobs / t.known : 0;
    if (!e)
        e = write_batch(r, p, b, &t, err, errlen);
    if (!e)
        e = aie_preview_commit_dir(r, err, errlen);
    if (!e && p->note) {
        char tw[32], tb[32], line[4400];
        human_time(tw, sizeof(tw), t.known ? t.wall_s * t.scale : NAN);
        human_bytes(tb, sizeof(tb), t.known ? t.bytes * t.scale : NAN);
        snprintf(line, sizeof(line), "preview of %d of %d jobs in %s/index.html; the batch: %s, %s", p->npreview,
                 p->njobs, r->final, tw, tb);
        p->note(p->note_opaque, line);
    }
    if (e == AIE_ECANCELLED)
        aie_errf(err, errlen, "cancelled");
    for (int k = 0; b && k < p->npreview; k++)
        json_object_put(b[k].j);
    if (r && r->tmp[0])
        aie_preview_rmtree(r->tmp);
    free(b);
    free(r);
    return e;
}
