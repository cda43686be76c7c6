/* audio: what the writer does with the input's audio and side data (issue 18
 * items 4 and 5, issue 20 item 8), on the real tools with ffmpeg/ffprobe as
 * the oracle:
 *   - audio the container cannot hold is re-encoded (AC3 into .webm gives
 *     Opus, Vorbis into .mov gives AAC) with a one-line note; AAC into .mp4
 *     is a stream copy (the same packets); --audio drop writes no audio;
 *     --audio copy into a container that cannot hold the codec exits 2
 *     before any work, in --dry-run too;
 *   - --frames cuts the audio to the video's span within one audio frame
 *     (stream copy and re-encoded, aie-upscale and aie-interp), and a full
 *     run keeps audio and video the same length;
 *   - a WebM whose audio timestamps go backwards (block timecodes patched
 *     here) is written, the repaired packets counted in a warning and in
 *     run_end packets_fixed;
 *   - HDR10 side data of an x265 input reaches .mp4 and .mkv (also when
 *     aie-upscale changes the size); a rotation survives into .mp4 and .mkv
 *     says it is lost. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aie/error.h"
#include "aie/io.h"
#include "aie/pipeline.h"
#include "faults.h"
#include "tests.h"

static char dir[1024];
static char bin[1024];
static char out[1 << 16];
static int have_media;

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
    char cmd[8000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return tests_run(out, sizeof(out), "cd '%s' && %s", dir, cmd);
}

static unsigned char *slurp(const char *name, size_t *n)
{
    char p[1536];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = len > 0 ? malloc((size_t)len) : NULL;
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return b;
}

static int spill(const char *name, const unsigned char *b, size_t n)
{
    char p[1536];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f)
        return -1;
    int ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* ---- a WebM with damaged audio timestamps: EBML walked, the timecodes of
 * some audio blocks moved back ---- */

static int ebml_len(const unsigned char *b, size_t i, size_t n)
{
    if (i >= n || !b[i])
        return 0;
    int l = 1;
    for (unsigned m = 0x80; !(b[i] & m); m >>= 1)
        l++;
    return i + (size_t)l <= n ? l : 0;
}

static uint64_t ebml_vint(const unsigned char *b, size_t i, int l)
{
    uint64_t v = b[i] & (0xffu >> l);
    for (int k = 1; k < l; k++)
        v = v << 8 | b[i + (size_t)k];
    return v;
}

/* Move the block timecodes of the `track` blocks numbered first..last
 * (1-based) back by `back` ticks; returns how many were moved. */
static int patch_blocks(unsigned char *b, size_t s, size_t e, int track, int first, int last, int back, int *count)
{
    int moved = 0;
    size_t i = s;
    while (i < e) {
        int il = ebml_len(b, i, e);
        int sl = il ? ebml_len(b, i + (size_t)il, e) : 0;
        if (!il || !sl)
            break;
        uint64_t id = 0;
        for (int k = 0; k < il; k++)
            id = id << 8 | b[i + (size_t)k];
        uint64_t size = ebml_vint(b, i + (size_t)il, sl);
        size_t body = i + (size_t)il + (size_t)sl;
        if (size == (UINT64_C(1) << (7 * sl)) - 1 || body + size > e)
            size = e - body; /* unknown size: to the end of the parent */
        if (id == 0x18538067 || id == 0x1F43B675 || id == 0xA0) { /* Segment, Cluster, BlockGroup */
            moved += patch_blocks(b, body, body + size, track, first, last, back, count);
        } else if (id == 0xA3 || id == 0xA1) { /* SimpleBlock, Block */
            int tl = ebml_len(b, body, e);
            if (tl && (int)ebml_vint(b, body, tl) == track) {
                ++*count;
                if (*count >= first && *count <= last) {
                    size_t p = body + (size_t)tl;
                    int tc = (int16_t)(b[p] << 8 | b[p + 1]);
                    tc -= back;
                    b[p] = (unsigned char)((tc >> 8) & 0xff);
                    b[p + 1] = (unsigned char)(tc & 0xff);
                    moved++;
                }
            }
        }
        i = body + size;
    }
    return moved;
}

