/* media: what the writer promises about the media it writes, checked with
 * ffmpeg/ffprobe as the oracle on the real tools.
 *
 *   - odd sizes: every tool writes 721x405 and 720x405 into mp4, mkv, mov,
 *     webm and PNG; the size is kept where the codec allows it, and x264
 *     (4:2:0) gets the last column/row repeated, with a one-line note;
 *   - --crf ranges, codecs the container cannot hold and names without an
 *     extension.
 * Audio (copy, re-encode, --audio, --frames spans, damaged timestamps) and
 * the rotation and HDR10 side data are tests/test_audio.c's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests.h"

static char dir[1024];
static char bin[1024];
static char out[1 << 16];
static int have_media;

#define sh(...) tests_sh(dir, out, sizeof(out), __VA_ARGS__)

static int suite_init(void)
{
    if (tests_suite_dirs("media", bin, sizeof(bin), dir, sizeof(dir)))
        return 1;
    if (!tests_have_ffmpeg())
        return 0;
    /* odd sizes come from a scale after the source (testsrc2 rounds to even) */
    have_media = sh("for s in 721:405 720:405; do ffmpeg -v error -y -f lavfi -i testsrc2=s=722x406:r=25:d=0.2 "
                    "-vf scale=$s,format=yuv420p -c:v ffv1 in$(echo $s | tr : x).mkv || exit 1; done") == 0;
    if (!have_media)
        fprintf(stderr, "\n  media: cannot make the test media: %s\n", out);
    return 0;
}

