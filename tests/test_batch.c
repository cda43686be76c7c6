/* batch: aie-batch's job parsing, scheduler, joblog, resume, cache, chunks and
 * emitters, mostly through the real binary; GNU make and GNU parallel are the
 * referees where they apply. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/batch.h"
#include "aie/error.h"
#include "tests.h"

static char out[1 << 16];
static char bin[1024]; /* absolute AIE_BIN */
static char dir[1024]; /* this suite's scratch directory */

#define B "%s/aie-batch"

static int suite_init(void)
{
    return tests_suite_dirs("batch", bin, sizeof(bin), dir, sizeof(dir));
}

/* A fresh directory for one test; returns its path (static). */
static const char *scratch(const char *name)
{
    static char p[2048];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    mkdir(p, 0755);
    return p;
}

static void put(const char *d, const char *name, const char *text)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", d, name);
    FILE *f = fopen(p, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static int lines_of(const char *d, const char *name)
{
    char p[4096], buf[4096];
    snprintf(p, sizeof(p), "%s/%s", d, name);
    FILE *f = fopen(p, "r");
    int n = 0;
    if (!f)
        return -1;
    size_t got;
    while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
        for (size_t i = 0; i < got; i++)
            n += buf[i] == '\n';
    fclose(f);
    return n;
}

static int exists_in(const char *d, const char *name)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", d, name);
    return stat(p, &st) == 0;
}

/* Run a command line in directory d; the output goes to `out`. */
#define RUN(d, ...) run_in(d, __VA_ARGS__)
__attribute__((format(printf, 2, 3))) static int run_in(const char *d, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return tests_run(out, sizeof(out), "cd '%s' && %s", d, cmd);
}

/* ---- parsing ---- */

