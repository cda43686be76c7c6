/*
 * Streaming aggregation of metrics records: lines -> records (scan.c, with the
 * json-c fallback) -> groups (--by), speed classes, open runs. Nothing per
 * record is kept: every figure is a sum, a bounded histogram, a bounded heap
 * or a bounded time series (stats_internal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aie/error.h"
#include "stats_internal.h"

const char *const aie_stats_key_names[8] = {"tool", "method", "model", "host", "res", "batch", "day", "tag"};

#define COUNT(s, f, k) ((s)->c.f += (k), (s)->logc.f += (k))
#define READ_CHUNK (4 << 20)
#define DAY_MS 86400000LL
#define FNV0 14695981039346656037ull

/* ---- keys and filters ---- */

int aie_stats_key_parse(KeySpec *k, const char *s)
{
    memset(k, 0, sizeof(*k));
    if (!strncmp(s, "tag:", 4)) {
        size_t n = strlen(s + 4);
        if (!n || n > REC_MAX_KEY)
            return AIE_EINVAL;
        k->kind = KEY_TAG;
        memcpy(k->tag, s + 4, n + 1);
        snprintf(k->name, sizeof(k->name), "tag:%s", k->tag);
        return 0;
    }
    for (int i = 0; i < KEY_TAG; i++)
        if (!strcmp(s, aie_stats_key_names[i])) {
            k->kind = i;
            snprintf(k->name, sizeof(k->name), "%s", s);
            return 0;
        }
    return AIE_EINVAL;
}

int aie_stats_key_valid(const char *key)
{
    KeySpec k;
    return key && aie_stats_key_parse(&k, key) == 0;
}

static RStr lit(const char *s) { return (RStr){s, (uint32_t)strlen(s)}; }

/* sums of values from the log saturate instead of overflowing */
static void sat_add(int64_t *acc, int64_t v)
{
    if (v > 0 && *acc > INT64_MAX - v)
        *acc = INT64_MAX;
    else if (v < 0 && *acc < INT64_MIN - v)
        *acc = INT64_MIN;
    else
        *acc += v;
}

static int64_t day_of(int64_t ms) { return ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS); }

/* The value of key k in record r ("-" when the record does not say). */
static RStr key_value(AieStats *s, const StatsRec *r, const KeySpec *k, char *tmp, size_t tn)
{
    RStr v = {NULL, 0};
    switch (k->kind) {
    case KEY_TOOL: v = REC_HAS(r, F_TOOL) ? r->tool : v; break;
    case KEY_METHOD: v = REC_HAS(r, F_METHOD) ? r->method : v; break;
    case KEY_MODEL: v = REC_HAS(r, F_MODEL) ? r->model : v; break;
    case KEY_HOST: v = REC_HAS(r, F_HOST) ? r->host : v; break;
    case KEY_BATCH: v = REC_HAS(r, F_BATCH_ID) ? r->batch_id : v; break;
    case KEY_RES:
        if (REC_HAS(r, F_INPUT) && (r->input.has & 6) == 6 && r->input.width > 0 && r->input.height > 0) {
            int len = snprintf(tmp, tn, "%lldx%lld", (long long)r->input.width, (long long)r->input.height);
            v = (RStr){tmp, (uint32_t)(len < (int)tn ? len : (int)tn - 1)};
        }
        break;
    case KEY_DAY: {
        int64_t day = day_of(r->ts_ms);
        if (day != s->last_day || !s->last_day_str[0]) {
            aie_stats_format_day(s->last_day_str, r->ts_ms);
            s->last_day = day;
        }
        v = lit(s->last_day_str);
        break;
    }
    case KEY_TAG:
        for (int i = 0; i < r->ntags; i++)
            if (aie_rstr_eq(r->tag_key[i], k->tag)) {
                v = r->tag_val[i];
                break;
            }
        break;
    }
    if (!v.p || !v.n)
        v = lit("-");
    return v;
}

static int where_match(AieStats *s, const StatsRec *r)
{
    for (int i = 0; i < s->nwhere; i++) {
        char tmp[48];
        RStr v = key_value(s, r, &s->where[i].key, tmp, sizeof(tmp));
        if (aie_rstr_eq(v, s->where[i].value) == s->where[i].negate)
            return 0;
    }
    return 1;
}

/* ---- an index of owned key strings (open addressing) ---- */

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static int index_find(const int32_t *tab, int cap, char *const *keys, const char *key, size_t n,
                      uint64_t h, size_t *slot)
{
    if (!cap) {
        *slot = 0;
        return -1;
    }
    size_t mask = (size_t)cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        if (tab[i] < 0) {
            *slot = i;
            return -1;
        }
        const char *k = keys[tab[i]];
        if (!strncmp(k, key, n) && !k[n])
            return tab[i];
    }
}

/* Make room for `need` keys (load <= 1/2), rehashing keys[0..nkeys). */
static int index_reserve(int32_t **tab, int *cap, int need, char *const *keys, int nkeys)
{
    if (need * 2 <= *cap)
        return 0;
    int ncap = *cap ? *cap * 2 : 64;
    while (need * 2 > ncap)
        ncap *= 2;
    int32_t *t = malloc((size_t)ncap * sizeof(*t));
    if (!t)
        return AIE_ENOMEM;
    for (int i = 0; i < ncap; i++)
        t[i] = -1;
    for (int k = 0; k < nkeys; k++) {
        if (!keys[k])
            continue;
        size_t mask = (size_t)ncap - 1, i = fnv(keys[k], strlen(keys[k]), FNV0) & mask;
        while (t[i] >= 0)
            i = (i + 1) & mask;
        t[i] = k;
    }
    free(*tab);
    *tab = t;
    *cap = ncap;
    return 0;
}

static int grow_ptrs(void ***a, char ***keys, int *cap, int n)
{
    if (n < *cap)
        return 0;
    int ncap = *cap ? *cap * 2 : 16;
    void **na = realloc(*a, (size_t)ncap * sizeof(*na));
    if (!na)
        return AIE_ENOMEM;
    *a = na;
    char **nk = realloc(*keys, (size_t)ncap * sizeof(*nk));
    if (!nk)
        return AIE_ENOMEM;
    *keys = nk;
    *cap = ncap;
    return 0;
}

/* ---- groups ---- */

static void group_free(Group *g)
{
    if (!g)
        return;
    free(g->key);
    for (int i = 0; i < AIE_STATS_MAX_BY; i++)
        free(g->val[i]);
    aie_shist_free(&g->queue_hist);
    aie_shist_free(&g->run_fps);
    free(g->frame_hist);
    for (int i = 0; i < g->nq; i++) {
        aie_shist_free(&g->q[i].h);
        aie_topn_free(&g->q[i].low);
        aie_topn_free(&g->q[i].high);
    }
    free(g->q);
    aie_ss_free(&g->errors);
    aie_topn_free(&g->slowest);
    aie_topn_free(&g->failures);
    aie_topn_free(&g->open_list);
    free(g->ts);
    free(g);
}

