/*
 * stats: aie-stats' reader, aggregation, findings and renderers.
 *
 * The golden logs in testdata/stats/ come from tests/gen/gen_stats_log.c and
 * their expected answers (NAME.expect.json) from scripts/stats-oracle.py, an
 * independent Python implementation with exact percentiles. Regenerate both
 * by hand: scripts/gen-stats-log.sh golden, then scripts/stats-oracle.py on testdata/stats/NAME.jsonl
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aie/error.h"
#include "aie/frame.h"
#include "aie/metrics.h"
#include "aie/stats.h"
#include "stats/record.h"
#include "stats/stats_internal.h"
#include "tests.h"

#include "fuzz/fuzz_stats_line.c"

static const char *const golden[] = {"healthy", "decode_bound", "encode_bound", "process_bound",
                                     "threads_idle", "errors", "outliers", "memory", "queue", "cache",
                                     "regression", "capacity", "quality", "damaged"};
#define NGOLDEN (sizeof(golden) / sizeof(golden[0]))

static char out[1 << 16];

/* absolute, so the command-line tests can run from the scratch directory */
static const char *abs_dir(const char *dir, char *buf)
{
    return realpath(dir, buf) ? buf : dir;
}

static const char *src_dir(void)
{
    static char buf[PATH_MAX];
    return abs_dir(tests_src_dir(), buf);
}

static const char *golden_path(const char *name, const char *ext)
{
    static char buf[4][PATH_MAX + 64];
    static int k;
    char *b = buf[k++ & 3];
    snprintf(b, sizeof(buf[0]), "%s/testdata/stats/%s%s", src_dir(), name, ext);
    return b;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return b;
}

static AieStatsOpts default_opts(void)
{
    AieStatsOpts o = {.since_ms = INT64_MIN, .until_ms = INT64_MAX, .by = {"tool"}, .nby = 1};
    return o;
}

/* Render a finished report into a string (caller frees). */
static char *render(const AieStats *s, AieStatsFormat fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int rc = aie_stats_render(s, fmt, f);
    fclose(f);
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

static AieStats *run_file(const char *path, const AieStatsOpts *o)
{
    AieStats *s = NULL;
    char err[256] = "";
    if (aie_stats_create(&s, o, err, sizeof(err)))
        return NULL;
    if (aie_stats_read_file(s, path, err, sizeof(err)) || aie_stats_finish(s, 0)) {
        fprintf(stderr, "\n  %s: %s\n", path, err);
        aie_stats_free(&s);
    }
    return s;
}

static AieStats *run_mem(const char *data, size_t len, const AieStatsOpts *o)
{
    AieStats *s = NULL;
    if (aie_stats_create(&s, o, NULL, 0))
        return NULL;
    if (aie_stats_feed(s, "mem", data, len) || aie_stats_finish(s, 0))
        aie_stats_free(&s);
    return s;
}

/* ---- expected-vs-actual JSON comparison ---- */

static int mismatches;

static void miss(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void miss(const char *path, const char *fmt, ...)
{
    if (mismatches++ < 25) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "\n  %s: ", path);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
}

/* percentiles read from log-bucket histograms carry the stated error */
static double tolerance(const char *path)
{
    if (strstr(path, "/run_fps/") || strstr(path, "/queue_wait_s/p") ||
        (strstr(path, "/quality/") && (strstr(path, "/p50") || strstr(path, "/p90"))))
        return AIE_STATS_PCT_ERROR + 1e-9;
    return 1e-6;
}

static int is_number(json_object *o)
{
    return json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double);
}

static void compare(json_object *exp, json_object *act, const char *path);

static int str_in_array(json_object *arr, const char *s)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++)
        if (!strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s))
            return 1;
    return 0;
}

static void compare_finding(json_object *e, json_object *a, const char *path)
{
    static const char *const keys[] = {"id", "severity", "subject"};
    for (int i = 0; i < 3; i++) {
        json_object *x, *y;
        json_object_object_get_ex(e, keys[i], &x);
        if (!json_object_object_get_ex(a, keys[i], &y) || strcmp(json_object_get_string(x), json_object_get_string(y)))
            miss(path, "%s %s, want %s", keys[i], y ? json_object_get_string(y) : "(none)", json_object_get_string(x));
    }
    json_object *ei, *ai;
    if (json_object_object_get_ex(e, "inputs", &ei) && json_object_array_length(ei) &&
        json_object_object_get_ex(a, "inputs", &ai)) {
        /* the same set of inputs (the report lists at most --top of them) */
        size_t ne = json_object_array_length(ei), na = json_object_array_length(ai);
        if (na != ne && !(na == 5 && ne > 5))
            miss(path, "%zu inputs named, want %zu", na, ne);
        for (size_t i = 0; i < na; i++)
            if (!str_in_array(ei, json_object_get_string(json_object_array_get_idx(ai, i))))
                miss(path, "input %s is not expected", json_object_get_string(json_object_array_get_idx(ai, i)));
    }
}

static void compare(json_object *exp, json_object *act, const char *path)
{
    char sub[512];
    if (!exp) {
        if (act && !json_object_is_type(act, json_type_null))
            miss(path, "%s, want null", json_object_to_json_string(act));
        return;
    }
    if (!act) {
        miss(path, "null, want %s", json_object_to_json_string(exp));
        return;
    }
    switch (json_object_get_type(exp)) {
    case json_type_object: {
        if (!json_object_is_type(act, json_type_object)) {
            miss(path, "not an object");
            return;
        }
        json_object_object_foreach(exp, k, v)
        {
            json_object *a = NULL;
            snprintf(sub, sizeof(sub), "%s/%s", path, k);
            if (!json_object_object_get_ex(act, k, &a)) {
                miss(sub, "missing");
                continue;
            }
            compare(v, a, sub);
        }
        return;
    }
    case json_type_array: {
        if (!json_object_is_type(act, json_type_array)) {
            miss(path, "not an array");
            return;
        }
        size_t ne = json_object_array_length(exp), na = json_object_array_length(act);
        int classes = strstr(path, "/classes") != NULL, findings = strstr(path, "/findings") != NULL;
        if (ne != na && !classes) {
            miss(path, "%zu elements, want %zu", na, ne);
            if (findings)
                miss(path, "findings %s", json_object_to_json_string(act));
            return;
        }
        for (size_t i = 0; i < ne; i++) {
            json_object *e = json_object_array_get_idx(exp, i), *a = NULL;
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            if (classes) { /* by label */
                json_object *lab, *al;
                json_object_object_get_ex(e, "label", &lab);
                for (size_t j = 0; j < na && !a; j++) {
                    json_object *c = json_object_array_get_idx(act, j);
                    if (json_object_object_get_ex(c, "label", &al) &&
                        !strcmp(json_object_get_string(al), json_object_get_string(lab)))
                        a = c;
                }
                if (!a) {
                    miss(sub, "class %s missing", json_object_get_string(lab));
                    continue;
                }
                /* quality outliers: compare the inputs as a set */
                json_object *eq, *aq;
                if (json_object_object_get_ex(e, "quality", &eq) && json_object_object_get_ex(a, "quality", &aq)) {
                    json_object_object_foreach(eq, qn, qv)
                    {
                        json_object *av, *eo, *ao;
                        char qp[600];
                        snprintf(qp, sizeof(qp), "%s/quality/%s", sub, qn);
                        if (!json_object_object_get_ex(aq, qn, &av)) {
                            miss(qp, "missing");
                            continue;
                        }
                        json_object_object_get_ex(qv, "outliers", &eo);
                        json_object_object_get_ex(av, "outliers", &ao);
                        size_t n1 = json_object_array_length(eo), n2 = ao ? json_object_array_length(ao) : 0;
                        if (n1 != n2)
                            miss(qp, "%zu outliers, want %zu", n2, n1);
                        for (size_t m = 0; m < n2; m++) {
                            json_object *in;
                            json_object_object_get_ex(json_object_array_get_idx(ao, m), "input", &in);
                            if (!str_in_array(eo, json_object_get_string(in)))
                                miss(qp, "outlier %s is not expected", json_object_get_string(in));
                        }
                    }
                }
                json_object *er, *ar;
                json_object_object_get_ex(e, "runs", &er);
                json_object_object_get_ex(a, "runs", &ar);
                compare(er, ar, sub);
                continue;
            }
            a = json_object_array_get_idx(act, i);
            if (findings)
                compare_finding(e, a, sub);
            else
                compare(e, a, sub);
        }
        return;
    }
    case json_type_string:
        if (!json_object_is_type(act, json_type_string) ||
            strcmp(json_object_get_string(exp), json_object_get_string(act)))
            miss(path, "\"%s\", want \"%s\"", json_object_get_string(act), json_object_get_string(exp));
        return;
    case json_type_boolean:
        if (!json_object_is_type(act, json_type_boolean) || json_object_get_boolean(act) != json_object_get_boolean(exp))
            miss(path, "%s, want %s", json_object_to_json_string(act), json_object_to_json_string(exp));
        return;
    case json_type_int:
    case json_type_double: {
        if (!is_number(act)) {
            miss(path, "%s, want %s", json_object_to_json_string(act), json_object_to_json_string(exp));
            return;
        }
        if (json_object_is_type(exp, json_type_int) && json_object_is_type(act, json_type_int)) {
            if (json_object_get_int64(exp) != json_object_get_int64(act))
                miss(path, "%lld, want %lld", (long long)json_object_get_int64(act),
                     (long long)json_object_get_int64(exp));
            return;
        }
        double e = json_object_get_double(exp), a = json_object_get_double(act);
        double tol = tolerance(path);
        if (!(fabs(a - e) <= tol * fabs(e) + 1e-9))
            miss(path, "%.12g, want %.12g (tolerance %.2g)", a, e, tol);
        return;
    }
    default:
        return;
    }
}

