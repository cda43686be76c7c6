/*
 * Reading and writing media (lib/io is the only user of libav* and libpng).
 *
 * Inputs: any file libavformat opens, "-" (stdin: y4m or any probed stream),
 * a PNG sequence pattern ("frames/%06d.png", read with libpng; the first number
 * is searched from 0 to 4 as FFmpeg does), or one still image (PNG through
 * libpng, other images through libavformat).
 *
 * Outputs, chosen from the name: .mp4 .mkv .mov .webm .avi .y4m (and other
 * extensions libavformat knows), "-" (y4m on stdout), a PNG pattern, or one .png.
 * Regular files are written to ".NAME.aie-PID.tmp" in the output directory and
 * renamed on aie_writer_finish(); aie_writer_close() without a finish removes
 * the temporary file, so nothing exists at OUTPUT that was not there before.
 */
#ifndef AIE_IO_H
#define AIE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aie/error.h"
#include "aie/frame.h"
#include "aie/stage.h"
#include "aie/thread.h"



typedef struct AieReaderOpts {
    int threads;             /* decoder threads, 0 = automatic */
    int64_t first, last;     /* frame range, 0-based inclusive; last < 0: to the end */
    int ignore_errors;       /* decode errors and truncation are not fatal */
    int strict;              /* frames decoded with concealed errors are fatal (AIE_EDECODE at the end) */
    int no_audio;            /* do not carry the other streams */
    AieRational seq_fps;     /* frame rate of PNG sequences; 0/0 = 25 */
    AieCancel *cancel;
    AieWarnFn warn;
    void *warn_opaque;
} AieReaderOpts;

typedef struct AieReader AieReader;

/* Open url and select its best video stream. err gets a one-line reason that
 * names the file. opts may be NULL for defaults. */
int aie_reader_open(AieReader **out, const char *url, const AieReaderOpts *opts, char *err,
                    size_t errlen);

const AieVideoInfo *aie_reader_info(const AieReader *r);

/* Next frame in decode order of presentation (the caller owns *out: unref it).
 * Frames carry pts relative to the first selected frame (a --frames range
 * starts at 0) and the packets of other streams in frame->aux.
 * Returns 0, AIE_EOF at the end, AIE_ETRUNC at the end when frames were lost
 * (see aie_reader_frames_lost) and ignore_errors is off, or another error. */
int aie_reader_read(AieReader *r, AieFrame **out);

/* Can the reader seek (a regular file libavformat can seek in, or a PNG
 * sequence; not a pipe, a FIFO or a single picture)? */
int aie_reader_seekable(const AieReader *r);

/* Keyframe seeking, for drivers that sample a clip (a preview): move to the
 * keyframe at or before t_us microseconds from the first frame; the next
 * aie_reader_read() returns that keyframe (its pts and index tell where it
 * is: index is the frame number its time gives at the nominal rate), then
 * the frames after it. After a seek the reader carries no other streams,
 * ignores the --frames range and does not count lost frames at the end.
 * Returns 0, AIE_EUNSUP (not seekable) or AIE_EIO, with the reason in
 * aie_reader_error(). */
int aie_reader_seek(AieReader *r, int64_t t_us);

/* Frames that could not be decoded (damaged or truncated input). */
int64_t aie_reader_frames_lost(const AieReader *r);

/* Decode errors so far: packets or frames the decoder refused, plus frames it
 * returned with concealed errors (FFmpeg's decode_error_flags or
 * AV_FRAME_FLAG_CORRUPT). The concealed ones are kept: at the end of the
 * input the reader warns once with their count, or with opts.strict fails
 * with AIE_EDECODE. */
int64_t aie_reader_decode_errors(const AieReader *r);

/* Detail of the last failure, naming the file; "" when none. */
const char *aie_reader_error(const AieReader *r);

void aie_reader_close(AieReader **r);

/* Move src's carried packets (audio, subtitles, data) to the end of dst's, for
 * a tool that merges several input frames into one output frame (lowering a
 * frame rate). src keeps none afterwards. Returns 0 or AIE_ENOMEM (then src
 * keeps what was not moved). */
int aie_frame_append_aux(AieFrame *dst, AieFrame *src);

/* Is this output name a PNG sequence pattern (contains a printf %d)? */
int aie_io_is_pattern(const char *name);

/* What happens to the input's audio (--audio). AUTO: stream copy when the
 * container holds the codec, else re-encoded to the container's usual codec
 * (Opus in WebM/Matroska, AAC in MP4/MOV) with a note; COPY: stream copy or
 * refuse; ENCODE: always re-encode; DROP: no audio (as no_audio). */
typedef enum AieAudioMode { AIE_AUDIO_AUTO, AIE_AUDIO_COPY, AIE_AUDIO_ENCODE, AIE_AUDIO_DROP } AieAudioMode;

