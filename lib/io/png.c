/*
 * PNG input/output over libpng (see io/png.h for the contract).
 *
 * Error handling: every libpng call runs below guarded(), which owns the
 * setjmp. libpng's error handler copies the message into the caller's err
 * buffer and longjmps back there; its warning handler only records. State that
 * must survive the longjmp lives in a PngIo owned by the public function's
 * frame (not the frame calling setjmp), so nothing is clobbered, and each
 * public function frees it on its one cleanup path.
 *
 * Decompression bombs: the signature and IHDR are read ahead (33 bytes) and
 * the dimensions checked against AIE_MAX_DIM before libpng sees them;
 * png_set_user_limits() repeats the check inside libpng. Ancillary chunks we do
 * not use (text, eXIf, sPLT) are skipped without being buffered; iCCP is only
 * noted, never inflated; any chunk libpng does buffer is capped by
 * png_set_chunk_malloc_max().
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <zlib.h>

#include "aie/error.h"
#include "aie/io.h"
#include "aie/util.h"
#include "io/png.h"

/* Largest single chunk libpng may buffer, and how many unknown chunks it keeps. */
#define CHUNK_MALLOC_MAX ((png_alloc_size_t)64 << 20)
#define CHUNK_CACHE_MAX 64

/* Signature (8) + IHDR length/type (8) + IHDR data (13) + CRC (4). */
#define HEAD_SIZE 33

/*
 * Compression: zlib level 1 with the Z_RLE strategy and the Sub filter on
 * every row. A single fixed filter skips libpng's per-row heuristic (which
 * filters each row five ways); Sub is the cheapest filter and, with Z_RLE,
 * compresses camera and upscaled frames as well as the fast matcher does.
 * Measured on one 3840x2160 RGB frame (2 cores, one thread): 0.23-0.24 s
 * and 10-14 MB, against 0.29-0.35 s for level 1 default strategy, 0.33-0.38 s
 * for level 2, 0.5 s with all filters and 1.8 s for libpng's defaults; Paeth
 * would save up to 20% of the size for 40% more time.
 */
#define WRITE_ZLIB_LEVEL 1
#define WRITE_ZLIB_STRATEGY Z_RLE
#define WRITE_FILTER PNG_FILTER_SUB
#define WRITE_ZBUF_SIZE (256 * 1024)

typedef struct PngIo {
    FILE *fp;
    char *err;
    size_t errlen;
    int code;       /* AIE_E* chosen before a png_error() of ours; 0 = derive */
    int dflt;       /* code for libpng's own errors */
    int oom;        /* a libpng allocation failed */
    char msg[160];  /* formatted message handed to png_error() */

    png_structp png;
    png_infop info;

    /* read-ahead of the signature and IHDR, replayed to libpng */
    uint8_t head[HEAD_SIZE];
    size_t head_len, head_pos;

    /* reading */
    int probe_only;
    int width, height, depth, passes;
    AieLayout layout;
    AieFrame *frame;

    /* writing */
    const AieFrame *src;
    int out_depth;
    uint8_t *lut8; /* depth 9..16 -> 8 rounding table */

    uint8_t *row;  /* one interleaved big-endian row */
} PngIo;

static int nomem(char *err, size_t errlen)
{
    aie_errf(err, errlen, "out of memory");
    return AIE_ENOMEM;
}

int aie_png_is_png(const uint8_t *head, size_t n)
{
    return head && n >= AIE_PNG_SIGNATURE_SIZE &&
           png_sig_cmp((png_const_bytep)head, 0, AIE_PNG_SIGNATURE_SIZE) == 0;
}

/* ---- libpng callbacks ---------------------------------------------------- */

