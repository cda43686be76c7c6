/* Audio the output container cannot hold as it is: decode, convert
 * (libswresample: sample format, rate, channel layout), re-encode with the
 * container's usual codec (Opus for WebM and Matroska, AAC for MP4/MOV),
 * trimmed to the video's time span. Private to lib/io (the writer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "io_internal.h"

struct AieAudioEnc {
    AVStream *ist, *ost;
    AVCodecContext *dec, *enc;
    SwrContext *swr;
    AVAudioFifo *fifo;
    AVFrame *in, *conv, *out;
    AVPacket *pkt;
    int frame_size;      /* samples per encoder frame */
    int holdback;        /* samples kept in the FIFO until the end is known */
    int started;
    int64_t next_pts;    /* next output sample (encoder time base 1/rate) */
    int64_t skip;        /* converted samples still to drop from the FIFO front */
    int64_t bad;         /* packets the decoder refused */
    int (*mux)(void *opaque, AVPacket *pkt);
    void *mux_opaque;
};

/* The encoder a container usually takes for audio. */
static const AVCodec *container_encoder(const AVOutputFormat *of)
{
    const char *n = of->name;
    const AVCodec *c = NULL;
    if (!strcmp(n, "webm") || !strcmp(n, "matroska") || !strcmp(n, "ogg"))
        c = avcodec_find_encoder_by_name("libopus");
    else if (!strcmp(n, "mp4") || !strcmp(n, "mov") || !strcmp(n, "ipod") || !strcmp(n, "3gp"))
        c = avcodec_find_encoder_by_name("aac");
    if (!c && of->audio_codec != AV_CODEC_ID_NONE)
        c = avcodec_find_encoder(of->audio_codec);
    return c && c->type == AVMEDIA_TYPE_AUDIO ? c : NULL;
}

int aie_io_audio_action(const AVOutputFormat *of, const AVStream *ist, int mode, int stream,
                        const AVCodec **enc, char *why, size_t n)
{
    *enc = NULL;
    why[0] = 0;
    const char *cn = avcodec_get_name(ist->codecpar->codec_id);
    int audio = ist->codecpar->codec_type == AVMEDIA_TYPE_AUDIO;
    if (!of) { /* y4m or PNG: video only */
        if (audio && (mode == AIE_AUDIO_COPY || mode == AIE_AUDIO_ENCODE)) {
            aie_errf(why, n, "--audio %s: this output holds video only (stream #%d is %s audio); use --audio drop",
                     mode == AIE_AUDIO_COPY ? "copy" : "encode", stream, cn);
            return AIE_EUNSUP;
        }
        return IO_AUDIO_DROP;
    }
    int mux = aie_io_stream_muxable(of, ist);
    if (mux < 0)
        return mux;
    if (!audio) {
        if (!mux)
            aie_errf(why, n, "stream #%d (%s %s) cannot go into the %s container; dropped", stream,
                     av_get_media_type_string(ist->codecpar->codec_type), cn, of->name);
        return mux ? IO_AUDIO_COPY : IO_AUDIO_DROP;
    }
    if (mode == AIE_AUDIO_DROP)
        return IO_AUDIO_DROP;
    if (mode == AIE_AUDIO_COPY) {
        if (mux)
            return IO_AUDIO_COPY;
        aie_errf(why, n, "--audio copy: the %s container cannot hold %s audio (stream #%d); use --audio encode or drop",
                 of->name, cn, stream);
        return AIE_EUNSUP;
    }
    if (mode == AIE_AUDIO_AUTO && mux)
        return IO_AUDIO_COPY;
    const AVCodec *e = container_encoder(of);
    const AVCodec *d = avcodec_find_decoder(ist->codecpar->codec_id);
    if (e && avformat_query_codec(of, e->id, FF_COMPLIANCE_NORMAL) != 1)
        e = NULL;
    if (!e || !d) {
        if (!d)
            aie_errf(why, n, "stream #%d (%s audio): no decoder to re-encode it for the %s container", stream, cn,
                     of->name);
        else
            aie_errf(why, n, "stream #%d (%s audio): no audio encoder for the %s container", stream, cn, of->name);
        if (mode == AIE_AUDIO_ENCODE)
            return AIE_EUNSUP;
        size_t l = strlen(why);
        snprintf(why + l, n - l, "; dropped");
        return IO_AUDIO_DROP;
    }
    *enc = e;
    if (mode == AIE_AUDIO_AUTO)
        aie_errf(why, n, "stream #%d: the %s container cannot hold %s audio: re-encoded to %s", stream, of->name, cn,
                 e->name);
    return IO_AUDIO_ENCODE;
}

