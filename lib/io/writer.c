/* aie_writer_*: encode + mux (libavformat), y4m on pipes, PNG through libpng.
 * Regular files are written under a temporary name and renamed on finish. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/avstring.h>
#include <libavutil/display.h>
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

#include "io_internal.h"
#include "png.h"

enum { KIND_AV, KIND_PNG, KIND_PNG_SEQ };

struct AieWriter {
    int kind;
    char path[PATH_MAX];
    char err[AIE_ERRBUF_SIZE];
    AieWriterOpts o;
    AieVideoInfo vi;
    AieFsOut *out;      /* the file being written (the frame in progress for PNG sequences) */
    int finished, failed;
    int64_t frames;
    int64_t packets;    /* video packets out of the encoder */
    char codec_name[64];

    /* libav */
    AVFormatContext *fmt;
    AVCodecContext *enc;
    AVStream *vst;
    AVFrame *avf;
    AVPacket *pkt;
    Converter conv;
    int y4m;
    int *map;            /* input stream -> output stream, -1 = dropped */
    int nmap;
    AVRational in_vtb;   /* time base of the source video stream (aux shifting) */
    const ReaderSource *rsrc; /* start_pts is known once the first frame is read */
    AVFormatContext *src_fmt;
    int header_written;
    int out_range, out_matrix;
    int64_t last_pts;
    int pad_w, pad_h;    /* columns and rows added to reach the even size the encoder needs */
    AieAudioEnc **aenc;  /* per input stream: its re-encoder, or NULL (copied or dropped) */
    int64_t *in_pkts;    /* per input stream: packets seen (to name one in a message) */
    int64_t *last_dts;   /* per output stream: dts of the last packet muxed */
    int64_t packets_fixed; /* carried packets whose timestamps were repaired */
    int fixed_stream;    /* input stream of the first repaired packet */
    int cur_in;          /* input stream of the packet being written */
    int mux_err;         /* AIE_E* of a failed mux_cb() */

    /* PNG */
    int png_depth;
    AieLayout png_layout;
};

#define warnf(w, ...) aie_warnf((w)->o.warn, (w)->o.warn_opaque, __VA_ARGS__)

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && !av_strcasecmp(path + n - e, ext);
}

/* Would writing the PNG pattern out replace frames of the PNG pattern in?
 * The same directory (device and inode, so links and spellings do not
 * matter) and a frame number both patterns turn into the same name: small
 * numbers and the powers of ten around every width change are tried. */