/* The tkhd matrix of an mp4 set to a 90 degree rotation. */
static int rotate_mp4(const char *in, const char *outname)
{
    size_t n;
    unsigned char *b = slurp(in, &n);
    if (!b)
        return -1;
    static const unsigned char ident[36] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
                                            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0};
    static const unsigned char rot[36] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0,
                                          0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0};
    int rc = -1;
    for (size_t i = 0; i + 4 <= n && rc; i++) {
        if (memcmp(b + i, "tkhd", 4))
            continue;
        for (size_t j = i; j + 36 <= n && j < i + 120; j++)
            if (!memcmp(b + j, ident, 36)) {
                memcpy(b + j, rot, 36);
                rc = 0;
                break;
            }
    }
    if (!rc)
        rc = spill(outname, b, n);
    free(b);
    return rc;
}

static int suite_init(void)
{
    if (tests_suite_dirs("audio", bin, sizeof(bin), dir, sizeof(dir)))
        return 1;
    if (!tests_have_ffmpeg())
        return 0;
    /* x264 with its B-frames: the decoder holds frames back while the
     * demuxer reads on, which is what carried audio past a --frames range */
    have_media =
        sh("V='-f lavfi -i testsrc=size=160x120:rate=25'; "
           "ffmpeg -v error -y $V -f lavfi -i sine=frequency=440:sample_rate=48000 -t 4 -c:v libx264 -c:a ac3 ac3.mkv && "
           "ffmpeg -v error -y $V -f lavfi -i sine=frequency=440:sample_rate=44100 -t 3 -c:v libx264 -c:a libvorbis vorbis.mkv && "
           "ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=30000/1001 -f lavfi -i sine=frequency=440:sample_rate=48000 "
           "-t 5 -c:v libx264 -c:a aac aac.mp4 && "
           "ffmpeg -v error -y $V -f lavfi -i sine=frequency=440:sample_rate=48000 -t 2 -c:v libvpx-vp9 -deadline realtime "
           "-c:a libopus ok.webm && "
           "ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=25:d=0.4 -pix_fmt yuv420p10le -c:v libx265 "
           "-x265-params 'log-level=error:hdr10=1:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:"
           "master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400' hdr.mkv && "
           "ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=25:d=0.4 -c:v libx264 plain.mp4 && "
           "ffmpeg -v error -y $V -f lavfi -i 'sine=f=440:r=48000,pan=5.1(side)|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0' "
           "-t 1 -c:v libx264 -c:a ac3 ac3_51.mkv") == 0;
    if (have_media)
        have_media = rotate_mp4("plain.mp4", "rot.mp4") == 0;
    if (!have_media)
        fprintf(stderr, "\n  audio: cannot make the test media: %s\n", out);
    return 0;
}

