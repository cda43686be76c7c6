/* The default report: aligned tables per section, then the findings, most
 * severe first. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "stats_internal.h"

#define CELL 72
#define MAX_COLS 20

typedef struct Table {
    int ncols, nrows, cap, left; /* left: columns aligned left */
    char (*cells)[MAX_COLS][CELL];
} Table;

static int row(Table *t)
{
    if (t->nrows == t->cap) {
        int ncap = t->cap ? t->cap * 2 : 16;
        void *nc = realloc(t->cells, (size_t)ncap * sizeof(*t->cells));
        if (!nc)
            return AIE_ENOMEM;
        t->cells = nc;
        t->cap = ncap;
    }
    memset(t->cells[t->nrows], 0, sizeof(t->cells[0]));
    return t->nrows++;
}

static void cell(Table *t, int r, int c, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void cell(Table *t, int r, int c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->cells[r][c], CELL, fmt, ap);
    va_end(ap);
    if (c + 1 > t->ncols)
        t->ncols = c + 1;
}

/* display width: count UTF-8 lead bytes only */
static int width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void table_print(FILE *f, Table *t)
{
    int w[MAX_COLS] = {0};
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols; c++)
            if (width(t->cells[r][c]) > w[c])
                w[c] = width(t->cells[r][c]);
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r][c][0] ? t->cells[r][c] : "-";
            int pad = w[c] - width(s);
            if (c)
                fputs("  ", f);
            if (c < t->left) {
                fputs(s, f);
                if (c + 1 < t->ncols)
                    fprintf(f, "%*s", pad, "");
            } else {
                fprintf(f, "%*s%s", pad, "", s);
            }
        }
        fputc('\n', f);
    }
    t->nrows = 0;
    t->ncols = 0;
}

static const char *num(char *b, double v)
{
    if (!isfinite(v))
        snprintf(b, 32, "-");
    else if (fabs(v) >= 1e6)
        snprintf(b, 32, "%.4g", v);
    else if (fabs(v) >= 1000)
        snprintf(b, 32, "%.0f", v);
    else if (fabs(v) >= 100)
        snprintf(b, 32, "%.1f", v);
    else if (fabs(v) >= 10)
        snprintf(b, 32, "%.2f", v);
    else
        snprintf(b, 32, "%.3g", v);
    return b;
}

static const char *pct(char *b, double v)
{
    if (!isfinite(v))
        snprintf(b, 32, "-");
    else
        snprintf(b, 32, "%.1f%%", 100 * v);
    return b;
}

static const char *size_kb(char *b, double kb)
{
    if (kb <= 0)
        snprintf(b, 32, "-");
    else if (kb >= 1048576)
        snprintf(b, 32, "%.1f GiB", kb / 1048576);
    else
        snprintf(b, 32, "%.0f MiB", kb / 1024);
    return b;
}

/* group key cells, and a header with the key names */
static int key_cells(const AieStats *s, Table *t, int r, const Group *g)
{
    if (!s->nby) {
        cell(t, r, 0, "%s", g ? "all" : "GROUP");
        return 1;
    }
    for (int i = 0; i < s->nby; i++) {
        if (g) {
            cell(t, r, i, "%.*s", CELL - 1, g->val[i]);
        } else {
            char up[CELL];
            snprintf(up, sizeof(up), "%s", s->by[i].name);
            for (char *p = up; *p; p++)
                if (*p >= 'a' && *p <= 'z')
                    *p = (char)(*p - 32);
            cell(t, r, i, "%s", up);
        }
    }
    return s->nby;
}

static void section(FILE *f, const char *title) { fprintf(f, "\n%s\n", title); }

static void wrap(FILE *f, const char *indent, const char *text)
{
    /* wrap at 100 columns */
    const int width_max = 100;
    int col = fprintf(f, "%s", indent);
    const char *p = text;
    while (*p) {
        const char *sp = strchr(p, ' ');
        int wl = sp ? (int)(sp - p) : (int)strlen(p);
        if (col + wl > width_max && col > (int)strlen(indent)) {
            col = fprintf(f, "\n%s", indent) - 1;
        }
        col += fprintf(f, "%.*s", wl, p);
        p += wl;
        if (*p == ' ') {
            p++;
            if (*p) {
                fputc(' ', f);
                col++;
            }
        }
    }
    fputc('\n', f);
}

