/* outputs: the file-safety layer (lib/fs) and what the tools promise about
 * their outputs.
 *
 *   - SHA-256 against sha256sum and the FIPS 180-4 vectors;
 *   - temporary files are created with O_EXCL|O_NOFOLLOW: a link or a file
 *     planted at the predictable name (by another user, through setpriv, when
 *     root) is never followed, chmod-ed, renamed or removed;
 *   - stale temporaries: only regular files of this user whose process is gone;
 *   - -n/--no-clobber is atomic: of two runs that both started before the
 *     output existed, exactly one wins;
 *   - a PNG sequence written over its own input pattern is refused;
 *   - SIGINT/SIGTERM/SIGHUP at points over a run (the encoder drain
 *     included) end it within 1.5 s, and the output (absent, or whole), the
 *     exit status and the run_end record agree, in aie-batch's joblog too;
 *   - the run's wall time is open to close, the drain included. */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "tests.h"

static char dir[1024]; /* this suite's scratch directory (absolute) */
static char bin[1024];
static char out[1 << 16];
static int have_media;

static const char *P(const char *name)
{
    static char bufs[16][1536];
    static int next;
    char *b = bufs[next++ & 15];
    snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
    return b;
}

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
    char cmd[7000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return tests_run(out, sizeof(out), "cd '%s' && %s", dir, cmd);
}