#define NEED_MEDIA(name)                                                                           \
    do {                                                                                           \
        if (!have_media) {                                                                         \
            tests_skip(name, "ffmpeg/ffprobe (with libx265, libvorbis, libopus) are not available"); \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* The codec names of a file's streams of one type ("a" or "v"), one per line. */
static const char *codecs(const char *file, const char *sel)
{
    static char buf[sizeof(out)];
    if (sh("ffprobe -v error -select_streams %s -show_entries stream=codec_name -of csv=p=0 %s", sel, file) != 0)
        return "?";
    snprintf(buf, sizeof(buf), "%s", out);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = 0;
    return buf;
}

/* Seconds a stream covers from the output's time 0: the container's stream
 * duration where it has one (MP4, MOV: edit lists included), else the end
 * of the last packet minus the later of 0 and the first packet's start. */
static double duration(const char *file, const char *sel)
{
    if (sh("ffprobe -v error -select_streams %s -show_entries stream=duration -of csv=p=0 %s", sel, file) == 0 &&
        out[0] >= '0' && out[0] <= '9')
        return atof(out);
    if (sh("ffprobe -v error -select_streams %s -show_entries packet=pts_time,duration_time -of csv=p=0 %s | "
           "awk -F, 'NR==1{mn=$1} {if($1<mn)mn=$1; e=$1+$2; if(e>mx)mx=e} END{if(mn<0)mn=0; printf \"%%.6f\", mx-mn}'",
           sel, file) != 0)
        return -1;
    return atof(out);
}

/* The length of one audio frame of the file's audio (its most common packet
 * duration). */
static double audio_frame(const char *file)
{
    if (sh("ffprobe -v error -select_streams a -show_entries packet=duration_time -of csv=p=0 %s | "
           "awk -F, '$1!=\"\"{n[$1]++} END{for(k in n) if(n[k]>m){m=n[k]; b=k}; print b}'",
           file) != 0)
        return -1;
    return atof(out);
}

/* Audio and video of file cover the same span within one audio frame. */
static void check_span(const char *file, double want)
{
    double v = duration(file, "v"), a = duration(file, "a"), fr = audio_frame(file);
    CU_ASSERT(fr > 0.001 && fr < 0.2);
    if (want > 0)
        CU_ASSERT(fabs(v - want) < 0.002);
    CU_ASSERT(v > 0 && a > 0 && fabs(a - v) <= fr + 1e-4);
    if (!(v > 0 && a > 0 && fabs(a - v) <= fr + 1e-4))
        fprintf(stderr, "\n  %s: video %.4f s, audio %.4f s, one audio frame %.4f s\n", file, v, a, fr);
}

/* Run TOOL_ARGS (tool and options) on IN into OUT; the note names the
 * re-encoding, and OUT's audio is CODEC at RATE Hz spanning the video. */
static void check_reencoded(const char *tool_args, const char *in, const char *outname, const char *note,
                            const char *codec, int rate, double span)
{
    CU_ASSERT_EQUAL(sh("%s/%s -i %s -o %s 2>&1", bin, tool_args, in, outname), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, note));
    CU_ASSERT_STRING_EQUAL(codecs(outname, "a"), codec);
    CU_ASSERT_EQUAL(sh("ffprobe -v error -select_streams a -show_entries stream=sample_rate -of csv=p=0 %s", outname), 0);
    CU_ASSERT_EQUAL(atoi(out), rate);
    check_span(outname, span);
}

static void test_reencode(void)
{
    NEED_MEDIA("audio/reencode");
    /* AC3 cannot go into WebM: Opus, with one line saying so */
    check_reencoded("aie-upscale -s 1", "ac3.mkv", "ac3.webm", "cannot hold ac3 audio: re-encoded to libopus", "opus",
                    48000, 4.0);
    /* Vorbis cannot go into MOV: AAC (44.1 kHz kept) */
    check_reencoded("aie-style --look toon", "vorbis.mkv", "vorbis.mov", "cannot hold vorbis audio: re-encoded to aac",
                    "aac", 44100, 3.0);
    /* 5.1 (side) AC3: Opus takes the Vorbis order (5.1 with back channels),
     * which the resampler remaps to (ffmpeg itself refuses this one) */
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -q -s 1 -i ac3_51.mkv -o ac3_51.webm 2>&1", bin), 0);
    CU_ASSERT_EQUAL(sh("ffprobe -v error -select_streams a -show_entries stream=codec_name,channels -of csv=p=0 "
                       "ac3_51.webm"), 0);
    CU_ASSERT_STRING_EQUAL(out, "opus,6\n");
    /* --audio encode re-encodes what could be copied */
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -q -s 1 --audio encode -i ac3.mkv -o enc.mkv 2>&1", bin), 0);
    CU_ASSERT_STRING_EQUAL(codecs("enc.mkv", "a"), "opus");
    check_span("enc.mkv", 4.0);
}

static void test_copy(void)
{
    NEED_MEDIA("audio/copy");
    /* AAC into MP4 is a stream copy: the same packets, bit for bit */
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -s 2 -i aac.mp4 -o copy.mp4 2>&1", bin), 0);
    CU_ASSERT_PTR_NULL(strstr(out, "re-encoded"));
    CU_ASSERT_STRING_EQUAL(codecs("copy.mp4", "a"), "aac");
    CU_ASSERT_EQUAL(sh("for f in aac.mp4 copy.mp4; do ffmpeg -v error -i $f -map 0:a -c copy -f framemd5 - | "
                       "grep -v '^#' | awk -F, '{print $5 $6}' | md5sum; done | uniq | wc -l"), 0);
    CU_ASSERT_EQUAL(atoi(out), 1);
    CU_ASSERT_EQUAL(sh("ffmpeg -v error -i copy.mp4 -map 0:a -c copy -f framemd5 - | grep -vc '^#'"), 0);
    CU_ASSERT(atoi(out) > 200); /* 5 s of 1024-sample frames at 48 kHz */
    check_span("copy.mp4", 0);
    /* --audio copy says the same */
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -q -s 1 --audio copy -i aac.mp4 -o copy2.mkv", bin), 0);
    CU_ASSERT_STRING_EQUAL(codecs("copy2.mkv", "a"), "aac");
}

static void test_drop_and_refuse(void)
{
    NEED_MEDIA("audio/drop_and_refuse");
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -q -s 1 --audio drop -i ac3.mkv -o drop.mp4", bin), 0);
    CU_ASSERT_STRING_EQUAL(codecs("drop.mp4", "a"), "");
    CU_ASSERT_STRING_EQUAL(codecs("drop.mp4", "v"), "h264");
    CU_ASSERT_EQUAL(sh("%s/aie-interp -q --fps 50 --audio drop -i ac3.mkv -o drop.webm", bin), 0);
    CU_ASSERT_STRING_EQUAL(codecs("drop.webm", "a"), "");
    /* --audio copy that cannot be done: exit 2, one line naming codec and
     * container, no output, before any work (the --dry-run too) */
    static const char *const tools[] = {"aie-upscale -s 1", "aie-style --look toon", "aie-interp --fps 50"};
    for (size_t t = 0; t < 3; t++) {
        for (int dry = 0; dry < 2; dry++) {
            CU_ASSERT_EQUAL(sh("%s/%s --audio copy -i ac3.mkv -o refused.webm%s 2>&1", bin, tools[t],
                               dry ? " --dry-run" : ""), 2);
            CU_ASSERT_PTR_NOT_NULL(strstr(out, "webm container cannot hold ac3 audio"));
            CU_ASSERT_PTR_NOT_NULL(strstr(out, "Try '"));
            CU_ASSERT_EQUAL(sh("ls -a | grep -c refused"), 1); /* grep found nothing */
        }
    }
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -s 1 --audio copy -i vorbis.mkv -o refused.mov 2>&1", bin), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "mov container cannot hold vorbis audio"));
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -s 1 --audio sometimes -i ac3.mkv -o x.mp4 2>&1", bin), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--audio: expected auto, copy, encode or drop"));
    /* --dry-run tells what will happen */
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -s 1 --dry-run --json -i ac3.mkv -o plan.webm", bin), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"audio_plan\": \"encode ac3 -> libopus\""));
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -s 1 --dry-run --json -i aac.mp4 -o plan.mkv", bin), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"audio_plan\": \"copy aac\""));
}