static int same_sequence(const char *in, const char *out)
{
    char din[PATH_MAX], dout[PATH_MAX];
    const char *bin, *bout;
    aie_fs_split_path(in, din, sizeof(din), &bin);
    aie_fs_split_path(out, dout, sizeof(dout), &bout);
    struct stat a, b;
    if (stat(din, &a) != 0 || stat(dout, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return 0;
    int tries[20 + 3 * 9], nt = 0;
    for (int n = 0; n < 20; n++)
        tries[nt++] = n;
    for (int p = 10; p <= 1000000000; p *= 10) {
        tries[nt++] = p - 1;
        tries[nt++] = p;
        if (p < 1000000000)
            tries[nt++] = p + 1;
        if (p == 1000000000)
            break;
    }
    for (int i = 0; i < nt; i++) {
        char x[NAME_MAX + 32], y[NAME_MAX + 32];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(x, sizeof(x), bin, tries[i]);
        snprintf(y, sizeof(y), bout, tries[i]);
#pragma GCC diagnostic pop
        if (!strcmp(x, y))
            return 1;
    }
    return 0;
}

/* Report an FFmpeg failure while writing: ENOSPC, EPIPE and friends are named. */
static int fail_av(AieWriter *w, int ret, const char *what)
{
    char ebuf[AV_ERROR_MAX_STRING_SIZE];
    int e = aie_io_averror(ret);
    if (e == AIE_EOF || e == AIE_EFORMAT)
        e = AIE_EENCODE;
    aie_errf(w->err, sizeof(w->err), "%s: %s: %s", w->path, what, aie_io_averr_str(ret, ebuf));
    w->failed = 1;
    return e;
}

/* Mux one carried packet (stream copy or re-encoded audio; stream_index is
 * the output's), repairing what the muxer would refuse the way ffmpeg's
 * muxing does: a dts that does not increase becomes the previous one plus
 * one (or equal where the container allows it), a pts before its dts is
 * raised to it. Each repaired packet is counted. A packet the muxer still
 * refuses is named by its input stream and number, not blamed on the output. */
static int mux_carried(AieWriter *w, AVPacket *p, int64_t in_pts)
{
    int os = p->stream_index, fixed = 0;
    int64_t *last = &w->last_dts[os];
    if (p->dts != AV_NOPTS_VALUE && *last != AV_NOPTS_VALUE) {
        int64_t max = *last + !(w->fmt->oformat->flags & AVFMT_TS_NONSTRICT);
        if (p->dts < max) {
            if (p->pts != AV_NOPTS_VALUE && p->pts >= p->dts)
                p->pts = FFMAX(p->pts, max);
            p->dts = max;
            fixed = 1;
        }
    }
    if (p->pts != AV_NOPTS_VALUE && p->dts != AV_NOPTS_VALUE && p->pts < p->dts) {
        p->pts = p->dts;
        fixed = 1;
    }
    if (fixed && !w->packets_fixed++)
        w->fixed_stream = w->cur_in;
    if (p->dts != AV_NOPTS_VALUE)
        *last = p->dts;
    int ret = av_interleaved_write_frame(w->fmt, p);
    if (ret >= 0)
        return 0;
    char ebuf[AV_ERROR_MAX_STRING_SIZE], at[64] = "";
    int e = aie_io_averror(ret);
    if (e == AIE_EPIPE || e == AIE_ENOSPC || e == AIE_EIO)
        return fail_av(w, ret, "write failed");
    int is = w->cur_in;
    const AVStream *ist = is >= 0 && is < w->nmap ? w->src_fmt->streams[is] : NULL;
    if (ist && in_pts != AV_NOPTS_VALUE)
        snprintf(at, sizeof(at), " at %.3f s", (double)in_pts * av_q2d(ist->time_base));
    aie_errf(w->err, sizeof(w->err), "%s: stream #%d (%s %s%s%s) packet %lld%s cannot be written to %s (%s)",
             w->rsrc ? w->rsrc->path : "input", is,
             ist ? avcodec_get_name(ist->codecpar->codec_id) : "?",
             ist ? av_get_media_type_string(ist->codecpar->codec_type) : "?",
             w->aenc && ist && w->aenc[is] ? ", re-encoded to " : "",
             w->aenc && ist && w->aenc[is] ? aie_io_aenc_codec(w->aenc[is]) : "",
             ist ? (long long)w->in_pkts[is] : 0LL, at, w->path, aie_io_averr_str(ret, ebuf));
    w->failed = 1;
    return e == AIE_EOF || e == AIE_EFORMAT || e == AIE_EINVAL ? AIE_EENCODE : e;
}

static int mux_cb(void *opaque, AVPacket *p)
{
    AieWriter *w = opaque;
    int e = mux_carried(w, p, AV_NOPTS_VALUE);
    if (e)
        w->mux_err = e;
    return e ? AVERROR_EXTERNAL : 0;
}

/* ---- encoder choice ---- */

static const char *default_codec(int lossless, const char *muxer)
{
    if (!strcmp(muxer, "webm"))
        return "libvpx-vp9";
    if (lossless) /* FFV1 where the container takes it, else lossless H.264 */
        return !strcmp(muxer, "mp4") || !strcmp(muxer, "mov") ? "libx264" : "ffv1";
    if (!strcmp(muxer, "mp4") || !strcmp(muxer, "matroska") || !strcmp(muxer, "mov"))
        return "libx264";
    return NULL; /* the muxer's own default (mpeg4 for avi, ...) */
}

static enum AVPixelFormat choose_pixfmt(AieWriter *w, const AVCodec *codec, AieLayout layout,
                                        int depth)
{
    enum AVPixelFormat want = aie_pixfmt_from_aie(layout, depth);
    if (w->y4m) {
        /* y4m holds YUV and gray only */
        if (layout == AIE_LAYOUT_RGB || layout == AIE_LAYOUT_RGBA)
            want = aie_pixfmt_from_aie(AIE_LAYOUT_YUV444, depth);
        if (depth > 8 && depth < 16 && layout == AIE_LAYOUT_GRAY && depth != 10)
            want = AV_PIX_FMT_GRAY16LE;
        return want;
    }
    const enum AVPixelFormat *list = codec->pix_fmts;
    if (!list)
        return want;
    for (int i = 0; list[i] != AV_PIX_FMT_NONE; i++)
        if (list[i] == want)
            return want;
    int alpha = layout == AIE_LAYOUT_RGBA;
    return avcodec_find_best_pix_fmt_of_list(list, want, alpha, NULL);
}

/* Encoders that refuse odd sizes with subsampled chroma. */
static int needs_even_size(const char *name)
{
    static const char *const even[] = {"libx264", "libx264rgb", "libx265", "h264_vaapi", "hevc_vaapi",
                                       "h264_nvenc", "hevc_nvenc", "h264_qsv", "hevc_qsv"};
    for (size_t i = 0; i < sizeof(even) / sizeof(even[0]); i++)
        if (!strcmp(name, even[i]))
            return 1;
    return 0;
}

/* Repeat the last column and row of each plane of a (w x h picture into the
 * padding of a frame that is pad_w/pad_h larger. */
static void replicate_edges(AVFrame *a, int w, int h)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(a->format);
    int bpp = (d->comp[0].depth + 7) / 8;
    int np = av_pix_fmt_count_planes(a->format);
    for (int p = 0; p < np; p++) {
        int sx = (p == 1 || p == 2) ? d->log2_chroma_w : 0, sy = (p == 1 || p == 2) ? d->log2_chroma_h : 0;
        int pw = AV_CEIL_RSHIFT(w, sx), ph = AV_CEIL_RSHIFT(h, sy);
        int fw = AV_CEIL_RSHIFT(a->width, sx), fh = AV_CEIL_RSHIFT(a->height, sy);
        for (int y = 0; y < ph; y++) {
            uint8_t *row = a->data[p] + (ptrdiff_t)y * a->linesize[p];
            for (int x = pw; x < fw; x++)
                memcpy(row + (size_t)x * bpp, row + (size_t)(pw - 1) * bpp, (size_t)bpp);
        }
        for (int y = ph; y < fh; y++)
            memcpy(a->data[p] + (ptrdiff_t)y * a->linesize[p],
                   a->data[p] + (ptrdiff_t)(ph - 1) * a->linesize[p], (size_t)fw * bpp);
    }
}

static int set_opt(AieWriter *w, const char *key, const char *val, int must)
{
    int ret = av_opt_set(w->enc, key, val, AV_OPT_SEARCH_CHILDREN);
    if (ret < 0 && must) {
        aie_errf(w->err, sizeof(w->err), "%s: encoder %s does not accept %s=%s", w->path,
                 w->codec_name, key, val);
        return AIE_EINVAL;
    }
    return 0;
}

static int open_encoder(AieWriter *w, const char *muxer)
{
    char ebuf[AV_ERROR_MAX_STRING_SIZE];
    const char *cname = w->o.codec;
    if (w->y4m)
        cname = "wrapped_avframe";
    else if (!cname)
        cname = default_codec(w->o.lossless, muxer);
    const AVCodec *codec = cname ? avcodec_find_encoder_by_name(cname)
                                 : avcodec_find_encoder(w->fmt->oformat->video_codec);
    if (!codec || codec->type != AVMEDIA_TYPE_VIDEO) {
        aie_errf(w->err, sizeof(w->err), "%s: no video encoder named '%s'", w->path,
                 cname ? cname : "(default)");
        return AIE_EUNSUP;
    }
    snprintf(w->codec_name, sizeof(w->codec_name), "%s", codec->name);
    if (!w->y4m && avformat_query_codec(w->fmt->oformat, codec->id, FF_COMPLIANCE_NORMAL) == 0) {
        aie_errf(w->err, sizeof(w->err), "%s: the %s container cannot hold %s video", w->path, muxer,
                 codec->name);
        return AIE_EUNSUP;
    }
    int depth = w->o.depth ? w->o.depth : w->vi.depth;
    enum AVPixelFormat pf = choose_pixfmt(w, codec, w->vi.layout, depth);
    if (pf == AV_PIX_FMT_NONE) {
        aie_errf(w->err, sizeof(w->err), "%s: %s cannot encode %s", w->path, codec->name,
                 aie_layout_name(w->vi.layout));
        return AIE_EUNSUP;
    }
    AVCodecContext *c = w->enc = avcodec_alloc_context3(codec);
    if (!c)
        return AIE_ENOMEM;
    /* x264 and x265 want even sizes for subsampled chroma: the last column or
     * row is repeated (no source pixel is lost), and the tool says so */
    const AVPixFmtDescriptor *pd = av_pix_fmt_desc_get(pf);
    if (pd && needs_even_size(codec->name)) {
        w->pad_w = pd->log2_chroma_w > 0 ? w->vi.width & 1 : 0;
        w->pad_h = pd->log2_chroma_h > 0 ? w->vi.height & 1 : 0;
    }
    if (w->pad_w || w->pad_h)
        warnf(w, "%s: %s %s needs an even size: %dx%d padded to %dx%d by repeating the last %s",
              w->path, codec->name, av_get_pix_fmt_name(pf), w->vi.width, w->vi.height,
              w->vi.width + w->pad_w, w->vi.height + w->pad_h,
              w->pad_w && w->pad_h ? "column and row" : w->pad_w ? "column" : "row");
    c->width = w->vi.width + w->pad_w;
    c->height = w->vi.height + w->pad_h;
    c->pix_fmt = pf;
    AVRational fps = {w->vi.fps.num, w->vi.fps.den};
    if (fps.num <= 0 || fps.den <= 0)
        fps = (AVRational){25, 1};
    c->framerate = fps;
    if (w->y4m || w->vi.time_base.num <= 0 || w->vi.time_base.den <= 0)
        c->time_base = av_inv_q(fps); /* y4m: one tick per frame */
    else
        c->time_base = (AVRational){w->vi.time_base.num, w->vi.time_base.den};
    if (w->vi.sar.num > 0 && w->vi.sar.den > 0)
        c->sample_aspect_ratio = (AVRational){w->vi.sar.num, w->vi.sar.den};
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(pf);
    int out_rgb = d && (d->flags & AV_PIX_FMT_FLAG_RGB);
    int in_rgb = w->vi.layout == AIE_LAYOUT_RGB || w->vi.layout == AIE_LAYOUT_RGBA;
    AieColor col = w->vi.color;
    if (in_rgb && !out_rgb) { /* RGB sources are converted with BT.709 (HD) or BT.601 */
        col.matrix = w->vi.height >= 720 ? 1 : 6;
        col.range = 1;
        if (col.primaries == 2 || !col.primaries)
            col.primaries = w->vi.height >= 720 ? 1 : 6;
    }
    if (out_rgb) {
        col.matrix = 0;
        col.range = 2;
    }
    if (!out_rgb && !col.range)
        col.range = 1;
    w->out_range = col.range;
    w->out_matrix = col.matrix;
    c->color_range = col.range;
    c->color_primaries = col.primaries;
    c->color_trc = col.transfer;
    c->colorspace = col.matrix;
    c->chroma_sample_location = col.chroma_loc;
    c->thread_count = w->o.threads;
    if (w->fmt->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

    int err = 0;
    char num[32];
    int is_x264 = !strcmp(codec->name, "libx264") || !strcmp(codec->name, "libx264rgb");
    int is_vp9 = !strcmp(codec->name, "libvpx-vp9");
    if (w->o.lossless) {
        if (is_x264)
            err = set_opt(w, "qp", "0", 1);
        else if (is_vp9)
            err = set_opt(w, "lossless", "1", 1);
        else if (strcmp(codec->name, "ffv1") && !w->y4m) {
            aie_errf(w->err, sizeof(w->err), "%s: --lossless needs ffv1, libx264 or libvpx-vp9, not %s",
                     w->path, codec->name);
            return AIE_EINVAL;
        }
        if (!strcmp(codec->name, "ffv1")) {
            set_opt(w, "level", "3", 0);
            set_opt(w, "slicecrc", "1", 0);
            set_opt(w, "slices", "4", 0);
        }
    } else if (is_x264) {
        snprintf(num, sizeof(num), "%d", w->o.crf >= 0 ? w->o.crf : 18);
        err = set_opt(w, "crf", num, 1);
    } else if (is_vp9) {
        snprintf(num, sizeof(num), "%d", w->o.crf >= 0 ? w->o.crf : 31);
        err = set_opt(w, "crf", num, 1);
        c->bit_rate = 0;
        set_opt(w, "row-mt", "1", 0);
    } else if (w->o.crf >= 0) {
        snprintf(num, sizeof(num), "%d", w->o.crf);
        err = set_opt(w, "crf", num, 1);
    } else if (!strcmp(codec->name, "mpeg4") || !strcmp(codec->name, "mjpeg")) {
        c->flags |= AV_CODEC_FLAG_QSCALE;
        c->global_quality = FF_QP2LAMBDA * 2;
    }
    if (err)
        return err;
    if (w->o.preset && (err = set_opt(w, is_vp9 ? "deadline" : "preset", w->o.preset, 1)))
        return err;
    for (int i = 0; i < w->o.n_encoder_opts; i++) {
        const char *kv = w->o.encoder_opts[i];
        const char *eq = strchr(kv, '=');
        char key[128];
        if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
            aie_errf(w->err, sizeof(w->err), "--encoder-opt '%s': expected key=value", kv);
            return AIE_EINVAL;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
        if ((err = set_opt(w, key, eq + 1, 1)))
            return err;
    }
    int ret = avcodec_open2(c, codec, NULL);
    if (ret < 0) {
        aie_errf(w->err, sizeof(w->err), "%s: cannot open the %s encoder (%s)", w->path, codec->name,
                 aie_io_averr_str(ret, ebuf));
        return AIE_EENCODE;
    }
    w->vst = avformat_new_stream(w->fmt, NULL);
    if (!w->vst || avcodec_parameters_from_context(w->vst->codecpar, c) < 0)
        return AIE_ENOMEM;
    w->vst->time_base = c->time_base;
    w->vst->avg_frame_rate = fps;
    w->vst->r_frame_rate = fps;
    w->vst->sample_aspect_ratio = c->sample_aspect_ratio;
    w->avf = av_frame_alloc();
    w->pkt = av_packet_alloc();
    if (!w->avf || !w->pkt)
        return AIE_ENOMEM;
    return 0;
}

/* Copy the source's other streams, chapters and metadata. */
static int setup_copy(AieWriter *w, AieReader *src)
{
    const ReaderSource *s = aie_reader_source(src);
    if (!s->fmt)
        return 0;
    AVFormatContext *in = s->fmt;
    w->src_fmt = in;
    w->in_vtb = in->streams[s->video_index]->time_base;
    w->rsrc = s;
    AVStream *ivs = in->streams[s->video_index];
    if (av_dict_copy(&w->fmt->metadata, in->metadata, 0) < 0 ||
        av_dict_copy(&w->vst->metadata, ivs->metadata, 0) < 0)
        return AIE_ENOMEM;
    av_dict_set(&w->vst->metadata, "encoder", NULL, 0);
    w->vst->disposition = ivs->disposition;
    /* HDR and orientation side data of the video stream */
    static const enum AVPacketSideDataType keep[] = {AV_PKT_DATA_DISPLAYMATRIX,
                                                     AV_PKT_DATA_MASTERING_DISPLAY_METADATA,
                                                     AV_PKT_DATA_CONTENT_LIGHT_LEVEL};
    for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
        size_t size = 0;
        const uint8_t *sd = av_stream_get_side_data(ivs, keep[k], &size);
        if (sd && size) {
            uint8_t *dst = av_stream_new_side_data(w->vst, keep[k], size);
            if (!dst)
                return AIE_ENOMEM;
            memcpy(dst, sd, size);
        }
    }
    /* The rotation is a display matrix, which only the MOV family of muxers
     * stores here (FFmpeg 5.1's Matroska muxer has no field for it). */
    size_t dsize = 0;
    const uint8_t *dm = av_stream_get_side_data(ivs, AV_PKT_DATA_DISPLAYMATRIX, &dsize);
    const char *mn = w->fmt->oformat->name;
    static const char *const rotating[] = {"mp4", "mov", "ipod", "3gp", "3g2", "ismv", "psp"};
    int keeps = 0;
    for (size_t k = 0; k < sizeof(rotating) / sizeof(rotating[0]); k++)
        keeps |= !w->y4m && !strcmp(mn, rotating[k]);
    if (dm && dsize >= 9 * sizeof(int32_t) && !keeps) {
        double rot = av_display_rotation_get((const int32_t *)dm);
        if (!isnan(rot) && fabs(rot) > 0.5)
            warnf(w, "%s: the %s container cannot record the input's rotation (%.0f degrees): the video is stored "
                     "unrotated (.mp4 and .mov keep it)", w->path, w->y4m ? "y4m" : mn, fabs(rot));
    }
    w->nmap = (int)in->nb_streams;
    w->map = malloc((size_t)w->nmap * sizeof(*w->map));
    if (!w->map)
        return AIE_ENOMEM;
    w->aenc = calloc((size_t)w->nmap, sizeof(*w->aenc));
    w->in_pkts = calloc((size_t)w->nmap, sizeof(*w->in_pkts));
    if (!w->aenc || !w->in_pkts)
        return AIE_ENOMEM;
    int mode = w->o.no_audio ? AIE_AUDIO_DROP : w->o.audio;
    for (int i = 0; i < w->nmap; i++) {
        AVStream *ist = in->streams[i];
        w->map[i] = -1;
        if (i == s->video_index || ist->discard == AVDISCARD_ALL || mode == AIE_AUDIO_DROP)
            continue;
        const AVCodec *enc = NULL;
        char why[512];
        int act = aie_io_audio_action(w->y4m ? NULL : w->fmt->oformat, ist, mode, i, &enc, why, sizeof(why));
        if (act == AIE_EUNSUP) {
            aie_errf(w->err, sizeof(w->err), "%s: %s", w->path, why);
            return act;
        }
        if (act < 0)
            return act;
        if (why[0])
            warnf(w, "%s: %s", w->path, why);
        if (act == IO_AUDIO_DROP)
            continue;
        if (act == IO_AUDIO_ENCODE) {
            char e[256] = "";
            int err = aie_io_aenc_open(&w->aenc[i], w->fmt, ist, enc, mux_cb, w, e, sizeof(e));
            if (err) {
                if (err != AIE_ENOMEM)
                    aie_errf(w->err, sizeof(w->err), "%s: stream #%d (%s audio): %s", s->path, i,
                             avcodec_get_name(ist->codecpar->codec_id), e);
                return err;
            }
            w->map[i] = aie_io_aenc_stream(w->aenc[i])->index;
            continue;
        }
        AVStream *ost = avformat_new_stream(w->fmt, NULL);
        if (!ost || avcodec_parameters_copy(ost->codecpar, ist->codecpar) < 0)
            return AIE_ENOMEM;
        ost->codecpar->codec_tag = 0;
        ost->time_base = ist->time_base;
        ost->disposition = ist->disposition;
        if (av_dict_copy(&ost->metadata, ist->metadata, 0) < 0)
            return AIE_ENOMEM;
        w->map[i] = ost->index;
    }
    return 0;
}

/* Chapters, shifted by the range start and clipped to the range. Called when
 * the header is written: the start is known by then. */
static int copy_chapters(AieWriter *w)
{
    if (!w->rsrc || !w->src_fmt)
        return 0;
    /* chapters, shifted by the range start and clipped to the range */
    const ReaderSource *s = w->rsrc;
    AVFormatContext *in = w->src_fmt;
    /* The range's end, from the frame count. Not s->end_pts: under the
     * pipeline the reader thread sets it whenever its read-ahead reaches the
     * end, so reading it here raced, and the chapters depended on timing. */
    int64_t start = s->start_pts, end = INT64_MAX;
    if (w->vi.nb_frames > 0 && w->vi.fps.num > 0)
        end = start + av_rescale_q(w->vi.nb_frames, (AVRational){w->vi.fps.den, w->vi.fps.num}, w->in_vtb);
    for (unsigned i = 0; i < in->nb_chapters; i++) {
        AVChapter *ic = in->chapters[i];
        int64_t cs = av_rescale_q(start, w->in_vtb, ic->time_base);
        int64_t ce = end == INT64_MAX ? INT64_MAX : av_rescale_q(end, w->in_vtb, ic->time_base);
        if (ic->end <= cs || ic->start >= ce)
            continue;
        AVChapter **nc = av_realloc_array(w->fmt->chapters, w->fmt->nb_chapters + 1, sizeof(*nc));
        if (!nc)
            return AIE_ENOMEM;
        w->fmt->chapters = nc;
        AVChapter *oc = av_mallocz(sizeof(*oc));
        if (!oc)
            return AIE_ENOMEM;
        oc->id = ic->id;
        oc->time_base = ic->time_base;
        oc->start = FFMAX(ic->start, cs) - cs;
        oc->end = (ce == INT64_MAX ? ic->end : FFMIN(ic->end, ce)) - cs;
        nc[w->fmt->nb_chapters++] = oc;
        if (av_dict_copy(&oc->metadata, ic->metadata, 0) < 0)
            return AIE_ENOMEM;
    }
    return 0;
}

/* The header goes out with the first frame, when the range start is known. */
static int ensure_header(AieWriter *w)
{
    if (w->header_written)
        return 0;
    int err = copy_chapters(w);
    if (err)
        return err;
    /* HDR10 side data that came in the video (HEVC SEI) rather than the
     * container: the first frame's, as stream side data for the muxer */
    if (w->rsrc && w->vst) {
        size_t size;
        if (w->rsrc->has_mdm && !av_stream_get_side_data(w->vst, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, &size)) {
            uint8_t *d = av_stream_new_side_data(w->vst, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, sizeof(w->rsrc->mdm));
            if (!d)
                return AIE_ENOMEM;
            memcpy(d, &w->rsrc->mdm, sizeof(w->rsrc->mdm));
        }
        if (w->rsrc->has_cll && !av_stream_get_side_data(w->vst, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, &size)) {
            uint8_t *d = av_stream_new_side_data(w->vst, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, sizeof(w->rsrc->cll));
            if (!d)
                return AIE_ENOMEM;
            memcpy(d, &w->rsrc->cll, sizeof(w->rsrc->cll));
        }
    }
    int ret = avformat_write_header(w->fmt, NULL);
    if (ret < 0)
        return fail_av(w, ret, "cannot write the header");
    w->header_written = 1;
    return 0;
}

static int open_av(AieWriter *w, AieReader *src)
{
    const char *muxer = NULL;
    int is_stdout = !strcmp(w->path, "-");
    /* stdout, and devices or FIFOs with no known extension (/dev/null), get y4m */
    int device = aie_fs_out_direct(w->out) && !av_guess_format(NULL, w->path, NULL);
    if (is_stdout || device || has_ext(w->path, ".y4m")) {
        muxer = "yuv4mpegpipe";
        w->y4m = 1;
    }
    int ret = avformat_alloc_output_context2(&w->fmt, NULL, muxer, muxer ? NULL : w->path);
    if (ret < 0 || !w->fmt) {
        if (ret == AVERROR(ENOMEM))
            return AIE_ENOMEM;
        aie_errf(w->err, sizeof(w->err),
                 "%s: unknown output format (use .mp4 .mkv .mov .webm .avi .y4m, a .png, a %%06d.png pattern or -)",
                 w->path);
        return AIE_EUNSUP;
    }
    const char *mname = w->fmt->oformat->name;
    if (!strcmp(mname, "image2") || !strcmp(mname, "image2pipe")) {
        aie_errf(w->err, sizeof(w->err), "%s: image output must be .png or a PNG pattern", w->path);
        return AIE_EUNSUP;
    }
    int err = open_encoder(w, mname);
    if (err)
        return err;
    if (src && (err = setup_copy(w, src)))
        return err;
    w->last_dts = malloc(w->fmt->nb_streams * sizeof(*w->last_dts));
    if (!w->last_dts)
        return AIE_ENOMEM;
    for (unsigned i = 0; i < w->fmt->nb_streams; i++)
        w->last_dts[i] = AV_NOPTS_VALUE;
    /* our own descriptor (lib/fs: O_EXCL|O_NOFOLLOW temporary), never a
     * name libavformat would open and follow */
    if (!(w->fmt->oformat->flags & AVFMT_NOFILE) && (err = aie_io_avio_open(&w->fmt->pb, w->out)))
        return err;
    /* FLAC or Opus in MP4 and the like are fine to copy */
    w->fmt->strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL;
    return 0;
}

int aie_writer_open(AieWriter **out, const char *path, const AieVideoInfo *vi, AieReader *src,
                    const AieWriterOpts *opts, char *err, size_t errlen)
{
    *out = NULL;
    aie_io_silence_libav();
    AieWriter *w = calloc(1, sizeof(*w));
    if (!w)
        return AIE_ENOMEM;
    w->o = opts ? *opts : (AieWriterOpts){.crf = -1, .png_compression = -1};
    w->vi = *vi;
    w->last_pts = INT64_MIN;
    snprintf(w->path, sizeof(w->path), "%s", path);
    const char *in_path = src ? aie_reader_source(src)->path : NULL;
    AieFsOutOpts fo = {.inputs = &in_path, .ninputs = in_path ? 1 : 0, .no_clobber = w->o.no_clobber};
    int e;
    if (vi->width > AIE_MAX_DIM || vi->height > AIE_MAX_DIM) {
        aie_errf(w->err, sizeof(w->err), "%s: %dx%d is larger than %d pixels on a side", path,
                 vi->width, vi->height, AIE_MAX_DIM);
        e = AIE_ETOOBIG;
        goto fail;
    }
    if (vi->width < 1 || vi->height < 1) {
        aie_errf(w->err, sizeof(w->err), "%s: invalid size %dx%d", path, vi->width, vi->height);
        e = AIE_EINVAL;
        goto fail;
    }
    if (w->o.depth && w->o.depth != 8 && w->o.depth != 10 && w->o.depth != 12 && w->o.depth != 16) {
        aie_errf(w->err, sizeof(w->err), "bit depth %d: expected 8, 10, 12 or 16", w->o.depth);
        e = AIE_EINVAL;
        goto fail;
    }
    if (aie_io_is_pattern(path)) {
        if (!has_ext(path, ".png")) {
            aie_errf(w->err, sizeof(w->err), "%s: image sequences must be PNG", path);
            e = AIE_EUNSUP;
            goto fail;
        }
        w->kind = KIND_PNG_SEQ;
        char first[PATH_MAX];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(first, sizeof(first), path, 1);
#pragma GCC diagnostic pop
        if (in_path && aie_io_is_pattern(in_path) && same_sequence(in_path, path)) {
            aie_errf(w->err, sizeof(w->err), "%s: output frames would replace the input frames (%s)", path, in_path);
            e = AIE_ESAME;
            goto fail;
        }
        if ((e = aie_fs_out_open(&w->out, first, &fo, w->err, sizeof(w->err))))
            goto fail;
    } else {
        if ((e = aie_fs_out_open(&w->out, path, &fo, w->err, sizeof(w->err))))
            goto fail;
        w->kind = has_ext(path, ".png") ? KIND_PNG : KIND_AV;
    }
    if (w->kind != KIND_AV) {
        int depth = w->o.depth ? w->o.depth : vi->depth;
        w->png_depth = depth > 8 ? 16 : 8;
        w->png_layout = vi->layout == AIE_LAYOUT_RGBA ? AIE_LAYOUT_RGBA
                        : vi->layout == AIE_LAYOUT_GRAY ? AIE_LAYOUT_GRAY
                                                        : AIE_LAYOUT_RGB;
        snprintf(w->codec_name, sizeof(w->codec_name), "png");
    } else if ((e = open_av(w, src))) {
        goto fail;
    }
    *out = w;
    return 0;
fail:
    aie_errf(err, errlen, "%s", w->err[0] ? w->err : aie_strerror(e));
    aie_writer_close(&w);
    return e;
}

/* ---- writing ---- */

static int cancelled(AieWriter *w)
{
    if (!aie_cancel_requested(w->o.cancel))
        return 0;
    aie_errf(w->err, sizeof(w->err), "%s: cancelled", w->path);
    w->failed = 1;
    return 1;
}

/* Packets the encoder has ready; at the end (flushing) the frames it still
 * holds come out one by one, reported through o.finishing and stopped by the
 * cancel token. */
static int drain_encoder(AieWriter *w, int flushing)
{
    for (;;) {
        if (flushing) {
            if (cancelled(w))
                return AIE_ECANCELLED;
            if (w->o.finishing)
                w->o.finishing(w->o.finishing_opaque, w->frames - w->packets);
        }
        int ret = avcodec_receive_packet(w->enc, w->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return fail_av(w, ret, "encoding failed");
        w->packets++;
        w->pkt->stream_index = w->vst->index;
        av_packet_rescale_ts(w->pkt, w->enc->time_base, w->vst->time_base);
        ret = av_interleaved_write_frame(w->fmt, w->pkt);
        if (ret < 0)
            return fail_av(w, ret, "write failed");
    }
}

/* A re-encoder failed: the muxer's message, or the encoder's. */
static int fail_audio(AieWriter *w, int ret)
{
    if (w->mux_err)
        return w->mux_err;
    char ebuf[AV_ERROR_MAX_STRING_SIZE];
    int is = w->cur_in;
    aie_errf(w->err, sizeof(w->err), "%s: stream #%d (%s audio) packet %lld: re-encoding to %s failed (%s)",
             w->rsrc->path, is, avcodec_get_name(w->src_fmt->streams[is]->codecpar->codec_id),
             (long long)w->in_pkts[is], aie_io_aenc_codec(w->aenc[is]), aie_io_averr_str(ret, ebuf));
    w->failed = 1;
    return ret == AVERROR(ENOMEM) ? AIE_ENOMEM : AIE_EENCODE;
}

static int write_aux(AieWriter *w, AuxList *l)
{
    for (int i = 0; l && i < l->n; i++) {
        AVPacket *p = l->pkts[i];
        if (!w->map || p->stream_index < 0 || p->stream_index >= w->nmap || w->map[p->stream_index] < 0)
            continue;
        int is = w->cur_in = p->stream_index;
        w->in_pkts[is]++;
        AVStream *ist = w->src_fmt->streams[is];
        AVStream *ost = w->fmt->streams[w->map[is]];
        int64_t in_pts = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
        int64_t shift = av_rescale_q(w->rsrc->start_pts, w->in_vtb, ist->time_base);
        if (p->pts != AV_NOPTS_VALUE)
            p->pts -= shift;
        if (p->dts != AV_NOPTS_VALUE)
            p->dts -= shift;
        if (w->aenc[is]) {
            int ret = aie_io_aenc_packet(w->aenc[is], p);
            av_packet_unref(p);
            if (ret < 0)
                return fail_audio(w, ret);
            continue;
        }
        av_packet_rescale_ts(p, ist->time_base, ost->time_base);
        p->stream_index = ost->index;
        p->pos = -1;
        int err = mux_carried(w, p, in_pts);
        if (err)
            return err;
    }
    return 0;
}

/* Drain the audio re-encoders, cut at the end of a --frames range. */
static int finish_audio(AieWriter *w)
{
    int64_t end_us = INT64_MAX;
    if (w->rsrc && w->rsrc->end_pts != INT64_MAX)
        end_us = av_rescale_q(w->rsrc->end_pts - w->rsrc->start_pts, w->in_vtb, AV_TIME_BASE_Q);
    for (int i = 0; w->aenc && i < w->nmap; i++) {
        if (!w->aenc[i])
            continue;
        w->cur_in = i;
        int ret = aie_io_aenc_finish(w->aenc[i], end_us);
        if (ret < 0)
            return fail_audio(w, ret);
        int64_t bad = aie_io_aenc_bad_packets(w->aenc[i]);
        if (bad > 0)
            warnf(w, "%s: stream #%d (%s audio): %lld damaged packet%s skipped while re-encoding", w->rsrc->path, i,
                  avcodec_get_name(w->src_fmt->streams[i]->codecpar->codec_id), (long long)bad, bad == 1 ? "" : "s");
    }
    return 0;
}

static void unref_aie(void *opaque, uint8_t *data)
{
    (void)data;
    AieFrame *f = opaque;
    aie_frame_unref(&f);
}

static int write_av(AieWriter *w, AieFrame *f)
{
    int err = ensure_header(w);
    if (err)
        return err;
    AVFrame *a = w->avf;
    av_frame_unref(a);
    a->format = w->enc->pix_fmt;
    a->width = w->enc->width;
    a->height = w->enc->height;
    enum AVPixelFormat ffmt = aie_pixfmt_from_aie(f->layout, f->depth);
    if (ffmt == a->format && f->layout != AIE_LAYOUT_RGB && f->layout != AIE_LAYOUT_RGBA &&
        f->width == a->width && f->height == a->height) {
        /* zero copy: the AVFrame references the AieFrame */
        AieFrame *ref = aie_frame_ref(f);
        a->buf[0] = av_buffer_create(f->data[0], 1, unref_aie, ref, 0);
        if (!a->buf[0]) {
            aie_frame_unref(&ref);
            return AIE_ENOMEM;
        }
        for (int i = 0; i < f->nplanes; i++) {
            a->data[i] = f->data[i];
            a->linesize[i] = (int)f->stride[i];
        }
        a->extended_data = a->data;
    } else {
        int ret = av_frame_get_buffer(a, 0);
        if (ret < 0)
            return fail_av(w, ret, "out of memory");
        /* padded: convert into the top-left f->width x f->height, then fill the edge */
        AVFrame view = *a;
        view.width = f->width;
        view.height = f->height;
        if ((err = aie_convert_to_av(&w->conv, f, &view, w->out_range, w->out_matrix))) {
            aie_errf(w->err, sizeof(w->err), "%s: cannot convert %s to %s", w->path,
                     aie_layout_name(f->layout), av_get_pix_fmt_name(a->format));
            return err;
        }
        if (w->pad_w || w->pad_h)
            replicate_edges(a, f->width, f->height);
    }
    int64_t pts;
    if (w->y4m || f->pts == INT64_MIN)
        pts = w->frames;
    else
        pts = av_rescale_q(f->pts, (AVRational){f->time_base.num, f->time_base.den}, w->enc->time_base);
    if (pts <= w->last_pts)
        pts = w->last_pts + 1;
    w->last_pts = pts;
    a->pts = pts;
    a->color_range = w->enc->color_range;
    a->color_primaries = w->enc->color_primaries;
    a->color_trc = w->enc->color_trc;
    a->colorspace = w->enc->colorspace;
    a->chroma_location = w->enc->chroma_sample_location;
    if (f->sar.num > 0)
        a->sample_aspect_ratio = (AVRational){f->sar.num, f->sar.den};
    int ret = avcodec_send_frame(w->enc, a);
    av_frame_unref(a);
    if (ret < 0)
        return fail_av(w, ret, "encoding failed");
    if ((err = drain_encoder(w, 0)))
        return err;
    return write_aux(w, f->aux);
}

static int write_png_file(AieWriter *w, AieFsOut *ao, const AieFrame *f)
{
    AieFrame *conv = NULL;
    const AieFrame *src = f;
    int err = 0;
    if (f->layout != w->png_layout || (f->depth != 8 && f->depth != 16)) {
        int d = w->png_depth;
        if ((err = aie_convert_aie(&w->conv, f, w->png_layout, d, 2, &conv))) {
            aie_errf(w->err, sizeof(w->err), "%s: cannot convert %s to RGB", aie_fs_out_path(ao),
                     aie_layout_name(f->layout));
            return err;
        }
        src = conv;
    }
    int fd = dup(aie_fs_out_fd(ao)); /* the FILE closes its own copy */
    FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!fp) {
        int en = errno;
        if (fd >= 0)
            close(fd);
        aie_errf(w->err, sizeof(w->err), "%s: %s", aie_fs_out_path(ao), strerror(en));
        aie_frame_unref(&conv);
        return aie_error_from_errno(en);
    }
    char e[256] = "";
    err = aie_png_write(fp, src, w->png_depth, e, sizeof(e));
    int ferr = ferror(fp) ? errno : 0;
    if (fclose(fp) != 0 && !ferr)
        ferr = errno;
    aie_frame_unref(&conv);
    if (!err && ferr)
        err = aie_error_from_errno(ferr);
    if (err) {
        aie_errf(w->err, sizeof(w->err), "%s: %s", aie_fs_out_path(ao),
                 ferr ? strerror(ferr) : (*e ? e : aie_strerror(err)));
        return err;
    }
    return 0;
}

int aie_writer_write(AieWriter *w, AieFrame *f)
{
    if (w->failed || w->finished)
        return AIE_EINVAL;
    if (f->width != w->vi.width || f->height != w->vi.height) {
        aie_errf(w->err, sizeof(w->err), "%s: frame is %dx%d, the output %dx%d", w->path, f->width,
                 f->height, w->vi.width, w->vi.height);
        w->failed = 1;
        return AIE_EINVAL;
    }
    int err = 0;
    if (w->kind == KIND_AV) {
        err = write_av(w, f);
    } else if (w->kind == KIND_PNG) {
        if (w->frames > 0) {
            aie_errf(w->err, sizeof(w->err),
                     "%s: a .png holds one image; name a pattern such as out/%%06d.png for a sequence",
                     w->path);
            err = AIE_EINVAL;
        } else {
            err = write_png_file(w, w->out, f);
        }
    } else {
        /* frame 1's file was opened with the writer; each frame is its own
         * temp-then-rename, so the frames finished stay after a failure */
        if (!w->out) {
            char name[PATH_MAX];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
            snprintf(name, sizeof(name), w->path, (int)(w->frames + 1));
#pragma GCC diagnostic pop
            AieFsOutOpts fo = {.no_clobber = w->o.no_clobber};
            if ((err = aie_fs_out_open(&w->out, name, &fo, w->err, sizeof(w->err)))) {
                w->failed = 1;
                return err;
            }
        }
        err = write_png_file(w, w->out, f);
        if (!err)
            err = aie_fs_out_commit(&w->out, w->err, sizeof(w->err));
        aie_fs_out_abort(&w->out);
    }
    if (err) {
        w->failed = 1;
        return err;
    }
    w->frames++;
    return 0;
}

int aie_writer_finish(AieWriter *w)
{
    if (w->finished)
        return 0;
    if (w->failed)
        return AIE_EINVAL;
    int err = 0;
    if (cancelled(w))
        return AIE_ECANCELLED;
    if (w->kind == KIND_AV) {
        if ((err = ensure_header(w)) || (err = finish_audio(w)))
            return err;
        if (w->packets_fixed > 0) {
            const AVStream *ist = w->src_fmt->streams[w->fixed_stream];
            warnf(w, "%s: %lld packet%s with non-monotonic timestamps repaired (first in stream #%d, %s %s)",
                  w->rsrc->path, (long long)w->packets_fixed, w->packets_fixed == 1 ? "" : "s", w->fixed_stream,
                  avcodec_get_name(ist->codecpar->codec_id), av_get_media_type_string(ist->codecpar->codec_type));
        }
        int ret = avcodec_send_frame(w->enc, NULL);
        if (ret < 0 && ret != AVERROR_EOF)
            return fail_av(w, ret, "encoding failed");
        if ((err = drain_encoder(w, 1)))
            return err;
        if (w->o.finishing)
            w->o.finishing(w->o.finishing_opaque, 0);
        ret = av_write_trailer(w->fmt);
        if (ret < 0)
            return fail_av(w, ret, "cannot finish the file");
        if (w->fmt->pb && !(w->fmt->oformat->flags & AVFMT_NOFILE) && (ret = aie_io_avio_close(&w->fmt->pb)) < 0)
            return fail_av(w, ret, "write failed");
    }
    if (w->kind == KIND_PNG && w->frames == 0) {
        aie_errf(w->err, sizeof(w->err), "%s: no frame to write", w->path);
        w->failed = 1;
        return AIE_EEMPTY;
    }
    /* the rename is the commit point: a cancel before it leaves no output, and
     * once it is done the run has succeeded (DECISIONS.md "Signals") */
    if (cancelled(w))
        return AIE_ECANCELLED;
    if (w->kind != KIND_PNG_SEQ && (err = aie_fs_out_commit(&w->out, w->err, sizeof(w->err)))) {
        w->failed = 1;
        return err;
    }
    w->finished = 1;
    return 0;
}

int64_t aie_writer_frames(const AieWriter *w) { return w->frames; }

int64_t aie_writer_packets_fixed(const AieWriter *w) { return w ? w->packets_fixed : 0; }

const char *aie_writer_temp_path(const AieWriter *w)
{
    const char *t = w ? aie_fs_out_temp(w->out) : "";
    return *t ? t : NULL;
}

const char *aie_writer_codec(const AieWriter *w) { return w->codec_name; }

const char *aie_writer_pix_fmt(const AieWriter *w)
{
    if (w->kind != KIND_AV) {
        static const char *const names[2][3] = {{"gray", "rgb24", "rgba"},
                                                {"gray16be", "rgb48be", "rgba64be"}};
        int l = w->png_layout == AIE_LAYOUT_GRAY ? 0 : w->png_layout == AIE_LAYOUT_RGB ? 1 : 2;
        return names[w->png_depth > 8][l];
    }
    const char *n = w->enc ? av_get_pix_fmt_name(w->enc->pix_fmt) : NULL;
    return n ? n : "";
}

/* The CRF range of an encoder, from its "crf" option (x264/x265 0-51, VP9
 * and AV1 0-63); 0 when it has none. */
static int crf_range(const AVCodec *codec, int *lo, int *hi)
{
    if (codec && (!strncmp(codec->name, "libx264", 7) || !strcmp(codec->name, "libx265"))) {
        *lo = 0; /* their option says FLT_MAX; the scale ends at 51 */
        *hi = 51;
        return 1;
    }
    const AVClass *cls = codec ? codec->priv_class : NULL;
    const AVOption *opt = cls ? av_opt_find(&cls, "crf", NULL, 0, AV_OPT_SEARCH_FAKE_OBJ) : NULL;
    if (!opt)
        return 0;
    *lo = opt->min < 0 ? 0 : (int)opt->min;
    *hi = opt->max > 1000 ? 1000 : (int)opt->max;
    return 1;
}

int aie_writer_plan(const char *path, const AieWriterOpts *o, AieOutputPlan *plan)
{
    memset(plan, 0, sizeof(*plan));
    plan->crf = -1;
    if (aie_io_is_pattern(path) || has_ext(path, ".png")) {
        snprintf(plan->kind, sizeof(plan->kind), aie_io_is_pattern(path) ? "png-sequence" : "png");
        snprintf(plan->container, sizeof(plan->container), "png");
        snprintf(plan->codec, sizeof(plan->codec), "png");
        return 0;
    }
    const AVOutputFormat *of = NULL;
    if (strcmp(path, "-") && !has_ext(path, ".y4m"))
        of = av_guess_format(NULL, path, NULL);
    if (of && (!strcmp(of->name, "image2") || !strcmp(of->name, "image2pipe")))
        of = NULL;
    if (!of) { /* stdout, .y4m, devices */
        if (strcmp(path, "-") && !has_ext(path, ".y4m") && strncmp(path, "/dev/", 5)) {
            aie_errf(plan->error, sizeof(plan->error),
                     "%s: unknown output format: name it .mp4 .mkv .mov .webm .avi .y4m, a .png, a %%06d.png pattern or -",
                     path);
            return AIE_EUNSUP;
        }
        snprintf(plan->kind, sizeof(plan->kind), "y4m");
        snprintf(plan->container, sizeof(plan->container), "yuv4mpegpipe");
        snprintf(plan->codec, sizeof(plan->codec), "rawvideo");
        return 0;
    }
    snprintf(plan->kind, sizeof(plan->kind), "video");
    snprintf(plan->container, sizeof(plan->container), "%s", of->name);
    const char *c = o && o->codec ? o->codec : default_codec(o && o->lossless, of->name);
    const AVCodec *codec = c ? avcodec_find_encoder_by_name(c) : avcodec_find_encoder(of->video_codec);
    snprintf(plan->codec, sizeof(plan->codec), "%s", codec ? codec->name : (c ? c : "?"));
    if (!codec || codec->type != AVMEDIA_TYPE_VIDEO) {
        aie_errf(plan->error, sizeof(plan->error), "--codec: no video encoder named '%s'", c ? c : "(default)");
        return AIE_EUNSUP;
    }
    /* the same refusal as aie_writer_open(), so --dry-run agrees with the run */
    if (avformat_query_codec(of, codec->id, FF_COMPLIANCE_NORMAL) == 0) {
        aie_errf(plan->error, sizeof(plan->error), "%s: the %s container cannot hold %s video", path, of->name,
                 codec->name);
        return AIE_EUNSUP;
    }
    int lossless = o && o->lossless, lo = 0, hi = 0;
    int has_crf = crf_range(codec, &lo, &hi);
    if (o && o->crf >= 0 && (!has_crf || o->crf < lo || o->crf > hi)) {
        if (has_crf)
            aie_errf(plan->error, sizeof(plan->error), "--crf %d: %s takes %d to %d", o->crf, codec->name, lo, hi);
        else
            aie_errf(plan->error, sizeof(plan->error), "--crf: %s has no constant-quality mode", codec->name);
        return AIE_EINVAL;
    }
    if (!strcmp(plan->codec, "libx264") && !lossless)
        plan->crf = o && o->crf >= 0 ? o->crf : 18;
    else if (!strcmp(plan->codec, "libvpx-vp9") && !lossless)
        plan->crf = o && o->crf >= 0 ? o->crf : 31;
    else if (o && o->crf >= 0)
        plan->crf = o->crf;
    return 0;
}

int aie_writer_audio_plan(const char *path, const AieWriterOpts *o, const AieReader *src, char *text,
                          size_t textlen, char *error, size_t errlen)
{
    text[0] = 0;
    error[0] = 0;
    const ReaderSource *s = src ? aie_reader_source(src) : NULL;
    if (!s || !s->fmt)
        return 0;
    AieOutputPlan plan;
    const AVOutputFormat *of = NULL;
    if (aie_writer_plan(path, o, &plan) == 0 && !strcmp(plan.kind, "video"))
        of = av_guess_format(plan.container, NULL, NULL);
    struct stat st;
    if (strcmp(path, "-") && stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !av_guess_format(NULL, path, NULL))
        of = NULL; /* a device or FIFO without a known extension gets y4m */
    int mode = o && o->no_audio ? AIE_AUDIO_DROP : o ? o->audio : AIE_AUDIO_AUTO;
    size_t len = 0;
    for (unsigned i = 0; i < s->fmt->nb_streams; i++) {
        const AVStream *ist = s->fmt->streams[i];
        if ((int)i == s->video_index || ist->discard == AVDISCARD_ALL ||
            ist->codecpar->codec_type != AVMEDIA_TYPE_AUDIO)
            continue;
        const AVCodec *enc = NULL;
        char why[512];
        int act = mode == AIE_AUDIO_DROP ? IO_AUDIO_DROP
                                         : aie_io_audio_action(of, ist, mode, (int)i, &enc, why, sizeof(why));
        if (act == AIE_EUNSUP) {
            aie_errf(error, errlen, "%s: %s", path, why);
            return act;
        }
        if (act < 0)
            return act;
        const char *cn = avcodec_get_name(ist->codecpar->codec_id);
        int n = act == IO_AUDIO_COPY ? snprintf(text + len, textlen - len, "%scopy %s", len ? ", " : "", cn)
                : act == IO_AUDIO_ENCODE
                    ? snprintf(text + len, textlen - len, "%sencode %s -> %s", len ? ", " : "", cn, enc->name)
                    : snprintf(text + len, textlen - len, "%sdrop %s", len ? ", " : "", cn);
        if (n > 0 && (size_t)n < textlen - len)
            len += (size_t)n;
    }
    return 0;
}

const char *aie_writer_error(const AieWriter *w) { return w->err; }

void aie_writer_close(AieWriter **pw)
{
    AieWriter *w = pw ? *pw : NULL;
    if (!w)
        return;
    *pw = NULL;
    if (w->fmt && w->fmt->pb && !(w->fmt->oformat->flags & AVFMT_NOFILE))
        aie_io_avio_close(&w->fmt->pb);
    aie_fs_out_abort(&w->out); /* NULL once committed */
    avcodec_free_context(&w->enc);
    avformat_free_context(w->fmt);
    av_frame_free(&w->avf);
    av_packet_free(&w->pkt);
    aie_converter_free(&w->conv);
    for (int i = 0; w->aenc && i < w->nmap; i++)
        aie_io_aenc_free(&w->aenc[i]);
    free(w->aenc);
    free(w->in_pkts);
    free(w->last_dts);
    free(w->map);
    free(w);
}

int aie_image_write_png(const char *path, const AieFrame *f, int depth, char *err, size_t errlen)
{
    AieVideoInfo vi = {0};
    vi.width = f->width;
    vi.height = f->height;
    vi.layout = f->layout;
    vi.depth = f->depth;
    vi.fps = (AieRational){1, 1};
    vi.time_base = (AieRational){1, 1};
    vi.color = f->color;
    AieWriterOpts o = {.crf = -1, .depth = depth, .png_compression = -1};
    AieWriter *w = NULL;
    int e = has_ext(path, ".png") ? 0 : AIE_EINVAL;
    if (e) {
        aie_errf(err, errlen, "%s: not a .png name", path);
        return e;
    }
    if ((e = aie_writer_open(&w, path, &vi, NULL, &o, err, errlen)))
        return e;
    if ((e = aie_writer_write(w, (AieFrame *)f)) || (e = aie_writer_finish(w)))
        aie_errf(err, errlen, "%s", aie_writer_error(w));
    aie_writer_close(&w);
    return e;
}