static void on_error(png_structp png, png_const_charp msg)
{
    PngIo *io = png_get_error_ptr(png);
    /* keep the warning that explained a user-limit rejection */
    if (io->code != AIE_ETOOBIG)
        aie_errf(io->err, io->errlen, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    PngIo *io = png_get_error_ptr(png);
    if (strstr(msg, "exceeds user limit")) {
        io->code = AIE_ETOOBIG;
        aie_errf(io->err, io->errlen, "%s (limit %d)", msg, AIE_MAX_DIM);
    } else if (io->err && io->errlen && !io->err[0]) {
        aie_errf(io->err, io->errlen, "%s", msg);
    }
}

static png_voidp on_malloc(png_structp png, png_alloc_size_t size)
{
    PngIo *io = png_get_mem_ptr(png);
    void *p = malloc(size);
    if (!p && io)
        io->oom = 1;
    return p;
}

static void on_free(png_structp png, png_voidp p)
{
    (void)png;
    free(p);
}

static void on_read(png_structp png, png_bytep dst, size_t n)
{
    PngIo *io = png_get_io_ptr(png);
    size_t got = 0;
    if (io->head_pos < io->head_len) {
        got = io->head_len - io->head_pos < n ? io->head_len - io->head_pos : n;
        memcpy(dst, io->head + io->head_pos, got);
        io->head_pos += got;
    }
    if (got < n)
        got += fread(dst + got, 1, n - got, io->fp);
    if (got < n) {
        if (ferror(io->fp)) {
            io->code = AIE_EIO;
            snprintf(io->msg, sizeof(io->msg), "read error: %s", strerror(errno));
        } else {
            io->code = AIE_ETRUNC;
            snprintf(io->msg, sizeof(io->msg), "unexpected end of file");
        }
        png_error(png, io->msg);
    }
}

static void on_write(png_structp png, png_bytep src, size_t n)
{
    PngIo *io = png_get_io_ptr(png);
    if (fwrite(src, 1, n, io->fp) != n) {
        int e = errno;
        io->code = e ? aie_error_from_errno(e) : AIE_EIO;
        snprintf(io->msg, sizeof(io->msg), "write error: %s",
                 e ? strerror(e) : "short write");
        png_error(png, io->msg);
    }
}

static void on_flush(png_structp png)
{
    PngIo *io = png_get_io_ptr(png);
    if (fflush(io->fp) != 0) {
        int e = errno;
        io->code = e ? aie_error_from_errno(e) : AIE_EIO;
        snprintf(io->msg, sizeof(io->msg), "write error: %s", e ? strerror(e) : "flush failed");
        png_error(png, io->msg);
    }
}

/* Run body(io) with libpng's error longjmp landing here. io belongs to the
 * caller's frame, so its contents survive the jump. */
static int guarded(PngIo *io, int (*body)(PngIo *io))
{
    if (setjmp(png_jmpbuf(io->png))) {
        if (io->code)
            return io->code;
        return io->oom ? AIE_ENOMEM : io->dflt;
    }
    return body(io);
}

/* ---- row conversion ------------------------------------------------------ */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Interleave row y of f into row as out_depth-bit big-endian samples.
 * lut8 maps depth 9..16 samples to 8 bits (used when out_depth is 8). */
static void pack_row(const AieFrame *f, int y, uint8_t *row, int out_depth, const uint8_t *lut8)
{
    const int ch = f->nplanes, w = f->width, d = f->depth;
    for (int p = 0; p < ch; p++) {
        const uint8_t *s8 = f->data[p] + (ptrdiff_t)y * f->stride[p];
        const uint16_t *s16 = (const uint16_t *)s8;
        if (d == 8 && out_depth == 8) {
            for (int x = 0; x < w; x++)
                row[x * ch + p] = s8[x];
        } else if (d == 8) {
            for (int x = 0; x < w; x++) {
                row[2 * (x * ch + p)] = s8[x];
                row[2 * (x * ch + p) + 1] = s8[x];
            }
        } else if (out_depth == 8) {
            const unsigned mask = (1u << d) - 1;
            for (int x = 0; x < w; x++)
                row[x * ch + p] = lut8[s16[x] & mask];
        } else {
            /* bit replication: v << (16 - d) | top (2d - 16) bits of v */
            const unsigned mask = (1u << d) - 1;
            const int up = 16 - d, down = 2 * d - 16;
            for (int x = 0; x < w; x++) {
                unsigned v = s16[x] & mask;
                v = (v << up | v >> down) & 0xffff;
                row[2 * (x * ch + p)] = (uint8_t)(v >> 8);
                row[2 * (x * ch + p) + 1] = (uint8_t)v;
            }
        }
    }
}

/* Split an interleaved 8- or 16-bit (big-endian) row into row y of f. */
static void unpack_row(const uint8_t *row, AieFrame *f, int y)
{
    const int ch = f->nplanes, w = f->width;
    for (int p = 0; p < ch; p++) {
        uint8_t *d8 = f->data[p] + (ptrdiff_t)y * f->stride[p];
        if (f->depth == 8) {
            for (int x = 0; x < w; x++)
                d8[x] = row[x * ch + p];
        } else {
            uint16_t *d16 = (uint16_t *)d8;
            for (int x = 0; x < w; x++)
                d16[x] = (uint16_t)(row[2 * (x * ch + p)] << 8 | row[2 * (x * ch + p) + 1]);
        }
    }
}

/* ---- reading ------------------------------------------------------------- */

/* Read the signature and IHDR ahead and check them before libpng runs. */
static int read_head(PngIo *io)
{
    static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    size_t n = fread(io->head, 1, HEAD_SIZE, io->fp);
    io->head_len = n;
    if (n < HEAD_SIZE && ferror(io->fp)) {
        aie_errf(io->err, io->errlen, "read error: %s", strerror(errno));
        return AIE_EIO;
    }
    if (n == 0) {
        aie_errf(io->err, io->errlen, "empty file");
        return AIE_ETRUNC;
    }
    size_t cmp = n < sizeof(sig) ? n : sizeof(sig);
    if (memcmp(io->head, sig, cmp) != 0) {
        aie_errf(io->err, io->errlen, "not a PNG file (bad signature)");
        return AIE_EFORMAT;
    }
    if (n < HEAD_SIZE) {
        aie_errf(io->err, io->errlen, "truncated PNG header (%zu bytes)", n);
        return AIE_ETRUNC;
    }
    if (be32(io->head + 8) != 13 || memcmp(io->head + 12, "IHDR", 4) != 0) {
        aie_errf(io->err, io->errlen, "damaged PNG: first chunk is not IHDR");
        return AIE_ETRUNC;
    }
    uint32_t w = be32(io->head + 16), h = be32(io->head + 20);
    if (w > AIE_MAX_DIM || h > AIE_MAX_DIM) {
        aie_errf(io->err, io->errlen, "PNG is %lux%lu, over the %d limit on either axis",
                 (unsigned long)w, (unsigned long)h, AIE_MAX_DIM);
        return AIE_ETOOBIG;
    }
    return 0;
}

static int create_read(PngIo *io)
{
    io->dflt = AIE_ETRUNC;
    io->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, io, on_error, on_warning, io,
                                       on_malloc, on_free);
    if (io->png)
        io->info = png_create_info_struct(io->png);
    if (!io->png || !io->info) {
        aie_errf(io->err, io->errlen, "out of memory creating the PNG decoder");
        return AIE_ENOMEM;
    }
    return 0;
}