static int group_new(AieStats *s, const char *key, size_t keylen, const RStr *vals, int other, int *out)
{
    Group *g = calloc(1, sizeof(*g));
    if (!g || grow_ptrs((void ***)&s->groups, &s->gkeys, &s->groups_cap, s->ngroups))
        goto nomem;
    if (!(g->key = malloc(keylen + 1)))
        goto nomem;
    memcpy(g->key, key, keylen);
    g->key[keylen] = 0;
    for (int i = 0; i < s->nby; i++) {
        RStr v = other ? lit("(other)") : vals[i];
        if (!(g->val[i] = malloc(v.n + 1)))
            goto nomem;
        memcpy(g->val[i], v.p, v.n);
        g->val[i][v.n] = 0;
    }
    g->other = other;
    g->slowest.cap = g->failures.cap = g->open_list.cap = s->top;
    g->first_ts = INT64_MAX;
    g->last_ts = INT64_MIN;
    s->groups[s->ngroups] = g;
    s->gkeys[s->ngroups] = other ? NULL : g->key;
    *out = s->ngroups++;
    return 0;
nomem:
    group_free(g);
    return AIE_ENOMEM;
}

/* The group of a record, created on first sight; the overflow group once
 * AIE_STATS_MAX_GROUPS exist. */
static int group_of(AieStats *s, const StatsRec *r, int *out)
{
    char key[AIE_STATS_MAX_BY * 257 + 8];
    char tmp[AIE_STATS_MAX_BY][48];
    RStr vals[AIE_STATS_MAX_BY];
    size_t n = 0;
    for (int i = 0; i < s->nby; i++) {
        vals[i] = key_value(s, r, &s->by[i], tmp[i], sizeof(tmp[i]));
        if (vals[i].n > 256)
            vals[i].n = 256;
        if (i)
            key[n++] = '\x1f';
        for (uint32_t j = 0; j < vals[i].n; j++) {
            char c = vals[i].p[j];
            key[n++] = c == '\x1f' || c == 0 ? '?' : c;
        }
    }
    key[n] = 0;
    uint64_t h = fnv(key, n, FNV0);
    size_t slot;
    int gi = index_find(s->ghash, s->ghash_cap, s->gkeys, key, n, h, &slot);
    if (gi >= 0) {
        *out = gi;
        return 0;
    }
    int err;
    if (s->ngroups - (s->other_group >= 0) >= AIE_STATS_MAX_GROUPS) {
        COUNT(s, groups_overflow, 1);
        if (s->other_group < 0 && (err = group_new(s, "(other)", 7, NULL, 1, &s->other_group)))
            return err;
        *out = s->other_group;
        return 0;
    }
    if ((err = index_reserve(&s->ghash, &s->ghash_cap, s->ngroups + 1, s->gkeys, s->ngroups)))
        return err;
    index_find(s->ghash, s->ghash_cap, s->gkeys, key, n, h, &slot);
    if ((err = group_new(s, key, n, vals, 0, &gi)))
        return err;
    s->ghash[slot] = gi;
    *out = gi;
    return 0;
}

/* ---- speed classes: tool, method, model, input resolution ---- */

static void class_free(Class *c)
{
    if (!c)
        return;
    free(c->key);
    aie_shist_free(&c->spf);
    free(c->frame_hist);
    aie_topn_free(&c->slowest);
    aie_topn_free(&c->tail);
    free(c->ts);
    for (int i = 0; i < c->nq; i++) {
        aie_shist_free(&c->q[i].h);
        aie_topn_free(&c->q[i].low);
        aie_topn_free(&c->q[i].high);
    }
    free(c->q);
    free(c);
}

static void rstr_copy(char *dst, size_t n, RStr s, const char *dflt)
{
    if (!s.p || !s.n) {
        snprintf(dst, n, "%s", dflt);
        return;
    }
    size_t k = s.n < n - 1 ? s.n : n - 1;
    memcpy(dst, s.p, k);
    dst[k] = 0;
}

/* decimal digits of v >= 0 at p; returns the end */
static char *put_uint(char *p, int64_t v)
{
    char t[24];
    int n = 0;
    if (v < 0)
        v = 0;
    do
        t[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < 20);
    while (n)
        *p++ = t[--n];
    return p;
}

static int class_of(AieStats *s, const StatsRec *r, Class **out)
{
    *out = NULL;
    char tool[64], method[64], model[64], res[48], key[256];
    rstr_copy(tool, sizeof(tool), REC_HAS(r, F_TOOL) ? r->tool : (RStr){0}, "-");
    rstr_copy(method, sizeof(method), REC_HAS(r, F_METHOD) ? r->method : (RStr){0}, "-");
    rstr_copy(model, sizeof(model), REC_HAS(r, F_MODEL) ? r->model : (RStr){0}, "-");
    if (REC_HAS(r, F_INPUT) && (r->input.has & 6) == 6) {
        char *p = put_uint(res, r->input.width);
        *p++ = 'x';
        *put_uint(p, r->input.height) = 0;
    } else {
        res[0] = '-';
        res[1] = 0;
    }
    size_t n = 0;
    const char *parts[4] = {tool, method, model, res};
    for (int i = 0; i < 4; i++) {
        size_t l = strlen(parts[i]);
        if (i)
            key[n++] = '\x1f';
        memcpy(key + n, parts[i], l);
        n += l;
    }
    key[n] = 0;
    uint64_t h = fnv(key, n, FNV0);
    size_t slot;
    int ci = index_find(s->chash, s->chash_cap, s->ckeys, key, n, h, &slot);
    if (ci >= 0) {
        *out = s->classes[ci];
        return 0;
    }
    if (s->nclasses >= AIE_STATS_MAX_CLASSES)
        return 0;
    int err;
    if ((err = index_reserve(&s->chash, &s->chash_cap, s->nclasses + 1, s->ckeys, s->nclasses)))
        return err;
    index_find(s->chash, s->chash_cap, s->ckeys, key, n, h, &slot);
    Class *c = calloc(1, sizeof(*c));
    if (!c || grow_ptrs((void ***)&s->classes, &s->ckeys, &s->classes_cap, s->nclasses) ||
        !(c->key = strdup(key)) || !(c->ts = malloc(sizeof(*c->ts)))) {
        class_free(c);
        return AIE_ENOMEM;
    }
    aie_ts_init(c->ts, 60000);
    snprintf(c->tool, sizeof(c->tool), "%s", tool);
    snprintf(c->method, sizeof(c->method), "%s", method);
    snprintf(c->model, sizeof(c->model), "%s", model);
    snprintf(c->res, sizeof(c->res), "%s", res);
    if (strcmp(model, "-"))
        snprintf(c->label, sizeof(c->label), "%s %s %s %s", tool, method, model, res);
    else
        snprintf(c->label, sizeof(c->label), "%s %s %s", tool, method, res);
    c->slowest.cap = s->top;
    c->tail.cap = s->top;
    s->classes[s->nclasses] = c;
    s->ckeys[s->nclasses] = c->key;
    s->chash[slot] = s->nclasses++;
    *out = c;
    return 0;
}

