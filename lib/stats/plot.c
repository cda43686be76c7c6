/*
 * --plot: three charts (per-frame time histogram, throughput over time, stage
 * split per group) built once as a list of primitives, then written either as
 * hand-written SVG or rasterised here into an RGB frame for lib/io's PNG
 * writer (lib/stats never includes libpng).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aie/error.h"
#include "aie/frame.h"
#include "aie/fs.h"
#include "stats_internal.h"

enum { P_RECT, P_LINE, P_TEXT };
enum { A_START, A_MIDDLE, A_END };

typedef struct PItem {
    int kind, anchor, size, bold;
    uint32_t rgb;
    double x0, y0, x1, y1, w;
    char text[96];
} PItem;

typedef struct Scene {
    int width, height;
    PItem *it;
    int n, cap, oom;
} Scene;

#define W 960
#define PANEL_H 300
#define ML 100
#define MR 200
#define MT 40
#define MB 46
#define MAX_PLOT_GROUPS 8

static const uint32_t palette[MAX_PLOT_GROUPS] = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2,
                                                  0x59a14f, 0xedc948, 0xb07aa1, 0xff9da7};
static const uint32_t stage_rgb[STAGE_N] = {0x4e79a7, 0xe15759, 0x59a14f, 0xbab0ac, 0xf28e2b};
#define INK 0x222222
#define GRID 0xdddddd

/* Shorten s to at most max bytes on a UTF-8 boundary, ending in "..." */
static void shorten(char *s, size_t max)
{
    if (strlen(s) <= max)
        return;
    size_t cut = max - 3;
    while (cut && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    memcpy(s + cut, "...", 4);
}

static PItem *add(Scene *sc, int kind)
{
    if (sc->n == sc->cap) {
        int ncap = sc->cap ? sc->cap * 2 : 256;
        PItem *ni = realloc(sc->it, (size_t)ncap * sizeof(*ni));
        if (!ni) {
            sc->oom = 1;
            return NULL;
        }
        sc->it = ni;
        sc->cap = ncap;
    }
    PItem *p = &sc->it[sc->n++];
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    return p;
}

/* Coordinates from odd data (infinite, NaN, huge) stay on a bounded canvas. */
static double co(double v)
{
    if (!(v == v))
        return 0;
    return v < -10000 ? -10000 : v > 10000 ? 10000 : v;
}

static void rect(Scene *sc, double x, double y, double w, double h, uint32_t rgb)
{
    x = co(x);
    y = co(y);
    w = co(w);
    h = co(h);
    PItem *p = add(sc, P_RECT);
    if (p)
        *p = (PItem){.kind = P_RECT, .rgb = rgb, .x0 = x, .y0 = y, .x1 = x + w, .y1 = y + h};
}

static void line(Scene *sc, double x0, double y0, double x1, double y1, uint32_t rgb, double w)
{
    x0 = co(x0);
    y0 = co(y0);
    x1 = co(x1);
    y1 = co(y1);
    PItem *p = add(sc, P_LINE);
    if (p)
        *p = (PItem){.kind = P_LINE, .rgb = rgb, .x0 = x0, .y0 = y0, .x1 = x1, .y1 = y1, .w = w};
}

static void text(Scene *sc, double x, double y, int anchor, int size, const char *s)
{
    PItem *p = add(sc, P_TEXT);
    if (!p)
        return;
    p->rgb = INK;
    p->x0 = co(x);
    p->y0 = co(y);
    p->anchor = anchor;
    p->size = size;
    size_t n = strlen(s) < sizeof(p->text) - 1 ? strlen(s) : sizeof(p->text) - 1;
    memcpy(p->text, s, n);
    p->text[n] = 0;
}

static double nice_ceil(double v)
{
    if (!(v > 0))
        return 1;
    /* v > 0 here (cppcheck misses the guard above) */
    double e = pow(10, floor(log10(v))), m = v / e; /* cppcheck-suppress invalidFunctionArg */
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * e;
}

static void frame_box(Scene *sc, double top, const char *title)
{
    rect(sc, ML, top, W - ML - MR, PANEL_H - MT - MB, 0xfafafa);
    text(sc, ML, top - 12, A_START, 2, title);
    line(sc, ML, top + PANEL_H - MT - MB, W - MR, top + PANEL_H - MT - MB, INK, 1);
    line(sc, ML, top, ML, top + PANEL_H - MT - MB, INK, 1);
}

static void legend(Scene *sc, const AieStats *s, const int *gi, int ng, double top)
{
    for (int k = 0; k < ng; k++) {
        char label[96];
        aie_stats_group_label(s, s->groups[gi[k]], label, sizeof(label));
        shorten(label, 26);
        rect(sc, W - MR + 14, top + 6 + 18 * k, 12, 12, palette[k]);
        text(sc, W - MR + 32, top + 16 + 18 * k, A_START, 1, label);
    }
}

/* y axis ticks 0..ymax */
static void y_ticks(Scene *sc, double top, double ymax, const char *unit)
{
    double ph = PANEL_H - MT - MB;
    for (int i = 0; i <= 4; i++) {
        double y = top + ph - ph * i / 4, v = ymax * i / 4;
        char b[48];
        snprintf(b, sizeof(b), "%.4g%s", v, i == 4 ? unit : "");
        line(sc, ML, y, W - MR, y, GRID, 1);
        text(sc, ML - 6, y + 4, A_END, 1, b);
    }
}

static void plot_frames(Scene *sc, const AieStats *s, const int *gi, int ng, double top)
{
    frame_box(sc, top, "Per-frame processing time (share of frames, log time axis)");
    double ph = PANEL_H - MT - MB, pw = W - ML - MR;
    int lo = AIE_HIST_BUCKETS, hi = -1;
    for (int k = 0; k < ng; k++) {
        const AieHist *h = s->groups[gi[k]]->frame_hist;
        for (int b = 0; h && b < AIE_HIST_BUCKETS; b++)
            if (h->count[b]) {
                lo = b < lo ? b : lo;
                hi = b > hi ? b : hi;
            }
    }
    if (hi < 0) {
        text(sc, ML + pw / 2, top + ph / 2, A_MIDDLE, 1, "no frame times in the selection");
        return;
    }
    /* coarse bins of 8 buckets (1/8 octave) */
    lo = lo / 8 * 8 - 8;
    hi = hi / 8 * 8 + 16;
    if (lo < 0)
        lo = 0;
    int nb = (hi - lo) / 8;
    double ymax = 0;
    for (int k = 0; k < ng; k++) {
        const AieHist *h = s->groups[gi[k]]->frame_hist;
        if (!h || !h->total)
            continue;
        for (int c = 0; c < nb; c++) {
            uint64_t n = 0;
            for (int b = lo + 8 * c; b < lo + 8 * c + 8 && b < AIE_HIST_BUCKETS; b++)
                n += h->count[b];
            double v = (double)n / (double)h->total;
            ymax = v > ymax ? v : ymax;
        }
    }
    ymax = nice_ceil(ymax * 100) / 100;
    y_ticks(sc, top, ymax * 100, "%");
    double l0 = (lo + 0.5) / 64.0, l1 = (hi + 0.5) / 64.0; /* log2 microseconds */
    /* 1-2-5 ticks in ms, labelled where there is room */
    double last_label = -1e9;
    double d = 0.001;
    for (int decade = 0; decade < 11; decade++) { /* 0.001 ms to 1e7 ms */
        for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
            double v = d * m, l = log2(v * 1000);
            if (l < l0 || l > l1)
                continue;
            double x = ML + pw * (l - l0) / (l1 - l0);
            line(sc, x, top, x, top + ph, GRID, 1);
            if (x - last_label > 56) {
                char b[32];
                snprintf(b, sizeof(b), "%g ms", v);
                text(sc, x, top + ph + 16, A_MIDDLE, 1, b);
                last_label = x;
            }
        }
        d *= 10;
    }
    for (int k = 0; k < ng; k++) {
        const AieHist *h = s->groups[gi[k]]->frame_hist;
        if (!h || !h->total)
            continue;
        double px = 0, py = 0;
        for (int c = 0; c < nb; c++) {
            uint64_t n = 0;
            for (int b = lo + 8 * c; b < lo + 8 * c + 8 && b < AIE_HIST_BUCKETS; b++)
                n += h->count[b];
            double l = (lo + 8 * c + 4) / 64.0;
            double x = ML + pw * (l - l0) / (l1 - l0);
            double y = top + ph - ph * ((double)n / (double)h->total) / ymax;
            if (c)
                line(sc, px, py, x, y, palette[k], 2);
            px = x;
            py = y;
        }
    }
    legend(sc, s, gi, ng, top);
}

