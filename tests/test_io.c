/* io: round trips through real files, checked with the ffmpeg/ffprobe programs
 * as an independent oracle. Inputs are generated here (testsrc2 + sine). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/io.h"
#include "tests.h"

static char out[65536];
static int have_media;

#define UPSCALE "%s/aie-upscale -q "
#define BIN tests_bin_dir()
#define T(name) tests_tmp_path(name)

/* Capture the output of a command into a static buffer; returns it trimmed. */
static int count_lines(const char *s)
{
    if (!*s)
        return 0;
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n + (s[-1] != '\n');
}

/* Decode an image to raw pixels of pix_fmt with the ffmpeg program. */
static long read_raw(const char *path, const char *pix_fmt, unsigned char *buf, size_t size)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "ffmpeg -v error -i %s -f rawvideo -pix_fmt %s -", path, pix_fmt);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(buf, 1, size, p);
    pclose(p);
    return (long)n;
}

static int suite_init(void)
{
    if (!tests_have_ffmpeg()) {
        tests_skip("io", "the ffmpeg and ffprobe programs are not installed (scripts/deps.sh installs them)");
        return 0;
    }
    /* 30 frames at 25 fps, 96x64, with FLAC audio (mkv) and AAC audio (mp4) */
    int rc = tests_run(out, sizeof(out),
                       "cd %s && ffmpeg -v error -y -f lavfi -i testsrc2=s=96x64:r=25:d=1.2 "
                       "-f lavfi -i sine=f=440:r=48000:d=1.2 -c:v ffv1 -c:a flac "
                       "-color_primaries bt709 -color_trc bt709 -colorspace bt709 -color_range tv "
                       "-metadata title=aie-test clip.mkv && "
                       "ffmpeg -v error -y -i clip.mkv -c:v libx264 -preset ultrafast -c:a aac clip.mp4 && "
                       /* VFR: irregular frame times */
                       "ffmpeg -v error -y -f lavfi -i testsrc2=s=64x48:r=25:d=1.2 "
                       "-vf \"setpts='(N*N*0.004+N*0.02)/TB'\" -fps_mode vfr -c:v ffv1 vfr.mkv && "
                       "ffmpeg -v error -y -f lavfi -i testsrc2=s=40x30:d=0.04 -vf format=rgba64be "
                       "-frames:v 1 alpha16.png && "
                       "ffmpeg -v error -y -f lavfi -i testsrc2=s=40x30:d=0.04 -vf format=rgba "
                       "-frames:v 1 alpha8.png",
                       tests_tmp_dir());
    if (rc != 0) {
        fprintf(stderr, "io suite: could not generate test media: %s\n", out);
        return 1;
    }
    have_media = 1;
    return 0;
}

#define NEED_MEDIA() TESTS_NEED_MEDIA(have_media)

static void test_vfr_timestamps(void)
{
    NEED_MEDIA();
    int rc = tests_run(out, sizeof(out), UPSCALE "-s 2 -i %s -o %s --lossless", BIN, T("vfr.mkv"),
                       T("vfr_out.mkv"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    char a[8192], b[8192];
    snprintf(a, sizeof(a), "%s",
             tests_output("ffprobe -v error -select_streams v -show_entries frame=pts_time "
                     "-of default=nw=1:nk=1 %s", T("vfr.mkv")));
    snprintf(b, sizeof(b), "%s",
             tests_output("ffprobe -v error -select_streams v -show_entries frame=pts_time "
                     "-of default=nw=1:nk=1 %s", T("vfr_out.mkv")));
    CU_ASSERT(strlen(a) > 0);
    CU_ASSERT_STRING_EQUAL(a, b);
    CU_ASSERT_EQUAL(count_lines(b), 30);
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -select_streams v -show_entries stream=width,height "
                                   "-of csv=p=0 %s", T("vfr_out.mkv")), "128,96");
}