/* --frames: the audio kept covers the video's span within one audio frame. */
static void test_frames_span(void)
{
    NEED_MEDIA("audio/frames_span");
    static const struct {
        const char *tool, *in, *range, *outname;
        double video;
    } runs[] = {
        {"aie-upscale -s 1", "aac.mp4", "0-59", "span_copy0.mp4", 2.002}, /* stream copy */
        {"aie-upscale -s 1", "aac.mp4", "60-119", "span_copy60.mp4", 2.002},
        {"aie-style --look toon", "aac.mp4", "30-89", "span_style.mov", 2.002},
        {"aie-upscale -s 1", "ac3.mkv", "25-74", "span_enc.webm", 2.0}, /* re-encoded */
        {"aie-upscale -s 1 --audio encode", "aac.mp4", "60-119", "span_enc.mp4", 2.002},
        {"aie-interp --fps 50", "ac3.mkv", "25-74", "span_interp.webm", 0}, /* the rate changes */
        {"aie-interp --fps 50", "aac.mp4", "60-119", "span_interp.mp4", 0},
    };
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        int rc = sh("%s/%s -q --frames %s -i %s -o %s 2>&1", bin, runs[i].tool, runs[i].range, runs[i].in,
                    runs[i].outname);
        CU_ASSERT_EQUAL(rc, 0);
        if (rc)
            fprintf(stderr, "\n  %s: %s\n", runs[i].outname, out);
        check_span(runs[i].outname, runs[i].video);
    }
}

