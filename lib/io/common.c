#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_internal.h"

int aie_io_averror(int averr)
{
    if (averr >= 0)
        return 0;
    switch (averr) {
    case AVERROR_EOF: return AIE_EOF;
    case AVERROR_INVALIDDATA: return AIE_EFORMAT;
    case AVERROR_DECODER_NOT_FOUND:
    case AVERROR_DEMUXER_NOT_FOUND:
    case AVERROR_ENCODER_NOT_FOUND:
    case AVERROR_MUXER_NOT_FOUND:
    case AVERROR_PATCHWELCOME: return AIE_EUNSUP;
    case AVERROR_EXIT: return AIE_ECANCELLED;
    }
    if (averr > -4096) /* AVERROR(errno) */
        return aie_error_from_errno(-averr);
    return AIE_EIO;
}

const char *aie_io_averr_str(int averr, char buf[AV_ERROR_MAX_STRING_SIZE])
{
    av_strerror(averr, buf, AV_ERROR_MAX_STRING_SIZE);
    return buf;
}

int aie_aux_push(AuxList **pl, AVPacket *pkt)
{
    AuxList *l = *pl;
    if (!l) {
        l = calloc(1, sizeof(*l));
        if (!l)
            return AIE_ENOMEM;
        *pl = l;
    }
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 8;
        AVPacket **p = realloc(l->pkts, (size_t)cap * sizeof(*p));
        if (!p)
            return AIE_ENOMEM;
        l->pkts = p;
        l->cap = cap;
    }
    AVPacket *c = av_packet_alloc();
    if (!c)
        return AIE_ENOMEM;
    av_packet_move_ref(c, pkt);
    l->pkts[l->n++] = c;
    return 0;
}

void aie_aux_free(void *p)
{
    AuxList *l = p;
    if (!l)
        return;
    for (int i = 0; i < l->n; i++)
        av_packet_free(&l->pkts[i]);
    free(l->pkts);
    free(l);
}

static void silent_log(void *avcl, int level, const char *fmt, va_list vl)
{
    (void)avcl;
    (void)level;
    (void)fmt;
    (void)vl;
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void install_silent_log(void) { av_log_set_callback(silent_log); }

void aie_io_silence_libav(void)
{
    /* the library never prints: FFmpeg's own messages are dropped; failures
     * reach the caller through error codes and detail buffers instead */
    pthread_once(&log_once, install_silent_log);
}

/* Can this container hold a stream copy of ist? query_codec is not enough
 * (FLAC passes for .mov but only MP4 takes it), so write a trial header
 * into memory. */
int aie_io_stream_muxable(const AVOutputFormat *of, const AVStream *ist)
{
    if (avformat_query_codec(of, ist->codecpar->codec_id, FF_COMPLIANCE_EXPERIMENTAL) == 0)
        return 0;
    AVFormatContext *t = NULL;
    if (avformat_alloc_output_context2(&t, of, NULL, NULL) < 0 || !t)
        return AIE_ENOMEM; /* the format is given: only memory can fail */
    int ok = AIE_ENOMEM;
    AVStream *st = avformat_new_stream(t, NULL);
    if (st && avcodec_parameters_copy(st->codecpar, ist->codecpar) >= 0) {
        st->codecpar->codec_tag = 0;
        st->time_base = ist->time_base;
        t->strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL;
        if (avio_open_dyn_buf(&t->pb) >= 0) {
            int ret = avformat_write_header(t, NULL);
            ok = ret >= 0 ? 1 : ret == AVERROR(ENOMEM) ? AIE_ENOMEM : 0;
            if (ret >= 0)
                av_write_trailer(t);
            uint8_t *buf = NULL;
            avio_close_dyn_buf(t->pb, &buf);
            av_free(buf);
            t->pb = NULL;
        }
    }
    avformat_free_context(t);
    return ok;
}


int aie_frame_append_aux(AieFrame *dst, AieFrame *src)
{
    AuxList *from = src->aux;
    if (!from || !from->n)
        return 0;
    if (!dst->aux) {
        dst->aux = from;
        dst->aux_free = aie_aux_free;
        src->aux = NULL;
        src->aux_free = NULL;
        return 0;
    }
    AuxList *to = dst->aux;
    int i = 0;
    for (; i < from->n; i++) {
        if (aie_aux_push(&to, from->pkts[i]) < 0)
            break;
        av_packet_free(&from->pkts[i]);
    }
    if (i < from->n) { /* keep the rest in src */
        memmove(from->pkts, from->pkts + i, (size_t)(from->n - i) * sizeof(*from->pkts));
        from->n -= i;
        return AIE_ENOMEM;
    }
    aie_aux_free(from);
    src->aux = NULL;
    src->aux_free = NULL;
    return 0;
}

/* ---- AVIOContext over an AieFsOut's descriptor ---- */

static int avio_write_fd(void *opaque, uint8_t *buf, int n)
{
    int e = aie_fs_write_all(aie_fs_out_fd(opaque), buf, (size_t)n);
    return e ? AVERROR(-e) : n;
}

static int64_t avio_seek_fd(void *opaque, int64_t off, int whence)
{
    int fd = aie_fs_out_fd(opaque);
    if (whence == AVSEEK_SIZE) {
        struct stat st;
        return fstat(fd, &st) == 0 ? (int64_t)st.st_size : AVERROR(errno);
    }
    off_t r = lseek(fd, (off_t)off, whence & ~AVSEEK_FORCE);
    return r < 0 ? AVERROR(errno) : (int64_t)r;
}

int aie_io_avio_open(AVIOContext **pb, AieFsOut *o)
{
    enum { SIZE = 1 << 16 };
    *pb = NULL;
    unsigned char *buf = av_malloc(SIZE);
    if (!buf)
        return AIE_ENOMEM;
    AVIOContext *c = avio_alloc_context(buf, SIZE, 1, o, NULL, avio_write_fd,
                                        aie_fs_out_seekable(o) ? avio_seek_fd : NULL);
    if (!c) {
        av_free(buf);
        return AIE_ENOMEM;
    }
    *pb = c;
    return 0;
}

int aie_io_avio_close(AVIOContext **pb)
{
    AVIOContext *c = *pb;
    if (!c)
        return 0;
    avio_flush(c);
    int ret = c->error;
    av_freep(&c->buffer);
    avio_context_free(pb);
    return ret;
}