static int put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static const char *slurp(const char *path)
{
    static char buf[4096];
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return buf;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static int is_link(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0 && S_ISLNK(st.st_mode);
}

static int exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

/* A pid no process has (the highest free one below pid_max). */
static long dead_pid(long below)
{
    for (long p = below; p > 300; p--)
        if (kill((pid_t)p, 0) != 0 && errno == ESRCH)
            return p;
    return 0;
}

/* Wait until path exists (at most ~10 s). */
static int wait_for(const char *path)
{
    for (int i = 0; i < 1000; i++) {
        if (exists(path))
            return 1;
        tests_sleep_ms(10);
    }
    return 0;
}

static int suite_init(void)
{
    if (tests_suite_dirs("outputs", bin, sizeof(bin), dir, sizeof(dir)))
        return 1;
    if (!tests_have_ffmpeg())
        return 0;
    have_media = sh("ffmpeg -v error -y -f lavfi -i testsrc2=s=64x48:r=25:d=2 -pix_fmt yuv420p -f yuv4mpegpipe a.y4m && "
                    "ffmpeg -v error -y -f lavfi -i mandelbrot=s=64x48:r=25 -frames:v 50 -pix_fmt yuv420p "
                    "-f yuv4mpegpipe b.y4m && "
                    "ffmpeg -v error -y -f lavfi -i testsrc2=s=320x240:r=25:d=2 -pix_fmt yuv420p -f yuv4mpegpipe c.y4m && "
                    "%s/aie-upscale -q -s 1 -m lanczos -i a.y4m -o a.ref.y4m && "
                    "%s/aie-upscale -q -s 1 -m lanczos -i b.y4m -o b.ref.y4m",
                    bin, bin) == 0;
    if (!have_media)
        fprintf(stderr, "\n  outputs: cannot make the test media: %s\n", out);
    return 0;
}

#define NEED_MEDIA(name)                                                                           \
    do {                                                                                           \
        if (!have_media) {                                                                         \
            tests_skip(name, "ffmpeg missing");                                                    \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* ---- SHA-256 ---- */

static void test_sha256(void)
{
    static const struct {
        const char *msg;
        const char *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    };
    char hex[65];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        aie_sha256_hex(v[i].msg, strlen(v[i].msg), hex);
        CU_ASSERT_STRING_EQUAL(hex, v[i].hex);
    }
    /* a million 'a', fed in uneven pieces */
    AieSha256 s;
    uint8_t d[32];
    char chunk[997];
    memset(chunk, 'a', sizeof(chunk));
    aie_sha256_init(&s);
    for (size_t left = 1000000; left;) {
        size_t n = left < sizeof(chunk) ? left : (left % 7) + 500;
        aie_sha256_update(&s, chunk, n);
        left -= n;
    }
    aie_sha256_final(&s, d);
    aie_sha256_to_hex(d, hex);
    CU_ASSERT_STRING_EQUAL(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* every length 0..300 (all padding cases) against sha256sum */
    uint8_t buf[300];
    for (int i = 0; i < 300; i++)
        buf[i] = (uint8_t)(i * 151 + 7);
    int bad = 0;
    for (int n = 0; n <= 300; n += (n < 130 ? 1 : 17)) {
        FILE *f = fopen(P("sha.bin"), "wb");
        CU_ASSERT_FATAL(f != NULL);
        fwrite(buf, 1, (size_t)n, f);
        fclose(f);
        char want[65];
        snprintf(want, sizeof(want), "%s", tests_output("sha256sum '%s' | cut -c1-64", P("sha.bin")));
        aie_sha256_hex(buf, (size_t)n, hex);
        char fhex[65], err[256];
        CU_ASSERT_EQUAL(aie_sha256_file(P("sha.bin"), fhex, err, sizeof(err)), 0);
        bad += strcmp(hex, want) != 0 || strcmp(fhex, want) != 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
    char err[256] = "";
    CU_ASSERT_EQUAL(aie_sha256_file(P("no-such-file"), hex, err, sizeof(err)), AIE_ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no-such-file"));
}

/* ---- planted links and files, in process ---- */

static void test_planted_in_process(void)
{
    const char *d = P("open");
    CU_ASSERT_FATAL(mkdir(d, 0777) == 0 && chmod(d, 0777) == 0);
    char victim[1600], link[1600], target[1600];
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    CU_ASSERT_FATAL(put(victim, "SECRET\n") == 0 && chmod(victim, 0600) == 0);
    snprintf(target, sizeof(target), "%s/report.txt", d);
    snprintf(link, sizeof(link), "%s/.report.txt.aie-%ld.tmp", d, (long)getpid());
    CU_ASSERT_FATAL(symlink(victim, link) == 0);
    AieOutFile *o = NULL;
    FILE *fp = NULL;
    char err[512] = "";
    CU_ASSERT_EQUAL_FATAL(aie_outfile_open(&o, target, NULL, 0, 0, &fp, err, sizeof(err)), 0);
    fputs("hello\n", fp);
    CU_ASSERT_EQUAL(aie_outfile_commit(&o, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(slurp(target), "hello\n");
    CU_ASSERT(!is_link(target));
    CU_ASSERT_STRING_EQUAL(slurp(victim), "SECRET\n");
    struct stat st;
    CU_ASSERT(stat(victim, &st) == 0 && (st.st_mode & 07777) == 0600);
    CU_ASSERT(is_link(link)); /* not ours: left alone */

    /* a regular file planted at the name: untouched, and a random name used */
    unlink(link);
    CU_ASSERT_FATAL(put(link, "PLANTED\n") == 0);
    AieFsOut *fo = NULL;
    CU_ASSERT_EQUAL_FATAL(aie_fs_out_open(&fo, target, NULL, err, sizeof(err)), 0);
    const char *tmp = aie_fs_out_temp(fo);
    CU_ASSERT(strstr(tmp, ".report.txt.aie-") != NULL && strcmp(tmp, link) != 0);
    CU_ASSERT_EQUAL(aie_fs_write_all(aie_fs_out_fd(fo), "new\n", 4), 0);
    /* someone replaces our temporary file before the commit: nothing is put in place */
    char tmpcopy[1600];
    snprintf(tmpcopy, sizeof(tmpcopy), "%s", tmp);
    CU_ASSERT_FATAL(unlink(tmpcopy) == 0 && put(tmpcopy, "EVIL\n") == 0);
    CU_ASSERT_EQUAL(aie_fs_out_commit(&fo, err, sizeof(err)), AIE_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "replaced"));
    CU_ASSERT_STRING_EQUAL(slurp(target), "hello\n");
    CU_ASSERT_STRING_EQUAL(slurp(tmpcopy), "EVIL\n"); /* not ours: not removed */
    CU_ASSERT_STRING_EQUAL(slurp(link), "PLANTED\n");
    /* the ordinary case: committed, no temporary left */
    CU_ASSERT_EQUAL_FATAL(aie_fs_out_open(&fo, target, NULL, err, sizeof(err)), 0);
    snprintf(tmpcopy, sizeof(tmpcopy), "%s", aie_fs_out_temp(fo));
    CU_ASSERT_EQUAL(aie_fs_write_all(aie_fs_out_fd(fo), "new\n", 4), 0);
    CU_ASSERT_EQUAL(aie_fs_out_commit(&fo, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(slurp(target), "new\n");
    CU_ASSERT(!exists(tmpcopy));
    /* no-clobber at commit: the output appeared after the open */
    char nc[1600];
    snprintf(nc, sizeof(nc), "%s/nc.txt", d);
    AieFsOutOpts o2 = {.no_clobber = 1};
    CU_ASSERT_EQUAL_FATAL(aie_fs_out_open(&fo, nc, &o2, err, sizeof(err)), 0);
    snprintf(tmpcopy, sizeof(tmpcopy), "%s", aie_fs_out_temp(fo));
    CU_ASSERT_FATAL(put(nc, "FIRST\n") == 0);
    CU_ASSERT_EQUAL(aie_fs_write_all(aie_fs_out_fd(fo), "second\n", 7), 0);
    CU_ASSERT_EQUAL(aie_fs_out_commit(&fo, err, sizeof(err)), AIE_EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "meanwhile"));
    CU_ASSERT_STRING_EQUAL(slurp(nc), "FIRST\n");
    CU_ASSERT(!exists(tmpcopy));
}

/* ---- the tools, with another user planting links (root) ---- */

static int have_setpriv(void)
{
    /* the other user must reach the shared directories (mkdtemp made 0700) */
    if (getuid() != 0 || chmod(tests_tmp_dir(), 0711) != 0 || chmod(dir, 0711) != 0)
        return 0;
    return tests_run(NULL, 0, "setpriv --reuid=65534 --regid=65534 --clear-groups true") == 0;
}

/* Start a tool on a FIFO input; it blocks opening the input, so its pid is
 * known before it creates its temporary file. */
static pid_t start_on_fifo(const char *fifo, const char *args)
{
    unlink(fifo);
    if (mkfifo(fifo, 0644) != 0)
        return -1;
    return tests_start(dir, "exec %s/aie-upscale -q -s 1 -m lanczos -i '%s' %s", bin, fifo, args);
}

/* Write the first `bytes` of file into an open FIFO descriptor. */
static int feed_part(int fd, FILE *f, long bytes)
{
    char buf[65536];
    while (bytes != 0) {
        size_t want = bytes < 0 || bytes > (long)sizeof(buf) ? sizeof(buf) : (size_t)bytes;
        size_t n = fread(buf, 1, want, f);
        if (n == 0)
            return 0;
        if (write(fd, buf, n) != (ssize_t)n)
            return -1;
        if (bytes > 0)
            bytes -= (long)n;
    }
    return 0;
}

/* Write all of file into the FIFO (opening it unblocks the tool). */
static int feed(const char *fifo, const char *file)
{
    signal(SIGPIPE, SIG_IGN); /* a tool that stops reading early (--frames) */
    int fd = open(fifo, O_WRONLY);
    if (fd < 0)
        return -1;
    FILE *f = fopen(file, "rb");
    int rc = f ? feed_part(fd, f, -1) : -1;
    if (rc && errno == EPIPE)
        rc = 0;
    if (f)
        fclose(f);
    close(fd);
    return rc;
}

static void test_planted_by_other_user(void)
{
    NEED_MEDIA("outputs/planted_by_other_user");
    if (!have_setpriv()) {
        tests_skip("outputs/planted_by_other_user", "needs root and setpriv (an unprivileged user plants the links)");
        return;
    }
    /* a non-sticky 0777 directory: fs.protected_symlinks does not apply there */
    const char *d = P("shared");
    CU_ASSERT_FATAL(mkdir(d, 0777) == 0 && chmod(d, 0777) == 0);
    CU_ASSERT_FATAL(put(P("victim.conf"), "root's file\n") == 0 && chmod(P("victim.conf"), 0600) == 0);
    const char *outs[] = {"out.y4m", "out.mkv", "out.png"};
    for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
        char args[1700], link[1600], o[1600];
        snprintf(o, sizeof(o), "%s/%s", d, outs[i]);
        snprintf(args, sizeof(args), "%s-o '%s'", strstr(outs[i], ".png") ? "--frames 0-0 " : "", o);
        pid_t pid = start_on_fifo(P("in.fifo"), args);
        CU_ASSERT_FATAL(pid > 0);
        snprintf(link, sizeof(link), "%s/.%s.aie-%ld.tmp", d, outs[i], (long)pid);
        int planted = tests_run(out, sizeof(out), "setpriv --reuid=65534 --regid=65534 --clear-groups ln -s '%s' '%s'",
                                P("victim.conf"), link);
        CU_ASSERT_EQUAL(planted, 0);
        CU_ASSERT_EQUAL(feed(P("in.fifo"), P("a.y4m")), 0);
        int st = tests_wait(pid);
        CU_ASSERT_EQUAL(st, 0);
        CU_ASSERT_STRING_EQUAL(slurp(P("victim.conf")), "root's file\n");
        struct stat vs;
        CU_ASSERT(stat(P("victim.conf"), &vs) == 0 && (vs.st_mode & 07777) == 0600 && vs.st_uid == 0);
        CU_ASSERT(!is_link(o) && exists(o));
        CU_ASSERT(is_link(link)); /* the planted link is not ours: left alone */
        if (!strcmp(outs[i], "out.y4m"))
            CU_ASSERT_EQUAL(sh("cmp -s '%s' a.ref.y4m", o), 0);
        unlink(link);
    }
}

static void test_stale_temps(void)
{
    NEED_MEDIA("outputs/stale_temps");
    const char *d = P("stale");
    CU_ASSERT_FATAL(mkdir(d, 0777) == 0 && chmod(d, 0777) == 0);
    long p1 = dead_pid(4000000), p2 = dead_pid(p1 - 1), p3 = dead_pid(p2 - 1), p4 = dead_pid(p3 - 1);
    CU_ASSERT_FATAL(p4 > 0);
    char a[1600], b[1600], c[1600], e[1600], live[1600];
    snprintf(a, sizeof(a), "%s/.o.y4m.aie-%ld.tmp", d, p1);        /* ours, dead: removed */
    snprintf(b, sizeof(b), "%s/.o.y4m.aie-%ld.Xy12Zq.tmp", d, p2); /* ours, random form, dead: removed */
    snprintf(c, sizeof(c), "%s/.o.y4m.aie-%ld.tmp", d, p3);        /* a link: kept */
    snprintf(e, sizeof(e), "%s/.o.y4m.aie-%ld.tmp", d, p4);        /* another user's file: kept */
    snprintf(live, sizeof(live), "%s/.o.y4m.aie-%ld.tmp", d, (long)getppid()); /* a live process's: kept */
    CU_ASSERT_FATAL(put(a, "x") == 0 && put(b, "x") == 0 && put(live, "x") == 0);
    CU_ASSERT_FATAL(symlink(P("a.y4m"), c) == 0);
    int other = have_setpriv();
    if (other) {
        CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "setpriv --reuid=65534 --regid=65534 --clear-groups touch '%s'", e),
                        0);
    }
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -q -s 1 -m lanczos -i a.y4m -o '%s/o.y4m'", bin, d), 0);
    CU_ASSERT(!exists(a));
    CU_ASSERT(!exists(b));
    CU_ASSERT(is_link(c));
    CU_ASSERT(exists(live));
    if (other) {
        CU_ASSERT(exists(e));
    } else {
        tests_skip("outputs/stale_temps (another user's file)", "needs root and setpriv");
    }
    CU_ASSERT_EQUAL(sh("cmp -s '%s/o.y4m' a.ref.y4m", d), 0);
}

/* ---- no-clobber: exactly one of two concurrent runs wins ---- */

static void test_noclobber_race(void)
{
    NEED_MEDIA("outputs/noclobber_race");
    const char *o = P("race.y4m");
    unlink(o);
    pid_t pa = start_on_fifo(P("a.fifo"), "-n -o race.y4m");
    pid_t pb = start_on_fifo(P("b.fifo"), "-n -o race.y4m");
    CU_ASSERT_FATAL(pa > 0 && pb > 0);
    int fa = open(P("a.fifo"), O_WRONLY), fb = open(P("b.fifo"), O_WRONLY);
    FILE *a = fopen(P("a.y4m"), "rb"), *b = fopen(P("b.y4m"), "rb");
    CU_ASSERT_FATAL(fa >= 0 && fb >= 0 && a && b);
    /* half of each input: both writers are open (their temporaries exist),
     * and neither output exists yet */
    char ta[1600], tb[1600];
    snprintf(ta, sizeof(ta), "%s/.race.y4m.aie-%ld.tmp", dir, (long)pa);
    snprintf(tb, sizeof(tb), "%s/.race.y4m.aie-%ld.tmp", dir, (long)pb);
    CU_ASSERT(feed_part(fa, a, 64 * 48 * 3 / 2 * 25) == 0 && feed_part(fb, b, 64 * 48 * 3 / 2 * 25) == 0);
    CU_ASSERT(wait_for(ta) && wait_for(tb));
    CU_ASSERT(!exists(o));
    /* a finishes first, then b */
    CU_ASSERT(feed_part(fa, a, -1) == 0);
    close(fa);
    int sa = tests_wait(pa);
    CU_ASSERT(feed_part(fb, b, -1) == 0);
    close(fb);
    int sb = tests_wait(pb);
    fclose(a);
    fclose(b);
    CU_ASSERT_EQUAL(sa, 0);
    CU_ASSERT_EQUAL(sb, 1);
    CU_ASSERT_EQUAL(sh("cmp -s race.y4m a.ref.y4m"), 0); /* the winner's output, whole */
    CU_ASSERT(!exists(ta) && !exists(tb));
    /* the loser says why */
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -q -n -s 1 -m lanczos -i b.y4m -o race.y4m; echo rc=$?", bin), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--no-clobber"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "rc=1"));
}

/* ---- a PNG sequence over its own input ---- */

static void test_same_sequence(void)
{
    NEED_MEDIA("outputs/same_sequence");
    CU_ASSERT_FATAL(sh("mkdir -p seq && ln -sfn seq seqlink && %s/aie-upscale -q -s 1 -m lanczos --frames 0-2 -i a.y4m "
                       "-o 'seq/%%03d.png' && sha256sum seq/*.png > seq.sum",
                       bin) == 0);
    const char *outs[] = {"seq/%03d.png", "./seq/%03d.png", "seqlink/%03d.png", "seq//%03d.png", "seq/%04d.png"};
    for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
        int rc = sh("%s/aie-upscale -s 2 -m lanczos -i 'seq/%%03d.png' -o '%s'", bin, outs[i]);
        CU_ASSERT_EQUAL(rc, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "replace the input frames"));
        CU_ASSERT_EQUAL(sh("sha256sum -c --quiet seq.sum"), 0);
    }
    /* another directory, or another name in the same one, is fine */
    CU_ASSERT_EQUAL(sh("mkdir -p big && %s/aie-upscale -q -s 2 -m lanczos -i 'seq/%%03d.png' -o 'big/%%03d.png'", bin), 0);
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -q -s 2 -m lanczos -i 'seq/%%03d.png' -o 'seq/x%%03d.png' && ls seq/x003.png", bin),
                    0);
    CU_ASSERT_EQUAL(sh("sha256sum -c --quiet seq.sum"), 0);
}

