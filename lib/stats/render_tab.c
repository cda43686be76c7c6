/* --csv (one row per group, RFC 4180) and --prom (Prometheus text exposition
 * format 0.0.4, for node_exporter's textfile collector). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "stats_internal.h"

/* ---- CSV ---- */

static void csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v, int ok)
{
    fputc(',', f);
    if (ok && isfinite(v))
        fprintf(f, "%.10g", v);
}

static void csv_int(FILE *f, int64_t v)
{
    fprintf(f, ",%lld", (long long)v);
}

/* the union of quality member names over the groups, sorted */
static int quality_names(const AieStats *s, const char ***out)
{
    int n = 0, cap = 0;
    const char **names = NULL;
    for (int gi = 0; gi < s->ngroups; gi++)
        for (int k = 0; k < s->groups[gi]->nq; k++) {
            const char *nm = s->groups[gi]->q[k].name;
            int seen = 0;
            for (int i = 0; i < n && !seen; i++)
                seen = !strcmp(names[i], nm);
            if (seen)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                const char **nn = realloc(names, (size_t)cap * sizeof(*nn));
                if (!nn) {
                    free(names);
                    return AIE_ENOMEM;
                }
                names = nn;
            }
            names[n++] = nm;
        }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    *out = names;
    return n;
}

static const char *const csv_cols[] = {
    "runs", "ok", "failed", "cancelled", "incomplete", "error_rate", "frames", "megapixels", "jobs",
    "retries", "speed_runs", "fps", "megapixels_per_s", "fps_mean", "run_fps_p50", "run_fps_p90",
    "run_fps_p95", "run_fps_p99", "frame_ms_p50", "frame_ms_p90", "frame_ms_p95", "frame_ms_p99",
    "read_share", "process_share", "write_share", "wait_share", "finish_share", "cpu_utilisation",
    "machine_utilisation", "peak_rss_kb", "peak_memory_ratio", "queue_wait_p50_s", "queue_wait_p95_s",
    "cache_hit_rate",
};

int aie_stats_render_csv(const AieStats *s, FILE *f)
{
    const char **qn = NULL;
    int nq = quality_names(s, &qn);
    if (nq < 0)
        return nq;
    if (!s->nby)
        fputs("group", f);
    for (int i = 0; i < s->nby; i++) {
        if (i)
            fputc(',', f);
        csv_str(f, s->by[i].name);
    }
    for (size_t i = 0; i < sizeof(csv_cols) / sizeof(csv_cols[0]); i++)
        fprintf(f, ",%s", csv_cols[i]);
    for (int i = 0; i < nq; i++) {
        char h[100];
        snprintf(h, sizeof(h), "q:%s:p50", qn[i]);
        fputc(',', f);
        csv_str(f, h);
        snprintf(h, sizeof(h), "q:%s:p90", qn[i]);
        fputc(',', f);
        csv_str(f, h);
    }
    fputs("\r\n", f);
    for (int gi = 0; gi < s->ngroups; gi++) {
        const Group *g = s->groups[gi];
        if (!s->nby)
            fputs("all", f);
        for (int i = 0; i < s->nby; i++) {
            if (i)
                fputc(',', f);
            csv_str(f, g->val[i]);
        }
        int sp = g->speed_runs > 0 && g->sp_wall_ms > 0;
        int fh = g->frame_hist && g->frame_hist->total;
        csv_int(f, g->runs);
        csv_int(f, g->ok);
        csv_int(f, g->failed);
        csv_int(f, g->cancelled);
        csv_int(f, g->incomplete);
        csv_num(f, (double)g->failed / (double)(g->ok + g->failed), g->ok + g->failed > 0);
        csv_int(f, g->frames);
        csv_num(f, g->mpix, 1);
        csv_int(f, g->jobs);
        csv_int(f, g->retries);
        csv_int(f, g->speed_runs);
        csv_num(f, g->sp_frames * 1000 / g->sp_wall_ms, sp);
        csv_num(f, g->sp_mpix * 1000 / g->sp_wall_ms, sp);
        csv_num(f, g->fps_sum / (double)g->speed_runs, sp);
        for (int k = 0; k < 4; k++)
            csv_num(f, g->p_fps[k], sp);
        for (int k = 0; k < 4; k++)
            csv_num(f, g->p_frame_ms[k], fh);
        for (int k = 0; k < STAGE_N; k++) {
            double v = 0;
            int have = stage_share(g, k, &v);
            csv_num(f, v, have);
        }
        csv_num(f, g->cpu_ms / g->wall_thr_ms, g->wall_thr_ms > 0);
        csv_num(f, g->cpu_ms / g->wall_cores_ms, g->wall_cores_ms > 0);
        csv_int(f, g->peak_rss_kb);
        csv_num(f, g->peak_ratio, g->peak_ratio > 0);
        csv_num(f, aie_shist_quantile(&g->queue_hist, 0.5), g->queue_n > 0);
        csv_num(f, aie_shist_quantile(&g->queue_hist, 0.95), g->queue_n > 0);
        csv_num(f, (double)g->cache_hit / (double)(g->cache_hit + g->cache_miss), g->cache_hit + g->cache_miss > 0);
        for (int i = 0; i < nq; i++) {
            const QualStat *q = NULL;
            for (int k = 0; k < g->nq; k++)
                if (!strcmp(g->q[k].name, qn[i]))
                    q = &g->q[k];
            csv_num(f, q ? q->p50 : 0, q != NULL);
            csv_num(f, q ? q->p90 : 0, q != NULL);
        }
        fputs("\r\n", f);
    }
    free(qn);
    return ferror(f) ? AIE_EIO : 0;
}

