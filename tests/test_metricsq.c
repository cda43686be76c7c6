/* metrics writer under stress (issue 8): full disk, FIFO without a reader or
 * with a stalled one, queue overflow, circuit breaker, SIGKILL evidence. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/metrics.h"
#include "aie/thread.h"
#include "tests.h"

#define BIN tests_bin_dir()
#define T(name) tests_tmp_path(name)

static char out[65536];

/* ---- an injectable sink ---- */
typedef struct Sink {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int blocked;       /* write() waits until released */
    int fail_next;     /* this many writes fail with -EIO */
    long calls, lines, bytes;
} Sink;

static long sink_write(void *opaque, const char *buf, size_t len, int timeout_ms)
{
    (void)timeout_ms;
    Sink *s = opaque;
    pthread_mutex_lock(&s->lock);
    while (s->blocked)
        pthread_cond_wait(&s->cond, &s->lock);
    s->calls++;
    if (s->fail_next > 0) {
        s->fail_next--;
        pthread_mutex_unlock(&s->lock);
        return -EIO;
    }
    for (size_t i = 0; i < len; i++)
        s->lines += buf[i] == '\n';
    s->bytes += (long)len;
    pthread_mutex_unlock(&s->lock);
    return (long)len;
}

static void sink_init(Sink *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
}