static void test_audio_copy(void)
{
    NEED_MEDIA();
    static const char *const ext[] = {"mkv", "mp4"};
    for (int i = 0; i < 2; i++) {
        char in[64], o[64];
        snprintf(in, sizeof(in), "clip.%s", ext[i]);
        snprintf(o, sizeof(o), "audio_out.%s", ext[i]);
        int rc = tests_run(out, sizeof(out), UPSCALE "-s 1.5 -i %s -o %s", BIN, T(in), T(o));
        CU_ASSERT_EQUAL(rc, 0);
        char a[256];
        snprintf(a, sizeof(a), "%s", tests_output("ffmpeg -v error -i %s -map 0:a -c copy -f md5 -", T(in)));
        const char *b = tests_output("ffmpeg -v error -i %s -map 0:a -c copy -f md5 -", T(o));
        CU_ASSERT(strncmp(a, "MD5=", 4) == 0);
        CU_ASSERT_STRING_EQUAL(a, b);
        /* audio and video still start together */
        const char *st = tests_output("ffprobe -v error -show_entries stream=start_time -of csv=p=0 %s", T(o));
        double v0 = 1, a0 = 1;
        CU_ASSERT_EQUAL(sscanf(st, "%lf\n%lf", &v0, &a0), 2);
        CU_ASSERT(v0 < 0.1 && a0 < 0.1);
    }
    /* container metadata and colour tags travel too */
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -show_entries format_tags=title -of csv=p=0 %s",
                                   T("audio_out.mkv")), "aie-test");
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -select_streams v -show_entries "
                                   "stream=color_primaries,color_transfer,color_space,color_range "
                                   "-of csv=p=0 %s", T("audio_out.mkv")), "tv,bt709,bt709,bt709");
}

static void test_y4m_pipes(void)
{
    NEED_MEDIA();
    const char *r = tests_output("ffmpeg -v error -i %s -f yuv4mpegpipe - | " UPSCALE
                            "-s 2 -m bicubic -i - -o - | ffprobe -v error -count_frames -show_entries "
                            "stream=width,height,nb_read_frames,pix_fmt -of csv=p=0 -",
                            T("clip.mkv"), BIN);
    CU_ASSERT_STRING_EQUAL(r, "192,128,yuv420p,30");
    /* 10-bit through the pipe */
    r = tests_output("ffmpeg -v error -i %s -pix_fmt yuv422p10le -strict -1 -f yuv4mpegpipe - | " UPSCALE
                "-s 2 -i - -o - | ffprobe -v error -count_frames -show_entries "
                "stream=width,height,nb_read_frames,pix_fmt -of csv=p=0 -",
                T("clip.mkv"), BIN);
    CU_ASSERT_STRING_EQUAL(r, "192,128,yuv422p10le,30");
}

static void test_png_alpha(void)
{
    NEED_MEDIA();
    static const char *const names[] = {"alpha16.png", "alpha8.png"};
    static const char *const fmts[] = {"rgba64be", "rgba"};
    static const char *const raw[] = {"rgba64le", "rgba"};
    for (int i = 0; i < 2; i++) {
        /* identity size: must be bit-exact, alpha included */
        int rc = tests_run(out, sizeof(out), UPSCALE "-s 1 -i %s -o %s", BIN, T(names[i]), T("id.png"));
        CU_ASSERT_EQUAL(rc, 0);
        char a[256];
        snprintf(a, sizeof(a), "%s", tests_output("ffmpeg -v error -i %s -pix_fmt %s -f md5 -", T(names[i]), raw[i]));
        CU_ASSERT_STRING_EQUAL(a, tests_output("ffmpeg -v error -i %s -pix_fmt %s -f md5 -", T("id.png"), raw[i]));
        CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -show_entries stream=pix_fmt -of csv=p=0 %s",
                                       T("id.png")), fmts[i]);
        /* 2x nearest duplicates every pixel, alpha included */
        rc = tests_run(out, sizeof(out), UPSCALE "-s 2 -m nearest -i %s -o %s", BIN, T(names[i]),
                       T("nn.png"));
        CU_ASSERT_EQUAL(rc, 0);
        int bpp = i == 0 ? 8 : 4;
        static unsigned char src[40 * 30 * 8], dst[80 * 60 * 8];
        CU_ASSERT_EQUAL(read_raw(T(names[i]), raw[i], src, sizeof(src)), (long)sizeof(src) * bpp / 8);
        CU_ASSERT_EQUAL(read_raw(T("nn.png"), raw[i], dst, sizeof(dst)), (long)sizeof(dst) * bpp / 8);
        int same = 1;
        for (int y = 0; y < 60; y++)
            for (int x = 0; x < 80; x++)
                same &= !memcmp(dst + (y * 80 + x) * bpp, src + (y / 2 * 40 + x / 2) * bpp, (size_t)bpp);
        CU_ASSERT(same);
    }
    /* 16-bit source written as 8-bit on request */
    int rc = tests_run(out, sizeof(out), UPSCALE "-s 1 --depth 8 -i %s -o %s", BIN, T("alpha16.png"),
                       T("d8.png"));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -show_entries stream=pix_fmt -of csv=p=0 %s",
                                   T("d8.png")), "rgba");
}

