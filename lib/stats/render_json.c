/* --json: the report as one JSON document, schema 1 (documented in aie-stats(1)).
 * Fields are only ever added; a changed meaning would bump "schema". */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "aie/error.h"
#include "stats_internal.h"

#ifndef AIE_VERSION
#define AIE_VERSION "0.0.0"
#endif

/*
 * Out of memory: json-c returns NULL from its constructors and -1 from its
 * adders, and asserts on a NULL container. Every builder below keeps a local
 * `bad` that these helpers set, drops what it built when it is set and
 * returns NULL, which its caller's SUB() counts as a failure in turn; the
 * render then fails with AIE_ENOMEM instead of printing a partial report.
 */
static json_object *nn(int *bad, json_object *v) /* v must not be NULL */
{
    if (!v)
        *bad = 1;
    return v;
}

static void add(int *bad, json_object *o, const char *k, json_object *v)
{
    if (!o || json_object_object_add(o, k, v) != 0) {
        json_object_put(v);
        *bad = 1;
    }
}

static void append(int *bad, json_object *a, json_object *v)
{
    if (!a || json_object_array_add(a, v) != 0) {
        json_object_put(v);
        *bad = 1;
    }
}

static json_object *jd_(int *bad, double v)
{
    if (!isfinite(v))
        return NULL;
    char buf[40];
    snprintf(buf, sizeof(buf), "%.10g", v);
    if (!strchr(buf, '.') && !strchr(buf, 'e') && !strchr(buf, 'n') && strlen(buf) < 30)
        strcat(buf, ".0");
    return nn(bad, json_object_new_double_s(v, buf));
}

static json_object *js_(int *bad, const char *s)
{
    return s ? nn(bad, json_object_new_string(s)) : NULL;
}

static json_object *jts_(int *bad, int64_t ms)
{
    if (ms == INT64_MIN || ms == INT64_MAX)
        return NULL;
    char b[32];
    aie_stats_format_ts(b, ms);
    return nn(bad, json_object_new_string(b));
}

#define jd(v) jd_(&bad, v)
#define ji(v) nn(&bad, json_object_new_int64(v))
#define js(s) js_(&bad, s)
#define jb(v) nn(&bad, json_object_new_boolean(v))
#define jts(ms) jts_(&bad, ms)
#define OBJ() nn(&bad, json_object_new_object())
#define ARR() nn(&bad, json_object_new_array())
#define SUB(x) nn(&bad, x) /* a builder below: NULL means it failed */
#define ADD(o, k, v) add(&bad, o, k, v)
#define APPEND(a, v) append(&bad, a, v)
#define DONE(o) (bad ? (json_object_put(o), (json_object *)NULL) : (o))

static json_object *pcts(const double p[4])
{
    int bad = 0;
    json_object *o = OBJ();
    static const char *const names[4] = {"p50", "p90", "p95", "p99"};
    for (int i = 0; i < 4; i++)
        ADD(o, names[i], jd(p[i]));
    return DONE(o);
}

static json_object *group_key(const AieStats *s, const Group *g)
{
    int bad = 0;
    json_object *k = OBJ();
    for (int i = 0; i < s->nby; i++)
        ADD(k, s->by[i].name, js(g->val[i]));
    return DONE(k);
}

static json_object *items(const TopN *t, int kind)
{
    int bad = 0;
    json_object *a = ARR();
    for (int i = 0; i < t->n; i++) {
        const TopItem *it = &t->items[i];
        json_object *o = OBJ();
        ADD(o, "run_id", js(it->run_id));
        ADD(o, "host", js(it->host));
        ADD(o, "input", js(it->input));
        if (kind == 0) { /* slowest */
            ADD(o, "ts", jts(it->ts_ms));
            ADD(o, "fps", jd(it->a));
            ADD(o, "megapixels_per_s", jd(it->b));
            ADD(o, "wall_s", jd(it->c));
        } else if (kind == 1) { /* failures */
            ADD(o, "ts", jts(it->ts_ms));
            ADD(o, "error", js(it->text));
        } else { /* incomplete */
            ADD(o, "pid", ji(it->i3));
            ADD(o, "first_seen", jts(it->ts_ms));
            ADD(o, "last_seen", jts((int64_t)it->a));
            ADD(o, "frames_done", ji(it->i1));
            ADD(o, "frames_total", it->i2 >= 0 ? ji(it->i2) : NULL);
            ADD(o, "state", js(it->b > 0 ? "stale" : "running"));
            ADD(o, "seen", js(it->text));
        }
        APPEND(a, o);
    }
    return DONE(a);
}

