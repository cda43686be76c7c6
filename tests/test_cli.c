/* cli: every error path of the real binary gives the right exit code, one line
 * on stderr, and leaves nothing behind at OUTPUT. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"

static char out[65536];

#define BIN tests_bin_dir()
#define SRC tests_src_dir()
#define T(name) tests_tmp_path(name)

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* No ".*.aie-*.tmp" left in the scratch directory. */
static int no_temps(void)
{
    char buf[256];
    return tests_run(buf, sizeof(buf), "ls -a %s | grep -q '\\.aie-.*\\.tmp$'", tests_tmp_dir()) != 0;
}

static int suite_init(void)
{
    if (!tests_have_ffmpeg())
        return 0;
    return tests_run(out, sizeof(out),
                     "cd %s && ffmpeg -v error -y -f lavfi -i testsrc2=s=64x48:r=25:d=2 -pix_fmt yuv420p "
                     "-f yuv4mpegpipe small.y4m && printf 'hello, not video\\n' > text.txt && : > empty.mkv",
                     tests_tmp_dir()) != 0;
}

/* Run aie-upscale with args; expect exit code rc and one line on stderr
 * containing `needle` (NULL: no check). */
static void expect(int rc, const char *needle, const char *args)
{
    int got = tests_run(out, sizeof(out), "%s/aie-upscale %s </dev/null", BIN, args);
    if (got != rc || (needle && !strstr(out, needle)))
        fprintf(stderr, "\n  aie-upscale %s\n  exit %d (want %d): %s", args, got, rc, out);
    CU_ASSERT_EQUAL(got, rc);
    if (needle)
        CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
    if (rc != 0)
        CU_ASSERT(strncmp(out, "aie-upscale: ", 13) == 0);
}

static void test_help_version(void)
{
    int rc = tests_run(out, sizeof(out), "%s/aie-upscale --help 2>/dev/null", BIN);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(strncmp(out, "Usage: aie-upscale [OPTIONS] -i INPUT -o OUTPUT\n", 48) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "[default: auto]"));
    rc = tests_run(out, sizeof(out), "%s/aie-upscale -V", BIN);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(strncmp(out, "aie-upscale ", 12) == 0);
}

static void test_usage_errors(void)
{
    char args[1024];
    expect(2, "unknown option '--foo'", "--foo");
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Try 'aie-upscale --help'."));
    CU_ASSERT_EQUAL(lines(out), 2);
    expect(2, "no input", "-o x.y4m");
    snprintf(args, sizeof(args), "-i %s", T("small.y4m"));
    expect(2, "no output", args);
    expect(2, "--scale", "-s 0.5 -i a -o b");
    expect(2, "--scale", "-s 9 -i a -o b");
    expect(2, "not a number", "-s abc -i a -o b");
    expect(2, "--size", "--size 100 -i a -o b");
    expect(2, "--size", "--size 20000x100 -i a -o b");
    expect(2, "conflicts", "-s 2 --size 100x100 -i a -o b");
    expect(2, "conflicts", "--width 100 --size 100x100 -i a -o b");
    expect(2, "unknown method", "-m bogus -i a -o b");
    expect(2, "--frames", "--frames 5 -i a -o b");
    expect(2, "--frames", "--frames 9-3 -i a -o b");
    expect(2, "unknown CPU level", "--cpu avx9 -i a -o b");
    expect(2, "needs a value", "-i");
    expect(2, "unexpected argument", "-i a -o b extra");
    expect(2, "--threads", "-j 0 -i a -o b");
    expect(2, "--depth", "--depth 9 -i a -o b");
    expect(2, "conflict", "--lossless --crf 10 -i a -o b");
    expect(2, "KEY=VALUE", "--tag novalue -i a -o b");
    int rc = tests_run(out, sizeof(out), "AIE_CPU=bogus %s/aie-upscale -i a -o b", BIN);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "AIE_CPU"));
}