static void test_frames_range(void)
{
    NEED_MEDIA();
    int rc = tests_run(out, sizeof(out), UPSCALE "-s 1 --lossless --frames 10-19 -i %s -o %s", BIN, T("clip.mkv"),
                       T("range.mkv"));
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -select_streams v -count_frames -show_entries "
                                   "stream=nb_read_frames -of csv=p=0 %s", T("range.mkv")), "10");
    /* output starts at 0; the content is frames 10..19 of the input */
    const char *t = tests_output("ffprobe -v error -select_streams v -show_entries frame=pts_time "
                            "-of default=nw=1:nk=1 %s | head -1", T("range.mkv"));
    CU_ASSERT_STRING_EQUAL(t, "0.000000");
    char a[4096];
    snprintf(a, sizeof(a), "%s",
             tests_output("ffmpeg -v error -i %s -map 0:v -vf \"select='between(n,10,19)'\" -fps_mode passthrough "
                     "-f framemd5 - | grep -v '^#' | cut -d, -f6", T("clip.mkv")));
    CU_ASSERT_STRING_EQUAL(a, tests_output("ffmpeg -v error -i %s -map 0:v -f framemd5 - | grep -v '^#' | cut -d, -f6",
                                      T("range.mkv")));
    /* audio covers the same 0.4 s, at packet granularity */
    double dur = atof(tests_output("ffprobe -v error -select_streams a -show_entries packet=duration_time "
                              "-of csv=p=0 %s | paste -sd+ | bc", T("range.mkv")));
    CU_ASSERT(dur > 0.35 && dur < 0.45);
    /* open-ended range */
    rc = tests_run(out, sizeof(out), UPSCALE "-s 1 --frames 25- -i %s -o %s", BIN, T("clip.mkv"),
                   T("tail.y4m"));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -count_frames -show_entries stream=nb_read_frames "
                                   "-of csv=p=0 %s", T("tail.y4m")), "5");
    /* a range past the end is an error */
    rc = tests_run(out, sizeof(out), UPSCALE "--frames 40-50 -i %s -o %s", BIN, T("clip.mkv"),
                   T("none.y4m"));
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "has 30 frames"));
}

static void test_threads_identical(void)
{
    NEED_MEDIA();
    char a[256];
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), UPSCALE "-j 1 -s 2.5 -i %s -o %s", BIN, T("clip.mkv"),
                              T("j1.y4m")), 0);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), UPSCALE "-j 3 -s 2.5 -i %s -o %s", BIN, T("clip.mkv"),
                              T("j3.y4m")), 0);
    snprintf(a, sizeof(a), "%s", tests_output("md5sum < %s", T("j1.y4m")));
    CU_ASSERT_STRING_EQUAL(a, tests_output("md5sum < %s", T("j3.y4m")));
    /* and under every --cpu level */
    static const char *const levels[] = {"c", "avx2", "avx512"};
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(tests_run(out, sizeof(out), UPSCALE "--cpu %s -s 2.5 -i %s -o %s", BIN, levels[i],
                                  T("clip.mkv"), T("cpu.y4m")), 0);
        CU_ASSERT_STRING_EQUAL(a, tests_output("md5sum < %s", T("cpu.y4m")));
    }
}

