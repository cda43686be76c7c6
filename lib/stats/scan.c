/*
 * The fast path of the log reader: a hand-written scanner for the record shape
 * of aie-metrics(5) (DECISIONS.md allows it; json-c reads about 100k records/s
 * here). It validates everything it walks, JSON-strictly, and returns
 * SCAN_FALLBACK on anything it is unsure of (numbers past int64, surrogate
 * escapes, control characters, duplicate keys, more tags or quality members
 * than a record holds, deep nesting, any syntax error): json-c then decides.
 * So a record the scanner accepts is exactly the record json-c would give, a
 * property tests/test_stats.c checks on every golden log and the fuzz target
 * checks on arbitrary input.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aie/error.h"
#include "aie/util.h"
#include "record.h"

typedef struct Sc {
    const char *p, *e;
    StatsRec *r;
} Sc;

#define FALLBACK (-1)
#define MAX_DEPTH 16

static inline void ws(Sc *s)
{
    while (s->p < s->e && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
        s->p++;
}

static inline int peek(const Sc *s) { return s->p < s->e ? (unsigned char)*s->p : -1; }

/* Slow path of a string with escapes: unescape into the record's scratch. */
static int str_escaped(Sc *s, const char *start, RStr *out)
{
    StatsRec *r = s->r;
    char *dst = r->scratch + r->scratch_len;
    char *d = dst;
    const char *q = start;
    for (;;) {
        if (q >= s->e)
            return FALLBACK;
        unsigned char c = (unsigned char)*q;
        if (c == '"')
            break;
        if (c < 0x20)
            return FALLBACK;
        if (c != '\\') {
            *d++ = (char)c;
            q++;
            continue;
        }
        if (q + 1 >= s->e)
            return FALLBACK;
        char esc = q[1];
        q += 2;
        switch (esc) {
        case '"': *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '/': *d++ = '/'; break;
        case 'b': *d++ = '\b'; break;
        case 'f': *d++ = '\f'; break;
        case 'n': *d++ = '\n'; break;
        case 'r': *d++ = '\r'; break;
        case 't': *d++ = '\t'; break;
        case 'u': {
            if (s->e - q < 4)
                return FALLBACK;
            int h0 = aie_hexval(q[0]), h1 = aie_hexval(q[1]), h2 = aie_hexval(q[2]), h3 = aie_hexval(q[3]);
            if ((h0 | h1 | h2 | h3) < 0)
                return FALLBACK;
            unsigned u = (unsigned)(h0 << 12 | h1 << 8 | h2 << 4 | h3);
            q += 4;
            if (u == 0 || (u >= 0xD800 && u <= 0xDFFF))
                return FALLBACK; /* NUL and surrogates: json-c's rules */
            if (u < 0x80) {
                *d++ = (char)u;
            } else if (u < 0x800) {
                *d++ = (char)(0xC0 | u >> 6);
                *d++ = (char)(0x80 | (u & 0x3F));
            } else {
                *d++ = (char)(0xE0 | u >> 12);
                *d++ = (char)(0x80 | ((u >> 6) & 0x3F));
                *d++ = (char)(0x80 | (u & 0x3F));
            }
            break;
        }
        default: return FALLBACK;
        }
    }
    out->p = dst;
    out->n = (uint32_t)(d - dst);
    r->scratch_len += (size_t)(d - dst);
    s->p = q + 1;
    return 0;
}

/* SWAR: the lowest byte of x that is '"', '\\' or a control character is
 * marked by the lowest set high bit of the result (higher marks may be false). */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline uint64_t special_bytes(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    return ((q - ONES) & ~q & HIGHS) | ((b - ONES) & ~b & HIGHS) | ((x - ONES * 0x20) & ~x & HIGHS);
}