/* Every golden log gives the oracle's answers: counts exact, percentiles
 * within the stated 0.55%, the same findings on the same subjects. */
static void test_golden(void)
{
    for (size_t g = 0; g < NGOLDEN; g++) {
        json_object *exp = json_object_from_file(golden_path(golden[g], ".expect.json"));
        CU_ASSERT_PTR_NOT_NULL_FATAL(exp);
        AieStatsOpts o = default_opts();
        json_object *by;
        json_object_object_get_ex(exp, "by", &by);
        o.nby = (int)json_object_array_length(by);
        for (int i = 0; i < o.nby; i++)
            o.by[i] = json_object_get_string(json_object_array_get_idx(by, i));
        AieStats *s = run_file(golden_path(golden[g], ".jsonl"), &o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        char *js = render(s, AIE_STATS_JSON);
        CU_ASSERT_PTR_NOT_NULL_FATAL(js);
        json_object *act = json_tokener_parse(js);
        CU_ASSERT_PTR_NOT_NULL(act);
        mismatches = 0;
        char path[64];
        snprintf(path, sizeof(path), "%s", golden[g]);
        static const char *const parts[] = {"input", "groups", "classes", "capacity", "findings"};
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            json_object *e, *a = NULL;
            char p2[128];
            snprintf(p2, sizeof(p2), "%s/%s", path, parts[i]);
            if (json_object_object_get_ex(exp, parts[i], &e)) {
                if (!json_object_object_get_ex(act, parts[i], &a))
                    miss(p2, "missing");
                else
                    compare(e, a, p2);
            }
        }
        if (mismatches)
            fprintf(stderr, "\n  %s: %d mismatches\n", golden[g], mismatches);
        CU_ASSERT_EQUAL(mismatches, 0);
        json_object_put(act);
        json_object_put(exp);
        free(js);
        aie_stats_free(&s);
    }
}

/* Each finding fires on the log built for it; the healthy log draws none. */
static void test_findings_fire(void)
{
    static const struct {
        const char *log, *id;
    } want[] = {
        {"decode_bound", "decode_bound"}, {"encode_bound", "encode_bound"}, {"process_bound", "process_bound"},
        {"threads_idle", "threads_idle"}, {"errors", "error_rate"}, {"outliers", "slow_runs"},
        {"outliers", "slow_frames"}, {"memory", "memory"}, {"queue", "queue_congestion"},
        {"queue", "queue_wait"}, {"cache", "cache_low"}, {"regression", "regression"},
        {"capacity", "capacity"}, {"quality", "quality_outliers"}, {"damaged", "incomplete_runs"},
        {"damaged", "metrics_dropped"},
    };
    AieStatsOpts o = default_opts();
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        AieStats *s = run_file(golden_path(want[i].log, ".jsonl"), &o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        int found = 0;
        for (int k = 0; k < s->nfindings; k++)
            if (!strcmp(s->findings[k].id, want[i].id)) {
                found = 1;
                /* numbers, an action and a subject */
                CU_ASSERT(s->findings[k].nev > 0);
                CU_ASSERT(strlen(s->findings[k].recommendation) > 20);
                CU_ASSERT(strlen(s->findings[k].summary) > 20);
            }
        if (!found)
            fprintf(stderr, "\n  %s: no %s finding\n", want[i].log, want[i].id);
        CU_ASSERT(found);
        aie_stats_free(&s);
    }
    AieStats *s = run_file(golden_path("healthy", ".jsonl"), &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->nfindings, 0);
    for (int k = 0; k < s->nfindings; k++)
        fprintf(stderr, "\n  healthy: unexpected %s: %s\n", s->findings[k].id, s->findings[k].summary);
    /* ... whatever the grouping */
    AieStatsOpts o2 = default_opts();
    o2.by[0] = "host";
    o2.by[1] = "day";
    o2.nby = 2;
    aie_stats_free(&s);
    s = run_file(golden_path("healthy", ".jsonl"), &o2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->nfindings, 0);
    aie_stats_free(&s);
}

/* The scanner gives json-c's record, field by field, on every line of every
 * golden log, and handles every line the real writer produces itself. */
static void test_scanner_vs_jsonc(void)
{
    static StatsRec a, b;
    aie_rec_init(&a);
    aie_rec_init(&b);
    long checked = 0, fell_back = 0;
    for (size_t g = 0; g < NGOLDEN; g++) {
        size_t len;
        char *data = slurp(golden_path(golden[g], ".jsonl"), &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(data);
        int writer_made = strcmp(golden[g], "damaged") != 0;
        char *p = data, *end = data + len;
        int lineno = 0;
        while (p < end) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            lineno++;
            int rs = aie_rec_scan(&a, p, n);
            int rj = aie_rec_parse_jsonc(&b, p, n);
            if (rs == SCAN_OK) {
                checked++;
                CU_ASSERT_EQUAL(rj, 0);
                int diff = aie_rec_compare(&a, &b);
                if (diff)
                    fprintf(stderr, "\n  %s:%d: scanner and json-c differ at field %d\n", golden[g], lineno, diff - 1);
                CU_ASSERT_EQUAL(diff, 0);
            } else {
                fell_back++;
                if (writer_made && rj == 0)
                    fprintf(stderr, "\n  %s:%d: the scanner did not take a writer's line\n", golden[g], lineno);
                CU_ASSERT(!writer_made || rj != 0);
            }
            aie_rec_release(&a);
            aie_rec_release(&b);
            p += n + 1;
        }
        free(data);
    }
    CU_ASSERT(checked > 1000);
    /* edge cases: when the scanner takes a line, it must be json-c's record */
    static const char *const edge[] = {
        "{\"v\":1,\"ts\":\"2025-11-20T10:00:00Z\",\"event\":\"run_end\",\"v\":1}",
        "{\"v\":1,\"tags\":{\"a\":\"1\",\"a\":\"2\"}}",
        "{\"v\":1,\"tags\":{\"a\":\"1\",\"b\":2,\"c\":null}}",
        "{\"v\":1,\"quality\":{\"x\":1,\"y\":\"s\",\"z\":2.5e-3,\"w\":-0}}",
        "{\"tool\":\"caf\\u00e9\\n\\\"q\\\"\\/\\\\\",\"host\":\"\\ud83d\\ude00\"}",
        "{\"run_id\":\"a\\u0000b\"}",
        "{\"frames_done\":99999999999999999999,\"fps\":1e400}",
        "{\"frames_done\":-9223372036854775808,\"fps\":-0.0,\"rss_kb\":1E2,\"pid\":12.0}",
        "{\"fps\":NaN}",
        "{\"fps\":87.701245532390232,\"in_flight\":0}",
        "{\"v\":01}",
        "{\"v\":1,}",
        "{\"v\":1} x",
        "{\"v\":1}\f",
        " {\"v\" : 1 }\r",
        "{\"frame_ms_hist\":[[1,2],[3,4.5]]}",
        "{\"frame_ms_hist\":[[5000,2],[3,-4],[7,1]]}",
        "{\"frame_ms_hist\":[]}",
        "{\"frame_ms_hist\":[[1,2,3]]}",
        "{\"input\":{\"name\":1,\"width\":\"w\",\"height\":7,\"extra\":[{}]}}",
        "{\"stages_ms\":{\"read\":1,\"process\":2.5,\"gc\":3}}",
        "{\"error\":null,\"model\":null,\"status\":null,\"tool\":5}",
        "{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
        "{\"a\":1,\"a\":2}",
        "{\"start\":\"x\",\"end\":\"y\",\"timed_out\":true,\"interrupted\":false,\"metrics_queued\":1,"
        "\"metrics_dropped\":0,\"options\":{\"a\":[1]},\"zz\":1}",
        "{\"t\\u0041gs\":{}}",
        "{\"ts\":\"2025-02-30T10:00:00Z\",\"event\":\"x\"}",
        "{\"ts\":\"2025-11-20T10:00:00.123456+05:30\",\"event\":\"snapshot\"}",
        "{\"v\":true,\"pid\":false,\"host\":[]}",
        "{\"\":1}",
        "[]",
        "{",
        "",
    };
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        int rs = aie_rec_scan(&a, edge[i], strlen(edge[i]));
        int rj = aie_rec_parse_jsonc(&b, edge[i], strlen(edge[i]));
        if (rs == SCAN_OK) {
            int diff = rj == 0 ? aie_rec_compare(&a, &b) : -1;
            if (diff)
                fprintf(stderr, "\n  edge %zu (%s): scanner and json-c differ (%d)\n", i, edge[i], diff);
            CU_ASSERT_EQUAL(diff, 0);
        }
        aie_rec_release(&a);
        aie_rec_release(&b);
    }
    /* and the scanner really is the path taken: the common shapes do not fall back */
    CU_ASSERT_EQUAL(aie_rec_scan(&a, edge[9], strlen(edge[9])), SCAN_OK);
    CU_ASSERT_EQUAL(aie_rec_scan(&a, edge[14], strlen(edge[14])), SCAN_OK);
    CU_ASSERT_EQUAL(aie_rec_scan(&a, edge[4], strlen(edge[4])), SCAN_FALLBACK); /* surrogates: json-c decides */
    aie_rec_free(&a);
    aie_rec_free(&b);
}