static void test_png_sequence(void)
{
    NEED_MEDIA();
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), "mkdir -p %s", T("seq")), 0);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), UPSCALE "-s 1 --frames 0-4 -i %s -o %s/%%04d.png", BIN,
                              T("clip.mkv"), T("seq")), 0);
    CU_ASSERT_STRING_EQUAL(tests_output("ls %s", T("seq")), "0001.png\n0002.png\n0003.png\n0004.png\n0005.png");
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), UPSCALE "-s 2 --input-fps 10 -i %s/%%04d.png -o %s", BIN,
                              T("seq"), T("seq.mkv")), 0);
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -count_frames -show_entries "
                                   "stream=width,height,nb_read_frames,r_frame_rate -of csv=p=0 %s",
                                   T("seq.mkv")), "192,128,10/1,5");
}

static void test_containers(void)
{
    NEED_MEDIA();
    static const struct { const char *name, *codec; } c[] = {
        {"c.mp4", "h264"}, {"c.mov", "h264"}, {"c.webm", "vp9"}, {"c.avi", "mpeg4"},
        {"c.y4m", "wrapped_avframe"}, {"cl.mkv", "ffv1"},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        int rc = tests_run(out, sizeof(out), UPSCALE "-s 1 --frames 0-4 %s -i %s -o %s", BIN,
                           !strcmp(c[i].name, "cl.mkv") ? "--lossless" : "", T("clip.mkv"), T(c[i].name));
        CU_ASSERT_EQUAL(rc, 0);
        const char *got = tests_output("ffprobe -v error -select_streams v -show_entries stream=codec_name "
                                  "-of csv=p=0 %s", T(c[i].name));
        CU_ASSERT_STRING_EQUAL(got, strcmp(c[i].name, "c.y4m") ? c[i].codec : "rawvideo");
    }
    /* lossless at identity size reproduces the input exactly */
    char a[256];
    snprintf(a, sizeof(a), "%s", tests_output("ffmpeg -v error -i %s -map 0:v -frames:v 5 -f md5 -", T("clip.mkv")));
    CU_ASSERT_STRING_EQUAL(a, tests_output("ffmpeg -v error -i %s -map 0:v -f md5 -", T("cl.mkv")));
    /* encoder options reach the encoder */
    int rc = tests_run(out, sizeof(out), UPSCALE "-s 1 --frames 0-2 --crf 30 --preset ultrafast "
                       "--encoder-opt x264-params=keyint=1 -i %s -o %s", BIN, T("clip.mkv"), T("o.mp4"));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -select_streams v -show_entries frame=key_frame "
                                   "-of default=nw=1:nk=1 %s | paste -sd,", T("o.mp4")), "1,1,1");
    rc = tests_run(out, sizeof(out), UPSCALE "--encoder-opt nosuchopt=1 -i %s -o %s", BIN, T("clip.mkv"),
                   T("bad.mp4"));
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "nosuchopt"));
}