static int pick_rate(const AVCodec *c, int want)
{
    if (!strcmp(c->name, "libopus"))
        return 48000;
    const int *l = c->supported_samplerates;
    if (!l || want <= 0)
        return want > 0 ? want : 48000;
    int best = 0;
    for (int i = 0; l[i]; i++) {
        if (l[i] == want)
            return want;
        if (l[i] > want && (!best || l[i] < best))
            best = l[i];
    }
    if (!best)
        for (int i = 0; l[i]; i++)
            best = l[i] > best ? l[i] : best;
    return best;
}

static enum AVSampleFormat pick_fmt(const AVCodec *c)
{
    const enum AVSampleFormat *l = c->sample_fmts;
    if (!l)
        return AV_SAMPLE_FMT_FLTP;
    for (int i = 0; l[i] != AV_SAMPLE_FMT_NONE; i++)
        if (l[i] == AV_SAMPLE_FMT_FLTP || l[i] == AV_SAMPLE_FMT_FLT)
            return l[i];
    return l[0];
}

static int pick_layout(const AVCodec *c, const AVChannelLayout *in, AVChannelLayout *out)
{
    AVChannelLayout src = {0};
    int nch = in->nb_channels > 0 ? in->nb_channels : 2;
    if (in->order == AV_CHANNEL_ORDER_UNSPEC || in->nb_channels <= 0)
        av_channel_layout_default(&src, nch);
    else if (av_channel_layout_copy(&src, in) < 0)
        return AIE_ENOMEM;
    const AVChannelLayout *l = c->ch_layouts, *pick = NULL;
    if (!strcmp(c->name, "libopus")) {
        /* Opus takes the Vorbis channel orders (mapping family 1 above two
         * channels), up to 8: the resampler remaps or downmixes into them */
        static const AVChannelLayout vorbis[8] = {
            AV_CHANNEL_LAYOUT_MONO, AV_CHANNEL_LAYOUT_STEREO, AV_CHANNEL_LAYOUT_SURROUND,
            AV_CHANNEL_LAYOUT_QUAD, AV_CHANNEL_LAYOUT_5POINT0_BACK, AV_CHANNEL_LAYOUT_5POINT1_BACK,
            AV_CHANNEL_LAYOUT_6POINT1, AV_CHANNEL_LAYOUT_7POINT1};
        int k = src.nb_channels > 8 ? 2 : src.nb_channels;
        av_channel_layout_uninit(&src);
        return av_channel_layout_copy(out, &vorbis[k - 1]) < 0 ? AIE_ENOMEM : 0;
    }
    if (!l) {
        *out = src;
        return 0;
    }
    for (int i = 0; l[i].nb_channels && !pick; i++)
        if (!av_channel_layout_compare(&l[i], &src))
            pick = &l[i];
    for (int i = 0; l[i].nb_channels && !pick; i++)
        if (l[i].nb_channels == src.nb_channels)
            pick = &l[i];
    AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
    for (int i = 0; l[i].nb_channels && !pick; i++)
        if (!av_channel_layout_compare(&l[i], &stereo))
            pick = &l[i];
    if (!pick)
        pick = &l[0];
    av_channel_layout_uninit(&src);
    return av_channel_layout_copy(out, pick) < 0 ? AIE_ENOMEM : 0;
}