/* ---- signals: a run ends within 1.5 s, and its output, exit status and
 * run_end record agree (DECISIONS.md "Files, signals, exits") ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The last record of a metrics log: its event and status ("" when none). */
static void last_record(const char *log, char *event, char *status, size_t n)
{
    event[0] = status[0] = 0;
    const char *o = tests_output("tail -n 1 '%s' 2>/dev/null", log);
    const char *e = strstr(o, "\"event\":\""), *st = strstr(o, "\"status\":\"");
    if (e)
        snprintf(event, n, "%.*s", (int)strcspn(e + 9, "\""), e + 9);
    if (st)
        snprintf(status, n, "%.*s", (int)strcspn(st + 10, "\""), st + 10);
}

static int count_temps(const char *d)
{
    return atoi(tests_output("ls -a '%s' | grep -c '\\.aie-'", d));
}

static int frames_of(const char *file)
{
    return atoi(tests_output("ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames "
                             "-of csv=p=0 '%s'",
                             file));
}

/* The time a stop may take: 1.5 s on a machine with a core to spare, scaled
 * by the run queue when the machine is overloaded (a fresh-machine chroot
 * under nice 15 beside two builds took 2.06 s at a load of 8 on 2 cores). */
static double stop_bound(void)
{
    double load[1];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double f = getloadavg(load, 1) == 1 && cores > 0 ? load[0] / (double)cores : 1;
    return 1.5 * (f > 1 ? f : 1);
}