typedef struct AieWriterOpts {
    const char *codec;          /* encoder name; NULL = default for the container */
    int crf;                    /* -1 = default (18 for x264, 31 for VP9) */
    const char *preset;         /* NULL = encoder default */
    int lossless;               /* FFV1 (x264 qp 0 in mp4, VP9 lossless in webm) */
    const char *const *encoder_opts; /* "key=value" strings, given to the encoder */
    int n_encoder_opts;
    int depth;                  /* output bit depth, 0 = the frames' depth */
    int no_clobber;             /* refuse to replace an existing output */
    int threads;                /* encoder threads, 0 = automatic */
    int no_audio;               /* drop the other streams */
    int audio;                  /* AieAudioMode (no_audio wins) */
    int png_compression;        /* zlib level for PNG output, -1 = default */
    AieWarnFn warn;
    void *warn_opaque;
    /* aie_writer_finish() stops with AIE_ECANCELLED when this fires before
     * the output is renamed into place (NULL: never). */
    const AieCancel *cancel;
    /* Called while aie_writer_finish() drains the encoder, with the frames it
     * still holds (0 when done), from the finishing thread. May be NULL. */
    void (*finishing)(void *opaque, int64_t frames_pending);
    void *finishing_opaque;
} AieWriterOpts;

typedef struct AieWriter AieWriter;

/* Open path for frames described by vi (size, layout, depth, fps, time_base,
 * colour). src, when not NULL, is the reader whose other streams, chapters and
 * metadata are copied, and whose input must not be the same file as path.
 * opts may be NULL for defaults. */
int aie_writer_open(AieWriter **out, const char *path, const AieVideoInfo *vi, AieReader *src,
                    const AieWriterOpts *opts, char *err, size_t errlen);

/* Encode one frame (its aux packets are written as well). The writer takes no
 * reference: the caller still owns f. */
int aie_writer_write(AieWriter *w, AieFrame *f);

/* Flush the encoder, write the trailer and rename the file into place (the
 * commit point). AIE_ECANCELLED when opts.cancel fired before the rename; the
 * output is then absent, as after any failure. */
int aie_writer_finish(AieWriter *w);

/* Frames written so far. */
int64_t aie_writer_frames(const AieWriter *w);

/* Carried packets (audio, subtitles) whose timestamps went backwards or did
 * not increase and were repaired before muxing, as ffmpeg does; the writer
 * warns once with the count when it finishes. For the run_end record. */
int64_t aie_writer_packets_fixed(const AieWriter *w);

/* The temporary file being written, or NULL (for a signal handler's last
 * resort cleanup). */
const char *aie_writer_temp_path(const AieWriter *w);

/* The encoder's name ("libx264", "png", ...) and the pixel format written, as
 * FFmpeg names it ("yuv420p", "rgba64be", ...), for messages and metrics. */
const char *aie_writer_codec(const AieWriter *w);
const char *aie_writer_pix_fmt(const AieWriter *w);

/* What aie_writer_open() would choose for path, without touching the file
 * system: kind "video", "y4m", "png" or "png-sequence", the container, the
 * encoder and its CRF (-1 when the encoder has none). For --dry-run and the
 * usage checks: AIE_EUNSUP for a name without a known extension, an unknown
 * encoder or one the container cannot hold, AIE_EINVAL for a --crf outside
 * the encoder's range (or an encoder without one), with the reason in error. */
typedef struct AieOutputPlan {
    char kind[16];
    char container[32];
    char codec[32];
    int crf;
    char error[256];
} AieOutputPlan;
int aie_writer_plan(const char *path, const AieWriterOpts *opts, AieOutputPlan *plan);

/* What aie_writer_open() will do with src's audio streams for path under
 * opts (audio, no_audio), without touching the file system: text gets one
 * entry per audio stream, "copy aac", "encode ac3 -> libopus" or "drop
 * vorbis", joined by ", " ("" when src carries none). AIE_EUNSUP when
 * --audio copy or encode cannot be done, with a one-line reason naming the
 * codec and the container in error. */
int aie_writer_audio_plan(const char *path, const AieWriterOpts *opts, const AieReader *src, char *text,
                          size_t textlen, char *error, size_t errlen);

const char *aie_writer_error(const AieWriter *w);

/* Abort if not finished (removing the temporary file) and free. Accepts NULL. */
void aie_writer_close(AieWriter **w);

/* Write one frame as a PNG file (8 or 16 bit; YUV is converted to RGB),
 * temp-then-rename like every output. For pictures that are not video
 * output: plots, contact sheets. */
int aie_image_write_png(const char *path, const AieFrame *f, int depth, char *err, size_t errlen);

/* Read one PNG file (libpng) into a new frame: GRAY, RGB or RGBA, depth 8 or
 * 16 (see the PNG notes in lib/io). err gets "PATH: reason". Returns 0,
 * AIE_ENOENT/AIE_EACCES..., AIE_EFORMAT (not a PNG), AIE_ETRUNC (corrupt),
 * AIE_ETOOBIG or AIE_ENOMEM. */
int aie_image_read_png(const char *path, AieFrame **out, char *err, size_t errlen);

/* Join video chunks (outputs of --frames ranges, same codec and parameters)
 * into one file by stream copy, without re-encoding: the video packets of the
 * chunks in order with continuous timestamps, interleaved with the audio,
 * subtitle and data streams copied once from `source` over the whole duration
 * (source NULL or no_audio: video only). Written temp-then-rename.
 * overlap_src: NULL when chunks do not overlap; else chunk k covered
 * overlap_src[k] source frames and shares its last one with chunk k + 1 (as
 * aie-interp chunks do), so chunk k's output frames from that source frame's
 * time on are dropped: the last round(M / S) of its M frames. */
int aie_io_join(const char *const *chunks, int nchunks, const char *source, int no_audio,
                const int64_t *overlap_src, const char *output, char *err, size_t errlen);

#endif /* AIE_IO_H */
