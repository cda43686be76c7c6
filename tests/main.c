/* One CUnit runner for every suite, so the closing summary counts every test. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "aie/io.h"
#include "aie/stats.h"
#include "tests.h"

static char tmpdir[256];

const char *tests_bin_dir(void)
{
    const char *d = getenv("AIE_BIN");
    return d && *d ? d : "build";
}

const char *tests_src_dir(void)
{
    const char *d = getenv("AIE_SRC");
    return d && *d ? d : ".";
}

const char *tests_tmp_dir(void) { return tmpdir; }

const char *tests_tmp_path(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ & 7];
    snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, name);
    return b;
}

int tests_long(void) { return getenv("AIE_LONG") != NULL; }

int tests_copy_job(void *ctx, AieJob *job, AiePool *pool)
{
    (void)ctx;
    (void)pool;
    if (!job->in)
        return 0;
    AieFrame *f;
    int e = aie_frame_alloc(&f, job->in->width, job->in->height, job->in->layout, job->in->depth);
    if (e)
        return e;
    for (int p = 0; p < f->nplanes; p++)
        for (int y = 0; y < f->plane_h[p]; y++)
            memcpy(f->data[p] + y * f->stride[p], job->in->data[p] + y * job->in->stride[p],
                   (size_t)f->plane_w[p]);
    aie_frame_copy_props(f, job->in);
    return aie_job_emit(job, f); /* takes the reference, even when it fails */
}

int tests_have_ffmpeg(void)
{
    static int have = -1;
    if (have < 0)
        have = system("ffmpeg -version >/dev/null 2>&1 && ffprobe -version >/dev/null 2>&1") == 0;
    return have;
}

void tests_skip(const char *test, const char *why)
{
    fprintf(stderr, "\nSKIP %s: %s\n", test, why);
}

int tests_run(char *out, size_t outsize, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (out && outsize)
        out[0] = 0;
    char full[8400];
    snprintf(full, sizeof(full), "( %s ) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p)
        return -1;
    size_t n = 0;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof(buf), p)) > 0) {
        if (out && n + 1 < outsize) {
            size_t take = got < outsize - 1 - n ? got : outsize - 1 - n;
            memcpy(out + n, buf, take);
            n += take;
            out[n] = 0;
        }
    }
    int st = pclose(p);
    if (st == -1)
        return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

int tests_sh(const char *dir, char *out, size_t outsize, const char *fmt, ...)
{
    char cmd[8000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return tests_run(out, outsize, "cd '%s' && %s", dir, cmd);
}

const char *tests_path(const char *dir, const char *name)
{
    static char bufs[16][1536];
    static int next;
    char *b = bufs[next++ & 15];
    snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
    return b;
}

int tests_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

const char *tests_output(const char *fmt, ...)
{
    static char buf[65536];
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    buf[0] = 0;
    FILE *p = popen(cmd, "r");
    if (!p)
        return buf;
    size_t n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = 0;
    pclose(p);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = 0;
    return buf;
}

pid_t tests_start(const char *dir, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    fflush(NULL);
    pid_t p = fork();
    if (p == 0) {
        if (dir && chdir(dir) != 0)
            _exit(126);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return p;
}

int tests_wait(pid_t p)
{
    int st;
    while (waitpid(p, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void tests_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void cleanup(void)
{
    if (tmpdir[0] && !getenv("AIE_KEEP_TMP")) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "warning: could not remove %s\n", tmpdir);
    }
}

int main(int argc, char **argv)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/aie-tests-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    atexit(cleanup);
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
#define TESTS_REF(name) test_##name##_register,
    int (*regs[])(void) = {TESTS_SUITES(TESTS_REF)};
#undef TESTS_REF
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        if (regs[i] && regs[i]() != 0) {
            fprintf(stderr, "CUnit registration failed: %s\n", CU_get_error_msg());
            CU_cleanup_registry();
            return 1;
        }
    /* optional: run one suite by name */
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (argc > 1) {
        CU_pSuite s = CU_get_suite(argv[1]);
        if (!s) {
            fprintf(stderr, "no suite '%s'\n", argv[1]);
            CU_cleanup_registry();
            return 2;
        }
        if (argc > 2) {
            CU_pTest t = CU_get_test(s, argv[2]);
            if (!t) {
                fprintf(stderr, "no test '%s'\n", argv[2]);
                CU_cleanup_registry();
                return 2;
            }
            CU_basic_run_test(s, t);
        } else
            CU_basic_run_suite(s);
    } else
        CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned suites_failed = CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed || suites_failed ? 1 : 0;
}

int tests_plot_png(const AieStats *s, const char *path, char *err, size_t errlen)
{
    AieFrame *img = NULL;
    int rc = aie_stats_plot_image(s, &img);
    if (!rc)
        rc = aie_image_write_png(path, img, 8, err, errlen);
    aie_frame_unref(&img);
    return rc;
}

int tests_suite_dirs(const char *name, char *bin, size_t binsize, char *dir, size_t dirsize)
{
    char *r = realpath(tests_bin_dir(), NULL);
    if (!r)
        return 1;
    snprintf(bin, binsize, "%s", r);
    free(r);
    snprintf(dir, dirsize, "%s", tests_tmp_path(name));
    return mkdir(dir, 0755) != 0;
}