/* quality members: runs, p50, p90, MAD, and (classes) the outlier runs */
static json_object *quality_json(const QualStat *qs, int nq, int outliers)
{
    int bad = 0;
    json_object *x = OBJ();
    for (int k = 0; k < nq; k++) {
        const QualStat *q = &qs[k];
        json_object *qo = OBJ();
        ADD(qo, "runs", ji((int64_t)q->h.n));
        ADD(qo, "p50", jd(q->p50));
        ADD(qo, "p90", jd(q->p90));
        ADD(qo, "mad", q->h.n >= TH_Q_MIN_RUNS ? jd(q->mad) : NULL);
        ADD(qo, "identical_frames", ji(q->identical));
        if (outliers) {
            json_object *out = ARR();
            const TopN *sides[2] = {&q->low, &q->high};
            for (int sd = 0; sd < 2 && q->h.n >= TH_Q_MIN_RUNS; sd++)
                for (int i = 0; i < sides[sd]->n; i++) {
                    const TopItem *it = &sides[sd]->items[i];
                    if (fabs(it->a - q->p50) <= q->thr)
                        continue;
                    json_object *e = OBJ();
                    ADD(e, "input", js(it->input));
                    ADD(e, "value", jd(it->a));
                    ADD(e, "run_id", js(it->run_id));
                    ADD(e, "host", js(it->host));
                    ADD(e, "ts", jts(it->ts_ms));
                    APPEND(out, e);
                }
            ADD(qo, "outliers", out);
        }
        ADD(x, q->name, qo);
    }
    return DONE(x);
}

static json_object *classes_json(const AieStats *s)
{
    int bad = 0;
    json_object *a = ARR();
    for (int i = 0; i < s->nclasses; i++) {
        const Class *c = s->classes[i];
        json_object *o = OBJ();
        ADD(o, "label", js(c->label));
        ADD(o, "tool", js(c->tool));
        ADD(o, "method", js(c->method));
        ADD(o, "model", js(c->model));
        ADD(o, "res", js(c->res));
        ADD(o, "runs", ji(c->runs));
        ADD(o, "frames", ji(c->frames));
        if (c->spf.n) {
            json_object *t = OBJ();
            ADD(t, "p50", jd(aie_shist_quantile(&c->spf, 0.5)));
            ADD(t, "p99", jd(aie_shist_quantile(&c->spf, 0.99)));
            ADD(o, "run_s_per_frame", t);
        } else {
            ADD(o, "run_s_per_frame", NULL);
        }
        ADD(o, "quality", SUB(quality_json(c->q, c->nq, 1)));
        APPEND(a, o);
    }
    return DONE(a);
}