/* A string; s->p at the opening quote. */
static inline int str(Sc *s, RStr *out)
{
    const char *q = s->p + 1, *e = s->e;
    while (e - q >= 8) {
        uint64_t x;
        memcpy(&x, q, 8);
        uint64_t m = special_bytes(x);
        if (m) {
            q += __builtin_ctzll(m) >> 3;
            break;
        }
        q += 8;
    }
    while (q < e) {
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            out->p = s->p + 1;
            out->n = (uint32_t)(q - (s->p + 1));
            s->p = q + 1;
            return 0;
        }
        if (c == '\\') {
            /* copy the plain prefix into scratch, then unescape the rest */
            StatsRec *r = s->r;
            size_t pre = (size_t)(q - (s->p + 1));
            char *dst = r->scratch + r->scratch_len;
            memcpy(dst, s->p + 1, pre);
            r->scratch_len += pre;
            RStr rest;
            if (str_escaped(s, q, &rest))
                return FALLBACK;
            out->p = dst;
            out->n = (uint32_t)(pre + rest.n);
            return 0;
        }
        if (c < 0x20)
            return FALLBACK;
        q++;
    }
    return FALLBACK;
}

static const double pow10tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A JSON number: returns 0 for an integer (in *iv), 1 for a fraction or
 * exponent (in *dv), FALLBACK when it is not strict JSON or too long. */
static int num(Sc *s, int64_t *iv, double *dv, int convert)
{
    const char *q = s->p, *e = s->e, *start = q;
    int neg = 0;
    if (q < e && *q == '-') {
        neg = 1;
        q++;
    }
    if (q >= e || *q < '0' || *q > '9')
        return FALLBACK;
    uint64_t m = 0;
    int digits = 0;
    if (*q == '0') {
        q++;
        if (q < e && *q >= '0' && *q <= '9')
            return FALLBACK; /* leading zero */
    } else {
        while (q < e && *q >= '0' && *q <= '9') {
            m = m * 10 + (uint64_t)(*q - '0');
            digits++;
            q++;
        }
    }
    if (q >= e || (*q != '.' && *q != 'e' && *q != 'E')) {
        if (digits > 18)
            return FALLBACK;
        *iv = neg ? -(int64_t)m : (int64_t)m;
        s->p = q;
        return 0;
    }
    /* a fraction and/or an exponent */
    int frac = 0;
    if (*q == '.') {
        q++;
        if (q >= e || *q < '0' || *q > '9')
            return FALLBACK;
        while (q < e && *q >= '0' && *q <= '9') {
            if (digits < 19) {
                m = m * 10 + (uint64_t)(*q - '0');
                if (m)
                    digits++;
                frac++;
            } else {
                digits = 99; /* too many digits for the fast path */
            }
            q++;
        }
    }
    int ex = 0;
    if (q < e && (*q == 'e' || *q == 'E')) {
        q++;
        int eneg = 0;
        if (q < e && (*q == '+' || *q == '-'))
            eneg = *q++ == '-';
        if (q >= e || *q < '0' || *q > '9')
            return FALLBACK;
        while (q < e && *q >= '0' && *q <= '9') {
            if (ex < 100000)
                ex = ex * 10 + (*q - '0');
            q++;
        }
        if (eneg)
            ex = -ex;
    }
    int e10 = ex - frac;
    double v;
    if (!convert) {
        s->p = q;
        return 1;
    }
    if (digits <= 15 && m < (1ull << 53) && e10 >= -22 && e10 <= 22) {
        /* exact: both operands are exact doubles, one rounding */
        v = e10 >= 0 ? (double)m * pow10tab[e10] : (double)m / pow10tab[-e10];
        if (neg)
            v = -v;
    } else {
        char buf[64];
        size_t len = (size_t)(q - start);
        if (len >= sizeof(buf))
            return FALLBACK;
        memcpy(buf, start, len);
        buf[len] = 0;
        v = strtod(buf, NULL);
    }
    *dv = v;
    s->p = q;
    return 1;
}

static int lit(Sc *s, const char *word, size_t n)
{
    if ((size_t)(s->e - s->p) < n || memcmp(s->p, word, n))
        return FALLBACK;
    s->p += n;
    return 0;
}

