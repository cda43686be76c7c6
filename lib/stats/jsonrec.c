/* The general path of the log reader: json-c, for records the scanner does
 * not recognise. Fills the same StatsRec with the same rules (scan.c). */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aie/error.h"
#include "record.h"

int aie_rec_init(StatsRec *r)
{
    memset(r, 0, sizeof(*r));
    return 0;
}

void aie_rec_release(StatsRec *r)
{
    if (r->owner) {
        json_object_put(r->owner);
        r->owner = NULL;
    }
}

void aie_rec_free(StatsRec *r)
{
    aie_rec_release(r);
    free(r->scratch);
    r->scratch = NULL;
    r->scratch_cap = 0;
}

double aie_rec_double(RStr text, double v)
{
    if (!text.p)
        return v;
    char buf[72];
    size_t n = text.n < sizeof(buf) - 1 ? text.n : sizeof(buf) - 1;
    memcpy(buf, text.p, n);
    buf[n] = 0;
    return strtod(buf, NULL);
}

int aie_rstr_eq(RStr s, const char *lit)
{
    size_t n = strlen(lit);
    return s.p && s.n == n && !memcmp(s.p, lit, n);
}

static RStr jstr(json_object *o)
{
    RStr s = {json_object_get_string(o), (uint32_t)json_object_get_string_len(o)};
    return s;
}

#define SET(r, f) ((r)->has |= 1ull << (f))

static void set_str(StatsRec *r, json_object *v, RStr *dst, int f, int nullable)
{
    if (json_object_is_type(v, json_type_string)) {
        *dst = jstr(v);
        SET(r, f);
    } else if (!v && nullable) {
        dst->p = NULL;
        dst->n = 0;
        SET(r, f);
    }
}

static int get_int(json_object *v, int64_t *dst)
{
    if (!json_object_is_type(v, json_type_int))
        return 0;
    *dst = json_object_get_int64(v);
    return 1;
}

static int get_dbl(json_object *v, double *dst)
{
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
        return 0;
    *dst = json_object_get_double(v);
    return 1;
}

static void set_int(StatsRec *r, json_object *v, int64_t *dst, int f)
{
    if (get_int(v, dst))
        SET(r, f);
}

static void set_stream(StatsRec *r, json_object *v, RStream *st, int f)
{
    memset(st, 0, sizeof(*st));
    if (!json_object_is_type(v, json_type_object))
        return;
    SET(r, f);
    json_object_object_foreach(v, key, val)
    {
        if (!strcmp(key, "name") || !strcmp(key, "pix_fmt")) {
            if (json_object_is_type(val, json_type_string)) {
                int name = !strcmp(key, "name");
                *(name ? &st->name : &st->pix_fmt) = jstr(val);
                st->has |= name ? 1 : 16;
            }
        } else if (!strcmp(key, "width") || !strcmp(key, "height")) {
            int w = !strcmp(key, "width");
            if (get_int(val, w ? &st->width : &st->height))
                st->has |= w ? 2 : 4;
        } else if (!strcmp(key, "fps")) {
            if (get_dbl(val, &st->fps))
                st->has |= 8;
        } else {
            r->unknown_fields++;
        }
    }
}

static int event_id(const char *e)
{
    if (!strcmp(e, "snapshot"))
        return EV_SNAPSHOT;
    if (!strcmp(e, "run_end"))
        return EV_RUN_END;
    if (!strcmp(e, "run_start"))
        return EV_RUN_START;
    if (!strcmp(e, "job_end"))
        return EV_JOB_END;
    return EV_OTHER;
}

static void set_hist(StatsRec *r, json_object *v)
{
    r->nhist = 0;
    if (!json_object_is_type(v, json_type_array))
        return;
    size_t n = json_object_array_length(v);
    for (size_t k = 0; k < n; k++) {
        json_object *pair = json_object_array_get_idx(v, k);
        int64_t i, c;
        if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2 ||
            !get_int(json_object_array_get_idx(pair, 0), &i) ||
            !get_int(json_object_array_get_idx(pair, 1), &c)) {
            r->nhist = 0;
            return;
        }
        if (i >= 0 && i < 2048 && c >= 0 && r->nhist < REC_MAX_HIST) {
            r->hist_i[r->nhist] = (uint16_t)i;
            r->hist_n[r->nhist++] = c;
        }
    }
    SET(r, F_HIST);
}

