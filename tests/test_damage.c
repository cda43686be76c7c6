/* damage: damaged and hostile inputs (issue 20, items 6, 7, 10, 11).
 *   - damaged video (byte flips in an H.264 mp4 and an MPEG-4 avi): the
 *     concealed frames are counted, warned about, logged as decode_errors,
 *     and fatal under --strict;
 *   - an AVI cut by ffmpeg -t, whose header frame count is stale, reads;
 *   - a FIFO given to --bank, --model or --lut is refused at once, and a
 *     FIFO --reference is read as a stream;
 *   - non-finite weights are refused naming the layer (waifu2x JSON, ncnn
 *     fp16); a model whose output overflows fails under --strict.
 * The damaged inputs are made here, with ffmpeg and a seeded byte flipper. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/nn.h"
#include "aie/thread.h"
#include "tests.h"

static char dir[1024];
static char bin[1024];
static char out[1 << 16];

#define P(name) tests_path(dir, name)
#define sh(...) tests_sh(dir, out, sizeof(out), __VA_ARGS__)
#define exists tests_exists

static int suite_init(void)
{
    snprintf(dir, sizeof(dir), "%s", tests_tmp_path("damage"));
    snprintf(bin, sizeof(bin), "%s", tests_bin_dir());
    return tests_run(NULL, 0, "mkdir -p '%s'", dir) == 0 ? 0 : -1;
}

/* Flip n bytes (xor 0xff) of src into dst, at positions drawn with a fixed
 * seed between lo and hi (fractions of the size): the media data, not the
 * headers or the index at either end. */
static int flip_bytes(const char *src, const char *dst, int n, unsigned seed, double lo, double hi)
{
    FILE *f = fopen(src, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)size);
    if (!b || fread(b, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(b);
        return -1;
    }
    fclose(f);
    unsigned long long s = seed * 2654435761ull + 1;
    long a = (long)(size * lo), span = (long)(size * (hi - lo));
    for (int i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        b[a + (long)((s >> 33) % (unsigned long long)span)] ^= 0xff;
    }
    f = fopen(dst, "wb");
    int ok = f && fwrite(b, 1, (size_t)size, f) == (size_t)size;
    if (f)
        fclose(f);
    free(b);
    return ok ? 0 : -1;
}

/* decode_errors of the last run_end record in log, or -1. */
static long long decode_errors_in(const char *log)
{
    const char *v = tests_output("grep '\"run_end\"' '%s' | tail -1 | sed -n 's/.*\"decode_errors\":\\([0-9]*\\).*/\\1/p'", log);
    return *v ? atoll(v) : -1;
}

/* Item 6: 20 byte flips in an H.264 mp4 and an MPEG-4 avi. */
static void test_concealed_errors(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("damage concealed_errors", "ffmpeg missing");
        return;
    }
    static const char *const src[2] = {"clean.mp4", "clean.avi"};
    static const char *const bad[2] = {"bad.mp4", "bad.avi"};
    CU_ASSERT_EQUAL_FATAL(sh("ffmpeg -v error -y -f lavfi -i testsrc2=s=160x120:r=25:d=4 -c:v libx264 -preset fast "
                             "-pix_fmt yuv420p clean.mp4 && ffmpeg -v error -y -f lavfi -i testsrc2=s=160x120:r=25:d=4 "
                             "-c:v mpeg4 clean.avi"), 0);
    for (int k = 0; k < 2; k++) {
        /* Flips that break a frame outright make it "lost", fatal without
         * --ignore-errors as before; the case is a file whose errors
         * the decoder all conceals: take the first seed that gives one */
        int rc = -1, seed;
        for (seed = 1; seed <= 30 && rc != 0; seed++) {
            CU_ASSERT_EQUAL_FATAL(flip_bytes(P(src[k]), P(bad[k]), 20, (unsigned)seed, 0.1, 0.6), 0);
            unlink(P("d.log"));
            rc = sh("%s/aie-upscale -s 1 --metrics d.log -i %s -o d.y4m 2>&1", bin, bad[k]);
            if (rc != 0) { /* lost frames: a failure that says so, and the count is logged */
                CU_ASSERT_EQUAL(rc, 1);
                CU_ASSERT_PTR_NOT_NULL(strstr(out, "lost"));
                CU_ASSERT(decode_errors_in(P("d.log")) > 0);
            }
        }
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        /* ffmpeg itself reports errors in it */
        char keep[sizeof(out)];
        memcpy(keep, out, sizeof(out));
        sh("ffmpeg -v error -i %s -f null - 2>&1 | wc -l", bad[k]);
        CU_ASSERT(atoi(out) > 0);
        memcpy(out, keep, sizeof(out));
        /* kept, with one warning giving the count, and decode_errors in run_end */
        const char *w = strstr(out, "decoded with errors that the decoder concealed");
        CU_ASSERT_PTR_NOT_NULL(w);
        if (w)
            CU_ASSERT_PTR_NULL(strstr(w + 1, "decoded with errors that the decoder concealed"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, bad[k]));
        long long n = decode_errors_in(P("d.log"));
        if (n <= 0)
            fprintf(stderr, "\n  %s: decode_errors %lld: %s", bad[k], n, out);
        CU_ASSERT(n > 0);
        /* --strict: exit 1, no output, the record says failed */
        unlink(P("s.y4m"));
        rc = sh("%s/aie-upscale -s 1 --strict --metrics d.log -i %s -o s.y4m 2>&1", bin, bad[k]);
        CU_ASSERT_EQUAL(rc, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "--strict"));
        CU_ASSERT(!exists(P("s.y4m")));
        CU_ASSERT_STRING_EQUAL(tests_output("grep '\"run_end\"' '%s' | tail -1 | grep -c '\"failed\"'", P("d.log")), "1");
        /* the clean source: no warning, decode_errors 0, --strict passes */
        unlink(P("d.log"));
        rc = sh("%s/aie-upscale -s 1 --strict --metrics d.log -i %s -o d.y4m 2>&1", bin, src[k]);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_PTR_NULL(strstr(out, "concealed"));
        CU_ASSERT_EQUAL(decode_errors_in(P("d.log")), 0);
    }
    /* every media tool takes --strict */
    CU_ASSERT_EQUAL(sh("%s/aie-interp -x 2 --strict -i bad.avi -o i.y4m 2>&1", bin), 1);
    CU_ASSERT_EQUAL(sh("%s/aie-style --look oil --strict -i bad.avi -o st.y4m 2>&1", bin), 1);
}

