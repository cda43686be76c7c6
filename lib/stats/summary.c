/* Bounded, mergeable summaries: the signed log-bucket histogram, the adaptive
 * time series, the top-N heap and the Space-Saving counter. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "stats_internal.h"

/* ---- SHist ---- */

#define SH_MIN_B (-2048)
#define SH_MAX_B 2047
#define SH_PER_OCTAVE 64

static double sh_value(int b) { return exp2((b + 0.5) / SH_PER_OCTAVE); }

static int sh_grow(SHist *h, int side, int b)
{
    int lo = h->lo[side], len = h->len[side];
    int nlo, nhi;
    if (!len) {
        nlo = b - 32;
        nhi = b + 32;
    } else {
        int hi = lo + len - 1;
        int want = len * 2;
        nlo = b < lo ? b - want / 2 : lo;
        nhi = b > hi ? b + want / 2 : hi;
    }
    if (nlo < SH_MIN_B)
        nlo = SH_MIN_B;
    if (nhi > SH_MAX_B)
        nhi = SH_MAX_B;
    int nlen = nhi - nlo + 1;
    uint32_t *c = calloc((size_t)nlen, sizeof(*c));
    if (!c)
        return AIE_ENOMEM;
    if (len)
        memcpy(c + (lo - nlo), h->c[side], (size_t)len * sizeof(*c));
    free(h->c[side]);
    h->c[side] = c;
    h->lo[side] = nlo;
    h->len[side] = nlen;
    return 0;
}

int aie_shist_add(SHist *h, double x)
{
    if (!isfinite(x))
        return 0;
    if (!h->n || x < h->min)
        h->min = x;
    if (!h->n || x > h->max)
        h->max = x;
    h->n++;
    h->sum += x;
    double a = fabs(x);
    if (a < 0x1p-32) {
        h->zero++;
        return 0;
    }
    int side = x < 0;
    double l = floor(SH_PER_OCTAVE * log2(a));
    int b = l < SH_MIN_B ? SH_MIN_B : l > SH_MAX_B ? SH_MAX_B : (int)l;
    if (b < h->lo[side] || b >= h->lo[side] + h->len[side] || !h->len[side]) {
        int err = sh_grow(h, side, b);
        if (err) {
            h->n--;
            h->sum -= x;
            return err;
        }
    }
    uint32_t *cnt = &h->c[side][b - h->lo[side]];
    if (*cnt < UINT32_MAX)
        (*cnt)++;
    return 0;
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

double aie_shist_quantile(const SHist *h, double q)
{
    if (!h->n)
        return 0;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    uint64_t rank = (uint64_t)ceil(q * (double)h->n);
    if (rank <= 1)
        return h->min; /* the extremes are known exactly */
    if (rank >= h->n)
        return h->max;
    uint64_t seen = 0;
    for (int i = h->len[1] - 1; i >= 0; i--) {
        seen += h->c[1][i];
        if (seen >= rank)
            return clampd(-sh_value(h->lo[1] + i), h->min, h->max);
    }
    seen += h->zero;
    if (seen >= rank)
        return clampd(0, h->min, h->max);
    for (int i = 0; i < h->len[0]; i++) {
        seen += h->c[0][i];
        if (seen >= rank)
            return clampd(sh_value(h->lo[0] + i), h->min, h->max);
    }
    return h->max;
}

typedef struct Dev {
    double d;
    uint64_t n;
} Dev;

static int dev_cmp(const void *a, const void *b)
{
    double x = ((const Dev *)a)->d, y = ((const Dev *)b)->d;
    return x < y ? -1 : x > y;
}

double aie_shist_mad(const SHist *h, double center)
{
    if (!h->n)
        return 0;
    size_t cap = (size_t)h->len[0] + (size_t)h->len[1] + 1, k = 0;
    Dev *d = malloc(cap * sizeof(*d));
    if (!d)
        return NAN;
    for (int side = 0; side < 2; side++)
        for (int i = 0; i < h->len[side]; i++)
            if (h->c[side][i]) {
                double v = clampd(sh_value(h->lo[side] + i) * (side ? -1 : 1), h->min, h->max);
                d[k++] = (Dev){fabs(v - center), h->c[side][i]};
            }
    if (h->zero)
        d[k++] = (Dev){fabs(center), h->zero};
    qsort(d, k, sizeof(*d), dev_cmp);
    uint64_t total = 0;
    for (size_t i = 0; i < k; i++)
        total += d[i].n;
    uint64_t rank = (total + 1) / 2, seen = 0;
    double mad = 0;
    for (size_t i = 0; i < k; i++) {
        seen += d[i].n;
        if (seen >= rank) {
            mad = d[i].d;
            break;
        }
    }
    free(d);
    return mad;
}

void aie_shist_free(SHist *h)
{
    free(h->c[0]);
    free(h->c[1]);
    memset(h, 0, sizeof(*h));
}

size_t aie_shist_bytes(const SHist *h)
{
    return ((size_t)h->len[0] + (size_t)h->len[1]) * sizeof(uint32_t);
}

/* ---- TSeries ---- */

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) != 0 && ((a < 0) != (b < 0)))
        q--;
    return q;
}