static void test_damaged_timestamps(void)
{
    NEED_MEDIA("audio/damaged_timestamps");
    size_t n;
    unsigned char *b = slurp("ok.webm", &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    int count = 0;
    /* audio blocks 30 to 33 go 300 ms back, behind the blocks before them */
    int moved = patch_blocks(b, 0, n, 2, 30, 33, 300, &count);
    CU_ASSERT_EQUAL(moved, 4);
    CU_ASSERT_EQUAL(spill("bad.webm", b, n), 0);
    free(b);
    /* the demuxer hands them out as they are: the damage is there */
    CU_ASSERT_EQUAL(sh("ffprobe -v error -select_streams a -show_entries packet=pts -of csv=p=0 bad.webm | "
                       "awk -F, '$1==\"\"{next} k++ && $1+0<p{d++} {p=$1+0} END{print d+0}'"), 0);
    CU_ASSERT(atoi(out) >= 1);
    for (int e = 0; e < 2; e++) {
        const char *o = e ? "fixed.mkv" : "fixed.webm";
        int rc = sh("rm -f m.jsonl; %s/aie-upscale -s 1 --metrics m.jsonl -i bad.webm -o %s 2>&1", bin, o);
        CU_ASSERT_EQUAL(rc, 0);
        if (rc)
            fprintf(stderr, "\n  %s: %s\n", o, out);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "packets with non-monotonic timestamps repaired"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "stream #1, opus audio"));
        const char *w = strstr(out, "warning: bad.webm: ");
        int fixed = w ? atoi(w + strlen("warning: bad.webm: ")) : 0;
        CU_ASSERT(fixed >= 4);
        CU_ASSERT_EQUAL(sh("grep -o '\"packets_fixed\":[0-9]*' m.jsonl"), 0);
        CU_ASSERT_EQUAL(atoi(out + strlen("\"packets_fixed\":")), fixed);
        /* the output's audio timestamps never go back */
        CU_ASSERT_EQUAL(sh("ffprobe -v error -select_streams a -show_entries packet=dts -of csv=p=0 %s | "
                           "awk -F, '$1==\"\"{next} k++ && $1+0<p{d++} {p=$1+0} END{print d+0}'", o), 0);
        CU_ASSERT_EQUAL(atoi(out), 0);
    }
    /* aie-stats reads the record with the new field */
    CU_ASSERT_EQUAL(sh("%s/aie-stats m.jsonl >/dev/null", bin), 0);
    /* an undamaged run records none */
    CU_ASSERT_EQUAL(sh("rm -f m.jsonl; %s/aie-upscale -q -s 1 --metrics m.jsonl -i ok.webm -o fine.webm && "
                       "grep -o '\"packets_fixed\":[0-9]*' m.jsonl", bin), 0);
    CU_ASSERT_STRING_EQUAL(out, "\"packets_fixed\":0\n");
}

/* A carried packet the muxer still refuses after the timestamp repair is
 * named by its input stream, codec and packet number, not blamed on the
 * output as "write failed"; nothing is left behind. */
