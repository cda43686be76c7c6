/* Private to lib/io: shared between reader.c, writer.c, convert.c and atomic.c. */
#ifndef AIE_IO_INTERNAL_H
#define AIE_IO_INTERNAL_H

#include <limits.h>
#include <stdarg.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>

#include "aie/error.h"
#include "aie/fs.h"
#include "aie/io.h"

/* ---- packets of other streams travelling with a frame (AieFrame.aux) ---- */
typedef struct AuxList {
    AVPacket **pkts;
    int n, cap;
} AuxList;

int aie_aux_push(AuxList **l, AVPacket *pkt); /* takes the packet (moves the ref) */
void aie_aux_free(void *l);                   /* AieFrame.aie_aux_free */

/* ---- what the writer needs from the reader ---- */
typedef struct ReaderSource {
    AVFormatContext *fmt;   /* NULL for PNG sequences / libpng stills */
    int video_index;
    int64_t start_pts;      /* input pts (video time base) mapped to output 0 */
    int64_t end_pts;        /* exclusive, INT64_MAX when not known */
    const char *path;
    /* HDR10 side data the first frame carried (HEVC SEI, when the container
     * has none), set before that frame is returned */
    int has_mdm, has_cll;
    AVMasteringDisplayMetadata mdm;
    AVContentLightMetadata cll;
} ReaderSource;

const ReaderSource *aie_reader_source(const AieReader *r);

/* ---- pixel formats ---- */
/* The planar AV_PIX_FMT of an aie layout/depth (GBR order for RGB). */
enum AVPixelFormat aie_pixfmt_from_aie(AieLayout layout, int depth);
/* Closest aie layout/depth for a decoder pixel format. */
int aie_pixfmt_to_aie(enum AVPixelFormat fmt, AieLayout *layout, int *depth);

/* Convert between AVFrame and AieFrame through swscale (or a plain copy/ref
 * when the formats match). The converter caches its SwsContext. */
typedef struct Converter {
    struct SwsContext *sws;
    int sw, sh, dw, dh;
    enum AVPixelFormat sfmt, dfmt;
    int matrix, range_in, range_out;
} Converter;

/* AVFrame -> new AieFrame of layout/depth (zero-copy when fmt already matches). */
int aie_convert_from_av(Converter *c, const AVFrame *src, AieLayout layout, int depth, AieFrame **out);
/* AieFrame -> AVFrame dst (already allocated with format/size set). */
int aie_convert_to_av(Converter *c, const AieFrame *src, AVFrame *dst, int dst_range, int dst_matrix);
/* AieFrame -> new AieFrame of another layout/depth (for PNG output). */
int aie_convert_aie(Converter *c, const AieFrame *src, AieLayout layout, int depth, int dst_range,
                    AieFrame **out);
void aie_converter_free(Converter *c);

/* ---- output files (lib/fs) ---- */
/* An AVIOContext writing to o's descriptor (seekable when it is). Close it
 * with aie_io_avio_close(), which flushes and returns the stream's error (0 or an
 * AVERROR); the descriptor stays with o. */
int aie_io_avio_open(AVIOContext **pb, AieFsOut *o);
int aie_io_avio_close(AVIOContext **pb);

/* ---- messages ---- */
int aie_io_averror(int averr);                   /* AVERROR -> AIE_E* */
const char *aie_io_averr_str(int averr, char buf[AV_ERROR_MAX_STRING_SIZE]);
void aie_io_silence_libav(void);
/* Can container `of` hold a stream copy of ist? (a trial header in memory)
 * 1 yes, 0 no, AIE_ENOMEM when the trial could not be set up. */
int aie_io_stream_muxable(const AVOutputFormat *of, const AVStream *ist);

/* ---- audio re-encoding (audio.c) ---- */
enum { IO_AUDIO_DROP, IO_AUDIO_COPY, IO_AUDIO_ENCODE };
/* What the writer does with input stream ist (number `stream`) for container
 * of (NULL: y4m or PNG, video only) under --audio mode (AIE_AUDIO_*):
 * IO_AUDIO_COPY, IO_AUDIO_DROP, or IO_AUDIO_ENCODE with *enc set; a refusal
 * (--audio copy or encode that cannot be done) is AIE_EUNSUP. why gets the
 * reason of a refusal, a drop or an automatic re-encode ("" otherwise). */
int aie_io_audio_action(const AVOutputFormat *of, const AVStream *ist, int mode, int stream,
                        const AVCodec **enc, char *why, size_t n);

typedef struct AieAudioEnc AieAudioEnc;
/* Decoder for ist, encoder codec, and the new output stream in ofmt. Packets
 * go out through mux (the writer's, which keeps timestamps monotonic). */
int aie_io_aenc_open(AieAudioEnc **out, AVFormatContext *ofmt, AVStream *ist, const AVCodec *codec,
                     int (*mux)(void *, AVPacket *), void *mux_opaque, char *err, size_t errlen);
AVStream *aie_io_aenc_stream(const AieAudioEnc *a);
const char *aie_io_aenc_codec(const AieAudioEnc *a);
int64_t aie_io_aenc_bad_packets(const AieAudioEnc *a);
/* One input packet, timestamps in ist's time base with the output's time 0
 * at 0. Returns 0 or an AVERROR (damaged packets are skipped and counted). */
int aie_io_aenc_packet(AieAudioEnc *a, AVPacket *p);
/* Drain decoder, resampler and encoder; end_us: the output's end (the
 * samples after it are cut), INT64_MAX for none. */
int aie_io_aenc_finish(AieAudioEnc *a, int64_t end_us);
void aie_io_aenc_free(AieAudioEnc **a);

#endif