static void plot_time(Scene *sc, const AieStats *s, const int *gi, int ng, double top)
{
    int use_mp = 0;
    for (int k = 0; k < ng; k++)
        use_mp |= s->groups[gi[k]]->mpix > 0;
    frame_box(sc, top, use_mp ? "Throughput over time (megapixels per second of run time)"
                              : "Throughput over time (frames per second of run time)");
    double ph = PANEL_H - MT - MB, pw = W - ML - MR;
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    double ymax = 0;
    for (int k = 0; k < ng; k++) {
        const TSeries *t = s->groups[gi[k]]->ts;
        if (!t || !t->used)
            continue;
        for (int b = 0; b < TS_BINS; b++) {
            if (!t->v[b][3])
                continue;
            int64_t c = (t->first + b) * t->w + t->w / 2;
            t0 = c < t0 ? c : t0;
            t1 = c > t1 ? c : t1;
            double y = (use_mp ? t->v[b][0] : t->v[b][2]) * 1000 / t->v[b][1];
            ymax = y > ymax ? y : ymax;
        }
    }
    if (t1 < t0) {
        text(sc, ML + pw / 2, top + ph / 2, A_MIDDLE, 1, "no finished runs in the selection");
        return;
    }
    if (t1 == t0) {
        t0 -= 60000;
        t1 += 60000;
    }
    ymax = nice_ceil(ymax);
    y_ticks(sc, top, ymax, use_mp ? " MP/s" : " fps");
    for (int i = 0; i <= 4; i++) {
        int64_t tt = t0 + (t1 - t0) * i / 4;
        char ts[32], b[32];
        aie_stats_format_ts(ts, tt);
        snprintf(b, sizeof(b), "%.10s %.5s", ts, ts + 11);
        text(sc, ML + pw * i / 4, top + ph + 16, i == 0 ? A_START : i == 4 ? A_END : A_MIDDLE, 1, b);
    }
    for (int k = 0; k < ng; k++) {
        const TSeries *t = s->groups[gi[k]]->ts;
        if (!t || !t->used)
            continue;
        double px = 0, py = 0;
        int first = 1;
        for (int b = 0; b < TS_BINS; b++) {
            if (!t->v[b][3])
                continue;
            int64_t c = (t->first + b) * t->w + t->w / 2;
            double x = ML + pw * (double)(c - t0) / (double)(t1 - t0);
            double y = top + ph - ph * ((use_mp ? t->v[b][0] : t->v[b][2]) * 1000 / t->v[b][1]) / ymax;
            if (!first)
                line(sc, px, py, x, y, palette[k], 2);
            rect(sc, x - 2, y - 2, 4, 4, palette[k]);
            first = 0;
            px = x;
            py = y;
        }
    }
    legend(sc, s, gi, ng, top);
}

