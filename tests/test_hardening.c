/* hardening: the real tools under I/O faults, kills, resource limits and
 * concurrent writers.
 *
 *   - a full file system (a small tmpfs, else /dev/full), a read-only output
 *     directory: exit 1, one line, the old output intact, no temporary file;
 *   - the input deleted or truncated while it is read (regular files and
 *     FIFOs), stdin closed mid-frame, stdout closed by its reader;
 *   - EINTR on every blocking call: tests/shim/shim_eintr.c (LD_PRELOAD)
 *     interrupts every thread about every millisecond with a handler installed
 *     without SA_RESTART; the outputs must be bit-identical to plain runs, and
 *     the shim's counts prove the interruptions happened;
 *   - SIGKILL at random moments (seeded; AIE_SEED=N repeats a run): OUTPUT is
 *     the old file or the complete new one; aie-batch killed and resumed gives
 *     exactly the outputs of a clean run (2 rounds in make check, 20 in
 *     make check-long);
 *   - decompression bombs refused before allocation under ulimit -v, runs
 *     under a too small ulimit -v fail cleanly, and -m cnn halves its tiles;
 *   - 8 processes appending to one metrics log through the real writer: no
 *     torn line (100000 records each in check-long).
 *
 * Cases that need root (tmpfs) or real models print a SKIP line otherwise. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aie/metrics.h"
#include "aie/thread.h"
#include "tests.h"

extern char **environ;

static char out[1 << 16];
static char dir[1024]; /* this suite's scratch directory (absolute) */
static char bin[1024]; /* absolute AIE_BIN */
static int have_media;

/* "<dir>/<name>" in a rotating buffer */
static const char *P(const char *name)
{
    static char bufs[16][1536];
    static int next;
    char *b = bufs[next++ & 15];
    snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
    return b;
}