void aie_ts_init(TSeries *t, int64_t base_w)
{
    memset(t, 0, sizeof(*t));
    t->base_w = t->w = base_w > 0 ? base_w : 1;
}

void aie_ts_add(TSeries *t, int64_t tms, const double *vals, int nvals)
{
    int64_t i = floordiv(tms, t->w);
    if (!t->used) {
        t->used = 1;
        t->first = t->min_i = t->max_i = i;
    } else if (i < t->first || i >= t->first + TS_BINS) {
        int64_t lo = i < t->min_i ? i : t->min_i, hi = i > t->max_i ? i : t->max_i;
        int shift = 0;
        while (shift < 62 && floordiv(hi, (int64_t)1 << shift) - floordiv(lo, (int64_t)1 << shift) + 1 > TS_BINS)
            shift++;
        int64_t f = (int64_t)1 << shift;
        int64_t nlo = floordiv(lo, f), nhi = floordiv(hi, f);
        /* leave the free room on the side the new point came from */
        int64_t nfirst = i > t->max_i ? nlo : nhi - TS_BINS + 1;
        if (nfirst > nlo)
            nfirst = nlo;
        if (nfirst + TS_BINS - 1 < nhi)
            nfirst = nhi - TS_BINS + 1;
        double old[TS_BINS][TS_VALS];
        memcpy(old, t->v, sizeof(old));
        memset(t->v, 0, sizeof(t->v));
        for (int b = 0; b < TS_BINS; b++) {
            int64_t a = t->first + b;
            if (a < t->min_i || a > t->max_i)
                continue;
            int64_t nb = floordiv(a, f) - nfirst;
            for (int k = 0; k < TS_VALS; k++)
                t->v[nb][k] += old[b][k];
        }
        t->w *= f;
        t->first = nfirst;
        t->min_i = floordiv(t->min_i, f);
        t->max_i = floordiv(t->max_i, f);
        i = floordiv(tms, t->w);
    }
    if (i < t->min_i)
        t->min_i = i;
    if (i > t->max_i)
        t->max_i = i;
    for (int k = 0; k < nvals && k < TS_VALS; k++)
        t->v[i - t->first][k] += vals[k];
}

/* ---- TopN: a min-heap on key holding the cap largest ---- */

int aie_topn_accepts(const TopN *t, double key)
{
    if (t->cap <= 0)
        return 0;
    return t->n < t->cap || key > t->items[0].key;
}

static void sift_down(TopN *t, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && t->items[l].key < t->items[m].key)
            m = l;
        if (r < t->n && t->items[r].key < t->items[m].key)
            m = r;
        if (m == i)
            return;
        TopItem tmp = t->items[i];
        t->items[i] = t->items[m];
        t->items[m] = tmp;
        i = m;
    }
}

int aie_topn_offer(TopN *t, const TopItem *it)
{
    if (!aie_topn_accepts(t, it->key))
        return 0;
    if (!t->items && !(t->items = malloc((size_t)t->cap * sizeof(*t->items))))
        return AIE_ENOMEM;
    if (t->n < t->cap) {
        int i = t->n++;
        t->items[i] = *it;
        while (i > 0) {
            int p = (i - 1) / 2;
            if (t->items[p].key <= t->items[i].key)
                break;
            TopItem tmp = t->items[p];
            t->items[p] = t->items[i];
            t->items[i] = tmp;
            i = p;
        }
        return 0;
    }
    t->items[0] = *it;
    sift_down(t, 0);
    return 0;
}

static int item_cmp(const void *a, const void *b)
{
    const TopItem *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    if (x->ts_ms != y->ts_ms)
        return x->ts_ms > y->ts_ms ? -1 : 1;
    return strcmp(x->run_id, y->run_id);
}

void aie_topn_sort(TopN *t)
{
    if (t->n > 1)
        qsort(t->items, (size_t)t->n, sizeof(*t->items), item_cmp);
}

void aie_topn_free(TopN *t)
{
    free(t->items);
    t->items = NULL;
    t->n = 0;
}

/* ---- Space-Saving ---- */

int aie_ss_add(SpaceSaving *s, const char *msg)
{
    if (!s->e && !(s->e = calloc(SS_CAP, sizeof(*s->e))))
        return AIE_ENOMEM;
    s->total++;
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->e[i].msg, msg)) {
            s->e[i].count++;
            return 0;
        }
    SSEntry *slot;
    if (s->n < SS_CAP) {
        slot = &s->e[s->n++];
        slot->count = 1;
        slot->over = 0;
    } else {
        slot = &s->e[0];
        for (int i = 1; i < s->n; i++)
            if (s->e[i].count < slot->count)
                slot = &s->e[i];
        slot->over = slot->count;
        slot->count++;
    }
    snprintf(slot->msg, sizeof(slot->msg), "%s", msg);
    return 0;
}

static int ss_cmp(const void *a, const void *b)
{
    const SSEntry *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->msg, y->msg);
}

void aie_ss_sort(SpaceSaving *s)
{
    if (s->n > 1)
        qsort(s->e, (size_t)s->n, sizeof(*s->e), ss_cmp);
}

void aie_ss_free(SpaceSaving *s)
{
    free(s->e);
    s->e = NULL;
    s->n = 0;
}