int aie_io_aenc_open(AieAudioEnc **out, AVFormatContext *ofmt, AVStream *ist, const AVCodec *codec,
                     int (*mux)(void *, AVPacket *), void *mux_opaque, char *err, size_t errlen)
{
    char ebuf[AV_ERROR_MAX_STRING_SIZE];
    *out = NULL;
    AieAudioEnc *a = calloc(1, sizeof(*a));
    if (!a)
        return AIE_ENOMEM;
    a->ist = ist;
    a->mux = mux;
    a->mux_opaque = mux_opaque;
    int e = AIE_ENOMEM, ret;
    const AVCodec *dc = avcodec_find_decoder(ist->codecpar->codec_id);
    if (!dc) {
        aie_errf(err, errlen, "no %s audio decoder", avcodec_get_name(ist->codecpar->codec_id));
        e = AIE_EUNSUP;
        goto fail;
    }
    if (!(a->dec = avcodec_alloc_context3(dc)) || avcodec_parameters_to_context(a->dec, ist->codecpar) < 0)
        goto fail;
    a->dec->pkt_timebase = ist->time_base;
    if ((ret = avcodec_open2(a->dec, dc, NULL)) < 0) {
        aie_errf(err, errlen, "cannot open the %s decoder (%s)", dc->name, aie_io_averr_str(ret, ebuf));
        e = AIE_EUNSUP;
        goto fail;
    }
    AVCodecContext *c = a->enc = avcodec_alloc_context3(codec);
    if (!c)
        goto fail;
    int rate = ist->codecpar->sample_rate > 0 ? ist->codecpar->sample_rate : a->dec->sample_rate;
    c->sample_rate = pick_rate(codec, rate);
    c->sample_fmt = pick_fmt(codec);
    if (pick_layout(codec, &a->dec->ch_layout, &c->ch_layout) < 0)
        goto fail;
    c->bit_rate = 64000LL * (c->ch_layout.nb_channels < 8 ? c->ch_layout.nb_channels : 8);
    c->time_base = (AVRational){1, c->sample_rate};
    if (ofmt->oformat->flags & AVFMT_GLOBALHEADER)
        c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (!strcmp(codec->name, "libopus") && c->ch_layout.nb_channels > 2)
        av_opt_set(c->priv_data, "mapping_family", "1", 0);
    int nch = c->ch_layout.nb_channels; /* a failed open clears the layout */
    if ((ret = avcodec_open2(c, codec, NULL)) < 0) {
        aie_errf(err, errlen, "cannot open the %s encoder for %d Hz %d-channel audio (%s)", codec->name,
                 c->sample_rate, nch, aie_io_averr_str(ret, ebuf));
        e = AIE_EENCODE;
        goto fail;
    }
    a->frame_size = c->frame_size > 0 && !(codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE)
                        ? c->frame_size : 1024;
    a->ost = avformat_new_stream(ofmt, NULL);
    if (!a->ost || avcodec_parameters_from_context(a->ost->codecpar, c) < 0)
        goto fail;
    a->ost->time_base = c->time_base;
    a->ost->disposition = ist->disposition;
    if (av_dict_copy(&a->ost->metadata, ist->metadata, 0) < 0)
        goto fail;
    av_dict_set(&a->ost->metadata, "encoder", NULL, 0);
    if (!(a->fifo = av_audio_fifo_alloc(c->sample_fmt, c->ch_layout.nb_channels, 4096)) ||
        !(a->in = av_frame_alloc()) || !(a->conv = av_frame_alloc()) || !(a->out = av_frame_alloc()) ||
        !(a->pkt = av_packet_alloc()))
        goto fail;
    *out = a;
    return 0;
fail:
    aie_io_aenc_free(&a);
    return e;
}

AVStream *aie_io_aenc_stream(const AieAudioEnc *a) { return a->ost; }
const char *aie_io_aenc_codec(const AieAudioEnc *a) { return a->enc->codec->name; }
int64_t aie_io_aenc_bad_packets(const AieAudioEnc *a) { return a->bad; }