/* ---- open runs: a hash of run ids with an LRU list, capped ---- */

/* lowercase hex digit values, 16 for anything else */
#define H16(x) 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16
static const uint8_t hexval[256] = {
    H16(0), H16(1), H16(2), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 16, 16, 16, 16, 16,
    H16(4), H16(5), 16, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    H16(7), H16(8), H16(9), H16(10), H16(11), H16(12), H16(13), H16(14), H16(15),
};

static void run_id_bytes(RStr id, uint8_t out[16])
{
    if (id.n == 32) {
        unsigned bad = 0;
        for (int i = 0; i < 16; i++) {
            unsigned hi = hexval[(unsigned char)id.p[2 * i]], lo = hexval[(unsigned char)id.p[2 * i + 1]];
            bad |= hi | lo;
            out[i] = (uint8_t)(hi << 4 | (lo & 15));
        }
        if (!(bad & 16))
            return;
    }
    uint64_t h1 = fnv(id.p, id.n, FNV0), h2 = fnv(id.p, id.n, 0x84222325cbf29ce4ull);
    memcpy(out, &h1, 8);
    memcpy(out + 8, &h2, 8);
}

static size_t run_hash(const uint8_t id[16], int cap)
{
    uint64_t h;
    memcpy(&h, id, 8);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (size_t)h & ((size_t)cap - 1);
}

static int32_t run_find(const AieStats *s, const uint8_t id[16])
{
    if (!s->rhash_cap)
        return -1;
    for (int32_t i = s->rhash[run_hash(id, s->rhash_cap)]; i >= 0; i = s->runs[i].hnext)
        if (!memcmp(s->runs[i].id, id, 16))
            return i;
    return -1;
}

static void lru_unlink(AieStats *s, int32_t i)
{
    OpenRun *o = &s->runs[i];
    if (o->prev >= 0)
        s->runs[o->prev].next = o->next;
    else
        s->lru_head = o->next;
    if (o->next >= 0)
        s->runs[o->next].prev = o->prev;
    else
        s->lru_tail = o->prev;
    o->prev = o->next = -1;
}

static void lru_front(AieStats *s, int32_t i)
{
    OpenRun *o = &s->runs[i];
    o->prev = -1;
    o->next = s->lru_head;
    if (s->lru_head >= 0)
        s->runs[s->lru_head].prev = i;
    s->lru_head = i;
    if (s->lru_tail < 0)
        s->lru_tail = i;
}

static void run_remove(AieStats *s, int32_t i)
{
    OpenRun *o = &s->runs[i];
    int32_t *pp = &s->rhash[run_hash(o->id, s->rhash_cap)];
    while (*pp != i)
        pp = &s->runs[*pp].hnext;
    *pp = o->hnext;
    lru_unlink(s, i);
    o->live = 0;
    o->hnext = s->free_run;
    s->free_run = i;
    s->nruns--;
}

static int runs_grow(AieStats *s)
{
    int ncap = s->runs_cap ? s->runs_cap * 2 : 1024;
    if (ncap > s->max_open)
        ncap = s->max_open;
    OpenRun *nr = realloc(s->runs, (size_t)ncap * sizeof(*nr));
    if (!nr)
        return AIE_ENOMEM;
    s->runs = nr;
    int hcap = 1;
    while (hcap < ncap)
        hcap *= 2;
    if (hcap != s->rhash_cap) {
        int32_t *h = malloc((size_t)hcap * sizeof(*h));
        if (!h)
            return AIE_ENOMEM;
        for (int i = 0; i < hcap; i++)
            h[i] = -1;
        for (int i = 0; i < s->runs_hw; i++) {
            if (!s->runs[i].live)
                continue;
            size_t b = run_hash(s->runs[i].id, hcap);
            s->runs[i].hnext = h[b];
            h[b] = i;
        }
        free(s->rhash);
        s->rhash = h;
        s->rhash_cap = hcap;
    }
    s->runs_cap = ncap;
    return 0;
}

/* A new open run; forgets the least recently updated one when full. */
static int run_insert(AieStats *s, const uint8_t id[16], int32_t *out)
{
    int32_t i;
    if (s->free_run >= 0) {
        i = s->free_run;
        s->free_run = s->runs[i].hnext;
    } else if (s->runs_hw < s->runs_cap) {
        i = s->runs_hw++;
    } else if (s->runs_cap < s->max_open) {
        int err = runs_grow(s);
        if (err)
            return err;
        i = s->runs_hw++;
    } else {
        COUNT(s, runs_forgotten, 1);
        run_remove(s, s->lru_tail);
        i = s->free_run;
        s->free_run = s->runs[i].hnext;
    }
    OpenRun *o = &s->runs[i];
    memset(o, 0, sizeof(*o));
    memcpy(o->id, id, 16);
    o->live = 1;
    size_t b = run_hash(id, s->rhash_cap);
    o->hnext = s->rhash[b];
    s->rhash[b] = i;
    lru_front(s, i);
    s->nruns++;
    *out = i;
    return 0;
}

static void run_note(OpenRun *o, const StatsRec *r)
{
    if (r->ts_ms > o->last_ts)
        o->last_ts = r->ts_ms;
    if (REC_HAS(r, F_PID))
        o->pid = r->pid;
    if (REC_HAS(r, F_HOST) && !o->host[0])
        rstr_copy(o->host, sizeof(o->host), r->host, "");
    if (REC_HAS(r, F_INPUT) && (r->input.has & 1) && !o->input[0])
        rstr_copy(o->input, sizeof(o->input), r->input.name, "");
    if (REC_HAS(r, F_FRAMES_DONE))
        o->frames_done = r->frames_done;
    if (REC_HAS(r, F_FRAMES_TOTAL))
        o->frames_total = r->frames_total;
}

/* ---- run_end ---- */

static void hist_merge_rec(AieHist **hp, const StatsRec *r, int *err)
{
    if (!r->nhist)
        return;
    if (!*hp && !(*hp = calloc(1, sizeof(**hp)))) {
        *err = AIE_ENOMEM;
        return;
    }
    AieHist *h = *hp;
    for (int k = 0; k < r->nhist; k++) {
        /* counts are 32-bit per bucket: saturate, and keep the total in step */
        uint32_t *cnt = &h->count[r->hist_i[k]];
        uint64_t add = (uint64_t)r->hist_n[k], room = UINT32_MAX - *cnt;
        if (add > room)
            add = room;
        *cnt += (uint32_t)add;
        h->total += add;
    }
}