static void test_parse(void)
{
    AieBatchList *l = NULL;
    char err[512] = "";
    CU_ASSERT_EQUAL_FATAL(aie_batch_list_create(&l, 0), 0);
    const char *text = "# a comment\n"
                       "echo 'single quoted' \"double \\\"q\\\" $x\" plain\\ word # trailing\n"
                       "\n"
                       "   cmd a\\\n"
                       "b c\n"
                       "printf $'tab\\there\\nnl' '' \"\"\n";
    CU_ASSERT_EQUAL(aie_batch_parse(l, text, strlen(text), "jobs", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(l->n, 3);
    CU_ASSERT_EQUAL(l->jobs[0].argc, 4);
    CU_ASSERT_STRING_EQUAL(l->jobs[0].argv[1], "single quoted");
    CU_ASSERT_STRING_EQUAL(l->jobs[0].argv[2], "double \"q\" $x");
    CU_ASSERT_STRING_EQUAL(l->jobs[0].argv[3], "plain word");
    CU_ASSERT_EQUAL(l->jobs[0].line, 2);
    CU_ASSERT_EQUAL(l->jobs[1].argc, 3); /* continuation joins "a" and "b" */
    CU_ASSERT_STRING_EQUAL(l->jobs[1].argv[1], "ab");
    CU_ASSERT_EQUAL(l->jobs[1].line, 4);
    CU_ASSERT_STRING_EQUAL(l->jobs[2].argv[1], "tab\there\nnl");
    CU_ASSERT_STRING_EQUAL(l->jobs[2].argv[2], "");
    CU_ASSERT_EQUAL(l->jobs[2].argc, 4);
    CU_ASSERT_EQUAL(l->jobs[2].seq, 3);
    aie_batch_list_free(&l);
    CU_ASSERT_PTR_NULL(l);

    /* unterminated quotes name the line */
    CU_ASSERT_EQUAL_FATAL(aie_batch_list_create(&l, 0), 0);
    const char *bad = "echo ok\n\necho 'never closed\necho after\n";
    CU_ASSERT_EQUAL(aie_batch_parse(l, bad, strlen(bad), "jobs.txt", err, sizeof(err)), AIE_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "jobs.txt:3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unterminated"));
    aie_batch_list_free(&l);

    /* quoting round trips every word */
    const char *words[] = {"plain", "two words", "it's", "\"dq\"", "", "#hash", "new\nline",
                           "tab\tx", "ünïcödé ✓", "$HOME", "back\\slash", "{}", "a'b\"c"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        char *q = aie_batch_quote(words[i]), **w = NULL;
        int n = 0;
        CU_ASSERT_PTR_NOT_NULL_FATAL(q);
        CU_ASSERT_EQUAL(aie_batch_split(q, strlen(q), &w, &n, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL(n, 1);
        if (n == 1)
            CU_ASSERT_STRING_EQUAL(w[0], words[i]);
        aie_batch_words_free(&w);
        free(q);
    }
}

static void test_template(void)
{
    AieBatchList *l = NULL;
    char err[512];
    const char *args[] = {"dir/sub/clip.tar.gz", "plain", "/top"};
    CU_ASSERT_EQUAL_FATAL(aie_batch_list_create(&l, 0), 0);
    CU_ASSERT_EQUAL(aie_batch_template(l, "t {} {.} {/} {//} {/.} {#}", args, 3, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(l->n, 3);
    const char *want[] = {"t", "dir/sub/clip.tar.gz", "dir/sub/clip.tar", "clip.tar.gz", "dir/sub",
                          "clip.tar", "1"};
    for (int i = 0; i < 7; i++)
        CU_ASSERT_STRING_EQUAL(l->jobs[0].argv[i], want[i]);
    CU_ASSERT_STRING_EQUAL(l->jobs[1].argv[4], ".");
    CU_ASSERT_STRING_EQUAL(l->jobs[2].argv[4], "/");
    CU_ASSERT_STRING_EQUAL(l->jobs[2].argv[6], "3");
    /* no replacement string: the argument is appended */
    CU_ASSERT_EQUAL(aie_batch_template(l, "echo x", args, 1, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(l->jobs[3].argc, 3);
    CU_ASSERT_STRING_EQUAL(l->jobs[3].argv[2], "dir/sub/clip.tar.gz");
    aie_batch_list_free(&l);

    /* the real binary, on names with spaces and unicode, no shell involved */
    const char *d = scratch("template");
    CU_ASSERT_EQUAL(RUN(d, "mkdir -p in out && touch 'in/a b.txt' 'in/é ü ✓.mov' 'in/x'\\''y.z'"), 0);
    int rc = RUN(d, B " -q --cmd 'touch \"out/{/.} #{#}.done\"' in/*", bin);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(exists_in(d, "out/a b #1.done"));
    CU_ASSERT(exists_in(d, "out/x'y #2.done")); /* the glob sorts by bytes */
    CU_ASSERT(exists_in(d, "out/é ü ✓ #3.done"));
    /* lines on stdin, and --shell quoting the values for the shell */
    rc = RUN(d, "ls in/* | " B " -q --shell --cmd 'cp {} out/{/}.copy && echo ok'", bin);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(exists_in(d, "out/é ü ✓.mov.copy"));
    CU_ASSERT(exists_in(d, "out/x'y.z.copy"));
}

/* GNU parallel's ::: input sources: products, links, numbered
 * replacement strings, the options ending at the command. */
static void test_parallel_sources(void)
{
    char err[512];
    const char *ab[] = {"a", "b"}, *nums[] = {"1", "2", "3"}, *paths[] = {"x/y.c", "z.d"};
    AieBatchSource src[3] = {{ab, 2, 0}, {nums, 2, 0}};
    const char **v = NULL;
    int n = 0;
    /* the product, first source slowest */
    CU_ASSERT_EQUAL_FATAL(aie_batch_combine(src, 2, &v, &n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    const char *want[] = {"a", "1", "a", "2", "b", "1", "b", "2"};
    for (int i = 0; i < 8; i++)
        CU_ASSERT_STRING_EQUAL(v[i], want[i]);
    AieBatchList *l = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_batch_list_create(&l, 0), 0);
    CU_ASSERT_EQUAL(aie_batch_template_n(l, "t {2}-{1} {}", v, 2, n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(l->n, 4);
    /* {} is every value, one word each */
    CU_ASSERT_EQUAL(l->jobs[1].argc, 4);
    CU_ASSERT_STRING_EQUAL(l->jobs[1].argv[1], "2-a");
    CU_ASSERT_STRING_EQUAL(l->jobs[1].argv[2], "a");
    CU_ASSERT_STRING_EQUAL(l->jobs[1].argv[3], "2");
    /* no replacement string: every value appended */
    CU_ASSERT_EQUAL(aie_batch_template_n(l, "echo", v, 2, 1, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(l->jobs[4].argc, 3);
    /* {N} beyond the sources is an error, not an empty string */
    CU_ASSERT_EQUAL(aie_batch_template_n(l, "echo {3}", v, 2, 1, err, sizeof(err)), AIE_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "{3}"));
    aie_batch_list_free(&l);
    free(v);

    /* :::+ pairs value by value, the shortest setting the length; the
     * numbered forms of the path replacements */
    src[0] = (AieBatchSource){paths, 2, 0};
    src[1] = (AieBatchSource){nums, 3, 1};
    src[2] = (AieBatchSource){ab, 2, 0};
    CU_ASSERT_EQUAL_FATAL(aie_batch_combine(src, 3, &v, &n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_EQUAL_FATAL(aie_batch_list_create(&l, 0), 0);
    CU_ASSERT_EQUAL(aie_batch_template_n(l, "t {1.} {1/} {1//} {1/.} {2} {3} {#}", v, 3, n, err, sizeof(err)), 0);
    const char *j3[] = {"t", "z", "z.d", ".", "z", "2", "b", "4"};
    CU_ASSERT_EQUAL_FATAL(l->jobs[3].argc, 8);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_STRING_EQUAL(l->jobs[3].argv[i], j3[i]);
    CU_ASSERT_STRING_EQUAL(l->jobs[0].argv[1], "x/y");
    CU_ASSERT_STRING_EQUAL(l->jobs[0].argv[3], "x");
    aie_batch_list_free(&l);
    free(v);

    /* a linked source first, and a product past the job limit */
    src[0].linked = 1;
    CU_ASSERT_EQUAL(aie_batch_combine(src, 3, &v, &n, err, sizeof(err)), AIE_EINVAL);
    static const char *many[1001];
    for (int i = 0; i < 1001; i++)
        many[i] = "m";
    AieBatchSource big[2] = {{many, 1001, 0}, {many, 1000, 0}};
    CU_ASSERT_EQUAL(aie_batch_combine(big, 2, &v, &n, err, sizeof(err)), AIE_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "more than"));

    /* the binary: options end at the command, whose -s and -j are its own */
    const char *d = scratch("parallel_sources");
    CU_ASSERT_EQUAL(RUN(d, B " --dry-run -j 2 echo -s {1} -j {2} ::: a b ::: 1", bin), 0);
    CU_ASSERT_STRING_EQUAL(out, "echo -s a -j 1\necho -s b -j 1\n");
    /* a quoted command, :::: files (one source per file, ::::+ links each) */
    put(d, "f1", "1\n2\n");
    put(d, "f2", "x\ny\nextra\n");
    CU_ASSERT_EQUAL(RUN(d, B " --dry-run 'echo {1}{2}' :::: f1 ::::+ f2", bin), 0);
    CU_ASSERT_STRING_EQUAL(out, "echo 1x\necho 2y\n");
    /* a real run with files to make */
    CU_ASSERT_EQUAL(RUN(d, B " -q touch {1}_{2}.done ::: a b ::: 1 2", bin), 0);
    CU_ASSERT(exists_in(d, "a_1.done") && exists_in(d, "a_2.done") && exists_in(d, "b_1.done") &&
              exists_in(d, "b_2.done"));
    /* usage errors: one line, exit 255, nothing run */
    const char *bad[] = {"::: a", "echo ::: a :::", "--cmd 'echo {}' echo ::: a", "echo :::+ a",
                         "echo {3} ::: a ::: b", "--emit make echo ::: a", "echo :::: missing-file"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_EQUAL(RUN(d, B " %s", bin, bad[i]), 255);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "aie-batch: "));
        CU_ASSERT_PTR_NULL(strstr(out, "\necho"));
    }

    /* GNU parallel as the oracle, where it is installed */
    if (tests_run(out, sizeof(out), "parallel --version") != 0) {
        tests_skip("parallel_sources", "GNU parallel is not installed: not compared with it");
        return;
    }
    const char *cases[] = {"echo {} ::: a b ::: 1 2", "echo {1} {2.} {2/} {2//} ::: a b ::: x/y.c z.d",
                           "echo ::: a b c :::+ 1 2 3", "echo {1}-{2} ::: a b c :::+ 1 2",
                           "echo {.} x{}y ::: a.b ::: c.d", "echo {#} {} ::: a b ::: 1 :::+ 2",
                           "echo {} :::: f1 ::: q", "echo :::: f1 ::::+ f2 ::: p q"};
    static char want_out[sizeof(out)];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CU_ASSERT_EQUAL(RUN(d, "parallel --will-cite -k --dry-run %s", cases[i]), 0);
        memcpy(want_out, out, sizeof(out));
        CU_ASSERT_EQUAL(RUN(d, B " --dry-run %s", bin, cases[i]), 0);
        if (strcmp(out, want_out))
            fprintf(stderr, "\n%s\nparallel:\n%saie-batch:\n%s", cases[i], want_out, out);
        CU_ASSERT_STRING_EQUAL(out, want_out);
    }
}

/* ---- running ---- */

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void test_bounded(void)
{
    const char *d = scratch("bounded");
    FILE *f = fopen(tests_tmp_path("batch/bounded/jobs"), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 12; i++)
        fprintf(f, "sh -c 'echo s $(date +%%s%%N) >> ev; sleep 0.12; echo e $(date +%%s%%N) >> ev'\n");
    fclose(f);
    CU_ASSERT_EQUAL(RUN(d, B " -j 3 jobs", bin), 0);
    /* replay the events: starts +1, ends -1 (encoded in the low bit) */
    f = fopen(tests_tmp_path("batch/bounded/ev"), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    long long ev[64];
    int n = 0;
    char kind;
    long long t;
    while (n < 64 && fscanf(f, " %c %lld", &kind, &t) == 2)
        ev[n++] = t * 2 + (kind == 's');
    fclose(f);
    CU_ASSERT_EQUAL(n, 24);
    qsort(ev, (size_t)n, sizeof(ev[0]), cmp_ll);
    int alive = 0, peak = 0;
    for (int i = 0; i < n; i++) {
        alive += (ev[i] & 1) ? 1 : -1;
        if (alive > peak)
            peak = alive;
    }
    CU_ASSERT(peak <= 3);
    CU_ASSERT(peak >= 2); /* and it did run in parallel */
}

static void test_timeout(void)
{
    const char *d = scratch("timeout");
    put(d, "jobs", "sleep 30\n"
                   "sh -c 'trap \"\" TERM; sleep 30'\n"
                   "sh -c 'sleep 30 & echo $! > child.pid; wait'\n"
                   "true\n");
    long long t0 = aie_time_us();
    int rc = RUN(d, B " -j 4 --timeout 0.3 --grace 0.3 --joblog log jobs", bin);
    double s = (aie_time_us() - t0) / 1e6;
    CU_ASSERT_EQUAL(rc, 3);
    CU_ASSERT(s < 5);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "timed out"));
    CU_ASSERT_EQUAL(RUN(d, "cut -f1,7,8 log | sort -n"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "1\t-1\t15\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "2\t-1\t9\n")); /* ignored TERM: KILL after the grace */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "3\t-1\t15\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "4\t0\t0\n"));
    /* the job's own child went with its process group */
    usleep(100000);
    CU_ASSERT_EQUAL(RUN(d, "s=$(ps -o stat= -p $(cat child.pid)); case \"$s\" in ''|Z*) exit 0;; esac; exit 1"), 0);
}

static void test_retries(void)
{
    const char *d = scratch("retries");
    put(d, "jobs", "sh -c 'echo x >> always; exit 3'\n"
                   "sh -c 'echo x >> flaky; [ $(wc -l < flaky) -ge 2 ]'\n");
    long long t0 = aie_time_us();
    int rc = RUN(d, B " --retries 3 --retry-delay 0.05 --metrics m.jsonl --joblog log jobs", bin);
    double s = (aie_time_us() - t0) / 1e6;
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_EQUAL(lines_of(d, "always"), 3); /* 3 attempts in all, then it stops */
    CU_ASSERT_EQUAL(lines_of(d, "flaky"), 2);
    CU_ASSERT(s >= 0.15); /* 0.05 s, then 0.1 s of backoff */
    CU_ASSERT_EQUAL(lines_of(d, "log"), 3); /* header + one line per job, not per attempt */
    CU_ASSERT_EQUAL(RUN(d, "grep -c '\"job_id\":\"1\",\"attempt\":3,\"exit\":3' m.jsonl"), 0);
    CU_ASSERT_EQUAL(RUN(d, "grep -c '\"event\":\"job_end\"' m.jsonl"), 0);
    CU_ASSERT_STRING_EQUAL(out, "5\n");
    /* --retry-failed: the failures of the log, with their seq, nothing else */
    CU_ASSERT_EQUAL(RUN(d, B " --retry-failed --joblog log", bin), 1);
    CU_ASSERT_EQUAL(lines_of(d, "always"), 4);
    CU_ASSERT_EQUAL(lines_of(d, "flaky"), 2);
    CU_ASSERT_EQUAL(RUN(d, "tail -n 1 log | cut -f1,7"), 0);
    CU_ASSERT_STRING_EQUAL(out, "1\t3\n");
    /* a job killed by a signal: Exitval 0 and the signal, as GNU writes it */
    put(d, "killed", "sh -c 'kill -9 $$'\n");
    CU_ASSERT_EQUAL(RUN(d, B " --joblog klog killed", bin), 1);
    CU_ASSERT_EQUAL(RUN(d, "tail -n 1 klog | cut -f7,8"), 0);
    CU_ASSERT_STRING_EQUAL(out, "0\t9\n");
    /* --retries 0 is unlimited (GNU): the flaky kind always gets there */
    put(d, "jobs2", "sh -c 'echo x >> f2; [ $(wc -l < f2) -ge 4 ]'\n");
    CU_ASSERT_EQUAL(RUN(d, B " --retries 0 --retry-delay 0.01 jobs2", bin), 0);
    CU_ASSERT_EQUAL(lines_of(d, "f2"), 4);
}

static void test_resume_after_kill(void)
{
    const char *d = scratch("resume");
    FILE *f = fopen(tests_tmp_path("batch/resume/jobs"), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 1; i <= 16; i++)
        fprintf(f, "sh -c 'echo %d >> ran; sleep 0.15'\n", i);
    fclose(f);
    /* SIGKILL aie-batch itself mid-run: once the first job is logged (not
     * after a fixed delay, which a loaded machine can outlast before any job
     * ends), well before the 16th can be */
    RUN(d, "{ " B " -j 4 --joblog log jobs & p=$!; i=0; "
             "while [ \"$(wc -l < log 2>/dev/null || echo 0)\" -lt 2 ] && [ $i -lt 400 ]; do sleep 0.025; i=$((i+1)); done; "
             "kill -9 $p; wait $p; sleep 0.2; }", bin);
    CU_ASSERT_EQUAL(RUN(d, "awk -F'\\t' 'NR > 1 && NF != 9' log | wc -l"), 0);
    CU_ASSERT_STRING_EQUAL(out, "0\n"); /* every line whole */
    int logged = lines_of(d, "log") - 1;
    CU_ASSERT(logged > 0 && logged < 16);
    RUN(d, "mv ran ran1; cut -f9 log | tail -n +2 | sed 's/.*echo \\([0-9]*\\).*/\\1/' | sort -n > done1");
    CU_ASSERT_EQUAL(RUN(d, B " -j 4 --resume --joblog log jobs", bin), 0);
    /* exactly the jobs missing from the log ran again, each once */
    CU_ASSERT_EQUAL(RUN(d, "sort -n ran > again; echo $(sort -n done1 again | uniq -d | wc -l) "
                           "$(sort -n done1 again | uniq | wc -l) $(wc -l < again)"), 0);
    int dup = -1, all = -1, again = -1;
    sscanf(out, "%d %d %d", &dup, &all, &again);
    CU_ASSERT_EQUAL(dup, 0);   /* no finished job ran again */
    CU_ASSERT_EQUAL(all, 16);  /* every unfinished one did */
    CU_ASSERT_EQUAL(again, 16 - logged); /* once */
    CU_ASSERT_EQUAL(lines_of(d, "log"), 17);
    /* an edited job file: the jobs are matched by command, not by line */
    RUN(d, "(echo 'echo new'; cat jobs) > jobs2; rm -f ran");
    CU_ASSERT_EQUAL(RUN(d, B " --resume --joblog log jobs2", bin), 0);
    CU_ASSERT_STRING_EQUAL(out, "new\n");
    CU_ASSERT(!exists_in(d, "ran"));
}

static void test_gnu_parallel_reads_our_log(void)
{
    if (tests_run(out, sizeof(out), "parallel --version") != 0) {
        tests_skip("gnu_parallel_reads_our_log", "GNU parallel is not installed");
        return;
    }
    const char *d = scratch("gnu");
    FILE *f = fopen(tests_tmp_path("batch/gnu/jobs"), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 1; i <= 5; i++)
        fprintf(f, "sh -c 'echo %d >> ran; test %d != 2 && test %d != 4'\n", i, i, i);
    fclose(f);
    CU_ASSERT_EQUAL(RUN(d, B " -j 2 --joblog log jobs", bin), 2);
    CU_ASSERT_EQUAL(lines_of(d, "ran"), 5);
    /* parallel's --resume-failed reruns our failures (and only them) */
    int rc = RUN(d, "parallel -j 2 --resume-failed --joblog log :::: jobs");
    CU_ASSERT_PTR_NULL(strstr(out, "wrong"));
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_EQUAL(RUN(d, "tail -n +6 ran | sort | tr '\\n' ' '"), 0);
    CU_ASSERT_STRING_EQUAL(out, "2 4 ");
    /* and its --resume finds nothing left to do */
    rc = RUN(d, "parallel --resume --joblog log :::: jobs");
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(lines_of(d, "ran"), 7);
    /* we read its lines back the same way */
    RUN(d, "rm ran");
    CU_ASSERT_EQUAL(RUN(d, B " --resume-failed --joblog log jobs", bin), 2);
    CU_ASSERT_EQUAL(RUN(d, "sort ran | tr '\\n' ' '"), 0);
    CU_ASSERT_STRING_EQUAL(out, "2 4 ");
}

static void test_exit_codes(void)
{
    const char *d = scratch("exit");
    put(d, "ok", "true\ntrue\necho hi\n");
    put(d, "some", "true\nfalse\nfalse\nsh -c 'exit 7'\ntrue\n");
    CU_ASSERT_EQUAL(RUN(d, B " ok", bin), 0);
    CU_ASSERT_EQUAL(RUN(d, B " --load-max 100000 some", bin), 3);
    CU_ASSERT_EQUAL(RUN(d, "for i in $(seq 150); do echo false; done > many && " B " -j 8 many", bin), 101);
    CU_ASSERT_EQUAL(RUN(d, "for i in $(seq 100); do echo false; done > hundred && " B " -j 8 hundred", bin), 100);
    /* stopped by a signal: TERM to the jobs, then 130 / 143, nothing left */
    put(d, "slow", "sh -c 'echo $$ >> pids; exec sleep 30'\nsh -c 'echo $$ >> pids; exec sleep 30'\nsleep 30\n");
    long long t0 = aie_time_us();
    int rc = RUN(d, B " -j 2 slow & p=$!; sleep 0.4; kill -INT $p; wait $p", bin);
    CU_ASSERT_EQUAL(rc, 130);
    rc = RUN(d, B " -j 2 slow & p=$!; sleep 0.4; kill -TERM $p; wait $p", bin);
    CU_ASSERT_EQUAL(rc, 143);
    CU_ASSERT((aie_time_us() - t0) / 1e6 < 5);
    CU_ASSERT_EQUAL(RUN(d, "for p in $(cat pids); do s=$(ps -o stat= -p $p); case \"$s\" in ''|Z*) ;; *) exit 1;; esac; done"), 0);
    /* a second signal does not wait for the grace period */
    put(d, "stubborn", "sh -c 'trap \"\" TERM; echo $$ >> pids2; sleep 30'\n");
    t0 = aie_time_us();
    rc = RUN(d, B " --grace 20 stubborn & p=$!; sleep 0.4; kill -TERM $p; sleep 0.2; kill -TERM $p; wait $p", bin);
    CU_ASSERT_EQUAL(rc, 143);
    CU_ASSERT((aie_time_us() - t0) / 1e6 < 5);
    /* usage: 255, GNU parallel's code for its own errors */
    rc = RUN(d, B " --frobnicate ok", bin);
    CU_ASSERT_EQUAL(rc, 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Try 'aie-batch --help'."));
    CU_ASSERT_EQUAL(RUN(d, B " --halt sometimes ok", bin), 255);
    CU_ASSERT_EQUAL(RUN(d, B " ok some", bin), 255);
    CU_ASSERT_EQUAL(RUN(d, B " --help", bin), 0);
}

static void test_halt(void)
{
    const char *d = scratch("halt");
    put(d, "jobs", "sleep 30\nsh -c 'sleep 0.2; exit 5'\nsleep 30\ntrue\ntrue\n");
    long long t0 = aie_time_us();
    int rc = RUN(d, B " -j 2 --halt now --joblog log jobs", bin);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT((aie_time_us() - t0) / 1e6 < 4);
    /* only the failure is logged: the killed job is unfinished, for --resume */
    CU_ASSERT_EQUAL(lines_of(d, "log"), 2);
    put(d, "jobs2", "false\ntrue\ntrue\n");
    CU_ASSERT_EQUAL(RUN(d, B " -j 1 --halt soon,fail=1 --joblog log2 jobs2", bin), 1);
    CU_ASSERT_EQUAL(lines_of(d, "log2"), 2);
}

/* ---- bad input ---- */

static void test_bad_input(void)
{
    const char *d = scratch("bad");
    /* an unknown command: 127 for that job, recorded, the rest runs */
    put(d, "unknown", "no-such-command-aie --x\ntouch ran\n");
    int rc = RUN(d, B " --joblog log unknown", bin);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "no-such-command-aie: command not found"));
    CU_ASSERT(exists_in(d, "ran"));
    CU_ASSERT_EQUAL(RUN(d, "grep -c '	127	0	no-such-command-aie --x$' log"), 0);
    /* an unreadable job file */
    rc = RUN(d, B " missing-jobs", bin);
    CU_ASSERT_EQUAL(rc, 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "missing-jobs: No such file or directory"));
    rc = RUN(d, B " .", bin);
    CU_ASSERT_EQUAL(rc, 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Is a directory"));
    /* an unterminated quote names its line; nothing runs */
    put(d, "quote", "touch q1\n# comment\ntouch \"q2\n");
    rc = RUN(d, B " quote", bin);
    CU_ASSERT_EQUAL(rc, 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "quote:3: unterminated \" quote"));
    CU_ASSERT(!exists_in(d, "q1"));
    /* two jobs writing one output: refused before anything starts */
    char jobs[8192];
    snprintf(jobs, sizeof(jobs), "touch started\n%s/aie-upscale -i a.y4m -o out/x.mp4\n"
             "%s/aie-upscale -s 3 -i b.y4m --output=./out/../out/x.mp4\n", bin, bin);
    RUN(d, "mkdir -p out");
    put(d, "dup", jobs);
    rc = RUN(d, B " dup", bin);
    CU_ASSERT_EQUAL(rc, 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "jobs 2 (line 2) and 3 (line 3) both write"));
    CU_ASSERT(!exists_in(d, "started"));
    /* a joblog on a full disk: our own error (255), and no job starts */
    put(d, "ok", "touch full-ran\n");
    rc = RUN(d, B " --joblog /dev/full ok", bin);
    CU_ASSERT_EQUAL(rc, 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "No space left on device"));
    CU_ASSERT(!exists_in(d, "full-ran"));
    /* a disk that fills up mid-run: no new jobs, the running ones end, 255 */
    if (getuid() != 0 || RUN(d, "mkdir -p tiny && mount -t tmpfs -o size=4k tiny tiny") != 0) {
        tests_skip("bad_input: joblog filling a tmpfs", "cannot mount a tmpfs here (not root?)");
        return;
    }
    FILE *f = fopen(tests_tmp_path("batch/bad/long"), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 40; i++) {
        fprintf(f, "sh -c 'echo %d >> long-ran' ", i);
        for (int k = 0; k < 40; k++)
            fprintf(f, "padding-to-fill-the-disk-%02d ", k);
        fprintf(f, "\n");
    }
    fclose(f);
    rc = RUN(d, B " -j 1 --joblog tiny/log long", bin);
    CU_ASSERT_EQUAL(rc, 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "joblog: No space left on device; no new jobs started"));
    int ran = lines_of(d, "long-ran");
    CU_ASSERT(ran > 0 && ran < 40);
    RUN(d, "umount tiny");
}

/* Job files are bounded (1 MiB a line, 10^6 jobs), read in chunks,
 * interruptible while read, and regular files or pipes only; every refusal
 * exits 255. Memory is capped so that the old unbounded read fails fast. */
static void test_jobfile_bounds(void)
{
    const char *d = scratch("bounds");
#define CAPPED "ulimit -v 1500000; timeout -s KILL 20 "
    CU_ASSERT_EQUAL(RUN(d, CAPPED B " /dev/zero", bin), 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "/dev/zero: not a regular file or a pipe"));
    CU_ASSERT_EQUAL(RUN(d, CAPPED B " --dry-run - < /dev/zero", bin), 255);
    CU_ASSERT_EQUAL(RUN(d, CAPPED "cat /dev/zero | " B " --dry-run -", bin), 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "standard input:1: a line over 1 MiB"));
    /* a line of exactly 1 MiB is fine, one byte more is not */
    CU_ASSERT_EQUAL(RUN(d, "head -c 1048576 /dev/zero | tr '\\0' a > line && " B " --dry-run line | wc -c", bin), 0);
    CU_ASSERT_STRING_EQUAL(out, "1048577\n");
    CU_ASSERT_EQUAL(RUN(d, "echo true > l2 && cat line >> l2 && echo b >> l2 && " CAPPED B " --dry-run l2", bin), 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "l2:2: a line over 1 MiB"));
    /* 10^6 jobs (comments and blank lines do not count), and one more */
    CU_ASSERT_EQUAL(RUN(d, "(echo '# c'; echo; yes true | head -n 1000000) | " B " --dry-run - | wc -l", bin), 0);
    CU_ASSERT_STRING_EQUAL(out, "1000000\n");
    CU_ASSERT_EQUAL(RUN(d, CAPPED "yes true | " B " --dry-run -", bin), 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "more than 1000000 jobs"));
    CU_ASSERT_EQUAL(RUN(d, CAPPED "yes x | " B " --dry-run --cmd 'echo {}'", bin), 255);
    /* a FIFO or a pipe that never ends: each signal ends it at once */
    const char *sigs[] = {"INT", "TERM", "HUP"};
    const int nums[] = {2, 15, 1};
    for (int k = 0; k < 3; k++) {
        CU_ASSERT_EQUAL(RUN(d, "rm -f fifo; mkfifo fifo; timeout --preserve-status -k 1 -s %s 0.3 "
                            B " fifo", sigs[k], bin), 128 + nums[k]);
        CU_ASSERT_EQUAL(RUN(d, "sleep 2 | timeout --preserve-status -k 1 -s %s 0.3 " B " -",
                            sigs[k], bin), 128 + nums[k]);
    }
    /* a FIFO that does end is read like a file */
    CU_ASSERT_EQUAL(RUN(d, "rm -f fifo; mkfifo fifo; (printf 'echo a\\necho b\\n' > fifo &); " B " -j 1 fifo", bin), 0);
    CU_ASSERT_STRING_EQUAL(out, "a\nb\n");
    /* devices and sockets are refused */
    CU_ASSERT_EQUAL(RUN(d, B " /dev/null", bin), 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "not a regular file or a pipe"));