/* Run a shell command line in the scratch directory; output in `out`. */
__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
    char cmd[7000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return tests_run(out, sizeof(out), "cd '%s' && %s", dir, cmd);
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static long long fsize(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

static int nlines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* 1 when both files exist and hold the same bytes */
static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        char x[65536], y[65536];
        size_t na = fread(x, 1, sizeof(x), fa), nb = fread(y, 1, sizeof(y), fb);
        if (na != nb || memcmp(x, y, na))
            same = 0;
        if (na == 0)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static int put_text(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* Temporary outputs (".NAME.aie-PID.tmp") in directory d but those of the
 * processes in pids[0..npids). */
static int temps_but(const char *d, const pid_t *pids, int npids)
{
    DIR *dd = opendir(d);
    int n = 0;
    if (!dd)
        return 0;
    struct dirent *e;
    while ((e = readdir(dd))) {
        const char *a = strstr(e->d_name, ".aie-");
        size_t l = strlen(e->d_name);
        if (e->d_name[0] != '.' || !a || l < 4 || strcmp(e->d_name + l - 4, ".tmp"))
            continue;
        int mine = 0;
        for (int i = 0; i < npids; i++)
            mine |= atol(a + 5) == (long)pids[i];
        n += !mine;
    }
    closedir(dd);
    return n;
}

static int temps_in(const char *d) { return temps_but(d, NULL, 0); }

/* Directory entries but . and .., sorted, one per line. */
static void listing(const char *d, char *buf, size_t n)
{
    tests_run(buf, n, "ls -A '%s' | sort", d);
}

static int sanitizer(void)
{
    const char *s = getenv("AIE_SANITIZER");
    return s && *s;
}

/* ---- randomness (seeded, printed, AIE_SEED repeats it) ---- */

static uint64_t rng_state;

static void rng_seed(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    const char *e = getenv("AIE_SEED");
    rng_state = e && *e ? strtoull(e, NULL, 10) : (uint64_t)aie_time_us() ^ ((uint64_t)getpid() << 32);
    if (!rng_state)
        rng_state = 1;
    fprintf(stderr, "\n  hardening: AIE_SEED=%llu\n", (unsigned long long)rng_state);
}

static uint64_t rng_next(void)
{
    uint64_t x = rng_state; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 2685821657736338717ULL;
}

/* uniform in [0, n) */
static long long rng_below(long long n) { return n > 0 ? (long long)(rng_next() % (uint64_t)n) : 0; }

/* ---- processes ---- */

/* Start "sh -c CMD" (CMD should exec the program, so the pid is its own). */
__attribute__((format(printf, 1, 2))) static pid_t start(const char *fmt, ...)
{
    char cmd[7000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    fflush(NULL);
    pid_t p = fork();
    if (p == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return p;
}

/* Exit status, or 128+signal. */
static int wait_status(pid_t p)
{
    int st;
    while (waitpid(p, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void sleep_us(long long us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Wait (at most 20 s) until no process has `token` in its command line. */
static int wait_gone(const char *token)
{
    for (int i = 0; i < 400; i++) {
        int found = 0;
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d)) && !found) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9')
                continue;
            char p[300], buf[4096];
            snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
            int fd = open(p, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                continue;
            ssize_t n = read(fd, buf, sizeof(buf) - 1);
            close(fd);
            for (ssize_t k = 0; k < n; k++)
                if (!buf[k])
                    buf[k] = ' ';
            buf[n > 0 ? n : 0] = 0;
            found = strstr(buf, token) != NULL;
        }
        if (d)
            closedir(d);
        if (!found)
            return 1;
        sleep_us(50000);
    }
    return 0;
}

/* ---- tools under test ---- */

typedef struct Tool {
    const char *name; /* aie-upscale */
    const char *args; /* its options for these tests */
} Tool;

static const Tool tools[] = {
    {"aie-upscale", "-s 2"},
    {"aie-interp", "-x 2"},
    {"aie-style", "--look toon"},
};
enum { NTOOLS = sizeof(tools) / sizeof(tools[0]) };

/* A PNG with a given IHDR and a few bytes of image data. */
static void crc_table(uint32_t t[256])
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        t[n] = c;
    }
}

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void write_chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
    static uint32_t t[256];
    if (!t[1])
        crc_table(t);
    uint8_t b[4];
    be32(b, len);
    fwrite(b, 1, 4, f);
    uint32_t c = 0xffffffffu;
    for (int i = 0; i < 4; i++)
        c = t[(c ^ (uint8_t)type[i]) & 0xff] ^ (c >> 8);
    for (uint32_t i = 0; i < len; i++)
        c = t[(c ^ data[i]) & 0xff] ^ (c >> 8);
    fwrite(type, 1, 4, f);
    if (len)
        fwrite(data, 1, len, f);
    be32(b, c ^ 0xffffffffu);
    fwrite(b, 1, 4, f);
}

static int write_bomb_png(const char *path, uint32_t w, uint32_t h)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fwrite("\x89PNG\r\n\x1a\n", 1, 8, f);
    uint8_t ihdr[13] = {0};
    be32(ihdr, w);
    be32(ihdr + 4, h);
    ihdr[8] = 8; /* 8 bit */
    ihdr[9] = 2; /* RGB */
    write_chunk(f, "IHDR", ihdr, 13);
    /* a stored (uncompressed) zlib stream of 16 zero bytes */
    static const uint8_t idat[] = {0x78, 0x01, 0x01, 0x10, 0x00, 0xef, 0xff, 0, 0, 0, 0, 0, 0,
                                   0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0x00, 0x10, 0x00, 0x01};
    write_chunk(f, "IDAT", idat, sizeof(idat));
    write_chunk(f, "IEND", NULL, 0);
    return fclose(f);
}

static int suite_init(void)
{
    if (tests_suite_dirs("hardening", bin, sizeof(bin), dir, sizeof(dir)))
        return 1;
    if (!tests_have_ffmpeg())
        return 0;
    /* small: 64x48, 50 frames; med: 320x240, 50 frames (chg: 30); hd:
     * 1920x1080, 2 frames */
    have_media =
        sh("ffmpeg -v error -y -f lavfi -i testsrc2=s=64x48:r=25:d=2 -pix_fmt yuv420p -f yuv4mpegpipe small.y4m && "
           "ffmpeg -v error -y -f lavfi -i testsrc2=s=320x240:r=25:d=2 -pix_fmt yuv420p -f yuv4mpegpipe med.y4m && "
           "ffmpeg -v error -y -f lavfi -i testsrc2=s=320x240:r=25:d=1.2 -pix_fmt yuv420p -f yuv4mpegpipe chg.y4m && "
           "ffmpeg -v error -y -f lavfi -i testsrc2=s=1920x1080:r=25:d=0.08 -pix_fmt yuv420p -f yuv4mpegpipe hd.y4m && "
           "%s/aie-upscale -q -s 2 --metrics one.jsonl -i small.y4m -o /dev/null && "
           /* a log with 400 groups (tags), for reports larger than a pipe */
           "awk '{ l[NR] = $0 } END { for (i = 0; i < 400; i++) for (k = 1; k <= NR; k++) { s = l[k]; "
           "sub(/\"tags\":\\{\\}/, \"\\\"tags\\\":{\\\"shot\\\":\\\"s\" i \"\\\"}\", s); print s } }' "
           "one.jsonl > tags.jsonl",
           bin) == 0;
    if (!have_media)
        fprintf(stderr, "\n  hardening: cannot make the test media: %s\n", out);
    return 0;
}

#define NEED_MEDIA(name)                                                                           \
    do {                                                                                           \
        if (!have_media) {                                                                         \
            tests_skip(name, "ffmpeg missing");                                                    \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* A small file system for the fault tests: a tmpfs of `kb` KiB at d (root
 * only). Returns 1 when mounted. */
static int mount_tmpfs(const char *d, int kb)
{
    if (geteuid() != 0)
        return 0;
    char b[512];
    return tests_run(b, sizeof(b), "mkdir -p '%s' && mount -t tmpfs -o size=%dk tmpfs '%s'", d, kb, d) == 0;
}

static void umount_dir(const char *d)
{
    char b[512];
    if (tests_run(b, sizeof(b), "umount '%s'", d) != 0)
        fprintf(stderr, "\n  hardening: cannot unmount %s: %s\n", d, b);
}

/* the last 12 bytes of a complete PNG: an empty IEND chunk */
static int png_complete(const char *p)
{
    static const uint8_t iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    FILE *f = fopen(p, "rb");
    uint8_t b[12];
    int ok = f && fseek(f, -12, SEEK_END) == 0 && fread(b, 1, 12, f) == 12 && !memcmp(b, iend, 12);
    if (f)
        fclose(f);
    return ok;
}

/* One failing run: exit 1 and exactly one line on stderr (prefixed by the
 * tool's name) that contains `needle`. */
static void expect_fail(const char *tool, const char *needle, const char *cmd)
{
    int rc = sh("%s 2>&1 >/dev/null </dev/null", cmd);
    int ok = rc == 1 && nlines(out) == 1 && strstr(out, needle) && !strncmp(out, tool, strlen(tool));
    if (!ok)
        fprintf(stderr, "\n  %s\n  exit %d, want 1 and one line with '%s': %s", cmd, rc, needle, out);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_EQUAL(nlines(out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
    CU_ASSERT(!strncmp(out, tool, strlen(tool)));
}

/* ---- full file system ---- */

static void test_full_fs(void)
{
    NEED_MEDIA("hardening full_fs");
    char cmd[4096], lst[4096], d[1100];
    snprintf(d, sizeof(d), "%.1000s", P("full"));
    if (!mount_tmpfs(d, 64)) {
        /* no tmpfs here: at least /dev/full for every media tool */
        tests_skip("hardening full_fs: tmpfs", "cannot mount a tmpfs (not root?); /dev/full only");
        for (int t = 0; t < NTOOLS; t++) {
            snprintf(cmd, sizeof(cmd), "%s/%s %s -i small.y4m -o /dev/full", bin, tools[t].name, tools[t].args);
            expect_fail(tools[t].name, "No space left on device", cmd);
        }
        return;
    }
    static const char *const outs[] = {"out.mp4", "out.y4m"};
    for (int t = 0; t < NTOOLS; t++) {
        for (size_t k = 0; k < sizeof(outs) / sizeof(outs[0]); k++) {
            char o[1200];
            snprintf(o, sizeof(o), "%s/%s", d, outs[k]);
            CU_ASSERT_EQUAL(put_text(o, "old\n"), 0);
            snprintf(cmd, sizeof(cmd), "%s/%s %s -i med.y4m -o %s", bin, tools[t].name, tools[t].args, o);
            expect_fail(tools[t].name, "No space left on device", cmd);
            CU_ASSERT_EQUAL(sh("cat %s", o), 0);
            CU_ASSERT_STRING_EQUAL(out, "old\n"); /* the old output is intact */
            CU_ASSERT_EQUAL(temps_in(d), 0);
            unlink(o);
        }
        /* a PNG sequence: the frames done stay, whole; no partial frame */
        snprintf(cmd, sizeof(cmd), "%s/%s %s -i med.y4m -o %s/f%%03d.png", bin, tools[t].name, tools[t].args, d);
        expect_fail(tools[t].name, "No space left on device", cmd);
        CU_ASSERT_EQUAL(temps_in(d), 0);
        DIR *dd = opendir(d);
        struct dirent *e;
        while (dd && (e = readdir(dd))) {
            if (e->d_name[0] != 'f')
                continue;
            char f[1400];
            snprintf(f, sizeof(f), "%s/%s", d, e->d_name);
            if (!png_complete(f))
                fprintf(stderr, "\n  %s: a partial PNG frame was left", f);
            CU_ASSERT(png_complete(f));
            unlink(f);
        }
        if (dd)
            closedir(dd);
    }
    /* aie-stats: every report format and both plot kinds (a file leaves
     * 4 KiB free, less than any report) */
    CU_ASSERT_EQUAL(sh("dd if=/dev/zero of=%s/fill bs=4k count=15 2>/dev/null; echo old > %s/rep", d, d), 0);
    static const char *const fmts[] = {"", "--json", "--csv", "--prom"};
    for (size_t k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++) {
        snprintf(cmd, sizeof(cmd), "%s/aie-stats %s --by tag:shot -o %s/rep tags.jsonl", bin, fmts[k], d);
        expect_fail("aie-stats", "rep: No space left on device", cmd);
    }
    CU_ASSERT_EQUAL(sh("cat %s/rep", d), 0);
    CU_ASSERT_STRING_EQUAL(out, "old\n");
    snprintf(cmd, sizeof(cmd), "%s/aie-stats --by tag:shot --plot %s/plot.svg tags.jsonl", bin, d);
    expect_fail("aie-stats", "plot.svg: No space left on device", cmd);
    snprintf(cmd, sizeof(cmd), "%s/aie-stats --by tag:shot --plot %s/plot.png tags.jsonl", bin, d);
    expect_fail("aie-stats", "plot.png: No space left on device", cmd);
    listing(d, lst, sizeof(lst));
    CU_ASSERT_STRING_EQUAL(lst, "fill\nrep\n");
    /* aie-batch: a joblog that cannot be written is its own error (255) */
    CU_ASSERT_EQUAL(sh("echo true > jobs.true && %s/aie-batch --joblog %s/log jobs.true", bin, d), 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "No space left on device"));
    umount_dir(d);
}

/* ---- read-only output directory ---- */

static void test_readonly_dir(void)
{
    NEED_MEDIA("hardening readonly_dir");
    char cmd[4096], lst[4096], d[1100];
    snprintf(d, sizeof(d), "%.1000s", P("ro"));
    const char *why = "Read-only file system";
    int mounted = mount_tmpfs(d, 256);
    if (!mounted) {
        CU_ASSERT_EQUAL_FATAL(mkdir(d, 0755), 0);
        why = "Permission denied";
    }
    CU_ASSERT_EQUAL(sh("echo old > %s/out.mp4 && mkdir -p %s/seq", d, d), 0);
    if (mounted) {
        CU_ASSERT_EQUAL(sh("mount -o remount,ro %s", d), 0);
    } else {
        CU_ASSERT_EQUAL(sh("chmod 0555 %s %s/seq", d, d), 0);
    }
    for (int t = 0; t < NTOOLS; t++) {
        snprintf(cmd, sizeof(cmd), "%s/%s %s -i small.y4m -o %s/out.mp4", bin, tools[t].name, tools[t].args, d);
        expect_fail(tools[t].name, why, cmd);
        snprintf(cmd, sizeof(cmd), "%s/%s %s -i small.y4m -o %s/new.y4m", bin, tools[t].name, tools[t].args, d);
        expect_fail(tools[t].name, why, cmd);
        snprintf(cmd, sizeof(cmd), "%s/%s %s -i small.y4m -o %s/seq/%%03d.png", bin, tools[t].name, tools[t].args,
                 d);
        expect_fail(tools[t].name, why, cmd);
    }
    snprintf(cmd, sizeof(cmd), "%s/aie-stats -o %s/rep tags.jsonl", bin, d);
    expect_fail("aie-stats", why, cmd);
    snprintf(cmd, sizeof(cmd), "%s/aie-stats --plot %s/plot.svg tags.jsonl", bin, d);
    expect_fail("aie-stats", why, cmd);
    CU_ASSERT_EQUAL(sh("echo true > jobs.true && %s/aie-batch --joblog %s/log jobs.true", bin, d), 255);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, why));
    /* nothing was written */
    listing(d, lst, sizeof(lst));
    CU_ASSERT_STRING_EQUAL(lst, "out.mp4\nseq\n");
    CU_ASSERT_EQUAL(sh("cat %s/out.mp4; ls -A %s/seq", d, d), 0);
    CU_ASSERT_STRING_EQUAL(out, "old\n");
    if (mounted)
        umount_dir(d);
    else
        sh("chmod 0755 %s %s/seq", d, d);
}

/* ---- the input changes under the reader ---- */

/* The position of pid's descriptor open on `path` (or -1). */
static long long read_pos(pid_t pid, const char *path)
{
    char p[256], link[2048];
    for (int fd = 0; fd < 256; fd++) {
        snprintf(p, sizeof(p), "/proc/%ld/fd/%d", (long)pid, fd);
        ssize_t n = readlink(p, link, sizeof(link) - 1);
        if (n <= 0)
            continue;
        link[n] = 0;
        if (strncmp(link, path, strlen(path)))
            continue;
        snprintf(p, sizeof(p), "/proc/%ld/fdinfo/%d", (long)pid, fd);
        FILE *f = fopen(p, "r");
        long long pos = -1;
        if (f) {
            if (fscanf(f, "pos: %lld", &pos) != 1)
                pos = -1;
            fclose(f);
        }
        return pos;
    }
    return -1;
}

/* Start `tool` on a copy of chg.y4m, wait until it has read a third of it,
 * then do `what` to the input: 'd' delete, 't' truncate below what was read,
 * 'T' truncate ahead of the reader. Returns the exit status; *outcome: 'c'
 * complete and identical to ref, 'n' nothing at OUTPUT, 'x' anything else;
 * *midway: the change came while the input was still being read. */
static int change_input(const Tool *t, const char *ref, char what, char *outcome, int *midway)
{
    char in[1200], o[1200];
    snprintf(in, sizeof(in), "%s", P("chg/in.y4m"));
    snprintf(o, sizeof(o), "%s", P(strstr(ref, ".y4m") ? "chg/out.y4m" : "chg/out.mp4"));
    unlink(o);
    sh("cp chg.y4m %s", in);
    long long size = fsize(in);
    /* one thread and a slow look: the reader stays close to the processing */
    pid_t p = start("exec %s/%s %s -q -j 1 -i %s -o %s 2>/dev/null", bin, t->name, t->args, in, o);
    long long pos = -1;
    int st = 0, done = 0;
    for (int i = 0; i < 4000 && !done; i++) {
        pos = read_pos(p, in);
        if (pos > size / 3)
            break;
        done = waitpid(p, &st, WNOHANG) == p;
        sleep_us(2000);
    }
    if (what == 'd')
        unlink(in);
    else if (truncate(in, what == 't' ? (pos > 0 ? pos / 2 : 1000) + 777 : size * 3 / 4 + 777) != 0)
        CU_FAIL("truncate");
    *midway = !done && pos >= 0 && pos < size;
    int rc = done ? (WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)) : wait_status(p);
    *outcome = !exists(o) ? 'n' : same_file(o, ref) ? 'c' : 'x';
    return rc;
}

static void test_input_changes(void)
{
    NEED_MEDIA("hardening input_changes");
    sh("mkdir -p chg");
    /* slow enough per frame (one thread, an encoder) that the input is still
     * being read when it changes (y4m for interp: x264 is not always
     * deterministic behind it) */
    static const Tool slow[] = {{"aie-upscale", "-s 3"}, {"aie-interp", "-x 3"}, {"aie-style", "--look oil"}};
    for (int t = 0; t < 3; t++) {
        char ref[1200], outc;
        snprintf(ref, sizeof(ref), "%s", P(t == 1 ? "chg/ref.y4m" : "chg/ref.mp4"));
        CU_ASSERT_EQUAL_FATAL(sh("%s/%s %s -q -j 1 -i chg.y4m -o %s", bin, slow[t].name, slow[t].args, ref), 0);
        /* deleted: the open file is still whole, the output complete */
        int midway;
        int rc = change_input(&slow[t], ref, 'd', &outc, &midway);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(outc, 'c');
        /* truncated below what it already read (and, in check-long, ahead of
         * the reader): a clean failure, or a complete output if it had read
         * everything before */
        for (int k = tests_long() ? 0 : 1; k < 2; k++) {
            rc = change_input(&slow[t], ref, k ? 't' : 'T', &outc, &midway);
            int ok = (rc == 1 && outc == 'n') || (!midway && rc == 0 && outc == 'c');
            if (!ok || !midway)
                fprintf(stderr, "\n  %s, input truncated (%s, %s): exit %d, output %c", slow[t].name,
                        k ? "below the reader" : "ahead", midway ? "while reading" : "too late", rc, outc);
            CU_ASSERT(ok);
        }
        CU_ASSERT_EQUAL(temps_in(P("chg")), 0);
    }
    /* a FIFO: deleted while it is read (the run completes), or its writer
     * killed mid-frame (a clean failure, no output) */
    for (int t = 0; t < NTOOLS; t++) {
        CU_ASSERT_EQUAL_FATAL(sh("%s/%s %s -q -i small.y4m -o chg/fref.y4m", bin, tools[t].name, tools[t].args), 0);
        /* (timeouts: a writer whose reader never comes blocks in open) */
        int rc = sh("rm -f chg/in.fifo chg/fo.y4m && mkfifo chg/in.fifo && "
                    "{ timeout 60 sh -c '{ head -c 100000 small.y4m; rm chg/in.fifo; sleep 0.2; "
                    "tail -c +100001 small.y4m; } > chg/in.fifo' & } && "
                    "timeout 60 %s/%s %s -q -i chg/in.fifo -o chg/fo.y4m 2>&1; r=$?; wait; exit $r",
                    bin, tools[t].name, tools[t].args);
        if (rc != 0)
            fprintf(stderr, "\n  %s reading a FIFO: exit %d: %s", tools[t].name, rc, out);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT(same_file(P("chg/fo.y4m"), P("chg/fref.y4m")));
        CU_ASSERT(!exists(P("chg/in.fifo")));
        rc = sh("rm -f chg/in.fifo chg/fo.y4m && mkfifo chg/in.fifo && "
                "{ timeout 60 sh -c 'exec > chg/in.fifo; head -c 100000 small.y4m; kill -KILL $$' & } && "
                "timeout 60 %s/%s %s -i chg/in.fifo -o chg/fo.y4m 2>&1; r=$?; wait; exit $r",
                bin, tools[t].name, tools[t].args);
        CU_ASSERT_EQUAL(rc, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "truncated"));
        CU_ASSERT(!exists(P("chg/fo.y4m")));
        CU_ASSERT_EQUAL(temps_in(P("chg")), 0);
    }
}

/* ---- stdin closed early, stdout closed by its reader ---- */

static void test_stdin_closed(void)
{
    NEED_MEDIA("hardening stdin_closed");
    /* 64x48 yuv420p: 4608 bytes + "FRAME\n" per frame; cut in frame 12 */
    long long hdr = fsize(P("small.y4m")) - 50 * 4614;
    long long cut = hdr + 11 * 4614 + 2000;
    static const char *const outs[] = {"cut.y4m", "cut.mp4", "cutseq/%03d.png"};
    sh("mkdir -p cutseq");
    for (int t = 0; t < NTOOLS; t++) {
        for (int k = 0; k < 3; k++) {
            char cmd[4096];
            /* the writer dies mid-frame (killed), or just stops (head) */
            if (k == 1)
                snprintf(cmd, sizeof(cmd), "sh -c 'head -c %lld small.y4m; kill -KILL $$' | %s/%s %s -i - -o %s", cut,
                         bin, tools[t].name, tools[t].args, outs[k]);
            else
                snprintf(cmd, sizeof(cmd), "head -c %lld small.y4m | %s/%s %s -i - -o %s", cut, bin, tools[t].name,
                         tools[t].args, outs[k]);
            int rc = sh("%s 2>&1", cmd);
            if (rc != 1)
                fprintf(stderr, "\n  %s: exit %d: %s", cmd, rc, out);
            CU_ASSERT_EQUAL(rc, 1);
            CU_ASSERT_PTR_NOT_NULL(strstr(out, "truncated"));
            CU_ASSERT(!exists(P("cut.y4m")) && !exists(P("cut.mp4")));
            CU_ASSERT_EQUAL(temps_in(dir), 0);
            CU_ASSERT_EQUAL(temps_in(P("cutseq")), 0);
            /* a PNG sequence keeps the frames done, each whole */
            for (int fr = 1; fr <= 50; fr++) {
                char f[64];
                snprintf(f, sizeof(f), "cutseq/%03d.png", fr);
                if (exists(P(f)))
                    CU_ASSERT(png_complete(P(f)));
                unlink(P(f));
            }
        }
        /* to stdout: what went out cannot come back, but the exit status says it */
        CU_ASSERT_EQUAL(sh("head -c %lld small.y4m | %s/%s %s -i - -o - 2>/dev/null >/dev/null", cut, bin,
                           tools[t].name, tools[t].args), 1);
    }
}

static void test_stdout_closed(void)
{
    NEED_MEDIA("hardening stdout_closed");
    for (int t = 0; t < NTOOLS + 1; t++) {
        char cmd[2048];
        if (t < NTOOLS)
            snprintf(cmd, sizeof(cmd), "%s/%s %s -i small.y4m -o -", bin, tools[t].name, tools[t].args);
        else /* a report of about 1 MB */
            snprintf(cmd, sizeof(cmd), "%s/aie-stats --json --by tag:shot tags.jsonl", bin);
        int rc = sh("rm -f pipe.rc; { %s 2>pipe.err; echo $? > pipe.rc; } | head -c 1000 >/dev/null; cat pipe.rc", cmd);
        CU_ASSERT_EQUAL(rc, 0);
        if (strcmp(out, "1\n"))
            fprintf(stderr, "\n  %s | head -c 1000: exit %s", cmd, out);
        CU_ASSERT_STRING_EQUAL(out, "1\n");
        sh("cat pipe.err");
        if (out[0])
            fprintf(stderr, "\n  %s | head -c 1000: stderr: %s", cmd, out);
        CU_ASSERT_STRING_EQUAL(out, ""); /* quiet */
    }
}

/* ---- EINTR everywhere ---- */

/* The shim's counts: processes, signals and EINTR returns seen; resets them. */
static void shim_counts(const char *d, long *procs, long *sigs, long *eintrs, long *min_sigs)
{
    *procs = *sigs = *eintrs = 0;
    *min_sigs = -1;
    DIR *dd = opendir(d);
    struct dirent *e;
    while (dd && (e = readdir(dd))) {
        if (strncmp(e->d_name, "shim.", 5))
            continue;
        char p[1400];
        snprintf(p, sizeof(p), "%s/%s", d, e->d_name);
        FILE *f = fopen(p, "r");
        long s = 0, x = 0;
        if (f && fscanf(f, "signals %ld eintr %ld", &s, &x) == 2) {
            if (s < 1)
                fprintf(stderr, "\n  shim: process %s got no signal", e->d_name + 5);
            (*procs)++;
            *sigs += s;
            *eintrs += x;
            if (*min_sigs < 0 || s < *min_sigs)
                *min_sigs = s;
        }
        if (f)
            fclose(f);
        unlink(p);
    }
    if (dd)
        closedir(dd);
}

static void test_eintr(void)
{
    NEED_MEDIA("hardening eintr");
    char shim[1200];
    snprintf(shim, sizeof(shim), "%s/tests/shim_eintr.so", bin);
    if (access(shim, R_OK) != 0) {
        CU_FAIL("tests/shim_eintr.so is not built (make tests)");
        return;
    }
    sh("mkdir -p eintr");
    char sd[1200];
    snprintf(sd, sizeof(sd), "%s", P("eintr"));
    /* the environment of a run under the shim */
    char env[3000];
    snprintf(env, sizeof(env),
             "AIE_SHIM_DIR=%s LD_PRELOAD=%s ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0",
             sd, shim);
    /* a writer that hands the input over in 8 KiB pieces, 10 ms apart, and a
     * reader that starts late: reads and writes block, and are interrupted */
    static const char feed[] = "feed() { i=0; n=$(( ($(wc -c < $1) + $2 - 1) / $2 )); while [ $i -lt $n ]; do "
                               "dd if=$1 bs=$2 skip=$i count=1 2>/dev/null; sleep 0.01; i=$((i+1)); done; }; ";
    long procs, sigs, eintrs, mins;
    shim_counts(sd, &procs, &sigs, &eintrs, &mins);
    for (int t = 0; t < NTOOLS; t++) {
        const char *n = tools[t].name, *a = tools[t].args;
        /* y4m in through a slow pipe, out to a slow pipe, with a metrics log */
        CU_ASSERT_EQUAL_FATAL(sh("%s/%s %s -q -i small.y4m -o eintr/ref.y4m", bin, n, a), 0);
        int rc = sh("rm -f eintr/m.jsonl; %s feed small.y4m 8192 | { %s %s/%s %s -q --metrics eintr/m.jsonl --metrics-interval 0.1 "
                    "-i - -o -; echo $? > eintr/rc; } | { sleep 0.2; cat; } > eintr/pipe.y4m; cat eintr/rc",
                    feed, env, bin, n, a);
        CU_ASSERT(rc == 0 && !strcmp(out, "0\n"));
        if (strcmp(out, "0\n"))
            fprintf(stderr, "\n  %s under the shim, pipes: %s", n, out);
        CU_ASSERT(same_file(P("eintr/ref.y4m"), P("eintr/pipe.y4m")));
        CU_ASSERT_EQUAL(sh("grep -c '\"event\":\"run_end\"' eintr/m.jsonl"), 0);
        CU_ASSERT_STRING_EQUAL(out, "1\n");
        /* files, an encoder with its threads */
        CU_ASSERT_EQUAL(sh("%s/%s %s -q -i small.y4m -o eintr/ref.mp4", bin, n, a), 0);
        rc = sh("%s %s/%s %s -q -i small.y4m -o eintr/file.mp4", env, bin, n, a);
        CU_ASSERT_EQUAL(rc, 0);
        if (rc)
            fprintf(stderr, "\n  %s under the shim, files: %s", n, out);
        CU_ASSERT(same_file(P("eintr/ref.mp4"), P("eintr/file.mp4")));
    }
    /* a LUT read from a pipe that stays empty for a while */
    char lut[1200];
    snprintf(lut, sizeof(lut), "%s/testdata/lut/invert1d.cube", tests_src_dir());
    CU_ASSERT_EQUAL(sh("%s/aie-style -q --lut %s -i small.y4m -o eintr/lref.y4m", bin, lut), 0);
    int rc = sh("{ sleep 0.3; cat %s; } | %s %s/aie-style -q --lut /dev/stdin -i small.y4m -o eintr/lut.y4m", lut,
                env, bin);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc)
        fprintf(stderr, "\n  aie-style --lut from a pipe under the shim: %s", out);
    CU_ASSERT(same_file(P("eintr/lref.y4m"), P("eintr/lut.y4m")));
    /* aie-stats: a log from a slow pipe, a report (> 64 KiB) to a slow pipe */
    static const char *const fmts[] = {"", "--json", "--csv", "--prom"};
    for (size_t k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++) {
        CU_ASSERT_EQUAL(sh("%s/aie-stats %s --by tag:shot - < tags.jsonl > eintr/ref.txt", bin, fmts[k]), 0);
        rc = sh("%s feed tags.jsonl 65536 | { %s %s/aie-stats %s --by tag:shot -; echo $? > eintr/rc; } | "
                "{ sleep 0.2; cat; } > eintr/rep.txt; cat eintr/rc", feed, env, bin, fmts[k]);
        CU_ASSERT(rc == 0 && !strcmp(out, "0\n"));
        if (strcmp(out, "0\n"))
            fprintf(stderr, "\n  aie-stats %s under the shim: %s", fmts[k], out);
        CU_ASSERT(same_file(P("eintr/ref.txt"), P("eintr/rep.txt")));
    }
    /* aie-batch and the jobs it runs (they inherit the shim) */
    CU_ASSERT_EQUAL(sh("cd eintr && rm -rf b1 b2 && mkdir b1 b2 && "
                       "for k in 1 2 3 4; do echo \"%s/aie-upscale -q -s $k -i %s -o o$k.y4m\"; done > jobs",
                       bin, P("small.y4m")), 0);
    CU_ASSERT_EQUAL(sh("cd eintr/b1 && %s/aie-batch -j 2 --joblog log ../jobs", bin), 0);
    rc = sh("cd eintr/b2 && { %s %s/aie-batch -j 2 --joblog log ../jobs; echo $? > rc; } | { sleep 0.2; cat; }; "
            "cat rc", env, bin);
    CU_ASSERT_STRING_EQUAL(out, "0\n");
    for (int k = 1; k <= 4; k++) {
        char a[64], b[64];
        snprintf(a, sizeof(a), "eintr/b1/o%d.y4m", k);
        snprintf(b, sizeof(b), "eintr/b2/o%d.y4m", k);
        CU_ASSERT(same_file(P(a), P(b)));
    }
    /* SIGTERM: the signal thread's grace period is not cut short by other
     * signals, so the run winds down and logs its end */
    rc = sh("rm -f eintr/t.jsonl eintr/sig.mkv; %s feed med.y4m 65536 | %s %s/aie-upscale -q -s 2 --metrics "
            "eintr/t.jsonl -i - -o eintr/sig.mkv & p=$!; i=0; while [ $i -lt 400 ] && "
            "! grep -q run_start eintr/t.jsonl 2>/dev/null; do sleep 0.05; i=$((i+1)); done; sleep 0.2; "
            "kill -TERM $p; wait $p", feed, env, bin);
    CU_ASSERT_EQUAL(rc, 143);
    CU_ASSERT_EQUAL(sh("grep -c '\"status\":\"cancelled\"' eintr/t.jsonl"), 0);
    CU_ASSERT_STRING_EQUAL(out, "1\n");
    CU_ASSERT(!exists(P("eintr/sig.mkv")));
    CU_ASSERT_EQUAL(temps_in(sd), 0);
    /* the interruptions did happen, in every process, and calls saw EINTR */
    shim_counts(sd, &procs, &sigs, &eintrs, &mins);
    fprintf(stderr, "\n  shim: %ld processes, %ld signals (at least %ld each), %ld EINTR returns seen\n", procs,
            sigs, mins, eintrs);
    CU_ASSERT(procs >= 2 * NTOOLS + 1 + 4 + 5 + 1);
    CU_ASSERT(mins >= 1); /* every process was interrupted */
    CU_ASSERT(eintrs > 0);
}