static void test_refused_packet(void)
{
    NEED_MEDIA("audio/refused_packet");
    char in[1200], o[1200], err[AIE_ERRBUF_SIZE] = "";
    snprintf(in, sizeof(in), "%s/ok.webm", dir);
    snprintf(o, sizeof(o), "%s/refused.mkv", dir);
    AieReader *r = NULL;
    AieWriter *w = NULL;
    AiePool *pool = NULL;
    AieReaderOpts ro = {.last = -1};
    AieWriterOpts wo = {.crf = -1, .png_compression = -1, .codec = "ffv1"};
    int e = aie_reader_open(&r, in, &ro, err, sizeof(err));
    CU_ASSERT_EQUAL_FATAL(e, 0);
    CU_ASSERT_EQUAL_FATAL(aie_reader_info(r)->audio_streams, 1);
    e = aie_writer_open(&w, o, aie_reader_info(r), r, &wo, err, sizeof(err));
    CU_ASSERT_EQUAL_FATAL(e, 0);
    CU_ASSERT_EQUAL_FATAL(aie_pool_create(&pool, 2), 0);
    faults_mux_refuse(1, 5); /* the 5th audio packet */
    AiePipelineCallbacks cb = {.process = tests_copy_job};
    AiePipelineOpts po = {.pool = pool};
    AiePipelineStats st;
    e = aie_pipeline_run(r, w, &cb, &po, &st, err, sizeof(err));
    if (!e)
        e = aie_writer_finish(w);
    faults_mux_refuse(0, 0);
    const char *m = err[0] ? err : aie_writer_error(w);
    CU_ASSERT_NOT_EQUAL(e, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(m, "ok.webm: stream #1 (opus audio) packet "));
    CU_ASSERT_PTR_NOT_NULL(strstr(m, "cannot be written to"));
    CU_ASSERT_PTR_NULL(strstr(m, "write failed"));
    if (!strstr(m, "stream #1"))
        fprintf(stderr, "\n  message: %s\n", m);
    aie_writer_close(&w);
    aie_pool_destroy(&pool);
    aie_reader_close(&r);
    CU_ASSERT(!tests_exists(o));
    CU_ASSERT_EQUAL(sh("ls -a | grep -c 'refused.mkv.*tmp'"), 1); /* grep: no match */
}

/* aie-batch --join takes --audio drop as --no-audio: no audio is copied
 * from the source into the joined output. */
static void test_batch_join_drop(void)
{
    NEED_MEDIA("audio/batch_join_drop");
    CU_ASSERT_EQUAL(sh("printf '%%s\\n' '%s/aie-upscale -s 1 --audio drop -i ac3.mkv -o joined.mkv' "
                       "'%s/aie-upscale -s 1 --audio=drop -i ac3.mkv -o joined2.mkv' > jobs && "
                       "%s/aie-batch -j 2 --chunks 2 --join jobs 2>&1", bin, bin, bin), 0);
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(sh("ffprobe -v error -show_entries stream=codec_type -of csv=p=0 %s | tr '\\n' ' '",
                           i ? "joined2.mkv" : "joined.mkv"), 0);
        CU_ASSERT_STRING_EQUAL(out, "video ");
    }
}

/* aie-batch --join re-encodes source audio the joined container cannot
 * hold (AC3 into WebM: Opus), over the whole duration, instead of dropping it. */
static void test_batch_join_encode(void)
{
    NEED_MEDIA("audio/batch_join_encode");
    CU_ASSERT_EQUAL(sh("printf '%%s\\n' '%s/aie-upscale -s 1 -i ac3.mkv -o joinenc.webm' > jobs && "
                       "%s/aie-batch -j 2 --chunks 2 --join jobs 2>&1", bin, bin), 0);
    CU_ASSERT_EQUAL(sh("ffprobe -v error -show_entries stream=codec_name -of csv=p=0 joinenc.webm | tr '\\n' ' '"), 0);
    CU_ASSERT_STRING_EQUAL(out, "vp9 opus ");
    /* the audio reaches the end of the video, within one Opus frame (20 ms) */
    CU_ASSERT_EQUAL(sh("a=$(ffprobe -v error -select_streams a:0 -show_entries packet=pts_time,duration_time -of csv=p=0 "
                       "joinenc.webm | awk -F, 'NF >= 2 && $1 != \"\" {e = $1 + $2} END {print e}'); "
                       "v=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 joinenc.webm "
                       "| sort -g | tail -n 1); awk -v a=$a -v v=$v 'BEGIN {d = a - (v + 0.04); "
                       "print (d < 0 ? -d : d) <= 0.021 ? \"ok\" : \"audio \" a \" video \" v}'"), 0);
    CU_ASSERT_STRING_EQUAL(out, "ok\n");
    CU_ASSERT_EQUAL(sh("ffmpeg -v error -i joinenc.webm -f null - 2>&1 | wc -l"), 0);
    CU_ASSERT_STRING_EQUAL(out, "0\n");
}