#undef CAPPED
}

/* ---- output ---- */

static void test_grouped_output(void)
{
    const char *d = scratch("group");
    put(d, "jobs", "sh -c 'echo a1; sleep 0.2; echo a2; echo a-err >&2'\n"
                   "sh -c 'sleep 0.05; echo b1; sleep 0.05; echo b2'\n");
    CU_ASSERT_EQUAL(RUN(d, B " -j 2 --results res jobs 2>/dev/null", bin), 0);
    CU_ASSERT_STRING_EQUAL(out, "b1\nb2\na1\na2\n");
    CU_ASSERT_EQUAL(RUN(d, "cat res/1/stdout res/1/stderr res/2/stdout"), 0);
    CU_ASSERT_STRING_EQUAL(out, "a1\na2\na-err\nb1\nb2\n");
    /* the jobs' environment joins the batch */
    put(d, "env", "sh -c 'echo \"$AIE_BATCH_ID/$AIE_JOB_ID/$AIE_METRICS\"'\n");
    CU_ASSERT_EQUAL(RUN(d, B " --batch-id b42 --metrics m.jsonl env", bin), 0);
    char want[4096];
    snprintf(want, sizeof(want), "b42/1/%s/m.jsonl\n", d);
    CU_ASSERT_STRING_EQUAL(out, want);
    CU_ASSERT_EQUAL(RUN(d, "grep -c '\"batch_id\":\"b42\".*\"job_id\":\"1\",\"attempt\":1,\"exit\":0' m.jsonl"), 0);
}