/* The run's own p99 frame time in ms, from its histogram (-1 if unsorted/empty). */
static double run_p99_ms(const StatsRec *r)
{
    uint64_t total = 0;
    for (int k = 0; k < r->nhist; k++) {
        if (k && r->hist_i[k] <= r->hist_i[k - 1])
            return -1;
        total += (uint64_t)r->hist_n[k];
    }
    if (!total)
        return -1;
    uint64_t rank = (uint64_t)ceil(0.99 * (double)total), seen = 0;
    if (rank < 1)
        rank = 1;
    for (int k = 0; k < r->nhist; k++) {
        seen += (uint64_t)r->hist_n[k];
        if (seen >= rank)
            return aie_hist_bucket_value(r->hist_i[k]) / 1000.0;
    }
    return -1;
}

static void item_from(TopItem *it, const StatsRec *r)
{
    memset(it, 0, sizeof(*it));
    it->ts_ms = r->ts_ms;
    rstr_copy(it->run_id, sizeof(it->run_id), REC_HAS(r, F_RUN_ID) ? r->run_id : (RStr){0}, "");
    rstr_copy(it->host, sizeof(it->host), REC_HAS(r, F_HOST) ? r->host : (RStr){0}, "-");
    rstr_copy(it->input, sizeof(it->input),
              REC_HAS(r, F_INPUT) && (r->input.has & 1) ? r->input.name : (RStr){0}, "-");
}

/* An error line with the input/output names and numbers taken out, so the
 * same failure on different files counts as one message. */
static void normalise_error(const StatsRec *r, char *out, size_t n)
{
    char raw[400];
    if (REC_HAS(r, F_ERROR) && r->error.p)
        rstr_copy(raw, sizeof(raw), r->error, "");
    else
        snprintf(raw, sizeof(raw), "(no message)");
    const char *p = raw;
    size_t o = 0;
    const RStream *names[2] = {&r->input, &r->output};
    const char *tags[2] = {"INPUT", "OUTPUT"};
    for (int k = 0; k < 2; k++) {
        if (!(names[k]->has & 1) || !names[k]->name.n)
            continue;
        size_t ln = names[k]->name.n;
        if (strlen(p) > ln && !memcmp(p, names[k]->name.p, ln) && p[ln] == ':') {
            o = (size_t)snprintf(out, n, "%s", tags[k]);
            p += ln;
            break;
        }
    }
    for (; *p && o + 1 < n; p++) {
        if (*p >= '0' && *p <= '9') {
            while (p[1] >= '0' && p[1] <= '9')
                p++;
            out[o++] = 'N';
        } else {
            out[o++] = *p == '\n' || *p == '\t' ? ' ' : *p;
        }
    }
    out[o] = 0;
}

/* The accumulator's own members (S_min, S_max, S_frames, S_hist_bin,
 * S_identical, S_cost_ms, written beside every score S with its S_frames) are
 * not scores. Returns the suffix's index (4: identical) and the base length, or
 * -1 for a score. */
static int quality_internal(const StatsRec *r, RStr k, size_t *base)
{
    static const char *const suf[] = {"_min", "_max", "_frames", "_hist_bin", "_identical", "_cost_ms"};
    for (int i = 0; i < 6; i++) {
        size_t sl = strlen(suf[i]);
        if (k.n <= sl || memcmp(k.p + k.n - sl, suf[i], sl))
            continue;
        size_t b = k.n - sl;
        for (int j = 0; j < r->nquality; j++)
            if (r->q_name[j].n == b + 7 && !memcmp(r->q_name[j].p, k.p, b) &&
                !memcmp(r->q_name[j].p + b, "_frames", 7)) {
                *base = b;
                return i;
            }
    }
    return -1;
}

static int quality_add(AieStats *s, QualStat **qs, int *nqs, int heaps, const StatsRec *r)
{
    for (int k = 0; k < r->nquality; k++) {
        size_t base = 0;
        int internal = quality_internal(r, r->q_name[k], &base);
        if ((internal >= 0 && internal != 4) || !isfinite(r->q_val[k]))
            continue;
        char name[REC_MAX_KEY + 1];
        RStr nm = r->q_name[k];
        if (internal == 4)
            nm.n = (uint32_t)base;
        rstr_copy(name, sizeof(name), nm, "");
        if (!name[0])
            continue;
        QualStat *q = NULL;
        for (int i = 0; i < *nqs; i++)
            if (!strcmp((*qs)[i].name, name))
                q = &(*qs)[i];
        if (!q) {
            if (*nqs >= MAX_QUALITY)
                continue;
            QualStat *nq = realloc(*qs, (size_t)(*nqs + 1) * sizeof(*nq));
            if (!nq)
                return AIE_ENOMEM;
            *qs = nq;
            q = &nq[(*nqs)++];
            memset(q, 0, sizeof(*q));
            snprintf(q->name, sizeof(q->name), "%s", name);
            q->low.cap = q->high.cap = heaps ? (s->top > 10 ? s->top : 10) : 0;
        }
        if (internal == 4) {
            if (r->q_val[k] > 0)
                q->identical += (int64_t)r->q_val[k];
            continue;
        }
        int err = aie_shist_add(&q->h, r->q_val[k]);
        double x = r->q_val[k];
        TopItem it;
        if (!err && (aie_topn_accepts(&q->low, -x) || aie_topn_accepts(&q->high, x))) {
            item_from(&it, r);
            it.a = x;
            it.key = -x;
            if (!(err = aie_topn_offer(&q->low, &it))) {
                it.key = x;
                err = aie_topn_offer(&q->high, &it);
            }
        }
        if (err)
            return err;
    }
    return 0;
}

static int host_add(AieStats *s, RStr host)
{
    uint64_t h = fnv(host.p, host.n, FNV0);
    for (int i = 0; i < s->nhosts; i++)
        if (s->hosts[i] == h)
            return 0;
    if (s->nhosts >= 4096)
        return 0;
    if (s->nhosts == s->hosts_cap) {
        int ncap = s->hosts_cap ? s->hosts_cap * 2 : 16;
        uint64_t *nh = realloc(s->hosts, (size_t)ncap * sizeof(*nh));
        if (!nh)
            return AIE_ENOMEM;
        s->hosts = nh;
        s->hosts_cap = ncap;
    }
    s->hosts[s->nhosts++] = h;
    return 0;
}

