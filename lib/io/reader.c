/* aie_reader_*: demux + decode the best video stream, carry the other streams'
 * packets along with the frames, honour a --frames range. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/avstring.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>

#include "io_internal.h"
#include "png.h"

enum { MODE_AV, MODE_PNG_STILL, MODE_PNG_SEQ };

struct AieReader {
    int mode;
    char path[PATH_MAX];
    AieReaderOpts o;
    AieVideoInfo info;
    char err[AIE_ERRBUF_SIZE];
    ReaderSource src;

    /* libav */
    AVFormatContext *fmt;
    AVIOContext *pipe_pb; /* our own for pipes and FIFOs (reads that a cancel can stop) */
    int pipe_fd, pipe_own;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *avf;
    Converter conv;
    int vidx;
    int demux_eof, flushed, range_done, demux_error;
    int64_t decoded;    /* video frames out of the decoder, selected or not */
    int64_t decode_errors;  /* packets or frames the decoder refused (lost) */
    int64_t concealed;      /* frames decoded with errors the decoder concealed */
    int64_t index_frames;   /* video packets in the container's index at open, 0 if none */
    int64_t last_pts;   /* last decoded video pts (input time base) */
    int64_t vpackets, first_vpos; /* video packets read, position of the first */
    int64_t first_pts, last_dur;  /* first decoded pts, duration of the last frame */
    int started;
    AuxList *aux_pending;
    int *carry;         /* per input stream: carry its packets */
    AieFrame *held;     /* one frame of lookahead, to attach trailing packets */
    int warned_interlace, warned_damage;
    int seeked;         /* aie_reader_seek() moved: no aux packets, no loss accounting */
    int resync;         /* the next decoded frame sets the frame count from its time */

    /* PNG */
    AieFrame *still;
    int seq_next, seq_last, seq_start;

    int64_t returned;   /* frames handed to the caller */
    int64_t lost;
    int finished;
};

#define warn(r, ...) aie_warnf((r)->o.warn, (r)->o.warn_opaque, __VA_ARGS__)

int aie_io_is_pattern(const char *name)
{
    const char *p = strchr(name, '%');
    while (p) {
        const char *q = p + 1;
        while (*q >= '0' && *q <= '9')
            q++;
        if (*q == 'd')
            return 1;
        p = strchr(q, '%');
    }
    return 0;
}

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && !av_strcasecmp(path + n - e, ext);
}

static int interrupt_cb(void *opaque)
{
    AieReader *r = opaque;
    return aie_cancel_requested(r->o.cancel) != 0;
}

/* ---- pipes, FIFOs, sockets and terminals ----
 * A read on them can wait for ever (a producer that stalls or never starts),
 * and libavformat's interrupt callback is only asked between reads: they are
 * read through our own AVIOContext that polls, so a cancel ends the wait
 * within 100 ms. A FIFO is opened O_NONBLOCK (the open itself would wait for
 * a writer); poll then waits for data, and reports a hang-up only once a
 * writer came and went. */

static int pipe_read(void *opaque, uint8_t *buf, int n)
{
    AieReader *r = opaque;
    for (;;) {
        if (aie_cancel_requested(r->o.cancel))
            return AVERROR_EXIT;
        struct pollfd p = {.fd = r->pipe_fd, .events = POLLIN};
        int pr = poll(&p, 1, 100);
        if (pr < 0 && errno != EINTR)
            return AVERROR(errno);
        if (pr <= 0)
            continue;
        ssize_t got = read(r->pipe_fd, buf, (size_t)n);
        if (got > 0)
            return (int)got;
        if (got == 0)
            return AVERROR_EOF;
        if (errno != EINTR && errno != EAGAIN)
            return AVERROR(errno);
    }
}

/* Use our AVIOContext when url is standard input or not a regular file. 0
 * when not needed or set up, else an AIE_E* code. */