static double plot_stages(Scene *sc, const AieStats *s, const int *gi, int ng, double top)
{
    double bar = 7, gap = 10, rowh = STAGE_N * bar + gap;
    double ph = ng * rowh + 10, pw = W - ML - MR;
    rect(sc, ML, top, pw, ph, 0xfafafa);
    text(sc, ML, top - 12, A_START, 2, "Stage split (busy share of wall time per thread of the stage)");
    const double xmax = 1; /* a share is at most 100% */
    for (int i = 0; i <= 4; i++) {
        double x = ML + pw * i / 4;
        char b[32];
        snprintf(b, sizeof(b), "%.0f%%", 100 * xmax * i / 4);
        line(sc, x, top, x, top + ph, GRID, 1);
        text(sc, x, top + ph + 16, A_MIDDLE, 1, b);
    }
    for (int k = 0; k < ng; k++) {
        const Group *g = s->groups[gi[k]];
        char label[96] = "all";
        size_t o = 0;
        for (int i = 0; i < s->nby && o < sizeof(label); i++)
            o += (size_t)snprintf(label + o, sizeof(label) - o, "%s%s", i ? "," : "", g->val[i]);
        shorten(label, 15);
        double y = top + 5 + k * rowh;
        text(sc, ML - 6, y + 2 * bar + 4, A_END, 1, label);
        for (int i = 0; i < STAGE_N; i++) {
            double v = 0;
            if (stage_share(g, i, &v))
                rect(sc, ML, y + i * bar, pw * v / xmax, bar - 1, stage_rgb[i]);
        }
    }
    static const char *const names[STAGE_N] = {"read+decode", "process", "encode+write", "wait", "finish"};
    for (int i = 0; i < STAGE_N; i++) {
        rect(sc, W - MR + 14, top + 6 + 18 * i, 12, 12, stage_rgb[i]);
        text(sc, W - MR + 32, top + 16 + 18 * i, A_START, 1, names[i]);
    }
    line(sc, ML, top, ML, top + ph, INK, 1);
    return ph;
}