/* ---- SIGKILL at random moments ---- */

static void kill_tool(const Tool *t, int rounds)
{
    char ref[1200], o[1200], old[1200], d[1100];
    snprintf(d, sizeof(d), "%.1000s", P("kill"));
    snprintf(ref, sizeof(ref), "%s/ref.mp4", d);
    snprintf(o, sizeof(o), "%s/out.mp4", d);
    snprintf(old, sizeof(old), "%s/old.mp4", d);
    /* the old output: a complete file of another run */
    CU_ASSERT_EQUAL_FATAL(sh("%s/%s %s -q -i small.y4m -o %s", bin, t->name, t->args, old), 0);
    long long t0 = aie_time_us();
    CU_ASSERT_EQUAL_FATAL(sh("%s/%s %s -q -i med.y4m -o %s", bin, t->name, t->args, ref), 0);
    long long span = aie_time_us() - t0;
    int n_old = 0, n_new = 0;
    pid_t killed[64];
    for (int i = 0; i < rounds && i < 64; i++) {
        CU_ASSERT_EQUAL(sh("cp %s %s", old, o), 0);
        long long at = rng_below(span * 11 / 10 + 1);
        pid_t p = start("exec %s/%s %s -q -i med.y4m -o %s 2>/dev/null", bin, t->name, t->args, o);
        sleep_us(at);
        kill(p, SIGKILL);
        int rc = wait_status(p);
        int is_old = same_file(o, old), is_new = same_file(o, ref);
        if (!is_old && !is_new)
            fprintf(stderr, "\n  %s killed after %lld us (exit %d): OUTPUT is neither the old nor the new file",
                    t->name, at, rc);
        CU_ASSERT(is_old || is_new);
        CU_ASSERT(rc == 137 || (rc == 0 && is_new));
        n_old += is_old;
        n_new += is_new;
        /* only killed processes' temporary files may be left */
        killed[i] = p;
        CU_ASSERT_EQUAL(temps_but(d, killed, i + 1), 0);
    }
    /* the next run removes what the killed ones left */
    CU_ASSERT_EQUAL(sh("%s/%s %s -q -i med.y4m -o %s", bin, t->name, t->args, o), 0);
    CU_ASSERT(same_file(o, ref));
    CU_ASSERT_EQUAL(temps_in(d), 0);
    fprintf(stderr, "\n  %s: %d kills over %.2f s: %d left the old output, %d the new one", t->name, rounds,
            span / 1e6, n_old, n_new);
}