static int open_pipe(AieReader *r)
{
    r->pipe_fd = -1;
    struct stat st;
    if (!strcmp(r->path, "-")) {
        r->pipe_fd = STDIN_FILENO;
    } else if (stat(r->path, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode))) {
        if ((r->pipe_fd = open(r->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
            int e = errno;
            aie_errf(r->err, sizeof(r->err), "%s: %s", r->path, strerror(e));
            return aie_error_from_errno(e);
        }
        r->pipe_own = 1;
    } else {
        return 0;
    }
    enum { SIZE = 1 << 16 };
    unsigned char *buf = av_malloc(SIZE);
    if (!buf || !(r->pipe_pb = avio_alloc_context(buf, SIZE, 0, r, pipe_read, NULL, NULL))) {
        av_free(buf);
        return AIE_ENOMEM;
    }
    r->fmt->pb = r->pipe_pb;
    return 0;
}

/* ---- PNG still and sequences (libpng) ---- */

static void seq_name(const AieReader *r, int n, char *buf, size_t size)
{
    /* the pattern was validated to hold exactly one integer conversion */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(buf, size, r->path, n);
#pragma GCC diagnostic pop
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void fill_png_info(AieReader *r, const AieFrame *f, int64_t nframes, const char *container)
{
    AieVideoInfo *v = &r->info;
    v->width = f->width;
    v->height = f->height;
    v->layout = f->layout;
    v->depth = f->depth;
    AieRational fps = r->o.seq_fps.num > 0 && r->o.seq_fps.den > 0 ? r->o.seq_fps : (AieRational){25, 1};
    v->fps = fps;
    v->time_base = (AieRational){fps.den, fps.num};
    v->sar = f->sar;
    v->color = f->color;
    v->nb_frames = nframes;
    v->duration_us = (int64_t)((double)nframes * fps.den / fps.num * 1e6);
    v->still = nframes == 1;
    snprintf(v->codec, sizeof(v->codec), "png");
    static const char *const names[2][3] = {{"gray", "rgb24", "rgba"},
                                            {"gray16be", "rgb48be", "rgba64be"}};
    int l = f->layout == AIE_LAYOUT_GRAY ? 0 : f->layout == AIE_LAYOUT_RGB ? 1 : 2;
    snprintf(v->pix_fmt, sizeof(v->pix_fmt), "%s", names[f->depth > 8][l]);
    snprintf(v->container, sizeof(v->container), "%s", container);
}

static int count_frames_in_range(AieReader *r, int64_t total)
{
    int64_t first = r->o.first, last = r->o.last;
    if (first >= total) {
        aie_errf(r->err, sizeof(r->err), "%s: --frames starts at %lld but the input has %lld frames",
                 r->path, (long long)first, (long long)total);
        return AIE_EINVAL;
    }
    int64_t end = last < 0 || last >= total ? total - 1 : last;
    r->info.nb_frames = end - first + 1;
    return 0;
}

static int open_png_seq(AieReader *r)
{
    char name[PATH_MAX];
    int start = -1;
    for (int n = 0; n <= 4 && start < 0; n++) {
        seq_name(r, n, name, sizeof(name));
        if (file_exists(name))
            start = n;
    }
    if (start < 0) {
        seq_name(r, 1, name, sizeof(name));
        aie_errf(r->err, sizeof(r->err), "%s: no such file (PNG sequence, tried numbers 0 to 4)", name);
        return AIE_ENOENT;
    }
    int last = start;
    for (;;) {
        seq_name(r, last + 1, name, sizeof(name));
        if (!file_exists(name))
            break;
        last++;
    }
    seq_name(r, start, name, sizeof(name));
    AieFrame *f;
    char e[256] = "";
    int err = aie_png_read_file(name, &f, e, sizeof(e));
    if (err) {
        aie_errf(r->err, sizeof(r->err), "%s: %s", name, *e ? e : aie_strerror(err));
        return err;
    }
    fill_png_info(r, f, last - start + 1, "png-sequence");
    aie_frame_unref(&f);
    if ((err = count_frames_in_range(r, last - start + 1)))
        return err;
    r->seq_start = start;
    r->seq_next = start + (int)r->o.first;
    r->seq_last = r->o.last >= 0 && start + r->o.last < last ? start + (int)r->o.last : last;
    r->mode = MODE_PNG_SEQ;
    return 0;
}

static int open_png_still(AieReader *r)
{
    char e[256] = "";
    int err = aie_png_read_file(r->path, &r->still, e, sizeof(e));
    if (err) {
        aie_errf(r->err, sizeof(r->err), "%s: %s", r->path, *e ? e : aie_strerror(err));
        return err;
    }
    fill_png_info(r, r->still, 1, "png");
    if ((err = count_frames_in_range(r, 1)))
        return err;
    r->mode = MODE_PNG_STILL;
    return 0;
}

static int read_png(AieReader *r, AieFrame **out)
{
    AieFrame *f = NULL;
    int64_t idx = r->returned;
    if (r->mode == MODE_PNG_STILL) {
        if (!r->still)
            return AIE_EOF;
        f = r->still;
        r->still = NULL;
    } else {
        if (r->seq_next > r->seq_last)
            return AIE_EOF;
        char name[PATH_MAX], e[256] = "";
        seq_name(r, r->seq_next, name, sizeof(name));
        int err = aie_png_read_file(name, &f, e, sizeof(e));
        if (err) {
            aie_errf(r->err, sizeof(r->err), "%s: %s", name, *e ? e : aie_strerror(err));
            return err;
        }
        if (f->width != r->info.width || f->height != r->info.height || f->layout != r->info.layout ||
            f->depth != r->info.depth) {
            aie_errf(r->err, sizeof(r->err), "%s: %dx%d %s differs from the first frame (%dx%d %s)",
                     name, f->width, f->height, aie_layout_name(f->layout), r->info.width,
                     r->info.height, aie_layout_name(r->info.layout));
            aie_frame_unref(&f);
            return AIE_EUNSUP;
        }
        r->seq_next++;
    }
    f->pts = idx;
    f->duration = 1;
    f->time_base = r->info.time_base;
    f->index = idx;
    r->returned++;
    *out = f;
    return 0;
}

/* ---- libavformat / libavcodec ---- */

static int open_av(AieReader *r)
{
    char ebuf[AV_ERROR_MAX_STRING_SIZE];
    const char *url = !strcmp(r->path, "-") ? "pipe:0" : r->path;
    r->fmt = avformat_alloc_context();
    if (!r->fmt)
        return AIE_ENOMEM;
    r->fmt->interrupt_callback.callback = interrupt_cb;
    r->fmt->interrupt_callback.opaque = r;
    int ret = open_pipe(r);
    if (ret)
        return ret;
    ret = avformat_open_input(&r->fmt, url, NULL, NULL);
    if (ret == AVERROR(EBUSY)) {
        /* libavformat's y4m demuxer returns the size error of a header whose
         * picture av_image_check_size() refuses plus 6, i.e. AVERROR(EBUSY) */
        aie_errf(r->err, sizeof(r->err), "%s: the picture size in the header is invalid or far over the %d pixel limit",
                 r->path, AIE_MAX_DIM);
        return AIE_ETOOBIG;
    }
    if (ret < 0) {
        int err = aie_io_averror(ret);
        if (err == AIE_EFORMAT || err == AIE_EUNSUP)
            aie_errf(r->err, sizeof(r->err), "%s: not a media file libavformat can read (%s)", r->path,
                     aie_io_averr_str(ret, ebuf));
        else
            aie_errf(r->err, sizeof(r->err), "%s: %s", r->path, aie_io_averr_str(ret, ebuf));
        return err == AIE_EUNSUP ? AIE_EFORMAT : err;
    }
    if ((ret = avformat_find_stream_info(r->fmt, NULL)) < 0) {
        aie_errf(r->err, sizeof(r->err), "%s: cannot read stream information (%s)", r->path,
                 aie_io_averr_str(ret, ebuf));
        return AIE_EFORMAT;
    }
    const AVCodec *codec = NULL;
    r->vidx = av_find_best_stream(r->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (r->vidx < 0) {
        aie_errf(r->err, sizeof(r->err), "%s: %s", r->path,
                 r->vidx == AVERROR_DECODER_NOT_FOUND ? "no decoder for its video stream"
                                                     : "has no video stream");
        return r->vidx == AVERROR_DECODER_NOT_FOUND ? AIE_EUNSUP : AIE_EFORMAT;
    }
    AVStream *st = r->fmt->streams[r->vidx];
    AVCodecParameters *par = st->codecpar;
    if (par->width > AIE_MAX_DIM || par->height > AIE_MAX_DIM) {
        aie_errf(r->err, sizeof(r->err), "%s: %dx%d is larger than %d pixels on a side", r->path,
                 par->width, par->height, AIE_MAX_DIM);
        return AIE_ETOOBIG;
    }
    if (par->width <= 0 || par->height <= 0) {
        aie_errf(r->err, sizeof(r->err), "%s: video stream has no size", r->path);
        return AIE_EFORMAT;
    }
    r->dec = avcodec_alloc_context3(codec);
    if (!r->dec)
        return AIE_ENOMEM;
    avcodec_parameters_to_context(r->dec, par);
    r->dec->pkt_timebase = st->time_base;
    r->dec->thread_count = r->o.threads;
    r->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    if ((ret = avcodec_open2(r->dec, codec, NULL)) < 0) {
        aie_errf(r->err, sizeof(r->err), "%s: cannot open the %s decoder (%s)", r->path, codec->name,
                 aie_io_averr_str(ret, ebuf));
        return AIE_EUNSUP;
    }
    enum AVPixelFormat pf = r->dec->pix_fmt != AV_PIX_FMT_NONE ? r->dec->pix_fmt : par->format;
    AieVideoInfo *v = &r->info;
    if (pf == AV_PIX_FMT_NONE || aie_pixfmt_to_aie(pf, &v->layout, &v->depth) < 0) {
        aie_errf(r->err, sizeof(r->err), "%s: unsupported pixel format %s", r->path,
                 pf == AV_PIX_FMT_NONE ? "(none)" : av_get_pix_fmt_name(pf));
        return AIE_EUNSUP;
    }
    v->width = par->width;
    v->height = par->height;
    AVRational fr = av_guess_frame_rate(r->fmt, st, NULL);
    v->fps = (AieRational){fr.num, fr.den ? fr.den : 1};
    v->time_base = (AieRational){st->time_base.num, st->time_base.den};
    AVRational sar = av_guess_sample_aspect_ratio(r->fmt, st, NULL);
    v->sar = (AieRational){sar.num, sar.den ? sar.den : 1};
    v->color = (AieColor){par->color_range, par->color_primaries, par->color_trc, par->color_space,
                          par->chroma_location};
    if (pf == AV_PIX_FMT_YUVJ420P || pf == AV_PIX_FMT_YUVJ422P || pf == AV_PIX_FMT_YUVJ444P)
        v->color.range = 2;
    if (v->layout == AIE_LAYOUT_RGB || v->layout == AIE_LAYOUT_RGBA) {
        v->color.range = 2;
        v->color.matrix = 0;
    }
    v->interlaced = par->field_order != AV_FIELD_PROGRESSIVE && par->field_order != AV_FIELD_UNKNOWN;
    v->duration_us = st->duration != AV_NOPTS_VALUE
                         ? av_rescale_q(st->duration, st->time_base, AV_TIME_BASE_Q)
                         : (r->fmt->duration != AV_NOPTS_VALUE ? r->fmt->duration : -1);
    v->still = (r->fmt->iformat->flags & AVFMT_NOTIMESTAMPS) && st->nb_frames <= 1 &&
               strstr(r->fmt->iformat->name, "image") != NULL;
    snprintf(v->codec, sizeof(v->codec), "%s", codec->name);
    snprintf(v->pix_fmt, sizeof(v->pix_fmt), "%s", av_get_pix_fmt_name(pf));
    snprintf(v->container, sizeof(v->container), "%s", r->fmt->iformat->name);
    v->nb_frames = -1;
    /* A header's frame count can be stale (AVI's dwLength after a cut by
     * ffmpeg -t counts a frame that was never stored): when the container's
     * own table of packets lists fewer, that is what demuxing delivers. */
    r->index_frames = avformat_index_get_entries_count(st);
    int64_t declared = st->nb_frames;
    if (declared > 0 && r->index_frames > 0 && r->index_frames < declared)
        declared = r->index_frames;
    if (declared > 0) {
        int err = count_frames_in_range(r, declared);
        if (err)
            return err;
    } else if (r->o.last >= 0) {
        v->nb_frames = r->o.last - r->o.first + 1;
    }

    r->carry = calloc(r->fmt->nb_streams, sizeof(*r->carry));
    r->pkt = av_packet_alloc();
    r->avf = av_frame_alloc();
    if (!r->carry || !r->pkt || !r->avf)
        return AIE_ENOMEM;
    for (unsigned i = 0; i < r->fmt->nb_streams; i++) {
        enum AVMediaType t = r->fmt->streams[i]->codecpar->codec_type;
        int carry = !r->o.no_audio && (int)i != r->vidx &&
                    (t == AVMEDIA_TYPE_AUDIO || t == AVMEDIA_TYPE_SUBTITLE || t == AVMEDIA_TYPE_DATA);
        r->carry[i] = carry;
        if (carry) {
            v->other_streams++;
            v->audio_streams += t == AVMEDIA_TYPE_AUDIO;
        }
        if (!carry && (int)i != r->vidx)
            r->fmt->streams[i]->discard = AVDISCARD_ALL;
    }
    r->src.fmt = r->fmt;
    r->src.video_index = r->vidx;
    r->mode = MODE_AV;
    return 0;
}

/* Seconds -> comparable: rescale a packet time to the video time base. */
static int64_t to_video_tb(const AieReader *r, int64_t ts, int stream)
{
    if (ts == AV_NOPTS_VALUE)
        return AV_NOPTS_VALUE;
    return av_rescale_q(ts, r->fmt->streams[stream]->time_base, r->fmt->streams[r->vidx]->time_base);
}

static int64_t pkt_time(const AieReader *r, const AVPacket *p)
{
    int64_t t = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
    return to_video_tb(r, t, p->stream_index);
}

/* Drop pending packets that fall before the start of the range (video time t). */
static void drop_aux_before(AieReader *r, int64_t t)
{
    AuxList *l = r->aux_pending;
    if (!l || t == AV_NOPTS_VALUE || r->o.first == 0)
        return; /* without a range everything is kept (AAC priming has pts < 0) */
    int k = 0;
    for (int i = 0; i < l->n; i++) {
        int64_t pt = pkt_time(r, l->pkts[i]);
        if (pt != AV_NOPTS_VALUE && pt < t)
            av_packet_free(&l->pkts[i]);
        else
            l->pkts[k++] = l->pkts[i];
    }
    l->n = k;
}

static void drop_aux_from(AieReader *r, int64_t t)
{
    AuxList *l = r->aux_pending;
    if (!l || t == AV_NOPTS_VALUE || t == INT64_MAX)
        return;
    int k = 0;
    for (int i = 0; i < l->n; i++) {
        int64_t pt = pkt_time(r, l->pkts[i]);
        if (pt != AV_NOPTS_VALUE && pt >= t)
            av_packet_free(&l->pkts[i]);
        else
            l->pkts[k++] = l->pkts[i];
    }
    l->n = k;
}

static int take_aux_packet(AieReader *r)
{
    if (r->range_done && pkt_time(r, r->pkt) >= r->src.end_pts) {
        av_packet_unref(r->pkt);
        return 0;
    }
    return aie_aux_push(&r->aux_pending, r->pkt);
}

/* y4m: bytes left over after the last whole frame mean a cut-off frame. */
static int y4m_partial_frame(const AieReader *r)
{
    if (strcmp(r->fmt->iformat->name, "yuv4mpegpipe") || !r->fmt->pb || r->vpackets == 0 ||
        r->first_vpos < 6)
        return 0;
    const AVCodecParameters *par = r->fmt->streams[r->vidx]->codecpar;
    int frame = av_image_get_buffer_size(par->format, par->width, par->height, 1);
    if (frame <= 0)
        return 0;
    int64_t expect = r->first_vpos - 6 + r->vpackets * (int64_t)(frame + 6);
    return avio_tell(r->fmt->pb) > expect;
}

/* Seconds of video the container declares (stream duration, or Matroska's
 * DURATION tag), or -1. */
static double declared_duration(const AieReader *r)
{
    const AVStream *st = r->fmt->streams[r->vidx];
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        return (double)st->duration * av_q2d(st->time_base);
    const AVDictionaryEntry *e = av_dict_get(st->metadata, "DURATION", NULL, 0);
    int h, m;
    double sec;
    /* the widths keep the numbers in range */
    if (e && sscanf(e->value, "%7d:%2d:%lf", &h, &m, &sec) == 3) /* NOLINT(cert-err34-c) */
        return h * 3600.0 + m * 60.0 + sec;
    return -1;
}

/* Frames missing at the end of a file whose container declares a longer video
 * than what decoded (a Matroska file cut short, say). */
static int64_t frames_missing_at_end(const AieReader *r)
{
    if (r->o.last >= 0 || r->decoded == 0 || r->info.fps.num <= 0 || r->info.fps.den <= 0)
        return 0;
    double dur = declared_duration(r);
    if (dur <= 0)
        return 0;
    const AVStream *st = r->fmt->streams[r->vidx];
    double tb = av_q2d(st->time_base), frame = (double)r->info.fps.den / r->info.fps.num;
    double seen = (double)(r->last_pts - r->first_pts) * tb +
                  (r->last_dur > 0 ? (double)r->last_dur * tb : frame);
    double missing = dur - seen;
    if (missing < 1.5 * frame)
        return 0;
    return (int64_t)(missing / frame + 0.5);
}

/* Decode the next video frame into r->avf. Returns 0, AIE_EOF or an error. */
static int decode_next(AieReader *r)
{
    char ebuf[AV_ERROR_MAX_STRING_SIZE];
    for (;;) {
        if (aie_cancel_requested(r->o.cancel))
            return AIE_ECANCELLED;
        int ret = avcodec_receive_frame(r->dec, r->avf);
        if (ret == 0)
            return 0;
        if (ret == AVERROR_EOF)
            return AIE_EOF;
        if (ret != AVERROR(EAGAIN)) {
            r->decode_errors++; /* a frame that failed to decode */
            continue;
        }
        if (r->demux_eof) {
            if (!r->flushed) {
                avcodec_send_packet(r->dec, NULL);
                r->flushed = 1;
                continue;
            }
            return AIE_EOF;
        }
        ret = av_read_frame(r->fmt, r->pkt);
        if (ret < 0) {
            if (ret == AVERROR_EXIT || aie_cancel_requested(r->o.cancel))
                return AIE_ECANCELLED;
            if (ret != AVERROR_EOF) {
                r->demux_error = 1;
                aie_errf(r->err, sizeof(r->err), "%s: read error (%s)", r->path,
                         aie_io_averr_str(ret, ebuf));
            } else if (y4m_partial_frame(r)) {
                r->decode_errors++; /* the y4m demuxer drops a cut-off last frame silently */
            }
            r->demux_eof = 1;
            continue;
        }
        if (r->pkt->stream_index == r->vidx) {
            if (!r->vpackets++)
                r->first_vpos = r->pkt->pos;
            if (r->pkt->flags & AV_PKT_FLAG_CORRUPT)
                r->decode_errors++;
            /* receive_frame said EAGAIN, so the decoder takes this packet */
            ret = avcodec_send_packet(r->dec, r->pkt);
            av_packet_unref(r->pkt);
            if (ret < 0)
                r->decode_errors++;
        } else if (r->carry[r->pkt->stream_index]) {
            int err = take_aux_packet(r);
            if (err)
                return err;
        } else {
            av_packet_unref(r->pkt);
        }
    }
}

/* After the range ends, read on a little so audio covering the last frames is
 * kept: until every carried stream passed end_pts, at most 2000 packets. */
static int collect_trailing_aux(AieReader *r)
{
    int want = 0, e = 0;
    for (unsigned i = 0; i < r->fmt->nb_streams; i++)
        want += r->carry[i];
    if (!want)
        return 0;
    int *seen = calloc(r->fmt->nb_streams, sizeof(*seen));
    if (!seen)
        return AIE_ENOMEM;
    for (int n = 0; want > 0 && n < 2000; n++) {
        if (av_read_frame(r->fmt, r->pkt) < 0)
            break;
        int s = r->pkt->stream_index;
        if (s != r->vidx && r->carry[s]) {
            if (pkt_time(r, r->pkt) >= r->src.end_pts) {
                if (!seen[s]) {
                    seen[s] = 1;
                    want--;
                }
                av_packet_unref(r->pkt);
            } else if ((e = aie_aux_push(&r->aux_pending, r->pkt)) < 0) {
                break;
            }
        } else {
            av_packet_unref(r->pkt);
        }
    }
    av_packet_unref(r->pkt);
    free(seen);
    return e;
}

/* Give f the pending packets that start before `limit` (input video time
 * base: the next frame's time, or the end of the range for the last frame;
 * INT64_MAX takes them all), and packets without a time. The others wait for
 * a later frame. The decoder holds frames back (B-frames, frame threads)
 * while the demuxer reads on, so the pending list runs ahead of the frame
 * being returned: handing all of it to each frame carried audio from past the
 * end of a --frames range into the output. */
static int attach_aux(AieReader *r, AieFrame *f, int64_t limit)
{
    AuxList *p = r->aux_pending;
    if (!p || !p->n)
        return 0;
    AuxList *l = f->aux;
    int e = 0, k = 0;
    for (int i = 0; i < p->n; i++) {
        int64_t t = pkt_time(r, p->pkts[i]);
        if (!e && (limit == INT64_MAX || t == AV_NOPTS_VALUE || t < limit)) {
            if ((e = aie_aux_push(&l, p->pkts[i])) == 0) {
                av_packet_free(&p->pkts[i]);
                continue;
            }
        }
        p->pkts[k++] = p->pkts[i];
    }
    p->n = k;
    if (l && !f->aux) {
        f->aux = l;
        f->aux_free = aie_aux_free;
    }
    return e;
}

/* Produce the next selected frame (without lookahead). */
static int next_selected(AieReader *r, AieFrame **out)
{
    *out = NULL;
    AVStream *st = r->fmt->streams[r->vidx];
    for (;;) {
        if (r->range_done)
            return AIE_EOF;
        int err = decode_next(r);
        if (err)
            return err;
        int64_t pts = r->avf->best_effort_timestamp;
        if (pts == AV_NOPTS_VALUE)
            pts = r->avf->pts;
        if (pts == AV_NOPTS_VALUE) {
            /* synthesise from the frame rate */
            AVRational fr = {r->info.fps.num ? r->info.fps.num : 25, r->info.fps.num ? r->info.fps.den : 1};
            pts = av_rescale_q(r->decoded, av_inv_q(fr), st->time_base);
        }
        if (r->last_pts != AV_NOPTS_VALUE && pts <= r->last_pts)
            pts = r->last_pts + 1; /* keep timestamps strictly increasing */
        if (r->resync) { /* after a seek: the frame number follows from the time */
            r->resync = 0;
            double fps = r->info.fps.num > 0 && r->info.fps.den > 0 ? (double)r->info.fps.num / r->info.fps.den : 25;
            double t = (double)(pts - r->src.start_pts) * st->time_base.num / st->time_base.den;
            r->decoded = r->returned = t > 0 ? llround(t * fps) : 0;
        }
        int64_t idx = r->decoded++;
        if (idx == 0)
            r->first_pts = pts;
        r->last_pts = pts;
        r->last_dur = r->avf->pkt_duration;
        if (idx < r->o.first) {
            drop_aux_before(r, pts);
            av_frame_unref(r->avf);
            continue;
        }
        if (r->o.last >= 0 && idx > r->o.last) {
            r->range_done = 1;
            r->src.end_pts = pts;
            drop_aux_from(r, pts);
            err = collect_trailing_aux(r);
            av_frame_unref(r->avf);
            return err ? err : AIE_EOF;
        }
        /* concealed errors: the frame is there, but not what was encoded */
        if (r->avf->decode_error_flags || (r->avf->flags & AV_FRAME_FLAG_CORRUPT))
            r->concealed++;
        if (!r->started) {
            r->started = 1;
            r->src.start_pts = pts;
            drop_aux_before(r, pts);
            const AVFrameSideData *sd = av_frame_get_side_data(r->avf, AV_FRAME_DATA_MASTERING_DISPLAY_METADATA);
            if (sd && sd->size >= sizeof(r->src.mdm)) {
                memcpy(&r->src.mdm, sd->data, sizeof(r->src.mdm));
                r->src.has_mdm = 1;
            }
            sd = av_frame_get_side_data(r->avf, AV_FRAME_DATA_CONTENT_LIGHT_LEVEL);
            if (sd && sd->size >= sizeof(r->src.cll)) {
                memcpy(&r->src.cll, sd->data, sizeof(r->src.cll));
                r->src.has_cll = 1;
            }
        }
        if (r->avf->width != r->info.width || r->avf->height != r->info.height) {
            aie_errf(r->err, sizeof(r->err),
                     "%s: resolution changes mid-stream at frame %lld (%dx%d -> %dx%d); split the input first",
                     r->path, (long long)idx, r->info.width, r->info.height, r->avf->width,
                     r->avf->height);
            av_frame_unref(r->avf);
            return AIE_EUNSUP;
        }
        AieFrame *f;
        err = aie_convert_from_av(&r->conv, r->avf, r->info.layout, r->info.depth, &f);
        if (err) {
            aie_errf(r->err, sizeof(r->err), "%s: cannot convert frame %lld from %s", r->path,
                     (long long)idx, av_get_pix_fmt_name(r->avf->format));
            av_frame_unref(r->avf);
            return err;
        }
        f->pts = pts - r->src.start_pts;
        f->time_base = r->info.time_base;
        f->duration = r->avf->pkt_duration;
        f->sar = r->info.sar;
        AVFrame *a = r->avf;
        f->color.primaries = a->color_primaries;
        f->color.transfer = a->color_trc;
        f->color.matrix = a->colorspace;
        f->color.chroma_loc = a->chroma_location;
        if (f->layout == AIE_LAYOUT_RGB || f->layout == AIE_LAYOUT_RGBA)
            f->color.matrix = 0;
        f->color.range = f->color.range ? f->color.range : r->info.color.range;
        if (!f->color.primaries || f->color.primaries == 2)
            f->color.primaries = r->info.color.primaries;
        if (!f->color.transfer || f->color.transfer == 2)
            f->color.transfer = r->info.color.transfer;
        if (f->layout <= AIE_LAYOUT_YUV444 && (!f->color.matrix || f->color.matrix == 2))
            f->color.matrix = r->info.color.matrix;
        f->interlaced = a->interlaced_frame;
        if (a->interlaced_frame && !r->warned_interlace) {
            r->warned_interlace = 1;
            warn(r, "%s: interlaced input is processed as progressive", r->path);
        }
        av_frame_unref(r->avf);
        *out = f;
        return 0;
    }
}

static int read_av(AieReader *r, AieFrame **out)
{
    if (r->finished)
        return AIE_EOF;
    AieFrame *f = NULL;
    int err;
    while (!r->held) {
        err = next_selected(r, &r->held);
        if (err == AIE_EOF) {
            r->finished = 1;
            return AIE_EOF;
        }
        if (err)
            return err;
    }
    err = next_selected(r, &f);
    if (err && err != AIE_EOF) {
        aie_frame_unref(&f);
        return err;
    }
    AieFrame *ret = r->held;
    r->held = f;
    if (!f) { /* ret is the last frame: it takes every trailing packet */
        if (r->src.end_pts != INT64_MAX)
            drop_aux_from(r, r->src.end_pts);
    }
    err = attach_aux(r, ret, f ? f->pts + r->src.start_pts : INT64_MAX);
    if (!f)
        r->finished = 1;
    if (err) {
        aie_frame_unref(&ret);
        return err;
    }
    ret->index = r->returned++;
    *out = ret;
    return 0;
}

int aie_reader_open(AieReader **out, const char *url, const AieReaderOpts *opts, char *err,
                    size_t errlen)
{
    *out = NULL;
    aie_io_silence_libav();
    AieReader *r = calloc(1, sizeof(*r));
    if (!r)
        return AIE_ENOMEM;
    if (opts)
        r->o = *opts;
    else
        r->o.last = -1;
    if (r->o.first < 0)
        r->o.first = 0;
    r->last_pts = AV_NOPTS_VALUE;
    r->src.end_pts = INT64_MAX;
    r->src.video_index = -1;
    snprintf(r->path, sizeof(r->path), "%s", url);
    r->src.path = r->path;
    int e;
    if (r->o.last >= 0 && r->o.last < r->o.first) {
        aie_errf(r->err, sizeof(r->err), "--frames: the last frame comes before the first");
        e = AIE_EINVAL;
        goto fail;
    }
    if (strcmp(url, "-")) {
        struct stat st;
        if (aie_io_is_pattern(url)) {
            if (!has_ext(url, ".png")) {
                aie_errf(r->err, sizeof(r->err), "%s: image sequences must be PNG", url);
                e = AIE_EUNSUP;
                goto fail;
            }
            e = open_png_seq(r);
            if (e)
                goto fail;
            goto done;
        }
        if (stat(url, &st) != 0) {
            int en = errno;
            aie_errf(r->err, sizeof(r->err), "%s: %s", url, strerror(en));
            e = aie_error_from_errno(en);
            goto fail;
        }
        if (S_ISDIR(st.st_mode)) {
            aie_errf(r->err, sizeof(r->err), "%s: is a directory", url);
            e = AIE_EINVAL;
            goto fail;
        }
        uint8_t head[8] = {0};
        size_t got = 0;
        if (S_ISREG(st.st_mode)) { /* never sniff a FIFO or a device: the bytes would be lost */
            FILE *fp = fopen(url, "rb");
            if (!fp) {
                int en = errno;
                aie_errf(r->err, sizeof(r->err), "%s: %s", url, strerror(en));
                e = aie_error_from_errno(en);
                goto fail;
            }
            got = fread(head, 1, sizeof(head), fp);
            fclose(fp);
        }
        if (S_ISREG(st.st_mode) && st.st_size == 0) {
            aie_errf(r->err, sizeof(r->err), "%s: empty file", url);
            e = AIE_EFORMAT;
            goto fail;
        }
        if (got == sizeof(head) && aie_png_is_png(head, got)) {
            e = open_png_still(r);
            if (e)
                goto fail;
            goto done;
        }
    }
    if ((e = open_av(r)))
        goto fail;
done:
    *out = r;
    return 0;
fail:
    aie_errf(err, errlen, "%s", r->err[0] ? r->err : aie_strerror(e));
    aie_reader_close(&r);
    return e;
}

const AieVideoInfo *aie_reader_info(const AieReader *r) { return &r->info; }

int aie_reader_seekable(const AieReader *r)
{
    if (r->mode == MODE_PNG_SEQ)
        return 1;
    if (r->mode != MODE_AV || r->pipe_pb || !r->fmt->pb || !(r->fmt->pb->seekable & AVIO_SEEKABLE_NORMAL))
        return 0;
    return !(r->fmt->iformat->flags & AVFMT_NOTIMESTAMPS) || !strcmp(r->fmt->iformat->name, "yuv4mpegpipe");
}

int aie_reader_seek(AieReader *r, int64_t t_us)
{
    if (t_us < 0)
        t_us = 0;
    if (!aie_reader_seekable(r)) {
        aie_errf(r->err, sizeof(r->err), "%s: the input cannot seek (a pipe or a single picture)", r->path);
        return AIE_EUNSUP;
    }
    r->seeked = 1;
    r->finished = 0;
    aie_frame_unref(&r->held);
    if (r->mode == MODE_PNG_SEQ) {
        double fps = (double)r->info.fps.num / r->info.fps.den;
        int64_t k = llround((double)t_us / 1e6 * fps);
        if (k >= r->info.nb_frames)
            k = r->info.nb_frames - 1;
        r->seq_next = r->seq_start + (int)(k < 0 ? 0 : k);
        r->seq_last = r->seq_start + (int)r->info.nb_frames - 1;
        r->returned = k < 0 ? 0 : k;
        return 0;
    }
    AVStream *st = r->fmt->streams[r->vidx];
    if (!r->started) {
        /* the times of frames count from the stream's start */
        r->started = 1;
        r->src.start_pts = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
    }
    /* the other streams are not carried past a seek */
    for (unsigned i = 0; i < r->fmt->nb_streams; i++)
        if ((int)i != r->vidx) {
            r->carry[i] = 0;
            r->fmt->streams[i]->discard = AVDISCARD_ALL;
        }
    aie_aux_free(r->aux_pending);
    r->aux_pending = NULL;
    int64_t target = r->src.start_pts + av_rescale_q(t_us, AV_TIME_BASE_Q, st->time_base);
    int ret = av_seek_frame(r->fmt, r->vidx, target, AVSEEK_FLAG_BACKWARD);
    if (ret < 0)
        ret = avformat_seek_file(r->fmt, r->vidx, INT64_MIN, target, target, 0);
    if (ret < 0) {
        char ebuf[AV_ERROR_MAX_STRING_SIZE];
        aie_errf(r->err, sizeof(r->err), "%s: cannot seek to %.3f s (%s)", r->path, (double)t_us / 1e6,
                 aie_io_averr_str(ret, ebuf));
        return AIE_EIO;
    }
    avcodec_flush_buffers(r->dec);
    r->demux_eof = r->flushed = r->range_done = 0;
    r->o.first = 0;
    r->o.last = -1;
    r->src.end_pts = INT64_MAX;
    r->last_pts = AV_NOPTS_VALUE;
    r->resync = 1;
    return 0;
}

int aie_reader_read(AieReader *r, AieFrame **out)
{
    *out = NULL;
    if (aie_cancel_requested(r->o.cancel))
        return AIE_ECANCELLED;
    int err = r->mode == MODE_AV ? read_av(r, out) : read_png(r, out);
    if (err != AIE_EOF || r->seeked)
        return err;
    if (r->mode == MODE_AV) {
        int64_t lost = r->decode_errors;
        /* the container said how many frames there are: count the missing ones */
        int64_t expect = r->info.nb_frames;
        if (expect > 0 && r->returned < expect && r->fmt->streams[r->vidx]->nb_frames > 0 &&
            expect - r->returned > lost)
            lost = expect - r->returned;
        int64_t tail = frames_missing_at_end(r);
        if (tail > lost)
            lost = tail;
        if (r->demux_error && lost == 0)
            lost = 1;
        r->lost = lost;
        if (lost > 0 && !r->o.ignore_errors) {
            aie_errf(r->err, sizeof(r->err), "%s: input is truncated or damaged: %lld frame%s lost",
                     r->path, (long long)lost, lost == 1 ? "" : "s");
            return AIE_ETRUNC;
        }
        if (r->concealed > 0 && r->o.strict) {
            aie_errf(r->err, sizeof(r->err),
                     "%s: %lld frame%s decoded with errors that the decoder concealed (--strict)", r->path,
                     (long long)r->concealed, r->concealed == 1 ? "" : "s");
            return AIE_EDECODE;
        }
        if (r->concealed > 0 && !r->warned_damage) {
            r->warned_damage = 1;
            warn(r, "%s: %lld frame%s decoded with errors that the decoder concealed (kept; --strict refuses them)",
                 r->path, (long long)r->concealed, r->concealed == 1 ? "" : "s");
        }
    }
    if (r->returned == 0 && r->o.first > 0 && r->decoded <= r->o.first) {
        aie_errf(r->err, sizeof(r->err), "%s: --frames starts at %lld but the input has %lld frames",
                 r->path, (long long)r->o.first, (long long)r->decoded);
        return AIE_EINVAL;
    }
    if (r->returned == 0) {
        aie_errf(r->err, sizeof(r->err), "%s: no frames could be decoded", r->path);
        return AIE_EEMPTY;
    }
    return AIE_EOF;
}

int64_t aie_reader_frames_lost(const AieReader *r) { return r->lost; }

int64_t aie_reader_decode_errors(const AieReader *r) { return r->decode_errors + r->concealed; }

const char *aie_reader_error(const AieReader *r) { return r->err; }

const ReaderSource *aie_reader_source(const AieReader *r) { return &r->src; }

void aie_reader_close(AieReader **pr)
{
    AieReader *r = pr ? *pr : NULL;
    if (!r)
        return;
    *pr = NULL;
    aie_frame_unref(&r->held);
    aie_frame_unref(&r->still);
    aie_aux_free(r->aux_pending);
    aie_converter_free(&r->conv);
    av_frame_free(&r->avf);
    av_packet_free(&r->pkt);
    avcodec_free_context(&r->dec);
    avformat_close_input(&r->fmt); /* leaves a custom AVIOContext to us */
    if (r->pipe_pb) {
        av_freep(&r->pipe_pb->buffer);
        avio_context_free(&r->pipe_pb);
    }
    if (r->pipe_own)
        close(r->pipe_fd);
    free(r->carry);
    free(r);
}