static int runs_desc(const void *a, const void *b, void *ctx)
{
    const AieStats *s = ctx;
    int64_t x = s->groups[*(const int *)a]->runs, y = s->groups[*(const int *)b]->runs;
    if (x != y)
        return x > y ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

static int build(const AieStats *s, Scene *sc)
{
    int idx[AIE_STATS_MAX_GROUPS + 1], ng = 0;
    for (int i = 0; i < s->ngroups; i++)
        if (s->groups[i]->runs) /* groups of job_end records only have nothing to draw */
            idx[ng++] = i;
    qsort_r(idx, (size_t)ng, sizeof(idx[0]), runs_desc, (void *)s);
    if (ng > MAX_PLOT_GROUPS)
        ng = MAX_PLOT_GROUPS;
    /* keep the plotted groups in report order */
    for (int i = 1; i < ng; i++)
        for (int j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    double stage_h = (ng ? ng : 1) * (STAGE_N * 7.0 + 10) + 10;
    sc->width = W;
    sc->height = (int)(60 + 2 * PANEL_H + MT + stage_h + MB);
    rect(sc, 0, 0, W, sc->height, 0xffffff);
    char title[200];
    char shown[48] = "";
    if (s->ngroups > ng)
        snprintf(shown, sizeof(shown), ", %d with runs plotted", ng);
    snprintf(title, sizeof(title), "aie-stats: %lld records, %d group%s%s", (long long)s->c.used, s->ngroups,
             s->ngroups == 1 ? "" : "s", shown);
    text(sc, W / 2.0, 26, A_MIDDLE, 2, title);
    plot_frames(sc, s, idx, ng, 60 + MT);
    plot_time(sc, s, idx, ng, 60 + PANEL_H + MT);
    plot_stages(sc, s, idx, ng, 60 + 2 * PANEL_H + MT);
    return sc->oom ? AIE_ENOMEM : 0;
}

/* ---- SVG ---- */

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, f);
        }
    }
}

static int write_svg(const Scene *sc, FILE *f)
{
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n",
            sc->width, sc->height, sc->width, sc->height);
    for (int i = 0; i < sc->n; i++) {
        const PItem *p = &sc->it[i];
        switch (p->kind) {
        case P_RECT:
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#%06x\"/>\n", p->x0, p->y0,
                    p->x1 - p->x0 > 0 ? p->x1 - p->x0 : 0, p->y1 - p->y0 > 0 ? p->y1 - p->y0 : 0, p->rgb);
            break;
        case P_LINE:
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#%06x\" stroke-width=\"%.1f\"/>\n",
                    p->x0, p->y0, p->x1, p->y1, p->rgb, p->w);
            break;
        case P_TEXT:
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" fill=\"#%06x\" text-anchor=\"%s\">", p->x0, p->y0,
                    p->size > 1 ? 15 : 11, p->rgb,
                    p->anchor == A_START ? "start" : p->anchor == A_MIDDLE ? "middle" : "end");
            xml_text(f, p->text);
            fputs("</text>\n", f);
            break;
        }
    }
    fputs("</svg>\n", f);
    return ferror(f) ? AIE_EIO : 0;
}

/* ---- raster ---- */