/* ---- make and Slurm ---- */

static int have_media(const char *test)
{
    if (!tests_have_ffmpeg()) {
        tests_skip(test, "ffmpeg missing");
        return 0;
    }
    return 1;
}

static void test_emit_make(void)
{
    if (!have_media("emit_make"))
        return;
    const char *d = scratch("make");
    CU_ASSERT_EQUAL_FATAL(RUN(d, "ffmpeg -v error -y -f lavfi -i testsrc2=s=32x24:r=25:d=0.2 -pix_fmt yuv420p "
                              "a.y4m && cp a.y4m 'b c.y4m'"), 0);
    char jobs[8192];
    snprintf(jobs, sizeof(jobs),
             "%s/aie-upscale -s 2 -i a.y4m -o out_a.y4m\n"
             "%s/aie-upscale -s 2 -i 'b c.y4m' -o 'out b c.y4m'\n"
             "%s/aie-upscale -s 1 -i out_a.y4m -o out_aa.y4m\n"
             "%s/aie-upscale -s 2 -i missing.y4m -o out_m.y4m\n"
             "sh -c 'echo side >> side-effect'\n", bin, bin, bin, bin);
    put(d, "jobs", jobs);
    CU_ASSERT_EQUAL_FATAL(RUN(d, B " --emit make --joblog log jobs > Makefile", bin), 0);
    CU_ASSERT_EQUAL(RUN(d, "grep -c PHONY Makefile"), 0);
    CU_ASSERT_STRING_EQUAL(out, "1\n"); /* only 'all' */
    /* make -k runs everything it can; the job with a missing input fails */
    int rc = RUN(d, "make -j 2 -k");
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT(exists_in(d, "out_a.y4m") && exists_in(d, "out b c.y4m") && exists_in(d, "out_aa.y4m"));
    CU_ASSERT(!exists_in(d, "out_m.y4m"));
    CU_ASSERT_EQUAL(lines_of(d, "side-effect"), 1);
    CU_ASSERT_EQUAL(lines_of(d, "log"), 6);
    /* resume: only the failed one runs again, and it works now */
    RUN(d, "cp a.y4m missing.y4m");
    CU_ASSERT_EQUAL(RUN(d, "make -j 2 -k"), 0);
    CU_ASSERT(exists_in(d, "out_m.y4m"));
    CU_ASSERT_EQUAL(lines_of(d, "log"), 7);
    CU_ASSERT_EQUAL(RUN(d, "make -j 2"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Nothing to be done"));
    /* a newer input reruns its job and what depends on it, nothing else */
    RUN(d, "sleep 0.01; touch a.y4m");
    CU_ASSERT_EQUAL(RUN(d, "make -j 2"), 0);
    CU_ASSERT_EQUAL(lines_of(d, "log"), 9);
    CU_ASSERT_EQUAL(lines_of(d, "side-effect"), 1);
    /* an edited job file is refused by the old Makefile */
    RUN(d, "echo true >> jobs; touch a.y4m");
    rc = RUN(d, "make");
    CU_ASSERT_NOT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "write it again with --emit"));
}