static void sink_release(Sink *s)
{
    pthread_mutex_lock(&s->lock);
    s->blocked = 0;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void test_queue_overflow_exact(void)
{
    Sink s;
    sink_init(&s);
    s.blocked = 1;
    AieMetricsSink sk = {sink_write, &s, 0};
    AieMetricsConfig mc = {.tool = "t", .sink = &sk, .queue_max = 1000, .batch_max = 50, .batch_ms = 1};
    AieMetrics *m;
    CU_ASSERT_EQUAL_FATAL(aie_metrics_open(&m, &mc, NULL, 0), 0);
    long long t0 = aie_time_us();
    enum { N = 5000 };
    for (int i = 0; i < N; i++)
        aie_metrics_snapshot(m, i, N, 1.0, 0);
    long long dt = aie_time_us() - t0;
    CU_ASSERT(dt < 2000000); /* enqueueing never blocks, even with the writer stuck */
    AieMetricsCounters c;
    aie_metrics_counters(m, &c);
    CU_ASSERT_EQUAL(c.enqueued, N);
    CU_ASSERT(c.dropped_queue_full >= N - 1000 - 50);
    sink_release(&s);
    aie_metrics_finish(m);
    aie_metrics_counters(m, &c);
    /* every record is either written or counted as dropped, exactly */
    CU_ASSERT_EQUAL(c.written + c.dropped, N);
    CU_ASSERT_EQUAL(c.dropped, c.dropped_queue_full);
    CU_ASSERT_EQUAL(s.lines, c.written);
    CU_ASSERT(c.written >= 1000 && c.written <= 1050);
    CU_ASSERT_EQUAL(aie_metrics_dropped(m), c.dropped);
    aie_metrics_close(&m);
}

static void test_circuit_breaker(void)
{
    Sink s;
    sink_init(&s);
    s.fail_next = 3;
    AieMetricsSink sk = {sink_write, &s, 0};
    AieMetricsConfig mc = {.tool = "t", .sink = &sk, .batch_max = 1, .batch_ms = 1,
                           .breaker_failures = 3, .breaker_recovery_ms = 300};
    AieMetrics *m;
    CU_ASSERT_EQUAL_FATAL(aie_metrics_open(&m, &mc, NULL, 0), 0);
    AieMetricsCounters c;
    /* three failing writes open the breaker */
    for (int i = 0; i < 3; i++) {
        aie_metrics_snapshot(m, i, 10, 1.0, 0);
        usleep(30000);
    }
    aie_metrics_counters(m, &c);
    CU_ASSERT_EQUAL(c.write_failures, 3);
    CU_ASSERT_EQUAL(c.breaker_open, 1);
    CU_ASSERT_EQUAL(c.breaker_opens, 1);
    /* while open, records are dropped without touching the sink */
    long calls = s.calls;
    for (int i = 0; i < 5; i++)
        aie_metrics_snapshot(m, i, 10, 1.0, 0);
    usleep(60000);
    aie_metrics_counters(m, &c);
    CU_ASSERT_EQUAL(s.calls, calls);
    CU_ASSERT_EQUAL(c.dropped, 8);
    /* after the recovery period a trial write succeeds and closes it */
    usleep(350000);
    aie_metrics_snapshot(m, 0, 10, 1.0, 0);
    usleep(60000);
    aie_metrics_counters(m, &c);
    CU_ASSERT_EQUAL(c.breaker_open, 0);
    CU_ASSERT_EQUAL(c.written, 1);
    CU_ASSERT_EQUAL(s.lines, 1);
    CU_ASSERT_STRING_EQUAL(aie_metrics_last_error(m), "Input/output error");
    aie_metrics_close(&m);
}

/* A FIFO whose reader never reads: the pipe fills, writes time out, the
 * breaker opens, and closing is bounded by the flush deadline. */
static void test_fifo_stalled_reader(void)
{
    const char *fifo = T("stalled.fifo");
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    int rd = open(fifo, O_RDONLY | O_NONBLOCK);
    CU_ASSERT_FATAL(rd >= 0);
    AieMetricsConfig mc = {.path = fifo, .tool = "t", .write_timeout_ms = 100,
                           .flush_deadline_ms = 500, .batch_ms = 5};
    AieMetrics *m;
    CU_ASSERT_EQUAL_FATAL(aie_metrics_open(&m, &mc, NULL, 0), 0);
    for (int i = 0; i < 3000; i++)
        aie_metrics_snapshot(m, i, 3000, 1.0, 0);
    long long t0 = aie_time_us();
    aie_metrics_finish(m);
    long long dt = aie_time_us() - t0;
    CU_ASSERT(dt < 1500000); /* deadline 0.5 s plus one write timeout, with margin */
    AieMetricsCounters c;
    aie_metrics_counters(m, &c);
    CU_ASSERT(c.dropped > 0);
    CU_ASSERT(c.written > 0);   /* the pipe took what fits */
    CU_ASSERT(c.written + c.dropped <= 3000);
    aie_metrics_close(&m);
    /* what did reach the pipe is whole lines */
    static char buf[1 << 17];
    ssize_t n = read(rd, buf, sizeof(buf));
    CU_ASSERT(n > 0);
    CU_ASSERT(n > 0 && buf[n - 1] == '\n');
    close(rd);
}

/* ---- the real tool ---- */

static int have_media;

static int suite_init(void)
{
    if (!tests_have_ffmpeg())
        return 0;
    have_media = tests_run(out, sizeof(out),
                           "ffmpeg -v error -y -f lavfi -i testsrc2=s=160x120:r=25:d=4 -f yuv4mpegpipe %s",
                           T("mq.y4m")) == 0;
    return 0;
}

static void test_tool_full_disk(void)
{
    if (!have_media || geteuid() != 0) {
        tests_skip("metricsq full_disk", "needs ffmpeg and root (tmpfs)");
        return;
    }
    char dir[512], in[512];
    snprintf(dir, sizeof(dir), "%s", T("fulllog"));
    snprintf(in, sizeof(in), "%s", T("mq.y4m"));
    if (tests_run(out, sizeof(out), "mkdir -p %s && mount -t tmpfs -o size=64k tmpfs %s && "
                  "dd if=/dev/zero of=%s/fill bs=4k count=100 2>/dev/null; true", dir, dir, dir) != 0) {
        tests_skip("metricsq full_disk", "cannot mount a tmpfs");
        return;
    }
    int rc = tests_run(out, sizeof(out), "%s/aie-upscale -s 2 --metrics %s/log.jsonl -i %s -o %s", BIN,
                       dir, in, T("mq_full.y4m"));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "aie-upscale: warning: metrics:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "dropped (No space left on device)"));
    char a[128];
    snprintf(a, sizeof(a), "%s", T("mq_ref.y4m"));
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "%s/aie-upscale -q -s 2 -i %s -o %s && cmp %s %s", BIN, in,
                              a, a, T("mq_full.y4m")), 0);
    tests_run(out, sizeof(out), "umount %s", dir);
}