static int cicp_of(PngIo *io, uint8_t cicp[4])
{
    png_unknown_chunkp unk = NULL;
    int n = png_get_unknown_chunks(io->png, io->info, &unk);
    for (int i = 0; i < n; i++)
        if (!memcmp(unk[i].name, "cICP", 4) && unk[i].size == 4) {
            memcpy(cicp, unk[i].data, 4);
            return 1;
        }
    return 0;
}

static int has_iccp(PngIo *io)
{
    png_unknown_chunkp unk = NULL;
    int n = png_get_unknown_chunks(io->png, io->info, &unk);
    for (int i = 0; i < n; i++)
        if (!memcmp(unk[i].name, "iCCP", 4))
            return 1;
    return 0;
}

static int close_to(png_fixed_point a, long b) { return labs((long)a - b) <= 1000; }

/* H.273 primaries of a cHRM chunk (x, y times 100000), 2 when not recognised. */
static int chrm_primaries(PngIo *io)
{
    static const struct {
        int code;
        int v[8];
    } known[] = {
        {1, {31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000}},
        {9, {31270, 32900, 70800, 29200, 17000, 79700, 13100, 4600}},
    };
    png_fixed_point v[8];
    if (!png_get_cHRM_fixed(io->png, io->info, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                            &v[6], &v[7]))
        return 2;
    for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
        int ok = 1;
        for (int i = 0; i < 8; i++)
            ok &= close_to(v[i], known[k].v[i]);
        if (ok)
            return known[k].code;
    }
    return 2;
}