static json_object *group_json(const AieStats *s, const Group *g)
{
    int bad = 0;
    json_object *o = OBJ(), *x;
    char label[256];
    aie_stats_group_label(s, g, label, sizeof(label));
    ADD(o, "key", SUB(group_key(s, g)));
    ADD(o, "label", js(label));
    ADD(o, "first_ts", jts(g->first_ts));
    ADD(o, "last_ts", jts(g->last_ts));
    x = OBJ();
    ADD(x, "finished", ji(g->runs));
    ADD(x, "ok", ji(g->ok));
    ADD(x, "failed", ji(g->failed));
    ADD(x, "cancelled", ji(g->cancelled));
    ADD(x, "other", ji(g->other_status));
    ADD(x, "incomplete", ji(g->incomplete));
    ADD(x, "incomplete_stale", ji(g->incomplete_stale));
    ADD(o, "runs", x);
    ADD(o, "error_rate", g->ok + g->failed ? jd((double)g->failed / (double)(g->ok + g->failed)) : NULL);
    ADD(o, "frames", ji(g->frames));
    ADD(o, "megapixels", jd(g->mpix));

    x = OBJ();
    ADD(x, "count", ji(g->jobs));
    ADD(x, "retries", ji(g->retries));
    ADD(x, "failed", ji(g->jobs_failed));
    if (g->queue_n) {
        json_object *q = OBJ();
        ADD(q, "jobs", ji(g->queue_n));
        ADD(q, "mean", jd(g->queue_s / (double)g->queue_n));
        ADD(q, "p50", jd(aie_shist_quantile(&g->queue_hist, 0.5)));
        ADD(q, "p95", jd(aie_shist_quantile(&g->queue_hist, 0.95)));
        ADD(x, "queue_wait_s", q);
        ADD(x, "queue_share", g->queue_s + g->runtime_s > 0 ? jd(g->queue_s / (g->queue_s + g->runtime_s)) : NULL);
    } else {
        ADD(x, "queue_wait_s", NULL);
        ADD(x, "queue_share", NULL);
    }
    json_object *c = OBJ();
    ADD(c, "hit", ji(g->cache_hit));
    ADD(c, "miss", ji(g->cache_miss));
    ADD(c, "off", ji(g->cache_off));
    ADD(c, "hit_rate", g->cache_hit + g->cache_miss
                           ? jd((double)g->cache_hit / (double)(g->cache_hit + g->cache_miss)) : NULL);
    ADD(x, "cache", c);
    ADD(o, "jobs", x);

    x = OBJ();
    ADD(x, "runs", ji(g->speed_runs));
    int sp = g->speed_runs > 0 && g->sp_wall_ms > 0;
    ADD(x, "fps", sp ? jd(g->sp_frames * 1000.0 / g->sp_wall_ms) : NULL);
    ADD(x, "megapixels_per_s", sp ? jd(g->sp_mpix * 1000.0 / g->sp_wall_ms) : NULL);
    ADD(x, "fps_mean", sp ? jd(g->fps_sum / (double)g->speed_runs) : NULL);
    ADD(x, "run_fps", sp ? SUB(pcts(g->p_fps)) : NULL);
    if (g->frame_hist && g->frame_hist->total) {
        json_object *fm = SUB(pcts(g->p_frame_ms));
        ADD(fm, "frames", ji((int64_t)g->frame_hist->total));
        ADD(x, "frame_ms", fm);
    } else {
        ADD(x, "frame_ms", NULL);
    }
    ADD(x, "error_bound", jd(AIE_STATS_PCT_ERROR));
    ADD(o, "throughput", x);

    x = OBJ();
    ADD(x, "runs", ji(g->stage_runs));
    for (int i = 0; i < STAGE_N; i++) {
        double v;
        ADD(x, aie_stats_stage_names[i], stage_share(g, i, &v) ? jd(v) : NULL);
    }
    json_object *b = OBJ();
    ADD(b, "read", ji(g->bound[B_READ]));
    ADD(b, "process", ji(g->bound[B_PROCESS]));
    ADD(b, "write", ji(g->bound[B_WRITE]));
    ADD(x, "bound", b);
    ADD(o, "stages", x);

    x = OBJ();
    ADD(x, "runs", ji(g->cpu_runs));
    ADD(x, "utilisation", g->wall_thr_ms > 0 ? jd(g->cpu_ms / g->wall_thr_ms) : NULL);
    ADD(x, "machine_utilisation", g->wall_cores_ms > 0 ? jd(g->cpu_ms / g->wall_cores_ms) : NULL);
    ADD(x, "max_threads", ji(g->max_threads));
    ADD(x, "cores", ji(g->max_cores));
    ADD(o, "cpu", x);

    x = OBJ();
    ADD(x, "peak_rss_kb", ji(g->peak_rss_kb));
    ADD(x, "mem_total_kb", ji(g->peak_mem_total_kb));
    ADD(x, "peak_ratio", g->peak_ratio > 0 ? jd(g->peak_ratio) : NULL);
    ADD(x, "peak_input", g->peak_rss_kb ? js(g->peak_input) : NULL);
    ADD(o, "memory", x);

    ADD(o, "quality", SUB(quality_json(g->q, g->nq, 0)));
    ADD(o, "dropped_records", ji(g->dropped_records));

    x = ARR();
    for (int i = 0; i < g->errors.n; i++) {
        json_object *e = OBJ();
        ADD(e, "message", js(g->errors.e[i].msg));
        ADD(e, "count", ji(g->errors.e[i].count));
        ADD(e, "approximate", jb(g->errors.e[i].over > 0));
        APPEND(x, e);
    }
    ADD(o, "top_errors", x);
    ADD(o, "slowest", SUB(items(&g->slowest, 0)));
    ADD(o, "failures", SUB(items(&g->failures, 1)));
    ADD(o, "incomplete", SUB(items(&g->open_list, 2)));
    return DONE(o);
}

static json_object *counts_json(const AieStats *s)
{
    int bad = 0;
    const AieStatsCounts *c = &s->c;
    json_object *o = OBJ();
    json_object *logs = ARR();
    for (int i = 0; i < s->nlogs; i++)
        APPEND(logs, js(s->logs[i]));
    ADD(o, "logs", logs);
    ADD(o, "lines", ji(c->lines));
    ADD(o, "records", ji(c->records));
    ADD(o, "used", ji(c->used));
    ADD(o, "torn", ji(c->torn));
    ADD(o, "garbage", ji(c->garbage));
    ADD(o, "oversize", ji(c->oversize));
    ADD(o, "unknown_version", ji(c->unknown_version));
    ADD(o, "unknown_event", ji(c->unknown_event));
    ADD(o, "invalid", ji(c->invalid));
    ADD(o, "unknown_fields", ji(c->unknown_fields));
    ADD(o, "filtered", ji(c->filtered));
    ADD(o, "fallback", ji(c->fallback));
    ADD(o, "runs_forgotten", ji(c->runs_forgotten));
    ADD(o, "groups_overflow", ji(c->groups_overflow));
    ADD(o, "first_ts", jts(s->first_ts));
    ADD(o, "last_ts", jts(s->last_ts));
    return DONE(o);
}