static void field(StatsRec *r, const char *key, json_object *v)
{
    size_t n = strlen(key);
#define IS(lit) (n == sizeof(lit) - 1 && !memcmp(key, lit, n))
    if (IS("v")) set_int(r, v, &r->v, F_V);
    else if (IS("ts")) {
        if (json_object_is_type(v, json_type_string)) {
            r->ts_str = jstr(v);
            if (!aie_stats_parse_rfc3339(r->ts_str.p, r->ts_str.n, &r->ts_ms))
                SET(r, F_TS);
        }
    } else if (IS("tool")) set_str(r, v, &r->tool, F_TOOL, 0);
    else if (IS("version")) set_str(r, v, &r->version, F_VERSION, 0);
    else if (IS("event")) {
        set_str(r, v, &r->event_str, F_EVENT, 0);
        if (REC_HAS(r, F_EVENT))
            r->event = event_id(json_object_get_string(v));
    } else if (IS("run_id")) set_str(r, v, &r->run_id, F_RUN_ID, 0);
    else if (IS("host")) set_str(r, v, &r->host, F_HOST, 0);
    else if (IS("pid")) set_int(r, v, &r->pid, F_PID);
    else if (IS("tags")) {
        if (json_object_is_type(v, json_type_object)) {
            SET(r, F_TAGS);
            json_object_object_foreach(v, tk, tv)
            {
                if (json_object_is_type(tv, json_type_string) && r->ntags < REC_MAX_TAGS) {
                    r->tag_key[r->ntags] = (RStr){tk, (uint32_t)strlen(tk)};
                    r->tag_val[r->ntags++] = jstr(tv);
                }
            }
        }
    } else if (IS("batch_id")) set_str(r, v, &r->batch_id, F_BATCH_ID, 0);
    else if (IS("job_id")) set_str(r, v, &r->job_id, F_JOB_ID, 0);
    else if (IS("status")) set_str(r, v, &r->status, F_STATUS, 0);
    else if (IS("error")) set_str(r, v, &r->error, F_ERROR, 1);
    else if (IS("method")) set_str(r, v, &r->method, F_METHOD, 0);
    else if (IS("model")) set_str(r, v, &r->model, F_MODEL, 1);
    else if (IS("threads")) set_int(r, v, &r->threads, F_THREADS);
    else if (IS("cores")) set_int(r, v, &r->cores, F_CORES);
    else if (IS("mem_total_kb")) set_int(r, v, &r->mem_total_kb, F_MEM_TOTAL);
    else if (IS("input")) set_stream(r, v, &r->input, F_INPUT);
    else if (IS("output")) set_stream(r, v, &r->output, F_OUTPUT);
    else if (IS("frames_in")) set_int(r, v, &r->frames_in, F_FRAMES_IN);
    else if (IS("frames_out")) set_int(r, v, &r->frames_out, F_FRAMES_OUT);
    else if (IS("wall_ms")) set_int(r, v, &r->wall_ms, F_WALL);
    else if (IS("cpu_user_ms")) set_int(r, v, &r->cpu_user_ms, F_CPU_USER);
    else if (IS("cpu_sys_ms")) set_int(r, v, &r->cpu_sys_ms, F_CPU_SYS);
    else if (IS("maxrss_kb")) set_int(r, v, &r->maxrss_kb, F_MAXRSS);
    else if (IS("stages_ms")) {
        if (json_object_is_type(v, json_type_object)) {
            SET(r, F_STAGES);
            json_object_object_foreach(v, sk, sv)
            {
                int i = !strcmp(sk, "read") ? 0 : !strcmp(sk, "process") ? 1
                      : !strcmp(sk, "write") ? 2 : !strcmp(sk, "wait") ? 3 : !strcmp(sk, "finish") ? 4 : -1;
                if (i < 0)
                    r->unknown_fields++;
                else if (get_int(sv, &r->stages[i]))
                    r->stages_has |= 1u << i;
            }
        }
    } else if (IS("frame_ms_hist")) set_hist(r, v);
    else if (IS("quality")) {
        if (json_object_is_type(v, json_type_object)) {
            SET(r, F_QUALITY);
            json_object_object_foreach(v, qk, qv)
            {
                double d;
                if (r->nquality < REC_MAX_QUALITY && get_dbl(qv, &d)) {
                    r->q_name[r->nquality] = (RStr){qk, (uint32_t)strlen(qk)};
                    r->q_val[r->nquality++] = d;
                }
            }
        }
    } else if (IS("dropped_records")) set_int(r, v, &r->dropped, F_DROPPED);
    else if (IS("frames_done")) set_int(r, v, &r->frames_done, F_FRAMES_DONE);
    else if (IS("frames_total")) set_int(r, v, &r->frames_total, F_FRAMES_TOTAL);
    else if (IS("fps")) {
        if (get_dbl(v, &r->fps))
            SET(r, F_FPS);
    } else if (IS("in_flight")) set_int(r, v, &r->in_flight, F_IN_FLIGHT);
    else if (IS("rss_kb")) set_int(r, v, &r->rss_kb, F_RSS);
    else if (IS("attempt")) set_int(r, v, &r->attempt, F_ATTEMPT);
    else if (IS("exit")) set_int(r, v, &r->exit_code, F_EXIT);
    else if (IS("signal")) set_int(r, v, &r->signal, F_SIGNAL);
    else if (IS("queue_wait_ms")) set_int(r, v, &r->queue_wait_ms, F_QUEUE_WAIT);
    else if (IS("runtime_ms")) set_int(r, v, &r->runtime_ms, F_RUNTIME);
    else if (IS("cache")) set_str(r, v, &r->cache, F_CACHE, 0);
    else if (IS("mode")) set_str(r, v, &r->mode, F_MODE, 0);
    else if (IS("options") || IS("metrics_queued") || IS("metrics_dropped") || IS("start") || IS("end") ||
             IS("timed_out") || IS("interrupted") || IS("decode_errors") || IS("packets_fixed") || IS("commit")) {
    } else
        r->unknown_fields++;
#undef IS
}