/* Item 7: an AVI cut by ffmpeg keeps a header frame count its index does not
 * back; real truncation is still caught. */
static void test_avi_cut(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("damage avi_cut", "ffmpeg missing");
        return;
    }
    CU_ASSERT_EQUAL_FATAL(sh("ffmpeg -v error -y -f lavfi -i testsrc2=s=160x120:r=24:d=3 -f lavfi -i sine=d=3 "
                             "-c:v mpeg4 -c:a libmp3lame in.avi && ffmpeg -v error -y -i in.avi -t 1 -c:v mpeg4 -an cut.avi"),
                          0);
    unlink(P("cut.y4m"));
    int rc = sh("%s/aie-upscale -s 1 -i cut.avi -o cut.y4m 2>&1", bin);
    if (rc)
        fprintf(stderr, "\n  cut.avi: exit %d: %s", rc, out);
    CU_ASSERT_EQUAL(rc, 0);
    const char *frames = tests_output("cd '%s' && ffprobe -v error -count_packets -select_streams v "
                                      "-show_entries stream=nb_read_packets -of csv=p=0 cut.avi", dir);
    long want = atol(frames);
    CU_ASSERT(want > 0);
    CU_ASSERT_EQUAL(atol(tests_output("cd '%s' && ffprobe -v error -count_frames -show_entries "
                                      "stream=nb_read_frames -of csv=p=0 cut.y4m", dir)), want);
    /* the whole file cut in half (index gone): still a clean failure */
    rc = sh("head -c $(( $(stat -c %%s in.avi) / 2 )) in.avi > half.avi && %s/aie-upscale -s 1 -i half.avi -o half.y4m 2>&1",
            bin);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "lost"));
    CU_ASSERT(!exists(P("half.y4m")));
}

/* Item 10: FIFOs. */
static void test_fifo_options(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("damage fifo_options", "ffmpeg missing");
        return;
    }
    CU_ASSERT_EQUAL_FATAL(sh("ffmpeg -v error -y -f lavfi -i testsrc2=s=64x48:r=25:d=0.4 -pix_fmt yuv420p f.y4m && "
                             "rm -f fifo fifo.json fifo.cube && mkfifo fifo fifo.json fifo.cube"),
                          0);
    static const char *const runs[] = {"aie-upscale --bank fifo", "aie-upscale --model ./fifo.json",
                                       "aie-style --lut fifo.cube"};
    for (int k = 0; k < 3; k++) {
        long long t0 = aie_time_us();
        int rc = sh("timeout 20 %s/%s -i f.y4m -o fo.y4m 2>&1", bin, runs[k]);
        long long ms = (aie_time_us() - t0) / 1000;
        if (rc != 1)
            fprintf(stderr, "\n  %s: exit %d after %lld ms: %s", runs[k], rc, ms, out);
        CU_ASSERT_EQUAL(rc, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "a FIFO, not a regular file"));
        CU_ASSERT_EQUAL(tests_output("printf '%%s' '%s' | grep -c .", out)[0], '1'); /* one line */
        CU_ASSERT(ms < 5000);
    }
    /* --reference reads a FIFO as a stream (its first frame) */
    int rc = sh("{ timeout 20 sh -c 'cat f.y4m > fifo' & } && timeout 20 %s/aie-style --reference fifo -i f.y4m "
                "-o fr.y4m 2>&1; r=$?; wait; exit $r", bin);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(exists(P("fr.y4m")));
    /* and a signal ends a wait for its writer */
    pid_t p = tests_start(dir, "exec %s/aie-style --reference fifo -i f.y4m -o fw.y4m 2>/dev/null", bin);
    tests_sleep_ms(500);
    long long t0 = aie_time_us();
    kill(p, SIGTERM);
    rc = tests_wait(p);
    CU_ASSERT_EQUAL(rc, 143);
    CU_ASSERT((aie_time_us() - t0) / 1000 < 1500);
    CU_ASSERT(!exists(P("fw.y4m")));
}