static void test_emit_slurm_and_index(void)
{
    const char *d = scratch("slurm");
    put(d, "jobs", "touch one\ntouch two\ntouch three\ntouch four\ntouch five\n");
    CU_ASSERT_EQUAL(RUN(d, B " -j 2 --emit slurm jobs > run.sbatch", bin), 0);
    CU_ASSERT_EQUAL(RUN(d, "cat run.sbatch"), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n#SBATCH --array=1-5%2\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, " --job-index \"$SLURM_ARRAY_TASK_ID\" "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "/metrics.\"$host\".jsonl "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, " --joblog +"));
    CU_ASSERT_EQUAL(RUN(d, "sh -n run.sbatch"), 0);
    /* what a task does: --job-index K runs job K alone */
    CU_ASSERT_EQUAL(RUN(d, B " --job-index 2 jobs", bin), 0);
    CU_ASSERT(exists_in(d, "two") && !exists_in(d, "one") && !exists_in(d, "three"));
    CU_ASSERT_EQUAL(RUN(d, B " --job-index 6 jobs", bin), 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "there are 5 jobs"));
    /* a task run against an edited file is refused */
    CU_ASSERT_EQUAL(RUN(d, "SLURM_ARRAY_TASK_ID=1 sh run.sbatch"), 0);
    CU_ASSERT(exists_in(d, "one"));
    RUN(d, "echo 'touch six' >> jobs");
    CU_ASSERT_EQUAL(RUN(d, "SLURM_ARRAY_TASK_ID=1 sh run.sbatch"), 255);
}