/* Skip any JSON value, validating it. */
static int skip(Sc *s, int depth)
{
    if (depth > MAX_DEPTH)
        return FALLBACK;
    int c = peek(s);
    switch (c) {
    case '"': {
        RStr tmp;
        size_t keep = s->r->scratch_len;
        int rc = str(s, &tmp);
        s->r->scratch_len = keep;
        return rc;
    }
    case '{':
        s->p++;
        ws(s);
        if (peek(s) == '}') {
            s->p++;
            return 0;
        }
        for (;;) {
            RStr k;
            if (peek(s) != '"')
                return FALLBACK;
            size_t keep = s->r->scratch_len;
            if (str(s, &k))
                return FALLBACK;
            s->r->scratch_len = keep;
            ws(s);
            if (peek(s) != ':')
                return FALLBACK;
            s->p++;
            ws(s);
            if (skip(s, depth + 1))
                return FALLBACK;
            ws(s);
            c = peek(s);
            s->p++;
            if (c == '}')
                return 0;
            if (c != ',')
                return FALLBACK;
            ws(s);
        }
    case '[':
        s->p++;
        ws(s);
        if (peek(s) == ']') {
            s->p++;
            return 0;
        }
        for (;;) {
            if (skip(s, depth + 1))
                return FALLBACK;
            ws(s);
            c = peek(s);
            s->p++;
            if (c == ']')
                return 0;
            if (c != ',')
                return FALLBACK;
            ws(s);
        }
    case 't': return lit(s, "true", 4);
    case 'f': return lit(s, "false", 5);
    case 'n': return lit(s, "null", 4);
    default: {
        int64_t iv;
        double dv;
        return num(s, &iv, &dv, 0) < 0 ? FALLBACK : 0;
    }
    }
}

/* ---- typed fields ---- */

#define SET(r, f) ((r)->has |= 1ull << (f))
#define CLR(r, f) ((r)->has &= ~(1ull << (f)))

/* string, or null when nullable; other types leave the field absent */
static int f_str(Sc *s, RStr *dst, int f, int nullable)
{
    StatsRec *r = s->r;
    CLR(r, f);
    int c = peek(s);
    if (c == '"') {
        if (str(s, dst))
            return FALLBACK;
        SET(r, f);
        return 0;
    }
    if (c == 'n') {
        if (lit(s, "null", 4))
            return FALLBACK;
        if (nullable) {
            dst->p = NULL;
            dst->n = 0;
            SET(r, f);
        }
        return 0;
    }
    return skip(s, 1);
}

/* integer; returns 1 when set, 0 when another type, FALLBACK */
static int get_int(Sc *s, int64_t *dst)
{
    int c = peek(s);
    if (c == '-' || (c >= '0' && c <= '9')) {
        int64_t iv;
        double dv;
        int k = num(s, &iv, &dv, 0);
        if (k < 0)
            return FALLBACK;
        if (k == 0) {
            *dst = iv;
            return 1;
        }
        return 0;
    }
    return skip(s, 1) ? FALLBACK : 0;
}

static int get_dbl(Sc *s, double *dst)
{
    int c = peek(s);
    if (c == '-' || (c >= '0' && c <= '9')) {
        int64_t iv;
        double dv;
        int k = num(s, &iv, &dv, 1);
        if (k < 0)
            return FALLBACK;
        *dst = k == 0 ? (double)iv : dv;
        return 1;
    }
    return skip(s, 1) ? FALLBACK : 0;
}

/* a number whose conversion can wait: text kept for fractions */
static int get_dbl_lazy(Sc *s, double *dst, RStr *text)
{
    int c = peek(s);
    text->p = NULL;
    if (c == '-' || (c >= '0' && c <= '9')) {
        int64_t iv;
        double dv;
        const char *start = s->p;
        int k = num(s, &iv, &dv, 0);
        if (k < 0)
            return FALLBACK;
        if (k == 0) {
            *dst = (double)iv;
        } else {
            if (s->p - start >= 64)
                return FALLBACK;
            text->p = start;
            text->n = (uint32_t)(s->p - start);
        }
        return 1;
    }
    return skip(s, 1) ? FALLBACK : 0;
}

static int f_int(Sc *s, int64_t *dst, int f)
{
    CLR(s->r, f);
    int k = get_int(s, dst);
    if (k < 0)
        return FALLBACK;
    if (k)
        SET(s->r, f);
    return 0;
}

/* Iterate the members of an object: calls member(s, key, ctx) with s->p at the
 * value. Duplicate keys (among the first 32) fall back; more than 32 members
 * fall back too, so no duplicate goes unseen. */
typedef int (*MemberFn)(Sc *s, RStr key, void *ctx);