static int class_run(AieStats *s, const StatsRec *r, double fps)
{
    Class *c;
    int err = class_of(s, r, &c);
    if (err || !c)
        return err;
    c->runs++;
    sat_add(&c->frames, r->frames_in);
    double spf = (double)r->wall_ms / 1000.0 / (double)r->frames_in;
    if ((err = aie_shist_add(&c->spf, spf)))
        return err;
    TopItem it;
    if (aie_topn_accepts(&c->slowest, spf)) {
        item_from(&it, r);
        it.key = spf;
        it.a = fps;
        it.b = (double)r->wall_ms / 1000.0;
        if ((err = aie_topn_offer(&c->slowest, &it)))
            return err;
    }
    double p99 = run_p99_ms(r);
    if (p99 > 0 && aie_topn_accepts(&c->tail, p99)) {
        item_from(&it, r);
        it.key = p99;
        it.a = fps;
        if ((err = aie_topn_offer(&c->tail, &it)))
            return err;
    }
    double v[4] = {1, log(fps), (double)r->frames_in, (double)r->wall_ms};
    aie_ts_add(c->ts, r->ts_ms, v, 4);
    hist_merge_rec(&c->frame_hist, r, &err);
    if (REC_HAS(r, F_VERSION)) {
        if (!c->first_version[0] || r->ts_ms < c->first_version_ts) {
            rstr_copy(c->first_version, sizeof(c->first_version), r->version, "");
            c->first_version_ts = r->ts_ms;
        }
        if (!c->last_version[0] || r->ts_ms >= c->last_version_ts) {
            rstr_copy(c->last_version, sizeof(c->last_version), r->version, "");
            c->last_version_ts = r->ts_ms;
        }
    }
    return err;
}

static int run_end(AieStats *s, Group *g, const StatsRec *r)
{
    int err = 0;
    g->runs++;
    int ok = REC_HAS(r, F_STATUS) && aie_rstr_eq(r->status, "ok");
    int failed = REC_HAS(r, F_STATUS) && aie_rstr_eq(r->status, "failed");
    int cancelled = REC_HAS(r, F_STATUS) && aie_rstr_eq(r->status, "cancelled");
    if (REC_HAS(r, F_DROPPED) && r->dropped > 0)
        sat_add(&g->dropped_records, r->dropped);
    if (REC_HAS(r, F_MAXRSS) && r->maxrss_kb > 0) {
        if (r->maxrss_kb > g->peak_rss_kb) {
            g->peak_rss_kb = r->maxrss_kb;
            g->peak_mem_total_kb = REC_HAS(r, F_MEM_TOTAL) ? r->mem_total_kb : 0;
            rstr_copy(g->peak_input, sizeof(g->peak_input),
                      REC_HAS(r, F_INPUT) && (r->input.has & 1) ? r->input.name : (RStr){0}, "-");
        }
        if (REC_HAS(r, F_MEM_TOTAL) && r->mem_total_kb > 0) {
            double ratio = (double)r->maxrss_kb / (double)r->mem_total_kb;
            if (ratio > g->peak_ratio)
                g->peak_ratio = ratio;
        }
    }
    TopItem it;
    if (!ok) {
        if (failed) {
            g->failed++;
            char msg[160];
            normalise_error(r, msg, sizeof(msg));
            if ((err = aie_ss_add(&g->errors, msg)))
                return err;
            if (aie_topn_accepts(&g->failures, (double)r->ts_ms)) {
                item_from(&it, r);
                it.key = (double)r->ts_ms;
                if (REC_HAS(r, F_ERROR) && r->error.p)
                    rstr_copy(it.text, sizeof(it.text), r->error, "");
                else
                    snprintf(it.text, sizeof(it.text), "(no message)");
                if ((err = aie_topn_offer(&g->failures, &it)))
                    return err;
            }
        } else if (cancelled) {
            g->cancelled++;
        } else {
            g->other_status++;
        }
        return 0;
    }
    g->ok++;
    int64_t fi = REC_HAS(r, F_FRAMES_IN) && r->frames_in > 0 ? r->frames_in : 0;
    sat_add(&g->frames, fi);
    double mp = 0;
    if (REC_HAS(r, F_OUTPUT) && (r->output.has & 6) == 6 && REC_HAS(r, F_FRAMES_OUT) &&
        r->output.width > 0 && r->output.height > 0 && r->frames_out > 0)
        mp = (double)r->frames_out * (double)r->output.width * (double)r->output.height / 1e6;
    g->mpix += mp;
    int64_t wall = REC_HAS(r, F_WALL) ? r->wall_ms : 0;
    int64_t thr = REC_HAS(r, F_THREADS) && r->threads > 0 ? r->threads : 1;
    int64_t cores = REC_HAS(r, F_CORES) && r->cores > 0 ? r->cores : 0;
    if (wall > 0 && fi > 0) {
        double fps = (double)fi * 1000.0 / (double)wall;
        g->speed_runs++;
        g->sp_frames += (double)fi;
        g->sp_wall_ms += (double)wall;
        g->sp_mpix += mp;
        g->fps_sum += fps;
        if ((err = aie_shist_add(&g->run_fps, fps)))
            return err;
        if (mp > 0 && aie_topn_accepts(&g->slowest, -mp * 1000.0 / (double)wall)) {
            item_from(&it, r);
            it.key = -mp * 1000.0 / (double)wall;
            it.a = fps;
            it.b = mp * 1000.0 / (double)wall;
            it.c = (double)wall / 1000.0;
            if ((err = aie_topn_offer(&g->slowest, &it)))
                return err;
        }
        hist_merge_rec(&g->frame_hist, r, &err);
        if (err)
            return err;
        if (!g->ts) {
            if (!(g->ts = malloc(sizeof(*g->ts))))
                return AIE_ENOMEM;
            aie_ts_init(g->ts, 60000);
        }
        double tv[4] = {mp, (double)wall, (double)fi, 1};
        aie_ts_add(g->ts, r->ts_ms, tv, 4);
        double machine_s = (double)wall / 1000.0;
        if (cores)
            machine_s *= (double)(thr < cores ? thr : cores) / (double)cores;
        double dv[4] = {mp, (double)fi, 1, machine_s};
        aie_ts_add(&s->days, r->ts_ms, dv, 4);
        if (r->ts_ms < s->first_run)
            s->first_run = r->ts_ms;
        if (r->ts_ms > s->last_run)
            s->last_run = r->ts_ms;
        if (REC_HAS(r, F_HOST) && (err = host_add(s, r->host)))
            return err;
        if ((err = class_run(s, r, fps)))
            return err;
    }
    if (wall >= TH_MIN_WALL_MS && REC_HAS(r, F_STAGES) && (r->stages_has & 15) == 15) {
        /* each stage's busy share of the wall time of the threads that run it
         * (read 1, process threads, write 1, wait 2: the reader and the writer,
         * finish 1), capped at 1 against rounding: never above 100% */
        double w = (double)wall;
        static const int per[5] = {1, 0, 1, 2, 1};
        double occ[5];
        for (int k = 0; k < 5; k++) {
            double n = per[k] ? (double)per[k] : (double)thr;
            occ[k] = (double)r->stages[k] / (w * n);
            occ[k] = occ[k] < 0 ? 0 : occ[k] > 1 ? 1 : occ[k];
        }
        g->stage_runs++;
        g->st_wall += w;
        for (int k = 0; k < 4; k++)
            g->st[k] += occ[k] * w;
        if (r->stages_has & 16) {
            g->st[4] += occ[4] * w;
            g->st_fin_wall += w;
        }
        int m = occ[0] >= occ[1] && occ[0] >= occ[2] ? 0 : occ[1] >= occ[2] ? 1 : 2;
        double second = 0;
        for (int k = 0; k < 3; k++)
            if (k != m && occ[k] > second)
                second = occ[k];
        if (occ[m] >= TH_BOUND_OCC && occ[m] >= TH_BOUND_RATIO * second) {
            double factor = second / occ[m];
            if (m == B_PROCESS && cores > thr && (double)thr / (double)cores > factor)
                factor = (double)thr / (double)cores;
            if (factor < 0.1)
                factor = 0.1;
            g->bound[m]++;
            g->bound_wall[m] += w;
            g->bound_new_wall[m] += w * factor;
            g->bound_occ[m] += occ[m];
            g->bound_next[m] += second;
        }
    }
    if (wall >= TH_MIN_WALL_MS && cores && REC_HAS(r, F_CPU_USER) && REC_HAS(r, F_CPU_SYS)) {
        g->cpu_runs++;
        g->cpu_ms += (double)r->cpu_user_ms + (double)r->cpu_sys_ms;
        g->wall_thr_ms += (double)wall * (double)thr;
        g->wall_cores_ms += (double)wall * (double)cores;
        if (thr < cores)
            g->fewer_threads++;
        if (thr > g->max_threads)
            g->max_threads = thr;
        if (cores > g->max_cores)
            g->max_cores = cores;
    }
    if (REC_HAS(r, F_QUALITY) && r->nquality) {
        if ((err = quality_add(s, &g->q, &g->nq, 0, r)))
            return err;
        Class *c;
        if (!(err = class_of(s, r, &c)) && c)
            err = quality_add(s, &c->q, &c->nq, 1, r);
    }
    return err;
}