/* Run CMD (whose output is OUT, metrics sig.jsonl, stderr sig.err), send
 * signo at `at` seconds, or (at < 0) once the encoder drain shows on
 * stderr, and check what a user and aie-batch rely on. Returns 1 when the
 * output was committed before the signal took effect. */
static int signal_point(const char *cmd, const char *outfile, int expect_frames, int signo, double at)
{
    unlink(P(outfile));
    unlink(P("sig.jsonl"));
    unlink(P("sig.err"));
    pid_t pid = tests_start(dir, "exec %s --progress --metrics sig.jsonl 2>sig.err", cmd);
    double t0 = now_s();
    if (at < 0) {
        while (now_s() - t0 < 60 && !strstr(slurp(P("sig.err")), "finishing"))
            tests_sleep_ms(2);
    } else {
        tests_sleep_ms((long)(at * 1000));
    }
    kill(pid, signo);
    double ts = now_s();
    int rc = tests_wait(pid);
    double took = now_s() - ts;
    char event[64], status[64];
    last_record(P("sig.jsonl"), event, status, sizeof(event));
    int committed = exists(P(outfile));
    double bound = stop_bound();
    if (took > bound || count_temps(dir) ||
        (committed ? rc != 0 || strcmp(status, "ok") || frames_of(P(outfile)) != expect_frames
                   : rc != 128 + signo || (exists(P("sig.jsonl")) && strcmp(status, "cancelled"))))
        fprintf(stderr, "\n  signal %d at %s%.2f s: rc %d, %.2f s to stop, output %s, %d temps, record %s/%s\n", signo,
                at < 0 ? "the drain, " : "", at < 0 ? now_s() - t0 : at, rc, took, committed ? "present" : "absent",
                count_temps(dir), event, status);
    CU_ASSERT(took <= bound);
    CU_ASSERT_EQUAL(count_temps(dir), 0);
    if (committed) {
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_STRING_EQUAL(status, "ok");
        CU_ASSERT_EQUAL(frames_of(P(outfile)), expect_frames);
    } else {
        CU_ASSERT_EQUAL(rc, 128 + signo);
        if (exists(P("sig.jsonl"))) {
            CU_ASSERT_STRING_EQUAL(event, "run_end");
            CU_ASSERT_STRING_EQUAL(status, "cancelled");
        }
    }
    return committed;
}