static int object(Sc *s, MemberFn fn, void *ctx)
{
    RStr seen[32];
    int nseen = 0;
    s->p++; /* '{' */
    ws(s);
    if (peek(s) == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        RStr k;
        if (peek(s) != '"' || str(s, &k))
            return FALLBACK;
        for (int i = 0; i < nseen; i++)
            if (seen[i].n == k.n && !memcmp(seen[i].p, k.p, k.n))
                return FALLBACK;
        if (nseen == 32)
            return FALLBACK;
        seen[nseen++] = k;
        ws(s);
        if (peek(s) != ':')
            return FALLBACK;
        s->p++;
        ws(s);
        if (fn(s, k, ctx))
            return FALLBACK;
        ws(s);
        int c = peek(s);
        s->p++;
        if (c == '}')
            return 0;
        if (c != ',')
            return FALLBACK;
        ws(s);
    }
}

static int key_is(RStr k, const char *lit, size_t n) { return k.n == n && !memcmp(k.p, lit, n); }
#define KEY(k, lit) key_is(k, lit, sizeof(lit) - 1)

static int stream_member(Sc *s, RStr k, void *ctx)
{
    RStream *st = ctx;
    int64_t iv;
    int rc;
    if (KEY(k, "name") || KEY(k, "pix_fmt")) {
        unsigned bit = KEY(k, "name") ? 1 : 16;
        RStr *dst = bit == 1 ? &st->name : &st->pix_fmt;
        st->has &= ~bit;
        if (peek(s) == '"') {
            if (str(s, dst))
                return FALLBACK;
            st->has |= bit;
            return 0;
        }
        return skip(s, 1);
    }
    if (KEY(k, "width") || KEY(k, "height")) {
        unsigned bit = KEY(k, "width") ? 2 : 4;
        if ((rc = get_int(s, &iv)) < 0)
            return FALLBACK;
        if (rc) {
            st->has |= bit;
            *(bit == 2 ? &st->width : &st->height) = iv;
        }
        return 0;
    }
    if (KEY(k, "fps")) {
        if ((rc = get_dbl_lazy(s, &st->fps, &st->fps_text)) < 0)
            return FALLBACK;
        if (rc)
            st->has |= 8;
        return 0;
    }
    s->r->unknown_fields++;
    return skip(s, 1);
}

static int f_stream(Sc *s, RStream *st, int f)
{
    CLR(s->r, f);
    memset(st, 0, sizeof(*st));
    if (peek(s) != '{')
        return skip(s, 1);
    if (object(s, stream_member, st))
        return FALLBACK;
    SET(s->r, f);
    return 0;
}

static int stages_member(Sc *s, RStr k, void *ctx)
{
    StatsRec *r = ctx;
    int i = KEY(k, "read") ? 0 : KEY(k, "process") ? 1 : KEY(k, "write") ? 2 : KEY(k, "wait") ? 3 : KEY(k, "finish") ? 4 : -1;
    if (i < 0) {
        r->unknown_fields++;
        return skip(s, 1);
    }
    int64_t iv;
    int rc = get_int(s, &iv);
    if (rc < 0)
        return FALLBACK;
    if (rc) {
        r->stages_has |= 1u << i;
        r->stages[i] = iv;
    }
    return 0;
}

static int tags_member(Sc *s, RStr k, void *ctx)
{
    StatsRec *r = ctx;
    if (peek(s) != '"')
        return skip(s, 1);
    if (r->ntags >= REC_MAX_TAGS)
        return FALLBACK;
    if (str(s, &r->tag_val[r->ntags]))
        return FALLBACK;
    r->tag_key[r->ntags++] = k;
    return 0;
}

static int quality_member(Sc *s, RStr k, void *ctx)
{
    StatsRec *r = ctx;
    double dv = 0;
    int rc = get_dbl(s, &dv);
    if (rc < 0)
        return FALLBACK;
    if (rc) {
        if (r->nquality >= REC_MAX_QUALITY)
            return FALLBACK;
        r->q_name[r->nquality] = k;
        r->q_val[r->nquality++] = dv;
    }
    return 0;
}

static int f_object(Sc *s, int f, MemberFn fn)
{
    CLR(s->r, f);
    if (peek(s) != '{')
        return skip(s, 1);
    if (object(s, fn, s->r))
        return FALLBACK;
    SET(s->r, f);
    return 0;
}

/* The writer's exact shape, [[i,n],[i,n],...] without spaces, read in one
 * tight loop; 1 when it matched, 0 to try the careful path. */