static int copy_file(const char *from, const char *to)
{
    return tests_run(NULL, 0, "cp '%s' '%s'", from, to);
}

/* Item 11: non-finite weights and output. */
static void test_nonfinite_models(void)
{
    char src[1200], err[AIE_ERRBUF_SIZE];
    AieNnModel *m = NULL;
    /* waifu2x JSON: one weight NaN, then one bias infinite */
    snprintf(src, sizeof(src), "%s/testdata/nn/tiny_scale2.0x_model.json", tests_src_dir());
    CU_ASSERT_EQUAL_FATAL(copy_file(src, P("w.json")), 0);
    CU_ASSERT_EQUAL(sh("sed -i '0,/0\\.5/s//NaN/' w.json && grep -c NaN w.json"), 0);
    int e = aie_nn_load(&m, P("w.json"), err, sizeof(err));
    CU_ASSERT_EQUAL(e, AIE_EMODEL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "layer"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "weight"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "NaN"));
    aie_nn_free(&m);
    CU_ASSERT_EQUAL_FATAL(copy_file(src, P("b.json")), 0);
    CU_ASSERT_EQUAL(sh("sed -i 's/\"bias\": \\[-0.5,/\"bias\": [1e39,/' b.json && grep -c 1e39 b.json"), 0);
    e = aie_nn_load(&m, P("b.json"), err, sizeof(err));
    CU_ASSERT_EQUAL(e, AIE_EMODEL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "bias"));
    aie_nn_free(&m);
    /* ncnn: the first fp16 weight set to a NaN (0x7e00) */
    snprintf(src, sizeof(src), "%s/testdata/nn/tiny-x2.param", tests_src_dir());
    CU_ASSERT_EQUAL_FATAL(copy_file(src, P("n.param")), 0);
    snprintf(src, sizeof(src), "%s/testdata/nn/tiny-x2.bin", tests_src_dir());
    CU_ASSERT_EQUAL_FATAL(copy_file(src, P("n.bin")), 0);
    CU_ASSERT_EQUAL_FATAL(aie_nn_load(&m, P("n.param"), err, sizeof(err)), 0); /* the copy loads */
    aie_nn_free(&m);
    CU_ASSERT_EQUAL(sh("printf '\\000\\176' | dd of=n.bin bs=1 seek=4 conv=notrunc 2>/dev/null"), 0);
    e = aie_nn_load(&m, P("n.param"), err, sizeof(err));
    CU_ASSERT_EQUAL(e, AIE_EMODEL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "conv"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "NaN"));
    aie_nn_free(&m);
    if (!tests_have_ffmpeg()) {
        tests_skip("damage nonfinite_models (tools)", "ffmpeg missing");
        return;
    }
    /* the tool refuses the NaN model with one line, exit 1 */
    CU_ASSERT_EQUAL_FATAL(sh("ffmpeg -v error -y -f lavfi -i color=white:s=32x32:d=0.2:r=10 -pix_fmt yuv420p white.y4m"), 0);
    int rc = sh("%s/aie-upscale --model ./w.json -i white.y4m -o wo.y4m 2>&1", bin);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "NaN"));
    /* finite weights whose output overflows to infinity on a white picture:
     * kept by default (documented), refused under --strict */
    snprintf(src, sizeof(src), "%s/testdata/nn/tiny_scale2.0x_model.json", tests_src_dir());
    CU_ASSERT_EQUAL_FATAL(copy_file(src, P("inf.json")), 0);
    CU_ASSERT_EQUAL(sh("sed -i 's/0\\.25/3e38/g; s/0\\.5\\b/3e38/g' inf.json"), 0);
    rc = sh("%s/aie-upscale --model ./inf.json -i white.y4m -o io.y4m 2>&1", bin);
    CU_ASSERT_EQUAL(rc, 0);
    unlink(P("is.y4m"));
    rc = sh("%s/aie-upscale --strict --model ./inf.json -i white.y4m -o is.y4m 2>&1", bin);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "NaN or infinite"));
    CU_ASSERT(!exists(P("is.y4m")));
}

int test_damage_register(void)
{
    CU_pSuite s = CU_add_suite("damage", suite_init, NULL);
    if (!s || !CU_add_test(s, "concealed_errors", test_concealed_errors) ||
        !CU_add_test(s, "avi_cut", test_avi_cut) || !CU_add_test(s, "fifo_options", test_fifo_options) ||
        !CU_add_test(s, "nonfinite_models", test_nonfinite_models))
        return -1;
    return 0;
}
