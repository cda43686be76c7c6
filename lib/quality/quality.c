/* Per-run accumulators of per-frame quality figures. */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aie/error.h"
#include "aie/cpu.h"
#include "aie/quality.h"
#include "dsp/ssd.h"

enum { MAX_BINS = 4096 };

struct AieQualityAcc {
    pthread_mutex_t lock;
    char name[64];
    double bin, sum, min, max;
    long n;
    long identical; /* +inf scores (identical frames): out of n, sum, min, max, bins */
    double cost_ms; /* time spent computing the scores, < 0 when not told */
    long *bins; /* MAX_BINS, offset so that negative values fit */
    int lo, hi; /* bins used */
};

int aie_quality_create(AieQualityAcc **out, const char *name, double bin)
{
    *out = NULL;
    if (!name || !(bin > 0))
        return AIE_EINVAL;
    AieQualityAcc *q = calloc(1, sizeof(*q));
    if (!q || !(q->bins = calloc(MAX_BINS, sizeof(*q->bins)))) {
        free(q);
        return AIE_ENOMEM;
    }
    pthread_mutex_init(&q->lock, NULL);
    snprintf(q->name, sizeof(q->name), "%s", name);
    q->bin = bin;
    q->cost_ms = -1;
    q->min = DBL_MAX;
    q->max = -DBL_MAX;
    q->lo = MAX_BINS;
    q->hi = -1;
    *out = q;
    return 0;
}

void aie_quality_add(AieQualityAcc *q, double v)
{
    if (!q || isnan(v) || (isinf(v) && v < 0))
        return;
    if (isinf(v)) { /* identical frames: PSNR is infinite, counted apart */
        pthread_mutex_lock(&q->lock);
        q->identical++;
        pthread_mutex_unlock(&q->lock);
        return;
    }
    long i = (long)floor(v / q->bin) + MAX_BINS / 2;
    if (i < 0)
        i = 0;
    if (i >= MAX_BINS)
        i = MAX_BINS - 1;
    pthread_mutex_lock(&q->lock);
    q->n++;
    q->sum += v;
    if (v < q->min)
        q->min = v;
    if (v > q->max)
        q->max = v;
    q->bins[i]++;
    if (i < q->lo)
        q->lo = (int)i;
    if (i > q->hi)
        q->hi = (int)i;
    pthread_mutex_unlock(&q->lock);
}

void aie_quality_set_cost(AieQualityAcc *q, double ms)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->cost_ms = ms >= 0 ? ms : -1;
    pthread_mutex_unlock(&q->lock);
}

long aie_quality_count(const AieQualityAcc *q) { return q ? q->n : 0; }

double aie_quality_mean(const AieQualityAcc *q) { return q && q->n ? q->sum / (double)q->n : NAN; }

int aie_quality_json(const AieQualityAcc *q, char **json)
{
    json_object *o = *json ? json_tokener_parse(*json) : json_object_new_object();
    if (!o)
        return AIE_ENOMEM;
    if (q && (q->n || q->identical)) {
        char key[96];
        int any = q->n > 0; /* only identical frames: no finite score, null */
        json_object_object_add(o, q->name, any ? json_object_new_double(q->sum / (double)q->n) : NULL);
        snprintf(key, sizeof(key), "%s_min", q->name);
        json_object_object_add(o, key, any ? json_object_new_double(q->min) : NULL);
        snprintf(key, sizeof(key), "%s_max", q->name);
        json_object_object_add(o, key, any ? json_object_new_double(q->max) : NULL);
        snprintf(key, sizeof(key), "%s_frames", q->name);
        json_object_object_add(o, key, json_object_new_int64(q->n + q->identical));
        snprintf(key, sizeof(key), "%s_identical", q->name);
        json_object_object_add(o, key, json_object_new_int64(q->identical));
        if (q->cost_ms >= 0) {
            snprintf(key, sizeof(key), "%s_cost_ms", q->name);
            char v[32]; /* microseconds, printed as such (not 9.1869999999999994) */
            snprintf(v, sizeof(v), "%.3f", q->cost_ms);
            json_object_object_add(o, key, json_object_new_double_s(q->cost_ms, v));
        }
        snprintf(key, sizeof(key), "%s_hist_bin", q->name);
        json_object_object_add(o, key, json_object_new_double(q->bin));
        json_object *h = json_object_new_array();
        if (!h) { /* json-c asserts on NULL containers */
            json_object_put(o);
            return AIE_ENOMEM;
        }
        for (int i = q->lo; i <= q->hi; i++) {
            if (!q->bins[i])
                continue;
            json_object *pair = json_object_new_array();
            if (!pair) {
                json_object_put(h);
                json_object_put(o);
                return AIE_ENOMEM;
            }
            json_object_array_add(pair, json_object_new_int(i - MAX_BINS / 2));
            json_object_array_add(pair, json_object_new_int64(q->bins[i]));
            json_object_array_add(h, pair);
        }
        snprintf(key, sizeof(key), "%s_hist", q->name);
        json_object_object_add(o, key, h);
    }
    char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    if (!s)
        return AIE_ENOMEM;
    free(*json);
    *json = s;
    return 0;
}

void aie_quality_free(AieQualityAcc **pq)
{
    AieQualityAcc *q = pq ? *pq : NULL;
    if (!q)
        return;
    *pq = NULL;
    pthread_mutex_destroy(&q->lock);
    free(q->bins);
    free(q);
}

double aie_frame_psnr(const AieFrame *a, const AieFrame *b, unsigned cpu_flags)
{
    if (a->width != b->width || a->height != b->height || a->layout != b->layout ||
        a->depth != b->depth)
        return NAN;
    AieSsdDSP dsp;
    aie_ssd_dsp_init(&dsp, cpu_flags);
    /* luma for YUV and gray; the mean of R, G and B for RGB(A) */
    int planes = a->layout == AIE_LAYOUT_RGB || a->layout == AIE_LAYOUT_RGBA ? 3 : 1;
    double sum = 0, n = 0;
    for (int p = 0; p < planes; p++) {
        for (int y = 0; y < a->plane_h[p]; y++) {
            const uint8_t *ra = a->data[p] + y * a->stride[p], *rb = b->data[p] + y * b->stride[p];
            sum += (double)(a->depth > 8 ? dsp.ssd16((const uint16_t *)ra, (const uint16_t *)rb, a->plane_w[p])
                                         : dsp.ssd8(ra, rb, a->plane_w[p]));
        }
        n += (double)a->plane_w[p] * a->plane_h[p];
    }
    double peak = (double)((1 << a->depth) - 1);
    double mse = sum / n;
    return mse > 0 ? 10.0 * log10(peak * peak / mse) : INFINITY;
}

int aie_quality_every(int every, AieRational fps)
{
    if (every >= 0)
        return every;
    double f = fps.den > 0 && fps.num > 0 ? (double)fps.num / fps.den : 25;
    return (int)(f + 0.5) > 0 ? (int)(f + 0.5) : 1;
}
