/* aie_io_join: concatenate chunk outputs by stream copy (aie-batch --join). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/avstring.h>

#include "io_internal.h"

typedef struct Join {
    AVFormatContext *out;
    AVFormatContext *chunk; /* the chunk being copied */
    AVFormatContext *src;   /* the source of the other streams */
    int chunk_v;            /* video stream of the chunk */
    int *src_map;           /* source stream -> output stream, -1 dropped */
    AVPacket *vp, *sp;      /* next video / source packet, NULL-data when none */
    int have_v, have_s;
    int64_t offset;         /* output video tb: where the current chunk starts */
    int64_t chunk_start;    /* first dts/pts of the current chunk, chunk tb */
    int64_t chunk_end;      /* largest pts + duration seen in the current chunk, output tb */
    int64_t drop_from;      /* drop this chunk's frames with pts >= this (overlap), or INT64_MAX */
    int64_t *dts;           /* decode timestamps of the chunk's video packets, chunk tb */
    int ndts, next_pkt;
    AieAudioEnc **aenc;     /* per source stream: re-encoded audio, or NULL */
    int sp_enc;             /* the source packet in sp goes to aenc[sp_enc] (-1: copied) */
    int mux_err;            /* the muxer's error for re-encoded audio */
} Join;

static int open_in(AVFormatContext **f, const char *path, char *err, size_t errlen)
{
    char ebuf[AV_ERROR_MAX_STRING_SIZE];
    int ret = avformat_open_input(f, path, NULL, NULL);
    if (ret >= 0)
        ret = avformat_find_stream_info(*f, NULL);
    if (ret < 0) {
        aie_errf(err, errlen, "%s: %s", path, aie_io_averr_str(ret, ebuf));
        return ret == AVERROR(ENOENT) ? AIE_ENOENT : AIE_EFORMAT;
    }
    return 0;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Scan a chunk's video packets: where the frames shared with the next chunk
 * start (drop_frames of them, by pts; INT64_MAX when none) and a decode
 * timestamp for every packet. Matroska stores no dts, so they are
 * rebuilt the way a decoder sees them: the sorted pts shifted back by the
 * smallest amount that keeps every dts <= its pts, which is monotonic. */
static int scan_chunk(Join *j, const char *path, int64_t src_frames, int64_t *drop_from)
{
    AVFormatContext *f = NULL;
    int e = AIE_EFORMAT, n = 0, cap = 0;
    int64_t *pts = NULL;
    *drop_from = INT64_MAX;
    if (avformat_open_input(&f, path, NULL, NULL) < 0)
        return AIE_EFORMAT;
    int v = av_find_best_stream(f, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    AVPacket *p = av_packet_alloc();
    if (v < 0 || !p)
        goto done;
    while (av_read_frame(f, p) >= 0) {
        if (p->stream_index == v) {
            int64_t t = p->pts != AV_NOPTS_VALUE ? p->pts : p->dts;
            if (t == AV_NOPTS_VALUE) {
                av_packet_unref(p);
                goto done;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                int64_t *np = realloc(pts, (size_t)cap * sizeof(*np));
                if (!np) {
                    e = AIE_ENOMEM;
                    av_packet_unref(p);
                    goto done;
                }
                pts = np;
            }
            pts[n++] = t;
        }
        av_packet_unref(p);
    }
    free(j->dts);
    j->dts = malloc((size_t)(n ? n : 1) * sizeof(*j->dts));
    if (!j->dts) {
        e = AIE_ENOMEM;
        goto done;
    }
    if (n)
        memcpy(j->dts, pts, (size_t)n * sizeof(*pts));
    qsort(j->dts, (size_t)n, sizeof(*j->dts), cmp64);
    if (src_frames > 0 && n > 1) {
        int64_t per = (n + src_frames / 2) / src_frames;
        if (per < 1)
            per = 1;
        if (per < n)
            *drop_from = j->dts[n - per];
    }
    int64_t shift = 0;
    for (int i = 0; i < n; i++)
        if (j->dts[i] - pts[i] > shift)
            shift = j->dts[i] - pts[i];
    for (int i = 0; i < n; i++)
        j->dts[i] -= shift;
    j->ndts = n;
    j->next_pkt = 0;
    e = 0;
done:
    free(pts);
    av_packet_free(&p);
    avformat_close_input(&f);
    return e;
}

static int next_video(Join *j, const char *const *chunks, int n, int *ci, const int64_t *overlap,
                      char *err, size_t errlen)
{
    for (;;) {
        if (j->chunk) {
            int ret = av_read_frame(j->chunk, j->vp);
            if (ret >= 0) {
                if (j->vp->stream_index != j->chunk_v) {
                    av_packet_unref(j->vp);
                    continue;
                }
                if (j->next_pkt < j->ndts)
                    j->vp->dts = j->dts[j->next_pkt++];
                if (j->vp->pts != AV_NOPTS_VALUE && j->vp->pts >= j->drop_from) {
                    av_packet_unref(j->vp); /* frames the next chunk starts with */
                    continue;
                }
                AVRational itb = j->chunk->streams[j->chunk_v]->time_base;
                AVRational otb = j->out->streams[0]->time_base;
                if (j->chunk_start == AV_NOPTS_VALUE)
                    j->chunk_start = j->vp->dts != AV_NOPTS_VALUE ? j->vp->dts : j->vp->pts;
                /* chunks start at 0; keep the decoder delay (negative dts) */
                av_packet_rescale_ts(j->vp, itb, otb);
                if (j->vp->pts != AV_NOPTS_VALUE)
                    j->vp->pts += j->offset;
                if (j->vp->dts != AV_NOPTS_VALUE)
                    j->vp->dts += j->offset;
                int64_t end = (j->vp->pts != AV_NOPTS_VALUE ? j->vp->pts : j->vp->dts) + j->vp->duration;
                if (end > j->chunk_end)
                    j->chunk_end = end;
                j->vp->stream_index = 0;
                j->vp->pos = -1;
                j->have_v = 1;
                return 0;
            }
            avformat_close_input(&j->chunk);
            if (j->chunk_end > j->offset)
                j->offset = j->chunk_end; /* the next chunk starts where this one ended */
            (*ci)++;
        }
        if (*ci >= n) {
            j->have_v = 0;
            return 0;
        }
        int e = open_in(&j->chunk, chunks[*ci], err, errlen);
        if (e)
            return e;
        j->chunk_v = av_find_best_stream(j->chunk, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
        const AVCodecParameters *a = j->chunk->streams[j->chunk_v >= 0 ? j->chunk_v : 0]->codecpar;
        const AVCodecParameters *b = j->out->streams[0]->codecpar;
        if (j->chunk_v < 0 || a->codec_id != b->codec_id || a->width != b->width ||
            a->height != b->height || a->format != b->format) {
            aie_errf(err, errlen, "%s: does not match the first chunk (codec, size or pixel format)",
                     chunks[*ci]);
            return AIE_EFORMAT;
        }
        j->chunk_start = AV_NOPTS_VALUE;
        int64_t src = overlap && *ci < n - 1 ? overlap[*ci] : 0;
        if ((e = scan_chunk(j, chunks[*ci], src, &j->drop_from))) {
            aie_errf(err, errlen, "%s: cannot read its video packets", chunks[*ci]);
            return e;
        }
    }
}

static int next_source(Join *j)
{
    j->have_s = 0;
    if (!j->src)
        return 0;
    while (av_read_frame(j->src, j->sp) >= 0) {
        int si = j->sp->stream_index, m = j->src_map[si];
        if (m < 0) {
            av_packet_unref(j->sp);
            continue;
        }
        j->sp_enc = j->aenc[si] ? si : -1;
        if (j->sp_enc >= 0) { /* the decoder takes it in the source's time base */
            j->have_s = 1;
            return 0;
        }
        av_packet_rescale_ts(j->sp, j->src->streams[j->sp->stream_index]->time_base,
                             j->out->streams[m]->time_base);
        j->sp->stream_index = m;
        j->sp->pos = -1;
        j->have_s = 1;
        return 0;
    }
    return 0;
}

static double pkt_seconds(const AVFormatContext *f, const AVPacket *p)
{
    int64_t t = p->dts != AV_NOPTS_VALUE ? p->dts : p->pts;
    return t == AV_NOPTS_VALUE ? 0 : (double)t * av_q2d(f->streams[p->stream_index]->time_base);
}

/* Re-encoded audio packets, in the output's time base, go to the muxer. */
static int join_mux(void *opaque, AVPacket *p)
{
    Join *j = opaque;
    int ret = av_interleaved_write_frame(j->out, p);
    if (ret < 0 && !j->mux_err)
        j->mux_err = ret;
    return ret;
}

static double src_seconds(const Join *j)
{
    if (j->sp_enc < 0)
        return pkt_seconds(j->out, j->sp);
    return pkt_seconds(j->src, j->sp);
}

int aie_io_join(const char *const *chunks, int nchunks, const char *source, int no_audio,
                const int64_t *overlap, const char *output, char *err, size_t errlen)
{
    aie_io_silence_libav();
    char ebuf[AV_ERROR_MAX_STRING_SIZE];
    Join j = {0};
    AieFsOut *ao = NULL;
    AVFormatContext *first = NULL;
    int e, ci = 0;
    if (nchunks < 1) {
        aie_errf(err, errlen, "%s: no chunks to join", output);
        return AIE_EINVAL;
    }
    AieFsOutOpts fo = {.inputs = &source, .ninputs = source ? 1 : 0};
    if ((e = aie_fs_out_open(&ao, output, &fo, err, errlen)))
        return e;
    if ((e = open_in(&first, chunks[0], err, errlen)))
        goto done;
    int v0 = av_find_best_stream(first, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (v0 < 0) {
        aie_errf(err, errlen, "%s: has no video stream", chunks[0]);
        e = AIE_EFORMAT;
        goto done;
    }
    int oret = avformat_alloc_output_context2(&j.out, NULL, NULL, output);
    if (oret < 0 || !j.out) {
        if (oret == AVERROR(ENOMEM)) {
            e = AIE_ENOMEM;
            goto done;
        }
        aie_errf(err, errlen, "%s: unknown output format", output);
        e = AIE_EUNSUP;
        goto done;
    }
    AVStream *vs = avformat_new_stream(j.out, NULL);
    if (!vs || avcodec_parameters_copy(vs->codecpar, first->streams[v0]->codecpar) < 0 ||
        av_dict_copy(&vs->metadata, first->streams[v0]->metadata, 0) < 0 ||
        av_dict_copy(&j.out->metadata, first->metadata, 0) < 0) {
        e = AIE_ENOMEM;
        goto done;
    }
    vs->codecpar->codec_tag = 0;
    vs->time_base = first->streams[v0]->time_base;
    vs->avg_frame_rate = first->streams[v0]->avg_frame_rate;
    vs->r_frame_rate = first->streams[v0]->r_frame_rate;
    vs->sample_aspect_ratio = first->streams[v0]->sample_aspect_ratio;
    if (source && !no_audio) {
        if ((e = open_in(&j.src, source, err, errlen)))
            goto done;
        j.src_map = malloc(j.src->nb_streams * sizeof(*j.src_map));
        j.aenc = calloc(j.src->nb_streams, sizeof(*j.aenc));
        if (!j.src_map || !j.aenc) {
            e = AIE_ENOMEM;
            goto done;
        }
        for (unsigned i = 0; i < j.src->nb_streams; i++) {
            AVStream *ist = j.src->streams[i];
            enum AVMediaType t = ist->codecpar->codec_type;
            j.src_map[i] = -1;
            int mux = (t != AVMEDIA_TYPE_AUDIO && t != AVMEDIA_TYPE_SUBTITLE && t != AVMEDIA_TYPE_DATA) ||
                              (ist->disposition & AV_DISPOSITION_ATTACHED_PIC)
                          ? 0
                          : aie_io_stream_muxable(j.out->oformat, ist);
            if (mux < 0) {
                e = mux;
                goto done;
            }
            if (!mux && t == AVMEDIA_TYPE_AUDIO && !(ist->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
                /* audio the container cannot hold is re-encoded to its usual codec */
                const AVCodec *enc = NULL;
                char why[512];
                int act = aie_io_audio_action(j.out->oformat, ist, AIE_AUDIO_AUTO, (int)i, &enc, why, sizeof(why));
                if (act == IO_AUDIO_ENCODE) {
                    char ae[256] = "";
                    if ((e = aie_io_aenc_open(&j.aenc[i], j.out, ist, enc, join_mux, &j, ae, sizeof(ae)))) {
                        if (e != AIE_ENOMEM)
                            aie_errf(err, errlen, "%s: stream #%u (%s audio): %s", source, i,
                                     avcodec_get_name(ist->codecpar->codec_id), ae);
                        goto done;
                    }
                    j.src_map[i] = aie_io_aenc_stream(j.aenc[i])->index;
                    continue;
                }
            }
            if (!mux) {
                ist->discard = AVDISCARD_ALL;
                continue;
            }
            AVStream *os = avformat_new_stream(j.out, NULL);
            if (!os || avcodec_parameters_copy(os->codecpar, ist->codecpar) < 0 ||
                av_dict_copy(&os->metadata, ist->metadata, 0) < 0) {
                e = AIE_ENOMEM;
                goto done;
            }
            os->codecpar->codec_tag = 0;
            os->time_base = ist->time_base;
            os->disposition = ist->disposition;
            j.src_map[i] = os->index;
        }
    }
    j.out->strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL;
    if (!(j.out->oformat->flags & AVFMT_NOFILE)) {
        if ((e = aie_io_avio_open(&j.out->pb, ao)))
            goto done;
    }
    int ret = avformat_write_header(j.out, NULL);
    if (ret < 0) {
        aie_errf(err, errlen, "%s: cannot write the header: %s", output, aie_io_averr_str(ret, ebuf));
        e = AIE_EENCODE;
        goto done;
    }
    j.vp = av_packet_alloc();
    j.sp = av_packet_alloc();
    if (!j.vp || !j.sp) {
        e = AIE_ENOMEM;
        goto done;
    }
    if ((e = next_video(&j, chunks, nchunks, &ci, overlap, err, errlen)))
        goto done;
    next_source(&j);
    /* merge by time so the muxer's interleaving queue stays small */
    while (j.have_v || j.have_s) {
        int take_v = j.have_v && (!j.have_s || pkt_seconds(j.out, j.vp) <= src_seconds(&j));
        AVPacket *p = take_v ? j.vp : j.sp;
        if (!take_v && j.sp_enc >= 0) {
            ret = aie_io_aenc_packet(j.aenc[j.sp_enc], p);
            av_packet_unref(p);
            if (ret < 0 && j.mux_err)
                ret = j.mux_err;
        } else {
            ret = av_interleaved_write_frame(j.out, p);
        }
        if (ret < 0) {
            aie_errf(err, errlen, "%s: write failed: %s", output, aie_io_averr_str(ret, ebuf));
            e = aie_io_averror(ret);
            if (e == AIE_EFORMAT || e == AIE_EOF)
                e = AIE_EIO;
            goto done;
        }
        if (take_v) {
            if ((e = next_video(&j, chunks, nchunks, &ci, overlap, err, errlen)))
                goto done;
        } else {
            next_source(&j);
        }
    }
    for (unsigned i = 0; j.aenc && i < j.src->nb_streams; i++)
        if (j.aenc[i] && (ret = aie_io_aenc_finish(j.aenc[i], INT64_MAX)) < 0) {
            aie_errf(err, errlen, "%s: re-encoding stream #%u of %s: %s", output, i, source,
                     aie_io_averr_str(j.mux_err ? j.mux_err : ret, ebuf));
            e = ret == AVERROR(ENOMEM) ? AIE_ENOMEM : AIE_EENCODE;
            goto done;
        }
    if ((ret = av_write_trailer(j.out)) < 0) {
        aie_errf(err, errlen, "%s: cannot finish: %s", output, aie_io_averr_str(ret, ebuf));
        e = AIE_EIO;
        goto done;
    }
    if (j.out->pb && !(j.out->oformat->flags & AVFMT_NOFILE)) {
        if ((ret = aie_io_avio_close(&j.out->pb)) < 0) {
            aie_errf(err, errlen, "%s: write failed: %s", output, aie_io_averr_str(ret, ebuf));
            e = aie_io_averror(ret);
            goto done;
        }
    }
    e = aie_fs_out_commit(&ao, err, errlen);
done:
    for (unsigned i = 0; j.aenc && i < j.src->nb_streams; i++)
        aie_io_aenc_free(&j.aenc[i]);
    free(j.aenc);
    if (j.out && j.out->pb && !(j.out->oformat->flags & AVFMT_NOFILE))
        aie_io_avio_close(&j.out->pb);
    aie_fs_out_abort(&ao);
    av_packet_free(&j.vp);
    av_packet_free(&j.sp);
    avformat_close_input(&j.chunk);
    avformat_close_input(&j.src);
    avformat_close_input(&first);
    avformat_free_context(j.out);
    free(j.src_map);
    free(j.dts);
    return e;
}