static int hist_fast(Sc *s)
{
    StatsRec *r = s->r;
    const char *q = s->p + 1, *e = s->e;
    int k = 0;
    if (q < e && *q == ']') {
        s->p = q + 1;
        r->nhist = 0;
        return 1;
    }
    for (;;) {
        if (e - q < 6 || q[0] != '[')
            return 0;
        q++;
        int64_t v[2];
        for (int j = 0; j < 2; j++) {
            const char *d = q;
            uint64_t x = 0;
            while (q < e && (unsigned)(*q - '0') < 10u)
                x = x * 10 + (uint64_t)(*q++ - '0');
            if (q == d || q - d > 18 || (*d == '0' && q - d > 1) || q >= e || *q != (j ? ']' : ','))
                return 0;
            v[j] = (int64_t)x;
            q++;
        }
        if (v[0] < 2048 && k < REC_MAX_HIST) {
            r->hist_i[k] = (uint16_t)v[0];
            r->hist_n[k++] = v[1];
        }
        if (q >= e)
            return 0;
        if (*q == ',') {
            q++;
            continue;
        }
        if (*q != ']')
            return 0;
        s->p = q + 1;
        r->nhist = k;
        return 1;
    }
}

/* frame_ms_hist: [[i, n], ...]; anything else leaves it absent */
static int f_hist(Sc *s)
{
    StatsRec *r = s->r;
    CLR(r, F_HIST);
    r->nhist = 0;
    if (peek(s) != '[')
        return skip(s, 1);
    if (hist_fast(s)) {
        SET(r, F_HIST);
        return 0;
    }
    r->nhist = 0;
    const char *start = s->p;
    s->p++;
    ws(s);
    if (peek(s) == ']') {
        s->p++;
        SET(r, F_HIST);
        return 0;
    }
    for (;;) {
        int64_t i, n;
        if (peek(s) != '[')
            goto generic;
        s->p++;
        ws(s);
        if (get_int(s, &i) != 1)
            goto generic;
        ws(s);
        if (peek(s) != ',')
            goto generic;
        s->p++;
        ws(s);
        if (get_int(s, &n) != 1)
            goto generic;
        ws(s);
        if (peek(s) != ']')
            goto generic;
        s->p++;
        if (i >= 0 && i < 2048 && n >= 0 && r->nhist < REC_MAX_HIST) {
            r->hist_i[r->nhist] = (uint16_t)i;
            r->hist_n[r->nhist++] = n;
        }
        ws(s);
        int c = peek(s);
        s->p++;
        if (c == ']')
            break;
        if (c != ',')
            goto generic;
        ws(s);
    }
    SET(r, F_HIST);
    return 0;
generic:
    /* not an array of integer pairs: validate it and leave it out */
    r->nhist = 0;
    s->p = start;
    return skip(s, 1);
}

static int event_id(RStr e)
{
    if (KEY(e, "snapshot"))
        return EV_SNAPSHOT;
    if (KEY(e, "run_end"))
        return EV_RUN_END;
    if (KEY(e, "run_start"))
        return EV_RUN_START;
    if (KEY(e, "job_end"))
        return EV_JOB_END;
    return EV_OTHER;
}

/* Known keys this reader does not use: ids above F_COUNT (distinct, so the
 * duplicate check still works); their values are validated and skipped. */
enum { K_OPTIONS = F_COUNT, K_METRICS_QUEUED, K_METRICS_DROPPED, K_START, K_END, K_TIMED_OUT, K_INTERRUPTED,
       K_DECODE_ERRORS, K_PACKETS_FIXED, K_COMMIT };

/* Top-level keys. Returns F_x, a K_x above F_COUNT for a known key without a
 * field, or -1 for an unknown key. */