static void test_tool_fifo_no_reader(void)
{
    if (!have_media) {
        tests_skip("metricsq fifo", "needs ffmpeg");
        return;
    }
    const char *fifo = T("noreader.fifo");
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    long long t0 = aie_time_us();
    int rc = tests_run(out, sizeof(out), "%s/aie-upscale -s 2 --metrics %s -i %s -o /dev/null", BIN, fifo,
                       T("mq.y4m"));
    long long with = aie_time_us() - t0;
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "No such device or address")); /* ENXIO */
    t0 = aie_time_us();
    rc = tests_run(out, sizeof(out), "%s/aie-upscale -s 2 -i %s -o /dev/null", BIN, T("mq.y4m"));
    long long without = aie_time_us() - t0;
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(with < without + 2500000); /* bounded by the 2 s flush deadline */
}

static void test_tool_sigkill_evidence(void)
{
    if (!have_media) {
        tests_skip("metricsq sigkill", "needs ffmpeg");
        return;
    }
    const char *log = T("killed.jsonl");
    /* a slow run with a snapshot every 0.2 s, killed once two snapshots are
     * in the log (at most 20 s, however loaded the machine is) */
    int rc = tests_run(out, sizeof(out),
                       "ffmpeg -v error -f lavfi -i testsrc2=s=640x360:r=25 -t 120 -f yuv4mpegpipe - 2>/dev/null | "
                       "{ exec 3<&0; %s/aie-upscale -q -s 4 -m spline36 --metrics %s --metrics-interval 0.2 -i - "
                       "-o /dev/null <&3 & pid=$!; i=0; while [ $i -lt 200 ]; do "
                       "n=$(grep -c snapshot %s 2>/dev/null); [ \"${n:-0}\" -ge 2 ] && break; "
                       "sleep 0.1; i=$((i+1)); done; kill -KILL $pid; wait $pid; }", BIN, log, log);
    CU_ASSERT_EQUAL(rc, 137);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "grep -c '\"event\":\"snapshot\"' %s", log), 0);
    CU_ASSERT(atoi(out) >= 2);
    CU_ASSERT_NOT_EQUAL(tests_run(out, sizeof(out), "grep -c '\"event\":\"run_end\"' %s", log), 0);
    char stats[512];
    snprintf(stats, sizeof(stats), "%s/aie-stats", BIN);
    if (access(stats, X_OK) != 0) {
        tests_skip("metricsq sigkill: aie-stats report", "aie-stats is not built yet");
        return;
    }
    rc = tests_run(out, sizeof(out), "%s %s", stats, log);
    CU_ASSERT_EQUAL(rc, 0);
    /* the run is listed as incomplete, with how far it got */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Incomplete runs, tool=aie-upscale (1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "frames "));
}

int test_metricsq_register(void)
{
    CU_pSuite s = CU_add_suite("metricsq", suite_init, NULL);
    if (!s || !CU_add_test(s, "queue_overflow_exact", test_queue_overflow_exact) ||
        !CU_add_test(s, "circuit_breaker", test_circuit_breaker) ||
        !CU_add_test(s, "fifo_stalled_reader", test_fifo_stalled_reader) ||
        !CU_add_test(s, "tool_full_disk", test_tool_full_disk) ||
        !CU_add_test(s, "tool_fifo_no_reader", test_tool_fifo_no_reader) ||
        !CU_add_test(s, "tool_sigkill_evidence", test_tool_sigkill_evidence))
        return -1;
    return 0;
}