/* 5x7 glyphs for ASCII 32..126, one byte per row, bit 4 = left column. */
static const uint8_t font5x7[95][7] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04},
    {0x0A, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x00}, {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A},
    {0x04, 0x0F, 0x14, 0x0E, 0x05, 0x1E, 0x04}, {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03},
    {0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D}, {0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00},
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}, {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},
    {0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00}, {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x04, 0x04, 0x08}, {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04}, {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00},
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}, {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}, {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}, {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}, {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}, {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
    {0x00, 0x00, 0x04, 0x00, 0x00, 0x04, 0x00}, {0x00, 0x00, 0x04, 0x00, 0x04, 0x04, 0x08},
    {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}, {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00},
    {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}, {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04},
    {0x0E, 0x11, 0x17, 0x15, 0x17, 0x10, 0x0E}, {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},
    {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}, {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E},
    {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}, {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F},
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}, {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F},
    {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}, {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E},
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}, {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11},
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}, {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11},
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}, {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},
    {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}, {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D},
    {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}, {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E},
    {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}, {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A},
    {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}, {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04},
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}, {0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E},
    {0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00}, {0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E},
    {0x04, 0x0A, 0x11, 0x00, 0x00, 0x00, 0x00}, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F},
    {0x08, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00}, {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F},
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E}, {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E},
    {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F}, {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E},
    {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08}, {0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E},
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11}, {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E},
    {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C}, {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12},
    {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}, {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11},
    {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11}, {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E},
    {0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10}, {0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01},
    {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10}, {0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E},
    {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06}, {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D},
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04}, {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A},
    {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11}, {0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E},
    {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F}, {0x02, 0x04, 0x04, 0x08, 0x04, 0x04, 0x02},
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, {0x08, 0x04, 0x04, 0x02, 0x04, 0x04, 0x08},
    {0x00, 0x00, 0x08, 0x15, 0x02, 0x00, 0x00},
};

/* Glyphs that reach below the baseline, 5x9: rows 0-6 as in font5x7 (row 6
 * sits on the baseline), rows 7-8 the descender. */
static const struct {
    char ch;
    uint8_t rows[9];
} font_desc[] = {
    {'g', {0x00, 0x00, 0x0F, 0x11, 0x11, 0x11, 0x0F, 0x01, 0x0E}},
    {'j', {0x02, 0x00, 0x06, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'p', {0x00, 0x00, 0x1E, 0x11, 0x11, 0x11, 0x1E, 0x10, 0x10}},
    {'q', {0x00, 0x00, 0x0F, 0x11, 0x11, 0x11, 0x0F, 0x01, 0x01}},
    {'y', {0x00, 0x00, 0x11, 0x11, 0x11, 0x11, 0x0F, 0x01, 0x0E}},
    {',', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x04, 0x08}},
    {';', {0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x04, 0x08}},
};

typedef struct Canvas {
    AieFrame *f;
} Canvas;

static void px(Canvas *c, int x, int y, uint32_t rgb)
{
    AieFrame *f = c->f;
    if (x < 0 || y < 0 || x >= f->width || y >= f->height)
        return;
    f->data[0][y * f->stride[0] + x] = (uint8_t)(rgb >> 16);
    f->data[1][y * f->stride[1] + x] = (uint8_t)(rgb >> 8);
    f->data[2][y * f->stride[2] + x] = (uint8_t)rgb;
}

static void fill(Canvas *c, double x0, double y0, double x1, double y1, uint32_t rgb)
{
    int ax = (int)lround(x0), ay = (int)lround(y0), bx = (int)lround(x1), by = (int)lround(y1);
    if (ax < 0)
        ax = 0;
    if (ay < 0)
        ay = 0;
    if (bx > c->f->width)
        bx = c->f->width;
    if (by > c->f->height)
        by = c->f->height;
    for (int y = ay; y < by; y++)
        for (int x = ax; x < bx; x++)
            px(c, x, y, rgb);
}

static void draw_line(Canvas *c, double x0, double y0, double x1, double y1, uint32_t rgb, double w)
{
    double dx = x1 - x0, dy = y1 - y0;
    double len = sqrt(dx * dx + dy * dy);
    int steps = (int)ceil(len * 2) + 1;
    int t = w > 1.5 ? 1 : 0;
    for (int i = 0; i <= steps; i++) {
        double x = x0 + dx * i / steps, y = y0 + dy * i / steps;
        int ix = (int)floor(x), iy = (int)floor(y);
        for (int oy = 0; oy <= t; oy++)
            for (int ox = 0; ox <= t; ox++)
                px(c, ix + ox, iy + oy, rgb);
    }
}