static int key_id(const char *k, uint32_t n)
{
#define K(lit, id)                                     \
    if (n == sizeof(lit) - 1 && !memcmp(k, lit, n)) \
        return id;
    switch (n) {
    case 1: K("v", F_V) break;
    case 2: K("ts", F_TS) break;
    case 3: K("pid", F_PID) K("fps", F_FPS) K("end", K_END) break;
    case 4: K("tool", F_TOOL) K("host", F_HOST) K("tags", F_TAGS) K("exit", F_EXIT) K("mode", F_MODE) break;
    case 5:
        K("event", F_EVENT) K("error", F_ERROR) K("model", F_MODEL) K("input", F_INPUT)
        K("cores", F_CORES) K("cache", F_CACHE) K("start", K_START) break;
    case 6:
        K("run_id", F_RUN_ID) K("job_id", F_JOB_ID) K("status", F_STATUS) K("method", F_METHOD)
        K("output", F_OUTPUT) K("rss_kb", F_RSS) K("signal", F_SIGNAL) K("commit", K_COMMIT) break;
    case 7:
        K("version", F_VERSION) K("threads", F_THREADS) K("wall_ms", F_WALL)
        K("quality", F_QUALITY) K("attempt", F_ATTEMPT) K("options", K_OPTIONS) break;
    case 8: K("batch_id", F_BATCH_ID) break;
    case 9:
        K("frames_in", F_FRAMES_IN) K("maxrss_kb", F_MAXRSS) K("in_flight", F_IN_FLIGHT)
        K("stages_ms", F_STAGES) K("timed_out", K_TIMED_OUT) break;
    case 10: K("frames_out", F_FRAMES_OUT) K("runtime_ms", F_RUNTIME) K("cpu_sys_ms", F_CPU_SYS) break;
    case 11: K("cpu_user_ms", F_CPU_USER) K("frames_done", F_FRAMES_DONE) K("interrupted", K_INTERRUPTED) break;
    case 12: K("mem_total_kb", F_MEM_TOTAL) K("frames_total", F_FRAMES_TOTAL) break;
    case 13: K("frame_ms_hist", F_HIST) K("queue_wait_ms", F_QUEUE_WAIT) K("decode_errors", K_DECODE_ERRORS)
        K("packets_fixed", K_PACKETS_FIXED) break;
    case 14: K("metrics_queued", K_METRICS_QUEUED) break;
    case 15: K("dropped_records", F_DROPPED) K("metrics_dropped", K_METRICS_DROPPED) break;
    }
#undef K
    return -1;
}

static int value(Sc *s, int id)
{
    StatsRec *r = s->r;
    switch (id) {
    case F_V: return f_int(s, &r->v, F_V);
    case F_TS:
        if (f_str(s, &r->ts_str, F_TS, 0))
            return FALLBACK;
        if (REC_HAS(r, F_TS) && aie_stats_parse_rfc3339(r->ts_str.p, r->ts_str.n, &r->ts_ms))
            CLR(r, F_TS);
        return 0;
    case F_TOOL: return f_str(s, &r->tool, F_TOOL, 0);
    case F_VERSION: return f_str(s, &r->version, F_VERSION, 0);
    case F_EVENT:
        if (f_str(s, &r->event_str, F_EVENT, 0))
            return FALLBACK;
        r->event = REC_HAS(r, F_EVENT) ? event_id(r->event_str) : EV_NONE;
        return 0;
    case F_RUN_ID: return f_str(s, &r->run_id, F_RUN_ID, 0);
    case F_HOST: return f_str(s, &r->host, F_HOST, 0);
    case F_PID: return f_int(s, &r->pid, F_PID);
    case F_TAGS: r->ntags = 0; return f_object(s, F_TAGS, tags_member);
    case F_BATCH_ID: return f_str(s, &r->batch_id, F_BATCH_ID, 0);
    case F_JOB_ID: return f_str(s, &r->job_id, F_JOB_ID, 0);
    case F_STATUS: return f_str(s, &r->status, F_STATUS, 0);
    case F_ERROR: return f_str(s, &r->error, F_ERROR, 1);
    case F_METHOD: return f_str(s, &r->method, F_METHOD, 0);
    case F_MODEL: return f_str(s, &r->model, F_MODEL, 1);
    case F_THREADS: return f_int(s, &r->threads, F_THREADS);
    case F_CORES: return f_int(s, &r->cores, F_CORES);
    case F_MEM_TOTAL: return f_int(s, &r->mem_total_kb, F_MEM_TOTAL);
    case F_INPUT: return f_stream(s, &r->input, F_INPUT);
    case F_OUTPUT: return f_stream(s, &r->output, F_OUTPUT);
    case F_FRAMES_IN: return f_int(s, &r->frames_in, F_FRAMES_IN);
    case F_FRAMES_OUT: return f_int(s, &r->frames_out, F_FRAMES_OUT);
    case F_WALL: return f_int(s, &r->wall_ms, F_WALL);
    case F_CPU_USER: return f_int(s, &r->cpu_user_ms, F_CPU_USER);
    case F_CPU_SYS: return f_int(s, &r->cpu_sys_ms, F_CPU_SYS);
    case F_MAXRSS: return f_int(s, &r->maxrss_kb, F_MAXRSS);
    case F_STAGES: r->stages_has = 0; return f_object(s, F_STAGES, stages_member);
    case F_HIST: return f_hist(s);
    case F_QUALITY: r->nquality = 0; return f_object(s, F_QUALITY, quality_member);
    case F_DROPPED: return f_int(s, &r->dropped, F_DROPPED);
    case F_FRAMES_DONE: return f_int(s, &r->frames_done, F_FRAMES_DONE);
    case F_FRAMES_TOTAL: return f_int(s, &r->frames_total, F_FRAMES_TOTAL);
    case F_FPS: {
        CLR(r, F_FPS);
        int k = get_dbl_lazy(s, &r->fps, &r->fps_text);
        if (k < 0)
            return FALLBACK;
        if (k)
            SET(r, F_FPS);
        return 0;
    }
    case F_IN_FLIGHT: return f_int(s, &r->in_flight, F_IN_FLIGHT);
    case F_RSS: return f_int(s, &r->rss_kb, F_RSS);
    case F_ATTEMPT: return f_int(s, &r->attempt, F_ATTEMPT);
    case F_EXIT: return f_int(s, &r->exit_code, F_EXIT);
    case F_SIGNAL: return f_int(s, &r->signal, F_SIGNAL);
    case F_QUEUE_WAIT: return f_int(s, &r->queue_wait_ms, F_QUEUE_WAIT);
    case F_RUNTIME: return f_int(s, &r->runtime_ms, F_RUNTIME);
    case F_CACHE: return f_str(s, &r->cache, F_CACHE, 0);
    case F_MODE: return f_str(s, &r->mode, F_MODE, 0);
    }
    return skip(s, 1); /* known, not used */
}