static void test_bad_inputs(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("bad_inputs", "ffmpeg missing");
        return;
    }
    char args[1024];
    const char *o = T("bad_out.y4m");
    snprintf(args, sizeof(args), "-i %s -o %s", T("missing.mkv"), o);
    expect(1, "missing.mkv: No such file or directory", args);
    CU_ASSERT_EQUAL(lines(out), 1);
    snprintf(args, sizeof(args), "-i %s -o %s", T("text.txt"), o);
    expect(1, "text.txt", args);
    CU_ASSERT_EQUAL(lines(out), 1);
    snprintf(args, sizeof(args), "-i %s -o %s", T("empty.mkv"), o);
    expect(1, "empty file", args);
    snprintf(args, sizeof(args), "-i %s -o %s", tests_tmp_dir(), o);
    expect(1, "is a directory", args);
    CU_ASSERT(!exists(o));

    /* y4m header that declares 100000x100000 */
    FILE *f = fopen(T("huge.y4m"), "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "YUV4MPEG2 W100000 H100000 F25:1 Ip A1:1 C420jpeg\nFRAME\n");
    fclose(f);
    snprintf(args, sizeof(args), "-i %s -o %s", T("huge.y4m"), o);
    expect(1, "huge.y4m", args);
    CU_ASSERT(!exists(o));
    /* output over 16384 px */
    snprintf(args, sizeof(args), "--width 16000 -s 1 -i %s -o %s", T("small.y4m"), o);
    expect(2, "conflicts", args);
    snprintf(args, sizeof(args), "--height 16000 -i %s -o %s", T("small.y4m"), o);
    expect(1, "larger than 16384", args);
    CU_ASSERT(!exists(o));
}

static void test_truncated(void)
{
    char args[1024];
    if (!tests_have_ffmpeg()) {
        tests_skip("truncated", "ffmpeg missing");
        return;
    }
    /* 50 frames of 64x48 yuv420p (4608 bytes + 6 byte FRAME header); cut mid-frame 41 */
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "head -c 190000 %s > %s", T("small.y4m"), T("trunc.y4m")), 0);
    char o[512];
    snprintf(o, sizeof(o), "%s", T("trunc_out.y4m"));
    snprintf(args, sizeof(args), "-i %s -o %s", T("trunc.y4m"), o);
    expect(1, "1 frame lost", args);
    CU_ASSERT(!exists(o));
    CU_ASSERT(no_temps());
    int rc = tests_run(out, sizeof(out), "%s/aie-upscale -s 1 --ignore-errors -i %s -o %s", BIN,
                       T("trunc.y4m"), o);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "warning"));
    rc = tests_run(out, sizeof(out), "ffprobe -v error -count_frames -show_entries stream=nb_read_frames "
                   "-of csv=p=0 %s", o);
    CU_ASSERT_STRING_EQUAL(out, "41\n");

    /* Matroska cut short: found through the declared duration */
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out),
                              "ffmpeg -v error -y -f lavfi -i testsrc2=s=96x64:r=25:d=2 -c:v libx264 "
                              "-preset ultrafast %s && head -c 30000 %s > %s",
                              T("full.mkv"), T("full.mkv"), T("cut.mkv")), 0);
    snprintf(args, sizeof(args), "-i %s -o %s", T("cut.mkv"), o);
    expect(1, "frames lost", args);
    snprintf(args, sizeof(args), "-i %s -o %s", T("full.mkv"), o);
    expect(0, NULL, args);
}