static void read_color(PngIo *io, AieFrame *f)
{
    AieColor *c = &f->color;
    uint8_t cicp[4];
    png_fixed_point gamma;
    c->range = 2;
    c->matrix = f->layout == AIE_LAYOUT_GRAY ? 2 : 0;
    c->primaries = 2;
    c->transfer = 2;
    int srgb = 0;
    if (cicp_of(io, cicp)) {
        c->primaries = cicp[0];
        c->transfer = cicp[1];
        c->range = cicp[3] ? 2 : 1;
    } else if (png_get_sRGB(io->png, io->info, &srgb)) {
        c->primaries = 1;
        c->transfer = 13;
    } else if (has_iccp(io)) {
        /* an ICC profile we do not interpret: leave unspecified */
    } else if (png_get_valid(io->png, io->info, PNG_INFO_gAMA | PNG_INFO_cHRM)) {
        c->primaries = chrm_primaries(io);
        if (png_get_gAMA_fixed(io->png, io->info, &gamma)) {
            if (close_to(gamma, 45455))
                c->transfer = 4;  /* gamma 2.2 */
            else if (close_to(gamma, 35714))
                c->transfer = 5;  /* gamma 2.8 */
            else if (close_to(gamma, 100000))
                c->transfer = 8;  /* linear */
        }
    } else {
        c->primaries = 1;          /* no colour chunk: sRGB by the PNG spec */
        c->transfer = 13;
    }

    png_uint_32 px, py;
    int unit;
    if (png_get_pHYs(io->png, io->info, &px, &py, &unit) && px && py) {
        png_uint_32 a = (png_uint_32)aie_gcd64(px, py);
        px /= a;
        py /= a;
        /* pixels per unit: the pixel aspect (width/height) is py/px */
        if (px <= INT_MAX && py <= INT_MAX)
            f->sar = (AieRational){(int)py, (int)px};
    }
}