/* The README's batch example, exactly, from an empty folder: the output
 * directory is made by the Makefile (order-only prerequisite) and by
 * aie-batch itself; the Slurm script makes it too. */
static void test_output_dirs(void)
{
    if (!have_media("output_dirs"))
        return;
    const char *d = scratch("outdirs");
    CU_ASSERT_EQUAL_FATAL(RUN(d, "mkdir -p clips && ffmpeg -v error -y -f lavfi -i testsrc2=s=32x24:r=25:d=0.2 "
                              "-pix_fmt yuv420p clips/a.mkv && cp clips/a.mkv clips/b.mkv"), 0);
    CU_ASSERT_EQUAL(RUN(d, "export PATH=\"%s:$PATH\" && "
                        "aie-batch --dry-run --cmd 'aie-upscale -s 2 -i {} -o out/{/.}.mp4' clips/* > jobs.txt; "
                        "aie-batch --emit make jobs.txt > Makefile; make -j2 -k", bin), 0);
    CU_ASSERT(exists_in(d, "out/a.mp4") && exists_in(d, "out/b.mp4"));
    CU_ASSERT_EQUAL(RUN(d, "grep -c '^out/[ab].mp4: clips/[ab].mkv | out$' Makefile"), 0);
    CU_ASSERT_STRING_EQUAL(out, "2\n");
    CU_ASSERT_EQUAL(RUN(d, "grep -A1 '^out:$' Makefile | tail -1"), 0);
    CU_ASSERT_STRING_EQUAL(out, "\t@mkdir -p -- out\n");
    /* a local run makes nested directories too; the tool alone still refuses */
    put(d, "jobs2", "aie-upscale -s 2 -i clips/a.mkv -o 'deep/er dir/a.y4m'\n");
    CU_ASSERT_EQUAL(RUN(d, "PATH=\"%s:$PATH\" " B " jobs2", bin, bin), 0);
    CU_ASSERT(exists_in(d, "deep/er dir/a.y4m"));
    CU_ASSERT_NOT_EQUAL(RUN(d, "%s/aie-upscale -s 2 -i clips/a.mkv -o nodir/a.y4m", bin), 0);
    CU_ASSERT(!exists_in(d, "nodir"));
    /* Slurm: mkdir -p before the task; --cpus-per-task from the jobs' -j
     * unless --slurm-opt sets it; --slurm-opt lines as given */
    put(d, "jobs3", "aie-upscale -j 3 -s 2 -i clips/a.mkv -o s1/a.y4m\n"
                    "aie-upscale --threads=5 -s 2 -i clips/b.mkv -o 's 2/b.y4m'\n");
    CU_ASSERT_EQUAL(RUN(d, B " --emit slurm --slurm-opt --time=1:00:00 --slurm-opt '--mem 4G' jobs3 > s.sbatch && "
                        "grep -E '^(#SBATCH --(cpus|time|mem)|mkdir)' s.sbatch", bin), 0);
    CU_ASSERT_STRING_EQUAL(out, "#SBATCH --cpus-per-task=5\n#SBATCH --time=1:00:00\n#SBATCH --mem 4G\n"
                                "mkdir -p -- s1 's 2'\n");
    CU_ASSERT_EQUAL(RUN(d, B " --emit slurm --slurm-opt=--cpus-per-task=2 jobs3 | grep -c cpus-per-task", bin), 0);
    CU_ASSERT_STRING_EQUAL(out, "1\n");
    CU_ASSERT_EQUAL(RUN(d, B " --emit slurm --slurm-opt 'time=1' jobs3", bin), 255);
    CU_ASSERT_EQUAL(RUN(d, B " --emit make --slurm-opt --time=1 jobs3", bin), 255);
    CU_ASSERT_EQUAL(RUN(d, "rm -rf s1 && SLURM_ARRAY_TASK_ID=1 PATH=\"%s:$PATH\" sh s.sbatch", bin), 0);
    CU_ASSERT(exists_in(d, "s1/a.y4m") && exists_in(d, "s 2"));
}