static void test_kill_tools(void)
{
    NEED_MEDIA("hardening kill_tools");
    rng_seed();
    sh("mkdir -p kill");
    for (int t = 0; t < NTOOLS; t++)
        kill_tool(&tools[t], tests_long() ? 20 : 3);
}

static void test_kill_batch(void)
{
    NEED_MEDIA("hardening kill_batch");
    rng_seed();
    char lref[4096], lrun[4096];
    /* 8 real jobs, each a fraction of a second; the input's name marks them */
    CU_ASSERT_EQUAL_FATAL(sh("rm -rf kb && mkdir -p kb/ref/out && cp med.y4m kb/kb-input.y4m && "
                             "for k in 4 9 14 19 24 29 34 49; do echo \"%s/aie-upscale -q -s 2 --frames 0-$k "
                             "--preset ultrafast -i %s -o out/o$k.mp4\"; done > kb/jobs",
                             bin, P("kb/kb-input.y4m")),
                          0);
    long long t0 = aie_time_us();
    CU_ASSERT_EQUAL_FATAL(sh("cd kb/ref && %s/aie-batch -j 2 --joblog log ../jobs", bin), 0);
    long long span = aie_time_us() - t0;
    listing(P("kb/ref/out"), lref, sizeof(lref));
    const int rounds = tests_long() ? 20 : 2;
    int killed = 0;
    for (int i = 0; i < rounds; i++) {
        sh("rm -rf kb/run && mkdir -p kb/run/out");
        long long at = rng_below(span * 11 / 10 + 1);
        pid_t p = start("cd kb/run && exec %s/aie-batch -j 2 --joblog log ../jobs >/dev/null 2>&1", bin);
        sleep_us(at);
        kill(p, SIGKILL);
        killed += wait_status(p) == 137;
        /* the jobs die with it (PR_SET_PDEATHSIG) */
        CU_ASSERT(wait_gone("kb-input.y4m"));
        int rc = sh("cd kb/run && %s/aie-batch -j 2 --resume --joblog log ../jobs", bin);
        if (rc != 0)
            fprintf(stderr, "\n  aie-batch --resume after a kill at %lld us: exit %d: %s", at, rc, out);
        CU_ASSERT_EQUAL(rc, 0);
        /* exactly the outputs of a clean run */
        listing(P("kb/run/out"), lrun, sizeof(lrun));
        if (strcmp(lref, lrun))
            fprintf(stderr, "\n  after a kill at %lld us and --resume: outputs\n%s\n  want\n%s", at, lrun, lref);
        CU_ASSERT_STRING_EQUAL(lrun, lref);
        for (char *s = lref, *e; *s; s = e + 1) {
            if (!(e = strchr(s, '\n')))
                break;
            char a[300], b[300];
            snprintf(a, sizeof(a), "kb/ref/out/%.*s", (int)(e - s), s);
            snprintf(b, sizeof(b), "kb/run/out/%.*s", (int)(e - s), s);
            if (!same_file(P(a), P(b)))
                fprintf(stderr, "\n  after a kill at %lld us and --resume: %s differs", at, b);
            CU_ASSERT(same_file(P(a), P(b)));
        }
        /* and a joblog with every job once, all successful */
        CU_ASSERT_EQUAL(sh("cd kb/run && awk -F'\\t' 'NR > 1 && ($7 != 0 || $8 != 0)' log | wc -l; "
                           "tail -n +2 log | cut -f9 | sort | uniq | wc -l; tail -n +2 log | wc -l; head -1 log | cut -f1"),
                        0);
        CU_ASSERT_STRING_EQUAL(out, "0\n8\n8\nSeq\n");
    }
    fprintf(stderr, "\n  aie-batch: %d of %d runs killed mid-way over %.2f s, each resumed to the clean result",
            killed, rounds, span / 1e6);
}