int aie_stats_render_text(const AieStats *s, FILE *f)
{
    Table t = {0};
    char a[32], b[32], c[32], d[32], e[32], ts0[32], ts1[32];
    const AieStatsCounts *n = &s->c;
    if (s->first_ts <= s->last_ts) {
        aie_stats_format_ts(ts0, s->first_ts);
        aie_stats_format_ts(ts1, s->last_ts);
        fprintf(f, "aie-stats: %lld records used of %lld read from %d log%s, %s .. %s\n", (long long)n->used,
                (long long)n->records, s->nlogs, s->nlogs == 1 ? "" : "s", ts0, ts1);
    } else {
        fprintf(f, "aie-stats: %lld records read from %d log%s, none in the selection\n", (long long)n->records,
                s->nlogs, s->nlogs == 1 ? "" : "s");
    }
    fprintf(f, "skipped: %lld torn, %lld garbage, %lld oversize lines; %lld records of an unknown schema "
               "version, %lld of an unknown event, %lld invalid, %lld filtered out; %lld unknown fields "
               "ignored\n",
            (long long)n->torn, (long long)n->garbage, (long long)n->oversize, (long long)n->unknown_version,
            (long long)n->unknown_event, (long long)n->invalid, (long long)n->filtered, (long long)n->unknown_fields);
    if (n->runs_forgotten || n->groups_overflow)
        fprintf(f, "limits: %lld open runs forgotten (LRU of %d), %lld records in the (other) group\n",
                (long long)n->runs_forgotten, s->max_open, (long long)n->groups_overflow);

    if (!s->ngroups) {
        fprintf(f, "\nNo runs in the selection.\n");
    } else {
        section(f, "Volume and outcome");
        int r = row(&t), k;
        if (r < 0)
            goto nomem;
        t.left = k = key_cells(s, &t, r, NULL);
        const char *h1[] = {"RUNS", "OK", "FAILED", "CANCELLED", "ERROR", "INCOMPLETE", "JOBS", "RETRIES", "FRAMES", "MEGAPIXELS"};
        for (int i = 0; i < 10; i++)
            cell(&t, r, k + i, "%s", h1[i]);
        for (int gi = 0; gi < s->ngroups; gi++) {
            const Group *g = s->groups[gi];
            if ((r = row(&t)) < 0)
                goto nomem;
            key_cells(s, &t, r, g);
            cell(&t, r, k, "%lld", (long long)g->runs);
            cell(&t, r, k + 1, "%lld", (long long)g->ok);
            cell(&t, r, k + 2, "%lld", (long long)g->failed);
            cell(&t, r, k + 3, "%lld", (long long)g->cancelled);
            cell(&t, r, k + 4, "%s", g->ok + g->failed ? pct(a, (double)g->failed / (double)(g->ok + g->failed)) : "-");
            cell(&t, r, k + 5, "%lld", (long long)g->incomplete);
            cell(&t, r, k + 6, "%lld", (long long)g->jobs);
            cell(&t, r, k + 7, "%lld", (long long)g->retries);
            cell(&t, r, k + 8, "%lld", (long long)g->frames);
            cell(&t, r, k + 9, "%.1f", g->mpix);
        }
        table_print(f, &t);

        section(f, "Speed (ok runs; percentiles within 0.55%)");
        if ((r = row(&t)) < 0)
            goto nomem;
        key_cells(s, &t, r, NULL);
        const char *h2[] = {"RUNS", "FPS", "MP/S", "FPS p50", "p90", "p95", "p99", "FRAME ms p50", "p90", "p95", "p99"};
        for (int i = 0; i < 11; i++)
            cell(&t, r, k + i, "%s", h2[i]);
        for (int gi = 0; gi < s->ngroups; gi++) {
            const Group *g = s->groups[gi];
            if ((r = row(&t)) < 0)
                goto nomem;
            key_cells(s, &t, r, g);
            cell(&t, r, k, "%lld", (long long)g->speed_runs);
            if (g->speed_runs && g->sp_wall_ms > 0) {
                cell(&t, r, k + 1, "%s", num(a, g->sp_frames * 1000 / g->sp_wall_ms));
                cell(&t, r, k + 2, "%s", num(a, g->sp_mpix * 1000 / g->sp_wall_ms));
                for (int q = 0; q < 4; q++)
                    cell(&t, r, k + 3 + q, "%s", num(a, g->p_fps[q]));
            }
            if (g->frame_hist && g->frame_hist->total)
                for (int q = 0; q < 4; q++)
                    cell(&t, r, k + 7 + q, "%s", num(a, g->p_frame_ms[q]));
            else
                cell(&t, r, k + 10, "-");
        }
        table_print(f, &t);

        section(f, "Where the time goes (busy share of wall time per thread of the stage)");
        if ((r = row(&t)) < 0)
            goto nomem;
        key_cells(s, &t, r, NULL);
        const char *h3[] = {"RUNS", "READ", "PROCESS", "WRITE", "WAIT", "FINISH", "BOUND read/process/write"};
        for (int i = 0; i < 7; i++)
            cell(&t, r, k + i, "%s", h3[i]);
        for (int gi = 0; gi < s->ngroups; gi++) {
            const Group *g = s->groups[gi];
            if ((r = row(&t)) < 0)
                goto nomem;
            key_cells(s, &t, r, g);
            cell(&t, r, k, "%lld", (long long)g->stage_runs);
            for (int i = 0; i < STAGE_N; i++) {
                double v;
                if (stage_share(g, i, &v))
                    cell(&t, r, k + 1 + i, "%s", pct(a, v));
            }
            cell(&t, r, k + 6, "%lld/%lld/%lld", (long long)g->bound[0], (long long)g->bound[1], (long long)g->bound[2]);
        }
        table_print(f, &t);

        section(f, "Resources (CPU: (user+sys)/(wall x threads); machine: /(wall x cores))");
        if ((r = row(&t)) < 0)
            goto nomem;
        key_cells(s, &t, r, NULL);
        const char *h4[] = {"CPU", "MACHINE", "THREADS", "CORES", "PEAK RSS", "OF MEMORY", "PEAK INPUT"};
        for (int i = 0; i < 7; i++)
            cell(&t, r, k + i, "%s", h4[i]);
        for (int gi = 0; gi < s->ngroups; gi++) {
            const Group *g = s->groups[gi];
            if ((r = row(&t)) < 0)
                goto nomem;
            key_cells(s, &t, r, g);
            cell(&t, r, k, "%s", g->wall_thr_ms > 0 ? pct(a, g->cpu_ms / g->wall_thr_ms) : "-");
            cell(&t, r, k + 1, "%s", g->wall_cores_ms > 0 ? pct(a, g->cpu_ms / g->wall_cores_ms) : "-");
            cell(&t, r, k + 2, "%lld", (long long)g->max_threads);
            cell(&t, r, k + 3, "%lld", (long long)g->max_cores);
            cell(&t, r, k + 4, "%s", size_kb(a, (double)g->peak_rss_kb));
            cell(&t, r, k + 5, "%s", g->peak_ratio > 0 ? pct(b, g->peak_ratio) : "-");
            cell(&t, r, k + 6, "%.*s", CELL - 1, g->peak_rss_kb ? g->peak_input : "-");
        }
        table_print(f, &t);

        int jobs = 0, qual = 0;
        for (int gi = 0; gi < s->ngroups; gi++) {
            jobs |= s->groups[gi]->jobs > 0;
            qual |= s->groups[gi]->nq > 0;
        }
        if (jobs) {
            section(f, "Batch jobs (job_end records)");
            if ((r = row(&t)) < 0)
                goto nomem;
            key_cells(s, &t, r, NULL);
            const char *h5[] = {"JOBS", "RETRIES", "FAILED", "QUEUE p50", "p95", "QUEUE SHARE", "CACHE HIT", "MISS", "HIT RATE"};
            for (int i = 0; i < 9; i++)
                cell(&t, r, k + i, "%s", h5[i]);
            for (int gi = 0; gi < s->ngroups; gi++) {
                const Group *g = s->groups[gi];
                if (!g->jobs)
                    continue;
                if ((r = row(&t)) < 0)
                    goto nomem;
                key_cells(s, &t, r, g);
                cell(&t, r, k, "%lld", (long long)g->jobs);
                cell(&t, r, k + 1, "%lld", (long long)g->retries);
                cell(&t, r, k + 2, "%lld", (long long)g->jobs_failed);
                if (g->queue_n) {
                    cell(&t, r, k + 3, "%s s", num(a, aie_shist_quantile(&g->queue_hist, 0.5)));
                    cell(&t, r, k + 4, "%s s", num(b, aie_shist_quantile(&g->queue_hist, 0.95)));
                    cell(&t, r, k + 5, "%s", pct(c, g->queue_s / (g->queue_s + g->runtime_s > 0 ? g->queue_s + g->runtime_s : 1)));
                }
                cell(&t, r, k + 6, "%lld", (long long)g->cache_hit);
                cell(&t, r, k + 7, "%lld", (long long)g->cache_miss);
                cell(&t, r, k + 8, "%s", g->cache_hit + g->cache_miss
                                             ? pct(d, (double)g->cache_hit / (double)(g->cache_hit + g->cache_miss)) : "-");
            }
            table_print(f, &t);
        }
        if (qual) {
            section(f, "Quality (ok runs; outliers, judged per tool, method, model and size, are findings)");
            if ((r = row(&t)) < 0)
                goto nomem;
            key_cells(s, &t, r, NULL);
            t.left = k + 1;
            const char *h6[] = {"METRIC", "RUNS", "p50", "p90", "MAD", "IDENTICAL"};
            for (int i = 0; i < 6; i++)
                cell(&t, r, k + i, "%s", h6[i]);
            for (int gi = 0; gi < s->ngroups; gi++) {
                const Group *g = s->groups[gi];
                for (int qi = 0; qi < g->nq; qi++) {
                    const QualStat *q = &g->q[qi];
                    if ((r = row(&t)) < 0)
                        goto nomem;
                    key_cells(s, &t, r, g);
                    cell(&t, r, k, "%s", q->name);
                    cell(&t, r, k + 1, "%llu", (unsigned long long)q->h.n);
                    cell(&t, r, k + 2, "%s", num(a, q->p50));
                    cell(&t, r, k + 3, "%s", num(b, q->p90));
                    cell(&t, r, k + 4, "%s", q->h.n >= TH_Q_MIN_RUNS ? num(c, q->mad) : "-");
                    cell(&t, r, k + 5, "%lld", (long long)q->identical);
                }
            }
            table_print(f, &t);
            t.left = k;
        }

        /* per-group lists */
        for (int gi = 0; gi < s->ngroups; gi++) {
            const Group *g = s->groups[gi];
            char label[256];
            aie_stats_group_label(s, g, label, sizeof(label));
            if (g->slowest.n) {
                fprintf(f, "\nSlowest runs, %s (lowest megapixels per second)\n", label);
                t.left = 3;
                if ((r = row(&t)) < 0)
                    goto nomem;
                const char *h7[] = {"INPUT", "HOST", "ENDED", "MP/S", "FPS", "WALL s"};
                for (int i = 0; i < 6; i++)
                    cell(&t, r, i, "%s", h7[i]);
                for (int i = 0; i < g->slowest.n; i++) {
                    const TopItem *it = &g->slowest.items[i];
                    if ((r = row(&t)) < 0)
                        goto nomem;
                    aie_stats_format_ts(ts0, it->ts_ms);
                    cell(&t, r, 0, "%.*s", CELL - 1, it->input);
                    cell(&t, r, 1, "%s", it->host);
                    cell(&t, r, 2, "%s", ts0);
                    cell(&t, r, 3, "%s", num(a, it->b));
                    cell(&t, r, 4, "%s", num(b, it->a));
                    cell(&t, r, 5, "%s", num(c, it->c));
                }
                table_print(f, &t);
            }
            if (g->errors.n) {
                fprintf(f, "\nTop errors, %s\n", label);
                for (int i = 0; i < g->errors.n && i < 5; i++)
                    fprintf(f, "  %s%lld  %s\n", g->errors.e[i].over ? "~" : "", (long long)g->errors.e[i].count,
                            g->errors.e[i].msg);
            }
            if (g->failures.n) {
                fprintf(f, "\nLatest failures, %s\n", label);
                for (int i = 0; i < g->failures.n; i++) {
                    const TopItem *it = &g->failures.items[i];
                    aie_stats_format_ts(ts0, it->ts_ms);
                    size_t il = strlen(it->input);
                    if (!strncmp(it->text, it->input, il) && it->text[il] == ':')
                        fprintf(f, "  %s  %s  %s\n", ts0, it->host, it->text);
                    else
                        fprintf(f, "  %s  %s  %s: %s\n", ts0, it->host, it->input, it->text);
                }
            }
            if (g->open_list.n) {
                fprintf(f, "\nIncomplete runs, %s (%lld, %lld stale)\n", label, (long long)g->incomplete,
                        (long long)g->incomplete_stale);
                for (int i = 0; i < g->open_list.n; i++) {
                    const TopItem *it = &g->open_list.items[i];
                    aie_stats_format_ts(ts1, (int64_t)it->a);
                    if (it->i2 > 0)
                        snprintf(e, sizeof(e), "%lld/%lld (%.0f%%)", (long long)it->i1, (long long)it->i2,
                                 100.0 * (double)it->i1 / (double)it->i2);
                    else
                        snprintf(e, sizeof(e), "%lld/?", (long long)it->i1);
                    fprintf(f, "  %s  %s pid %lld  %s  frames %s  last seen %s\n", it->b > 0 ? "stale  " : "running",
                            it->host, (long long)it->i3, it->input, e, ts1);
                }
            }
        }
    }

    section(f, "Capacity forecast");
    const Capacity *cp = &s->cap;
    if (!cp->enough) {
        fprintf(f, "  not enough days of data (runs on %.0f day%s; 2 are needed)\n", cp->days_with_data,
                cp->days_with_data == 1 ? "" : "s");
        if (cp->machine_mps > 0)
            fprintf(f, "  one machine does %s MP/s; the work seen takes %s h on one machine\n",
                    num(a, cp->machine_mps), num(b, cp->hours_one_machine * cp->days));
    } else {
        fprintf(f, "  %.0f days, %lld host%s: %s MP, %s frames, %s runs a day on average\n", cp->days,
                (long long)cp->hosts, cp->hosts == 1 ? "" : "s", num(a, cp->daily_mpix), num(b, cp->daily_frames),
                num(c, cp->daily_runs));
        fprintf(f, "  one machine does %s MP/s (%s MP a day)\n", num(a, cp->machine_mps),
                num(b, cp->machine_mps * 86400));
        fprintf(f, "  the current demand, %s MP/day (trend %+.3g MP/day per day), takes %s h a day on one machine\n",
                num(c, cp->level_mpix), cp->slope_mpix, num(d, cp->level_mpix / cp->machine_mps / 3600));
        if (cp->days_one_full == 0)
            fprintf(f, "  the daily demand is already more than one machine does in a day\n");
        else if (cp->days_one_full > 0)
            fprintf(f, "  one machine is full in %.0f days at this trend\n", cp->days_one_full);
        else
            fprintf(f, "  one machine keeps up at this trend\n");
        if (cp->hosts > 1) {
            if (cp->days_hosts_full == 0)
                fprintf(f, "  the daily demand is more than the %lld hosts do in a day\n", (long long)cp->hosts);
            else if (cp->days_hosts_full > 0)
                fprintf(f, "  the %lld hosts are full in %.0f days at this trend\n", (long long)cp->hosts,
                        cp->days_hosts_full);
        }
    }

    section(f, "Findings");
    if (!s->nfindings)
        fprintf(f, "  none: nothing crosses a threshold\n");
    for (int i = 0; i < s->nfindings; i++) {
        const Finding *x = &s->findings[i];
        char head[700];
        if (snprintf(head, sizeof(head), "[%s] %s (%s): %s", aie_stats_severity_name(x->severity), x->id, x->subject,
                     x->summary) >= (int)sizeof(head))
            head[sizeof(head) - 1] = 0;
        wrap(f, "", head);
        char line[700];
        if (snprintf(line, sizeof(line), "do: %s", x->recommendation) >= (int)sizeof(line))
            line[sizeof(line) - 1] = 0;
        wrap(f, "    ", line);
        if (x->gain[0]) {
            if (snprintf(line, sizeof(line), "gain: %s", x->gain) >= (int)sizeof(line))
                line[sizeof(line) - 1] = 0;
            wrap(f, "    ", line);
        }
    }
    free(t.cells);
    return ferror(f) ? AIE_EIO : 0;
nomem:
    free(t.cells);
    return AIE_ENOMEM;
}