/* ---- Prometheus ---- */

static void prom_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '"')
            fputs("\\\"", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void label_name(char *out, size_t n, const KeySpec *k)
{
    if (k->kind != KEY_TAG) {
        snprintf(out, n, "%s", k->name);
        return;
    }
    size_t o = (size_t)snprintf(out, n, "tag_");
    for (const char *p = k->tag; *p && o + 1 < n; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        out[o++] = ok ? c : '_';
    }
    out[o] = 0;
}

static void labels(FILE *f, const AieStats *s, const Group *g, const char *extra_k, const char *extra_v)
{
    int any = 0;
    if (!s->nby && !extra_k)
        return;
    fputc('{', f);
    for (int i = 0; i < s->nby; i++) {
        char ln[REC_MAX_KEY + 8];
        label_name(ln, sizeof(ln), &s->by[i]);
        fprintf(f, "%s%s=\"", any++ ? "," : "", ln);
        prom_escape(f, g->val[i]);
        fputc('"', f);
    }
    if (extra_k) {
        fprintf(f, "%s%s=\"", any++ ? "," : "", extra_k);
        prom_escape(f, extra_v);
        fputc('"', f);
    }
    fputc('}', f);
}

static void prom_val(FILE *f, double v)
{
    if (isinf(v))
        fputs(v > 0 ? " +Inf\n" : " -Inf\n", f);
    else
        fprintf(f, " %.10g\n", v);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *f, const AieStats *s, const Group *g, const char *name, const char *ek, const char *evv,
                   double v)
{
    if (isnan(v))
        return;
    fputs(name, f);
    labels(f, s, g, ek, evv);
    prom_val(f, v);
}

int aie_stats_render_prom(const AieStats *s, FILE *f)
{
    static const char *const status[4] = {"ok", "failed", "cancelled", "other"};
    static const char *const qs[4] = {"0.5", "0.9", "0.95", "0.99"};
    int ng = s->ngroups;
    family(f, "aie_runs", "gauge", "Runs that ended in the selected window, by status.");
    for (int gi = 0; gi < ng; gi++) {
        const Group *g = s->groups[gi];
        int64_t v[4] = {g->ok, g->failed, g->cancelled, g->other_status};
        for (int k = 0; k < 4; k++)
            sample(f, s, g, "aie_runs", "status", status[k], (double)v[k]);
    }
    family(f, "aie_runs_incomplete", "gauge", "Runs seen starting without a run_end.");
    for (int gi = 0; gi < ng; gi++)
        sample(f, s, s->groups[gi], "aie_runs_incomplete", NULL, NULL, (double)s->groups[gi]->incomplete);
    family(f, "aie_error_ratio", "gauge", "Failed runs over ok plus failed runs.");
    for (int gi = 0; gi < ng; gi++) {
        const Group *g = s->groups[gi];
        if (g->ok + g->failed)
            sample(f, s, g, "aie_error_ratio", NULL, NULL, (double)g->failed / (double)(g->ok + g->failed));
    }
    family(f, "aie_frames", "gauge", "Input frames of the runs that ended ok.");
    for (int gi = 0; gi < ng; gi++)
        sample(f, s, s->groups[gi], "aie_frames", NULL, NULL, (double)s->groups[gi]->frames);
    family(f, "aie_megapixels", "gauge", "Output megapixels of the runs that ended ok.");
    for (int gi = 0; gi < ng; gi++)
        sample(f, s, s->groups[gi], "aie_megapixels", NULL, NULL, s->groups[gi]->mpix);
    family(f, "aie_job_retries", "gauge", "aie-batch job attempts after the first.");
    for (int gi = 0; gi < ng; gi++)
        sample(f, s, s->groups[gi], "aie_job_retries", NULL, NULL, (double)s->groups[gi]->retries);
    family(f, "aie_throughput_fps", "gauge", "Input frames per second of wall time over the ok runs.");
    for (int gi = 0; gi < ng; gi++) {
        const Group *g = s->groups[gi];
        if (g->sp_wall_ms > 0)
            sample(f, s, g, "aie_throughput_fps", NULL, NULL, g->sp_frames * 1000 / g->sp_wall_ms);
    }
    family(f, "aie_throughput_megapixels_per_second", "gauge", "Output megapixels per second of wall time over the ok runs.");
    for (int gi = 0; gi < ng; gi++) {
        const Group *g = s->groups[gi];
        if (g->sp_wall_ms > 0)
            sample(f, s, g, "aie_throughput_megapixels_per_second", NULL, NULL, g->sp_mpix * 1000 / g->sp_wall_ms);
    }
    family(f, "aie_run_fps", "summary", "Frames per second of each ok run (quantiles within 0.55%).");
    for (int gi = 0; gi < ng; gi++) {
        const Group *g = s->groups[gi];
        if (!g->speed_runs)
            continue;
        for (int k = 0; k < 4; k++)
            sample(f, s, g, "aie_run_fps", "quantile", qs[k], g->p_fps[k]);
        sample(f, s, g, "aie_run_fps_sum", NULL, NULL, g->fps_sum);
        sample(f, s, g, "aie_run_fps_count", NULL, NULL, (double)g->speed_runs);
    }
    family(f, "aie_frame_time_seconds", "summary",
           "Per-frame processing time of the ok runs (quantiles within 0.55%, sum from bucket middles).");
    for (int gi = 0; gi < ng; gi++) {
        const Group *g = s->groups[gi];
        if (!g->frame_hist || !g->frame_hist->total)
            continue;
        double sum = 0;
        for (int b = 0; b < AIE_HIST_BUCKETS; b++)
            if (g->frame_hist->count[b])
                sum += g->frame_hist->count[b] * aie_hist_bucket_value(b) / 1e6;
        for (int k = 0; k < 4; k++)
            sample(f, s, g, "aie_frame_time_seconds", "quantile", qs[k], g->p_frame_ms[k] / 1000);
        sample(f, s, g, "aie_frame_time_seconds_sum", NULL, NULL, sum);
        sample(f, s, g, "aie_frame_time_seconds_count", NULL, NULL, (double)g->frame_hist->total);
    }
    family(f, "aie_stage_busy_ratio", "gauge",
           "Busy share of wall time per stage and thread of the stage (at most 1), runs of 1 s or more.");
    for (int gi = 0; gi < ng; gi++) {
        const Group *g = s->groups[gi];
        for (int k = 0; k < STAGE_N; k++) {
            double v;
            if (stage_share(g, k, &v))
                sample(f, s, g, "aie_stage_busy_ratio", "stage", aie_stats_stage_names[k], v);
        }
    }
    family(f, "aie_cpu_utilisation_ratio", "gauge", "CPU time over wall time times worker threads.");
    for (int gi = 0; gi < ng; gi++) {
        const Group *g = s->groups[gi];
        if (g->wall_thr_ms > 0)
            sample(f, s, g, "aie_cpu_utilisation_ratio", NULL, NULL, g->cpu_ms / g->wall_thr_ms);
    }
    family(f, "aie_machine_utilisation_ratio", "gauge", "CPU time over wall time times the host's cores.");
    for (int gi = 0; gi < ng; gi++) {
        const Group *g = s->groups[gi];
        if (g->wall_cores_ms > 0)
            sample(f, s, g, "aie_machine_utilisation_ratio", NULL, NULL, g->cpu_ms / g->wall_cores_ms);
    }
    family(f, "aie_peak_rss_bytes", "gauge", "Largest peak resident memory of a run.");
    for (int gi = 0; gi < ng; gi++)
        sample(f, s, s->groups[gi], "aie_peak_rss_bytes", NULL, NULL, (double)s->groups[gi]->peak_rss_kb * 1024);
    family(f, "aie_peak_memory_ratio", "gauge", "Largest peak resident memory of a run over its host's memory.");
    for (int gi = 0; gi < ng; gi++)
        if (s->groups[gi]->peak_ratio > 0)
            sample(f, s, s->groups[gi], "aie_peak_memory_ratio", NULL, NULL, s->groups[gi]->peak_ratio);
    family(f, "aie_queue_wait_seconds", "summary", "aie-batch queue wait of each job (quantiles within 0.55%).");
    for (int gi = 0; gi < ng; gi++) {
        const Group *g = s->groups[gi];
        if (!g->queue_n)
            continue;
        sample(f, s, g, "aie_queue_wait_seconds", "quantile", "0.5", aie_shist_quantile(&g->queue_hist, 0.5));
        sample(f, s, g, "aie_queue_wait_seconds", "quantile", "0.95", aie_shist_quantile(&g->queue_hist, 0.95));
        sample(f, s, g, "aie_queue_wait_seconds_sum", NULL, NULL, g->queue_s);
        sample(f, s, g, "aie_queue_wait_seconds_count", NULL, NULL, (double)g->queue_n);
    }
    family(f, "aie_cache_hit_ratio", "gauge", "aie-batch cache hits over hits plus misses.");
    for (int gi = 0; gi < ng; gi++) {
        const Group *g = s->groups[gi];
        if (g->cache_hit + g->cache_miss)
            sample(f, s, g, "aie_cache_hit_ratio", NULL, NULL,
                   (double)g->cache_hit / (double)(g->cache_hit + g->cache_miss));
    }
    /* quality: one gauge per member and quantile */
    family(f, "aie_quality", "gauge", "Quality scores of the ok runs by metric, p50 and p90 (within 0.55%).");
    for (int gi = 0; gi < ng; gi++) {
        const Group *g = s->groups[gi];
        for (int k = 0; k < g->nq; k++) {
            for (int q = 0; q < 2; q++) {
                fputs("aie_quality", f);
                fputc('{', f);
                for (int i = 0; i < s->nby; i++) {
                    char ln[REC_MAX_KEY + 8];
                    label_name(ln, sizeof(ln), &s->by[i]);
                    fprintf(f, "%s=\"", ln);
                    prom_escape(f, g->val[i]);
                    fputs("\",", f);
                }
                fputs("metric=\"", f);
                prom_escape(f, g->q[k].name);
                fprintf(f, "\",quantile=\"%s\"}", q ? "0.9" : "0.5");
                prom_val(f, q ? g->q[k].p90 : g->q[k].p50);
            }
        }
    }
    family(f, "aie_findings", "gauge", "Findings of this report by severity.");
    for (int sev = 0; sev < 3; sev++)
        fprintf(f, "aie_findings{severity=\"%s\"} %d\n", aie_stats_severity_name(sev), aie_stats_findings(s, sev));
    family(f, "aie_stats_records", "gauge", "Log lines and records read by aie-stats, by kind.");
    const AieStatsCounts *c = &s->c;
    struct {
        const char *k;
        int64_t v;
    } kinds[] = {{"used", c->used}, {"torn", c->torn}, {"garbage", c->garbage}, {"oversize", c->oversize},
                 {"unknown_version", c->unknown_version}, {"unknown_event", c->unknown_event},
                 {"invalid", c->invalid}, {"filtered", c->filtered}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        fprintf(f, "aie_stats_records{kind=\"%s\"} %lld\n", kinds[i].k, (long long)kinds[i].v);
    if (s->last_ts >= s->first_ts) {
        family(f, "aie_stats_last_record_timestamp_seconds", "gauge", "Time of the newest record used.");
        fprintf(f, "aie_stats_last_record_timestamp_seconds %.3f\n", (double)s->last_ts / 1000.0);
    }
    return ferror(f) ? AIE_EIO : 0;
}