/* Subtitles and chapters are copied, and shifted with a --frames range. */
static void test_chapters_subtitles(void)
{
    NEED_MEDIA();
    int rc = tests_run(out, sizeof(out),
                       "cd %s && printf ';FFMETADATA1\\n[CHAPTER]\\nTIMEBASE=1/1000\\nSTART=0\\nEND=600\\n"
                       "title=one\\n[CHAPTER]\\nTIMEBASE=1/1000\\nSTART=600\\nEND=1200\\ntitle=two\\n' > meta.txt && "
                       "printf '1\\n00:00:00,100 --> 00:00:00,500\\nhello\\n\\n2\\n00:00:00,700 --> 00:00:01,000\\n"
                       "world\\n' > s.srt && ffmpeg -v error -y -i clip.mkv -i s.srt -i meta.txt -map 0 -map 1 "
                       "-map_chapters 2 -c copy -c:s srt withsub.mkv", tests_tmp_dir());
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), UPSCALE "-s 2 -i %s -o %s", BIN, T("withsub.mkv"),
                              T("ws.mkv")), 0);
    char a[256];
    snprintf(a, sizeof(a), "%s", tests_output("ffmpeg -v error -i %s -map 0:s -c copy -f md5 -", T("withsub.mkv")));
    CU_ASSERT(strncmp(a, "MD5=", 4) == 0);
    CU_ASSERT_STRING_EQUAL(a, tests_output("ffmpeg -v error -i %s -map 0:s -c copy -f md5 -", T("ws.mkv")));
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -show_entries chapter=start_time,end_time:chapter_tags=title "
                                   "-of csv=p=0 %s", T("ws.mkv")),
                           "0.000000,0.600000,one\n0.600000,1.200000,two");
    /* frames 15-29 start at 0.6 s: chapter two and the second subtitle move to 0 and 0.1 s */
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), UPSCALE "-s 1 --frames 15-29 -i %s -o %s", BIN,
                              T("withsub.mkv"), T("wsr.mkv")), 0);
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -show_entries chapter=start_time,end_time:chapter_tags=title "
                                   "-of csv=p=0 %s", T("wsr.mkv")), "0.000000,0.600000,two");
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -select_streams s -show_entries packet=pts_time "
                                   "-of csv=p=0 %s", T("wsr.mkv")), "0.100000");
}

/* Chunks of --frames ranges join back by stream copy; audio comes once from
 * the source; with overlap the shared frame is dropped. */
