/*
 * Shared declarations of the CUnit runner. Each tests/test_<module>.c defines
 * one `int test_<module>_register(void)` that adds its suite(s) with
 * CU_add_suite()/CU_add_test() and returns 0 (or -1 on a CUnit error).
 */
#ifndef AIE_TESTS_H
#define AIE_TESTS_H

#include <sys/types.h>

#include <CUnit/CUnit.h>

#include "aie/stage.h"
#include "aie/stats.h"

/* Suites are weak symbols: a suite whose file is not there yet is skipped,
 * so each issue adds its tests/test_<module>.c without touching the runner. */
#define TESTS_SUITES(X)                                                            \
    X(core) X(scale) X(png) X(io) X(metrics) X(cli) X(pipeline) X(metricsq) X(stats) \
    X(motion) X(interp) X(nn) X(cnn) X(lut) X(look) X(style) X(raisr) X(batch)      \
    X(hardening) X(fuzz) X(faults) X(outputs) X(damage) X(build) X(keyframe) X(media) \
    X(audio) X(preview) X(nn_train)
#define TESTS_DECLARE(name) int test_##name##_register(void) __attribute__((weak));
TESTS_SUITES(TESTS_DECLARE)
#undef TESTS_DECLARE

/* Directory of the built tools (AIE_BIN), the source tree (AIE_SRC) and a fresh
 * scratch directory for this run (removed at exit unless AIE_KEEP_TMP is set). */
const char *tests_bin_dir(void);
const char *tests_src_dir(void);
const char *tests_tmp_dir(void);

/* Build "<tmp>/<name>" into a static rotating buffer. */
const char *tests_tmp_path(const char *name);

/* Run a shell command line; returns the exit status (or 128+signal), and when
 * out is not NULL stores up to outsize-1 bytes of its stdout+stderr. */
int tests_run(char *out, size_t outsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* tests_run() of a command line run in dir (cd 'dir' && CMD). */
int tests_sh(const char *dir, char *out, size_t outsize, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "<dir>/<name>" in a static rotating buffer (16 of them, so several can be
 * used in one call). */
const char *tests_path(const char *dir, const char *name);

/* Nonzero when the path exists (stat follows links). */
int tests_exists(const char *path);

/* A suite's setup: bin = the tools' directory (absolute), dir = a new scratch
 * directory NAME under the run's temporary directory. 0, or 1 on failure. */
int tests_suite_dirs(const char *name, char *bin, size_t binsize, char *dir, size_t dirsize);

/* The standard output of a shell command line, trailing newlines and spaces
 * removed, in a static buffer (overwritten by the next call). */
const char *tests_output(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Start "sh -c CMD" in dir (NULL: here) without waiting; CMD should exec
 * the program so that the pid is its own. tests_wait() returns the exit
 * status, or 128+signal. */
pid_t tests_start(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tests_wait(pid_t pid);
void tests_sleep_ms(long ms);

/* Nonzero when AIE_LONG is set (make check-long). */
int tests_long(void);

/* Skip the calling test when its suite could not make its media. */
#define TESTS_NEED_MEDIA(have)                                                                               \
    do {                                                                                                     \
        if (!(have)) {                                                                                       \
            tests_skip(__func__, "no test media (ffmpeg missing)");                                          \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

/* A pipeline job that emits a copy of its input (AiePipelineCallbacks.process). */
int tests_copy_job(void *ctx, AieJob *job, AiePool *pool);

/* Nonzero when the ffmpeg and ffprobe programs are available (test oracle). */
int tests_have_ffmpeg(void);

/* Print a visible SKIP line for a test that cannot run here. */
void tests_skip(const char *test, const char *why);

/* aie-stats --plot FILE.png: the stats plots rendered, written as PNG. */
int tests_plot_png(const AieStats *s, const char *path, char *err, size_t errlen);

#endif