/* The fuzz seed corpus through the fuzz target's body (make check replays it). */
static void test_fuzz_corpus(void)
{
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/testdata/fuzz/stats_line", src_dir());
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX + 400];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t len;
        char *data = slurp(path, &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(data);
        int bad = stats_fuzz_one((const uint8_t *)data, len);
        if (bad)
            fprintf(stderr, "\n  %s: scanner and json-c disagree\n", e->d_name);
        CU_ASSERT_EQUAL(bad, 0);
        /* and the plots of whatever it holds */
        AieStatsOpts o = default_opts();
        AieStats *s = run_mem(data, len, &o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL(aie_stats_plot(s, tests_tmp_path("fuzz.svg"), NULL, 0), 0);
        CU_ASSERT_EQUAL(tests_plot_png(s, tests_tmp_path("fuzz.png"), NULL, 0), 0);
        aie_stats_free(&s);
        free(data);
        n++;
    }
    closedir(d);
    CU_ASSERT(n >= 10);
}

/* ---- percentiles ---- */

static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double exact_rank(const double *sorted, size_t n, double q)
{
    size_t rank = (size_t)ceil(q * (double)n);
    if (rank < 1)
        rank = 1;
    return sorted[rank - 1];
}

/* Percentiles from the histograms are within 0.55% of the exact nearest-rank
 * percentile of the raw values. */
static void test_percentile_error(void)
{
    enum { N = 20000 };
    static double v[N];
    static AieHist h;
    memset(&h, 0, sizeof(h));
    SHist sh = {0}, neg = {0};
    for (int i = 0; i < N; i++) {
        /* frame times: lognormal around 20 ms, with a tail */
        double u1 = urand() + 1e-12, u2 = urand();
        double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
        v[i] = 20000 * exp(0.4 * z) * (i % 50 == 0 ? 8 : 1);
        aie_hist_add(&h, v[i]);
        CU_ASSERT_EQUAL(aie_shist_add(&sh, v[i] / 1e5), 0); /* fps-like values around 0.2 */
        CU_ASSERT_EQUAL(aie_shist_add(&neg, (i % 3 ? 1 : -1) * v[i] / 1e4 * (i % 7 == 0 ? 0 : 1)), 0);
    }
    qsort(v, N, sizeof(v[0]), dcmp);
    double worst = 0;
    for (int k = 0; k < 4; k++) {
        double q = aie_stats_quantiles[k];
        double e = exact_rank(v, N, q);
        double rel1 = fabs(aie_hist_quantile(&h, q) - e) / e;
        double rel2 = fabs(aie_shist_quantile(&sh, q) - e / 1e5) / (e / 1e5);
        worst = fmax(worst, fmax(rel1, rel2));
    }
    CU_ASSERT(worst <= AIE_STATS_PCT_ERROR);
    /* signed values and zeros */
    static double w[N];
    rng = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        double u1 = urand() + 1e-12, u2 = urand();
        double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
        double x = 20000 * exp(0.4 * z) * (i % 50 == 0 ? 8 : 1);
        w[i] = (i % 3 ? 1 : -1) * x / 1e4 * (i % 7 == 0 ? 0 : 1);
    }
    qsort(w, N, sizeof(w[0]), dcmp);
    for (double q = 0.01; q < 1; q += 0.07) {
        double e = exact_rank(w, N, q), got = aie_shist_quantile(&neg, q);
        if (e == 0) {
            CU_ASSERT_EQUAL(got, 0);
        } else {
            CU_ASSERT(fabs(got - e) <= AIE_STATS_PCT_ERROR * fabs(e));
        }
    }
    CU_ASSERT_EQUAL(aie_shist_quantile(&neg, 1.0), w[N - 1]);
    CU_ASSERT_EQUAL(aie_shist_quantile(&neg, 0.0), w[0]);
    aie_shist_free(&sh);
    aie_shist_free(&neg);
}

/* ---- robustness ---- */