static void rec_reset(StatsRec *r)
{
    aie_rec_release(r);
    r->has = 0;
    r->event = EV_NONE;
    r->ntags = r->nquality = r->nhist = 0;
    r->stages_has = 0;
    r->unknown_fields = 0;
    r->scratch_len = 0;
    memset(&r->input, 0, sizeof(r->input));
    memset(&r->output, 0, sizeof(r->output));
}

int aie_rec_scan(StatsRec *r, const char *p, size_t n)
{
    rec_reset(r);
    if (r->scratch_cap < n + 16) {
        size_t cap = n + 16 > 4096 ? n + 16 : 4096;
        char *b = realloc(r->scratch, cap);
        if (!b)
            return AIE_ENOMEM;
        r->scratch = b;
        r->scratch_cap = cap;
    }
    Sc s = {p, p + n, r};
    uint64_t seen = 0;
    RStr unknown[16];
    int nunknown = 0;
    ws(&s);
    if (peek(&s) != '{')
        return SCAN_FALLBACK;
    s.p++;
    ws(&s);
    if (peek(&s) == '}') {
        s.p++;
        goto end;
    }
    for (;;) {
        RStr k;
        if (peek(&s) != '"' || str(&s, &k))
            return SCAN_FALLBACK;
        int id = key_id(k.p, k.n);
        if (id >= 0) {
            if (seen >> id & 1)
                return SCAN_FALLBACK; /* duplicate key */
            seen |= 1ull << id;
        } else {
            for (int i = 0; i < nunknown; i++)
                if (unknown[i].n == k.n && !memcmp(unknown[i].p, k.p, k.n))
                    return SCAN_FALLBACK;
            if (nunknown == 16)
                return SCAN_FALLBACK;
            unknown[nunknown++] = k;
        }
        ws(&s);
        if (peek(&s) != ':')
            return SCAN_FALLBACK;
        s.p++;
        ws(&s);
        if (id < 0) {
            r->unknown_fields++;
            if (skip(&s, 1))
                return SCAN_FALLBACK;
        } else if (value(&s, id)) {
            return SCAN_FALLBACK;
        }
        ws(&s);
        int c = peek(&s);
        s.p++;
        if (c == '}')
            break;
        if (c != ',')
            return SCAN_FALLBACK;
        ws(&s);
    }
end:
    ws(&s);
    return s.p == s.e ? SCAN_OK : SCAN_FALLBACK;
}