static void test_signals(void)
{
    NEED_MEDIA("outputs/signals");
    char up[3072], cmd[3072];
    snprintf(up, sizeof(up), "%s/aie-upscale -s 4 -m lanczos -i c.y4m -o sig.mp4", bin);
    /* a reference run: how long it takes, and when its drain begins */
    double t0 = now_s();
    CU_ASSERT_EQUAL_FATAL(sh("%s", up), 0);
    double full = now_s() - t0;
    CU_ASSERT_EQUAL_FATAL(frames_of(P("sig.mp4")), 50);
    /* make check: the start, the middle and the drain, each signal; check-long:
     * ten points spread over the run, and the drain */
    int n = tests_long() ? 10 : 2, committed = 0;
    static const int sigs[] = {SIGINT, SIGTERM};
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < n; i++)
            committed += signal_point(up, "sig.mp4", 50, sigs[k], n == 2 ? (i ? 0.5 * full : 0.1) : (0.05 + i) * full / n);
        committed += signal_point(up, "sig.mp4", 50, sigs[k], -1);
    }
    CU_ASSERT(committed < 2 * (n + 1)); /* some points must have stopped the run */
    /* SIGHUP, and the other media tools in their drain */
    signal_point(up, "sig.mp4", 50, SIGHUP, -1);
    snprintf(cmd, sizeof(cmd), "%s/aie-interp --fps 50 -i c.y4m -o sig.mp4", bin);
    signal_point(cmd, "sig.mp4", 100, SIGTERM, -1);
    snprintf(cmd, sizeof(cmd), "%s/aie-style --look toon -i c.y4m -o sig.mp4", bin);
    signal_point(cmd, "sig.mp4", 50, SIGINT, -1);
    /* a signal the parent ignores stays ignored: nohup's SIGHUP */
    unlink(P("sig.mp4"));
    pid_t np = tests_start(dir, "exec nohup %s >/dev/null 2>&1", up);
    tests_sleep_ms(300);
    kill(np, SIGHUP);
    CU_ASSERT_EQUAL(tests_wait(np), 0);
    CU_ASSERT_EQUAL(frames_of(P("sig.mp4")), 50);
    /* a pipe input whose producer stalls: the read is stopped too */
    unlink(P("stall.fifo"));
    CU_ASSERT_FATAL(mkfifo(P("stall.fifo"), 0644) == 0);
    pid_t pid = tests_start(dir, "exec %s/aie-upscale -q -s 2 -m lanczos -i stall.fifo -o stall.mp4 --metrics stall.jsonl",
                            bin);
    int fd = open(P("stall.fifo"), O_WRONLY);
    FILE *f = fopen(P("c.y4m"), "rb");
    CU_ASSERT_FATAL(fd >= 0 && f);
    CU_ASSERT(feed_part(fd, f, 200000) == 0); /* the header and a few frames, then nothing */
    tests_sleep_ms(300);
    kill(pid, SIGTERM);
    double ts = now_s();
    int rc = tests_wait(pid);
    CU_ASSERT(now_s() - ts <= 1.5);
    CU_ASSERT_EQUAL(rc, 143);
    char event[64], status[64];
    last_record(P("stall.jsonl"), event, status, sizeof(event));
    CU_ASSERT_STRING_EQUAL(status, "cancelled");
    CU_ASSERT(!exists(P("stall.mp4")));
    close(fd);
    fclose(f);
}