/* A run that fails early still leaves a run_end record with the error. */
static void test_failure_is_logged(void)
{
    const char *log = T("fail.jsonl");
    int rc = tests_run(out, sizeof(out), "%s/aie-upscale --metrics %s -i %s -o %s", BIN, log,
                       T("missing.mkv"), T("x.y4m"));
    CU_ASSERT_EQUAL(rc, 1);
    rc = tests_run(out, sizeof(out), "cat %s", log);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"event\":\"run_end\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"status\":\"failed\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "missing.mkv: No such file or directory"));
    /* --tag beats AIE_TAGS for the same key */
    rc = tests_run(out, sizeof(out), "AIE_TAGS=shot=1,client=x %s/aie-upscale --metrics %s --tag shot=2 "
                   "-i %s -o %s; tail -1 %s", BIN, log, T("missing.mkv"), T("x.y4m"), log);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"shot\":\"2\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"client\":\"x\""));
    CU_ASSERT_PTR_NULL(strstr(out, "\"shot\":\"1\""));
}

static void test_bad_outputs(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("bad_outputs", "ffmpeg missing");
        return;
    }
    char args[2048], in[512];
    snprintf(in, sizeof(in), "%s", T("small.y4m"));
    snprintf(args, sizeof(args), "-i %s -o %s/no/such/dir/out.mkv", in, tests_tmp_dir());
    expect(1, "no such directory", args);
    snprintf(args, sizeof(args), "-i %s -o /proc/aie-test.mkv", in);
    expect(1, "/proc", args);
    snprintf(args, sizeof(args), "-i %s -o /dev/full", in);
    expect(1, "No space left on device", args);
    snprintf(args, sizeof(args), "-i %s -o %s", in, in);
    expect(1, "same file", args);
    /* an output name the writer cannot make is bad usage (DECISIONS: exit 2,
     * as a codec the container cannot hold) */
    snprintf(args, sizeof(args), "-i %s -o %s", in, T("out.xyz"));
    expect(2, "unknown output format", args);
    CU_ASSERT(!exists(T("out.xyz")));
    snprintf(args, sizeof(args), "-i %s -o %s", in, T("one.png"));
    expect(1, "holds one image", args);
    CU_ASSERT(!exists(T("one.png")));
    /* --no-clobber keeps the existing file */
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "echo keep > %s", T("keep.y4m")), 0);
    snprintf(args, sizeof(args), "-n -i %s -o %s", in, T("keep.y4m"));
    expect(1, "exists", args);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "cat %s", T("keep.y4m")), 0);
    CU_ASSERT_STRING_EQUAL(out, "keep\n");
    CU_ASSERT(no_temps());

    /* a full file system (a small tmpfs; needs root) */
    if (geteuid() == 0 && tests_run(out, sizeof(out), "mkdir -p %s && mount -t tmpfs -o size=256k tmpfs %s",
                                    T("tiny"), T("tiny")) == 0) {
        CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "echo old > %s/out.y4m", T("tiny")), 0);
        snprintf(args, sizeof(args), "-s 4 -i %s -o %s/out.y4m", in, T("tiny"));
        expect(1, "No space left on device", args);
        /* the old output is untouched and no temporary file is left */
        CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "cat %s/out.y4m; ls -a %s | wc -l", T("tiny"),
                                  T("tiny")), 0);
        CU_ASSERT_STRING_EQUAL(out, "old\n3\n");
        CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "umount %s", T("tiny")), 0);
    } else {
        tests_skip("bad_outputs: tmpfs ENOSPC", "cannot mount a tmpfs here (not root?)");
    }
}

static void test_signals(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("signals", "ffmpeg missing");
        return;
    }
    /* a slow job (lots of frames from a generator pipe), stopped by TERM and INT */
    static const struct { const char *sig; int code; } s[] = {{"TERM", 143}, {"INT", 130}};
    for (int i = 0; i < 2; i++) {
        /* bash with job control, so the background job keeps SIGINT */
        int rc = tests_run(out, sizeof(out),
                           "bash -mc 'ffmpeg -v error -f lavfi -i testsrc2=s=320x240:r=25 -t 60 -f yuv4mpegpipe - "
                           "2>/dev/null | %s/aie-upscale -q -s 4 -i - -o %s & sleep 1; kill -%s %%%%1; wait %%%%1'",
                           BIN, T("sig.mkv"), s[i].sig);
        CU_ASSERT_EQUAL(rc, s[i].code);
        CU_ASSERT(!exists(T("sig.mkv")));
        CU_ASSERT(no_temps());
    }
}