const char *const aie_stats_stage_names[STAGE_N] = {"read", "process", "write", "wait", "finish"};

static void job_end(Group *g, const StatsRec *r, int *err)
{
    g->jobs++;
    if (REC_HAS(r, F_ATTEMPT) && r->attempt > 1)
        g->retries++;
    if ((REC_HAS(r, F_EXIT) && r->exit_code != 0) || (REC_HAS(r, F_SIGNAL) && r->signal != 0))
        g->jobs_failed++;
    if (REC_HAS(r, F_QUEUE_WAIT) && r->queue_wait_ms >= 0 && REC_HAS(r, F_RUNTIME) && r->runtime_ms >= 0) {
        g->queue_n++;
        g->queue_s += (double)r->queue_wait_ms / 1000.0;
        g->runtime_s += (double)r->runtime_ms / 1000.0;
        *err = aie_shist_add(&g->queue_hist, (double)r->queue_wait_ms / 1000.0);
    }
    if (REC_HAS(r, F_CACHE)) {
        if (aie_rstr_eq(r->cache, "hit"))
            g->cache_hit++;
        else if (aie_rstr_eq(r->cache, "miss"))
            g->cache_miss++;
        else if (aie_rstr_eq(r->cache, "off"))
            g->cache_off++;
    }
}

static void used(AieStats *s, Group *g, int64_t ts)
{
    COUNT(s, used, 1);
    if (ts < s->first_ts)
        s->first_ts = ts;
    if (ts > s->last_ts)
        s->last_ts = ts;
    if (g) {
        if (ts < g->first_ts)
            g->first_ts = ts;
        if (ts > g->last_ts)
            g->last_ts = ts;
    }
}

static int on_record(AieStats *s, StatsRec *r)
{
    if (!REC_HAS(r, F_V) || r->v != 1) {
        COUNT(s, unknown_version, 1);
        return 0;
    }
    if (!REC_HAS(r, F_TS) || !REC_HAS(r, F_EVENT)) {
        COUNT(s, invalid, 1);
        return 0;
    }
    if (r->event == EV_OTHER) {
        COUNT(s, unknown_event, 1);
        return 0;
    }
    COUNT(s, unknown_fields, r->unknown_fields);
    /* preview runs (--preview) sample a few frames: their speed is not the
     * job's, so they stay out of every figure */
    if (r->ts_ms < s->o.since_ms || r->ts_ms >= s->o.until_ms ||
        (REC_HAS(r, F_MODE) && aie_rstr_eq(r->mode, "preview"))) {
        COUNT(s, filtered, 1);
        return 0;
    }
    uint8_t id[16];
    int has_id = REC_HAS(r, F_RUN_ID) && r->run_id.n;
    if (has_id)
        run_id_bytes(r->run_id, id);
    int32_t ri = has_id ? run_find(s, id) : -1;
    int gi, err;
    if (r->event == EV_SNAPSHOT && ri >= 0) {
        run_note(&s->runs[ri], r);
        lru_unlink(s, ri);
        lru_front(s, ri);
        used(s, NULL, r->ts_ms);
        return 0;
    }
    if (!where_match(s, r)) {
        if (r->event == EV_RUN_END && ri >= 0)
            run_remove(s, ri);
        COUNT(s, filtered, 1);
        return 0;
    }
    if ((err = group_of(s, r, &gi)))
        return err;
    Group *g = s->groups[gi];
    used(s, g, r->ts_ms);
    switch (r->event) {
    case EV_RUN_START:
    case EV_SNAPSHOT:
        if (!has_id)
            return 0;
        if (ri < 0) {
            if ((err = run_insert(s, id, &ri)))
                return err;
            s->runs[ri].group = gi;
            s->runs[ri].start_ts = r->ts_ms;
            s->runs[ri].last_ts = r->ts_ms;
            s->runs[ri].frames_total = -1;
        } else {
            lru_unlink(s, ri);
            lru_front(s, ri);
        }
        if (r->event == EV_RUN_START) {
            s->runs[ri].started = 1;
            s->runs[ri].group = gi;
            if (r->ts_ms < s->runs[ri].start_ts)
                s->runs[ri].start_ts = r->ts_ms;
        }
        run_note(&s->runs[ri], r);
        return 0;
    case EV_RUN_END:
        if (ri >= 0)
            run_remove(s, ri);
        return run_end(s, g, r);
    case EV_JOB_END:
        err = 0;
        job_end(g, r, &err);
        return err;
    }
    return 0;
}

/* ---- lines ---- */

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static const char *find_record_start(const char *p, size_t n)
{
    for (size_t i = 1; i + 5 <= n; i++) {
        const char *q = memchr(p + i, '{', n - i);
        if (!q)
            return NULL;
        i = (size_t)(q - p);
        if (i + 5 <= n && !memcmp(q, "{\"v\":", 5))
            return q;
    }
    return NULL;
}