static json_object *capacity_json(const AieStats *s)
{
    int bad = 0;
    const Capacity *c = &s->cap;
    json_object *o = OBJ();
    ADD(o, "enough_data", jb(c->enough));
    ADD(o, "note", c->enough ? NULL : js("not enough days of data"));
    ADD(o, "days", jd(c->days));
    ADD(o, "days_with_data", jd(c->days_with_data));
    ADD(o, "hosts", ji(c->hosts));
    ADD(o, "daily_megapixels", jd(c->daily_mpix));
    ADD(o, "daily_frames", jd(c->daily_frames));
    ADD(o, "daily_runs", jd(c->daily_runs));
    ADD(o, "machine_megapixels_per_s", c->machine_mps > 0 ? jd(c->machine_mps) : NULL);
    ADD(o, "hours_per_day_one_machine", c->machine_mps > 0 ? jd(c->hours_one_machine) : NULL);
    ADD(o, "demand_megapixels_per_day", c->enough ? jd(c->level_mpix) : NULL);
    ADD(o, "trend_megapixels_per_day", c->enough ? jd(c->slope_mpix) : NULL);
    ADD(o, "days_until_one_machine_full", c->enough && c->days_one_full >= 0 ? jd(c->days_one_full) : NULL);
    ADD(o, "days_until_hosts_full", c->enough && c->days_hosts_full >= 0 ? jd(c->days_hosts_full) : NULL);
    return DONE(o);
}

static json_object *findings_json(const AieStats *s)
{
    int bad = 0;
    json_object *a = ARR();
    for (int i = 0; i < s->nfindings; i++) {
        const Finding *f = &s->findings[i];
        json_object *o = OBJ();
        ADD(o, "id", js(f->id));
        ADD(o, "severity", js(aie_stats_severity_name(f->severity)));
        ADD(o, "subject", js(f->subject));
        ADD(o, "group", f->group >= 0 ? SUB(group_key(s, s->groups[f->group])) : NULL);
        ADD(o, "class", f->klass >= 0 ? js(s->classes[f->klass]->label) : NULL);
        ADD(o, "summary", js(f->summary));
        json_object *e = OBJ();
        for (int k = 0; k < f->nev; k++)
            ADD(e, f->ev[k].name, jd(f->ev[k].v));
        ADD(o, "evidence", e);
        ADD(o, "recommendation", js(f->recommendation));
        ADD(o, "gain", f->gain[0] ? js(f->gain) : NULL);
        json_object *in = ARR();
        for (int k = 0; k < f->ninputs; k++)
            APPEND(in, js(f->inputs[k]));
        ADD(o, "inputs", in);
        APPEND(a, o);
    }
    return DONE(a);
}

int aie_stats_render_json(const AieStats *s, FILE *f)
{
    int bad = 0;
    json_object *root = OBJ();
    if (!root)
        return AIE_ENOMEM;
    ADD(root, "schema", ji(1));
    ADD(root, "generator", js("aie-stats"));
    ADD(root, "version", js(AIE_VERSION));
    json_object *sel = OBJ();
    ADD(sel, "since", jts(s->o.since_ms));
    ADD(sel, "until", jts(s->o.until_ms));
    json_object *by = ARR();
    for (int i = 0; i < s->nby; i++)
        APPEND(by, js(s->by[i].name));
    ADD(sel, "by", by);
    json_object *wh = ARR();
    for (int i = 0; i < s->nwhere; i++) {
        char w[600];
        snprintf(w, sizeof(w), "%s%s=%s", s->where[i].key.name, s->where[i].negate ? "!" : "", s->where[i].value);
        APPEND(wh, js(w));
    }
    ADD(sel, "where", wh);
    ADD(sel, "top", ji(s->top));
    ADD(root, "selection", sel);
    ADD(root, "input", SUB(counts_json(s)));
    json_object *groups = ARR();
    for (int i = 0; i < s->ngroups; i++)
        APPEND(groups, SUB(group_json(s, s->groups[i])));
    ADD(root, "groups", groups);
    ADD(root, "classes", SUB(classes_json(s)));
    ADD(root, "capacity", SUB(capacity_json(s)));
    ADD(root, "findings", SUB(findings_json(s)));
    const char *txt = bad ? NULL : json_object_to_json_string_ext(
        root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = !txt ? AIE_ENOMEM : fputs(txt, f) >= 0 && fputc('\n', f) != EOF ? 0 : AIE_EIO;
    json_object_put(root);
    return rc;
}