/* ---- resource limits ---- */

static void test_bombs(void)
{
    NEED_MEDIA("hardening bombs");
    CU_ASSERT_EQUAL_FATAL(write_bomb_png(P("bomb1.png"), 100000, 100000), 0);
    CU_ASSERT_EQUAL_FATAL(write_bomb_png(P("bomb2.png"), 65535, 65535), 0);
    FILE *f = fopen(P("bomb.y4m"), "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "YUV4MPEG2 W100000 H100000 F25:1 Ip A1:1 C420jpeg\nFRAME\n");
    fclose(f);
    /* 2 GB of address space: a 100000x100000 frame needs 15 GB (65535x65535
     * RGB, 12 GB), so a refusal that came from a failed allocation would say
     * "out of memory", not name the limit */
    const char *limit = sanitizer() ? "" : "ulimit -v 2000000; ";
    static const char *const ins[] = {"bomb1.png", "bomb2.png", "bomb.y4m", "- < bomb.y4m"};
    for (int t = 0; t < NTOOLS; t++) {
        for (size_t k = 0; k < sizeof(ins) / sizeof(ins[0]); k++) {
            char cmd[2048];
            snprintf(cmd, sizeof(cmd), "%s%s/%s %s --metrics bomb.jsonl -i %s -o bomb_out.mp4", limit, bin,
                     tools[t].name, tools[t].args, ins[k]);
            unlink(P("bomb.jsonl"));
            long long t0 = aie_time_us();
            int rc = sh("%s 2>&1", cmd);
            long long dt = aie_time_us() - t0;
            if (rc != 1 || nlines(out) != 1 || !strstr(out, "16384"))
                fprintf(stderr, "\n  %s: exit %d: %s", cmd, rc, out);
            CU_ASSERT_EQUAL(rc, 1);
            CU_ASSERT_EQUAL(nlines(out), 1);
            CU_ASSERT_PTR_NOT_NULL(strstr(out, "16384"));
            CU_ASSERT_PTR_NULL(strstr(out, "memory"));
            CU_ASSERT(dt < 10000000); /* quickly, even on a loaded machine */
            CU_ASSERT(!exists(P("bomb_out.mp4")));
            /* what the process held at its peak */
            long rss = atol(tests_output("sed -n 's/.*\"maxrss_kb\":\\([0-9]*\\).*/\\1/p' '%s'", P("bomb.jsonl")));
            CU_ASSERT(rss > 0 && (sanitizer() || rss < 200000));
        }
    }
    /* a style reference is read the same way */
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s%s/aie-style --reference bomb1.png -i small.y4m -o bomb_out.mp4", limit, bin);
    expect_fail("aie-style", "16384", cmd);
}

/* The smallest `ulimit -v` (KiB, within 4 MiB) under which cmd exits 0, or -1. */
static long min_vmem(const char *cmd)
{
    long lo = 32 << 10, hi = 2 << 20; /* 32 MiB fails, 2 GiB works */
    if (sh("ulimit -v %ld; %s >/dev/null 2>&1", hi, cmd) != 0)
        return -1;
    while (hi - lo > 6144) {
        long mid = (lo + hi) / 2;
        if (sh("ulimit -v %ld; %s >/dev/null 2>&1", mid, cmd) == 0)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

static void test_small_ulimit(void)
{
    NEED_MEDIA("hardening small_ulimit");
    if (sanitizer()) {
        tests_skip("hardening small_ulimit", "ulimit -v and a sanitizer's shadow memory do not mix");
        return;
    }
    /* what a tiny run needs, then a big run (1920x1080, 8x more for
     * upscale) with only 24 MiB more than that: it fails, and cleanly */
    static const Tool big[] = {{"aie-upscale", "-s 4"}, {"aie-interp", "-x 2"}, {"aie-style", "--look toon"}};
    for (int t = 0; t < 3; t++) {
        char cmd[2048];
        snprintf(cmd, sizeof(cmd), "%s/%s %s -q -j 1 -i small.y4m -o /dev/null", bin, big[t].name, big[t].args);
        long base = min_vmem(cmd);
        CU_ASSERT_FATAL(base > 0);
        snprintf(cmd, sizeof(cmd), "ulimit -v %ld; %s/%s %s -j 1 -i hd.y4m -o lim.y4m", base + (24 << 10), bin,
                 big[t].name, big[t].args);
        expect_fail(big[t].name, "out of memory", cmd);
        CU_ASSERT(!exists(P("lim.y4m")));
        CU_ASSERT_EQUAL(temps_in(dir), 0);
    }
}

/* A run that outgrows ulimit -v says memory ran out, with the limit and what
 * needs less, whatever the library called it (x264 reports its failed
 * malloc as "Generic error in an external library"). x264 prints a line of
 * its own that no log callback reaches; ours is the last one. */
static void test_ulimit_names_memory(void)
{
    NEED_MEDIA("hardening ulimit_names_memory");
    if (sanitizer()) {
        tests_skip("hardening ulimit_names_memory", "ulimit -v and a sanitizer's shadow memory do not mix");
        return;
    }
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s/aie-upscale -q -s 2 -m lanczos -j 2 -i small.y4m -o tiny.mp4", bin);
    long base = min_vmem(cmd);
    CU_ASSERT_FATAL(base > 0);
    /* 1080p to 4K in x264 needs well over a GiB more than a tiny run */
    int rc = sh("ulimit -v %ld; %s/aie-upscale -s 2 -m lanczos -j 2 --metrics lim.jsonl -i hd.y4m -o lim.mp4 "
                "2>&1 >/dev/null", base + (300 << 10), bin);
    CU_ASSERT_EQUAL(rc, 1);
    const char *last = out + strlen(out);
    while (last > out && last[-1] == '\n')
        last--;
    while (last > out && last[-1] != '\n')
        last--;
    if (!strstr(last, "address-space limit"))
        fprintf(stderr, "\n  want the memory explained: %s", out);
    CU_ASSERT(!strncmp(last, "aie-upscale: ", 13));
    CU_ASSERT_PTR_NOT_NULL(strstr(last, "address-space limit, ulimit -v"));
    CU_ASSERT_PTR_NOT_NULL(strstr(last, "raise the limit; needing less: a faster --preset"));
    CU_ASSERT_PTR_NOT_NULL(strstr(last, "-j 1 (this run had -j 2)"));
    for (const char *p = out; p < last; p = strchr(p, '\n') + 1) /* nothing else of ours */
        CU_ASSERT(strncmp(p, "aie-", 4) != 0);
    CU_ASSERT(!exists(P("lim.mp4")));
    CU_ASSERT_EQUAL(temps_in(dir), 0);
    /* the run record says the same */
    CU_ASSERT_EQUAL(sh("grep '\"run_end\"' lim.jsonl | grep -q 'address-space limit'"), 0);
}

/* -m cnn: a tile that does not fit is halved until it does, and the output is
 * the same as with a small tile from the start. */
static void test_cnn_halves_tiles(void)
{
    NEED_MEDIA("hardening cnn_halves_tiles");
    if (sanitizer()) {
        tests_skip("hardening cnn_halves_tiles", "ulimit -v and a sanitizer's shadow memory do not mix");
        return;
    }
    static const char model[] = "anime4k-2x-s-rl";
    if (sh("%s/aie-upscale --list-models 2>/dev/null | grep -q '^%s '", bin, model) != 0) {
        if (tests_long())
            CU_FAIL("models not installed (make models)");
        tests_skip("hardening cnn_halves_tiles", "no CNN model installed (make models)");
        return;
    }
    sh("ffmpeg -v error -y -f lavfi -i testsrc2=s=960x540:r=25:d=0.04 -pix_fmt yuv420p -f yuv4mpegpipe q.y4m");
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s/aie-upscale -q -m cnn --model %s --tile 128 -j 1 -i q.y4m -o cnn_ref.y4m", bin,
             model);
    long base = min_vmem(cmd);
    CU_ASSERT_FATAL(base > 0);
    /* a whole-frame tile needs far more than base; above base, the tile is
     * halved until the frame fits */
    int halved = 0;
    for (long extra = 8 << 10; extra <= (88 << 10); extra += 8 << 10) {
        unlink(P("cnn.y4m"));
        int rc = sh("ulimit -v %ld; %s/aie-upscale -m cnn --model %s --tile 4096 -j 1 -i q.y4m -o cnn.y4m 2>&1",
                    base + extra, bin, model);
        if (rc != 0)
            fprintf(stderr, "\n  -m cnn under ulimit -v %ld (%ld KiB over a 128 tile's need): exit %d: %s",
                    base + extra, extra, rc, out);
        CU_ASSERT_EQUAL(rc, 0);
        halved += strstr(out, "the tile was halved") != NULL;
        CU_ASSERT(same_file(P("cnn.y4m"), P("cnn_ref.y4m")));
    }
    CU_ASSERT(halved > 0);
}

/* ---- many writers, one metrics log ---- */

/* Helper mode: the test binary started with AIE_HARD_WRITER=PATH:N appends N
 * records through the real metrics writer, then exits (status 4 if any was
 * dropped). Each record carries seq and a pad of a length known from seq. */
static int pad_len(long seq) { return (int)((unsigned long)seq * 7919u % 1500u); }

__attribute__((constructor)) static void metrics_writer_mode(void)
{
    const char *spec = getenv("AIE_HARD_WRITER");
    if (!spec)
        return;
    char path[1024];
    const char *colon = strrchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof(path))
        _exit(3);
    snprintf(path, sizeof(path), "%.*s", (int)(colon - spec), spec);
    long n = atol(colon + 1);
    AieMetricsConfig mc = {.path = path, .tool = "hardening", .version = "0"};
    AieMetrics *m = NULL;
    if (aie_metrics_open(&m, &mc, NULL, 0) != 0)
        _exit(3);
    static char pad[1600], fields[1700];
    memset(pad, 'x', sizeof(pad) - 1);
    AieMetricsCounters c;
    for (long i = 0; i < n; i++) {
        if (i % 50 == 0) /* enqueueing never blocks, and drops when full: keep up */
            for (;;) {
                aie_metrics_counters(m, &c);
                if (c.queued < 900)
                    break;
                struct timespec ts = {0, 200000};
                nanosleep(&ts, NULL);
            }
        snprintf(fields, sizeof(fields), "{\"seq\":%ld,\"pad\":\"%.*s\"}", i, pad_len(i), pad);
        aie_metrics_event(m, "hard", fields);
    }
    aie_metrics_finish(m);
    aie_metrics_counters(m, &c);
    int rc = c.dropped || c.written != n ? 4 : 0;
    aie_metrics_close(&m);
    _exit(rc);
}

static void test_metrics_writers(void)
{
    enum { NPROC = 8 };
    /* 100000 records each take a few seconds (many more under a sanitizer) */
    const long n = tests_long() || !sanitizer() ? 100000 : 10000;
    char log[1100];
    snprintf(log, sizeof(log), "%.1000s", P("writers.jsonl"));
    unlink(log);
    char spec[1200];
    snprintf(spec, sizeof(spec), "AIE_HARD_WRITER=%s:%ld", log, n);
    int ne = 0;
    while (environ[ne])
        ne++;
    char **envp = calloc((size_t)ne + 2, sizeof(*envp));
    CU_ASSERT_PTR_NOT_NULL_FATAL(envp);
    memcpy(envp, environ, (size_t)ne * sizeof(*envp));
    envp[ne] = spec;
    pid_t pids[NPROC];
    long long t0 = aie_time_us();
    for (int i = 0; i < NPROC; i++) {
        char *argv[] = {(char *)"aie-tests", NULL};
        CU_ASSERT_EQUAL_FATAL(posix_spawn(&pids[i], "/proc/self/exe", NULL, NULL, argv, envp), 0);
    }
    for (int i = 0; i < NPROC; i++)
        CU_ASSERT_EQUAL(wait_status(pids[i]), 0); /* nothing dropped */
    free(envp);
    double secs = (aie_time_us() - t0) / 1e6;
    /* every line whole: a record of a known writer, its pad of the length its
     * seq gives, each seq of each writer exactly once */
    FILE *f = fopen(log, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    unsigned char *seen = calloc((size_t)NPROC * (size_t)n, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lines = 0, torn = 0, dups = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        lines++;
        const char *pp = strstr(line, "\"pid\":"), *sq = strstr(line, "\"seq\":"), *pd = strstr(line, "\"pad\":\"");
        long pid = pp ? atol(pp + 6) : -1, seq = sq ? atol(sq + 6) : -1;
        int w = -1;
        for (int i = 0; i < NPROC; i++)
            if (pids[i] == pid)
                w = i;
        size_t xs = pd ? strspn(pd + 7, "x") : 0;
        if (len < 2 || line[0] != '{' || strcmp(line + len - 2, "}\n") || w < 0 || seq < 0 || seq >= n || !pd ||
            xs != (size_t)pad_len(seq) || pd[7 + xs] != '"' || strstr(line + 1, "{\"v\":")) {
            torn++;
            continue;
        }
        dups += seen[(size_t)w * (size_t)n + (size_t)seq]++ > 0;
    }
    free(line);
    fclose(f);
    long missing = 0;
    for (size_t i = 0; i < (size_t)NPROC * (size_t)n; i++)
        missing += !seen[i];
    free(seen);
    fprintf(stderr, "\n  metrics: %d writers x %ld records in %.1f s: %ld lines, %ld torn, %ld missing, %ld twice",
            NPROC, n, secs, lines, torn, missing, dups);
    CU_ASSERT_EQUAL(torn, 0);
    CU_ASSERT_EQUAL(missing, 0);
    CU_ASSERT_EQUAL(dups, 0);
    CU_ASSERT_EQUAL(lines, NPROC * n);
    unlink(log);
}

int test_hardening_register(void)
{
    CU_pSuite s = CU_add_suite("hardening", suite_init, NULL);
    if (!s || !CU_add_test(s, "full_fs", test_full_fs) || !CU_add_test(s, "readonly_dir", test_readonly_dir) ||
        !CU_add_test(s, "input_changes", test_input_changes) ||
        !CU_add_test(s, "stdin_closed", test_stdin_closed) ||
        !CU_add_test(s, "stdout_closed", test_stdout_closed) || !CU_add_test(s, "eintr", test_eintr) ||
        !CU_add_test(s, "kill_tools", test_kill_tools) || !CU_add_test(s, "kill_batch", test_kill_batch) ||
        !CU_add_test(s, "bombs", test_bombs) || !CU_add_test(s, "small_ulimit", test_small_ulimit) ||
        !CU_add_test(s, "ulimit_names_memory", test_ulimit_names_memory) ||
        !CU_add_test(s, "cnn_halves_tiles", test_cnn_halves_tiles) ||
        !CU_add_test(s, "metrics_writers", test_metrics_writers))
        return -1;
    return 0;
}