/* scripts/check-layers.sh (run by make check) fails on an include against the
 * module map and names the line; a clean copy of the tree passes */
static void test_layers(void)
{
    char d[4096];
    snprintf(d, sizeof(d), "%s", T("layers"));
    CU_ASSERT_EQUAL_FATAL(tests_run(out, sizeof(out), "mkdir -p %s/scripts && cp -r %s/lib %s/cmd %s/ && "
                                    "cp %s/scripts/check-layers.sh %s/scripts/", d, SRC, SRC, d, SRC, d), 0);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "%s/scripts/check-layers.sh 2>&1", d), 0);
    /* a kernel reaching up into the quality header, as lib/dsp/ssd.c once did */
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "sed -i '1i #include \"aie/quality.h\"' %s/lib/dsp/ssd.c && "
                              "%s/scripts/check-layers.sh 2>&1", d, d), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "lib/dsp/ssd.c:1: dsp may not include \"aie/quality.h\" (quality)"));
    /* libav outside lib/io */
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "sed -i '1d' %s/lib/dsp/ssd.c && "
                              "sed -i '1i #include <libavutil/frame.h>' %s/lib/sr/scale.c && "
                              "%s/scripts/check-layers.sh 2>&1", d, d, d), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "lib/sr/scale.c:1: sr may not include <libavutil/frame.h>"));
}

static void test_pipe_closed(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("pipe_closed", "ffmpeg missing");
        return;
    }
    /* the reader goes away: exit 1 quietly */
    int rc = tests_run(out, sizeof(out),
                       "{ %s/aie-upscale -s 2 -i %s -o - 2>%s; echo $? > %s; } | head -c 1000 >/dev/null; "
                       "cat %s",
                       BIN, T("small.y4m"), T("pipe.err"), T("pipe.rc"), T("pipe.rc"));
    (void)rc;
    CU_ASSERT_STRING_EQUAL(out, "1\n");
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "cat %s", T("pipe.err")), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
}

static void test_stale_temps_and_dry_run(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("stale_temps", "ffmpeg missing");
        return;
    }
    /* a temp of a dead process is removed by the next run writing the same output */
    const char *stale = T(".st.y4m.aie-999999.tmp");
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "echo junk > %s", stale), 0);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "%s/aie-upscale -q -s 1 -i %s -o %s", BIN,
                              T("small.y4m"), T("st.y4m")), 0);
    CU_ASSERT(!exists(stale));
    CU_ASSERT(exists(T("st.y4m")));
    /* --dry-run --json prints the normalised job and writes nothing */
    int rc = tests_run(out, sizeof(out), "%s/aie-upscale --dry-run --json -s 3 -i %s -o %s", BIN,
                       T("small.y4m"), T("dry.mkv"));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"width\": 192"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"method\": \"auto\""));
    CU_ASSERT(!exists(T("dry.mkv")));
}

int test_cli_register(void)
{
    CU_pSuite s = CU_add_suite("cli", suite_init, NULL);
    if (!s || !CU_add_test(s, "help_version", test_help_version) ||
        !CU_add_test(s, "usage_errors", test_usage_errors) || !CU_add_test(s, "bad_inputs", test_bad_inputs) ||
        !CU_add_test(s, "truncated", test_truncated) || !CU_add_test(s, "failure_logged", test_failure_is_logged) || !CU_add_test(s, "bad_outputs", test_bad_outputs) ||
        !CU_add_test(s, "signals", test_signals) || !CU_add_test(s, "pipe_closed", test_pipe_closed) ||
        !CU_add_test(s, "layers", test_layers) ||
        !CU_add_test(s, "stale_temps_dry_run", test_stale_temps_and_dry_run))
        return -1;
    return 0;
}