int aie_rec_parse_jsonc(StatsRec *r, const char *p, size_t n)
{
    aie_rec_release(r);
    r->has = 0;
    r->event = EV_NONE;
    r->fps_text.p = NULL;
    r->ntags = r->nquality = r->nhist = 0;
    r->stages_has = 0;
    r->unknown_fields = 0;
    r->scratch_len = 0;
    memset(&r->input, 0, sizeof(r->input));
    memset(&r->output, 0, sizeof(r->output));
    if (n > (size_t)INT32_MAX || memchr(p, 0, n))
        return 1;
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return AIE_ENOMEM;
    json_object *o = json_tokener_parse_ex(tok, p, (int)n);
    int rc = 1;
    if (!o || json_tokener_get_error(tok) != json_tokener_success)
        goto fail;
    for (size_t i = json_tokener_get_parse_end(tok); i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            goto fail;
    if (!json_object_is_type(o, json_type_object))
        goto fail;
    json_object_object_foreach(o, key, val) field(r, key, val);
    r->owner = o;
    o = NULL;
    rc = 0;
fail:
    json_object_put(o);
    json_tokener_free(tok);
    return rc;
}

/* ---- comparison, for the tests ---- */

static int str_same(RStr a, RStr b)
{
    if (!a.p || !b.p)
        return !a.p && !b.p;
    return a.n == b.n && !memcmp(a.p, b.p, a.n);
}

static int dbl_same(double a, double b) { return a == b || (a != a && b != b); }

static int stream_same(const RStream *a, const RStream *b)
{
    if (a->has != b->has)
        return 0;
    return (!(a->has & 1) || str_same(a->name, b->name)) && (!(a->has & 2) || a->width == b->width) &&
           (!(a->has & 4) || a->height == b->height) && (!(a->has & 8) || dbl_same(aie_rec_double(a->fps_text, a->fps), aie_rec_double(b->fps_text, b->fps))) &&
           (!(a->has & 16) || str_same(a->pix_fmt, b->pix_fmt));
}

/* Tags and quality members compare as sets (object member order is not data). */
static int pairs_same(int na, const RStr *ka, const RStr *va, const double *da, int nb,
                      const RStr *kb, const RStr *vb, const double *db)
{
    if (na != nb)
        return 0;
    for (int i = 0; i < na; i++) {
        int found = 0;
        for (int j = 0; j < nb && !found; j++)
            if (str_same(ka[i], kb[j]))
                found = va ? str_same(va[i], vb[j]) : dbl_same(da[i], db[j]);
        if (!found)
            return 0;
    }
    return 1;
}

int aie_rec_compare(const StatsRec *a, const StatsRec *b)
{
    if (a->has != b->has) {
        for (int f = 0; f < F_COUNT; f++)
            if (REC_HAS(a, f) != REC_HAS(b, f))
                return f + 1;
    }
#define CHK(f, cond)                       \
    if (REC_HAS(a, f) && !(cond))          \
        return (f) + 1;
    CHK(F_V, a->v == b->v);
    CHK(F_TS, a->ts_ms == b->ts_ms && str_same(a->ts_str, b->ts_str));
    CHK(F_TOOL, str_same(a->tool, b->tool));
    CHK(F_VERSION, str_same(a->version, b->version));
    CHK(F_EVENT, a->event == b->event && str_same(a->event_str, b->event_str));
    CHK(F_RUN_ID, str_same(a->run_id, b->run_id));
    CHK(F_HOST, str_same(a->host, b->host));
    CHK(F_PID, a->pid == b->pid);
    CHK(F_TAGS, pairs_same(a->ntags, a->tag_key, a->tag_val, NULL, b->ntags, b->tag_key, b->tag_val, NULL));
    CHK(F_BATCH_ID, str_same(a->batch_id, b->batch_id));
    CHK(F_JOB_ID, str_same(a->job_id, b->job_id));
    CHK(F_STATUS, str_same(a->status, b->status));
    CHK(F_ERROR, str_same(a->error, b->error));
    CHK(F_METHOD, str_same(a->method, b->method));
    CHK(F_MODEL, str_same(a->model, b->model));
    CHK(F_THREADS, a->threads == b->threads);
    CHK(F_CORES, a->cores == b->cores);
    CHK(F_MEM_TOTAL, a->mem_total_kb == b->mem_total_kb);
    CHK(F_INPUT, stream_same(&a->input, &b->input));
    CHK(F_OUTPUT, stream_same(&a->output, &b->output));
    CHK(F_FRAMES_IN, a->frames_in == b->frames_in);
    CHK(F_FRAMES_OUT, a->frames_out == b->frames_out);
    CHK(F_WALL, a->wall_ms == b->wall_ms);
    CHK(F_CPU_USER, a->cpu_user_ms == b->cpu_user_ms);
    CHK(F_CPU_SYS, a->cpu_sys_ms == b->cpu_sys_ms);
    CHK(F_MAXRSS, a->maxrss_kb == b->maxrss_kb);
    if (REC_HAS(a, F_STAGES)) {
        if (a->stages_has != b->stages_has)
            return F_STAGES + 1;
        for (int i = 0; i < 5; i++)
            if ((a->stages_has >> i & 1) && a->stages[i] != b->stages[i])
                return F_STAGES + 1;
    }
    if (REC_HAS(a, F_HIST)) {
        if (a->nhist != b->nhist)
            return F_HIST + 1;
        for (int i = 0; i < a->nhist; i++)
            if (a->hist_i[i] != b->hist_i[i] || a->hist_n[i] != b->hist_n[i])
                return F_HIST + 1;
    }
    CHK(F_QUALITY, pairs_same(a->nquality, a->q_name, NULL, a->q_val, b->nquality, b->q_name, NULL, b->q_val));
    CHK(F_DROPPED, a->dropped == b->dropped);
    CHK(F_FRAMES_DONE, a->frames_done == b->frames_done);
    CHK(F_FRAMES_TOTAL, a->frames_total == b->frames_total);
    CHK(F_FPS, dbl_same(aie_rec_double(a->fps_text, a->fps), aie_rec_double(b->fps_text, b->fps)));
    CHK(F_IN_FLIGHT, a->in_flight == b->in_flight);
    CHK(F_RSS, a->rss_kb == b->rss_kb);
    CHK(F_ATTEMPT, a->attempt == b->attempt);
    CHK(F_EXIT, a->exit_code == b->exit_code);
    CHK(F_SIGNAL, a->signal == b->signal);
    CHK(F_QUEUE_WAIT, a->queue_wait_ms == b->queue_wait_ms);
    CHK(F_RUNTIME, a->runtime_ms == b->runtime_ms);
    CHK(F_CACHE, str_same(a->cache, b->cache));
    CHK(F_MODE, str_same(a->mode, b->mode));
#undef CHK
    if (a->unknown_fields != b->unknown_fields)
        return F_COUNT + 1;
    return 0;
}