static int encode(AieAudioEnc *a, AVFrame *f)
{
    int ret = avcodec_send_frame(a->enc, f);
    if (ret < 0 && ret != AVERROR_EOF)
        return ret;
    for (;;) {
        ret = avcodec_receive_packet(a->enc, a->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return ret;
        av_packet_rescale_ts(a->pkt, a->enc->time_base, a->ost->time_base);
        a->pkt->stream_index = a->ost->index;
        ret = a->mux(a->mux_opaque, a->pkt);
        av_packet_unref(a->pkt);
        if (ret < 0)
            return ret;
    }
}

/* Encode FIFO samples in encoder frames while more than keep remain. */
static int encode_fifo(AieAudioEnc *a, int keep, int partial)
{
    for (;;) {
        int have = av_audio_fifo_size(a->fifo) - keep;
        int n = have >= a->frame_size ? a->frame_size : partial ? have : 0;
        if (n <= 0)
            return 0;
        AVFrame *o = a->out;
        av_frame_unref(o);
        o->nb_samples = n;
        o->format = a->enc->sample_fmt;
        o->sample_rate = a->enc->sample_rate;
        if (av_channel_layout_copy(&o->ch_layout, &a->enc->ch_layout) < 0 || av_frame_get_buffer(o, 0) < 0)
            return AVERROR(ENOMEM);
        if (av_audio_fifo_read(a->fifo, (void **)o->extended_data, n) != n)
            return AVERROR_BUG;
        o->pts = a->next_pts;
        a->next_pts += n;
        int ret = encode(a, o);
        av_frame_unref(o);
        if (ret < 0)
            return ret;
    }
}

/* Resample in (NULL: flush the resampler) into the FIFO, dropping what lies
 * before the output's time 0. */
static int convert(AieAudioEnc *a, const AVFrame *in)
{
    int ret;
    if (!a->swr) {
        if (!in)
            return 0;
        AVChannelLayout il = {0};
        if (in->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || in->ch_layout.nb_channels <= 0)
            av_channel_layout_default(&il, in->ch_layout.nb_channels > 0 ? in->ch_layout.nb_channels : 2);
        else if (av_channel_layout_copy(&il, &in->ch_layout) < 0)
            return AVERROR(ENOMEM);
        ret = swr_alloc_set_opts2(&a->swr, &a->enc->ch_layout, a->enc->sample_fmt, a->enc->sample_rate, &il,
                                  in->format, in->sample_rate, 0, NULL);
        av_channel_layout_uninit(&il);
        if (ret < 0 || (ret = swr_init(a->swr)) < 0)
            return ret;
    }
    int nin = in ? in->nb_samples : 0;
    int cap = swr_get_out_samples(a->swr, nin);
    if (cap <= 0)
        return 0;
    AVFrame *c = a->conv;
    av_frame_unref(c);
    c->nb_samples = cap;
    c->format = a->enc->sample_fmt;
    c->sample_rate = a->enc->sample_rate;
    if (av_channel_layout_copy(&c->ch_layout, &a->enc->ch_layout) < 0 || av_frame_get_buffer(c, 0) < 0)
        return AVERROR(ENOMEM);
    int got = swr_convert(a->swr, c->extended_data, cap, in ? (const uint8_t **)in->extended_data : NULL, nin);
    if (got > 0 && av_audio_fifo_write(a->fifo, (void **)c->extended_data, got) != got)
        got = AVERROR(ENOMEM);
    av_frame_unref(c);
    if (got < 0)
        return got;
    int64_t drop = a->skip < av_audio_fifo_size(a->fifo) ? a->skip : av_audio_fifo_size(a->fifo);
    if (drop > 0) {
        av_audio_fifo_drain(a->fifo, (int)drop);
        a->skip -= drop;
    }
    return 0;
}

/* A decoded frame: its place on the output timeline (time 0 is the video's
 * start), the samples before 0 dropped. */
static int take_frame(AieAudioEnc *a, AVFrame *f)
{
    int rate = a->enc->sample_rate;
    int64_t ts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
    if (!a->started) {
        a->started = 1;
        int64_t pos = ts != AV_NOPTS_VALUE ? av_rescale_q(ts, a->ist->time_base, (AVRational){1, rate}) : 0;
        if (pos < 0) {
            a->skip = -pos;
            pos = 0;
        }
        a->next_pts = pos;
    }
    /* hold back a frame's worth (and the resampler's delay) until the end is known */
    int hb = (int)av_rescale(f->nb_samples, rate, f->sample_rate > 0 ? f->sample_rate : rate) + 256;
    if (hb > a->holdback)
        a->holdback = hb;
    int ret = convert(a, f);
    return ret < 0 ? ret : encode_fifo(a, a->holdback, 0);
}

static int receive(AieAudioEnc *a)
{
    for (;;) {
        int ret = avcodec_receive_frame(a->dec, a->in);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0) { /* a frame that failed to decode: skipped */
            a->bad++;
            continue;
        }
        ret = take_frame(a, a->in);
        av_frame_unref(a->in);
        if (ret < 0)
            return ret;
    }
}