/* png_read_info(), layout decision and (unless probing) the transforms. */
static int read_header_body(PngIo *io)
{
    static const png_byte skip[] = "tEXt\0zTXt\0iTXt\0eXIf\0sPLT";
    static const png_byte keep[] = "iCCP\0cICP";
    png_structp png = io->png;
    png_infop info = io->info;

    png_set_user_limits(png, AIE_MAX_DIM, AIE_MAX_DIM);
    png_set_chunk_malloc_max(png, CHUNK_MALLOC_MAX);
    png_set_chunk_cache_max(png, CHUNK_CACHE_MAX);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skip, 5);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_ALWAYS, keep, 2);
    png_set_read_fn(png, io, on_read);

    png_read_info(png, info);
    png_uint_32 w, h;
    int bit_depth, color_type, interlace;
    png_get_IHDR(png, info, &w, &h, &bit_depth, &color_type, &interlace, NULL, NULL);
    if (w < 1 || h < 1 || w > AIE_MAX_DIM || h > AIE_MAX_DIM) {
        aie_errf(io->err, io->errlen, "PNG is %lux%lu, over the %d limit on either axis",
                 (unsigned long)w, (unsigned long)h, AIE_MAX_DIM);
        return AIE_ETOOBIG;
    }
    int trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    io->width = (int)w;
    io->height = (int)h;
    io->depth = bit_depth == 16 ? 16 : 8;
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: io->layout = trns ? AIE_LAYOUT_RGBA : AIE_LAYOUT_GRAY; break;
    case PNG_COLOR_TYPE_PALETTE: io->layout = trns ? AIE_LAYOUT_RGBA : AIE_LAYOUT_RGB; break;
    case PNG_COLOR_TYPE_RGB: io->layout = trns ? AIE_LAYOUT_RGBA : AIE_LAYOUT_RGB; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
    case PNG_COLOR_TYPE_RGB_ALPHA: io->layout = AIE_LAYOUT_RGBA; break;
    default:
        aie_errf(io->err, io->errlen, "unsupported PNG colour type %d", color_type);
        return AIE_EFORMAT;
    }
    if (io->probe_only)
        return 0;

    if (color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (trns)
        png_set_tRNS_to_alpha(png);
    if (io->layout == AIE_LAYOUT_RGBA &&
        (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA))
        png_set_gray_to_rgb(png);
    io->passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int nch = aie_layout_planes(io->layout);
    size_t rowbytes = (size_t)io->width * (size_t)nch * (size_t)(io->depth / 8);
    if (png_get_channels(png, info) != nch || png_get_bit_depth(png, info) != io->depth ||
        png_get_rowbytes(png, info) != rowbytes) {
        aie_errf(io->err, io->errlen, "unexpected PNG transform result");
        return AIE_EUNSUP;
    }
    return 0;
}

static int read_pixels_body(PngIo *io)
{
    int ret = aie_frame_alloc(&io->frame, io->width, io->height, io->layout, io->depth);
    if (ret < 0) {
        aie_errf(io->err, io->errlen, "cannot allocate a %dx%d frame", io->width, io->height);
        return ret;
    }
    size_t rowbytes = png_get_rowbytes(io->png, io->info);
    io->row = calloc(1, rowbytes);
    if (!io->row) {
        aie_errf(io->err, io->errlen, "out of memory");
        return AIE_ENOMEM;
    }
    for (int pass = 0; pass < io->passes; pass++) {
        for (int y = 0; y < io->height; y++) {
            int live = io->passes == 1 || PNG_ROW_IN_INTERLACE_PASS(y, pass);
            /* libpng merges a later pass into the row it is given, so that row
             * must hold what the earlier passes produced */
            if (live && pass > 0)
                pack_row(io->frame, y, io->row, io->depth, NULL);
            png_read_row(io->png, io->row, NULL);
            if (live)
                unpack_row(io->row, io->frame, y);
        }
    }
    png_read_end(io->png, NULL);
    read_color(io, io->frame);
    return 0;
}

static int read_all_body(PngIo *io)
{
    int ret = read_header_body(io);
    return ret < 0 ? ret : read_pixels_body(io);
}

int aie_png_probe(FILE *fp, int *w, int *h, AieLayout *layout, int *depth, char *err,
                  size_t errlen)
{
    PngIo io = {.fp = fp, .err = err, .errlen = errlen, .probe_only = 1};
    if (err && errlen)
        err[0] = 0;
    int ret = read_head(&io);
    if (ret < 0)
        goto fail;
    ret = create_read(&io);
    if (ret < 0)
        goto fail;
    ret = guarded(&io, read_header_body);
    if (ret < 0)
        goto fail;
    if (w)
        *w = io.width;
    if (h)
        *h = io.height;
    if (layout)
        *layout = io.layout;
    if (depth)
        *depth = io.depth;
fail:
    png_destroy_read_struct(&io.png, &io.info, NULL);
    return ret;
}