static void test_damaged_counts(void)
{
    static const char log[] =
        "{\"v\":1,\"ts\":\"2026-01-01T00:00:00.000Z\",\"tool\":\"t\",\"event\":\"run_start\",\"run_id\":\"r1\"}\n"
        "garbage\n"
        "\n"
        "{\"v\":1,\"ts\":\"2026-01-01T00:00:01.000Z\",\"tool\":\"t\",\"ev\n"  /* torn */
        "{\"v\":2,\"ts\":\"2026-01-01T00:00:02.000Z\",\"tool\":\"t\",\"event\":\"run_end\"}\n"
        "{\"v\":\"1\",\"ts\":\"2026-01-01T00:00:02.000Z\",\"event\":\"run_end\"}\n"
        "{\"ts\":\"2026-01-01T00:00:02.000Z\",\"event\":\"run_end\"}\n"
        "{\"v\":1,\"ts\":\"2026-01-01T00:00:03.000Z\",\"tool\":\"t\",\"event\":\"rotate\"}\n"
        "{\"v\":1,\"ts\":\"not a time\",\"tool\":\"t\",\"event\":\"run_end\"}\n"
        "{\"v\":1,\"tool\":\"t\",\"event\":\"run_end\"}\n"
        "{\"v\":1,\"ts\":\"2026-01-01T00:00:04.000Z\",\"tool\":\"t\",\"event\":\"run_end\",\"run_id\":\"r2\","
        "\"status\":\"ok\",\"new_field\":[1],\"another\":{}}\n"
        "{\"v\":1,\"ts\":\"2026-01-01T00:00:05.000Z\",\"tool\":\"t\",\"event\":\"run_end\",\"status\":\"ok\"}{\"v\":1,"
        "\"ts\":\"2026-01-01T00:00:06.000Z\",\"tool\":\"t\",\"event\":\"run_end\",\"status\":\"ok\"}\n"
        "{\"v\":1,\"ts\":\"2026-01-01T00:00:07.000Z\",\"tool\":\"t\",\"event\":\"snapshot\",\"run_id\":\"r1\","
        "\"frames_done\":5,\"frames_total\":10}\n"
        "{\"v\":1,\"ts\":\"2026-01-01T00:00:08.000Z\",\"tool\":\"t\",\"event\":\"run_end\",\"status\":\"ok\"";
    AieStatsOpts o = default_opts();
    AieStats *s = run_mem(log, sizeof(log) - 1, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    AieStatsCounts c;
    aie_stats_counts(s, &c);
    CU_ASSERT_EQUAL(c.lines, 13);
    CU_ASSERT_EQUAL(c.garbage, 1);
    CU_ASSERT_EQUAL(c.torn, 2 + 1); /* the cut one, the glued pair's first half... */
    CU_ASSERT_EQUAL(c.unknown_version, 3);
    CU_ASSERT_EQUAL(c.unknown_event, 1);
    CU_ASSERT_EQUAL(c.invalid, 2);
    CU_ASSERT_EQUAL(c.unknown_fields, 2);
    CU_ASSERT_EQUAL(c.used, 4);
    /* r1: started, a snapshot at 50%, never ended */
    CU_ASSERT_EQUAL(s->ngroups, 1);
    CU_ASSERT_EQUAL(s->groups[0]->incomplete, 1);
    CU_ASSERT_EQUAL(s->groups[0]->open_list.items[0].i1, 5);
    CU_ASSERT_EQUAL(s->groups[0]->open_list.items[0].i2, 10);
    CU_ASSERT_EQUAL(s->groups[0]->runs, 2);
    char *txt = render(s, AIE_STATS_TEXT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(txt);
    CU_ASSERT_PTR_NOT_NULL(strstr(txt, "3 torn, 1 garbage"));
    CU_ASSERT_PTR_NOT_NULL(strstr(txt, "3 records of an unknown schema version"));
    free(txt);
    aie_stats_free(&s);

    /* an oversize line is skipped and counted, and the next line still read */
    size_t big = AIE_STATS_MAX_LINE + 100;
    char *b = malloc(big + 200);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    memset(b, 'x', big);
    b[0] = '{';
    const char *tail = "\n{\"v\":1,\"ts\":\"2026-01-01T00:00:00Z\",\"tool\":\"t\",\"event\":\"run_end\",\"status\":\"ok\"}\n";
    memcpy(b + big, tail, strlen(tail));
    s = NULL;
    CU_ASSERT_EQUAL(aie_stats_create(&s, &o, NULL, 0), 0);
    for (size_t off = 0; off < big + strlen(tail); off += 65536) {
        size_t n = big + strlen(tail) - off < 65536 ? big + strlen(tail) - off : 65536;
        CU_ASSERT_EQUAL(aie_stats_feed(s, "big", b + off, n), 0);
    }
    CU_ASSERT_EQUAL(aie_stats_finish(s, 0), 0);
    aie_stats_counts(s, &c);
    CU_ASSERT_EQUAL(c.oversize, 1);
    CU_ASSERT_EQUAL(c.used, 1);
    CU_ASSERT(aie_stats_mem_bytes(s) < 4u << 20); /* the long line was never held whole */
    aie_stats_free(&s);
    free(b);
}

/* Lines split anywhere across feeds give the same report as one feed. */
static void test_split_feeds(void)
{
    size_t len;
    char *data = slurp(golden_path("damaged", ".jsonl"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    AieStatsOpts o = default_opts();
    AieStats *whole = run_mem(data, len, &o), *bits = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(whole);
    CU_ASSERT_EQUAL(aie_stats_create(&bits, &o, NULL, 0), 0);
    size_t step = 1;
    for (size_t off = 0; off < len; off += step, step = step * 3 % 17 + 1)
        CU_ASSERT_EQUAL(aie_stats_feed(bits, "mem", data + off, off + step > len ? len - off : step), 0);
    CU_ASSERT_EQUAL(aie_stats_finish(bits, 0), 0);
    char *a = render(whole, AIE_STATS_JSON), *b = render(bits, AIE_STATS_JSON);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_EQUAL(a, b);
    free(a);
    free(b);
    aie_stats_free(&whole);
    aie_stats_free(&bits);
    free(data);
}

/* A log written by 8 processes at once through the real writer parses with
 * no torn records, every line through the scanner. */
static void test_concurrent_writers(void)
{
    const char *path = tests_tmp_path("stats8.jsonl");
    enum { PROCS = 8, RUNS = 25, SNAPS = 6 };
    for (int p = 0; p < PROCS; p++) {
        pid_t pid = fork();
        if (pid == 0) {
            int bad = 0;
            for (int r = 0; r < RUNS; r++) {
                const char *tags[] = {"shot=7"};
                AieMetricsConfig mc = {.path = path, .tool = "aie-upscale", .version = "0.1.0", .tags = tags,
                                       .ntags = 1};
                AieMetrics *m;
                if (aie_metrics_open(&m, &mc, NULL, 0))
                    _exit(1);
                AieRunInfo ri = {.method = "lanczos", .threads = 2,
                                 .input = {"in.y4m", 64, 48, 25, "yuv420p"},
                                 .output = {"out.y4m", 128, 96, 25, "yuv420p"}};
                aie_metrics_run_start(m, &ri);
                static AiePipelineStats st;
                memset(&st, 0, sizeof(st));
                for (int k = 0; k < SNAPS; k++)
                    aie_metrics_snapshot(m, k * 10, 60, 25.5 + k, 3);
                st.frames_in = st.frames_out = 60;
                st.wall_ms = 1200 + p * 10 + r;
                st.read_ms = 300;
                st.process_ms = 1500;
                st.write_ms = 400;
                st.wait_ms = 100;
                for (int f = 0; f < 60; f++)
                    aie_hist_add(&st.frame_hist, 20000 + 100 * f);
                aie_metrics_run_end(m, &ri, &st, r % 10 == 9 ? "failed" : "ok", r % 10 == 9 ? "in.y4m: broken" : NULL,
                                    "{\"roundtrip_psnr_db\":41.5}");
                bad |= aie_metrics_dropped(m) != 0;
                aie_metrics_close(&m);
            }
            _exit(bad);
        }
    }
    int ok = 1, st;
    for (int p = 0; p < PROCS; p++) {
        wait(&st);
        ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    CU_ASSERT(ok);
    AieStatsOpts o = default_opts();
    AieStats *s = run_file(path, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    AieStatsCounts c;
    aie_stats_counts(s, &c);
    CU_ASSERT_EQUAL(c.records, PROCS * RUNS * (2 + SNAPS));
    CU_ASSERT_EQUAL(c.torn, 0);
    CU_ASSERT_EQUAL(c.garbage, 0);
    CU_ASSERT_EQUAL(c.fallback, 0); /* the scanner took every line */
    CU_ASSERT_EQUAL(c.used, c.records);
    CU_ASSERT_EQUAL(c.unknown_fields, 0); /* this reader knows every field the writer writes */
    CU_ASSERT_EQUAL(s->ngroups, 1);
    CU_ASSERT_EQUAL(s->groups[0]->runs, PROCS * RUNS);
    CU_ASSERT_EQUAL(s->groups[0]->failed, PROCS * 2); /* runs 9 and 19 of each writer */
    CU_ASSERT_EQUAL(s->groups[0]->incomplete, 0);
    CU_ASSERT_EQUAL(s->groups[0]->frame_hist->total, (uint64_t)(PROCS * RUNS - PROCS * 2) * 60);
    aie_stats_free(&s);
}

/* Memory does not grow with the log: 10x the runs, the same bytes. Open runs
 * are capped by the LRU. */
static void test_memory_bounded(void)
{
    size_t bytes[2];
    for (int pass = 0; pass < 2; pass++) {
        int runs = pass ? 100000 : 10000;
        AieStatsOpts o = default_opts();
        o.by[1] = "host";
        o.nby = 2;
        o.max_open_runs = 1000;
        AieStats *s = NULL;
        CU_ASSERT_EQUAL_FATAL(aie_stats_create(&s, &o, NULL, 0), 0);
        char line[1024];
        for (int r = 0; r < runs; r++) {
            int64_t t = 1763632800000LL + (int64_t)r * 1000;
            char ts[32];
            aie_stats_format_ts(ts, t);
            int n = snprintf(line, sizeof(line),
                             "{\"v\":1,\"ts\":\"%s\",\"tool\":\"aie-upscale\",\"version\":\"0.1.0\",\"event\":\"run_start\","
                             "\"run_id\":\"%032x\",\"host\":\"h%d\",\"pid\":1,\"tags\":{}}\n",
                             ts, r, r % 4);
            CU_ASSERT_EQUAL(aie_stats_feed(s, "mem", line, (size_t)n), 0);
            if (r % 5 == 0)
                continue; /* never ends */
            n = snprintf(line, sizeof(line),
                         "{\"v\":1,\"ts\":\"%s\",\"tool\":\"aie-upscale\",\"version\":\"0.1.0\",\"event\":\"run_end\","
                         "\"run_id\":\"%032x\",\"host\":\"h%d\",\"pid\":1,\"tags\":{},\"status\":\"%s\",\"error\":%s,"
                         "\"method\":\"lanczos\",\"model\":null,\"threads\":4,\"input\":{\"name\":\"in%d.mkv\",\"width\":1920,"
                         "\"height\":1080,\"fps\":25.0,\"pix_fmt\":\"yuv420p\"},\"output\":{\"name\":\"o.mp4\",\"width\":3840,"
                         "\"height\":2160,\"fps\":25.0,\"pix_fmt\":\"yuv420p\"},\"cores\":8,\"mem_total_kb\":1000000,"
                         "\"frames_in\":100,\"frames_out\":100,\"wall_ms\":%d,\"cpu_user_ms\":3000,\"cpu_sys_ms\":10,"
                         "\"maxrss_kb\":5000,\"stages_ms\":{\"read\":100,\"process\":3000,\"write\":200,\"wait\":10},"
                         "\"frame_ms_hist\":[[900,50],[%d,50]],\"quality\":{\"q\":%d.5},\"dropped_records\":0}\n",
                         ts, r, r % 4, r % 13 ? "ok" : "failed", r % 13 ? "null" : "\"in.mkv: bad\"", r,
                         1000 + r % 50, 900 + r % 40, 30 + r % 5);
            CU_ASSERT_EQUAL(aie_stats_feed(s, "mem", line, (size_t)n), 0);
        }
        CU_ASSERT_EQUAL(aie_stats_finish(s, 0), 0);
        AieStatsCounts c;
        aie_stats_counts(s, &c);
        CU_ASSERT_EQUAL(s->ngroups, 4);
        int64_t incomplete = 0;
        for (int g = 0; g < s->ngroups; g++)
            incomplete += s->groups[g]->incomplete;
        /* every run that never ended is either reported or counted as forgotten;
         * at most the cap are held */
        CU_ASSERT_EQUAL(incomplete + c.runs_forgotten, runs / 5);
        CU_ASSERT(incomplete <= 1000 && incomplete >= 999);
        bytes[pass] = aie_stats_mem_bytes(s);
        aie_stats_free(&s);
    }
    CU_ASSERT(bytes[1] < bytes[0] * 11 / 10);
}

/* ---- formats ---- */

/* RFC 4180 rows: returns the number of fields per row in cols[], rows count */
static int csv_rows(const char *t, int *cols, int maxrows)
{
    int rows = 0, fields = 1, inq = 0;
    for (const char *p = t; *p; p++) {
        if (inq) {
            if (*p == '"' && p[1] == '"')
                p++;
            else if (*p == '"')
                inq = 0;
        } else if (*p == '"') {
            inq = 1;
        } else if (*p == ',') {
            fields++;
        } else if (*p == '\n') {
            if (rows < maxrows)
                cols[rows] = fields;
            rows++;
            fields = 1;
        }
    }
    return rows;
}

static int is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
static int is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

/* One line of the Prometheus text exposition format (0.0.4); families are
 * declared (TYPE) before their samples. Returns 0 when valid. */
static int prom_line(const char *l, char types[][80], int *ntypes)
{
    if (!strncmp(l, "# HELP ", 7) || !strncmp(l, "# TYPE ", 7)) {
        const char *p = l + 7;
        if (!is_name_start(*p))
            return 1;
        const char *s = p;
        while (is_name_char(*p))
            p++;
        if (*p != ' ')
            return 2;
        if (l[2] == 'T') {
            const char *t = p + 1;
            if (strcmp(t, "gauge") && strcmp(t, "counter") && strcmp(t, "summary") && strcmp(t, "histogram") &&
                strcmp(t, "untyped"))
                return 3;
            snprintf(types[(*ntypes)++ % 64], 80, "%.*s", (int)(p - s), s);
        }
        return 0;
    }
    if (l[0] == '#')
        return 0;
    const char *p = l, *s = l;
    if (!is_name_start(*p))
        return 4;
    while (is_name_char(*p))
        p++;
    char name[80];
    snprintf(name, sizeof(name), "%.*s", (int)(p - s), s);
    int declared = 0;
    for (int i = 0; i < *ntypes && i < 64; i++) {
        size_t n = strlen(types[i]);
        if (!strcmp(name, types[i]) ||
            (!strncmp(name, types[i], n) && (!strcmp(name + n, "_sum") || !strcmp(name + n, "_count"))))
            declared = 1;
    }
    if (!declared)
        return 5;
    if (*p == '{') {
        p++;
        while (*p != '}') {
            if (!(is_name_start(*p) && *p != ':'))
                return 6;
            while (is_name_char(*p) && *p != ':')
                p++;
            if (*p++ != '=' || *p++ != '"')
                return 7;
            while (*p && *p != '"') {
                if (*p == '\\') {
                    if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                        return 8;
                    p++;
                } else if (*p == '\n') {
                    return 9;
                }
                p++;
            }
            if (*p++ != '"')
                return 10;
            if (*p == ',')
                p++;
            else if (*p != '}')
                return 11;
        }
        p++;
    }
    if (*p++ != ' ')
        return 12;
    if (!strcmp(p, "+Inf") || !strcmp(p, "-Inf") || !strcmp(p, "NaN"))
        return 0;
    char *end;
    strtod(p, &end);
    if (end == p)
        return 13;
    if (*end == ' ') { /* optional timestamp */
        strtoll(end + 1, &end, 10);
    }
    return *end ? 14 : 0;
}

/* A small XML well-formedness checker: balanced tags, quoted attributes,
 * known entities, one root. Returns 0 when well formed. */
static int xml_check(const char *x)
{
    const char *stack[64];
    size_t lens[64];
    int depth = 0, roots = 0;
    const char *p = x;
    if (!strncmp(p, "<?xml", 5)) {
        p = strstr(p, "?>");
        if (!p)
            return 1;
        p += 2;
    }
    while (*p) {
        if (*p == '<') {
            if (p[1] == '/') {
                const char *n = p + 2, *e = n;
                while (is_name_char(*e) || *e == '-')
                    e++;
                if (!depth || lens[depth - 1] != (size_t)(e - n) || strncmp(stack[depth - 1], n, lens[depth - 1]))
                    return 2;
                depth--;
                if (*e != '>')
                    return 3;
                p = e + 1;
                continue;
            }
            const char *n = p + 1, *e = n;
            if (!is_name_start(*n))
                return 4;
            while (is_name_char(*e) || *e == '-')
                e++;
            const char *q = e;
            for (;;) {
                while (*q == ' ' || *q == '\n')
                    q++;
                if (*q == '>' || (*q == '/' && q[1] == '>'))
                    break;
                if (!is_name_start(*q))
                    return 5;
                while (is_name_char(*q) || *q == '-')
                    q++;
                if (*q++ != '=' || *q++ != '"')
                    return 6;
                while (*q && *q != '"') {
                    if (*q == '<')
                        return 7;
                    q++;
                }
                if (*q++ != '"')
                    return 8;
            }
            if (!depth)
                roots++;
            if (*q == '/') {
                p = q + 2;
            } else {
                if (depth == 64)
                    return 9;
                stack[depth] = n;
                lens[depth++] = (size_t)(e - n);
                p = q + 1;
            }
        } else if (*p == '&') {
            const char *ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
            int ok = 0;
            for (int i = 0; i < 5; i++)
                if (!strncmp(p, ents[i], strlen(ents[i])))
                    ok = (int)strlen(ents[i]);
            if (!ok)
                return 10;
            p += ok;
        } else {
            if (!depth && *p != '\n' && *p != ' ')
                return 11;
            p++;
        }
    }
    return depth || roots != 1 ? 12 : 0;
}

static void test_formats(void)
{
    AieStatsOpts o = default_opts();
    o.by[0] = "tag:note";
    o.by[1] = "tool";
    o.nby = 2;
    AieStats *s = run_file(golden_path("damaged", ".jsonl"), &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);

    char *js = render(s, AIE_STATS_JSON);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    json_object *j = json_tokener_parse(js), *x;
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT(json_object_object_get_ex(j, "schema", &x) && json_object_get_int(x) == 1);
    CU_ASSERT(json_object_object_get_ex(j, "groups", &x) && (int)json_object_array_length(x) == s->ngroups);
    json_object_put(j);
    free(js);

    char *csv = render(s, AIE_STATS_CSV);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    int cols[64] = {0};
    int rows = csv_rows(csv, cols, 64);
    CU_ASSERT_EQUAL(rows, s->ngroups + 1);
    for (int i = 1; i < rows && i < 64; i++)
        CU_ASSERT_EQUAL(cols[i], cols[0]);
    CU_ASSERT(cols[0] > 30);
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, "\"caf\xc3\xa9 \"\"quoted\"\"\n2nd line\"")); /* quoted per RFC 4180 */
    free(csv);

    char *prom = render(s, AIE_STATS_PROM);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prom);
    static char types[64][80];
    int ntypes = 0, lines = 0;
    for (char *l = prom, *nl; *l; l = nl + 1) {
        nl = strchr(l, '\n');
        CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
        *nl = 0;
        int bad = prom_line(l, types, &ntypes);
        if (bad)
            fprintf(stderr, "\n  prom line (%d): %s\n", bad, l);
        CU_ASSERT_EQUAL(bad, 0);
        lines++;
    }
    CU_ASSERT(lines > 40);
    free(prom);

    const char *svg = tests_tmp_path("plot.svg"), *png = tests_tmp_path("plot.png");
    char err[256] = "";
    CU_ASSERT_EQUAL(aie_stats_plot(s, svg, err, sizeof(err)), 0);
    char *xml = slurp(svg, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
    int bad = xml_check(xml);
    if (bad)
        fprintf(stderr, "\n  svg not well formed (%d)\n", bad);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(xml, "caf\xc3\xa9 &quot;quoted&quot;"));
    free(xml);
    if (tests_run(out, sizeof(out), "command -v xmllint") == 0)
        CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "xmllint --noout '%s'", svg), 0);
    CU_ASSERT_EQUAL(tests_plot_png(s, png, err, sizeof(err)), 0);
    size_t plen;
    unsigned char *pn = (unsigned char *)slurp(png, &plen);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pn);
    CU_ASSERT(plen > 1000 && !memcmp(pn, "\x89PNG\r\n\x1a\n", 8));
    CU_ASSERT_EQUAL(pn[16] << 24 | pn[17] << 16 | pn[18] << 8 | pn[19], 960); /* IHDR width */
    free(pn);
    CU_ASSERT_EQUAL(aie_stats_plot(s, tests_tmp_path("plot.gif"), err, sizeof(err)), AIE_EINVAL);
    /* the checker itself rejects broken XML */
    CU_ASSERT(xml_check("<svg><rect></svg>") != 0);
    CU_ASSERT(xml_check("<svg a=\"1\">x & y</svg>") != 0);
    CU_ASSERT(xml_check("<svg/>") == 0);
    char t2[4][80];
    int n2 = 0;
    CU_ASSERT(prom_line("aie_x{a=\"1\"} 1", t2, &n2) != 0); /* no TYPE yet */
    CU_ASSERT(prom_line("# TYPE aie_x gauge", t2, &n2) == 0);
    CU_ASSERT(prom_line("aie_x{a=\"1\"} 1", t2, &n2) == 0);
    CU_ASSERT(prom_line("aie_x{a=\"\\q\"} 1", t2, &n2) != 0);
    CU_ASSERT(prom_line("aie_x{a=1} 1", t2, &n2) != 0);
    aie_stats_free(&s);
}