void aie_stats_draw_text(AieFrame *f, int x, int baseline, int scale, const char *text, uint32_t rgb)
{
    Canvas c = {f};
    int y = baseline - 7 * scale; /* the top of the cell: row 6 ends on the baseline */
    for (int i = 0; text[i]; i++) {
        unsigned char ch = (unsigned char)text[i];
        const uint8_t *g = font5x7[(ch >= 32 && ch < 127 ? ch : '?') - 32];
        int nrows = 7;
        for (size_t k = 0; k < sizeof(font_desc) / sizeof(font_desc[0]); k++)
            if (font_desc[k].ch == (char)ch) {
                g = font_desc[k].rows;
                nrows = 9;
            }
        for (int r = 0; r < nrows; r++)
            for (int col = 0; col < 5; col++)
                if (g[r] >> (4 - col) & 1)
                    for (int sy = 0; sy < scale; sy++)
                        for (int sx = 0; sx < scale; sx++)
                            px(&c, x + (i * 6 + col) * scale + sx, y + r * scale + sy, rgb);
    }
}

static void draw_text(Canvas *c, const PItem *p)
{
    int scale = p->size > 1 ? 2 : 1;
    int tw = (int)strlen(p->text) * 6 * scale;
    int x = (int)lround(p->x0);
    if (p->anchor == A_MIDDLE)
        x -= tw / 2;
    else if (p->anchor == A_END)
        x -= tw;
    aie_stats_draw_text(c->f, x, (int)lround(p->y0), scale, p->text, p->rgb);
}

static int render(const Scene *sc, AieFrame **out)
{
    AieFrame *f = NULL;
    int rc = aie_frame_alloc(&f, sc->width, sc->height, AIE_LAYOUT_RGB, 8);
    if (rc)
        return rc;
    Canvas c = {f};
    for (int i = 0; i < sc->n; i++) {
        const PItem *p = &sc->it[i];
        if (p->kind == P_RECT)
            fill(&c, p->x0, p->y0, p->x1, p->y1, p->rgb);
        else if (p->kind == P_LINE)
            draw_line(&c, p->x0, p->y0, p->x1, p->y1, p->rgb, p->w);
        else
            draw_text(&c, p);
    }
    f->color.range = 2;
    f->color.primaries = 1;
    f->color.transfer = 13; /* sRGB */
    f->color.matrix = 0;
    *out = f;
    return 0;
}

int aie_stats_plot_image(const AieStats *s, AieFrame **out)
{
    *out = NULL;
    if (!s->finished)
        return AIE_EINVAL;
    Scene sc = {0};
    int rc = build(s, &sc);
    if (!rc)
        rc = render(&sc, out);
    free(sc.it);
    return rc;
}

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && !strcasecmp(path + n - e, ext);
}

int aie_stats_plot(const AieStats *s, const char *path, char *err, size_t errlen)
{
    if (!s->finished)
        return AIE_EINVAL;
    if (!has_ext(path, ".svg")) {
        if (err && errlen)
            snprintf(err, errlen, "%s: the plot must be a .svg file (a .png is drawn by aie_stats_plot_image)",
                     path);
        return AIE_EINVAL;
    }
    Scene sc = {0};
    int rc = build(s, &sc);
    if (!rc) {
        AieOutFile *o = NULL;
        FILE *f;
        const char *const *logs = (const char *const *)s->logs;
        if (!(rc = aie_outfile_open(&o, path, logs, s->nlogs, 0, &f, err, errlen))) {
            rc = write_svg(&sc, f);
            if (rc && !ferror(f)) {
                aie_outfile_abort(&o);
            } else { /* a write error is sticky: the commit names the file and the reason */
                int crc = aie_outfile_commit(&o, err, errlen);
                rc = crc ? crc : rc;
            }
        }
    }
    if (rc == AIE_ENOMEM && err && errlen && !err[0])
        snprintf(err, errlen, "%s: out of memory", path);
    free(sc.it);
    return rc;
}