/* A signal to aie-batch: the joblog, the job's run_end and its output agree,
 * and --resume redoes exactly the jobs without output. */
static void test_batch_signals(void)
{
    NEED_MEDIA("outputs/batch_signals");
    char run[3072];
    snprintf(run, sizeof(run),
             "%s/aie-batch -j 1 --joblog bj.log --metrics bj.jsonl --cmd '%s/aie-upscale -s 4 -m lanczos -i {} -o "
             "bjob.mp4' c.y4m",
             bin, bin);
    double t0 = now_s();
    CU_ASSERT_EQUAL_FATAL(sh("rm -f bj.log bj.jsonl bjob.mp4 && %s", run), 0);
    double full = now_s() - t0;
    const double at[] = {0.1, 0.5 * full, 0.85 * full, 0.95 * full};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        sh("rm -f bj.log bj.jsonl bjob.mp4");
        pid_t pid = tests_start(dir, "exec %s 2>/dev/null", run);
        tests_sleep_ms((long)(at[i] * 1000));
        kill(pid, SIGTERM);
        int rc = tests_wait(pid);
        int have = exists(P("bjob.mp4"));
        /* the joblog's exit value and signal of the job (GNU parallel's columns 7, 8) */
        const char *jl = tests_output("awk -F'\\t' 'NR > 1 { print $7 \" \" $8 }' '%s' 2>/dev/null", P("bj.log"));
        char line[128];
        snprintf(line, sizeof(line), "%s", jl);
        const char *re = tests_output("grep -s '\"event\":\"run_end\"' '%s' | grep -o '\"status\":\"[a-z]*\"'", P("bj.jsonl"));
        char rend[64];
        snprintf(rend, sizeof(rend), "%s", re);
        if (have) {
            CU_ASSERT_STRING_EQUAL(line, "0 0");
            CU_ASSERT_STRING_EQUAL(rend, "\"status\":\"ok\"");
            CU_ASSERT_EQUAL(frames_of(P("bjob.mp4")), 50);
        } else {
            CU_ASSERT(rc == 143);
            CU_ASSERT(strcmp(line, "0 0") != 0);
            CU_ASSERT(!*rend || !strcmp(rend, "\"status\":\"cancelled\""));
        }
        CU_ASSERT_EQUAL(count_temps(dir), 0);
        if (tests_long())
            fprintf(stderr, "\n  aie-batch TERM at %.2f s: exit %d, job %s, joblog '%s', run_end %s", at[i], rc,
                    have ? "done" : "not done", line, *rend ? rend : "none");
        /* --resume: redone only when there is no output */
        CU_ASSERT_EQUAL(sh("%s --resume", run), 0);
        CU_ASSERT_EQUAL(frames_of(P("bjob.mp4")), 50);
        int runs = atoi(tests_output("grep -c '\"event\":\"run_end\"' '%s'", P("bj.jsonl")));
        CU_ASSERT_EQUAL(runs, (have || *rend ? 1 : 0) + (have ? 0 : 1));
    }
}