/* Empty selections are reports too; every format copes. */
static void test_empty(void)
{
    AieStatsOpts o = default_opts();
    AieStats *s = run_mem("", 0, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (int f = AIE_STATS_TEXT; f <= AIE_STATS_PROM; f++) {
        char *t = render(s, (AieStatsFormat)f);
        CU_ASSERT_PTR_NOT_NULL(t);
        if (f == AIE_STATS_TEXT)
            CU_ASSERT_PTR_NOT_NULL(strstr(t, "No runs in the selection"));
        if (f == AIE_STATS_JSON) {
            json_object *j = json_tokener_parse(t);
            CU_ASSERT_PTR_NOT_NULL(j);
            json_object_put(j);
        }
        free(t);
    }
    CU_ASSERT_EQUAL(aie_stats_plot(s, tests_tmp_path("empty.svg"), NULL, 0), 0);
    aie_stats_free(&s);
}

/* ---- selection ---- */

static void test_time_parse(void)
{
    int64_t t, now = 1763632800000LL; /* 2025-11-20T10:00:00Z */
    CU_ASSERT(aie_stats_parse_time("2025-11-20T10:00:00Z", now, &t) == 0 && t == now);
    CU_ASSERT(aie_stats_parse_time("2025-11-20T10:00:00.250Z", now, &t) == 0 && t == now + 250);
    CU_ASSERT(aie_stats_parse_time("2025-11-20T12:00:00+02:00", now, &t) == 0 && t == now);
    CU_ASSERT(aie_stats_parse_time("2025-11-20T05:30:00-0430", now, &t) == 0 && t == now);
    CU_ASSERT(aie_stats_parse_time("2025-11-20 10:00", now, &t) == 0 && t == now);
    CU_ASSERT(aie_stats_parse_time("2025-11-20", now, &t) == 0 && t == now - 10 * 3600000LL);
    CU_ASSERT(aie_stats_parse_time("24h", now, &t) == 0 && t == now - 86400000LL);
    CU_ASSERT(aie_stats_parse_time("7d", now, &t) == 0 && t == now - 7 * 86400000LL);
    CU_ASSERT(aie_stats_parse_time("30m", now, &t) == 0 && t == now - 1800000LL);
    CU_ASSERT(aie_stats_parse_time("1.5h", now, &t) == 0 && t == now - 5400000LL);
    CU_ASSERT(aie_stats_parse_time("2w", now, &t) == 0 && t == now - 14 * 86400000LL);
    CU_ASSERT(aie_stats_parse_time("now", now, &t) == 0 && t == now);
    CU_ASSERT(aie_stats_parse_time("2000-02-29", now, &t) == 0);
    static const char *const bad[] = {"", "yesterday", "2025-13-01", "2025-02-29", "2025-11-20T25:00Z", "-3h",
                                      "3x", "24", "2025-11-20T10:00:00Zjunk", "h"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(aie_stats_parse_time(bad[i], now, &t), AIE_EINVAL);
    char buf[32];
    aie_stats_format_ts(buf, now + 123);
    CU_ASSERT_STRING_EQUAL(buf, "2025-11-20T10:00:00.123Z");
    aie_stats_format_day(buf, -1);
    CU_ASSERT_STRING_EQUAL(buf, "1969-12-31");
}

static int64_t total_runs(const AieStats *s)
{
    int64_t n = 0;
    for (int g = 0; g < s->ngroups; g++)
        n += s->groups[g]->runs;
    return n;
}

static void test_selection(void)
{
    const char *log = golden_path("healthy", ".jsonl");
    AieStatsOpts o = default_opts();
    AieStats *all = run_file(log, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(all);
    int64_t n = total_runs(all);
    CU_ASSERT_EQUAL(n, 36);
    /* --where splits, and != is the complement */
    o.where[0] = "host=render-a";
    o.nwhere = 1;
    AieStats *a = run_file(log, &o);
    o.where[0] = "host!=render-a";
    AieStats *b = run_file(log, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT(total_runs(a) > 0 && total_runs(b) > 0);
    CU_ASSERT_EQUAL(total_runs(a) + total_runs(b), n);
    aie_stats_free(&a);
    aie_stats_free(&b);
    /* AND of filters */
    o.where[0] = "host=render-a";
    o.where[1] = "method=bicubic";
    o.nwhere = 2;
    a = run_file(log, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT(total_runs(a) > 0 && total_runs(a) < 12);
    aie_stats_free(&a);
    /* --since/--until split the window */
    o.nwhere = 0;
    int64_t cut;
    CU_ASSERT_EQUAL(aie_stats_parse_time("2025-11-21T12:00:00Z", 0, &cut), 0);
    o.until_ms = cut;
    a = run_file(log, &o);
    o.until_ms = INT64_MAX;
    o.since_ms = cut;
    b = run_file(log, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT(total_runs(a) > 0 && total_runs(b) > 0);
    CU_ASSERT_EQUAL(total_runs(a) + total_runs(b), n);
    aie_stats_free(&a);
    aie_stats_free(&b);
    /* --by day,res */
    o = default_opts();
    o.by[0] = "day";
    o.by[1] = "res";
    o.nby = 2;
    a = run_file(log, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(total_runs(a), n);
    CU_ASSERT_STRING_EQUAL(a->groups[0]->val[0], "2025-11-20");
    CU_ASSERT_STRING_EQUAL(a->groups[0]->val[1], "-"); /* job_end records have no input */
    CU_ASSERT_STRING_EQUAL(a->groups[1]->val[1], "1280x720");
    aie_stats_free(&a);
    /* no keys: one group */
    o.nby = 0;
    a = run_file(log, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT(a->ngroups == 1 && total_runs(a) == n);
    aie_stats_free(&a);
    aie_stats_free(&all);
    /* bad options */
    AieStats *s = NULL;
    char err[256];
    o = default_opts();
    o.by[0] = "colour";
    CU_ASSERT_EQUAL(aie_stats_create(&s, &o, err, sizeof(err)), AIE_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "colour"));
    o = default_opts();
    o.where[0] = "host";
    o.nwhere = 1;
    CU_ASSERT_EQUAL(aie_stats_create(&s, &o, err, sizeof(err)), AIE_EINVAL);
    CU_ASSERT_PTR_NULL(s);
}

/* ---- the command line, by running build/aie-stats ---- */

static const char *bin_dir(void)
{
    static char buf[PATH_MAX];
    return abs_dir(tests_bin_dir(), buf);
}
#define BIN bin_dir()

static void expect_cli(int rc, const char *needle, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void expect_cli(int rc, const char *needle, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    int got = tests_run(out, sizeof(out), "cd %s && %s/aie-stats %s", tests_tmp_dir(), BIN, args);
    if (got != rc || (needle && !strstr(out, needle)))
        fprintf(stderr, "\n  aie-stats %s\n  exit %d (want %d): %.600s\n", args, got, rc, out);
    CU_ASSERT_EQUAL(got, rc);
    if (needle)
        CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
}

/* Run a shell line in the scratch directory; expect its status and a needle. */
static void expect_sh(int rc, const char *needle, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void expect_sh(int rc, const char *needle, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int got = tests_run(out, sizeof(out), "cd %s && %s", tests_tmp_dir(), cmd);
    if (got != rc || (needle && !strstr(out, needle)))
        fprintf(stderr, "\n  %s\n  exit %d (want %d): %.600s\n", cmd, got, rc, out);
    CU_ASSERT_EQUAL(got, rc);
    if (needle)
        CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
}

static void test_cli(void)
{
    char path[1024];
    if (access(tests_bin_dir(), F_OK) != 0 || tests_run(out, sizeof(out), "test -x %s/aie-stats", BIN) != 0) {
        tests_skip("stats/cli", "build/aie-stats not built");
        return;
    }
    const char *healthy = golden_path("healthy", ".jsonl");
    expect_cli(0, "Usage: aie-stats [OPTIONS] [LOG...]", "--help");
    expect_cli(0, "aie-stats ", "-V");
    expect_cli(2, "aie-stats: unknown option '--frobnicate'", "--frobnicate %s", healthy);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Try 'aie-stats --help'."));
    expect_cli(2, "unknown key 'colour'", "--by colour %s", healthy);
    expect_cli(2, "unknown key 'size'", "--where size=4 %s", healthy);
    expect_cli(2, "expected KEY=VALUE", "--where host %s", healthy);
    expect_cli(2, "is not a time", "--since yesterday %s", healthy);
    expect_cli(2, "--since must come before --until", "--since 2025-11-22 --until 2025-11-20 %s", healthy);
    expect_cli(2, "exclude each other", "--json --csv %s", healthy);
    expect_cli(2, "out of range", "--top 0 %s", healthy);
    expect_cli(2, ".svg or .png", "--plot x.gif %s", healthy);
    expect_sh(2, "aie-stats: no log", "env -u AIE_METRICS %s/aie-stats", BIN);
    expect_cli(1, "aie-stats: nothere.jsonl: No such file or directory", "nothere.jsonl");
    CU_ASSERT_EQUAL(strchr(out, '\n') - out + 1, (long)strlen(out)); /* one line */
    /* one unreadable log among good ones: the report, then exit 1 */
    expect_cli(1, "tool=aie-upscale", "%s nothere.jsonl", healthy);
    expect_cli(1, "no such directory", "-o nodir/report.txt %s", healthy);
    snprintf(path, sizeof(path), "%s/copy.jsonl", tests_tmp_dir());
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "cp %s %s", healthy, path), 0);
    expect_cli(1, "same file", "-o copy.jsonl copy.jsonl");
    /* an empty selection is not an error */
    expect_cli(0, "No runs in the selection", "--since 2030-01-01 %s", healthy);
    expect_cli(0, "No runs in the selection", "/dev/null");
    /* default log from AIE_METRICS; standard input */
    expect_sh(0, "\"tool\": \"aie-interp\"", "AIE_METRICS=%s %s/aie-stats --json", healthy, BIN);
    expect_cli(0, "aie_runs{tool=\"aie-interp\",status=\"ok\"} 12", "--prom - < %s", healthy);
    /* warnings name the log; -q keeps them quiet */
    const char *damaged = golden_path("damaged", ".jsonl");
    expect_cli(0, "damaged.jsonl: 3 torn lines, 3 garbage lines", "%s > /dev/null", damaged);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "schema version other than 1"));
    expect_cli(0, NULL, "-q %s > /dev/null", damaged);
    CU_ASSERT_STRING_EQUAL(out, "");
    /* -o writes atomically and leaves no temporary file; --plot too */
    expect_cli(0, NULL, "--json -o report.json --plot p.png %s", healthy);
    snprintf(path, sizeof(path), "%s/report.json", tests_tmp_dir());
    json_object *j = json_object_from_file(path);
    CU_ASSERT_PTR_NOT_NULL(j);
    json_object_put(j);
    CU_ASSERT_NOT_EQUAL(tests_run(out, sizeof(out), "ls -a %s | grep -q 'aie-.*tmp'", tests_tmp_dir()), 0);
    /* a stale temp of a dead process is cleaned, a live one kept */
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "cd %s && : > .report.json.aie-999999.tmp && : > .report.json.aie-1.tmp",
                              tests_tmp_dir()), 0);
    expect_cli(0, NULL, "--csv -o report.json %s", healthy);
    snprintf(path, sizeof(path), "%s/.report.json.aie-999999.tmp", tests_tmp_dir());
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/.report.json.aie-1.tmp", tests_tmp_dir());
    CU_ASSERT_EQUAL(access(path, F_OK), 0);
    unlink(path);
    /* a closed pipe ends quietly with 1 */
    expect_sh(1, NULL, "{ %s/aie-stats --json %s %s %s; echo $? > pipe.rc; } | true; exit $(cat pipe.rc)",
              BIN, healthy, healthy, healthy);
    /* --top limits the lists */
    expect_cli(0, NULL, "--json --top 2 %s > top.json", golden_path("errors", ".jsonl"));
    snprintf(path, sizeof(path), "%s/top.json", tests_tmp_dir());
    j = json_object_from_file(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    json_object *g, *f;
    json_object_object_get_ex(j, "groups", &g);
    json_object_object_get_ex(json_object_array_get_idx(g, 0), "failures", &f);
    CU_ASSERT_EQUAL(json_object_array_length(f), 2);
    json_object_put(j);
}

/* Identical frames (infinite round-trip PSNR, a black clip) are counted, not
 * logged as 999 dB that drags p90; the accumulator's own members (_min,
 * _max, _frames, _hist_bin, _identical) are not listed as metrics. */
static void test_quality_identical(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("quality_identical", "ffmpeg missing");
        return;
    }
    char d[PATH_MAX];
    snprintf(d, sizeof(d), "%s", tests_tmp_path("stats-identical"));
    CU_ASSERT_EQUAL_FATAL(tests_run(out, sizeof(out),
        "mkdir -p '%s' && cd '%s' && rm -f q.jsonl && "
        "ffmpeg -v error -y -f lavfi -i color=black:s=64x48:r=25:d=0.4 -pix_fmt yuv420p black.y4m && "
        "ffmpeg -v error -y -f lavfi -i testsrc2=s=64x48:r=25:d=0.4 -pix_fmt yuv420p ts.y4m && "
        "%s/aie-upscale -s 2 --quality-every 1 --metrics q.jsonl -i black.y4m -o b2.y4m && "
        "%s/aie-upscale -s 2 --quality-every 1 --metrics q.jsonl -i ts.y4m -o t2.y4m", d, d, BIN, BIN), 0);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "grep -c 'psnr_db[a-z_]*\":999' '%s/q.jsonl'", d), 1);
    CU_ASSERT_STRING_EQUAL(out, "0\n");
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "grep -o '\"roundtrip_psnr_db_identical\":[0-9]*' '%s/q.jsonl' | tr '\\n' ' '", d), 0);
    CU_ASSERT_STRING_EQUAL(out, "\"roundtrip_psnr_db_identical\":10 \"roundtrip_psnr_db_identical\":0 ");
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "%s/aie-stats '%s/q.jsonl' | grep roundtrip_psnr", BIN, d), 0);
    /* one row: the score, over the one run that has a finite one */
    int rows = 0;
    for (char *p = out; (p = strstr(p, "roundtrip_psnr_db")); p++)
        rows++;
    CU_ASSERT_EQUAL(rows, 1);
    CU_ASSERT_PTR_NULL(strstr(out, "999"));
    CU_ASSERT_PTR_NULL(strstr(out, "_min"));
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "%s/aie-stats --json '%s/q.jsonl' | grep -o '\"identical_frames\": *10'",
                              BIN, d), 0);
}