static void test_side_data(void)
{
    NEED_MEDIA("audio/side_data");
    /* HDR10: the x265 input has it in SEI messages; the outputs' containers
     * carry it, at the input's size and at twice the size */
    static const char *const outs[] = {"hdr_out.mp4", "hdr_out.mkv"};
    for (int i = 0; i < 2; i++) {
        for (int s = 1; s <= 2; s++) {
            CU_ASSERT_EQUAL(sh("%s/aie-upscale -q -s %d --depth 10 -i hdr.mkv -o %s", bin, s, outs[i]), 0);
            CU_ASSERT_EQUAL(sh("ffprobe -v error -show_streams %s", outs[i]), 0);
            CU_ASSERT_PTR_NOT_NULL(strstr(out, "side_data_type=Mastering display metadata"));
            CU_ASSERT_PTR_NOT_NULL(strstr(out, "side_data_type=Content light level metadata"));
            CU_ASSERT_PTR_NOT_NULL(strstr(out, "max_content=1000"));
            CU_ASSERT_PTR_NOT_NULL(strstr(out, "max_average=400"));
            CU_ASSERT_PTR_NOT_NULL(strstr(out, "min_luminance=1/10000"));
            CU_ASSERT_PTR_NOT_NULL(strstr(out, "color_transfer=smpte2084"));
            CU_ASSERT(strstr(out, "width=320") != NULL || s == 1);
        }
    }
    /* rotation: the input really is rotated, .mp4 keeps it */
    CU_ASSERT_EQUAL(sh("ffprobe -v error -show_streams rot.mp4 | grep -c 'rotation=-90'"), 0);
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -s 2 -i rot.mp4 -o rot2.mp4 2>&1", bin), 0);
    CU_ASSERT_PTR_NULL(strstr(out, "rotation"));
    CU_ASSERT_EQUAL(sh("ffprobe -v error -show_streams rot2.mp4 | grep -c 'rotation=-90'"), 0);
    /* .mkv keeps it, or one line says it is lost */
    CU_ASSERT_EQUAL(sh("%s/aie-upscale -s 2 -i rot.mp4 -o rot2.mkv 2>&1", bin), 0);
    int warned = strstr(out, "cannot record the input's rotation (90 degrees)") != NULL;
    int kept = sh("ffprobe -v error -show_streams rot2.mkv | grep -c 'rotation=-90'") == 0;
    CU_ASSERT(warned != kept);
}

int test_audio_register(void)
{
    CU_pSuite s = CU_add_suite("audio", suite_init, NULL);
    if (!s || !CU_add_test(s, "reencode", test_reencode) || !CU_add_test(s, "copy", test_copy) ||
        !CU_add_test(s, "drop_and_refuse", test_drop_and_refuse) ||
        !CU_add_test(s, "frames_span", test_frames_span) ||
        !CU_add_test(s, "damaged_timestamps", test_damaged_timestamps) ||
        !CU_add_test(s, "refused_packet", test_refused_packet) ||
        !CU_add_test(s, "batch_join_drop", test_batch_join_drop) ||
        !CU_add_test(s, "batch_join_encode", test_batch_join_encode) || !CU_add_test(s, "side_data", test_side_data))
        return -1;
    return 0;
}
