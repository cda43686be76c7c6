/*
 * PNG input/output (private to lib/io, built on libpng).
 *
 * This header does not include libpng's <png.h>; only lib/io/png.c does.
 *
 * Reading produces planar frames:
 *   gray                        -> AIE_LAYOUT_GRAY
 *   rgb, palette without tRNS   -> AIE_LAYOUT_RGB
 *   rgba, gray+alpha, palette with tRNS, gray/rgb with tRNS -> AIE_LAYOUT_RGBA
 * at depth 8 (1, 2 and 4-bit images are expanded to 8) or 16. 16-bit samples,
 * big endian in the file, become native uint16_t in the frame. Adam7
 * interlaced images are read like any other.
 *
 * Colour metadata of frames read from PNG: range 2 (full), matrix 0 (RGB) for
 * RGB/RGBA (2 for GRAY); primaries/transfer from cICP if present, else 1/13
 * (sRGB) for an sRGB chunk or when no colour chunk is present, else from
 * gAMA/cHRM (gamma 1/2.2 -> transfer 4, 1/2.8 -> 5, 1.0 -> 8; cHRM matching
 * BT.709/BT.2020 -> primaries 1/9), else unspecified (2), e.g. with an ICC
 * profile. pHYs sets frame->sar (the aspect ratio only).
 *
 * Errors: functions return 0 or a negative AIE_E* code and, when err is not
 * NULL, write a one-line detail into err (errlen bytes, AIE_ERRBUF_SIZE is
 * plenty) without the file name; the caller adds the name. err may also hold
 * a libpng warning after a success: read it only after a failure. Codes:
 * AIE_EFORMAT not a PNG, AIE_ETRUNC truncated or corrupt, AIE_ETOOBIG wider or
 * taller than AIE_MAX_DIM, AIE_ENOMEM, AIE_EIO, AIE_EINVAL bad arguments, and
 * on open/write failures the code of errno (AIE_ENOENT, AIE_EACCES,
 * AIE_ENOSPC, ...). libpng never prints and never aborts the process.
 */
#ifndef AIE_IO_PNG_H
#define AIE_IO_PNG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aie/frame.h"

/* Bytes needed by aie_png_is_png(). */
#define AIE_PNG_SIGNATURE_SIZE 8

/* Nonzero when head (n bytes, n >= 8 needed) starts with the PNG signature. */
int aie_png_is_png(const uint8_t *head, size_t n);

/* Probe the header: size, layout and depth aie_png_read() would produce.
 * Reads from fp's current position up to the first IDAT; the caller rewinds
 * (or reopens) before reading the image. Output pointers may be NULL. */
int aie_png_probe(FILE *fp, int *w, int *h, AieLayout *layout, int *depth, char *err,
                  size_t errlen);

/* Read one PNG from fp's current position into a new frame (refcount 1, the
 * caller unrefs it). On success fp is left just after IEND, so concatenated
 * PNGs can be read one after another. On failure *out is NULL. fp stays
 * open and owned by the caller. */
int aie_png_read(FILE *fp, AieFrame **out, char *err, size_t errlen);

/* Write a GRAY, RGB or RGBA frame of depth 8..16 as one PNG of bit depth
 * out_depth (8 or 16). Depth 9..15 samples are scaled to 16 bits by bit
 * replication, or rounded to 8 bits (v * 255 / (2^depth - 1), to nearest);
 * 16 -> 8 rounds the same way. Writes sRGB for transfer 13 or 2 with
 * primaries 1 or 2, cICP when both primaries and transfer are otherwise
 * specified, gAMA for transfer 4/5/8 with unspecified primaries, and pHYs
 * (unit unknown) when frame->sar is set. fp is flushed, not closed. */
int aie_png_write(FILE *fp, const AieFrame *f, int out_depth, char *err, size_t errlen);

/* Path helpers: open, read/probe/write, close. Open failures return the
 * errno code (AIE_ENOENT, AIE_EACCES, ...). aie_png_write_file() creates or
 * truncates path and writes it in place (no temp-then-rename: the caller
 * does that); after a failure the file may be partial and the caller removes
 * it. */
int aie_png_read_file(const char *path, AieFrame **out, char *err, size_t errlen);
int aie_png_probe_file(const char *path, int *w, int *h, AieLayout *layout, int *depth,
                       char *err, size_t errlen);
int aie_png_write_file(const char *path, const AieFrame *f, int out_depth, char *err,
                       size_t errlen);

#endif /* AIE_IO_PNG_H */