/* Every stage share is a share of wall time per thread of the stage, at most
 * 100%: wait sums the reader's and the writer's blocked time (up to 2x wall),
 * process sums the workers', and a read a few ms over wall (rounding) is
 * capped. finish is its own column, from the runs that log it. */
static void test_stage_shares(void)
{
    static const char line[] =
        "{\"v\":1,\"ts\":\"2026-11-22T10:00:%02d.000Z\",\"tool\":\"aie-upscale\",\"version\":\"0.2.0\","
        "\"event\":\"run_end\",\"run_id\":\"%032d\",\"host\":\"h\",\"pid\":%d,\"tags\":{},\"status\":\"ok\","
        "\"error\":null,\"method\":\"lanczos\",\"model\":null,\"threads\":2,\"cores\":2,\"mem_total_kb\":1000000,"
        "\"frames_in\":100,\"frames_out\":100,\"wall_ms\":2000,\"cpu_user_ms\":3000,\"cpu_sys_ms\":100,"
        "\"maxrss_kb\":50000,\"stages_ms\":{\"read\":%d,\"process\":3000,\"write\":500,\"wait\":3600%s},"
        "\"frame_ms_hist\":[[900,100]],\"quality\":{},\"dropped_records\":0}\n";
    char log[4096];
    int n = snprintf(log, sizeof(log), line, 1, 1, 1, 2100, ",\"finish\":100");
    n += snprintf(log + n, sizeof(log) - (size_t)n, line, 5, 2, 2, 1900, "");
    AieStatsOpts o = default_opts();
    AieStats *s = run_mem(log, (size_t)n, &o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    char *js = render(s, AIE_STATS_JSON);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    json_object *j = json_tokener_parse(js), *g, *st, *v;
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    CU_ASSERT_FATAL(json_object_object_get_ex(j, "groups", &g));
    CU_ASSERT_FATAL(json_object_object_get_ex(json_object_array_get_idx(g, 0), "stages", &st));
    static const char *const name[5] = {"read", "process", "write", "wait", "finish"};
    /* read: (1 + 0.95) / 2; process 3000 / (2 x 2000); wait 3600 / (2 x 2000);
     * finish from the one run that has it */
    static const double want[5] = {0.975, 0.75, 0.25, 0.9, 0.05};
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_FATAL(json_object_object_get_ex(st, name[i], &v));
        CU_ASSERT(json_object_get_double(v) <= 1.0);
        CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(v), want[i], 1e-9);
    }
    json_object_put(j);
    free(js);
    char *txt = render(s, AIE_STATS_TEXT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(txt);
    CU_ASSERT_PTR_NOT_NULL(strstr(txt, "FINISH"));
    CU_ASSERT_PTR_NULL(strstr(txt, "180.0%"));
    free(txt);
    char *csv = render(s, AIE_STATS_CSV);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, "wait_share,finish_share"));
    free(csv);
    aie_stats_free(&s);
}