int aie_stats_line(AieStats *s, const char *p, size_t n, int final)
{
    (void)final;
    while (n && is_space(*p)) {
        p++;
        n--;
    }
    while (n && is_space(p[n - 1]))
        n--;
    if (!n)
        return 0;
    COUNT(s, lines, 1);
    for (;;) {
        int rc = aie_rec_scan(&s->rec, p, n);
        if (rc < 0)
            return rc;
        if (rc == SCAN_FALLBACK) {
            rc = aie_rec_parse_jsonc(&s->rec, p, n);
            if (rc < 0)
                return rc;
            if (rc == 0)
                COUNT(s, fallback, 1);
        }
        if (rc == 0) {
            COUNT(s, records, 1);
            rc = on_record(s, &s->rec);
            aie_rec_release(&s->rec);
            return rc;
        }
        /* not a record: a torn write followed by a whole record on the same
         * line keeps the record */
        const char *next = find_record_start(p, n);
        if (*p == '{')
            COUNT(s, torn, 1);
        else
            COUNT(s, garbage, 1);
        if (!next)
            return 0;
        n -= (size_t)(next - p);
        p = next;
    }
}

static int new_log(AieStats *s, const char *name)
{
    if (s->nlogs && !strcmp(s->logs[s->nlogs - 1], name ? name : "-"))
        return 0;
    /* the previous log's unfinished last line ends with it */
    if (s->buf_len && !s->skipping) {
        int err = aie_stats_line(s, s->buf, s->buf_len, 1);
        if (err)
            return err;
    }
    s->buf_len = 0;
    s->skipping = 0;
    char **nl = realloc(s->logs, (size_t)(s->nlogs + 1) * sizeof(*nl));
    if (!nl)
        return AIE_ENOMEM;
    s->logs = nl;
    if (!(s->logs[s->nlogs] = strdup(name ? name : "-")))
        return AIE_ENOMEM;
    s->nlogs++;
    memset(&s->logc, 0, sizeof(s->logc));
    return 0;
}

static int buf_append(AieStats *s, const char *p, size_t n)
{
    if (s->skipping)
        return 0;
    if (s->buf_len + n > AIE_STATS_MAX_LINE) {
        COUNT(s, oversize, 1);
        s->skipping = 1;
        s->buf_len = 0;
        return 0;
    }
    if (s->buf_len + n > s->buf_cap) {
        size_t cap = s->buf_cap ? s->buf_cap : 65536;
        while (cap < s->buf_len + n)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            return AIE_ENOMEM;
        s->buf = b;
        s->buf_cap = cap;
    }
    memcpy(s->buf + s->buf_len, p, n);
    s->buf_len += n;
    return 0;
}

int aie_stats_feed(AieStats *s, const char *name, const char *data, size_t len)
{
    if (s->finished)
        return AIE_EINVAL;
    int err = new_log(s, name);
    if (err)
        return err;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return buf_append(s, p, (size_t)(end - p));
        size_t n = (size_t)(nl - p);
        if (s->buf_len || s->skipping) {
            if ((err = buf_append(s, p, n)))
                return err;
            if (!s->skipping && (err = aie_stats_line(s, s->buf, s->buf_len, 0)))
                return err;
            s->buf_len = 0;
            s->skipping = 0;
        } else if (n > AIE_STATS_MAX_LINE) {
            COUNT(s, oversize, 1);
        } else if ((err = aie_stats_line(s, p, n, 0))) {
            return err;
        }
        p = nl + 1;
    }
    return 0;
}

static int end_of_log(AieStats *s)
{
    int err = 0;
    if (s->buf_len && !s->skipping)
        err = aie_stats_line(s, s->buf, s->buf_len, 1);
    s->buf_len = 0;
    s->skipping = 0;
    return err;
}

int aie_stats_read_fd(AieStats *s, int fd, const char *name, char *err, size_t errlen)
{
    if (s->finished)
        return AIE_EINVAL;
    int rc = new_log(s, name);
    char *chunk = rc ? NULL : malloc(READ_CHUNK);
    if (!rc && !chunk)
        rc = AIE_ENOMEM;
    while (!rc) {
        if (aie_cancel_requested(s->o.cancel)) {
            rc = AIE_ECANCELLED;
            break;
        }
        ssize_t got = read(fd, chunk, READ_CHUNK);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            rc = aie_error_from_errno(errno);
            if (err && errlen)
                snprintf(err, errlen, "%s: %s", name ? name : "-", strerror(errno));
            break;
        }
        if (!got)
            break;
        rc = aie_stats_feed(s, name, chunk, (size_t)got);
    }
    if (!rc)
        rc = end_of_log(s);
    else
        s->buf_len = 0;
    if (rc == AIE_ENOMEM && err && errlen)
        snprintf(err, errlen, "%s: out of memory", name ? name : "-");
    free(chunk);
    return rc;
}

int aie_stats_read_file(AieStats *s, const char *path, char *err, size_t errlen)
{
    if (!strcmp(path, "-"))
        return aie_stats_read_fd(s, 0, "-", err, errlen);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        return aie_error_from_errno(e);
    }
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    int rc = aie_stats_read_fd(s, fd, path, err, errlen);
    close(fd);
    return rc;
}

/* ---- life cycle ---- */