/* ---- cache, skip-existing, chunks ---- */

static void test_cache(void)
{
    if (!have_media("cache"))
        return;
    const char *d = scratch("cache");
    CU_ASSERT_EQUAL_FATAL(RUN(d, "ffmpeg -v error -y -f lavfi -i testsrc2=s=32x24:r=25:d=0.2 -pix_fmt yuv420p in.y4m"), 0);
    char jobs[8192];
    snprintf(jobs, sizeof(jobs), "%s/aie-upscale -s 2 -i in.y4m -o out.y4m\n", bin);
    put(d, "jobs", jobs);
    CU_ASSERT_EQUAL(RUN(d, B " --cache c --metrics m.jsonl jobs", bin), 0);
    CU_ASSERT_EQUAL(RUN(d, "cp out.y4m fresh.y4m && rm out.y4m && " B " --cache c --metrics m.jsonl -v jobs", bin), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "cache: 1 hit, 0 misses"));
    CU_ASSERT_EQUAL(RUN(d, "cmp out.y4m fresh.y4m"), 0);
    CU_ASSERT_EQUAL(RUN(d, "grep -o '\"cache\":\"[a-z]*\"' m.jsonl | tr '\\n' ' '"), 0);
    CU_ASSERT_STRING_EQUAL(out, "\"cache\":\"miss\" \"cache\":\"hit\" ");
    /* the aie-upscale run itself left no record the second time */
    CU_ASSERT_EQUAL(RUN(d, "grep -c '\"tool\":\"aie-upscale\".*\"run_end\"' m.jsonl"), 0);
    CU_ASSERT_STRING_EQUAL(out, "1\n");
    /* other options or other contents: a miss */
    snprintf(jobs, sizeof(jobs), "%s/aie-upscale -s 3 -i in.y4m -o out.y4m\n", bin);
    put(d, "jobs3", jobs);
    CU_ASSERT_EQUAL(RUN(d, B " --cache c -v jobs3", bin), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "0 hits, 1 miss"));
    CU_ASSERT_EQUAL(RUN(d, "ffmpeg -v error -y -f lavfi -i testsrc2=s=32x24:r=25:d=0.24 -pix_fmt yuv420p in.y4m && "
                           B " --cache c -v jobs", bin), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "0 hits, 1 miss"));
    /* --skip-existing: an output newer than its input is left alone */
    CU_ASSERT_EQUAL(RUN(d, B " -v --skip-existing jobs", bin), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "1 job up to date"));
    CU_ASSERT_EQUAL(RUN(d, "sleep 0.01; touch in.y4m; " B " -v --skip-existing jobs", bin), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "0 jobs up to date"));
}

