/* interp: aie-interp run as a program, checked with ffmpeg/ffprobe as the
 * oracle: frame counts and timestamps of rate conversions, VFR input, a cut
 * that must not be blended, audio with --slowmo, bad input and options,
 * determinism across thread counts, --flow-png, --dry-run and metrics. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests.h"

static char out[65536];
static int have_media;

#define BIN tests_bin_dir()
#define T(name) tests_tmp_path(name)
#define INTERP "%s/aie-interp -q "

static int count_lines(const char *s)
{
    if (!*s)
        return 0;
    int n = 1;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static int suite_init(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("interp", "the ffmpeg and ffprobe programs are not installed (scripts/deps.sh installs them)");
        return 0;
    }
    const char *d = tests_tmp_dir();
    int rc = tests_run(out, sizeof(out),
        "cd %s && "
        /* a static texture for pans: 1 px per frame at 50 fps */
        "ffmpeg -v error -y -f lavfi -i testsrc2=s=320x96:d=0.04 -frames:v 1 tex.png && "
        "ffmpeg -v error -y -framerate 50 -loop 1 -i tex.png -vf \"crop=160:96:'n':0,format=yuv420p\" "
        "-frames:v 40 -c:v ffv1 pan50.mkv && "
        /* VFR: the same pan with frames dropped, original times kept */
        "ffmpeg -v error -y -i pan50.mkv -vf \"select='not(eq(mod(n\\,5)\\,2))*not(eq(mod(n\\,7)\\,4))'\" "
        "-fps_mode vfr -c:v ffv1 vfr.mkv && "
        "ffmpeg -v error -y -f lavfi -i testsrc2=s=96x64:r=24:d=2 -c:v ffv1 r24.mkv && "
        "ffmpeg -v error -y -f lavfi -i testsrc2=s=96x64:r=30000/1001:d=1.001 -f yuv4mpegpipe r2997.y4m && "
        /* a cut: 10 frames of a pan over one picture, then 10 over another */
        "ffmpeg -v error -y -f lavfi -i mandelbrot=s=320x96:end_pts=0.04 -frames:v 1 tex2.png && "
        "ffmpeg -v error -y -framerate 25 -loop 1 -i tex.png -framerate 25 -loop 1 -i tex2.png "
        "-filter_complex \"[0]crop=160:96:'2*n':0,trim=end_frame=10[a];[1]crop=160:96:'2*n':0,trim=end_frame=10[b];"
        "[a][b]concat=n=2,format=yuv420p\" -f yuv4mpegpipe cut.y4m && "
        /* audio */
        "ffmpeg -v error -y -f lavfi -i testsrc2=s=64x48:r=25:d=1 -f lavfi -i sine=r=48000:d=1 "
        "-c:v ffv1 -c:a flac audio.mkv && "
        "ffmpeg -v error -y -f lavfi -i testsrc2=s=64x48:r=25:d=0.04 -frames:v 1 -f yuv4mpegpipe one.y4m && "
        /* a resolution change mid-stream (raw H.264 parts back to back) */
        "ffmpeg -v error -y -f lavfi -i testsrc2=s=64x48:r=25:d=0.4 -c:v libx264 -f h264 p1.h264 && "
        "ffmpeg -v error -y -f lavfi -i testsrc2=s=80x48:r=25:d=0.4 -c:v libx264 -f h264 p2.h264 && "
        "cat p1.h264 p2.h264 > sizes.h264",
        d);
    if (rc != 0) {
        fprintf(stderr, "interp suite: could not generate test media: %s\n", out);
        return 1;
    }
    have_media = 1;
    return 0;
}

#define NEED_MEDIA() TESTS_NEED_MEDIA(have_media)

/* Presentation times of the video frames of a file, one per line. */
static const char *pts_list(const char *path)
{
    return tests_output("ffprobe -v error -select_streams v -show_entries frame=pts_time -of default=nw=1:nk=1 %s", path);
}