static void test_join(void)
{
    NEED_MEDIA();
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(tests_run(out, sizeof(out), UPSCALE "-s 2 --no-audio --frames %s -i %s -o %s", BIN,
                                  i ? "12-29" : "0-11", T("clip.mkv"), T(i ? "j2.mkv" : "j1.mkv")), 0);
    }
    char c1[512], c2[512], src[512], dst[512], err[512] = "";
    snprintf(c1, sizeof(c1), "%s", T("j1.mkv"));
    snprintf(c2, sizeof(c2), "%s", T("j2.mkv"));
    snprintf(src, sizeof(src), "%s", T("clip.mkv"));
    snprintf(dst, sizeof(dst), "%s", T("joined.mp4"));
    const char *chunks[] = {c1, c2};
    CU_ASSERT_EQUAL_FATAL(aie_io_join(chunks, 2, src, 0, NULL, dst, err, sizeof(err)), 0);
    char a[4096];
    snprintf(a, sizeof(a), "%s",
             tests_output("(ffmpeg -v error -i %s -f framemd5 -; ffmpeg -v error -i %s -f framemd5 -) | "
                     "grep -v '^#' | cut -d, -f6 | md5sum", c1, c2));
    CU_ASSERT_STRING_EQUAL(a, tests_output("ffmpeg -v error -i %s -map 0:v -f framemd5 - | grep -v '^#' | "
                                      "cut -d, -f6 | md5sum", dst));
    snprintf(a, sizeof(a), "%s", tests_output("ffmpeg -v error -i %s -map 0:a -c copy -f md5 -", src));
    CU_ASSERT_STRING_EQUAL(a, tests_output("ffmpeg -v error -i %s -map 0:a -c copy -f md5 -", dst));
    CU_ASSERT_STRING_EQUAL(tests_output("ffmpeg -v error -i %s -f null - 2>&1", dst), "");
    /* overlap by one source frame (12 source frames gave 12 outputs: one per
     * source frame is dropped); video only */
    snprintf(dst, sizeof(dst), "%s", T("joined2.mkv"));
    const int64_t src_frames[] = {12, 18};
    CU_ASSERT_EQUAL(aie_io_join(chunks, 2, NULL, 0, src_frames, dst, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(tests_output("ffprobe -v error -count_frames -show_entries stream=codec_type,nb_read_frames "
                                   "-of csv=p=0 %s", dst), "video,29");
    /* chunks that do not match are refused, and nothing is left */
    CU_ASSERT_EQUAL(tests_run(out, sizeof(out), UPSCALE "-s 1 --frames 0-3 -i %s -o %s", BIN, src, T("j3.mkv")), 0);
    const char *bad[] = {c1, T("j3.mkv")};
    snprintf(dst, sizeof(dst), "%s", T("joined3.mkv"));
    CU_ASSERT_EQUAL(aie_io_join(bad, 2, NULL, 0, NULL, dst, err, sizeof(err)), AIE_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not match"));
    CU_ASSERT_NOT_EQUAL(access(dst, F_OK), 0);
}

/* Memory stays bounded: 10x more frames do not need more memory. */
static void test_memory_bounded(void)
{
    NEED_MEDIA();
    if (getenv("AIE_SANITIZER")) {
        tests_skip("memory_bounded", "RSS is not meaningful under a sanitizer");
        return;
    }
    long rss[2] = {0, 0};
    static const int secs[2] = {2, 20};
    for (int i = 0; i < 2; i++) {
        char log[64];
        snprintf(log, sizeof(log), "mem%d.jsonl", i);
        int rc = tests_run(out, sizeof(out),
                           "ffmpeg -v error -f lavfi -i testsrc2=s=320x240:r=25:d=%d -f yuv4mpegpipe - | "
                           "%s/aie-upscale -q -s 2 --metrics %s -i - -o /dev/null",
                           secs[i], BIN, T(log));
        CU_ASSERT_EQUAL(rc, 0);
        rss[i] = atol(tests_output("sed -n 's/.*\"maxrss_kb\":\\([0-9]*\\).*/\\1/p' %s", T(log)));
        CU_ASSERT(rss[i] > 0);
    }
    /* 500 frames vs 50: within 15% (frames in flight are bounded, not the stream) */
    CU_ASSERT(rss[1] < rss[0] * 1.15 + 4096);
}

/* The library directly: reader info and the lost-frame count on truncation. */
static void test_reader_api(void)
{
    NEED_MEDIA();
    AieReader *r;
    char err[AIE_ERRBUF_SIZE];
    CU_ASSERT_EQUAL_FATAL(aie_reader_open(&r, T("clip.mkv"), NULL, err, sizeof(err)), 0);
    const AieVideoInfo *vi = aie_reader_info(r);
    CU_ASSERT_EQUAL(vi->width, 96);
    CU_ASSERT_EQUAL(vi->height, 64);
    CU_ASSERT_EQUAL(vi->layout, AIE_LAYOUT_YUV420);
    CU_ASSERT_EQUAL(vi->depth, 8);
    CU_ASSERT_EQUAL(vi->fps.num, 25);
    CU_ASSERT_EQUAL(vi->color.primaries, 1);
    CU_ASSERT_EQUAL(vi->color.range, 1);
    int n = 0, e;
    int64_t last = -1, mono = 1;
    AieFrame *f;
    while ((e = aie_reader_read(r, &f)) == 0) {
        mono &= f->pts > last;
        last = f->pts;
        CU_ASSERT_EQUAL(f->index, n);
        n++;
        aie_frame_unref(&f);
    }
    CU_ASSERT_EQUAL(e, AIE_EOF);
    CU_ASSERT_EQUAL(n, 30);
    CU_ASSERT(mono);
    aie_reader_close(&r);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_EQUAL(aie_reader_open(&r, T("nope.mkv"), NULL, err, sizeof(err)), AIE_ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "nope.mkv"));
}

int test_io_register(void)
{
    CU_pSuite s = CU_add_suite("io", suite_init, NULL);
    if (!s || !CU_add_test(s, "vfr_timestamps", test_vfr_timestamps) ||
        !CU_add_test(s, "audio_copy", test_audio_copy) || !CU_add_test(s, "y4m_pipes", test_y4m_pipes) ||
        !CU_add_test(s, "png_alpha", test_png_alpha) || !CU_add_test(s, "frames_range", test_frames_range) ||
        !CU_add_test(s, "threads_identical", test_threads_identical) ||
        !CU_add_test(s, "png_sequence", test_png_sequence) || !CU_add_test(s, "containers", test_containers) ||
        !CU_add_test(s, "memory_bounded", test_memory_bounded) ||
        !CU_add_test(s, "chapters_subtitles", test_chapters_subtitles) || !CU_add_test(s, "join", test_join) || !CU_add_test(s, "reader_api", test_reader_api))
        return -1;
    return 0;
}