/* The PNG's font draws descenders: g, j, p, q, y (and , ;) put ink in the two
 * rows (times the scale) below the baseline, letters without one do not. */
static void test_font_descenders(void)
{
    for (int scale = 1; scale <= 2; scale++) {
        AieFrame *f = NULL;
        CU_ASSERT_EQUAL_FATAL(aie_frame_alloc(&f, 200, 40, AIE_LAYOUT_RGB, 8), 0);
        for (int p = 0; p < 3; p++)
            memset(f->data[p], 0xff, (size_t)f->stride[p] * (size_t)f->height);
        const int base = 20;
        const char *txt = "gjpqy,;aceox";
        aie_stats_draw_text(f, 2, base, scale, txt, 0x000000);
        for (int i = 0; txt[i]; i++) {
            int ink_below = 0, ink_above = 0;
            for (int y = 0; y < f->height; y++)
                for (int x = 2 + i * 6 * scale; x < 2 + (i * 6 + 5) * scale; x++)
                    if (f->data[0][y * f->stride[0] + x] == 0)
                        *(y >= base ? &ink_below : &ink_above) += 1;
            int want_desc = strchr("gjpqy,;", txt[i]) != NULL;
            if (want_desc != (ink_below > 0))
                fprintf(stderr, "\n  '%c' at scale %d: %d pixels below the baseline\n", txt[i], scale, ink_below);
            CU_ASSERT_EQUAL(ink_below > 0, want_desc);
            CU_ASSERT(ink_above > 0);
        }
        aie_frame_unref(&f);
    }
}