int aie_io_aenc_packet(AieAudioEnc *a, AVPacket *p)
{
    int ret = avcodec_send_packet(a->dec, p);
    if (ret == AVERROR(ENOMEM))
        return ret;
    if (ret < 0 && ret != AVERROR(EAGAIN))
        a->bad++; /* damaged audio is skipped, as ffmpeg does; counted */
    return receive(a);
}

int aie_io_aenc_finish(AieAudioEnc *a, int64_t end_us)
{
    int ret = avcodec_send_packet(a->dec, NULL);
    if (ret < 0 && ret != AVERROR_EOF)
        return ret;
    if ((ret = receive(a)) < 0 || (ret = convert(a, NULL)) < 0)
        return ret;
    if (end_us != INT64_MAX) { /* the video's end: the samples past it go */
        int64_t stop = av_rescale(end_us, a->enc->sample_rate, 1000000);
        int64_t room = stop - a->next_pts, have = av_audio_fifo_size(a->fifo);
        if (room < 0)
            room = 0;
        if (have > room) {
            /* keep the first `room` samples: read them out, drop the rest */
            AVAudioFifo *k = av_audio_fifo_alloc(a->enc->sample_fmt, a->enc->ch_layout.nb_channels,
                                                 room > 0 ? (int)room : 1);
            if (!k)
                return AVERROR(ENOMEM);
            AVFrame *o = a->out;
            av_frame_unref(o);
            o->nb_samples = room > 0 ? (int)room : 1;
            o->format = a->enc->sample_fmt;
            if (av_channel_layout_copy(&o->ch_layout, &a->enc->ch_layout) < 0 || av_frame_get_buffer(o, 0) < 0) {
                av_audio_fifo_free(k);
                return AVERROR(ENOMEM);
            }
            if (room > 0) {
                av_audio_fifo_read(a->fifo, (void **)o->extended_data, (int)room);
                av_audio_fifo_write(k, (void **)o->extended_data, (int)room);
            }
            av_frame_unref(o);
            av_audio_fifo_free(a->fifo);
            a->fifo = k;
        }
    }
    if ((ret = encode_fifo(a, 0, 1)) < 0)
        return ret;
    return encode(a, NULL);
}

void aie_io_aenc_free(AieAudioEnc **pa)
{
    AieAudioEnc *a = pa ? *pa : NULL;
    if (!a)
        return;
    *pa = NULL;
    avcodec_free_context(&a->dec);
    avcodec_free_context(&a->enc);
    swr_free(&a->swr);
    if (a->fifo)
        av_audio_fifo_free(a->fifo);
    av_frame_free(&a->in);
    av_frame_free(&a->conv);
    av_frame_free(&a->out);
    av_packet_free(&a->pkt);
    free(a);
}