int aie_png_read(FILE *fp, AieFrame **out, char *err, size_t errlen)
{
    PngIo io = {.fp = fp, .err = err, .errlen = errlen};
    *out = NULL;
    if (err && errlen)
        err[0] = 0;
    int ret = read_head(&io);
    if (ret < 0)
        goto fail;
    ret = create_read(&io);
    if (ret < 0)
        goto fail;
    ret = guarded(&io, read_all_body);
    if (ret < 0)
        goto fail;
    *out = io.frame;
    io.frame = NULL;
fail:
    png_destroy_read_struct(&io.png, &io.info, NULL);
    free(io.row);
    aie_frame_unref(&io.frame);
    return ret;
}

static FILE *open_file(const char *path, const char *mode, int *ret, char *err, size_t errlen)
{
    FILE *fp = fopen(path, mode);
    if (!fp) {
        int e = errno;
        *ret = aie_error_from_errno(e);
        if (*ret == 0)
            *ret = AIE_EIO;
        aie_errf(err, errlen, "cannot open: %s", strerror(e));
    }
    return fp;
}

int aie_png_read_file(const char *path, AieFrame **out, char *err, size_t errlen)
{
    int ret = 0;
    *out = NULL;
    FILE *fp = open_file(path, "rb", &ret, err, errlen);
    if (!fp)
        goto fail;
    ret = aie_png_read(fp, out, err, errlen);
fail:
    if (fp)
        fclose(fp);
    return ret;
}

int aie_png_probe_file(const char *path, int *w, int *h, AieLayout *layout, int *depth,
                       char *err, size_t errlen)
{
    int ret = 0;
    FILE *fp = open_file(path, "rb", &ret, err, errlen);
    if (!fp)
        goto fail;
    ret = aie_png_probe(fp, w, h, layout, depth, err, errlen);
fail:
    if (fp)
        fclose(fp);
    return ret;
}

/* ---- writing ------------------------------------------------------------- */

static void write_color(PngIo *io)
{
    const AieFrame *f = io->src;
    const AieColor *c = &f->color;
    int pri = c->primaries, trc = c->transfer;
    if ((trc == 13 || trc == 2) && (pri == 1 || pri == 2)) {
        png_set_sRGB(io->png, io->info, PNG_sRGB_INTENT_PERCEPTUAL);
    } else if (pri >= 1 && pri <= 255 && pri != 2 && trc >= 1 && trc <= 255 && trc != 2) {
        static const png_byte name[] = "cICP";
        png_unknown_chunk u;
        memset(&u, 0, sizeof(u));
        memcpy(u.name, name, 5);
        uint8_t data[4] = {(uint8_t)pri, (uint8_t)trc, 0, c->range == 1 ? 0 : 1};
        u.data = data;
        u.size = sizeof(data);
        u.location = PNG_HAVE_IHDR;
        png_set_keep_unknown_chunks(io->png, PNG_HANDLE_CHUNK_ALWAYS, name, 1);
        png_set_unknown_chunks(io->png, io->info, &u, 1);
    } else if (trc == 4 || trc == 5 || trc == 8) {
        png_set_gAMA_fixed(io->png, io->info, trc == 4 ? 45455 : trc == 5 ? 35714 : 100000);
    }
    if (f->sar.num > 0 && f->sar.den > 0)
        png_set_pHYs(io->png, io->info, (png_uint_32)f->sar.den, (png_uint_32)f->sar.num,
                     PNG_RESOLUTION_UNKNOWN);
}

static int write_body(PngIo *io)
{
    const AieFrame *f = io->src;
    png_structp png = io->png;
    int color_type = f->layout == AIE_LAYOUT_GRAY  ? PNG_COLOR_TYPE_GRAY
                     : f->layout == AIE_LAYOUT_RGB ? PNG_COLOR_TYPE_RGB
                                                   : PNG_COLOR_TYPE_RGB_ALPHA;
    png_set_write_fn(png, io, on_write, on_flush);
    png_set_IHDR(png, io->info, (png_uint_32)f->width, (png_uint_32)f->height, io->out_depth,
                 color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, WRITE_ZLIB_LEVEL);
    png_set_compression_strategy(png, WRITE_ZLIB_STRATEGY);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, WRITE_FILTER);
    png_set_compression_buffer_size(png, WRITE_ZBUF_SIZE);
    write_color(io);
    png_write_info(png, io->info);
    for (int y = 0; y < f->height; y++) {
        pack_row(f, y, io->row, io->out_depth, io->lut8);
        png_write_row(png, io->row);
    }
    png_write_end(png, io->info);
    return 0;
}