int aie_stats_create(AieStats **out, const AieStatsOpts *o, char *err, size_t errlen)
{
    *out = NULL;
    AieStats *s = calloc(1, sizeof(*s));
    if (!s)
        return AIE_ENOMEM;
    int rc = AIE_EINVAL;
    if (o)
        s->o = *o;
    else {
        s->o.since_ms = INT64_MIN;
        s->o.until_ms = INT64_MAX;
        s->o.by[0] = "tool";
        s->o.nby = 1;
    }
    if (s->o.nby < 0 || s->o.nby > AIE_STATS_MAX_BY || s->o.nwhere < 0 || s->o.nwhere > AIE_STATS_MAX_WHERE)
        goto fail;
    for (int i = 0; i < s->o.nby; i++) {
        if (!s->o.by[i] || aie_stats_key_parse(&s->by[i], s->o.by[i])) {
            if (err && errlen)
                snprintf(err, errlen, "unknown key '%s' (tool, method, model, host, res, batch, day, tag:NAME)",
                         s->o.by[i] ? s->o.by[i] : "");
            goto fail;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(s->by[j].name, s->by[i].name)) {
                if (err && errlen)
                    snprintf(err, errlen, "key '%s' given twice", s->by[i].name);
                goto fail;
            }
    }
    s->nby = s->o.nby;
    for (int i = 0; i < s->o.nwhere; i++) {
        const char *w = s->o.where[i];
        const char *eq = w ? strchr(w, '=') : NULL;
        if (!eq || eq == w) {
            if (err && errlen)
                snprintf(err, errlen, "'%s': expected KEY=VALUE or KEY!=VALUE", w ? w : "");
            goto fail;
        }
        int neg = eq[-1] == '!';
        char key[REC_MAX_KEY + 8];
        size_t kl = (size_t)(eq - w) - (size_t)neg;
        if (kl >= sizeof(key) || !kl) {
            if (err && errlen)
                snprintf(err, errlen, "'%s': unknown key", w);
            goto fail;
        }
        memcpy(key, w, kl);
        key[kl] = 0;
        if (aie_stats_key_parse(&s->where[i].key, key)) {
            if (err && errlen)
                snprintf(err, errlen, "unknown key '%s' (tool, method, model, host, res, batch, day, tag:NAME)", key);
            goto fail;
        }
        s->where[i].negate = neg;
        if (!(s->where[i].value = strdup(eq + 1))) {
            rc = AIE_ENOMEM;
            goto fail;
        }
        s->nwhere = i + 1;
    }
    if (s->o.top < 0 || s->o.top > AIE_STATS_MAX_TOP || s->o.max_open_runs < 0) {
        if (err && errlen)
            snprintf(err, errlen, "top must be 0 to %d", AIE_STATS_MAX_TOP);
        goto fail;
    }
    s->top = s->o.top ? s->o.top : AIE_STATS_DEFAULT_TOP;
    s->max_open = s->o.max_open_runs ? s->o.max_open_runs : AIE_STATS_DEFAULT_OPEN_RUNS;
    s->free_run = s->lru_head = s->lru_tail = -1;
    s->other_group = -1;
    s->first_ts = s->first_run = INT64_MAX;
    s->last_ts = s->last_run = INT64_MIN;
    s->last_day = INT64_MIN;
    aie_ts_init(&s->days, DAY_MS);
    if ((rc = aie_rec_init(&s->rec)))
        goto fail;
    *out = s;
    return 0;
fail:
    aie_stats_free(&s);
    return rc;
}

int aie_stats_finish(AieStats *s, int64_t now_ms)
{
    if (s->finished)
        return 0;
    int err = end_of_log(s);
    if (err)
        return err;
    s->finished = 1;
    s->now_ms = now_ms ? now_ms : (s->last_ts > INT64_MIN ? s->last_ts : 0);
    /* runs that started and never ended */
    for (int32_t i = s->lru_head; i >= 0; i = s->runs[i].next) {
        OpenRun *o = &s->runs[i];
        Group *g = s->groups[o->group];
        g->incomplete++;
        int stale = o->last_ts < s->now_ms - TH_STALE_MS;
        g->incomplete_stale += stale;
        if (aie_topn_accepts(&g->open_list, (double)o->last_ts)) {
            TopItem it;
            memset(&it, 0, sizeof(it));
            it.key = (double)o->last_ts;
            it.ts_ms = o->start_ts;
            it.i1 = o->frames_done;
            it.i2 = o->frames_total;
            it.a = (double)o->last_ts;
            it.b = stale;
            it.i3 = o->pid;
            for (int k = 0; k < 16; k++)
                snprintf(it.run_id + 2 * k, 3, "%02x", o->id[k]);
            snprintf(it.host, sizeof(it.host), "%s", o->host[0] ? o->host : "-");
            snprintf(it.input, sizeof(it.input), "%s", o->input[0] ? o->input : "-");
            snprintf(it.text, sizeof(it.text), "%s", o->started ? "run_start" : "snapshot");
            if ((err = aie_topn_offer(&g->open_list, &it)))
                return err;
        }
    }
    return aie_stats_compute(s);
}

void aie_stats_counts(const AieStats *s, AieStatsCounts *c) { *c = s->c; }

void aie_stats_log_counts(const AieStats *s, AieStatsCounts *c) { *c = s->logc; }

size_t aie_stats_mem_bytes(const AieStats *s)
{
    size_t b = sizeof(*s) + s->buf_cap + s->rec.scratch_cap;
    b += (size_t)s->groups_cap * (sizeof(Group *) + sizeof(char *)) + (size_t)s->ghash_cap * 4;
    b += (size_t)s->classes_cap * (sizeof(Class *) + sizeof(char *)) + (size_t)s->chash_cap * 4;
    b += (size_t)s->runs_cap * sizeof(OpenRun) + (size_t)s->rhash_cap * 4;
    b += (size_t)s->hosts_cap * 8;
    for (int i = 0; i < s->ngroups; i++) {
        const Group *g = s->groups[i];
        b += sizeof(*g) + strlen(g->key) + aie_shist_bytes(&g->run_fps) + aie_shist_bytes(&g->queue_hist);
        b += g->frame_hist ? sizeof(AieHist) : 0;
        b += g->ts ? sizeof(TSeries) : 0;
        b += g->errors.e ? SS_CAP * sizeof(SSEntry) : 0;
        b += (size_t)(g->slowest.items ? g->slowest.cap : 0) * sizeof(TopItem);
        b += (size_t)(g->failures.items ? g->failures.cap : 0) * sizeof(TopItem);
        b += (size_t)(g->open_list.items ? g->open_list.cap : 0) * sizeof(TopItem);
        for (int k = 0; k < g->nq; k++)
            b += sizeof(QualStat) + aie_shist_bytes(&g->q[k].h) +
                 (size_t)(g->q[k].low.cap + g->q[k].high.cap) * sizeof(TopItem);
    }
    for (int i = 0; i < s->nclasses; i++) {
        const Class *c = s->classes[i];
        b += sizeof(*c) + sizeof(TSeries) + aie_shist_bytes(&c->spf) + (c->frame_hist ? sizeof(AieHist) : 0);
        b += (size_t)(c->slowest.cap + c->tail.cap) * sizeof(TopItem);
        for (int k = 0; k < c->nq; k++)
            b += sizeof(QualStat) + aie_shist_bytes(&c->q[k].h) +
                 (size_t)(c->q[k].low.cap + c->q[k].high.cap) * sizeof(TopItem);
    }
    return b;
}

void aie_stats_free(AieStats **ps)
{
    AieStats *s = ps ? *ps : NULL;
    if (!s)
        return;
    *ps = NULL;
    for (int i = 0; i < s->ngroups; i++)
        group_free(s->groups[i]);
    free(s->groups);
    free(s->gkeys);
    free(s->ghash);
    for (int i = 0; i < s->nclasses; i++)
        class_free(s->classes[i]);
    free(s->classes);
    free(s->ckeys);
    free(s->chash);
    free(s->runs);
    free(s->rhash);
    free(s->hosts);
    for (int i = 0; i < s->nwhere; i++)
        free(s->where[i].value);
    for (int i = 0; i < s->nlogs; i++)
        free(s->logs[i]);
    free(s->logs);
    free(s->buf);
    free(s->findings);
    aie_rec_free(&s->rec);
    free(s);
}