static void test_chunks(void)
{
    int64_t a[8], b[8];
    CU_ASSERT_EQUAL(aie_batch_chunk_ranges(0, 9, 3, 0, a, b), 3);
    CU_ASSERT(a[0] == 0 && b[0] == 2 && a[1] == 3 && b[1] == 5 && a[2] == 6 && b[2] == 9);
    /* interp: neighbours share their edge frame */
    CU_ASSERT_EQUAL(aie_batch_chunk_ranges(0, 9, 3, 1, a, b), 3);
    CU_ASSERT(a[0] == 0 && b[0] == 3 && a[1] == 3 && b[1] == 6 && a[2] == 6 && b[2] == 9);
    CU_ASSERT_EQUAL(aie_batch_chunk_ranges(0, 1, 4, 0, a, b), 2);
    CU_ASSERT_EQUAL(aie_batch_chunk_ranges(0, 2, 4, 1, a, b), 2);
    if (!have_media("chunks"))
        return;
    const char *d = scratch("chunks");
    CU_ASSERT_EQUAL_FATAL(RUN(d, "ffmpeg -v error -y -f lavfi -i testsrc2=s=64x48:r=25:d=1.2 -f lavfi -i sine=d=1.2 "
                              "-pix_fmt yuv420p -c:v libx264 -preset ultrafast -c:a aac in.mkv && "
                              "ffmpeg -v error -y -f lavfi -i testsrc2=s=32x24:r=25:d=0.44 -pix_fmt yuv420p in.y4m"), 0);
    char jobs[8192];
    snprintf(jobs, sizeof(jobs), "%s/aie-upscale -s 2 --lossless -i in.mkv -o out.mkv\n"
             "%s/aie-upscale -s 2 -i in.y4m -o out.y4m\n", bin, bin);
    put(d, "jobs", jobs);
    CU_ASSERT_EQUAL(RUN(d, B " --chunks 3 --join --dry-run jobs", bin), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--frames 0-9 --no-audio -s 2 --lossless -i in.mkv -o out.chunk-1-of-3.mkv"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--frames 20- --no-audio"));
    CU_ASSERT_EQUAL(RUN(d, B " -j 2 --chunks 3 --join jobs", bin), 0);
    CU_ASSERT_EQUAL(RUN(d, "ls | grep -c chunk"), 1); /* the chunks are gone */
    /* the same frames as one unchunked run, audio copied once from the source */
    CU_ASSERT_EQUAL(RUN(d, "%s/aie-upscale -s 2 --lossless -i in.mkv -o ref.mkv && "
                           "%s/aie-upscale -s 2 -i in.y4m -o ref.y4m", bin, bin), 0);
    CU_ASSERT_EQUAL(RUN(d, "ffmpeg -v error -i out.mkv -map 0:v -f framemd5 - | grep -v '^#' | cut -d, -f6 > a.md5 && "
                           "ffmpeg -v error -i ref.mkv -map 0:v -f framemd5 - | grep -v '^#' | cut -d, -f6 > b.md5 && "
                           "cmp a.md5 b.md5 && wc -l < a.md5"), 0);
    CU_ASSERT_STRING_EQUAL(out, "30\n");
    CU_ASSERT_EQUAL(RUN(d, "ffprobe -v error -show_entries stream=codec_type -of csv=p=0 out.mkv | tr '\\n' ' '"), 0);
    CU_ASSERT_STRING_EQUAL(out, "video audio ");
    CU_ASSERT_EQUAL(RUN(d, "cmp out.y4m ref.y4m"), 0);
    /* aie-interp chunks overlap by one source frame, which the join trims */
    {
        char interp[2048];
        snprintf(interp, sizeof(interp), "%s/aie-interp", bin);
        if (access(interp, X_OK) != 0) {
            tests_skip("chunks: aie-interp", "aie-interp is not built");
        } else {
            snprintf(jobs, sizeof(jobs), "%s -x 2 -i in.y4m -o interp.y4m\n", interp);
            put(d, "ijobs", jobs);
            CU_ASSERT_EQUAL(RUN(d, B " --chunks 3 --dry-run ijobs | grep -o -- '--frames [0-9-]*' | tr '\\n' ' '", bin), 0);
            CU_ASSERT_STRING_EQUAL(out, "--frames 0-3 --frames 3-6 --frames 6- ");
            CU_ASSERT_EQUAL(RUN(d, B " --chunks 3 --join ijobs && %s -x 2 -i in.y4m -o interp-ref.y4m && "
                                   "cmp interp.y4m interp-ref.y4m", bin, interp), 0);
        }
    }
    /* chunk edges snap to the nearest scene cut (here at frame 20 of 50) */
    CU_ASSERT_EQUAL_FATAL(RUN(d, "ffmpeg -v error -y -f lavfi -i testsrc2=s=64x48:r=25:d=0.8 -f lavfi "
                              "-i mandelbrot=s=64x48:r=25 -filter_complex '[1]trim=end_frame=30,"
                              "setpts=PTS-STARTPTS[b];[0][b]concat=n=2:v=1[v]' -map '[v]' -pix_fmt yuv420p cut.y4m"), 0);
    snprintf(jobs, sizeof(jobs), "%s/aie-upscale -s 2 -i cut.y4m -o cut-out.y4m\n", bin);
    put(d, "cutjobs", jobs);
    CU_ASSERT_EQUAL(RUN(d, B " --chunks 2 --dry-run cutjobs | grep -o -- '--frames [0-9-]*' | tr '\\n' ' '", bin), 0);
    CU_ASSERT_STRING_EQUAL(out, "--frames 0-19 --frames 20- ");
    CU_ASSERT_EQUAL(RUN(d, B " --chunks 2 --no-snap --dry-run cutjobs | grep -o -- '--frames [0-9-]*' | tr '\\n' ' '", bin), 0);
    CU_ASSERT_STRING_EQUAL(out, "--frames 0-24 --frames 25- ");
    /* --job-index counts chunks */
    CU_ASSERT_EQUAL(RUN(d, "rm out.y4m && " B " --chunks 3 --job-index 5 jobs && ls out.*", bin), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "out.chunk-2-of-3.y4m"));
}

int test_batch_register(void)
{
    CU_pSuite s = CU_add_suite("batch", suite_init, NULL);
    if (!s)
        return -1;
    if (!CU_add_test(s, "parse", test_parse) || !CU_add_test(s, "template", test_template) ||
        !CU_add_test(s, "parallel_sources", test_parallel_sources) ||
        !CU_add_test(s, "bounded", test_bounded) || !CU_add_test(s, "timeout", test_timeout) ||
        !CU_add_test(s, "retries", test_retries) ||
        !CU_add_test(s, "resume_after_kill", test_resume_after_kill) ||
        !CU_add_test(s, "gnu_parallel_reads_our_log", test_gnu_parallel_reads_our_log) ||
        !CU_add_test(s, "exit_codes", test_exit_codes) || !CU_add_test(s, "halt", test_halt) ||
        !CU_add_test(s, "bad_input", test_bad_input) ||
        !CU_add_test(s, "jobfile_bounds", test_jobfile_bounds) ||
        !CU_add_test(s, "grouped_output", test_grouped_output) ||
        !CU_add_test(s, "emit_make", test_emit_make) ||
        !CU_add_test(s, "emit_slurm_and_index", test_emit_slurm_and_index) ||
        !CU_add_test(s, "output_dirs", test_output_dirs) ||
        !CU_add_test(s, "cache", test_cache) || !CU_add_test(s, "chunks", test_chunks))
        return -1;
    return 0;
}