int aie_png_write(FILE *fp, const AieFrame *f, int out_depth, char *err, size_t errlen)
{
    PngIo io = {.fp = fp, .err = err, .errlen = errlen, .src = f, .out_depth = out_depth,
                .dflt = AIE_EENCODE};
    int ret = 0;
    if (err && errlen)
        err[0] = 0;
    if (!f || (f->layout != AIE_LAYOUT_GRAY && f->layout != AIE_LAYOUT_RGB &&
               f->layout != AIE_LAYOUT_RGBA)) {
        aie_errf(err, errlen, "PNG needs a gray, rgb or rgba frame, not %s",
                 f ? aie_layout_name(f->layout) : "none");
        ret = AIE_EINVAL;
        goto fail;
    }
    if (f->depth < 8 || f->depth > 16 || (out_depth != 8 && out_depth != 16)) {
        aie_errf(err, errlen, "cannot write a %d-bit frame as %d-bit PNG", f->depth, out_depth);
        ret = AIE_EINVAL;
        goto fail;
    }
    if (f->width < 1 || f->height < 1 || f->width > AIE_MAX_DIM || f->height > AIE_MAX_DIM) {
        aie_errf(err, errlen, "frame is %dx%d, over the %d limit on either axis", f->width,
                 f->height, AIE_MAX_DIM);
        ret = f->width < 1 || f->height < 1 ? AIE_EINVAL : AIE_ETOOBIG;
        goto fail;
    }
    if (f->depth > 8 && out_depth == 8) {
        unsigned mask = (1u << f->depth) - 1;
        io.lut8 = malloc((size_t)mask + 1);
        if (!io.lut8) {
            ret = nomem(err, errlen);
            goto fail;
        }
        for (unsigned v = 0; v <= mask; v++)
            io.lut8[v] = (uint8_t)((v * 255u + mask / 2) / mask);
    }
    io.row = malloc((size_t)f->width * (size_t)f->nplanes * (size_t)(out_depth / 8));
    if (io.row)
        io.png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning,
                                           &io, on_malloc, on_free);
    if (io.png)
        io.info = png_create_info_struct(io.png);
    if (!io.info) {
        ret = nomem(err, errlen);
        goto fail;
    }
    ret = guarded(&io, write_body);
    if (ret < 0)
        goto fail;
    if (fflush(fp) != 0 || ferror(fp)) {
        int e = errno;
        ret = e ? aie_error_from_errno(e) : AIE_EIO;
        aie_errf(err, errlen, "write error: %s", e ? strerror(e) : "stream error");
        goto fail;
    }
fail:
    png_destroy_write_struct(&io.png, &io.info);
    free(io.row);
    free(io.lut8);
    return ret;
}

int aie_png_write_file(const char *path, const AieFrame *f, int out_depth, char *err,
                       size_t errlen)
{
    int ret = 0;
    FILE *fp = open_file(path, "wb", &ret, err, errlen);
    if (!fp)
        goto fail;
    ret = aie_png_write(fp, f, out_depth, err, errlen);
fail:
    if (fp && fclose(fp) != 0 && ret == 0) {
        int e = errno;
        ret = e ? aie_error_from_errno(e) : AIE_EIO;
        aie_errf(err, errlen, "write error: %s", e ? strerror(e) : "close failed");
    }
    return ret;
}

int aie_image_read_png(const char *path, AieFrame **out, char *err, size_t errlen)
{
    char why[AIE_ERRBUF_SIZE] = "";
    int e = aie_png_read_file(path, out, why, sizeof(why));
    if (e && err)
        snprintf(err, errlen, "%.300s: %s", path, why[0] ? why : aie_strerror(e));
    return e;
}