#define NEED_MEDIA(name)                                                                           \
    do {                                                                                           \
        if (!have_media) {                                                                         \
            tests_skip(name, "ffmpeg/ffprobe are not installed");                                 \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Average PSNR ffmpeg reports for the first frames of two inputs after each
 * goes through its filter chain; -1 when it could not be measured. */
static double psnr(const char *a, const char *fa, const char *b, const char *fb)
{
    if (sh("ffmpeg -v info -nostats -i '%s' -i '%s' -lavfi '[0:v]format=yuv444p,%s[a];[1:v]format=yuv444p,%s[b];"
           "[a][b]psnr' -frames:v 1 -f null - 2>&1 | grep -o ' y:[0-9.inf]*'",
           a, b, fa, fb) != 0)
        return -1;
    return atof(out + strlen(" y:"));
}

static void test_odd_sizes(void)
{
    NEED_MEDIA("media/odd_sizes");
    static const char *const tools[][2] = {{"upscale", "-s 1 -m lanczos"}, {"interp", "--fps 50"},
                                           {"style", "--look toon"}};
    static const char *const sizes[][3] = {{"721x405", "721", "405"}, {"720x405", "720", "405"}};
    static const char *const exts[] = {"webm", "mp4", "mkv", "mov"};
    for (size_t t = 0; t < 3; t++) {
        for (size_t s = 0; s < 2; s++) {
            int w = atoi(sizes[s][1]), h = atoi(sizes[s][2]);
            /* the PNG output keeps the size and is the tool's exact result */
            char ref[256], name[256];
            snprintf(ref, sizeof(ref), "%s_%s_%%03d.png", tools[t][0], sizes[s][0]);
            int rc = sh("%s/aie-%s -q %s -i in%s.mkv -o %s", bin, tools[t][0], tools[t][1], sizes[s][0], ref);
            CU_ASSERT_EQUAL(rc, 0);
            snprintf(ref, sizeof(ref), "%s_%s_001.png", tools[t][0], sizes[s][0]);
            CU_ASSERT_EQUAL(sh("ffprobe -v error -show_entries stream=width,height -of csv=p=0 %s", ref), 0);
            CU_ASSERT_EQUAL(atoi(out), w);
            CU_ASSERT_EQUAL(atoi(strchr(out, ',') ? strchr(out, ',') + 1 : "0"), h);
            for (size_t e = 0; e < 4; e++) {
                snprintf(name, sizeof(name), "%s_%s.%s", tools[t][0], sizes[s][0], exts[e]);
                rc = sh("%s/aie-%s %s -i in%s.mkv -o %s 2>&1", bin, tools[t][0], tools[t][1], sizes[s][0], name);
                if (rc != 0)
                    fprintf(stderr, "\n  %s: %s\n", name, out);
                CU_ASSERT_EQUAL_FATAL(rc, 0);
                int x264 = strcmp(exts[e], "webm") != 0; /* the default encoder of the others */
                int pw = x264 ? (w + 1) & ~1 : w, ph = x264 ? (h + 1) & ~1 : h;
                /* one line says what was padded, and only when it was */
                CU_ASSERT_EQUAL(strstr(out, "padded to") != NULL, pw != w || ph != h);
                CU_ASSERT_EQUAL(sh("ffprobe -v error -select_streams v -show_entries stream=width,height "
                                   "-of csv=p=0 %s", name), 0);
                CU_ASSERT_EQUAL(atoi(out), pw);
                CU_ASSERT_EQUAL(atoi(strchr(out, ',') ? strchr(out, ',') + 1 : "0"), ph);
                /* the source pixels are where they were: the top-left w x h
                 * matches the unpadded VP9 output (within the encoders' noise;
                 * a shift or a rescale by one pixel costs 10 dB and more) */
                char crop[64], webm[256];
                snprintf(crop, sizeof(crop), "crop=%d:%d:0:0", w, h);
                snprintf(webm, sizeof(webm), "%s_%s.webm", tools[t][0], sizes[s][0]);
                double p = e ? psnr(name, crop, webm, "null") : 99;
                CU_ASSERT(p > 36);
                if (p <= 36)
                    fprintf(stderr, "\n  %s: %.2f dB against %s\n", name, p, webm);
                /* the padding repeats the last row / column */
                char a[64], b[64];
                if (ph != h) {
                    snprintf(a, sizeof(a), "crop=%d:1:0:%d", w, h);
                    snprintf(b, sizeof(b), "crop=%d:1:0:%d", w, h - 1);
                    CU_ASSERT(psnr(name, a, name, b) > 30);
                }
                if (pw != w) {
                    snprintf(a, sizeof(a), "crop=1:%d:%d:0", h, w);
                    snprintf(b, sizeof(b), "crop=1:%d:%d:0", h, w - 1);
                    CU_ASSERT(psnr(name, a, name, b) > 30);
                }
            }
        }
    }
}

/* --crf against the codec's range, a codec the container cannot hold and a
 * name without an extension: exit 2 with one line, in --dry-run as in the run. */
static void test_usage_checks(void)
{
    NEED_MEDIA("media/usage_checks");
    static const struct {
        const char *args, *says;
    } bad[] = {
        {"--crf 52 -o u.mp4", "libx264 takes 0 to 51"},
        {"--crf 70 -o u.webm", "out of range (0 to 63)"},
        {"--crf 9 -o u.avi", "no constant-quality mode"},
        {"--codec libx265 -o u.webm", "webm container cannot hold libx265"},
        {"-o noext", ".mp4 .mkv .mov .webm"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (int dry = 0; dry < 2; dry++) {
            int rc = sh("%s/aie-upscale -s 1 -i in720x405.mkv %s%s 2>&1", bin, bad[i].args, dry ? " --dry-run" : "");
            CU_ASSERT_EQUAL(rc, 2);
            CU_ASSERT_PTR_NOT_NULL(strstr(out, bad[i].says));
            CU_ASSERT_PTR_NOT_NULL(strstr(out, "Try 'aie-upscale --help'."));
        }
    }
    CU_ASSERT_EQUAL(sh("test ! -e u.mp4 && test ! -e u.webm && test ! -e u.avi && test ! -e noext"), 0);
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -s 1 --crf 51 -i in720x405.mkv -o u.mp4 --dry-run", bin), 0);
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -s 1 --crf 63 -i in720x405.mkv -o u.webm --dry-run", bin), 0);
}

int test_media_register(void)
{
    CU_pSuite s = CU_add_suite("media", suite_init, NULL);
    if (!s || !CU_add_test(s, "odd_sizes", test_odd_sizes) ||
        !CU_add_test(s, "usage_checks", test_usage_checks))
        return -1;
    return 0;
}