/* ---- honest timings: open to close, the encoder drain included ---- */

static void test_timings(void)
{
    NEED_MEDIA("outputs/timings");
    unlink(P("t.jsonl"));
    double t0 = now_s();
    CU_ASSERT_EQUAL_FATAL(sh("%s/aie-upscale -v -s 4 -m lanczos -j 1 -i c.y4m -o t.mp4 --metrics t.jsonl", bin), 0);
    double ext = now_s() - t0;
    const char *v = strstr(out, "frames in ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    double said = atof(v + strlen("frames in "));
    const char *rec = tests_output("tail -n 1 '%s'", P("t.jsonl"));
    const char *w = strstr(rec, "\"wall_ms\":"), *fin = strstr(rec, "\"finish\":");
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fin);
    double wall = atof(w + 10) / 1000, finish = atof(fin + 9) / 1000;
    /* the process's own life is a little longer (start-up, exit) */
    CU_ASSERT(wall <= ext && wall >= 0.85 * ext - 0.05);
    CU_ASSERT(fabs(said - wall) < 0.02 + 0.01 * wall);
    CU_ASSERT(finish > 0 && finish < wall);
    /* aie-interp counts output frames, and never past its total */
    CU_ASSERT_EQUAL(sh("ffmpeg -v error -y -i c.y4m -c:v libx264 a15.mp4 && "
                       "%s/aie-interp --progress --fps 50 -i a15.mp4 -o t2.mp4 2>&1 | grep '^frame' | tail -n 1",
                       bin),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "frame 100/100 (100.0%)"));
}

int test_outputs_register(void)
{
    CU_pSuite s = CU_add_suite("outputs", suite_init, NULL);
    if (!s || !CU_add_test(s, "sha256", test_sha256) || !CU_add_test(s, "planted_in_process", test_planted_in_process) ||
        !CU_add_test(s, "planted_by_other_user", test_planted_by_other_user) ||
        !CU_add_test(s, "stale_temps", test_stale_temps) || !CU_add_test(s, "noclobber_race", test_noclobber_race) ||
        !CU_add_test(s, "same_sequence", test_same_sequence) || !CU_add_test(s, "signals", test_signals) ||
        !CU_add_test(s, "batch_signals", test_batch_signals) || !CU_add_test(s, "timings", test_timings))
        return -1;
    return 0;
}