int test_stats_register(void)
{
    CU_pSuite s = CU_add_suite("stats", NULL, NULL);
    if (!s || !CU_add_test(s, "golden", test_golden) || !CU_add_test(s, "findings_fire", test_findings_fire) ||
        !CU_add_test(s, "scanner_vs_jsonc", test_scanner_vs_jsonc) ||
        !CU_add_test(s, "fuzz_corpus", test_fuzz_corpus) ||
        !CU_add_test(s, "percentile_error", test_percentile_error) ||
        !CU_add_test(s, "damaged_counts", test_damaged_counts) || !CU_add_test(s, "split_feeds", test_split_feeds) ||
        !CU_add_test(s, "concurrent_writers", test_concurrent_writers) ||
        !CU_add_test(s, "memory_bounded", test_memory_bounded) || !CU_add_test(s, "formats", test_formats) ||
        !CU_add_test(s, "empty", test_empty) || !CU_add_test(s, "time_parse", test_time_parse) ||
        !CU_add_test(s, "selection", test_selection) || !CU_add_test(s, "cli", test_cli) ||
        !CU_add_test(s, "quality_identical", test_quality_identical) ||
        !CU_add_test(s, "stage_shares", test_stage_shares) ||
        !CU_add_test(s, "font_descenders", test_font_descenders))
        return -1;
    return 0;
}