/* Check n frames at k * num / den seconds (to the microsecond). */
static void check_grid(const char *path, int n, int num, int den)
{
    char buf[65536];
    snprintf(buf, sizeof(buf), "%s", pts_list(path));
    CU_ASSERT_EQUAL(count_lines(buf), n);
    char *save = NULL;
    int k = 0, bad = 0;
    for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save), k++) {
        double want = (double)k * num / den, got = atof(l);
        if (got < want - 1e-3 || got > want + 1e-3)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_24_to_60(void)
{
    NEED_MEDIA();
    /* 48 frames over 2 s -> 120 frames at k/60 */
    int rc = tests_run(out, sizeof(out), INTERP "--fps 60 -i %s -o %s --lossless", BIN, T("r24.mkv"), T("r60.mkv"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    check_grid(T("r60.mkv"), 120, 1, 60);
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -select_streams v -show_entries stream=r_frame_rate "
                                   "-of csv=p=0 %s", T("r60.mkv")), "60/1");
}

static void test_2997_to_60(void)
{
    NEED_MEDIA();
    /* 30 frames of 1001/30000 s = 1.001 s -> ceil(60.06) = 61 frames */
    int rc = tests_run(out, sizeof(out), INTERP "--fps 60 -i %s -o %s", BIN, T("r2997.y4m"), T("r2997_60.y4m"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    check_grid(T("r2997_60.y4m"), 61, 1, 60);
    /* --factor 2 gives 60000/1001 */
    rc = tests_run(out, sizeof(out), INTERP "-x 2 -i %s -o %s", BIN, T("r2997.y4m"), T("r2997_x2.mkv"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    check_grid(T("r2997_x2.mkv"), 60, 1001, 60000);
}

/* Mean Y-PSNR of two videos, frame by frame. */
static double psnr(const char *a, const char *b)
{
    const char *s = tests_output("ffmpeg -v info -i %s -i %s -lavfi \"[0:v]extractplanes=y[a];[1:v]extractplanes=y[b];"
                            "[a][b]psnr=shortest=1\" -f null - 2>&1 | grep -o 'average:[0-9.inf]*' | head -1", a, b);
    const char *c = strchr(s, ':');
    if (!c)
        return 0;
    return !strncmp(c + 1, "inf", 3) ? 1000 : atof(c + 1);
}

static void test_vfr(void)
{
    NEED_MEDIA();
    /* the pan lost frames here and there (its last frame is 38); at 50 fps
     * every frame is back at its own time: 39 frames, close to the full pan */
    int rc = tests_run(out, sizeof(out), INTERP "--fps 50 -i %s -o %s --lossless", BIN, T("vfr.mkv"), T("vfr50.mkv"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    check_grid(T("vfr50.mkv"), 39, 1, 50);
    double p = psnr(T("vfr50.mkv"), T("pan50.mkv"));
    CU_ASSERT(p > 35);
    if (p <= 35)
        fprintf(stderr, "\n  VFR rebuild: %.2f dB\n", p);
}

static void test_cut(void)
{
    NEED_MEDIA();
    /* 25 -> 50 fps: output 2j is input j; output 19 falls between the last
     * frame before the cut (9) and the first after it (10): it must be a copy
     * of one of them, never a mix; the metrics count one cut */
    int rc = tests_run(out, sizeof(out), INTERP "-x 2 -i %s -o %s --metrics %s", BIN, T("cut.y4m"),
                       T("cut50.y4m"), T("cut.jsonl"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char in[8192], o[16384];
    snprintf(in, sizeof(in), "%s", tests_output("ffmpeg -v error -i %s -f framemd5 - | grep -v '^#' | cut -d, -f6", T("cut.y4m")));
    snprintf(o, sizeof(o), "%s", tests_output("ffmpeg -v error -i %s -f framemd5 - | grep -v '^#' | cut -d, -f6", T("cut50.y4m")));
    CU_ASSERT_EQUAL(count_lines(o), 40);
    char *lines_in[32] = {0}, *lines_out[64] = {0}, *save = NULL;
    int ni = 0, no = 0;
    for (char *l = strtok_r(in, "\n", &save); l && ni < 32; l = strtok_r(NULL, "\n", &save))
        lines_in[ni++] = l;
    for (char *l = strtok_r(o, "\n", &save); l && no < 64; l = strtok_r(NULL, "\n", &save))
        lines_out[no++] = l;
    CU_ASSERT_FATAL(ni == 20 && no == 40);
    for (int j = 0; j < 20; j++)
        CU_ASSERT_STRING_EQUAL(lines_out[2 * j], lines_in[j]);
    CU_ASSERT(!strcmp(lines_out[19], lines_in[9]) || !strcmp(lines_out[19], lines_in[10]));
    CU_ASSERT(strcmp(lines_out[17], lines_in[8]) && strcmp(lines_out[17], lines_in[9])); /* synthesised */
    CU_ASSERT_STRING_EQUAL(tests_output("grep -o '\"cuts\":[0-9]*' %s", T("cut.jsonl")), "\"cuts\":1");
    CU_ASSERT(strstr(tests_output("grep run_end %s", T("cut.jsonl")), "\"unreliable_motion_pct\"") != NULL);
}

static void test_one_frame(void)
{
    NEED_MEDIA();
    int rc = tests_run(out, sizeof(out), "%s/aie-interp --fps 60 -i %s -o %s", BIN, T("one.y4m"), T("one60.y4m"));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(strstr(out, "only one frame") != NULL);
    CU_ASSERT_EQUAL(count_lines(pts_list(T("one60.y4m"))), 1);
}

static void test_bad_options(void)
{
    NEED_MEDIA();
    const char *bad[] = {"--fps 0", "--fps -5", "--fps 0/1", "-x 0", "--fps abc", "", "--fps 60 -x 2",
                         "--fps 60 --method warp", "--fps 60 --scene-threshold 9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = tests_run(out, sizeof(out), "%s/aie-interp %s -i %s -o %s", BIN, bad[i], T("r24.mkv"), T("bad.mkv"));
        CU_ASSERT_EQUAL(rc, 2);
        CU_ASSERT(strstr(out, "Try 'aie-interp --help'.") != NULL);
    }
    /* lowering the rate more than 3x is refused */
    int rc = tests_run(out, sizeof(out), "%s/aie-interp --fps 5 -i %s -o %s", BIN, T("r24.mkv"), T("bad.mkv"));
    CU_ASSERT_EQUAL(rc, 2);
}

static void test_slowmo_audio(void)
{
    NEED_MEDIA();
    int rc = tests_run(out, sizeof(out), "%s/aie-interp --slowmo 2 -i %s -o %s", BIN, T("audio.mkv"), T("slow.mkv"));
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT(strstr(out, "--no-audio") != NULL);
    CU_ASSERT(access(T("slow.mkv"), F_OK) != 0);
    rc = tests_run(out, sizeof(out), INTERP "--slowmo 2 --no-audio -i %s -o %s", BIN, T("audio.mkv"), T("slow.mkv"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    check_grid(T("slow.mkv"), 50, 1, 25); /* 25 frames -> 50 at the same 25 fps */
    /* a rate conversion keeps the audio, and in sync */
    rc = tests_run(out, sizeof(out), INTERP "--fps 50 -i %s -o %s", BIN, T("audio.mkv"), T("a50.mkv"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const char *dur = tests_output("ffprobe -v error -select_streams a -show_entries packet=pts_time -of csv=p=0 %s | tail -1",
                              T("a50.mkv"));
    CU_ASSERT(atof(dur) > 0.9 && atof(dur) < 1.05);
    /* lowering the rate merges the packets of the frames that share an output
     * frame: every audio packet arrives */
    rc = tests_run(out, sizeof(out), INTERP "--fps 9 -i %s -o %s", BIN, T("audio.mkv"), T("a10.mkv"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char na[64];
    snprintf(na, sizeof(na), "%s", tests_output("ffprobe -v error -select_streams a -show_entries packet=pts -of csv=p=0 %s | wc -l",
                                           T("audio.mkv")));
    CU_ASSERT(atoi(na) > 10);
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -select_streams a -show_entries packet=pts -of csv=p=0 %s | wc -l",
                                   T("a10.mkv")), na);
}

static void test_resolution_change(void)
{
    NEED_MEDIA();
    int rc = tests_run(out, sizeof(out), "%s/aie-interp --fps 50 -i %s -o %s", BIN, T("sizes.h264"), T("sizes.mkv"));
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT(strstr(out, "resolution changes mid-stream") != NULL);
    CU_ASSERT(access(T("sizes.mkv"), F_OK) != 0);
}

static void test_threads_identical(void)
{
    NEED_MEDIA();
    int rc = tests_run(out, sizeof(out), INTERP "-j 1 --fps 60 -i %s -o %s && " INTERP "-j 3 --fps 60 -i %s -o %s "
                       "&& cmp %s %s", BIN, T("vfr.mkv"), T("j1.y4m"), BIN, T("vfr.mkv"), T("j3.y4m"), T("j1.y4m"),
                       T("j3.y4m"));
    CU_ASSERT_EQUAL(rc, 0);
    /* the C path stays close to the SIMD one (float kernels) */
    rc = tests_run(out, sizeof(out), INTERP "--cpu c --fps 60 -i %s -o %s", BIN, T("vfr.mkv"), T("jc.y4m"));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(psnr(T("jc.y4m"), T("j1.y4m")) > 45);
}

static void test_flow_png_dry_run(void)
{
    NEED_MEDIA();
    int rc = tests_run(out, sizeof(out), INTERP "-x 2 --flow-png %s -i %s -o %s", BIN, T("flow"), T("pan50.mkv"),
                       T("p100.y4m"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(tests_output("ls %s | wc -l", T("flow")), "80");
    /* a synthesised frame of a left pan is mostly cyan (moving left); a copy is white */
    const char *px = tests_output("ffmpeg -v error -i %s/000001.png -vf scale=1:1:flags=area -f rawvideo -pix_fmt rgb24 - "
                             "| od -An -tu1", T("flow"));
    int r = 0, g = 0, b = 0;
    CU_ASSERT_EQUAL(sscanf(px, "%d %d %d", &r, &g, &b), 3);
    CU_ASSERT(r < 200 && g > 150 && b > 150);
    rc = tests_run(out, sizeof(out), "%s/aie-interp --dry-run --json -x 5/2 -i %s -o x.mp4", BIN, T("r24.mkv"));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(strstr(out, "\"fps\": \"60/1\"") != NULL);
    CU_ASSERT(strstr(out, "\"method\": \"mc\"") != NULL);
}

int test_interp_register(void)
{
    CU_pSuite s = CU_add_suite("interp", suite_init, NULL);
    if (!s || !CU_add_test(s, "24_to_60", test_24_to_60) || !CU_add_test(s, "2997_to_60", test_2997_to_60) ||
        !CU_add_test(s, "vfr", test_vfr) || !CU_add_test(s, "cut", test_cut) ||
        !CU_add_test(s, "one_frame", test_one_frame) || !CU_add_test(s, "bad_options", test_bad_options) ||
        !CU_add_test(s, "slowmo_audio", test_slowmo_audio) ||
        !CU_add_test(s, "resolution_change", test_resolution_change) ||
        !CU_add_test(s, "threads_identical", test_threads_identical) ||
        !CU_add_test(s, "flow_png_dry_run", test_flow_png_dry_run))
        return -1;
    return 0;
}
